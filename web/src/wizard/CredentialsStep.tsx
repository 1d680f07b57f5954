// Step 3: the key fields this exchange needs (and only those), the name, and market/endpoint.
import { useState, type FormEvent } from "react";
import type { CredentialField } from "../api/types";
import { SecretField, SelectField, TextField } from "../components/Field";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { requiredFields, type FormField, type WizardState } from "./machine";
import { TestnetNote } from "./TestnetNote";
import { useValidationText } from "./useValidationText";
import { marketsFor, MAX_NAME_LENGTH } from "./validation";

export interface CredentialsStepProps {
  formId: string;
  state: WizardState;
  onField: (field: FormField, value: string) => void;
  onCredential: (field: CredentialField, value: string) => void;
  onKeepUntested: (value: boolean) => void;
  /** Where `tradewarden up` runs the simulator (for the endpoint hint), when it does. */
  simulatorUrl: string | null;
  onSubmit: () => void;
}

export function CredentialsStep(props: CredentialsStepProps) {
  const { formId, state, onField, onCredential, onKeepUntested, simulatorUrl, onSubmit } = props;
  const { t } = useI18n();
  const text = useValidationText();
  const exchange = state.exchange;
  // Open the advanced part when it holds a value or an error, so nothing that matters is hidden.
  const [advancedOpen, setAdvancedOpen] = useState(state.endpoint !== "");
  if (!exchange) return null;
  const fields = requiredFields(exchange);
  const errorCount = Object.keys(state.errors).length;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };

  return (
    <form id={formId} onSubmit={submit} noValidate data-testid="wizard-credentials-form">
      {state.failure?.during === "save" ? (
        <p className="error-text" role="alert" data-testid="wizard-save-error">
          {t("wizard.saveFailed", { message: state.failure.message })}
        </p>
      ) : state.attempted && errorCount > 0 ? (
        <p className="error-text" role="alert" data-testid="wizard-form-error">
          {t("wizard.fixErrors")}
        </p>
      ) : null}
      <TestnetNote state={state} />
      <p className="note">{t("wizard.secretNote")}</p>
      {fields.map((field) => (
        <SecretField
          key={field}
          name={field}
          label={t(`cred.${field}` as MessageKey)}
          hint={field === "password" ? t("cred.password.hint", { exchange: exchange.name }) : undefined}
          masked={field !== "apiKey"}
          error={text(state.errors[field])}
          onValue={(value) => onCredential(field, value)}
          testId={`wizard-credential-${field}`}
        />
      ))}
      <TextField
        label={t("wizard.name")}
        hint={t("wizard.name.hint")}
        error={text(state.errors.name)}
        value={state.name}
        onValue={(value) => onField("name", value)}
        maxLength={MAX_NAME_LENGTH + 16 /* let an over-long paste show its error rather than vanish */}
        autoComplete="off"
        testId="wizard-name"
      />
      <SelectField
        label={t("wizard.market")}
        error={text(state.errors.market)}
        value={state.market}
        onValue={(value) => onField("market", value)}
        options={marketsFor(exchange.markets).map((m) => ({ value: m, label: t(`market.${m}`) }))}
        testId="wizard-market"
      />
      <details
        className="advanced"
        open={advancedOpen || Boolean(state.errors.endpoint)}
        onToggle={(e) => setAdvancedOpen(e.currentTarget.open)}
      >
        <summary data-testid="wizard-advanced">{t("wizard.advanced")}</summary>
        <TextField
          label={t("wizard.endpoint")}
          hint={simulatorUrl ? t("wizard.endpoint.hintSimulator", { url: simulatorUrl }) : t("wizard.endpoint.hint")}
          error={text(state.errors.endpoint)}
          value={state.endpoint}
          onValue={(value) => onField("endpoint", value)}
          type="url"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder={simulatorUrl ?? "https://"}
          testId="wizard-endpoint"
        />
      </details>
      <div className="checkbox-field">
        <input
          id={`${formId}-keep`}
          type="checkbox"
          checked={state.keepUntested}
          onChange={(e) => onKeepUntested(e.currentTarget.checked)}
          aria-describedby={`${formId}-keep-hint`}
          data-testid="wizard-keep-untested"
        />
        <label htmlFor={`${formId}-keep`}>{t("wizard.keepUntested")}</label>
        <p id={`${formId}-keep-hint`} className="field-hint">
          {t("wizard.keepUntested.hint")}
        </p>
      </div>
    </form>
  );
}
