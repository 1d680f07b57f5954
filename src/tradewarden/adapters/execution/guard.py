"""The order guard: checks one order against the bot's limits and the connection before any executor.

Pure: the caller supplies the policy, the connection's state, the bot's exposure and (live) the market's
rules; `check` raises `OrderRefused` naming the first reason that applies, in this order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.domain import fills as fm

RefusalReason = Literal[
    "connection_not_online",
    "withdraw_enabled",
    "permissions_unverified",
    "pair_not_allowed",
    "no_price",
    "over_order_cap",
    "over_margin_limit",
    "precision",
    "min_amount",
    "min_notional",
]
REASONS: tuple[RefusalReason, ...] = get_args(RefusalReason)


@dataclass(frozen=True)
class GuardPolicy:
    """A bot's limits (the bot runner fills this from the bot's settings)."""

    pairs: frozenset[str]
    per_order_cap: Decimal  # quote value of one order
    margin_limit: Decimal  # quote value of everything the bot holds and has on order


@dataclass(frozen=True)
class ConnectionState:
    """What the guard needs of the connection: its status and whether its last test read the permissions."""

    status: str
    permissions_verified: bool


@dataclass(frozen=True)
class MarketTerms:
    """A market's contract size and rules as the exchange enforces them (live orders are checked)."""

    contract_size: Decimal
    rules: fm.MarketRules
    contract: bool = False


class OrderRefused(Exception):
    """The guard refused an order; `reason` is a stable code, the message names the figures."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        self.reason: RefusalReason = reason
        self.message = message
        super().__init__(f"{reason}: {message}")


def increases_exposure(request: OrderRequest, contract: bool) -> bool:
    """Whether the order adds to what the bot holds (reduce-only and spot sells do not)."""
    if request.reduce_only:
        return False
    return contract or request.side == "buy"


def check(
    policy: GuardPolicy,
    request: OrderRequest,
    connection: ConnectionState,
    price: Decimal | None,
    exposure: Decimal,
    market: MarketTerms,
    live: bool,
) -> Decimal:
    """Refuse (OrderRefused) or return the order's quote notional."""
    if connection.status == "withdraw_enabled":
        raise OrderRefused("withdraw_enabled", "the key can withdraw funds; trading on it is refused")
    if connection.status != "online":
        raise OrderRefused("connection_not_online", f"the connection is {connection.status}, not online")
    if not connection.permissions_verified:
        raise OrderRefused(
            "permissions_unverified", "the connection's last test did not read the key's permissions"
        )
    if request.symbol not in policy.pairs:
        raise OrderRefused("pair_not_allowed", f"{request.symbol} is not one of the bot's pairs")
    value_price = request.price if request.price is not None else price
    if value_price is None or value_price <= 0:
        raise OrderRefused("no_price", f"no price to value the order on {request.symbol}")
    notional = request.amount * market.contract_size * value_price
    if notional > policy.per_order_cap:
        raise OrderRefused(
            "over_order_cap",
            f"notional {fm.shown(notional)} is above the per-order cap {fm.shown(policy.per_order_cap)}",
        )
    if increases_exposure(request, market.contract) and exposure + notional > policy.margin_limit:
        raise OrderRefused(
            "over_margin_limit",
            f"exposure {fm.shown(exposure)} + {fm.shown(notional)} would pass the margin limit "
            f"{fm.shown(policy.margin_limit)}",
        )
    if live:
        check_market(request, market, value_price)
    return notional


def check_market(request: OrderRequest, market: MarketTerms, value_price: Decimal) -> None:
    """Refuse (OrderRefused: precision, min_amount, min_notional) an order the market's rules reject."""
    cs = market.contract_size
    rules = market.rules.in_base(cs)
    try:
        fm.check_order(request.side, request.amount * cs, request.price, rules, value_price)
    except fm.OrderRejected as exc:
        reason: RefusalReason = {
            "lot_size": "precision",
            "tick_size": "precision",
            "min_amount": "min_amount",
            "min_notional": "min_notional",
        }.get(exc.reason, "precision")  # type: ignore[assignment]
        raise OrderRefused(reason, str(exc).split(": ", 1)[-1]) from exc
