"""Fixtures for the market hub: a fresh simulator per test (clean log and weights), and a hub on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.sim.conftest import admin, admin_get
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.sim import SimServer

SYMBOL = "BTC/USDT"


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """A fresh simulator (seed 5) on an ephemeral loopback port, in the test's own loop."""
    async with SimServer(host="127.0.0.1", port=0, seed=5) as server:
        yield server


@pytest.fixture
async def hub(sim: SimServer) -> AsyncIterator[MarketHub]:
    """A market hub pointed at the simulator for every exchange; closed after the test."""
    made = MarketHub(HubConfig(default_endpoint=sim.url))
    try:
        yield made
    finally:
        await made.close()


async def requests_of(sim: SimServer, venue: str = "binance", path_part: str = "") -> list[dict[str, Any]]:
    """The simulator's request log for `venue`, only paths containing `path_part`."""
    rows: list[dict[str, Any]] = await admin_get(sim.url, "/_sim/requests", venue=venue)
    return [r for r in rows if path_part in r["path"]]


async def fault(sim: SimServer, venue: str, kind: str, **extra: Any) -> None:
    """Inject a fault through the admin API."""
    await admin(sim.url, "POST", "/_sim/faults", {"venue": venue, "kind": kind, **extra})
