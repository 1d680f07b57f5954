"""The vault session of a long-running process (the server): unlock once, open secrets per client.

Argon2id runs once, when the session opens; the data key then stays in this process's memory only (held
by vault_access, never written, logged or returned). Secrets are still opened only inside the exchange
client factory (`client_for_connection`), once per private client it creates. Each connection has one
long-lived private client in the market hub's registry, on its key's own rate budget; it is closed when
the connection is rotated, its endpoint changed or it is removed (seen on the event bus), and when the
session closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

from tradewarden.adapters.exchanges import registry
from tradewarden.adapters.exchanges.client import client_for_connection
from tradewarden.adapters.exchanges.pro import pro_client_for_connection
from tradewarden.adapters.market.hub import MarketHub
from tradewarden.adapters.store.models import Connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import UnlockedVault
from tradewarden.services import events
from tradewarden.services.app import App
from tradewarden.services.connections.service import find
from tradewarden.services.vault_access import hold_data_key

# Audit kinds after which a connection's private client holds stale credentials or a stale endpoint.
STALE_CLIENT_KINDS = frozenset({"connection.rotated", "connection.removed", "connection.endpoint_changed"})


class VaultSession:
    """The open vault of this process and the private clients made from it."""

    def __init__(self, app: App, opened: UnlockedVault) -> None:
        self.app = app
        self._opened = opened
        self.clients_made = 0

    def __repr__(self) -> str:
        return f"VaultSession(store={self.app.settings.home_dir!s}, data key held)"

    @classmethod
    def open(cls, app: App, passphrase: Secret) -> VaultSession:
        """Unlock (the process's one Argon2id run; PassphraseError if wrong) and hold the data key."""
        return cls(app, hold_data_key(app, passphrase))

    def _client_spec(self, name: str) -> tuple[Connection, str, dict[str, Any]]:
        with self.app.store.session() as session:
            row = find(session, name)
            _ = list(row.credentials)  # loaded inside the transaction: the factory reads them later
        info = registry.get_exchange(row.exchange)
        if info is None:
            return row, row.exchange, {}
        ccxt_id = registry.ccxt_id_for(info, row.market)
        return row, ccxt_id, registry.client_options(info, row.market, row.testnet)

    async def private_client(self, hub: MarketHub, name: str) -> Any:
        """The connection's long-lived private client (made, and its secrets opened, on first use)."""
        row, ccxt_id, options = await asyncio.to_thread(self._client_spec, name)

        def make() -> Any:
            self.clients_made += 1
            return client_for_connection(self._opened, row, ccxt_id, options)

        return await hub.private.get(row.id, make)

    async def private_stream_client(self, hub: MarketHub, name: str) -> Any:
        """The connection's long-lived private ccxt.pro client for user-data streams (secrets opened once)."""
        row, ccxt_id, options = await asyncio.to_thread(self._client_spec, name)

        def make() -> Any:
            self.clients_made += 1
            return pro_client_for_connection(self._opened, row, ccxt_id, options)

        return hub.private.stream(row.id, make)

    @contextlib.contextmanager
    def closing_stale_clients(self, hub: MarketHub) -> Iterator[None]:
        """While active, close a connection's private client once it is rotated, re-pointed or removed."""
        loop = asyncio.get_running_loop()
        bus = events.bus_for(self.app.store)

        def on_event(item: events.Event) -> None:
            if not isinstance(item, events.AuditRecorded) or item.kind not in STALE_CLIENT_KINDS:
                return
            if item.connection_id:
                asyncio.run_coroutine_threadsafe(hub.private.close(item.connection_id), loop)

        with events.audit_publishing(self.app.store), bus.listening(on_event):
            yield


@contextlib.asynccontextmanager
async def market_for(vault: VaultSession, hub: MarketHub | None = None) -> AsyncIterator[MarketHub]:
    """The process's market hub for the block: private clients closed when stale, everything at the end."""
    hub = hub or MarketHub()
    try:
        with vault.closing_stale_clients(hub):
            yield hub
    finally:
        await hub.close()
