// A page of audit events: a table on wide screens, one card per event below 600 px (CSS only).
// Each event reads as a sentence in the user's language, not as raw JSON.
import type { AuditEvent } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { auditSentence, kindLabel } from "./sentence";

export function AuditTable({ events }: { events: AuditEvent[] }) {
  const { t, dateTime } = useI18n();
  return (
    <table className="table audit-table responsive-table" data-testid="audit-table">
      <caption className="visually-hidden">{t("audit.caption")}</caption>
      <thead>
        <tr>
          <th scope="col">{t("audit.time")}</th>
          <th scope="col">{t("audit.kind")}</th>
          <th scope="col">{t("audit.connection")}</th>
          <th scope="col">{t("audit.actor")}</th>
          <th scope="col">{t("audit.detail")}</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => (
          <tr
            key={event.id}
            data-testid="audit-row"
            data-kind={event.kind}
            data-connection-name={event.connection_name ?? ""}
            data-event-id={event.id}
          >
            <td data-label={t("audit.time")}>
              <time dateTime={event.ts}>{dateTime(event.ts)}</time>
            </td>
            <td data-label={t("audit.kind")} className="kind" data-testid="audit-kind">
              <span title={event.kind}>{kindLabel(t, event.kind)}</span>
            </td>
            <td data-label={t("audit.connection")}>{event.connection_name ?? "—"}</td>
            <td data-label={t("audit.actor")} data-testid="audit-actor">
              <code className="actor">{event.actor}</code>
            </td>
            <td data-label={t("audit.detail")} className="detail" data-testid="audit-sentence" data-code={event.message_code ?? ""}>
              {auditSentence(t, event)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
