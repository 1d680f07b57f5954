"""Ticker streams for the hub: one public ccxt.pro client per exchange, shared by every stream feed.

`StreamSource` is a `FeedSource` (feeds.py) whose `next()` is `watch_ticker(symbol)`, each wait bounded
by `HubConfig.stream_stall_s`: a connection that stalls (no frame, no pong) or drops raises; the source
then closes that exchange's pro client, so the next watch opens a new connection, and the feed backs off
and counts a reconnect when a frame comes again. Every frame is kept as the latest value of its
(exchange, symbol) with the wall time it arrived; `MarketHub.ticker` answers from it while it is fresher
than `HubConfig.stream_fresh_s`, and from REST otherwise (fail closed: a silent stream never serves an
old price).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradewarden.adapters.market.hub import MarketHub


@dataclass(frozen=True)
class StreamTicker:
    """The latest streamed ticker of one (exchange, symbol) and when (wall seconds) it arrived."""

    ticker: dict[str, Any]
    received_at: float


class StreamClients:
    """The hub's public ccxt.pro clients (one per exchange) and the latest streamed tickers."""

    def __init__(self, hub: MarketHub) -> None:
        self._hub = hub
        self._clients: dict[str, Any] = {}
        self._latest: dict[tuple[str, str], StreamTicker] = {}
        self._watched: dict[tuple[str, str], int] = {}  # stream sources per (exchange, symbol)
        self.created = 0

    def available(self, exchange_id: str) -> bool:
        """True when the hub's config enables streams and ccxt.pro has this exchange."""
        from tradewarden.adapters.exchanges.pro import has_pro

        return self._hub.config.streams and has_pro(exchange_id)

    async def client(self, exchange_id: str) -> Any:
        """The exchange's shared pro client (made on first use; markets taken from the REST client)."""
        client = self._clients.get(exchange_id)
        if client is not None:
            return client
        from tradewarden.adapters.exchanges.pro import build_pro_client

        markets = await self._hub.markets(exchange_id)  # once for the process, shared with REST
        client = self._clients.get(exchange_id)
        if client is not None:  # another source made it meanwhile
            return client
        rest = self._hub.client(exchange_id)
        client = build_pro_client(
            exchange_id,
            None,
            self._hub.endpoint(exchange_id),
            self._hub.config.options.get(exchange_id),
            self._hub.config.timeout_ms,
        )
        client.set_markets(markets, getattr(rest, "currencies", None))
        client.open()  # binds the loop now: no REST call has (KuCoin's watch spawns its token request)
        client.throttle = self._hub.public_budget(exchange_id).acquire  # its REST calls share the budget
        self._clients[exchange_id] = client
        self.created += 1
        return client

    async def reset(self, exchange_id: str, client: Any) -> None:
        """Close `client` if it is still the exchange's one: the next watch opens a new connection."""
        if self._clients.get(exchange_id) is client:
            del self._clients[exchange_id]
        with contextlib.suppress(Exception):
            await client.close()

    def watching(self, exchange_id: str, symbol: str, delta: int) -> None:
        """A stream source of (exchange, symbol) started (+1) or stopped (-1)."""
        key = (exchange_id, symbol)
        left = self._watched.get(key, 0) + delta
        if left > 0:
            self._watched[key] = left
        else:
            self._watched.pop(key, None)
            self._latest.pop(key, None)

    def record(self, exchange_id: str, symbol: str, ticker: dict[str, Any]) -> None:
        """Keep a frame as the latest value of its (exchange, symbol)."""
        self._latest[(exchange_id, symbol)] = StreamTicker(ticker, self._hub._clock())
        self._hub.stats_of(exchange_id).stream_frames += 1

    def fresh(self, exchange_id: str, symbol: str) -> StreamTicker | None:
        """The latest streamed ticker when fresh enough to answer with; counts a hit or a fallback.

        None also when no stream is watched for it (nothing is counted then: REST answers as ever).
        """
        key = (exchange_id, symbol)
        if key not in self._watched:
            return None
        stats = self._hub.stats_of(exchange_id)
        latest = self._latest.get(key)
        if latest is not None and self._hub._clock() - latest.received_at <= self._hub.config.stream_fresh_s:
            stats.stream_hits += 1
            return latest
        stats.stream_fallbacks += 1
        return None

    async def close(self, exchange_id: str | None = None) -> None:
        """Close one exchange's pro client (its endpoint changed), or all of them (the hub stops)."""
        ids = [exchange_id] if exchange_id is not None else list(self._clients)
        for one in ids:
            client = self._clients.pop(one, None)
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close()


class StreamSource:
    """`watch_ticker(symbol)` on the hub's pro client of the exchange, each wait bounded (see module)."""

    kind = "ticker"

    def __init__(self, hub: MarketHub, exchange_id: str, symbol: str) -> None:
        self.hub, self.exchange_id, self.symbol = hub, exchange_id, symbol
        self.interval_s = hub.config.stream_retry_s  # the feed's backoff base after a failure
        self.timeouts = 0
        self._started = False

    async def next(self) -> dict[str, Any]:
        """The next ticker frame; raises on a drop, an error, or no frame within the stall timeout."""
        streams = self.hub.streams
        if not self._started:
            self._started = True
            streams.watching(self.exchange_id, self.symbol, +1)
        client = await streams.client(self.exchange_id)
        try:
            ticker: dict[str, Any] = await asyncio.wait_for(
                client.watch_ticker(self.symbol), self.hub.config.stream_stall_s
            )
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                self.timeouts += 1
            await streams.reset(self.exchange_id, client)
            raise
        streams.record(self.exchange_id, self.symbol, ticker)
        return ticker

    def stopped(self) -> None:
        """The feed stopped: the hub no longer treats the symbol as streamed."""
        if self._started:
            self._started = False
            self.hub.streams.watching(self.exchange_id, self.symbol, -1)
