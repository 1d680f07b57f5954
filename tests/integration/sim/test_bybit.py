"""Bybit venue: real ccxt (async) over real HTTP against the in-process simulator.

Codes asserted here come from Bybit's V5 "Error Codes" page; the exception classes are the ones ccxt's
bybit maps those codes to (`exceptions['exact']`, and `httpExceptions` for the IP-limit 403).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from tests.integration.sim.conftest import MakeClient, MakeKey, admin, admin_get
from tradewarden.sim import SimServer
from tradewarden.sim.venues import VENUE_MODULES
from tradewarden.sim.venues.bybit import BybitVenue

pytestmark = pytest.mark.timeout(60)

ALL = ["read", "spot_trade", "futures_trade"]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """A simulator hosting only Bybit (seed 7), so other venues' modules cannot affect these tests."""
    async with SimServer(host="127.0.0.1", port=0, seed=7, venues=[BybitVenue]) as server:
        yield server


async def _rows(sim_url: str, key: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"venue": "bybit"}
    if key is not None:
        query["api_key"] = key["apiKey"]
    rows: list[dict[str, Any]] = await admin_get(sim_url, "/_sim/requests", **query)
    return rows


async def _raises(
    call: Callable[[], Awaitable[Any]], exc_type: type[Exception], code: int
) -> ccxt_async.BaseError:
    """Run `call`, expect `exc_type`, and check the Bybit retCode is in ccxt's message (the body)."""
    with pytest.raises(exc_type) as info:
        await call()
    assert f'"retCode":{code}' in str(info.value), str(info.value)
    return info.value


def _coins(balance: dict[str, Any]) -> dict[str, Decimal]:
    """walletBalance per coin, exactly as the venue sent it (fetch_balance()['info'])."""
    coins = balance["info"]["result"]["list"][0]["coin"]
    return {c["coin"]: Decimal(c["walletBalance"]) for c in coins}


def test_bybit_is_registered() -> None:
    """The venue is in the registry the simulator loads."""
    assert "bybit" in VENUE_MODULES


# ---- markets and market data --------------------------------------------------------------------


