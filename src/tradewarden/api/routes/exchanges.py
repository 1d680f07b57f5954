"""The supported exchanges, with the guide to creating a least-privilege key on each."""

from __future__ import annotations

from fastapi import APIRouter

from tradewarden.api.auth import ReadPrincipal
from tradewarden.api.errors import ERROR_RESPONSES, NOT_FOUND, ApiError
from tradewarden.api.schemas import ExchangeOut, GuideOut
from tradewarden.services.exchanges import SIMULATED, ExchangeInfo, find_exchange, supported_exchanges

router = APIRouter(prefix="/exchanges", tags=["exchanges"], responses=ERROR_RESPONSES)


def exchange_out(info: ExchangeInfo) -> ExchangeOut:
    """The API view of a registry entry."""
    return ExchangeOut(
        id=info.id,
        name=info.name,
        tier=info.tier,
        markets=sorted(info.ccxt_ids),
        credentials=list(info.credentials),
        key_types=list(info.key_types),
        ip_whitelist=info.ip_whitelist,
        permission_check=info.permission_endpoint is not None,
        simulator=info.id in SIMULATED,
        testnet=info.testnet,
        setting_names=dict(info.setting_names),
        guide=GuideOut(
            where=info.guide.where,
            enable=list(info.guide.enable),
            disable=list(info.guide.disable),
            ip_whitelist=info.guide.ip_whitelist,
            notes=list(info.guide.notes),
        ),
    )


@router.get("", response_model=list[ExchangeOut], summary="Supported exchanges")
def list_exchanges(_: ReadPrincipal) -> list[ExchangeOut]:
    """Every supported exchange, tier 1 first."""
    return [exchange_out(info) for info in supported_exchanges()]


@router.get(
    "/{exchange_id}",
    response_model=ExchangeOut,
    summary="One exchange and its key guide",
    responses=NOT_FOUND,
)
def get_exchange(exchange_id: str, _: ReadPrincipal) -> ExchangeOut:
    """One exchange by id (e.g. `mexc`)."""
    info = find_exchange(exchange_id)
    if info is None:
        raise ApiError(404, "not_found", f"no supported exchange {exchange_id!r}", "exchange_id")
    return exchange_out(info)
