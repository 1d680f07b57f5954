// The wizard adds a connection on an exchange's testnet/demo account: the choice on step 1 (offered only
// where the exchange has one), the guide's reminder, the tag on the later steps and `testnet` in the body.
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Connection, Exchange, TestResult } from "../api/types";
import { I18nProvider } from "../i18n/I18nContext";
import type { Locale } from "../i18n/locales";
import { fakeFetch, type Call } from "../test/fakes";
import { AddConnectionWizard } from "./AddConnectionWizard";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  document.getElementById("root")?.remove();
});

const GUIDE: Exchange["guide"] = {
  where: "Profile > API Management > Create API",
  enable: ["Reading", "Spot & Margin Trading"],
  disable: ["Withdrawals"],
  ip_whitelist: "Restrict access to trusted IPs and enter this server's public address.",
  notes: [],
};
const ENVIRONMENT = "Spot Testnet (testnet.binance.vision)";
const BINANCE: Exchange = {
  id: "binance", name: "Binance", tier: 1, markets: ["futures", "spot"], credentials: ["apiKey", "secret"],
  key_types: ["hmac"], ip_whitelist: true, permission_check: true, setting_names: {}, guide: GUIDE, testnet: ENVIRONMENT,
};
const MEXC: Exchange = { ...BINANCE, id: "mexc", name: "MEXC", testnet: null };
/** An older server's answer, without the field at all. */
const GATE: Exchange = { ...BINANCE, id: "gate", name: "Gate" };
delete GATE.testnet;

const ONLINE: TestResult = {
  name: "Binance Play", exchange: "binance", ok: true, status: "online", warnings: [],
  permissions: { read: true, spot_trade: true, futures_trade: false, withdraw: false, ip_restricted: true },
  checks: [{ name: "server_time", ok: true, ms: 3, detail: "" }],
  message: "Binance accepted the key.", remedy: "",
};

function created(exchange: string, testnet: boolean): Connection & { test: TestResult } {
  return {
    id: "c1", name: "Play", exchange, market: "spot", endpoint: null, key_type: "hmac", api_key: "abcd…1234",
    credential_fields: ["apiKey", "secret"], status: "online", status_checked_at: null, testnet,
    created_at: "2026-12-02T08:00:00Z", updated_at: "2026-12-02T08:00:00Z", test: ONLINE,
  };
}

function open(locale: Locale = "en") {
  const root = document.createElement("div");
  root.id = "root";
  document.body.appendChild(root);
  render(
    <I18nProvider locale={locale}>
      <AddConnectionWizard exchanges={[BINANCE, MEXC, GATE]} serverInfo={null} existingNames={[]} onClose={vi.fn()} />
    </I18nProvider>,
  );
  return userEvent.setup();
}

const box = () => screen.queryByTestId("wizard-testnet") as HTMLInputElement | null;

/** From the guide step on: fill the key and save; the body the server received. */
async function finish(user: ReturnType<typeof userEvent.setup>, calls: Call[]): Promise<Record<string, unknown>> {
  await user.click(screen.getByTestId("wizard-next"));
  await user.type(screen.getByTestId("wizard-credential-apiKey"), "binance-api-key-123");
  await user.type(screen.getByTestId("wizard-credential-secret"), "binance-secret-123456");
  await user.type(screen.getByTestId("wizard-name"), "Play");
  await user.click(screen.getByTestId("wizard-run-test"));
  await waitFor(() => expect(screen.getByTestId("wizard-progress").getAttribute("data-step")).toBe("result"));
  const post = calls.find((c) => c.method === "POST" && c.path === "/connections");
  expect(post).toBeDefined();
  return post?.body as Record<string, unknown>;
}

