"""KuCoin streams: real ccxt.pro (kucoin, kucoinfutures) and hand-built `websockets` clients vs the sim."""

from __future__ import annotations

import asyncio
import base64
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

from .helpers import admin, advance, bounded, pro_client, recv_json, recv_until, virtual_clock

SPOT_SYM, FUT_SYM = "BTC/USDT", "BTC/USDT:USDT"
ALL_PERMS = ["read", "spot_trade", "futures_trade"]
CASES = [("kucoin", SPOT_SYM), ("kucoinfutures", FUT_SYM)]


async def _watch_after(watch: Any, act: Any) -> Any:
    """Start a watch, then act (place an order over REST); the watch's first result, bounded."""
    task = asyncio.ensure_future(watch)
    await asyncio.sleep(0.3)
    await act()
    return await bounded(task)


async def _book_follows_rest(sim: SimServer, ex: Any, symbol: str) -> None:
    """100 level2 updates on a virtual clock after ccxt's REST snapshot; the book equals REST then."""
    first = asyncio.ensure_future(ex.watch_order_book(symbol, 100))
    await asyncio.sleep(0.3)
    for _ in range(20):  # ccxt buffers 5 diffs, then reads the REST snapshot and replays the later ones
        await advance(sim.url, 1000)
        done, _ = await asyncio.wait({first}, timeout=0.5)
        if done:
            break
    ob = await bounded(first)
    updates = 0
    for _ in range(100):
        await advance(sim.url, 1000)
        before = ob["nonce"]
        ob = await bounded(ex.watch_order_book(symbol, 100))
        updates += ob["nonce"] > before
    assert updates == 100
    rest = await ex.fetch_order_book(symbol, 100)
    assert rest["nonce"] == ob["nonce"]
    # spot levels carry the change's sequence as a third element; compare price and size
    assert [lv[:2] for lv in ob["bids"][:100]] == rest["bids"] and len(rest["asks"]) == 100
    assert [lv[:2] for lv in ob["asks"][:100]] == rest["asks"]


@pytest.mark.parametrize(("exchange", "symbol"), CASES)
async def test_public_watchers(sim: SimServer, exchange: str, symbol: str) -> None:
    ex = pro_client(exchange, sim.url)
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
        assert ticker["symbol"] == symbol and ticker["last"] > 0
        assert trades and all(t["symbol"] == symbol and t["price"] > 0 for t in trades)
        assert (
            ohlcv and now - 62_000 < ohlcv[-1][0] <= now and ohlcv[-1][0] % 60_000 == 0 and ohlcv[-1][4] > 0
        )
        await _book_follows_rest(sim, ex, symbol)
    finally:
        await ex.close()


async def _cached(found: Any, seconds: float = 3.0) -> Any:
    """Poll ccxt.pro's caches until `found()` is non-empty (bounded in time and count)."""
    for _ in range(int(seconds / 0.05)):
        got = found()
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError("no matching update in ccxt's cache")


@pytest.mark.parametrize(("exchange", "symbol"), CASES)
async def test_private_watchers_see_rest_fills(
    sim: SimServer, make_key: MakeKey, exchange: str, symbol: str
) -> None:
    key = await make_key("kucoin", permissions=ALL_PERMS)
    ex = pro_client(exchange, sim.url, key)
    amount = 0.01 if exchange == "kucoin" else 10  # futures: contracts of 0.001 BTC
    try:
        await ex.load_markets()
        placed: list[str] = []

        async def buy() -> None:
            placed.append((await ex.create_order(symbol, "market", "buy", amount))["id"])

        orders = await _watch_after(ex.watch_orders(symbol), buy)
        assert orders[-1]["id"] == placed[-1] and orders[-1]["symbol"] == symbol
        # received, match and filled arrive together: ccxt.pro's order cache (`ex.orders`) ends closed
        final = await _cached(
            lambda: [o for o in ex.orders if o["id"] == placed[-1] and o["status"] == "closed"]
        )
        assert final[-1]["filled"] == amount
        trades = await _watch_after(ex.watch_my_trades(symbol), buy)
        assert trades[-1]["order"] == placed[-1] and trades[-1]["symbol"] == symbol
        balance = await _watch_after(ex.watch_balance(), buy)
        rest = await ex.fetch_balance()
        assert balance["USDT"]["free"] > 0
        if exchange == "kucoin":
            latest = await _cached(
                lambda: [
                    b
                    for b in [ex.balance.get("trade", {})]
                    if b.get("USDT", {}).get("total") == rest["USDT"]["total"]
                ]
            )
            assert latest[0]["BTC"]["total"] == rest["BTC"]["total"] > 1
        else:
            positions = await bounded(ex.watch_positions([FUT_SYM]))  # ccxt's REST snapshot first
            assert positions[-1]["contracts"] == 30
            positions = await _watch_after(ex.watch_positions([FUT_SYM]), buy)
            assert positions[-1]["symbol"] == FUT_SYM and positions[-1]["contracts"] == 40
    finally:
        await ex.close()


