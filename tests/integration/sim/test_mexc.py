"""MEXC venue through real ccxt (async, over HTTP): markets, orders, balances, key permissions, refusals."""

from __future__ import annotations

import itertools
import re
import time
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin, admin_get, error_code

ALL = ["read", "spot_trade", "futures_trade", "withdraw"]
ADDRESS = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"

# MEXC's documented signing example (spot v3 "SIGNED Endpoint Examples for POST /api/v3/order",
# example 3: parameters split between query string and body, signed as their plain concatenation).
KAT_KEY = "mx0aBYs33eIilxBWC5"
KAT_SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
KAT_TS = 1644489390087
KAT_QUERY = "symbol=BTCUSDT&side=BUY&type=LIMIT"
KAT_BODY = f"quantity=1&price=11&recvWindow=5000&timestamp={KAT_TS}"
KAT_SIGNATURE = "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"


def tamper(ex: Any, pattern: str, repl: str) -> None:
    """After ccxt has signed a request, rewrite part of its URL or body (the signature stays as it was)."""
    original = ex.sign

    def sign(*args: Any, **kwargs: Any) -> dict[str, Any]:
        request: dict[str, Any] = original(*args, **kwargs)
        for field in ("url", "body"):
            if request.get(field):
                request[field] = re.sub(pattern, repl, request[field], count=1)
        return request

    ex.sign = sign


async def refused(ex: Any, call: Any, code: int, cls: type[Exception]) -> Exception:
    """Run `call`; assert the venue's code and that ccxt maps exactly that code to `cls`."""
    assert ex.exceptions["exact"][str(code)] is cls  # the mapping is ccxt's own, not ours
    with pytest.raises(cls) as info:
        await call
    exc: Exception = info.value
    assert error_code(exc, ex) == code, str(exc)
    return exc


def dec(value: Any) -> Decimal:
    """Decimal from a ccxt number or a venue string, without float noise."""
    return Decimal(str(value))


