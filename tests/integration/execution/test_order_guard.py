"""Issue 13, item 6: every order-guard reason refuses the order before it reaches the exchange.

A GuardedExecutor over a LiveExecutor on the simulator (binance spot). The connection row is the one a
passed connection test leaves (status online, a stored check that read the permissions); tests change
its status or check to reach each connection reason. Each refusal: OrderRefused with its reason, an
`order.refused` audit row naming the bot and the order, an `order` event with status `refused`, no
order stored, and no order request in the simulator's log.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.execution.conftest import ALL_PERMS, ROWS, live_client, make_hub
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.adapters.execution.guard import REASONS, GuardPolicy, OrderRefused
from tradewarden.adapters.execution.live import LiveConfig, LiveExecutor
from tradewarden.adapters.execution.paper import PaperExecutor
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import AuditEvent, Connection, ConnectionCheck, utcnow
from tradewarden.services import events
from tradewarden.services.orders import GuardedExecutor, live_executor_for
from tradewarden.sim import ThreadedSim

ROW = ROWS[0]  # binance spot
POLICY = GuardPolicy(pairs=frozenset({"BTC/USDT"}), per_order_cap=Decimal(500), margin_limit=Decimal(1000))
PERMS_READ = {
    "read": True,
    "spot_trade": True,
    "futures_trade": False,
    "withdraw": False,
    "ip_restricted": True,
}


@dataclass
class Rig:
    """The guarded executor and what the test looks at."""

    guarded: GuardedExecutor
    live: LiveExecutor
    hub: MarketHub
    store: Store
    admin: SimAdmin
    key: dict[str, Any]
    connection_id: str
    published: list[events.Event]

    def order_posts(self) -> int:
        """Order requests the simulator has seen from this key."""
        rows = self.admin.call("GET", f"/_sim/requests?venue=binance&api_key={self.key['apiKey']}")
        return sum(1 for r in rows if r["method"] == "POST" and r["path"] == "/api/v3/order")

    def set_connection(self, status: str, permissions: dict[str, Any] | None = PERMS_READ) -> None:
        """The connection's status, and its newest test result (permissions read, or not)."""
        with self.store.session() as session:
            row = session.get(Connection, self.connection_id)
            assert row is not None
            row.status = status
            session.add(
                ConnectionCheck(
                    connection_id=row.id,
                    connection_name=row.name,
                    status=status,
                    ok=status == "online",
                    result_json=json.dumps({"status": status, "permissions": permissions}),
                    checked_at=utcnow() + timedelta(seconds=1),
                )
            )


@pytest.fixture
async def rig(exec_sim: ThreadedSim, sim_admin13: SimAdmin, store: Store) -> AsyncIterator[Rig]:
    """A connection that passed its test, a live executor on a fresh key, the guard in front."""
    key = sim_admin13.key(ROW.venue, ALL_PERMS)
    with store.session() as session:
        conn = Connection(name="Binance Guard", exchange="binance", market="spot", api_key_masked="AK…0001")
        session.add(conn)
        session.flush()
        connection_id = conn.id
    client = live_client(exec_sim.url, ROW, key)
    await client.load_markets()
    live = LiveExecutor(store, connection_id, ROW.ccxt_id, client, LiveConfig(settle_s=0.05))
    hub = make_hub(exec_sim.url, ROW)
    guarded = GuardedExecutor(store, live, live.ledger, hub, ROW.ccxt_id, connection_id, POLICY, "test:guard")
    published: list[events.Event] = []
    made = Rig(guarded, live, hub, store, sim_admin13, key, connection_id, published)
    made.set_connection("online")
    with events.bus_for(store).listening(published.append):
        try:
            yield made
        finally:
            await hub.close()
            await client.close()


async def mid(rig: Rig) -> Decimal:
    """The market's mid price now."""
    book = await rig.hub.order_book(ROW.ccxt_id, ROW.symbol, 5)
    return (Decimal(str(book["bids"][0][0])) + Decimal(str(book["asks"][0][0]))) / 2


def resting_price(price: Decimal) -> Decimal:
    """A price 10 % under `price`, on the 0.01 tick (orders there rest)."""
    return (price * Decimal("0.9")).quantize(Decimal("0.01"))


async def refused(rig: Rig, request: OrderRequest, reason: str) -> None:
    """The guard refuses `request` for `reason`, audits and publishes it, and nothing reaches the venue."""
    posts = rig.order_posts()
    stored = len(rig.live.ledger.orders())
    rig.published.clear()
    with pytest.raises(OrderRefused) as caught:
        await rig.guarded.create_order(request)
    assert caught.value.reason == reason, caught.value
    assert rig.order_posts() == posts  # the venue never heard of it
    assert len(rig.live.ledger.orders()) == stored  # nor was it stored as an order
    with rig.store.session() as session:
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "order.refused").order_by(AuditEvent.id.desc())
        ).first()
        assert audit is not None and audit.connection_id == rig.connection_id
        detail = json.loads(audit.detail_json)
    assert detail["reason"] == reason and detail["bot"] == request.bot
    assert detail["order"]["symbol"] == request.symbol and detail["order"]["amount"] == str(request.amount)
    kinds = [(e.status, e.reason) for e in rig.published if isinstance(e, events.OrderEvent)]
    assert ("refused", reason) in kinds


