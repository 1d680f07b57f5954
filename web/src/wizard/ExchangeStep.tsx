// Step 1: which exchange. A native radio group, so arrow keys move between exchanges; below it, for an
// exchange that has one, the choice of its testnet/demo account.
import { useId } from "react";
import type { Exchange } from "../api/types";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";

export interface ExchangeStepProps {
  exchanges: Exchange[];
  selected: string | null;
  onSelect: (exchange: Exchange) => void;
  showRequired: boolean;
  /** The testnet/demo account is chosen (only offered when the selected exchange has one). */
  testnet: boolean;
  onTestnet: (value: boolean) => void;
}

export function ExchangeStep({ exchanges, selected, onSelect, showRequired, testnet, onTestnet }: ExchangeStepProps) {
  const { t } = useI18n();
  const id = useId();
  const environment = exchanges.find((e) => e.id === selected)?.testnet ?? null;
  return (
    <>
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
      {environment ? (
        <div className="checkbox-field">
          <input
            id={`${id}-testnet`}
            type="checkbox"
            checked={testnet}
            onChange={(e) => onTestnet(e.currentTarget.checked)}
            aria-describedby={`${id}-testnet-hint`}
            data-testid="wizard-testnet"
          />
          <label htmlFor={`${id}-testnet`}>{t("wizard.testnet", { environment })}</label>
          <p id={`${id}-testnet-hint`} className="field-hint">
            {t("wizard.testnet.hint")}
          </p>
        </div>
      ) : null}
    </>
  );
}
