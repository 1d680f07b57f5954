"""Issue 15, Done-when: a live-mode DCA bot on the simulator runs entry, add-ons and take profit, cycle after
cycle, with about 20 % of the venue's requests faulted (5xx, timeouts, resets, unreadable bodies): the
venue holds each of the bot's client order ids once, as many orders as the store says were accepted, and
every fill the venue made is in the store.

The simulator's faults hit every request of the venue (it has no per-path targeting): order sends, order
lookups, the guard's book reads and the runner's price reads alike. A faulted send is answered before the
venue serves it, so the order does not exist: the live executor must look it up by its client id and send
it again under the same id. `TW_BOT_FAULT_CYCLES` sets how many entry/add-on/take-profit cycles run (the
long configuration); the default is short.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.integration.bots.conftest import NO_CACHE, BotWorld
from tests.integration.trading.conftest import sim_orders
from tradewarden.adapters.execution.live import LiveConfig
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.store.models import AuditEvent, FillRow, OrderRow
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.bots import service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.vault_session import VaultSession

CYCLES = int(os.environ.get("TW_BOT_FAULT_CYCLES", "4"))  # ~20 order sends per venue
FAULT_RATE = float(os.environ.get("TW_BOT_FAULT_RATE", "0.2"))
CLIENT_TIMEOUT_MS = 800
# Five kinds sharing the rate. The simulator tries each fault in turn, each with its own rate, so these
# per-kind rates give 1 - (1 - r)^5 = FAULT_RATE of all requests faulted.
KINDS: tuple[tuple[str, dict[str, int]], ...] = (
    ("http_500", {}),
    ("http_503", {}),
    ("timeout", {"ms": CLIENT_TIMEOUT_MS + 700}),  # held past the client's timeout, then never served
    ("reset", {}),
    ("bad_json", {}),
)
# The simulator never serves a faulted request, so a short settle before the lookup is safe here.
LIVE = LiveConfig(max_attempts=10, lookup_attempts=12, settle_s=0.2, backoff_s=0.05, backoff_cap_s=0.4)
ROUNDS_PER_PRICE = 30  # at most, per price: rounds until the bot did what the price asks
BASE = Decimal(50000)
# One cycle: enter at the base price, add on at -2 % and -4 %, take profit above the average.
CYCLE = (BASE, BASE * Decimal("0.978"), BASE * Decimal("0.958"), BASE * Decimal("1.01"))


def per_kind_rate(total: float, kinds: int) -> float:
    """The rate of each of `kinds` faults so that together they hit `total` of the requests."""
    return float(1 - (1 - total) ** (1 / kinds))


def reached(world: BotWorld, name: str, cycle: int, step: int) -> bool:
    """True when the bot did what the cycle's `step`-th price asks and has no order in flight."""
    view = service.get(world.app, name)
    figures = view.pair_states.get("BTC/USDT")
    if figures is None:  # not stepped yet
        return False
    if int(figures["open_orders"]) or service.orders(world.app, name, open_only=True):
        return False
    done = (
        int(figures["groups"]) >= cycle + 1 and Decimal(figures["position"]) > 0,  # entered
        int(figures["addons_total"]) >= 2 * cycle + 1,  # first add-on
        int(figures["addons_total"]) >= 2 * cycle + 2,  # second add-on
        int(figures["trades"]) >= cycle + 1,  # took profit
    )
    return done[step]


async def drive(world: BotWorld, venue: str, name: str, faults: bool) -> dict[str, Any]:
    """Run the cycles on `venue`'s BTC/USDT with the live bot `name`; what the runner counted."""
    # No remembered failures (error_ttl_s): a faulted price read is tried again on the next round.
    hub = MarketHub(HubConfig(default_endpoint=world.sim.url, ttl_s=NO_CACHE, error_ttl_s=0.0))
    vault = VaultSession.open(world.app, Secret(PASSPHRASE))
    try:
        client = await vault.private_client(hub, "live")
        client.timeout = CLIENT_TIMEOUT_MS  # the runner's live executor uses this very client
        runner = BotRunner(world.app, hub, vault, RunnerConfig(live=LIVE))
        if faults:
            rate = per_kind_rate(FAULT_RATE, len(KINDS))
            for kind, extra in KINDS:
                world.admin.fault(venue, kind, rate=rate, **extra)
        rounds = 0
        stuck: list[str] = []
        for cycle in range(CYCLES):
            for step, price in enumerate(CYCLE):
                world.price(venue, price)
                for _ in range(ROUNDS_PER_PRICE):
                    await runner.round()
                    rounds += 1
                    if reached(world, name, cycle, step):
                        break
                else:
                    stuck.append(f"cycle {cycle} price {price}")
        world.admin.clear_faults()
        for _ in range(3):  # the faults gone: whatever is left in flight settles
            await runner.round()
        live = [await item.driver._live() for item in runner.loaded.values()]
        return {
            "rounds": rounds,
            "stuck": stuck,
            "errors": dict(runner.config.errors),
            "outcomes": {k: v for x in live if x is not None for k, v in x.outcomes.items()},
            "loaded": len(runner.loaded),
        }
    finally:
        world.admin.clear_faults()
        await hub.close()


