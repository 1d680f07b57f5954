"""A key revoked at the exchange while a live bot runs, with no one re-testing the connection: the bot's
next order is refused, the runner asks the health monitor for an early re-test, the connection turns
invalid_key and the bot stops, saying why, after one refused order (not five, not fifteen minutes)."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from tests.conftest import PASSPHRASE
from tests.integration.bots.conftest import BotWorld
from tests.integration.bots.test_live_faults import LIVE
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.bots import service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.connections.health import HealthMonitor
from tradewarden.services.vault_session import VaultSession

BASE = Decimal(50000)


async def _run(world: BotWorld, venue: str, api_key: str) -> tuple[str, str, int]:
    hub = world.hub()
    vault = VaultSession.open(world.app, Secret(PASSPHRASE))
    monitor = HealthMonitor(world.app, Secret(PASSPHRASE), interval_s=3600, timeout_ms=5_000)
    stop = asyncio.Event()
    watching = asyncio.create_task(monitor.run(stop))
    try:
        await asyncio.sleep(0.5)  # the monitor's first round (all Online) is over
        runner = BotRunner(world.app, hub, vault, RunnerConfig(live=LIVE), monitor.report_auth_error)
        await runner.round()
        assert service.get(world.app, "d").status == "running"
        world.admin.revoke(api_key)
        world.price(venue, BASE * Decimal("0.978"))  # the add-on's price: an order with the dead key
        rounds = 0
        while service.get(world.app, "d").status == "running" and rounds < 40:
            await runner.round()
            await asyncio.sleep(0.25)
            rounds += 1
        view = service.get(world.app, "d")
        refused = sum(1 for e in service.history(world.app, "d") if e["kind"] == "refused")
        return view.status, view.status_reason or "", refused
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(watching, 10)
        await hub.close()


def test_a_refused_live_order_gets_the_connection_retested_and_the_bot_stopped(world: BotWorld) -> None:
    key = world.connect("live", "mexc")
    world.price("mexc", BASE)
    world.bot("d", "live", mode="live")
    status, reason, refused = asyncio.run(_run(world, "mexc", key["apiKey"]))
    assert status == "stopped", (status, reason)
    assert "invalid_key" in reason, reason
    assert refused == 1, refused
