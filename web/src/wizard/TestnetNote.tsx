// The wizard's reminder, after step 1, that the connection goes on the exchange's testnet/demo account.
import { useI18n } from "../i18n/I18nContext";
import "../trade/trade.css";
import type { WizardState } from "./machine";

export function TestnetNote({ state }: { state: WizardState }) {
  const { t } = useI18n();
  if (!state.testnet || !state.exchange) return null;
  return (
    <p className="note" data-testid="wizard-testnet-chosen">
      <span className="tag tag-testnet">{t("wizard.testnet.tag")}</span>{" "}
      {t("wizard.testnet.chosen", { exchange: state.exchange.name })}
    </p>
  );
}