async def test_every_guard_reason_refuses_before_the_exchange(rig: Rig) -> None:
    """Each reason the guard has, reached through the real path; accepted orders do reach the venue."""
    price = await mid(rig)
    low = resting_price(price)
    seen: set[str] = set()

    await refused(
        rig,
        OrderRequest("ETH/USDT", "buy", "limit", Decimal("0.01"), Decimal(100), bot="b1"),
        "pair_not_allowed",
    )
    seen.add("pair_not_allowed")
    await refused(
        rig, OrderRequest(ROW.symbol, "buy", "limit", Decimal("0.01"), low, bot="b1"), "over_order_cap"
    )
    seen.add("over_order_cap")

    # two accepted resting orders of ~400 each: the third would pass the margin limit of 1000
    posts = rig.order_posts()
    size = (Decimal(400) / low).quantize(Decimal("0.00001"))
    for _ in range(2):
        accepted = await rig.guarded.create_order(
            OrderRequest(ROW.symbol, "buy", "limit", size, low, bot="b1")
        )
        assert accepted.status == "open", accepted
    assert rig.order_posts() == posts + 2
    assert ("open", None) in [(e.status, e.reason) for e in rig.published if isinstance(e, events.OrderEvent)]
    await refused(rig, OrderRequest(ROW.symbol, "buy", "limit", size, low, bot="b1"), "over_margin_limit")
    seen.add("over_margin_limit")
    # another bot on the same connection has its own exposure
    other = await rig.guarded.create_order(OrderRequest(ROW.symbol, "buy", "limit", size, low, bot="b2"))
    assert other.status == "open"

    await refused(
        rig,
        OrderRequest(ROW.symbol, "buy", "limit", Decimal("0.001"), low + Decimal("0.001"), bot="b3"),
        "precision",
    )
    seen.add("precision")
    await refused(
        rig, OrderRequest(ROW.symbol, "buy", "market", Decimal("0.00001"), bot="b3"), "min_notional"
    )
    seen.add("min_notional")

    ok = OrderRequest(ROW.symbol, "buy", "limit", Decimal("0.001"), low, bot="b3")
    rig.set_connection("ip_not_allowed")
    await refused(rig, ok, "connection_not_online")
    seen.add("connection_not_online")
    rig.set_connection("withdraw_enabled", {**PERMS_READ, "withdraw": True})
    await refused(rig, ok, "withdraw_enabled")
    seen.add("withdraw_enabled")
    rig.set_connection("online", {**PERMS_READ, "withdraw": None})  # online, but permissions not read
    await refused(rig, ok, "permissions_unverified")
    seen.add("permissions_unverified")
    rig.set_connection("online")
    assert (await rig.guarded.create_order(ok)).status == "open"

    # min_amount and no_price cannot be reached on this market (its minimum is its lot; a book always
    # prices it): tests/unit/execution/test_guard.py covers them
    assert seen == set(REASONS) - {"min_amount", "no_price"}


async def test_guard_stands_in_front_of_paper_too(rig: Rig, store: Store) -> None:
    """The same guard refuses for a paper executor; the paper ledger never sees the order."""
    paper = PaperExecutor(
        store, rig.hub, ROW.ccxt_id, rig.connection_id, "guard-paper", {"USDT": Decimal(10000)}
    )
    guarded = GuardedExecutor(
        store, paper, paper.ledger, rig.hub, ROW.ccxt_id, rig.connection_id, POLICY, "test"
    )
    with pytest.raises(OrderRefused) as caught:
        await guarded.create_order(OrderRequest("ETH/USDT", "buy", "market", Decimal("0.01"), bot="p1"))
    assert caught.value.reason == "pair_not_allowed"
    assert paper.ledger.orders() == []
    filled = await guarded.create_order(OrderRequest(ROW.symbol, "buy", "market", Decimal("0.001"), bot="p1"))
    assert filled.status == "closed"
    fills = [e for e in rig.published if isinstance(e, events.FillEvent)]
    assert fills and all(e.paper for e in fills) and sum(e.amount for e in fills) == Decimal("0.001")


async def test_live_executor_on_the_registry_private_client(rig: Rig, exec_sim: ThreadedSim) -> None:
    """live_executor_for takes the connection's one private client from the hub's registry (made once,
    on the key's own budget) and places orders through it."""
    made: list[Any] = []

    def make() -> Any:
        client = live_client(exec_sim.url, ROW, rig.key)
        made.append(client)
        return client

    first = await live_executor_for(
        rig.store, rig.hub, "registry-conn", ROW.ccxt_id, make, LiveConfig(settle_s=0.05)
    )
    second = await live_executor_for(rig.store, rig.hub, "registry-conn", ROW.ccxt_id, make)
    assert len(made) == 1 and first.client is second.client is made[0]
    assert rig.hub.private.connections() == ["registry-conn"]
    await first.client.load_markets()
    order = await first.create_order(OrderRequest(ROW.symbol, "buy", "market", Decimal("0.001"), bot="reg"))
    assert order.status == "closed" and order.filled == Decimal("0.001")
    budgets = {b.name: b for b in rig.hub.snapshot().budgets if b.scope == "private"}
    assert budgets["binance:registry-conn"].requests > 0  # the order went through the key's own budget
