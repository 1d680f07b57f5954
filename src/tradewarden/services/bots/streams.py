"""The bot runner's streams: ticker streams for the pairs its bots quote, order streams for live bots.

Each round the runner calls `sync` with its loaded bots: one ticker stream subscription per (exchange,
pair) that a running non-testnet bot quotes (the hub then answers `ticker()` from fresh frames and from
REST otherwise), and one `watch_orders()` task per connection with a running live bot. An order update
only wakes the runner (`until_woken`): the next round starts at once and its REST refresh, which stays
the source of truth, applies the fill. A user stream that drops or whose listenKey expires is watched
again after a backoff, with the cached listenKey/token dropped so a new one is asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Iterable
from typing import Any, Protocol

from tradewarden.adapters.exchanges.pro import forget_stream_auth
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.market.feeds import FeedSubscription
from tradewarden.adapters.market.hub import jittered
from tradewarden.services.vault_session import VaultSession

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
STREAMS_ENV = "TRADEWARDEN_BOT_STREAMS"


def streams_enabled() -> bool:
    """Whether the server's and `tradewarden runner`'s bots use streams: on unless the env says 0."""
    return os.environ.get(STREAMS_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class _Bot(Protocol):
    """What `sync` reads of a loaded bot (runner._Loaded)."""

    status: str
    venue: Any
    driver: Any


class RunnerStreams:
    """Stream subscriptions of one runner; `close()` when the runner stops."""

    def __init__(self, hub: MarketHub, vault: VaultSession | None, retry_s: float = 1.0) -> None:
        self.hub, self.vault, self.retry_s = hub, vault, retry_s
        self.woken = asyncio.Event()
        self.tickers: dict[tuple[str, str], FeedSubscription] = {}
        self.users: dict[str, asyncio.Task[None]] = {}  # user-data watch per connection id
        self._clients: dict[str, Any] = {}  # the private pro client each watch uses
        self.order_updates = 0
        self.user_reconnects = 0
        self._rng = random.Random()

    async def sync(self, loaded: Iterable[_Bot]) -> None:
        """Subscribe what the running bots need now; drop what none needs any more."""
        tickers: set[tuple[str, str]] = set()
        users: dict[str, Any] = {}
        for item in loaded:
            if item.status != "running" or item.venue.testnet:  # testnet bots quote on their own client
                continue
            tickers.update((item.venue.ccxt_id, pair) for pair in item.driver.pairs)
            if item.driver.mode == "live" and self.vault is not None:
                users[item.venue.connection_id] = item.venue
        for key in set(self.tickers) - tickers:
            await self.tickers.pop(key).close()
        for exchange_id, pair in sorted(tickers - set(self.tickers)):
            self.tickers[(exchange_id, pair)] = self.hub.feeds.subscribe(
                exchange_id, "ticker", pair, source="stream"
            )
        for connection_id in set(self.users) - set(users):
            await self._stop_user(connection_id)
        for connection_id, venue in users.items():
            task = self.users.get(connection_id)
            if task is None or task.done():
                self.users[connection_id] = asyncio.create_task(self._watch_orders(venue))

    async def until_woken(self, stop: asyncio.Event) -> None:
        """Wait until `stop` is set or an order update arrived (then clear the wake-up)."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.woken.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self.woken.clear()

    async def _watch_orders(self, venue: Any) -> None:
        """Watch the connection's order updates for good: each one wakes the runner."""
        assert self.vault is not None
        failures = 0
        while True:
            client = None
            try:
                client = await self.vault.private_stream_client(self.hub, venue.connection_name)
                self._clients[venue.connection_id] = client
                if not client.markets:  # the hub's markets: no second markets download on the key
                    markets = await self.hub.markets(venue.ccxt_id)
                    client.set_markets(markets, getattr(self.hub.client(venue.ccxt_id), "currencies", None))
                    client.open()  # binds the loop, which ccxt does on a first REST call (none was made)
                if failures:
                    self.user_reconnects += 1
                    self.hub.stats_of(venue.ccxt_id).user_stream_reconnects += 1
                await client.watch_orders()
                failures = 0
                self.order_updates += 1
                self.woken.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a drop, an expired listenKey, a refused key: back off, watch again
                failures += 1
                log.info("user stream of %s failed: %s", venue.connection_name, type(exc).__name__)
                if client is not None:
                    forget_stream_auth(client)  # an expired listenKey must not be reused
                    with contextlib.suppress(Exception):
                        await client.close_ws_clients()
                await asyncio.sleep(jittered(self.retry_s, failures - 1, MAX_BACKOFF_S, self._rng))

    async def close(self) -> None:
        """Close every ticker subscription and stop every user-data watch."""
        for sub in list(self.tickers.values()):
            await sub.close()
        self.tickers.clear()
        for connection_id in list(self.users):
            await self._stop_user(connection_id)

    async def _stop_user(self, connection_id: str) -> None:
        """Stop one connection's watch and close its stream connections (the client stays the hub's)."""
        await _cancel(self.users.pop(connection_id))
        client = self._clients.pop(connection_id, None)
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close_ws_clients()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
