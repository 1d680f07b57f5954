"""Fast path for the grid: domain/strategies/grid.py and the engine contract of base.py as one numba loop.

The helpers mirror grid.py (`_amount`, `_nearest`, `next_above`, `_reconcile`, `_trail_up`, `on_fill`,
`triggers`) and engine.py (`_fill_resting`, `at_point`, `segment`); the differential test compares the
fills with the reference engine's. The book is one slot per level: side (1 buy, -1 sell, 0 none),
amount and price. Decimal sums are exact in the domain; here, "enough base for this sell" allows a
relative 1e-9 of float rounding (a real shortfall is a whole order).

State arrays: gs (floats) inventory, inventory_cost, realized, fees;
gi (ints) started, empty, trades, wins, losses, shifts, n_fills, overflow.
"""

# mypy: disable-error-code="no-any-return"
# (numba kernels index float arrays, which the numpy stubs type as Any)

from __future__ import annotations

import math
import time as _time
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from tradewarden.domain.strategies.base import MAX_FOLLOW_UPS
from tradewarden.services.backtest.candles import Candles
from tradewarden.services.backtest.results import GRID_BUY, GRID_SELL, INVENTORY, BacktestResult, summarize

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
Rec = tuple[Any, ...]  # the eight fill-record arrays (see fast.Records)

INV, INV_COST, REALIZED, FEES = range(4)
STARTED, EMPTY, TRADES, WINS, LOSSES, SHIFTS, NFILLS, OVERFLOW = range(8)
# settings (floats)
P_AMOUNT, P_STEP, P_TICK, P_TRAILING, P_GEOMETRIC, P_MAKER, P_TAKER = range(7)
N_PARAMS = 7
TOL = 1e-9
AMOUNT_STEP = 1e-12  # grid.py floors amounts to this when the market has no lot size


def unsupported(settings: Any) -> str | None:
    """The grid fast path covers every grid setting."""
    return None


@njit(cache=True, nogil=True)
def _amount(p: F64, prices: F64, level: int, side: int) -> float:  # pragma: no cover - compiled
    at = prices[level] if side > 0 else prices[level - 1]
    step = p[P_STEP]
    # nudge like fast_dca._floor_step: a whole number in Decimal may come out a hair under it in floats
    return math.floor(p[P_AMOUNT] / at / step * (1.0 + 1e-12)) * step


@njit(cache=True, nogil=True)
def _round_tick(p: F64, price: float) -> float:  # pragma: no cover - compiled
    tick = p[P_TICK]
    if tick <= 0.0:
        return price
    return np.rint(price / tick) * tick


@njit(cache=True, nogil=True)
def _next_above(p: F64, prices: F64) -> float:  # pragma: no cover - compiled
    n = prices.shape[0]
    if p[P_GEOMETRIC] > 0:
        return _round_tick(p, prices[n - 1] * prices[n - 1] / prices[n - 2])
    return _round_tick(p, prices[n - 1] + (prices[n - 1] - prices[n - 2]))


@njit(cache=True, nogil=True)
def _offered(oside: I8, oamt: F64) -> float:  # pragma: no cover - compiled
    total = 0.0
    for i in range(oside.shape[0]):
        if oside[i] < 0:
            total += oamt[i]
    return total


@njit(cache=True, nogil=True)
def _fits(amount: float, free: float) -> bool:  # pragma: no cover - compiled
    return amount <= free + TOL * amount


@njit(cache=True, nogil=True)
def _record(
    gi: I64, rec: Rec, candle: int, kind: int, side: int, price: float, qty: float, fee: float, pnl: float
) -> bool:  # pragma: no cover - compiled; False when out of room
    m = gi[NFILLS]
    out_candle, out_kind, out_side, out_price, out_qty, out_fee, out_group, out_pnl = rec
    if m >= out_candle.shape[0]:
        gi[OVERFLOW] = 1
        return False
    out_candle[m] = candle
    out_kind[m] = kind
    out_side[m] = side
    out_price[m] = price
    out_qty[m] = qty
    out_fee[m] = fee
    out_group[m] = 0
    out_pnl[m] = pnl
    gi[NFILLS] = m + 1
    return True


@njit(cache=True, nogil=True)
def _on_fill(
    gs: F64,
    gi: I64,
    side: int,
    price: float,
    qty: float,
    fee: float,
    level: int,
    candle: int,
    kind: int,
    rec: Rec,
) -> None:  # pragma: no cover - compiled; grid.on_fill for a complete fill
    gs[FEES] += fee
    pnl = 0.0
    if side > 0:
        gs[INV] += qty
        gs[INV_COST] += price * qty + fee
    else:
        sold = min(qty, gs[INV])
        avg = gs[INV_COST] / gs[INV] if gs[INV] != 0.0 else 0.0
        pnl = price * qty - fee - avg * sold
        gs[INV] -= sold
        gs[INV_COST] -= avg * sold
        gs[REALIZED] += pnl
        gi[TRADES] += 1
        if pnl > 0.0:
            gi[WINS] += 1
        else:
            gi[LOSSES] += 1
    if level >= 0:
        gi[EMPTY] = level
    _record(gi, rec, candle, kind, side, price, qty, fee, pnl)


