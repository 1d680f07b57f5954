"""Order rules bots trip on, as each venue documents them (issue 11, item 5), through real ccxt.

Each test names the document it follows; each fails on the simulator as it was before the fix.
Windows that are aligned to the clock (Binance's 10-second and daily order counts) are tested on a
pinned simulator clock, so no assertion depends on when the test happens to run.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import ccxt
import pytest

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin, admin_get, error_code

SPOT_TRADE = ["read", "spot_trade"]
FUTURES = ["read", "futures_trade"]


# pinned clocks run ahead of the client by up to 15 s: signed calls carry the largest recvWindow
BINANCE_SPOT = {"fetchMarkets": {"types": ["spot"]}, "recvWindow": 60_000}


def pin_clock(sim: SimServer) -> int:
    """Freeze the shared simulator clock on a 10-second boundary 5 to 15 s ahead; returns that time.

    Frozen, the windows cannot roll over mid-test; ahead, a client's timestamps are never in the
    server's future (Binance refuses those at once) and stay inside a 60 s recvWindow.
    """
    now = int(time.time() * 1000) + 5_000
    start = now - now % 10_000 + 10_000
    sim.ctx.clock.set_virtual(start, speed=0.0)
    return start


async def resting_buy(ex: Any, symbol: str = "BTC/USDT", amount: float = 0.001, **params: Any) -> Any:
    """A limit buy 10 % under the market: it rests unfilled."""
    price = float(ex.price_to_precision(symbol, (await ex.fetch_ticker(symbol))["bid"] * 0.9))
    return await ex.create_order(symbol, "limit", "buy", amount, price, params)


# ---- Binance spot ------------------------------------------------------------------------------


async def test_binance_exchange_info_advertises_current_limits(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """enums.md "Rate limiters" (REQUEST_WEIGHT 6,000/min), rest-api.md "Query Unfilled Order Count"
    (ORDERS 50 per 10 s, 160,000 per day), filters.md MAX_NUM_ORDERS (200)."""
    ex = ccxt_client("binance")
    info = await ex.publicGetExchangeInfo()
    limits = {
        (r["rateLimitType"], r["interval"], int(r["intervalNum"])): int(r["limit"])
        for r in info["rateLimits"]
    }
    assert limits[("REQUEST_WEIGHT", "MINUTE", 1)] == 6000
    assert limits[("ORDERS", "SECOND", 10)] == 50
    assert limits[("ORDERS", "DAY", 1)] == 160_000
    assert limits[("RAW_REQUESTS", "MINUTE", 5)] == 61_000
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    max_num = next(f for f in btc["filters"] if f["filterType"] == "MAX_NUM_ORDERS")
    assert int(max_num["maxNumOrders"]) == 200
    assert ex.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "20"


async def test_binance_weight_limit_is_6000_per_minute(sim: SimServer, ccxt_client: MakeClient) -> None:
    """IP weight passes the old 1,200 without a 429; past 6,000 in the minute: 429, -1003."""
    ex = ccxt_client("binance")
    used = 0
    for _ in range(24):  # depth with limit 5000 weighs 250: 24 of them are exactly 6,000
        await ex.publicGetDepth({"symbol": "BTCUSDT", "limit": 5000})
        used = int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"])
    assert used == 6000
    with pytest.raises(ccxt.DDoSProtection) as err:
        await ex.publicGetPing()
    assert error_code(err.value, ex) == -1003
    assert "current limit is 6000 request weight per 1 MINUTE" in str(err.value)
    rows = await admin_get(sim.url, "/_sim/requests", venue="binance")
    assert [r["status"] for r in rows].count(200) == 24 and rows[-1]["status"] == 429


async def test_binance_usdm_has_its_own_weight_pool(sim: SimServer, ccxt_client: MakeClient) -> None:
    """USD-M "Exchange Information": REQUEST_WEIGHT 2400 and ORDERS 1200 per minute, counted apart
    from spot's 6,000 (lowered to 10 here): a futures client out of weight leaves spot untouched."""
    fut = ccxt_client("binanceusdm")
    info = await fut.fapiPublicGetExchangeInfo()
    assert {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400} in info[
        "rateLimits"
    ]
    assert {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200} in info[
        "rateLimits"
    ]
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "limits": {"fapi_weight": 10}})
    await fut.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 100})  # weight 5
    await fut.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 100})
    assert fut.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "10"
    with pytest.raises(ccxt.DDoSProtection) as err:
        await fut.fapiPublicGetPing()
    assert error_code(err.value, fut) == -1003
    spot = ccxt_client("binance")
    await spot.publicGetPing()
    assert spot.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "1"


