"""Live updates for many consumers: one source per (exchange, kind, symbol), fanned out to subscribers.

A source is REST polling through the hub (so it shares the hub's cache, single-flight and rate budget),
at the asked interval with jitter, or, for tickers with `source="stream"` where ccxt.pro has the
exchange and the hub's config enables streams, a WebSocket `watch_ticker` (streams.py). Either backs off
exponentially (with jitter) while the exchange fails; each recovery counts as a stream reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Hashable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tradewarden.adapters.market.hub import MarketHub

MAX_BACKOFF_S = 60.0
FEED_KINDS = ("ticker", "order_book", "trades", "ohlcv")


class FeedSource(Protocol):
    """Where a feed's next value comes from (REST polling, or a WebSocket `watch_ticker`)."""

    async def next(self) -> Any:
        """The next value; raises when the exchange fails (the feed backs off and retries)."""
        ...


class PollingSource:
    """Polls the hub every `interval_s` (with ±10 % jitter, so many feeds do not fire in step)."""

    def __init__(
        self, hub: MarketHub, exchange_id: str, kind: str, args: tuple[Any, ...], interval_s: float
    ) -> None:
        if kind not in FEED_KINDS:
            raise ValueError(f"unknown feed kind {kind!r}: use one of {', '.join(FEED_KINDS)}")
        self.hub, self.exchange_id, self.kind, self.args = hub, exchange_id, kind, args
        self.interval_s = interval_s
        self._first = True
        self._rng = random.Random()

    async def next(self) -> Any:
        """Wait out the interval (not before the first value), then ask the hub."""
        if not self._first:
            await asyncio.sleep(self.interval_s * (0.9 + 0.2 * self._rng.random()))
        self._first = False
        method = getattr(self.hub, self.kind)
        return await method(self.exchange_id, *self.args)


class FeedSubscription:
    """One consumer's view of a feed: the latest value (older ones are dropped for a slow reader)."""

    def __init__(self, feed: Feed) -> None:
        self._feed = feed
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

    def offer(self, value: Any) -> None:
        """Keep only the newest value."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(value)

    async def next(self) -> Any:
        """The next value the feed produces."""
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            yield await self.next()

    async def close(self) -> None:
        """Stop receiving; the feed stops when its last subscriber leaves."""
        await self._feed.leave(self)


class Feed:
    """One source and its subscribers; runs while anyone listens."""

    def __init__(self, feeds: Feeds, key: Hashable, source: FeedSource, exchange_id: str) -> None:
        self._feeds, self.key, self.source, self.exchange_id = feeds, key, source, exchange_id
        self.subscribers: set[FeedSubscription] = set()
        self.failures = 0
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random()

    def join(self) -> FeedSubscription:
        """A new subscriber (the feed starts with its first)."""
        sub = FeedSubscription(self)
        self.subscribers.add(sub)
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        return sub

    async def leave(self, sub: FeedSubscription) -> None:
        """Drop a subscriber; stop the source when none is left."""
        self.subscribers.discard(sub)
        if not self.subscribers:
            await self.stop()

    async def stop(self) -> None:
        """Cancel the source's task."""
        self._feeds.forget(self.key, self)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        stopped = getattr(self.source, "stopped", None)
        if stopped is not None:
            stopped()

    async def _run(self) -> None:
        from tradewarden.adapters.market.hub import jittered

        interval = getattr(self.source, "interval_s", 1.0)
        while self.subscribers:
            try:
                value = await self.source.next()
            except Exception as exc:  # the exchange failed: back off (with jitter) and try again
                self.failures += 1
                self.last_error = type(exc).__name__
                await asyncio.sleep(jittered(interval, self.failures, MAX_BACKOFF_S, self._rng))
                continue
            if self.failures:
                self._feeds.hub.stats_of(self.exchange_id).stream_reconnects += 1
                self.failures = 0
            for sub in list(self.subscribers):
                sub.offer(value)


class Feeds:
    """The hub's feeds, one per (exchange, kind, arguments, interval or "stream")."""

    def __init__(self, hub: MarketHub) -> None:
        self.hub = hub
        self._feeds: dict[Hashable, Feed] = {}

    def subscribe(
        self, exchange_id: str, kind: str, *args: Any, interval_s: float = 1.0, source: str = "poll"
    ) -> FeedSubscription:
        """Subscribe to e.g. `("binance", "ticker", "BTC/USDT")`; a feed's consumers share one source.

        `source="stream"` asks for a WebSocket ticker stream; it falls back to polling where the
        exchange has none (or the hub's config turns streams off).
        """
        from tradewarden.adapters.market.streams import StreamSource

        if source not in ("poll", "stream"):
            raise ValueError(f"unknown feed source {source!r}: use poll or stream")
        streamed = source == "stream" and kind == "ticker" and self.hub.streams.available(exchange_id)
        key = (exchange_id, kind, args, "stream" if streamed else interval_s)
        feed = self._feeds.get(key)
        if feed is None:
            made: FeedSource = (
                StreamSource(self.hub, exchange_id, args[0])
                if streamed
                else PollingSource(self.hub, exchange_id, kind, args, interval_s)
            )
            feed = self._feeds[key] = Feed(self, key, made, exchange_id)
        return feed.join()

    def streaming(self, exchange_id: str, symbol: str) -> bool:
        """True when a ticker stream feed of (exchange, symbol) runs."""
        return (exchange_id, "ticker", (symbol,), "stream") in self._feeds

    def forget(self, key: Hashable, feed: Feed) -> None:
        """Drop a stopped feed from the index."""
        if self._feeds.get(key) is feed:
            del self._feeds[key]

    def active(self) -> int:
        """How many feeds are running."""
        return len(self._feeds)

    async def close(self) -> None:
        """Stop every feed."""
        for feed in list(self._feeds.values()):
            await feed.stop()