@njit(cache=True, nogil=True)
def _margin(gs: F64, oside: I8, oamt: F64, oprice: F64) -> float:  # pragma: no cover - compiled
    buys = 0.0
    for i in range(oside.shape[0]):
        if oside[i] > 0:
            buys += oamt[i] * oprice[i]
    return buys + gs[INV_COST]


@njit(cache=True, nogil=True)
def _placeable(p: F64, prices: F64, gs: F64, gi: I64, oside: I8, oamt: F64) -> bool:  # pragma: no cover
    free = gs[INV] - _offered(oside, oamt)
    for i in range(prices.shape[0]):
        if i == gi[EMPTY] or oside[i] != 0:
            continue
        side = 1 if i < gi[EMPTY] else -1
        amount = _amount(p, prices, i, side)
        if amount > 0.0 and (side > 0 or _fits(amount, free)):
            return True
    return False


@njit(cache=True, nogil=True)
def _triggers(
    p: F64, prices: F64, gs: F64, gi: I64, oside: I8, oamt: F64, t: F64
) -> None:  # pragma: no cover
    t[0] = math.nan
    t[1] = math.nan
    t[2] = -1.0
    if gi[STARTED] == 0:
        t[2] = 0.0
        return
    missing = False
    for i in range(prices.shape[0]):
        if i != gi[EMPTY] and oside[i] == 0:
            missing = True
            break
    if missing and _placeable(p, prices, gs, gi, oside, oamt):
        t[2] = 0.0
        return
    if p[P_TRAILING] > 0 and gi[EMPTY] == prices.shape[0] - 1:
        t[1] = _next_above(p, prices)


@njit(cache=True, nogil=True)
def _hit(t: F64, price: float, ts: int) -> bool:  # pragma: no cover - compiled
    return (
        (not math.isnan(t[0]) and price <= t[0])
        or (not math.isnan(t[1]) and price >= t[1])
        or (t[2] >= 0.0 and ts >= t[2])
    )


@njit(cache=True, nogil=True)
def _decide(
    p: F64,
    prices: F64,
    gs: F64,
    gi: I64,
    oside: I8,
    oamt: F64,
    oprice: F64,
    x: float,
    candle: int,
    rec: Rec,
    margin: F64,
) -> bool:  # pragma: no cover - compiled; grid.decide plus the engine applying its actions; True on a fill
    n = prices.shape[0]
    if gi[STARTED] == 0:
        best = 0
        for i in range(1, n):
            if abs(prices[i] - x) < abs(prices[best] - x):
                best = i
        gi[STARTED] = 1
        gi[EMPTY] = best
        need = 0.0
        for i in range(best + 1, n):
            need += _amount(p, prices, i, -1)
        if need > 0.0:
            fee = x * need * p[P_TAKER]
            _on_fill(gs, gi, 1, x, need, fee, -1, candle, INVENTORY, rec)
            m = _margin(gs, oside, oamt, oprice)
            if m > margin[0]:
                margin[0] = m
            return True
    elif p[P_TRAILING] > 0 and gi[EMPTY] == n - 1 and x >= _next_above(p, prices):
        top = _next_above(p, prices)
        # cancel the bottom level's order, shift everything down one level, add the new top
        for i in range(n - 1):
            prices[i] = prices[i + 1]
            oside[i] = oside[i + 1]
            oamt[i] = oamt[i + 1]
            oprice[i] = oprice[i + 1]
        prices[n - 1] = top
        oside[n - 1] = 0
        oamt[n - 1] = 0.0
        oprice[n - 1] = 0.0
        gi[EMPTY] = n - 1
        gi[SHIFTS] += 1
    # _reconcile: cancel wrong sides first, then place the missing orders nearest the empty level first
    empty = gi[EMPTY]
    for i in range(n):
        if i == empty:
            continue
        want = 1 if i < empty else -1
        if oside[i] != 0 and oside[i] != want:
            oside[i] = 0
            oamt[i] = 0.0
    placed_side = np.zeros(n, dtype=np.int8)
    placed_order = np.empty(n, dtype=np.int64)
    n_placed = 0
    for d in range(1, n):
        for i in (empty - d, empty + d):
            if i < 0 or i >= n or oside[i] != 0:
                continue
            want = 1 if i < empty else -1
            amount = _amount(p, prices, i, want)
            if amount <= 0.0 or (want < 0 and not _fits(amount, gs[INV] - _offered(oside, oamt))):
                continue
            oside[i] = want
            oamt[i] = amount
            oprice[i] = prices[i]
            placed_side[i] = want
            placed_order[n_placed] = i
            n_placed += 1
    # the engine applies the placements in order: one already marketable at x fills at once (taker)
    filled = False
    for j in range(n_placed):
        i = placed_order[j]
        if oside[i] != placed_side[i]:
            continue
        if (oside[i] > 0 and oprice[i] >= x) or (oside[i] < 0 and oprice[i] <= x):
            side = int(oside[i])
            qty = oamt[i]
            oside[i] = 0
            oamt[i] = 0.0
            _on_fill(
                gs,
                gi,
                side,
                x,
                qty,
                x * qty * p[P_TAKER],
                i,
                candle,
                GRID_BUY if side > 0 else GRID_SELL,
                rec,
            )
            m = _margin(gs, oside, oamt, oprice)
            if m > margin[0]:
                margin[0] = m
            filled = True
    return filled


