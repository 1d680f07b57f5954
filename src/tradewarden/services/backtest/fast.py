"""The numba fast path: DCA and grid on float64 arrays, one compiled call per backtest, no Python per candle.

`run_ours` gives the same fills as the reference engine (engine.py) with `fills="ours"`; `run_freqtrade`
the same as freqtrade.py. Kernels are compiled with `cache=True`, so only the first call on a machine
pays for compilation. Fill records are preallocated; when a run has more fills than room, it runs again
with twice the room (rare: the first guess is one slot per 16 candles).
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from tradewarden.domain.strategies.base import MAX_FOLLOW_UPS
from tradewarden.services.backtest import fast_dca, fast_ft
from tradewarden.services.backtest.candles import Candles
from tradewarden.services.backtest.freqtrade import FtRules, tick_decimals
from tradewarden.services.backtest.results import BacktestResult, Fills, summarize

Records = tuple[
    np.ndarray[Any, np.dtype[np.int64]],
    np.ndarray[Any, np.dtype[np.int8]],
    np.ndarray[Any, np.dtype[np.int8]],
    np.ndarray[Any, np.dtype[np.float64]],
    np.ndarray[Any, np.dtype[np.float64]],
    np.ndarray[Any, np.dtype[np.float64]],
    np.ndarray[Any, np.dtype[np.int64]],
    np.ndarray[Any, np.dtype[np.float64]],
]


def _records(cap: int) -> Records:
    return (
        np.zeros(cap, np.int64),
        np.zeros(cap, np.int8),
        np.zeros(cap, np.int8),
        np.zeros(cap, np.float64),
        np.zeros(cap, np.float64),
        np.zeros(cap, np.float64),
        np.zeros(cap, np.int64),
        np.zeros(cap, np.float64),
    )


def _fills(rec: Records, m: int) -> Fills:
    return Fills(
        rec[0][:m].copy(),
        rec[1][:m].copy(),
        rec[2][:m].copy(),
        rec[3][:m].copy(),
        rec[4][:m].copy(),
        rec[5][:m].copy(),
        rec[6][:m].copy(),
        rec[7][:m].copy(),
    )


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def unsupported(strategy: str, settings: Any) -> str | None:
    """Why the fast path cannot run these parsed settings, or None when it can."""
    if strategy == "dca":
        if settings.entry.kind == "rsi":
            return "entry=rsi:... (indicators are computed by the reference engine's caller)"
        return None
    if strategy == "grid":
        from tradewarden.services.backtest import fast_grid

        return fast_grid.unsupported(settings)
    return f"strategy {strategy!r}"


def dca_params(
    s: Any,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Parsed DcaSettings as the kernel's arrays: params, level deviations (%), quotes, deep flags."""
    p = np.zeros(fast_dca.N_PARAMS, dtype=np.float64)
    p[fast_dca.P_BASE] = float(s.base_order)
    p[fast_dca.P_TP] = float(s.take_profit_pct)
    p[fast_dca.P_TRAIL] = _nan(s.trailing_pct)
    p[fast_dca.P_STOP] = _nan(s.stop_loss_pct)
    p[fast_dca.P_STOP_FIRST] = 1.0 if s.stop_loss_from == "first" else 0.0
    p[fast_dca.P_LONG] = 1.0 if s.side == "long" else 0.0
    p[fast_dca.P_LEV] = float(s.leverage)
    p[fast_dca.P_REC] = 1.0 if s.recovery else 0.0
    p[fast_dca.P_REC_DD] = _nan(s.recovery_drawdown_pct)
    p[fast_dca.P_REC_MARGIN] = _nan(s.recovery_margin_pct)
    p[fast_dca.P_REC_EXIT] = float(s.recovery_exit_pct)
    p[fast_dca.P_LIMIT] = _nan(s.margin_limit)
    p[fast_dca.P_MIN_IMPR] = float(s.addon_min_improvement_pct)
    p[fast_dca.P_FEE] = float(s.fees.taker)
    p[fast_dca.P_LOT] = float(s.rules.lot_size) if s.rules.lot_size else 0.0
    p[fast_dca.P_ENTRY_BELOW] = float(s.entry.price) if s.entry.kind == "below" else math.nan
    p[fast_dca.P_COOLDOWN_MS] = float(s.cooldown_s * 1000)
    dev = np.array([float(lv.deviation_pct) for lv in s.levels], dtype=np.float64)
    quote = np.array([float(lv.quote) for lv in s.levels], dtype=np.float64)
    deep = np.array([1 if lv.deep else 0 for lv in s.levels], dtype=np.int8)
    return p, dev, quote, deep


