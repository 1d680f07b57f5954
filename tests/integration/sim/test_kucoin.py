"""KuCoin venue through real, unmodified ccxt (kucoin and kucoinfutures) over loopback HTTP."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin, admin_get, error_code

ALL = ["read", "spot_trade", "futures_trade", "withdraw"]
TRON_ADDRESS = "TXb5FQmFzUBoWqrN6VfQEoVcWdMMzTLeoA"


async def kucoin_key(make_key: MakeKey, permissions: list[str] | None = None, **spec: Any) -> dict[str, Any]:
    """A KuCoin key (with its passphrase) from the admin API."""
    key = await make_key("kucoin", permissions=permissions or ["read", "spot_trade"], **spec)
    assert key["password"]
    return key


async def rows(url: str, **query: Any) -> list[dict[str, Any]]:
    """The simulator's request log for the kucoin venue."""
    return list(await admin_get(url, "/_sim/requests", venue="kucoin", **query))


def tamper(ex: Any, field: str, old: str, new: str) -> None:
    """After ccxt has signed a request, change `old` to `new` in its url or body."""
    original = ex.sign

    def sign(*args: Any, **kwargs: Any) -> dict[str, Any]:
        request: dict[str, Any] = original(*args, **kwargs)
        if request.get(field) and old in request[field]:
            request[field] = request[field].replace(old, new)
        return request

    ex.sign = sign


