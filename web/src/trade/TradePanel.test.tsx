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
