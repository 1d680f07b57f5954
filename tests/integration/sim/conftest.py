"""Fixtures: a running simulator on loopback, keys via the admin API, real ccxt clients pointed at it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import pytest

from tradewarden.adapters.exchanges.endpoint import apply_endpoint_override
from tradewarden.sim import SimServer

MakeKey = Callable[..., Awaitable[dict[str, Any]]]
MakeClient = Callable[..., Any]


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """A fresh simulator (seed 7) on an ephemeral loopback port."""
    async with SimServer(host="127.0.0.1", port=0, seed=7) as server:
        yield server


@pytest.fixture
def sim_url(sim: SimServer) -> str:
    return sim.url


async def admin(url: str, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
    """Call the simulator admin API and return the decoded JSON (asserting a 2xx status)."""
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, url + path, json=body, params={k: str(v) for k, v in query.items()}) as r,
    ):
        data = await r.json()
        assert r.status < 300, (r.status, data)
        return data


async def admin_get(url: str, path: str, **query: Any) -> Any:
    """GET an admin endpoint."""
    return await admin(url, "GET", path, None, **query)


@pytest.fixture
def make_key(sim_url: str) -> MakeKey:
    async def _make(venue: str = "binance", **spec: Any) -> dict[str, Any]:
        spec.setdefault("permissions", ["read", "spot_trade"])
        return dict(await admin(sim_url, "POST", "/_sim/keys", {"venue": venue, **spec}))

    return _make


@pytest.fixture
async def ccxt_client(sim_url: str) -> AsyncIterator[MakeClient]:
    """Factory for real ccxt async clients with the endpoint override applied; all closed at teardown."""
    made: list[Any] = []

    def _make(exchange_id: str = "binance", key: dict[str, Any] | None = None, **config: Any) -> Any:
        cfg: dict[str, Any] = {"enableRateLimit": False, "timeout": 10_000, **config}
        if key is not None:
            cfg["apiKey"] = key["apiKey"]
            if "secret" in key:
                cfg["secret"] = key["secret"]
            if "password" in key:
                cfg["password"] = key["password"]
        ex = getattr(ccxt_async, exchange_id)(cfg)
        apply_endpoint_override(ex, sim_url)
        made.append(ex)
        return ex

    yield _make
    # ccxt's close() sleeps 250 ms per client; close them together
    await asyncio.gather(*(ex.close() for ex in made))


def error_code(exc: BaseException, ex: Any = None) -> int | None:
    """The venue `code` behind a ccxt exception: from its message, else from the client's last response."""
    for text in (str(exc), getattr(ex, "last_http_response", None) or ""):
        start = text.find("{")
        if start < 0:
            continue
        try:
            body = json.loads(text[start:])
        except ValueError:
            continue
        code = body.get("code") if isinstance(body, dict) else None
        if code is not None:
            return int(code)
    return None


async def logged_codes(url: str, **query: Any) -> list[str | None]:
    """Error codes in the simulator's request log (newest last)."""
    rows = await admin_get(url, "/_sim/requests", **query)
    return [r["code"] for r in rows]
