// Issue 10, the dashboard side: server text translated from codes, a verdict that agrees with itself,
// the keep-untested choice, editing a connection in place, the address to whitelist, the portfolio and
// the audit log in every language.
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditEvent, Connection, Exchange, Portfolio, ServerInfo, TestResult } from "./api/types";
import { AuditTable } from "./audit/AuditTable";
import { ConnectionCard } from "./connections/ConnectionCard";
import { EditDialog, buildEditBody } from "./connections/EditDialog";
import { TestResultView } from "./connections/TestResultView";
import { I18nProvider } from "./i18n/I18nContext";
import { en } from "./i18n/en";
import type { Locale } from "./i18n/locales";
import { PortfolioPage } from "./portfolio/PortfolioPage";
import { fakeFetch } from "./test/fakes";
import { AddConnectionWizard } from "./wizard/AddConnectionWizard";
import { GuideStep } from "./wizard/GuideStep";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const KUCOIN_NAMES = {
  read: "General", spot_trade: "Spot Trading", futures_trade: "Futures Trading", withdraw: "Withdrawal",
  ip_whitelist: "IP Restriction", api_management: "API Management",
};

/** A withdraw-enabled KuCoin key, as 10a's server reports it: codes, params and the English fallbacks. */
const WITHDRAW: TestResult = {
  name: "KuCoin Main", exchange: "kucoin", ok: false, status: "withdraw_enabled", warnings: [],
  permissions: { read: true, spot_trade: true, futures_trade: false, withdraw: true, ip_restricted: true },
  checks: [
    { name: "server_time", ok: true, ms: 3, detail: "clock offset +2 ms", detail_code: "check.clock_offset", detail_params: { offset_ms: "+2" } },
    { name: "authenticated_read", ok: true, ms: 9, detail: "balances readable", detail_code: "check.balances_readable", detail_params: {} },
    {
      name: "key_permissions", ok: false, ms: 7,
      detail: "withdrawals are enabled (granted: read, spot_trade, withdraw)",
      detail_code: "check.withdraw_enabled", detail_params: { permissions: "read, spot_trade, withdraw" },
    },
    { name: "ip_restriction", ok: true, ms: 0, detail: "whitelist: 127.0.0.1", detail_code: "check.ip_whitelist", detail_params: { ips: "127.0.0.1" } },
  ],
  message: "This KuCoin key can withdraw funds, so TradeWarden refuses it for bots: the connection is refused until withdrawals are switched off.",
  remedy: "In KuCoin > API Management, edit the key and switch off 'Withdrawal' (or create a new key without it), then run the test again. A bot never needs to withdraw.",
  message_code: "status.withdraw_enabled.message", message_params: { exchange: "KuCoin", ...KUCOIN_NAMES },
  remedy_code: "status.withdraw_enabled.remedy", remedy_params: { exchange: "KuCoin", ...KUCOIN_NAMES },
  notes: [],
};

function inLocale(locale: Locale, node: React.ReactNode) {
  return render(<I18nProvider locale={locale}>{node}</I18nProvider>);
}

/** Every English sentence of the catalogue (its longest literal piece) that `text` contains. */
function englishSentencesIn(text: string, locale: Locale, catalogue: Record<string, string | undefined>): string[] {
  const found: string[] = [];
  for (const [key, english] of Object.entries(en)) {
    if (catalogue[key] === english) continue;
    const piece = english.split(/\{\w+\}/).sort((a, b) => b.length - a.length)[0]?.trim() ?? "";
    if (piece.split(" ").length >= 4 && text.includes(piece)) found.push(`${locale} ${key}: ${piece}`);
  }
  return found;
}