async def test_binance_fok_that_cannot_fill_is_accepted_and_expired(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """enums.md order status EXPIRED: "LIMIT FOK orders with no fill" are accepted, then expired."""
    key = await make_key("binance", permissions=SPOT_TRADE)
    ex = ccxt_client("binance", key, options=BINANCE_SPOT)
    await ex.load_markets()
    order = await resting_buy(ex, timeInForce="FOK")
    assert order["status"] == "expired" and order["filled"] == 0
    again = await ex.fetch_order(order["id"], "BTC/USDT")
    assert again["status"] == "expired"
    # nothing stays locked: the whole USDT balance is free again
    bal = await ex.fetch_balance()
    assert bal["USDT"]["free"] == 10_000 and bal["USDT"]["used"] == 0
    rows = await admin_get(sim.url, "/_sim/requests", api_key=key["apiKey"])
    assert all(r["status"] == 200 for r in rows)


async def test_binance_unfilled_order_count_10s(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """rest-api.md "Unfilled Order Count" and faqs/order_count_decrement.md: 50 new unfilled orders per
    10 s per account, X-MBX-ORDER-COUNT-10S/-1D on each accepted order, then HTTP 429 with -1015 and
    Retry-After; the next 10-second interval starts from zero, the daily count goes on."""
    start = pin_clock(sim)
    key = await make_key("binance", permissions=SPOT_TRADE)
    ex = ccxt_client("binance", key, options=BINANCE_SPOT)
    await ex.load_markets()
    price = float(ex.price_to_precision("BTC/USDT", (await ex.fetch_ticker("BTC/USDT"))["bid"] * 0.9))
    for n in range(1, 51):
        await ex.create_order("BTC/USDT", "limit", "buy", 0.001, price)
        assert ex.last_response_headers["X-MBX-ORDER-COUNT-10S"] == str(n)
        assert ex.last_response_headers["X-MBX-ORDER-COUNT-1D"] == str(n)
    with pytest.raises(ccxt.BaseError) as err:
        await ex.create_order("BTC/USDT", "limit", "buy", 0.001, price)
    assert error_code(err.value, ex) == -1015
    assert "current limit is 50 orders per 10 SECOND" in str(err.value)
    assert ex.last_response_headers["Retry-After"] == "10"  # the clock sits on the interval's start
    rows = await admin_get(sim.url, "/_sim/requests", api_key=key["apiKey"])
    assert (rows[-1]["status"], rows[-1]["code"]) == (429, "-1015")
    # the refused order was not placed and did not count
    assert len(await ex.fetch_open_orders("BTC/USDT")) == 50
    counts = await ex.privateGetRateLimitOrder()  # "Query Unfilled Order Count"
    assert [(c["interval"], int(c["intervalNum"]), int(c["limit"]), int(c["count"])) for c in counts] == [
        ("SECOND", 10, 50, 50),
        ("DAY", 1, 160_000, 50),
    ]
    sim.ctx.clock.set_virtual(start + 10_000, speed=0.0)
    await ex.create_order("BTC/USDT", "limit", "buy", 0.001, price)
    assert ex.last_response_headers["X-MBX-ORDER-COUNT-10S"] == "1"
    assert ex.last_response_headers["X-MBX-ORDER-COUNT-1D"] == "51"


async def test_binance_filled_orders_do_not_use_up_the_count(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """faqs/order_count_decrement.md: an order's first fill takes it off the unfilled count again."""
    pin_clock(sim)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "limits": {"orders_10s": 2}})
    key = await make_key("binance", permissions=SPOT_TRADE)
    ex = ccxt_client("binance", key, options=BINANCE_SPOT)
    await ex.load_markets()
    for _ in range(5):  # market orders fill at once: five of them fit under a limit of two
        order = await ex.create_order("BTC/USDT", "market", "buy", 0.001)
        assert order["status"] == "closed"
        assert ex.last_response_headers["X-MBX-ORDER-COUNT-10S"] == "1"


async def test_binance_maker_first_fill_takes_one_off_the_count(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """faqs/order_count_decrement.md: a resting order's first fill (maker phase) lowers the count."""
    pin_clock(sim)
    key = await make_key("binance", permissions=SPOT_TRADE)
    ex = ccxt_client("binance", key, options=BINANCE_SPOT)
    await ex.load_markets()
    bid = (await ex.fetch_ticker("BTC/USDT"))["bid"]
    price = float(ex.price_to_precision("BTC/USDT", bid * 0.99))
    order = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, price)
    assert ex.last_response_headers["X-MBX-ORDER-COUNT-10S"] == "1"
    # the market falls through the order: it fills as a maker
    await admin(
        sim.url, "POST", "/_sim/market", {"venue": "binance", "symbol": "BTC/USDT", "price": bid * 0.95}
    )
    assert (await ex.fetch_order(order["id"], "BTC/USDT"))["status"] == "closed"
    counts = await ex.privateGetRateLimitOrder()
    assert [int(c["count"]) for c in counts] == [0, 0]
    await resting_buy(ex)
    assert ex.last_response_headers["X-MBX-ORDER-COUNT-10S"] == "1"


async def test_binance_unfilled_order_count_per_day(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """The DAY interval of ORDERS (160,000 by default; lowered here) refuses with -1015 as well."""
    pin_clock(sim)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "limits": {"orders_1d": 3}})
    key = await make_key("binance", permissions=SPOT_TRADE)
    ex = ccxt_client("binance", key, options=BINANCE_SPOT)
    await ex.load_markets()
    info = await ex.publicGetExchangeInfo()
    assert {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 3} in info["rateLimits"]
    for _ in range(3):
        await resting_buy(ex)
    with pytest.raises(ccxt.BaseError) as err:
        await resting_buy(ex)
    assert error_code(err.value, ex) == -1015
    assert "current limit is 3 orders per 1 DAY" in str(err.value)


