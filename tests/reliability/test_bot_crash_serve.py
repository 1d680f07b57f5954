"""Issue 17, crash consistency with bots: SIGKILL `tradewarden serve` (the real console process, its
BotRunner stepping every 0.2 s) while paper and live bots trade, at random moments of a busy run.

Bots: a DCA and a grid bot in each mode on the simulator's Binance (BTC and ETH), tight settings, and the
test walks the prices (admin pins every 0.2 s) so groups open, add on and close, and grids refill,
within seconds. After each kill the data dir is checked for half-written rows, the dead process's
leases are expired in the store (what its lease time would do: `tradewarden serve` has no lease option,
and the handover itself is the lease tests' subject), and the server starts again: its runner loads
the bots, reconciling live ones with the exchange first. After the last run (ended with SIGTERM):
- the store and the simulator agree order by order and fill by fill (agreement.py), no client id twice
  on the venue, no strategy tag twice per bot;
- no group lost: each DCA bot's groups in its saved state equal its filled base orders, no add-on level
  filled twice, and every order the store holds open is one the bot's state still watches.

The clock stays real: live orders are signed with the wall clock and the venues refuse timestamps out of
their window, so the simulator's virtual clock cannot drive a live bot (test_restart_kill.py says the
same); the test moves prices instead. `tradewarden runner` under SIGKILL is test_restart_kill.py's.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from tests.conftest import FAST_KDF_ENV, PASSPHRASE, SRC
from tests.integration.api.conftest import cli_process, free_port, make_app
from tests.integration.bots.test_restart_kill import TAG, TIGHT_DCA, grid_around
from tests.integration.simtools import SimAdmin
from tests.reliability.agreement import compare
from tests.reliability.counters import Counters
from tests.reliability.env import add_online, sim_key, sim_orders
from tests.reliability.integrity import half_written
from tests.reliability.settings import scaled
from tradewarden.adapters.store.models import BotRow, BotRunnerRow, OrderRow, utcnow
from tradewarden.services.app import App
from tradewarden.services.bots import service
from tradewarden.sim import ThreadedSim

CATEGORY = "crash: SIGKILL serve with bots"
KILLS = scaled(1, 10)
VENUE = "binance"
START = {"BTC": Decimal(60000), "ETH": Decimal(3000)}
TICK = Decimal("0.01")
BOTS: dict[str, tuple[str, str, str]] = {  # name: (strategy, pair, mode)
    "p-dca-btc": ("dca", "BTC/USDT", "paper"),
    "p-grid-eth": ("grid", "ETH/USDT", "paper"),
    "l-dca-btc": ("dca", "BTC/USDT", "live"),
    "l-grid-eth": ("grid", "ETH/USDT", "live"),
}


class Walk:
    """Random-walk price pins within ±2.5 % of the start (a 1 % dip now and then)."""

    def __init__(self, admin: SimAdmin, seed: int) -> None:
        self.admin = admin
        self.rng = random.Random(seed)
        self.prices = dict(START)

    def step(self) -> None:
        """Move one asset a little and pin it."""
        asset = self.rng.choice(sorted(self.prices))
        move = (
            Decimal("-0.01") if self.rng.random() < 0.1 else Decimal(str(self.rng.uniform(-0.0045, 0.0045)))
        )
        low, high = START[asset] * Decimal("0.975"), START[asset] * Decimal("1.025")
        self.prices[asset] = min(max(self.prices[asset] * (1 + move), low), high).quantize(TICK)
        body = {"venue": VENUE, "symbol": f"{asset}/USDT", "price": float(self.prices[asset])}
        self.admin.call("POST", "/_sim/market", body)

    def for_seconds(self, seconds: float) -> None:
        """Keep walking for `seconds` (a pin every 0.2 s)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.step()
            time.sleep(0.2)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWARDEN_")}
    env.update(TRADEWARDEN_HOME=str(home), TRADEWARDEN_PASSPHRASE=PASSPHRASE, PYTHONPATH=str(SRC),
               TRADEWARDEN_PUBLIC_IP_LOOKUP="off", **FAST_KDF_ENV)  # fmt: skip
    env["TRADEWARDEN_BOT_INTERVAL_S"] = "0.2"  # the server's runner steps five times a second
    return env


def _steps(app: App) -> int:
    with app.store.session() as session:
        return int(session.scalar(select(func.coalesce(func.sum(BotRow.steps), 0))) or 0)


def _expire_leases(app: App) -> None:
    """What the dead process's lease time would do: its leases and its presence lapse now."""
    past = utcnow() - timedelta(seconds=1)
    with app.store.session() as session:
        session.execute(update(BotRow).where(BotRow.lease_owner.is_not(None)).values(lease_until=past))
        session.execute(delete(BotRunnerRow))


@pytest.fixture
def bot_sim() -> Iterator[ThreadedSim]:
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=1740).start()
    admin = SimAdmin(sim.url)
    for asset, price in START.items():
        admin.call("POST", "/_sim/market", {"venue": VENUE, "symbol": f"{asset}/USDT", "price": float(price)})
    try:
        yield sim
    finally:
        sim.stop()


def _make_bots(app: App) -> None:
    for name, (strategy, pair, mode) in BOTS.items():
        asset = pair.split("/")[0]
        settings = TIGHT_DCA if strategy == "dca" else grid_around(START[asset], TICK)
        spec = service.BotSpec(name, "Serve Bots", strategy, (pair,), mode, settings=settings)  # type: ignore[arg-type]
        service.create(app, spec)
        service.start(app, name)