describe("the verdict", () => {
  it("headlines the exact cause and marks the failing check failed, translated from codes", async () => {
    inLocale("it", <TestResultView result={WITHDRAW} />);
    const message = screen.getByTestId("test-message");
    expect(message.textContent).toBe(
      "Questa chiave KuCoin può prelevare fondi, quindi TradeWarden la rifiuta per i bot: la connessione resta rifiutata finché i prelievi non vengono disattivati.",
    );
    const failedRows = screen.getAllByTestId("check-row").filter((r) => r.getAttribute("data-ok") === "false");
    expect(failedRows.map((r) => r.getAttribute("data-check"))).toEqual(["key_permissions"]);
    const cause = screen.getByTestId("test-failed-check");
    expect(cause.getAttribute("data-check")).toBe("key_permissions");
    expect(cause.textContent).toContain("i prelievi sono attivi (concessi: Lettura, Trading spot, Prelievi)");
    expect(screen.getByTestId("test-remedy").textContent).toContain("disattiva 'Withdrawal'");
    const { it: italian } = await import("./i18n/it");
    expect(englishSentencesIn(document.body.textContent ?? "", "it", italian)).toEqual([]);
  });

  it("falls back to the server's English for a code this build does not know", () => {
    const newer: TestResult = { ...WITHDRAW, message_code: "status.from_the_future.message", message: "A newer server's sentence." };
    inLocale("fr", <TestResultView result={newer} />);
    expect(screen.getByTestId("test-message").textContent).toBe("A newer server's sentence.");
  });

  it("puts the address in the IP-not-allowed remedy", () => {
    const ip: TestResult = {
      ...WITHDRAW, status: "ip_not_allowed", remedy_code: "status.ip_not_allowed.remedy_ip",
      remedy_params: { exchange: "KuCoin", ...KUCOIN_NAMES, ip: "203.0.113.7" }, remedy: "… 203.0.113.7 …",
    };
    inLocale("tr", <TestResultView result={ip} />);
    expect(screen.getByTestId("test-remedy").textContent).toContain("203.0.113.7");
    expect(screen.getByTestId("test-remedy").textContent).toContain("bölümünde anahtarı düzenleyin");
    expect(screen.getByTestId("remedy-address").textContent).toBe("203.0.113.7");
  });
});

const GUIDE_EXCHANGE: Exchange = {
  id: "kucoin", name: "KuCoin", tier: 1, markets: ["futures", "spot"], credentials: ["apiKey", "secret", "password"],
  key_types: ["hmac"], ip_whitelist: true, permission_check: true, setting_names: KUCOIN_NAMES,
  guide: {
    where: "Account avatar > API Management > Create API (choose 'API Trading')",
    enable: ["General", "Spot Trading", "Futures Trading (only for futures bots)"],
    disable: ["Withdrawal", "Transfer", "Margin Trading"],
    ip_whitelist: "Turn 'IP Restriction' on and enter this server's public address.",
    notes: ["The API passphrase you choose here is the 'password' field of the credentials file."],
  },
};
const SERVER_INFO: ServerInfo = {
  version: "0.1.0", outbound_address: "10.0.0.5", client_address: "127.0.0.1", note: "NAT note",
  public_address: "203.0.113.7", public_address_source: "lookup",
  public_address_note: "The address the internet sees for this server.", public_address_note_code: "ip.found",
  simulator_url: "http://127.0.0.1:8765",
};

describe("the guide", () => {
  it("shows the public address to whitelist with a Copy button that copies it", async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { ...navigator, clipboard: { writeText } });
    inLocale("en", <GuideStep exchange={GUIDE_EXCHANGE} serverInfo={SERVER_INFO} />);
    expect(screen.getByTestId("wizard-server-address").textContent).toBe("203.0.113.7");
    await userEvent.click(screen.getByTestId("wizard-copy-address"));
    expect(writeText).toHaveBeenCalledWith("203.0.113.7");
    await waitFor(() => expect(screen.getByTestId("wizard-copy-status").textContent).toBe("Address copied."));
  });

  it("says how to find the address when the server could not determine it, in Turkish", () => {
    inLocale("tr", (
      <GuideStep
        exchange={GUIDE_EXCHANGE}
        serverInfo={{ ...SERVER_INFO, public_address: null, public_address_source: "off", public_address_note: "Could not…", public_address_note_code: "ip.off" }}
      />
    ));
    expect(screen.getByTestId("wizard-server-address").textContent).toBe("Sunucu genel (public) adresini belirleyemedi.");
    expect(screen.getByTestId("wizard-address-note").textContent).toContain("IP adresim ne");
  });

  it("is translated, down to the futures-only remark", async () => {
    inLocale("fr", <GuideStep exchange={GUIDE_EXCHANGE} serverInfo={SERVER_INFO} />);
    expect(screen.getByTestId("wizard-guide-ip").textContent).toBe("Activez 'IP Restriction' et saisissez l'adresse publique de ce serveur.");
    expect(screen.getByTestId("wizard-guide-enable").textContent).toContain("Futures Trading (seulement pour les bots sur contrats à terme)");
    expect(screen.getByTestId("wizard-guide-notes").textContent).toContain("fichier d'identifiants");
  });
});

