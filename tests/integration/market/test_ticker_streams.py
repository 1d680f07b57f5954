"""Ticker streams in the hub: the product's ccxt.pro builder and StreamSource against the simulator.

A frame answers `hub.ticker()` with no REST call; a dropped connection is reconnected (counted); a stalled
one times out, REST answers meanwhile (counted as fallbacks), and the stream answers again afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from tradewarden.adapters.exchanges.endpoint import AuthEndpoint
from tradewarden.adapters.exchanges.pro import build_pro_client, forget_stream_auth
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.market.streams import StreamSource
from tradewarden.adapters.vault.secret import Secret
from tradewarden.sim import SimServer

from .conftest import SYMBOL, fault, requests_of

WAIT_S = 10.0


def stream_hub(sim: SimServer, **extra: float) -> MarketHub:
    """A hub on the simulator that caches no ticker, with short stream timings."""
    # above Binance's ticker cadence in the simulator (about a frame a second)
    timings = {"stream_fresh_s": 1.5, "stream_stall_s": 1.5, "stream_retry_s": 0.1, **extra}
    return MarketHub(HubConfig(default_endpoint=sim.url, ttl_s={"ticker": 0.0, "markets": 3600.0}, **timings))


async def until(check: Callable[[], Awaitable[bool]], seconds: float = WAIT_S, step: float = 0.05) -> float:
    """Poll `check` until true (bounded); the seconds it took."""
    start = time.monotonic()
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(step)
    return time.monotonic() - start


def test_pro_builder_points_rest_and_ws_at_the_endpoint() -> None:
    ex = build_pro_client("binance", None, "http://127.0.0.1:9")
    assert ex.urls["api"]["ws"]["spot"] == "ws://127.0.0.1:9/stream.binance.com:9443/ws"
    assert ex.urls["api"]["ws"]["ws-api"]["spot"] == "ws://127.0.0.1:9/ws-api.binance.com:443/ws-api/v3"
    assert ex.urls["api"]["public"] == "http://127.0.0.1:9/api.binance.com/api/v3"
    bybit = build_pro_client("bybit", None, "https://proxy.test")
    assert bybit.urls["api"]["ws"]["public"]["spot"] == "wss://proxy.test/stream.bybit.com/v5/public/spot"
    auth = AuthEndpoint("http://***@127.0.0.1:9", Secret("user:pw"))
    private = build_pro_client("kucoin", {"apiKey": Secret("k"), "secret": Secret("s")}, auth)
    assert private.options["ws"]["headers"]["Authorization"] == "Basic dXNlcjpwdw=="
    assert all("pw" not in str(u) for u in private.urls["api"].values())
    private.options["urls"] = {"private": object()}  # what ccxt.pro caches after negotiating a token
    forget_stream_auth(private)
    assert private.options["urls"] == {}


async def test_a_stream_frame_answers_the_hub_without_rest(sim: SimServer) -> None:
    hub = stream_hub(sim)
    try:
        sub = hub.feeds.subscribe("binance", "ticker", SYMBOL, source="stream")
        assert hub.feeds.streaming("binance", SYMBOL)
        frame = await asyncio.wait_for(sub.next(), WAIT_S)
        assert frame["symbol"] == SYMBOL and frame["last"] > 0
        rest_before = len(await requests_of(sim, path_part="ticker"))
        answer = await hub.ticker("binance", SYMBOL)
        assert answer["symbol"] == SYMBOL
        assert len(await requests_of(sim, path_part="ticker")) == rest_before == 0
        figures = hub.snapshot().streams["binance"]
        assert figures["hits"] == 1 and figures["frames"] >= 1 and figures["fallbacks"] == 0
        await sub.close()
        assert not hub.feeds.streaming("binance", SYMBOL)
        await hub.ticker("binance", SYMBOL)  # no stream: REST, and no fallback counted
        assert len(await requests_of(sim, path_part="ticker")) == 1
        assert hub.snapshot().streams["binance"]["fallbacks"] == 0
    finally:
        await hub.close()


async def test_ws_drop_reconnects_and_counts_it(sim: SimServer) -> None:
    hub = stream_hub(sim)
    try:
        sub = hub.feeds.subscribe("binance", "ticker", SYMBOL, source="stream")
        await asyncio.wait_for(sub.next(), WAIT_S)
        made = hub.streams.created
        await fault(sim, "binance", "ws_drop")
        took = await until(lambda: _true(hub.snapshot().stream_reconnects.get("binance", 0) >= 1))
        frames = hub.snapshot().streams["binance"]["frames"]
        await asyncio.wait_for(sub.next(), WAIT_S)
        await until(lambda: _true(hub.snapshot().streams["binance"]["frames"] > frames))
        assert hub.streams.created >= made + 1  # the dropped client was closed, a new one connected
        assert (await hub.ticker("binance", SYMBOL))["symbol"] == SYMBOL
        assert hub.snapshot().streams["binance"]["hits"] >= 1
        print(f"\n[ws_drop] reconnected in {took:.2f} s")
    finally:
        await hub.close()


async def test_ws_stall_times_out_rest_answers_then_the_stream_again(sim: SimServer) -> None:
    hub = stream_hub(sim)
    try:
        sub = hub.feeds.subscribe("binance", "ticker", SYMBOL, source="stream")
        await asyncio.wait_for(sub.next(), WAIT_S)
        await fault(sim, "binance", "ws_stall", ms=3000)
        stalled_at = time.monotonic()
        await asyncio.sleep(1.8)  # past stream_fresh_s: the last frame is stale now
        rest_before = len(await requests_of(sim, path_part="ticker"))
        answer = await hub.ticker("binance", SYMBOL)
        assert answer["symbol"] == SYMBOL
        assert len(await requests_of(sim, path_part="ticker")) == rest_before + 1  # REST answered
        assert hub.snapshot().streams["binance"]["fallbacks"] == 1
        [feed] = [f for f in hub.feeds._feeds.values()]
        assert isinstance(feed.source, StreamSource)
        await until(lambda: _true(feed.source.timeouts >= 1))  # type: ignore[attr-defined]
        hits = hub.snapshot().streams["binance"]["hits"]

        async def streamed_again() -> bool:
            await hub.ticker("binance", SYMBOL)
            return hub.snapshot().streams["binance"]["hits"] > hits

        await until(streamed_again, step=0.2)
        resumed = time.monotonic() - stalled_at
        assert hub.snapshot().stream_reconnects["binance"] >= 1
        assert resumed >= 2.5  # not before the stall ended
        print(f"\n[ws_stall 3 s] stream answered again {resumed:.2f} s after the stall began")
        await sub.close()
    finally:
        await hub.close()


async def _true(value: bool) -> bool:
    return value