@njit(cache=True, nogil=True)
def _fill_resting(
    p: F64,
    gs: F64,
    gi: I64,
    oside: I8,
    oamt: F64,
    oprice: F64,
    x: float,
    at_open: bool,
    candle: int,
    rec: Rec,
    margin: F64,
) -> bool:  # pragma: no cover - compiled; engine._fill_resting: buys (highest first), then sells (lowest)
    n = oside.shape[0]
    hit = np.zeros(n, dtype=np.int8)
    any_hit = False
    for i in range(n):
        if (oside[i] > 0 and oprice[i] >= x) or (oside[i] < 0 and oprice[i] <= x):
            hit[i] = oside[i]
            any_hit = True
    if not any_hit:
        return False
    for i in range(n - 1, -1, -1):
        if hit[i] > 0:
            price = min(oprice[i], x) if at_open else oprice[i]
            qty = oamt[i]
            oside[i] = 0
            oamt[i] = 0.0
            _on_fill(gs, gi, 1, price, qty, price * qty * p[P_MAKER], i, candle, GRID_BUY, rec)
            m = _margin(gs, oside, oamt, oprice)
            if m > margin[0]:
                margin[0] = m
    for i in range(n):
        if hit[i] < 0:
            price = max(oprice[i], x) if at_open else oprice[i]
            qty = oamt[i]
            oside[i] = 0
            oamt[i] = 0.0
            _on_fill(gs, gi, -1, price, qty, price * qty * p[P_MAKER], i, candle, GRID_SELL, rec)
            m = _margin(gs, oside, oamt, oprice)
            if m > margin[0]:
                margin[0] = m
    return True


@njit(cache=True, nogil=True)
def _visit(
    p: F64,
    prices: F64,
    gs: F64,
    gi: I64,
    oside: I8,
    oamt: F64,
    oprice: F64,
    x: float,
    ts: int,
    at_open: bool,
    candle: int,
    rec: Rec,
    margin: F64,
    t: F64,
    max_follow_ups: int,
) -> None:  # pragma: no cover - compiled; engine.at_point (also used at the stops inside a segment)
    filled = _fill_resting(p, gs, gi, oside, oamt, oprice, x, at_open, candle, rec, margin)
    _triggers(p, prices, gs, gi, oside, oamt, t)
    if filled or _hit(t, x, ts):
        follow = 0
        while _decide(p, prices, gs, gi, oside, oamt, oprice, x, candle, rec, margin):
            if follow >= max_follow_ups:
                break
            follow += 1
            _fill_resting(p, gs, gi, oside, oamt, oprice, x, False, candle, rec, margin)


