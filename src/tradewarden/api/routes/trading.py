"""Manual orders on a connection: place and cancel (scope trade), list and the order ticket (scope read).

Thin: every verb is services/trading.py. Mounted before the connections router, whose
`/{connection:path}` routes would otherwise take `NAME/orders` as a connection name.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradewarden.api.auth import ReadPrincipal, StateDep, TradePrincipal
from tradewarden.api.errors import ERROR_RESPONSES, NOT_FOUND, ApiError, ErrorResponse
from tradewarden.api.state import ServerState
from tradewarden.services import trading
from tradewarden.services.vault_session import VaultSession

router = APIRouter(prefix="/connections", tags=["trading"], responses=ERROR_RESPONSES)


class OrderIn(BaseModel):
    """A manual order. `amount` in the base currency (contracts on perpetuals), or the quote with `quote`."""

    pair: str = Field(min_length=1, max_length=48, examples=["BTC/USDT"])
    side: Literal["buy", "sell"]
    amount: Decimal = Field(gt=0, examples=["0.001"])
    type: Literal["market", "limit"] = "market"
    price: Decimal | None = Field(default=None, gt=0)
    reduce_only: bool = False
    paper: bool = False
    quote: bool = False


class OrderOut(BaseModel):
    """An order as the store holds it (amounts as decimal strings)."""

    id: str
    client_order_id: str
    exchange_order_id: str | None
    mode: Literal["paper", "live"]
    symbol: str
    side: str
    type: str
    amount: str
    price: str | None
    reduce_only: bool
    status: str
    filled: str
    remaining: str | None
    average: str | None
    cost: str
    fee: str
    outcome: str | None
    error: str | None
    created_at: str | None = None  # ISO 8601 UTC: stored, before the exchange heard of it
    updated_at: str | None = None  # ISO 8601 UTC: its last change


class TicketOut(BaseModel):
    """What an order ticket shows before sending (decimals as strings; null: the exchange states none)."""

    connection: str
    exchange: str
    pair: str
    testnet: bool
    bid: str | None
    ask: str | None
    maker_fee: str
    taker_fee: str
    min_notional: str | None
    min_amount: str | None
    amount_step: str | None
    price_step: str | None
    base: str
    quote: str


async def _vault(state: ServerState) -> VaultSession:
    if state.vault is None:  # the market job opens it at start; without that job, open it once here
        state.vault = await asyncio.to_thread(VaultSession.open, state.app, state.passphrase)
    vault: VaultSession = state.vault
    return vault


@contextlib.asynccontextmanager
async def _trader(state: ServerState, actor: str, connection: str) -> AsyncIterator[trading.Trader]:
    vault = await _vault(state)
    own_hub = state.market is None
    async with trading.trader(state.app_for(actor), vault, connection, state.market) as trader:
        try:
            yield trader
        finally:
            if own_hub:  # a per-request hub: its private client goes with it
                await trader.hub.private.close(trader.spec.id)


EXCHANGE_DOWN: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorResponse,
        "description": "The exchange did not answer the market read before the order "
        "(`exchange_unavailable`); no order was sent",
    }
}


def _refused(refusal: trading.OrderRefused) -> ApiError:
    return ApiError(422, f"order_refused.{refusal.reason}", refusal.message)


@router.post(
    "/{connection:path}/orders",
    response_model=OrderOut,
    status_code=201,
    summary="Place a manual order",
    responses={**NOT_FOUND, **EXCHANGE_DOWN},
)
async def place_order(connection: str, body: OrderIn, principal: TradePrincipal, state: StateDep) -> Any:
    """Guarded like a bot's order; a refusal is 422 with code `order_refused.<reason>` (nothing is sent)."""
    if body.type == "limit" and body.price is None:
        raise ApiError(422, "invalid_input", "a limit order needs a price", "price")
    ticket = trading.OrderTicket(
        body.pair.strip(),
        body.side,
        body.amount,
        body.type,
        body.price,
        body.reduce_only,
        body.paper,
        body.quote,
    )
    async with _trader(state, principal.actor, connection) as trader:
        try:
            view, mode = await trader.place(ticket)
        except trading.OrderRefused as refusal:
            raise _refused(refusal) from None
    return trading.order_json(view, mode)


@router.get(
    "/{connection:path}/orders",
    response_model=list[OrderOut],
    summary="List a connection's orders",
    responses=NOT_FOUND,
)
async def list_orders(
    connection: str,
    principal: ReadPrincipal,
    state: StateDep,
    open: bool = Query(False, description="Only orders still open"),
) -> Any:
    """Manual and bots' orders, paper and live, newest first (live open ones refreshed first)."""
    async with _trader(state, principal.actor, connection) as trader:
        found = await trader.orders(open)
    return [trading.order_json(view, mode) for view, mode in found]


@router.delete(
    "/{connection:path}/orders/{order_id}",
    response_model=OrderOut,
    summary="Cancel an order",
    responses=NOT_FOUND,
)
async def cancel_order(connection: str, order_id: str, principal: TradePrincipal, state: StateDep) -> Any:
    """Cancel by client order id, exchange order id or stored id."""
    async with _trader(state, principal.actor, connection) as trader:
        view, mode = await trader.cancel(order_id)
    return trading.order_json(view, mode)


@router.get(
    "/{connection:path}/ticket",
    response_model=TicketOut,
    summary="What an order ticket needs",
    responses=NOT_FOUND,
)
async def ticket(
    connection: str,
    principal: ReadPrincipal,
    state: StateDep,
    pair: str | None = Query(
        None,
        min_length=1,
        max_length=48,
        description="Unified symbol (default BTC/USDT, else the first market)",
    ),
) -> Any:
    """The book's best bid/ask, the fee rates, minimum notional and amount, amount and price steps."""
    async with _trader(state, principal.actor, connection) as trader:
        info = await trader.ticket(pair.strip() if pair else None)
    return info.to_json()


# The connections router's `/{connection:path}` routes would answer these methods on the paths above
# (PATCH NAME/orders as an edit of a connection named "NAME/orders", with a 422): answer 405 + Allow instead.
@router.api_route("/{connection:path}/orders", methods=["PUT", "PATCH"], include_in_schema=False)
@router.api_route(
    "/{connection:path}/orders/{order_id}", methods=["GET", "POST", "PUT", "PATCH"], include_in_schema=False
)
@router.api_route(
    "/{connection:path}/ticket", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def not_allowed(_: TradePrincipal) -> None:
    """405 with the resource's documented methods in Allow (errors.http_error_handler)."""
    raise StarletteHTTPException(405)
