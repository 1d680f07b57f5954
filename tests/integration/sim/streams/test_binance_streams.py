"""Binance streams: real ccxt.pro (spot, USD-M) and hand-built `websockets` clients against the simulator."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import aiohttp
import ccxt
import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.integration.sim.conftest import MakeKey
from tradewarden.sim import SimServer

from .helpers import admin, advance, bounded, driven, pro_client, recv_json, recv_until, virtual_clock, ws_url

SPOT_SYM, FUT_SYM = "BTC/USDT", "BTC/USDT:USDT"
ALL_PERMS = ["read", "spot_trade", "futures_trade"]
INVALID = "Invalid API-key, IP, or permissions for action."


async def _watch_after(watch: Any, act: Any) -> Any:
    """Start a watch, then act (e.g. place an order over REST); the watch's first result, bounded."""
    task = asyncio.ensure_future(watch)
    await asyncio.sleep(0.3)  # subscribed before the act
    await act()
    return await bounded(task)


async def _book_follows_rest(sim: SimServer, ex: Any, symbol: str) -> None:
    """100 diff updates on a virtual clock, then the local book equals the REST snapshot."""
    await ex.load_markets()
    await virtual_clock(sim.url)
    ob = await bounded(ex.watch_order_book(symbol))
    first_nonce = ob["nonce"]
    updates = 0
    for _ in range(100):
        before = ob["nonce"]
        # watch first, then step the clock (the synthetic book's sizes change every simulator second)
        ob = await driven(sim.url, ex.watch_order_book(symbol), every_s=0.03)
        updates += ob["nonce"] > before
    assert updates == 100 and ob["nonce"] > first_nonce
    rest = await ex.fetch_order_book(symbol, 1000)
    assert rest["nonce"] == ob["nonce"]
    assert ob["bids"] == rest["bids"][: len(ob["bids"])] and len(ob["bids"]) == len(rest["bids"])
    assert ob["asks"] == rest["asks"] and ob["bids"]


async def test_spot_public_watchers(sim: SimServer) -> None:
    ex = pro_client("binance", sim.url)
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        watches = (ex.watch_ticker(SPOT_SYM), ex.watch_trades(SPOT_SYM), ex.watch_ohlcv(SPOT_SYM, "1m"))
        ticker, trades, ohlcv = await driven(sim.url, asyncio.gather(*watches))
        now = (await admin(sim.url, "GET", "/_sim/clock"))["now"]
        assert ticker["symbol"] == SPOT_SYM and ticker["last"] > 0 and ticker["timestamp"] <= now
        assert trades and all(t["symbol"] == SPOT_SYM and t["price"] > 0 for t in trades)
        assert ohlcv and ohlcv[-1][0] <= now and ohlcv[-1][4] > 0
        await _book_follows_rest(sim, ex, SPOT_SYM)
    finally:
        await ex.close()


async def test_usdm_public_watchers(sim: SimServer) -> None:
    ex = pro_client("binanceusdm", sim.url)
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        watches = (ex.watch_ticker(FUT_SYM), ex.watch_trades(FUT_SYM), ex.watch_ohlcv(FUT_SYM, "1m"))
        ticker, trades, ohlcv = await driven(sim.url, asyncio.gather(*watches))
        assert ticker["symbol"] == FUT_SYM and ticker["last"] > 0
        assert trades and trades[-1]["symbol"] == FUT_SYM
        assert ohlcv and ohlcv[-1][4] > 0
        await _book_follows_rest(sim, ex, FUT_SYM)
    finally:
        await ex.close()


