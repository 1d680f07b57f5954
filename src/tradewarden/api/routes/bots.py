"""Bots: create, start, stop, close position, remove (scope trade); list, show, orders, fills, candles (read).

Thin: the verbs are services/bots (service.py, control.py; views.py for the chart's reads). A live bot is
created or started, and a position closed at market, only with `"confirm": true`; without it the answer
is 409 `confirmation_required` (for a live bot, naming what it may commit at most). Bots are addressed
by name; names may hold "/", so the `path` converter takes the rest of the path and the suffixed routes
are declared first.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradewarden.api.auth import ReadPrincipal, StateDep, TradePrincipal
from tradewarden.api.errors import ERROR_RESPONSES, NOT_FOUND, ApiError, ErrorResponse
from tradewarden.api.routes.trading import OrderOut
from tradewarden.api.state import ServerState
from tradewarden.services import trading
from tradewarden.services.bots import control, service, views
from tradewarden.services.errors import UserError
from tradewarden.services.vault_session import VaultSession

log = logging.getLogger(__name__)

router = APIRouter(prefix="/bots", tags=["bots"], responses=ERROR_RESPONSES)

CONFIRM_OR_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorResponse,
        "description": "The name is taken, or a live bot was sent without `confirm: true` "
        "(code `confirmation_required`; the message names the maximum commit)",
    }
}
CONFIRMATION: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorResponse,
        "description": "Sent without `confirm: true` (code `confirmation_required`)",
    }
}
SIZE_CHECK_DOWN: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorResponse,
        "description": "The exchange did not answer the market read the order-size check needs "
        "(`exchange_unavailable`); nothing was stored or started",
    }
}
UPSTREAM: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorResponse, "description": "The exchange did not answer with candles"}
}
SETTING_KEY = r"^[a-z_]{1,40}$"


class BotIn(BaseModel):
    """A new bot, as `tradewarden bots create` takes it; settings are the `--set` values, as text."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "BTC DCA",
                    "connection": "MEXC Spot Main",
                    "strategy": "dca",
                    "pairs": ["BTC/USDT"],
                    "mode": "paper",
                    "risk": "balanced",
                    "margin_limit": "1000",
                    "recovery": True,
                    "settings": {"base_order": "100", "take_profit_pct": "1"},
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=64)
    connection: str = Field(min_length=1, max_length=64)
    strategy: str = Field(min_length=1, max_length=16, description="dca or grid")
    pairs: list[str] = Field(min_length=1, max_length=service.MAX_PAIRS)
    mode: Literal["paper", "live"] = "paper"
    risk: Literal["conservative", "balanced", "aggressive"] | None = None
    margin_limit: Decimal | None = Field(default=None, gt=0, allow_inf_nan=False)
    recovery: bool | None = Field(default=None, description="Recovery Mode; null: the settings' default")
    settings: dict[str, str] = Field(default_factory=dict, max_length=64)
    confirm: bool = Field(default=False, description="Required (true) for mode live")


class ConfirmIn(BaseModel):
    """An explicit confirmation (a live start, closing a position at market)."""

    model_config = ConfigDict(extra="forbid")
    confirm: bool = False


class StopIn(BaseModel):
    """How to stop: leave the bot's open orders on the book, or cancel them."""

    model_config = ConfigDict(extra="forbid")
    cancel_orders: bool = False


class BotOut(BaseModel):
    """A bot (decimals as strings): the DESIGN.md bot object and the figures `bots show` adds."""

    id: str
    name: str
    connection: str
    connection_testnet: bool
    strategy: str
    pairs: list[str]
    mode: Literal["paper", "live"]
    status: str
    status_reason: str | None
    risk: str | None
    settings: dict[str, str]
    margin_limit: str | None
    max_commit: str
    margin_used: str
    margin_used_max: str
    addons_used: int
    recovery: bool
    recovery_active: bool
    realized_pnl: str
    unrealized_pnl: str
    fees: str
    groups: int
    pair_states: dict[str, dict[str, Any]] = Field(
        description="Per pair: price, average_price, position, triggers {low, high}, P&L, add-ons, ..."
    )
    updated_at: str


class HistoryOut(BaseModel):
    """One entry of a bot's history."""

    ts: str
    market_ts_ms: int | None
    kind: str
    pair: str | None
    reason: str


class BotDetailOut(BotOut):
    """A bot with its history, newest first."""

    history: list[HistoryOut]


class BotOrderOut(OrderOut):
    """One of the bot's orders, with what it did for the bot."""

    kind: Literal["entry", "addon", "exit"]


