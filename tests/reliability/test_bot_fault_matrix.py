"""Issue 17, fault matrix for BOTS: a paper and a live DCA bot on one connection, driven by the product's
BotRunner through entry, add-ons and take profit while each fault of the manual matrix lasts.

Per fault: the venue holds each of the live bot's client order ids once and the store agrees with it
order by order and fill by fill (tests/reliability/agreement.py); both bots finish the cycle once the
fault is gone. For the faults the connection test can see (clock skew, venue down, key revoked, IP
removed), the health monitor's re-test names the fault, the runner pauses both bots with the connection
and its status in `status_reason` and history, nothing is sent while they are paused, and they resume
when the re-test says Online; a key the venue refuses (revoked, or Binance's -2015 for an IP) stops the
bots instead. The connection's stored status and its `connection.tested` audit events tell the same.

Streams: this matrix runs the runner with streams off (RunnerConfig's default: prices by REST through
the hub); the stream faults (ws_drop, ws_stall, listenkey_expire) are the rows of
test_bot_stream_faults.py, with streams on.

Timing differs from production only where the faults never need the wait (see test_fault_matrix.py):
the private client gives up after 1.5 s and the live executor settles 1 s after an uncertain send.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.integration.bots.conftest import DCA_SETTINGS, NO_CACHE
from tests.integration.simtools import SimAdmin
from tests.reliability.agreement import compare
from tests.reliability.bot_faults import (
    BASE,
    BOT_SCENARIOS,
    CYCLE,
    BotGateway,
    BotScenario,
    count_bot_row,
    reached,
)
from tests.reliability.counters import Counters
from tests.reliability.env import add_online, app_on, now_ms, requests_since, sim_key, sim_orders
from tests.reliability.faults import CLIENT_TIMEOUT_MS, Env
from tests.reliability.settings import LONG, scaled
from tradewarden.adapters.execution.live import LiveConfig
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.store.models import AuditEvent, Connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.app import App
from tradewarden.services.bots import leases, service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.connections.health import HealthMonitor
from tradewarden.services.vault_session import VaultSession
from tradewarden.sim import ThreadedSim

CATEGORY = "fault matrix: bots ({mode})"
CYCLES = scaled(1, 3)  # entry/add-on/add-on/take-profit cycles per fault
WINDOW_S = float(scaled(2, 20))  # how long a timed fault lasts while the bots are paused
ROUNDS_PER_PRICE = 25  # bound: rounds until both bots did what a price asks
PAIR = "BTC/USDT"
# The short configuration (inside `make test`) runs one fault of each family; the long one runs them all.
SHORT = {
    "http 502 burst",
    "429 + Retry-After",
    "malformed JSON",
    "venue down",
    "key revoked mid-run",
    "IP removed from whitelist (kucoin)",
}
CASES = BOT_SCENARIOS if LONG else tuple(c for c in BOT_SCENARIOS if c.name in SHORT)
LIVE = LiveConfig(max_attempts=10, lookup_attempts=12, settle_s=1.0, backoff_s=0.05, backoff_cap_s=0.4)


@dataclass
class World:
    """The module's simulator, gateway, app and vault."""

    env: Env
    app: App
    vault: VaultSession
    rounds: int = 0
    paused_sends: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=1730).start()
    gateway = BotGateway(sim.url, seed=1731)
    gateway.start()
    admin = SimAdmin(sim.url)
    try:
        for app in app_on(Path(tmp_path_factory.mktemp("botfaults")) / "twhome"):
            yield World(Env(sim, admin, gateway), app, VaultSession.open(app, Secret(PASSPHRASE)))
    finally:
        gateway.stop()
        sim.stop()


def _bot_figures(app: App, name: str) -> tuple[dict[str, Any] | None, int]:
    view = service.get(app, name)
    return view.pair_states.get(PAIR), len(service.orders(app, name, open_only=True))


async def _until(runner: BotRunner, world: World, names: list[str], cycle: int, step: int) -> bool:
    """Rounds until every named bot reached the cycle's step (bounded); whether they did."""
    for _ in range(ROUNDS_PER_PRICE):
        await runner.round()
        world.rounds += 1
        if all(reached(*_bot_figures(world.app, n), cycle, step) for n in names):
            return True
    return False


