// Holdings per asset across the counted connections: amount, value, share, and where they are held.
import { useI18n } from "../i18n/I18nContext";
import { formatDecimal } from "../lib/decimal";
import type { Holding } from "./holdings";

export function HoldingsTable({ holdings, quote }: { holdings: readonly Holding[]; quote: string }) {
  const { t, locale } = useI18n();
  const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  const valueLabel = t("portfolio.value", { quote });
  return (
    <table className="table responsive-table" data-testid="portfolio-holdings">
      <caption className="visually-hidden">{t("portfolio.byAsset")}</caption>
      <thead>
        <tr>
          <th scope="col">{t("portfolio.asset")}</th>
          <th scope="col" className="num">{t("portfolio.amount")}</th>
          <th scope="col" className="num">{valueLabel}</th>
          <th scope="col" className="num">{t("portfolio.share")}</th>
          <th scope="col">{t("portfolio.inConnections")}</th>
        </tr>
      </thead>
      <tbody>
        {holdings.map((h) => (
          <tr key={h.asset} data-testid="portfolio-holding" data-asset={h.asset} data-amount={h.amount} data-value={h.value ?? ""}>
            <th scope="row">{h.asset}</th>
            <td className="num" data-label={t("portfolio.amount")}>{formatDecimal(h.amount, locale, 8)}</td>
            <td className="num" data-label={valueLabel}>
              {h.value !== null ? formatDecimal(h.value, locale, 2) : <span className="muted">{t("portfolio.noValue")}</span>}
            </td>
            <td className="num" data-label={t("portfolio.share")}>{percent.format(h.share)}</td>
            <td data-label={t("portfolio.inConnections")} className="wrap">
              {h.connections.join(", ")}
              {h.simulated ? <span className="tag tag-simulated inline-tag">{t("common.simulated")}</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
