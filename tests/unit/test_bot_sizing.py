"""The order-size check of bots (services/bots/sizing.py): which orders fail a market's rules, the smallest
setting that passes (it passes, one step less fails), and the advice for a refusal at run time."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewarden.adapters.execution.paper import MarketInfo
from tradewarden.domain.strategies import STRATEGIES, dca
from tradewarden.services.bots import sizing

D = Decimal
PERP = "BTC/USDT:USDT"
DCA = dict(dca.DESIGN_EXAMPLE)  # base 100, add-ons 150 x1.5 at -2/-4/-6 %, take profit 1 %


def market(
    lot: str | None = "0.001", min_notional: str | None = "100", min_amount: str | None = "0.001"
) -> MarketInfo:
    """A ccxt market like Binance USD-M's BTC perpetual (rules overridable)."""
    return MarketInfo.of(
        {
            "symbol": PERP,
            "base": "BTC",
            "quote": "USDT",
            "settle": "USDT",
            "contract": True,
            "contractSize": 1,
            "precision": {"price": 0.1, "amount": None if lot is None else float(lot)},
            "limits": {
                "amount": {"min": None if min_amount is None else float(min_amount)},
                "cost": {"min": None if min_notional is None else float(min_notional)},
            },
        }
    )


def parsed(strategy: str, values: dict[str, str], info: MarketInfo) -> Any:
    """Settings parsed as check_spec parses them (the minimum notional left to the size check)."""
    context = sizing.context_of(info, None, None, None)
    context = dataclasses.replace(context, rules=dataclasses.replace(context.rules, min_notional=None))
    return STRATEGIES[strategy].parse(values, context)


def dca_problems(values: dict[str, str], info: MarketInfo, price: str) -> list[sizing.SizeProblem]:
    s = parsed("dca", values, info)
    return sizing.problems("dca", s, PERP, info, sizing.PricePoint(D(price)), "binanceusdm")


def test_the_usdm_base_order_is_refused_with_the_smallest_that_passes() -> None:
    info = market()
    [problem] = dca_problems(DCA, info, "50001")
    assert (problem.setting, problem.reason) == ("base_order", "min_notional")
    assert problem.order.amount == D("0.001")
    assert problem.smallest == D("100.01") and problem.step == D("0.01")
    assert problem.text == (
        "base order 100 USDT buys 0.001 BTC at 50,001 after rounding to the 0.001 step (50.001 USDT), "
        "under binanceusdm BTC/USDT:USDT's minimum notional 100 USDT; set base_order to at least 100.01 USDT"
    )
    assert dca_problems({**DCA, "base_order": "100.01"}, info, "50001") == []
    assert dca_problems({**DCA, "base_order": "150.01"}, info, "50001") == []
    assert [p.setting for p in dca_problems({**DCA, "base_order": "100"}, info, "50001")] == ["base_order"]


def test_addons_are_checked_at_their_level_prices() -> None:
    # add-on 1 of 120 at -2% of 50,000 (49,000) buys 0.002 BTC = 98 USDT: refused; base 150 passes
    info = market()
    problems = dca_problems({**DCA, "base_order": "150", "addon_order": "120"}, info, "50000")
    assert [(p.setting, p.label) for p in problems] == [("addon_order", "add-on 1 (at -2%)")]
    smallest = problems[0].smallest
    assert smallest is not None
    assert dca_problems({**DCA, "base_order": "150", "addon_order": str(smallest)}, info, "50000") == []


def test_min_amount_without_a_minimum_notional() -> None:
    info = market(lot="0.0001", min_notional=None, min_amount="0.001")
    [problem] = dca_problems({**DCA, "base_order": "10", "addon_count": "0"}, info, "50000")
    assert problem.reason == "min_amount" and "minimum amount 0.001 BTC" in problem.text
    assert problem.smallest == D("50")


