"""Binance USD-M futures (binanceusdm) through real ccxt against the simulator."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin_get, error_code

D = Decimal
SYM = "BTC/USDT:USDT"
FUTURES = ["read", "spot_trade", "futures_trade"]


async def test_load_markets_with_and_without_key(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    public = ccxt_client("binanceusdm")
    markets = await public.load_markets()
    btc = markets[SYM]
    assert btc["swap"] and btc["linear"] and btc["settle"] == "USDT"
    assert btc["precision"]["price"] == 0.1 and btc["precision"]["amount"] == 0.001
    assert btc["limits"]["cost"]["min"] == 100
    key = await make_key(permissions=FUTURES)
    keyed = ccxt_client("binanceusdm", key)
    assert SYM in await keyed.load_markets()
    assert all(r["status"] == 200 for r in await admin_get(sim.url, "/_sim/requests"))


async def test_market_data(ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binanceusdm")
    await ex.load_markets()
    ticker = await ex.fetch_ticker(SYM)
    assert ticker["last"] > 0 and ticker["low"] <= ticker["last"] <= ticker["high"]
    book = await ex.fetch_order_book(SYM, 10)
    assert book["bids"][0][0] < book["asks"][0][0]
    assert all(round(p / 0.1) * 0.1 == pytest.approx(p) for p, _ in book["bids"])
    candles = await ex.fetch_ohlcv(SYM, "5m", limit=20)
    assert len(candles) == 20 and candles[-1][0] > candles[0][0]


async def test_orders_positions_and_pnl(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(permissions=FUTURES)
    ex = ccxt_client("binanceusdm", key)
    await ex.load_markets()
    bal = await ex.fetch_balance()
    assert bal["USDT"]["total"] == 10000 and bal["USDT"]["free"] == 10000
    lev = await ex.set_leverage(10, SYM)
    assert int(lev["leverage"]) == 10
    last = (await ex.fetch_ticker(SYM))["last"]
    price = float(ex.price_to_precision(SYM, last * 0.95))
    order = await ex.create_order(SYM, "limit", "buy", 0.01, price)
    assert order["status"] == "open"
    bal = await ex.fetch_balance()
    # a resting order holds initial margin = notional / leverage
    assert D(str(bal["USDT"]["used"])) == D(str(price)) * D("0.01") / 10
    assert (await ex.fetch_order(order["id"], SYM))["status"] == "open"
    assert (await ex.cancel_order(order["id"], SYM))["status"] == "canceled"

    opened = await ex.create_order(SYM, "market", "buy", 0.01)
    assert opened["status"] == "closed" and opened["filled"] == 0.01
    positions = await ex.fetch_positions([SYM])
    assert len(positions) == 1 and positions[0]["contracts"] == 0.01 and positions[0]["side"] == "long"
    closed = await ex.create_order(SYM, "market", "sell", 0.01, None, {"reduceOnly": True})
    assert closed["status"] == "closed"
    trades = await ex.fetch_my_trades(SYM)
    pnl = sum(D(t["info"]["realizedPnl"]) for t in trades)
    fees = sum(D(t["info"]["commission"]) for t in trades)
    open_fill, close_fill = trades[0]["info"], trades[-1]["info"]
    assert fees == (D(open_fill["price"]) + D(close_fill["price"])) * D("0.01") * D("0.0005")
    assert pnl == (D(close_fill["price"]) - D(open_fill["price"])) * D("0.01")
    bal = await ex.fetch_balance()
    assert D(str(bal["USDT"]["total"])) == D(10000) + pnl - fees
    assert await ex.fetch_positions([SYM]) == []
    # with the endpoint override ccxt's fapi-specific code map does not apply (it keys on the https URL),
    # so codes outside the common map surface as ExchangeError: classify by code, as DESIGN.md says
    with pytest.raises(ccxt.ExchangeError) as info:  # nothing left to reduce
        await ex.create_order(SYM, "market", "sell", 0.01, None, {"reduceOnly": True})
    assert error_code(info.value, ex) == -2022


async def test_futures_margin_and_filters(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(permissions=FUTURES, balances={"USDT": "100"})
    ex = ccxt_client("binanceusdm", key)
    await ex.load_markets()
    with pytest.raises(ccxt.ExchangeError) as info:
        await ex.create_order(SYM, "market", "buy", 1)
    assert error_code(info.value, ex) == -2019
    with pytest.raises(ccxt.ExchangeError) as info:
        await ex.create_order(SYM, "limit", "buy", 0.001, 20000)
    assert error_code(info.value, ex) == -4164


async def test_futures_order_without_futures_permission(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(permissions=["read", "spot_trade"])
    ex = ccxt_client("binanceusdm", key)
    await ex.load_markets()
    with pytest.raises(ccxt.AuthenticationError) as info:
        await ex.create_order(SYM, "market", "buy", 0.01)
    assert error_code(info.value, ex) == -2015
    assert "request ip: 127.0.0.1" in (ex.last_http_response or "")


async def test_listen_key(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(permissions=FUTURES)
    ex = ccxt_client("binanceusdm", key)
    first = await ex.fapiPrivatePostListenKey()
    assert len(first["listenKey"]) == 64
    assert (await ex.fapiPrivatePostListenKey())["listenKey"] == first["listenKey"]
    # USD-M "Keepalive User Data Stream": the answer names the listenKey it extended
    assert await ex.fapiPrivatePutListenKey() == {"listenKey": first["listenKey"]}
