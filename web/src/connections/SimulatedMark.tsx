// A "simulated" tag for a connection or balances served by the built-in exchange simulator.
import { useI18n } from "../i18n/I18nContext";

export function SimulatedMark({ testId = "simulated-mark" }: { testId?: string }) {
  const { t } = useI18n();
  return (
    <span className="tag tag-simulated" data-testid={testId} title={t("common.simulated.hint")}>
      {t("common.simulated")}
      <span className="visually-hidden"> — {t("common.simulated.hint")}</span>
    </span>
  );
}
