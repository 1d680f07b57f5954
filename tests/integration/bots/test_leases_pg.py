"""Issue 15, Done-when: bot runners share the bots through leases on PostgreSQL.

- `leases.claim` itself, two owners in threads on one database: a fair share each, rows another
  transaction has locked are skipped (SKIP LOCKED), an owner that stops renewing loses its bots when its
  leases expire, and `release` hands them over at once.
- Two `tradewarden runner --interval 0.2 --lease 3` processes share 200 paper bots; one is killed with
  SIGKILL and its bots pass to the other; every step and order of every bot is logged with the runner that
  made it (driver.py, DEBUG), and no bot ever has two runners interleaved, nor an order made twice.

Skipped only when no PostgreSQL answers at 127.0.0.1:5432 (tests/pg.py), like the store tests.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.conftest import Cli
from tests.integration.bots.conftest import DCA_SETTINGS
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import add_connection, pin_price
from tests.pg import pg_available, pg_schema_url
from tradewarden.adapters.store.models import BotRow, BotRunnerRow, FillRow, OrderRow, utcnow
from tradewarden.config import Settings
from tradewarden.services.app import App, open_app
from tradewarden.services.bots import leases, service
from tradewarden.sim import ThreadedSim

pytestmark = pytest.mark.skipif(
    not pg_available(), reason="no PostgreSQL at 127.0.0.1:5432 (tests/pg.py): the lease tests need one"
)

BOTS = int(os.environ.get("TW_LEASE_BOTS", "200"))
LEASE_S = 3.0
INTERVAL_S = 0.2
BASE = Decimal(50000)
STEP = re.compile(r"(step|order) bot=(\w+) owner=(\S+) (?:tag=(\S+) )?t=([\d.]+)")


@dataclass
class PgWorld:
    """A home on a fresh PostgreSQL schema: the CLI bound to it and the app over it."""

    cli: Cli
    url: str
    app: App


@pytest.fixture
def pg_world(cli: Cli, home: Path) -> Iterator[PgWorld]:
    """An initialised home whose store is a fresh PostgreSQL schema."""
    with pg_schema_url() as url:
        made = cli("init", env={"TRADEWARDEN_DATABASE_URL": url})
        assert made.code == 0, made.stderr
        app = open_app(Settings(home=home, database_url=url))
        try:
            yield PgWorld(cli, url, app)
        finally:
            app.close()


def make_bots(world: PgWorld, sim: ThreadedSim, admin: SimAdmin, count: int) -> list[str]:
    """An online mexc connection (added by the CLI on this database) and `count` running paper DCA bots."""
    saved = world.cli.env
    world.cli.env = {**saved, "TRADEWARDEN_DATABASE_URL": world.url}
    try:
        add_connection(world.cli, sim, admin, "m", "mexc")  # added and tested: online
    finally:
        world.cli.env = saved
    ids = []
    for i in range(count):
        spec = service.BotSpec(
            name=f"b{i:03d}", connection="m", strategy="dca", pairs=("BTC/USDT",), settings=DCA_SETTINGS
        )
        ids.append(service.create(world.app, spec).id)
        service.start(world.app, f"b{i:03d}")
    return ids


def holders(app: App) -> Counter[str | None]:
    """How many active bots each lease owner holds (None: nobody)."""
    with app.store.session() as session:
        rows = session.execute(
            select(BotRow.lease_owner, func.count())
            .where(BotRow.status.in_(leases.ACTIVE))
            .group_by(BotRow.lease_owner)
        ).all()
        return Counter({owner: int(n) for owner, n in rows})


# ---- leases.claim on PostgreSQL ----------------------------------------------------------------------


def test_claim_fair_share_expiry_and_release(
    pg_world: PgWorld, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    """Fair shares, no row held twice when two owners claim at once, expiry handover, release."""
    pin_price(sim_admin, "mexc", "BTC/USDT", BASE)
    make_bots(pg_world, threaded_sim, sim_admin, 10)
    store = pg_world.app.store
    assert len(leases.claim(store, "a", 30)) == 10  # alone: everything
    assert leases.claim(store, "b", 30) == []  # all held by a, unexpired
    a = leases.claim(store, "a", 30)  # two alive now: a gives back down to its share
    b = leases.claim(store, "b", 30)
    assert len(a) == len(b) == 5 and not set(a) & set(b)
    assert holders(pg_world.app) == Counter({"a": 5, "b": 5})

    # two owners claiming at once, many times: never a bot with two holders, all of them held
    for owner in ("a", "b"):
        leases.release(store, owner)
    results: dict[str, list[list[str]]] = {"a": [], "b": []}

    def claimer(owner: str) -> None:
        for _ in range(20):
            results[owner].append(leases.claim(store, owner, 30))

    threads = [threading.Thread(target=claimer, args=(o,)) for o in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert holders(pg_world.app) == Counter({"a": 5, "b": 5})
    final_a, final_b = results["a"][-1], results["b"][-1]
    assert len(final_a) == len(final_b) == 5 and not set(final_a) & set(final_b)

    # SKIP LOCKED: rows another transaction has locked are passed over at once, not waited for
    leases.release(store, "b")
    with store.engine.connect() as other:
        trans = other.begin()
        locked = (
            other.execute(
                select(BotRow.id)
                .where(BotRow.lease_owner.is_(None))
                .order_by(BotRow.id)
                .limit(3)
                .with_for_update()
            )
            .scalars()
            .all()
        )
        assert len(locked) == 3
        got: list[str] = []
        claim = threading.Thread(target=lambda: got.extend(leases.claim(store, "b", 30)))
        claim.start()
        claim.join(20)
        stuck = claim.is_alive()
        trans.rollback()
        claim.join(20)
    assert not stuck, "claim waited for a locked row instead of skipping it"
    assert len(got) == 2 and not set(got) & set(locked), (got, locked)

    # expiry: an owner that stops renewing loses its bots to one that claims after its leases ran out
    leases.release(store, "a")
    leases.release(store, "b")
    assert len(leases.claim(store, "a", 30)) == 10
    with store.session() as session:  # a's leases and presence ran out (as if a died 31 s ago)
        past = utcnow() - timedelta(seconds=1)
        session.execute(update(BotRow).where(BotRow.lease_owner == "a").values(lease_until=past))
        session.execute(update(BotRunnerRow).where(BotRunnerRow.owner == "a").values(seen_until=past))
    assert len(leases.claim(store, "b", 30)) == 10
    assert holders(pg_world.app) == Counter({"b": 10})
    assert leases.claim(store, "a", 30) == []  # back again: b's leases are live, nothing is free yet

    # release: given back, another takes them at once
    leases.release(store, "b")
    assert holders(pg_world.app) == Counter({None: 10})
    assert len(leases.claim(store, "a", 30)) == 10


# ---- two runner processes ----------------------------------------------------------------------------

RUNNER = (
    "import logging, sys\n"
    "from tradewarden.cli.main import run\n"
    "logging.getLogger('tradewarden.services.bots.driver').setLevel(logging.DEBUG)\n"
    "sys.exit(run(sys.argv[1:]))\n"
)


def start_runner(world: PgWorld, home: Path) -> subprocess.Popen[bytes]:
    """`tradewarden runner` in a process of its own on the world's database, logging to `home`."""
    home.mkdir(mode=0o700)
    env = {**world.cli.env, "TRADEWARDEN_DATABASE_URL": world.url, "TRADEWARDEN_HOME": str(home)}
    args = ["runner", "--interval", str(INTERVAL_S), "--lease", str(LEASE_S)]
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(what: str, check: object, timeout_s: float) -> float:
    """Poll `check()` until true; the seconds it took (fails after `timeout_s`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def read_log(home: Path) -> list[tuple[str, str, str, str | None, float]]:
    """(kind, bot, owner, tag, t) of every step and order line a runner logged."""
    text = (home / "tradewarden.log").read_text(encoding="utf-8", errors="replace")
    return [(m[1], m[2], m[3], m[4], float(m[5])) for m in STEP.finditer(text)]


@pytest.mark.timeout(600)
def test_two_runners_share_200_bots_and_one_dies(
    pg_world: PgWorld, threaded_sim: ThreadedSim, sim_admin: SimAdmin, tmp_path: Path
) -> None:
    """Both runners hold bots; SIGKILL one; the other holds all within the lease; no bot driven twice."""
    pin_price(sim_admin, "mexc", "BTC/USDT", BASE)
    ids = make_bots(pg_world, threaded_sim, sim_admin, BOTS)
    app = pg_world.app
    a = start_runner(pg_world, tmp_path / "ra")
    b: subprocess.Popen[bytes] | None = None
    try:
        wait_for("runner a holds every bot", lambda: holders(app).get(None, 0) == 0, 120)
        [owner_a] = holders(app)
        b = start_runner(pg_world, tmp_path / "rb")
        wait_for("both runners hold bots", lambda: len([o for o in holders(app) if o]) == 2, 120)
        wait_for("every bot entered", lambda: count_orders(app) >= BOTS, 180)
        split = holders(app)
        [owner_b] = set(split) - {owner_a}
        assert set(split) == {owner_a, owner_b} and min(split.values()) >= BOTS // 4, split
        a.send_signal(signal.SIGKILL)
        a.wait(30)
        killed_at = time.time()
        moved_s = wait_for("runner b holds every bot", lambda: holders(app) == Counter({owner_b: BOTS}), 120)
        # the survivor trades every bot: an add-on's price, then take profit
        pin_price(sim_admin, "mexc", "BTC/USDT", BASE * Decimal("0.978"))
        wait_for("every bot added on", lambda: count_orders(app) >= 2 * BOTS, 180)
        pin_price(sim_admin, "mexc", "BTC/USDT", BASE * Decimal("1.01"))
        # take profit, and at once the next group's entry (the DCA enters again at the price of the exit)
        wait_for("every bot took profit and entered again", lambda: count_orders(app) >= 4 * BOTS, 180)
        time.sleep(4 * INTERVAL_S)
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
    events = read_log(tmp_path / "ra") + read_log(tmp_path / "rb")
    print(
        f"\n[leases] {BOTS} bots; split before the kill {dict(split)}; all held by the survivor "
        f"{moved_s:.1f} s after SIGKILL (lease {LEASE_S} s, rounds every {INTERVAL_S} s); "
        f"{len(events)} logged steps and orders"
    )
    assert a.returncode == -signal.SIGKILL
    # every bot: one runner at a time (an owner's steps never interleave with another's), nothing of the
    # killed runner after its death
    by_bot: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for _kind, bot, owner, _tag, t in events:
        by_bot[bot].append((t, owner))
    assert set(by_bot) == set(ids)
    moved = 0
    for bot, seen in by_bot.items():
        runs = [
            owner for i, (_t, owner) in enumerate(sorted(seen)) if i == 0 or owner != sorted(seen)[i - 1][1]
        ]
        assert len(runs) == len(set(runs)), (bot, runs)  # no owner comes back after another drove it
        assert all(t < killed_at for t, owner in seen if owner == owner_a), bot
        moved += runs[0] == owner_a and runs[-1] == owner_b
    assert moved >= BOTS // 4, moved  # the killed runner's bots really moved
    # the store: each order once, per bot base + add-on + take profit, each filled once
    with app.store.session() as session:
        rows = session.execute(select(OrderRow.bot, OrderRow.tag, OrderRow.status)).all()
        fills = Counter(session.execute(select(FillRow.order_id)).scalars().all())
        orders = session.execute(select(OrderRow.id)).scalars().all()
    tags = Counter((bot, tag) for bot, tag, _status in rows)
    assert max(tags.values()) == 1
    roles: dict[str, list[str]] = defaultdict(list)
    for order_bot, tag, _status in sorted(rows, key=lambda r: int(str(r[1]).rsplit("-", 1)[1])):
        roles[str(order_bot)].append(str(tag).split("|")[1].rsplit("-", 1)[0])
    expected = ["dca-g1-base", "dca-g1-addon1", "dca-g1-close", "dca-g2-base"]
    # A few bots may run further cycles at the last price (a ticker cached for a second from before the
    # jump can still start a group that the next fresh read takes profit on); each cycle is checked below.
    assert len(roles) == BOTS and all(r[:4] == expected for r in roles.values()), Counter(
        map(tuple, roles.values())
    )
    extra = {bot for bot, r in roles.items() if len(r) > 4}
    if extra:
        with app.store.session() as session:
            prices = session.execute(
                select(OrderRow.bot, OrderRow.tag, FillRow.price)
                .join(FillRow, FillRow.order_id == OrderRow.id)
                .where(OrderRow.bot.in_(extra))
            ).all()
        print(f"[leases] {len(extra)} bots ran further cycles; their fills: {sorted(map(tuple, prices))}")
    assert {status for _b, _t, status in rows} == {"closed"}
    assert all(fills[o] >= 1 for o in orders)
    order_lines = Counter((bot, tag) for kind, bot, _owner, tag, _t in events if kind == "order")
    assert max(order_lines.values()) == 1, [k for k, n in order_lines.items() if n > 1][:5]
    for bot_id in ids:
        view = service.get(app, f"b{ids.index(bot_id):03d}")
        # the take profit gained: the hub serves no book older than the ticker the bot decided on (a book
        # cached from before the price jump once filled it at the old price, a loss)
        assert view.status == "running" and view.realized_pnl > 0, view


def count_orders(app: App) -> int:
    """Bot orders in the store."""
    with app.store.session() as session:
        return int(session.scalar(select(func.count()).select_from(OrderRow)) or 0)
