// The connections page: the list (kept current by the live stream), and the add / re-test / rotate /
// remove flows that start from it.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/endpoints";
import type { Connection, Exchange, HistoryItem, ServerInfo, StreamMessage } from "../api/types";
import { useAnnounce } from "../components/Announcer";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { PageHeader } from "../layout/PageHeader";
import { useI18n } from "../i18n/I18nContext";
import { errorText } from "../lib/errors";
import { useStream } from "../live/LiveContext";
import { AddConnectionWizard } from "../wizard/AddConnectionWizard";
import { ConnectionCard } from "./ConnectionCard";
import { RotateDialog } from "./RotateDialog";
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

export function ConnectionsPage() {
  const { t } = useI18n();
  const announce = useAnnounce();
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [exchanges, setExchanges] = useState<Exchange[]>([]);
  const [serverInfo, setServerInfo] = useState<ServerInfo | null>(null);
  const [last, setLast] = useState<Record<string, HistoryItem | null>>({});
  const [testing, setTesting] = useState<ReadonlySet<string>>(new Set());
  const [actionErrors, setActionErrors] = useState<Record<string, string>>({});
  const [wizardOpen, setWizardOpen] = useState(false);
  const [rotating, setRotating] = useState<Connection | null>(null);
  const [removing, setRemoving] = useState<Connection | null>(null);
  const [removeBusy, setRemoveBusy] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const reloadTimer = useRef<number | undefined>(undefined);
  // The list as shown, for the stream handler (which must not re-subscribe on every change).
  const shown = useRef<Connection[]>([]);
  useEffect(() => {
    shown.current = connections ?? [];
  }, [connections]);

  const statusLabel = useCallback((status: string) => t(badgeFor(status).labelKey, { code: status }), [t]);

  const load = useCallback(async () => {
    try {
      const list = await api.connections();
      setConnections(list);
      setLoadError(null);
      // The latest test of each connection carries its warnings, message and remedy.
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
    void load();
    api.exchanges().then(setExchanges, (error: unknown) => setLoadError(errorText(error, t)));
    return () => window.clearTimeout(reloadTimer.current);
    // Load once on mount: a change of language (a new `t`) must not refetch.
  }, []); // deliberately no dependencies

  const scheduleReload = useCallback(() => {
    window.clearTimeout(reloadTimer.current);
    reloadTimer.current = window.setTimeout(() => void load(), RELOAD_DEBOUNCE_MS);
  }, [load]);

  useStream((message: StreamMessage) => {
    if (message.type === "hello") {
      scheduleReload(); // (re)connected: events may have been missed while offline
      return;
    }
    if (message.type === "connection.status" && message.connection_id) {
      const status = typeof message.detail.status === "string" ? message.detail.status : null;
      const current = shown.current.find((c) => c.id === message.connection_id);
      if (status && current && current.status !== status) {
        // Show the new badge at once; the reload then brings the message and remedy that go with it.
        setConnections((list) => list?.map((c) => (c.id === current.id ? { ...c, status, status_checked_at: message.ts || c.status_checked_at } : c)) ?? list);
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

  const retest = async (connection: Connection) => {
    setBusy(connection.id, true);
    setActionErrors(({ [connection.id]: _dropped, ...rest }) => rest);
    try {
      const result = await api.testConnection(connection.id);
      const now = new Date().toISOString();
      setLast((map) => ({ ...map, [connection.id]: { ...result, checked_at: now } }));
      setConnections((list) =>
        list?.map((c) => (c.id === connection.id ? { ...c, status: result.status, status_checked_at: now } : c)) ?? list,
      );
      announce(t("conn.tested", { name: connection.name, status: statusLabel(result.status) }));
    } catch (error) {
      const text = errorText(error, t);
      setActionErrors((map) => ({ ...map, [connection.id]: text }));
      announce(text);
    } finally {
      setBusy(connection.id, false);
    }
  };

  const openWizard = () => {
    setWizardOpen(true);
    if (!serverInfo) api.serverInfo().then(setServerInfo, () => setServerInfo(null));
  };

  const confirmRemove = async () => {
    if (!removing) return;
    setRemoveBusy(true);
    try {
      await api.removeConnection(removing.id);
      const name = removing.name;
      setConnections((list) => list?.filter((c) => c.id !== removing.id) ?? list);
      setRemoving(null);
      setRemoveError(null);
      announce(t("conn.removed", { name }));
      // The Remove button that opened the dialog is gone; continue from the page heading.
      window.requestAnimationFrame(() => heading.current?.focus());
    } catch (error) {
      setRemoveError(errorText(error, t));
    } finally {
      setRemoveBusy(false);
    }
  };

  const exchangeOf = (id: string) => exchanges.find((e) => e.id === id) ?? null;

  return (
    <>
      <PageHeader ref={heading} title={t("conn.title")} intro={t("conn.intro")}>
        <button type="button" className="button button-primary" onClick={openWizard} data-testid="connections-add">
          {t("conn.add")}
        </button>
      </PageHeader>

      {loadError ? (
        <p className="error-text" role="alert" data-testid="connections-error">
          {loadError}{" "}
          <button type="button" className="button button-small" onClick={() => void load()}>
            {t("common.retry")}
          </button>
        </p>
      ) : null}
      {connections === null && !loadError ? <p role="status">{t("common.loading")}</p> : null}
      {connections && connections.length === 0 ? (
        <p className="empty" data-testid="connections-empty">
          {t("conn.empty")}
        </p>
      ) : null}
      {connections && connections.length > 0 ? (
        <ul className="card-list" data-testid="connections-list">
          {connections.map((connection) => (
            <li key={connection.id}>
              <ConnectionCard
                connection={connection}
                exchangeName={exchangeOf(connection.exchange)?.name ?? connection.exchange}
                last={last[connection.id] ?? null}
                testing={testing.has(connection.id)}
                actionError={actionErrors[connection.id] ?? null}
                onRetest={() => void retest(connection)}
                onRotate={() => setRotating(connection)}
                onRemove={() => {
                  setRemoveError(null);
                  setRemoving(connection);
                }}
              />
            </li>
          ))}
        </ul>
      ) : null}

      {wizardOpen ? (
        <AddConnectionWizard
          exchanges={exchanges}
          serverInfo={serverInfo}
          existingNames={(connections ?? []).map((c) => c.name)}
          onClose={(changed) => {
            setWizardOpen(false);
            if (changed) void load();
          }}
        />
      ) : null}
      {rotating ? (
        <RotateDialog
          connection={rotating}
          exchangeCredentials={exchangeOf(rotating.exchange)?.credentials ?? null}
          exchangeName={exchangeOf(rotating.exchange)?.name ?? rotating.exchange}
          onClose={(rotated) => {
            setRotating(null);
            if (rotated) void load();
          }}
        />
      ) : null}
      {removing ? (
        <ConfirmDialog
          title={t("conn.remove.title", { name: removing.name })}
          body={t("conn.remove.body")}
          confirmLabel={t("conn.remove.confirm")}
          busy={removeBusy}
          error={removeError}
          onConfirm={() => void confirmRemove()}
          onCancel={() => setRemoving(null)}
        />
      ) : null}
    </>
  );
}
