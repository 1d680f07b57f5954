// Step 1: which exchange. A native radio group, so arrow keys move between exchanges.
import type { Exchange } from "../api/types";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";

export interface ExchangeStepProps {
  exchanges: Exchange[];
  selected: string | null;
  onSelect: (exchange: Exchange) => void;
  showRequired: boolean;
}

export function ExchangeStep({ exchanges, selected, onSelect, showRequired }: ExchangeStepProps) {
  const { t } = useI18n();
  return (
    <fieldset className="exchange-choice" aria-describedby={showRequired ? "wizard-exchange-required" : undefined}>
      <legend>{t("wizard.exchange.legend")}</legend>
      {showRequired ? (
        <p id="wizard-exchange-required" className="field-error" role="alert">
          {t("wizard.exchange.required")}
        </p>
      ) : null}
      {exchanges.length === 0 ? <p role="status">{t("common.loading")}</p> : null}
      <div className="exchange-grid">
        {exchanges.map((exchange) => {
          const markets = exchange.markets.map((m) => t(`market.${m}` as MessageKey)).join(", ");
          return (
            <label key={exchange.id} className="exchange-option" data-testid={`wizard-exchange-option-${exchange.id}`}>
              <input
                type="radio"
                name="exchange"
                value={exchange.id}
                checked={selected === exchange.id}
                onChange={() => onSelect(exchange)}
                data-testid={`wizard-exchange-${exchange.id}`}
              />
              <span className="exchange-name">{exchange.name}</span>
              <span className="exchange-meta">
                {t("wizard.exchange.markets", { markets })}
                {exchange.permission_check ? "" : ` · ${t("wizard.exchange.basic")}`}
              </span>
            </label>
          );
        })}
      </div>
    </fieldset>
  );
}
