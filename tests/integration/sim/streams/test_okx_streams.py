"""OKX streams: real ccxt.pro (spot and swap) and hand-built `websockets` clients against the simulator."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import zlib
from typing import Any

import ccxt
import pytest
import websockets

from tests.integration.sim.conftest import MakeKey
from tradewarden.sim import SimServer

from .helpers import admin, bounded, driven, pro_client, recv_json, recv_until, virtual_clock, ws_url

SPOT_SYM, SWAP_SYM = "BTC/USDT", "BTC/USDT:USDT"
PERMS = ["read", "spot_trade", "futures_trade"]
PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
PRIVATE = "wss://ws.okx.com:8443/ws/v5/private"


async def _watch_after(watch: Any, act: Any) -> Any:
    task = asyncio.ensure_future(watch)
    await asyncio.sleep(0.3)
    await act()
    return await bounded(task)


@pytest.mark.parametrize("symbol", [SPOT_SYM, SWAP_SYM])
async def test_public_watchers_and_book_equals_rest(sim: SimServer, symbol: str) -> None:
    ex = pro_client("okx", sim.url)
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        watches = (ex.watch_ticker(symbol), ex.watch_trades(symbol), ex.watch_ohlcv(symbol, "1m"))
        ticker, trades, ohlcv = await driven(sim.url, asyncio.gather(*watches))
        assert ticker["symbol"] == symbol and ticker["bid"] < ticker["ask"]
        assert trades and trades[-1]["symbol"] == symbol and trades[-1]["price"] > 0
        assert ohlcv and ohlcv[-1][4] > 0
        ob = await bounded(ex.watch_order_book(symbol))
        updates = 0
        for _ in range(100):
            before = ob["nonce"]
            ob = await driven(sim.url, ex.watch_order_book(symbol), every_s=0.03)
            updates += ob["nonce"] > before
        assert updates == 100
        rest = await ex.fetch_order_book(symbol, 400)
        # ccxt adds OKX's order count as a third column to REST levels; compare price and size
        assert ob["bids"] == [lv[:2] for lv in rest["bids"]] and ob["bids"]
        assert ob["asks"] == [lv[:2] for lv in rest["asks"]]
    finally:
        await ex.close()


async def test_private_watchers_see_rest_fills(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("okx", permissions=PERMS)
    ex = pro_client("okx", sim.url, key)
    try:
        await ex.load_markets()
        placed: list[str] = []

        async def buy(symbol: str = SPOT_SYM, amount: float = 0.01) -> None:
            placed.append((await ex.create_order(symbol, "market", "buy", amount))["id"])

        orders = await _watch_after(ex.watch_orders(SPOT_SYM), buy)
        assert orders[-1]["id"] == placed[-1]
        trades = await _watch_after(ex.watch_my_trades(SPOT_SYM), buy)
        assert trades[-1]["order"] == placed[-1] and trades[-1]["amount"] == 0.01
        balance = await _watch_after(ex.watch_balance(), buy)
        rest = await ex.fetch_balance()
        assert balance["USDT"]["free"] == rest["USDT"]["free"] < 10000

        async def buy_swap() -> None:
            await buy(SWAP_SYM, 1)

        snapshot = await bounded(ex.watch_positions([SWAP_SYM]))  # the channel opens with a snapshot
        assert snapshot == []
        positions = await _watch_after(ex.watch_positions([SWAP_SYM]), buy_swap)
        assert positions[-1]["symbol"] == SWAP_SYM and positions[-1]["contracts"] == 1
    finally:
        await ex.close()


# ---- hand-built clients --------------------------------------------------------------------------------


def _login(key: dict[str, Any], **over: Any) -> str:
    """The documented login op: sign = Base64(HMAC-SHA256(secret, ts + 'GET' + '/users/self/verify'))."""
    ts = str(over.pop("ts", int(time.time())))
    sign = base64.b64encode(
        hmac.new(key["secret"].encode(), f"{ts}GET/users/self/verify".encode(), hashlib.sha256).digest()
    ).decode()
    arg = {"apiKey": key["apiKey"], "passphrase": key["password"], "timestamp": ts, "sign": sign, **over}
    return json.dumps({"op": "login", "args": [arg]})


def _crc(bids: dict[str, str], asks: dict[str, str]) -> int:
    """OKX checksum computed by the client over its own book (strings as received)."""
    b = sorted(bids.items(), key=lambda kv: -float(kv[0]))[:25]
    a = sorted(asks.items(), key=lambda kv: float(kv[0]))[:25]
    parts: list[str] = []
    for i in range(25):
        if i < len(b):
            parts.append(f"{b[i][0]}:{b[i][1]}")
        if i < len(a):
            parts.append(f"{a[i][0]}:{a[i][1]}")
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


async def test_hand_built_books_checksum_and_ping(sim: SimServer) -> None:
    await virtual_clock(sim.url)
    async with websockets.connect(ws_url(sim.url, PUBLIC)) as ws:
        await ws.send("ping")
        assert await asyncio.wait_for(ws.recv(), 5) == "pong"
        await ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}))
        assert (await recv_json(ws))["event"] == "subscribe"
        snap = await recv_json(ws)
        assert snap["action"] == "snapshot" and snap["data"][0]["prevSeqId"] == -1
        bids = {p: q for p, q, _, _ in snap["data"][0]["bids"]}
        asks = {p: q for p, q, _, _ in snap["data"][0]["asks"]}
        assert _crc(bids, asks) == snap["data"][0]["checksum"]
        seq = snap["data"][0]["seqId"]
        for _ in range(5):
            upd = await driven(sim.url, recv_json(ws), step_ms=500)
            data = upd["data"][0]
            assert upd["action"] == "update" and data["prevSeqId"] == seq
            seq = data["seqId"]
            for side, book in (("bids", bids), ("asks", asks)):
                for p, q, _, _ in data[side]:
                    if q == "0":
                        book.pop(p, None)
                    else:
                        book[p] = q
            assert _crc(bids, asks) == data["checksum"]
        await ws.send(
            json.dumps({"op": "subscribe", "args": [{"channel": "tickers", "instId": "NOPE-USDT"}]})
        )
        assert (await recv_until(ws, lambda m: m.get("event") == "error"))["code"] == "60018"


async def test_hand_built_login_and_orders(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("okx", permissions=PERMS)
    ex = pro_client("okx", sim.url, key)
    try:
        await ex.load_markets()
        async with websockets.connect(ws_url(sim.url, PRIVATE)) as ws:
            sub = json.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]})
            await ws.send(sub)
            assert (await recv_json(ws))["code"] == "60011"  # please log in
            await ws.send(_login(key))
            login = await recv_json(ws)
            assert login["event"] == "login" and login["code"] == "0"
            await ws.send(sub)
            ack = await recv_json(ws)
            assert ack["event"] == "subscribe" and ack["arg"]["channel"] == "orders"
            order = await ex.create_order(SPOT_SYM, "market", "buy", 0.01)
            states = []
            while "filled" not in states:
                push = await recv_json(ws)
                assert push["arg"]["instType"] == "SPOT" and push["data"][0]["ordId"] == order["id"]
                states.append(push["data"][0]["state"])
            assert states[0] == "live" and states[-1] == "filled"
    finally:
        await ex.close()


@pytest.mark.parametrize(
    ("case", "code"),
    [("bad_sign", "60007"), ("passphrase", "60024"), ("stale", "60006"), ("revoked", "60005"),
     ("ip", "60009"), ("no_read", "60009")],
)  # fmt: skip
async def test_login_refused_when_tampered(sim: SimServer, make_key: MakeKey, case: str, code: str) -> None:
    spec: dict[str, Any] = {"permissions": PERMS}
    if case == "ip":
        spec["ip_whitelist"] = ["10.9.8.7"]
    if case == "no_read":
        spec["permissions"] = ["spot_trade"]
    key = await make_key("okx", **spec)
    if case == "revoked":
        await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    over: dict[str, Any] = {}
    if case == "bad_sign":
        over["sign"] = base64.b64encode(b"\x00" * 32).decode()
    if case == "passphrase":
        over["passphrase"] = key["password"] + "x"
    if case == "stale":
        over["ts"] = int(time.time()) - 120
    async with websockets.connect(ws_url(sim.url, PRIVATE)) as ws:
        await ws.send(_login(key, **over))
        got = await recv_json(ws)
        assert got["event"] == "error" and got["code"] == code
        await ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "account"}]}))
        assert (await recv_json(ws))["code"] == "60011"  # still not logged in


async def test_ws_drop_ends_ccxt_private_watch(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("okx", permissions=PERMS)
    ex = pro_client("okx", sim.url, key)
    try:
        await ex.load_markets()
        pending = asyncio.ensure_future(ex.watch_orders(SPOT_SYM))
        await asyncio.sleep(0.5)
        dropped = await admin(sim.url, "POST", "/_sim/faults", {"venue": "okx", "kind": "ws_drop"})
        assert dropped["dropped"] >= 1
        with pytest.raises(ccxt.NetworkError):
            await bounded(pending)

        async def buy() -> None:
            await ex.create_order(SPOT_SYM, "market", "buy", 0.01)

        orders = await _watch_after(ex.watch_orders(SPOT_SYM), buy)  # logs in again on a new connection
        assert orders[-1]["symbol"] == SPOT_SYM
    finally:
        await ex.close()