describe("the wizard keeps a failing key only when asked", () => {
  async function fillAndSubmit(keep: boolean) {
    const user = userEvent.setup();
    const root = document.createElement("div");
    root.id = "root";
    document.body.appendChild(root);
    const onClose = vi.fn();
    inLocale("en", <AddConnectionWizard exchanges={[GUIDE_EXCHANGE]} serverInfo={SERVER_INFO} existingNames={[]} onClose={onClose} />);
    await user.click(screen.getByTestId("wizard-exchange-option-kucoin"));
    await user.click(screen.getByTestId("wizard-next"));
    await user.click(screen.getByTestId("wizard-next"));
    await user.type(screen.getByTestId("wizard-credential-apiKey"), "kc-api-key-123");
    await user.type(screen.getByTestId("wizard-credential-secret"), "kc-secret-123456");
    await user.type(screen.getByTestId("wizard-credential-password"), "pass");
    await user.type(screen.getByTestId("wizard-name"), "KuCoin Main");
    expect((screen.getByTestId("wizard-keep-untested") as HTMLInputElement).checked).toBe(false);
    if (keep) await user.click(screen.getByTestId("wizard-keep-untested"));
    await user.click(screen.getByTestId("wizard-run-test"));
    await waitFor(() => expect(screen.getByTestId("wizard-progress").getAttribute("data-step")).toBe("result"));
    root.remove();
  }

  it("without the box: the refused key is not saved and the summary says so", async () => {
    const calls = fakeFetch({
      "POST /connections": () => ({ status: 422, body: { error: { code: "test_failed", message: "not stored", field: "credentials" }, test: WITHDRAW } }),
    });
    await fillAndSubmit(false);
    expect(calls.find((c) => c.method === "POST")?.body).toMatchObject({ test: true, keep_untested: false });
    expect(screen.getByTestId("wizard-result-summary").getAttribute("data-kept")).toBe("false");
    expect(screen.getByTestId("wizard-result-summary").textContent).toContain("was not saved");
    expect(screen.getByTestId("test-result").getAttribute("data-status")).toBe("withdraw_enabled");
    expect(screen.queryByTestId("wizard-retest")).toBeNull();
  });

  it("with the box: keep_untested is sent and the kept connection shows its failed test", async () => {
    const created: Connection & { test: TestResult } = {
      id: "c9", name: "KuCoin Main", exchange: "kucoin", market: "spot", endpoint: null, key_type: "hmac", api_key: "kc-a…123",
      credential_fields: ["apiKey", "secret", "password"], status: "withdraw_enabled", status_checked_at: null,
      created_at: "2026-12-02T08:00:00Z", updated_at: "2026-12-02T08:00:00Z", test: WITHDRAW,
    };
    const calls = fakeFetch({ "POST /connections": () => ({ status: 201, body: created }) });
    await fillAndSubmit(true);
    expect(calls.find((c) => c.method === "POST")?.body).toMatchObject({ test: true, keep_untested: true });
    expect(calls.some((c) => c.path.endsWith("/test"))).toBe(false); // the server already tested it
    expect(screen.getByTestId("wizard-result-summary").getAttribute("data-kept")).toBe("true");
    expect(screen.getByTestId("wizard-retest")).toBeTruthy();
  });
});

const SAVED: Connection = {
  id: "c1", name: "KuCoin Main", exchange: "kucoin", market: "spot", endpoint: "http://127.0.0.1:8765", key_type: "hmac",
  api_key: "kc-a…123", credential_fields: ["apiKey", "secret", "password"], status: "invalid_key",
  status_checked_at: null, created_at: "2026-12-02T08:00:00Z", updated_at: "2026-12-02T08:00:00Z",
};

describe("a connection card", () => {
  it("marks a simulator-backed connection simulated, translates its last verdict, and offers Edit", async () => {
    const onEdit = vi.fn();
    const last = { ...WITHDRAW, checked_at: "2026-12-02T08:00:00Z" };
    inLocale("it", (
      <ConnectionCard
        connection={{ ...SAVED, status: "withdraw_enabled", simulated: true }}
        exchangeName="KuCoin" last={last} testing={false} actionError={null}
        onRetest={() => undefined} onRotate={() => undefined} onEdit={onEdit} onRemove={() => undefined}
      />
    ));
    expect(screen.getByTestId("connection-row").getAttribute("data-simulated")).toBe("true");
    expect(screen.getByTestId("simulated-mark").textContent).toContain("simulato");
    expect(screen.getByTestId("connection-message").textContent).toContain("Questa chiave KuCoin può prelevare fondi");
    expect(screen.getByTestId("connection-remedy").textContent).toContain("disattiva 'Withdrawal'");
    await userEvent.click(screen.getByTestId("connection-edit"));
    expect(onEdit).toHaveBeenCalledTimes(1);
  });
});

