"""Issue 17, crash consistency: SIGKILL a trading process at random moments of a busy run of manual
live orders; after each restart, the product's reconciliation makes the store and the simulator agree.

The child (crash_child.py) trades through services.trading (the code `trade buy` and the API's order
route run), three orders at a time, while the simulator holds every request LATENCY_MS, so a kill often
falls between an order reaching the venue and the store hearing of it. After the kill: the restart opens
the same store, first refreshes the open orders as `trade orders` does, then runs the product's manual
reconciliation (services/reconcile.py: what `serve` runs at start and `trade reconcile` by hand), and
the store must match GET /_sim/orders order by order and fill by fill, with no half-written row. Runs
on SQLite and, when it answers on 127.0.0.1:5432, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.integration.simtools import SimAdmin
from tests.pg import pg_available, pg_schema_url
from tests.reliability.agreement import compare
from tests.reliability.counters import Counters
from tests.reliability.crash_child import PAIR, run_child
from tests.reliability.env import add_online, sim_key, sim_orders
from tests.reliability.integrity import half_written
from tests.reliability.settings import scaled
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services import reconcile, trading
from tradewarden.services.app import App, open_app
from tradewarden.services.vault_access import init_vault
from tradewarden.services.vault_session import VaultSession
from tradewarden.sim import ThreadedSim

VENUE = "binance"
PRICE = Decimal(50000)
LATENCY_MS = 150
SETTLED_S = LATENCY_MS / 1000 + 0.2  # the pause after each kill: every request sent has been answered
ROUNDS = {"sqlite": scaled(3, 24), "postgresql": scaled(2, 8)}  # long: 32 kills in all


@pytest.fixture(scope="module")
def crash_sim() -> Iterator[ThreadedSim]:
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=1718).start()
    SimAdmin(sim.url).call("POST", "/_sim/market", {"venue": VENUE, "symbol": PAIR, "price": float(PRICE)})
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(backend, database URL: None for the home's SQLite file)."""
    if request.param == "sqlite":
        yield "sqlite", None
        return
    if not pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432: the crash test ran on SQLite only")
    with pg_schema_url() as url:
        yield "postgresql", url


async def _restart(app: App, vault: VaultSession, name: str) -> tuple[int, dict[str, int]]:
    """The restart: refresh as `trade orders` does, then the product's reconciliation of the manual
    orders; (rows the refresh left unresolved, what reconciliation changed)."""
    async with trading.trader(app, vault, name) as trader:
        views = await trader.orders(open_only=True)
        stuck = sum(1 for view, mode in views if mode == "live" and view.status in ("pending", "unknown"))
    # What `serve` runs at start: every connection whose manual live orders need it (chosen from the
    # store on this backend). The venue has finished what the dead process sent (the test waited for
    # it): no receive window to sit out (test_crash_serve.py runs the server's own, with the default).
    results = await reconcile.reconcile_all(app, vault, settle_s=SETTLED_S)
    if name not in results:  # nothing left unfinished: the agreement check says whether that is true
        return stuck, {}
    result = results[name]
    assert result is not None and result.unreachable == 0, result
    return stuck, result.to_json()


@pytest.mark.timeout(1500)
def test_sigkill_mid_trading_then_reconcile(
    crash_sim: ThreadedSim, database: tuple[str, str | None], tmp_path: Path, reliability: Counters
) -> None:
    backend, url = database
    category = f"crash: SIGKILL mid-order ({backend})"
    admin = SimAdmin(crash_sim.url)
    home = tmp_path / "twhome"
    settings = Settings(home=home, database_url=url, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings, actor="test:crash")
    assert init_vault(app, Secret(PASSPHRASE))
    vault = VaultSession.open(app, Secret(PASSPHRASE))
    key = sim_key(admin, VENUE)
    connection_id = add_online(app, "Crash Main", VENUE, key, crash_sim.url)
    config = {"home": str(home), "db": url, "name": "Crash Main", "price": str(PRICE)}
    rng = random.Random(1717)
    fork = multiprocessing.get_context("fork")
    stuck_after_refresh, resolved, kills = 0, {"never_placed": 0, "updated": 0, "added": 0, "fills": 0}, 0
    try:
        for _round in range(ROUNDS[backend]):
            admin.fault(VENUE, "latency", rate=1.0, ms=LATENCY_MS)
            app.store.dispose()  # no pooled connection crosses the fork
            parent_end, child_end = fork.Pipe(duplex=False)
            proc = fork.Process(target=run_child, args=(config, child_end), daemon=True)
            proc.start()
            try:
                assert parent_end.poll(60), "the trading process did not get ready within 60 s"
                assert parent_end.recv() == "ready"
                time.sleep(rng.uniform(0.1, 2.0))  # a random moment of the run
                assert proc.pid is not None
                os.kill(proc.pid, signal.SIGKILL)
            finally:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
                    proc.join(10)
            assert proc.exitcode == -signal.SIGKILL
            kills += 1
            admin.clear_faults()
            time.sleep(SETTLED_S)  # the venue finishes what the dead process had sent
            stuck, counts = asyncio.run(_restart(app, vault, "Crash Main"))
            stuck_after_refresh += stuck
            for name in resolved:
                resolved[name] += counts.get(name, 0)
            agreement = compare(app.store, connection_id, sim_orders(admin, VENUE, key["apiKey"]))
            broken = half_written(app.store)
            lost = agreement.lost + agreement.missing_fills + agreement.unresolved + agreement.phantom
            reliability.count(category, "kills")
            reliability.count(category, "duplicates", sum(n - 1 for n in agreement.duplicates.values()),
                              why=str(agreement.duplicates))  # fmt: skip
            reliability.count(category, "orders_lost", len(lost), why=str(lost[:3]))
            reliability.count(category, "half_written", len(broken), why=str(broken[:3]))
            assert agreement.problems == [], agreement.problems
            assert broken == [], broken
    finally:
        admin.clear_faults()
        app.close()
    reliability.count(category, "cases", agreement.orders)
    print(
        f"\n[crash {backend}] {kills} kills, {agreement.orders} orders ({agreement.fills} fills) on the "
        f"venue and in the store; reconciliation {resolved}; live orders the `trade orders` refresh left "
        f"pending/unknown: {stuck_after_refresh}"
    )
    assert agreement.orders > 0
