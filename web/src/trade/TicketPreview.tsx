// "Your order": what the ticket will send, valued against the book, with its fee estimate and the
// exchange's rules it breaks, and whether it is reduce only, before anything is sent.
import type { TicketInfo } from "../api/types";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { formatDecimal } from "../lib/decimal";
import { plain } from "./decimal";
import { percent, type Preview, type TicketInput } from "./preview";
import { ReduceOnlyTag } from "./ReduceOnlyTag";

export function TicketPreview({ preview, input, ticket }: { preview: Preview; input: TicketInput; ticket: TicketInfo }) {
  const { t, locale } = useI18n();
  const num = (value: string, digits = 8) => formatDecimal(plain(value), locale, digits);
  const params = {
    base: ticket.base,
    quote: ticket.quote,
    minNotional: ticket.min_notional ? num(ticket.min_notional, 12) : "—",
    minAmount: ticket.min_amount ? num(ticket.min_amount, 12) : "—",
    amountStep: ticket.amount_step ? num(ticket.amount_step, 12) : "—",
    priceStep: ticket.price_step ? num(ticket.price_step, 12) : "—",
  };
  return (
    <div className="preview" data-testid="trade-preview">
      <p className="subheading">
        <strong>{t("trade.preview.title")}</strong>
        {input.reduceOnly ? <ReduceOnlyTag testId="trade-preview-reduce-only" /> : null}
      </p>
      {preview.base !== null ? (
        <p data-testid="trade-preview-amount" data-value={preview.base}>
          {input.unit === "quote"
            ? t("trade.preview.converted", { amount: num(preview.base, 12), base: ticket.base })
            : t(`trade.preview.${input.side}` as MessageKey, { amount: num(preview.base, 12), base: ticket.base })}
        </p>
      ) : null}
      {preview.notional !== null && preview.valuePrice !== null ? (
        <p data-testid="trade-preview-value" data-value={preview.notional}>
          {t(input.type === "limit" ? "trade.preview.valueLimit" : "trade.preview.valueMarket", {
            value: num(preview.notional, 8),
            quote: ticket.quote,
            price: num(preview.valuePrice, 8),
          })}
        </p>
      ) : null}
      {preview.fee !== null ? (
        <p data-testid="trade-preview-fee" data-value={preview.fee}>
          {t(preview.taker ? "trade.preview.feeTaker" : "trade.preview.feeMaker", {
            fee: num(preview.fee, 8),
            quote: ticket.quote,
            rate: num(percent(preview.feeRate), 8),
          })}
        </p>
      ) : null}
      {preview.base === null && preview.problems.length === 0 ? <p className="muted">{t("trade.preview.empty")}</p> : null}
      {/* Only the rules an order breaks are announced as they change, not every figure at each keystroke. */}
      <div aria-live="polite">
        {preview.problems.length > 0 ? (
          <ul className="problems">
            {preview.problems.map((problem) => (
              <li key={problem} data-testid="trade-problem" data-problem={problem}>
                {t(`trade.problem.${problem}` as MessageKey, params)}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