async def test_binance_max_num_orders_per_symbol(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """filters.md MAX_NUM_ORDERS: open orders per account and symbol; errors.md "Filter failures":
    -2010 "Filter failure: MAX_NUM_ORDERS". Lowered from 200 to 3 to keep the test short."""
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "limits": {"max_num_orders": 3}})
    key = await make_key("binance", permissions=SPOT_TRADE)
    ex = ccxt_client("binance", key, options=BINANCE_SPOT)
    await ex.load_markets()
    placed = [await resting_buy(ex) for _ in range(3)]
    with pytest.raises(ccxt.InvalidOrder) as err:
        await resting_buy(ex)
    assert error_code(err.value, ex) == -2010
    assert "Filter failure: MAX_NUM_ORDERS" in str(err.value)
    # another symbol has its own count; cancelling one frees a place on this one
    await resting_buy(ex, "ETH/USDT", 0.01)
    await ex.cancel_order(placed[0]["id"], "BTC/USDT")
    assert (await resting_buy(ex))["status"] == "open"


async def test_binance_spot_listen_key_endpoints_are_retired(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Spot CHANGELOG 2026-01-21: POST/PUT/DELETE /api/v3/userDataStream are gone from 2026-02-20."""
    key = await make_key("binance", permissions=SPOT_TRADE)
    ex = ccxt_client("binance", key)
    for call in (
        ex.publicPostUserDataStream,
        ex.publicPutUserDataStream,
        ex.publicDeleteUserDataStream,
    ):
        with pytest.raises(ccxt.BaseError):
            await call({"listenKey": "x" * 64})
    rows = await admin_get(sim.url, "/_sim/requests", venue="binance")
    assert [(r["method"], r["path"], r["status"]) for r in rows] == [
        (m, "/api/v3/userDataStream", 404) for m in ("POST", "PUT", "DELETE")
    ]


async def test_usdm_unknown_listen_key_is_1125(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Derivatives "User Data Streams": PUT/DELETE with no live listenKey answer -1125 "This listenKey
    does not exist."; a key lives 60 minutes unless kept alive."""
    start = pin_clock(sim)
    key = await make_key("binance", permissions=FUTURES)
    ex = ccxt_client("binanceusdm", key)
    for call in (ex.fapiPrivatePutListenKey, ex.fapiPrivateDeleteListenKey):
        with pytest.raises(ccxt.BaseError) as err:
            await call()
        assert error_code(err.value, ex) == -1125
        assert "This listenKey does not exist." in str(err.value)
    lk = (await ex.fapiPrivatePostListenKey())["listenKey"]
    sim.ctx.clock.set_virtual(start + 59 * 60_000, speed=0.0)
    assert (await ex.fapiPrivatePutListenKey())["listenKey"] == lk  # kept alive: 60 more minutes
    sim.ctx.clock.set_virtual(start + 59 * 60_000 + 60 * 60_000, speed=0.0)
    with pytest.raises(ccxt.BaseError) as err:
        await ex.fapiPrivatePutListenKey()
    assert error_code(err.value, ex) == -1125
    await ex.fapiPrivatePostListenKey()
    assert await ex.fapiPrivateDeleteListenKey() == {}
    with pytest.raises(ccxt.BaseError) as err:
        await ex.fapiPrivateDeleteListenKey()
    assert error_code(err.value, ex) == -1125


# ---- KuCoin ------------------------------------------------------------------------------------


async def test_kucoin_fok_and_post_only_are_accepted_then_cancelled(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Enums "TimeInForce": FOK is cancelled if it cannot be filled completely; Add Order "postOnly":
    an order that would take is cancelled. Both get an orderId first: they are not refused."""
    key = await make_key("kucoin", permissions=SPOT_TRADE)
    ex = ccxt_client("kucoin", key)
    await ex.load_markets()
    ticker = await ex.fetch_ticker("BTC/USDT")
    fok = await resting_buy(ex, timeInForce="FOK")
    assert fok["id"]
    fok_now = await ex.fetch_order(fok["id"], "BTC/USDT")
    assert fok_now["status"] == "canceled" and fok_now["filled"] == 0
    crossing = float(ex.price_to_precision("BTC/USDT", ticker["ask"] * 1.05))
    post = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, crossing, {"postOnly": True})
    post_now = await ex.fetch_order(post["id"], "BTC/USDT")
    assert post_now["status"] == "canceled" and post_now["filled"] == 0
    assert (await ex.fetch_balance())["USDT"]["used"] == 0


async def test_kucoin_futures_post_only_that_would_take_is_cancelled(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Futures Add Order "postOnly": accepted, then cancelled rather than filled as a taker."""
    key = await make_key("kucoin", permissions=FUTURES)
    ex = ccxt_client("kucoinfutures", key)
    await ex.load_markets()
    sym = "BTC/USDT:USDT"
    ask = (await ex.fetch_order_book(sym))["asks"][0][0]
    price = float(ex.price_to_precision(sym, ask * 1.05))
    order = await ex.create_order(sym, "limit", "buy", 1, price, {"postOnly": True, "leverage": 5})
    now = await ex.fetch_order(order["id"], sym)
    assert now["status"] == "canceled" and now["filled"] == 0
    positions = await ex.fetch_positions([sym])
    assert all(not p["contracts"] for p in positions)


def _kucoin_headers(
    key: dict[str, Any], path: str, version: str | None, signed_passphrase: bool
) -> dict[str, str]:
    """KuCoin's documented signing (docs "Authentication"), with the passphrase plain or signed."""
    import base64
    import hashlib
    import hmac

    ts = str(int(time.time() * 1000))

    def sign(text: str) -> str:
        mac = hmac.new(key["secret"].encode(), text.encode(), hashlib.sha256)
        return base64.b64encode(mac.digest()).decode()

    headers = {
        "KC-API-KEY": key["apiKey"],
        "KC-API-TIMESTAMP": ts,
        "KC-API-SIGN": sign(ts + "GET" + path),
        "KC-API-PASSPHRASE": sign(key["password"]) if signed_passphrase else key["password"],
    }
    if version is not None:
        headers["KC-API-KEY-VERSION"] = version
    return headers


async def _kucoin_get(sim: SimServer, headers: dict[str, str], path: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{sim.url}/api.kucoin.com{path}", headers=headers) as r:
        return r.status, await r.json()


@pytest.mark.parametrize("version", [2, 3, None])
async def test_kucoin_v2_v3_key_refuses_plain_passphrase(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient, version: int | None
) -> None:
    """docs "Authentication": only V1 keys send the passphrase in plain text; V2/V3 keys send it
    HMAC-signed. A V2+ key (the default is the current V3) refuses the plain form: 400004."""
    spec: dict[str, Any] = {"permissions": ["read"]}
    if version is not None:
        spec["kc_version"] = version
    key = await make_key("kucoin", **spec)
    assert key["kc_version"] == (version or 3)
    path = "/api/v1/accounts"
    for header in (None, "1", str(version or 3)):
        status, body = await _kucoin_get(sim, _kucoin_headers(key, path, header, False), path)
        assert (status, body["code"]) == (401, "400004"), header
    status, body = await _kucoin_get(sim, _kucoin_headers(key, path, str(version or 3), True), path)
    assert (status, body["code"]) == (200, "200000")
    assert (await ccxt_client("kucoin", key).fetch_balance())["USDT"]["free"] == 10_000


async def test_kucoin_v1_key_takes_only_the_plain_passphrase(sim: SimServer, make_key: MakeKey) -> None:
    """A key created as V1 keeps the V1 rule: plain passphrase, and the signed one does not match."""
    key = await make_key("kucoin", permissions=["read"], kc_version=1)
    path = "/api/v1/accounts"
    status, body = await _kucoin_get(sim, _kucoin_headers(key, path, "1", False), path)
    assert (status, body["code"]) == (200, "200000")
    status, body = await _kucoin_get(sim, _kucoin_headers(key, path, "2", True), path)
    assert (status, body["code"]) == (401, "400004")


async def test_kucoin_key_version_is_validated(sim: SimServer) -> None:
    """A bad kc_version is refused by the admin API and creates no key."""
    before = await admin_get(sim.url, "/_sim/keys", venue="kucoin")
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{sim.url}/_sim/keys", json={"venue": "kucoin", "kc_version": 4}) as r,
    ):
        assert r.status == 400 and "kc_version" in (await r.json())["error"]
    assert await admin_get(sim.url, "/_sim/keys", venue="kucoin") == before


# ---- Bybit ---------------------------------------------------------------------------------------


async def test_bybit_kline_pages_forward_from_start(ccxt_client: MakeClient) -> None:
    """Get Kline: with `start` the candles run forward from the one containing `start`."""
    ex = ccxt_client("bybit", options={"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}})
    await ex.load_markets()
    now = int(time.time() * 1000)
    since = now - now % 60_000 - 300 * 60_000
    first = await ex.fetch_ohlcv("BTC/USDT", "1m", since=since, limit=10)
    assert [c[0] for c in first] == [since + i * 60_000 for i in range(10)]
    second = await ex.fetch_ohlcv("BTC/USDT", "1m", since=first[-1][0] + 60_000, limit=10)
    assert [c[0] for c in second] == [since + (10 + i) * 60_000 for i in range(10)]
    # a start inside a minute still begins with the candle containing it
    inside = await ex.publicGetV5MarketKline(
        {"category": "spot", "symbol": "BTCUSDT", "interval": "1", "start": since + 30_000, "limit": 3}
    )
    times = [int(row[0]) for row in inside["result"]["list"]]
    assert times == [since + 120_000, since + 60_000, since]  # newest first, as documented
