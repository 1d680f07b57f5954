// One connection's share of the portfolio: its total and its balances (a table; cards on a phone).
import { useId } from "react";
import type { PortfolioConnection } from "../api/types";
import { SimulatedMark } from "../connections/SimulatedMark";
import { TestnetMark } from "../trade/TestnetMark";
import { StatusBadge } from "../connections/StatusBadge";
import { useI18n } from "../i18n/I18nContext";
import { formatDecimal } from "../lib/decimal";
import { excludedReason } from "./reasons";

export function PortfolioConnectionView({ connection, quote }: { connection: PortfolioConnection; quote: string }) {
  const { t, locale } = useI18n();
  const headingId = useId();
  const amount = (value: string) => formatDecimal(value, locale, 8);
  const valueLabel = t("portfolio.value", { quote });
  return (
    <article
      className="card"
      aria-labelledby={headingId}
      data-testid="portfolio-connection"
      data-connection-id={connection.id}
      data-connection-name={connection.name}
      data-simulated={String(Boolean(connection.simulated))}
      data-testnet={String(Boolean(connection.testnet))}
    >
      <header className="card-header">
        <h3 id={headingId} className="card-title">
          {connection.name}
        </h3>
        <StatusBadge status={connection.status} />
        {connection.simulated ? <SimulatedMark /> : null}
        {connection.testnet ? <TestnetMark /> : null}
        <span className="card-total" data-testid="portfolio-connection-total" data-value={connection.total ?? ""}>
          {connection.total !== null ? `${formatDecimal(connection.total, locale, 2)} ${quote}` : "—"}
        </span>
      </header>
      {connection.error ? (
        <p className="error-text" data-testid="portfolio-connection-error" data-code={connection.error_code ?? ""}>
          {excludedReason(t, connection)}
        </p>
      ) : null}
      {connection.balances.length === 0 && !connection.error ? <p className="empty">{t("portfolio.noBalances")}</p> : null}
      {connection.balances.length > 0 ? (
        <table className="table responsive-table">
          <caption className="visually-hidden">{t("portfolio.caption", { name: connection.name })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("portfolio.asset")}</th>
              <th scope="col" className="num">{t("portfolio.free")}</th>
              <th scope="col" className="num">{t("portfolio.used")}</th>
              <th scope="col" className="num">{t("portfolio.amount")}</th>
              <th scope="col" className="num">{valueLabel}</th>
            </tr>
          </thead>
          <tbody>
            {connection.balances.map((b) => (
              <tr key={b.asset} data-testid="portfolio-balance-row" data-asset={b.asset}>
                <th scope="row">{b.asset}</th>
                <td className="num" data-label={t("portfolio.free")}>{amount(b.free)}</td>
                <td className="num" data-label={t("portfolio.used")}>{amount(b.used)}</td>
                <td className="num" data-label={t("portfolio.amount")}>{amount(b.total)}</td>
                <td className="num" data-label={valueLabel} data-testid="portfolio-balance-value">
                  {b.value !== null ? formatDecimal(b.value, locale, 2) : <span className="muted">{t("portfolio.noValue")}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}
