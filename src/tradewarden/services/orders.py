"""Orders as the product places them: the order guard in front of an executor, audit and events.

`GuardedExecutor` wraps any Executor (paper or live). Before an order goes on, it reads the connection
(status, and `permissions_verified`: the last test read the key's permissions), the bot's exposure
(what its filled orders hold plus what its open orders may still take) and, for live orders, the
market's precision and minimums; a refusal raises `OrderRefused`, is audited (`order.refused`, with the
bot and the order) and published as an `order` event with status `refused`, and the executor never sees
it. Accepted orders and their changes are published as `order` events, new executions as `fill` events.
Live orders placed and canceled are audited (`order.placed` / `order.canceled`), paper ones when placed
by hand (`audit_paper`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select

from tradewarden.adapters import audit
from tradewarden.adapters.execution.base import Executor, FillView, OrderRequest, OrderView
from tradewarden.adapters.execution.guard import (
    ConnectionState,
    GuardPolicy,
    MarketTerms,
    OrderRefused,
    check,
)
from tradewarden.adapters.execution.ledger import OrderLedger
from tradewarden.adapters.execution.live import LiveConfig, LiveExecutor
from tradewarden.adapters.execution.paper import MarketInfo, MarketSource
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import Connection, FillRow, OrderRow
from tradewarden.services import events
from tradewarden.services.connections.checks import permissions_verified

__all__ = [
    "GuardPolicy",
    "GuardedExecutor",
    "OrderRefused",
    "connection_state",
    "exposure_of",
    "live_executor_for",
]


async def live_executor_for(
    store: Store,
    hub: MarketHub,
    connection_id: str,
    exchange_id: str,
    make_client: Callable[[], Any],
    config: LiveConfig | None = None,
) -> LiveExecutor:
    """A LiveExecutor on the connection's long-lived private client from the hub's registry.

    `make_client` must be the exchange client factory (adapters/exchanges/client.client_for_connection),
    the one place the connection's secrets are opened; it runs only when the registry has no client yet.
    """
    client = await hub.private.get(connection_id, make_client)
    return LiveExecutor(store, connection_id, exchange_id, client, config)


def connection_state(store: Store, connection_id: str) -> ConnectionState:
    """The connection's status and whether its newest test read the key's permissions."""
    with store.session() as session:
        row = session.get(Connection, connection_id)
        if row is None:
            return ConnectionState("removed", False)
        return ConnectionState(row.status, permissions_verified(session, row))


def exposure_of(
    ledger: OrderLedger, bot: str | None, contract_size: Decimal = Decimal(1), contract: bool = True
) -> Decimal:
    """Quote value the bot holds (buys filled minus sells filled) plus what its open orders may take.

    On spot an open sell takes nothing more: the base it offers is already counted as held (counting it
    again refused a grid's own sells, whose base its first market buy paid for). Only the bot's own rows
    are read, not every order of the connection.
    """
    held = Decimal(0)
    on_order = Decimal(0)
    with ledger.store.session() as session:
        query = select(OrderRow).where(
            OrderRow.connection_id == ledger.connection_id,
            OrderRow.mode == ledger.mode,
            OrderRow.status != "rejected",
        )
        if bot is not None:
            query = query.where(OrderRow.bot == bot)
        orders = [OrderView.of(r) for r in session.scalars(query)]
    for order in orders:
        held += order.cost if order.side == "buy" else -order.cost
        adds = contract or order.side == "buy"
        if order.status in ("open", "pending", "unknown") and not order.reduce_only and adds:
            price = order.price or order.average or Decimal(0)
            on_order += (order.remaining or Decimal(0)) * price * contract_size
    return max(held, Decimal(0)) + on_order


class GuardedExecutor:
    """An executor behind the order guard, publishing order and fill events."""

    def __init__(
        self,
        store: Store,
        executor: Executor,
        ledger: OrderLedger,
        source: MarketSource,
        exchange_id: str,
        connection_id: str,
        policy: GuardPolicy,
        actor: str,
        audit_paper: bool = False,
    ) -> None:
        self.audit_paper = audit_paper  # live orders are always audited; paper ones when a person placed them
        self.store = store
        self.executor = executor
        self.ledger = ledger
        self.source = source
        self.exchange_id = exchange_id
        self.connection_id = connection_id
        self.policy = policy
        self.actor = actor
        self.mode: Literal["paper", "live"] = executor.mode

    async def _market(self, symbol: str) -> tuple[MarketInfo | None, Decimal | None]:
        markets = await self.source.markets(self.exchange_id)
        market = markets.get(symbol)
        if market is None:
            return None, None
        info = MarketInfo.of(market)
        book = await self.source.order_book(self.exchange_id, symbol, 5)
        bids, asks = book.get("bids") or [], book.get("asks") or []
        mid = None
        if bids and asks:
            mid = (Decimal(str(bids[0][0])) + Decimal(str(asks[0][0]))) / 2
        return info, mid

    def _refuse(self, request: OrderRequest, refusal: OrderRefused) -> None:
        with self.store.session() as session:
            row = session.get(Connection, self.connection_id)
            audit.record(
                session,
                "order.refused",
                self.actor,
                row,
                bot=request.bot,
                reason=refusal.reason,
                message=refusal.message,
                order={
                    "symbol": request.symbol,
                    "side": request.side,
                    "type": request.type,
                    "amount": str(request.amount),
                    "price": None if request.price is None else str(request.price),
                    "reduce_only": request.reduce_only,
                },
                mode=self.mode,
            )
        events.publish(
            self.store,
            events.OrderEvent(
                connection_id=self.connection_id,
                bot=request.bot,
                symbol=request.symbol,
                side=request.side,
                order_type=request.type,
                amount=request.amount,
                price=request.price,
                status="refused",
                reason=refusal.reason,
            ),
        )

    def _publish(self, view: OrderView, bot: str | None) -> None:
        events.publish(self.store, order_event(self.connection_id, bot, view))

    async def create_order(self, request: OrderRequest) -> OrderView:
        """Guard, then place; a refusal raises OrderRefused and never reaches the executor."""
        info, mid = await self._market(request.symbol)
        state = connection_state(self.store, self.connection_id)
        if info is None:
            refusal = OrderRefused("pair_not_allowed", f"{self.exchange_id} has no market {request.symbol}")
            self._refuse(request, refusal)
            raise refusal
        terms = MarketTerms(info.contract_size, info.rules, info.contract)
        try:
            check(
                self.policy,
                request,
                state,
                mid,
                exposure_of(self.ledger, request.bot, info.contract_size, info.contract),
                terms,
                live=self.mode == "live",
            )
        except OrderRefused as refusal:
            self._refuse(request, refusal)
            raise
        before = self._stored_fills(request.symbol)
        view = await self.executor.create_order(request)
        self._audit("order.placed", view, request.bot)
        self._publish(view, request.bot)
        self._publish_new_fills(request.symbol, request.bot, before)
        return view

    def _audit(self, kind: str, view: OrderView, bot: str | None) -> None:
        """Audit an order placed or canceled: every live one (a private exchange call with the key), and
        paper ones when `audit_paper` (placed by hand)."""
        if self.mode != "live" and not self.audit_paper:
            return
        with self.store.session() as session:
            row = session.get(Connection, self.connection_id)
            audit.record(
                session,
                kind,
                self.actor,
                row,
                bot=bot,
                mode=self.mode,
                order={
                    "client_order_id": view.client_order_id,
                    "symbol": view.symbol,
                    "side": view.side,
                    "type": view.type,
                    "amount": str(view.amount),
                    "price": None if view.price is None else str(view.price),
                    "status": view.status,
                },
            )

    def _stored_fills(self, symbol: str) -> int:
        # The newest stored fill id of the connection (from the store, not the executor: a live
        # executor's fills() asks the venue); fills after it are this order's. One scalar, not a scan.
        with self.store.session() as session:
            last = session.scalar(
                select(func.max(FillRow.id))
                .join(OrderRow, FillRow.order_id == OrderRow.id)
                .where(
                    OrderRow.connection_id == self.connection_id,
                    OrderRow.mode == self.ledger.mode,
                    OrderRow.symbol == symbol,
                )
            )
            return int(last or 0)

    def _publish_new_fills(self, symbol: str, bot: str | None, before: int) -> None:
        with self.store.session() as session:
            rows = session.execute(
                select(FillRow, OrderRow)
                .join(OrderRow, FillRow.order_id == OrderRow.id)
                .where(
                    OrderRow.connection_id == self.connection_id,
                    OrderRow.mode == self.ledger.mode,
                    OrderRow.symbol == symbol,
                    FillRow.id > before,
                )
                .order_by(FillRow.id)
            ).all()
        for fill, order in rows:
            view = FillView.of(fill, order)
            events.publish(self.store, fill_event(self.connection_id, bot, view, self.mode == "paper"))

    async def cancel_order(self, client_order_id: str) -> OrderView:
        """Cancel through the executor (cancelling is never refused)."""
        view = await self.executor.cancel_order(client_order_id)
        self._audit("order.canceled", view, view.bot)
        self._publish(view, None)
        return view

    def __getattr__(self, name: str) -> Any:
        # fetch_order, open_orders, fills, balances, positions, close: straight to the executor
        return getattr(self.executor, name)


def order_event(connection_id: str, bot: str | None, view: OrderView) -> events.OrderEvent:
    """The `order` event of a stored order's current state."""
    return events.OrderEvent(
        connection_id=connection_id,
        bot=bot,
        symbol=view.symbol,
        side=view.side,
        order_type=view.type,
        amount=view.amount,
        price=view.price,
        status=view.status,
        client_order_id=view.client_order_id,
        exchange_order_id=view.exchange_order_id,
        reason=view.outcome,
    )


def fill_event(
    connection_id: str,
    bot: str | None,
    fill: FillView,
    paper: bool,
    exchange_order_id: str | None = None,
) -> events.FillEvent:
    """The `fill` event of one stored execution."""
    return events.FillEvent(
        connection_id=connection_id,
        bot=bot,
        symbol=fill.symbol,
        side=fill.side,
        amount=fill.amount,
        price=fill.price,
        fee=fill.fee,
        fee_currency=fill.fee_currency,
        client_order_id=fill.client_order_id,
        exchange_order_id=exchange_order_id,
        paper=paper,
    )
