"""Rate-limit pools beside the per-IP budget (issue 11, item 5): KuCoin resource pools, OKX and MEXC
limits per endpoint and per user, each through real ccxt and each failing on the old single pool."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin, admin_get, error_code

BOTH = ["read", "spot_trade", "futures_trade"]


def pin_clock(sim: SimServer, window_ms: int = 10_000, lead_ms: int = 5_000) -> None:
    """Freeze the simulator clock on the next window boundary at least `lead_ms` ahead of now, so a
    window cannot roll over mid-test (the lead keeps clients' timestamps from running ahead of it)."""
    now = int(time.time() * 1000) + lead_ms
    sim.ctx.clock.set_virtual(now - now % window_ms + window_ms, speed=0.0)


def pool_headers(ex: Any) -> tuple[int, int, int]:
    """KuCoin's gw-ratelimit-limit / -remaining / -reset of the last answer."""
    h = ex.last_response_headers
    return int(h["gw-ratelimit-limit"]), int(h["gw-ratelimit-remaining"]), int(h["gw-ratelimit-reset"])


# ---- KuCoin ------------------------------------------------------------------------------------


async def test_kucoin_pools_have_their_documented_quotas(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """docs-new "Rate Limit", VIP0: Spot 4000, Futures 2000, Management 2000, Public 2000 per 30 s,
    reported in gw-ratelimit-limit/-remaining/-reset (ms) on every answer."""
    key = await make_key("kucoin", permissions=BOTH)
    spot = ccxt_client("kucoin", key)
    await spot.publicGetMarketOrderbookLevel1({"symbol": "BTC-USDT"})  # weight 2, Public
    limit, remaining, reset = pool_headers(spot)
    assert (limit, remaining) == (2000, 1998) and 0 < reset <= 30_000
    await spot.privateGetHfOrdersActive({"symbol": "BTC-USDT"})  # weight 2, Spot
    assert pool_headers(spot)[:2] == (4000, 3998)
    await spot.privateGetAccounts()  # weight 5, Management
    assert pool_headers(spot)[:2] == (2000, 1995)
    fut = ccxt_client("kucoinfutures", key)
    await fut.futuresPrivateGetAccountOverview({"currency": "USDT"})  # weight 5, Futures
    assert pool_headers(fut)[:2] == (2000, 1995)


async def test_kucoin_public_calls_cannot_starve_private_futures(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """The Public pool (per IP) is used up: public calls get 429000, private calls of the same client
    draw on their own Futures and Spot pools (per UID) and still pass."""
    key = await make_key("kucoin", permissions=BOTH)
    spot = ccxt_client("kucoin", key)
    fut = ccxt_client("kucoinfutures", key)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "kucoin", "limits": {"public": 200}})
    await spot.load_markets()  # markets are public calls: load them before the pool runs dry
    await fut.load_markets()
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "kucoin", "limits": {"public": 6}})
    for _ in range(3):
        await spot.publicGetMarketOrderbookLevel1({"symbol": "BTC-USDT"})
    with pytest.raises(ccxt.RateLimitExceeded) as err:
        await spot.publicGetMarketOrderbookLevel1({"symbol": "BTC-USDT"})
    assert error_code(err.value, spot) == 429000
    assert pool_headers(spot)[:2] == (6, 0)
    balance = await fut.fetch_balance()
    assert balance["USDT"]["free"] == 10_000
    assert pool_headers(fut)[0] == 2000
    assert (await spot.fetch_balance())["USDT"]["free"] == 10_000
    rows = await admin_get(sim.url, "/_sim/requests", venue="kucoin")
    assert [r["status"] for r in rows if r["api_key"] is None][-1] == 429
    assert all(r["status"] == 200 for r in rows if r["api_key"] == key["apiKey"])


async def test_kucoin_private_pools_are_per_user(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """One user using up the Futures pool leaves another user's Futures pool whole."""
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "kucoin", "limits": {"futures": 10}})
    first = ccxt_client("kucoinfutures", await make_key("kucoin", permissions=BOTH))
    second = ccxt_client("kucoinfutures", await make_key("kucoin", permissions=BOTH))
    for _ in range(2):
        await first.futuresPrivateGetAccountOverview({"currency": "USDT"})
    with pytest.raises(ccxt.RateLimitExceeded):
        await first.futuresPrivateGetAccountOverview({"currency": "USDT"})
    await second.futuresPrivateGetAccountOverview({"currency": "USDT"})
    assert pool_headers(second)[:2] == (10, 5)


# ---- OKX ---------------------------------------------------------------------------------------


async def okx_resting_buy(ex: Any, symbol: str) -> Any:
    price = float(ex.price_to_precision(symbol, (await ex.fetch_ticker(symbol))["bid"] * 0.9))
    return await ex.create_order(symbol, "limit", "buy", 0.001 if "BTC" in symbol else 0.01, price)


