// A connection's orders (manual and bots', paper and live), newest first: one table of those still open,
// each with Cancel, and one of the most recent with what filled, at what average price and fee, and when
// each was placed.
import type { Order } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { formatDecimal } from "../lib/decimal";
import { plain } from "./decimal";
import { modeLabel, sideLabel, statusLabel, typeLabel } from "./labels";
import { ReduceOnlyTag } from "./ReduceOnlyTag";

export interface OrdersTableProps {
  orders: Order[];
  testnet: boolean;
  /** Open orders get a Cancel button; the id of the one being canceled shows busy. */
  onCancel?: (order: Order) => void;
  canceling?: string | null;
  caption: string;
  testId: string;
}

export function OrdersTable({ orders, testnet, onCancel, canceling, caption, testId }: OrdersTableProps) {
  const { t, locale, dateTime } = useI18n();
  const num = (value: string | null) => (value === null ? "—" : formatDecimal(plain(value), locale, 12));
  const col = {
    side: t("trade.col.side"),
    type: t("trade.col.type"),
    amount: t("trade.col.amount"),
    price: t("trade.col.price"),
    filled: t("trade.col.filled"),
    average: t("trade.col.average"),
    fee: t("trade.col.fee"),
    status: t("trade.col.status"),
    mode: t("trade.col.mode"),
    time: t("trade.col.time"),
  };
  return (
    <div className="table-scroll">
      <table className="table responsive-table" data-testid={testId}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t("trade.col.pair")}</th>
            <th scope="col">{col.side}</th>
            <th scope="col">{col.type}</th>
            <th scope="col" className="num">{col.amount}</th>
            <th scope="col" className="num">{col.price}</th>
            <th scope="col" className="num">{col.filled}</th>
            <th scope="col" className="num">{col.average}</th>
            <th scope="col" className="num">{col.fee}</th>
            <th scope="col">{col.status}</th>
            <th scope="col">{col.mode}</th>
            <th scope="col">{col.time}</th>
            {onCancel ? <th scope="col"><span className="visually-hidden">{t("trade.col.actions")}</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {orders.map((order) => (
            <tr key={order.id} data-testid="trade-order-row" data-order-id={order.id} data-status={order.status} data-mode={order.mode} data-type={order.type} data-side={order.side} data-reduce-only={String(order.reduce_only)}>
              <th scope="row">{order.symbol}</th>
              <td data-label={col.side}>
                {sideLabel(t, order.side)}
                {order.reduce_only ? <ReduceOnlyTag testId="trade-order-reduce-only" /> : null}
              </td>
              <td data-label={col.type}>{typeLabel(t, order.type)}</td>
              <td className="num" data-label={col.amount}>{num(order.amount)}</td>
              <td className="num" data-label={col.price}>{order.type === "market" ? t("trade.type.market") : num(order.price)}</td>
              <td className="num" data-label={col.filled} data-testid="trade-order-filled" data-value={order.filled}>{num(order.filled)}</td>
              <td className="num" data-label={col.average}>{num(order.average)}</td>
              <td className="num" data-label={col.fee}>{num(order.fee)}</td>
              <td data-label={col.status} data-testid="trade-order-status">{statusLabel(t, order.status)}</td>
              <td data-label={col.mode}>{modeLabel(t, order.mode, testnet)}</td>
              <td data-label={col.time} data-testid="trade-order-time">
                {order.created_at ? <time dateTime={order.created_at}>{dateTime(order.created_at)}</time> : "—"}
              </td>
              {onCancel ? (
                <td data-label={t("trade.col.actions")}>
                  <button
                    type="button"
                    className="button button-small button-danger-quiet"
                    onClick={canceling ? undefined : () => onCancel(order)}
                    aria-disabled={Boolean(canceling) || undefined}
                    aria-busy={canceling === order.id || undefined}
                    aria-label={t("trade.cancel.aria", { side: sideLabel(t, order.side), amount: num(order.amount), pair: order.symbol })}
                    data-testid="trade-cancel"
                  >
                    {t("trade.cancel")}
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
