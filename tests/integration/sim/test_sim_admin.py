"""Admin API, determinism, ThreadedSim and the `sim serve` command."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import pytest
from aiohttp.test_utils import make_mocked_request

from tradewarden.adapters.exchanges.endpoint import apply_endpoint_override
from tradewarden.sim import SimServer, ThreadedSim, is_loopback

from .conftest import MakeClient, MakeKey, admin, admin_get


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.8.8.8") and is_loopback("::1")
    for remote in ("10.0.0.1", "192.168.1.2", "::ffff:8.8.8.8", "", None, "not-an-ip"):
        assert not is_loopback(remote)


async def test_admin_refuses_non_loopback_clients(sim: SimServer) -> None:
    request = make_mocked_request(
        "GET", "/_sim/requests", app=sim.app, match_info={"tail": "requests"}
    ).clone(remote="10.1.2.3")
    response = await sim._admin(request)
    assert response.status == 403
    local = make_mocked_request("GET", "/_sim/health", app=sim.app, match_info={"tail": "health"}).clone(
        remote="127.0.0.1"
    )
    assert (await sim._admin(local)).status == 200


async def test_admin_validates_input(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as s:
        for body in (
            {"venue": "nope"},
            {"venue": "binance", "permissions": ["trade_everything"]},
            {"venue": "binance", "key_type": "ed25519"},
            {"venue": "binance", "ip_whitelist": ["x"]},
        ):
            async with s.post(sim.url + "/_sim/keys", json=body) as r:
                assert r.status == 400, body
        async with s.post(sim.url + "/_sim/faults", json={"venue": "binance", "kind": "meteor"}) as r:
            assert r.status == 400
        async with s.delete(sim.url + "/_sim/keys/unknown") as r:
            assert r.status == 404


async def test_request_log_and_orders(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    a, b = await make_key(), await make_key()
    ex_a, ex_b = ccxt_client("binance", a), ccxt_client("binance", b)
    await ex_a.load_markets()
    await ex_b.fetch_balance()
    await ex_a.create_order("BTC/USDT", "market", "buy", 0.001)
    rows_a = await admin_get(sim.url, "/_sim/requests", api_key=a["apiKey"])
    assert rows_a and {r["api_key"] for r in rows_a} == {a["apiKey"]}
    assert {"ts", "method", "path", "status", "weight", "code"} <= set(rows_a[0])
    assert (
        rows_a[-1]["method"] == "POST"
        and rows_a[-1]["path"] == "/api/v3/order"
        and rows_a[-1]["status"] == 200
    )
    rows_b = await admin_get(sim.url, "/_sim/requests", api_key=b["apiKey"])
    assert rows_b[-1]["path"] == "/api/v3/account" and "/api/v3/order" not in {r["path"] for r in rows_b}
    assert len(await admin_get(sim.url, "/_sim/requests", limit=2)) == 2
    orders = await admin_get(sim.url, "/_sim/orders", venue="binance", api_key=a["apiKey"])
    assert len(orders) == 1 and orders[0]["status"] == "FILLED" and orders[0]["fills"]
    assert await admin_get(sim.url, "/_sim/orders", api_key=b["apiKey"]) == []


T0 = 1_767_225_600_000  # 2026-01-01T00:00Z, a minute boundary


async def test_market_price_and_replay(sim: SimServer, ccxt_client: MakeClient, tmp_path: Path) -> None:
    ex = ccxt_client("binance")
    okx = ccxt_client("okx")
    await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T0, "speed": 0})
    await admin(sim.url, "POST", "/_sim/market", {"venue": "binance", "symbol": "BTCUSDT", "price": 12345})
    # the shift is on the one market: Binance quotes the price given, OKX the same within its basis
    assert abs((await ex.fetch_ticker("BTC/USDT"))["last"] - 12345) <= 0.01
    assert abs((await okx.fetch_ticker("BTC/USDT"))["last"] - 12345) < 12345 * 0.0005
    await admin(sim.url, "POST", "/_sim/market", {"venue": "binance", "spread_bps": 40, "depth": 7})
    book = await ex.fetch_order_book("BTC/USDT")
    assert len(book["bids"]) == len(book["asks"]) == 7
    mid = (book["bids"][0][0] + book["asks"][0][0]) / 2
    assert book["asks"][0][0] - book["bids"][0][0] >= mid * 0.0039  # 40 bps wide
    csv = tmp_path / "candles.csv"
    rows = [(1577836800000 + i * 60_000, 7000 + i, 7010 + i, 6990 + i, 7005 + i) for i in range(5)]
    csv.write_text(
        "timestamp,open,high,low,close,volume\n"
        + "".join(f"{t},{o},{h},{lo},{c},1.5\n" for t, o, h, lo, c in rows)
    )
    result = await admin(
        sim.url, "POST", "/_sim/market", {"venue": "binance", "symbol": "BTC/USDT", "replay": str(csv)}
    )
    assert result["binance"]["rows"] == 5
    # time, not requests, moves the replay: at each minute's start the price is that row's open
    for row in rows:
        for _ in range(3):
            assert abs((await ex.fetch_ticker("BTC/USDT"))["last"] - row[1]) < row[1] * 0.0002
        await admin(sim.url, "POST", "/_sim/clock", {"advance_ms": 60_000})
    status = (await admin_get(sim.url, "/_sim/market"))["replays"]["BTC"]
    assert status["ended"] is True and status["rows"] == 5 and status["holding"] == 7009
    await admin(sim.url, "POST", "/_sim/clock", {"advance_ms": 3_600_000})
    assert abs((await ex.fetch_ticker("BTC/USDT"))["last"] - 7009) < 7009 * 0.0002  # holds, no loop
    candles = await ex.fetch_ohlcv("BTC/USDT", "1m", since=T0, limit=5)
    assert [c[0] for c in candles] == [T0 + i * 60_000 for i in range(5)]
    for candle, row in zip(candles, rows, strict=True):
        assert all(abs(got - want) < want * 0.0002 for got, want in zip(candle[1:5], row[1:5], strict=True))
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            sim.url + "/_sim/market", json={"venue": "binance", "replay": str(tmp_path / "missing.csv")}
        ) as r,
    ):
        assert r.status == 400


async def _scenario(seed: int) -> dict[str, Any]:
    async with SimServer(port=0, seed=seed) as server:
        key = await admin(
            server.url, "POST", "/_sim/keys", {"venue": "binance", "permissions": ["read", "spot_trade"]}
        )
        ex = ccxt_async.binance({"apiKey": key["apiKey"], "secret": key["secret"], "enableRateLimit": False})
        apply_endpoint_override(ex, server.url)
        # prices follow the simulator clock: freeze it at the same instant in both runs
        await admin(server.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T0, "speed": 0})
        try:
            return await _steps(ex, server)
        finally:
            await ex.close()


async def _steps(ex: Any, server: SimServer) -> dict[str, Any]:
    await ex.load_time_difference()  # a client whose clock is off syncs to the server's (virtual) time
    await ex.load_markets()
    ticker = await ex.fetch_ticker("BTC/USDT")
    book = await ex.fetch_order_book("ETH/USDT", 5)
    await ex.load_time_difference()
    market = await ex.create_order("BTC/USDT", "market", "buy", 0.05)
    limit_price = float(ex.price_to_precision("ETH/USDT", book["asks"][0][0] * 1.001))
    await ex.load_time_difference()
    resting = await ex.create_order("ETH/USDT", "limit", "sell", 1, limit_price)
    for _ in range(30):
        await admin(server.url, "POST", "/_sim/clock", {"advance_ms": 1000})
        await ex.fetch_ticker("ETH/USDT")
    await ex.load_time_difference()
    final = await ex.fetch_order(resting["id"], "ETH/USDT")
    balance = await ex.fetch_balance()
    return {
        "last": ticker["last"],
        "bid": ticker["bid"],
        "book": book["bids"] + book["asks"],
        "fills": [(t["price"], t["amount"]) for t in market["trades"]],
        "resting": (final["status"], final["filled"]),
        "balance": {c: balance[c]["total"] for c in ("USDT", "BTC", "ETH")},
        "prices": await admin_get(server.url, "/_sim/market", venue="binance"),
    }


async def test_same_seed_same_prices_and_fills() -> None:
    first, second, other = await asyncio.gather(_scenario(2024), _scenario(2024), _scenario(2025))
    assert first == second and first["fills"] and sum(q for _, q in first["fills"]) == 0.05
    assert other["last"] != first["last"] and other["prices"] != first["prices"]


def test_threaded_sim_serves_sync_callers() -> None:
    with ThreadedSim(seed=5) as sim:
        url = sim.url
        with urllib.request.urlopen(url + "/api.binance.com/api/v3/time", timeout=5) as r:
            assert abs(json.load(r)["serverTime"] - time.time() * 1000) < 5_000
        with urllib.request.urlopen(url + "/_sim/health", timeout=5) as r:
            assert json.load(r)["ok"] is True
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/_sim/health", timeout=2)


def _wait_for_url(proc: subprocess.Popen[str], deadline: float) -> str:
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "http://" in line:
            return line.split("http://", 1)[1].split()[0].rstrip(".,;")
        if not line and proc.poll() is not None:
            break
    raise AssertionError("simulator did not announce its URL")


@pytest.mark.parametrize("argv", [["-m", "tradewarden.cli.main"], ["-m", "tradewarden.sim"]])
async def test_serve_command(argv: list[str]) -> None:
    if argv[1] == "tradewarden.cli.main":
        cmd = [str(Path(sys.executable).parent / "tradewarden"), "sim", "serve", "--port", "0", "--seed", "3"]
    else:
        cmd = [sys.executable, *argv, "--port", "0", "--seed", "3"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = "http://" + await asyncio.to_thread(_wait_for_url, proc, time.monotonic() + 20)
        assert url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as s, s.get(url + "/api.binance.com/api/v3/ping") as r:
            assert r.status == 200 and await r.json() == {}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