describe("the testnet / demo account in the wizard", () => {
  it("is offered, unticked, only for an exchange that has one", async () => {
    const user = open();
    expect(box()).toBeNull(); // nothing chosen yet
    await user.click(screen.getByTestId("wizard-exchange-option-mexc"));
    expect(box()).toBeNull();
    await user.click(screen.getByTestId("wizard-exchange-option-gate"));
    expect(box()).toBeNull();
    await user.click(screen.getByTestId("wizard-exchange-option-binance"));
    expect(box()?.checked).toBe(false);
    expect(screen.getByLabelText(`Use the testnet / demo account (${ENVIRONMENT})`)).toBe(box());
    expect(box()?.getAttribute("aria-describedby")).toBeTruthy();
    const hint = document.getElementById(box()?.getAttribute("aria-describedby") ?? "");
    expect(hint?.textContent).toBe("It trades no real funds and is never counted in the portfolio total.");
  });

  it("ticked: the guide says where to create the key, the later steps name it, and the body has testnet: true", async () => {
    const calls = fakeFetch({ "POST /connections": () => ({ status: 201, body: created("binance", true) }) });
    const user = open();
    await user.click(screen.getByTestId("wizard-exchange-option-binance"));
    await user.click(screen.getByTestId("wizard-testnet"));
    expect(box()?.checked).toBe(true);
    await user.click(screen.getByTestId("wizard-next"));
    expect(screen.getByTestId("wizard-guide-testnet").textContent).toContain(`Binance testnet / demo site (${ENVIRONMENT})`);
    // Back on step 1 the box is still ticked.
    await user.click(screen.getByTestId("wizard-back"));
    expect(box()?.checked).toBe(true);
    await user.click(screen.getByTestId("wizard-next"));
    await user.click(screen.getByTestId("wizard-next"));
    expect(screen.getByTestId("wizard-testnet-chosen").textContent).toContain("Testnet");
    await user.click(screen.getByTestId("wizard-back"));
    const body = await finish(user, calls);
    expect(body).toMatchObject({ exchange: "binance", testnet: true, test: true });
    expect(screen.getByTestId("wizard-testnet-chosen").textContent).toMatch(/^Testnet This connection goes on the Binance testnet/);
  });

  it("unticked: no testnet in the body and no testnet reminder on the way", async () => {
    const calls = fakeFetch({ "POST /connections": () => ({ status: 201, body: created("binance", false) }) });
    const user = open();
    await user.click(screen.getByTestId("wizard-exchange-option-binance"));
    await user.click(screen.getByTestId("wizard-next"));
    expect(screen.queryByTestId("wizard-guide-testnet")).toBeNull();
    const body = await finish(user, calls);
    expect(body.testnet ?? false).toBe(false);
    expect(body.exchange).toBe("binance");
    expect(screen.queryByTestId("wizard-testnet-chosen")).toBeNull();
  });

  it("switching exchange clears it: to one without a testnet and back again", async () => {
    const calls = fakeFetch({ "POST /connections": () => ({ status: 201, body: created("mexc", false) }) });
    const user = open();
    await user.click(screen.getByTestId("wizard-exchange-option-binance"));
    await user.click(screen.getByTestId("wizard-testnet"));
    await user.click(screen.getByTestId("wizard-exchange-option-mexc"));
    expect(box()).toBeNull();
    await user.click(screen.getByTestId("wizard-exchange-option-binance"));
    expect(box()?.checked).toBe(false);
    await user.click(screen.getByTestId("wizard-testnet"));
    await user.click(screen.getByTestId("wizard-exchange-option-mexc"));
    await user.click(screen.getByTestId("wizard-next"));
    const body = await finish(user, calls);
    expect(body.exchange).toBe("mexc");
    expect("testnet" in body).toBe(false);
  });

  it("speaks French, with the no-break space before the colon", async () => {
    const user = open("fr");
    await user.click(screen.getByTestId("wizard-exchange-option-binance"));
    expect(screen.getByLabelText(`Utiliser le compte de test / démo (${ENVIRONMENT})`)).toBe(box());
    await user.click(screen.getByTestId("wizard-testnet"));
    await user.click(screen.getByTestId("wizard-next"));
    expect(screen.getByTestId("wizard-guide-testnet").textContent).toContain("pas sur le site principal\u00a0: une clé");
  });
});
