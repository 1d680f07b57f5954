// The portfolio: every connection's balances valued in one currency, and the total.
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { api } from "../api/endpoints";
import type { Portfolio } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { PageHeader } from "../layout/PageHeader";
import { TestnetMark } from "../trade/TestnetMark";
import { errorText } from "../lib/errors";
import { formatDecimal } from "../lib/decimal";
import { AllocationChart } from "./AllocationChart";
import { allocationSlices, holdingsByAsset, isCounted } from "./holdings";
import { HoldingsTable } from "./HoldingsTable";
import { PortfolioConnectionView } from "./PortfolioConnection";
import { excludedReason } from "./reasons";

const QUOTE = "USDT";

export function PortfolioPage() {
  const { t } = useI18n();
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
      {portfolio ? <PortfolioView portfolio={portfolio} /> : null}
    </>
  );
}

function PortfolioView({ portfolio }: { portfolio: Portfolio }) {
  const { t, locale, dateTime } = useI18n();
  const holdings = holdingsByAsset(portfolio);
  const slices = allocationSlices(holdings);
  const excluded = portfolio.connections.filter((c) => !isCounted(c));
  const simulated = portfolio.simulated_total ?? "0";
  const testnet = portfolio.testnet_total ?? "0";
  return (
    <>
      <section className="card total-card" aria-labelledby="portfolio-total-label">
        <p id="portfolio-total-label" className="total-label">
          {t("portfolio.total")}
        </p>
        <p className="total-value" data-testid="portfolio-total" data-value={portfolio.total} data-quote={portfolio.quote}>
          {formatDecimal(portfolio.total, locale, 2)} {portfolio.quote}
        </p>
        {/^0*(\.0*)?$/.test(simulated) ? null : (
          <p className="simulated-note" data-testid="portfolio-simulated-total" data-value={simulated}>
            <span className="tag tag-simulated">{t("common.simulated")}</span>{" "}
            {t("portfolio.simulatedPart", { amount: formatDecimal(simulated, locale, 2), quote: portfolio.quote })}
          </p>
        )}
        {/^0*(\.0*)?$/.test(testnet) ? null : (
          <p className="simulated-note" data-testid="portfolio-testnet-total" data-value={testnet}>
            <TestnetMark testId="portfolio-testnet-total-mark" />{" "}
            {t("trade.portfolio.testnetPart", { amount: formatDecimal(testnet, locale, 2), quote: portfolio.quote })}
          </p>
        )}
        <p className="field-hint">{t("portfolio.asOf", { time: dateTime(portfolio.as_of) })}</p>
        {excluded.length > 0 ? (
          <div className="excluded" data-testid="portfolio-excluded">
            <h2 className="subheading">{t("portfolio.excluded")}</h2>
            <ul>
              {excluded.map((c) => (
                <li key={c.id} data-testid="portfolio-excluded-item" data-connection-name={c.name} data-code={c.error_code ?? ""}>
                  <strong>{c.name}</strong>: {excludedReason(t, c)}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </section>
      {portfolio.connections.length === 0 ? (
        <p className="empty">{t("portfolio.noConnections")}</p>
      ) : (
        <>
          <section className="card" aria-labelledby="portfolio-by-asset">
            <h2 id="portfolio-by-asset" className="card-title">
              {t("portfolio.byAsset")}
            </h2>
            {slices.length > 0 ? <AllocationChart slices={slices} /> : <p className="empty">{t("portfolio.noHoldings")}</p>}
            {holdings.length > 0 ? <HoldingsTable holdings={holdings} quote={portfolio.quote} /> : null}
          </section>
          <h2 className="section-title">{t("portfolio.byConnection")}</h2>
          <ul className="card-list">
            {portfolio.connections.map((connection) => (
              <li key={connection.id}>
                <PortfolioConnectionView connection={connection} quote={portfolio.quote} />
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
