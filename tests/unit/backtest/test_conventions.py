"""The fill conventions on hand-made candles, with hand-computed prices.

"ours": the candle path O-L-H-C (up) / O-H-L-C (down), fills at trigger prices, gaps at the open.
"freqtrade": entry at the next candle's open, add-ons at the open, stop before take profit, ROI at the
high after both fees and its exit price, stop from the first entry rounded up to the tick, force exit at
the last candle's open.
"""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from tradewarden.domain.fills import MarketRules
from tradewarden.domain.strategies.base import Context
from tradewarden.domain.strategies.dca import DESIGN_EXAMPLE
from tradewarden.services.backtest import runner
from tradewarden.services.backtest.candles import Candles, from_arrays
from tradewarden.services.backtest.freqtrade import FtRules, run_freqtrade_reference, tick_decimals
from tradewarden.services.backtest.results import BacktestResult

# The first test in a fresh checkout compiles the numba kernels (tens of seconds on a busy 2-core
# machine; cached in __pycache__ afterwards): allow more than the suite's 120 s default.
pytestmark = pytest.mark.timeout(900)

FEE = 0.001
EXAMPLE = dict(DESIGN_EXAMPLE)
RULES = FtRules(
    base_order=D(100),
    addon_orders=(D(150), D(225), D("337.5")),
    addon_deviations=(D("0.02"), D("0.04"), D("0.06")),
    take_profit=D("0.01"),
    stop_loss=D("0.08"),
    fee=D("0.001"),
)


def candles(*ohlc: tuple[float, float, float, float]) -> Candles:
    """Candles one minute apart from (open, high, low, close) tuples."""
    a = np.array(ohlc, dtype=np.float64)
    time = 1_700_000_000_000 + 60_000 * np.arange(len(ohlc), dtype=np.int64)
    return from_arrays(time, a[:, 0], a[:, 1], a[:, 2], a[:, 3], timeframe_ms=60_000)


def both(c: Candles, fills: str = "ours", **context: object) -> BacktestResult:
    """Run reference and fast; they must agree; return the reference."""
    ctx = Context(recovery=False, **context)  # type: ignore[arg-type]
    ref = runner.run_reference(c, "dca", EXAMPLE, fills, context=ctx)
    fast = runner.run_fast(c, "dca", EXAMPLE, fills, context=ctx)
    assert [(r["candle"], r["kind"]) for r in ref.fills.rows()] == [
        (r["candle"], r["kind"]) for r in fast.fills.rows()
    ]
    np.testing.assert_allclose(ref.fills.price, fast.fills.price, rtol=1e-12)
    return ref


def tp_price(cost: float, fees: float, qty: float) -> float:
    """dca.py's take profit: proceeds after the exit fee are 1 % above everything paid."""
    return (cost + fees) * 1.01 / (qty * (1 - FEE))


# ---------------------------------------------------------------- ours


def test_up_candle_goes_low_first_add_on_at_its_level_then_take_profit() -> None:
    c = candles((100, 100, 100, 100), (100, 102, 97.5, 101))
    rows = both(c).fills.rows()
    assert rows[0] == pytest.approx({**rows[0], "candle": 0, "price": 100.0, "qty": 1.0})
    assert rows[0]["kind"] == "base"
    # O(100) -> L(97.5): the add-on level 98 (2 % below the first entry) is touched first, filled at 98
    assert (rows[1]["kind"], rows[1]["candle"]) == ("addon", 1)
    assert rows[1]["price"] == pytest.approx(98.0, rel=1e-12)
    qty = 1.0 + 150 / 98
    target = tp_price(100 + 150, (100 + 150) * FEE, qty)
    # L -> H(102): the take profit of the grown group is reached on the way up
    assert (rows[2]["kind"], rows[2]["side"]) == ("take_profit", "sell")
    assert rows[2]["price"] == pytest.approx(target, rel=1e-12)
    assert rows[2]["qty"] == pytest.approx(qty, rel=1e-12)
    # a new group opens at once at the exit price (entry=now, no cooldown)
    assert rows[3]["kind"] == "base" and rows[3]["price"] == pytest.approx(target, rel=1e-12)


def test_down_candle_goes_high_first_take_profit_before_the_add_on() -> None:
    c = candles((100, 100, 100, 100), (100, 102, 97.5, 99))
    rows = both(c).fills.rows()
    target = tp_price(100, 100 * FEE, 1.0)
    assert [r["kind"] for r in rows[:3]] == ["base", "take_profit", "base"]
    assert rows[1]["price"] == pytest.approx(target, rel=1e-12)
    # the new group (first entry = target) then meets its own add-on level on the way down to 97.5
    assert rows[3]["kind"] == "addon" and rows[3]["price"] == pytest.approx(target * 0.98, rel=1e-12)


