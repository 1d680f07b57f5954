import { describe, expect, it } from "vitest";
import type { SweepRow } from "./api";
import { cellColour, gridKeys, heatmap, metricOf, parseGrid, parseSettings } from "./model";

function row(settings: Record<string, string>, profit: number, drawdown = 2, sharpe: number | null = 1): SweepRow {
  return {
    settings, strategy: "dca", fills: "ours", candles: 10, from: "", to: "", trades: 1, wins: 1, losses: 0,
    groups: 1, addons_max: 0, profit, profit_pct: profit, fees: 0, max_drawdown_pct: drawdown,
    max_margin_used: 0, recovery_time_pct: 0, sharpe,
  };
}

describe("settings text", () => {
  it("reads KEY=VALUE lines and names the first bad line", () => {
    expect(parseSettings("base_order=100\n\n# note\n take_profit_pct = 1 ")).toEqual({
      ok: true,
      value: { base_order: "100", take_profit_pct: "1" },
    });
    expect(parseSettings("base_order=100\nnonsense")).toEqual({ ok: false, line: 2 });
    expect(parseSettings("=1")).toEqual({ ok: false, line: 1 });
  });

  it("reads grid axes and their keys", () => {
    const grid = parseGrid("take_profit_pct=0.5,1\naddon_deviation_pct = 1..3:1\n");
    expect(grid).toEqual({ ok: true, value: ["take_profit_pct=0.5,1", "addon_deviation_pct=1..3:1"] });
    expect(gridKeys(grid.ok ? grid.value : [])).toEqual(["take_profit_pct", "addon_deviation_pct"]);
    expect(parseGrid("0.5,1")).toEqual({ ok: false, line: 1 });
  });
});

describe("heatmap", () => {
  it("keeps the best value per cell and sorts axes numerically", () => {
    const rows = [
      row({ tp: "10", dev: "1", vol: "1" }, 1),
      row({ tp: "10", dev: "1", vol: "2" }, 3),
      row({ tp: "2", dev: "1", vol: "1" }, -1),
      row({ tp: "2", dev: "0.5", vol: "1" }, 2),
    ];
    const map = heatmap(rows, "tp", "dev", "return");
    expect(map.xs).toEqual(["2", "10"]);
    expect(map.ys).toEqual(["0.5", "1"]);
    expect(map.cells.get("10|1")).toBe(3);
    expect(map.cells.size).toBe(3);
    expect([map.low, map.high]).toEqual([-1, 3]);
  });

  it("ranks like the server: Sharpe may be missing, Calmar is return over drawdown", () => {
    expect(metricOf(row({}, 4, 2, null), "sharpe")).toBeNaN();
    expect(metricOf(row({}, 4, 2), "calmar")).toBe(2);
    expect(metricOf(row({}, 4, 0), "calmar")).toBe(Number.POSITIVE_INFINITY);
    expect(heatmap([row({ a: "1", b: "1" }, 1, 1, null)], "a", "b", "sharpe").cells.size).toBe(0);
  });

  it("colours the worst red and the best green", () => {
    expect(cellColour(0)).toBe("rgb(220, 38, 38)");
    expect(cellColour(1)).toBe("rgb(22, 163, 74)");
    expect(cellColour(0.5)).toBe("rgb(254, 240, 138)");
  });
});
