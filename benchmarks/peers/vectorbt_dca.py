"""Run the benchmark's DCA rules with vectorbt's `Portfolio.from_order_func`; print one JSON line.

Runs inside vectorbt's virtual environment (benchmarks/.venvs/vectorbt), started by
benchmarks/backtest_speed.py:  python vectorbt_dca.py CANDLES.csv

The order function is numba-compiled, as vectorbt requires; one order per candle is all
`from_order_func` allows, so an exit and an add-on never share a candle (Freqtrade's rules allow
the same), which makes its trade list close to, not identical with, the others'. It is here for speed.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
import vectorbt as vbt
from numba import njit
from vectorbt.portfolio import nb
from vectorbt.portfolio.enums import Direction, SizeType

FEE = 0.001


@njit
def dca_order_nb(c, open_, high, low, state):  # type: ignore[no-untyped-def]
    """Buy 100 at the open; add-ons at -2/-4/-6 % of the first entry (150, 225, 337.5); +1 % TP; -8 % SL."""
    i = c.i
    pos = c.position_now
    if pos == 0.0:
        state[0] = open_[i]  # first entry price
        state[1] = 0.0  # add-ons used
        state[2] = 0.0  # cost
        state[3] = 0.0  # amount
        return nb.order_nb(100.0, open_[i], size_type=SizeType.Value, direction=Direction.LongOnly, fees=FEE)
    first = state[0]
    stop = first * 0.92
    if low[i] <= stop:
        price = open_[i] if open_[i] < stop else stop
        return nb.order_nb(-np.inf, price, direction=Direction.LongOnly, fees=FEE)
    average = c.last_val_price[c.col] if state[3] == 0.0 else state[2] / state[3]
    target = average * (1.0 + 0.01 + FEE) / (1.0 - FEE)
    if high[i] >= target:
        price = open_[i] if open_[i] > target else target
        return nb.order_nb(-np.inf, price, direction=Direction.LongOnly, fees=FEE)
    used = state[1]
    if used < 3 and open_[i] <= first * (1.0 - 0.02 * (used + 1)):
        state[1] = used + 1
        return nb.order_nb(
            150.0 * 1.5**used, open_[i], size_type=SizeType.Value, direction=Direction.LongOnly, fees=FEE
        )
    return nb.order_nothing_nb()


@njit
def track_fill_nb(c, state):  # type: ignore[no-untyped-def]
    """Keep the group's cost and amount for the average price."""
    if c.order_result.status == 0:
        if c.order_result.side == 0:
            state[2] += c.order_result.size * c.order_result.price
            state[3] += c.order_result.size
        else:
            state[2] = 0.0
            state[3] = 0.0


def run(frame: pd.DataFrame) -> dict[str, float]:
    """One full simulation; returns counts and profit."""
    state = np.zeros(4)
    pf = vbt.Portfolio.from_order_func(
        frame["close"].to_numpy(),
        dca_order_nb,
        frame["open"].to_numpy(),
        frame["high"].to_numpy(),
        frame["low"].to_numpy(),
        state,
        post_order_func_nb=track_fill_nb,
        post_order_args=(state,),
        init_cash=1_000_000.0,
        max_orders=len(frame),
    )
    trades = pf.trades.records_readable
    pnl = trades["PnL"].to_numpy()
    return {
        "trades": len(trades),
        "wins": int((pnl > 0).sum()),
        "losses": int((pnl <= 0).sum()),
        "profit": float(pnl.sum()),
    }


def main() -> None:
    """Time a first (compiling) run and a warm run on the same candles."""
    frame = pd.read_csv(sys.argv[1])
    started = time.perf_counter()
    run(frame)
    first = time.perf_counter() - started
    started = time.perf_counter()
    out = run(frame)
    warm = time.perf_counter() - started
    print("RESULT " + json.dumps({"candles": len(frame), "first_seconds": first, "seconds": warm, **out}))


if __name__ == "__main__":
    main()