async def test_spot_private_watchers_see_rest_fills(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("binance", permissions=ALL_PERMS)
    ex = pro_client("binance", sim.url, key)
    try:
        await ex.load_markets()
        placed: list[str] = []

        async def buy() -> None:
            placed.append((await ex.create_order(SPOT_SYM, "market", "buy", 0.01))["id"])

        orders = await _watch_after(ex.watch_orders(SPOT_SYM), buy)
        assert orders[-1]["id"] == placed[-1] and orders[-1]["status"] == "closed"
        assert orders[-1]["filled"] == 0.01
        trades = await _watch_after(ex.watch_my_trades(SPOT_SYM), buy)
        assert trades[-1]["order"] == placed[-1] and trades[-1]["amount"] == 0.01
        balance = await _watch_after(ex.watch_balance(), buy)
        rest = await ex.fetch_balance()
        assert balance["BTC"]["free"] == rest["BTC"]["free"] > 1
        assert balance["USDT"]["free"] == rest["USDT"]["free"] < 10000
    finally:
        await ex.close()
    # ccxt 4.5.90 takes spot user data over the WebSocket API: no retired listenKey call was made
    rows = await admin(sim.url, "GET", "/_sim/requests?venue=binance")
    assert not [r for r in rows if "userDataStream" in r["path"]]


async def test_usdm_private_watchers_see_rest_fills(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("binance", permissions=ALL_PERMS)
    ex = pro_client("binanceusdm", sim.url, key)
    try:
        await ex.load_markets()
        placed: list[str] = []

        async def buy() -> None:
            placed.append((await ex.create_order(FUT_SYM, "market", "buy", 0.01))["id"])

        orders = await _watch_after(ex.watch_orders(FUT_SYM), buy)
        assert orders[-1]["id"] == placed[-1] and orders[-1]["status"] == "closed"
        trades = await _watch_after(ex.watch_my_trades(FUT_SYM), buy)
        assert trades[-1]["order"] == placed[-1]
        balance = await _watch_after(ex.watch_balance(), buy)
        assert 9900 < balance["USDT"]["total"] < 10000  # fees paid
        positions = await _watch_after(ex.watch_positions([FUT_SYM]), buy)
        assert positions[-1]["symbol"] == FUT_SYM and positions[-1]["contracts"] == pytest.approx(0.04)
    finally:
        await ex.close()


# ---- hand-built clients (websockets only, written from Binance's documents) -------------------------


def _hmac_params(key: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """WS API signed params: every param but signature, sorted by name, k=v joined by &, HMAC hex."""
    params = {"apiKey": key["apiKey"], "timestamp": int(time.time() * 1000), **extra}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(key["secret"].encode(), payload.encode(), hashlib.sha256).hexdigest()
    return params


async def _rest_buy(
    sim: SimServer, key: dict[str, Any], host: str, path: str, symbol: str, ed25519: Any = None
) -> dict[str, Any]:
    query = f"symbol={symbol}&side=BUY&type=MARKET&quantity=0.01&timestamp={int(time.time() * 1000)}"
    if ed25519 is not None:
        sig = quote(base64.b64encode(ed25519.sign(query.encode())).decode(), safe="")
    else:
        sig = hmac.new(key["secret"].encode(), query.encode(), hashlib.sha256).hexdigest()
    headers = {"X-MBX-APIKEY": key["apiKey"]}
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{sim.url}/{host}{path}?{query}&signature={sig}", headers=headers) as r,
    ):
        body = await r.json()
        assert r.status == 200, body
        return dict(body)


async def test_hand_built_market_streams(sim: SimServer) -> None:
    await virtual_clock(sim.url)
    raw = ws_url(sim.url, "wss://stream.binance.com:9443/ws/btcusdt@trade")
    combined = ws_url(
        sim.url, "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker"
    )
    async with websockets.connect(raw) as ws_raw, websockets.connect(combined) as ws_comb:
        await asyncio.sleep(0.1)
        await advance(sim.url, 1000)
        trade = await recv_json(ws_raw)
        assert trade["e"] == "trade" and trade["s"] == "BTCUSDT" and float(trade["p"]) > 0
        depth = await recv_until(ws_comb, lambda m: m["stream"] == "btcusdt@depth@100ms")
        assert depth["data"]["e"] == "depthUpdate" and depth["data"]["U"] <= depth["data"]["u"]
        # live requests on the raw connection
        await ws_raw.send(json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@kline_1m"], "id": 7}))
        assert await recv_until(ws_raw, lambda m: m.get("id") == 7) == {"result": None, "id": 7}
        await ws_raw.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
        listed = await recv_until(ws_raw, lambda m: m.get("id") == 8)
        assert listed["result"] == ["btcusdt@trade", "ethusdt@kline_1m"]
        await ws_raw.send(json.dumps({"method": "SUBSCRIBE", "params": [5], "id": 9}))
        assert (await recv_until(ws_raw, lambda m: m.get("id") == 9))["code"] == 1
        await ws_raw.send(json.dumps({"method": "FROB", "id": 10}))
        assert (await recv_until(ws_raw, lambda m: m.get("id") == 10))["code"] == 2
        await advance(sim.url, 2000)
        kline = await recv_until(ws_raw, lambda m: m.get("e") == "kline")
        assert kline["s"] == "ETHUSDT" and kline["k"]["i"] == "1m"


async def test_hand_built_ws_api_user_data(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("binance", permissions=ALL_PERMS)
    url = ws_url(sim.url, "wss://ws-api.binance.com:443/ws-api/v3")
    async with websockets.connect(url) as ws:
        await ws.send(
            json.dumps(
                {"id": "a", "method": "userDataStream.subscribe.signature", "params": _hmac_params(key)}
            )
        )
        ok = await recv_json(ws)
        assert ok == {"id": "a", "status": 200, "result": {"subscriptionId": 0}}
        order = await _rest_buy(sim, key, "api.binance.com", "/api/v3/order", "BTCUSDT")
        kinds: list[str] = []
        while "outboundAccountPosition" not in kinds or "TRADE" not in kinds:
            msg = await recv_json(ws)
            assert msg["subscriptionId"] == 0
            event = msg["event"]
            kinds.append(event["x"] if event["e"] == "executionReport" else event["e"])
            if event["e"] == "executionReport":
                assert event["i"] == order["orderId"]
        assert kinds[0] == "NEW"
        await ws.send(json.dumps({"id": "b", "method": "session.subscriptions"}))
        assert (await recv_until(ws, lambda m: m.get("id") == "b"))["result"] == [{"subscriptionId": 0}]
        await ws.send(json.dumps({"id": "c", "method": "userDataStream.unsubscribe"}))
        ended = await recv_until(ws, lambda m: m.get("event", {}).get("e") == "eventStreamTerminated")
        assert ended["subscriptionId"] == 0
        assert await recv_json(ws) == {"id": "c", "status": 200, "result": {}}


async def test_ws_api_session_logon_ed25519(sim: SimServer, make_key: MakeKey) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    ed_key = await make_key("binance", permissions=ALL_PERMS, key_type="ed25519", public_key=pem)
    hmac_key = await make_key("binance", permissions=ALL_PERMS)
    params = {"apiKey": ed_key["apiKey"], "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    signed = {**params, "signature": base64.b64encode(private.sign(payload.encode())).decode()}
    url = ws_url(sim.url, "wss://ws-api.binance.com:443/ws-api/v3")
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"id": 1, "method": "userDataStream.subscribe"}))
        refused = await recv_json(ws)
        assert refused["status"] == 401 and refused["error"]["code"] == -1002  # not logged on
        await ws.send(json.dumps({"id": 2, "method": "session.logon", "params": signed}))
        logon = await recv_json(ws)
        assert logon["status"] == 200 and logon["result"]["apiKey"] == ed_key["apiKey"]
        await ws.send(json.dumps({"id": 3, "method": "userDataStream.subscribe"}))
        assert (await recv_json(ws))["result"] == {"subscriptionId": 0}
        await _rest_buy(sim, ed_key, "api.binance.com", "/api/v3/order", "BTCUSDT", ed25519=private)
        event = await recv_until(ws, lambda m: m.get("event", {}).get("e") == "executionReport")
        assert event["subscriptionId"] == 0
    async with websockets.connect(url) as ws:  # an HMAC session may not subscribe without signature
        await ws.send(json.dumps({"id": 4, "method": "session.logon", "params": _hmac_params(hmac_key)}))
        assert (await recv_json(ws))["status"] == 200
        await ws.send(json.dumps({"id": 5, "method": "userDataStream.subscribe"}))
        assert (await recv_json(ws))["error"]["code"] == -1002


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [("bad_signature", 400, -1022), ("revoked", 401, -2015), ("no_read", 401, -2015),
     ("ip", 401, -2015), ("expired", 401, -2015), ("stale", 400, -1021)],
)  # fmt: skip
async def test_ws_api_refuses_tampered(
    sim: SimServer, make_key: MakeKey, case: str, status: int, code: int
) -> None:
    spec: dict[str, Any] = {"permissions": ALL_PERMS}
    if case == "no_read":
        spec["permissions"] = ["spot_trade"]
    if case == "ip":
        spec["ip_whitelist"] = ["10.1.2.3"]
    if case == "expired":
        spec["expires_in_s"] = -1
    key = await make_key("binance", **spec)
    if case == "revoked":
        await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    params = _hmac_params(key)
    if case == "bad_signature":
        params["signature"] = "0" * 64
    if case == "stale":
        params = _hmac_params(key, timestamp=int(time.time() * 1000) - 120_000)
    async with websockets.connect(ws_url(sim.url, "wss://ws-api.binance.com:443/ws-api/v3")) as ws:
        await ws.send(
            json.dumps({"id": "x", "method": "userDataStream.subscribe.signature", "params": params})
        )
        got = await recv_json(ws)
        assert got["id"] == "x" and got["status"] == status and got["error"]["code"] == code
        assert "result" not in got


# ---- USD-M listenKey ---------------------------------------------------------------------------------


async def _listen_key(sim: SimServer, key: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.request(
            method, f"{sim.url}/fapi.binance.com/fapi/v1/listenKey", headers={"X-MBX-APIKEY": key["apiKey"]}
        ) as r,
    ):
        return {"status": r.status, **(await r.json())}


async def _still_open(ws: Any) -> bool:
    pong = await ws.ping()
    await asyncio.wait_for(pong, 5)
    return True


async def test_usdm_listen_key_expires_after_60_simulator_minutes(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("binance", permissions=ALL_PERMS)
    await virtual_clock(sim.url)
    lk = (await _listen_key(sim, key))["listenKey"]
    url = ws_url(sim.url, f"wss://fstream.binance.com/private/ws?listenKey={lk}")
    async with websockets.connect(url) as ws:
        await advance(sim.url, 50 * 60_000)
        assert (await _listen_key(sim, key, "PUT"))["listenKey"] == lk  # PUT renews: 60 min from now
        await advance(sim.url, 50 * 60_000)
        await asyncio.sleep(0.2)
        assert await _still_open(ws)  # 100 minutes after creation, alive thanks to the PUT
        await advance(sim.url, 11 * 60_000)
        expired = await recv_until(ws, lambda m: m.get("e") == "listenKeyExpired")
        assert expired["listenKey"] == lk
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    gone = await _listen_key(sim, key, "PUT")
    assert gone["status"] == 400 and gone["code"] == -1125
    async with websockets.connect(url) as ws:  # the expired key no longer opens a stream
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


# ---- faults with ccxt.pro ----------------------------------------------------------------------------


async def test_ws_drop_ccxt_raises_then_reconnects(sim: SimServer) -> None:
    ex = pro_client("binance", sim.url)
    try:
        await ex.load_markets()
        await bounded(ex.watch_trades(SPOT_SYM))
        pending = asyncio.ensure_future(ex.watch_trades(SPOT_SYM))
        await asyncio.sleep(0.05)
        dropped = await admin(sim.url, "POST", "/_sim/faults", {"venue": "binance", "kind": "ws_drop"})
        assert dropped["dropped"] == 1
        with pytest.raises(ccxt.NetworkError):
            await bounded(pending)
        again = await bounded(ex.watch_trades(SPOT_SYM))  # a new watch opens a new connection
        assert again and again[-1]["symbol"] == SPOT_SYM
    finally:
        await ex.close()
    view = await admin(sim.url, "GET", "/_sim/streams")
    assert view["accepted"] == 2


async def test_ws_stall_ccxt_times_out_on_keepalive(sim: SimServer) -> None:
    ex = pro_client("binance", sim.url)
    ex.streaming = {**ex.streaming, "keepAlive": 300}  # ccxt pings every 0.3 s, gives up after two misses
    try:
        await ex.load_markets()
        await virtual_clock(sim.url)
        await admin(sim.url, "POST", "/_sim/faults", {"venue": "binance", "kind": "ws_stall", "ms": 5000})
        with pytest.raises(ccxt.RequestTimeout):
            await bounded(ex.watch_trades(SPOT_SYM), 4)
    finally:
        await admin(sim.url, "DELETE", "/_sim/faults")
        await ex.close()


async def test_listenkey_expire_fault_ends_usdm_watch(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("binance", permissions=ALL_PERMS)
    ex = pro_client("binanceusdm", sim.url, key)
    try:
        await ex.load_markets()
        pending = asyncio.ensure_future(ex.watch_orders(FUT_SYM))
        await asyncio.sleep(0.5)
        got = await admin(sim.url, "POST", "/_sim/faults", {"venue": "binance", "kind": "listenkey_expire"})
        assert got["expired"] == 1
        with pytest.raises(ccxt.NetworkError):
            await bounded(pending)
        renewed = await _listen_key(sim, key, "PUT")
        assert renewed["code"] == -1125  # the expired key is gone; POST makes a new one
    finally:
        await ex.close()


async def test_ws_api_session_revoked_after_logon(sim: SimServer, make_key: MakeKey) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    key = await make_key("binance", permissions=ALL_PERMS, key_type="ed25519", public_key=pem)
    params = {"apiKey": key["apiKey"], "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    signed = {**params, "signature": base64.b64encode(private.sign(payload.encode())).decode()}
    async with websockets.connect(ws_url(sim.url, "wss://ws-api.binance.com:443/ws-api/v3")) as ws:
        await ws.send(json.dumps({"id": 1, "method": "session.logon", "params": signed}))
        assert (await recv_json(ws))["status"] == 200
        await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")
        await ws.send(json.dumps({"id": 2, "method": "session.status"}))
        revoked = await recv_json(ws)  # documented: the session is revoked at the next request
        assert revoked == {"id": None, "status": 401, "error": {"code": -2015, "msg": INVALID}}
        status = await recv_json(ws)
        assert status["id"] == 2 and status["result"]["apiKey"] is None


async def test_usdm_funding_reaches_user_stream_while_kept_alive(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("binance", permissions=ALL_PERMS)
    await _rest_buy(sim, key, "fapi.binance.com", "/fapi/v1/order", "BTCUSDT")  # a position pays funding
    await virtual_clock(sim.url)
    lk = (await _listen_key(sim, key))["listenKey"]
    url = ws_url(sim.url, f"wss://fstream.binance.com/private/ws?listenKey={lk}")
    async with websockets.connect(url) as ws:

        async def keep_alive_until_funding() -> dict[str, Any]:
            for _ in range(12):  # funding every 8 h: 12 steps of 50 minutes cross at least one
                await advance(sim.url, 50 * 60_000)
                assert (await _listen_key(sim, key, "PUT"))["listenKey"] == lk  # and charges funding
                with contextlib.suppress(TimeoutError):
                    got: dict[str, Any] = await recv_until(
                        ws, lambda m: m.get("a", {}).get("m") == "FUNDING_FEE", seconds=0.5, limit=50
                    )
                    return got
            raise AssertionError("no FUNDING_FEE account update in 10 simulated hours")

        update = await bounded(keep_alive_until_funding(), 30)
        assert update["e"] == "ACCOUNT_UPDATE" and update["a"]["B"][0]["a"] == "USDT"
        assert update["a"]["P"][0]["s"] == "BTCUSDT" and update["a"]["P"][0]["pa"] == "0.01"


async def _get(sim: SimServer, path: str) -> Any:
    async with aiohttp.ClientSession() as s, s.get(sim.url + path) as r:
        return await r.json()


async def test_usdm_margin_call_before_liquidation(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("binance", permissions=ALL_PERMS)
    ex = pro_client("binanceusdm", sim.url, key)
    try:
        await ex.load_markets()
        await ex.create_order(FUT_SYM, "market", "buy", 2)  # ~117k notional on a 10k wallet (20x)
        pos = (await ex.fetch_positions([FUT_SYM]))[0]
        account = await ex.fapiPrivateV2GetAccount()
        entry, wallet = Decimal(str(pos["entryPrice"])), Decimal(account["totalWalletBalance"])
        lk = (await _listen_key(sim, key))["listenKey"]
        url = ws_url(sim.url, f"wss://fstream.binance.com/private/ws?listenKey={lk}")
        async with websockets.connect(url) as ws:
            # the mark at which maintenance margin is 90 % of the margin balance (MARGIN_CALL at 80 %):
            # wallet + 2 (mark - entry) = 2 * mark * 0.004 / 0.9
            q, ratio = Decimal(2), Decimal("0.004") / Decimal("0.9")
            target = (q * entry - wallet) / (q * (1 - ratio))
            for _ in range(3):  # the mark follows the index: scale the venue price by target/mark
                mark = Decimal(
                    (await _get(sim, "/fapi.binance.com/fapi/v1/premiumIndex?symbol=BTCUSDT"))["markPrice"]
                )
                price = Decimal((await _get(sim, "/_sim/market?venue=binance"))["binance"]["BTC/USDT"])
                body = {"venue": "binance", "symbol": "BTC/USDT", "price": str(price * target / mark)}
                await admin(sim.url, "POST", "/_sim/market", body)
            # a request after the last move: the venue reads the new mark (admin moves land between requests)
            mark = Decimal(
                (await _get(sim, "/fapi.binance.com/fapi/v1/premiumIndex?symbol=BTCUSDT"))["markPrice"]
            )
            assert abs(mark - target) < 5, (mark, target)
            state = await ex.fapiPrivateV2GetAccount()
            ratio_now = Decimal(state["totalMaintMargin"]) / Decimal(state["totalMarginBalance"])
            assert Decimal("0.8") < ratio_now < 1, state
            call = await recv_until(ws, lambda m: m.get("e") == "MARGIN_CALL")
            assert call["p"][0]["s"] == "BTCUSDT" and call["p"][0]["pa"] == "2"
            assert Decimal(call["p"][0]["mm"]) > 0
        still = (await ex.fetch_positions([FUT_SYM]))[0]
        assert still["contracts"] == 2  # warned, not liquidated
    finally:
        await ex.close()


async def test_spot_balance_update_on_admin_balances(sim: SimServer, make_key: MakeKey) -> None:
    key = await make_key("binance", permissions=ALL_PERMS)
    async with websockets.connect(ws_url(sim.url, "wss://ws-api.binance.com:443/ws-api/v3")) as ws:
        await ws.send(
            json.dumps({"id": 1, "method": "userDataStream.subscribe.signature", "params": _hmac_params(key)})
        )
        assert (await recv_json(ws))["result"] == {"subscriptionId": 0}
        body = {"apiKey": key["apiKey"], "balances": {"USDT": "10500", "BTC": "1", "ETH": "10"}}
        await admin(sim.url, "POST", "/_sim/balances", body)
        update = await recv_json(ws)
        assert update["subscriptionId"] == 0
        assert update["event"]["e"] == "balanceUpdate" and update["event"]["a"] == "USDT"
        assert update["event"]["d"] == "500.00000000"
    ex = pro_client("binance", sim.url, key)
    ex.options["watchBalance"]["fetchBalanceSnapshot"] = True  # deltas then apply to a REST snapshot
    try:
        await ex.load_markets()

        async def credit() -> None:
            await admin(
                sim.url, "POST", "/_sim/balances", {"apiKey": key["apiKey"], "balances": {"USDT": "12000"}}
            )

        balance = await _watch_after(ex.watch_balance(), credit)  # ccxt applies the delta to its cache
        assert balance["USDT"]["free"] == 12000
    finally:
        await ex.close()
