// Pure logic of the bots pages: chart bars, markers and price lines, money formatting, the form's
// settings and the hash routes under #/bots. No React, no fetch: vitest covers it.
import type { Bot, BotFill, Candle, MarkerKind, PairState } from "./api";

// -- money ----------------------------------------------------------------------------------------------

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** A decimal string rounded half away from zero to `digits` places, exactly (no float); null if not a number. */
export function roundText(text: string, digits = 2): string | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const [, sign = "", whole = "", fraction = ""] = match;
  if (whole === "" && fraction === "") return null;
  const padded = (fraction + "0".repeat(digits + 1)).slice(0, digits + 1);
  let units = BigInt((whole || "0") + padded.slice(0, digits));
  if (Number(padded[digits] ?? "0") >= 5) units += 1n;
  let body = units.toString().padStart(digits + 1, "0");
  body = digits > 0 ? `${body.slice(0, -digits)}.${body.slice(-digits)}` : body;
  const zero = units === 0n;
  return sign === "-" && !zero ? `-${body}` : body;
}

export type Tone = "gain" | "loss" | "flat";

/** A P&L figure for people: "+12.35", "-0.40" or "0.00", with its tone for colour (never colour alone). */
export function formatPnl(text: string | null | undefined, digits = 2): { text: string; tone: Tone } {
  const rounded = text == null ? null : roundText(text, digits);
  if (rounded === null) return { text: "—", tone: "flat" };
  if (/^0\.?0*$/.test(rounded)) return { text: rounded, tone: "flat" };
  if (rounded.startsWith("-")) return { text: rounded, tone: "loss" };
  return { text: `+${rounded}`, tone: "gain" };
}

/** An amount for display: rounded to `digits`, "—" when missing. */
export function formatAmount(text: string | null | undefined, digits = 2): string {
  return (text == null ? null : roundText(text, digits)) ?? "—";
}

/** Realised plus unrealised, exactly. */
export function totalPnl(bot: Pick<Bot, "realized_pnl" | "unrealized_pnl">): string {
  return addDecimals(bot.realized_pnl, bot.unrealized_pnl);
}

function toUnits(text: string, scale: number): bigint {
  const match = DECIMAL.exec(text.trim());
  if (!match) return 0n;
  const [, sign = "", whole = "", fraction = ""] = match;
  const units = BigInt((whole || "0") + (fraction + "0".repeat(scale)).slice(0, scale));
  return sign === "-" ? -units : units;
}

/** a + b for decimal strings, exact. */
export function addDecimals(a: string, b: string): string {
  const scale = Math.max((a.split(".")[1] ?? "").length, (b.split(".")[1] ?? "").length);
  const sum = toUnits(a, scale) + toUnits(b, scale);
  const negative = sum < 0n;
  const body = (negative ? -sum : sum).toString().padStart(scale + 1, "0");
  const text = scale > 0 ? `${body.slice(0, -scale)}.${body.slice(-scale)}` : body;
  return negative ? `-${text}` : text;
}

// -- chart ----------------------------------------------------------------------------------------------

export interface Bar {
  time: number; // seconds, UTC (lightweight-charts' UTCTimestamp)
  open: number;
  high: number;
  low: number;
  close: number;
}

/** Candles as chart bars, oldest first, dropping incomplete rows and repeated times. */
export function barsOf(candles: readonly Candle[]): Bar[] {
  const bars: Bar[] = [];
  for (const [ms, open, high, low, close] of candles) {
    const values = [open, high, low, close].map((v) => (v == null ? NaN : Number(v)));
    if (values.some((v) => !Number.isFinite(v))) continue;
    const time = Math.floor(ms / 1000);
    if (bars.length > 0 && time <= (bars[bars.length - 1]?.time ?? 0)) continue;
    bars.push({ time, open: values[0]!, high: values[1]!, low: values[2]!, close: values[3]! });
  }
  return bars;
}

export interface ChartMarker {
  time: number;
  position: "belowBar" | "aboveBar";
  shape: "arrowUp" | "arrowDown" | "circle";
  color: string;
  text: string;
  kind: MarkerKind;
}