# ---- hand-built clients (websockets + aiohttp only, written from KuCoin's documents) --------------


def _headers(
    key: dict[str, Any], method: str, path: str, body: str = "", secret: str | None = None
) -> dict[str, str]:
    """KC-API headers: base64 HMAC-SHA256 of timestamp+METHOD+path+body, signed passphrase, version 2."""
    ts = str(int(time.time() * 1000))
    sec = (secret or key["secret"]).encode()
    sign = base64.b64encode(hmac.new(sec, (ts + method + path + body).encode(), hashlib.sha256).digest())
    passphrase = base64.b64encode(hmac.new(sec, key["password"].encode(), hashlib.sha256).digest())
    return {
        "KC-API-KEY": key["apiKey"],
        "KC-API-SIGN": sign.decode(),
        "KC-API-TIMESTAMP": ts,
        "KC-API-PASSPHRASE": passphrase.decode(),
        "KC-API-KEY-VERSION": "2",
        "Content-Type": "application/json",
    }


async def _bullet(
    sim: SimServer, host: str, key: dict[str, Any] | None = None, secret: str | None = None
) -> tuple[int, dict[str, Any]]:
    kind = "bullet-private" if key else "bullet-public"
    path = f"/api/v1/{kind}"
    headers = _headers(key, "POST", path, secret=secret) if key else {}
    async with aiohttp.ClientSession() as s, s.post(f"{sim.url}/{host}{path}", headers=headers) as r:
        return r.status, dict(await r.json())


def _connect_url(bullet: dict[str, Any], connect_id: str) -> str:
    server = bullet["data"]["instanceServers"][0]
    return f"{server['endpoint']}?token={bullet['data']['token']}&connectId={connect_id}"


async def test_hand_built_public_level2_follows_rest_sequence(sim: SimServer) -> None:
    status, bullet = await _bullet(sim, "api.kucoin.com")
    server = bullet["data"]["instanceServers"][0]
    assert status == 200 and bullet["code"] == "200000" and server["pingInterval"] == 18000
    assert server["pingTimeout"] == 10000 and server["endpoint"].startswith("ws://127.0.0.1")
    await virtual_clock(sim.url)
    async with websockets.connect(_connect_url(bullet, "c1")) as ws:
        assert await recv_json(ws) == {"id": "c1", "type": "welcome"}
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "topic": "/market/level2:BTC-USDT", "response": True})
        )
        assert await recv_json(ws) == {"id": "1", "type": "ack"}
        async with aiohttp.ClientSession() as s:
            url = f"{sim.url}/api.kucoin.com/api/v1/market/orderbook/level2_20?symbol=BTC-USDT"
            async with s.get(url) as r:
                snap_seq = int((await r.json())["data"]["sequence"])
        await asyncio.sleep(0.1)
        await advance(sim.url, 1000)
        diff = await recv_until(ws, lambda m: m.get("subject") == "trade.l2update")
        data = diff["data"]
        assert data["sequenceStart"] <= snap_seq + 1 <= data["sequenceEnd"] + 1
        seqs = [int(c[2]) for c in data["changes"]["bids"] + data["changes"]["asks"]]
        assert sorted(seqs) == list(range(data["sequenceStart"], data["sequenceEnd"] + 1))
        await ws.send(json.dumps({"id": "p", "type": "ping"}))
        pong = await recv_until(ws, lambda m: m.get("type") == "pong")
        assert pong["id"] == "p"
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "topic": "/spotMarket/tradeOrdersV2"}))
        refused = await recv_until(ws, lambda m: m.get("id") == "2")
        assert refused["type"] == "error" and refused["code"] == 401  # private topic, public token
        await ws.send(json.dumps({"id": "3", "type": "subscribe", "topic": "/market/nosuch:BTC-USDT"}))
        assert (await recv_until(ws, lambda m: m.get("id") == "3"))["code"] == 404


