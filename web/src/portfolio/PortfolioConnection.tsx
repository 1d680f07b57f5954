// One connection's share of the portfolio: its total and a table of balances.
import { useId } from "react";
import type { PortfolioConnection } from "../api/types";
import { StatusBadge } from "../connections/StatusBadge";
import { useI18n } from "../i18n/I18nContext";
import { formatDecimal } from "../lib/decimal";

export function PortfolioConnectionView({ connection, quote }: { connection: PortfolioConnection; quote: string }) {
  const { t, locale } = useI18n();
  const headingId = useId();
  const amount = (value: string) => formatDecimal(value, locale, 8);
  return (
    <article
      className="card"
      aria-labelledby={headingId}
      data-testid="portfolio-connection"
      data-connection-id={connection.id}
      data-connection-name={connection.name}
    >
      <header className="card-header">
        <h2 id={headingId} className="card-title">
          {connection.name}
        </h2>
        <StatusBadge status={connection.status} />
        <span className="card-total" data-testid="portfolio-connection-total" data-value={connection.total ?? ""}>
          {connection.total !== null ? `${formatDecimal(connection.total, locale, 2)} ${quote}` : "—"}
        </span>
      </header>
      {connection.error ? (
        <p className="error-text" data-testid="portfolio-connection-error">
          {t("portfolio.connectionError", { message: connection.error })}
        </p>
      ) : null}
      {connection.balances.length === 0 && !connection.error ? <p className="empty">{t("portfolio.noBalances")}</p> : null}
      {connection.balances.length > 0 ? (
        // A focusable scroll region: on a phone the table scrolls sideways, by keyboard too.
        <div className="table-scroll" tabIndex={0} role="region" aria-label={t("portfolio.caption", { name: connection.name })}>
          <table className="table">
            <caption className="visually-hidden">{t("portfolio.caption", { name: connection.name })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("portfolio.asset")}</th>
                <th scope="col" className="num">{t("portfolio.free")}</th>
                <th scope="col" className="num">{t("portfolio.used")}</th>
                <th scope="col" className="num">{t("portfolio.amount")}</th>
                <th scope="col" className="num">{t("portfolio.value", { quote })}</th>
              </tr>
            </thead>
            <tbody>
              {connection.balances.map((b) => (
                <tr key={b.asset} data-testid="portfolio-balance-row" data-asset={b.asset}>
                  <th scope="row">{b.asset}</th>
                  <td className="num">{amount(b.free)}</td>
                  <td className="num">{amount(b.used)}</td>
                  <td className="num">{amount(b.total)}</td>
                  <td className="num">{b.value !== null ? formatDecimal(b.value, locale, 2) : <span className="muted">{t("portfolio.noValue")}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </article>
  );
}
