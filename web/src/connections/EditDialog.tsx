// Edit a saved connection (issue 10): its name, market and endpoint, and key fields corrected in place
// (a mistyped passphrase, say). Corrected key fields are tested first, like a rotation, and kept only if
// the test passes; with them refused nothing else changes either (the server's PATCH rule).
import { useEffect, useRef, useState, type FormEvent } from "react";
import { api } from "../api/endpoints";
import type { Connection, CredentialField, EditConnectionBody, EditResult, Exchange, Market } from "../api/types";
import { Dialog } from "../components/Dialog";
import { SecretField, SelectField, TextField } from "../components/Field";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { serverMessage } from "../lib/errors";
import { focusFirstInvalid } from "../lib/focus";
import { useValidationText } from "../wizard/useValidationText";
import {
  credentialFieldsFor,
  marketsFor,
  validateCredential,
  validateEndpoint,
  validateName,
  type ValidationError,
} from "../wizard/validation";
import { TestResultView } from "./TestResultView";

export interface EditDialogProps {
  connection: Connection;
  exchange: Exchange | null;
  /** Names of the other connections (a new name must not clash). */
  existingNames: readonly string[];
  onClose: (changed: boolean) => void;
}

type Field = "name" | "market" | "endpoint" | CredentialField;
type Phase =
  | { kind: "form"; errors: Partial<Record<Field, ValidationError>>; failure: string | null }
  | { kind: "saving" }
  | { kind: "done"; outcome: EditResult };

/** The PATCH body: only what differs from the connection; key fields only where something was typed. */
export function buildEditBody(
  connection: Connection,
  values: { name: string; market: string; endpoint: string },
  credentials: Partial<Record<CredentialField, string>>,
): EditConnectionBody {
  const body: EditConnectionBody = {};
  const name = values.name.trim();
  if (name !== connection.name) body.name = name;
  if (values.market !== connection.market) body.market = values.market as Market;
  const endpoint = values.endpoint.trim();
  if (endpoint !== (connection.endpoint ?? "")) body.endpoint = endpoint === "" ? null : endpoint;
  const typed = Object.fromEntries(Object.entries(credentials).filter(([, v]) => v !== undefined && v !== ""));
  if (Object.keys(typed).length > 0) body.credentials = typed;
  return body;
}

