// The app in jsdom against a scripted API: login, the add-connection wizard end to end (and that the
// secret is gone from the DOM and storage after submit), keyboard use of dialogs, live badge updates.
import { act, cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "./App";
import type { Connection, Exchange, TestResult } from "./api/types";
import { fakeFetch, FakeWebSocket, installFakeWebSocket, type Call } from "./test/fakes";

const TOKEN = "tw_login-token-value";
const SECRET = "S3CRET-that-must-not-stay-in-the-DOM";
const API_KEY = "mx0vglAPIKEY1234";

const guide = { where: "Avatar > API Management", enable: ["Read"], disable: ["Withdrawal"], ip_whitelist: "Link IP", notes: [] };
const EXCHANGES: Exchange[] = [
  { id: "mexc", name: "MEXC", tier: 1, markets: ["futures", "spot"], credentials: ["apiKey", "secret"], key_types: ["hmac"], ip_whitelist: true, permission_check: true, setting_names: {}, guide },
  { id: "kucoin", name: "KuCoin", tier: 1, markets: ["futures", "spot"], credentials: ["apiKey", "secret", "password"], key_types: ["hmac"], ip_whitelist: true, permission_check: true, setting_names: {}, guide },
];

function connection(id: string, name: string, status: string): Connection {
  return {
    id, name, exchange: "mexc", market: "spot", endpoint: null, key_type: "hmac", api_key: "mx0v…1234",
    credential_fields: ["apiKey", "secret"], status, status_checked_at: "2026-11-21T09:00:00Z",
    created_at: "2026-11-21T08:00:00Z", updated_at: "2026-11-21T08:00:00Z",
  };
}

const ONLINE: TestResult = {
  name: "MEXC Spot Main", exchange: "mexc", ok: true, status: "online", warnings: ["ip_unrestricted"],
  permissions: { read: true, spot_trade: true, futures_trade: false, withdraw: false, ip_restricted: false },
  checks: [
    { name: "server_time", ok: true, ms: 4.2, detail: "clock offset +1 ms" },
    { name: "authenticated_read", ok: true, ms: 12.5, detail: "balances readable" },
  ],
  message: "MEXC accepted the key.", remedy: "Nothing to do.",
};

let connections: Connection[];
let calls: Call[];

beforeEach(() => {
  window.localStorage.clear();
  window.sessionStorage.clear();
  window.location.hash = "";
  installFakeWebSocket();
  connections = [connection("c0", "Demo (simulator)", "online")];
  calls = fakeFetch({
    "POST /auth/login": (call) =>
      (call.body as { token: string }).token === TOKEN
        ? { body: { token_name: "dashboard", scope: "admin", via: "session", csrf_token: "csrf-1" } }
        : { status: 401, body: { error: { code: "unauthorized", message: "that token is unknown or revoked" } } },
    "POST /auth/logout": () => ({ status: 204 }),
    "GET /connections": () => ({ body: connections }),
    "GET /exchanges": () => ({ body: EXCHANGES }),
    "GET /server-info": () => ({ body: { version: "0.1.0", outbound_address: "203.0.113.7", client_address: "127.0.0.1", note: "NAT note" } }),
    "GET /connections/c0/history": () => ({ body: [] }),
    "GET /connections/c1/history": () => ({ body: [{ ...ONLINE, checked_at: "2026-11-21T09:01:00Z" }] }),
    "POST /connections": (call) => {
      const body = call.body as { name: string };
      const created = connection("c1", body.name, "untested");
      connections = [...connections, created];
      return { status: 201, body: created };
    },
    "POST /connections/c1/test": () => {
      connections = connections.map((c) => (c.id === "c1" ? { ...c, status: "online" } : c));
      return { body: ONLINE };
    },
  });
});

afterEach(() => {
  cleanup();
  document.getElementById("root")?.remove();
});

/** Render as index.html does, into #root (the dialogs make it inert while they are open). */
function renderApp() {
  const root = document.createElement("div");
  root.id = "root";
  document.body.appendChild(root);
  return render(<App />, { container: root });
}

async function logIn(user: ReturnType<typeof userEvent.setup>) {
  renderApp();
  await user.type(screen.getByTestId("login-token"), TOKEN);
  await user.click(screen.getByTestId("login-submit"));
  await screen.findByTestId("connections-list");
}

describe("login", () => {
  it("signs in with a token, sends no probe on a first visit, and keeps no token anywhere", async () => {
    const user = userEvent.setup();
    await logIn(user);
    expect(calls.some((c) => c.path === "/auth/me")).toBe(false); // no 401 probe for a newcomer
    expect(document.body.innerHTML).not.toContain(TOKEN);
    expect(JSON.stringify({ ...window.localStorage })).not.toContain(TOKEN);
    expect(screen.getByTestId("signed-in-as").textContent).toContain("dashboard");
  });

  it("says so when the token is wrong, and empties the field", async () => {
    const user = userEvent.setup();
    renderApp();
    await user.type(screen.getByTestId("login-token"), "tw_wrong");
    await user.click(screen.getByTestId("login-submit"));
    expect(await screen.findByText("That token is unknown or revoked.")).toBeTruthy();
    expect((screen.getByTestId("login-token") as HTMLInputElement).value).toBe("");
  });

  it("sends the CSRF token with state-changing requests, and logs out", async () => {
    const user = userEvent.setup();
    await logIn(user);
    await user.click(screen.getByTestId("logout-button"));
    const logout = calls.find((c) => c.path === "/auth/logout");
    expect(logout?.headers["X-CSRF-Token"]).toBe("csrf-1");
    expect(await screen.findByTestId("login-token")).toBeTruthy();
  });
});

describe("add-connection wizard", () => {
  it("walks exchange → guide → key → test, and the secret is gone after submit", async () => {
    const user = userEvent.setup();
    await logIn(user);
    await user.click(screen.getByTestId("connections-add"));
    const dialog = await screen.findByTestId("wizard-dialog");

    await user.click(within(dialog).getByTestId("wizard-next")); // nothing chosen yet
    expect(within(dialog).getByRole("alert").textContent).toBe("Choose an exchange first.");
    await user.click(within(dialog).getByTestId("wizard-exchange-mexc"));
    await user.click(within(dialog).getByTestId("wizard-next"));

    expect(within(dialog).getByTestId("wizard-guide-where").textContent).toBe(guide.where);
    expect((await within(dialog).findByTestId("wizard-server-address")).textContent).toBe("203.0.113.7");
    await user.click(within(dialog).getByTestId("wizard-next"));

    // MEXC has no passphrase: no field for it.
    expect(within(dialog).queryByTestId("wizard-credential-password")).toBeNull();
    await user.type(within(dialog).getByTestId("wizard-credential-apiKey"), API_KEY);
    await user.type(within(dialog).getByTestId("wizard-credential-secret"), SECRET);
    await user.type(within(dialog).getByTestId("wizard-name"), "MEXC Spot Main");
    await user.click(within(dialog).getByTestId("wizard-advanced"));
    await user.type(within(dialog).getByTestId("wizard-endpoint"), "http://127.0.0.1:8765");
    // The secret input never carries the value as markup.
    expect(document.body.innerHTML).not.toContain(SECRET);
    await user.click(within(dialog).getByTestId("wizard-run-test"));

    const progress = await within(dialog).findByTestId("wizard-progress");
    await waitFor(() => expect(progress.getAttribute("data-step")).toBe("result"));
    expect(progress.textContent).toBe("Test finished: Online");
    expect(within(dialog).getAllByTestId("check-row").map((r) => r.getAttribute("data-check"))).toEqual([
      "server_time",
      "authenticated_read",
    ]);
    expect(within(dialog).getByTestId("test-message").textContent).toBe("MEXC accepted the key.");
    expect(within(dialog).getByTestId("status-badge").getAttribute("data-status")).toBe("online");

    const create = calls.find((c) => c.method === "POST" && c.path === "/connections");
    expect(create?.body).toEqual({
      name: "MEXC Spot Main",
      exchange: "mexc",
      market: "spot",
      endpoint: "http://127.0.0.1:8765",
      credentials: { apiKey: API_KEY, secret: SECRET },
      test: true,
      keep_untested: false,
    });
    expect(create?.headers["X-CSRF-Token"]).toBe("csrf-1");
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(document.body.textContent).not.toContain(SECRET);
    for (const input of document.querySelectorAll("input")) expect(input.value).not.toContain(SECRET);
    expect(JSON.stringify({ ...window.localStorage, ...window.sessionStorage })).not.toContain(SECRET);
    expect(window.location.href).not.toContain(SECRET);

    await user.click(within(dialog).getByTestId("wizard-done"));
    expect(screen.queryByTestId("wizard-dialog")).toBeNull();
    const row = await screen.findByText("MEXC Spot Main");
    const card = row.closest<HTMLElement>("[data-testid=connection-row]");
    await waitFor(() => expect(card?.getAttribute("data-status")).toBe("online"));
    // The latest test's warning and message are on the card.
    const warning = await within(card as HTMLElement).findByTestId("warning");
    expect(warning.getAttribute("data-warning")).toBe("ip_unrestricted");
    expect(warning.textContent).toContain("IP unrestricted");
    expect(within(card as HTMLElement).getByTestId("connection-message").textContent).toBe("MEXC accepted the key.");
  });

  it("asks KuCoin users for the passphrase and refuses to submit without it", async () => {
    const user = userEvent.setup();
    await logIn(user);
    await user.click(screen.getByTestId("connections-add"));
    const dialog = await screen.findByTestId("wizard-dialog");
    await user.click(within(dialog).getByTestId("wizard-exchange-kucoin"));
    await user.click(within(dialog).getByTestId("wizard-next"));
    await user.click(within(dialog).getByTestId("wizard-next"));
    await user.type(within(dialog).getByTestId("wizard-credential-apiKey"), API_KEY);
    await user.type(within(dialog).getByTestId("wizard-credential-secret"), SECRET);
    await user.type(within(dialog).getByTestId("wizard-name"), "KuCoin Futures Conservative");
    await user.click(within(dialog).getByTestId("wizard-run-test"));
    expect(within(dialog).getByTestId("wizard-credential-password-error").textContent).toContain("Passphrase is required for KuCoin.");
    expect(calls.some((c) => c.method === "POST" && c.path === "/connections")).toBe(false);
    const passphrase = within(dialog).getByTestId("wizard-credential-password");
    expect(passphrase.getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(document.activeElement).toBe(passphrase)); // fixing starts at the field
  });

  it("closes on Escape, returns focus to the Add button, and forgets what was typed", async () => {
    const user = userEvent.setup();
    await logIn(user);
    const add = screen.getByTestId("connections-add");
    await user.click(add);
    const dialog = await screen.findByTestId("wizard-dialog");
    expect(dialog.contains(document.activeElement)).toBe(true); // focus moved in
    expect(document.getElementById("root")?.hasAttribute("inert")).toBe(true);
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("wizard-dialog")).toBeNull();
    expect(document.activeElement).toBe(add);
    expect(document.getElementById("root")?.hasAttribute("inert")).toBe(false);
  });

  it("traps Tab inside the dialog", async () => {
    const user = userEvent.setup();
    await logIn(user);
    await user.click(screen.getByTestId("connections-add"));
    const dialog = await screen.findByTestId("wizard-dialog");
    for (let i = 0; i < 30; i += 1) {
      await user.tab();
      expect(dialog.contains(document.activeElement), `tab ${i}`).toBe(true);
    }
  });

  it("is in Italian when Italian is chosen", async () => {
    const user = userEvent.setup();
    await logIn(user);
    await user.selectOptions(screen.getByTestId("language-select"), "it");
    await user.click(screen.getByTestId("connections-add"));
    const dialog = await screen.findByTestId("wizard-dialog");
    expect(within(dialog).getByRole("heading", { level: 2 }).textContent).toBe("Aggiungi una connessione");
    expect(within(dialog).getByTestId("wizard-next").textContent).toBe("Avanti");
    expect(document.documentElement.lang).toBe("it");
  });
});

