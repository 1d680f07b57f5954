"""Long-lived private clients, one per connection, each spending its API key's own rate budget.

The client is made by the caller's `make()`, which must be the exchange client factory
(`adapters/exchanges/client.client_for_connection`): that is where, and the only time, the connection's
secrets are opened. The registry never sees a secret. A client is closed when its connection is rotated
or removed (`close`), and all of them when the hub stops (`close_all`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tradewarden.adapters.exchanges import errors

if TYPE_CHECKING:
    from tradewarden.adapters.market.hub import MarketHub


class PrivateClients:
    """Private ccxt clients by connection id, made once and shared by that connection's users."""

    def __init__(self, hub: MarketHub) -> None:
        self._hub = hub
        self._clients: dict[str, Any] = {}
        self._streams: dict[str, Any] = {}  # ccxt.pro clients for user-data streams, by connection id
        self._locks: dict[str, asyncio.Lock] = {}
        self.created = 0
        self.closed = 0

    def connections(self) -> list[str]:
        """Ids of the connections with an open private client."""
        return sorted(self._clients)

    async def get(self, connection_id: str, make: Callable[[], Any]) -> Any:
        """The connection's private client; `make()` runs only when there is none (once, however many ask)."""
        client = self._clients.get(connection_id)
        if client is not None:
            return client
        lock = self._locks.setdefault(connection_id, asyncio.Lock())
        async with lock:
            client = self._clients.get(connection_id)
            if client is None:
                client = make()
                from tradewarden.adapters.market.hub import install_rate_limit_pause

                budget = self._hub.private_budget(client.id, connection_id, float(client.rateLimit))
                client.throttle = budget.acquire
                errors.install_response_capture(client)
                install_rate_limit_pause(client, budget, lambda: self._hub._count_limited(client.id))
                self._clients[connection_id] = client
                self.created += 1
        return client

    def stream(self, connection_id: str, make: Callable[[], Any]) -> Any:
        """The connection's private ccxt.pro client (user-data streams), on the key's own budget too.

        `make()` must be the stream client factory (`adapters/exchanges/pro.pro_client_for_connection`).
        """
        client = self._streams.get(connection_id)
        if client is None:
            client = make()
            budget = self._hub.private_budget(client.id, connection_id, float(client.rateLimit))
            client.throttle = budget.acquire  # its listenKey/token requests spend the key's budget
            self._streams[connection_id] = client
            self.created += 1
        return client

    async def close(self, connection_id: str) -> bool:
        """Close and forget the connection's clients and its key's budget (rotated or removed)."""
        stream = self._streams.pop(connection_id, None)
        if stream is not None:
            self.closed += 1
            await stream.close()
        client = self._clients.pop(connection_id, None)
        self._locks.pop(connection_id, None)
        self._hub.drop_private_budget(connection_id)
        if client is None:
            return False
        self.closed += 1
        await client.close()
        return True

    async def close_all(self) -> None:
        """Close every private client (the hub is stopping)."""
        for connection_id in sorted(set(self._clients) | set(self._streams)):
            await self.close(connection_id)
