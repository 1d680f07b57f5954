import { describe, expect, it } from "vitest";
import type { BotFill, Candle } from "./api";
import {
  addDecimals,
  barsOf,
  buildMarkers,
  formatPnl,
  parseBotsHash,
  parsePairs,
  priceLines,
  roundText,
  settingsToSend,
  botHref,
  newBotHref,
} from "./model";

const LABELS = { entry: "E", addon: "A", exit: "X" } as const;

function fill(ts_ms: number, kind: BotFill["kind"], side = "buy", symbol = "BTC/USDT"): BotFill {
  return { ts: "", ts_ms, symbol, side, kind, price: "50000", amount: "0.002", fee: "0.1", fee_currency: "USDT", client_order_id: "c", mode: "paper" };
}

describe("money", () => {
  it("rounds decimal strings exactly, half away from zero", () => {
    expect(roundText("12.345")).toBe("12.35");
    expect(roundText("-12.345")).toBe("-12.35");
    expect(roundText("0.004")).toBe("0.00");
    expect(roundText("-0.004")).toBe("0.00");
    expect(roundText("448.6000000000000000000000001")).toBe("448.60");
    expect(roundText("9.995")).toBe("10.00");
    expect(roundText("7", 0)).toBe("7");
    expect(roundText("abc")).toBeNull();
  });

  it("formats P&L with a sign and a tone", () => {
    expect(formatPnl("3.14159")).toEqual({ text: "+3.14", tone: "gain" });
    expect(formatPnl("-0.4")).toEqual({ text: "-0.40", tone: "loss" });
    expect(formatPnl("0")).toEqual({ text: "0.00", tone: "flat" });
    expect(formatPnl("0.001")).toEqual({ text: "0.00", tone: "flat" });
    expect(formatPnl(null)).toEqual({ text: "—", tone: "flat" });
  });

  it("adds decimal strings without floats", () => {
    expect(addDecimals("0.1", "0.2")).toBe("0.3");
    expect(addDecimals("1.5", "-2.25")).toBe("-0.75");
    expect(addDecimals("10", "0")).toBe("10");
  });
});

describe("chart", () => {
  const candles: Candle[] = [
    [60_000, "1", "2", "0.5", "1.5", "10"],
    [120_000, "1.5", "2", "1", "1.8", "10"],
    [120_000, "9", "9", "9", "9", "9"], // repeated time: dropped
    [180_000, null, "2", "1", "1.8", "10"], // incomplete: dropped
    [240_000, "1.8", "2.2", "1.7", "2", "10"],
  ];

  it("turns candles into bars in seconds", () => {
    expect(barsOf(candles).map((b) => b.time)).toEqual([60, 120, 240]);
    expect(barsOf(candles)[0]).toEqual({ time: 60, open: 1, high: 2, low: 0.5, close: 1.5 });
  });

  it("puts each fill of the pair on its bar, sorted, kinds told apart", () => {
    const bars = barsOf(candles);
    const markers = buildMarkers(
      [fill(250_000, "exit", "sell"), fill(61_500, "entry"), fill(130_000, "addon"), fill(10_000, "entry"), fill(70_000, "entry", "buy", "ETH/USDT")],
      bars,
      "1m",
      "BTC/USDT",
      LABELS,
    );
    expect(markers.map((m) => [m.time, m.kind, m.shape, m.position, m.text])).toEqual([
      [60, "entry", "arrowUp", "belowBar", "E"],
      [120, "addon", "circle", "belowBar", "A"],
      [240, "exit", "arrowDown", "aboveBar", "X"],
    ]);
  });

  it("puts a fill after the last bar on the last bar, and none without bars", () => {
    const bars = barsOf(candles);
    expect(buildMarkers([fill(900_000, "entry")], bars, "1m", "BTC/USDT", LABELS).map((m) => m.time)).toEqual([240]);
    expect(buildMarkers([fill(900_000, "entry")], [], "1m", "BTC/USDT", LABELS)).toEqual([]);
  });

  it("draws the average price and the triggers once each", () => {
    expect(priceLines({ average_price: "49000", triggers: { low: "48000", high: "49490", wake_ms: null } })).toEqual([
      { price: 49000, kind: "average" },
      { price: 49490, kind: "high" },
      { price: 48000, kind: "low" },
    ]);
    expect(priceLines({ average_price: null, triggers: { low: null, high: "10", wake_ms: null } })).toEqual([{ price: 10, kind: "high" }]);
    expect(priceLines(undefined)).toEqual([]);
  });
});

describe("form and routes", () => {
  it("sends only the strategy's non-blank settings", () => {
    expect(settingsToSend({ base_order: " 100 ", addon_order: "", lower: "1", bogus: "x" }, "dca")).toEqual({ base_order: "100" });
    expect(settingsToSend({ lower: "1", upper: "2" }, "grid")).toEqual({ lower: "1", upper: "2" });
  });

  it("reads pairs typed with commas or spaces", () => {
    expect(parsePairs("btc/usdt, ETH/USDT  btc/usdt;")).toEqual(["BTC/USDT", "ETH/USDT"]);
    expect(parsePairs("  ")).toEqual([]);
  });

  it("parses the bots routes, names with / and spaces included", () => {
    expect(parseBotsHash("#/bots")).toEqual({ page: "list" });
    expect(parseBotsHash(newBotHref("Sim Main"))).toEqual({ page: "new", connection: "Sim Main" });
    expect(parseBotsHash("#/bots/new")).toEqual({ page: "new", connection: null });
    expect(parseBotsHash(botHref("a/b c"))).toEqual({ page: "bot", name: "a/b c" });
    expect(parseBotsHash("#/bots/view/%E0%A4%A")).toEqual({ page: "list" });
  });
});

describe("labels and positions", () => {
  it("knows the server's history kinds and order statuses, and passes others through", async () => {
    const { eventKey, orderStatusKey, heldPositions } = await import("./model");
    expect(eventKey("take_profit")).toBe("bots.event.take_profit");
    expect(eventKey("something_new")).toBeNull();
    expect(orderStatusKey("closed")).toBe("bots.orderStatus.closed");
    expect(orderStatusKey("weird")).toBeNull();
    expect(heldPositions({ "BTC/USDT": { position: "0.00199" }, "ETH/USDT": { position: "0" }, "X/Y": { position: "-0.000" } })).toEqual([
      { pair: "BTC/USDT", position: "0.00199" },
    ]);
    // Its fills say the position was sold (a close at market after the stop): nothing is held.
    const state = { "BTC/USDT": { position: "0.00199" } };
    const bought = { symbol: "BTC/USDT", side: "buy", amount: "0.00199" };
    expect(heldPositions(state, [bought])).toEqual([{ pair: "BTC/USDT", position: "0.00199" }]);
    expect(heldPositions(state, [bought, { ...bought, side: "sell" }])).toEqual([]);
  });

  it("every kind and status it knows has an English message", async () => {
    const { eventKey, orderStatusKey } = await import("./model");
    const { botsEn } = await import("./messages");
    const kinds = ["created", "started", "stopped", "paused", "resumed", "error", "group_opened", "group_closed", "addon", "take_profit",
      "trailing_armed", "stop_loss", "recovery_entered", "recovery_left", "refused", "grid_placed", "grid_trailed"];
    for (const kind of kinds) expect(eventKey(kind)! in botsEn, kind).toBe(true);
    for (const status of ["pending", "open", "closed", "canceled", "rejected", "expired", "unknown"]) {
      expect(orderStatusKey(status)! in botsEn, status).toBe(true);
    }
  });
});
