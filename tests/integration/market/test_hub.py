"""The market hub through real ccxt against the simulator: single-flight, caches, the shared budget."""

from __future__ import annotations

import asyncio
from typing import Any

from tradewarden.adapters.market import BudgetLimits, HubConfig, MarketHub
from tradewarden.sim import SimServer

from .conftest import SYMBOL, fault, requests_of

CONSUMERS = 200
STEP_S = 30.0


class FakeWallClock:
    """The hub's wall clock, moved by the test (candle close times are wall times)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_200_concurrent_consumers_make_one_upstream_request(sim: SimServer, hub: MarketHub) -> None:
    await hub.markets("binance")  # loading markets is its own (one-time) traffic
    before = len(await requests_of(sim))
    async with asyncio.timeout(STEP_S):
        answers = await asyncio.gather(*(hub.ticker("binance", SYMBOL) for _ in range(CONSUMERS)))
    sent = (await requests_of(sim))[before:]
    assert [(r["path"], r["status"]) for r in sent] == [("/api/v3/ticker/24hr", 200)]
    assert all(a is answers[0] for a in answers) and answers[0]["symbol"] == SYMBOL
    [row] = [k for k in hub.snapshot().kinds if k.kind == "ticker"]
    assert (row.upstream, row.coalesced, row.cache_hits) == (1, CONSUMERS - 1, 0)


async def test_ticker_cache_expires_after_its_ttl(sim: SimServer) -> None:
    clock = FakeWallClock(1_000.0)
    hub = MarketHub(HubConfig(default_endpoint=sim.url, ttl_s={"ticker": 2.0}), clock=clock)
    try:
        first = await hub.ticker("binance", SYMBOL)
        clock.now += 1.999
        assert await hub.ticker("binance", SYMBOL) is first  # within the TTL: from the cache
        assert len(await requests_of(sim, path_part="ticker")) == 1
        clock.now += 0.001
        assert await hub.ticker("binance", SYMBOL) is not first  # expired: asked upstream again
        assert len(await requests_of(sim, path_part="ticker")) == 2
        [row] = [k for k in hub.snapshot().kinds if k.kind == "ticker"]
        assert (row.upstream, row.cache_hits) == (2, 1)
    finally:
        await hub.close()


async def test_ohlcv_page_cached_until_its_last_candle_closes(sim: SimServer) -> None:
    import time

    clock = FakeWallClock(time.time())
    config = HubConfig(default_endpoint=sim.url, ohlcv_forming_max_s=3600.0)
    hub = MarketHub(config, clock=clock)
    try:
        page = await hub.ohlcv("binance", SYMBOL, "1m", None, 5)
        closes_at = page[-1][0] / 1000 + 60
        assert len(page) == 5 and closes_at > clock.now  # the newest candle is still forming
        clock.now = closes_at - 0.001
        assert await hub.ohlcv("binance", SYMBOL, "1m", None, 5) is page
        assert len(await requests_of(sim, path_part="klines")) == 1
        clock.now = closes_at
        newer = await hub.ohlcv("binance", SYMBOL, "1m", None, 5)
        assert len(await requests_of(sim, path_part="klines")) == 2 and newer is not page

        since = int(page[0][0]) - 3_600_000  # an hour back: a full page of closed candles
        history = await hub.ohlcv("binance", SYMBOL, "1m", since, 5)
        assert len(history) == 5 and history[0][0] >= since
        clock.now += config.historic_s - 1
        assert await hub.ohlcv("binance", SYMBOL, "1m", since, 5) is history
        assert len(await requests_of(sim, path_part="klines")) == 3
    finally:
        await hub.close()


async def test_429_with_retry_after_pauses_the_shared_budget(sim: SimServer, hub: MarketHub) -> None:
    await hub.markets("binance")
    await fault(sim, "binance", "http_429", count=1)  # the simulator answers Retry-After: 1
    async with asyncio.timeout(STEP_S):
        ticker, book = await asyncio.gather(
            hub.ticker("binance", SYMBOL), _after_first_request(hub, hub.order_book("binance", SYMBOL, 5))
        )
    assert ticker["symbol"] == SYMBOL and book["bids"]
    rows = await requests_of(sim, path_part="/api/v3/")
    statuses = [(r["path"], r["status"]) for r in rows if "exchangeInfo" not in r["path"]]
    assert statuses[0] == ("/api/v3/ticker/24hr", 429)
    assert sorted(statuses[1:]) == [("/api/v3/depth", 200), ("/api/v3/ticker/24hr", 200)]
    [limited_at] = [r["ts"] for r in rows if r["status"] == 429]
    later = [r["ts"] for r in rows if r["status"] == 200 and "exchangeInfo" not in r["path"]]
    # nothing (the retry, nor the other consumer's call) reached the exchange during the pause
    assert min(later) - limited_at >= 990
    budget = hub.public_budget("binance")
    assert budget.stats.pauses == 1 and budget.stats.paused_s >= 0.99
    assert hub.snapshot().rate_limited == {"binance": 1}


async def _after_first_request(hub: MarketHub, call: Any) -> Any:
    """Start `call` once the budget has let the first request through (so it meets the pause)."""
    budget = hub.public_budget("binance")
    start = budget.stats.requests
    for _ in range(2000):
        if budget.stats.requests > start and budget.paused_for() > 0:
            break
        await asyncio.sleep(0.005)
    return await call


async def test_many_consumers_stay_inside_one_shared_budget(sim: SimServer) -> None:
    # A tiny budget (ccxt cost units): 8 per 2 s at 100 % headroom; every call below costs 1 (ticker/24hr).
    config = HubConfig(
        default_endpoint=sim.url, limits={"binance": BudgetLimits(8, 2.0)}, headroom=1.0, ttl_s={"ticker": 0}
    )
    hub = MarketHub(config)
    try:
        await hub.markets("binance")
        symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
        async with asyncio.timeout(STEP_S):
            for _ in range(3):
                await asyncio.gather(*(hub.ticker("binance", s) for s in symbols for _ in range(5)))
        budget = hub.public_budget("binance")
        assert budget.stats.peak_used <= budget.capacity == 8
        assert budget.stats.waits > 0  # the budget, not luck, kept it there
        sent = await requests_of(sim, path_part="ticker")
        assert len(sent) == 12 and all(r["status"] == 200 for r in sent)  # 4 symbols x 3 rounds
    finally:
        await hub.close()


async def test_feed_polls_once_for_all_subscribers_and_recovers(sim: SimServer, hub: MarketHub) -> None:
    subs = [hub.feeds.subscribe("binance", "ticker", SYMBOL, interval_s=0.2) for _ in range(50)]
    assert hub.feeds.active() == 1
    async with asyncio.timeout(STEP_S):
        firsts = [await s.next() for s in subs]
        assert all(f["symbol"] == SYMBOL for f in firsts)
        await fault(sim, "binance", "http_500", count=2)
        for _ in range(40):  # the feed fails twice, backs off, then recovers: one reconnect
            if hub.snapshot().stream_reconnects.get("binance"):
                break
            await subs[0].next()
    assert hub.snapshot().stream_reconnects == {"binance": 1}
    polls = len(await requests_of(sim, path_part="ticker"))
    [row] = [k for k in hub.snapshot().kinds if k.kind == "ticker"]
    assert polls == row.upstream and polls < 50  # one poller, not one per subscriber
    for s in subs:
        await s.close()
    assert hub.feeds.active() == 0


async def test_shared_clients_evict_finished_calls(sim: SimServer) -> None:
    """adapters/exchanges/shared.py: concurrent identical calls share one request; a later call is fresh."""
    from tradewarden.adapters.exchanges.probes import Call
    from tradewarden.adapters.exchanges.shared import SharedClients, http_session

    call = Call("public_get_time")
    async with http_session() as session:
        shared = SharedClients(session, timeout_ms=10_000)
        try:
            async with asyncio.timeout(STEP_S):
                together = await asyncio.gather(*(shared.call("binance", sim.url, call) for _ in range(10)))
                later = await shared.call("binance", sim.url, call)
        finally:
            await shared.close()
    assert all(o.error is None for o in [*together, later])
    assert len(await requests_of(sim, path_part="/api/v3/time")) == 2  # one for the ten, one for the later
    assert later.result is not together[0].result


async def test_no_book_older_than_the_last_ticker_handed_out(sim: SimServer) -> None:
    """A bot decides on the ticker and its paper order fills on the book: after a price jump the book must
    not come from the cache of before it (a take profit then filled at the old price, a loss)."""
    from tests.integration.sim.conftest import admin

    clock = FakeWallClock(1_000.0)
    config = HubConfig(default_endpoint=sim.url, ttl_s={"ticker": 1.0, "order_book": 60.0})
    hub = MarketHub(config, clock=clock)
    try:
        async with asyncio.timeout(STEP_S):
            before = await hub.order_book("binance", SYMBOL, 20)
            assert await hub.order_book("binance", SYMBOL, 20) is before  # within its TTL: cached
            await admin(
                sim.url, "POST", "/_sim/market", {"venue": "binance", "symbol": SYMBOL, "price": 90000}
            )
            clock.now += 1.5  # the book's TTL (60 s) still runs; a ticker read now sees the new price
            ticker = await hub.ticker("binance", SYMBOL)
            book = await hub.order_book("binance", SYMBOL, 20)
        assert abs(float(ticker["last"]) - 90000) < 90 and abs(float(book["bids"][0][0]) - 90000) < 90
        assert book is not before and float(before["bids"][0][0]) != float(book["bids"][0][0])
        assert len(await requests_of(sim, path_part="depth")) == 2
    finally:
        await hub.close()


async def test_kucoin_public_calls_spend_its_documented_pool() -> None:
    """KuCoin meters public calls of spot and futures in one 2000-per-30 s pool (ccxt's rateLimit models
    the 4000 spot pool): both ids share one budget of that size; a configured limit still wins."""
    from tradewarden.adapters.market.budget import KUCOIN_PUBLIC

    hub = MarketHub(HubConfig())
    try:
        spot, futures = hub.public_budget("kucoin"), hub.public_budget("kucoinfutures")
        assert spot is futures and spot.limits == KUCOIN_PUBLIC and spot.name == "kucoin-public"
        assert hub.public_budget("binance") is not spot
    finally:
        await hub.close()
    configured = MarketHub(HubConfig(limits={"kucoin": BudgetLimits(limit=100, window_s=10.0)}))
    try:
        own = configured.public_budget("kucoin")
        assert own.limits == BudgetLimits(limit=100, window_s=10.0) and own is not configured.public_budget(
            "kucoinfutures"
        )
    finally:
        await configured.close()
