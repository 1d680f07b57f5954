// A "Reduce only" tag for an order that may only shrink the open position on a contract market (it never
// opens or grows one): in the ticket's preview and beside the side in the orders tables.
import { useI18n } from "../i18n/I18nContext";
import "./trade.css";

export function ReduceOnlyTag({ testId = "reduce-only-tag" }: { testId?: string }) {
  const { t } = useI18n();
  return (
    <span className="tag tag-reduce-only inline-tag" data-testid={testId} title={t("trade.reduceOnly.hint")}>
      {t("trade.reduceOnly")}
    </span>
  );
}