async def test_okx_place_order_60_per_2s_per_instrument_and_user(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """v5 "Place order": 60 requests per 2 s, rule User ID + Instrument ID; over it 429 + 50011.
    (ccxt places one order through "Place multiple orders", which then counts as "Place order".)"""
    pin_clock(sim, 2_000, 0)
    key = await make_key("okx", permissions=BOTH)
    ex = ccxt_client("okx", key, options={"fetchMarkets": ["spot"]})
    await ex.load_markets()
    price = float(ex.price_to_precision("BTC/USDT", (await ex.fetch_ticker("BTC/USDT"))["bid"] * 0.9))
    for _ in range(60):
        await ex.create_order("BTC/USDT", "limit", "buy", 0.001, price)
    with pytest.raises(ccxt.RateLimitExceeded) as err:
        await ex.create_order("BTC/USDT", "limit", "buy", 0.001, price)
    assert error_code(err.value, ex) == 50011
    rows = await admin_get(sim.url, "/_sim/requests", api_key=key["apiKey"])
    assert (rows[-1]["status"], rows[-1]["code"]) == (429, "50011")
    # another instrument, and another user on the same instrument, have their own count
    await okx_resting_buy(ex, "ETH/USDT")
    other = ccxt_client("okx", await make_key("okx", permissions=BOTH), options={"fetchMarkets": ["spot"]})
    await other.load_markets()
    await other.create_order("BTC/USDT", "limit", "buy", 0.001, price)


async def test_okx_balance_limit_is_per_user_not_per_ip(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """v5 "Get balance": 10 requests per 2 s per User ID (lowered to 2 here)."""
    pin_clock(sim, 2_000, 0)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "okx", "limits": {"balance": 2}})
    first = ccxt_client("okx", await make_key("okx", permissions=BOTH))
    second = ccxt_client("okx", await make_key("okx", permissions=BOTH))
    await first.privateGetAccountBalance()
    await first.privateGetAccountBalance()
    with pytest.raises(ccxt.RateLimitExceeded):
        await first.privateGetAccountBalance()
    assert (await second.privateGetAccountBalance())["code"] == "0"


# ---- MEXC --------------------------------------------------------------------------------------


async def test_mexc_spot_limits_are_per_endpoint(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Spot v3 "LIMITS": every endpoint has its own IP limit and (keyed ones) its own UID limit; over
    one, 429 "Too Many Requests" with Retry-After, while other endpoints still answer."""
    pin_clock(sim)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "mexc", "limits": {"endpoint_uid": 20}})
    key = await make_key("mexc", permissions=BOTH)
    ex = ccxt_client("mexc", key, options={"recvWindow": 60_000})
    await ex.spotPrivateGetAccount()  # weight 10
    await ex.spotPrivateGetAccount()
    with pytest.raises(ccxt.RateLimitExceeded) as err:
        await ex.spotPrivateGetAccount()
    assert error_code(err.value, ex) == 429
    assert int(ex.last_response_headers["Retry-After"]) == 10
    assert await ex.spotPrivateGetOpenOrders({"symbol": "BTCUSDT"}) == []
    # another user of the same IP has its own UID count on the same endpoint
    other = ccxt_client("mexc", await make_key("mexc", permissions=BOTH), options={"recvWindow": 60_000})
    assert "balances" in await other.spotPrivateGetAccount()


async def test_mexc_spot_public_endpoint_ip_limit(sim: SimServer, ccxt_client: MakeClient) -> None:
    """Spot v3 "LIMITS": an IP limit per endpoint (500 weight per 10 s; lowered to 3 here)."""
    pin_clock(sim)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "mexc", "limits": {"endpoint_ip": 3}})
    ex = ccxt_client("mexc")
    for _ in range(3):
        await ex.spotPublicGetTickerPrice({"symbol": "BTCUSDT"})
    with pytest.raises(ccxt.RateLimitExceeded):
        await ex.spotPublicGetTickerPrice({"symbol": "BTCUSDT"})
    assert (await ex.spotPublicGetTickerBookTicker({"symbol": "BTCUSDT"}))["symbol"] == "BTCUSDT"


async def test_mexc_contract_endpoint_limit(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Contract endpoints: "20 times / 2 seconds" each (lowered to 2 here); over it code 510."""
    pin_clock(sim, 2_000, 0)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "mexc", "limits": {"contract_endpoint": 2}})
    key = await make_key("mexc", permissions=BOTH)
    ex = ccxt_client("mexc", key)
    for _ in range(2):
        await ex.contractPrivateGetAccountAssets()
    with pytest.raises(ccxt.RateLimitExceeded) as err:
        await ex.contractPrivateGetAccountAssets()
    assert error_code(err.value, ex) == 510
    assert (await ex.contractPrivateGetPositionOpenPositions())["success"] is True


async def test_limits_admin_refuses_bad_values(sim: SimServer) -> None:
    """A bad limit is refused with a message and changes nothing."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{sim.url}/_sim/venue", json={"venue": "okx", "limits": {"order": 0}}) as r,
    ):
        assert r.status == 400 and "limits" in (await r.json())["error"]
    state = (await admin_get(sim.url, "/_sim/venue"))["okx"]
    assert state["limits"] == {}
