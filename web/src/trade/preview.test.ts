import { describe, expect, it } from "vitest";
import type { TicketInfo } from "../api/types";
import { apiNumber, isContract, percent, preview, readNumber, type TicketInput } from "./preview";

const INFO: TicketInfo = {
  connection: "MEXC Spot Main",
  exchange: "mexc",
  pair: "BTC/USDT",
  testnet: false,
  bid: "49990",
  ask: "50010",
  maker_fee: "0.001",
  taker_fee: "0.002",
  min_notional: "5",
  min_amount: "0.00001",
  amount_step: "0.00001",
  price_step: "0.01",
  base: "BTC",
  quote: "USDT",
};

const input = (over: Partial<TicketInput>): TicketInput => ({
  side: "buy",
  type: "market",
  amount: "0.001",
  unit: "base",
  price: "",
  ...over,
});

describe("readNumber", () => {
  it("accepts a decimal comma and spaces, refuses the rest with a reason", () => {
    expect(apiNumber("0,001")).toBe("0.001");
    expect(apiNumber(" 1 000.5 ")).toBe("1000.5");
    expect(readNumber("").problem).toBe("required");
    expect(readNumber("abc").problem).toBe("invalid");
    expect(readNumber("-1").problem).toBe("invalid");
    expect(readNumber("1e5").problem).toBe("invalid");
    expect(readNumber("0").problem).toBe("not_positive");
    expect(apiNumber("0.000")).toBeNull();
  });
});

describe("preview", () => {
  it("values a market order at the middle of the book, with the taker fee", () => {
    const p = preview(input({}), INFO);
    expect(p.valuePrice).toBe("50000");
    expect(p.base).toBe("0.001");
    expect(p.notional).toBe("50");
    expect(p.taker).toBe(true);
    expect(p.feeRate).toBe("0.002");
    expect(p.fee).toBe("0.1");
    expect(p.problems).toEqual([]);
  });

  it("a limit order that rests pays the maker fee; one that crosses the book pays the taker fee", () => {
    const resting = preview(input({ type: "limit", price: "40000" }), INFO);
    expect(resting.taker).toBe(false);
    expect(resting.notional).toBe("40");
    expect(resting.fee).toBe("0.04");
    expect(preview(input({ type: "limit", price: "50010" }), INFO).taker).toBe(true);
    expect(preview(input({ side: "sell", type: "limit", price: "49990" }), INFO).taker).toBe(true);
    expect(preview(input({ side: "sell", type: "limit", price: "60000" }), INFO).taker).toBe(false);
  });

  it("converts a quote amount as the server does: at the side's best price, floored to the step", () => {
    const buy = preview(input({ amount: "20", unit: "quote" }), INFO);
    expect(buy.base).toBe("0.00039"); // 20 / 50010 = 0.000399920…, floored to 0.00001
    const sell = preview(input({ side: "sell", amount: "20", unit: "quote" }), INFO);
    expect(sell.base).toBe("0.0004"); // 20 / 49990 = 0.00040008…
    const limit = preview(input({ type: "limit", price: "40000", amount: "20", unit: "quote" }), INFO);
    expect(limit.base).toBe("0.0005");
  });

  it("names the rules an order breaks, in the guard's order", () => {
    expect(preview(input({ amount: "0.00001" }), INFO).problems).toEqual(["min_notional"]);
    expect(preview(input({ amount: "0.001005" }), INFO).problems).toEqual(["amount_step"]);
    expect(preview(input({ amount: "0.000001" }), INFO).problems).toEqual(["amount_step", "min_amount", "min_notional"]);
    expect(preview(input({ type: "limit", price: "40000.005" }), INFO).problems).toEqual(["price_step"]);
    expect(preview(input({ amount: "0.00001", unit: "quote" }), INFO).problems).toEqual(["zero_after_rounding"]);
    const exact = preview(input({ type: "limit", price: "500", amount: "0.01" }), INFO);
    expect(exact.notional).toBe("5");
    expect(exact.problems).toEqual([]); // exactly the minimum is allowed
  });

  it("reports what is missing instead of guessing", () => {
    expect(preview(input({ amount: "" }), INFO).amountProblem).toBe("required");
    const noPrice = preview(input({ type: "limit", price: "" }), INFO);
    expect(noPrice.priceProblem).toBe("required");
    expect(noPrice.notional).toBeNull();
    const empty = { ...INFO, bid: null, ask: null };
    expect(preview(input({}), empty).problems).toEqual(["no_price"]);
    expect(preview(input({ unit: "quote", amount: "20" }), empty).problems).toEqual(["no_price"]);
    const free = { ...INFO, min_notional: null, min_amount: null, amount_step: null, price_step: null };
    expect(preview(input({ amount: "0.0000001" }), free).problems).toEqual([]);
  });

  it("shows fee rates as percentages", () => {
    expect(percent("0.001")).toBe("0.1");
    expect(percent("0.0002")).toBe("0.02");
    expect(percent("0")).toBe("0");
  });
});

describe("isContract", () => {
  it("is true only for a ccxt symbol with a settle currency after the colon", () => {
    expect(isContract("BTC/USDT:USDT")).toBe(true);
    expect(isContract("ETH/USD:ETH")).toBe(true);
    expect(isContract("BTC/USDT:USDT-261225")).toBe(true);
    expect(isContract(" btc/usdt:usdt ")).toBe(true);
    expect(isContract("BTC/USDT")).toBe(false);
    expect(isContract("BTC/USDT:")).toBe(false);
    expect(isContract("")).toBe(false);
    expect(isContract("BTCUSDT:USDT")).toBe(false);
  });
});
