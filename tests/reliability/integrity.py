"""Half-written rows: the database's own checks and row-level checks of what the product writes.

Every check returns lines naming what is wrong (empty: nothing half-written). Used after crashes and
after a full disk, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select, text

from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import FillRow, OrderRow

ORDER_STATUSES = ("pending", "open", "closed", "canceled", "rejected", "expired", "unknown")


def database_checks(store: Store) -> list[str]:
    """SQLite: integrity_check and foreign_key_check (PostgreSQL enforces both on every write)."""
    if store.engine.dialect.name != "sqlite":
        return []
    with store.engine.connect() as conn:
        integrity = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check")]
        foreign = [str(tuple(r)) for r in conn.exec_driver_sql("PRAGMA foreign_key_check")]
    problems = [] if integrity == ["ok"] else [f"integrity_check: {integrity[:5]}"]
    return problems + [f"foreign key broken: {row}" for row in foreign[:5]]


def row_checks(store: Store) -> list[str]:
    """Orders, fills, connections and audit rows each whole."""
    problems: list[str] = []
    with store.engine.connect() as conn:
        for cid, status, amount, filled in conn.execute(
            text("select client_order_id, status, amount, filled from orders")
        ):
            if not cid or status not in ORDER_STATUSES or Decimal(amount) <= 0 or Decimal(filled) < 0:
                problems.append(f"order {cid!r}: status {status}, amount {amount}, filled {filled}")
        orphans = conn.execute(
            text("select count(*) from fills f left join orders o on o.id = f.order_id where o.id is null")
        ).scalar_one()
        if orphans:
            problems.append(f"{orphans} fills of no order")
        unsealed = conn.execute(
            text(
                "select c.name from connections c where c.status <> 'awaiting_api_key' and not exists "
                "(select 1 from sealed_credentials s where s.connection_id = c.id)"
            )
        ).all()
        problems += [f"connection {name!r} without sealed credentials" for (name,) in unsealed]
        for event_id, detail in conn.execute(text("select id, detail_json from audit_events")):
            try:
                json.loads(detail)
            except ValueError:
                problems.append(f"audit event {event_id}: detail is not JSON")
    return problems


def fill_sums(store: Store) -> list[str]:
    """The fills of every final live order add up to what it filled (checked after reconciliation)."""
    problems: list[str] = []
    with store.session() as session:
        summed: dict[str, Decimal] = {}
        for order_id, amount in session.execute(select(FillRow.order_id, FillRow.amount)):
            summed[order_id] = summed.get(order_id, Decimal(0)) + amount
        final = select(OrderRow).where(OrderRow.mode == "live", OrderRow.status.in_(("closed", "canceled")))
        for order in session.scalars(final):
            if summed.get(order.id, Decimal(0)) != order.filled:
                problems.append(
                    f"order {order.client_order_id}: filled {order.filled}, fills add up to "
                    f"{summed.get(order.id, Decimal(0))}"
                )
    return problems


def half_written(store: Store, settled: bool = True) -> list[str]:
    """Every check above (the fill sums only when `settled`)."""
    return database_checks(store) + row_checks(store) + (fill_sums(store) if settled else [])