def store_orders(world: BotWorld, name: str) -> list[OrderRow]:
    """The bot's orders as stored."""
    bot = service.get(world.app, name)
    with world.app.store.session() as session:
        rows = session.scalars(select(OrderRow).where(OrderRow.bot == service.bot_key(bot.id))).all()
        session.expunge_all()
        return list(rows)


def store_fills(world: BotWorld, name: str) -> list[tuple[str, str, Decimal, Decimal]]:
    """The bot's fills as stored: (client order id, trade id, price, amount)."""
    bot = service.get(world.app, name)
    with world.app.store.session() as session:
        rows = session.execute(
            select(OrderRow.client_order_id, FillRow.trade_id, FillRow.price, FillRow.amount)
            .join(OrderRow, FillRow.order_id == OrderRow.id)
            .where(OrderRow.bot == service.bot_key(bot.id))
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("venue", ["mexc", "kucoin"])
def test_live_dca_under_order_faults(world: BotWorld, venue: str) -> None:
    """Entry, add-ons, take profit, CYCLES times, ~20 % faults: no duplicate, every fill stored."""
    key = world.connect("live", venue)
    world.price(venue, BASE)
    world.bot("d", "live", mode="live")
    got = asyncio.run(drive(world, venue, "d", faults=FAULT_RATE > 0))
    held = sim_orders(world.admin, venue, key["apiKey"])
    stored = store_orders(world, "d")
    log = world.admin.call("GET", f"/_sim/requests?venue={venue}")
    faulted = Counter(r.get("fault") for r in log if r.get("fault"))
    sends = [r for r in log if r["method"] == "POST" and "order" in r["path"].lower()]
    sends_faulted = sum(1 for r in sends if r.get("fault"))
    view = service.get(world.app, "d")
    history = Counter(e["kind"] for e in service.history(world.app, "d", limit=1000))
    print(
        f"\n[live bot faults {venue}] {CYCLES} cycles, {got['rounds']} rounds; "
        f"runner errors {got['errors']}; order sends {len(sends)}, faulted {sends_faulted}; "
        f"send/lookup failures {got['outcomes']}; faults served {dict(faulted)}; venue orders {len(held)}; "
        f"store orders {Counter(o.status for o in stored)}; history {dict(history)}"
    )
    assert got["loaded"] == 1, (view, service.history(world.app, "d"))
    assert got["stuck"] == [], (
        got["stuck"],
        [(e["kind"], e["reason"]) for e in service.history(world.app, "d")],
    )
    if FAULT_RATE > 0:  # faults really hit the order sends, and the executor met them
        assert sends_faulted > 0 and got["outcomes"], (faulted, got)
    # zero duplicates: each client order id once at the venue, and only ids the store knows
    by_cid = Counter(o["clientOrderId"] for o in held)
    assert {c: n for c, n in by_cid.items() if n > 1} == {}
    accepted = {o.client_order_id: o for o in stored if o.exchange_order_id is not None}
    assert set(by_cid) == set(accepted), set(by_cid) ^ set(accepted)
    assert len(held) == len(accepted)
    for order in stored:  # nothing left in doubt, and what was not accepted never reached the venue
        assert order.status in ("closed", "open", "canceled", "rejected"), (order.status, order.error)
    for venue_order in held:
        mine = accepted[venue_order["clientOrderId"]]
        assert Decimal(venue_order["executedQty"]) == mine.filled, (venue_order, mine.filled)
    # every fill of the venue is in the store, once, at its price and amount
    venue_fills = sorted(
        (o["clientOrderId"], str(f["tradeId"]), Decimal(f["price"]), Decimal(f["qty"]))
        for o in held
        for f in o["fills"]
    )
    assert sorted(store_fills(world, "d")) == venue_fills
    # the audit log: each order the venue accepted was audited once as placed by this bot (a private
    # call with the key), and no order the store does not hold
    with world.app.store.session() as session:
        details = [
            json.loads(e.detail_json)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.kind == "order.placed"))
        ]
    bot_key = stored[0].bot
    audited = Counter(d["order"]["client_order_id"] for d in details if d.get("bot") == bot_key)
    assert all(audited[cid] == 1 for cid in accepted), {c: audited[c] for c in accepted if audited[c] != 1}
    assert set(audited) <= {o.client_order_id for o in stored}
    assert all(d["mode"] == "live" for d in details if d.get("bot") == bot_key)
    # the scenario really ran: every cycle added on twice and took profit
    assert history["take_profit"] == CYCLES, history
    assert history["addon"] == 2 * CYCLES, history
    assert history["group_opened"] == CYCLES + 1, history  # the last take profit's price opens the next
    assert view.status == "running" and view.realized_pnl > 0, view
