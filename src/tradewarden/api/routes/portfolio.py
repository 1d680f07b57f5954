"""The portfolio: every connection's balances valued in one quote currency (cached per connection)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from tradewarden.api.auth import ReadPrincipal, StateDep
from tradewarden.api.errors import ERROR_RESPONSES
from tradewarden.services import portfolio
from tradewarden.services.portfolio import Balance, ConnectionPortfolio, Portfolio

router = APIRouter(prefix="/portfolio", tags=["portfolio"], responses=ERROR_RESPONSES)


class BalanceOut(BaseModel):
    """One asset of a connection; amounts are decimal strings, never floats."""

    asset: str
    free: str
    used: str
    total: str
    value: str | None = Field(description="`total` in the quote currency; null when no price leads there")


class ConnectionPortfolioOut(BaseModel):
    """One connection's balances; `error` says why `total` is null."""

    id: str
    name: str
    exchange: str
    status: str
    total: str | None = Field(description="Sum of the known `value`s; assets with a null value are left out")
    error: str | None
    as_of: datetime | None = Field(description="When these balances were read from the exchange")
    balances: list[BalanceOut]
    simulated: bool = Field(default=False, description="Read from the simulator `up` runs: not real funds")
    testnet: bool = Field(default=False, description="A testnet connection: never added to `total`")
    error_code: str | None = Field(
        default=None,
        description="`error` as a code: portfolio.not_counted {status, name} | portfolio.read_failed "
        "{reason} | portfolio.integrity_error",
    )
    error_params: dict[str, str] = Field(default_factory=dict)


class PortfolioOut(BaseModel):
    """Every connection valued in `quote`, and the sum of their totals."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "quote": "USDT",
                    "as_of": "2026-11-21T09:00:00+00:00",
                    "total": "31300.5",
                    "connections": [
                        {
                            "id": "4f1c0c8e5c9a4c7e9d0b1a2b3c4d5e6f",
                            "name": "MEXC Spot Main",
                            "exchange": "mexc",
                            "status": "online",
                            "total": "31300.5",
                            "error": None,
                            "as_of": "2026-11-21T09:00:00+00:00",
                            "balances": [
                                {
                                    "asset": "BTC",
                                    "free": "0.5",
                                    "used": "0",
                                    "total": "0.5",
                                    "value": "30000",
                                },
                                {
                                    "asset": "USDT",
                                    "free": "1000.5",
                                    "used": "300",
                                    "total": "1300.5",
                                    "value": "1300.5",
                                },
                                {"asset": "XYZ", "free": "7", "used": "0", "total": "7", "value": None},
                            ],
                        },
                        {
                            "id": "9a8b7c6d5e4f30211a2b3c4d5e6f7a8b",
                            "name": "KuCoin Futures Conservative",
                            "exchange": "kucoin",
                            "status": "ip_not_allowed",
                            "total": None,
                            "error": "connection is ip_not_allowed; test it first",
                            "as_of": None,
                            "balances": [],
                        },
                    ],
                }
            ]
        }
    )
    quote: str
    as_of: datetime = Field(description="Time of the oldest balances included (they are cached briefly)")
    total: str = Field(description="Sum of the connection totals that are not null")
    connections: list[ConnectionPortfolioOut]
    simulated_total: str = Field(default="0", description="The part of `total` that is simulated funds")
    testnet_total: str = Field(default="0", description="Testnet connections' value, not part of `total`")


def _text(amount: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _balance(balance: Balance) -> BalanceOut:
    return BalanceOut(
        asset=balance.asset,
        free=_text(balance.free),
        used=_text(balance.used),
        total=_text(balance.total),
        value=None if balance.value is None else _text(balance.value),
    )


def _connection(part: ConnectionPortfolio) -> ConnectionPortfolioOut:
    return ConnectionPortfolioOut(
        id=part.id,
        name=part.name,
        exchange=part.exchange,
        status=part.status,
        total=None if part.total is None else _text(part.total),
        error=part.error,
        as_of=part.as_of,
        balances=[_balance(b) for b in part.balances],
        simulated=part.simulated,
        testnet=part.testnet,
        error_code=part.error_code,
        error_params=dict(part.error_params),
    )


def portfolio_out(result: Portfolio) -> PortfolioOut:
    """The API view of a portfolio."""
    return PortfolioOut(
        quote=result.quote,
        as_of=result.as_of,
        total=_text(result.total),
        connections=[_connection(part) for part in result.connections],
        simulated_total=_text(result.simulated_total),
        testnet_total=_text(result.testnet_total),
    )


@router.get("", response_model=PortfolioOut, summary="Balances of every connection, valued")
async def get_portfolio(
    principal: ReadPrincipal,
    state: StateDep,
    quote: str = Query(
        "USDT", min_length=2, max_length=12, pattern=r"^[A-Za-z0-9]+$", description="Currency to value in"
    ),
) -> PortfolioOut:
    """Balances read through each connection's key, valued with the exchange's own spot prices.

    Only online and untested connections are read; the others carry an `error` asking for a test. Each
    connection's balances are cached for a short time (30 s by default), so refreshing is cheap. An asset
    with no price in the quote currency (directly, inverted, or through USDT) has `value` null and is left
    out of the totals.
    """
    result = await portfolio.get_portfolio(
        state.app_for(principal.actor),
        state.passphrase,
        quote,
        state.portfolio_cache,
    )
    return portfolio_out(result)
