// Audit filters: the form's values ↔ the API query. Pure.
import type { AuditQuery } from "../api/types";

/** The kinds the server records today (others still show under "any kind"). */
export const AUDIT_KINDS = [
  "auth.login",
  "auth.failed",
  "auth.limited",
  "connection.added",
  "connection.add_refused",
  "connection.tested",
  "connection.status_changed",
  "connection.rotated",
  "connection.rotation_refused",
  "connection.removed",
  "connection.shown",
  "connection.balances_read",
  "connection.endpoint_changed",
  "connection.edited",
  "connection.key_generated",
  "connection.renamed",
  "connection.integrity_error",
  "token.created",
  "token.revoked",
  "token.renamed",
  "vault.created",
  "vault.passphrase_changed",
  "vault.unlock_failed",
  "order.placed",
  "order.canceled",
  "order.refused",
  "order.reconciled",
  "order.reconcile_failed",
  "bot.created",
  "bot.started",
  "bot.stopped",
  "bot.removed",
  "notification.added",
  "notification.removed",
  "notification.failed",
] as const;

export interface AuditFilterValues {
  kind: string;
  connection: string;
  /** <input type="datetime-local"> values: local time, no zone ("2026-11-21T09:30"). */
  since: string;
  until: string;
}

export const EMPTY_FILTERS: AuditFilterValues = { kind: "", connection: "", since: "", until: "" };
export const PAGE_SIZE = 50;

/** A datetime-local value as an ISO instant in UTC, or undefined when empty or unreadable. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value); // a zone-less date-time string is read as local time
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** True when both ends are set and "until" is not after "since". */
export function rangeIsEmpty(filters: AuditFilterValues): boolean {
  const since = localToIso(filters.since);
  const until = localToIso(filters.until);
  return since !== undefined && until !== undefined && until <= since;
}

export function toQuery(filters: AuditFilterValues, page: number): AuditQuery {
  return {
    kind: filters.kind || undefined,
    connection: filters.connection.trim() || undefined,
    since: localToIso(filters.since),
    until: localToIso(filters.until),
    page,
    page_size: PAGE_SIZE,
  };
}

export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

/** An event's detail as short "key: value" text (the server never puts secrets in it). */
export function describeDetail(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" · ");
}
