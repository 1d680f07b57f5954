// A refused order in plain words. The server refuses with 422 and the code `order_refused.<reason>`
// (the guard's reason; nothing reached the exchange); its English message carries the figures and is
// shown beside the translated sentence, which takes its figures from the ticket.
import { ApiError } from "../api/client";
import type { TicketInfo } from "../api/types";
import type { MessageKey } from "../i18n/catalogue";
import type { Translate } from "../i18n/server";
import { plain } from "./decimal";

export const REFUSAL_REASONS = [
  "connection_not_online",
  "withdraw_enabled",
  "permissions_unverified",
  "pair_not_allowed",
  "no_price",
  "over_order_cap",
  "over_margin_limit",
  "precision",
  "min_amount",
  "min_notional",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const PREFIX = "order_refused.";

/** The guard's reason when `error` is an order refusal ("other" for a reason this build does not know). */
export function refusalReason(error: unknown): RefusalReason | "other" | null {
  if (!(error instanceof ApiError) || !error.code.startsWith(PREFIX)) return null;
  const reason = error.code.slice(PREFIX.length);
  return (REFUSAL_REASONS as readonly string[]).includes(reason) ? (reason as RefusalReason) : "other";
}

/** The refusal as a sentence in the user's language, with the ticket's figures (shown by `number`) where it has them. */
export function refusalText(
  t: Translate,
  reason: RefusalReason | "other",
  pair: string,
  exchange: string,
  ticket: TicketInfo | null,
  number: (value: string) => string = plain,
): string {
  const shown = (value: string | null | undefined) => (value ? number(plain(value)) : "—");
  const ofPair = ticket && ticket.pair === pair ? ticket : null;
  return t(`trade.refused.${reason}` as MessageKey, {
    pair,
    exchange,
    base: ofPair?.base ?? "",
    quote: ofPair?.quote ?? "",
    minNotional: shown(ofPair?.min_notional),
    minAmount: shown(ofPair?.min_amount),
    amountStep: shown(ofPair?.amount_step),
    priceStep: shown(ofPair?.price_step),
  });
}