class FillOut(BaseModel):
    """One fill of one of the bot's orders; `kind` places it on the chart (entry, add-on, exit)."""

    ts: str
    ts_ms: int
    symbol: str
    side: str
    kind: Literal["entry", "addon", "exit"]
    price: str
    amount: str
    fee: str
    fee_currency: str | None
    client_order_id: str
    mode: str


class CandlesOut(BaseModel):
    """Candles `[ms, open, high, low, close, volume]` (prices as decimal strings), oldest first."""

    pair: str
    timeframe: str
    candles: list[list[int | str | None]]


class StopOut(BaseModel):
    """The stopped bot and the orders canceled on the way (empty when they were left)."""

    bot: BotOut
    canceled: list[OrderOut]


class CloseOut(BaseModel):
    """The market orders that closed the bot's position (empty when it held nothing)."""

    orders: list[OrderOut]


async def _vault(state: ServerState) -> VaultSession:
    if state.vault is None:  # the market job opens it at start; without that job, open it once here
        state.vault = await asyncio.to_thread(VaultSession.open, state.app, state.passphrase)
    vault: VaultSession = state.vault
    return vault


def _confirmation_required(view: service.BotView, verb: str) -> ApiError:
    return ApiError(
        409,
        "confirmation_required",
        f"{verb} bot {view.name} in live mode trades real funds on {view.connection}: it may commit at "
        f"most {view.max_commit} (its margin limit, or its settings' worst case); "
        'send "confirm": true to go ahead',
        "confirm",
    )


def _order_out(view: Any, mode: str) -> dict[str, Any]:
    return {**trading.order_json(view, mode), "kind": views.kind_of(view.tag, view.side)}


@router.get("", response_model=list[BotOut], summary="List bots")
def list_bots(_: ReadPrincipal, state: StateDep) -> Any:
    """Every bot, by name, with its status, mode, P&L, margin in use and Recovery Mode."""
    return [view.to_json() for view in service.list_bots(state.app)]


@router.post(
    "",
    response_model=BotOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a bot",
    responses={**NOT_FOUND, **CONFIRM_OR_CONFLICT, **SIZE_CHECK_DOWN},
)
async def create_bot(body: BotIn, principal: TradePrincipal, state: StateDep) -> Any:
    """Store a new bot (status `created`; start it with POST /bots/NAME/start). Live needs `confirm`.

    Every order the settings will place is checked against the exchange's rules at the current price:
    422 names the order, the rule and the smallest passing value; 503 when the market cannot be read.
    """
    spec = service.BotSpec(
        name=body.name,
        connection=body.connection,
        strategy=body.strategy.strip().lower(),
        pairs=tuple(body.pairs),
        mode=body.mode,
        risk=body.risk,
        margin_limit=body.margin_limit,
        recovery=body.recovery,
        settings=body.settings,
    )
    checked = service.validate(spec)
    if checked.mode == "live" and not body.confirm:
        commit = service.max_commit(
            checked.strategy,
            checked.pairs,
            checked.settings or {},
            checked.risk,
            checked.margin_limit,
            checked.recovery,
        )
        raise ApiError(
            409,
            "confirmation_required",
            f"a live bot trades real funds: {checked.name} may commit at most {commit} "
            f'(its margin limit, or its settings\' worst case); send "confirm": true to create it',
            "confirm",
        )
    app = state.app_for(principal.actor)
    async with views.market(state.market) as hub:
        view = await service.create_checked(app, checked, hub, lambda: _vault(state))
    return view.to_json()


@router.get(
    "/{name:path}/orders",
    response_model=list[BotOrderOut],
    summary="A bot's orders",
    responses=NOT_FOUND,
)
def bot_orders(
    name: str,
    _: ReadPrincipal,
    state: StateDep,
    open: bool = Query(False, description="Only orders still open"),
) -> Any:
    """The bot's orders, newest first, each with its kind (entry, add-on, exit)."""
    return [_order_out(view, mode) for view, mode in service.orders(state.app, name, open)]


@router.get("/{name:path}/fills", response_model=list[FillOut], summary="A bot's fills", responses=NOT_FOUND)
def bot_fills(
    name: str,
    _: ReadPrincipal,
    state: StateDep,
    limit: int = Query(500, ge=1, le=5000, description="The newest this many"),
) -> Any:
    """The bot's fills, oldest first: side, price, amount, time and kind, the chart's markers."""
    return views.fills(state.app, name, limit)


