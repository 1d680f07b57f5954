"""Issue 15: a connection that goes bad pauses its bots and says why, and they resume when it is back; a
revoked key stops live bots. The connection's status changes through the health monitor (or the user's
`connections test`), the runner's next round acts on it, and the bot's status, reason and history say so.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.conftest import PASSPHRASE
from tests.integration.bots.conftest import BotWorld
from tests.integration.bots.test_live_faults import LIVE
from tests.integration.trading.conftest import sim_orders
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.bots import service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.connections.health import HealthMonitor
from tradewarden.services.vault_session import VaultSession

BASE = Decimal(50000)


def kinds(world: BotWorld, name: str) -> list[str]:
    """The bot's history kinds, oldest first."""
    return [e["kind"] for e in reversed(service.history(world.app, name))]


def figures(world: BotWorld, name: str) -> dict[str, object]:
    """The bot's figures on BTC/USDT."""
    return dict(service.get(world.app, name).pair_states.get("BTC/USDT", {}))


async def outage_and_back(world: BotWorld, venue: str) -> list[str]:
    """Run a live bot through an exchange outage; the statuses it went through."""
    hub = world.hub()
    vault = VaultSession.open(world.app, Secret(PASSPHRASE))
    monitor = HealthMonitor(world.app, Secret(PASSPHRASE), timeout_ms=5_000)
    seen: list[str] = []
    try:
        runner = BotRunner(world.app, hub, vault, RunnerConfig(live=LIVE))
        await runner.round()  # enters at the base price
        seen.append(service.get(world.app, "d").status)
        world.admin.venue(venue, down=True)
        [report] = await monitor.run_once(["live"])
        assert report.status == "exchange_unavailable", report
        await runner.round()
        seen.append(service.get(world.app, "d").status)
        world.price(venue, BASE * Decimal("0.978"))  # an add-on's price: nothing may happen while paused
        await runner.round()
        seen.append(service.get(world.app, "d").status)
        assert figures(world, "d")["addons_total"] == 0
        world.admin.venue(venue, down=False)
        [report] = await monitor.run_once(["live"])
        assert report.status == "online", report
        for _ in range(3):  # resumed, then the add-on is made at the price still there
            await runner.round()
        seen.append(service.get(world.app, "d").status)
        return seen
    finally:
        world.admin.venue(venue, down=False)
        await hub.close()


def test_exchange_outage_pauses_and_resumes_a_live_bot(world: BotWorld) -> None:
    """Exchange unavailable: the bot pauses with the reason, does nothing, and resumes when it is back."""
    key = world.connect("live", "mexc")
    world.price("mexc", BASE)
    world.bot("d", "live", mode="live")
    seen = asyncio.run(outage_and_back(world, "mexc"))
    assert seen == ["running", "paused", "paused", "running"], seen
    history = service.history(world.app, "d")
    paused = next(e for e in history if e["kind"] == "paused")
    assert "live" in paused["reason"] and "exchange_unavailable" in paused["reason"], paused
    resumed = next(e for e in history if e["kind"] == "resumed")
    assert "online" in resumed["reason"], resumed
    order = kinds(world, "d")
    assert order.index("group_opened") < order.index("paused") < order.index("resumed") < order.index("addon")
    assert figures(world, "d")["addons_total"] == 1
    held = sim_orders(world.admin, "mexc", key["apiKey"])
    assert len(held) == 2 and all(o["status"] == "FILLED" for o in held), held  # base, then the add-on


async def revoked(world: BotWorld, venue: str, api_key: str) -> tuple[str, str, int]:
    """Revoke the key of a running live bot; its status, reason and the orders sent after the revocation."""
    hub = world.hub()
    vault = VaultSession.open(world.app, Secret(PASSPHRASE))
    try:
        runner = BotRunner(world.app, hub, vault, RunnerConfig(live=LIVE))
        await runner.round()
        assert service.get(world.app, "d").status == "running"
        world.admin.revoke(api_key)
        # The health monitor's re-test, in this process: a `connections test` subprocess would do the same,
        # but the in-process CLI calls beside this test's open store (world.connect) have dropped its SQLite
        # file locks (POSIX locks are per process: check_sqlite_file's open/close of the file releases
        # them), so a subprocess's exit would delete the WAL under it.
        monitor = HealthMonitor(world.app, Secret(PASSPHRASE), timeout_ms=5_000)
        [report] = await monitor.run_once(["live"])
        assert report.status == "invalid_key", report
        sent_before = len(world.admin.requests(venue))
        world.price(venue, BASE * Decimal("0.978"))
        for _ in range(3):
            await runner.round()
        after = [r for r in world.admin.requests(venue)[sent_before:] if r["method"] != "GET"]
        view = service.get(world.app, "d")
        return view.status, view.status_reason or "", len(after)
    finally:
        await hub.close()


def test_revoked_key_stops_a_live_bot(world: BotWorld) -> None:
    """The key revoked at the exchange and found invalid by the test: the live bot stops, saying why."""
    key = world.connect("live", "kucoin")
    world.price("kucoin", BASE)
    world.bot("d", "live", mode="live")
    status, reason, sent = asyncio.run(revoked(world, "kucoin", key["apiKey"]))
    assert status == "stopped", (status, reason)
    assert "live" in reason and "invalid_key" in reason, reason
    assert sent == 0  # nothing was sent with the dead key once the bot knew
    assert kinds(world, "d")[-1] == "stopped"
    assert figures(world, "d")["addons_total"] == 0
    # a stopped bot is not resumed by the runner: starting it again is the user's, and is refused
    started = world.cli("bots", "start", "d", "--yes")
    assert started.code != 0 and "invalid_key" in started.stderr, started.stderr
