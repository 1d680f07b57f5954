"""Issue 13, Done-when: SIGKILL the process between sending an order and storing the answer, at random
points; after each restart, reconciliation makes the store match the simulator.

A forked child process places orders (kill_child.py) while every venue request is held `LATENCY_MS` by the
simulator before it is served, so most of the child's life is spent with an order sent and its answer
not yet stored; it is killed with SIGKILL at a random moment. The venue still serves a request whose
client died, so the venue may hold an order the store knows only as `pending`. Then a fresh executor
(the restart) reconciles, and the store must agree with `GET /_sim/orders` order by order.
`TW_KILL_ROUNDS` raises the number of kills for the long reliability run (default 10).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.execution.conftest import ALL_PERMS, ROWS, live_client
from tests.integration.execution.kill_child import run_child
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.execution.live import LiveConfig, LiveExecutor
from tradewarden.adapters.store.db import Store, migrate
from tradewarden.sim import ThreadedSim

ROUNDS = int(os.environ.get("TW_KILL_ROUNDS", "10"))
LATENCY_MS = 150
STATUS = {"NEW": "open", "FILLED": "closed", "PARTIALLY_FILLED": "open", "CANCELED": "canceled"}


def compare(store_orders: list[Any], venue_orders: list[dict[str, Any]]) -> list[str]:
    """Differences between the store and the venue (empty when they match)."""
    problems: list[str] = []
    venue = {o["clientOrderId"]: o for o in venue_orders}
    stored = {o.client_order_id: o for o in store_orders}
    for cid, order in stored.items():
        if order.status in ("pending", "unknown"):
            problems.append(f"{cid} still {order.status}")
        elif order.status == "rejected":
            if cid in venue:
                problems.append(f"{cid} stored as never placed but the venue has it")
        elif cid not in venue:
            problems.append(f"{cid} stored {order.status} but the venue has no such order")
        else:
            v = venue[cid]
            if str(v["orderId"]) != order.exchange_order_id or Decimal(v["executedQty"]) != order.filled:
                problems.append(
                    f"{cid}: venue {v['orderId']}/{v['executedQty']}, "
                    f"store {order.exchange_order_id}/{order.filled}"
                )
            if STATUS[v["status"]] != order.status:
                problems.append(f"{cid}: venue {v['status']}, store {order.status}")
    problems += [f"{cid} on the venue, not in the store" for cid in venue if cid not in stored]
    return problems


async def reconcile_round(
    sim_url: str, store: Store, key: dict[str, Any]
) -> tuple[int, dict[str, int], list[Any]]:
    """The restart: a fresh client and executor reconcile; returns (pending rows seen, counts, orders)."""
    row = ROWS[0]
    client = live_client(sim_url, row, key)
    try:
        await client.load_markets()
        executor = LiveExecutor(store, "kill-conn", row.ccxt_id, client, LiveConfig(settle_s=0.05))
        pending = sum(1 for o in executor.ledger.orders() if o.status == "pending")
        counts = await executor.reconcile([row.symbol], bot="killed")
        return pending, counts, executor.ledger.orders()
    finally:
        await client.close()


async def low_price(sim_url: str, key: dict[str, Any]) -> str:
    """A price 10 % under the bid (orders there rest)."""
    row = ROWS[0]
    client = live_client(sim_url, row, key)
    try:
        await client.load_markets()
        book = await client.fetch_order_book(row.symbol)
        return str(client.price_to_precision(row.symbol, book["bids"][0][0] * 0.9))
    finally:
        await client.close()


@pytest.mark.timeout(300)
def test_sigkill_between_send_and_store_then_reconcile(
    exec_sim: ThreadedSim, sim_admin13: SimAdmin, tmp_path: Path
) -> None:
    """ROUNDS kills at random points; after each, reconciliation makes the store match the venue."""
    admin = sim_admin13
    key = admin.key(ROWS[0].venue, ALL_PERMS)
    db = f"sqlite:///{tmp_path / 'kill.db'}"
    store = Store(db)
    migrate(store.engine)
    rng = random.Random(1313)
    pending_seen = 0
    resolved: dict[str, int] = {}
    total = 0
    fork = multiprocessing.get_context("fork")
    config = {
        "row": ROWS[0].name,
        "db": db,
        "sim_url": exec_sim.url,
        "key": key,
        "connection": "kill-conn",
        "bot": "killed",
        "low": asyncio.run(low_price(exec_sim.url, key)),
    }
    try:
        for _round in range(ROUNDS):
            admin.fault("binance", "latency", rate=1.0, ms=LATENCY_MS)
            parent_end, child_end = fork.Pipe(duplex=False)
            store.dispose()  # no pooled SQLite connection crosses the fork
            proc = fork.Process(target=run_child, args=(config, child_end), daemon=True)
            proc.start()
            try:
                assert parent_end.poll(60), "the child did not get ready within 60 s"
                assert parent_end.recv() == "ready"
                time.sleep(rng.uniform(0.05, 1.2))  # a random point in the order loop
                assert proc.pid is not None
                os.kill(proc.pid, signal.SIGKILL)
            finally:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
                    proc.join(10)
            assert proc.exitcode == -signal.SIGKILL
            admin.clear_faults()
            time.sleep(LATENCY_MS / 1000 + 0.1)  # the venue finishes what the dead client had sent
            pending, counts, orders = asyncio.run(reconcile_round(exec_sim.url, store, key))
            pending_seen += pending
            for name, n in counts.items():
                resolved[name] = resolved.get(name, 0) + n
            venue = admin.call("GET", f"/_sim/orders?venue=binance&api_key={key['apiKey']}")
            problems = compare(orders, venue)
            assert problems == [], problems
            total = len(orders)
    finally:
        admin.clear_faults()
        store.dispose()
    print(
        f"\n[kill] {ROUNDS} kills, {total} orders; pending rows found after kills {pending_seen}; "
        f"reconcile {resolved}"
    )
    assert total > 0
    # at least one kill fell between the venue taking an order and the store hearing of it
    assert pending_seen > resolved.get("never_placed", 0)
