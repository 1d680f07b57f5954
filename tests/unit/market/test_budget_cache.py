"""The shared rate budget, Retry-After parsing, backoff bounds and the single-flight cache."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from typing import Any

import ccxt
import pytest

from tradewarden.adapters.market.budget import BudgetLimits, WeightBudget
from tradewarden.adapters.market.cache import SingleFlightCache
from tradewarden.adapters.market.hub import MAX_PAUSE_S, jittered, retry_after_s

STEP_S = 10.0


async def test_rolling_window_never_holds_more_than_the_capacity() -> None:
    granted: list[float] = []
    budget = WeightBudget("t", BudgetLimits(limit=5, window_s=0.3), headroom=1.0)

    async def one() -> None:
        await budget.acquire(1)
        granted.append(time.monotonic())

    async with asyncio.timeout(STEP_S):
        await asyncio.gather(*(one() for _ in range(16)))
    granted.sort()
    busiest = max(sum(1 for t in granted if start <= t < start + 0.3) for start in granted)
    assert len(granted) == 16 and busiest <= 5
    assert budget.stats.requests == 16 and budget.stats.waits >= 11 and budget.stats.peak_used <= 5


async def test_a_call_costing_more_than_the_capacity_still_passes_alone() -> None:
    budget = WeightBudget("t", BudgetLimits(limit=10, window_s=60), headroom=0.5)
    async with asyncio.timeout(STEP_S):
        await budget.acquire(40)
    assert budget.used() == budget.capacity == 5


def test_pause_extends_never_shortens() -> None:
    now = [100.0]
    budget = WeightBudget("t", BudgetLimits(limit=10), clock=lambda: now[0])
    budget.pause(5)
    budget.pause(2)  # shorter: ignored
    assert budget.paused_for() == 5 and budget.stats.pauses == 1
    budget.pause(8)
    assert budget.paused_for() == 8 and budget.stats.pauses == 2 and budget.stats.paused_s == 8
    now[0] += 8
    assert budget.paused_for() == 0


async def test_paused_budget_holds_every_consumer() -> None:
    budget = WeightBudget("t", BudgetLimits(limit=100), headroom=1.0)
    budget.pause(0.3)
    started = time.monotonic()
    async with asyncio.timeout(STEP_S):
        await asyncio.gather(budget.acquire(1), budget.acquire(1))
    assert time.monotonic() - started >= 0.29 and budget.stats.waits == 2


async def test_a_ban_longer_than_max_wait_is_refused_at_once_and_spends_nothing() -> None:
    budget = WeightBudget("binance", BudgetLimits(limit=100), headroom=1.0, max_wait_s=10.0)
    budget.pause(120)  # a 418 ban: no consumer may be parked for it
    started = time.monotonic()
    async with asyncio.timeout(STEP_S):
        results = await asyncio.gather(budget.acquire(1), budget.acquire(1), return_exceptions=True)
    assert time.monotonic() - started < 1.0
    assert [type(r) for r in results] == [ccxt.RateLimitExceeded] * 2
    assert "binance" in str(results[0]) and "120 s" in str(results[0])
    assert budget.stats.refused == 2 and budget.stats.requests == 0 and budget.used() == 0


async def test_a_pause_within_max_wait_is_slept_through() -> None:
    budget = WeightBudget("t", BudgetLimits(limit=100), headroom=1.0, max_wait_s=0.5)
    budget.pause(0.3)
    async with asyncio.timeout(STEP_S):
        await budget.acquire(1)
    assert budget.stats.refused == 0 and budget.stats.requests == 1


def test_ccxt_rate_limit_becomes_a_window_limit() -> None:
    limits = BudgetLimits.from_ccxt_rate_limit(50)  # binance in ccxt: one unit per 50 ms
    assert (limits.limit, limits.window_s) == (1200, 60)


@pytest.mark.parametrize(
    ("headers", "status", "expected"),
    [
        ({"Retry-After": "7"}, 429, 7.0),
        ({"retry-after": "2.5"}, 418, 2.5),
        ({}, 429, 1.0),
        ({}, 418, 60.0),
        ({"Retry-After": "86400000"}, 429, MAX_PAUSE_S),
        ({"Retry-After": "-3"}, 429, 0.0),
        (None, 429, 1.0),
    ],
)
def test_retry_after(headers: dict[str, str] | None, status: int, expected: float) -> None:
    assert retry_after_s(headers, status) == expected


def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_s({"Retry-After": when}, 429) <= 30


def test_jittered_backoff_bounds() -> None:
    rng = random.Random(3)
    for attempt in range(12):
        delay = jittered(0.5, attempt, 60.0, rng)
        assert 0.25 * 2**attempt <= delay or delay == 60.0
        assert delay <= min(60.0, 0.75 * 2**attempt)


async def test_failures_are_shared_by_the_flight_and_not_cached() -> None:
    cache = SingleFlightCache(time.time)
    calls: list[int] = []

    async def failing() -> tuple[Any, float]:
        calls.append(1)
        await asyncio.sleep(0.01)
        raise ConnectionError("exchange down")

    async with asyncio.timeout(STEP_S):
        askers = (cache.get("k", "l", failing) for _ in range(5))
        results = await asyncio.gather(*askers, return_exceptions=True)
        assert len(calls) == 1 and all(isinstance(r, ConnectionError) for r in results)
        with pytest.raises(ConnectionError):
            await cache.get("k", "l", failing)
    assert len(calls) == 2 and cache.stats["l"].coalesced == 4 and cache.stats["l"].misses == 2


async def test_a_failure_is_remembered_for_the_error_ttl() -> None:
    now = [50.0]
    cache = SingleFlightCache(lambda: now[0], error_ttl_s=1.0)
    calls: list[int] = []

    async def flaky() -> tuple[Any, float]:
        calls.append(1)
        if len(calls) == 1:
            raise TimeoutError("no answer")
        return "fresh", now[0] + 5

    async with asyncio.timeout(STEP_S):
        for _ in range(3):
            with pytest.raises(TimeoutError):
                await cache.get("k", "l", flaky)
        now[0] += 1.0
        assert await cache.get("k", "l", flaky) == "fresh"
    assert len(calls) == 2 and cache.stats["l"].failures_reused == 2 and cache.stats["l"].hits == 0


async def test_a_cancelled_asker_leaves_the_flight_running_for_the_others() -> None:
    cache = SingleFlightCache(time.time)
    release = asyncio.Event()

    async def slow() -> tuple[Any, float]:
        await release.wait()
        return "value", time.time() + 60

    async with asyncio.timeout(STEP_S):
        first = asyncio.ensure_future(cache.get("k", "l", slow))
        second = asyncio.ensure_future(cache.get("k", "l", slow))
        await asyncio.sleep(0)
        first.cancel()
        release.set()
        assert await second == "value"
    assert first.cancelled() and cache.peek("k") == "value"


async def test_lru_bound() -> None:
    cache = SingleFlightCache(time.time, max_entries=3)
    for key in range(5):
        await cache.get(key, "l", _value(key))
    assert [cache.peek(k) for k in range(5)] == [None, None, 2, 3, 4]


def _value(key: int) -> Any:
    async def fetch() -> tuple[Any, float]:
        return key, time.time() + 60

    return fetch


async def test_a_value_born_before_not_before_is_fetched_again() -> None:
    now = [10.0]
    cache = SingleFlightCache(lambda: now[0])
    calls: list[float] = []

    async def fetch() -> tuple[Any, float]:
        calls.append(now[0])
        return f"read at {now[0]}", now[0] + 60

    async with asyncio.timeout(STEP_S):
        assert await cache.get("book", "l", fetch) == "read at 10.0"
        now[0] = 11.0
        assert await cache.get("book", "l", fetch, not_before=10.0) == "read at 10.0"  # born at 10: fine
        assert await cache.get("book", "l", fetch, not_before=10.5) == "read at 11.0"  # born too early
    assert calls == [10.0, 11.0] and cache.born("book") == 11.0


async def test_a_flight_started_before_not_before_is_not_joined_and_cannot_overwrite() -> None:
    now = [10.0]
    cache = SingleFlightCache(lambda: now[0])
    release_old = asyncio.Event()

    async def old() -> tuple[Any, float]:
        await release_old.wait()
        return "old", now[0] + 60

    async def new() -> tuple[Any, float]:
        return "new", now[0] + 60

    async with asyncio.timeout(STEP_S):
        stale = asyncio.ensure_future(cache.get("book", "l", old))
        await asyncio.sleep(0)
        now[0] = 12.0
        assert await cache.get("book", "l", new, not_before=11.0) == "new"
        release_old.set()
        assert await stale == "old"  # its own asker still gets it ...
    assert cache.peek("book") == "new" and cache.born("book") == 12.0  # ... but the cache keeps the newer
