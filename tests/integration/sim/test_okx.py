"""OKX through real ccxt against the simulator: markets, data, balances, orders, key permissions, auth."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from itertools import pairwise
from typing import Any

import ccxt
import pytest

from tradewarden.sim import SimServer
from tradewarden.sim.venues.okx import OkxVenue

from .conftest import MakeClient, MakeKey, admin, admin_get

D = Decimal
ALL = ["read", "spot_trade", "futures_trade", "withdraw"]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """The OKX venue alone (seed 7), so other venues' work in progress cannot disturb these tests."""
    async with SimServer(host="127.0.0.1", port=0, seed=7, venues=[OkxVenue]) as server:
        yield server


def okx_code(exc: BaseException) -> str | None:
    """OKX's code from a ccxt exception message: the failing item's sCode, else the top-level code."""
    text = str(exc)
    body = json.loads(text[text.find("{") :])
    for item in body.get("data") or []:
        if isinstance(item, dict) and item.get("sCode") not in (None, "", "0"):
            return str(item["sCode"])
    return str(body["code"])


def tamper(ex: Any, pattern: str, repl: str) -> None:
    """Change the URL or body after ccxt has signed it (the signature then covers other bytes)."""
    original = ex.sign

    def sign(*args: Any, **kwargs: Any) -> dict[str, Any]:
        request: dict[str, Any] = original(*args, **kwargs)
        for field in ("url", "body"):
            if request.get(field) and re.search(pattern, request[field]):
                request[field] = re.sub(pattern, repl, request[field], count=1)
        return request

    ex.sign = sign


async def expect(exc_type: type[Exception], code: str, coro: Any) -> Exception:
    """Await `coro`, requiring ccxt to raise exactly `exc_type` carrying OKX code `code`."""
    with pytest.raises(ccxt.BaseError) as info:
        await coro
    assert type(info.value) is exc_type, (type(info.value), str(info.value))
    assert okx_code(info.value) == code, str(info.value)
    return info.value


# ---- markets and market data -----------------------------------------------------------------------


