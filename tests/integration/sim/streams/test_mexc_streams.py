"""MEXC streams: real ccxt.pro (spot protobuf, contract JSON) and hand-built `websockets` clients."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import ccxt
import pytest
import websockets

from tests.integration.sim.conftest import MakeKey
from tradewarden.sim import SimServer

from .helpers import admin, advance, bounded, pro_client, recv_json, recv_until, virtual_clock, ws_url

SPOT_SYM, FUT_SYM = "BTC/USDT", "BTC/USDT:USDT"
ALL_PERMS = ["read", "spot_trade", "futures_trade"]
SPOT_WS = "wss://wbs-api.mexc.com/ws"
CONTRACT_WS = "wss://contract.mexc.com/edge"


async def _watch_after(watch: Any, act: Any) -> Any:
    """Start a watch, then act (place an order over REST); the watch's first result, bounded."""
    task = asyncio.ensure_future(watch)
    await asyncio.sleep(0.3)
    await act()
    return await bounded(task)


async def _cached(found: Any, seconds: float = 3.0) -> Any:
    """Poll ccxt.pro's caches until `found()` is non-empty (bounded in time and count)."""
    for _ in range(int(seconds / 0.05)):
        got = found()
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError("no matching update in ccxt's cache")


async def _book_follows_rest(sim: SimServer, ex: Any, symbol: str) -> None:
    """ccxt buffers 25 diffs, reads the REST snapshot, replays; 100 updates later it equals REST."""
    first = asyncio.ensure_future(ex.watch_order_book(symbol))
    await asyncio.sleep(0.3)
    for _ in range(60):
        await advance(sim.url, 1000)
        done, _ = await asyncio.wait({first}, timeout=0.3)
        if done:
            break
    ob = await bounded(first)
    updates = 0
    for _ in range(100):
        await advance(sim.url, 1000)
        before = ob["nonce"]
        ob = await bounded(ex.watch_order_book(symbol))
        updates += ob["nonce"] > before
    assert updates == 100
    rest = await ex.fetch_order_book(symbol, 100)
    n = len(rest["bids"])
    assert n > 10 and ob["bids"][:n] == rest["bids"] and ob["asks"][: len(rest["asks"])] == rest["asks"]


@pytest.mark.parametrize("symbol", [SPOT_SYM, FUT_SYM])
async def test_public_watchers(sim: SimServer, symbol: str) -> None:
    ex = pro_client("mexc", sim.url)
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        ticker_t = asyncio.ensure_future(ex.watch_ticker(symbol))
        trades_t = asyncio.ensure_future(ex.watch_trades(symbol))
        ohlcv_t = asyncio.ensure_future(ex.watch_ohlcv(symbol, "1m"))
        await asyncio.sleep(0.5)
        await advance(sim.url, 2000)
        ticker, trades, ohlcv = await bounded(asyncio.gather(ticker_t, trades_t, ohlcv_t))
        now = (await admin(sim.url, "GET", "/_sim/clock"))["now"]
        assert ticker["symbol"] == symbol and (ticker["bid"] or 0) > 0
        assert trades and all(t["symbol"] == symbol and t["price"] > 0 for t in trades)
        assert (
            ohlcv and now - 62_000 < ohlcv[-1][0] <= now and ohlcv[-1][0] % 60_000 == 0 and ohlcv[-1][4] > 0
        )
        await _book_follows_rest(sim, ex, symbol)
    finally:
        await ex.close()


@pytest.mark.parametrize("symbol", [SPOT_SYM, FUT_SYM])
async def test_private_watchers_see_rest_fills(sim: SimServer, make_key: MakeKey, symbol: str) -> None:
    key = await make_key("mexc", permissions=ALL_PERMS)
    ex = pro_client("mexc", sim.url, key)
    amount = 0.01 if symbol == SPOT_SYM else 10  # contract: 10 x 0.0001 BTC
    try:
        await ex.load_markets()
        placed: list[str] = []

        async def buy() -> None:
            placed.append((await ex.create_order(symbol, "market", "buy", amount))["id"])

        orders = await _watch_after(ex.watch_orders(symbol), buy)
        assert orders[-1]["id"] == placed[-1] and orders[-1]["symbol"] == symbol
        final = await _cached(
            lambda: [o for o in ex.orders if o["id"] == placed[-1] and o["status"] == "closed"]
        )
        assert final[-1]["filled"] == amount
        trades = await _watch_after(ex.watch_my_trades(symbol), buy)
        assert trades[-1]["order"] == placed[-1] and trades[-1]["symbol"] == symbol
        balance = await _watch_after(
            ex.watch_balance({"type": "spot" if symbol == SPOT_SYM else "swap"}), buy
        )
        assert balance["USDT"]["free"] > 0
    finally:
        await ex.close()


