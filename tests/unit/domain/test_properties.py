"""Hypothesis properties over random settings and random price paths:
an add-on never worsens the average; margin in use never exceeds the limit; in Recovery Mode no add-on
outside the deep zones (and none from them outside it); skipping calls inside the trigger band is safe."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any, Literal

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from tradewarden.domain.fills import Fees
from tradewarden.domain.strategies import dca, grid
from tradewarden.domain.strategies.base import Context, MarketView, PlaceOrder, SettingsError, Strategy

from .driver import Driver

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pct = st.decimals(min_value=D("0.2"), max_value=D(5), places=1)


MONEY_EPSILON = D("1e-18")


@st.composite
def paths(draw: st.DrawFn, start: D = D(100)) -> list[D]:
    moves = draw(st.lists(st.integers(min_value=-300, max_value=300), min_size=10, max_size=80))
    out, p = [], start
    for m in moves:
        p = max(D("0.5"), (p * (1 + D(m) / D(10000))).quantize(D("0.01")))
        out.append(p)
    return out


@st.composite
def dca_cases(draw: st.DrawFn) -> tuple[dict[str, Any], Context]:
    short = draw(st.booleans())
    values: dict[str, Any] = {
        "base_order": draw(st.integers(10, 200)),
        "addon_order": draw(st.integers(10, 300)),
        "addon_count": draw(st.integers(0, 6)),
        "addon_deviation_pct": str(draw(pct)),
        "addon_step_scale": str(draw(st.decimals(min_value=D("0.8"), max_value=D(2), places=1))),
        "addon_volume_scale": str(draw(st.decimals(min_value=D(1), max_value=D(2), places=1))),
        "addon_min_improvement_pct": str(draw(st.decimals(min_value=D(0), max_value=D(2), places=1))),
        "take_profit_pct": str(draw(pct)),
        "trailing_pct": draw(st.sampled_from(["0", "0.3", "1"])),
        "stop_loss_pct": draw(st.sampled_from(["0", "6", "15", "40"])),
        "stop_loss_from": draw(st.sampled_from(["first", "average"])),
        "cooldown_s": draw(st.sampled_from([0, 120])),
        "side": "short" if short else "long",
    }
    if draw(st.integers(0, 2)) > 0:  # Recovery Mode on in two cases out of three
        values["recovery_drawdown_pct"] = str(draw(st.decimals(min_value=D(1), max_value=D(15), places=1)))
        values["deep_zone_from_pct"] = str(draw(st.decimals(min_value=D(1), max_value=D(8), places=1)))
        values["recovery_exit_pct"] = draw(st.sampled_from(["0", "0.2"]))
        values["recovery_margin_pct"] = draw(st.sampled_from(["50", "90"]))
    fee = draw(st.sampled_from([D(0), D("0.001")]))
    slack = draw(st.sampled_from([None, D(1), D("1.3")]))
    market: Literal["spot", "futures"] = "futures" if short else "spot"
    context = Context(market=market, fees=Fees(fee, fee), margin_limit=slack)  # slack is resolved below
    return values, context


def _parse_or_skip(values: dict[str, Any], context: Context) -> dca.DcaSettings:
    """Parse without a margin limit; settings refused for other reasons (depth, liquidation) are skipped."""
    try:
        return dca.parse(values, Context(context.market, fees=context.fees))
    except SettingsError as err:
        assert err.key in {"addon_deviation_pct", "leverage", "stop_loss_pct"}, err
        assume(False)
        raise


def sound(strategy: Strategy[Any, Any], s: Any, state: Any, view: MarketView) -> None:
    """Inside the trigger band, before wake_ms, decide does nothing and keeps its state."""
    t = strategy.triggers(s, state)
    p = view.price
    inside = (t.low is None or p > t.low) and (t.high is None or p < t.high)
    if inside and (t.wake_ms is None or view.ts_ms < t.wake_ms):
        decision = strategy.decide(s, state, view)
        assert decision.actions == () and decision.state == state, (t, p)


@PROPS
@given(case=dca_cases(), path=paths())
def test_dca_invariants_on_random_paths(case: tuple[dict[str, Any], Context], path: list[D]) -> None:
    values, context = case
    probe = _parse_or_skip(values, context)
    factor = context.margin_limit
    limit = None if factor is None else probe.worst_case_margin * factor
    s = dca.parse(values, Context(context.market, margin_limit=limit, fees=context.fees))
    d = Driver(dca.DCA, s)
    for i, p in enumerate(path):
        ts = i * 60_000
        sound(dca.DCA, s, d.state, MarketView(ts, p))
        before = d.state.group
        n = len(d.decisions)
        d.call(p, ts)
        for decided, actions in d.decisions[n:]:
            for a in actions:
                if isinstance(a, PlaceOrder) and "-addon" in a.tag:
                    level = int(a.tag.split("-addon")[1].split("-")[0])
                    # deep zone exactly when the group is in Recovery Mode as decided
                    assert s.levels[level - 1].deep == decided.group.recovery
                    event("add-on in Recovery Mode" if decided.group.recovery else "add-on")
            if any(getattr(a, "kind", "") == "recovery_entered" for a in actions):
                event("Recovery Mode entered")
        after = d.state.group
        if before is not None and after is not None and after.number == before.number:
            if len(after.addons) > len(before.addons):
                # an add-on never worsens the average (cross-multiplied: exact in Decimal here)
                if s.long:
                    assert after.cost * before.qty <= before.cost * after.qty
                else:
                    assert after.cost * before.qty >= before.cost * after.qty
            if after.recovery and before.recovery:
                new = set(after.addons) - set(before.addons)
                assert all(s.levels[k - 1].deep for k in new)
        if limit is not None:
            # Fill cost is price x (quote / price): 28-digit Decimal division leaves noise near 1e-25. The
            # store keeps amounts to 18 decimals (NUMERIC(38,18)), so that is the precision money has here.
            assert dca.margin_used(s, d.state) <= limit + MONEY_EPSILON
        if after is not None:
            assert after.qty > 0


@PROPS
@given(case=dca_cases())
def test_settings_beyond_the_margin_limit_are_refused(case: tuple[dict[str, Any], Context]) -> None:
    values, context = case
    worst = _parse_or_skip(values, context).worst_case_margin
    try:
        dca.parse(values, Context(context.market, margin_limit=worst * D("0.999"), fees=context.fees))
    except SettingsError as err:
        assert err.key == "margin_limit" and f"{worst.normalize():f}" in str(err)
    else:
        raise AssertionError("a margin limit below the worst case was accepted")


@st.composite
def grid_cases(draw: st.DrawFn) -> dict[str, Any]:
    lower = draw(st.integers(50, 95))
    upper = draw(st.integers(105, 160))
    return {
        "lower": lower,
        "upper": upper,
        "levels": draw(st.integers(2, 12)),
        "spacing": draw(st.sampled_from(["arithmetic", "geometric"])),
        "order_amount": draw(st.integers(5, 100)),
        "trailing": draw(st.sampled_from(["on", "off"])),
    }


@PROPS
@given(values=grid_cases(), path=paths(), fee=st.sampled_from([D(0), D("0.001")]))
def test_grid_invariants_on_random_paths(values: dict[str, Any], path: list[D], fee: D) -> None:
    worst = grid.parse(values, Context()).worst_case_margin
    s = grid.parse(values, Context(margin_limit=worst, fees=Fees(fee, fee)))
    d = Driver(grid.GRID, s)
    for i, p in enumerate(path):
        sound(grid.GRID, s, d.state, MarketView(i, p))
        d.cross(p, i)
        st_ = d.state
        assert grid.margin_used(st_) <= worst
        assert st_.inventory >= 0
        offered = sum((o.amount - o.filled for o in st_.orders if o.side == "sell"), D(0))
        assert offered <= st_.inventory
        empty_price = st_.prices[st_.empty]
        for o in st_.orders:
            assert (o.price < empty_price) if o.side == "buy" else (o.price > empty_price)
        assert {o.tag for o in st_.orders} == set(d.resting)
    assume(len(path) > 0)