async def test_hand_built_private_token_and_order_stream(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("kucoin", permissions=ALL_PERMS)
    status, bullet = await _bullet(sim, "api.kucoin.com", key)
    assert status == 200, bullet
    async with websockets.connect(_connect_url(bullet, "p1")) as ws:
        assert (await recv_json(ws))["type"] == "welcome"
        for i, topic in enumerate(["/spotMarket/tradeOrdersV2", "/account/balance"]):
            await ws.send(
                json.dumps({"id": str(i), "type": "subscribe", "topic": topic, "privateChannel": True})
            )
            assert await recv_json(ws) == {"id": str(i), "type": "ack"}
        body = json.dumps(
            {"clientOid": "hb1", "side": "buy", "symbol": "BTC-USDT", "type": "market", "size": "0.01"}
        )
        path = "/api/v1/hf/orders"
        async with (
            aiohttp.ClientSession() as s,
            s.post(
                f"{sim.url}/api.kucoin.com{path}", data=body, headers=_headers(key, "POST", path, body)
            ) as r,
        ):
            assert r.status == 200, await r.text()
        filled = await recv_until(ws, lambda m: m.get("data", {}).get("type") == "filled")
        assert filled["subject"] == "orderChange" and filled["data"]["clientOid"] == "hb1"
        assert filled["data"]["filledSize"] == "0.01"
        bal = await recv_until(ws, lambda m: m.get("subject") == "account.balance")
        assert bal["data"]["currency"] in ("BTC", "USDT")


async def test_hand_built_refused_when_tampered(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("kucoin", permissions=ALL_PERMS)
    status, body = await _bullet(sim, "api.kucoin.com", key, secret="wrong-secret")
    assert status == 401 and body["code"] == "400005"  # Invalid KC-API-SIGN, as REST
    spot_only = await make_key("kucoin", permissions=["read", "spot_trade"])
    status, body = await _bullet(sim, "api-futures.kucoin.com", spot_only)
    assert status == 403 and body["code"] == "400007"  # no Futures permission
    walled = await make_key("kucoin", permissions=ALL_PERMS, ip_whitelist=["10.9.9.9"])
    status, body = await _bullet(sim, "api.kucoin.com", walled)
    assert status == 403 and body["code"] == "400006"
    status, bullet = await _bullet(sim, "api.kucoin.com", key)
    assert status == 200
    await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")  # revoked after the token was issued
    async with websockets.connect(_connect_url(bullet, "x")) as ws:
        err = await recv_json(ws)
        assert err["type"] == "error" and err["code"] == 401 and err["data"] == "token is invalid"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    url = _connect_url(bullet, "y").replace(bullet["data"]["token"], "forged")
    async with websockets.connect(url) as ws:
        assert (await recv_json(ws))["data"] == "token is invalid"


async def test_ws_drop_ccxt_raises_then_reconnects(sim: SimServer) -> None:
    ex = pro_client("kucoin", sim.url)
    try:
        await ex.load_markets()
        await bounded(ex.watch_trades(SPOT_SYM))
        pending = asyncio.ensure_future(ex.watch_trades(SPOT_SYM))
        await asyncio.sleep(0.05)
        dropped = await admin(sim.url, "POST", "/_sim/faults", {"venue": "kucoin", "kind": "ws_drop"})
        assert dropped["dropped"] == 1
        with pytest.raises(ccxt.NetworkError):
            await bounded(pending)
        again = await bounded(ex.watch_trades(SPOT_SYM))
        assert again and again[-1]["symbol"] == SPOT_SYM
    finally:
        await ex.close()


async def test_ws_stall_ccxt_times_out_on_keepalive(sim: SimServer) -> None:
    ex = pro_client("kucoin", sim.url)
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        # ccxt pings at the pingInterval the token advertises: 0.3 s here instead of 18 s
        limits = {"ws_ping_interval_ms": 300, "ws_ping_timeout_ms": 300}
        await admin(sim.url, "POST", "/_sim/venue", {"venue": "kucoin", "limits": limits})
        await bounded(ex.watch_ticker(SPOT_SYM))
        await admin(sim.url, "POST", "/_sim/faults", {"venue": "kucoin", "kind": "ws_stall", "ms": 5000})
        with pytest.raises(ccxt.RequestTimeout):
            await bounded(ex.watch_trades(SPOT_SYM), 4)
    finally:
        await admin(sim.url, "DELETE", "/_sim/faults")
        await ex.close()


async def test_listenkey_expire_fault_ends_private_stream(sim: SimServer, make_key: MakeKey) -> None:
    """KuCoin has no listenKey: the fault lapses the connect tokens (`token is expired`, then close)."""
    key = await make_key("kucoin", permissions=ALL_PERMS)
    ex = pro_client("kucoin", sim.url, key)
    try:
        await ex.load_markets()
        pending = asyncio.ensure_future(ex.watch_orders(SPOT_SYM))
        for _ in range(50):  # the private stream is open (bounded wait)
            view = await admin(sim.url, "GET", "/_sim/streams")
            if view["venues"]["kucoin"]["topics"]:
                break
            await asyncio.sleep(0.1)
        got = await admin(sim.url, "POST", "/_sim/faults", {"venue": "kucoin", "kind": "listenkey_expire"})
        assert got["expired"] >= 1
        with pytest.raises(ccxt.NetworkError):
            await bounded(pending)
    finally:
        await ex.close()
    status, bullet = await _bullet(sim, "api.kucoin.com", key)
    assert status == 200
    await admin(sim.url, "POST", "/_sim/faults", {"venue": "kucoin", "kind": "listenkey_expire"})
    async with websockets.connect(_connect_url(bullet, "late")) as ws:  # a lapsed token, hand-built
        assert (await recv_json(ws))["data"] == "token is expired"