# ---- hand-built clients (websockets + aiohttp only, written from MEXC's documents) ---------------


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def _pb_fields(buf: bytes) -> dict[int, list[Any]]:
    """Decode one protobuf message's top level: field number -> values (bytes or int)."""
    out: dict[int, list[Any]] = {}
    i = 0
    while i < len(buf):
        tag, i = _read_varint(buf, i)
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            val, i = _read_varint(buf, i)
        elif wire == 2:
            size, i = _read_varint(buf, i)
            val, i = buf[i : i + size], i + size
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.setdefault(num, []).append(val)
    return out


async def _signed(
    sim: SimServer, key: dict[str, Any], method: str, path: str, extra: str = ""
) -> tuple[int, Any]:
    query = f"{extra}{'&' if extra else ''}timestamp={int(time.time() * 1000)}"
    sig = hmac.new(key["secret"].encode(), query.encode(), hashlib.sha256).hexdigest()
    url = f"{sim.url}/api.mexc.com{path}?{query}&signature={sig}"
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, url, headers={"X-MEXC-APIKEY": key["apiKey"]}) as r,
    ):
        return r.status, await r.json()


async def test_hand_built_spot_protobuf_and_listen_key(sim: SimServer, make_key: MakeKey) -> None:
    await virtual_clock(sim.url)
    async with websockets.connect(ws_url(sim.url, SPOT_WS)) as ws:
        channel = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
        await ws.send(json.dumps({"method": "SUBSCRIPTION", "params": [channel]}))
        assert await recv_json(ws) == {"id": 0, "code": 0, "msg": channel}
        await ws.send(json.dumps({"method": "PING"}))
        assert await recv_json(ws) == {"id": 0, "code": 0, "msg": "PONG"}
        await asyncio.sleep(0.1)
        await advance(sim.url, 1000)
        frame = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(frame, bytes)
        top = _pb_fields(frame)
        assert top[1][0].decode() == channel and top[3][0] == b"BTCUSDT"
        depth = _pb_fields(top[313][0])
        assert int(depth[5][0]) >= int(depth[4][0]) and (1 in depth or 2 in depth)
    key = await make_key("mexc", permissions=ALL_PERMS)
    status, body = await _signed(sim, key, "POST", "/api/v3/userDataStream")
    assert status == 200 and len(body["listenKey"]) == 64
    lk = body["listenKey"]
    async with websockets.connect(ws_url(sim.url, SPOT_WS) + f"?listenKey={lk}") as ws:
        channel = "spot@private.orders.v3.api.pb"
        await ws.send(json.dumps({"method": "SUBSCRIPTION", "params": [channel]}))
        assert (await recv_json(ws))["msg"] == channel
        status, _ = await _signed(
            sim, key, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01"
        )
        assert status == 200
        frame = await asyncio.wait_for(ws.recv(), 5)
        order = _pb_fields(_pb_fields(frame)[304][0])
        assert order[4][0] == b"0.01" and order[8][0] == 1  # quantity, tradeType buy
        status, body = await _signed(sim, key, "PUT", "/api/v3/userDataStream", f"listenKey={lk}")
        assert status == 200 and body["listenKey"] == lk
        got = await admin(sim.url, "POST", "/_sim/faults", {"venue": "mexc", "kind": "listenkey_expire"})
        assert got["expired"] == 1
        with pytest.raises(websockets.ConnectionClosed):
            for _ in range(20):
                await asyncio.wait_for(ws.recv(), 5)
    async with websockets.connect(ws_url(sim.url, SPOT_WS) + f"?listenKey={lk}") as ws:
        assert await asyncio.wait_for(ws.recv(), 5) == "Invalid listen key"


def _login(key: dict[str, Any], secret: str | None = None, req_time: int | None = None) -> str:
    ts = str(req_time if req_time is not None else int(time.time() * 1000))
    sig = hmac.new(
        (secret or key["secret"]).encode(), (key["apiKey"] + ts).encode(), hashlib.sha256
    ).hexdigest()
    return json.dumps(
        {"method": "login", "param": {"apiKey": key["apiKey"], "reqTime": ts, "signature": sig}}
    )


