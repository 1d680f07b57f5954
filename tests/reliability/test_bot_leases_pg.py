"""Issue 17, crash consistency on PostgreSQL: two `tradewarden runner` processes share paper DCA bots
through leases; one of them is SIGKILLed at a random moment while prices move, its bots pass to the other
within the lease, and it is started again (a new process, a new owner), KILLS times, the victim
alternating. The reliability variant of tests/integration/bots/test_leases_pg.py (whose helpers it uses,
and whose 200-bot single-kill scenario runs in `make test` and `make reliability` as it is).

After the run: every step and order the runners logged (driver.py, DEBUG) shows one runner at a time per
bot and nothing from a killed process after its death; no strategy tag or client order id twice; each
bot's groups in its saved state equal its filled base orders (none lost); no half-written row.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.bots.test_leases_pg import (
    INTERVAL_S,
    PgWorld,
    count_orders,
    holders,
    make_bots,
    pg_world,  # noqa: F401 - the fixture
    read_log,
    start_runner,
    wait_for,
)
from tests.integration.bots.test_restart_kill import TAG
from tests.integration.conftest import sim_admin, threaded_sim  # noqa: F401 - the fixtures
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import pin_price
from tests.reliability.counters import Counters
from tests.reliability.integrity import half_written
from tests.reliability.settings import LONG, scaled
from tradewarden.adapters.store.models import BotRow, OrderRow
from tradewarden.services.bots import service
from tradewarden.sim import ThreadedSim

# The short configuration leaves this to tests/integration/bots/test_leases_pg.py (one kill, 200 bots),
# which `make test` runs in the same session and the table counts (conftest.py's BotTestsCounter).
pytestmark = pytest.mark.skipif(
    not LONG, reason="long configuration only (make reliability); make test runs test_leases_pg.py"
)
CATEGORY = "crash: SIGKILL one of two runners (postgresql)"
KILLS = scaled(1, 6)
BOTS = scaled(10, 40)
BASE = Decimal(50000)
PRICES = (BASE, BASE * Decimal("0.978"), BASE * Decimal("1.01"), BASE * Decimal("0.99"))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.mark.timeout(1200)
def test_runner_kills_on_postgresql(
    pg_world: PgWorld,  # noqa: F811
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
    tmp_path: Path,
    reliability: Counters,
) -> None:
    pin_price(sim_admin, "mexc", "BTC/USDT", BASE)
    make_bots(pg_world, threaded_sim, sim_admin, BOTS)
    app = pg_world.app
    rng = random.Random(1750)
    homes = [tmp_path / "r0", tmp_path / "r1"]
    procs = [start_runner(pg_world, homes[0]), start_runner(pg_world, homes[1])]
    killed: list[tuple[str, float]] = []  # (owner, when)
    started = 2
    try:
        wait_for("both runners hold bots", lambda: len([o for o in holders(app) if o]) == 2, 120)
        wait_for("every bot entered", lambda: count_orders(app) >= BOTS, 180)
        for kill in range(KILLS):
            victim = kill % 2
            before = set(holders(app)) - {None}
            pin_price(sim_admin, "mexc", "BTC/USDT", PRICES[(kill + 1) % len(PRICES)])
            time.sleep(rng.uniform(0.2, 2.0))  # a random moment of the survivors' and victim's rounds
            procs[victim].send_signal(signal.SIGKILL)
            assert procs[victim].wait(30) == -signal.SIGKILL
            when = time.time()
            reliability.count(CATEGORY, "kills")
            wait_for("the survivor holds every bot", lambda: len([o for o in holders(app) if o]) == 1, 60)
            [survivor] = [o for o in holders(app) if o]
            killed += [(str(o), when) for o in before - {survivor}]
            homes[victim] = tmp_path / f"r{started}"
            started += 1
            procs[victim] = start_runner(pg_world, homes[victim])
            wait_for("both runners hold bots again", lambda: len([o for o in holders(app) if o]) == 2, 120)
        pin_price(sim_admin, "mexc", "BTC/USDT", BASE * Decimal("1.02"))
        time.sleep(3.0)
    finally:
        for proc in procs:
            _stop(proc)
    events = [e for i in range(started) for e in read_log(tmp_path / f"r{i}")]
    problems: list[str] = []
    by_bot: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for _kind, bot, owner, _tag, t in events:
        by_bot[bot].append((t, owner))
    dead = dict(killed)
    returns = 0
    for bot, seen in by_bot.items():
        # segments of one owner's consecutive steps; an owner may get a bot back after a rebalance (a
        # runner joined or died), but two runners stepping one bot alternate within a round or two
        segments: list[tuple[str, float, float]] = []  # (owner, first step, last step)
        for t, owner in sorted(seen):
            if segments and segments[-1][0] == owner:
                segments[-1] = (owner, segments[-1][1], t)
            else:
                segments.append((owner, t, t))
        for first, _between, again in zip(segments, segments[1:], segments[2:], strict=False):
            if first[0] == again[0]:
                returns += 1
                if again[1] - first[2] < 2 * INTERVAL_S:
                    problems.append(f"bot {bot} driven by two runners at once: {segments}")
        problems += [
            f"bot {bot} stepped by {o} after its SIGKILL" for t, o in seen if o in dead and t > dead[o]
        ]
    with app.store.session() as session:
        orders = list(session.scalars(select(OrderRow)))
        states = {service.bot_key(r.id): json.loads(r.state_json) for r in session.scalars(select(BotRow))}
        session.expunge_all()
    tags = Counter((o.bot, o.tag) for o in orders)
    duplicates = [str(k) for k, n in tags.items() if n > 1]
    duplicates += [k for k, n in Counter(o.client_order_id for o in orders).items() if n > 1]
    for bot, state in states.items():
        mine = [o for o in orders if o.bot == bot]
        bases = {TAG.match((o.tag or "").partition("|")[2]).group(1) for o in mine  # type: ignore[union-attr]
                 if o.filled > 0 and "-base-" in (o.tag or "")}  # fmt: skip
        groups = int(state.get("figures", {}).get("BTC/USDT", {}).get("groups", 0))
        if groups != len(bases):
            problems.append(f"bot {bot}: {groups} groups in its state, {len(bases)} filled base orders")
    unfinished = [o.client_order_id for o in orders if o.status in ("pending", "unknown")]
    broken = half_written(app.store, settled=False)
    reliability.count(CATEGORY, "cases", len(orders))
    reliability.count(CATEGORY, "duplicates", len(duplicates), why=str(duplicates[:3]))
    reliability.count(
        CATEGORY, "orders_lost", len(problems) + len(unfinished), why=str((problems + unfinished)[:3])
    )
    reliability.count(CATEGORY, "half_written", len(broken), why=str(broken[:3]))
    print(
        f"\n[leases pg] {BOTS} bots, {KILLS} kills, {started} runner processes, {len(events)} logged steps "
        f"and orders, {len(orders)} orders ({Counter(o.status for o in orders)}); a bot back with a runner "
        f"that had given it up: {returns} times"
    )
    assert duplicates == [] and problems == [] and unfinished == [] and broken == []
    assert len(killed) == KILLS and len(by_bot) == BOTS
    assert sum(1 for o in orders if o.filled > 0) >= 2 * BOTS  # the bots traded across the kills
