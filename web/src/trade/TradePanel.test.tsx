// The order ticket in jsdom against a scripted API: paper is the default and sends at once; live sends
// only after its confirmation; a guard refusal is shown in plain words; open orders can be canceled.
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Connection, Order, TicketInfo } from "../api/types";
import { I18nProvider } from "../i18n/I18nContext";
import type { Locale } from "../i18n/locales";
import { fakeFetch } from "../test/fakes";
import { TradePanel } from "./TradePanel";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const CONNECTION: Connection = {
  id: "c1", name: "KuCoin Main", exchange: "kucoin", market: "spot", endpoint: null, key_type: "hmac",
  api_key: "ab…cd", credential_fields: ["apiKey", "secret", "password"], status: "online",
  status_checked_at: null, created_at: "2026-12-02T08:00:00Z", updated_at: "2026-12-02T08:00:00Z",
};
const TICKET: TicketInfo = {
  connection: "KuCoin Main", exchange: "kucoin", pair: "BTC/USDT", testnet: false, bid: "49990", ask: "50010",
  maker_fee: "0.001", taker_fee: "0.001", min_notional: "0.1", min_amount: "1E-5", amount_step: "1E-5",
  price_step: "0.01", base: "BTC", quote: "USDT",
};
const OPEN: Order = {
  id: "o1", client_order_id: "o1", exchange_order_id: "x1", mode: "live", symbol: "BTC/USDT", side: "buy",
  type: "limit", amount: "0.001", price: "40000", reduce_only: false, status: "open", filled: "0",
  remaining: "0.001", average: null, cost: "0", fee: "0", outcome: null, error: null,
  created_at: "2026-12-02T08:30:00+00:00", updated_at: "2026-12-02T08:30:00+00:00",
};

function show(connection: Connection = CONNECTION, locale: Locale = "en") {
  render(
    <I18nProvider locale={locale}>
      <TradePanel id="t1" connection={connection} exchangeName="KuCoin" />
    </I18nProvider>,
  );
}

async function fillLimit(user: ReturnType<typeof userEvent.setup>, amount: string) {
  await screen.findByTestId("trade-rules");
  await user.type(screen.getByTestId("trade-amount"), amount);
  await user.type(screen.getByTestId("trade-price"), "40000");
}