def _group_problems(app: App) -> tuple[list[str], int, int]:
    """(what is wrong with tags, groups and watched orders; orders of the bots; DCA groups counted)."""
    problems: list[str] = []
    with app.store.session() as session:
        rows = {r.name: r for r in session.scalars(select(BotRow))}
        keys = {service.bot_key(r.id): r.name for r in rows.values()}
        orders = list(session.scalars(select(OrderRow).where(OrderRow.bot.in_(list(keys)))))
        states = {name: json.loads(r.state_json) for name, r in rows.items()}
        session.expunge_all()
    tags = Counter((o.bot, o.tag) for o in orders)
    problems += [f"tag twice: {k}" for k, n in tags.items() if n > 1]
    problems += [
        f"client id twice: {k}" for k, n in Counter(o.client_order_id for o in orders).items() if n > 1
    ]
    groups_total = 0
    for name, (strategy, pair, _mode) in BOTS.items():
        mine = [o for o in orders if keys.get(o.bot or "") == name]
        saved = states[name].get("pairs", {}).get(pair, {})
        open_tags = {o.tag for o in mine if o.status in ("open", "pending", "unknown")}
        if not open_tags <= set(saved.get("open", [])):
            problems.append(
                f"{name}: orders open that the state forgot {open_tags - set(saved.get('open', []))}"
            )
        if strategy != "dca":
            continue
        filled: Counter[tuple[str, str, str]] = Counter()
        for o in mine:
            found = TAG.match((o.tag or "").partition("|")[2])
            if found is None:
                problems.append(f"{name}: tag {o.tag!r}")
            elif o.filled > 0 and found.group(2) != "close":
                filled[(found.group(1), found.group(2), found.group(3))] += 1
        problems += [f"{name}: {k} filled twice" for k, n in filled.items() if n > 1]
        bases = sum(1 for k in filled if k[1] == "base")
        groups = int(states[name].get("figures", {}).get(pair, {}).get("groups", 0))
        groups_total += groups
        if groups != bases:
            problems.append(f"{name}: {groups} groups in the state, {bases} filled base orders (group lost)")
    return problems, len(orders), groups_total


@pytest.mark.timeout(1200)
def test_sigkill_serve_running_bots_then_reconcile(
    bot_sim: ThreadedSim, tmp_path: Path, reliability: Counters
) -> None:
    admin = SimAdmin(bot_sim.url)
    home = tmp_path / "twhome"
    app = make_app(home)
    key = sim_key(admin, VENUE)
    admin.call(
        "POST", "/_sim/balances", {"apiKey": key["apiKey"], "balances": {"USDT": "1000000", "ETH": "100"}}
    )
    connection_id = add_online(app, "Serve Bots", VENUE, key, bot_sim.url)
    _make_bots(app)
    walk = Walk(admin, seed=1741)
    rng = random.Random(1742)
    env = _env(home)
    steps, runs, logs = 0, 0, []
    try:
        for round_ in range(KILLS + 1):
            last = round_ == KILLS
            port = free_port()
            args = ["serve", "--port", str(port), "--monitor-interval", "3600"]
            with cli_process(args, env, tmp_path, f"serve-{round_}") as server:
                runs += 1
                server.wait_for_health(f"http://127.0.0.1:{port}", timeout_s=60)
                end = time.monotonic() + 90
                while _steps(app) <= steps and time.monotonic() < end:  # the restarted runner stepped
                    assert server.proc.poll() is None, server.describe()
                    walk.step()
                    time.sleep(0.2)
                assert _steps(app) > steps, f"no bot stepped within 90 s\n{server.describe()}"
                walk.for_seconds(5.0 if last else rng.uniform(0.5, 3.0))  # a random moment of the run
                steps = _steps(app)
                if last:
                    # uvicorn shuts down, then raises the captured SIGTERM again: -15 is a clean stop too
                    assert server.stop() in (0, -signal.SIGTERM), server.describe()
                else:
                    server.proc.send_signal(signal.SIGKILL)
                    assert server.proc.wait(10) == -signal.SIGKILL
                    reliability.count(CATEGORY, "kills")
                logs.append(server.stderr())
            broken = half_written(app.store, settled=False)
            reliability.count(CATEGORY, "half_written", len(broken), why=str(broken[:3]))
            assert broken == [], broken
            _expire_leases(app)
        agreement = compare(app.store, connection_id, sim_orders(admin, VENUE, key["apiKey"]))
        problems, orders, groups = _group_problems(app)
        statuses = {v.name: (v.status, v.status_reason) for v in service.list_bots(app)}
        broken = half_written(app.store)
    finally:
        app.close()
    lost = agreement.lost + agreement.missing_fills + agreement.unresolved + agreement.phantom
    reliability.count(CATEGORY, "cases", orders)
    reliability.count(CATEGORY, "duplicates", sum(n - 1 for n in agreement.duplicates.values()),
                      why=str(agreement.duplicates))  # fmt: skip
    reliability.count(CATEGORY, "duplicates", sum(1 for p in problems if "twice" in p), why=str(problems[:3]))
    reliability.count(CATEGORY, "orders_lost", len(lost) + sum(1 for p in problems if "twice" not in p),
                      why=str((lost + problems)[:3]))  # fmt: skip
    reliability.count(CATEGORY, "half_written", len(broken), why=str(broken[:3]))
    tracebacks = [log for log in logs if "Traceback" in log]
    print(
        f"\n[serve kill with bots] {KILLS} kills, {runs} runs, {steps} steps, {orders} bot orders "
        f"({agreement.venue_orders} live on the venue, {agreement.fills} fills), {groups} DCA groups; "
        f"bots {statuses}"
    )
    assert agreement.problems == [], agreement.problems
    assert problems == [], problems
    assert broken == []
    assert tracebacks == [], tracebacks[0][-3000:]
    assert all(s == "running" for s, _r in statuses.values()), statuses
    assert agreement.venue_orders > 0 and agreement.fills > 0 and groups > 0  # the run did trade, live too
