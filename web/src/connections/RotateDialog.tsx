// Rotate a connection's key: new credentials are tested first and swapped in only if they pass.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { api } from "../api/endpoints";
import type { Connection, CredentialField, RotateResult } from "../api/types";
import { Dialog } from "../components/Dialog";
import { SecretField } from "../components/Field";
import type { MessageKey } from "../i18n/catalogue";
import { useI18n } from "../i18n/I18nContext";
import { serverMessage } from "../lib/errors";
import { focusFirstInvalid } from "../lib/focus";
import { useValidationText } from "../wizard/useValidationText";
import { credentialFieldsFor, validateCredentials, type ValidationError } from "../wizard/validation";
import { TestResultView } from "./TestResultView";

export interface RotateDialogProps {
  connection: Connection;
  /** The exchange's credential fields and name, when the exchange list knows it. */
  exchangeCredentials: readonly string[] | null;
  exchangeName: string;
  onClose: (rotated: boolean) => void;
}

type Phase =
  | { kind: "form"; errors: Partial<Record<CredentialField, ValidationError>>; failure: string | null }
  | { kind: "testing" }
  | { kind: "done"; outcome: RotateResult };

export function RotateDialog({ connection, exchangeCredentials, exchangeName, onClose }: RotateDialogProps) {
  const { t } = useI18n();
  const text = useValidationText();
  const fields = credentialFieldsFor(exchangeCredentials ?? connection.credential_fields);
  const [values, setValues] = useState<Partial<Record<CredentialField, string>>>({});
  const [phase, setPhase] = useState<Phase>({ kind: "form", errors: {}, failure: null });
  const statusRef = useRef<HTMLParagraphElement>(null);
  const failureRef = useRef<HTMLParagraphElement>(null);

  // The form unmounts on submit, taking the focused button with it: keep focus inside the dialog, on
  // the progress line (which becomes the outcome), or on the failure when the form comes back.
  useEffect(() => {
    if (phase.kind === "testing") statusRef.current?.focus();
    else if (phase.kind === "form" && phase.failure) failureRef.current?.focus();
  }, [phase]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const errors = validateCredentials(fields, values, exchangeName);
    if (Object.keys(errors).length > 0) {
      setPhase({ kind: "form", errors, failure: null });
      const form = event.currentTarget as HTMLFormElement;
      window.requestAnimationFrame(() => focusFirstInvalid(form));
      return;
    }
    const credentials = Object.fromEntries(fields.map((f) => [f, values[f] ?? ""]));
    // The secrets leave the state now; the inputs unmount with the form as the phase changes.
    setValues({});
    setPhase({ kind: "testing" });
    try {
      setPhase({ kind: "done", outcome: await api.rotateConnection(connection.id, credentials) });
    } catch (error) {
      setPhase({ kind: "form", errors: {}, failure: serverMessage(error, t) });
    }
  };

  const rotated = phase.kind === "done" && phase.outcome.rotated;
  const close = () => {
    setValues({});
    onClose(rotated);
  };

  return (
    <Dialog title={t("rotate.title", { name: connection.name })} onClose={close} testId="rotate-dialog" wide>
      {phase.kind === "form" ? (
        <form onSubmit={(e) => void submit(e)} noValidate data-testid="rotate-form">
          <p>{t("rotate.intro")}</p>
          {phase.failure ? (
            <p ref={failureRef} tabIndex={-1} className="error-text" role="alert" data-testid="rotate-error">
              {t("rotate.failed", { message: phase.failure })}
            </p>
          ) : null}
          {fields.map((field) => (
            <SecretField
              key={field}
              name={field}
              label={t(`cred.${field}` as MessageKey)}
              hint={field === "password" ? t("cred.password.hint", { exchange: exchangeName }) : undefined}
              masked={field !== "apiKey"}
              error={text(phase.errors[field])}
              onValue={(value) => setValues((v) => ({ ...v, [field]: value }))}
              testId={`rotate-credential-${field}`}
            />
          ))}
          <div className="button-row">
            <button type="button" className="button button-quiet" onClick={close} data-testid="rotate-cancel">
              {t("common.cancel")}
            </button>
            <span className="spacer" />
            <button type="submit" className="button button-primary" data-testid="rotate-submit">
              {t("rotate.submit")}
            </button>
          </div>
        </form>
      ) : (
        <div>
          <p ref={statusRef} tabIndex={-1} role="status" aria-live="polite" className="progress" data-testid="rotate-progress">
            {phase.kind === "testing" ? (
              <>
                <span className="spinner" aria-hidden="true" />
                {t("rotate.testing")}
              </>
            ) : phase.outcome.rotated ? (
              t("rotate.rotated")
            ) : (
              t("rotate.refused")
            )}
          </p>
          {phase.kind === "done" ? (
            <div data-testid="rotate-result" data-rotated={String(phase.outcome.rotated)}>
              <TestResultView result={phase.outcome.test} headingLevel={3} />
              <div className="button-row">
                <span className="spacer" />
                <button type="button" className="button button-primary" onClick={close} data-testid="rotate-close">
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