_WARM = {"dca": False, "ft": False}


def _warm(kind: str, call: Callable[[Candles], Any], candles: Candles) -> None:
    # The first call in a process loads the compiled kernel from numba's cache (or compiles it); do that
    # on two candles so the timed run measures the loop, not the loading.
    if not _WARM[kind] and len(candles) > 2:
        _WARM[kind] = True
        call(candles.slice(0, 2))


def _run_with_room(
    candles: Candles, call: Callable[[Records], tuple[int, bool, float]]
) -> tuple[Records, int, float]:
    cap = max(1024, len(candles) // 16)
    while True:
        rec = _records(cap)
        m, overflow, extra = call(rec)
        if not overflow:
            return rec, m, extra
        cap *= 2


def run_dca_ours(candles: Candles, settings: Any, *, capital: float) -> BacktestResult:
    """DCA under the engine contract (fills="ours")."""
    _warm("dca", lambda c: run_dca_ours(c, settings, capital=capital), candles)
    p, dev, quote, deep = dca_params(settings)
    state: dict[str, Any] = {}

    def call(rec: Records) -> tuple[int, bool, float]:
        fs = np.zeros(7, dtype=np.float64)
        fs[fast_dca.PEAK] = math.nan
        st = np.zeros(12, dtype=np.int64)
        st[fast_dca.COOLDOWN] = -1
        st[fast_dca.REC_SINCE] = -1
        started = _time.perf_counter()
        margin = fast_dca.dca_kernel(
            candles.open,
            candles.high,
            candles.low,
            candles.close,
            candles.time,
            p,
            dev,
            quote,
            deep,
            fs,
            st,
            rec,
            MAX_FOLLOW_UPS,
        )
        state.update(seconds=_time.perf_counter() - started, st=st)
        return int(st[fast_dca.NFILLS]), bool(st[fast_dca.OVERFLOW]), float(margin)

    rec, m, margin = _run_with_room(candles, call)
    st = state["st"]
    return summarize(
        strategy="dca",
        fills_convention="ours",
        engine="fast",
        candles=candles,
        fills=_fills(rec, m),
        counts=(
            int(st[fast_dca.TRADES]),
            int(st[fast_dca.WINS]),
            int(st[fast_dca.LOSSES]),
            int(st[fast_dca.GROUPS]),
            int(st[fast_dca.ADDONS_MAX]),
        ),
        recovery_candles=int(st[fast_dca.REC_CANDLES]),
        capital=capital,
        max_margin_used=margin,
        seconds=state["seconds"],
    )


def run_ours(candles: Candles, strategy: str, settings: Any, *, capital: float) -> BacktestResult:
    """The fast path for `fills="ours"`."""
    if strategy == "dca":
        return run_dca_ours(candles, settings, capital=capital)
    from tradewarden.services.backtest import fast_grid

    return fast_grid.run_grid_ours(candles, settings, capital=capital)


def run_freqtrade(candles: Candles, rules: FtRules, *, capital: float) -> BacktestResult:
    """The fast path of the Freqtrade convention (DCA)."""
    _warm("ft", lambda c: run_freqtrade(c, rules, capital=capital), candles)
    decimals = tick_decimals(candles)
    market_tick = float(rules.tick_size or 0)
    ticks = np.where(decimals >= 0, np.power(10.0, -decimals.astype(np.float64)), market_tick)
    addon_q = np.array([float(q) for q in rules.addon_orders], dtype=np.float64)
    addon_d = np.array([float(d) for d in rules.addon_deviations], dtype=np.float64)
    counts = np.zeros(7, dtype=np.int64)
    timing: dict[str, float] = {}

    def call(rec: Records) -> tuple[int, bool, float]:
        started = _time.perf_counter()
        margin = fast_ft.ft_dca_kernel(
            candles.open,
            candles.high,
            candles.low,
            float(rules.base_order),
            addon_q,
            addon_d,
            float(rules.take_profit),
            float(rules.stop_loss or 0),
            float(rules.fee),
            float(rules.lot_size or 0),
            ticks,
            *rec,
            counts,
        )
        timing["seconds"] = _time.perf_counter() - started
        return int(counts[5]), bool(counts[6]), float(margin)

    rec, m, margin = _run_with_room(candles, call)
    return summarize(
        strategy="dca",
        fills_convention="freqtrade",
        engine="fast",
        candles=candles,
        fills=_fills(rec, m),
        counts=(int(counts[0]), int(counts[1]), int(counts[2]), int(counts[3]), int(counts[4])),
        recovery_candles=0,
        capital=capital,
        max_margin_used=margin,
        seconds=timing["seconds"],
    )