@njit(cache=True, nogil=True)
def grid_kernel(
    opens: F64,
    highs: F64,
    lows: F64,
    closes: F64,
    times: I64,
    p: F64,
    prices: F64,
    gs: F64,
    gi: I64,
    rec: Rec,
    max_follow_ups: int,
) -> float:  # pragma: no cover - compiled; returns the largest committed capital
    n_candles = opens.shape[0]
    n = prices.shape[0]
    oside = np.zeros(n, dtype=np.int8)
    oamt = np.zeros(n, dtype=np.float64)
    oprice = np.zeros(n, dtype=np.float64)
    t = np.empty(3, dtype=np.float64)
    margin = np.zeros(1, dtype=np.float64)
    path = np.empty(4, dtype=np.float64)
    widen = 1e-12
    lo = -math.inf
    hi = math.inf
    wake = 0.0
    for c in range(n_candles):
        ts = times[c]
        if lows[c] > lo and highs[c] < hi and ts < wake:
            continue
        o = opens[c]
        cl = closes[c]
        path[0] = o
        if cl >= o:
            path[1] = lows[c]
            path[2] = highs[c]
        else:
            path[1] = highs[c]
            path[2] = lows[c]
        path[3] = cl
        _visit(p, prices, gs, gi, oside, oamt, oprice, o, ts, True, c, rec, margin, t, max_follow_ups)
        for j in range(1, 4):
            a = path[j - 1]
            b = path[j]
            if a != b:
                x = a
                while True:
                    _triggers(p, prices, gs, gi, oside, oamt, t)
                    stop = math.nan
                    if b < a:
                        if not math.isnan(t[0]) and b < t[0] < x:
                            stop = t[0]
                        for i in range(n):
                            if oside[i] > 0 and b < oprice[i] < x:
                                stop = oprice[i] if math.isnan(stop) else max(stop, oprice[i])
                    else:
                        if not math.isnan(t[1]) and x < t[1] < b:
                            stop = t[1]
                        for i in range(n):
                            if oside[i] < 0 and x < oprice[i] < b:
                                stop = oprice[i] if math.isnan(stop) else min(stop, oprice[i])
                    if math.isnan(stop):
                        break
                    x = stop
                    _visit(
                        p,
                        prices,
                        gs,
                        gi,
                        oside,
                        oamt,
                        oprice,
                        x,
                        ts,
                        False,
                        c,
                        rec,
                        margin,
                        t,
                        max_follow_ups,
                    )
                    if gi[OVERFLOW]:
                        return margin[0]
            _visit(p, prices, gs, gi, oside, oamt, oprice, b, ts, False, c, rec, margin, t, max_follow_ups)
            if gi[OVERFLOW]:
                return margin[0]
        # the band for the next candles: resting orders and the triggers (widened, like the reference)
        _triggers(p, prices, gs, gi, oside, oamt, t)
        lo = t[0] if not math.isnan(t[0]) else -math.inf
        hi = t[1] if not math.isnan(t[1]) else math.inf
        for i in range(n):
            if oside[i] > 0:
                lo = max(lo, oprice[i])
            elif oside[i] < 0:
                hi = min(hi, oprice[i])
        if lo != -math.inf:
            lo = lo + abs(lo) * widen
        if hi != math.inf:
            hi = hi - abs(hi) * widen
        wake = t[2] if t[2] >= 0.0 else math.inf
    return margin[0]


def grid_params(s: Any) -> tuple[F64, F64]:
    """Parsed GridSettings as the kernel's arrays: params and the level prices."""
    p = np.zeros(N_PARAMS, dtype=np.float64)
    p[P_AMOUNT] = float(s.order_amount)
    p[P_STEP] = float(s.rules.lot_size) if s.rules.lot_size else AMOUNT_STEP
    p[P_TICK] = float(s.rules.tick_size) if s.rules.tick_size else 0.0
    p[P_TRAILING] = 1.0 if s.trailing else 0.0
    p[P_GEOMETRIC] = 1.0 if s.spacing == "geometric" else 0.0
    p[P_MAKER] = float(s.fees.maker)
    p[P_TAKER] = float(s.fees.taker)
    prices = np.array([float(x) for x in s.prices], dtype=np.float64)
    return p, prices


_WARMED = [False]


def run_grid_ours(candles: Candles, settings: Any, *, capital: float) -> BacktestResult:
    """Grid under the engine contract (fills="ours")."""
    from tradewarden.services.backtest.fast import Records, _fills, _records

    if not _WARMED[0] and len(candles) > 2:
        _WARMED[0] = True  # load the compiled kernel before timing (see fast._warm)
        run_grid_ours(candles.slice(0, 2), settings, capital=capital)
    p, prices0 = grid_params(settings)
    cap = max(1024, len(candles) // 16)
    while True:
        rec: Records = _records(cap)
        prices = prices0.copy()
        gs = np.zeros(4, dtype=np.float64)
        gi = np.zeros(8, dtype=np.int64)
        gi[EMPTY] = -1
        started = _time.perf_counter()
        margin = float(
            grid_kernel(
                candles.open,
                candles.high,
                candles.low,
                candles.close,
                candles.time,
                p,
                prices,
                gs,
                gi,
                rec,
                MAX_FOLLOW_UPS,
            )
        )
        seconds = _time.perf_counter() - started
        if not gi[OVERFLOW]:
            break
        cap *= 2
    m = int(gi[NFILLS])
    fills = _fills(rec, m)
    return summarize(
        strategy="grid",
        fills_convention="ours",
        engine="fast",
        candles=candles,
        fills=fills,
        counts=(int(gi[TRADES]), int(gi[WINS]), int(gi[LOSSES]), 1 if m else 0, 0),
        recovery_candles=0,
        capital=capital,
        max_margin_used=margin,
        seconds=seconds,
    )
