"""Typed events that services publish and the API stream (and later notifications) subscribe to.

In-process only: one `EventBus` per store (so two apps in one process never hear each other), found with
`bus_for(store)`. `publish` is safe from any thread (services run in worker threads under the API); each
subscriber gets the events on its own event loop, in publication order.

Audit events need no explicit publish: while `audit_publishing(store)` is active, every audit row this
process commits through that store is published once its transaction has committed (a rolled-back
transaction publishes nothing), `connection.status_changed` as a `ConnectionStatus`, the rest as
`AuditRecorded`. Nothing polls the audit table. Events carry no secret: audit details are redacted when
recorded, and order/fill/bot events hold identifiers and amounts only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import AuditEvent

DEFAULT_QUEUE_SIZE = 1000
_PENDING = "tw_events_pending"  # key in Session.info: audit rows flushed, not yet committed


def _now() -> datetime:
    return datetime.now(UTC)


def _plain(value: Any) -> Any:
    """Decimals as strings (exact), datetimes as ISO text: what the stream's JSON carries."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event: its stream `type` and when it happened."""

    type: ClassVar[str] = "event"
    ts: datetime = field(default_factory=_now)

    def as_message(self) -> dict[str, Any]:
        """The JSON object the stream sends: `type` first, then the fields."""
        body = {name: _plain(getattr(self, name)) for name in self.__dataclass_fields__}
        return {"type": self.type, **body}


@dataclass(frozen=True, kw_only=True)
class AuditRecorded(Event):
    """An audit event committed by this process (the same fields as the audit API)."""

    type: ClassVar[str] = "audit"
    id: int
    kind: str
    actor: str
    connection_id: str | None = None
    connection_name: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ConnectionStatus(AuditRecorded):
    """A connection's status changed (`detail` holds `previous` and `status`)."""

    type: ClassVar[str] = "connection.status"


@dataclass(frozen=True, kw_only=True)
class OrderEvent(Event):
    """An order was placed, changed state, or was refused by the order guard (`reason`)."""

    type: ClassVar[str] = "order"
    connection_id: str
    bot: str | None
    symbol: str
    side: str
    order_type: str
    amount: Decimal
    price: Decimal | None
    status: str
    client_order_id: str | None = None
    exchange_order_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class FillEvent(Event):
    """Part or all of an order filled."""

    type: ClassVar[str] = "fill"
    connection_id: str
    bot: str | None
    symbol: str
    side: str
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str | None = None
    client_order_id: str | None = None
    exchange_order_id: str | None = None
    paper: bool = False


@dataclass(frozen=True, kw_only=True)
class BotEvent(Event):
    """A bot started, stopped, changed mode or entered/left Recovery Mode."""

    type: ClassVar[str] = "bot"
    bot: str
    status: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Subscription:
    """One subscriber's queue, bound to the event loop it subscribed from."""

    queue: asyncio.Queue[Event]
    loop: asyncio.AbstractEventLoop
    dropped: int = 0

    def deliver(self, item: Event) -> None:
        """Put `item` on the queue (on its loop); a reader that fell behind loses the oldest event."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)

    async def get(self) -> Event:
        """The next event."""
        return await self.queue.get()


class EventBus:
    """Fan-out of events to subscribers; publish from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, Subscription] = {}
        self._listeners: dict[int, Callable[[Event], None]] = {}
        self.published = 0
        self.listener_errors = 0

    @contextlib.contextmanager
    def listening(self, callback: Callable[[Event], None]) -> Iterator[None]:
        """Call `callback(event)` in the publisher's thread for every event, while the block runs.

        For quick, non-blocking reactions (hand work to a loop); a callback that raises is counted in
        `listener_errors` and never stops the publisher or the other subscribers.
        """
        token = id(callback)
        with self._lock:
            self._listeners[token] = callback
        try:
            yield
        finally:
            with self._lock:
                self._listeners.pop(token, None)

    def subscribe(self, maxsize: int = DEFAULT_QUEUE_SIZE) -> Subscription:
        """A subscription receiving every event published from now on (call from a running loop)."""
        sub = Subscription(asyncio.Queue(maxsize=maxsize), asyncio.get_running_loop())
        with self._lock:
            self._subscribers[id(sub)] = sub
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to `sub`."""
        with self._lock:
            self._subscribers.pop(id(sub), None)

    @property
    def subscribers(self) -> int:
        """How many subscriptions are live."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, item: Event) -> None:
        """Deliver `item` to every subscriber, each on its own loop (never blocks the publisher)."""
        with self._lock:
            subs = list(self._subscribers.values())
            listeners = list(self._listeners.values())
            self.published += 1
        for listener in listeners:
            try:
                listener(item)
            except Exception:
                self.listener_errors += 1
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for sub in subs:
            if sub.loop is running:
                sub.deliver(item)
            else:
                with contextlib.suppress(RuntimeError):  # that loop has closed: the subscriber is gone
                    sub.loop.call_soon_threadsafe(sub.deliver, item)


_buses: weakref.WeakKeyDictionary[Engine, EventBus] = weakref.WeakKeyDictionary()
_publishing: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def bus_for(store: Store) -> EventBus:
    """The process's event bus for this store (created on first use)."""
    with _registry_lock:
        bus = _buses.get(store.engine)
        if bus is None:
            bus = _buses[store.engine] = EventBus()
        return bus


def publish(store: Store, item: Event) -> None:
    """Publish `item` on the store's bus (what services call)."""
    bus_for(store).publish(item)


def event_of_audit(row: AuditEvent) -> AuditRecorded:
    """The typed event for a committed audit row."""
    try:
        detail = json.loads(row.detail_json) if row.detail_json else {}
    except ValueError:
        detail = {}
    kind = ConnectionStatus if row.kind == "connection.status_changed" else AuditRecorded
    return kind(
        ts=row.ts,
        id=row.id,
        kind=row.kind,
        actor=row.actor,
        connection_id=row.connection_id,
        connection_name=row.connection_name,
        detail=detail if isinstance(detail, dict) else {"value": detail},
    )


@contextlib.contextmanager
def audit_publishing(store: Store) -> Iterator[EventBus]:
    """While active, publish every audit row this process commits through `store` (nestable)."""
    with _registry_lock:
        _publishing[store.engine] = _publishing.get(store.engine, 0) + 1
    try:
        yield bus_for(store)
    finally:
        with _registry_lock:
            count = _publishing.get(store.engine, 1) - 1
            if count:
                _publishing[store.engine] = count
            else:
                _publishing.pop(store.engine, None)


def _engine_of(session: Session) -> Engine | None:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else getattr(bind, "engine", None)


@event.listens_for(Session, "after_flush")
def _collect_audit_rows(session: Session, _context: Any) -> None:
    # Collected at flush (ids assigned), published only after commit: a rollback publishes nothing.
    if not _publishing:
        return
    rows = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if rows:
        session.info.setdefault(_PENDING, []).extend(rows)


@event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    rows: list[AuditEvent] = session.info.pop(_PENDING, [])
    if not rows:
        return
    engine = _engine_of(session)
    if engine is None or engine not in _publishing:
        return
    bus = bus_for_engine(engine)
    for row in sorted(rows, key=lambda r: r.id):
        bus.publish(event_of_audit(row))


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def bus_for_engine(engine: Engine) -> EventBus:
    """The bus of the store using `engine`."""
    with _registry_lock:
        bus = _buses.get(engine)
        if bus is None:
            bus = _buses[engine] = EventBus()
        return bus
