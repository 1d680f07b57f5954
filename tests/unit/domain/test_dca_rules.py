"""DCA rules with hand-computed prices: levels, triggers, zones, minimum improvement, exits, Recovery Mode."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tradewarden.domain.fills import Fees
from tradewarden.domain.strategies import dca
from tradewarden.domain.strategies.base import Context, PlaceOrder, SettingsError, StrategyEvent

from .driver import Driver

NO_FEES = Fees(D(0), D(0))
EXAMPLE = {  # DESIGN.md's benchmark example
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "3",
    "addon_deviation_pct": "2",
    "addon_step_scale": "1",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "1",
    "stop_loss_pct": "8",
    "stop_loss_from": "first",
}


def make(values: dict[str, str] | None = None, **context: Any) -> Driver:
    context.setdefault("fees", NO_FEES)
    settings = dca.parse({**EXAMPLE, **(values or {})}, Context(**context))
    return Driver(dca.DCA, settings)


def low(d: Driver) -> D | None:
    return dca.triggers(d.settings, d.state).low


def high(d: Driver) -> D | None:
    return dca.triggers(d.settings, d.state).high


def placed(actions: list[Any]) -> list[PlaceOrder]:
    return [a for a in actions if isinstance(a, PlaceOrder)]


def test_example_levels_deviations_quotes_and_worst_case() -> None:
    s = make().settings
    assert [lv.deviation_pct for lv in s.levels] == [D(2), D(4), D(6)]
    assert [lv.quote for lv in s.levels] == [D(150), D(225), D("337.5")]
    assert s.worst_case_margin == D("812.5")


def test_step_scale_makes_cumulative_deviations_grow() -> None:
    s = make({"addon_step_scale": "2"}).settings
    # 2, 2 + 4, 2 + 4 + 8
    assert [lv.deviation_pct for lv in s.levels] == [D(2), D(6), D(14)]


def test_entry_now_base_order_and_addon_triggers_at_minus_2_4_6() -> None:
    d = make()
    acts = d.call("100")
    (base,) = placed(acts)
    assert (base.side, base.kind, base.amount) == ("buy", "market", D(1))
    assert d.state.group.first_price == D(100)
    assert low(d) == D(98)
    assert placed(d.call("98.01")) == []
    (a1,) = placed(d.call("98"))
    assert a1.amount == D(150) / D(98)
    assert low(d) == D(96)
    (a2,) = placed(d.call("96"))
    assert a2.amount == D(225) / D(96)
    (a3,) = placed(d.call("94"))
    assert a3.amount == D("337.5") / D(94)
    assert d.state.group.addons == (1, 2, 3)
    assert low(d) == D(92)  # only the stop is left below


def test_one_addon_per_call_even_when_price_gaps_through_two_levels() -> None:
    d = make()
    d.call("100")
    acts = d.call("95", follow_up=False)
    assert [o.tag for o in placed(acts)] == ["dca-g1-addon1-2"]
    assert low(d) == D(96)  # the passed level 2 fires at the next call at or below 96
    (a2,) = placed(d.call("95"))
    assert a2.tag.startswith("dca-g1-addon2")


def test_minimum_improvement_moves_the_trigger_below_the_level() -> None:
    d = make({"addon_min_improvement_pct": "2"})
    d.call("100")
    # q A (1 - m) / (q + Q A m) = 150 * 100 * 0.98 / (150 + 1 * 100 * 0.02) = 14700 / 152
    expected = D(14700) / D(152)
    assert low(d) == expected
    assert placed(d.call("98")) == []
    assert placed(d.call("96.72")) == []
    (a1,) = placed(d.call(expected))
    g = d.state.group
    assert g.avg <= D(100) * D("0.98")
    assert g.avg == pytest.approx(D(98), rel=D("1e-20"))
    assert a1.amount == D(150) / expected


def test_take_profit_includes_entry_and_exit_fees() -> None:
    d = make({"addon_count": "0"}, fees=Fees(D("0.001"), D("0.001")))
    d.call("100")
    g = d.state.group
    assert (g.cost, g.fees) == (D(100), D("0.1"))
    target = D("100.1") * D("1.01") / D("0.999")  # (C + F)(1 + tp) / (Q (1 - f))
    assert high(d) == target
    assert target * (1 - D("0.001")) == pytest.approx(D("100.1") * D("1.01"), rel=D("1e-25"))
    assert placed(d.call("101.20")) == []
    acts = d.call("101.21", follow_up=False)  # a follow-up call would open the next group at once
    (close,) = placed(acts)
    assert (close.side, close.amount, close.reduce_only) == ("sell", D(1), False)
    assert [e.kind for e in d.events()][-2:] == ["take_profit", "group_closed"]
    # proceeds 101.21 - exit fee 0.10121 - cost 100 - entry fee 0.1
    assert d.state.realized_pnl == D("1.00879")
    assert d.state.group is None and (d.state.trades, d.state.wins) == (1, 1)


def test_trailing_arms_at_take_profit_and_exits_back_from_the_peak() -> None:
    d = make({"addon_count": "0", "trailing_pct": "0.5"})
    d.call("100")
    assert high(d) == D(101)
    assert placed(d.call("101")) == []
    assert d.events()[-1].kind == "trailing_armed"
    d.call("102")
    assert d.state.group.peak == D(102)
    assert low(d) == D(102) * D("0.995")  # 101.49
    assert high(d) == D(102)
    assert placed(d.call("101.5")) == []
    (close,) = placed(d.call("101.49", follow_up=False))
    assert close.side == "sell"
    assert d.state.realized_pnl == D("1.49")


def test_stop_loss_from_the_first_entry() -> None:
    d = make()
    for p in ("100", "98", "96", "94"):
        d.call(p)
    assert low(d) == D(92)
    assert placed(d.call("92.01")) == []
    (close,) = placed(d.call("92", follow_up=False))
    assert close.side == "sell" and close.amount == d.fills[-1].amount
    assert d.events("stop_loss") and d.state.losses == 1


def test_stop_loss_from_the_average() -> None:
    d = make({"stop_loss_pct": "5", "stop_loss_from": "average"})
    d.call("100")
    assert low(d) == D(98)  # add-on 1 comes before the stop at 95
    d.call("98")
    avg = D(250) / (1 + D(150) / D(98))
    assert dca.stop_price(d.settings, d.state.group) == avg * D("0.95")
    d.call("96")
    d.call("94")
    g = d.state.group
    stop = g.avg * D("0.95")
    assert low(d) == stop
    assert placed(d.call(stop + D("0.0001"))) == []
    assert placed(d.call(stop))[0].side == "sell"


def test_entry_now_reopens_at_the_exit_price_without_cooldown() -> None:
    d = make({"addon_count": "0"})
    d.call("100")
    acts = d.call("101")
    assert [o.side for o in placed(acts)] == ["sell", "buy"]
    assert d.state.group.first_price == D(101) and d.state.groups_opened == 2


def test_cooldown_between_groups() -> None:
    d = make({"addon_count": "0", "cooldown_s": "60"})
    d.call("100", ts=0)
    d.call("101", ts=1_000)  # take profit; the follow-up call waits for the cooldown
    assert d.state.group is None
    assert dca.triggers(d.settings, d.state).wake_ms == 61_000
    assert placed(d.call("101", ts=60_999)) == []
    assert placed(d.call("101", ts=61_000))[0].side == "buy"


def test_entry_below_a_price() -> None:
    d = make({"entry": "below:95"})
    assert low(d) == D(95)
    assert placed(d.call("95.5")) == []
    assert placed(d.call("95"))[0].amount == D(100) / D(95)


def test_entry_on_rsi_below_level() -> None:
    d = make({"entry": "rsi:1h:14:30"})
    assert placed(d.call("100")) == []  # no indicator value supplied: no entry
    assert placed(d.call("100", rsi_1h_14=D(30))) == []
    assert placed(d.call("100", rsi_1h_14=D("29.9")))[0].side == "buy"


def test_short_on_futures_mirrors_levels_and_take_profit() -> None:
    d = make({"side": "short", "leverage": "2", "stop_loss_pct": "0"}, market="futures")
    (base,) = placed(d.call("100"))
    assert (base.side, base.amount) == ("sell", D(1))
    assert high(d) == D(102)
    (a1,) = placed(d.call("102"))
    assert a1.side == "sell"
    g = d.state.group
    assert g.avg == D(250) / (1 + D(150) / D(102))
    target = g.cost * D("0.99") / g.qty  # (C - F)(1 - tp) / (Q (1 + f)), no fees
    assert low(d) == target
    (close,) = placed(d.call(target, follow_up=False))
    assert (close.side, close.reduce_only) == ("buy", True)
    assert dca.snapshot(d.settings, d.state, None).realized_pnl == pytest.approx(D("2.5"), rel=D("1e-20"))


def test_margin_used_is_notional_over_leverage() -> None:
    d = make({"leverage": "4", "stop_loss_pct": "0"}, market="futures")
    d.call("100")
    d.call("98")
    snap = dca.snapshot(d.settings, d.state, D(98))
    assert snap.margin_used == D(250) / 4
    assert snap.addons_used == 1
    assert snap.unrealized_pnl == D(98) * d.state.group.qty - D(250)


def test_parse_rejects_margin_limit_below_worst_case_with_the_figure() -> None:
    with pytest.raises(SettingsError) as err:
        make(margin_limit=D(800))
    assert err.value.key == "margin_limit"
    assert "812.5" in str(err.value) and "800" in str(err.value)
    assert make(margin_limit=D("812.5")).settings.worst_case_margin == D("812.5")


def test_runtime_margin_refusal_skips_the_level() -> None:
    # worst case fits, but a partial base fill grew... simulate a group already holding more than planned
    d = make(margin_limit=D("812.5"))
    d.call("100")
    g = d.state.group
    from dataclasses import replace

    d.state = replace(d.state, group=replace(g, cost=D(700), qty=D(7)))
    acts = d.call("98")
    assert placed(acts) == []
    (ev,) = [a for a in acts if isinstance(a, StrategyEvent) and a.kind == "refused"]
    assert "850" in ev.reason and "812.5" in ev.reason
    assert d.state.group.skipped == (1,)
    assert low(d) == D(96)


def test_liquidation_guard_refuses_an_addon_beyond_liquidation() -> None:
    with pytest.raises(SettingsError) as err:
        make(
            {"addon_deviation_pct": "10", "leverage": "10", "stop_loss_pct": "0"},
            market="futures",
            risk="aggressive",
        )
    # (1 - 1/10) / (1 - 0.005) = 0.90452... -> liquidation 9.55 % below the first entry
    assert err.value.key == "leverage"
    assert "add-on 1 at -10.00%" in str(err.value) and "liquidation at -9.55%" in str(err.value)


def test_liquidation_guard_short_side() -> None:
    with pytest.raises(SettingsError) as err:
        make(
            {"side": "short", "addon_deviation_pct": "10", "leverage": "10", "stop_loss_pct": "0"},
            market="futures",
            risk="aggressive",
        )
    # (1 + 1/10) / (1 + 0.005) = 1.09452... -> liquidation 9.45 % above
    assert "add-on 1 at +10.00%" in str(err.value) and "liquidation at +9.45%" in str(err.value)


def test_liquidation_guard_refuses_a_stop_beyond_liquidation() -> None:
    with pytest.raises(SettingsError) as err:
        make({"addon_count": "0", "leverage": "5", "stop_loss_pct": "25"}, market="futures")
    # (1 - 0.2) / 0.995 = 0.80402 -> -19.60 %
    assert err.value.key == "stop_loss_pct"
    assert "-25.00%" in str(err.value) and "-19.60%" in str(err.value)


def test_design_example_passes_the_guard_at_leverage_5() -> None:
    s = make({"leverage": "5"}, market="futures").settings
    assert s.leverage == D(5)
