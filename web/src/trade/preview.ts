// What an order will be before it is sent: the base amount (a quote amount converted as the server
// does), the price it is valued at, its value, the fee estimate, and which of the exchange's rules it
// breaks, in the order the server's guard checks them. Pure. The server's guard stays the authority:
// these are explanations, and a ticket whose figures are stale is still checked there.
import type { OrderSide, OrderType, TicketInfo } from "../api/types";
import { type Dec, add, cmp, div, floorToStep, isZero, mul, onStep, parseDec, toText } from "./decimal";

export type AmountUnit = "base" | "quote";

export interface TicketInput {
  side: OrderSide;
  type: OrderType;
  /** As typed: "0.001" or "0,001". */
  amount: string;
  unit: AmountUnit;
  /** As typed; used for limit orders only. */
  price: string;
  /** Reduce only (contract markets): the order may only shrink the open position. */
  reduceOnly?: boolean;
}

/** Whether a ccxt unified symbol names a contract market (perpetual or future): "BTC/USDT:USDT" has a
 * settle currency after the colon; a spot pair ("BTC/USDT") has none. */
export function isContract(pair: string): boolean {
  const [market, settle] = pair.trim().split(":");
  return Boolean(market?.includes("/") && settle && settle.trim() !== "");
}

export type InputProblem = "required" | "invalid" | "not_positive";

/** A rule the order breaks, as the server's guard names it (its refusal reason codes). */
export type RuleProblem = "no_price" | "zero_after_rounding" | "amount_step" | "min_amount" | "price_step" | "min_notional";

export interface Preview {
  amountProblem: InputProblem | null;
  priceProblem: InputProblem | null;
  /** The base amount the server will send (a quote amount converted and floored to the amount step). */
  base: string | null;
  /** The price the order is valued at: the limit price, else the middle of the book (as the guard does). */
  valuePrice: string | null;
  /** amount × value price, in the quote currency. */
  notional: string | null;
  /** Whether the order takes liquidity (market, or a limit that crosses the book): the taker rate applies. */
  taker: boolean;
  feeRate: string;
  /** notional × fee rate, in the quote currency. */
  fee: string | null;
  problems: RuleProblem[];
}

/** A number as a user types it: spaces ignored, a decimal comma accepted ("0,5"); positive only. */
export function readNumber(text: string): { value: Dec | null; problem: InputProblem | null } {
  const compact = text.replace(/[\s\u00a0\u202f]/g, "");
  if (compact === "") return { value: null, problem: "required" };
  const normal = compact.includes(",") && !compact.includes(".") ? compact.replace(",", ".") : compact;
  if (!/^\d*\.?\d*$/.test(normal)) return { value: null, problem: "invalid" };
  const value = parseDec(normal);
  if (value === null) return { value: null, problem: "invalid" };
  if (value.units <= 0n) return { value: null, problem: "not_positive" };
  return { value, problem: null };
}

/** The number as the API takes it ("0,5" → "0.5"), or null when it is not a positive number. */
export function apiNumber(text: string): string | null {
  const { value } = readNumber(text);
  return value ? toText(value) : null;
}

function dec(text: string | null): Dec | null {
  return text === null ? null : parseDec(text);
}

function middle(bid: Dec | null, ask: Dec | null): Dec | null {
  if (bid && ask) return div(add(bid, ask), { units: 2n, scale: 0 });
  return bid ?? ask;
}

function crosses(side: OrderSide, price: Dec, bid: Dec | null, ask: Dec | null): boolean {
  if (side === "buy") return ask !== null && cmp(price, ask) >= 0;
  return bid !== null && cmp(price, bid) <= 0;
}

/** The order the ticket describes, valued against the book, with the rules it would break. */
export function preview(input: TicketInput, info: TicketInfo): Preview {
  const bid = dec(info.bid);
  const ask = dec(info.ask);
  const amount = readNumber(input.amount);
  const limit = input.type === "limit" ? readNumber(input.price) : { value: null, problem: null };
  const price = limit.value;
  const taker = input.type === "market" || (price !== null && crosses(input.side, price, bid, ask));
  const feeRate = taker ? info.taker_fee : info.maker_fee;
  const out: Preview = {
    amountProblem: amount.problem,
    priceProblem: limit.problem,
    base: null,
    valuePrice: null,
    notional: null,
    taker,
    feeRate,
    fee: null,
    problems: [],
  };
  const valuePrice = price ?? middle(bid, ask);
  if (valuePrice) out.valuePrice = toText(valuePrice);
  if (!amount.value || limit.problem) return out;

  const step = dec(info.amount_step);
  let base = amount.value;
  if (input.unit === "quote") {
    // As the server converts: at the limit price, else the side's best price; floored to the amount step.
    const at = price ?? (input.side === "buy" ? ask : bid);
    if (!at || isZero(at)) {
      out.problems.push("no_price");
      return out;
    }
    base = div(amount.value, at);
    if (step && !isZero(step)) base = floorToStep(base, step);
  }
  out.base = toText(base);
  if (isZero(base)) {
    out.problems.push("zero_after_rounding");
    return out;
  }
  if (step && !isZero(step) && !onStep(base, step)) out.problems.push("amount_step");
  const minAmount = dec(info.min_amount);
  if (minAmount && cmp(base, minAmount) < 0) out.problems.push("min_amount");
  const tick = dec(info.price_step);
  if (price && tick && !isZero(tick) && !onStep(price, tick)) out.problems.push("price_step");
  if (!valuePrice) {
    out.problems.push("no_price");
    return out;
  }
  const notional = mul(base, valuePrice);
  out.notional = toText(notional);
  const rate = parseDec(feeRate);
  if (rate) out.fee = toText(mul(notional, rate));
  const minNotional = dec(info.min_notional);
  if (minNotional && cmp(notional, minNotional) < 0) out.problems.push("min_notional");
  return out;
}

/** A fee rate as a percentage for display: "0.001" → "0.1". */
export function percent(rate: string): string {
  const value = parseDec(rate);
  return value ? toText(mul(value, { units: 100n, scale: 0 })) : rate;
}
