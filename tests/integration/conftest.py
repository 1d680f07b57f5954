"""One simulator for the integration tests, reset after each test that touches it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.simtools import SimAdmin
from tradewarden.sim import ThreadedSim

VENUES = ("binance", "kucoin", "mexc", "okx", "bybit")


@pytest.fixture(scope="session")
def threaded_sim() -> Iterator[ThreadedSim]:
    """A simulator on an ephemeral loopback port, in its own thread."""
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=11).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim_admin(threaded_sim: ThreadedSim) -> Iterator[SimAdmin]:
    """The admin client; every venue is put back up, on time and fault-free after the test."""
    admin = SimAdmin(threaded_sim.url)
    yield admin
    admin.clear_faults()
    served = set(admin.call("GET", "/_sim/health")["venues"])
    for venue in VENUES:
        if venue in served:
            admin.venue(venue, down=False, clock_skew_ms=0)
