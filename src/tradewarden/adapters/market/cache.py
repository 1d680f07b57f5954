"""A TTL cache with single-flight: concurrent identical requests share one upstream call."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_ENTRIES = 10_000


@dataclass
class FlightStats:
    """Counters of one cache: hits, coalesced waits, misses that went upstream, remembered failures."""

    hits: int = 0
    coalesced: int = 0
    misses: int = 0
    failures_reused: int = 0


@dataclass(frozen=True)
class _Failed:
    """A remembered failure (see `error_ttl_s`)."""

    error: Exception


class SingleFlightCache:
    """Values by key until their expiry; a miss runs the fetch once for every concurrent asker.

    `fetch()` returns (value, expires_at) in the cache's clock. Every waiter of a failed flight gets its
    error, and askers within `error_ttl_s` after it get the same error without a new call (so a failing
    symbol is not asked again by each of its hundreds of consumers); after that the next asker tries
    again. The LRU bound keeps memory flat however many distinct pages are asked for.
    """

    def __init__(
        self, clock: Callable[[], float], max_entries: int = DEFAULT_MAX_ENTRIES, error_ttl_s: float = 0.0
    ) -> None:
        self._clock = clock
        self._max = max_entries
        self._error_ttl_s = error_ttl_s
        self._values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Task[Any]] = {}
        self.stats: dict[str, FlightStats] = {}

    def _stats(self, label: str) -> FlightStats:
        stats = self.stats.get(label)
        if stats is None:
            stats = self.stats[label] = FlightStats()
        return stats

    def peek(self, key: Hashable) -> Any | None:
        """The cached value while fresh, else None (a remembered failure too; counts nothing)."""
        entry = self._values.get(key)
        if entry is None or entry[0] <= self._clock() or isinstance(entry[1], _Failed):
            return None
        return entry[1]

    async def get(self, key: Hashable, label: str, fetch: Callable[[], Awaitable[tuple[Any, float]]]) -> Any:
        """The fresh cached value, the running flight's result, or a new flight's result."""
        stats = self._stats(label)
        entry = self._values.get(key)
        if entry is not None:
            if entry[0] > self._clock():
                self._values.move_to_end(key)
                if isinstance(entry[1], _Failed):
                    stats.failures_reused += 1
                    raise entry[1].error
                stats.hits += 1
                return entry[1]
            del self._values[key]
        task = self._inflight.get(key)
        if task is not None:
            stats.coalesced += 1
        else:
            stats.misses += 1
            task = asyncio.ensure_future(self._fly(key, fetch))
            self._inflight[key] = task
            task.add_done_callback(self._landed(key))
        # shield: a consumer that is cancelled leaves the shared call running for the others
        return await asyncio.shield(task)

    async def _fly(self, key: Hashable, fetch: Callable[[], Awaitable[tuple[Any, float]]]) -> Any:
        try:
            value, expires_at = await fetch()
        except Exception as exc:
            if self._error_ttl_s > 0:
                self._store(key, _Failed(exc), self._clock() + self._error_ttl_s)
            raise
        self._store(key, value, expires_at)
        return value

    def _store(self, key: Hashable, value: Any, expires_at: float) -> None:
        if expires_at > self._clock():
            self._values[key] = (expires_at, value)
            self._values.move_to_end(key)
            while len(self._values) > self._max:
                self._values.popitem(last=False)

    def _landed(self, key: Hashable) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            if self._inflight.get(key) is task:
                del self._inflight[key]  # finished flights are evicted at once: the cache holds values
            if not task.cancelled():
                task.exception()  # retrieved here, so a flight whose askers all left logs no warning

        return done

    def clear(self) -> None:
        """Forget every cached value (flights in progress finish for their askers)."""
        self._values.clear()