describe("editing a connection", () => {
  it("sends only what changed; an emptied endpoint goes back to the exchange", () => {
    expect(buildEditBody(SAVED, { name: "KuCoin Main", market: "spot", endpoint: "http://127.0.0.1:8765" }, {})).toEqual({});
    expect(buildEditBody(SAVED, { name: " KC ", market: "both", endpoint: "" }, { password: "", secret: "" })).toEqual({
      name: "KC", market: "both", endpoint: null,
    });
    expect(buildEditBody(SAVED, { name: "KuCoin Main", market: "spot", endpoint: "http://127.0.0.1:8765" }, { password: "right" })).toEqual({
      credentials: { password: "right" },
    });
  });

  it("corrects the passphrase in place through PATCH and shows a refusal when the test fails", async () => {
    const user = userEvent.setup();
    const calls = fakeFetch({
      "PATCH /connections/c1": () => ({ body: { connection: SAVED, rotated: false, test: { ...WITHDRAW, status: "invalid_key" } } }),
    });
    const onClose = vi.fn();
    inLocale("en", <EditDialog connection={SAVED} exchange={GUIDE_EXCHANGE} existingNames={[]} onClose={onClose} />);
    await user.type(screen.getByTestId("edit-credential-password"), "the-right-one");
    await user.click(screen.getByTestId("edit-submit"));
    await waitFor(() => expect(screen.getByTestId("edit-result").getAttribute("data-rotated")).toBe("false"));
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch?.body).toEqual({ credentials: { password: "the-right-one" } });
    expect(screen.getByTestId("edit-progress").textContent).toBe(en["edit.refused"]);
    expect(document.body.innerHTML).not.toContain("the-right-one");
    await user.click(screen.getByTestId("edit-close"));
    expect(onClose).toHaveBeenCalledWith(false);
  });

  it("renames and reports the change", async () => {
    const user = userEvent.setup();
    const calls = fakeFetch({ "PATCH /connections/c1": () => ({ body: { connection: { ...SAVED, name: "KC" }, rotated: null, test: null } }) });
    const onClose = vi.fn();
    inLocale("en", <EditDialog connection={SAVED} exchange={GUIDE_EXCHANGE} existingNames={["Other"]} onClose={onClose} />);
    const name = screen.getByTestId("edit-name");
    await user.clear(name);
    await user.type(name, "KC");
    await user.click(screen.getByTestId("edit-submit"));
    await waitFor(() => expect(screen.getByTestId("edit-progress").textContent).toBe(en["edit.saved"]));
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ name: "KC" });
    await user.click(screen.getByTestId("edit-close"));
    expect(onClose).toHaveBeenCalledWith(true);
  });
});

const PORTFOLIO: Portfolio = {
  quote: "USDT", as_of: "2026-12-02T08:00:00Z", total: "60100", simulated_total: "60000",
  connections: [
    {
      id: "d", name: "Demo (simulator)", exchange: "binance", status: "online", total: "60000", error: null, as_of: null, simulated: true,
      balances: [{ asset: "BTC", free: "0.5", used: "0", total: "0.5", value: "50000" }, { asset: "USDT", free: "10000", used: "0", total: "10000", value: "10000" }],
    },
    {
      id: "r", name: "Real", exchange: "mexc", status: "online", total: "100", error: null, as_of: null, simulated: false,
      balances: [{ asset: "USDT", free: "100", used: "0", total: "100", value: "100" }],
    },
    {
      id: "x", name: "Broken KuCoin", exchange: "kucoin", status: "invalid_key", total: null, as_of: null, balances: [],
      error: "Not counted in the total: the last test of this connection ended in invalid_key; fix it and test it again.",
      error_code: "portfolio.not_counted", error_params: { status: "invalid_key", name: "Broken KuCoin" },
    },
  ],
};

