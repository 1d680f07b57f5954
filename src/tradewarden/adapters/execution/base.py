"""The Executor protocol and the values it speaks in (Decimal amounts, ccxt's field names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

from tradewarden.adapters.store.models import FillRow, OrderRow

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
FINAL_STATUSES = frozenset({"closed", "canceled", "rejected", "expired"})


@dataclass(frozen=True)
class OrderRequest:
    """What a bot asks for. Amounts are in the market's unit (base, or contracts on contract markets)."""

    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    price: Decimal | None = None
    reduce_only: bool = False
    bot: str | None = None
    max_slippage_pct: Decimal | None = None  # paper market orders: stop walking the book beyond this
    tag: str | None = None  # the strategy's name for the order, unique per bot (orders.tag)


@dataclass(frozen=True)
class OrderView:
    """An order as the store holds it (ccxt's order shape, Decimal amounts)."""

    id: str
    client_order_id: str
    exchange_order_id: str | None
    symbol: str
    side: str
    type: str
    amount: Decimal
    price: Decimal | None
    reduce_only: bool
    status: str
    filled: Decimal
    remaining: Decimal | None
    average: Decimal | None
    cost: Decimal
    fee: Decimal
    outcome: str | None
    error: str | None
    reconciled: bool
    bot: str | None = None
    tag: str | None = None
    created_at: datetime | None = None  # when we stored it (before the exchange heard of it), UTC
    updated_at: datetime | None = None  # its last change, UTC

    @classmethod
    def of(cls, row: OrderRow) -> OrderView:
        """The view of a stored order."""
        return cls(
            row.id,
            row.client_order_id,
            row.exchange_order_id,
            row.symbol,
            row.side,
            row.type,
            row.amount,
            row.price,
            row.reduce_only,
            row.status,
            row.filled,
            row.remaining,
            row.average,
            row.cost,
            row.fee,
            row.outcome,
            row.error,
            row.reconciled,
            row.bot,
            row.tag,
            row.created_at,
            row.updated_at,
        )

    @property
    def final(self) -> bool:
        """True when the order can change no more."""
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class FillView:
    """One execution of one of our orders."""

    client_order_id: str
    trade_id: str
    symbol: str
    side: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str | None
    liquidity: str | None

    @classmethod
    def of(cls, row: FillRow, order: OrderRow) -> FillView:
        """The view of a stored fill."""
        return cls(
            order.client_order_id,
            row.trade_id,
            order.symbol,
            order.side,
            row.price,
            row.amount,
            row.fee,
            row.fee_currency,
            row.liquidity,
        )


@dataclass(frozen=True)
class Balance:
    """One currency's free, used and total amounts."""

    currency: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True)
class Position:
    """An open position in a contract market (contracts signed: + long, - short)."""

    symbol: str
    contracts: Decimal
    entry_price: Decimal | None


class Executor(Protocol):
    """What a bot runner and the conformance suite use, paper or live alike."""

    mode: Literal["paper", "live"]

    async def create_order(self, request: OrderRequest) -> OrderView:
        """Place an order; an exchange refusal comes back as status `rejected` with its outcome."""
        ...

    async def cancel_order(self, client_order_id: str) -> OrderView:
        """Cancel an open order (a final order is returned unchanged)."""
        ...

    async def fetch_order(self, client_order_id: str) -> OrderView:
        """The order's current state (refreshed from the exchange or the paper book)."""
        ...

    async def open_orders(self, symbol: str | None = None) -> list[OrderView]:
        """Orders still open."""
        ...

    async def fills(self, symbol: str | None = None) -> list[FillView]:
        """Our executions, oldest first."""
        ...

    async def balances(self) -> dict[str, Balance]:
        """Balances by currency."""
        ...

    async def positions(self, symbol: str | None = None) -> list[Position]:
        """Open positions on contract markets."""
        ...

    async def close(self) -> None:
        """Release what the executor holds (not the shared clients it was given)."""
        ...
