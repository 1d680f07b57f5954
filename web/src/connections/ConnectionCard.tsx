// One connection in the list: status, warnings, when it was last tested, the masked key, the last
// test's message and remedy, and its actions; "Trade by hand" opens its order ticket inside the card.
import { useId, useState } from "react";
import type { Connection, HistoryItem } from "../api/types";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { StatusBadge } from "./StatusBadge";
import { SimulatedMark } from "./SimulatedMark";
import { TestnetMark } from "../trade/TestnetMark";
import { TradePanel } from "../trade/TradePanel";
import { CheckList, messageText, remedyText } from "./TestResultView";
import { Warnings } from "./Warnings";
import { newBotHref } from "../bots/model";

export interface ConnectionCardProps {
  connection: Connection;
  exchangeName: string;
  last: HistoryItem | null;
  testing: boolean;
  actionError: string | null;
  onRetest: () => void;
  onRotate: () => void;
  onEdit: () => void;
  onRemove: () => void;
}

export function ConnectionCard(props: ConnectionCardProps) {
  const { connection, exchangeName, last, testing, actionError, onRetest, onRotate, onEdit, onRemove } = props;
  const { t, dateTime } = useI18n();
  const headingId = useId();
  const tradeId = useId();
  const [trading, setTrading] = useState(false);
  const checked = connection.status_checked_at;
  // The last result explains the current status only if it reached the same status.
  const explains = last !== null && last.status === connection.status;
  return (
    <article
      className="card connection"
      aria-labelledby={headingId}
      aria-busy={testing || undefined}
      data-testid="connection-row"
      data-connection-id={connection.id}
      data-connection-name={connection.name}
      data-status={connection.status}
      data-simulated={String(Boolean(connection.simulated))}
      data-testnet={String(Boolean(connection.testnet))}
    >
      <header className="card-header">
        <h2 id={headingId} className="card-title" data-testid="connection-name">
          {connection.name}
        </h2>
        <StatusBadge status={connection.status} />
        {connection.simulated ? <SimulatedMark /> : null}
        {connection.testnet ? <TestnetMark /> : null}
      </header>
      <dl className="facts">
        <div>
          <dt>{t("conn.exchange")}</dt>
          <dd data-testid="connection-exchange">{exchangeName}</dd>
        </div>
        <div>
          <dt>{t("conn.market")}</dt>
          <dd>{t(`market.${connection.market}` as MessageKey)}</dd>
        </div>
        <div>
          <dt>{t("conn.apiKey")}</dt>
          <dd>
            <code data-testid="connection-api-key">{connection.api_key}</code>
          </dd>
        </div>
        <div>
          <dt>{t("conn.lastTested")}</dt>
          <dd data-testid="connection-last-tested">
            {checked ? <time dateTime={checked}>{dateTime(checked)}</time> : t("conn.neverTested")}
          </dd>
        </div>
        {connection.endpoint ? (
          <div>
            <dt>{t("conn.endpoint")}</dt>
            <dd>
              <code data-testid="connection-endpoint">{connection.endpoint}</code>
            </dd>
          </div>
        ) : null}
      </dl>
      {explains && last ? (
        <div className="last-result">
          <Warnings codes={last.warnings} />
          <p data-testid="connection-message">{messageText(t, last)}</p>
          {last.remedy && !last.ok ? (
            <p className="remedy" data-testid="connection-remedy">
              <strong>{t("test.remedy")}: </strong>
              {remedyText(t, last)}
            </p>
          ) : null}
          <details>
            <summary data-testid="connection-checks-toggle">{t("test.checks")}</summary>
            <CheckList checks={last.checks} />
          </details>
        </div>
      ) : null}
      {actionError ? (
        <p className="error-text" role="alert" data-testid="connection-error">
          {actionError}
        </p>
      ) : null}
      <div className="button-row card-actions">
        {connection.status === "online" ? (
          <a
            className="button button-primary"
            href={newBotHref(connection.name)}
            aria-label={t("bots.create.aria", { name: connection.name })}
            data-testid="connection-create-bot"
          >
            {t("bots.create")}
          </a>
        ) : null}
        <button
          type="button"
          className="button"
          onClick={() => setTrading((open) => !open)}
          aria-expanded={trading}
          aria-controls={trading ? tradeId : undefined}
          aria-label={trading ? undefined : t("trade.toggle.aria", { name: connection.name })}
          data-testid="connection-trade"
        >
          {trading ? t("trade.toggle.close") : t("trade.toggle.open")}
        </button>
        <button
          type="button"
          className="button"
          // aria-disabled rather than disabled: a disabled button would drop the keyboard focus mid-test.
          onClick={testing ? undefined : onRetest}
          aria-disabled={testing || undefined}
          aria-busy={testing || undefined}
          aria-label={testing ? undefined : t("conn.retest.aria", { name: connection.name })}
          data-testid="connection-retest"
        >
          {testing ? (
            <>
              <span className="spinner" aria-hidden="true" />
              {t("conn.testing")}
            </>
          ) : (
            t("conn.retest")
          )}
        </button>
        <button
          type="button"
          className="button"
          onClick={onRotate}
          aria-label={t("conn.rotate.aria", { name: connection.name })}
          data-testid="connection-rotate"
        >
          {t("conn.rotate")}
        </button>
        <button
          type="button"
          className="button"
          onClick={onEdit}
          aria-label={t("conn.edit.aria", { name: connection.name })}
          data-testid="connection-edit"
        >
          {t("conn.edit")}
        </button>
        <button
          type="button"
          className="button button-danger-quiet"
          onClick={onRemove}
          aria-label={t("conn.remove.aria", { name: connection.name })}
          data-testid="connection-remove"
        >
          {t("conn.remove")}
        </button>
      </div>
      {trading ? <TradePanel id={tradeId} connection={connection} exchangeName={exchangeName} /> : null}
    </article>
  );
}
