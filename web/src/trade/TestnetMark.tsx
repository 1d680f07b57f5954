// A "testnet" tag for a connection on an exchange's test environment: its funds are not real, its orders
// are not real trades, and its balances are never part of the portfolio total.
import { useI18n } from "../i18n/I18nContext";
import "./trade.css";

export function TestnetMark({ testId = "testnet-mark" }: { testId?: string }) {
  const { t } = useI18n();
  return (
    <span className="tag tag-testnet" data-testid={testId} title={t("trade.testnet.hint")}>
      {t("trade.testnet")}
      <span className="visually-hidden"> — {t("trade.testnet.hint")}</span>
    </span>
  );
}
