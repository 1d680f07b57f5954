// A page of audit events as a table (scrolls sideways on a phone).
import type { AuditEvent } from "../api/types";
import { useI18n } from "../i18n/I18nContext";
import { describeDetail } from "./filters";

export function AuditTable({ events }: { events: AuditEvent[] }) {
  const { t, dateTime } = useI18n();
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={t("audit.caption")}>
      <table className="table audit-table" data-testid="audit-table">
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
              <td>
                <time dateTime={event.ts}>{dateTime(event.ts)}</time>
              </td>
              <td>
                <code>{event.kind}</code>
              </td>
              <td>{event.connection_name ?? "—"}</td>
              <td>{event.actor}</td>
              <td className="detail">{describeDetail(event.detail)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
