"""Differential test: the numba fast path and the Decimal reference engine give the same fills.

Same fills means: the same number, and fill by fill the same candle, side and kind, prices, amounts and
fees within 1e-9 relative; and the same trade counts, groups, add-ons and time in Recovery Mode. Run on
every candle file the project ships (tests/data/candles, copies of shared/data/candles; the 45k-row file
in full for the DESIGN.md rules, a 12k-candle part of it for the other variants) and on random walks
with gaps, for DCA (with and without Recovery Mode, long and short) and grid, and for both fill
conventions.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradewarden.domain.fills import Fees, MarketRules
from tradewarden.domain.strategies.base import Context
from tradewarden.domain.strategies.dca import DESIGN_EXAMPLE
from tradewarden.services.backtest import runner
from tradewarden.services.backtest.candles import Candles, from_arrays, load_candles
from tradewarden.services.backtest.results import BacktestResult

# The first test in a fresh checkout compiles the numba kernels (tens of seconds on a busy 2-core
# machine; cached in __pycache__ afterwards): allow more than the suite's 120 s default.
pytestmark = pytest.mark.timeout(900)

DATA = Path(__file__).resolve().parents[2] / "data" / "candles"
FILES = sorted(p.name for p in DATA.glob("*.csv"))
BIG = "btc-perp-1m-2022-01.csv"
REL = 1e-9

EXAMPLE = dict(DESIGN_EXAMPLE)
# Recovery Mode: a 5-level group whose last two levels are the deep zone; enters at 3 % drawdown, when
# the shallow add-ons are used up, or at 60 % of the margin limit; leaves at break-even plus 0.1 %.
RECOVERY = {
    **EXAMPLE,
    "addon_count": "5",
    "addon_deviation_pct": "1",
    "stop_loss_pct": "off",
    "recovery_drawdown_pct": "3",
    "recovery_margin_pct": "60",
    "recovery_exit_pct": "0.1",
    "deep_zone_from_pct": "4",
}
VARIANTS: dict[str, tuple[dict[str, str], Context]] = {
    "dca-example": (EXAMPLE, Context(recovery=False)),
    "dca-recovery": (RECOVERY, Context(recovery=True, margin_limit=Decimal(2500))),
    "dca-short-futures": (
        {**EXAMPLE, "side": "short", "leverage": "2", "take_profit_pct": "0.8"},
        Context(market="futures", recovery=False),
    ),
    "dca-trailing-average-improvement-cooldown": (
        {
            **EXAMPLE,
            "trailing_pct": "0.3",
            "stop_loss_from": "average",
            "stop_loss_pct": "5",
            "addon_min_improvement_pct": "0.4",
            "cooldown_s": "600",
        },
        Context(recovery=False),
    ),
    "dca-preset-balanced-lots": (
        {"base_order": "100", "addon_order": "100"},
        Context(
            risk="balanced",
            margin_limit=Decimal(5000),
            rules=MarketRules(lot_size=Decimal("0.00001"), tick_size=Decimal("0.01")),
            fees=Fees(maker=Decimal("0.0002"), taker=Decimal("0.0005")),
        ),
    ),
}


def _grid(candles: Candles, **extra: str) -> dict[str, str]:
    lo, hi = float(candles.low.min()), float(candles.high.max())
    span = hi - lo
    return {
        "lower": f"{lo + 0.1 * span:.2f}",
        "upper": f"{hi - 0.2 * span:.2f}",
        "levels": "12",
        "order_amount": "100",
        **extra,
    }


def assert_same(ref: BacktestResult, fast: BacktestResult) -> None:
    """The two results hold the same fills and the same counts."""
    a, b = ref.fills, fast.fills
    assert len(a) == len(b), f"{len(a)} reference fills, {len(b)} fast fills"
    for name in ("candle", "side", "kind"):
        diff = np.flatnonzero(getattr(a, name) != getattr(b, name))
        first = int(diff[0]) if diff.size else 0
        assert diff.size == 0, f"{name} differs at fill {first}: {a.rows()[first]} vs {b.rows()[first]}"
    for name in ("price", "qty", "fee", "pnl"):
        x, y = getattr(a, name), getattr(b, name)
        scale = np.maximum(np.abs(x), 1e-6 if name == "pnl" else 1e-300)
        rel = np.abs(x - y) / scale
        worst = int(np.argmax(rel)) if rel.size else 0
        assert rel.size == 0 or rel[worst] <= REL, f"{name} differs by {rel[worst]:.3g} at fill {worst}"
    for name in ("trades", "wins", "losses", "groups", "addons_max"):
        assert getattr(ref, name) == getattr(fast, name), name
    assert ref.recovery_time_pct == pytest.approx(fast.recovery_time_pct, abs=1e-12)
    assert ref.profit == pytest.approx(fast.profit, rel=1e-9, abs=1e-9)
    assert ref.max_margin_used == pytest.approx(fast.max_margin_used, rel=1e-9)


def _both(candles: Candles, strategy: str, settings: dict[str, str], context: Context, fills: str = "ours"):
    ref = runner.run_reference(candles, strategy, settings, fills, context=context)
    fast = runner.run_fast(candles, strategy, settings, fills, context=context)
    assert ref.engine == "reference" and fast.engine == "fast"
    return ref, fast


@pytest.fixture(scope="module")
def files() -> dict[str, Candles]:
    out = {name: load_candles(DATA / name) for name in FILES}
    out["part"] = out[BIG].slice(0, 12_000)
    return out


@pytest.mark.parametrize("name", FILES)
def test_dca_example_every_file(files: dict[str, Candles], name: str) -> None:
    ref, fast = _both(files[name], "dca", EXAMPLE, Context(recovery=False))
    assert_same(ref, fast)
    assert ref.groups >= 1


@pytest.mark.parametrize("name", FILES)
def test_dca_recovery_every_file(files: dict[str, Candles], name: str) -> None:
    settings, context = VARIANTS["dca-recovery"]
    ref, fast = _both(files[name], "dca", settings, context)
    assert_same(ref, fast)


def test_recovery_mode_is_really_exercised(files: dict[str, Candles]) -> None:
    settings, context = VARIANTS["dca-recovery"]
    ref, fast = _both(files[BIG], "dca", settings, context)
    assert_same(ref, fast)
    assert ref.recovery_time_pct > 0, "the recovery settings must put some group into Recovery Mode"
    assert ref.addons_max >= 4, "a deep-zone add-on must have been taken in Recovery Mode"


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v not in ("dca-example", "dca-recovery")])
def test_dca_variants(files: dict[str, Candles], variant: str) -> None:
    settings, context = VARIANTS[variant]
    ref, fast = _both(files["part"], "dca", settings, context)
    assert_same(ref, fast)
    assert ref.trades >= 3, "the variant must trade on this data"


def test_dca_entry_below_a_price(files: dict[str, Candles]) -> None:
    candles = files["part"]
    below = f"{float(candles.close[0]) * 0.98:.2f}"
    ref, fast = _both(candles, "dca", {**EXAMPLE, "entry": f"below:{below}"}, Context(recovery=False))
    assert_same(ref, fast)
    first = ref.fills.rows()[0]
    assert first["kind"] == "base" and first["price"] <= float(below)


@pytest.mark.parametrize("name", FILES)
def test_grid_every_file(files: dict[str, Candles], name: str) -> None:
    ref, fast = _both(files[name], "grid", _grid(files[name]), Context())
    assert_same(ref, fast)
    assert len(ref.fills) >= 2


@pytest.mark.parametrize(
    "extra", [{"spacing": "geometric"}, {"trailing": "on"}, {"spacing": "geometric", "trailing": "on"}]
)
def test_grid_variants(files: dict[str, Candles], extra: dict[str, str]) -> None:
    candles = files["part"]
    context = Context(rules=MarketRules(lot_size=Decimal("0.00001"), tick_size=Decimal("0.5")))
    ref, fast = _both(candles, "grid", _grid(candles, **extra), context)
    assert_same(ref, fast)
    assert ref.trades >= 1


@pytest.mark.parametrize("name", FILES)
def test_freqtrade_convention_every_file(files: dict[str, Candles], name: str) -> None:
    lots = MarketRules(lot_size=Decimal("0.00001"), tick_size=Decimal("0.01"))
    context = Context(recovery=False, rules=lots)
    ref, fast = _both(files[name], "dca", EXAMPLE, context, fills="freqtrade")
    assert_same(ref, fast)
    assert ref.trades >= 1


def random_walk(seed: int, n: int = 4000) -> Candles:
    """A geometric random walk with volatile candles and gaps between a close and the next open."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.004, n) + rng.choice([0.0, 0.02, -0.02], n, p=[0.98, 0.01, 0.01])
    close = 100.0 * np.exp(np.cumsum(steps))
    gap = np.where(rng.random(n) < 0.05, rng.normal(0.0, 0.006, n), 0.0)
    open_ = np.empty(n)
    open_[0] = 100.0
    open_[1:] = close[:-1] * np.exp(gap[1:])
    wick = np.abs(rng.normal(0.0, 0.003, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    # round to cents like real quotes, keeping low <= open, close <= high
    open_, close = np.round(open_, 2), np.round(close, 2)
    high = np.maximum(np.round(high, 2), np.maximum(open_, close))
    low = np.minimum(np.round(low, 2), np.minimum(open_, close))
    time = 1_700_000_000_000 + 60_000 * np.arange(n, dtype=np.int64)
    return from_arrays(time, open_, high, low, close, timeframe_ms=60_000, source=f"random-walk-{seed}")


@pytest.mark.parametrize("seed", range(6))
def test_random_walks_dca_and_grid(seed: int) -> None:
    candles = random_walk(seed)
    for variant, (settings, context) in VARIANTS.items():
        ref, fast = _both(candles, "dca", settings, context)
        assert_same(ref, fast)
        assert len(ref.fills) > 0, variant
    for extra in ({}, {"trailing": "on", "spacing": "geometric"}):
        ref, fast = _both(candles, "grid", _grid(candles, **extra), Context())
        assert_same(ref, fast)
    ref, fast = _both(candles, "dca", EXAMPLE, Context(recovery=False), fills="freqtrade")
    assert_same(ref, fast)


def test_round_prices_and_lot_sizes() -> None:
    """Whole-number prices make amounts exact multiples of the lot (100 / 50 = 2): floats must not floor
    them one lot down."""
    walk = random_walk(11)
    rounded = [np.round(a / 2) * 2 for a in (walk.open, walk.high, walk.low, walk.close)]
    candles = from_arrays(walk.time, *rounded, timeframe_ms=60_000, source="round-walk")
    lots = MarketRules(lot_size=Decimal("0.00001"), tick_size=Decimal("1"))
    for settings in (EXAMPLE, {**EXAMPLE, "base_order": "50", "addon_order": "100"}):
        ref, fast = _both(candles, "dca", settings, Context(recovery=False, rules=lots))
        assert_same(ref, fast)
        ref, fast = _both(candles, "dca", settings, Context(recovery=False, rules=lots), fills="freqtrade")
        assert_same(ref, fast)
    grid = {"lower": "80", "upper": "120", "levels": "21", "order_amount": "100"}
    ref, fast = _both(candles, "grid", grid, Context(rules=lots))
    assert_same(ref, fast)
    assert ref.trades >= 1


def test_orders_rounded_to_nothing_open_no_group(files: dict[str, Candles]) -> None:
    """A lot size bigger than the order (1 BTC for 100 USD) rounds every order to zero: no fill, no group."""
    whole_coins = Context(recovery=False, rules=MarketRules(lot_size=Decimal(1)))
    ref, fast = _both(files["part"].slice(0, 2000), "dca", EXAMPLE, whole_coins)
    assert_same(ref, fast)
    assert len(ref.fills) == 0 and ref.groups == 0 and ref.trades == 0