async def request_log(url: str, key: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The simulator's log of MEXC requests (optionally of one key)."""
    query: dict[str, Any] = {"venue": "mexc"}
    if key is not None:
        query["api_key"] = key["apiKey"]
    rows: list[dict[str, Any]] = await admin_get(url, "/_sim/requests", **query)
    return rows


# ---- markets and market data ---------------------------------------------------------------------


async def test_load_markets_without_key(sim_url: str, ccxt_client: MakeClient) -> None:
    """Default load_markets without a key: spot exchangeInfo plus contract detail, nothing else."""
    ex = ccxt_client("mexc")
    markets = await ex.load_markets()
    btc, perp = markets["BTC/USDT"], markets["BTC/USDT:USDT"]
    assert btc["spot"] and btc["active"] and btc["precision"] == {"amount": 0.00001, "price": 0.01}
    assert btc["limits"]["cost"]["min"] == 1 and btc["taker"] == 0.0005
    assert perp["swap"] and perp["linear"] and perp["contractSize"] == 0.0001 and perp["settle"] == "USDT"
    # without a key ccxt skips capital/config/getall and derives the currencies from the markets
    assert set(ex.currencies) == {"ADA", "BNB", "BTC", "DOGE", "ETH", "LTC", "SOL", "USDT", "XRP"}
    rows = await request_log(sim_url)
    assert {r["path"] for r in rows} == {"/api/v3/exchangeInfo", "/api/v1/contract/detail"}
    assert all(r["status"] == 200 for r in rows)


async def test_load_markets_with_key(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """With a key ccxt also loads currencies from capital/config/getall."""
    key = await make_key("mexc", permissions=["read"])
    ex = ccxt_client("mexc", key)
    await ex.load_markets()
    assert "ETH/USDT:USDT" in ex.markets
    usdt = ex.currencies["USDT"]
    assert set(usdt["networks"]) >= {"ERC20", "TRC20"} and usdt["networks"]["TRC20"]["id"] == "TRX"
    rows = await request_log(sim_url, key)
    assert [r["path"] for r in rows] == ["/api/v3/capital/config/getall"]
    assert all(r["status"] == 200 for r in await request_log(sim_url))


async def test_spot_market_data(ccxt_client: MakeClient) -> None:
    """Spot ticker, order book, candles and trades from the simulated market."""
    ex = ccxt_client("mexc")
    ticker = await ex.fetch_ticker("BTC/USDT")
    assert ticker["bid"] < ticker["ask"] and ticker["low"] <= ticker["last"] <= ticker["high"]
    book = await ex.fetch_order_book("BTC/USDT", 10)
    bids, asks = [b[0] for b in book["bids"]], [a[0] for a in book["asks"]]
    assert len(bids) == len(asks) == 10
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    candles = await ex.fetch_ohlcv("BTC/USDT", "1h", limit=5)
    assert len(candles) == 5
    assert [b[0] - a[0] for a, b in itertools.pairwise(candles)] == [3_600_000] * 4
    assert all(c[3] <= min(c[1], c[4]) <= max(c[1], c[4]) <= c[2] for c in candles)
    trades = await ex.fetch_trades("ETH/USDT", limit=3)
    assert len(trades) == 3 and all(t["symbol"] == "ETH/USDT" and t["price"] > 0 for t in trades)


async def test_swap_market_data(ccxt_client: MakeClient) -> None:
    """Perpetual ticker, order book (in contracts) and candles."""
    ex = ccxt_client("mexc")
    ticker = await ex.fetch_ticker("BTC/USDT:USDT")
    assert ticker["bid"] < ticker["ask"] and ticker["symbol"] == "BTC/USDT:USDT"
    book = await ex.fetch_order_book("BTC/USDT:USDT", 5)
    # volumes are whole contracts of 0.0001 BTC
    assert book["bids"][0][0] < book["asks"][0][0] and all(a[1] == int(a[1]) >= 1 for a in book["asks"])
    candles = await ex.fetch_ohlcv("ETH/USDT:USDT", "1m", limit=10)
    assert len(candles) == 10 and candles[-1][0] - candles[0][0] == 9 * 60_000


# ---- balances and orders -------------------------------------------------------------------------


async def test_limit_order_lifecycle(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Limit buy rests and locks quote, is fetched and listed, then canceled and unlocked."""
    key = await make_key("mexc", permissions=["read", "spot_trade"])
    ex = ccxt_client("mexc", key)
    balance = await ex.fetch_balance()
    assert (balance["USDT"]["free"], balance["BTC"]["free"], balance["ETH"]["free"]) == (10000, 1, 10)
    price = round((await ex.fetch_ticker("BTC/USDT"))["bid"] * 0.9, 2)
    created = await ex.create_order("BTC/USDT", "limit", "buy", 0.002, price)
    fetched = await ex.fetch_order(created["id"], "BTC/USDT")
    assert (fetched["status"], fetched["type"], fetched["side"]) == ("open", "limit", "buy")
    assert (fetched["amount"], fetched["price"], fetched["filled"]) == (0.002, price, 0)
    assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [created["id"]]
    locked = await ex.fetch_balance()
    assert dec(locked["USDT"]["used"]) == dec(price) * Decimal("0.002")
    canceled = await ex.cancel_order(created["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"
    assert (await ex.fetch_order(created["id"], "BTC/USDT"))["status"] == "canceled"
    after = await ex.fetch_balance()
    assert (after["USDT"]["free"], after["USDT"]["used"]) == (10000, 0)
    # a second cancel is refused with MEXC's "Unknown order sent."
    await refused(ex, ex.cancel_order(created["id"], "BTC/USDT"), -2011, ccxt.BadRequest)
    orders = await admin_get(sim_url, "/_sim/orders", venue="mexc", api_key=key["apiKey"])
    assert [(o["orderId"], o["status"]) for o in orders] == [(int(created["id"]), "CANCELED")]


@pytest.mark.parametrize("side", ["buy", "sell"])
async def test_market_order_moves_balances_by_its_fills(
    side: str, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """A market order fills against the book; balances move by price x qty and the fee."""
    key = await make_key("mexc", permissions=["read", "spot_trade"])
    ex = ccxt_client("mexc", key)
    before = (await ex.fetch_balance())["info"]["balances"]
    order = await ex.create_order("BTC/USDT", "market", side, 0.003)
    assert (await ex.fetch_order(order["id"], "BTC/USDT"))["status"] == "closed"
    fills = [t["info"] for t in await ex.fetch_my_trades("BTC/USDT") if t["order"] == order["id"]]
    assert fills and sum(dec(f["qty"]) for f in fills) == Decimal("0.003")
    qty = sum(dec(f["qty"]) for f in fills)
    quote = sum(dec(f["price"]) * dec(f["qty"]) for f in fills)
    fee = sum(dec(f["commission"]) for f in fills)
    # MEXC charges the taker commission (0.05 %) in the quote asset
    assert {f["commissionAsset"] for f in fills} == {"USDT"} and fee == quote * Decimal("0.0005")
    after = (await ex.fetch_balance())["info"]["balances"]

    def total(rows: list[dict[str, Any]], asset: str) -> Decimal:
        row = next(r for r in rows if r["asset"] == asset)
        return dec(row["free"]) + dec(row["locked"])

    sign = 1 if side == "buy" else -1
    assert total(after, "BTC") - total(before, "BTC") == sign * qty
    assert total(after, "USDT") - total(before, "USDT") == -sign * quote - fee


async def test_order_rejections(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Minimum order value, insufficient balance and unknown symbol use MEXC's codes."""
    key = await make_key("mexc", permissions=["read", "spot_trade"], balances={"USDT": "50"})
    ex = ccxt_client("mexc", key)
    await ex.load_markets()
    # below the 1 USDT minimum order value
    await refused(ex, ex.create_order("DOGE/USDT", "limit", "buy", 1, 0.15), 30002, ccxt.InvalidOrder)
    # more than the wallet holds
    price = (await ex.fetch_ticker("BTC/USDT"))["bid"]
    await refused(ex, ex.create_order("BTC/USDT", "limit", "buy", 0.01, price), 30004, ccxt.InsufficientFunds)
    # a symbol MEXC does not list
    await refused(ex, ex.spot_private_get_order({"symbol": "FOOUSDT", "orderId": "1"}), -1121, ccxt.BadSymbol)


# ---- key permissions -----------------------------------------------------------------------------


async def test_api_key_info_through_implicit_method(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """GET /api/v3/apiKeyInfo reports the key's scopes, IP whitelist, validity and status."""
    key = await make_key(
        "mexc", permissions=["read", "spot_trade"], ip_whitelist=["127.0.0.1"], expires_in_s=3 * 86400
    )
    ex = ccxt_client("mexc", key)
    info = await ex.spot_private_get_apikeyinfo({"accessKey": key["apiKey"]})
    assert info["accessKey"] == key["apiKey"] and info["status"] == "VALID"
    assert info["permissions"].split(",") == [
        "SPOT_ACCOUNT_READ",
        "SPOT_DEAL_READ",
        "SPOT_WITHDRAW_READ",
        "SPOT_TRANSFER_READ",
        "SPOT_DEAL_WRITE",
    ]
    assert info["ipWhiteList"] == "127.0.0.1" and info["remainingValidity"] == 3
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", info["createTime"])
    # the account endpoint agrees: can trade, cannot withdraw
    account = await ex.spot_private_get_account()
    assert (account["canTrade"], account["canWithdraw"], account["accountType"]) == (True, False, "SPOT")

    full = await make_key("mexc", permissions=ALL)
    scopes = (await ccxt_client("mexc", full).spot_private_get_apikeyinfo({"accessKey": full["apiKey"]}))[
        "permissions"
    ].split(",")
    assert {"CONTRACT_DEAL_WRITE", "CONTRACT_ACCOUNT_READ", "SPOT_WITHDRAW_WRITE"} <= set(scopes)
    assert (await ex.spot_private_get_apikeyinfo({"accessKey": key["apiKey"]}))["remainingValidity"] == 3
    # another account's key is not visible; the parameter is mandatory
    await refused(ex, ex.spot_private_get_apikeyinfo({"accessKey": full["apiKey"]}), 730706, ccxt.BadRequest)
    await refused(ex, ex.spot_private_get_apikeyinfo(), 730707, ccxt.BadRequest)


async def test_connection_probe_implicit_methods(
    sim_url: str, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """What the connection test calls, without load_markets: time, balance, permissions, futures, ticker."""
    key = await make_key("mexc", permissions=["read", "spot_trade", "futures_trade"])
    ex = ccxt_client("mexc", key)
    server = (await ex.spot_public_get_time())["serverTime"]
    assert abs(server - time.time() * 1000) < 5000
    balances = (await ex.spot_private_get_account())["balances"]
    assert {b["asset"]: b["free"] for b in balances}["USDT"] == "10000"
    perms = (await ex.spot_private_get_apikeyinfo({"accessKey": key["apiKey"]}))["permissions"]
    assert "CONTRACT_DEAL_WRITE" in perms.split(",")
    assets = await ex.contract_private_get_account_assets()
    assert assets["success"] is True and assets["data"][0]["availableBalance"] == 10000
    ticker = await ex.spot_public_get_ticker_24hr({"symbol": "BTCUSDT"})
    book = await ex.spot_public_get_ticker_bookticker({"symbol": "BTCUSDT"})
    assert dec(ticker["lastPrice"]) > 0 and dec(book["bidPrice"]) < dec(book["askPrice"])
    assert (await ex.contract_public_get_ping())["data"] > 0
    rows = await request_log(sim_url)
    assert all(r["status"] == 200 for r in rows) and "/api/v3/exchangeInfo" not in {r["path"] for r in rows}


# ---- refusals ------------------------------------------------------------------------------------


async def test_wrong_secret(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A wrong secret fails spot (700002) and contract (602) signature checks."""
    key = await make_key("mexc", permissions=ALL)
    ex = ccxt_client("mexc", {**key, "secret": key["secret"][::-1]})
    await refused(ex, ex.spot_private_get_account(), 700002, ccxt.AuthenticationError)
    await refused(ex, ex.contract_private_get_account_assets(), 602, ccxt.AuthenticationError)


async def test_missing_malformed_and_unknown_keys(sim_url: str, ccxt_client: MakeClient) -> None:
    """No key header, a malformed key and an unknown key are told apart."""
    ex = ccxt_client("mexc", {"apiKey": "no such key!", "secret": "s"})
    await refused(ex, ex.spot_private_get_account(), 700001, ccxt.AuthenticationError)
    ex = ccxt_client("mexc", {"apiKey": "mx0vglUnknownKey01", "secret": "s"})
    await refused(ex, ex.spot_private_get_account(), 10072, ccxt.BadRequest)
    await refused(ex, ex.contract_private_get_account_assets(), 401, ccxt.AuthenticationError)
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{sim_url}/api.mexc.com/api/v3/account?timestamp=1&signature=00") as r,
    ):
        assert (r.status, await r.json()) == (400, {"code": 400, "msg": "api key required"})


async def test_tampered_query_is_refused_and_nothing_is_placed(
    sim_url: str, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """A query changed after signing is refused and no order is placed."""
    key = await make_key("mexc", permissions=["read", "spot_trade"])
    ex = ccxt_client("mexc", key)
    await ex.load_markets()
    tamper(ex, r"quantity=0\.001", "quantity=0.002")
    await refused(ex, ex.create_order("BTC/USDT", "market", "buy", 0.001), 700002, ccxt.AuthenticationError)
    assert await admin_get(sim_url, "/_sim/orders", venue="mexc", api_key=key["apiKey"]) == []


async def test_tampered_contract_body_is_refused(
    sim_url: str, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """A contract JSON body changed after signing is refused."""
    key = await make_key("mexc", permissions=ALL)
    ex = ccxt_client("mexc", key)
    await ex.load_markets()
    tamper(ex, r'"vol":\s*1(\.0)?', '"vol":50')
    await refused(ex, ex.create_order("BTC/USDT:USDT", "market", "buy", 1), 602, ccxt.AuthenticationError)
    assert await admin_get(sim_url, "/_sim/orders", venue="mexc", api_key=key["apiKey"]) == []


async def test_stale_timestamp(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Requests signed too long ago fall outside recvWindow / Request-Time windows."""
    key = await make_key("mexc", permissions=ALL)
    ex = ccxt_client("mexc", key)
    ex.options["timeDifference"] = 20_000  # ccxt signs with a clock 20 s behind
    # spot: outside the default 5000 ms recvWindow; contract: outside the 10 s Request-Time window
    await refused(ex, ex.spot_private_get_account(), 700003, ccxt.InvalidNonce)
    await refused(ex, ex.contract_private_get_account_assets(), 513, ccxt.BadRequest)
    ex.options["timeDifference"] = 0
    assert "balances" in await ex.spot_private_get_account()
    ex.options["recvWindow"] = 70_000  # above MEXC's 60000 ms ceiling
    await refused(ex, ex.spot_private_get_account(), 700005, ccxt.InvalidNonce)


async def test_server_clock_skew(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A venue clock behind the client makes requests look like they come from the future."""
    key = await make_key("mexc", permissions=["read"])
    ex = ccxt_client("mexc", key)
    await admin(sim_url, "POST", "/_sim/venue", {"venue": "mexc", "clock_skew_ms": -30_000})
    # a request stamped 30 s ahead of the server: timestamp >= serverTime + 1000
    await refused(ex, ex.spot_private_get_account(), 700003, ccxt.InvalidNonce)


async def test_revoked_key(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A key revoked after use is refused on spot and contract."""
    key = await make_key("mexc", permissions=ALL)
    ex = ccxt_client("mexc", key)
    assert (await ex.spot_private_get_account())["balances"]
    await admin(sim_url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    # MEXC answers "Api key info invalid" (10072), which ccxt maps to BadRequest
    await refused(ex, ex.spot_private_get_account(), 10072, ccxt.BadRequest)
    await refused(ex, ex.contract_private_get_account_assets(), 401, ccxt.AuthenticationError)


async def test_expired_key(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A key past its expiry is refused (contract says 402 Api_key expired)."""
    key = await make_key("mexc", permissions=ALL, expires_ms=int(time.time() * 1000) - 1)
    ex = ccxt_client("mexc", key)
    await refused(ex, ex.spot_private_get_account(), 10072, ccxt.BadRequest)
    await refused(ex, ex.contract_private_get_account_assets(), 402, ccxt.AuthenticationError)


async def test_ip_not_whitelisted(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A key bound to another IP is refused with MEXC's whitelist codes."""
    key = await make_key("mexc", permissions=ALL, ip_whitelist=["10.9.9.9"])
    ex = ccxt_client("mexc", key)
    exc = await refused(ex, ex.spot_private_get_account(), 700006, ccxt.BadRequest)
    assert "IP [127.0.0.1] not in the ip white list" in str(exc)
    await refused(ex, ex.contract_private_get_account_assets(), 406, ccxt.PermissionDenied)
    # load_markets with this key fails the same way (currencies need a signed call)
    await refused(ex, ex.load_markets(), 700006, ccxt.BadRequest)
    assert {r["code"] for r in await request_log(sim_url, key)} == {"700006", "406"}


async def test_read_only_key_cannot_trade(sim_url: str, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A read-only key can read balances but not place orders."""
    key = await make_key("mexc", permissions=["read"])
    ex = ccxt_client("mexc", key)
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000
    await refused(
        ex, ex.create_order("BTC/USDT", "limit", "buy", 0.001, 30000), 700007, ccxt.AuthenticationError
    )
    assert await admin_get(sim_url, "/_sim/orders", venue="mexc", api_key=key["apiKey"]) == []


async def test_futures_need_futures_permission(
    sim_url: str, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Contract account and orders need the futures permission."""
    key = await make_key("mexc", permissions=["read", "spot_trade"])
    ex = ccxt_client("mexc", key)
    await refused(ex, ex.fetch_balance({"type": "swap"}), 701, ccxt.PermissionDenied)
    await refused(ex, ex.create_order("BTC/USDT:USDT", "market", "buy", 1), 704, ccxt.PermissionDenied)
    assert await admin_get(sim_url, "/_sim/orders", venue="mexc", api_key=key["apiKey"]) == []


async def test_futures_order_with_permission(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """A contract market order opens a position; margin and fee follow the fill."""
    key = await make_key("mexc", permissions=["read", "futures_trade"])
    ex = ccxt_client("mexc", key)
    order = await ex.create_order("ETH/USDT:USDT", "market", "buy", 10)
    fetched = await ex.fetch_order(order["id"], "ETH/USDT:USDT")
    assert (fetched["status"], fetched["filled"]) == ("closed", 10)
    positions = await ex.fetch_positions(["ETH/USDT:USDT"])
    assert [(p["side"], p["contracts"], p["contractSize"]) for p in positions] == [("long", 10, 0.01)]
    # 10 contracts of 0.01 ETH: margin = notional / 20x leverage; taker fee 0.02 % of the notional
    notional = dec(fetched["info"]["dealAvgPrice"]) * Decimal("0.1")
    fee, margin = dec(fetched["info"]["takerFee"]), notional / 20
    assert fee == notional * Decimal("0.0002")
    balance = (await ex.fetch_balance({"type": "swap"}))["info"]["data"][0]
    assert dec(balance["positionMargin"]) == margin
    assert dec(balance["cashBalance"]) == Decimal(10000) - fee - margin


async def test_withdraw_needs_withdraw_permission(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    """Withdraw is refused without the permission and recorded with it."""
    plain = await make_key("mexc", permissions=["read", "spot_trade"])
    ex = ccxt_client("mexc", plain)
    await refused(
        ex, ex.withdraw("USDT", 25, ADDRESS, {"network": "TRC20"}), 700007, ccxt.AuthenticationError
    )
    assert (await ex.fetch_balance())["USDT"]["total"] == 10000

    allowed = await make_key("mexc", permissions=["read", "withdraw"])
    ex = ccxt_client("mexc", allowed)
    tx = await ex.withdraw("USDT", 25, ADDRESS, {"network": "TRC20"})
    assert re.match(r"^[0-9a-f]{32}$", tx["id"])
    assert (await ex.fetch_balance())["USDT"]["total"] == 9975
    history = await ex.spot_private_get_capital_withdraw_history({"coin": "USDT"})
    assert [(h["id"], h["amount"], h["network"], h["address"]) for h in history] == [
        (tx["id"], "25", "TRX", ADDRESS)
    ]
    await refused(ex, ex.withdraw("USDT", 100_000, ADDRESS), 10101, ccxt.InsufficientFunds)


# ---- documented signing example, faults, limits --------------------------------------------------


async def test_documented_signature_example(sim: SimServer) -> None:
    """MEXC's own signing example (query + body concatenated) is accepted end to end."""
    key = sim.ctx.keys.create("mexc", ["read", "spot_trade"], api_key=KAT_KEY, secret=KAT_SECRET)
    sim.venues["mexc"].on_key_created(key, None)
    skew = KAT_TS + 50 - int(time.time() * 1000)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "mexc", "clock_skew_ms": skew})
    url = f"{sim.url}/api.mexc.com/api/v3/order?{KAT_QUERY}"
    headers = {"X-MEXC-APIKEY": KAT_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=f"{KAT_BODY}&signature={KAT_SIGNATURE}", headers=headers) as r:
            body = await r.json()
        assert r.status == 200 and (body["symbol"], body["price"], body["origQty"]) == ("BTCUSDT", "11", "1")
        # the same bytes with an "&" between query and body are a different totalParams
        async with s.post(url + "&", data=f"{KAT_BODY}&signature={KAT_SIGNATURE}", headers=headers) as r:
            body = await r.json()
        assert (r.status, body) == (400, {"code": 700002, "msg": "Signature for this request is not valid."})


async def test_injected_fault_is_a_ccxt_exchange_not_available(sim_url: str, ccxt_client: MakeClient) -> None:
    """An injected HTTP 503 surfaces as ccxt ExchangeNotAvailable."""
    ex = ccxt_client("mexc")
    await admin(sim_url, "POST", "/_sim/faults", {"venue": "mexc", "kind": "http_503", "count": 1})
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await ex.fetch_time()
    assert await ex.fetch_time() > 0


async def test_venue_down_is_maintenance(sim_url: str, ccxt_client: MakeClient) -> None:
    """A venue marked down answers MEXC's maintenance body: ccxt OnMaintenance."""
    ex = ccxt_client("mexc")
    await admin(sim_url, "POST", "/_sim/venue", {"venue": "mexc", "down": True})
    with pytest.raises(ccxt.OnMaintenance):
        await ex.fetch_ticker("BTC/USDT")
    await admin(sim_url, "POST", "/_sim/venue", {"venue": "mexc", "down": False})
    assert (await ex.fetch_ticker("BTC/USDT"))["last"] > 0


async def test_rate_limit(sim_url: str, ccxt_client: MakeClient) -> None:
    """Over the weight limit MEXC answers 429 with code 429: ccxt RateLimitExceeded."""
    ex = ccxt_client("mexc")
    await admin(sim_url, "POST", "/_sim/venue", {"venue": "mexc", "weight_limit": 3, "ban_seconds": 0})
    for _ in range(3):
        await ex.spot_public_get_time()
    await refused(ex, ex.spot_public_get_time(), 429, ccxt.RateLimitExceeded)
    rows = await request_log(sim_url)
    assert rows[-1]["status"] == 429 and rows[-1]["code"] == "429"
