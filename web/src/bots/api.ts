// The bots API (/api/v1/bots): read scope lists and shows, trade scope creates, starts, stops, removes.
import { request } from "../api/client";
import type { Order } from "../api/types";

export type BotMode = "paper" | "live";
export type MarkerKind = "entry" | "addon" | "exit";

export interface PairState {
  price: string | null;
  margin_used: string;
  addons_used: number;
  addons_max: number;
  recovery: boolean;
  position: string;
  average_price: string | null;
  realized_pnl: string;
  unrealized_pnl: string;
  fees: string;
  groups: number;
  triggers: { low: string | null; high: string | null; wake_ms: number | null };
  open_orders: number;
}

/** A bot as GET /bots lists it (decimals as strings). */
export interface Bot {
  id: string;
  name: string;
  connection: string;
  connection_testnet: boolean;
  strategy: string;
  pairs: string[];
  mode: BotMode;
  status: string;
  status_reason: string | null;
  risk: string | null;
  settings: Record<string, string>;
  margin_limit: string | null;
  max_commit: string;
  margin_used: string;
  margin_used_max: string;
  addons_used: number;
  recovery: boolean;
  recovery_active: boolean;
  realized_pnl: string;
  unrealized_pnl: string;
  fees: string;
  groups: number;
  pair_states: Record<string, Partial<PairState>>;
  updated_at: string;
}

export interface HistoryEntry {
  ts: string;
  market_ts_ms: number | null;
  kind: string;
  pair: string | null;
  reason: string;
}

export interface BotDetail extends Bot {
  history: HistoryEntry[];
}

export interface BotOrder extends Order {
  kind: MarkerKind;
}

export interface BotFill {
  ts: string;
  ts_ms: number;
  symbol: string;
  side: string;
  kind: MarkerKind;
  price: string;
  amount: string;
  fee: string;
  fee_currency: string | null;
  client_order_id: string;
  mode: string;
}

/** [ms, open, high, low, close, volume], prices as decimal strings. */
export type Candle = [number, string | null, string | null, string | null, string | null, string | null];

export interface Candles {
  pair: string;
  timeframe: string;
  candles: Candle[];
}

export interface BotCreate {
  name: string;
  connection: string;
  strategy: string;
  pairs: string[];
  mode: BotMode;
  risk?: string;
  margin_limit?: string;
  recovery?: boolean;
  settings: Record<string, string>;
  confirm?: boolean;
}

const enc = encodeURIComponent;

export const botsApi = {
  list: () => request<Bot[]>("/bots"),
  show: (name: string) => request<BotDetail>(`/bots/${enc(name)}`),
  create: (body: BotCreate) => request<Bot>("/bots", { method: "POST", body }),
  start: (name: string, confirm = false) => request<Bot>(`/bots/${enc(name)}/start`, { method: "POST", body: { confirm } }),
  stop: (name: string, cancelOrders: boolean) =>
    request<{ bot: Bot; canceled: Order[] }>(`/bots/${enc(name)}/stop`, { method: "POST", body: { cancel_orders: cancelOrders } }),
  closePosition: (name: string) =>
    request<{ orders: Order[] }>(`/bots/${enc(name)}/close-position`, { method: "POST", body: { confirm: true } }),
  remove: (name: string) => request<void>(`/bots/${enc(name)}`, { method: "DELETE" }),
  orders: (name: string) => request<BotOrder[]>(`/bots/${enc(name)}/orders`),
  fills: (name: string) => request<BotFill[]>(`/bots/${enc(name)}/fills`),
  candles: (name: string, timeframe = "1m", limit = 300) =>
    request<Candles>(`/bots/${enc(name)}/candles?timeframe=${enc(timeframe)}&limit=${limit}`),
};
