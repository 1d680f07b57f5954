"""The orders table as executors use it: pending rows before sending, ccxt answers applied, fills kept.

Every write is its own short transaction, so what is stored survives a crash the moment it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tradewarden.adapters.execution import client_ids
from tradewarden.adapters.execution.base import FINAL_STATUSES, OrderRequest, OrderView
from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import AMOUNT_SCALE, FillRow, OrderRow, utcnow

QUANTUM = Decimal(1).scaleb(-AMOUNT_SCALE)
CCXT_STATUSES = frozenset({"open", "closed", "canceled", "rejected", "expired"})


def dec(value: Any) -> Decimal | None:
    """A ccxt number (float, str, int) as an exact Decimal within the store's scale; None stays None."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    with localcontext() as ctx:
        ctx.prec = 60  # quantizing a large amount to 18 decimals needs more than the default 28 digits
        return number.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def dec0(value: Any) -> Decimal:
    """Like `dec`, with 0 for a missing number."""
    got = dec(value)
    return got if got is not None else Decimal(0)


class TagTaken(Exception):
    """The bot already stored an order under this strategy tag: sending another would repeat it."""


class OrderLedger:
    """Orders and fills of one connection in one mode."""

    def __init__(self, store: Store, connection_id: str, exchange: str, mode: str) -> None:
        self.store = store
        self.connection_id = connection_id
        self.exchange = exchange
        self.mode = mode

    def new_pending(self, request: OrderRequest) -> OrderView:
        """Store the order as `pending` under the bot's next client order id (committed before sending)."""
        tag = client_ids.bot_tag(request.bot, self.connection_id)
        prefix = client_ids.prefix_of(tag)
        for _ in range(20):  # another writer may take the same sequence: the unique key says so
            try:
                with self.store.session() as session:
                    last = session.scalar(
                        select(func.max(OrderRow.seq)).where(
                            OrderRow.connection_id == self.connection_id,
                            OrderRow.client_order_id.startswith(prefix),
                        )
                    )
                    seq = int(last or 0) + 1
                    row = OrderRow(
                        connection_id=self.connection_id,
                        bot=request.bot,
                        mode=self.mode,
                        exchange=self.exchange,
                        seq=seq,
                        client_order_id=client_ids.client_order_id(tag, seq),
                        symbol=request.symbol,
                        side=request.side,
                        type=request.type,
                        amount=request.amount,
                        price=request.price,
                        reduce_only=request.reduce_only,
                        tag=request.tag,
                        status="pending",
                        filled=Decimal(0),
                        remaining=request.amount,
                        cost=Decimal(0),
                        fee=Decimal(0),
                        attempts=0,
                        reconciled=False,
                    )
                    session.add(row)
                    session.flush()
                    return OrderView.of(row)
            except IntegrityError:
                if request.tag is not None and self.find_tag(request.bot, request.tag) is not None:
                    raise TagTaken(f"bot {request.bot} already has an order tagged {request.tag}") from None
                continue
        raise RuntimeError("could not allocate a client order id (20 concurrent collisions)")

    def find_tag(self, bot: str | None, tag: str) -> OrderView | None:
        """The bot's order with this strategy tag, or None."""
        with self.store.session() as session:
            row = session.scalar(
                select(OrderRow).where(
                    OrderRow.connection_id == self.connection_id, OrderRow.bot == bot, OrderRow.tag == tag
                )
            )
            return None if row is None else OrderView.of(row)

    def _session(self, session: Any) -> AbstractContextManager[Any]:
        """The caller's session (its transaction), or a new one of our own."""
        return nullcontext(session) if session is not None else self.store.session()

    def get(self, client_order_id: str, session: Any = None) -> OrderView:
        """The stored order (KeyError when there is none)."""
        with self._session(session) as s:
            row = self._row(s, client_order_id)
            return OrderView.of(row)

    def find(self, client_order_id: str) -> OrderView | None:
        """The stored order, or None."""
        try:
            return self.get(client_order_id)
        except KeyError:
            return None

    def _row(self, session: Any, client_order_id: str) -> OrderRow:
        row = session.scalar(
            select(OrderRow).where(
                OrderRow.connection_id == self.connection_id, OrderRow.client_order_id == client_order_id
            )
        )
        if row is None:
            raise KeyError(f"no order {client_order_id!r} on this connection")
        return row  # type: ignore[no-any-return]

    def orders(
        self, symbol: str | None = None, statuses: frozenset[str] | None = None, bot: str | None = None
    ) -> list[OrderView]:
        """Stored orders of this connection in this ledger's mode, oldest first.

        Paper and live orders of one connection never mix: a live reconciliation must not judge a paper
        order "never placed", nor a paper sweep fill a live one.
        """
        with self.store.session() as session:
            query = select(OrderRow).where(
                OrderRow.connection_id == self.connection_id, OrderRow.mode == self.mode
            )
            if symbol is not None:
                query = query.where(OrderRow.symbol == symbol)
            if statuses is not None:
                query = query.where(OrderRow.status.in_(sorted(statuses)))
            if bot is not None:  # one bot's orders (a sweep of a thousand bots' market reads only its own)
                query = query.where(OrderRow.bot == bot)
            rows = session.scalars(query.order_by(OrderRow.created_at, OrderRow.seq)).all()
            return [OrderView.of(r) for r in rows]

    def update(self, client_order_id: str, session: Any = None, **fields: Any) -> OrderView:
        """Set fields of a stored order (in the caller's transaction when `session` is given)."""
        with self._session(session) as s:
            row = self._row(s, client_order_id)
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            s.flush()
            return OrderView.of(row)

    def bump_attempts(self, client_order_id: str) -> None:
        """Count one more send of the order."""
        with self.store.session() as session:
            row = self._row(session, client_order_id)
            row.attempts += 1

    def apply_exchange(self, client_order_id: str, order: Mapping[str, Any], reconciled: bool) -> OrderView:
        """Apply a ccxt order answer to the stored order (fields the answer lacks are kept)."""
        with self.store.session() as session:
            row = self._row(session, client_order_id)
            if order.get("id"):
                row.exchange_order_id = str(order["id"])
            status = order.get("status")
            if status in CCXT_STATUSES:
                row.status = str(status)
            elif row.status == "pending":
                row.status = "open"  # accepted, state not reported in this answer
            filled = dec(order.get("filled"))
            if filled is not None:
                row.filled = filled
                row.remaining = dec(order.get("remaining"))
                if row.remaining is None:
                    row.remaining = max(row.amount - filled, Decimal(0))
            average = dec(order.get("average"))
            cost = dec(order.get("cost"))
            if average is not None:
                row.average = average
            if cost is not None:
                row.cost = cost
            fee = order.get("fee") if isinstance(order.get("fee"), Mapping) else None
            if fee and dec(fee.get("cost")) is not None:
                row.fee = dec0(fee.get("cost"))
                row.fee_currency = fee.get("currency")
            if row.status == "open" and row.remaining is not None and row.remaining == 0 and row.filled > 0:
                row.status = "closed"
            if row.status == "closed" and row.type == "limit" and row.filled < row.amount:
                # A limit order ends short of its amount only by being canceled; ccxt reports some
                # venues' "partially filled, then canceled" (Bybit PartiallyFilledCanceled) as closed.
                row.status = "canceled"
            row.reconciled = reconciled
            row.updated_at = utcnow()
            session.flush()
            return OrderView.of(row)

    def add_fill(
        self,
        client_order_id: str,
        trade_id: str,
        price: Decimal,
        amount: Decimal,
        fee: Decimal,
        fee_currency: str | None,
        liquidity: str | None,
        reconciled: bool,
        ts: datetime | None = None,
        session: Any = None,
    ) -> bool:
        """Store one execution once (a repeat of the same trade id is ignored); True when new.

        In the caller's transaction when `session` is given (an IntegrityError then fails it whole).
        """
        fill = (client_order_id, trade_id, price, amount, fee, fee_currency, liquidity, reconciled, ts)
        if session is not None:
            return self._add_fill(session, *fill)
        try:
            with self.store.session() as own:
                return self._add_fill(own, *fill)
        except IntegrityError:
            return False

    def _add_fill(
        self,
        session: Any,
        client_order_id: str,
        trade_id: str,
        price: Decimal,
        amount: Decimal,
        fee: Decimal,
        fee_currency: str | None,
        liquidity: str | None,
        reconciled: bool,
        ts: datetime | None,
    ) -> bool:
        row = self._row(session, client_order_id)
        known = session.scalar(
            select(FillRow.id).where(FillRow.order_id == row.id, FillRow.trade_id == trade_id)
        )
        if known is not None:
            return False
        session.add(
            FillRow(
                order_id=row.id,
                trade_id=trade_id,
                price=price,
                amount=amount,
                fee=fee,
                fee_currency=fee_currency,
                liquidity=liquidity,
                reconciled=reconciled,
                ts=ts or datetime.now(UTC),
            )
        )
        session.flush()
        return True

    def fills(self, symbol: str | None = None) -> list[tuple[FillRow, OrderRow]]:
        """Stored fills of this connection's orders in this ledger's mode, oldest first."""
        with self.store.session() as session:
            query = (
                select(FillRow, OrderRow)
                .join(OrderRow, FillRow.order_id == OrderRow.id)
                .where(OrderRow.connection_id == self.connection_id, OrderRow.mode == self.mode)
            )
            if symbol is not None:
                query = query.where(OrderRow.symbol == symbol)
            return [(f, o) for f, o in session.execute(query.order_by(FillRow.ts, FillRow.id)).all()]

    def unresolved(self) -> list[OrderView]:
        """Orders whose state the exchange may still change or that we never heard back about."""
        return [o for o in self.orders() if o.status not in FINAL_STATUSES]