def test_grid_levels_are_checked_and_the_smallest_amount_passes_them_all() -> None:
    info = market()
    values = {"lower": "45000", "upper": "55000", "levels": "10", "order_amount": "120"}
    s = parsed("grid", values, info)
    point = sizing.PricePoint(D("50001"))
    [problem] = sizing.problems("grid", s, PERP, info, point, "binanceusdm")
    assert problem.setting == "order_amount" and problem.reason == "min_notional"
    assert "grid buy at level 1 (45,000)" in problem.text
    assert problem.smallest is not None and problem.step is not None
    fixed = parsed("grid", {**values, "order_amount": str(problem.smallest)}, info)
    assert sizing.problems("grid", fixed, PERP, info, point, "binanceusdm") == []
    less = parsed("grid", {**values, "order_amount": str(problem.smallest - problem.step)}, info)
    assert sizing.problems("grid", less, PERP, info, point, "binanceusdm") != []


def test_refusal_advice_names_the_order_of_the_tag() -> None:
    info = market()
    s = parsed("dca", {**DCA, "base_order": "150"}, info)
    point = sizing.PricePoint(D("80000"))
    base = sizing.refusal_advice("dca", s, PERP, info, point, "binanceusdm", "dca-g1-base-1")
    assert base is not None and "base order 150 USDT buys 0.001 BTC at 80,000" in base
    assert "set base_order to at least 160 USDT" in base
    addon = sizing.refusal_advice("dca", s, PERP, info, point, "binanceusdm", "dca-g1-addon1-2")
    assert addon is not None and addon.startswith("add-on 1 150 USDT") and "set addon_order" in addon
    # an exit is sized by the position, not by a setting; an order that passes needs no advice
    assert sizing.refusal_advice("dca", s, PERP, info, point, "binanceusdm", "dca-g1-close-3") is None
    low = sizing.PricePoint(D("50001"))
    assert sizing.refusal_advice("dca", s, PERP, info, low, "binanceusdm", "dca-g1-base-1") is None


def test_paper_rejections_name_the_guard_rule() -> None:
    assert sizing.paper_reason("min_notional: notional 50 (0.001 x 50000) is below 100") == "min_notional"
    assert sizing.paper_reason("min_amount: amount 0.0001 is below the minimum 0.001") == "min_amount"
    assert sizing.paper_reason("lot_size: amount 0.0015 is not a multiple") == "precision"
    assert sizing.paper_reason("needs 10 USDT, 5 free") is None and sizing.paper_reason(None) is None


@settings(max_examples=150, deadline=None)
@given(
    price=st.decimals(min_value=D("0.5"), max_value=D("200000"), places=2),
    lot=st.sampled_from([None, "0.00001", "0.001", "0.01", "1"]),
    min_notional=st.sampled_from([None, "1", "5", "100"]),
    min_amount=st.sampled_from([None, "0.001", "0.5"]),
    base=st.decimals(min_value=D("0.01"), max_value=D("500"), places=2),
)
def test_the_smallest_base_order_passes_and_one_step_less_fails(
    price: Decimal, lot: str | None, min_notional: str | None, min_amount: str | None, base: Decimal
) -> None:
    info = market(lot, min_notional, min_amount)
    values = {**DCA, "base_order": str(base), "addon_count": "0"}
    found = [p for p in dca_problems(values, info, str(price)) if p.setting == "base_order"]
    if not found:
        return
    [problem] = found
    assert problem.smallest is not None and problem.step is not None
    assert problem.smallest > base
    passing = {**values, "base_order": str(problem.smallest)}
    assert dca_problems(passing, info, str(price)) == []
    below = problem.smallest - problem.step
    if below > 0:
        failing = {**values, "base_order": str(below)}
        assert [p.setting for p in dca_problems(failing, info, str(price))] == ["base_order"]


@given(
    threshold=st.decimals(min_value=D("0.0001"), max_value=D("1e9"), places=4),
    start=st.decimals(min_value=D("0.0001"), max_value=D("1e6"), places=4),
)
def test_smallest_passing_is_the_first_passing_multiple_of_its_step(
    threshold: Decimal, start: Decimal
) -> None:
    found = sizing.smallest_passing(lambda v: v >= threshold, start)
    assert found is not None
    value, step = found
    assert value >= threshold and value - step < threshold
    assert value % step == 0
