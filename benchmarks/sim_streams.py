"""Simulator streams under load: N WebSocket subscribers across venues served by one simulator core.

The simulator runs in its own process pinned to CPU 0 (`python -m tradewarden.sim`, real clock);
the subscribers are plain aiohttp WebSocket clients in this process, kept off that core. The mix
(round-robin per subscriber):

- Binance spot market streams (`btcusdt@trade`, `@depth@100ms`, `@bookTicker`, `ethusdt@kline_1m`)
- Binance USD-M (`/public/ws/btcusdt@depth@100ms`, `/market/ws/btcusdt@markPrice@1s`)
- OKX public (`books`, `tickers`, `trades` on BTC-USDT)
- private: Binance WS API user data (`userDataStream.subscribe.signature`) and OKX `orders`, one per
  key; a driver places and cancels resting orders over REST on those keys at a steady rate, so every
  private subscriber gets engine events.

Reported: frames per second delivered (counted by the clients), the simulator's p50/p99 latency from
engine event to frame written (`GET /_sim/streams`), the wall time from sending a REST order to its
first private frame as seen by a client (p50/p99), and the simulator's CPU use (/proc). Appends one
row to benchmarks/RESULTS.md unless --no-record.

    .venv/bin/python benchmarks/sim_streams.py --subscribers 500 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\n| date | benchmark | result | command | machine |\n|---|---|---|---|---|\n"


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds used so far by a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """An ephemeral loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    """The simulator in its own process, pinned to CPU 0 when the machine allows it."""

    def pin() -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(0, {0})

    return subprocess.Popen(
        [sys.executable, "-m", "tradewarden.sim", "--port", str(port), "--seed", "5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin,
    )


async def wait_up(session: aiohttp.ClientSession, url: str) -> None:
    """Poll the admin health route until the simulator answers (bounded)."""
    for _ in range(200):
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(url + "/_sim/health") as r:
                if r.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError("simulator did not start")


class Stats:
    """Counters shared by the subscribers."""

    def __init__(self) -> None:
        self.frames = 0
        self.by_kind: dict[str, int] = {}
        self.order_sent: dict[str, float] = {}  # client order id -> perf_counter when the REST call began
        self.order_seen: list[float] = []  # seconds from the REST call to the first private frame
        self.ids = itertools.count(1)
        self.errors = 0


def ws(base: str, host: str, path: str) -> str:
    """ws://SIM/HOST/PATH (the endpoint override's E/HOST/PATH)."""
    return base.replace("http://", "ws://") + "/" + host + path


SPOT_STREAMS = "btcusdt@trade/btcusdt@depth@100ms/btcusdt@bookTicker/ethusdt@kline_1m"
OKX_ARGS = [{"channel": c, "instId": "BTC-USDT"} for c in ("books", "tickers", "trades")]
PUBLIC: list[tuple[str, str, str, Any]] = [
    ("binance spot", "stream.binance.com:9443", f"/stream?streams={SPOT_STREAMS}", None),
    ("binance usdm", "fstream.binance.com", "/public/ws/btcusdt@depth@100ms", None),
    ("binance usdm", "fstream.binance.com", "/market/ws/btcusdt@markPrice@1s", None),
    ("okx", "ws.okx.com:8443", "/ws/v5/public", OKX_ARGS),
    (
        "bybit",
        "stream.bybit.com",
        "/v5/public/spot",
        ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT"],
    ),
    # a tuple: the connection's first frames as they are (venues without OKX's op/args shape)
    (
        "kucoin",
        "ws-api-spot.kucoin.com",
        "/",
        tuple(
            json.dumps({"id": str(i), "type": "subscribe", "topic": t, "response": True})
            for i, t in enumerate(
                ("/market/level2:BTC-USDT", "/market/match:BTC-USDT", "/market/ticker:BTC-USDT")
            )
        ),
    ),
    (
        "mexc contract",
        "contract.mexc.com",
        "/edge",
        tuple(
            json.dumps({"method": m, "param": {"symbol": "BTC_USDT"}})
            for m in ("sub.depth", "sub.deal", "sub.ticker")
        ),
    ),
]


async def kucoin_query(session: aiohttp.ClientSession, base: str) -> str:
    """A KuCoin public connect token (bullet-public); silence allowed for the run (no text pings here)."""
    limits = {"ws_ping_timeout_ms": 3_600_000}
    async with session.post(base + "/_sim/venue", json={"venue": "kucoin", "limits": limits}) as r:
        r.raise_for_status()
    async with session.post(base + "/api.kucoin.com/api/v1/bullet-public") as r:
        token = (await r.json())["data"]["token"]
    return f"?token={token}&connectId=bench"


async def subscriber(
    session: aiohttp.ClientSession, url: str, kind: str, first: Any, stats: Stats, stop: asyncio.Event
) -> None:
    """One connection: send its subscribe frames, then count frames until told to stop."""
    try:
        async with session.ws_connect(url, heartbeat=None, max_msg_size=1 << 22) as conn:
            for frame in first:
                await conn.send_str(frame)
            while not stop.is_set():
                try:
                    msg = await asyncio.wait_for(conn.receive(), 1.0)
                except TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.TEXT:
                    if msg.type in (
                        aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.ERROR,
                        aiohttp.WSMsgType.CLOSE,
                    ):
                        stats.errors += 1
                        return
                    continue
                stats.frames += 1
                stats.by_kind[kind] = stats.by_kind.get(kind, 0) + 1
                if kind.startswith("private"):
                    note_private(msg.data, stats)
    except aiohttp.ClientError:
        stats.errors += 1


def note_private(text: str, stats: Stats) -> None:
    """First private frame of each order: its delay after the REST answer."""
    if '"executionReport"' in text:
        oid = str(json.loads(text)["event"]["c"])
    elif '"clOrdId"' in text:
        oid = str(json.loads(text)["data"][0]["clOrdId"])
    elif '"orderLinkId"' in text and '"topic":"order"' in text:
        oid = str(json.loads(text)["data"][0]["orderLinkId"])
    elif '"clientOid"' in text and '"orderChange"' in text:
        oid = str(json.loads(text)["data"]["clientOid"])
    else:
        return
    sent = stats.order_sent.pop(oid, None)
    if sent is not None:
        stats.order_seen.append(time.perf_counter() - sent)


def binance_ws_api_subscribe(key: dict[str, Any]) -> str:
    """userDataStream.subscribe.signature, signed as the WebSocket API documents."""
    params: dict[str, Any] = {"apiKey": key["apiKey"], "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(key["secret"].encode(), payload.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"id": 1, "method": "userDataStream.subscribe.signature", "params": params})


def okx_login(key: dict[str, Any]) -> str:
    """OKX login op."""
    ts = str(int(time.time()))
    sign = base64.b64encode(
        hmac.new(key["secret"].encode(), f"{ts}GET/users/self/verify".encode(), hashlib.sha256).digest()
    ).decode()
    arg = {"apiKey": key["apiKey"], "passphrase": key["password"], "timestamp": ts, "sign": sign}
    return json.dumps({"op": "login", "args": [arg]})


async def binance_order(session: aiohttp.ClientSession, base: str, key: dict[str, Any], stats: Stats) -> None:
    """A resting limit buy far below the price, then its cancel: two engine events each time."""
    cid = f"bench{next(stats.ids)}"
    q = (
        f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000&newClientOrderId={cid}"
        f"&timestamp={int(time.time() * 1000)}"
    )
    stats.order_sent[cid] = time.perf_counter()
    sig = hmac.new(key["secret"].encode(), q.encode(), hashlib.sha256).hexdigest()
    headers = {"X-MBX-APIKEY": key["apiKey"]}
    async with session.post(f"{base}/api.binance.com/api/v3/order?{q}&signature={sig}", headers=headers) as r:
        body = await r.json()
    if "orderId" not in body:
        stats.errors += 1
        return
    q = f"symbol=BTCUSDT&orderId={body['orderId']}&timestamp={int(time.time() * 1000)}"
    sig = hmac.new(key["secret"].encode(), q.encode(), hashlib.sha256).hexdigest()
    async with session.delete(
        f"{base}/api.binance.com/api/v3/order?{q}&signature={sig}", headers=headers
    ) as r:
        await r.read()


def bybit_auth(key: dict[str, Any]) -> str:
    """Bybit V5 auth op: HMAC hex of GET/realtime + expires."""
    expires = int(time.time() * 1000) + 10_000
    sig = hmac.new(key["secret"].encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    return json.dumps({"op": "auth", "args": [key["apiKey"], expires, sig]})


def kucoin_headers(key: dict[str, Any], method: str, path: str, body: str = "") -> dict[str, str]:
    """KC-API headers (key version 2: signed passphrase)."""
    ts = str(int(time.time() * 1000))
    sec = key["secret"].encode()
    sign = base64.b64encode(hmac.new(sec, f"{ts}{method}{path}{body}".encode(), hashlib.sha256).digest())
    phrase = base64.b64encode(hmac.new(sec, key["password"].encode(), hashlib.sha256).digest())
    return {"KC-API-KEY": key["apiKey"], "KC-API-SIGN": sign.decode(), "KC-API-TIMESTAMP": ts,
            "KC-API-PASSPHRASE": phrase.decode(), "KC-API-KEY-VERSION": "2",
            "Content-Type": "application/json"}  # fmt: skip


async def kucoin_private_url(session: aiohttp.ClientSession, base: str, key: dict[str, Any]) -> str:
    """bullet-private, then the instance server's endpoint with the token."""
    path = "/api/v1/bullet-private"
    async with session.post(f"{base}/api.kucoin.com{path}", headers=kucoin_headers(key, "POST", path)) as r:
        data = (await r.json())["data"]
    return f"{data['instanceServers'][0]['endpoint']}?token={data['token']}&connectId=bench"


async def bybit_order(session: aiohttp.ClientSession, base: str, key: dict[str, Any], stats: Stats) -> None:
    """A resting Bybit spot limit buy, then its cancel."""
    cid = f"bench{next(stats.ids)}"
    body = json.dumps({"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                       "qty": "0.001", "price": "10000", "orderLinkId": cid})  # fmt: skip
    stats.order_sent[cid] = time.perf_counter()
    for path, payload in (("/v5/order/create", body), ("/v5/order/cancel", None)):
        if payload is None:
            payload = json.dumps({"category": "spot", "symbol": "BTCUSDT", "orderLinkId": cid})
        ts = str(int(time.time() * 1000))
        sig = hmac.new(key["secret"].encode(), f"{ts}{key['apiKey']}5000{payload}".encode(), hashlib.sha256)
        headers = {"X-BAPI-API-KEY": key["apiKey"], "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": "5000",
                   "X-BAPI-SIGN": sig.hexdigest(), "Content-Type": "application/json"}  # fmt: skip
        async with session.post(f"{base}/api.bybit.com{path}", data=payload, headers=headers) as r:
            got = await r.json()
        if got.get("retCode") != 0:
            stats.errors += 1
            return


async def kucoin_order(session: aiohttp.ClientSession, base: str, key: dict[str, Any], stats: Stats) -> None:
    """A resting KuCoin HF limit buy, then its cancel."""
    cid = f"bench{next(stats.ids)}"
    body = json.dumps({"clientOid": cid, "side": "buy", "symbol": "BTC-USDT", "type": "limit",
                       "price": "10000", "size": "0.001"})  # fmt: skip
    stats.order_sent[cid] = time.perf_counter()
    path = "/api/v1/hf/orders"
    async with session.post(
        f"{base}/api.kucoin.com{path}", data=body, headers=kucoin_headers(key, "POST", path, body)
    ) as r:
        got = await r.json()
    oid = (got.get("data") or {}).get("orderId")
    if not oid:
        stats.errors += 1
        return
    path = f"/api/v1/hf/orders/{oid}?symbol=BTC-USDT"
    async with session.delete(
        f"{base}/api.kucoin.com{path}", headers=kucoin_headers(key, "DELETE", path)
    ) as r:
        await r.read()


ORDERS = {"binance": binance_order, "bybit": bybit_order, "kucoin": kucoin_order}
PRIVATE_VENUES = ("binance", "okx", "bybit", "kucoin")


async def okx_order(session: aiohttp.ClientSession, base: str, key: dict[str, Any], stats: Stats) -> None:
    """A resting OKX limit buy, then its cancel."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    cid = f"bench{next(stats.ids)}"
    order = {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": "10000",
        "sz": "0.001",
    }
    body = json.dumps({**order, "clOrdId": cid})
    stats.order_sent[cid] = time.perf_counter()
    path = "/api/v5/trade/order"
    sign = base64.b64encode(
        hmac.new(key["secret"].encode(), f"{stamp}POST{path}{body}".encode(), hashlib.sha256).digest()
    ).decode()
    headers = {"OK-ACCESS-KEY": key["apiKey"], "OK-ACCESS-SIGN": sign, "OK-ACCESS-TIMESTAMP": stamp,
               "OK-ACCESS-PASSPHRASE": key["password"], "Content-Type": "application/json"}  # fmt: skip
    async with session.post(f"{base}/www.okx.com{path}", data=body, headers=headers) as r:
        got = await r.json()
    rows = got.get("data") or [{}]
    if not rows[0].get("ordId"):
        stats.errors += 1
        return
    cancel = json.dumps({"instId": "BTC-USDT", "ordId": rows[0]["ordId"]})
    path = "/api/v5/trade/cancel-order"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    sign = base64.b64encode(
        hmac.new(key["secret"].encode(), f"{stamp}POST{path}{cancel}".encode(), hashlib.sha256).digest()
    ).decode()
    headers.update({"OK-ACCESS-SIGN": sign, "OK-ACCESS-TIMESTAMP": stamp})
    async with session.post(f"{base}/www.okx.com{path}", data=cancel, headers=headers) as r:
        await r.read()


async def run(subscribers: int, seconds: float, private_share: float, order_rate: float) -> dict[str, Any]:
    """Start the pinned simulator, connect the subscribers, drive orders, measure."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    stats = Stats()
    stop = asyncio.Event()
    try:
        conn = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=conn) as session:
            await wait_up(session, base)
            n_private = max(4, int(subscribers * private_share)) // 4 * 4
            keys: list[tuple[str, dict[str, Any]]] = []
            for i in range(n_private):
                venue = PRIVATE_VENUES[i % len(PRIVATE_VENUES)]
                async with session.post(
                    base + "/_sim/keys", json={"venue": venue, "permissions": ["read", "spot_trade"]}
                ) as r:
                    keys.append((venue, await r.json()))
            tasks = []
            kc = await kucoin_query(session, base)  # also lets KuCoin clients stay silent for the run
            for venue, key in keys:
                if venue == "binance":
                    url = ws(base, "ws-api.binance.com:443", "/ws-api/v3")
                    first = [binance_ws_api_subscribe(key)]
                elif venue == "bybit":
                    url = ws(base, "stream.bybit.com", "/v5/private")
                    first = [bybit_auth(key), json.dumps({"op": "subscribe", "args": ["order"]})]
                elif venue == "kucoin":
                    url = await kucoin_private_url(session, base, key)
                    first = [
                        json.dumps({"id": "1", "type": "subscribe", "topic": "/spotMarket/tradeOrdersV2"})
                    ]
                else:
                    url = ws(base, "ws.okx.com:8443", "/ws/v5/private")
                    first = [
                        okx_login(key),
                        json.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]}),
                    ]
                tasks.append(
                    asyncio.ensure_future(subscriber(session, url, f"private {venue}", first, stats, stop))
                )
            for i, (kind, host, path, args) in zip(range(subscribers - n_private), itertools.cycle(PUBLIC)):
                if isinstance(args, tuple):
                    first = list(args)
                else:
                    first = [json.dumps({"op": "subscribe", "args": args})] if args else []
                url = ws(base, host, path) + (kc if kind == "kucoin" else "")
                tasks.append(asyncio.ensure_future(subscriber(session, url, kind, first, stats, stop)))
                if i % 50 == 49:
                    await asyncio.sleep(0.05)  # do not stampede the accept queue
            await asyncio.sleep(2.0)  # logins and subscriptions settle
            async with session.get(base + "/_sim/streams") as r:
                view0 = await r.json()
            frames0, cpu0, t0 = stats.frames, cpu_seconds(proc.pid), time.perf_counter()
            stats.order_seen.clear()
            sent = 0
            next_at = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                venue, key = keys[sent % len(keys)]
                try:
                    await ORDERS.get(venue, okx_order)(session, base, key, stats)
                except aiohttp.ClientError:
                    stats.errors += 1
                sent += 1
                next_at += 1.0 / order_rate
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            elapsed = time.perf_counter() - t0
            frames = stats.frames - frames0
            cpu = cpu_seconds(proc.pid) - cpu0
            async with session.get(base + "/_sim/streams") as r:
                view = await r.json()
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc.poll() is None:
            proc.kill()
    seen = sorted(stats.order_seen)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else float("nan")

    return {
        "subscribers": subscribers,
        "connected": sum(v["connections"] for v in view0["venues"].values()),
        "private": n_private,
        "seconds": elapsed,
        "frames": frames,
        "frames_per_s": frames / elapsed,
        "server_frames_per_s": (view["frames"] - view0["frames"]) / elapsed,
        "event_p50_ms": view["latency_ms"]["p50"],
        "event_p99_ms": view["latency_ms"]["p99"],
        "orders": sent,
        "rest_to_frame_p50_ms": pct(seen, 0.5),
        "rest_to_frame_p99_ms": pct(seen, 0.99),
        "rest_to_frame_max_ms": pct(seen, 1.0),
        "orders_seen": len(seen),
        "server_cpu_pct": cpu / elapsed * 100,
        "errors": stats.errors,
        "load": os.getloadavg()[0],
        "by_kind": stats.by_kind,
    }


def machine() -> str:
    """Machine description for RESULTS.md."""
    cpu = platform.processor() or "cpu"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = " ".join(line.split(":", 1)[1].split()[:2])
                break
    system = f"Linux {platform.release()} {platform.machine()}"
    return f"vm, {system}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main() -> None:
    """Parse arguments, run, print and record."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--subscribers", type=int, default=500)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--private-share", type=float, default=0.1, help="share of subscribers on private streams")
    p.add_argument("--order-rate", type=float, default=20.0, help="REST orders (+ cancels) per second")
    p.add_argument("--no-record", action="store_true")
    a = p.parse_args()
    with contextlib.suppress(AttributeError, OSError):
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(0, set(cpus[1:]))  # subscribers stay off the simulator's core
    r = asyncio.run(run(a.subscribers, a.seconds, a.private_share, a.order_rate))
    print(json.dumps(r, indent=2))
    target = r["event_p99_ms"] is not None and r["rest_to_frame_p99_ms"] < 1000
    verdict = "meets" if target else "MISSES"
    result = (
        f"{r['subscribers']} subscribers ({r['connected']} connected; {r['private']} private: Binance WS API "
        f"user data, OKX orders, Bybit order, KuCoin tradeOrdersV2; public: Binance spot/USD-M, OKX, Bybit, "
        f"KuCoin, MEXC contract), "
        f"{r['seconds']:.1f} s, simulator pinned "
        f"to CPU 0 (CPU {r['server_cpu_pct']:.0f} %): {r['frames_per_s']:.0f} frames/s delivered; engine "
        f"event -> frame p50 {r['event_p50_ms']} ms, p99 {r['event_p99_ms']} ms; REST order sent -> first "
        f"private frame p50 {r['rest_to_frame_p50_ms']:.1f} ms, p99 {r['rest_to_frame_p99_ms']:.1f} ms over "
        f"{r['orders_seen']} orders; {r['errors']} errors; load average {r['load']:.1f} on the machine "
        f"({verdict} target: a REST order on the private stream within 1 s)"
    )
    if not a.no_record:
        if not RESULTS.exists():
            RESULTS.write_text(HEADER)
        args = f"--subscribers {a.subscribers} --seconds {a.seconds:g}"
        cmd = f"`.venv/bin/python benchmarks/sim_streams.py {args}`"
        with RESULTS.open("a") as fh:
            fh.write(
                f"| {dt.date.today().isoformat()} | simulator streams | {result} | {cmd} | {machine()} |\n"
            )
    print(result)


if __name__ == "__main__":
    main()