async def test_load_markets_without_and_with_key(
    sim_url: str, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """ccxt's default load_markets works with and without a key, every call answered 200."""
    public = ccxt_client("bybit")
    markets = await public.load_markets()
    assert markets["BTC/USDT"]["spot"] and markets["BTC/USDT"]["precision"]["price"] == 0.01
    assert markets["BTC/USDT:USDT"]["swap"] and markets["BTC/USDT:USDT"]["linear"]
    assert markets["BTC/USD:BTC"]["inverse"]
    assert markets["BTC/USDT"]["limits"]["cost"]["min"] == 5
    # ccxt asks for coin info only with a key
    assert "/v5/asset/coin/query-info" not in {r["path"] for r in await _rows(sim_url)}

    key = await make_key("bybit", permissions=["read"])
    private = ccxt_client("bybit", key)
    await private.load_markets()
    assert set(private.markets) == set(markets)
    assert "TRC20" in private.currencies["USDT"]["networks"]

    rows = await _rows(sim_url)
    paths = {r["path"] for r in rows}
    assert {"/v5/market/instruments-info", "/v5/asset/coin/query-info"} <= paths
    assert all(r["status"] == 200 and r["code"] is None for r in rows), rows


async def test_ticker_order_book_ohlcv_trades(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Ticker, order book, candles and public trades parse in ccxt and are consistent."""
    ex = ccxt_client("bybit")
    ticker = await ex.fetch_ticker("BTC/USDT")
    assert 0 < ticker["bid"] < ticker["ask"]
    assert ticker["low"] <= ticker["last"] <= ticker["high"]

    book = await ex.fetch_order_book("BTC/USDT", 10)
    bids, asks = book["bids"], book["asks"]
    assert len(bids) == 10 and len(asks) == 10
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0][0] < asks[0][0]

    candles = await ex.fetch_ohlcv("BTC/USDT", "1m", limit=5)
    assert len(candles) == 5
    assert [b[0] - a[0] for a, b in itertools.pairwise(candles)] == [60_000] * 4
    assert all(c[3] <= min(c[1], c[4]) and c[2] >= max(c[1], c[4]) for c in candles)

    hourly = await ex.fetch_ohlcv("ETH/USDT:USDT", "1h", limit=3)
    assert len(hourly) == 3 and hourly[1][0] - hourly[0][0] == 3_600_000

    trades = await ex.fetch_trades("BTC/USDT", limit=5)
    assert trades and all(t["side"] in ("buy", "sell") and t["price"] > 0 for t in trades)


# ---- account, orders, balances ----------------------------------------------------------------------


async def test_fetch_balance(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """The unified wallet starts with the default balances."""
    key = await make_key("bybit", permissions=["read"])
    bal = await ccxt_client("bybit", key).fetch_balance()
    assert bal["USDT"]["free"] == 10000 and bal["BTC"]["total"] == 1 and bal["ETH"]["total"] == 10
    assert bal["info"]["result"]["list"][0]["accountType"] == "UNIFIED"


async def test_limit_order_create_fetch_cancel(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A resting limit order locks quote, can be fetched, cancelled, and not cancelled twice."""
    key = await make_key("bybit", permissions=["read", "spot_trade"])
    ex = ccxt_client("bybit", key)
    price = round((await ex.fetch_ticker("BTC/USDT"))["bid"] * 0.9, 2)

    order = await ex.create_order("BTC/USDT", "limit", "buy", 0.002, price, {"clientOrderId": "tw-1"})
    fetched = await ex.fetch_open_order(order["id"], "BTC/USDT")
    assert fetched["status"] == "open" and fetched["clientOrderId"] == "tw-1"
    assert fetched["amount"] == 0.002 and fetched["price"] == price and fetched["remaining"] == 0.002
    locked = await ex.fetch_balance()
    assert locked["USDT"]["used"] == pytest.approx(0.002 * price)

    await ex.cancel_order(order["id"], "BTC/USDT")
    done = await ex.fetch_order(order["id"], "BTC/USDT", {"acknowledged": True})
    assert done["status"] == "canceled" and done["filled"] == 0
    assert (await ex.fetch_open_orders("BTC/USDT")) == []
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000

    with pytest.raises(ccxt_async.OrderNotFound) as info:  # 170213 "Order does not exist."
        await ex.cancel_order(order["id"], "BTC/USDT")
    assert '"retCode":170213' in str(info.value)


async def test_market_orders_fill_against_the_book(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Market orders fill and move balances by exactly the fills' value and fees."""
    key = await make_key("bybit", permissions=["read", "spot_trade"])
    ex = ccxt_client("bybit", key)
    before = _coins(await ex.fetch_balance())

    buy = await ex.create_order("BTC/USDT", "market", "buy", 0.05)
    sell = await ex.create_order("BTC/USDT", "market", "sell", 0.02)
    closed = await ex.fetch_closed_order(buy["id"], "BTC/USDT")
    assert closed["status"] == "closed" and closed["filled"] == 0.05

    fills = (await ex.private_get_v5_execution_list({"category": "spot", "symbol": "BTCUSDT"}))["result"][
        "list"
    ]
    by_side: dict[str, list[dict[str, Any]]] = {"Buy": [], "Sell": []}
    for f in fills:
        by_side[f["side"]].append(f)
    assert {f["orderId"] for f in by_side["Buy"]} == {buy["id"]}
    assert {f["orderId"] for f in by_side["Sell"]} == {sell["id"]}

    def total(rows: list[dict[str, Any]], field: str) -> Decimal:
        return sum((Decimal(r[field]) for r in rows), Decimal(0))

    assert total(by_side["Buy"], "execQty") == Decimal("0.05")
    assert total(by_side["Sell"], "execQty") == Decimal("0.02")
    # spot fees: 0.1%, in the base coin on buys and in the quote coin on sells
    assert {f["feeCurrency"] for f in by_side["Buy"]} == {"BTC"}
    assert {f["feeCurrency"] for f in by_side["Sell"]} == {"USDT"}
    assert total(by_side["Buy"], "execFee") == Decimal("0.05") * Decimal("0.001")
    assert total(by_side["Sell"], "execFee") == total(by_side["Sell"], "execValue") * Decimal("0.001")

    after = _coins(await ex.fetch_balance())
    usdt_delta = -total(by_side["Buy"], "execValue") + total(by_side["Sell"], "execValue")
    usdt_delta -= total(by_side["Sell"], "execFee")
    btc_delta = Decimal("0.05") - total(by_side["Buy"], "execFee") - Decimal("0.02")
    assert after["USDT"] - before["USDT"] == usdt_delta
    assert after["BTC"] - before["BTC"] == btc_delta
    assert after["ETH"] == before["ETH"]


async def test_order_filters_and_balance_codes(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Tick, precision, minimum value and balance refusals carry Bybit's spot codes."""
    key = await make_key("bybit", permissions=["read", "spot_trade"], balances={"USDT": "100"})
    ex = ccxt_client("bybit", key)

    def place(qty: str, price: str) -> Callable[[], Awaitable[Any]]:
        body = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
        return lambda: ex.private_post_v5_order_create({**body, "qty": qty, "price": price})

    await _raises(place("0.0001", "60000.001"), ccxt_async.InvalidOrder, 170134)  # tick 0.01
    await _raises(place("0.000015", "60000"), ccxt_async.InvalidOrder, 170137)  # basePrecision
    await _raises(place("0.00005", "60000"), ccxt_async.InvalidOrder, 170140)  # 3 USDT < 5 minimum
    await _raises(place("0.01", "60000"), ccxt_async.InsufficientFunds, 170131)  # 600 USDT > 100


# ---- the key-permission endpoint and the connection test's implicit calls ----------------------------


async def test_key_permission_endpoint(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """GET /v5/user/query-api reports the key's real permissions, IPs and expiry."""
    full = await make_key("bybit", permissions=[*ALL, "withdraw"], ip_whitelist=["127.0.0.1"])
    info = (await ccxt_client("bybit", full).private_get_v5_user_query_api())["result"]
    assert info["apiKey"] == full["apiKey"] and info["readOnly"] == 0 and info["uta"] == 1
    assert info["permissions"]["Spot"] == ["SpotTrade"]
    assert info["permissions"]["ContractTrade"] == ["Order", "Position"]
    assert "Withdraw" in info["permissions"]["Wallet"]
    assert info["ips"] == ["127.0.0.1"] and info["expiredAt"] == ""

    read_only = await make_key("bybit", permissions=["read"])
    info = (await ccxt_client("bybit", read_only).private_get_v5_user_query_api())["result"]
    assert info["readOnly"] == 1 and info["permissions"]["Spot"] == []
    assert info["permissions"]["ContractTrade"] == [] and "Withdraw" not in info["permissions"]["Wallet"]
    # no IP bound: unrestricted, and the key expires three months after creation
    assert info["ips"] == ["*"] and info["deadlineDay"] == 90 and info["expiredAt"].endswith("Z")


async def test_connection_test_implicit_calls(
    sim_url: str, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """The connection test's implicit calls work without load_markets (four requests)."""
    key = await make_key("bybit", permissions=ALL, ip_whitelist=["127.0.0.1"])
    ex = ccxt_client("bybit", key)
    now = int(time.time() * 1000)
    server = await ex.public_get_v5_market_time()
    assert abs(int(server["time"]) - now) < 5_000 and server["result"]["timeSecond"] == str(
        server["time"] // 1000
    )
    bal = await ex.private_get_v5_account_wallet_balance({"accountType": "UNIFIED"})
    assert {c["coin"] for c in bal["result"]["list"][0]["coin"]} == {"USDT", "BTC", "ETH"}
    positions = await ex.private_get_v5_position_list({"category": "linear", "settleCoin": "USDT"})
    assert positions["retCode"] == 0 and positions["result"]["list"] == []
    ticker = await ex.public_get_v5_market_tickers({"category": "spot", "symbol": "BTCUSDT"})
    assert ticker["result"]["list"][0]["symbol"] == "BTCUSDT"
    assert ex.markets is None  # none of these needed load_markets
    assert len(await _rows(sim_url)) == 4


# ---- refusals -------------------------------------------------------------------------------------------


async def test_wrong_secret(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A signature made with the wrong secret is 10004 (AuthenticationError)."""
    key = await make_key("bybit", permissions=["read"])
    ex = ccxt_client("bybit", {**key, "secret": key["secret"][::-1]})
    err = await _raises(ex.private_get_v5_user_query_api, ccxt_async.AuthenticationError, 10004)
    assert "error sign!" in str(err)


async def test_tampered_query_and_body(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Changing the query or body after signing is 10004 and places nothing."""
    key = await make_key("bybit", permissions=ALL)
    ex = ccxt_client("bybit", key)
    signed_fetch = ex.fetch

    async def tamper(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        # what a man in the middle would do after ccxt signed the request
        url = url.replace("accountType=UNIFIED", "accountType=UNIFIED&coin=BTC")
        if body:
            body = body.replace('"qty":"0.001"', '"qty":"0.002"')
        return await signed_fetch(url, method, headers, body)

    ex.fetch = tamper
    await _raises(
        lambda: ex.private_get_v5_account_wallet_balance({"accountType": "UNIFIED"}),
        ccxt_async.AuthenticationError,
        10004,
    )
    order = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
    await _raises(
        lambda: ex.private_post_v5_order_create({**order, "qty": "0.001", "price": "50000"}),
        ccxt_async.AuthenticationError,
        10004,
    )
    orders = await admin_get(sim_url, "/_sim/orders", venue="bybit", api_key=key["apiKey"])
    assert orders == []
    assert [r["code"] for r in await _rows(sim_url, key)] == ["10004", "10004"]


async def test_stale_timestamp(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A timestamp outside recv_window is 10002 (InvalidNonce)."""
    key = await make_key("bybit", permissions=["read"])
    ex = ccxt_client("bybit", key)
    # the venue clock runs 10 s ahead: the request is older than recv_window (5000 ms)
    await admin(sim_url, "POST", "/_sim/venue", {"venue": "bybit", "clock_skew_ms": 10_000})
    err = await _raises(ex.private_get_v5_user_query_api, ccxt_async.InvalidNonce, 10002)
    assert "recv_window[5000]" in str(err)
    await admin(sim_url, "POST", "/_sim/venue", {"venue": "bybit", "clock_skew_ms": 0})
    assert (await ex.private_get_v5_user_query_api())["retCode"] == 0


async def test_revoked_and_expired_keys(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A deleted key is 10003 over HTTP 401; an expired one -2015 (spot) or 33004."""
    key = await make_key("bybit", permissions=["read"])
    ex = ccxt_client("bybit", key)
    assert (await ex.private_get_v5_user_query_api())["retCode"] == 0
    await admin(sim_url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    await _raises(ex.private_get_v5_user_query_api, ccxt_async.AuthenticationError, 10003)
    assert (await _rows(sim_url, key))[-1]["status"] == 401  # "need to use the correct key"

    # an expired key: -2015 "(Spot) Your api key has expired", 33004 "(Derivatives) ..."
    expired = await make_key("bybit", permissions=ALL, expires_ms=int(time.time() * 1000) - 1)
    old = ccxt_client("bybit", expired)
    await _raises(
        lambda: old.private_get_v5_order_realtime({"category": "spot"}), ccxt_async.AuthenticationError, -2015
    )
    await _raises(
        lambda: old.private_get_v5_position_list({"category": "linear", "settleCoin": "USDT"}),
        ccxt_async.AuthenticationError,
        33004,
    )


async def test_ip_not_whitelisted(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A key bound to another IP is 10010 (PermissionDenied)."""
    key = await make_key("bybit", permissions=ALL, ip_whitelist=["10.9.9.9"])
    ex = ccxt_client("bybit", key)
    err = await _raises(ex.fetch_balance, ccxt_async.PermissionDenied, 10010)
    assert "Unmatched IP" in str(err)


async def test_read_only_key_cannot_trade(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A read-only key placing an order is 10005 and no order exists."""
    key = await make_key("bybit", permissions=["read"])
    ex = ccxt_client("bybit", key)
    await _raises(
        lambda: ex.create_order("BTC/USDT", "limit", "buy", 0.001, 50000), ccxt_async.PermissionDenied, 10005
    )
    assert await admin_get(sim_url, "/_sim/orders", venue="bybit", api_key=key["apiKey"]) == []


async def test_no_futures_permission(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Without the contract permission, futures orders and positions are 10005."""
    key = await make_key("bybit", permissions=["read", "spot_trade"])
    ex = ccxt_client("bybit", key)
    await _raises(
        lambda: ex.create_order("BTC/USDT:USDT", "market", "buy", 0.01), ccxt_async.PermissionDenied, 10005
    )
    await _raises(
        lambda: ex.private_get_v5_position_list({"category": "linear", "settleCoin": "USDT"}),
        ccxt_async.PermissionDenied,
        10005,
    )


async def test_linear_market_order_margin_and_fee(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A linear fill charges the taker fee and holds initial margin in the unified USDT."""
    key = await make_key("bybit", permissions=ALL)
    fx = ccxt_client("bybit", key)
    before = _coins(await fx.fetch_balance())
    order = await fx.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
    positions = await fx.fetch_positions(["BTC/USDT:USDT"])
    assert positions[0]["contracts"] == 0.01 and positions[0]["side"] == "long"
    fills = (await fx.private_get_v5_execution_list({"category": "linear", "symbol": "BTCUSDT"}))["result"][
        "list"
    ]
    assert {f["orderId"] for f in fills} == {order["id"]}
    value = sum((Decimal(f["execValue"]) for f in fills), Decimal(0))
    fee = sum((Decimal(f["execFee"]) for f in fills), Decimal(0))
    assert fee == value * Decimal("0.00055")  # taker fee of linear contracts
    balance = await fx.fetch_balance()
    # unified account: the fee leaves the wallet, the initial margin (value / leverage 10) is held in USDT
    assert _coins(balance)["USDT"] - before["USDT"] == -fee
    usdt = balance["info"]["result"]["list"][0]["coin"]
    held = next(Decimal(c["totalPositionIM"]) for c in usdt if c["coin"] == "USDT")
    assert abs(held - value / 10) < Decimal("0.000001")  # entry price kept to 8 decimals
    assert balance["USDT"]["used"] == pytest.approx(float(held))


async def test_post_only_that_would_take_is_accepted_then_cancelled(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """A crossing post-only order is accepted and cancelled at once, as Bybit does."""
    key = await make_key("bybit", permissions=["read", "spot_trade"])
    ex = ccxt_client("bybit", key)
    ask = (await ex.fetch_order_book("BTC/USDT", 1))["asks"][0][0]
    order = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, ask * 1.01, {"postOnly": True})
    done = await ex.fetch_order(order["id"], "BTC/USDT", {"acknowledged": True})
    assert done["status"] == "canceled" and done["filled"] == 0
    assert done["info"]["rejectReason"] == "EC_PostOnlyWillTakeLiquidity"
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000


async def test_withdraw_needs_withdraw_permission(
    sim_url: str, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Withdraw is 10005 without the Withdraw permission and succeeds with it."""
    address = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"
    trader = await make_key("bybit", permissions=["read", "spot_trade"])
    tx = ccxt_client("bybit", trader)
    await _raises(
        lambda: tx.withdraw("USDT", 20, address, {"network": "TRC20"}), ccxt_async.PermissionDenied, 10005
    )
    assert (await tx.fetch_balance())["USDT"]["total"] == 10000

    wallet = await make_key("bybit", permissions=["read", "withdraw"])
    wx = ccxt_client("bybit", wallet)
    result = await wx.withdraw("USDT", 20, address, {"network": "TRC20"})
    assert result["id"]
    assert [r["code"] for r in await _rows(sim_url, trader) if r["path"] == "/v5/asset/withdraw/create"] == [
        "10005"
    ]
    assert [r for r in await _rows(sim_url, wallet) if r["code"]] == []
    records = (await wx.private_get_v5_asset_withdraw_query_record())["result"]["rows"]
    assert records[0]["withdrawId"] == result["id"] and records[0]["chain"] == "TRX"
    # feeType 0: the address receives 20, the 1 USDT TRC20 fee comes on top
    assert (await wx.fetch_balance())["USDT"]["total"] == 10000 - 21


# ---- faults and limits ----------------------------------------------------------------------------------


async def test_injected_fault_and_ip_rate_limit(sim_url: str, ccxt_client: MakeClient) -> None:
    """An injected 503 is ExchangeNotAvailable; the IP limit is 403 (RateLimitExceeded)."""
    ex = ccxt_client("bybit")
    await admin(sim_url, "POST", "/_sim/faults", {"venue": "bybit", "kind": "http_503", "count": 1})
    with pytest.raises(ccxt_async.ExchangeNotAvailable):
        await ex.public_get_v5_market_time()
    assert (await ex.public_get_v5_market_time())["retCode"] == 0

    # Rate Limit: over the per-IP budget Bybit answers "403, access too frequent" (ccxt: RateLimitExceeded)
    await admin(sim_url, "POST", "/_sim/venue", {"venue": "bybit", "weight_limit": 2})
    await ex.public_get_v5_market_time()
    await ex.public_get_v5_market_time()
    with pytest.raises(ccxt_async.RateLimitExceeded):
        await ex.public_get_v5_market_time()
    assert (await _rows(sim_url))[-1]["status"] == 403


async def test_uid_rate_limit(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Over an endpoint's per-UID limit the answer is 10006 (RateLimitExceeded)."""
    # Withdraw: 5 requests per second per UID; the sixth within the second is "Too many visits!"
    key = await make_key("bybit", permissions=["read", "withdraw"])
    ex = ccxt_client("bybit", key)
    body = {"coin": "USDT", "chain": "TRX", "address": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", "amount": "10"}
    for left in range(4, -1, -1):
        await ex.private_post_v5_asset_withdraw_create({**body, "timestamp": int(time.time() * 1000)})
        assert ex.last_response_headers["X-Bapi-Limit"] == "5"
        assert ex.last_response_headers["X-Bapi-Limit-Status"] == str(left)
    await _raises(
        lambda: ex.private_post_v5_asset_withdraw_create({**body, "timestamp": int(time.time() * 1000)}),
        ccxt_async.RateLimitExceeded,
        10006,
    )
