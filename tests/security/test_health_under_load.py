"""`/api/v1/health` answers from the event loop while connection tests wait on a slow exchange (they fill
the server's threadpool). Real uvicorn on 127.0.0.1, real ccxt against the simulator's `latency` fault.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSPHRASE
from tests.integration.api.conftest import HTTP_TIMEOUT_S, ApiServer, running_server
from tests.integration.conftest import sim_admin, threaded_sim  # noqa: F401  (fixtures)
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.connections import service
from tradewarden.sim import ThreadedSim

TESTS_IN_FLIGHT = 45  # more than the threadpool's 40 workers
SLOW_MS = 4000  # exchange requests wait this long until the fault has delayed TESTS_IN_FLIGHT of them
WAIT_FOR_SATURATION_S = 60.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    """A fresh real server."""
    with running_server(tmp_path / "home") as running:
        yield running


def _fault_hits(admin: SimAdmin) -> int | None:
    """Hits of the latency fault so far; None once it has used up its count (all tests reached it)."""
    faults = admin.call("GET", "/_sim/faults")
    return next((int(f["hits"]) for f in faults if f["kind"] == "latency"), None)


async def _wait_until_tests_wait_on_the_exchange(admin: SimAdmin, wanted: int) -> None:
    deadline = time.monotonic() + WAIT_FOR_SATURATION_S
    while True:
        hits = await asyncio.to_thread(_fault_hits, admin)
        if hits is None or hits >= wanted:
            return
        assert time.monotonic() < deadline, f"only {hits} connection tests reached the exchange"
        await asyncio.sleep(0.05)


@pytest.mark.attack("health blocked by slow exchange")
async def test_health_answers_while_connection_tests_wait_on_a_slow_exchange(
    server: ApiServer,
    sim_admin: SimAdmin,  # noqa: F811
    threaded_sim: ThreadedSim,  # noqa: F811
) -> None:
    """With every worker thread waiting on the exchange, health still answers before any test ends."""
    key = sim_admin.key("binance", ["read", "spot_trade"], ip_whitelist=["127.0.0.1"])
    credentials = {f: Secret(str(v)) for f, v in key.items() if f in ("apiKey", "secret", "password")}
    view = service.add_connection(
        server.app, Secret(PASSPHRASE), "Slow Binance", "binance", credentials, endpoint=threaded_sim.url
    )
    sim_admin.fault("binance", "latency", ms=SLOW_MS, count=TESTS_IN_FLIGHT)
    headers = {"Authorization": f"Bearer {server.tokens['admin']}"}
    limits = httpx.Limits(max_connections=TESTS_IN_FLIGHT + 5)
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=HTTP_TIMEOUT_S, trust_env=False, limits=limits
    ) as client:
        tests = [
            asyncio.create_task(client.post(f"/api/v1/connections/{view.id}/test"))
            for _ in range(TESTS_IN_FLIGHT)
        ]
        try:
            await _wait_until_tests_wait_on_the_exchange(sim_admin, wanted=40)
            health = await client.get("/api/v1/health")
            finished_before_health = sum(task.done() for task in tests)
        finally:
            results = await asyncio.gather(*tests, return_exceptions=True)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert finished_before_health == 0, f"health waited for {finished_before_health} connection tests"
    # The tests themselves completed (slowly) with a real answer.
    for result in results:
        assert isinstance(result, httpx.Response) and result.status_code == 200, result
