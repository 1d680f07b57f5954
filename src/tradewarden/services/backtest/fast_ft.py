"""The fast path of the `--fills freqtrade` convention: the rules of `freqtrade.py` as one numba loop.

Same rules, float64 instead of Decimal; the differential test holds the two together (prices within
1e-9 relative). One call runs the whole series with no Python per candle and returns the fill records.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from tradewarden.services.backtest.results import ADDON, BASE, END, STOP_LOSS, TAKE_PROFIT

F64 = npt.NDArray[np.float64]


@njit(cache=True, nogil=True)
def _floor_step(x: float, step: float) -> float:  # pragma: no cover - compiled
    if step <= 0.0:
        return x
    # x / step can land a hair under a whole number the Decimal division hits exactly (2 / 1e-5 ->
    # 199999.99999999997): nudge by 1e-12 relative before flooring.
    return math.floor(x / step * (1.0 + 1e-12)) * step


@njit(cache=True, nogil=True)
def _ceil_step(x: float, step: float) -> float:  # pragma: no cover - compiled
    if step <= 0.0:
        return x
    return math.ceil(x / step * (1.0 - 1e-12)) * step


@njit(cache=True, nogil=True)
def _round_step(x: float, step: float) -> float:  # pragma: no cover - compiled; half up, like the reference
    if step <= 0.0:
        return x
    return math.floor(x / step + 0.5) * step


@njit(cache=True, nogil=True)
def ft_dca_kernel(
    opens: F64,
    highs: F64,
    lows: F64,
    base_order: float,
    addon_orders: F64,
    addon_devs: F64,
    take_profit: float,
    stop_loss: float,  # fraction; 0: no stop
    fee: float,
    lot: float,
    ticks: F64,  # per candle: the tick a trade opened there uses (0: none); see freqtrade.tick_decimals
    out_candle: npt.NDArray[np.int64],
    out_kind: npt.NDArray[np.int8],
    out_side: npt.NDArray[np.int8],
    out_price: F64,
    out_qty: F64,
    out_fee: F64,
    out_group: npt.NDArray[np.int64],
    out_pnl: F64,
    counts: npt.NDArray[np.int64],  # trades, wins, losses, groups, addons_max, n_fills, overflow
) -> float:  # pragma: no cover - compiled; returns the largest stake held
    n = opens.shape[0]
    cap = out_candle.shape[0]
    m = 0
    trades = 0
    wins = 0
    losses = 0
    groups = 0
    addons_max = 0
    max_margin = 0.0
    is_open = False
    amount = 0.0
    stake = 0.0
    first = 0.0
    stop = -1.0
    entries = 0
    tick = 0.0
    n_addons = addon_orders.shape[0]
    for i in range(1, n):
        last = i == n - 1
        o = opens[i]
        if not is_open and not last:
            qty = _floor_step(base_order / o, lot)
            if qty > 0.0:
                if m >= cap:
                    counts[6] = 1
                    return max_margin
                groups += 1
                cost = qty * o
                f = cost * fee
                amount = qty
                stake = cost
                is_open = True
                entries = 1
                first = o
                tick = ticks[i]
                stop = _ceil_step(o * (1.0 - stop_loss), tick) if stop_loss > 0.0 else -1.0
                if stake > max_margin:
                    max_margin = stake
                out_candle[m] = i
                out_kind[m] = BASE
                out_side[m] = 1
                out_price[m] = o
                out_qty[m] = qty
                out_fee[m] = f
                out_group[m] = groups
                out_pnl[m] = 0.0
                m += 1
        if not is_open:
            continue
        k = entries - 1
        if k < n_addons and o <= first * (1.0 - addon_devs[k]):
            qty = _floor_step(addon_orders[k] / o, lot)
            if qty > 0.0:
                if m >= cap:
                    counts[6] = 1
                    return max_margin
                cost = qty * o
                amount += qty
                stake += cost
                entries += 1
                if entries - 1 > addons_max:
                    addons_max = entries - 1
                if stake > max_margin:
                    max_margin = stake
                out_candle[m] = i
                out_kind[m] = ADDON
                out_side[m] = 1
                out_price[m] = o
                out_qty[m] = qty
                out_fee[m] = cost * fee
                out_group[m] = groups
                out_pnl[m] = 0.0
                m += 1
        h = highs[i]
        low = lows[i]
        exit_price = -1.0
        kind = 0
        if stop > 0.0 and stop >= low:
            exit_price = o if stop > h else stop
            kind = STOP_LOSS
        else:
            avg = _round_step(stake / amount, tick)
            ratio = (amount * h * (1.0 - fee)) / (amount * avg * (1.0 + fee)) - 1.0
            if np.round(ratio, 8) > take_profit:
                close_rate = avg * (1.0 + fee) * (1.0 + take_profit) / (1.0 - fee)
                exit_price = min(max(close_rate, low), h)
                kind = TAKE_PROFIT
        if exit_price > 0.0:
            exit_price = _round_step(exit_price, tick)
            if m >= cap:
                counts[6] = 1
                return max_margin
            value = amount * exit_price
            f = value * fee
            pnl = (value - f) - stake * (1.0 + fee)
            trades += 1
            if pnl > 0.0:
                wins += 1
            else:
                losses += 1
            out_candle[m] = i
            out_kind[m] = kind
            out_side[m] = -1
            out_price[m] = exit_price
            out_qty[m] = amount
            out_fee[m] = f
            out_group[m] = groups
            out_pnl[m] = pnl
            m += 1
            is_open = False
            amount = 0.0
            stake = 0.0
    if is_open:
        if m >= cap:
            counts[6] = 1
            return max_margin
        exit_price = _round_step(opens[n - 1], tick)
        value = amount * exit_price
        f = value * fee
        pnl = (value - f) - stake * (1.0 + fee)
        trades += 1
        if pnl > 0.0:
            wins += 1
        else:
            losses += 1
        out_candle[m] = n - 1
        out_kind[m] = END
        out_side[m] = -1
        out_price[m] = exit_price
        out_qty[m] = amount
        out_fee[m] = f
        out_group[m] = groups
        out_pnl[m] = pnl
        m += 1
    counts[0] = trades
    counts[1] = wins
    counts[2] = losses
    counts[3] = groups
    counts[4] = addons_max
    counts[5] = m
    counts[6] = 0
    return max_margin
