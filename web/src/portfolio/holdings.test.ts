import { describe, expect, it } from "vitest";
import type { Portfolio, PortfolioConnection } from "../api/types";
import { addDecimals, allocationSlices, holdingsByAsset, isCounted } from "./holdings";

function conn(name: string, total: string | null, balances: [string, string, string | null][], simulated = false): PortfolioConnection {
  return {
    id: name, name, exchange: "binance", status: total === null ? "invalid_key" : "online", total,
    error: total === null ? "x" : null, as_of: null, simulated,
    balances: balances.map(([asset, amount, value]) => ({ asset, free: amount, used: "0", total: amount, value })),
  };
}

describe("addDecimals", () => {
  it("adds exactly, whatever the scales", () => {
    expect(addDecimals("0.1", "0.2")).toBe("0.3");
    expect(addDecimals("1", "0.00000001")).toBe("1.00000001");
    expect(addDecimals("-1.5", "1")).toBe("-0.5");
    expect(addDecimals("999999999999999999.9", "0.1")).toBe("1000000000000000000.0");
  });
});

describe("holdingsByAsset", () => {
  const portfolio: Portfolio = {
    quote: "USDT", as_of: "2026-12-02T08:00:00Z", total: "400",
    connections: [
      conn("A", "300", [["BTC", "0.001", "100"], ["USDT", "200", "200"]], true),
      conn("B", "100", [["BTC", "0.001", "100"], ["XYZ", "5", null]]),
      conn("Broken", null, [["ETH", "9", "30000"]]),
    ],
  };

  it("sums each asset across the counted connections and leaves out the others", () => {
    const holdings = holdingsByAsset(portfolio);
    expect(holdings.map((h) => h.asset)).toEqual(["BTC", "USDT", "XYZ"]);
    const btc = holdings[0]!;
    expect(btc.amount).toBe("0.002");
    expect(btc.value).toBe("200");
    expect(btc.share).toBeCloseTo(0.5);
    expect(btc.connections).toEqual(["A", "B"]);
    expect(btc.simulated).toBe(false);
    expect(holdings[1]!.simulated).toBe(true);
    expect(holdings[2]!.value).toBeNull();
  });

  it("groups the smallest slices as other", () => {
    const holdings = holdingsByAsset({
      ...portfolio,
      connections: [conn("A", "28", [1, 2, 3, 4, 5, 6, 7].map((n) => [`A${n}`, "1", String(n)] as [string, string, string]))],
    });
    const slices = allocationSlices(holdings, 3);
    expect(slices.map((s) => s.label)).toEqual(["A7", "A6", ""]);
    expect(slices[2]!.other).toBe(true);
    expect(slices.reduce((sum, s) => sum + s.share, 0)).toBeCloseTo(1);
  });
});

describe("testnet connections (issue 18)", () => {
  it("are never counted: not in the holdings by asset, listed as left out of the total", () => {
    const play = { ...conn("Play", "9000", [["BTC", "0.1", "9000"]]), testnet: true };
    const real = conn("Real", "100", [["USDT", "100", "100"]]);
    const portfolio: Portfolio = { quote: "USDT", as_of: "2026-12-02T08:00:00Z", total: "100", connections: [real, play], testnet_total: "9000" };
    expect(isCounted(play)).toBe(false);
    expect(isCounted(real)).toBe(true);
    expect(holdingsByAsset(portfolio).map((h) => [h.asset, h.amount, h.share])).toEqual([["USDT", "100", 1]]);
  });
});