export function EditDialog({ connection, exchange, existingNames, onClose }: EditDialogProps) {
  const { t } = useI18n();
  const text = useValidationText();
  const exchangeName = exchange?.name ?? connection.exchange;
  const fields = credentialFieldsFor(exchange?.credentials ?? connection.credential_fields);
  const markets = marketsFor(exchange?.markets ?? [connection.market]);
  const [values, setValues] = useState({
    name: connection.name,
    market: connection.market,
    endpoint: connection.endpoint ?? "",
  });
  const [credentials, setCredentials] = useState<Partial<Record<CredentialField, string>>>({});
  const [phase, setPhase] = useState<Phase>({ kind: "form", errors: {}, failure: null });
  const statusRef = useRef<HTMLParagraphElement>(null);
  const failureRef = useRef<HTMLParagraphElement>(null);

  useEffect(() => {
    if (phase.kind === "saving") statusRef.current?.focus();
    else if (phase.kind === "form" && phase.failure) failureRef.current?.focus();
  }, [phase]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const errors: Partial<Record<Field, ValidationError>> = {};
    const nameError = validateName(values.name, existingNames);
    if (nameError) errors.name = nameError;
    const endpointError = validateEndpoint(values.endpoint);
    if (endpointError) errors.endpoint = endpointError;
    for (const field of fields) {
      const value = credentials[field] ?? "";
      const error = value === "" ? null : validateCredential(field, value, exchangeName);
      if (error) errors[field] = error;
    }
    const form = event.currentTarget as HTMLFormElement;
    if (Object.keys(errors).length > 0) {
      setPhase({ kind: "form", errors, failure: null });
      window.requestAnimationFrame(() => focusFirstInvalid(form));
      return;
    }
    const body = buildEditBody(connection, values, credentials);
    if (Object.keys(body).length === 0) {
      setPhase({ kind: "form", errors: {}, failure: t("edit.nothing") });
      return;
    }
    // The secrets leave the state now; the inputs unmount with the form.
    setCredentials({});
    setPhase({ kind: "saving" });
    try {
      setPhase({ kind: "done", outcome: await api.editConnection(connection.id, body) });
    } catch (error) {
      setPhase({ kind: "form", errors: {}, failure: t("edit.failed", { message: serverMessage(error, t) }) });
    }
  };

  const changed = phase.kind === "done" && phase.outcome.rotated !== false;
  const close = () => {
    setCredentials({});
    onClose(changed);
  };

  return (
    <Dialog title={t("edit.title", { name: connection.name })} onClose={close} testId="edit-dialog" wide>
      {phase.kind === "form" ? (
        <form onSubmit={(e) => void submit(e)} noValidate data-testid="edit-form">
          <p>{t("edit.intro")}</p>
          {phase.failure ? (
            <p ref={failureRef} tabIndex={-1} className="error-text" role="alert" data-testid="edit-error">
              {phase.failure}
            </p>
          ) : null}
          <TextField
            label={t("wizard.name")}
            error={text(phase.errors.name)}
            value={values.name}
            onValue={(name) => setValues((v) => ({ ...v, name }))}
            autoComplete="off"
            testId="edit-name"
          />
          <SelectField
            label={t("wizard.market")}
            value={values.market}
            onValue={(market) => setValues((v) => ({ ...v, market }))}
            options={markets.map((m) => ({ value: m, label: t(`market.${m}` as MessageKey) }))}
            testId="edit-market"
          />
          <TextField
            label={t("wizard.endpoint")}
            hint={t("edit.endpoint.hint")}
            error={text(phase.errors.endpoint)}
            value={values.endpoint}
            onValue={(endpoint) => setValues((v) => ({ ...v, endpoint }))}
            type="url"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            testId="edit-endpoint"
          />
          <fieldset className="fieldset">
            <legend>{t("edit.keyFields")}</legend>
            <p className="field-hint">{t("edit.keyFields.hint")}</p>
            {fields.map((field) => (
              <SecretField
                key={field}
                name={field}
                label={t(`cred.${field}` as MessageKey)}
                hint={field === "password" ? t("cred.password.hint", { exchange: exchangeName }) : undefined}
                masked={field !== "apiKey"}
                error={text(phase.errors[field])}
                onValue={(value) => setCredentials((c) => ({ ...c, [field]: value }))}
                testId={`edit-credential-${field}`}
              />
            ))}
          </fieldset>
          <div className="button-row">
            <button type="button" className="button button-quiet" onClick={close} data-testid="edit-cancel">
              {t("common.cancel")}
            </button>
            <span className="spacer" />
            <button type="submit" className="button button-primary" data-testid="edit-submit">
              {t("edit.submit")}
            </button>
          </div>
        </form>
      ) : (
        <div>
          <p ref={statusRef} tabIndex={-1} role="status" aria-live="polite" className="progress" data-testid="edit-progress">
            {phase.kind === "saving" ? (
              <>
                <span className="spinner" aria-hidden="true" />
                {t("edit.saving")}
              </>
            ) : phase.outcome.rotated === false ? (
              t("edit.refused")
            ) : (
              t("edit.saved")
            )}
          </p>
          {phase.kind === "done" ? (
            <div data-testid="edit-result" data-rotated={String(phase.outcome.rotated)}>
              {phase.outcome.test ? <TestResultView result={phase.outcome.test} headingLevel={3} /> : null}
              <div className="button-row">
                <span className="spacer" />
                <button type="button" className="button button-primary" onClick={close} data-testid="edit-close">
                  {t("common.close")}
                </button>
              </div>
            </div>
          ) : null}
        </div>
      )}
    </Dialog>
  );
}
