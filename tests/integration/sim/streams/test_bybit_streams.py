"""Bybit V5 streams: real ccxt.pro (spot, linear) and hand-built `websockets` clients against the sim."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import ccxt
import pytest
import websockets

from tests.integration.sim.conftest import MakeKey
from tradewarden.sim import SimServer

from .helpers import admin, advance, bounded, pro_client, recv_json, recv_until, virtual_clock, ws_url

SPOT_SYM, FUT_SYM = "BTC/USDT", "BTC/USDT:USDT"
ALL_PERMS = ["read", "spot_trade", "futures_trade"]
PUBLIC_SPOT = "wss://stream.bybit.com/v5/public/spot"
PRIVATE = "wss://stream.bybit.com/v5/private"


async def _watch_after(watch: Any, act: Any) -> Any:
    """Start a watch, then act (place an order over REST); the watch's first result, bounded."""
    task = asyncio.ensure_future(watch)
    await asyncio.sleep(0.3)
    await act()
    return await bounded(task)


async def _book_follows_rest(sim: SimServer, ex: Any, symbol: str) -> None:
    """100 delta updates on a virtual clock, then the local book equals the REST snapshot (50 levels)."""
    ob = await bounded(ex.watch_order_book(symbol, 50))
    updates = 0
    for _ in range(100):
        await advance(sim.url, 1000)  # the synthetic book's sizes change every simulator second
        before = ob["timestamp"]
        ob = await bounded(ex.watch_order_book(symbol, 50))
        updates += ob["timestamp"] > before
    assert updates == 100
    rest = await ex.fetch_order_book(symbol, 50)
    assert ob["bids"][:50] == rest["bids"] and ob["asks"][:50] == rest["asks"] and len(rest["bids"]) == 50


@pytest.mark.parametrize("symbol", [SPOT_SYM, FUT_SYM])
async def test_public_watchers(sim: SimServer, symbol: str) -> None:
    ex = pro_client("bybit", sim.url)
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        ticker_t = asyncio.ensure_future(ex.watch_ticker(symbol))
        trades_t = asyncio.ensure_future(ex.watch_trades(symbol))
        ohlcv_t = asyncio.ensure_future(ex.watch_ohlcv(symbol, "1m"))
        await asyncio.sleep(0.3)
        await advance(sim.url, 2000)
        ticker, trades, ohlcv = await bounded(asyncio.gather(ticker_t, trades_t, ohlcv_t))
        now = (await admin(sim.url, "GET", "/_sim/clock"))["now"]
        assert ticker["symbol"] == symbol and ticker["last"] > 0 and ticker["bid"] < ticker["ask"]
        assert trades and all(t["symbol"] == symbol and t["price"] > 0 for t in trades)
        # the candle pushed on subscribe or at the next second: its minute opened at most 2 s ago + 1 min
        assert (
            ohlcv and now - 62_000 < ohlcv[-1][0] <= now and ohlcv[-1][0] % 60_000 == 0 and ohlcv[-1][4] > 0
        )
        await _book_follows_rest(sim, ex, symbol)
    finally:
        await ex.close()


@pytest.mark.parametrize("symbol", [SPOT_SYM, FUT_SYM])
async def test_private_watchers_see_rest_fills(sim: SimServer, make_key: MakeKey, symbol: str) -> None:
    key = await make_key("bybit", permissions=ALL_PERMS)
    ex = pro_client("bybit", sim.url, key)
    try:
        await ex.load_markets()
        placed: list[str] = []

        async def buy() -> None:
            placed.append((await ex.create_order(symbol, "market", "buy", 0.01))["id"])

        orders = await _watch_after(ex.watch_orders(symbol), buy)
        assert orders[-1]["id"] == placed[-1] and orders[-1]["symbol"] == symbol
        trades = await _watch_after(ex.watch_my_trades(symbol), buy)
        assert trades[-1]["order"] == placed[-1] and trades[-1]["amount"] == 0.01
        balance = await _watch_after(ex.watch_balance(), buy)
        rest = await ex.fetch_balance()
        # ccxt reads `equity` from the wallet topic and `walletBalance` over REST: compare like with like
        ws_coins = {c["coin"]: c for c in balance["info"][0]["coin"]}
        assert float(ws_coins["USDT"]["walletBalance"]) == rest["USDT"]["total"] < 10000
        assert balance["USDT"]["total"] > 0
        if symbol == FUT_SYM:
            snapshot = await bounded(ex.watch_positions([FUT_SYM]))  # ccxt's REST snapshot first
            assert snapshot[-1]["contracts"] == pytest.approx(0.03)
            positions = await _watch_after(ex.watch_positions([FUT_SYM]), buy)
            assert positions[-1]["symbol"] == FUT_SYM and positions[-1]["contracts"] == pytest.approx(0.04)
    finally:
        await ex.close()


# ---- hand-built clients (websockets only, written from Bybit's V5 WebSocket documents) ----------


def _auth_args(key: dict[str, Any], expires: int | None = None, secret: str | None = None) -> list[Any]:
    """`auth` op args: [apiKey, expires, hex HMAC-SHA256 of "GET/realtime" + expires]."""
    exp = expires if expires is not None else int(time.time() * 1000) + 10_000
    sig = hmac.new(
        (secret or key["secret"]).encode(), f"GET/realtime{exp}".encode(), hashlib.sha256
    ).hexdigest()
    return [key["apiKey"], exp, sig]


