// Figures of a bot in the user's language: P&L with its sign and tone, amounts grouped. Pure.
import { formatDecimal } from "../lib/decimal";
import { formatAmount, formatPnl, type Tone } from "./model";

/** "+1,234.50" / "-0.40" in the locale's separators, and the tone (gain, loss, flat). */
export function pnlDisplay(text: string | null | undefined, locale: string): { text: string; tone: Tone } {
  const pnl = formatPnl(text);
  if (pnl.text === "—") return pnl;
  const sign = pnl.text.startsWith("-") ? "-" : pnl.text.startsWith("+") ? "+" : "";
  const body = formatDecimal(pnl.text.replace(/^[+-]/, ""), locale, 2);
  return { text: sign + body, tone: pnl.tone };
}

/** An amount in the locale's separators, rounded to `digits`. */
export function amountDisplay(text: string | null | undefined, locale: string, digits = 2): string {
  const rounded = formatAmount(text, digits);
  return rounded === "—" ? rounded : formatDecimal(rounded, locale, digits);
}

/** A price: up to 8 decimals, never rounded up (formatDecimal truncates). */
export function priceDisplay(text: string | null | undefined, locale: string): string {
  return text == null ? "—" : formatDecimal(text, locale, 8);
}
