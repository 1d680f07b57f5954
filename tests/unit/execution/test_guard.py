"""The order guard's pure check: each reason, in order, and what passes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.adapters.execution.guard import (
    REASONS,
    ConnectionState,
    GuardPolicy,
    MarketTerms,
    OrderRefused,
    check,
)
from tradewarden.domain.fills import MarketRules

POLICY = GuardPolicy(frozenset({"BTC/USDT"}), per_order_cap=Decimal(500), margin_limit=Decimal(1000))
ONLINE = ConnectionState("online", permissions_verified=True)
SPOT = MarketTerms(Decimal(1), MarketRules(Decimal("0.01"), Decimal("0.001"), Decimal("0.002"), Decimal(5)))
PERP = MarketTerms(Decimal("0.01"), MarketRules(Decimal("0.1"), Decimal(1), Decimal(1), None), contract=True)


def buy(amount: str, price: str | None = "100") -> OrderRequest:
    """A buy of BTC/USDT: limit at `price`, or market when price is None."""
    if price is None:
        return OrderRequest("BTC/USDT", "buy", "market", Decimal(amount))
    return OrderRequest("BTC/USDT", "buy", "limit", Decimal(amount), Decimal(price))


CASES: list[tuple[str, dict[str, object]]] = [
    ("connection_not_online", {"connection": ConnectionState("ip_not_allowed", True)}),
    ("connection_not_online", {"connection": ConnectionState("untested", False)}),
    ("withdraw_enabled", {"connection": ConnectionState("withdraw_enabled", True)}),
    ("permissions_unverified", {"connection": ConnectionState("online", False)}),
    ("pair_not_allowed", {"request": OrderRequest("ETH/USDT", "buy", "market", Decimal(1))}),
    ("no_price", {"request": buy("1", None), "price": None}),
    ("over_order_cap", {"request": buy("5.001")}),
    ("over_margin_limit", {"request": buy("3"), "exposure": Decimal(701)}),
    ("precision", {"request": buy("1.0005")}),
    ("precision", {"request": buy("1", "100.005")}),
    ("min_amount", {"request": buy("0.001")}),
    ("min_notional", {"request": buy("0.004", "1000"), "exposure": Decimal(0)}),
]


@pytest.mark.parametrize(("reason", "change"), CASES)
def test_each_reason(reason: str, change: dict[str, object]) -> None:
    args: dict[str, object] = {
        "policy": POLICY,
        "request": buy("1"),
        "connection": ONLINE,
        "price": Decimal(100),
        "exposure": Decimal(0),
        "market": SPOT,
        "live": True,
        **change,
    }
    with pytest.raises(OrderRefused) as caught:
        check(**args)  # type: ignore[arg-type]
    assert caught.value.reason == reason
    assert caught.value.message


def test_every_reason_has_a_case() -> None:
    assert {r for r, _ in CASES} == set(REASONS)


def test_within_limits_passes_and_returns_the_notional() -> None:
    assert check(POLICY, buy("4"), ONLINE, Decimal(100), Decimal(600), SPOT, live=True) == Decimal(400)
    # a market order is valued at the reference price
    assert check(POLICY, buy("2", None), ONLINE, Decimal(101), Decimal(0), SPOT, live=True) == Decimal(202)


def test_selling_and_reduce_only_do_not_count_against_the_margin_limit() -> None:
    sell = OrderRequest("BTC/USDT", "sell", "limit", Decimal(4), Decimal(100))
    assert check(POLICY, sell, ONLINE, Decimal(100), Decimal(990), SPOT, live=True) == Decimal(400)
    close = OrderRequest("BTC/USDT", "sell", "market", Decimal(300), reduce_only=True)
    assert check(POLICY, close, ONLINE, Decimal(100), Decimal(990), PERP, live=True) == Decimal(300)
    # a perpetual short opens exposure
    short = OrderRequest("BTC/USDT", "sell", "market", Decimal(300))
    with pytest.raises(OrderRefused, match="over_margin_limit"):
        check(POLICY, short, ONLINE, Decimal(100), Decimal(990), PERP, live=True)


def test_paper_skips_the_exchange_rules_only() -> None:
    odd = buy("1.0005")
    assert check(POLICY, odd, ONLINE, Decimal(100), Decimal(0), SPOT, live=False) == Decimal("100.05")
    with pytest.raises(OrderRefused, match="withdraw_enabled"):
        check(
            POLICY, odd, ConnectionState("withdraw_enabled", True), Decimal(100), Decimal(0), SPOT, live=False
        )
