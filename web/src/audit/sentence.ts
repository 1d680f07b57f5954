// An audit event as a sentence in the user's language: by its code (audit.<kind>) and params, with the
// params that are codes (statuses, the outcome of a balance read) translated; the server's English
// sentence when this build does not know the code; the raw details only from a server that sends neither.
import type { AuditEvent } from "../api/types";
import type { MessageKey } from "../i18n/catalogue";
import { en } from "../i18n/en";
import { knowsCode, serverText, type Translate } from "../i18n/server";
import { describeDetail } from "./filters";

export function auditSentence(t: Translate, event: AuditEvent): string {
  const code = event.message_code;
  if (!knowsCode(code)) return event.message || describeDetail(event.detail);
  const params: Record<string, string> = { ...(event.message_params ?? {}) };
  if (event.kind === "connection.balances_read") {
    const error = event.detail.error;
    params.outcome = event.detail.ok
      ? t("audit.outcome.ok")
      : t("audit.outcome.failed", { reason: typeof error === "string" && error ? error : "—" });
  }
  return serverText(t, code, params, event.message ?? "");
}

/** A kind's label ("Connection tested"), or the kind itself when this build does not know it. */
export function kindLabel(t: Translate, kind: string): string {
  const key = `kind.${kind}`;
  return key in en ? t(key as MessageKey) : kind;
}
