// A risk preset in plain words: its character in one sentence, then what it sets, from the server's
// own preset values (domain/strategies/risk.py), so the explanation never drifts from what runs.
import type { RiskPreset } from "../backtests/api";
import { useI18n } from "../i18n/I18nContext";

export function RiskExplained({ risk, preset }: { risk: string; preset: RiskPreset | null }) {
  const { t } = useI18n();
  if (!risk) {
    return (
      <p className="field-hint bot-risk-text" data-testid="bot-risk-explained">
        {t("bots.risk.none.explain")}
      </p>
    );
  }
  const v = preset?.values ?? {};
  return (
    <div className="bot-risk-text" data-testid="bot-risk-explained" data-risk={risk}>
      <p>
        <strong>{t(`bots.risk.${risk}.summary` as "bots.risk.balanced.summary")}</strong>
      </p>
      {preset ? (
        <p className="field-hint">
          {t("bots.risk.explain", {
            addons: v.addon_count ?? "?",
            deviation: v.addon_deviation_pct ?? "?",
            volume: v.addon_volume_scale ?? "?",
            tp: v.take_profit_pct ?? "?",
            sl: v.stop_loss_pct ?? "?",
            recovery: v.recovery_drawdown_pct ?? "?",
            leverage: preset.max_leverage,
          })}
        </p>
      ) : null}
    </div>
  );
}
