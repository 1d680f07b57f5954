"""The rows a crash leaves, made on purpose: an order the venue has while the store still says `pending`
(killed after the send, before the answer was stored), and a `pending` row that never left (killed
before the send). Both dated `ago_s` back, as a crash before the restart would leave them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import delete, select

from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.adapters.execution.ledger import OrderLedger
from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import FillRow, OrderRow, utcnow
from tradewarden.services.trading import manual_bot

AGO_S = 120.0  # well past any receive window: the restart need not wait for a request in flight


def rewind_to_pending(store: Store, client_order_id: str, ago_s: float = AGO_S) -> None:
    """Make a placed order look as if the process died before storing the venue's answer."""
    when = utcnow() - timedelta(seconds=ago_s)
    with store.session() as session:
        row = session.scalars(select(OrderRow).where(OrderRow.client_order_id == client_order_id)).one()
        session.execute(delete(FillRow).where(FillRow.order_id == row.id))
        row.status, row.exchange_order_id, row.outcome, row.error = "pending", None, None, None
        row.filled, row.remaining, row.average = Decimal(0), row.amount, None
        row.cost, row.fee, row.reconciled = Decimal(0), Decimal(0), False
        row.created_at, row.updated_at = when, when


def never_sent(
    store: Store, connection_id: str, exchange: str, symbol: str = "BTC/USDT", ago_s: float = AGO_S
) -> str:
    """A manual `pending` row the venue never heard of (the process died before sending); its client id."""
    ledger = OrderLedger(store, connection_id, exchange, "live")
    request = OrderRequest(
        symbol, "buy", "limit", Decimal("0.001"), Decimal(40000), bot=manual_bot(connection_id)
    )
    view = ledger.new_pending(request)
    when = utcnow() - timedelta(seconds=ago_s)
    ledger.update(view.client_order_id, created_at=when)
    with store.session() as session:  # update() stamps updated_at now: date it back too
        row = session.scalars(select(OrderRow).where(OrderRow.id == view.id)).one()
        row.updated_at = when
    return view.client_order_id


def stored(store: Store, client_order_id: str) -> tuple[str, str | None, Decimal, int]:
    """(status, error, filled, stored fills) of one order."""
    with store.session() as session:
        row = session.scalars(select(OrderRow).where(OrderRow.client_order_id == client_order_id)).one()
        fills = session.scalars(select(FillRow).where(FillRow.order_id == row.id)).all()
        return row.status, row.error, row.filled, len(fills)
