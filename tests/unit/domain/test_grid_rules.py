"""Grid rules with hand-computed prices: levels, layout, replacement one level away, trailing, limits."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewarden.domain.fills import Fees, MarketRules, floor_to_step
from tradewarden.domain.strategies import grid
from tradewarden.domain.strategies.base import CancelOrder, Context, PlaceOrder, SettingsError, Triggers

from .driver import Driver


def q(x: D) -> D:
    """An amount floored to the grid's default amount step."""
    return floor_to_step(x, grid.AMOUNT_STEP)


BASE = {"lower": "90", "upper": "110", "levels": "5", "order_amount": "100"}


def make(values: dict[str, str] | None = None, **context: object) -> Driver:
    context.setdefault("fees", Fees(D(0), D(0)))
    s = grid.parse({**BASE, **(values or {})}, Context(**context))  # type: ignore[arg-type]
    return Driver(grid.GRID, s)


def book(d: Driver) -> dict[D, str]:
    return {o.price: o.side for o in d.resting.values() if o.price is not None}


def test_arithmetic_and_geometric_levels() -> None:
    assert make().settings.prices == (D(90), D(95), D(100), D(105), D(110))
    g = make({"lower": "100", "upper": "400", "levels": "3", "spacing": "geometric"}).settings
    assert [p.quantize(D("0.000001")) for p in g.prices] == [D(100), D(200), D(400)]
    t = make({"lower": "1", "upper": "2", "levels": "4"}, rules=MarketRules(tick_size=D("0.01"))).settings
    assert t.prices == (D("1.00"), D("1.33"), D("1.67"), D("2"))


def test_layout_leaves_the_nearest_level_empty_and_buys_base_for_the_sells() -> None:
    d = make()
    acts = d.call("101", follow_up=False)
    market = [a for a in acts if isinstance(a, PlaceOrder)]
    # sells at 105 and 110 sell what buys at 100 and 105 would buy: 100/100 + 100/105
    assert len(market) == 1 and market[0].kind == "market"
    assert market[0].amount == D(1) + q(D(100) / D(105))
    d.call("101")
    assert book(d) == {D(90): "buy", D(95): "buy", D(105): "sell", D(110): "sell"}
    amounts = {o.price: o.amount for o in d.resting.values()}
    assert amounts == {
        D(90): q(D(100) / D(90)),
        D(95): q(D(100) / D(95)),
        D(105): D(1),
        D(110): q(D(100) / D(105)),
    }
    assert grid.triggers(d.settings, d.state) == Triggers()  # only fills matter now


def test_each_fill_is_replaced_by_its_opposite_one_level_away() -> None:
    d = make()
    d.call("101")
    d.cross("95")  # the buy at 95 fills -> a sell at 100 for what it bought
    assert book(d) == {D(90): "buy", D(100): "sell", D(105): "sell", D(110): "sell"}
    sell_100 = next(o for o in d.resting.values() if o.price == D(100))
    assert sell_100.amount == q(D(100) / D(95))
    d.cross("100")  # that sell fills -> a buy at 95 again
    assert book(d) == {D(90): "buy", D(95): "buy", D(105): "sell", D(110): "sell"}
    assert d.state.trades == 1
    snap = grid.snapshot(d.settings, d.state, D(100))
    assert snap.position == D(1) + q(D(100) / D(105))


def test_trade_profit_of_a_round_trip_without_fees() -> None:
    d = make()
    d.call("100")  # empty level 100; sells at 105 and 110 need 1 + 100/105 base, bought at 100
    d.cross("95")
    d.cross("100")
    # average cost accounting: the sell at 100 sold 100/95 base at the average cost of everything held
    a105, a95 = q(D(100) / D(105)), q(D(100) / D(95))
    held_cost = D(100) * (D(1) + a105) + D(95) * a95
    held = D(1) + a105 + a95
    expected = a95 * (D(100) - held_cost / held)
    assert d.state.realized_pnl == pytest.approx(expected, rel=D("1e-20"))


def test_trailing_moves_the_range_up_when_every_sell_has_filled() -> None:
    d = make({"trailing": "on"})
    d.call("101")
    d.cross("105")
    d.cross("110")
    assert book(d) == {D(90): "buy", D(95): "buy", D(100): "buy", D(105): "buy"}
    assert grid.triggers(d.settings, d.state).high == D(115)
    acts = d.call("115")
    cancels = [a for a in acts if isinstance(a, CancelOrder)]
    assert len(cancels) == 1
    assert book(d) == {D(95): "buy", D(100): "buy", D(105): "buy", D(110): "buy"}
    assert d.state.prices == (D(95), D(100), D(105), D(110), D(115))
    assert d.events("grid_trailed")[0].reason == "range moved up to 95..115"
    assert grid.triggers(d.settings, d.state).high == D(120)


def test_without_trailing_the_range_stays() -> None:
    d = make()
    d.call("101")
    d.cross("105")
    d.cross("110")
    assert grid.triggers(d.settings, d.state).high is None
    d.call("130")
    assert d.state.prices == d.settings.prices


def test_margin_limit_refuses_the_grid_with_the_worst_case() -> None:
    # 4 slots x 100 x the largest neighbour ratio 95/90
    s = make().settings
    assert s.worst_case_margin == D(400) * D(95) / D(90)
    with pytest.raises(SettingsError) as err:
        make(margin_limit=D(400))
    assert err.value.key == "margin_limit" and "422.22" in str(err.value)


def test_tick_size_coarser_than_spacing_is_refused() -> None:
    with pytest.raises(SettingsError) as err:
        make({"lower": "1", "upper": "1.02", "levels": "10"}, rules=MarketRules(tick_size=D("0.01")))
    assert err.value.key == "levels" and "tick size 0.01" in str(err.value)


def test_price_below_the_range_buys_base_for_every_sell() -> None:
    d = make()
    acts = d.call("80", follow_up=False)
    (buy,) = [a for a in acts if isinstance(a, PlaceOrder)]
    assert buy.amount == sum((q(D(100) / p) for p in (D(90), D(95), D(100), D(105))), D(0))
    d.call("80")
    assert set(book(d).values()) == {"sell"} and len(book(d)) == 4
