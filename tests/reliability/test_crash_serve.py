"""Issue 17, crash consistency of the server: SIGKILL `tradewarden serve` (the real console process)
while API clients place manual live orders; after each kill `serve` is started again and the test waits
for the server's own startup reconciliation of the manual orders (its `order.reconciled` audit event,
read through the API) - it reconciles nothing itself - and then the store must match the simulator,
with no half-written row. The simulator holds each request LATENCY_MS so kills fall mid-order.

Without the startup job (background.reconcile_manual_orders) the wait for the event times out and
unresolved rows remain: the test fails.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import FAST_KDF_ENV, PASSPHRASE, SRC
from tests.integration.api.conftest import cli_process, free_port, make_app
from tests.integration.simtools import SimAdmin
from tests.reliability.agreement import Agreement, compare
from tests.reliability.counters import Counters
from tests.reliability.env import add_online, sim_key, sim_orders
from tests.reliability.integrity import half_written
from tests.reliability.settings import scaled
from tests.reliability.test_crash import crash_sim  # noqa: F401 - the simulator fixture
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import open_app
from tradewarden.sim import ThreadedSim

CATEGORY = "crash: SIGKILL tradewarden serve"
VENUE = "binance"
ROUNDS = scaled(1, 10)
LATENCY_MS = 150
WORKERS = 3
RECONCILED_WITHIN_S = 90.0  # start + the receive window (11 s on Binance) + the lookups, with room


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


def reconciled_after(base: str, token: str, after_id: int, timeout_s: float) -> dict[str, Any]:
    """The server's first `order.reconciled` event on Serve Main newer than `after_id` (AssertionError
    when none comes within `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base, trust_env=False, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip
        while time.monotonic() < deadline:
            page = client.get(
                "/api/v1/audit", params={"kind": "order.reconciled", "connection": "Serve Main"}
            )
            assert page.status_code == 200, page.text
            newer = [e for e in page.json()["items"] if e["id"] > after_id]
            if newer:
                event: dict[str, Any] = min(newer, key=lambda e: e["id"])
                return event
            time.sleep(0.25)
    raise AssertionError(f"no order.reconciled after event {after_id} within {timeout_s} s of the restart")


@pytest.mark.timeout(1200)
def test_sigkill_serve_mid_orders_then_startup_reconciles(
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
    last_event, reconciled_orders = 0, 0
    for round_ in range(ROUNDS + 1):  # the last start only reconciles the last kill
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        args = ["serve", "--port", str(port), "--monitor-interval", "3600"]
        with cli_process(args, _env(home), tmp_path, f"serve-{round_}") as server:
            server.wait_for_health(base, timeout_s=60)
            if round_:
                event = reconciled_after(base, token, last_event, RECONCILED_WITHIN_S)
                last_event = event["id"]
                assert event["actor"] == "startup" and event["detail"]["trigger"] == "startup", event
                assert event["detail"]["unreachable"] == 0, event
                reconciled_orders += event["detail"]["orders"]
                agreement = _check(home, connection_id, admin, key["apiKey"], reliability)
            if round_ == ROUNDS:
                assert server.stop() in (0, -signal.SIGTERM), server.describe()
                break
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
    server_errors = [s for s in statuses if s >= 500]
    reliability.count(CATEGORY, "cases", len(statuses))
    reliability.count(CATEGORY, "http_5xx", len(server_errors), why=str(server_errors[:5]))
    print(f"\n[serve kill] {ROUNDS} kills, {len(statuses)} API orders answered before the kills "
          f"({sorted(set(statuses))}); the restarted server reconciled {reconciled_orders} manual orders; "
          f"{agreement.orders} orders in the store and on the venue")  # fmt: skip
    assert agreement.orders > 0
    assert server_errors == []


def _check(home: Path, connection_id: str, admin: SimAdmin, api_key: str, reliability: Counters) -> Agreement:
    """The store (read beside the running server) against the venue, counted; the Agreement."""
    restarted = open_app(Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024))
    try:
        agreement = compare(restarted.store, connection_id, sim_orders(admin, VENUE, api_key))
        broken = half_written(restarted.store)
    finally:
        restarted.close()
    lost = agreement.lost + agreement.missing_fills + agreement.unresolved + agreement.phantom
    reliability.count(CATEGORY, "duplicates", sum(n - 1 for n in agreement.duplicates.values()))
    reliability.count(CATEGORY, "orders_lost", len(lost), why=str(lost[:3]))
    reliability.count(CATEGORY, "half_written", len(broken), why=str(broken[:3]))
    assert agreement.problems == [], agreement.problems
    assert broken == [], broken
    return agreement