describe("the order ticket", () => {
  it("states the book, fees and rules before sending, and sends paper at once by default", async () => {
    const calls = fakeFetch({
      "GET /connections/c1/ticket": () => ({ body: TICKET }),
      "GET /connections/c1/orders": () => ({ body: [] }),
      "POST /connections/c1/orders": () => ({ status: 201, body: { ...OPEN, mode: "paper" } }),
    });
    const user = userEvent.setup();
    show();
    await fillLimit(user, "0,001");
    expect(screen.getByTestId("trade-min-notional").textContent).toBe("0.1 USDT");
    expect(screen.getByTestId("trade-steps").textContent).toBe("amounts in steps of 0.00001 BTC, prices in steps of 0.01 USDT");
    expect(screen.getByTestId("trade-preview-value").getAttribute("data-value")).toBe("40");
    expect(screen.getByTestId("trade-preview-fee").textContent).toContain("0.04 USDT");
    await user.click(screen.getByTestId("trade-submit"));
    await screen.findByTestId("trade-placed");
    const post = calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({ pair: "BTC/USDT", side: "buy", amount: "0.001", type: "limit", price: "40000", paper: true, quote: false });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
  });

  it("sends a live order only after its confirmation, and never on Cancel", async () => {
    const calls = fakeFetch({
      "GET /connections/c1/ticket": () => ({ body: TICKET }),
      "GET /connections/c1/orders": () => ({ body: [] }),
      "POST /connections/c1/orders": () => ({ status: 201, body: OPEN }),
    });
    const user = userEvent.setup();
    show();
    await fillLimit(user, "0.001");
    await user.click(within(screen.getByTestId("trade-mode")).getByRole("radio", { name: /^Live/ }));
    await user.click(screen.getByTestId("trade-submit"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Buy 0.001 BTC of BTC/USDT, limit at 40,000 USDT, on KuCoin Main");
    await user.click(screen.getByTestId("confirm-cancel"));
    expect(calls.filter((c) => c.method === "POST")).toEqual([]);
    await user.click(screen.getByTestId("trade-submit"));
    await user.click(await screen.findByTestId("confirm-ok"));
    await screen.findByTestId("trade-placed");
    expect(calls.filter((c) => c.method === "POST").map((c) => (c.body as { paper: boolean }).paper)).toEqual([false]);
  });

  it("shows a guard refusal in plain words, in the user's language", async () => {
    fakeFetch({
      "GET /connections/c1/ticket": () => ({ body: TICKET }),
      "GET /connections/c1/orders": () => ({ body: [] }),
      "POST /connections/c1/orders": () => ({
        status: 422,
        body: { error: { code: "order_refused.min_notional", message: "notional 0.01 is below 0.1" } },
      }),
    });
    const user = userEvent.setup();
    show(CONNECTION, "it");
    await fillLimit(user, "0.0000001");
    expect(screen.getAllByTestId("trade-problem").map((p) => p.getAttribute("data-problem"))).toContain("min_notional");
    await user.click(screen.getByTestId("trade-submit"));
    const refusal = await screen.findByTestId("trade-refusal");
    expect(refusal.getAttribute("data-reason")).toBe("min_notional");
    expect(screen.getByTestId("trade-refusal-reason").textContent).toBe(
      "L'ordine vale meno del minimo dell'exchange di 0,1 USDT. Aumenta la quantità.",
    );
    expect(screen.getByTestId("trade-refusal-detail").textContent).toContain("notional 0.01 is below 0.1");
  });

  it("lists open orders with Cancel, and marks a testnet connection's orders", async () => {
    let orders: Order[] = [OPEN];
    const calls = fakeFetch({
      "GET /connections/c1/ticket": () => ({ body: { ...TICKET, testnet: true } }),
      "GET /connections/c1/orders": () => ({ body: orders }),
      "DELETE /connections/c1/orders/o1": () => {
        orders = [{ ...OPEN, status: "canceled" }];
        return { body: orders[0] };
      },
    });
    const user = userEvent.setup();
    show({ ...CONNECTION, testnet: true });
    expect(screen.getByTestId("trade-testnet-mark")).toBeTruthy();
    const open = await screen.findByTestId("trade-open-table");
    expect(within(open).getByText("Testnet")).toBeTruthy();
    const placed = within(open).getByTestId("trade-order-time").querySelector("time");
    expect(placed?.getAttribute("dateTime")).toBe(OPEN.created_at);
    expect(placed?.textContent).toMatch(/2026/); // the locale's date and time, not the raw ISO text
    expect(placed?.textContent).not.toContain("T08:30");
    await user.click(within(open).getByTestId("trade-cancel"));
    await waitFor(() => expect(screen.getByTestId("trade-open-orders").getAttribute("data-count")).toBe("0"));
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/connections/c1/orders/o1")).toBe(true);
    expect(screen.getByTestId("trade-recent-orders").textContent).toContain("Canceled");
  });
});

describe("reduce only", () => {
  const PERP: TicketInfo = { ...TICKET, pair: "BTC/USDT:USDT", min_notional: "5", amount_step: "0.001", min_amount: "0.001" };
  // The ticket for the pair asked (?pair=…), else the connection's default (spot) pair.
  const tickets = (call: { path: string }) => {
    const pair = new URL(call.path, "http://localhost").searchParams.get("pair");
    return { body: pair === PERP.pair ? PERP : TICKET };
  };

  async function choosePair(user: ReturnType<typeof userEvent.setup>, pair: string) {
    const field = screen.getByTestId("trade-pair");
    await user.clear(field);
    await user.type(field, `${pair}{Enter}`);
    await waitFor(() => expect(screen.getByTestId("trade-rules").getAttribute("aria-label")).toContain(pair.toUpperCase()));
  }

  it("is offered only on a contract pair, off by default, and cleared by switching to a spot pair", async () => {
    fakeFetch({ "GET /connections/c1/ticket": tickets, "GET /connections/c1/orders": () => ({ body: [] }) });
    const user = userEvent.setup();
    show();
    await screen.findByTestId("trade-rules");
    expect(screen.queryByTestId("trade-reduce-only")).toBeNull(); // BTC/USDT: spot
    await choosePair(user, "btc/usdt:usdt");
    const box = screen.getByTestId<HTMLInputElement>("trade-reduce-only");
    expect(box.checked).toBe(false);
    expect(screen.getByLabelText("Reduce only")).toBe(box);
    expect(box.getAttribute("aria-describedby")).toBeTruthy();
    expect(document.getElementById(box.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "The order can only shrink the open position on this contract; it never opens or grows one.",
    );
    await user.click(box);
    expect(box.checked).toBe(true);
    await choosePair(user, "BTC/USDT");
    expect(screen.queryByTestId("trade-reduce-only")).toBeNull();
    await choosePair(user, "BTC/USDT:USDT");
    expect(screen.getByTestId<HTMLInputElement>("trade-reduce-only").checked).toBe(false);
  });

  it("sends reduce_only: true only when ticked, tags the preview and the live confirmation", async () => {
    const calls = fakeFetch({
      "GET /connections/c1/ticket": tickets,
      "GET /connections/c1/orders": () => ({ body: [] }),
      "POST /connections/c1/orders": (call) => ({
        status: 201,
        body: { ...OPEN, symbol: PERP.pair, reduce_only: Boolean((call.body as { reduce_only?: boolean }).reduce_only) },
      }),
    });
    const user = userEvent.setup();
    show();
    await screen.findByTestId("trade-rules");
    await choosePair(user, "BTC/USDT:USDT");
    await fillLimit(user, "0.002");
    // Unticked: the body has no reduce_only at all.
    expect(screen.queryByTestId("trade-preview-reduce-only")).toBeNull();
    await user.click(screen.getByTestId("trade-submit"));
    await screen.findByTestId("trade-placed");
    // Ticked: the preview says so, the live confirmation says so, and the body carries reduce_only: true.
    await user.click(screen.getByTestId("trade-reduce-only"));
    expect(screen.getByTestId("trade-preview-reduce-only").textContent).toBe("Reduce only");
    await user.click(within(screen.getByTestId("trade-mode")).getByRole("radio", { name: /^Live/ }));
    await user.click(screen.getByTestId("trade-submit"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("of BTC/USDT:USDT, limit at 40,000 USDT, on KuCoin Main");
    expect(dialog.textContent).toContain("Reduce only: it can only shrink the open position.");
    await user.click(screen.getByTestId("confirm-ok"));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST")).toHaveLength(2));
    const [first, second] = calls.filter((c) => c.method === "POST").map((c) => c.body as Record<string, unknown>);
    expect(first).toEqual({ pair: "BTC/USDT:USDT", side: "buy", amount: "0.002", type: "limit", price: "40000", paper: true, quote: false });
    expect(second).toEqual({
      pair: "BTC/USDT:USDT", side: "buy", amount: "0.002", type: "limit", price: "40000", reduce_only: true, paper: false, quote: false,
    });
  });

  it("never sends reduce_only for a spot pair, even after it was ticked on a contract", async () => {
    const calls = fakeFetch({
      "GET /connections/c1/ticket": tickets,
      "GET /connections/c1/orders": () => ({ body: [] }),
      "POST /connections/c1/orders": () => ({ status: 201, body: { ...OPEN, mode: "paper" } }),
    });
    const user = userEvent.setup();
    show();
    await screen.findByTestId("trade-rules");
    await choosePair(user, "BTC/USDT:USDT");
    await user.click(screen.getByTestId("trade-reduce-only"));
    await choosePair(user, "BTC/USDT");
    await fillLimit(user, "0.001");
    expect(screen.queryByTestId("trade-preview-reduce-only")).toBeNull();
    await user.click(screen.getByTestId("trade-submit"));
    await screen.findByTestId("trade-placed");
    const post = calls.find((c) => c.method === "POST");
    expect(post?.body).not.toHaveProperty("reduce_only");
    expect((post?.body as { pair: string }).pair).toBe("BTC/USDT");
  });

  it("tags a reduce-only order in the orders tables, in the user's language, and no other", async () => {
    const closing: Order = { ...OPEN, id: "o2", client_order_id: "o2", symbol: "BTC/USDT:USDT", side: "sell", reduce_only: true };
    fakeFetch({
      "GET /connections/c1/ticket": tickets,
      "GET /connections/c1/orders": () => ({ body: [closing, OPEN] }),
    });
    show(CONNECTION, "fr");
    const open = await screen.findByTestId("trade-open-table");
    const rows = within(open).getAllByTestId("trade-order-row");
    const tagged = rows.find((row) => row.getAttribute("data-order-id") === "o2");
    const plainRow = rows.find((row) => row.getAttribute("data-order-id") === "o1");
    expect(tagged && within(tagged).getByTestId("trade-order-reduce-only").textContent).toBe("Réduire uniquement");
    expect(tagged?.getAttribute("data-reduce-only")).toBe("true");
    expect(plainRow && within(plainRow).queryByTestId("trade-order-reduce-only")).toBeNull();
    const recent = screen.getByTestId("trade-recent-table");
    expect(within(recent).getAllByTestId("trade-order-reduce-only")).toHaveLength(1);
  });
});
