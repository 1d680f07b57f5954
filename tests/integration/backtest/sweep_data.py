"""Shared inputs of the sweep tests: a small random-walk candle series and a 264-setting DCA grid."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradewarden.services.backtest.candles import Candles, from_arrays
from tradewarden.services.backtest.runner import run_fast

BASE = {  # addon_volume_scale is swept by GRID
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "3",
    "addon_step_scale": "1",
    "stop_loss_pct": "8",
    "stop_loss_from": "first",
}
# 8 x 11 x 3 = 264 settings; addon_deviation_pct=0 is refused by the strategy: 33 fail, 231 run
GRID = [
    "addon_deviation_pct=0,1,1.5,2,2.5,3,3.5,4",
    "take_profit_pct=0.5..3:0.25",
    "addon_volume_scale=1,1.5,2",
]


def candles(n: int = 3000, seed: int = 3) -> Candles:
    """`n` one-minute candles of a random walk (volatile enough for add-ons and stops)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.002, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.002, n))
    time = 1_700_000_000_000 + 60_000 * np.arange(n, dtype=np.int64)
    return from_arrays(time, open_, high, low, close, timeframe_ms=60_000, source="walk")


def without_speed(run: dict[str, Any]) -> dict[str, Any]:
    """A run's fields without candles_per_s (a timing, different on every run)."""
    return {k: v for k, v in run.items() if k != "candles_per_s"}


def one_by_one(series: Candles, settings: dict[str, str]) -> dict[str, Any]:
    """The same settings run alone in this process, as `backtest run --json` would print them."""
    return without_speed(run_fast(series, "dca", settings).to_json())