async def test_load_markets_without_key(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("okx")
    markets = await ex.load_markets()
    btc = markets["BTC/USDT"]
    assert btc["id"] == "BTC-USDT" and btc["spot"] is True
    assert (btc["precision"]["amount"], btc["precision"]["price"]) == (0.00001, 0.01)
    perp = markets["BTC/USDT:USDT"]
    assert perp["id"] == "BTC-USDT-SWAP" and perp["swap"] and perp["linear"] and perp["contractSize"] == 0.01
    rows = await admin_get(sim.url, "/_sim/requests", venue="okx")
    # ccxt's default fetchMarkets asks SPOT, FUTURES, SWAP and OPTION (one call per default underlying)
    assert sorted(r["path"] for r in rows) == ["/api/v5/public/instruments"] * 5
    assert all(r["status"] == 200 for r in rows)


async def test_load_markets_with_key(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key("okx", permissions=["read"])
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    # with credentials ccxt reads currencies (and their chains) from the private asset/currencies
    usdt = ex.currencies["USDT"]
    assert set(usdt["networks"]) == {"TRC20", "ERC20"} and usdt["networks"]["TRC20"]["fee"] == 1
    rows = await admin_get(sim.url, "/_sim/requests", venue="okx")
    assert "/api/v5/asset/currencies" in {r["path"] for r in rows}
    assert all(r["status"] == 200 for r in rows)


async def test_public_market_data(ccxt_client: MakeClient) -> None:
    ex = ccxt_client("okx")
    await ex.load_markets()
    ticker = await ex.fetch_ticker("BTC/USDT")
    assert ticker["bid"] < ticker["ask"] and ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["info"]["instType"] == "SPOT" and ticker["quoteVolume"] > ticker["baseVolume"] > 0
    book = await ex.fetch_order_book("BTC/USDT", 10)
    bids, asks = book["bids"], book["asks"]
    assert len(bids) == 10 and len(asks) == 10 and bids[0][0] < asks[0][0]
    assert [b[0] for b in bids] == sorted((b[0] for b in bids), reverse=True)
    assert [a[0] for a in asks] == sorted(a[0] for a in asks)
    for tf, step in (("1m", 60_000), ("1h", 3_600_000)):
        candles = await ex.fetch_ohlcv("BTC/USDT", tf, limit=20)
        assert len(candles) == 20
        times = [c[0] for c in candles]
        assert times == sorted(times) and all(b - a == step for a, b in pairwise(times))
        assert all(c[2] >= max(c[1], c[4]) and c[3] <= min(c[1], c[4]) for c in candles)
    since = (await ex.fetch_ohlcv("BTC/USDT", "1m", limit=30))[0][0]
    window = await ex.fetch_ohlcv("BTC/USDT", "1m", since=since, limit=5)
    assert [c[0] for c in window] == [since + i * 60_000 for i in range(5)]
    trades = await ex.fetch_trades("BTC/USDT", limit=5)
    assert len(trades) == 5 and all(t["amount"] > 0 and t["side"] in ("buy", "sell") for t in trades)
    swap = await ex.fetch_ticker("BTC/USDT:USDT")
    assert swap["info"]["instType"] == "SWAP" and swap["bid"] < swap["ask"]
    assert abs(await ex.fetch_time() - ex.milliseconds()) < 5_000


async def test_unknown_instrument_and_bad_bar(ccxt_client: MakeClient) -> None:
    ex = ccxt_client("okx")
    await expect(ccxt.BadSymbol, "51001", ex.public_get_market_ticker({"instId": "NOPE-USDT"}))
    await expect(ccxt.BadRequest, "51000", ex.public_get_market_candles({"instId": "BTC-USDT", "bar": "7m"}))
    await expect(ccxt.BadRequest, "50014", ex.public_get_public_instruments({}))


# ---- balances and orders ---------------------------------------------------------------------------


async def test_limit_order_lifecycle(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key("okx")
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    bal = await ex.fetch_balance()
    assert (bal["USDT"]["total"], bal["BTC"]["total"], bal["ETH"]["total"]) == (10000, 1, 10)
    last = (await ex.fetch_ticker("BTC/USDT"))["last"]
    price = float(ex.price_to_precision("BTC/USDT", last * 0.9))
    placed = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, price)
    assert placed["info"]["sCode"] == "0" and placed["clientOrderId"]
    order = await ex.fetch_order(placed["id"], "BTC/USDT")
    assert order["status"] == "open" and order["price"] == price and order["remaining"] == 0.01
    assert order["clientOrderId"] == placed["clientOrderId"]
    bal = await ex.fetch_balance()
    assert D(str(bal["USDT"]["used"])) == D(str(price)) * D("0.01")
    assert D(str(bal["USDT"]["free"])) == D(10000) - D(str(price)) * D("0.01")
    assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [placed["id"]]
    canceled = await ex.cancel_order(placed["id"], "BTC/USDT")
    assert canceled["info"]["sCode"] == "0"
    assert (await ex.fetch_order(placed["id"], "BTC/USDT"))["status"] == "canceled"
    bal = await ex.fetch_balance()
    assert bal["USDT"]["used"] == 0 and bal["USDT"]["free"] == 10000
    assert await ex.fetch_open_orders("BTC/USDT") == []
    await expect(ccxt.OrderNotFound, "51401", ex.cancel_order(placed["id"], "BTC/USDT"))
    await expect(ccxt.OrderNotFound, "51603", ex.fetch_order("123456", "BTC/USDT"))


async def test_market_order_moves_balances_by_cost_and_fee(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await make_key("okx")
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    before = await ex.fetch_balance()
    placed = await ex.create_order("BTC/USDT", "market", "buy", 0.02)
    order = await ex.fetch_order(placed["id"], "BTC/USDT")
    assert order["status"] == "closed" and order["filled"] == 0.02
    fills = [t for t in await ex.fetch_my_trades("BTC/USDT") if t["order"] == placed["id"]]
    assert fills and sum(D(t["info"]["fillSz"]) for t in fills) == D("0.02")
    cost = sum(D(t["info"]["fillPx"]) * D(t["info"]["fillSz"]) for t in fills)
    fee = -sum(D(t["info"]["fee"]) for t in fills)  # OKX reports charged fees as negative numbers
    assert all(t["info"]["feeCcy"] == "BTC" for t in fills)  # a spot buy pays its fee in what it receives
    assert fee == D("0.02") * D("0.001") == -D(order["info"]["fee"])
    after = await ex.fetch_balance()
    assert D(str(after["USDT"]["total"])) == D(str(before["USDT"]["total"])) - cost
    assert D(str(after["BTC"]["total"])) == D(str(before["BTC"]["total"])) + D("0.02") - fee
    # a market sell: the fee is then charged in USDT, from the proceeds
    sold = await ex.create_order("BTC/USDT", "market", "sell", 0.01)
    sells = [t for t in await ex.fetch_my_trades("BTC/USDT") if t["order"] == sold["id"]]
    proceeds = sum(D(t["info"]["fillPx"]) * D(t["info"]["fillSz"]) for t in sells)
    sell_fee = -sum(D(t["info"]["fee"]) for t in sells)
    assert sell_fee == proceeds * D("0.001") and {t["info"]["feeCcy"] for t in sells} == {"USDT"}
    final = await ex.fetch_balance()
    assert D(str(final["USDT"]["total"])) == D(str(after["USDT"]["total"])) + proceeds - sell_fee
    assert D(str(final["BTC"]["total"])) == D(str(after["BTC"]["total"])) - D("0.01")


async def test_market_buy_sized_in_quote(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key("okx")
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    placed = await ex.create_market_buy_order_with_cost("BTC/USDT", 100)
    order = await ex.fetch_order(placed["id"], "BTC/USDT")
    assert order["info"]["tgtCcy"] == "quote_ccy" and order["status"] == "closed"
    spent = D(order["info"]["accFillSz"]) * D(order["info"]["avgPx"])
    assert D(99) < spent <= D(100)


async def test_order_rejections(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key("okx", balances={"USDT": "50"})
    ex = ccxt_client("okx", key)
    order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit"}
    place = ex.private_post_trade_order
    await expect(ccxt.InvalidOrder, "51121", place({**order, "sz": "0.000015", "px": "50000"}))
    await expect(ccxt.InvalidOrder, "51020", place({**order, "sz": "0.000001", "px": "50000"}))
    await expect(ccxt.BadRequest, "51000", place({**order, "sz": "0.001", "px": "50000.005"}))
    await expect(ccxt.InsufficientFunds, "51008", place({**order, "sz": "0.01", "px": "50000"}))
    await expect(ccxt.BadSymbol, "51001", place({**order, "instId": "NOPE-USDT", "sz": "1", "px": "1"}))
    ok = await place({**order, "sz": "0.0001", "px": "50000", "clOrdId": "dup1"})
    assert ok["code"] == "0" and ok["data"][0]["sCode"] == "0"
    await expect(
        ccxt.InvalidOrder, "51016", place({**order, "sz": "0.0001", "px": "50000", "clOrdId": "dup1"})
    )


async def test_post_only_and_fok_that_cannot_rest_are_placed_then_canceled(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await make_key("okx")
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    ask = (await ex.fetch_order_book("BTC/USDT", 5))["asks"][0][0]
    # OKX accepts both (sCode 0) and cancels them at once: cancelSource 31 (post-only would take) and 13
    crossing = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, ask * 1.01, {"postOnly": True})
    too_big = await ex.create_order("BTC/USDT", "limit", "buy", 100, ask, {"timeInForce": "FOK"})
    for placed, source in ((crossing, "31"), (too_big, "13")):
        assert placed["info"]["sCode"] == "0"
        order = await ex.fetch_order(placed["id"], "BTC/USDT")
        assert order["status"] == "canceled" and order["filled"] == 0
        assert order["info"]["cancelSource"] == source
    await expect(ccxt.OrderNotFound, "51401", ex.cancel_order(crossing["id"], "BTC/USDT"))
    canceled = await ex.fetch_canceled_orders("BTC/USDT")
    assert {o["id"] for o in canceled} == {too_big["id"], crossing["id"]}
    assert await ex.fetch_closed_orders("BTC/USDT") == []  # closed means state "filled"
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000  # nothing stayed locked


# ---- swaps in the unified account --------------------------------------------------------------------


async def test_swap_round_trip_settles_in_the_trading_account(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await make_key("okx", permissions=["read", "spot_trade", "futures_trade"])
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    before = await ex.fetch_balance()
    opened = await ex.create_order("BTC/USDT:USDT", "market", "buy", 2)
    positions = await ex.fetch_positions(["BTC/USDT:USDT"])
    assert len(positions) == 1 and positions[0]["contracts"] == 2 and positions[0]["side"] == "long"
    closed = await ex.create_order("BTC/USDT:USDT", "market", "sell", 2, None, {"reduceOnly": True})
    assert await ex.fetch_positions(["BTC/USDT:USDT"]) == []
    fills = [
        t for t in await ex.fetch_my_trades("BTC/USDT:USDT") if t["order"] in (opened["id"], closed["id"])
    ]
    fees = -sum(D(t["info"]["fee"]) for t in fills)
    pnl = sum(D(t["info"]["fillPnl"]) for t in fills)
    notional = sum(D(t["info"]["fillPx"]) * D(t["info"]["fillSz"]) * D("0.01") for t in fills)
    assert fees == notional * D("0.0005")  # taker fee on the contract value
    after = await ex.fetch_balance()
    assert D(str(after["USDT"]["total"])) == D(str(before["USDT"]["total"])) + pnl - fees


# ---- key permissions ---------------------------------------------------------------------------------


async def test_account_config_reports_the_keys_permissions(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    cases = [
        (["read"], [], "read_only", "", "1"),
        (["read", "spot_trade"], ["127.0.0.1"], "read_only,trade", "127.0.0.1", "1"),
        (
            ["read", "futures_trade"],
            ["127.0.0.1", "10.0.0.0/8"],
            "read_only,trade",
            "127.0.0.1,10.0.0.0/8",
            "2",
        ),
        (ALL, [], "read_only,trade,withdraw", "", "2"),
    ]
    for perms, ips, perm, ip, acct_lv in cases:
        key = await make_key("okx", permissions=perms, ip_whitelist=ips)
        ex = ccxt_client("okx", key)
        response = await ex.private_get_account_config()  # the connection test's permission probe
        cfg = response["data"][0]
        assert (cfg["perm"], cfg["ip"], cfg["acctLv"], cfg["posMode"]) == (perm, ip, acct_lv, "net_mode")
        assert cfg["uid"].isdigit() and cfg["uid"] == cfg["mainUid"]


async def test_connection_test_probes_without_load_markets(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await make_key("okx", permissions=["read", "spot_trade", "futures_trade"])
    ex = ccxt_client("okx", key)
    server = await ex.public_get_public_time()
    assert abs(int(server["data"][0]["ts"]) - ex.milliseconds()) < 5_000
    balance = await ex.private_get_account_balance()
    assert {d["ccy"] for d in balance["data"][0]["details"]} == {"USDT", "BTC", "ETH"}
    assert (await ex.private_get_account_config())["data"][0]["perm"] == "read_only,trade"
    assert (await ex.private_get_account_positions({"instType": "SWAP"}))["data"] == []
    ticker = await ex.public_get_market_ticker({"instId": "BTC-USDT"})
    assert ticker["data"][0]["instId"] == "BTC-USDT"
    rows = await admin_get(sim.url, "/_sim/requests", venue="okx")
    assert len(rows) == 5 and all(r["status"] == 200 for r in rows)  # no instruments: no load_markets


async def test_key_without_futures_trade_is_a_spot_mode_account(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    # OKX keys carry no futures permission; the sim shows a key without futures_trade as a Spot-mode
    # account (acctLv 1), which OKX refuses derivatives for with 51010.
    key = await make_key("okx", permissions=["read", "spot_trade"])
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    await expect(ccxt.AccountNotEnabled, "51010", ex.private_get_account_positions({"instType": "SWAP"}))
    await expect(ccxt.AccountNotEnabled, "51010", ex.create_order("BTC/USDT:USDT", "market", "buy", 1))
    await expect(
        ccxt.AccountNotEnabled, "51010", ex.set_leverage(5, "BTC/USDT:USDT", {"marginMode": "cross"})
    )
    spot = await ex.create_order("BTC/USDT", "market", "buy", 0.001)  # spot trading is unaffected
    assert spot["info"]["sCode"] == "0"


# ---- authentication negatives ------------------------------------------------------------------------


async def test_wrong_secret_and_passphrase(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key("okx")
    # A different last character, whatever the real one is (a fixed "x" equals it 1 time in 62).
    last = "y" if key["secret"].endswith("x") else "x"
    bad_secret = ccxt_client("okx", {**key, "secret": key["secret"][:-1] + last})
    await expect(ccxt.AuthenticationError, "50113", bad_secret.fetch_balance())
    bad_pass = ccxt_client("okx", {**key, "password": key["password"] + "x"})
    await expect(ccxt.AuthenticationError, "50105", bad_pass.private_get_account_balance())
    unknown = ccxt_client("okx", {**key, "apiKey": "not-a-key"})
    await expect(ccxt.AuthenticationError, "50111", unknown.private_get_account_balance())


async def test_tampered_query_and_body(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key("okx")
    query = ccxt_client("okx", key)
    tamper(query, r"ccy=BTC", "ccy=ETH")
    await expect(ccxt.AuthenticationError, "50113", query.private_get_account_balance({"ccy": "BTC"}))
    body = ccxt_client("okx", key)
    tamper(body, r'"sz": ?"0\.001"', '"sz":"0.002"')
    order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "0.001"}
    await expect(ccxt.AuthenticationError, "50113", body.private_post_trade_order(order))
    rows = await admin_get(sim.url, "/_sim/requests", venue="okx", api_key=key["apiKey"])
    assert [(r["status"], r["code"]) for r in rows] == [(401, "50113"), (401, "50113")]
    assert await admin_get(sim.url, "/_sim/orders", venue="okx") == []  # nothing was placed


async def test_stale_and_future_timestamps(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await make_key("okx")
    ex = ccxt_client("okx", key)
    for skew in (31_000, -31_000):  # the venue clock ahead of / behind the client by more than 30 s
        await admin(sim.url, "POST", "/_sim/venue", {"venue": "okx", "clock_skew_ms": skew})
        await expect(ccxt.InvalidNonce, "50102", ex.private_get_account_balance())
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "okx", "clock_skew_ms": 20_000})
    assert (await ex.private_get_account_balance())["code"] == "0"  # inside the window


async def test_revoked_and_expired_keys(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key("okx")
    ex = ccxt_client("okx", key)
    assert (await ex.private_get_account_balance())["code"] == "0"
    await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    await expect(ccxt.AuthenticationError, "50111", ex.private_get_account_balance())
    expired = await make_key("okx", expires_in_s=-1)
    await expect(ccxt.AuthenticationError, "50111", ccxt_client("okx", expired).private_get_account_config())


async def test_ip_whitelist(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    elsewhere = await make_key("okx", ip_whitelist=["10.9.9.9"])
    err = await expect(
        ccxt.PermissionDenied, "50110", ccxt_client("okx", elsewhere).private_get_account_balance()
    )
    assert "127.0.0.1" in str(err)
    here = await make_key("okx", ip_whitelist=["10.9.9.9", "127.0.0.1"])
    assert (await ccxt_client("okx", here).private_get_account_balance())["code"] == "0"


async def test_read_only_key_cannot_trade(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key("okx", permissions=["read"])
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    # 50120 "API key doesn't have permission" (HTTP 401); ccxt has no mapping for it: plain ExchangeError
    await expect(ccxt.ExchangeError, "50120", ex.create_order("BTC/USDT", "limit", "buy", 0.001, 30000))
    await expect(ccxt.ExchangeError, "50120", ex.create_order("BTC/USDT:USDT", "market", "buy", 1))
    rows = await admin_get(sim.url, "/_sim/requests", venue="okx", api_key=key["apiKey"])
    assert [(r["status"], r["code"]) for r in rows if r["path"] == "/api/v5/trade/batch-orders"] == [
        (401, "50120"),
        (401, "50120"),
    ]
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000  # reading still works


async def test_withdraw_needs_withdraw_permission(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    without = ccxt_client("okx", await make_key("okx", permissions=["read", "spot_trade"]))
    await without.load_markets()
    await expect(
        ccxt.ExchangeError, "50120", without.withdraw("USDT", 20, "TQx1exampleAddr", {"network": "TRC20"})
    )
    assert (await without.fetch_balance({"type": "funding"}))["USDT"]["total"] == 10000
    key = await make_key("okx", permissions=["read", "withdraw"])
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    sent = await ex.withdraw("USDT", 20, "TQx1exampleAddr", {"network": "TRC20"})
    assert sent["id"] and sent["info"]["chain"] == "USDT-TRC20" and sent["amount"] == 20
    funding = await ex.fetch_balance({"type": "funding"})
    assert funding["USDT"]["total"] == 10000 - 20 - 1  # amount plus the chain's fixed fee
    history = await ex.private_get_asset_withdrawal_history({"ccy": "USDT"})
    assert [w["wdId"] for w in history["data"]] == [sent["id"]]
    assert (await ex.fetch_balance())["USDT"]["total"] == 10000  # the trading account is untouched


# ---- faults ------------------------------------------------------------------------------------------


async def test_injected_rate_limit_and_downtime(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("okx")
    await admin(sim.url, "POST", "/_sim/faults", {"venue": "okx", "kind": "http_429", "count": 1})
    await expect(ccxt.RateLimitExceeded, "50011", ex.public_get_public_time())
    assert (await ex.public_get_public_time())["code"] == "0"  # the fault was one-shot
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "okx", "down": True})
    await expect(ccxt.OnMaintenance, "50001", ex.public_get_public_time())
    rows = await admin_get(sim.url, "/_sim/requests", venue="okx")
    assert [(r["status"], r["fault"]) for r in rows] == [(429, "http_429"), (200, None), (503, "down")]