def test_gap_below_the_add_on_level_fills_at_the_open() -> None:
    c = candles((100, 100, 100, 100), (97, 97.2, 96.8, 97))
    rows = both(c).fills.rows()
    assert rows[1]["kind"] == "addon" and rows[1]["price"] == 97.0


def test_stop_loss_is_checked_before_the_take_profit() -> None:
    # a down candle through the stop (92): O-H-L-C reaches the high first, but the high stays under the
    # take profit; the stop at 8 % below the first entry closes the group, after the three add-ons.
    c = candles((100, 100, 100, 100), (100, 100.5, 91, 91.5))
    rows = both(c).fills.rows()
    assert [r["kind"] for r in rows[:5]] == ["base", "addon", "addon", "addon", "stop_loss"]
    assert [r["price"] for r in rows[1:4]] == pytest.approx([98, 96, 94], rel=1e-12)
    assert rows[4]["price"] == pytest.approx(92, rel=1e-12)
    assert rows[4]["pnl"] < 0


# ---------------------------------------------------------------- freqtrade


def test_freqtrade_enters_at_the_next_open_and_exits_at_its_roi_rate() -> None:
    c = candles((50, 51, 49, 50), (100, 100.5, 99.5, 100), (100, 101.3, 99.9, 101), (101, 101.5, 100.5, 101))
    out = run_freqtrade_reference(c, RULES)
    rows = out.fills.rows()
    assert (rows[0]["candle"], rows[0]["price"]) == (1, 100.0)  # candle 0 is never traded
    # ROI reached: 101.3 x 0.999 / (100 x 1.001) - 1 = 0.01099 > 0.01; exit where the ratio is exactly
    # 0.01: 100 x 1.001 x 1.01 / 0.999 = 101.2022 (Freqtrade 2026.9's calc_close_rate_for_roi), rounded to
    # the tick the data shows (one decimal this month: 0.1)
    assert (rows[1]["candle"], rows[1]["kind"]) == (2, "take_profit")
    assert rows[1]["price"] == pytest.approx(101.2, rel=1e-12)
    assert out.trades == 1 and out.wins == 1  # the last candle opens nothing
    assert len(rows) == 2


def test_freqtrade_roi_needs_the_high_past_the_threshold_not_the_exit_rate() -> None:
    # high 101.2015: its profit after both fees, 101.2015 x 0.999 / 100.1 - 1 = 0.009989, is not above
    # 0.01 (that needs 101.2022): no exit; the trade is force-closed at the last candle's open.
    c = candles(
        (100, 100, 100, 100), (100, 100.5, 99.5, 100),
        (100, 101.2015, 99.9, 101), (100.7, 100.8, 100.6, 100.7),
    )  # fmt: skip
    out = run_freqtrade_reference(c, RULES)
    rows = out.fills.rows()
    assert [r["kind"] for r in rows] == ["base", "end"]
    assert rows[1]["price"] == 100.7 and rows[1]["candle"] == 3
    expected = 1.0 * 100.7 * (1 - FEE) - 100 * (1 + FEE)
    assert float(out.profit) == pytest.approx(expected, rel=1e-12)


def test_freqtrade_add_on_at_the_open_then_stop_fixed_from_the_first_entry() -> None:
    c = candles(
        (100, 100, 100, 100),
        (100, 100.2, 99.8, 100),  # entry at 100
        (97.9, 98.5, 97.0, 98),  # open at or below 98: add-on 1 at the open 97.9
        (97.0, 97.5, 95.5, 96),  # open 97 is above 96: no add-on (checked at the open only)
        (95.0, 95.5, 91.0, 92),  # add-on 2 at 95, then low 91 reaches the stop 92 (first entry - 8 %)
        (90, 91, 89, 90),
    )
    out = run_freqtrade_reference(c, RULES)
    rows = out.fills.rows()
    assert [(r["candle"], r["kind"], r["price"]) for r in rows] == [
        (1, "base", 100.0),
        (2, "addon", 97.9),
        (4, "addon", 95.0),
        (4, "stop_loss", 92.0),
    ]  # candle 5 is the last: Freqtrade opens nothing there
    assert out.addons_max == 2 and out.losses >= 1


