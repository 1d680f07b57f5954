"""The event bus below the services: typed messages, thread-safe publish, audit rows only after commit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tradewarden.adapters import audit
from tradewarden.adapters.store.db import Store, create_sqlite_database
from tradewarden.services import events

STEP_S = 5.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "tw.sqlite"
    create_sqlite_database(path)
    made = Store(f"sqlite:///{path}")
    yield made
    made.dispose()


async def _get(sub: events.Subscription) -> events.Event:
    async with asyncio.timeout(STEP_S):
        return await sub.get()


def test_order_event_message_keeps_decimals_exact() -> None:
    order = events.OrderEvent(
        connection_id="c1", bot="b1", symbol="BTC/USDT", side="buy", order_type="limit",
        amount=Decimal("0.00012345"), price=Decimal("60000.10"), status="open", client_order_id="b1-7",
    )  # fmt: skip
    message = order.as_message()
    assert message["type"] == "order" and message["amount"] == "0.00012345"
    assert message["price"] == "60000.10" and message["client_order_id"] == "b1-7"
    assert isinstance(message["ts"], str) and message["ts"].endswith("+00:00")


async def test_publish_from_worker_thread_reaches_loop_subscriber(store: Store) -> None:
    bus = events.bus_for(store)
    assert events.bus_for(store) is bus  # one bus per store
    sub = bus.subscribe()
    fills = [
        events.FillEvent(
            connection_id="c1",
            bot="b1",
            symbol="ETH/USDT",
            side="sell",
            amount=Decimal(i),
            price=Decimal("3000"),
            fee=Decimal("0.1"),
        )
        for i in range(1, 4)
    ]

    def worker() -> None:
        for fill in fills:
            events.publish(store, fill)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(STEP_S)
    received = [await _get(sub) for _ in fills]
    assert received == fills  # in publication order, the same typed objects
    bus.unsubscribe(sub)
    events.publish(store, fills[0])
    assert sub.queue.empty() and bus.subscribers == 0


async def test_audit_rows_published_after_commit_only(store: Store) -> None:
    bus = events.bus_for(store)
    sub = bus.subscribe()
    with store.session() as session:  # not publishing yet: nothing is delivered
        audit.record(session, "vault.created", "test")
    with events.audit_publishing(store):
        with pytest.raises(RuntimeError), store.session() as session:
            audit.record(session, "connection.added", "test", note="rolled back")
            session.flush()
            raise RuntimeError("abort the transaction")
        await asyncio.to_thread(_record_status_change, store)
    first = await _get(sub)
    second = await _get(sub)
    assert isinstance(first, events.AuditRecorded) and not isinstance(first, events.ConnectionStatus)
    assert first.kind == "connection.tested" and first.detail == {"status": "online"}
    assert isinstance(second, events.ConnectionStatus) and second.id == first.id + 1
    assert second.as_message()["type"] == "connection.status"
    assert second.detail == {"previous": "untested", "status": "online"}
    assert sub.queue.empty()  # neither the rolled-back row nor the one before publishing started
    with store.session() as session:  # publishing ended with the block
        audit.record(session, "connection.removed", "test")
    assert sub.queue.empty()


def _record_status_change(store: Store) -> None:
    with store.session() as session:
        audit.record(session, "connection.tested", "test", status="online")
        audit.record(session, "connection.status_changed", "test", previous="untested", status="online")


async def test_slow_subscriber_loses_oldest(store: Store) -> None:
    sub = events.bus_for(store).subscribe(maxsize=2)
    for name in ("a", "b", "c"):
        events.publish(store, events.BotEvent(bot=name, status="running"))
    got = [await _get(sub), await _get(sub)]
    assert [e.bot for e in got if isinstance(e, events.BotEvent)] == ["b", "c"] and sub.dropped == 1