def balances(bal: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    """(available, holds) per currency from the raw accounts answer ccxt keeps in `info`."""
    return {r["currency"]: (Decimal(r["available"]), Decimal(r["holds"])) for r in bal["info"]["data"]}


# ---- markets and market data ----------------------------------------------------------------------


async def test_load_markets_with_and_without_key(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await kucoin_key(make_key, ALL)
    loaded: dict[tuple[str, bool], Any] = {}
    for exchange_id in ("kucoin", "kucoinfutures"):
        for creds in (None, key):
            ex = ccxt_client(exchange_id, creds)
            markets = await ex.load_markets()
            swap = markets["BTC/USDT:USDT"]
            assert (swap["id"], swap["contractSize"], swap["linear"]) == ("XBTUSDTM", 0.001, True)
            assert ex.currencies["USDT"]["networks"]["TRC20"]["id"] == "trx"
            loaded[(exchange_id, creds is not None)] = ex
    assert "BTC/USDT" not in loaded[("kucoinfutures", True)].markets  # the futures client lists contracts
    spot = loaded[("kucoin", True)].markets["BTC/USDT"]
    assert spot["id"] == "BTC-USDT"
    assert (spot["precision"]["amount"], spot["precision"]["price"]) == (0.00001, 0.01)
    assert spot["limits"]["cost"]["min"] == 0.1 and spot["taker"] == 0.001
    log = await rows(sim.url)
    assert log and [r for r in log if r["status"] != 200] == []
    # with a key ccxt also asks for the account type (HF), margin symbols and the account mode
    paths = {r["path"] for r in log}
    assert {"/api/v2/symbols", "/api/v1/hf/accounts/opened", "/api/v3/currencies"} <= paths
    assert "/api/v1/contracts/active" in paths and "/api/ua/v1/account/mode" in paths


async def test_ticker_order_book_ohlcv(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("kucoin")
    ticker = await ex.fetch_ticker("BTC/USDT")
    assert 0 < ticker["bid"] < ticker["ask"] and ticker["last"] > 0 and ticker["baseVolume"] > 0
    book = await ex.fetch_order_book("BTC/USDT", 20)
    assert len(book["bids"]) == 20 and book["bids"][0][0] < book["asks"][0][0]
    assert book["bids"] == sorted(book["bids"], reverse=True)
    candles = await ex.fetch_ohlcv("BTC/USDT", "5m", limit=12)
    assert len(candles) == 12
    stamps = [c[0] for c in candles]
    assert stamps == sorted(stamps) and all(b - a == 300_000 for a, b in itertools.pairwise(stamps))
    assert all(c[3] <= min(c[1], c[4]) <= max(c[1], c[4]) <= c[2] for c in candles)  # low <= o,c <= high
    swap = await ex.fetch_ticker("BTC/USDT:USDT")
    assert swap["bid"] < swap["ask"] and isinstance(swap["info"]["bestBidSize"], int)
    swap_book = await ex.fetch_order_book("BTC/USDT:USDT", 20)
    assert swap_book["asks"][0][1] == int(swap_book["asks"][0][1])  # sizes in whole contracts


async def test_connection_test_implicit_methods(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """The calls a connection test makes without load_markets: time, balance, permissions, futures, ticker."""
    key = await kucoin_key(make_key, ["read", "spot_trade", "futures_trade"], ip_whitelist=["127.0.0.1"])
    ex = ccxt_client("kucoin", key)
    server_time = await ex.publicGetTimestamp()
    assert server_time["code"] == "200000" and abs(server_time["data"] - ex.milliseconds()) < 5_000
    accounts = await ex.privateGetAccounts({"type": "trade_hf"})
    assert {r["currency"]: r["available"] for r in accounts["data"]}["USDT"] == "10000"
    info = (await ex.privateGetUserApiKey())["data"]
    assert info["apiKey"] == key["apiKey"]
    assert info["permission"] == "General,Spot,Futures"
    assert info["ipWhitelist"] == "127.**.1"  # masked the way KuCoin's example shows
    assert info["isMaster"] is True and info["apiVersion"] == 3
    futures = (await ex.futuresPrivateGetAccountOverview({"currency": "USDT"}))["data"]
    assert (futures["currency"], futures["availableBalance"]) == ("USDT", 10000)
    level1 = (await ex.publicGetMarketOrderbookLevel1({"symbol": "BTC-USDT"}))["data"]
    assert Decimal(level1["bestBid"]) < Decimal(level1["bestAsk"])
    assert ex.markets is None  # no load_markets happened
    assert all(r["status"] == 200 for r in await rows(sim.url, api_key=key["apiKey"]))


async def test_withdraw_key_reports_transfer_permission(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await kucoin_key(make_key, ["read", "withdraw"])
    info = (await ccxt_client("kucoin", key).privateGetUserApiKey())["data"]
    assert info["permission"] == "General,Transfer" and info["ipWhitelist"] == ""


# ---- balances and orders --------------------------------------------------------------------------


async def test_balance_and_limit_order_lifecycle(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await kucoin_key(make_key)
    ex = ccxt_client("kucoin", key)
    bal = await ex.fetch_balance()
    assert (bal["USDT"]["free"], bal["BTC"]["free"], bal["ETH"]["total"]) == (10000, 1, 10)
    full_book = await ex.fetch_order_book("BTC/USDT")  # with a key ccxt reads the private full book
    assert len(full_book["asks"]) == len(full_book["bids"]) == 100
    price = round((await ex.fetch_ticker("BTC/USDT"))["bid"] * 0.9, 2)
    created = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, price)
    fetched = await ex.fetch_order(created["id"], "BTC/USDT")
    assert (fetched["status"], fetched["amount"], fetched["price"], fetched["filled"]) == (
        "open",
        0.01,
        price,
        0,
    )
    assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [created["id"]]
    held = balances(await ex.fetch_balance())["USDT"]
    assert held == (
        Decimal(10000) - Decimal(str(price)) * Decimal("0.01"),
        Decimal(str(price)) * Decimal("0.01"),
    )
    await ex.cancel_order(created["id"], "BTC/USDT")
    assert (await ex.fetch_order(created["id"], "BTC/USDT"))["status"] == "canceled"
    assert balances(await ex.fetch_balance())["USDT"] == (Decimal(10000), Decimal(0))
    orders = await admin_get(sim.url, "/_sim/orders", venue="kucoin", api_key=key["apiKey"])
    assert [o["status"] for o in orders] == ["CANCELED"]
    with pytest.raises(ccxt.OrderNotFound):
        await ex.cancel_order(created["id"], "BTC/USDT")


async def test_market_orders_move_balances_by_fills_and_fee(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await kucoin_key(make_key)
    ex = ccxt_client("kucoin", key)
    before = balances(await ex.fetch_balance())
    buy = await ex.fetch_order((await ex.create_order("BTC/USDT", "market", "buy", 0.02))["id"], "BTC/USDT")
    info = buy["info"]
    assert buy["status"] == "closed" and info["dealSize"] == "0.02"
    cost, fee = Decimal(info["dealFunds"]), Decimal(info["fee"])
    assert fee == cost * Decimal("0.001") and info["feeCurrency"] == "USDT"  # 0.1% taker, charged in quote
    after = balances(await ex.fetch_balance())
    assert after["USDT"][0] == before["USDT"][0] - cost - fee
    assert after["BTC"][0] == before["BTC"][0] + Decimal("0.02")
    trades = await ex.fetch_my_trades("BTC/USDT")
    assert sum(Decimal(t["info"]["funds"]) for t in trades) == cost
    sell = await ex.fetch_order((await ex.create_order("ETH/USDT", "market", "sell", 1.5))["id"], "ETH/USDT")
    proceeds, sell_fee = Decimal(sell["info"]["dealFunds"]), Decimal(sell["info"]["fee"])
    final = balances(await ex.fetch_balance())
    assert final["ETH"][0] == before["ETH"][0] - Decimal("1.5")
    assert final["USDT"][0] == after["USDT"][0] + proceeds - sell_fee
    assert sell_fee == proceeds * Decimal("0.001") and sell["filled"] == 1.5


async def test_order_rejections_use_kucoin_codes(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await kucoin_key(make_key)
    ex = ccxt_client("kucoin", key)
    await ex.load_markets()
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        # size off the 0.00001 increment: 400100 "Order size increment invalid." -> InvalidOrder
        ({"size": "0.000015"}, ccxt.InvalidOrder, "400100"),
        # funds under quoteMinSize: 600101 -> InvalidOrder
        ({"size": "0.00001", "price": "100"}, ccxt.InvalidOrder, "600101"),
        # more than the wallet holds: 200004 "Balance insufficient!" -> InsufficientFunds
        ({"size": "5"}, ccxt.InsufficientFunds, "200004"),
    ]
    for override, exc_class, code in cases:
        body = {
            "clientOid": f"c{code}",
            "side": "buy",
            "symbol": "BTC-USDT",
            "type": "limit",
            "price": "50000",
        }
        with pytest.raises(exc_class) as err:
            await ex.privatePostHfOrders({**body, **override})
        assert error_code(err.value) == int(code)
    assert [r["code"] for r in await rows(sim.url, api_key=key["apiKey"]) if r["code"]] == [
        "400100",
        "600101",
        "200004",
    ]


async def test_futures_balance_and_order(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await kucoin_key(make_key, ALL)
    fx = ccxt_client("kucoinfutures", key)
    assert (await fx.fetch_balance())["USDT"]["free"] == 10000
    order = await fx.create_order("ETH/USDT:USDT", "market", "buy", 3)
    got = await fx.fetch_order(order["id"], "ETH/USDT:USDT")
    assert (got["status"], got["filled"], got["info"]["filledSize"]) == ("closed", 3, 3)
    value = Decimal(got["info"]["filledValue"])
    assert abs(value - Decimal(str(got["average"])) * 3 * Decimal("0.01")) < Decimal("0.000001")
    overview = (await fx.futuresPrivateGetAccountOverview({"currency": "USDT"}))["data"]
    fee = value * Decimal("0.0006")  # taker fee on the filled value, taken from the wallet
    assert Decimal(str(overview["marginBalance"])) == Decimal(10000) - fee
    # ccxt sends leverage 1: the whole position value is held as position margin
    assert Decimal(str(overview["positionMargin"])) == value
    assert overview["availableBalance"] <= float(Decimal(10000) - fee - value)
    positions = await fx.fetch_positions()
    assert [(p["symbol"], p["contracts"], p["side"]) for p in positions] == [("ETH/USDT:USDT", 3, "long")]


# ---- authentication and permissions --------------------------------------------------------------


async def _auth_failure(
    sim: SimServer, ex: Any, call: Any, exc_class: type[Exception], code: int, status: int, key: str
) -> None:
    with pytest.raises(exc_class) as err:
        await call(ex)
    assert error_code(err.value) == code
    last = (await rows(sim.url, api_key=key))[-1]
    assert (last["status"], last["code"]) == (status, str(code))


async def test_wrong_secret_and_wrong_passphrase(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await kucoin_key(make_key)
    # A different last character, whatever the real one is (a fixed "x" equals it 1 time in 62).
    last = "y" if key["secret"].endswith("x") else "x"
    bad_secret = ccxt_client("kucoin", {**key, "secret": key["secret"][:-1] + last})
    await _auth_failure(
        sim,
        bad_secret,
        lambda e: e.privateGetAccounts(),
        ccxt.AuthenticationError,
        400005,
        401,
        key["apiKey"],
    )
    bad_pass = ccxt_client("kucoin", {**key, "password": key["password"] + "x"})
    await _auth_failure(
        sim, bad_pass, lambda e: e.privateGetAccounts(), ccxt.AuthenticationError, 400004, 401, key["apiKey"]
    )
    unknown = ccxt_client("kucoin", {**key, "apiKey": "0" * 24})
    await _auth_failure(
        sim, unknown, lambda e: e.privateGetAccounts(), ccxt.AuthenticationError, 400003, 401, "0" * 24
    )


async def test_tampered_query_and_body(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await kucoin_key(make_key)
    ex = ccxt_client("kucoin", key)
    tamper(ex, "url", "currency=USDT", "currency=BTC")
    await _auth_failure(
        sim,
        ex,
        lambda e: e.privateGetAccounts({"currency": "USDT"}),
        ccxt.AuthenticationError,
        400005,
        401,
        key["apiKey"],
    )
    ex2 = ccxt_client("kucoin", key)
    await ex2.load_markets()
    tamper(ex2, "body", '"size":"0.001"', '"size":"0.002"')
    await _auth_failure(
        sim,
        ex2,
        lambda e: e.create_order("BTC/USDT", "limit", "buy", 0.001, 50000),
        ccxt.AuthenticationError,
        400005,
        401,
        key["apiKey"],
    )
    assert await admin_get(sim.url, "/_sim/orders", venue="kucoin", api_key=key["apiKey"]) == []


async def test_stale_timestamp_and_clock_skew(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await kucoin_key(make_key)
    # ccxt subtracts options.timeDifference from its clock: the request is 6 s old (window is 5 s)
    stale = ccxt_client("kucoin", key, options={"timeDifference": 6_000})
    await _auth_failure(
        sim, stale, lambda e: e.privateGetAccounts(), ccxt.InvalidNonce, 400002, 400, key["apiKey"]
    )
    fresh = ccxt_client("kucoin", key, options={"timeDifference": 3_000})
    assert (await fresh.privateGetAccounts())["code"] == "200000"
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "kucoin", "clock_skew_ms": 30_000})
    await _auth_failure(
        sim, fresh, lambda e: e.privateGetAccounts(), ccxt.InvalidNonce, 400002, 400, key["apiKey"]
    )


async def test_revoked_and_expired_keys(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await kucoin_key(make_key)
    ex = ccxt_client("kucoin", key)
    assert (await ex.privateGetUserApiKey())["data"]["apiKey"] == key["apiKey"]
    await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    # a deleted key no longer exists for KuCoin's gateway: 400003
    await _auth_failure(
        sim, ex, lambda e: e.privateGetUserApiKey(), ccxt.AuthenticationError, 400003, 401, key["apiKey"]
    )
    expired = await kucoin_key(make_key, expires_ms=1)
    await _auth_failure(
        sim,
        ccxt_client("kucoin", expired),
        lambda e: e.privateGetUserApiKey(),
        ccxt.AuthenticationError,
        400003,
        401,
        expired["apiKey"],
    )


async def test_ip_not_whitelisted(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await kucoin_key(make_key, ip_whitelist=["10.9.9.9"])
    ex = ccxt_client("kucoin", key)
    with pytest.raises(ccxt.AuthenticationError) as err:
        await ex.fetch_balance()
    assert error_code(err.value) == 400006
    assert "the current client IP is: 127.0.0.1" in str(err.value)
    last = (await rows(sim.url, api_key=key["apiKey"]))[-1]
    assert (last["status"], last["code"]) == (403, "400006")


async def test_read_only_key_cannot_trade(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await kucoin_key(make_key, ["read"])
    ex = ccxt_client("kucoin", key)
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000  # reading works
    await _auth_failure(
        sim,
        ex,
        lambda e: e.create_order("BTC/USDT", "limit", "buy", 0.001, 50000),
        ccxt.AuthenticationError,
        400007,
        403,
        key["apiKey"],
    )
    assert await admin_get(sim.url, "/_sim/orders", venue="kucoin", api_key=key["apiKey"]) == []


async def test_futures_need_futures_permission(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await kucoin_key(make_key, ["read", "spot_trade"])
    ex = ccxt_client("kucoin", key)
    await _auth_failure(
        sim,
        ex,
        lambda e: e.futuresPrivateGetAccountOverview({"currency": "USDT"}),
        ccxt.AuthenticationError,
        400007,
        403,
        key["apiKey"],
    )
    await _auth_failure(
        sim,
        ex,
        lambda e: e.create_order("BTC/USDT:USDT", "market", "buy", 1),
        ccxt.AuthenticationError,
        400007,
        403,
        key["apiKey"],
    )
    fx = ccxt_client("kucoinfutures", key)
    await _auth_failure(
        sim, fx, lambda e: e.fetch_balance(), ccxt.AuthenticationError, 400007, 403, key["apiKey"]
    )


async def test_withdraw_needs_withdraw_permission(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    trader = await kucoin_key(make_key, ["read", "spot_trade"])
    ex = ccxt_client("kucoin", trader)
    await _auth_failure(
        sim,
        ex,
        lambda e: e.withdraw("USDT", 25, TRON_ADDRESS, params={"network": "TRC20"}),
        ccxt.AuthenticationError,
        400007,
        403,
        trader["apiKey"],
    )
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000
    payer = await kucoin_key(make_key, ["read", "withdraw"])
    wx = ccxt_client("kucoin", payer)
    result = await wx.withdraw("USDT", 25, TRON_ADDRESS, params={"network": "TRC20"})
    assert result["id"] and result["amount"] == 25
    # the documented default fee deduction is EXTERNAL: amount + the chain fee (1 USDT on TRC20) leave
    assert (await wx.fetch_balance())["USDT"]["free"] == 10000 - 25 - 1
    history = (await wx.privateGetWithdrawals())["data"]["items"]
    assert [(w["id"], w["amount"], w["chain"], w["address"]) for w in history] == [
        (result["id"], "25", "trx", TRON_ADDRESS)
    ]
    posted = [r for r in await rows(sim.url) if r["method"] == "POST" and r["path"] == "/api/v3/withdrawals"]
    assert [(r["api_key"], r["status"], r["code"]) for r in posted] == [
        (trader["apiKey"], 403, "400007"),
        (payer["apiKey"], 200, None),
    ]


# ---- faults and rate limits ----------------------------------------------------------------------


async def test_injected_429_and_500_faults(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("kucoin")
    await admin(sim.url, "POST", "/_sim/faults", {"venue": "kucoin", "kind": "http_429", "count": 1})
    with pytest.raises(ccxt.RateLimitExceeded) as err:
        await ex.fetch_time()
    assert error_code(err.value) == 429000
    await admin(sim.url, "POST", "/_sim/faults", {"venue": "kucoin", "kind": "http_500", "count": 1})
    with pytest.raises(ccxt.ExchangeNotAvailable) as err:
        await ex.fetch_time()
    assert error_code(err.value) == 500000
    assert await ex.fetch_time() > 0
    log = await rows(sim.url)
    assert [(r["fault"], r["status"]) for r in log] == [("http_429", 429), ("http_500", 500), (None, 200)]


async def test_weight_limit_answers_429000(sim: SimServer, ccxt_client: MakeClient) -> None:
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "kucoin", "weight_limit": 10})
    ex = ccxt_client("kucoin")
    for _ in range(3):
        await ex.publicGetTimestamp()  # weight 3 each
    with pytest.raises(ccxt.RateLimitExceeded) as err:
        await ex.publicGetTimestamp()
    assert error_code(err.value) == 429000
    headers = ex.last_response_headers
    assert headers["gw-ratelimit-limit"] == "10" and int(headers["gw-ratelimit-reset"]) > 0
    last = (await rows(sim.url))[-1]
    assert (last["status"], last["code"]) == (429, "429000")


async def test_unknown_path_answers_404000(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("kucoin")
    with pytest.raises(ccxt.NotSupported) as err:
        await ex.publicGetMarkPriceSymbolCurrent({"symbol": "BTC-USDT"})
    assert json.loads(str(err.value).split(" ", 1)[1]) == {"code": "404000", "msg": "Url Not Found"}
