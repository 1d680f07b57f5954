"""Reconciling manual live orders with the exchange: at server start, and by hand (`trade reconcile`).

A manual live order is stored `pending` before it is sent, so a crash can leave rows the store does not
know the end of. Bots reconcile theirs when the runner loads them; this does the same for the orders
placed by hand (bot id `manual:<connection id>`), through the Trader's LiveExecutor (`reconcile`).

- A connection needs it when one of its manual live orders is not final (pending, unknown, open), or
  has filled more than its stored fills say (a crash between storing the answer and its trades).
- Only rows stored before the run began are looked up (an order placed meanwhile is its sender's), and
  not before `settle_s` (the client's receive window plus a second, LiveExecutor.settle_s) has passed
  since a pending/unknown row last changed: a request still in flight could otherwise reach the venue
  after we judged the order never placed.
- Each connection is audited: `order.reconciled` with the counts, or `order.reconcile_failed` with the
  error's class and outcome (never its text, which may quote a request); its rows then stay as they
  were (fail closed). Rows that changed are published as `order` events, new fills as `fill` events.
  At server start every connection runs in its own task: one failing never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select

from tradewarden.adapters import audit
from tradewarden.adapters.exchanges.order_errors import classify_order_error
from tradewarden.adapters.execution.base import FINAL_STATUSES, FillView, OrderView
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.store.models import Connection, FillRow, OrderRow, utcnow
from tradewarden.services import events, trading
from tradewarden.services.app import App
from tradewarden.services.errors import ExchangeUnavailableError, UserError
from tradewarden.services.orders import fill_event, order_event
from tradewarden.services.vault_session import VaultSession

__all__ = ["Reconciled", "needing", "reconcile_all", "reconcile_connection"]

log = logging.getLogger(__name__)

Trigger = Literal["startup", "manual"]
UNSURE = ("pending", "unknown")  # rows whose very placing is in doubt


@dataclass(frozen=True)
class Reconciled:
    """What one reconciliation of a connection's manual live orders found and changed."""

    connection: str
    orders: int  # manual live rows looked up (not final, stored before the run began)
    updated: int  # found on the venue and brought up to date
    never_placed: int  # pending/unknown rows the venue has no order for: now rejected
    added: int  # open manual orders on the venue the store lacked
    fills: int  # executions recorded
    unreachable: int  # lookups that kept failing: those rows stay as they were
    changed: int  # manual rows whose status, fill or exchange id changed (published as order events)

    @property
    def ok(self) -> bool:
        """True when every row was looked up."""
        return self.unreachable == 0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, with `ok`."""
        return {**asdict(self), "ok": self.ok}


def needing(app: App) -> list[tuple[str, str]]:
    """(id, name) of each connection whose manual live orders the store may not know the end of."""
    with app.store.session() as session:
        filled = (
            select(FillRow.order_id, func.sum(FillRow.amount).label("amount"))
            .group_by(FillRow.order_id)
            .subquery()
        )
        rows = session.execute(
            select(OrderRow.connection_id, OrderRow.bot, Connection.name)
            .join(Connection, Connection.id == OrderRow.connection_id)
            .outerjoin(filled, filled.c.order_id == OrderRow.id)
            .where(
                OrderRow.mode == "live",
                OrderRow.bot.startswith("manual:"),
                OrderRow.status.not_in(sorted(FINAL_STATUSES))
                | (OrderRow.filled > func.coalesce(filled.c.amount, 0)),
            )
            .distinct()
        ).all()
    found = {cid: name for cid, bot, name in rows if bot == trading.manual_bot(cid)}
    return sorted(found.items(), key=lambda item: item[1])


def _manual_rows(app: App, connection_id: str) -> list[OrderView]:
    with app.store.session() as session:
        rows = session.scalars(
            select(OrderRow).where(
                OrderRow.connection_id == connection_id,
                OrderRow.mode == "live",
                OrderRow.bot == trading.manual_bot(connection_id),
            )
        ).all()
        return [OrderView.of(row) for row in rows]


def _fill_short(app: App, order_ids: list[str]) -> set[str]:
    """Client ids of the orders among `order_ids` whose stored fills add up to less than `filled`."""
    if not order_ids:
        return set()
    with app.store.session() as session:
        rows = session.execute(
            select(OrderRow.client_order_id, OrderRow.filled, func.coalesce(func.sum(FillRow.amount), 0))
            .outerjoin(FillRow, FillRow.order_id == OrderRow.id)
            .where(OrderRow.id.in_(order_ids))
            .group_by(OrderRow.id, OrderRow.client_order_id, OrderRow.filled)
        ).all()
    return {cid for cid, filled, stored in rows if Decimal(str(filled)) > Decimal(str(stored))}


def _to_look_up(app: App, connection_id: str, before: datetime) -> list[OrderView]:
    """The connection's manual live rows to reconcile: not final, or short of fills; stored before."""
    rows = [v for v in _manual_rows(app, connection_id) if v.created_at is None or v.created_at <= before]
    short = _fill_short(app, [v.id for v in rows if v.final and v.filled > 0])
    return [v for v in rows if not v.final or v.client_order_id in short]


def _state(view: OrderView) -> tuple[Any, ...]:
    return (view.status, view.filled, view.exchange_order_id, view.remaining, view.error)


def _last_fill(app: App, connection_id: str) -> int:
    with app.store.session() as session:
        last = session.scalar(
            select(func.max(FillRow.id))
            .join(OrderRow, FillRow.order_id == OrderRow.id)
            .where(OrderRow.connection_id == connection_id)
        )
        return int(last or 0)


