// The connections page: the list, and the add / re-test / rotate / remove flows that start from it.
import { useEffect, useRef, useState } from "react";
import { api } from "../api/endpoints";
import type { Connection, Exchange, ServerInfo } from "../api/types";
import { useAnnounce } from "../components/Announcer";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { useI18n } from "../i18n/I18nContext";
import { PageHeader } from "../layout/PageHeader";
import { errorText } from "../lib/errors";
import { AddConnectionWizard } from "../wizard/AddConnectionWizard";
import { ConnectionCard } from "./ConnectionCard";
import { EditDialog } from "./EditDialog";
import { RotateDialog } from "./RotateDialog";
import { useConnections } from "./useConnections";

export function ConnectionsPage() {
  const { t } = useI18n();
  const announce = useAnnounce();
  const model = useConnections();
  const { connections, loadError } = model;
  const [exchanges, setExchanges] = useState<Exchange[]>([]);
  const [exchangesError, setExchangesError] = useState<string | null>(null);
  const [serverInfo, setServerInfo] = useState<ServerInfo | null>(null);
  const [wizardOpen, setWizardOpen] = useState(false);
  const [rotating, setRotating] = useState<Connection | null>(null);
  const [editing, setEditing] = useState<Connection | null>(null);
  const [removing, setRemoving] = useState<Connection | null>(null);
  const [removeBusy, setRemoveBusy] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    api.exchanges().then(setExchanges, (error: unknown) => setExchangesError(errorText(error, t)));
  }, []); // deliberately once: a change of language must not refetch

  const exchangeOf = (id: string) => exchanges.find((e) => e.id === id) ?? null;

  const openWizard = () => {
    setWizardOpen(true);
    // Fetched per opening: the address is what the server sees now.
    api.serverInfo().then(setServerInfo, () => setServerInfo(null));
  };

  const confirmRemove = async () => {
    if (!removing) return;
    setRemoveBusy(true);
    try {
      await api.removeConnection(removing.id);
      model.forget(removing.id);
      setRemoving(null);
      setRemoveError(null);
      announce(t("conn.removed", { name: removing.name }));
      // The Remove button that opened the dialog is gone; continue from the page heading.
      window.requestAnimationFrame(() => heading.current?.focus());
    } catch (error) {
      setRemoveError(errorText(error, t));
    } finally {
      setRemoveBusy(false);
    }
  };

  const error = loadError ?? exchangesError;

  return (
    <>
      <PageHeader ref={heading} title={t("conn.title")} intro={t("conn.intro")}>
        <button type="button" className="button button-primary" onClick={openWizard} data-testid="connections-add">
          {t("conn.add")}
        </button>
      </PageHeader>

      {error ? (
        <p className="error-text" role="alert" data-testid="connections-error">
          {error}{" "}
          <button type="button" className="button button-small" onClick={() => void model.reload()}>
            {t("common.retry")}
          </button>
        </p>
      ) : null}
      {connections === null && !error ? <p role="status">{t("common.loading")}</p> : null}
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
                last={model.last[connection.id] ?? null}
                testing={model.testing.has(connection.id)}
                actionError={model.actionErrors[connection.id] ?? null}
                onRetest={() => void model.retest(connection)}
                onRotate={() => setRotating(connection)}
                onEdit={() => setEditing(connection)}
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
            if (changed) void model.reload();
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
            if (rotated) void model.reload();
          }}
        />
      ) : null}
      {editing ? (
        <EditDialog
          connection={editing}
          exchange={exchangeOf(editing.exchange) ?? null}
          existingNames={(connections ?? []).filter((c) => c.id !== editing.id).map((c) => c.name)}
          onClose={(changed) => {
            setEditing(null);
            if (changed) void model.reload();
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
