// "Are you sure?" for destructive actions; Cancel has the initial focus so Enter does not destroy.
import { useId, useRef } from "react";
import { useI18n } from "../i18n/I18nContext";
import { Dialog } from "./Dialog";

export interface ConfirmDialogProps {
  title: string;
  body: string;
  confirmLabel: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, body, confirmLabel, busy, error, onConfirm, onCancel }: ConfirmDialogProps) {
  const { t } = useI18n();
  const cancel = useRef<HTMLButtonElement>(null);
  const bodyId = useId();
  return (
    <Dialog title={title} onClose={onCancel} testId="confirm-dialog" alert initialFocus={cancel} describedBy={bodyId}>
      <p id={bodyId}>{body}</p>
      {error ? (
        <p className="error-text" role="alert" data-testid="confirm-error">
          {error}
        </p>
      ) : null}
      <div className="button-row">
        <button ref={cancel} type="button" className="button" onClick={onCancel} data-testid="confirm-cancel">
          {t("common.cancel")}
        </button>
        <button
          type="button"
          className="button button-danger"
          onClick={onConfirm}
          disabled={busy}
          aria-busy={busy || undefined}
          data-testid="confirm-ok"
        >
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
