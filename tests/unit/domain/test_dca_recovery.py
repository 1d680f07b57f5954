"""Recovery Mode and zones with hand-computed prices: entry by drawdown, used-up shallow zone or margin;
deep zones only; exit at break-even plus fees (or the set profit); events with reasons."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal as D

from tradewarden.domain.fills import Fees
from tradewarden.domain.strategies import dca
from tradewarden.domain.strategies.base import StrategyEvent

from .test_dca_rules import high, low, make, placed


def kinds(acts: Sequence[object]) -> list[str]:
    return [a.kind if isinstance(a, StrategyEvent) else type(a).__name__ for a in acts]


def test_drawdown_enters_recovery_then_only_deep_zone_and_exit_at_break_even() -> None:
    d = make({"recovery_drawdown_pct": "2", "deep_zone_from_pct": "5"})
    assert [lv.deep for lv in d.settings.levels] == [False, False, True]
    d.call("100")
    assert low(d) == D(98)  # drawdown threshold and add-on 1 coincide
    acts = d.call("98")
    assert placed(acts) == []  # in Recovery Mode the shallow add-on 1 is not used
    (entered,) = d.events("recovery_entered")
    assert entered.reason == "drawdown 2.00% reached 2% at 98"
    assert d.state.group.recovery
    assert low(d) == D(94)  # the deep level 3; shallow level 2 (96) is skipped
    assert high(d) == D(100)  # break-even, no fees, recovery_exit_pct 0
    assert placed(d.call("96")) == []
    (deep,) = placed(d.call("94"))
    assert deep.amount == D("337.5") / D(94)
    assert "deep zone" in d.events("addon")[-1].reason
    g = d.state.group
    assert g.addons == (3,)
    target = g.cost / g.qty
    assert high(d) == target
    acts = d.call(target, follow_up=False)
    assert kinds(acts) == ["take_profit", "recovery_left", "group_closed", "PlaceOrder"]
    assert placed(acts)[0].side == "sell"
    assert d.events("recovery_left")[0].reason.startswith("recovery exit at")
    assert d.state.group is None


def test_shallow_addons_used_up_enter_recovery_and_exit_at_break_even_plus_fees_and_profit() -> None:
    fees = Fees(D("0.001"), D("0.001"))
    d = make({"recovery_exit_pct": "0.5"}, fees=fees)
    assert d.settings.recovery
    for p in ("100", "98", "96"):
        d.call(p)
    assert not d.state.group.recovery
    d.call("94")  # add-on 3 fills; the follow-up call enters Recovery Mode
    (entered,) = d.events("recovery_entered")
    assert entered.reason == "shallow add-ons used up (3 of 3)"
    g = d.state.group
    target = (g.cost + g.fees) * D("1.005") / (g.qty * D("0.999"))
    assert high(d) == target
    assert target < dca.exit_price(d.settings, g, D(1))  # below the normal take profit
    assert placed(d.call(target - D("0.000001"), follow_up=False)) == []
    assert placed(d.call(target, follow_up=False))[0].side == "sell"
    assert d.state.wins == 1


def test_margin_use_enters_recovery() -> None:
    d = make({"recovery_margin_pct": "20"}, margin_limit=D(1000))
    d.call("100")
    assert not d.state.group.recovery  # 100 < 20 % of 1000
    d.call("98")  # 250 committed
    (entered,) = d.events("recovery_entered")
    assert entered.reason == "margin used 250 reached 20% of the limit 1000"


def test_deep_level_outside_recovery_is_refused_once_and_used_after_entering() -> None:
    d = make({"recovery_drawdown_pct": "50", "deep_zone_from_pct": "5"})
    d.call("100")
    acts = d.call("93", follow_up=False)
    refused = [a for a in acts if isinstance(a, StrategyEvent) and a.kind == "refused"]
    assert len(refused) == 1 and "add-on 3 at -6.00% is in the deep zone" in refused[0].reason
    assert [o.tag for o in placed(acts)] == ["dca-g1-addon1-2"]
    d.call("93")  # fills add-on 1's follow-up: add-on 2, then shallow used up -> recovery -> deep add-on 3
    assert len(d.events("refused")) == 1
    assert d.events("recovery_entered")[0].reason == "shallow add-ons used up (2 of 2)"
    assert d.state.group.addons == (1, 2, 3)


def test_recovery_off_keeps_deep_zones_refused() -> None:
    import pytest

    from tradewarden.domain.strategies.base import SettingsError

    with pytest.raises(SettingsError) as err:
        make({"deep_zone_from_pct": "5"}, recovery=False)
    assert err.value.key == "deep_zone_from_pct" and "Recovery Mode" in str(err.value)


def test_recovery_is_off_without_recovery_keys_or_preset() -> None:
    d = make()
    assert not d.settings.recovery
    for p in ("100", "98", "96", "94"):
        d.call(p)
    assert d.events("recovery_entered") == []
    assert high(d) == dca.exit_price(d.settings, d.state.group, D(1))


def test_no_addon_in_recovery_that_would_worsen_the_average() -> None:
    # Gaps filled the shallow add-ons far below their levels: the deep level (94) is above the average,
    # and with fees the break-even exit is above the average too, so a price between them is possible.
    fees = Fees(D("0.001"), D("0.001"))
    d = make({"recovery_drawdown_pct": "30", "deep_zone_from_pct": "5", "stop_loss_pct": "0"}, fees=fees)
    d.call("100")
    d.call("80", follow_up=False)  # add-on 1 at 80
    d.call("80", follow_up=False)  # add-on 2 at 80
    g = d.state.group
    assert g.addons == (1, 2) and not g.recovery
    avg = D(475) / (1 + D(150) / D(80) + D(225) / D(80))
    assert g.avg == avg  # 83.52...
    between = avg * D("1.001")  # above the average, below break-even plus fees and below level 3 (94)
    assert between < dca.exit_price(d.settings, g, D(0))
    acts = d.call(between)
    assert kinds(acts) == ["recovery_entered"]  # shallow used up; the deep add-on would worsen the average
    assert low(d) == avg  # it waits until it improves the average
    (deep,) = placed(d.call(avg))
    assert deep.side == "buy" and d.state.group.avg <= avg


def test_no_new_group_while_in_recovery_and_a_normal_one_after_leaving() -> None:
    d = make({"recovery_drawdown_pct": "2", "deep_zone_from_pct": "5", "stop_loss_pct": "0"})
    d.call("100")
    d.call("97")
    assert d.state.group.recovery
    for p in ("99", "97.5", "95.1", "99.9"):
        assert [o for o in placed(d.call(p)) if "-base" in o.tag] == []
    assert d.state.groups_opened == 1
    acts = d.call("100")  # break-even: leave, and (entry now, no cooldown) the next group opens
    assert kinds(acts) == [
        "take_profit",
        "recovery_left",
        "group_closed",
        "PlaceOrder",
        "group_opened",
        "PlaceOrder",
    ]
    g = d.state.group
    assert g.number == 2 and not g.recovery and g.first_price == D(100)
