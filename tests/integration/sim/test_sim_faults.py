"""Injected faults, downtime and request weight, observed through real ccxt."""

from __future__ import annotations

import time

import aiohttp
import ccxt
import pytest

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin, admin_get, error_code


async def _fault(url: str, kind: str, **extra: object) -> None:
    await admin(url, "POST", "/_sim/faults", {"venue": "binance", "kind": kind, **extra})


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("http_500", ccxt.ExchangeNotAvailable),
        ("http_503", ccxt.ExchangeNotAvailable),
        ("http_429", ccxt.DDoSProtection),  # ccxt's binance maps both 429 and 418 to DDoSProtection
        ("http_418", ccxt.DDoSProtection),
    ],
)
async def test_http_faults(
    sim: SimServer, ccxt_client: MakeClient, kind: str, expected: type[Exception]
) -> None:
    ex = ccxt_client("binance")
    await _fault(sim.url, kind, count=1)
    with pytest.raises(expected):
        await ex.fetch_time()
    assert await ex.fetch_time() > 0  # count=1: the next request is served
    rows = await admin_get(sim.url, "/_sim/requests")
    assert rows[0]["fault"] == kind and rows[0]["status"] == int(kind[5:]) and rows[1]["fault"] is None


async def test_timeout_fault(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance", timeout=300)
    await _fault(sim.url, "timeout", count=1, ms=3_000)
    start = time.perf_counter()
    with pytest.raises(ccxt.RequestTimeout):
        await ex.fetch_time()
    assert 0.25 < time.perf_counter() - start < 2.0


async def test_reset_fault(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance")
    await _fault(sim.url, "reset")  # every request until cleared (aiohttp retries a reused connection once)
    with pytest.raises(ccxt.NetworkError):
        await ex.fetch_time()
    await admin(sim.url, "DELETE", "/_sim/faults")
    assert await ex.fetch_time() > 0


async def test_bad_json_fault(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance")
    await _fault(sim.url, "bad_json", count=1)
    # ccxt does not raise on a malformed 200 body: it hands back the raw text, which callers must check
    raw = await ex.public_get_time()
    assert isinstance(raw, str) and raw.startswith("{") and ex.last_json_response is None
    await _fault(sim.url, "bad_json", count=1)
    assert await ex.fetch_time() is None


async def test_latency_fault(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance")
    await ex.fetch_time()  # warm the connection
    start = time.perf_counter()
    await ex.fetch_time()
    fast = time.perf_counter() - start
    await _fault(sim.url, "latency", ms=250, count=1)
    start = time.perf_counter()
    assert await ex.fetch_time() > 0
    slow = time.perf_counter() - start
    assert slow >= 0.25 and slow - fast >= 0.2


async def test_fault_rate_is_seeded(ccxt_client: MakeClient) -> None:
    outcomes = []
    for _ in range(2):
        async with SimServer(port=0, seed=99) as server:
            await admin(
                server.url, "POST", "/_sim/faults", {"venue": "binance", "kind": "http_503", "rate": 0.5}
            )
            async with aiohttp.ClientSession() as s:
                statuses = []
                for _ in range(40):
                    async with s.get(server.url + "/api.binance.com/api/v3/ping") as r:
                        statuses.append(r.status)
            outcomes.append(statuses)
    assert outcomes[0] == outcomes[1]
    assert 8 <= outcomes[0].count(503) <= 32 and set(outcomes[0]) == {200, 503}


async def test_venue_down_and_up(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance")
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "down": True})
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await ex.fetch_time()
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "down": False})
    assert await ex.fetch_time() > 0


async def test_weight_limit_429_then_418(sim: SimServer, ccxt_client: MakeClient) -> None:
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "weight_limit": 10})
    ex = ccxt_client("binance")
    used = []
    with pytest.raises(ccxt.DDoSProtection) as info:
        for _ in range(20):  # ping weighs 1: the 11th request breaks the limit
            await ex.public_get_ping()
            used.append(int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]))
    assert used == list(range(1, 11))
    assert error_code(info.value, ex) == -1003 and "429" in str(info.value)
    retry_after = int(ex.last_response_headers["Retry-After"])
    assert 1 <= retry_after <= 60
    # carrying on after a 429 gets the IP banned: 418 with the ban's Retry-After
    with pytest.raises(ccxt.DDoSProtection) as info:
        await ex.public_get_ping()
    assert "418" in str(info.value) and "IP banned until" in str(info.value)
    assert int(ex.last_response_headers["Retry-After"]) >= 100
    rows = await admin_get(sim.url, "/_sim/requests")
    assert [r["status"] for r in rows[-2:]] == [429, 418] and rows[-1]["code"] == "-1003"
    # lifting the limit (admin) clears the ban
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "weight_limit": 1200})
    assert await ex.public_get_ping() == {}


async def test_weights_follow_the_docs(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    steps = []
    for call in (ex.public_get_exchangeinfo, ex.private_get_account):
        await call()
        steps.append(int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]))
    await ex.public_get_depth({"symbol": "BTCUSDT", "limit": 500})
    steps.append(int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]))
    assert steps == [20, 40, 65]  # exchangeInfo 20, account 20, depth(limit 500) 25