async def test_hand_built_public_and_private(sim: SimServer, make_key: MakeKey) -> None:
    await virtual_clock(sim.url)
    async with websockets.connect(ws_url(sim.url, PUBLIC_SPOT)) as ws:
        await ws.send(json.dumps({"req_id": "1", "op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}))
        ack = await recv_json(ws)
        assert ack["success"] is True and ack["op"] == "subscribe" and ack["req_id"] == "1"
        snap = await recv_json(ws)
        assert snap["type"] == "snapshot" and snap["topic"] == "orderbook.50.BTCUSDT"
        assert len(snap["data"]["b"]) == 50
        await asyncio.sleep(0.1)  # the hub notes the frozen time first
        await advance(sim.url, 1000)
        delta = await recv_until(ws, lambda m: m.get("type") == "delta")
        assert delta["data"]["u"] > snap["data"]["u"]
        await ws.send(json.dumps({"req_id": "2", "op": "ping"}))
        pong = await recv_until(ws, lambda m: m.get("op") == "ping")
        assert pong["ret_msg"] == "pong" and pong["success"] is True
        await ws.send(json.dumps({"op": "subscribe", "args": ["nosuch.BTCUSDT"]}))
        bad = await recv_until(ws, lambda m: m.get("op") == "subscribe")
        assert bad["success"] is False
    key = await make_key("bybit", permissions=ALL_PERMS)
    async with websockets.connect(ws_url(sim.url, PRIVATE)) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["order"]}))
        early = await recv_json(ws)
        assert early["success"] is False  # nothing private before auth
        await ws.send(json.dumps({"req_id": "a", "op": "auth", "args": _auth_args(key)}))
        auth = await recv_json(ws)
        assert auth == {
            "success": True,
            "ret_msg": "",
            "op": "auth",
            "req_id": "a",
            "conn_id": auth["conn_id"],
        }
        await ws.send(json.dumps({"req_id": "s", "op": "subscribe", "args": ["order", "wallet", "position"]}))
        assert (await recv_json(ws))["success"] is True
        await ws.send(json.dumps({"req_id": "p", "op": "ping"}))
        pong = await recv_json(ws)
        assert pong["op"] == "pong" and pong["args"][0].isdigit()


async def _auth_reply(sim: SimServer, args: list[Any]) -> dict[str, Any]:
    async with websockets.connect(ws_url(sim.url, PRIVATE)) as ws:
        await ws.send(json.dumps({"op": "auth", "args": args}))
        return dict(await recv_json(ws))


async def test_hand_built_refused_when_tampered(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("bybit", permissions=["read", "spot_trade"])
    bad_sig = await _auth_reply(sim, _auth_args(key, secret="0" * 36))
    assert bad_sig["success"] is False and "signature" in bad_sig["ret_msg"]
    past = await _auth_reply(sim, _auth_args(key, expires=int(time.time() * 1000) - 1000))
    assert past["success"] is False and "expires" in past["ret_msg"]
    walled = await make_key("bybit", permissions=["read"], ip_whitelist=["10.1.2.3"])
    ip = await _auth_reply(sim, _auth_args(walled))
    assert ip["success"] is False and "ip" in ip["ret_msg"]
    await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    revoked = await _auth_reply(sim, _auth_args(key))
    assert revoked["success"] is False and "apiKey" in revoked["ret_msg"]
    spot_only = await make_key("bybit", permissions=["read", "spot_trade"])
    async with websockets.connect(ws_url(sim.url, PRIVATE)) as ws:
        await ws.send(json.dumps({"op": "auth", "args": _auth_args(spot_only)}))
        assert (await recv_json(ws))["success"] is True
        await ws.send(json.dumps({"op": "subscribe", "args": ["position"]}))
        refused = await recv_json(ws)
        assert refused["success"] is False and "permission" in refused["ret_msg"]


async def test_ws_drop_ccxt_raises_then_reconnects(sim: SimServer) -> None:
    ex = pro_client("bybit", sim.url)
    try:
        await ex.load_markets()
        await bounded(ex.watch_trades(SPOT_SYM))
        pending = asyncio.ensure_future(ex.watch_trades(SPOT_SYM))
        await asyncio.sleep(0.05)
        dropped = await admin(sim.url, "POST", "/_sim/faults", {"venue": "bybit", "kind": "ws_drop"})
        assert dropped["dropped"] == 1
        with pytest.raises(ccxt.NetworkError):
            await bounded(pending)
        again = await bounded(ex.watch_trades(SPOT_SYM))
        assert again and again[-1]["symbol"] == SPOT_SYM
    finally:
        await ex.close()


async def test_ws_stall_ccxt_times_out_on_keepalive(sim: SimServer) -> None:
    ex = pro_client("bybit", sim.url)
    ex.streaming = {**ex.streaming, "keepAlive": 300}  # ccxt's ping op every 0.3 s; unanswered -> timeout
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        await admin(sim.url, "POST", "/_sim/faults", {"venue": "bybit", "kind": "ws_stall", "ms": 5000})
        with pytest.raises(ccxt.RequestTimeout):
            await bounded(ex.watch_trades(SPOT_SYM), 4)
    finally:
        await admin(sim.url, "DELETE", "/_sim/faults")
        await ex.close()