export const MARKER_COLORS: Record<MarkerKind, string> = { entry: "#1a7f37", addon: "#9a6700", exit: "#cf222e" };

const TIMEFRAME_S: Record<string, number> = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400 };

export function timeframeSeconds(timeframe: string): number {
  return TIMEFRAME_S[timeframe] ?? 60;
}

/**
 * One marker per fill of `pair`, on the bar it happened in (markers must sit on a bar's time, sorted);
 * fills before the first bar are left out, fills after the last bar go on the last (still forming) one.
 * `labels` gives each kind's short text (translated).
 */
export function buildMarkers(
  fills: readonly BotFill[],
  bars: readonly Bar[],
  timeframe: string,
  pair: string,
  labels: Record<MarkerKind, string>,
): ChartMarker[] {
  if (bars.length === 0) return [];
  const frame = timeframeSeconds(timeframe);
  const first = bars[0]!.time;
  const last = bars[bars.length - 1]!.time;
  const markers: ChartMarker[] = [];
  for (const fill of fills) {
    if (fill.symbol !== pair) continue;
    const seconds = Math.floor(fill.ts_ms / 1000);
    let time = seconds - (((seconds - first) % frame) + frame) % frame;
    if (time < first) continue;
    if (time > last) time = last;
    const buy = fill.side === "buy";
    markers.push({
      time,
      position: buy ? "belowBar" : "aboveBar",
      shape: fill.kind === "addon" ? "circle" : buy ? "arrowUp" : "arrowDown",
      color: MARKER_COLORS[fill.kind],
      text: labels[fill.kind],
      kind: fill.kind,
    });
  }
  return markers.sort((a, b) => a.time - b.time);
}

export interface PriceLine {
  price: number;
  kind: "average" | "high" | "low";
}

/** The horizontal lines of a pair: its average entry price and the strategy's next triggers (take profit,
 *  next add-on, grid bounds), each once. */
export function priceLines(state: Partial<PairState> | undefined): PriceLine[] {
  if (!state) return [];
  const lines: PriceLine[] = [];
  const add = (text: string | null | undefined, kind: PriceLine["kind"]) => {
    const price = text == null ? NaN : Number(text);
    if (Number.isFinite(price) && price > 0 && !lines.some((l) => l.price === price)) lines.push({ price, kind });
  };
  add(state.average_price, "average");
  add(state.triggers?.high, "high");
  add(state.triggers?.low, "low");
  return lines;
}

// -- the form -------------------------------------------------------------------------------------------

/** Every `--set` key of each strategy (DESIGN.md), in the order the form shows them. */
export const SETTING_KEYS: Record<string, readonly string[]> = {
  dca: [
    "base_order", "addon_order", "addon_count", "addon_deviation_pct", "addon_step_scale", "addon_volume_scale",
    "addon_min_improvement_pct", "take_profit_pct", "trailing_pct", "stop_loss_pct", "stop_loss_from", "entry",
    "cooldown_s", "side", "leverage", "recovery_drawdown_pct", "recovery_margin_pct", "recovery_exit_pct",
    "deep_zone_from_pct",
  ],
  grid: ["lower", "upper", "levels", "spacing", "order_amount", "trailing"],
};

/** The keys shown up front (the amounts a user must decide); the rest are in the advanced section. */
export const ESSENTIAL_KEYS: Record<string, readonly string[]> = {
  dca: ["base_order", "addon_order"],
  grid: ["lower", "upper", "levels", "order_amount"],
};

/** The settings to send: every non-blank value, trimmed (blank means "the preset's or the default"). */
export function settingsToSend(values: Record<string, string>, strategy: string): Record<string, string> {
  const keys = SETTING_KEYS[strategy] ?? [];
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = (values[key] ?? "").trim();
    if (value !== "") out[key] = value;
  }
  return out;
}