def _publish(app: App, connection_id: str, before: dict[str, tuple[Any, ...]], last_fill: int) -> int:
    """Order events for manual rows that changed or appeared, fill events for their new fills."""
    bot = trading.manual_bot(connection_id)
    changed = 0
    for view in _manual_rows(app, connection_id):
        if before.get(view.client_order_id) == _state(view):
            continue
        changed += 1
        events.publish(app.store, order_event(connection_id, bot, view))
    with app.store.session() as session:
        fills = session.execute(
            select(FillRow, OrderRow)
            .join(OrderRow, FillRow.order_id == OrderRow.id)
            .where(OrderRow.connection_id == connection_id, OrderRow.bot == bot, FillRow.id > last_fill)
            .order_by(FillRow.id)
        ).all()
        views = [(FillView.of(fill, order), order.exchange_order_id) for fill, order in fills]
    for fill, exchange_order_id in views:
        events.publish(app.store, fill_event(connection_id, bot, fill, False, exchange_order_id))
    return changed


def _audit(app: App, connection_id: str, kind: str, **detail: Any) -> None:
    with app.store.session() as session:
        row = session.get(Connection, connection_id)
        audit.record(session, kind, app.actor, row, bot=trading.manual_bot(connection_id), **detail)


async def reconcile_connection(
    app: App,
    vault: VaultSession,
    name: str,
    hub: MarketHub | None = None,
    *,
    trigger: Trigger = "manual",
    before: datetime | None = None,
    settle_s: float | None = None,
) -> Reconciled:
    """Reconcile connection `name`'s manual live orders stored before `before` (default: now) with the
    exchange; audited either way. ExchangeUnavailableError when the exchange could not be read (its rows
    stay as they were). `settle_s` overrides the executor's wait for requests still in flight."""
    before = before or utcnow()
    async with trading.trader(app, vault, name, hub) as trader:
        connection_id, exchange = trader.spec.id, trader.spec.ccxt_id
        try:
            live = await trader.live()
            settle = live.settle_s if settle_s is None else settle_s
            rows = await asyncio.to_thread(_to_look_up, app, connection_id, before)
            unsure = [v.updated_at or v.created_at for v in rows if v.status in UNSURE]
            latest = max((moment for moment in unsure if moment is not None), default=None)
            if latest is not None:
                wait = settle - (utcnow() - latest).total_seconds()
                if wait > 0:  # a request the last sender had in flight may still reach the venue
                    await asyncio.sleep(min(wait, settle))
                rows = await asyncio.to_thread(_to_look_up, app, connection_id, before)
            manual = await asyncio.to_thread(_manual_rows, app, connection_id)
            snapshot = {v.client_order_id: _state(v) for v in manual}
            last_fill = await asyncio.to_thread(_last_fill, app, connection_id)
            symbols = sorted({v.symbol for v in rows})
            counts = await live.reconcile(symbols, bot=trader.bot, only={v.client_order_id for v in rows})
        except UserError:
            raise
        except Exception as exc:
            outcome = classify_order_error(exchange, exc).outcome
            log.warning(
                "manual orders of connection %s not reconciled: %s (%s); they stay as they were",
                connection_id,
                type(exc).__name__,
                outcome,
            )
            await asyncio.to_thread(
                _audit,
                app,
                connection_id,
                "order.reconcile_failed",
                trigger=trigger,
                error=type(exc).__name__,
                outcome=outcome,
            )
            raise ExchangeUnavailableError(
                f"could not reconcile the manual orders of {trader.spec.name}: {trader.spec.exchange} did "
                f"not answer ({type(exc).__name__}); the stored orders stay as they were",
                "try again when the exchange answers: tradewarden connections test NAME says whether it does",
            ) from None
        changed = await asyncio.to_thread(_publish, app, connection_id, snapshot, last_fill)
        result = Reconciled(
            trader.spec.name,
            len(rows),
            counts.get("updated", 0),
            counts.get("never_placed", 0),
            counts.get("added", 0),
            counts.get("fills", 0),
            counts.get("unreachable", 0),
            changed,
        )
        counted = {k: v for k, v in asdict(result).items() if k != "connection"}
        await asyncio.to_thread(_audit, app, connection_id, "order.reconciled", trigger=trigger, **counted)
        if result.unreachable:
            log.warning(
                "connection %s: %d manual orders could not be looked up; they stay as they were",
                connection_id,
                result.unreachable,
            )
        return result


async def reconcile_all(
    app: App,
    vault: VaultSession,
    hub: MarketHub | None = None,
    *,
    before: datetime | None = None,
    settle_s: float | None = None,
) -> dict[str, Reconciled | None]:
    """Reconcile every connection that needs it (`needing`), each in its own task; by connection name,
    None where it failed (audited and logged: one connection's failure never stops the others)."""
    before = before or utcnow()
    targets = await asyncio.to_thread(needing, app)

    async def one(connection_id: str) -> Reconciled | None:
        try:
            return await reconcile_connection(
                app, vault, connection_id, hub, trigger="startup", before=before, settle_s=settle_s
            )
        except Exception as exc:  # audited in there when the exchange failed; anything else: logged
            log.warning(
                "startup reconciliation of connection %s failed: %s", connection_id, type(exc).__name__
            )
            return None

    results = await asyncio.gather(*(one(cid) for cid, _name in targets))
    return {name: result for (_cid, name), result in zip(targets, results, strict=True)}