async def test_hand_built_contract_login_and_refusals(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("mexc", permissions=ALL_PERMS)
    url = ws_url(sim.url, CONTRACT_WS)
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"method": "sub.ticker", "param": {"symbol": "BTC_USDT"}}))
        assert (await recv_json(ws))["channel"] == "rs.sub.ticker"
        tick = await recv_until(ws, lambda m: m.get("channel") == "push.ticker")
        assert tick["symbol"] == "BTC_USDT" and tick["data"]["lastPrice"] > 0
        await ws.send(json.dumps({"method": "ping"}))
        assert (await recv_until(ws, lambda m: m.get("channel") == "pong"))["data"] > 0
        await ws.send(_login(key))
        assert (await recv_until(ws, lambda m: m.get("channel", "").startswith("rs.l")))["data"] == "success"
    spot_only = await make_key("mexc", permissions=["read", "spot_trade"])
    walled = await make_key("mexc", permissions=ALL_PERMS, ip_whitelist=["10.2.2.2"])
    cases = [
        (_login(key, secret="0" * 32), "Signature"),
        (_login(key, req_time=int(time.time() * 1000) - 60_000), "request time"),
        (_login(spot_only), "permission"),
        (_login(walled), "whitelist"),
    ]
    async with websockets.connect(url) as ws:
        for frame, word in cases:
            await ws.send(frame)
            err = await recv_json(ws)
            assert err["channel"] == "rs.error" and word in err["data"], err
    await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    async with websockets.connect(url) as ws:
        await ws.send(_login(key))
        assert (await recv_json(ws))["data"] == "Not logged in or login has expired"


async def test_ws_drop_ccxt_raises_then_reconnects(sim: SimServer) -> None:
    ex = pro_client("mexc", sim.url)
    try:
        await ex.load_markets()
        await bounded(ex.watch_trades(FUT_SYM))
        pending = asyncio.ensure_future(ex.watch_trades(FUT_SYM))
        await asyncio.sleep(0.05)
        dropped = await admin(sim.url, "POST", "/_sim/faults", {"venue": "mexc", "kind": "ws_drop"})
        assert dropped["dropped"] == 1
        with pytest.raises(ccxt.NetworkError):
            await bounded(pending)
        again = await bounded(ex.watch_trades(FUT_SYM))
        assert again and again[-1]["symbol"] == FUT_SYM
    finally:
        await ex.close()


async def test_listenkey_expire_fault_ends_spot_user_stream(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("mexc", permissions=ALL_PERMS)
    ex = pro_client("mexc", sim.url, key)
    try:
        await ex.load_markets()
        pending = asyncio.ensure_future(ex.watch_orders(SPOT_SYM))
        await asyncio.sleep(0.5)
        got = await admin(sim.url, "POST", "/_sim/faults", {"venue": "mexc", "kind": "listenkey_expire"})
        assert got["expired"] == 1
        with pytest.raises(ccxt.NetworkError):
            await bounded(pending)
    finally:
        await ex.close()


async def test_ws_stall_ccxt_times_out_on_keepalive(sim: SimServer) -> None:
    ex = pro_client("mexc", sim.url)
    ex.streaming = {**ex.streaming, "keepAlive": 300}  # ccxt's ping every 0.3 s; unanswered -> timeout
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        await admin(sim.url, "POST", "/_sim/faults", {"venue": "mexc", "kind": "ws_stall", "ms": 5000})
        with pytest.raises(ccxt.RequestTimeout):
            await bounded(ex.watch_trades(FUT_SYM), 4)
    finally:
        await admin(sim.url, "DELETE", "/_sim/faults")
        await ex.close()


async def test_listen_key_lapses_after_60_simulator_minutes(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("mexc", permissions=ALL_PERMS)
    status, body = await _signed(sim, key, "POST", "/api/v3/userDataStream")
    assert status == 200
    await virtual_clock(sim.url)
    async with websockets.connect(ws_url(sim.url, SPOT_WS) + f"?listenKey={body['listenKey']}") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIPTION", "params": ["spot@private.account.v3.api.pb"]}))
        assert (await recv_json(ws))["code"] == 0
        await asyncio.sleep(0.1)
        await advance(sim.url, 59 * 60_000)  # still valid: nothing ends
        await asyncio.sleep(0.2)
        await ws.send(json.dumps({"method": "PING"}))
        assert (await recv_json(ws))["msg"] == "PONG"
        await advance(sim.url, 2 * 60_000)  # past 60 minutes without a PUT
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


async def test_ccxt_mexc_offers_no_watch_positions() -> None:
    ex = pro_client("mexc", "http://127.0.0.1:9")
    try:
        assert not ex.has.get("watchPositions")  # ccxt 4.5.90 mexc pro: not implemented
        with pytest.raises(ccxt.NotSupported):
            await bounded(ex.watch_positions([FUT_SYM]), 2)
    finally:
        await ex.close()
