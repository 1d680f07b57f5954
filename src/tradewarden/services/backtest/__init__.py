"""Backtests: candle files, the Decimal reference engine, the numba fast path and their results.

Entry points (import them from here; they load numba only when first used):

    from tradewarden.services.backtest import load_candles, run_reference, run_fast

    candles = load_candles("btc-1m.csv", timeframe="1m")            # checked, numpy arrays inside
    settings = {"base_order": "100", "addon_order": "150", "addon_count": "3",
                "addon_deviation_pct": "2", "addon_step_scale": "1", "addon_volume_scale": "1.5",
                "take_profit_pct": "1", "stop_loss_pct": "8", "stop_loss_from": "first"}
    ref = run_reference(candles, "dca", settings, fills="ours")     # or fills="freqtrade"
    fast = run_fast(candles, "dca", settings, fills="ours")         # same fills, numba
    fast.to_json()      # the `backtest run --json` object; fast.fills: one row per fill (arrays)

- `run_reference(candles, strategy, settings, fills="ours"|"freqtrade", *, context=None, progress=None)`
  replays through the domain's `decide()` under the engine contract (engine.py), or with Freqtrade's
  backtesting rules (freqtrade.py). `settings` are the DESIGN.md `--set` keys as strings;
  `context` is a `tradewarden.domain.strategies.base.Context` (market, risk preset, margin limit,
  Recovery Mode, fees, lot and tick size; Freqtrade comparisons pass `rules=MarketRules(tick_size=...,
  lot_size=...)` and `fees=Fees(taker=...)`).
- `run_fast(candles, strategy, settings, fills=..., *, context=None)`: the same on float64 arrays with
  numba (fast.py); raises InputError naming what it does not cover (then use run_reference).
- `from_arrays(time, open, high, low, close, timeframe_ms=...)` builds candles from arrays in memory.
- `BacktestResult.seconds` is the engine's own time (loading and summary excluded);
  `candles_per_s` = candles / seconds.
"""

from __future__ import annotations

from typing import Any

__all__ = ["from_arrays", "load_candles", "run_fast", "run_reference"]


def __getattr__(name: str) -> Any:
    if name in ("load_candles", "from_arrays"):
        from tradewarden.services.backtest import candles

        return getattr(candles, name)
    if name in ("run_reference", "run_fast"):
        from tradewarden.services.backtest import runner

        return getattr(runner, name)
    raise AttributeError(name)
