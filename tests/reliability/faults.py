"""Fault scenarios for manual live orders against the simulator, and a 502 gateway in front of it.

Each scenario makes its own key and connection (revoking a key is for good), injects its fault while a
batch of manual orders goes through `services.trading.Trader`, and says which status a connection test
must report while the fault lasts and after it is lifted.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.integration.simtools import SimAdmin
from tests.security.faultproxy import FaultProxy
from tradewarden.sim import ThreadedSim

VENUE = "binance"
CLIENT_TIMEOUT_MS = 1500  # the private client's timeout in these runs (production: 30 s)
HOLD_MS = 4000  # a `timeout` fault holds the request past the client's timeout
LATE_MS = 2000  # a `late` fault answers after the client gave up
ORDER_PATH = "/api/v3/order"  # Binance spot: create (POST), look up (GET), cancel (DELETE)


@dataclass
class Env:
    """What a scenario may act on."""

    sim: ThreadedSim
    admin: SimAdmin
    gateway: Gateway
    api_key: str = ""


Action = Callable[[Env], None]


def _fault(kind: str, rate: float = 1.0, **extra: Any) -> Action:
    return lambda env: env.admin.fault(VENUE, kind, rate=rate, **extra)


def _gate(kind: str, rate: float = 1.0, count: int = 10**9) -> Action:
    return lambda env: env.gateway.set(kind, rate, count)


def _clear(env: Env) -> None:
    env.admin.clear_faults()
    env.gateway.rate = 0.0


def _mixed(env: Env) -> None:
    # the simulator's own faults on every request (public reads too), as tests/integration/execution does
    for kind, rate, extra in (
        ("timeout", 0.08, {"ms": HOLD_MS}),
        ("reset", 0.08, {}),
        ("http_500", 0.07, {}),
        ("bad_json", 0.05, {}),
    ):
        env.admin.fault(VENUE, kind, rate=rate, **extra)


def _sim_key(env: Env) -> Any:
    assert env.sim.server is not None
    return env.sim.server.ctx.keys.get(env.api_key)


def _ip_removed(env: Env) -> None:
    # The admin API has no route to edit a whitelist; the key object is the simulator's own state.
    _sim_key(env).ip_whitelist = ("203.0.113.7",)


def _ip_restored(env: Env) -> None:
    _sim_key(env).ip_whitelist = ("127.0.0.1",)


@dataclass(frozen=True)
class Scenario:
    """One fault: how to start and end it, and the connection status during and after."""

    name: str
    start: Action
    end: Action = _clear
    during: str | None = None  # status a connection test must report mid-fault (None: not tested)
    after: str = "online"
    timed: bool = False  # lasts a window of the run, then ends (else: ends when the orders are done)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("http 500 burst", _gate("http_500", 0.7, 8)),
    Scenario("http 502 burst", _gate("http_502", 0.7, 8)),
    Scenario("http 503 burst", _gate("http_503", 0.7, 8)),
    Scenario("429 + Retry-After", _gate("http_429", 0.4)),
    Scenario("418 + Retry-After", _gate("http_418", 0.3)),
    Scenario("timeouts", _gate("timeout", 0.3)),
    Scenario("answered after timeout", _gate("late", 0.4)),
    Scenario("connection resets", _gate("reset", 0.4)),
    Scenario("malformed JSON", _gate("bad_json", 0.4)),
    Scenario("every request: mixed faults", _mixed),
    Scenario(
        "clock skew: venue 3 s behind",
        lambda env: env.admin.venue(VENUE, clock_skew_ms=-3000),
        lambda env: env.admin.venue(VENUE, clock_skew_ms=0),
        during="clock_skew",
        timed=True,
    ),
    Scenario(
        "venue down",
        lambda env: env.admin.venue(VENUE, down=True),
        lambda env: env.admin.venue(VENUE, down=False),
        during="exchange_unavailable",
        timed=True,
    ),
    Scenario(
        "key revoked mid-run",
        lambda env: env.admin.revoke(env.api_key),
        lambda env: None,
        during="invalid_key",
        after="invalid_key",
        timed=True,
    ),
    # Binance answers -2015 for a bad key, an untrusted IP or a missing permission alike, so the honest
    # status of a key refused for its IP is invalid_key there (tests/integration/connections/test_matrix).
    Scenario("IP removed from whitelist", _ip_removed, _ip_restored, during="invalid_key", timed=True),
)


class Gateway(FaultProxy):
    """A loopback proxy in front of the simulator that breaks a share of the ORDER requests only (sends,
    lookups, cancels): the simulator's own faults hit every request, so most would fail the public book
    read before an order is even sent. Kinds: http_<status> (429/418 with Retry-After), reset, bad_json,
    timeout (held past the client's timeout, never forwarded), late (forwarded, answered after the
    client's timeout: the order exists although the client saw a timeout)."""

    def __init__(self, upstream: str, seed: int = 17) -> None:
        super().__init__(upstream)
        self.kind = ""
        self.rate = 0.0
        self.left = 0
        self.served = 0
        self.order_log: list[tuple[float, str]] = []  # (monotonic s, fault kind or "") per order request
        self._rng = random.Random(seed)

    def set(self, kind: str, rate: float, count: int = 10**9) -> None:
        """Break `rate` of the order requests with `kind`, `count` times at most."""
        self.kind, self.rate, self.left = kind, rate, count

    def within_retry_after(self, seconds: float = 1.0) -> int:
        """Order requests sent less than `seconds` (the Retry-After given) after a 429/418 answer."""
        limited = [t for t, kind in self.order_log if kind in ("http_429", "http_418")]
        return sum(1 for t, _kind in self.order_log if any(0 < t - r < seconds for r in limited))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        is_order = ORDER_PATH in request.path.lower()
        if not (self.left > 0 and is_order and self._rng.random() < self.rate):
            if is_order:
                self.order_log.append((time.monotonic(), ""))
            return await self._forward(request)
        self.order_log.append((time.monotonic(), self.kind))
        self.left -= 1
        self.served += 1
        kind = self.kind
        if kind.startswith("http_"):
            status = int(kind[5:])
            headers = {"Retry-After": "1"} if status in (418, 429) else {}
            return web.Response(status=status, text=f"<html>{status}</html>", headers=headers)
        if kind == "bad_json":
            return web.Response(
                status=200, body=b'{"orderId": 12, "status": "NE', content_type="application/json"
            )
        if kind == "late":
            answer = await self._forward(request)
            await asyncio.sleep(LATE_MS / 1000)
            return answer
        if kind == "timeout":
            await asyncio.sleep(HOLD_MS / 1000)
            return web.Response(status=504, text="held")
        return await self._break(kind, request)  # reset