describe("the portfolio", () => {
  it("shows holdings per asset, the allocation, simulated funds and why a connection is left out — in Italian", async () => {
    fakeFetch({ "GET /portfolio": () => ({ body: PORTFOLIO }) });
    inLocale("it", <PortfolioPage />);
    await screen.findByTestId("portfolio-holdings");
    const usdt = screen.getAllByTestId("portfolio-holding").find((r) => r.getAttribute("data-asset") === "USDT");
    expect(usdt?.getAttribute("data-amount")).toBe("10100");
    expect(usdt?.textContent).toContain("Demo (simulator), Real");
    const slices = screen.getAllByTestId("allocation-slice");
    expect(slices.map((s) => s.getAttribute("data-asset"))).toEqual(["BTC", "USDT"]);
    expect(screen.getByTestId("portfolio-allocation").querySelectorAll("rect").length).toBeGreaterThanOrEqual(2);
    const excluded = screen.getAllByTestId("portfolio-excluded-item");
    expect(excluded.map((e) => e.getAttribute("data-connection-name"))).toEqual(["Broken KuCoin"]);
    expect(excluded[0]!.textContent).toContain("Non conteggiata nel totale: l'ultimo test di questa connessione è terminato con Chiave non valida");
    expect(screen.getByTestId("portfolio-simulated-total").textContent).toContain("60.000 USDT di fondi simulati");
    const demo = screen.getAllByTestId("portfolio-connection").find((c) => c.getAttribute("data-connection-name") === "Demo (simulator)");
    expect(within(demo!).getByTestId("simulated-mark").textContent).toContain("simulato");
    const { it: italian } = await import("./i18n/it");
    expect(englishSentencesIn(document.body.textContent ?? "", "it", italian)).toEqual([]);
  });
});

describe("the audit log", () => {
  const events: AuditEvent[] = [
    {
      id: 2, ts: "2026-12-02T08:00:00Z", kind: "connection.status_changed", actor: "monitor", connection_id: "c1", connection_name: "KuCoin Main",
      detail: { previous: "online", status: "withdraw_enabled" },
      message: "KuCoin Main went from online to withdraw_enabled (monitor).",
      message_code: "audit.connection.status_changed", message_params: { previous: "online", status: "withdraw_enabled", actor: "monitor", connection: "KuCoin Main", kind: "connection.status_changed" },
    },
    {
      id: 1, ts: "2026-12-02T07:59:00Z", kind: "connection.balances_read", actor: "token:dashboard", connection_id: "c1", connection_name: "KuCoin Main",
      detail: { ok: false, error: "exchange_unavailable" },
      message: "token:dashboard read the balances of KuCoin Main (failed: exchange_unavailable).",
      message_code: "audit.connection.balances_read", message_params: { ok: "no", error: "exchange_unavailable", actor: "token:dashboard", connection: "KuCoin Main", kind: "connection.balances_read", outcome: "failed: exchange_unavailable" },
    },
  ];

  it("reads as sentences in the user's language, never as raw JSON, with the actor as sent", () => {
    inLocale("fr", <AuditTable events={events} />);
    const sentences = screen.getAllByTestId("audit-sentence").map((s) => s.textContent);
    expect(sentences[0]).toBe("KuCoin Main est passée de En ligne à Retraits activés (monitor).");
    expect(sentences[1]).toBe("token:dashboard a lu les soldes de KuCoin Main (échec\u00a0: exchange_unavailable).");
    expect(screen.getByTestId("audit-table").textContent).not.toMatch(/[{}"]/);
    expect(screen.getAllByTestId("audit-actor").map((a) => a.textContent)).toEqual(["monitor", "token:dashboard"]);
    expect(screen.getAllByTestId("audit-kind")[0]!.textContent).toBe("Statut changé");
  });

  it("falls back to the server's sentence for a kind this build does not know", () => {
    inLocale("it", <AuditTable events={[{ ...events[0]!, kind: "bot.renamed", message_code: "audit.bot.renamed", message: "monitor renamed bot X." }]} />);
    expect(screen.getByTestId("audit-sentence").textContent).toBe("monitor renamed bot X.");
    expect(screen.getByTestId("audit-kind").textContent).toBe("bot.renamed");
  });

  it("tells an order placed by hand with its side, type and mode in the user's words", () => {
    const params = { actor: "cli", connection: "MEXC Main", kind: "order.placed", side: "buy", amount: "0.001", symbol: "BTC/USDT", type: "limit", mode: "live" };
    const placed = { ...events[0]!, kind: "order.placed", message_code: "audit.order.placed", message: "", message_params: params };
    inLocale("fr", <AuditTable events={[placed]} />);
    expect(screen.getByTestId("audit-sentence").textContent).toBe("cli a passé un ordre sur MEXC Main\u00a0: Acheter 0.001 BTC/USDT (Limite, Réel).");
    expect(screen.getByTestId("audit-kind").textContent).toBe("Ordre passé");
  });
});
