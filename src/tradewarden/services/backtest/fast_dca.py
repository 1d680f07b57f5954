# mypy: disable-error-code="no-any-return"
# (numba kernels index float arrays, which the numpy stubs type as Any)
"""Fast path for DCA: domain/strategies/dca.py and the engine contract of base.py as one numba loop.

Each function here mirrors one function of dca.py (same name without the underscore prefix where it
applies) so a change there has an obvious place to go here; the differential test compares the fills of
this loop with the reference engine's, price by price. float64 replaces Decimal; the operations are kept
in the same order as in the domain so the figures agree to ~1e-15.

State lives in small arrays so every helper can be a compiled function:
fs (floats): first, qty, cost, fees, peak (nan: none), realized, fees_total
st (ints):   has_group, recovery, cooldown_until (-1: none), groups_opened, trades, wins, losses,
             addons_max, recovery_since (-1), recovery_candles, n_fills, overflow
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from tradewarden.services.backtest.results import ADDON, BASE, STOP_LOSS, TAKE_PROFIT

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
Rec = tuple[Any, ...]  # the eight fill-record arrays (see fast.Records)

# float state
FIRST, QTY, COST, FEES, PEAK, REALIZED, FEES_TOTAL = range(7)
# int state
(
    HAS,
    RECOVERY,
    COOLDOWN,
    GROUPS,
    TRADES,
    WINS,
    LOSSES,
    ADDONS_MAX,
    REC_SINCE,
    REC_CANDLES,
    NFILLS,
    OVERFLOW,
) = range(12)
# settings (floats)
(
    P_BASE,
    P_TP,
    P_TRAIL,
    P_STOP,
    P_STOP_FIRST,
    P_LONG,
    P_LEV,
    P_REC,
    P_REC_DD,
    P_REC_MARGIN,
    P_REC_EXIT,
    P_LIMIT,
    P_MIN_IMPR,
    P_FEE,
    P_LOT,
    P_ENTRY_BELOW,
    P_COOLDOWN_MS,
) = range(17)
N_PARAMS = 17
NO_LEVEL = -1
# actions decide can return
NONE, OPEN, ADD, CLOSE = range(4)


@njit(cache=True, nogil=True)
def _adverse(p: F64, ref: float, pct: float) -> float:  # pragma: no cover - compiled
    if p[P_LONG] > 0:
        return ref * (1.0 - pct / 100.0)
    return ref * (1.0 + pct / 100.0)


@njit(cache=True, nogil=True)
def _beyond(p: F64, price: float, limit: float) -> bool:  # pragma: no cover - compiled
    return price <= limit if p[P_LONG] > 0 else price >= limit


@njit(cache=True, nogil=True)
def _better(p: F64, price: float, limit: float) -> bool:  # pragma: no cover - compiled
    return price >= limit if p[P_LONG] > 0 else price <= limit


@njit(cache=True, nogil=True)
def _exit_price(p: F64, fs: F64, pct: float) -> float:  # pragma: no cover - compiled
    f = p[P_FEE]
    if p[P_LONG] > 0:
        return (fs[COST] + fs[FEES]) * (1.0 + pct / 100.0) / (fs[QTY] * (1.0 - f))
    return (fs[COST] - fs[FEES]) * (1.0 - pct / 100.0) / (fs[QTY] * (1.0 + f))


@njit(cache=True, nogil=True)
def _stop_price(p: F64, fs: F64) -> float:  # pragma: no cover - compiled; nan: no stop
    if math.isnan(p[P_STOP]):
        return math.nan
    ref = fs[FIRST] if p[P_STOP_FIRST] > 0 else fs[COST] / fs[QTY]
    return _adverse(p, ref, p[P_STOP])


@njit(cache=True, nogil=True)
def _improvement_price(p: F64, fs: F64, quote: float) -> float:  # pragma: no cover - compiled
    m = p[P_MIN_IMPR] / 100.0
    a = fs[COST] / fs[QTY]
    if m == 0.0:
        return a
    if p[P_LONG] > 0:
        return min(a, quote * a * (1.0 - m) / (quote + fs[QTY] * a * m))
    den = quote - fs[QTY] * a * m
    if den <= 0.0:
        return math.nan
    return max(a, quote * a * (1.0 + m) / den)


@njit(cache=True, nogil=True)
def _margin_used(p: F64, fs: F64, st: I64) -> float:  # pragma: no cover - compiled
    cost = fs[COST] if st[HAS] == 1 else 0.0
    return cost / p[P_LEV]


@njit(cache=True, nogil=True)
def _next_level(st: I64, deep: I8, used: I8, skipped: I8) -> int:  # pragma: no cover - compiled
    for k in range(deep.shape[0]):
        if used[k] or skipped[k]:
            continue
        if deep[k] == st[RECOVERY]:
            return k
    return NO_LEVEL


@njit(cache=True, nogil=True)
def _unreported_deep(st: I64, deep: I8, used: I8, reported: I8) -> int:  # pragma: no cover - compiled
    if st[RECOVERY] == 1:
        return NO_LEVEL
    for k in range(deep.shape[0]):
        if deep[k] and not used[k] and not reported[k]:
            return k
    return NO_LEVEL


@njit(cache=True, nogil=True)
def _addon_trigger(p: F64, fs: F64, dev: F64, quote: F64, k: int) -> float:  # pragma: no cover
    impr = _improvement_price(p, fs, quote[k])
    if math.isnan(impr):
        return math.nan
    lp = _adverse(p, fs[FIRST], dev[k])
    if p[P_LONG] > 0:
        return min(lp, impr)
    return max(lp, impr)


@njit(cache=True, nogil=True)
def _recovery_due(
    p: F64, fs: F64, st: I64, deep: I8, used: I8, skipped: I8, price: float, has_price: bool
) -> bool:  # pragma: no cover - compiled
    if p[P_REC] <= 0 or st[RECOVERY] == 1:
        return False
    if has_price and not math.isnan(p[P_REC_DD]):
        limit = _adverse(p, fs[COST] / fs[QTY], p[P_REC_DD])
        if _beyond(p, price, limit):
            return True
    n_shallow = 0
    all_used = True
    for k in range(deep.shape[0]):
        if not deep[k]:
            n_shallow += 1
            if not (used[k] or skipped[k]):
                all_used = False
    if n_shallow > 0 and all_used:
        return True
    if not math.isnan(p[P_REC_MARGIN]) and not math.isnan(p[P_LIMIT]):
        used_m = _margin_used(p, fs, st)
        if used_m >= p[P_LIMIT] * p[P_REC_MARGIN] / 100.0:
            return True
    return False


@njit(cache=True, nogil=True)
def _triggers(
    p: F64, fs: F64, st: I64, dev: F64, quote: F64, deep: I8, used: I8, skipped: I8, reported: I8, out: F64
) -> None:  # pragma: no cover - compiled; out = low (nan none), high (nan none), wake (-1 none)
    out[0] = math.nan
    out[1] = math.nan
    out[2] = -1.0
    if st[COOLDOWN] >= 0:
        out[2] = float(st[COOLDOWN])
        return
    if st[HAS] == 0:
        if not math.isnan(p[P_ENTRY_BELOW]):
            out[0] = p[P_ENTRY_BELOW]
        else:
            out[2] = 0.0
        return
    long = p[P_LONG] > 0
    # adverse: worst-first list reduced to the nearest; favourable likewise
    adv = math.nan
    fav = math.nan
    stop = _stop_price(p, fs)
    if not math.isnan(stop):
        adv = stop
    if st[RECOVERY] == 1:
        fav = _exit_price(p, fs, p[P_REC_EXIT])
    elif math.isnan(p[P_TRAIL]) or math.isnan(fs[PEAK]):
        fav = _exit_price(p, fs, p[P_TP])
    else:
        fav = fs[PEAK]
        back = _adverse(p, fs[PEAK], p[P_TRAIL])
        adv = back if math.isnan(adv) else (max(adv, back) if long else min(adv, back))
    if _recovery_due(p, fs, st, deep, used, skipped, 0.0, False):
        out[2] = 0.0
        return
    if p[P_REC] > 0 and st[RECOVERY] == 0 and not math.isnan(p[P_REC_DD]):
        x = _adverse(p, fs[COST] / fs[QTY], p[P_REC_DD])
        adv = x if math.isnan(adv) else (max(adv, x) if long else min(adv, x))
    dk = _unreported_deep(st, deep, used, reported)
    if dk != NO_LEVEL:
        x = _adverse(p, fs[FIRST], dev[dk])
        adv = x if math.isnan(adv) else (max(adv, x) if long else min(adv, x))
    k = _next_level(st, deep, used, skipped)
    if k != NO_LEVEL:
        x = _addon_trigger(p, fs, dev, quote, k)
        if not math.isnan(x):
            adv = x if math.isnan(adv) else (max(adv, x) if long else min(adv, x))
    if long:
        out[0] = adv
        out[1] = fav
    else:
        out[0] = fav
        out[1] = adv


@njit(cache=True, nogil=True)
def _decide(
    p: F64,
    fs: F64,
    st: I64,
    dev: F64,
    quote: F64,
    deep: I8,
    used: I8,
    skipped: I8,
    reported: I8,
    price: float,
    ts: int,
    candle: int,
    order: F64,
) -> int:  # pragma: no cover - compiled; returns the action, order = [quote or qty, level, exit kind]
    if st[COOLDOWN] >= 0:
        if ts < st[COOLDOWN]:
            return NONE
        st[COOLDOWN] = -1
    if st[HAS] == 0:
        if not math.isnan(p[P_ENTRY_BELOW]) and price > p[P_ENTRY_BELOW]:
            return NONE
        if not math.isnan(p[P_LIMIT]) and p[P_BASE] / p[P_LEV] > p[P_LIMIT]:
            return NONE
        order[0] = p[P_BASE]
        return OPEN
    stop = _stop_price(p, fs)
    if not math.isnan(stop) and _beyond(p, price, stop):
        return _close(st, candle, order, STOP_LOSS)
    if st[RECOVERY] == 1:
        if _better(p, price, _exit_price(p, fs, p[P_REC_EXIT])):
            return _close(st, candle, order, TAKE_PROFIT)
    else:
        target = _exit_price(p, fs, p[P_TP])
        if math.isnan(p[P_TRAIL]):
            if _better(p, price, target):
                return _close(st, candle, order, TAKE_PROFIT)
        else:
            peak = fs[PEAK]
            if math.isnan(peak) and _better(p, price, target):
                peak = price
            if not math.isnan(peak):
                peak = max(peak, price) if p[P_LONG] > 0 else min(peak, price)
                fs[PEAK] = peak
                if _beyond(p, price, _adverse(p, peak, p[P_TRAIL])):
                    return _close(st, candle, order, TAKE_PROFIT)
    if _recovery_due(p, fs, st, deep, used, skipped, price, True):
        st[RECOVERY] = 1
        fs[PEAK] = math.nan
        st[REC_SINCE] = candle
        if _better(p, price, _exit_price(p, fs, p[P_REC_EXIT])):
            return _close(st, candle, order, TAKE_PROFIT)
    dk = _unreported_deep(st, deep, used, reported)
    if dk != NO_LEVEL and _beyond(p, price, _adverse(p, fs[FIRST], dev[dk])):
        reported[dk] = 1
    k = _next_level(st, deep, used, skipped)
    if k == NO_LEVEL:
        return NONE
    trig = _addon_trigger(p, fs, dev, quote, k)
    if math.isnan(trig) or not _beyond(p, price, trig):
        return NONE
    if not math.isnan(p[P_LIMIT]):
        after = _margin_used(p, fs, st) + quote[k] / p[P_LEV]
        if after > p[P_LIMIT]:
            skipped[k] = 1
            return NONE
    order[0] = quote[k]
    order[1] = float(k)
    return ADD


@njit(cache=True, nogil=True)
def _close(st: I64, candle: int, order: F64, kind: int) -> int:  # pragma: no cover - compiled
    if st[RECOVERY] == 1 and st[REC_SINCE] >= 0:
        st[REC_CANDLES] += candle - st[REC_SINCE]
        st[REC_SINCE] = -1
    order[2] = float(kind)
    return CLOSE


@njit(cache=True, nogil=True)
def _floor_step(x: float, step: float) -> float:  # pragma: no cover - compiled
    if step <= 0.0:
        return x
    # x / step can land a hair under a whole number the Decimal division hits exactly (2 / 1e-5 ->
    # 199999.99999999997): nudge by 1e-12 relative before flooring.
    return math.floor(x / step * (1.0 + 1e-12)) * step


@njit(cache=True, nogil=True)
def _act(
    p: F64,
    fs: F64,
    st: I64,
    dev: F64,
    quote: F64,
    deep: I8,
    used: I8,
    skipped: I8,
    reported: I8,
    price: float,
    ts: int,
    candle: int,
    order: F64,
    rec: Rec,
) -> bool:  # pragma: no cover - compiled; one decide call and its fill; True when something filled
    action = _decide(p, fs, st, dev, quote, deep, used, skipped, reported, price, ts, candle, order)
    if action == NONE:
        return False
    long = p[P_LONG] > 0
    if action == CLOSE:
        qty = fs[QTY]
        side = -1 if long else 1
    else:
        qty = _floor_step(order[0] / price, p[P_LOT])
        side = 1 if long else -1
    if qty <= 0.0:
        return False
    m = st[NFILLS]
    out_candle, out_kind, out_side, out_price, out_qty, out_fee, out_group, out_pnl = rec
    if m >= out_candle.shape[0]:
        st[OVERFLOW] = 1
        return False
    fee = price * qty * p[P_FEE]
    fs[FEES_TOTAL] += fee
    notional = price * qty
    pnl = 0.0
    if action == OPEN:
        st[HAS] = 1
        st[RECOVERY] = 0
        st[GROUPS] += 1
        fs[FIRST] = price
        fs[QTY] = qty
        fs[COST] = notional
        fs[FEES] = fee
        fs[PEAK] = math.nan
        used[:] = 0
        skipped[:] = 0
        reported[:] = 0
        kind = BASE
    elif action == ADD:
        k = int(order[1])
        fs[QTY] += qty
        fs[COST] += notional
        fs[FEES] += fee
        used[k] = 1
        n = 0
        for j in range(used.shape[0]):
            n += used[j]
        if n > st[ADDONS_MAX]:
            st[ADDONS_MAX] = n
        kind = ADDON
    else:
        sign = 1.0 if long else -1.0
        pnl = sign * (price * qty - fs[COST]) - fee - fs[FEES]
        fs[REALIZED] += pnl
        st[TRADES] += 1
        if pnl > 0.0:
            st[WINS] += 1
        else:
            st[LOSSES] += 1
        st[HAS] = 0
        st[RECOVERY] = 0
        if p[P_COOLDOWN_MS] > 0:
            st[COOLDOWN] = ts + int(p[P_COOLDOWN_MS])
        kind = int(order[2])
    out_candle[m] = candle
    out_kind[m] = kind
    out_side[m] = side
    out_price[m] = price
    out_qty[m] = qty
    out_fee[m] = fee
    out_group[m] = st[GROUPS]
    out_pnl[m] = pnl
    st[NFILLS] = m + 1
    return True


@njit(cache=True, nogil=True)
def _hit(t: F64, price: float, ts: int) -> bool:  # pragma: no cover - compiled
    return (
        (not math.isnan(t[0]) and price <= t[0])
        or (not math.isnan(t[1]) and price >= t[1])
        or (t[2] >= 0.0 and ts >= t[2])
    )


@njit(cache=True, nogil=True)
def dca_kernel(
    opens: F64,
    highs: F64,
    lows: F64,
    closes: F64,
    times: I64,
    p: F64,
    dev: F64,
    quote: F64,
    deep: I8,
    fs: F64,
    st: I64,
    rec: Rec,
    max_follow_ups: int,
) -> float:  # pragma: no cover - compiled; returns the largest margin used
    n = opens.shape[0]
    levels = dev.shape[0]
    used = np.zeros(levels, dtype=np.int8)
    skipped = np.zeros(levels, dtype=np.int8)
    reported = np.zeros(levels, dtype=np.int8)
    t = np.empty(3, dtype=np.float64)
    order = np.zeros(3, dtype=np.float64)
    path = np.empty(4, dtype=np.float64)
    max_margin = 0.0
    widen = 1e-12
    # The band (lo, hi, wake) inside which a candle changes nothing; recomputed after each visited candle
    # (the state only changes there), exactly like the reference engine's skip.
    _triggers(p, fs, st, dev, quote, deep, used, skipped, reported, t)
    lo = t[0] + abs(t[0]) * widen if not math.isnan(t[0]) else -math.inf
    hi = t[1] - abs(t[1]) * widen if not math.isnan(t[1]) else math.inf
    wake = t[2] if t[2] >= 0.0 else math.inf
    for i in range(n):
        ts = times[i]
        if lows[i] > lo and highs[i] < hi and ts < wake:
            continue
        o = opens[i]
        c = closes[i]
        path[0] = o
        if c >= o:
            path[1] = lows[i]
            path[2] = highs[i]
        else:
            path[1] = highs[i]
            path[2] = lows[i]
        path[3] = c
        for j in range(4):
            b = path[j]
            if j > 0:
                a = path[j - 1]
                if a != b:
                    # segment: stop at each trigger strictly between x and b, in path order
                    x = a
                    while True:
                        _triggers(p, fs, st, dev, quote, deep, used, skipped, reported, t)
                        if b < a:
                            if math.isnan(t[0]) or not (b < t[0] < x):
                                break
                            x = t[0]
                        else:
                            if math.isnan(t[1]) or not (x < t[1] < b):
                                break
                            x = t[1]
                        follow = 0
                        while _act(
                            p, fs, st, dev, quote, deep, used, skipped, reported, x, ts, i, order, rec
                        ):
                            m = _margin_used(p, fs, st)
                            if m > max_margin:
                                max_margin = m
                            if follow >= max_follow_ups:
                                break
                            follow += 1
                        if st[OVERFLOW]:
                            return max_margin
            _triggers(p, fs, st, dev, quote, deep, used, skipped, reported, t)
            if _hit(t, b, ts):
                follow = 0
                while _act(p, fs, st, dev, quote, deep, used, skipped, reported, b, ts, i, order, rec):
                    m = _margin_used(p, fs, st)
                    if m > max_margin:
                        max_margin = m
                    if follow >= max_follow_ups:
                        break
                    follow += 1
                if st[OVERFLOW]:
                    return max_margin
        _triggers(p, fs, st, dev, quote, deep, used, skipped, reported, t)
        lo = t[0] + abs(t[0]) * widen if not math.isnan(t[0]) else -math.inf
        hi = t[1] - abs(t[1]) * widen if not math.isnan(t[1]) else math.inf
        wake = t[2] if t[2] >= 0.0 else math.inf
    if st[RECOVERY] == 1 and st[REC_SINCE] >= 0:
        st[REC_CANDLES] += n - st[REC_SINCE]
    return max_margin