def _statuses(app: App, names: list[str]) -> dict[str, tuple[str, str]]:
    views = [service.get(app, n) for n in names]
    return {v.name: (v.status, v.status_reason or "") for v in views}


async def _run(world: World, case: BotScenario, conn: str, names: list[str]) -> dict[str, Any]:
    """Drive the bots through the scenario; what happened, for the assertions."""
    env, app = world.env, world.app
    gateway_url = env.gateway.url if case.venue == "binance" else env.sim.url
    hub = MarketHub(HubConfig(default_endpoint=gateway_url, ttl_s=NO_CACHE, error_ttl_s=0.0))
    monitor = HealthMonitor(app, Secret(PASSPHRASE), timeout_ms=5_000)
    out: dict[str, Any] = {"stuck": [], "during": None, "paused": {}, "after_status": None}
    runner: BotRunner | None = None
    try:
        client = await world.vault.private_client(hub, conn)
        client.timeout = CLIENT_TIMEOUT_MS  # the live executor uses this very client
        runner = BotRunner(app, hub, world.vault, RunnerConfig(live=LIVE))
        scenario = case.base
        for cycle in range(CYCLES):
            for step, price in enumerate(CYCLE):
                env.admin.call(
                    "POST", "/_sim/market", {"venue": case.venue, "symbol": PAIR, "price": float(price)}
                )
                if scenario.timed and cycle == 0 and step == 1:
                    await _timed_fault(world, case, runner, monitor, conn, names, out)
                    if case.stops:
                        return out
                elif not scenario.timed and cycle == 0 and step == 0:
                    scenario.start(env)
                if not await _until(runner, world, names, cycle, step):
                    out["stuck"].append(f"cycle {cycle} price {price}: {_statuses(app, names)}")
        scenario.end(env)
        env.gateway.rate = 0.0
        for _ in range(3):  # whatever is in flight settles without the fault
            await runner.round()
        out["errors"] = dict(runner.config.errors)
        out["loaded"] = sorted(item.driver.name for item in runner.loaded.values())
        [report] = await monitor.run_once([conn])
        out["after_status"] = report.status
        return out
    finally:
        case.base.end(env)
        env.gateway.rate = 0.0
        if runner is not None:  # as `run()` does on its way out: the next scenario's runner takes all
            await asyncio.to_thread(leases.release, app.store, runner.owner)
        await hub.close()


async def _timed_fault(
    world: World,
    case: BotScenario,
    runner: BotRunner,
    monitor: HealthMonitor,
    conn: str,
    names: list[str],
    out: dict[str, Any],
) -> None:
    """The fault starts with a group open and an add-on's price pinned: the re-test names it, the bots
    pause (or stop), nothing is sent for WINDOW_S, then the fault ends and the re-test says Online."""
    env, app = world.env, world.app
    case.base.start(env)
    [report] = await monitor.run_once([conn])
    out["during"] = report.status
    await runner.round()
    out["paused"] = _statuses(app, names)
    sent_before = len(sim_orders(env.admin, case.venue, env.api_key))
    end = time.monotonic() + WINDOW_S
    while time.monotonic() < end:
        await runner.round()
        await asyncio.sleep(0.2)
    out["sent_while_paused"] = len(sim_orders(env.admin, case.venue, env.api_key)) - sent_before
    out["addons_while_paused"] = [int((_bot_figures(app, n)[0] or {}).get("addons_total", 0)) for n in names]
    case.base.end(env)
    [report] = await monitor.run_once([conn])
    out["after_status"] = report.status
    await runner.round()
    out["resumed"] = _statuses(app, names)


