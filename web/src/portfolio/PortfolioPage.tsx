// The portfolio: every connection's balances valued in one currency, and the total.
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { Portfolio } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { PageHeader } from "../layout/PageHeader";
import { errorText } from "../lib/errors";
import { formatDecimal } from "../lib/decimal";
import { PortfolioConnectionView } from "./PortfolioConnection";

const QUOTE = "USDT";

export function PortfolioPage() {
  const { t, locale, dateTime } = useI18n();
  const [portfolio, setPortfolio] = useState<Portfolio | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(true);

  const load = useCallback(async () => {
    setBusy(true);
    try {
      setPortfolio(await api.portfolio(QUOTE));
      setError(null);
    } catch (caught) {
      const missing = caught instanceof ApiError && caught.status === 404 && caught.code === "not_found";
      setError(missing ? t("portfolio.unavailable") : errorText(caught, t));
    } finally {
      setBusy(false);
    }
  }, [t]);

  useEffect(() => {
    void load();
  }, []); // deliberately once: a language change must not refetch

  return (
    <>
      <PageHeader title={t("portfolio.title")} intro={t("portfolio.intro", { quote: QUOTE })}>
        <button
          type="button"
          className="button"
          onClick={() => {
            if (!busy) void load();
          }}
          aria-disabled={busy || undefined}
          aria-busy={busy || undefined}
          data-testid="portfolio-refresh"
        >
          {t("portfolio.refresh")}
        </button>
      </PageHeader>
      {error ? (
        <p className="error-text" role="alert" data-testid="portfolio-error">
          {error}
        </p>
      ) : null}
      {busy && !portfolio ? <p role="status">{t("common.loading")}</p> : null}
      {portfolio ? (
        <>
          <section className="card total-card" aria-labelledby="portfolio-total-label">
            <p id="portfolio-total-label" className="total-label">
              {t("portfolio.total")}
            </p>
            <p className="total-value" data-testid="portfolio-total" data-value={portfolio.total} data-quote={portfolio.quote}>
              {formatDecimal(portfolio.total, locale, 2)} {portfolio.quote}
            </p>
            <p className="field-hint">
              {t("portfolio.asOf", { time: dateTime(portfolio.as_of) })}
            </p>
          </section>
          {portfolio.connections.length === 0 ? (
            <p className="empty">{t("portfolio.noConnections")}</p>
          ) : (
            <ul className="card-list">
              {portfolio.connections.map((connection) => (
                <li key={connection.id}>
                  <PortfolioConnectionView connection={connection} quote={portfolio.quote} />
                </li>
              ))}
            </ul>
          )}
        </>
      ) : null}
    </>
  );
}