def test_freqtrade_roi_on_a_candle_opening_above_the_target_exits_at_the_low() -> None:
    # Freqtrade keeps the ROI rate inside the candle: max(rate 101.2022, low 102) = the low
    c = candles((100, 100, 100, 100), (100, 100.2, 99.8, 100), (102.5, 103, 102, 102.5), (102, 103, 101, 102))
    rows = run_freqtrade_reference(c, RULES).fills.rows()
    assert (rows[1]["kind"], rows[1]["price"]) == ("take_profit", 102.0)


def test_freqtrade_stop_below_the_whole_candle_exits_at_the_open() -> None:
    c = candles((100, 100, 100, 100), (100, 100.2, 99.8, 100), (90, 91, 89, 90), (90, 91, 89, 90))
    rows = run_freqtrade_reference(c, RULES).fills.rows()
    assert [r["kind"] for r in rows[:3]] == ["base", "addon", "stop_loss"]
    assert rows[2]["price"] == 90.0  # stop 92 lies above the high 91: Freqtrade exits at the open


def test_freqtrade_lot_size_truncates_amounts_and_tick_rounds_the_stop_up() -> None:
    rules = FtRules(**{**RULES.__dict__, "lot_size": D("0.001"), "tick_size": D("0.01")})
    c = candles((100, 100, 100, 100), (100.003, 100.1, 92.0, 93), (93, 94, 92, 93))
    rows = run_freqtrade_reference(c, rules).fills.rows()
    assert rows[0]["qty"] == 0.999  # 100 / 100.003 = 0.99997 truncated to 0.001
    # stop = 100.003 x 0.92 = 92.00276, rounded up to the tick: the data shows 3 decimals this month, so
    # Freqtrade's tick is 0.001 (not the market's 0.01): 92.003 >= low 92.0
    stop = next(r for r in rows if r["kind"] == "stop_loss")
    assert stop["price"] == pytest.approx(92.003, rel=1e-12)


def test_freqtrade_fast_path_agrees_on_these_candles() -> None:
    c = candles(
        (100, 100, 100, 100), (100, 100.2, 99.8, 100), (97.9, 98.5, 97.0, 98), (95.0, 95.5, 91.0, 92),
        (93, 95, 92.5, 94), (94, 96, 93.8, 95.9), (96, 97.2, 95, 97),
    )  # fmt: skip
    lots = MarketRules(lot_size=D("0.00001"), tick_size=D("0.01"))
    both(c, "freqtrade", rules=lots)


def test_freqtrade_tick_comes_from_the_decimals_of_each_month() -> None:
    # Freqtrade 2026.9 reads the price precision from the data: December shows no decimals (the market's
    # tick applies), January shows 3, February none (January's carries on, as pandas' asof does).
    dec_2021 = 1_640_995_200_000 - 60_000 * 3  # 2021-12-31 23:57 UTC
    time = dec_2021 + 60_000 * np.arange(6, dtype=np.int64)
    time[5] = 1_643_673_600_000  # 2022-02-01 00:00 UTC, a gap of whole minutes
    prices = np.array([100.0, 101.0, 102.0, 100.125, 100.5, 99.0])
    c = from_arrays(time, prices, prices, prices, prices, timeframe_ms=60_000)
    assert tick_decimals(c).tolist() == [-1, -1, -1, 3, 3, 3]


def test_freqtrade_average_is_rounded_to_the_tick_profit_is_not() -> None:
    # two entries: 100 / 100 = 1 at 100 and 150 / 97.9 at 97.9 -> average 98.7406..., rounded to the
    # tick the data shows (one decimal: 0.1), not the market's 0.01
    rules = FtRules(**{**RULES.__dict__, "tick_size": D("0.01")})
    c = candles((100, 100, 100, 100), (100, 100.2, 99.8, 100), (97.9, 98.5, 97.0, 98), (98, 98.1, 97.9, 98))
    out = run_freqtrade_reference(c, rules)
    rows = out.fills.rows()
    amount = 1 + 150 / 97.9
    avg = round((100 + 150) / amount, 1)
    assert rows[-1]["kind"] == "end" and rows[-1]["price"] == 98.0
    # the ROI threshold and rate use the rounded average; the trade's profit uses what was paid
    assert rows[-1]["pnl"] == pytest.approx(amount * 98 * (1 - FEE) - 250 * (1 + FEE), rel=1e-12)
    assert avg == pytest.approx(98.7, abs=1e-9)