def _tested(app: App, connection_id: str) -> list[str]:
    with app.store.session() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.connection_id == connection_id, AuditEvent.kind == "connection.tested")
            .order_by(AuditEvent.id)
        )
        return [json.loads(e.detail_json)["status"] for e in rows]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bots_under_fault(case: BotScenario, world: World, reliability: Counters) -> None:
    env, app = world.env, world.app
    index = BOT_SCENARIOS.index(case)
    conn, paper, live = f"Bot Fault {index:02d}", f"bf{index:02d}-paper", f"bf{index:02d}-live"
    env.admin.call("POST", "/_sim/market", {"venue": case.venue, "symbol": PAIR, "price": float(BASE)})
    key = sim_key(env.admin, case.venue)
    env.api_key = key["apiKey"]
    endpoint = env.gateway.url if case.venue == "binance" else env.sim.url
    connection_id = add_online(app, conn, case.venue, key, endpoint)
    modes: tuple[tuple[str, Literal["paper", "live"]], ...] = ((paper, "paper"), (live, "live"))
    for name, mode in modes:
        service.create(app, service.BotSpec(name, conn, "dca", (PAIR,), mode, settings=DCA_SETTINGS))
        service.start(app, name)
    started, gated = now_ms(), env.gateway.served
    env.gateway.order_log.clear()
    try:
        got = asyncio.run(_run(world, case, conn, [paper, live]))
    finally:
        for name in (paper, live):  # the next scenario's runner must not drive these
            if service.get(app, name).status in ("running", "paused"):
                service.stop(app, name)

    log = requests_since(env.admin, case.venue, started)
    faulted = sum(1 for r in log if r.get("fault") or int(r["status"]) >= 400)
    faulted += env.gateway.served - gated
    held = sim_orders(env.admin, case.venue, key["apiKey"])
    agreement = compare(app.store, connection_id, held)
    row = count_bot_row(reliability, CATEGORY, case.name, app, agreement, (paper, live), faulted)
    orders, tags, paper_unfinished = row.orders, row.tags, row.paper_unfinished
    tested = _tested(app, connection_id)
    with app.store.session() as session:
        stored_status = session.get(Connection, connection_id).status  # type: ignore[union-attr]
    history = {
        n: [(e["kind"], e["reason"]) for e in reversed(service.history(app, n))] for n in (paper, live)
    }

    print(
        f"\n[bots: {case.name}] {world.rounds} rounds so far; live orders "
        f"{Counter(o.status for o in orders[live])}, paper "
        f"{Counter(o.status for o in orders[paper])}; "
        f"{faulted} requests faulted; venue "
        f"{agreement.venue_orders} orders / {agreement.fills} fills; runner errors {got.get('errors')}, "
        f"loaded {got.get('loaded')}; "
        f"status mid-fault {got['during']} -> bots {got['paused']}, after {got['after_status']} -> "
        f"{got.get('resumed')}; sent while paused {got.get('sent_while_paused')}; order requests within "
        f"Retry-After (1 s) of a 429/418: {env.gateway.within_retry_after()}"
    )
    assert agreement.problems == [], agreement.problems
    assert [t for t, n in tags.items() if n > 1] == []
    assert got["stuck"] == [], f"{got['stuck']}\n{history}\n{service.get(app, paper)}"
    assert paper_unfinished == []
    assert faulted > 0, "the fault never hit a request"
    scenario = case.base
    if scenario.timed:
        assert got["during"] == scenario.during and scenario.during in tested, (got["during"], tested)
        want = "stopped" if case.stops else "paused"
        for name in (paper, live):
            status, reason = got["paused"][name]
            assert status == want and conn in reason and scenario.during in reason, (name, got["paused"])
            assert (want, reason) in history[name] or history[name][-1][0] == want, history[name]
        assert got["sent_while_paused"] == 0
        assert got["addons_while_paused"] == [0, 0]
        if not case.stops:
            assert all(s == "running" for s, _r in got["resumed"].values()), got["resumed"]
            assert all("resumed" in [k for k, _r in history[n]] for n in (paper, live)), history
    expected_after = "invalid_key" if scenario.after == "invalid_key" else "online"
    assert got["after_status"] == expected_after == stored_status == tested[-1], (got, stored_status, tested)
    if not case.stops:  # the whole cycle ran: fills on both bots, the live ones on the venue
        for name in (paper, live):
            figures = service.get(app, name).pair_states[PAIR]
            assert int(figures["trades"]) >= CYCLES and int(figures["addons_total"]) >= 2 * CYCLES, figures
        assert agreement.fills >= 4 * CYCLES
