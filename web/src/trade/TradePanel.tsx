// Trading by hand on one connection (issue 18): the order ticket, the open orders with Cancel, and the
// recent orders with their fills. Shown inside the connection's card when the user opens it.
import { useId, useState } from "react";
import { api } from "../api/endpoints";
import type { Connection, Order } from "../api/types";
import { useAnnounce } from "../components/Announcer";
import { useI18n } from "../i18n/I18nContext";
import { errorText } from "../lib/errors";
import { isOpen, sideLabel } from "./labels";
import { OrdersTable } from "./OrdersTable";
import { OrderTicket } from "./OrderTicket";
import { TestnetMark } from "./TestnetMark";
import { useTrade } from "./useTrade";
import "./trade.css";

const RECENT = 10;

export function TradePanel({ connection, exchangeName, id }: { connection: Connection; exchangeName: string; id: string }) {
  const { t } = useI18n();
  const announce = useAnnounce();
  const headingId = useId();
  const data = useTrade(connection.id);
  const testnet = Boolean(connection.testnet);
  const [canceling, setCanceling] = useState<string | null>(null);
  const [cancelError, setCancelError] = useState<string | null>(null);

  const cancel = async (order: Order) => {
    setCanceling(order.id);
    setCancelError(null);
    try {
      await api.cancelOrder(connection.id, order.id);
      announce(t("trade.canceled", { side: sideLabel(t, order.side), pair: order.symbol }));
    } catch (error) {
      setCancelError(errorText(error, t));
    } finally {
      setCanceling(null);
      await data.loadOrders();
    }
  };

  const open = (data.orders ?? []).filter((o) => isOpen(o.status));
  const recent = (data.orders ?? []).slice(0, RECENT);

  return (
    <section id={id} className="trade" aria-labelledby={headingId} data-testid="trade-panel" data-testnet={String(testnet)}>
      <h3 id={headingId} className="trade-title">
        {t("trade.title", { name: connection.name })}
        {testnet ? <TestnetMark testId="trade-testnet-mark" /> : null}
      </h3>
      <p className="field-hint trade-intro">{t(testnet ? "trade.intro.testnet" : "trade.intro")}</p>
      {connection.status !== "online" ? (
        <p className="note" data-testid="trade-not-online">
          {t("trade.notOnline")}
        </p>
      ) : null}
      <OrderTicket
        connectionId={connection.id}
        connectionName={connection.name}
        exchange={exchangeName}
        testnet={testnet}
        ticket={data.ticket}
        ticketError={data.ticketError}
        ticketBusy={data.ticketBusy}
        loadTicket={data.loadTicket}
        onPlaced={() => {
          void data.loadOrders();
          if (data.ticket) void data.loadTicket(data.ticket.pair);
        }}
      />
      <div className="trade-orders">
        <div className="button-row">
          <h4 className="subheading">{t("trade.open.title")}</h4>
          <span className="spacer" />
          <button
            type="button"
            className="button button-small"
            onClick={data.ordersBusy ? undefined : () => void data.loadOrders()}
            aria-disabled={data.ordersBusy || undefined}
            aria-busy={data.ordersBusy || undefined}
            data-testid="trade-refresh-orders"
          >
            {t("trade.refreshOrders")}
          </button>
        </div>
        {data.ordersError ? (
          <p className="error-text" role="alert" data-testid="trade-orders-error">
            {errorText(data.ordersError, t)}
          </p>
        ) : null}
        {cancelError ? (
          <p className="error-text" role="alert" data-testid="trade-cancel-error">
            {cancelError}
          </p>
        ) : null}
        <div data-testid="trade-open-orders" data-count={data.orders ? open.length : ""}>
          {data.orders === null && !data.ordersError ? <p role="status">{t("common.loading")}</p> : null}
          {data.orders && open.length === 0 ? <p className="empty">{t("trade.open.empty")}</p> : null}
          {open.length > 0 ? (
            <OrdersTable
              orders={open}
              testnet={testnet}
              onCancel={(order) => void cancel(order)}
              canceling={canceling}
              caption={t("trade.open.title")}
              testId="trade-open-table"
            />
          ) : null}
        </div>
        <h4 className="subheading">{t("trade.recent.title")}</h4>
        <div data-testid="trade-recent-orders" data-count={data.orders ? recent.length : ""}>
          {data.orders && recent.length === 0 ? <p className="empty">{t("trade.recent.empty")}</p> : null}
          {recent.length > 0 ? (
            <OrdersTable orders={recent} testnet={testnet} caption={t("trade.recent.title")} testId="trade-recent-table" />
          ) : null}
        </div>
      </div>
    </section>
  );
}
