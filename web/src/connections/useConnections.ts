// The connections list as the page shows it: loaded from the API, each with its latest test result,
// kept current by the live stream, and re-tested on request.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/endpoints";
import type { Connection, HistoryItem, StreamMessage, TestResult } from "../api/types";
import { useAnnounce } from "../components/Announcer";
import { useI18n } from "../i18n/I18nContext";
import { errorText } from "../lib/errors";
import { useStream } from "../live/LiveContext";
import { badgeFor } from "./status";

// Audit kinds after which the list may have changed (added, removed, re-keyed, re-tested elsewhere).
const RELOAD_KINDS = new Set([
  "connection.added",
  "connection.removed",
  "connection.rotated",
  "connection.tested",
  "connection.endpoint_changed",
  "connection.key_generated",
]);
const RELOAD_DEBOUNCE_MS = 300;

export interface ConnectionsModel {
  connections: Connection[] | null;
  loadError: string | null;
  /** The latest stored test of each connection (its warnings, message and remedy). */
  last: Record<string, HistoryItem | null>;
  testing: ReadonlySet<string>;
  actionErrors: Record<string, string>;
  reload: () => Promise<void>;
  retest: (connection: Connection) => Promise<TestResult | null>;
  forget: (id: string) => void;
}

export function useConnections(): ConnectionsModel {
  const { t } = useI18n();
  const announce = useAnnounce();
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [last, setLast] = useState<Record<string, HistoryItem | null>>({});
  const [testing, setTesting] = useState<ReadonlySet<string>>(new Set());
  const [actionErrors, setActionErrors] = useState<Record<string, string>>({});
  const reloadTimer = useRef<number | undefined>(undefined);
  // Connections removed from this page: a reload whose list was fetched before the removal must neither
  // show them again nor ask for their history (which would answer 404, an error in the console).
  const removed = useRef<Set<string>>(new Set());
  // The list as shown, for the stream handler (which must not re-subscribe on every change).
  const shown = useRef<Connection[]>([]);
  useEffect(() => {
    shown.current = connections ?? [];
  }, [connections]);

  const statusLabel = useCallback((status: string) => t(badgeFor(status).labelKey, { code: status }), [t]);

  const reload = useCallback(async () => {
    try {
      const list = (await api.connections()).filter((c) => !removed.current.has(c.id));
      setConnections(list);
      setLoadError(null);
      const results = await Promise.all(
        list.map((c) =>
          api.history(c.id, 1).then(
            (items) => [c.id, items[0] ?? null] as const,
            () => [c.id, null] as const,
          ),
        ),
      );
      setLast(Object.fromEntries(results));
    } catch (error) {
      setLoadError(errorText(error, t));
    }
  }, [t]);

  useEffect(() => {
    void reload();
    return () => window.clearTimeout(reloadTimer.current);
  }, []); // deliberately once: a change of language (a new `t`) must not refetch

  const scheduleReload = useCallback(() => {
    window.clearTimeout(reloadTimer.current);
    reloadTimer.current = window.setTimeout(() => void reload(), RELOAD_DEBOUNCE_MS);
  }, [reload]);

  const patch = (id: string, change: Partial<Connection>) =>
    setConnections((list) => list?.map((c) => (c.id === id ? { ...c, ...change } : c)) ?? list);

  useStream((message: StreamMessage) => {
    if (message.type === "hello") {
      scheduleReload(); // (re)connected: events may have been missed while offline
      return;
    }
    if (message.type === "connection.status" && message.connection_id) {
      const status = typeof message.detail.status === "string" ? message.detail.status : null;
      const current = shown.current.find((c) => c.id === message.connection_id);
      if (status && current && current.status !== status) {
        // The new badge at once; the reload then brings the message and remedy that go with it.
        patch(current.id, { status, status_checked_at: message.ts || current.status_checked_at });
        announce(t("conn.statusChanged", { name: current.name, status: statusLabel(status) }));
      }
      scheduleReload();
      return;
    }
    if (RELOAD_KINDS.has(message.kind)) scheduleReload();
  });

  const setBusy = (id: string, busy: boolean) =>
    setTesting((set) => {
      const next = new Set(set);
      if (busy) next.add(id);
      else next.delete(id);
      return next;
    });

  const retest = async (connection: Connection): Promise<TestResult | null> => {
    setBusy(connection.id, true);
    setActionErrors(({ [connection.id]: _dropped, ...rest }) => rest);
    try {
      const result = await api.testConnection(connection.id);
      const now = new Date().toISOString();
      setLast((map) => ({ ...map, [connection.id]: { ...result, checked_at: now } }));
      patch(connection.id, { status: result.status, status_checked_at: now });
      announce(t("conn.tested", { name: connection.name, status: statusLabel(result.status) }));
      return result;
    } catch (error) {
      const text = errorText(error, t);
      setActionErrors((map) => ({ ...map, [connection.id]: text }));
      announce(text);
      return null;
    } finally {
      setBusy(connection.id, false);
    }
  };

  const forget = (id: string) => {
    removed.current.add(id);
    setConnections((list) => list?.filter((c) => c.id !== id) ?? list);
  };

  return { connections, loadError, last, testing, actionErrors, reload, retest, forget };
}
