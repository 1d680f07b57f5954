// Pure helpers of the Backtests page: the settings text, the sweep's metric and its heatmap cells.
import type { Objective, RunResult, SweepRow } from "./api";

export type Parsed<T> = { ok: true; value: T } | { ok: false; line: number };

/** "KEY=VALUE" lines (blank lines and # comments skipped) as a settings object. */
export function parseSettings(text: string): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (eq <= 0 || !/^[a-z_]+$/.test(key) || !value) return { ok: false, line: i + 1 };
    out[key] = value;
  }
  return { ok: true, value: out };
}

/** Grid axes, one "KEY=..." per line (the server checks the values). */
export function parseGrid(text: string): Parsed<string[]> {
  const axes: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (!line) continue;
    if (!/^[a-z_]+\s*=\s*\S/.test(line)) return { ok: false, line: i + 1 };
    axes.push(line.replace(/\s+/g, ""));
  }
  return { ok: true, value: axes };
}

/** The settings object as lines, for the form. */
export function settingsText(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}

/** The keys a grid varies, in order. */
export function gridKeys(grid: readonly string[]): string[] {
  return grid.map((axis) => axis.split("=")[0]?.trim() ?? "").filter(Boolean);
}

/** The objective's figure of a run (higher is better), as the server ranks: NaN when it has none. */
export function metricOf(run: RunResult, objective: Objective): number {
  if (objective === "sharpe") return run.sharpe ?? Number.NaN;
  if (objective === "return") return run.profit_pct;
  const drawdown = run.max_drawdown_pct;
  if (drawdown > 0) return run.profit_pct / drawdown;
  return run.profit_pct > 0 ? Number.POSITIVE_INFINITY : run.profit_pct;
}

function byValue(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a.localeCompare(b);
}

export interface Heatmap {
  xs: string[];
  ys: string[];
  /** best metric per "x|y" cell */
  cells: Map<string, number>;
  low: number;
  high: number;
}

/** The best metric per (x, y) pair over the other swept settings; finite values only. */
export function heatmap(rows: readonly SweepRow[], xKey: string, yKey: string, objective: Objective): Heatmap {
  const cells = new Map<string, number>();
  const xs = new Set<string>();
  const ys = new Set<string>();
  for (const row of rows) {
    const x = row.settings[xKey];
    const y = row.settings[yKey];
    const value = metricOf(row, objective);
    if (x === undefined || y === undefined || !Number.isFinite(value)) continue;
    xs.add(x);
    ys.add(y);
    const key = `${x}|${y}`;
    const held = cells.get(key);
    if (held === undefined || value > held) cells.set(key, value);
  }
  const values = [...cells.values()];
  return {
    xs: [...xs].sort(byValue),
    ys: [...ys].sort(byValue),
    cells,
    low: values.length ? Math.min(...values) : 0,
    high: values.length ? Math.max(...values) : 0,
  };
}

/** Red (worst) through pale yellow to green (best), t in [0, 1]. */
export function cellColour(t: number): string {
  const stops: [number, [number, number, number]][] = [
    [0, [220, 38, 38]],
    [0.5, [254, 240, 138]],
    [1, [22, 163, 74]],
  ];
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 1));
  for (let i = 1; i < stops.length; i++) {
    const [t1, c1] = stops[i]!;
    const [t0, c0] = stops[i - 1]!;
    if (clamped <= t1) {
      const f = (clamped - t0) / (t1 - t0);
      const rgb = c0.map((a, j) => Math.round(a + ((c1[j] ?? a) - a) * f));
      return `rgb(${rgb.join(", ")})`;
    }
  }
  return "rgb(22, 163, 74)";
}
