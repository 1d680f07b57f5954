// The backtests API (services/backtest/jobs.py behind /api/v1/backtests and /api/v1/sweeps).
import { API_BASE, request } from "../api/client";

export type JobStatus = "queued" | "running" | "done" | "failed";
export type Objective = "sharpe" | "return" | "calmar";

export interface RiskPreset {
  name: string;
  summary: string;
  max_leverage: string;
  values: Record<string, string>;
}

export interface StoredSeries {
  exchange: string;
  pair: string;
  timeframe: string;
  first: string | null;
  last: string | null;
  rows: number;
  gaps: number;
}

export interface Presets {
  strategies: Record<string, Record<string, string>>;
  risk: RiskPreset[];
  fills: string[];
  objectives: Objective[];
  max_sweep_settings: number;
  stored: StoredSeries[];
}

/** The `backtest run --json` object (DESIGN.md), plus the equity curve the page draws. */
export interface RunResult {
  strategy: string;
  fills: string;
  candles: number;
  from: string;
  to: string;
  trades: number;
  wins: number;
  losses: number;
  groups: number;
  addons_max: number;
  profit: number;
  profit_pct: number;
  fees: number;
  max_drawdown_pct: number;
  max_margin_used: number;
  recovery_time_pct: number;
  sharpe: number | null;
  equity?: [number, number][];
}

export interface SweepRow extends RunResult {
  settings: Record<string, string>;
}

export interface SweepResult {
  results: SweepRow[];
  failed: { settings: Record<string, string>; error: string }[];
  objective: Objective;
  backend: string;
}

export interface Job<R> {
  id: string;
  kind: "backtest" | "sweep";
  status: JobStatus;
  progress: number;
  done: number;
  total: number;
  strategy: string;
  settings: Record<string, string>;
  grid: string[];
  objective: Objective | null;
  result: R | null;
  error: string | null;
  error_field: string | null;
}

export interface JobInput {
  strategy: string;
  settings: Record<string, string>;
  data: { csv: string; timeframe?: string } | { exchange: string; pair: string; timeframe: string };
  fills: string;
  risk?: string;
}

export const backtestsApi = {
  presets: () => request<Presets>("/backtests/presets"),
  startBacktest: (body: JobInput) => request<Job<RunResult>>("/backtests", { method: "POST", body }),
  backtest: (id: string) => request<Job<RunResult>>(`/backtests/${encodeURIComponent(id)}`),
  startSweep: (body: JobInput & { grid: string[]; objective: Objective }) =>
    request<Job<SweepResult>>("/sweeps", { method: "POST", body }),
  sweep: (id: string) => request<Job<SweepResult>>(`/sweeps/${encodeURIComponent(id)}`),
  reportUrl: (id: string) => `${API_BASE}/backtests/${encodeURIComponent(id)}/report`,
};