/** "BTC/USDT, eth/usdt" → ["BTC/USDT", "ETH/USDT"] (upper case, blanks and repeats dropped). */
export function parsePairs(text: string): string[] {
  const pairs = text
    .split(/[\s,;]+/)
    .map((p) => p.trim().toUpperCase())
    .filter((p) => p !== "");
  return [...new Set(pairs)];
}

// -- routes under #/bots ----------------------------------------------------------------------------------

export type BotsView = { page: "list" } | { page: "new"; connection: string | null } | { page: "bot"; name: string };

/** "#/bots", "#/bots/new?connection=X", "#/bots/view/NAME" (NAME encoded). */
export function parseBotsHash(hash: string): BotsView {
  const path = hash.replace(/^#\/?/, "");
  const [route = "", query = ""] = path.split("?", 2);
  const parts = route.split("/");
  if (parts[0] !== "bots") return { page: "list" };
  if (parts[1] === "new") {
    const connection = new URLSearchParams(query).get("connection");
    return { page: "new", connection: connection && connection.trim() ? connection : null };
  }
  if (parts[1] === "view" && parts.length > 2) {
    try {
      const name = decodeURIComponent(parts.slice(2).join("/"));
      if (name) return { page: "bot", name };
    } catch {
      return { page: "list" };
    }
  }
  return { page: "list" };
}

export function botHref(name: string): string {
  return `#/bots/view/${encodeURIComponent(name)}`;
}

export function newBotHref(connection?: string): string {
  return connection ? `#/bots/new?connection=${encodeURIComponent(connection)}` : "#/bots/new";
}

/** Whether a bot may be started / stopped from the page. */
export function canStart(bot: Pick<Bot, "status">): boolean {
  return bot.status !== "running" && bot.status !== "paused";
}

/** The amount in the server's "may commit at most 812.5" (null when the message has none). */
export function commitFromMessage(message: string): string | null {
  return /at most (\d+(?:\.\d+)?)/.exec(message)?.[1] ?? null;
}

/** "BTC/USDT" → "USDT", "BTC/USDT:USDT" → "USDT"; null for anything else. */
export function quoteOf(pair: string): string | null {
  const quote = pair.split("/")[1]?.split(":")[0];
  return quote ? quote : null;
}

const EVENT_KINDS = new Set([
  "created", "started", "stopped", "paused", "resumed", "error", "group_opened", "group_closed", "addon", "take_profit",
  "trailing_armed", "stop_loss", "recovery_entered", "recovery_left", "refused", "grid_placed", "grid_trailed",
]);
const ORDER_STATUSES = new Set(["pending", "open", "closed", "canceled", "rejected", "expired", "unknown"]);

/** The message key of a history entry's kind, or null for one this dashboard does not know (shown as is). */
export function eventKey(kind: string): `bots.event.${string}` | null {
  return EVENT_KINDS.has(kind) ? `bots.event.${kind}` : null;
}

/** The message key of an order status, or null for an unknown one. */
export function orderStatusKey(status: string): `bots.orderStatus.${string}` | null {
  return ORDER_STATUSES.has(status) ? `bots.orderStatus.${status}` : null;
}

/** The pairs on which the bot holds something, with that position: the bot's figures say so and its fills
 *  agree (a stopped bot's figures are not updated by the fills of a close at market, its fills are). */
export function heldPositions(
  states: Record<string, { position?: string }>,
  fills: readonly Pick<BotFill, "symbol" | "side" | "amount">[] = [],
): { pair: string; position: string }[] {
  const net = new Map<string, string>();
  for (const fill of fills) {
    const signed = fill.side === "sell" ? `-${fill.amount}` : fill.amount;
    net.set(fill.symbol, addDecimals(net.get(fill.symbol) ?? "0", signed.replace(/^--/, "")));
  }
  return Object.entries(states)
    .filter(([, s]) => typeof s.position === "string" && /[1-9]/.test(s.position))
    .filter(([pair]) => fills.length === 0 || /[1-9]/.test(net.get(pair) ?? "0"))
    .map(([pair, s]) => ({ pair, position: s.position as string }));
}
