// The market's figures an order ticket shows before sending: the book's best bid and ask, the fee
// rates, and the exchange's minimums and steps, with what they mean in one sentence.
import type { TicketInfo } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { formatDecimal } from "../lib/decimal";
import { plain } from "./decimal";
import { percent } from "./preview";

export interface TicketRulesProps {
  ticket: TicketInfo;
  /** The exchange's display name (the ticket carries its id). */
  exchange: string;
  busy: boolean;
  onRefresh: () => void;
}

export function TicketRules({ ticket, exchange, busy, onRefresh }: TicketRulesProps) {
  const { t, locale } = useI18n();
  const num = (value: string | null, unit: string) =>
    value === null ? t("trade.rules.none") : `${formatDecimal(plain(value), locale, 12)} ${unit}`;
  const rate = (fee: string) => formatDecimal(percent(fee), locale, 8);
  return (
    <section className="rules" aria-label={t("trade.rules.title", { pair: ticket.pair })} data-testid="trade-rules">
      <dl className="facts">
        <div>
          <dt>{t("trade.bid")}</dt>
          <dd data-testid="trade-bid" data-value={ticket.bid ?? ""}>
            {num(ticket.bid, ticket.quote)}
          </dd>
        </div>
        <div>
          <dt>{t("trade.ask")}</dt>
          <dd data-testid="trade-ask" data-value={ticket.ask ?? ""}>
            {num(ticket.ask, ticket.quote)}
          </dd>
        </div>
        <div>
          <dt>{t("trade.fees")}</dt>
          <dd data-testid="trade-fees">
            {t("trade.fees.value", { maker: rate(ticket.maker_fee), taker: rate(ticket.taker_fee) })}
          </dd>
        </div>
        <div>
          <dt>{t("trade.minNotional")}</dt>
          <dd data-testid="trade-min-notional" data-value={ticket.min_notional ?? ""}>
            {num(ticket.min_notional, ticket.quote)}
          </dd>
        </div>
        <div>
          <dt>{t("trade.minAmount")}</dt>
          <dd data-testid="trade-min-amount">{num(ticket.min_amount, ticket.base)}</dd>
        </div>
        <div>
          <dt>{t("trade.steps")}</dt>
          <dd data-testid="trade-steps">
            {t("trade.steps.value", {
              amount: num(ticket.amount_step, ticket.base),
              price: num(ticket.price_step, ticket.quote),
            })}
          </dd>
        </div>
      </dl>
      <p className="field-hint" data-testid="trade-rules-explained">
        {t("trade.rules.explained", {
          exchange,
          minNotional: num(ticket.min_notional, ticket.quote),
          amountStep: num(ticket.amount_step, ticket.base),
          priceStep: num(ticket.price_step, ticket.quote),
        })}
      </p>
      <button
        type="button"
        className="button button-small"
        onClick={busy ? undefined : onRefresh}
        aria-disabled={busy || undefined}
        aria-busy={busy || undefined}
        data-testid="trade-refresh-prices"
      >
        {t("trade.refreshPrices")}
      </button>
    </section>
  );
}
