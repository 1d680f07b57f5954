"""Binance spot through real ccxt against the simulator: markets, market data, balances, orders."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin, admin_get, error_code

D = Decimal


async def test_load_markets_without_key(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance")
    markets = await ex.load_markets()
    btc = markets["BTC/USDT"]
    assert btc["id"] == "BTCUSDT" and btc["spot"] is True
    assert btc["precision"]["price"] == 0.01 and btc["precision"]["amount"] == 0.00001
    assert btc["limits"]["cost"]["min"] == 5
    # ccxt's default load_markets also asks USD-M and COIN-M; every call must succeed
    assert "BTC/USDT:USDT" in markets and "BTC/USD:BTC" in markets
    rows = await admin_get(sim.url, "/_sim/requests")
    paths = {r["path"] for r in rows}
    assert {"/api/v3/exchangeInfo", "/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo"} <= paths
    assert all(r["status"] == 200 for r in rows)


async def test_load_markets_with_key(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(permissions=["read"])
    ex = ccxt_client("binance", key)
    markets = await ex.load_markets()
    assert "ETH/BTC" in markets
    # with a key ccxt reads currencies from sapi capital/config/getall and margin pairs
    assert "USDT" in ex.currencies and ex.currencies["USDT"]["networks"]
    rows = await admin_get(sim.url, "/_sim/requests", api_key=key["apiKey"])
    paths = {r["path"] for r in rows}
    assert "/sapi/v1/capital/config/getall" in paths and "/sapi/v1/margin/allPairs" in paths
    assert all(r["status"] == 200 for r in await admin_get(sim.url, "/_sim/requests"))


async def test_public_market_data(ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance")
    await ex.load_markets()
    ticker = await ex.fetch_ticker("BTC/USDT")
    assert ticker["bid"] < ticker["ask"] and ticker["low"] <= ticker["last"] <= ticker["high"]
    book = await ex.fetch_order_book("BTC/USDT", 20)
    bids, asks = book["bids"], book["asks"]
    assert len(bids) == 20 and len(asks) == 20
    assert bids[0][0] < asks[0][0]
    assert [b[0] for b in bids] == sorted((b[0] for b in bids), reverse=True)
    assert [a[0] for a in asks] == sorted(a[0] for a in asks)
    for tf in ("1m", "1h"):
        candles = await ex.fetch_ohlcv("BTC/USDT", tf, limit=50)
        assert 2 <= len(candles) <= 50
        times = [c[0] for c in candles]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert all(c[2] >= max(c[1], c[4]) and c[3] <= min(c[1], c[4]) for c in candles)
    trades = await ex.fetch_trades("BTC/USDT", limit=5)
    assert trades and all(t["amount"] > 0 for t in trades)
    assert abs(await ex.fetch_time() - ex.milliseconds()) < 5_000
    bids_asks = await ex.fetch_bids_asks(["BTC/USDT", "ETH/USDT"])  # ticker/bookTicker
    assert set(bids_asks) == {"BTC/USDT", "ETH/USDT"}
    assert all(t["bid"] < t["ask"] for t in bids_asks.values())
    prices = await ex.fetch_last_prices()  # ticker/price, every symbol
    assert prices["ETH/BTC"]["price"] > 0 and len(prices) == len(
        [m for m in ex.markets.values() if m["spot"]]
    )


async def test_limit_order_lifecycle(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    await ex.load_markets()
    last = (await ex.fetch_ticker("BTC/USDT"))["last"]
    price = float(ex.price_to_precision("BTC/USDT", last * 0.9))
    order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, price)
    assert order["status"] == "open" and order["price"] == price
    bal = await ex.fetch_balance()
    assert D(str(bal["USDT"]["used"])) == D(str(price)) * D("0.01")
    fetched = await ex.fetch_order(order["id"], "BTC/USDT")
    assert fetched["status"] == "open" and fetched["remaining"] == 0.01
    assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [order["id"]]
    canceled = await ex.cancel_order(order["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"
    bal = await ex.fetch_balance()
    assert bal["USDT"]["used"] == 0 and bal["USDT"]["free"] == 10000
    with pytest.raises(ccxt.OrderNotFound) as info:
        await ex.cancel_order(order["id"], "BTC/USDT")
    assert error_code(info.value, ex) == -2011
    with pytest.raises(ccxt.OrderNotFound) as info:
        await ex.fetch_order("999999", "BTC/USDT")
    assert error_code(info.value, ex) == -2013


async def test_market_order_moves_balances_by_cost_and_fee(
    make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    await ex.load_markets()
    before = await ex.fetch_balance()
    order = await ex.create_order("BTC/USDT", "market", "buy", 0.02)
    assert order["status"] == "closed" and order["filled"] == 0.02
    fills = order["trades"]
    cost = sum(D(t["info"]["price"]) * D(t["info"]["qty"]) for t in fills)
    fee = sum(D(t["info"]["commission"]) for t in fills)
    assert all(t["info"]["commissionAsset"] == "BTC" for t in fills)  # fee comes out of what is bought
    assert fee == D("0.02") * D("0.001")
    after = await ex.fetch_balance()
    assert D(str(after["USDT"]["total"])) == D(str(before["USDT"]["total"])) - cost
    assert D(str(after["BTC"]["total"])) == D(str(before["BTC"]["total"])) + D("0.02") - fee
    # a sell sized in quote (quoteOrderQty): the fee is then charged in USDT
    sell = await ex.create_order("BTC/USDT", "market", "sell", None, None, {"quoteOrderQty": 100})
    assert sell["status"] == "closed" and 99 <= sell["cost"] <= 100
    my = await ex.fetch_my_trades("BTC/USDT")
    assert {t["order"] for t in my} == {order["id"], sell["id"]}


async def test_resting_limit_fills_when_price_moves(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    await ex.load_markets()
    last = (await ex.fetch_ticker("ETH/USDT"))["last"]
    price = float(ex.price_to_precision("ETH/USDT", last * 1.05))
    order = await ex.create_order("ETH/USDT", "limit", "sell", 0.5, price)
    assert order["status"] == "open"
    await admin(
        sim.url, "POST", "/_sim/market", {"venue": "binance", "symbol": "ETH/USDT", "price": last * 1.2}
    )
    filled = await ex.fetch_order(order["id"], "ETH/USDT")
    assert filled["status"] == "closed" and filled["average"] == price
    trades = await ex.fetch_my_trades("ETH/USDT")
    assert trades[-1]["takerOrMaker"] == "maker"
    assert D(trades[-1]["info"]["commission"]) == D(str(price)) * D("0.5") * D("0.001")
    orders = await admin_get(sim.url, "/_sim/orders", api_key=key["apiKey"])
    assert orders[0]["status"] == "FILLED" and len(orders[0]["fills"]) >= 1


async def test_order_rejections(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(balances={"USDT": "50", "BTC": "0"})
    ex = ccxt_client("binance", key)
    await ex.load_markets()
    with pytest.raises(ccxt.InsufficientFunds) as info:
        await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 50000)
    assert error_code(info.value, ex) == -2010
    # price off the tick: ccxt would round it, so send the raw request
    with pytest.raises(ccxt.InvalidOrder) as info:
        await ex.private_post_order(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.001",
                "price": "50000.005",
            }
        )
    assert error_code(info.value, ex) == -1013 and "PRICE_FILTER" in str(info.value)
    with pytest.raises(ccxt.BadRequest) as info:
        await ex.create_order("BTC/USDT", "limit", "buy", 0.0001, 20000)
    assert error_code(info.value, ex) == -1013 and "NOTIONAL" in str(info.value)
    with pytest.raises(ccxt.BadRequest) as info:
        await ex.private_post_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1"})
    assert error_code(info.value, ex) == -1102
    with pytest.raises(ccxt.BadSymbol):
        await ex.private_post_order({"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"})


async def test_duplicate_client_order_id(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    await ex.load_markets()
    params = {"clientOrderId": "bot-42-leg-1"}
    first = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 30000, params)
    assert first["clientOrderId"] == "bot-42-leg-1"
    with pytest.raises(ccxt.InvalidOrder) as info:
        await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 30000, params)
    assert error_code(info.value, ex) == -2010 and "Duplicate order sent." in str(info.value)
    again = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "bot-42-leg-1"})
    assert again["id"] == first["id"]
    assert len(await ex.fetch_open_orders("BTC/USDT")) == 1


async def test_api_restrictions_via_implicit_method(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(permissions=["read", "spot_trade"], ip_whitelist=["127.0.0.1"])
    ex = ccxt_client("binance", key)
    info = await ex.sapi_get_account_apirestrictions()
    assert info["enableReading"] is True and info["enableSpotAndMarginTrading"] is True
    assert info["enableFutures"] is False and info["enableWithdrawals"] is False
    assert info["ipRestrict"] is True and isinstance(info["createTime"], int)
    open_key = await make_key(permissions=["read", "futures_trade", "withdraw"])
    info = await ccxt_client("binance", open_key).sapi_get_account_apirestrictions()
    assert info["ipRestrict"] is False and info["enableFutures"] is True and info["enableWithdrawals"] is True
    assert info["enableSpotAndMarginTrading"] is False


async def test_withdraw_needs_withdraw_permission(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(permissions=["read", "spot_trade"])
    ex = ccxt_client("binance", key)
    await ex.load_markets()
    with pytest.raises(ccxt.AuthenticationError) as info:
        await ex.withdraw("USDT", 10, "0x" + "ab" * 20)
    assert error_code(info.value, ex) == -1002
    allowed = await make_key(permissions=["read", "withdraw"], ip_whitelist=["127.0.0.1"])
    ex2 = ccxt_client("binance", allowed)
    await ex2.load_markets()
    result = await ex2.withdraw("USDT", 10, "0x" + "ab" * 20)
    assert result["id"]
    assert (await ex2.fetch_balance())["USDT"]["free"] == 9990