describe("connections list", () => {
  it("changes a badge when the stream reports a status change, without reloading the page", async () => {
    const user = userEvent.setup();
    await logIn(user);
    const badge = () => screen.getByTestId("connections-list").querySelector("[data-testid=status-badge]");
    expect(badge()?.getAttribute("data-status")).toBe("online");
    const socket = FakeWebSocket.latest();
    expect(socket.url).toMatch(/^ws:\/\/.*\/api\/v1\/stream$/);
    act(() => {
      socket.open();
      socket.emit({
        type: "connection.status", id: 9, ts: "2026-11-21T09:05:00Z", kind: "connection.status_changed",
        actor: "monitor", connection_id: "c0", connection_name: "Demo (simulator)",
        detail: { previous: "online", status: "ip_not_allowed" },
      });
    });
    expect(badge()?.getAttribute("data-status")).toBe("ip_not_allowed");
    expect(badge()?.textContent).toContain("IP not allowed");
    expect(screen.getByTestId("live-indicator").getAttribute("data-phase")).toBe("open");
  });

  it("removes a connection only after confirmation", async () => {
    const user = userEvent.setup();
    const deleted: string[] = [];
    await logIn(user);
    calls.length = 0;
    // Answer the DELETE (the scripted routes have none by default).
    const original = globalThis.fetch;
    globalThis.fetch = (async (input: string, init?: RequestInit) => {
      if (init?.method === "DELETE") {
        deleted.push(String(input));
        return new Response(null, { status: 204 });
      }
      return original(input, init);
    }) as typeof fetch;
    await user.click(screen.getByTestId("connection-remove"));
    await user.click(await screen.findByTestId("confirm-cancel"));
    expect(deleted).toEqual([]);
    await user.click(screen.getByTestId("connection-remove"));
    await user.click(await screen.findByTestId("confirm-ok"));
    await waitFor(() => expect(screen.queryByTestId("connection-row")).toBeNull());
    expect(deleted).toEqual(["/api/v1/connections/c0"]);
  });
});
