"""Settings parsing: exact DESIGN.md keys, errors naming key, value and range, presets and overrides."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewarden.domain.strategies import STRATEGIES, dca, grid, risk
from tradewarden.domain.strategies.base import Context, SettingsError, parse_set_args

DESIGN_DCA_KEYS = (
    "base_order, addon_order, addon_count, addon_deviation_pct, addon_step_scale, addon_volume_scale, "
    "addon_min_improvement_pct, take_profit_pct, trailing_pct, stop_loss_pct, stop_loss_from, entry, "
    "cooldown_s, side, leverage, recovery_drawdown_pct, recovery_margin_pct, recovery_exit_pct, "
    "deep_zone_from_pct"
)
DESIGN_GRID_KEYS = "lower, upper, levels, spacing, order_amount, trailing"


def test_keys_are_exactly_the_design_contract() -> None:
    assert STRATEGIES["dca"].keys == tuple(DESIGN_DCA_KEYS.split(", "))
    assert STRATEGIES["grid"].keys == tuple(DESIGN_GRID_KEYS.split(", "))


def test_parse_set_args() -> None:
    assert parse_set_args(["take_profit_pct=1", "entry=below:95.5"]) == {
        "take_profit_pct": "1",
        "entry": "below:95.5",
    }
    with pytest.raises(SettingsError, match="expected KEY=VALUE"):
        parse_set_args(["take_profit_pct"])
    with pytest.raises(SettingsError, match="given twice"):
        parse_set_args(["levels=3", "levels=4"])


@pytest.mark.parametrize(
    ("values", "key", "fragment"),
    [
        ({"take_profit": "1"}, "take_profit", "not a dca setting; known: base_order"),
        ({"base_order": "abc"}, "base_order", "not a number"),
        ({"base_order": "-5"}, "base_order", "must be > 0"),
        ({"addon_count": "51"}, "addon_count", "must be a whole number from 0 to 50"),
        ({"addon_count": "2.5"}, "addon_count", "must be a whole number from 0 to 50"),
        ({"addon_deviation_pct": "100"}, "addon_deviation_pct", "must be > 0 and < 100"),
        ({"addon_min_improvement_pct": "-1"}, "addon_min_improvement_pct", "must be >= 0 and <= 50"),
        ({"stop_loss_from": "peak"}, "stop_loss_from", "must be one of first | average"),
        ({"side": "short"}, "side", "short needs a futures market"),
        ({"leverage": "3"}, "leverage", "must be 1 on spot"),
        ({"entry": "soon"}, "entry", "must be now | below:PRICE | rsi:TF:PERIOD:LEVEL"),
        ({"entry": "rsi:7m:14:30"}, "entry", "timeframe must be one of"),
        ({"entry": "rsi:1h:1:30"}, "entry", "RSI period must be a whole number from 2 to 500"),
        ({"entry": "rsi:1h:14:100"}, "entry", "RSI level must be > 0 and < 100"),
        ({"entry": "below:0"}, "entry", "needs a price above 0"),
        ({"addon_count": "10", "addon_deviation_pct": "20"}, "addon_deviation_pct", "keep it under 100"),
        ({"trailing_pct": "60"}, "trailing_pct", "must be > 0 and < 50"),
        ({"cooldown_s": "NaN"}, "cooldown_s", "finite"),
    ],
)
def test_dca_errors_name_key_value_and_range(values: dict[str, str], key: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as err:
        dca.parse({"base_order": "100", **values}, Context())
    assert err.value.key == key
    assert fragment in str(err.value)
    if key in values:
        assert repr(values[key]) in str(err.value)


def test_base_order_is_required() -> None:
    with pytest.raises(SettingsError) as err:
        dca.parse({}, Context())
    assert str(err.value) == "base_order=(missing): is required"


def test_leverage_cap_comes_from_the_preset() -> None:
    with pytest.raises(SettingsError) as err:
        dca.parse(
            {"base_order": "10", "leverage": "3", "stop_loss_pct": "0"}, Context("futures", "conservative")
        )
    assert "must be >= 1 and <= 2" in str(err.value)
    s = dca.parse(
        {"base_order": "10", "leverage": "2", "stop_loss_pct": "0"}, Context("futures", "conservative")
    )
    assert s.leverage == D(2)
    with pytest.raises(SettingsError, match="<= 5"):
        dca.parse({"base_order": "10", "leverage": "6"}, Context("futures"))  # no preset: balanced's cap


def test_preset_fills_values_and_the_user_overrides_any() -> None:
    s = dca.parse({"base_order": "10"}, Context(risk="conservative"))
    p = risk.PRESETS["conservative"]
    assert (s.addon_count, s.addon_deviation_pct, s.take_profit_pct) == (
        p.addon_count,
        p.addon_deviation_pct,
        p.take_profit_pct,
    )
    assert s.recovery and s.deep_zone_from_pct == p.deep_zone_from_pct
    o = dca.parse(
        {"base_order": "10", "take_profit_pct": "3", "addon_count": "1"}, Context(risk="conservative")
    )
    assert (o.take_profit_pct, o.addon_count, o.cooldown_s) == (D(3), 1, p.cooldown_s)
    with pytest.raises(SettingsError) as err:
        dca.parse({"base_order": "10"}, Context(risk="yolo"))
    assert err.value.key == "risk" and "conservative | balanced | aggressive" in str(err.value)


def test_preset_table_documents_every_preset_value() -> None:
    rows = {r["setting"]: r for r in risk.preset_table()}
    assert rows["max_leverage"] == {
        "setting": "max_leverage",
        "conservative": "2",
        "balanced": "5",
        "aggressive": "10",
    }
    assert set(rows) == {"max_leverage", *risk.PRESETS["balanced"].values()}
    assert all(set(dca.KEYS) >= set(risk.PRESETS[n].values()) for n in risk.PRESETS)


def test_values_round_trip() -> None:
    raw = {"base_order": "100", "entry": "rsi:4h:14:30", "trailing_pct": "0.5", "recovery_drawdown_pct": "10"}
    s = dca.parse(raw, Context())
    again = dca.parse(s.values(), Context(recovery=s.recovery))
    assert again == s
    g = grid.parse({"lower": "90", "upper": "110", "levels": "5", "order_amount": "10"}, Context())
    assert grid.parse(g.values(), Context()) == g


def test_numbers_from_json_are_accepted() -> None:
    s = dca.parse({"base_order": 100, "take_profit_pct": 1.5, "addon_count": 2}, Context())
    assert (s.base_order, s.take_profit_pct, s.addon_count) == (D(100), D("1.5"), 2)
    with pytest.raises(SettingsError):
        dca.parse({"base_order": True}, Context())


@pytest.mark.parametrize(
    ("values", "key", "fragment"),
    [
        ({"upper": "90"}, "upper", "must be above lower (90)"),
        ({"levels": "1"}, "levels", "must be a whole number from 2 to 500"),
        ({"spacing": "log"}, "spacing", "must be one of arithmetic | geometric"),
        ({"trailing": "yes"}, "trailing", "must be one of on | off"),
        ({"order_amount": "0"}, "order_amount", "must be > 0"),
        ({"lower": "-1"}, "lower", "must be > 0"),
        ({"grid_step": "1"}, "grid_step", "not a grid setting"),
    ],
)
def test_grid_errors_name_key_value_and_range(values: dict[str, str], key: str, fragment: str) -> None:
    base = {"lower": "90", "upper": "110", "levels": "5", "order_amount": "10"}
    with pytest.raises(SettingsError) as err:
        grid.parse({**base, **values}, Context())
    assert err.value.key == key
    assert fragment in str(err.value)


def test_min_notional_refuses_small_orders() -> None:
    from tradewarden.domain.fills import MarketRules

    rules = MarketRules(min_notional=D(5))
    with pytest.raises(SettingsError, match="minimum notional 5"):
        dca.parse({"base_order": "4"}, Context(rules=rules))
    with pytest.raises(SettingsError, match="minimum notional 5"):
        grid.parse({"lower": "1", "upper": "2", "order_amount": "4"}, Context(rules=rules))
