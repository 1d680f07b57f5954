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
    """Counters of one cache: hits, coalesced waits, misses that went upstream."""

    hits: int = 0
    coalesced: int = 0
    misses: int = 0


class SingleFlightCache:
    """Values by key until their expiry; a miss runs the fetch once for every concurrent asker.

    `fetch()` returns (value, expires_at) in the cache's clock. Failures are not cached: every waiter of
    that flight gets the error, the next asker tries again. The LRU bound keeps memory flat however many
    distinct pages are asked for.
    """

    def __init__(self, clock: Callable[[], float], max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._clock = clock
        self._max = max_entries
        self._values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Task[Any]] = {}
        self.stats: dict[str, FlightStats] = {}

    def _stats(self, label: str) -> FlightStats:
        stats = self.stats.get(label)
        if stats is None:
            stats = self.stats[label] = FlightStats()
        return stats

    def peek(self, key: Hashable) -> Any | None:
        """The cached value while fresh, else None (counts nothing)."""
        entry = self._values.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    async def get(self, key: Hashable, label: str, fetch: Callable[[], Awaitable[tuple[Any, float]]]) -> Any:
        """The fresh cached value, the running flight's result, or a new flight's result."""
        stats = self._stats(label)
        entry = self._values.get(key)
        if entry is not None:
            if entry[0] > self._clock():
                self._values.move_to_end(key)
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
        value, expires_at = await fetch()
        if expires_at > self._clock():
            self._values[key] = (expires_at, value)
            self._values.move_to_end(key)
            while len(self._values) > self._max:
                self._values.popitem(last=False)
        return value

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
