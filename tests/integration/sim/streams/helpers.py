"""Test helpers for simulator streams: real ccxt.pro clients and hand-built clients pointed at the sim."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import ccxt.pro as ccxt_pro

from tradewarden.adapters.exchanges.endpoint import apply_endpoint_override

T = TypeVar("T")
_WS = re.compile(r"^wss?://(?P<rest>.+)$")
WAIT_S = 10.0  # every wait in these tests is bounded by this (or less)


def ws_url(sim_url: str, url: str) -> str:
    """`wss://HOST/PATH` -> `ws://SIM/HOST/PATH`: the endpoint override's E/HOST/PATH, ws scheme."""
    m = _WS.match(url)
    if m is None:
        raise ValueError(f"not a ws url: {url}")
    return "ws://" + sim_url.split("://", 1)[1].rstrip("/") + "/" + m.group("rest")


def _rewrite_ws(node: Any, sim_url: str) -> Any:
    if isinstance(node, str):
        return ws_url(sim_url, node) if _WS.match(node) else node
    if isinstance(node, dict):
        return {k: _rewrite_ws(v, sim_url) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_ws(v, sim_url) for v in node]
    return node


def pro_client(exchange_id: str, sim_url: str, key: dict[str, Any] | None = None, **config: Any) -> Any:
    """A real ccxt.pro client: REST through the product's endpoint override, ws URLs the same way."""
    cfg: dict[str, Any] = {"enableRateLimit": False, "timeout": 10_000, **config}
    if key is not None:
        cfg["apiKey"] = key["apiKey"]
        cfg["secret"] = key.get("secret")
        if "password" in key:
            cfg["password"] = key["password"]
    ex = getattr(ccxt_pro, exchange_id)(cfg)
    ws_tree = _rewrite_ws(ex.urls["api"], sim_url)  # before the REST rewrite turns wss into http
    apply_endpoint_override(ex, sim_url)
    ex.urls["api"] = _merge_ws(ex.urls["api"], ws_tree)
    return ex


def _merge_ws(rest: Any, ws: Any) -> Any:
    """Take the ws-scheme rewrite wherever the original was a ws URL, the REST rewrite elsewhere."""
    if isinstance(rest, dict) and isinstance(ws, dict):
        return {k: _merge_ws(rest[k], ws[k]) for k in rest}
    if isinstance(ws, str) and ws.startswith("ws://"):
        return ws
    return rest


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
