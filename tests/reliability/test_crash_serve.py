"""Issue 17, crash consistency of the server: SIGKILL `tradewarden serve` (the real console process)
while API clients place manual live orders; after each kill the store is opened again, reconciled
(LiveExecutor.reconcile through the Trader, as in test_crash.py) and must match the simulator, with no
half-written row. The simulator holds each request LATENCY_MS so kills fall mid-order.
"""

from __future__ import annotations

import asyncio
import random
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import FAST_KDF_ENV, PASSPHRASE, SRC
from tests.integration.api.conftest import cli_process, free_port, make_app
from tests.integration.simtools import SimAdmin
from tests.reliability.agreement import compare
from tests.reliability.counters import Counters
from tests.reliability.env import add_online, sim_key, sim_orders
from tests.reliability.integrity import half_written
from tests.reliability.settings import scaled
from tests.reliability.test_crash import _restart, crash_sim  # noqa: F401 - the simulator fixture
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import open_app
from tradewarden.services.vault_session import VaultSession
from tradewarden.sim import ThreadedSim

CATEGORY = "crash: SIGKILL tradewarden serve"
VENUE = "binance"
ROUNDS = scaled(1, 10)
LATENCY_MS = 150
WORKERS = 3


def _env(home: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWARDEN_")}
    env.update(TRADEWARDEN_HOME=str(home), TRADEWARDEN_PASSPHRASE=PASSPHRASE, PYTHONPATH=str(SRC),
               TRADEWARDEN_PUBLIC_IP_LOOKUP="off", **FAST_KDF_ENV)  # fmt: skip
    return env


def _trade(base: str, token: str, stop: threading.Event, placed: list[int]) -> None:
    """Place orders until the server dies or `stop` is set (connection errors end the loop)."""
    orders = [
        {"pair": "BTC/USDT", "side": "buy", "amount": "0.001"},
        {"pair": "BTC/USDT", "side": "buy", "amount": "0.001", "type": "limit", "price": "40000"},
    ]
    with httpx.Client(base_url=base, trust_env=False, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip
        i = 0
        while not stop.is_set():
            try:
                answer = client.post("/api/v1/connections/Serve Main/orders", json=orders[i % 2])
            except httpx.HTTPError:
                return
            placed.append(answer.status_code)
            i += 1


@pytest.mark.timeout(1200)
def test_sigkill_serve_mid_orders_then_reconcile(
    crash_sim: ThreadedSim,  # noqa: F811
    tmp_path: Path,
    reliability: Counters,
) -> None:
    admin = SimAdmin(crash_sim.url)
    home = tmp_path / "twhome"
    app = make_app(home)
    key = sim_key(admin, VENUE)
    connection_id = add_online(app, "Serve Main", VENUE, key, crash_sim.url)
    token = tokens.create_token(app, "crash-trade", "trade")[1].reveal()
    app.close()
    rng = random.Random(1722)
    statuses: list[int] = []
    for round_ in range(ROUNDS):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        args = ["serve", "--port", str(port), "--monitor-interval", "3600"]
        with cli_process(args, _env(home), tmp_path, f"serve-{round_}") as server:
            server.wait_for_health(base, timeout_s=60)
            admin.fault(VENUE, "latency", rate=1.0, ms=LATENCY_MS)
            stop = threading.Event()
            workers = [
                threading.Thread(target=_trade, args=(base, token, stop, statuses)) for _ in range(WORKERS)
            ]
            for worker in workers:
                worker.start()
            time.sleep(rng.uniform(0.3, 2.5))
            server.proc.send_signal(signal.SIGKILL)
            assert server.proc.wait(10) == -signal.SIGKILL
            stop.set()
            for worker in workers:
                worker.join(40)
        reliability.count(CATEGORY, "kills")
        admin.clear_faults()
        time.sleep(LATENCY_MS / 1000 + 0.2)
        restarted = open_app(
            Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
        )
        try:
            vault = VaultSession.open(restarted, Secret(PASSPHRASE))
            asyncio.run(_restart(restarted, vault, "Serve Main"))
            agreement = compare(restarted.store, connection_id, sim_orders(admin, VENUE, key["apiKey"]))
            broken = half_written(restarted.store)
        finally:
            restarted.close()
        lost = agreement.lost + agreement.missing_fills + agreement.unresolved + agreement.phantom
        reliability.count(CATEGORY, "duplicates", sum(n - 1 for n in agreement.duplicates.values()))
        reliability.count(CATEGORY, "orders_lost", len(lost), why=str(lost[:3]))
        reliability.count(CATEGORY, "half_written", len(broken), why=str(broken[:3]))
        assert agreement.problems == [], agreement.problems
        assert broken == [], broken
    server_errors = [s for s in statuses if s >= 500]
    reliability.count(CATEGORY, "cases", len(statuses))
    reliability.count(CATEGORY, "http_5xx", len(server_errors), why=str(server_errors[:5]))
    print(f"\n[serve kill] {ROUNDS} kills, {len(statuses)} API orders answered before the kills "
          f"({sorted(set(statuses))}); {agreement.orders} orders in the store and on the venue")  # fmt: skip
    assert agreement.orders > 0
    assert server_errors == []
