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

    Each value remembers when its flight started (`born`). An asker may name `not_before`: a value (or a
    flight) started earlier is not served to it, so a book read after a ticker is never older than that
    ticker.
    """

    def __init__(
        self, clock: Callable[[], float], max_entries: int = DEFAULT_MAX_ENTRIES, error_ttl_s: float = 0.0
    ) -> None:
        self._clock = clock
        self._max = max_entries
        self._error_ttl_s = error_ttl_s
        self._values: OrderedDict[Hashable, tuple[float, float, Any]] = OrderedDict()  # expiry, born, value
        self._inflight: dict[Hashable, tuple[asyncio.Task[Any], float]] = {}  # the flight and its start
        self.stats: dict[str, FlightStats] = {}

    def _stats(self, label: str) -> FlightStats:
        stats = self.stats.get(label)
        if stats is None:
            stats = self.stats[label] = FlightStats()
        return stats

    def peek(self, key: Hashable) -> Any | None:
        """The cached value while fresh, else None (a remembered failure too; counts nothing)."""
        entry = self._values.get(key)
        if entry is None or entry[0] <= self._clock() or isinstance(entry[2], _Failed):
            return None
        return entry[2]

    def born(self, key: Hashable) -> float | None:
        """When the flight of the cached value started (None: nothing cached)."""
        entry = self._values.get(key)
        return entry[1] if entry is not None else None

    async def get(
        self,
        key: Hashable,
        label: str,
        fetch: Callable[[], Awaitable[tuple[Any, float]]],
        not_before: float | None = None,
    ) -> Any:
        """The fresh cached value, the running flight's result, or a new flight's result; none of them
        older than `not_before` (a flight started earlier is not joined: a new one starts)."""
        stats = self._stats(label)
        floor = float("-inf") if not_before is None else not_before
        entry = self._values.get(key)
        if entry is not None:
            if entry[0] > self._clock() and entry[1] >= floor:
                self._values.move_to_end(key)
                if isinstance(entry[2], _Failed):
                    stats.failures_reused += 1
                    raise entry[2].error
                stats.hits += 1
                return entry[2]
            del self._values[key]
        flight = self._inflight.get(key)
        if flight is not None and flight[1] >= floor:
            task = flight[0]
            stats.coalesced += 1
        else:
            stats.misses += 1
            born = self._clock()
            task = asyncio.ensure_future(self._fly(key, fetch, born))
            self._inflight[key] = (task, born)
            task.add_done_callback(self._landed(key))
        # shield: a consumer that is cancelled leaves the shared call running for the others
        return await asyncio.shield(task)

    async def _fly(
        self, key: Hashable, fetch: Callable[[], Awaitable[tuple[Any, float]]], born: float
    ) -> Any:
        try:
            value, expires_at = await fetch()
        except Exception as exc:
            if self._error_ttl_s > 0:
                self._store(key, _Failed(exc), self._clock() + self._error_ttl_s, born)
            raise
        self._store(key, value, expires_at, born)
        return value

    def _store(self, key: Hashable, value: Any, expires_at: float, born: float) -> None:
        held = self._values.get(key)
        if held is not None and held[1] > born:
            return  # a flight started later has landed first: keep the newer value
        if expires_at > self._clock():
            self._values[key] = (expires_at, born, value)
            self._values.move_to_end(key)
            while len(self._values) > self._max:
                self._values.popitem(last=False)

    def _landed(self, key: Hashable) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            flight = self._inflight.get(key)
            if flight is not None and flight[0] is task:
                del self._inflight[key]  # finished flights are evicted at once: the cache holds values
            if not task.cancelled():
                task.exception()  # retrieved here, so a flight whose askers all left logs no warning

        return done

    def clear(self) -> None:
        """Forget every cached value (flights in progress finish for their askers)."""
        self._values.clear()