@router.get(
    "/{name:path}/candles",
    response_model=CandlesOut,
    summary="Candles of a bot's pair",
    responses={**NOT_FOUND, **UPSTREAM},
)
async def bot_candles(
    name: str,
    _: ReadPrincipal,
    state: StateDep,
    timeframe: Literal["1m", "5m", "15m", "1h", "4h", "1d"] = "1m",
    limit: int = Query(300, ge=1, le=views.MAX_CANDLES),
    pair: str | None = Query(None, min_length=1, max_length=48, description="Default: the bot's first"),
) -> Any:
    """OHLCV of the bot's pair through the server's market hub, for its chart."""
    try:
        return await views.candles(state.app, name, state.market, pair, timeframe, limit)
    except UserError:
        raise
    except Exception as exc:  # the exchange is down or refused: say so, never a 500
        log.info("candles for bot %s failed: %s", name, type(exc).__name__)
        raise ApiError(
            502, "exchange_unavailable", f"the exchange gave no candles ({type(exc).__name__}); try again"
        ) from None


@router.post(
    "/{name:path}/start",
    response_model=BotOut,
    summary="Start a bot",
    responses={**NOT_FOUND, **CONFIRM_OR_CONFLICT, **SIZE_CHECK_DOWN},
)
async def start_bot(
    name: str, principal: TradePrincipal, state: StateDep, body: ConfirmIn | None = None
) -> Any:
    """Mark the bot running (the server's runner drives it). A live bot needs `confirm`. Its orders are
    checked against the exchange's rules at the current price first, as on create."""
    view = await asyncio.to_thread(service.get, state.app, name)
    if view.mode == "live" and view.status != "running" and not (body and body.confirm):
        raise _confirmation_required(view, "starting")
    app = state.app_for(principal.actor)
    async with views.market(state.market) as hub:
        started = await service.start_checked(app, name, hub, lambda: _vault(state))
    return started.to_json()


@router.post("/{name:path}/stop", response_model=StopOut, summary="Stop a bot", responses=NOT_FOUND)
async def stop_bot(name: str, principal: TradePrincipal, state: StateDep, body: StopIn | None = None) -> Any:
    """Stop the bot, leaving its open orders (default) or canceling them (`cancel_orders`)."""
    cancel = bool(body and body.cancel_orders)
    app = state.app_for(principal.actor)
    await asyncio.to_thread(service.get, app, name)  # 404 before anything changes
    vault = await _vault(state) if cancel else state.vault
    async with views.market(state.market) as hub:
        view, canceled = await control.stop(app, name, cancel, hub, vault)
    return {"bot": view.to_json(), "canceled": [trading.order_json(o, view.mode) for o in canceled]}


@router.post(
    "/{name:path}/close-position",
    response_model=CloseOut,
    summary="Close a stopped bot's position at market",
    responses={**NOT_FOUND, **CONFIRMATION},
)
async def close_position(name: str, principal: TradePrincipal, state: StateDep, body: ConfirmIn) -> Any:
    """Sell (buy back, for a short) what the bot holds at market; needs `confirm` and a stopped bot."""
    view = await asyncio.to_thread(service.get, state.app, name)
    if not body.confirm:
        raise ApiError(
            409,
            "confirmation_required",
            f'closing bot {view.name}\'s position sells at market; send "confirm": true to go ahead',
            "confirm",
        )
    app = state.app_for(principal.actor)
    vault = await _vault(state)
    async with views.market(state.market) as hub:
        placed = await control.close_position(app, name, hub, vault)
    return {"orders": [trading.order_json(o, view.mode) for o in placed]}


@router.api_route("/{name:path}/orders", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
@router.api_route("/{name:path}/fills", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
@router.api_route("/{name:path}/candles", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
@router.api_route("/{name:path}/start", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
@router.api_route("/{name:path}/stop", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
@router.api_route(
    "/{name:path}/close-position", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def not_allowed(_: TradePrincipal) -> None:
    """405 with the resource's documented methods in Allow, not the bare `/{name}` routes answering."""
    raise StarletteHTTPException(405)


@router.get("/{name:path}", response_model=BotDetailOut, summary="Show a bot", responses=NOT_FOUND)
def show_bot(name: str, _: ReadPrincipal, state: StateDep) -> Any:
    """The bot with its per-pair figures (average price, triggers, add-ons, P&L) and its history."""
    view = service.get(state.app, name)
    return {**view.to_json(), "history": service.history(state.app, name)}


@router.delete(
    "/{name:path}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a bot", responses=NOT_FOUND
)
def remove_bot(name: str, principal: TradePrincipal, state: StateDep) -> Response:
    """Delete a bot that is not running (stop it first); its orders stay in the connection's history."""
    service.remove(state.app_for(principal.actor), name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
