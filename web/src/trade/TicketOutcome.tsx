// What became of the last order the ticket sent: placed (with its status), refused by the guard (why,
// in plain words; nothing reached the exchange), or another error.
import type { Order, TicketInfo } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { formatDecimal } from "../lib/decimal";
import { plain } from "./decimal";
import { modeLabel, sideLabel, statusLabel } from "./labels";
import { refusalText, type RefusalReason } from "./refusal";

export type Outcome =
  | { kind: "placed"; order: Order }
  | { kind: "refused"; reason: RefusalReason | "other"; message: string; pair: string }
  | { kind: "error"; text: string };

export interface TicketOutcomeProps {
  outcome: Outcome;
  exchange: string;
  testnet: boolean;
  ticket: TicketInfo | null;
}

export function TicketOutcome({ outcome, exchange, testnet, ticket }: TicketOutcomeProps) {
  const { t, locale } = useI18n();
  if (outcome.kind === "placed") {
    const { order } = outcome;
    return (
      <p className="placed" role="status" data-testid="trade-placed" data-order-id={order.id} data-status={order.status} data-mode={order.mode}>
        {t("trade.placed", {
          mode: modeLabel(t, order.mode, testnet),
          side: sideLabel(t, order.side),
          amount: formatDecimal(plain(order.amount), locale, 12),
          pair: order.symbol,
          status: statusLabel(t, order.status),
        })}
      </p>
    );
  }
  if (outcome.kind === "refused") {
    return (
      <div className="refusal" role="alert" data-testid="trade-refusal" data-reason={outcome.reason}>
        <p>
          <strong>{t("trade.refused.title")}</strong>
        </p>
        <p data-testid="trade-refusal-reason">{refusalText(t, outcome.reason, outcome.pair, exchange, ticket, (v) => formatDecimal(v, locale, 12))}</p>
        <p className="refusal-detail" data-testid="trade-refusal-detail">
          {t("trade.refused.detail", { message: outcome.message })}
        </p>
      </div>
    );
  }
  return (
    <p className="error-text" role="alert" data-testid="trade-error">
      {outcome.text}
    </p>
  );
}
