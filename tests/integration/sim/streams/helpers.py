"""Test helpers for simulator streams: real ccxt.pro clients and hand-built clients pointed at the sim."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp

from tradewarden.adapters.exchanges import pro
from tradewarden.adapters.vault.secret import Secret

T = TypeVar("T")
WAIT_S = 10.0  # every wait in these tests is bounded by this (or less)


def ws_url(sim_url: str, url: str) -> str:
    """`wss://HOST/PATH` -> `ws://SIM/HOST/PATH`: the endpoint override's E/HOST/PATH, ws scheme."""
    return pro.ws_url(sim_url, url)


def pro_client(exchange_id: str, sim_url: str, key: dict[str, Any] | None = None, **config: Any) -> Any:
    """A real ccxt.pro client from the product's builder: REST and ws URLs through the endpoint override."""
    creds = (
        None
        if key is None
        else {f: Secret(str(key[f])) for f in ("apiKey", "secret", "password") if key.get(f)}
    )
    return pro.build_pro_client(
        exchange_id, creds, sim_url, timeout_ms=10_000, **{"enableRateLimit": False, **config}
    )


async def bounded(aw: Awaitable[T], seconds: float = WAIT_S) -> T:
    """Await with a time bound (no test may hang)."""
    return await asyncio.wait_for(aw, seconds)


async def admin(sim_url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the simulator admin API; returns the decoded JSON, asserting a 2xx status."""
    async with aiohttp.ClientSession() as s, s.request(method, sim_url + path, json=body) as r:
        data = await r.json()
        assert r.status < 300, (r.status, data)
        return data


async def advance(sim_url: str, ms: int) -> None:
    """Step the (virtual) simulator clock and give the stream ticker time to see it."""
    await admin(sim_url, "POST", "/_sim/clock", {"advance_ms": ms})


async def virtual_clock(sim_url: str, start_ms: int | None = None) -> None:
    """Freeze the simulator clock (at now, or `start_ms`): streams then move only with `advance`.

    Signed REST calls carry the wall-clock time, so make them before advancing far.
    """
    body: dict[str, Any] = {"mode": "virtual", "speed": 0}
    if start_ms is not None:
        body["start"] = start_ms
    await admin(sim_url, "POST", "/_sim/clock", body)


async def recv_json(ws: Any, seconds: float = WAIT_S) -> Any:
    """Next text frame of a `websockets` client, parsed."""
    return json.loads(await asyncio.wait_for(ws.recv(), seconds))


async def recv_until(ws: Any, pred: Any, seconds: float = WAIT_S, limit: int = 500) -> Any:
    """Frames until one satisfies `pred` (bounded in time and count)."""

    async def loop() -> Any:
        for _ in range(limit):
            msg = json.loads(await ws.recv())
            if pred(msg):
                return msg
        raise AssertionError(f"no matching frame in {limit}")

    return await asyncio.wait_for(loop(), seconds)


async def driven(
    sim_url: str, aw: Awaitable[T], step_ms: int = 1000, seconds: float = WAIT_S, every_s: float = 0.1
) -> T:
    """Await `aw` while stepping the virtual clock every `every_s` of wall time (bounded)."""
    task = asyncio.ensure_future(aw)

    async def drive() -> None:
        while not task.done():
            await asyncio.sleep(every_s)
            await advance(sim_url, step_ms)

    driver = asyncio.ensure_future(drive())
    try:
        return await asyncio.wait_for(task, seconds)
    finally:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
