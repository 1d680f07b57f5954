"""The `--fills freqtrade` convention: Freqtrade's backtesting rules applied to our DCA settings (Decimal).

So that users moving from Freqtrade can check that the numbers agree, this replays the DCA rules the
way Freqtrade 2026.9's backtester (freqtrade/optimize/backtesting.py) treats a strategy that enters at once,
adds to the position through `adjust_trade_position`, exits with `minimal_roi = {"0": tp}` and
`stoploss = -sl`:

- Signals are shifted one candle: candle 0 is never traded and a trade opens at the OPEN of the candle
  after the signal; after an exit on candle i the next trade opens at candle i+1's open. No trade opens
  on the last candle.
- Entries and add-ons fill at the candle's open. Add-ons are checked once per candle, at the open and
  before the exits: add-on k is bought when the open is at or below the first entry's price less the
  k-th deviation (at most one add-on per candle, as Freqtrade calls `adjust_trade_position` once).
- Amounts are cut down to the lot size (Freqtrade truncates to the amount precision); the stake is
  amount x price.
- The stop is fixed from the first entry: first x (1 - sl), rounded UP to the trade's tick; it never moves
  (Freqtrade's stop only walks up, and add-ons lower the average). It is checked before the take profit:
  hit when the candle's low is at or below it; the exit price is the stop, or the open when the whole
  candle lies below the stop.
- Take profit (ROI) is reached when the profit ratio at the candle's HIGH, after the entry fee and the
  exit fee and rounded to 8 decimals as Freqtrade does, is above tp; the exit price is the rate at
  which that ratio is exactly tp, avg x (1 + fee) x (1 + tp) / (1 - fee) (Freqtrade 2026.9's
  `calc_close_rate_for_roi`; before it, avg x (1 + fee + tp) / (1 - fee)), kept inside the candle's
  low and high (a candle opening above it exits at its low).
- Price precision as Freqtrade 2026.9 sees it (`get_tick_size_over_time`): per calendar month, the most
  decimals any open/high/low/close of that month shows (at 14 significant digits) gives the tick
  10^-decimals; a month without decimals uses the last earlier month that had some, else the market's
  tick size. A trade keeps the tick of the candle it opened on.
- Every exit price is rounded to the trade's tick (half up), as `_exit_trade` does.
- A trade still open after the last candle is closed at the last candle's OPEN (Freqtrade's force exit).
- The average entry price is stake / amount rounded to the trade's tick (half up), as Freqtrade 2026.9's
  `recalc_trade_from_orders` sets `open_rate`; the ROI ratio and the ROI exit rate use it.
- Profit of a trade (Freqtrade's `close_profit_abs`, from the unrounded average):
  amount x exit x (1 - fee) - stake x (1 + fee); a
  trade is a win when that is above zero, a loss otherwise (Freqtrade's report calls zero a draw).

Only what Freqtrade itself can express is accepted: long, `entry=now`, no trailing, no Recovery Mode,
no minimum improvement, no cooldown; anything else is refused with the setting named.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt

from tradewarden.services.backtest.candles import Candles, to_decimal
from tradewarden.services.backtest.results import (
    ADDON,
    BASE,
    END,
    STOP_LOSS,
    TAKE_PROFIT,
    Fills,
)

ZERO = Decimal(0)
CHUNK = 65_536
ONE = Decimal(1)
Q8 = Decimal("0.00000001")


@dataclass(frozen=True)
class FtRules:
    """DCA rules in the units Freqtrade's backtester works in (fractions, quote amounts)."""

    base_order: Decimal
    addon_orders: tuple[Decimal, ...]  # quote amount of add-on 1, 2, ...
    addon_deviations: tuple[Decimal, ...]  # fraction below the first entry for add-on 1, 2, ...
    take_profit: Decimal  # fraction, e.g. 0.01
    stop_loss: Decimal | None  # fraction, e.g. 0.08; None: no stop
    fee: Decimal  # fraction per side
    lot_size: Decimal | None = None
    tick_size: Decimal | None = None


@dataclass
class FtOutcome:
    """Fills (Decimal rows turned into arrays) and the trade counts of one Freqtrade-convention replay."""

    fills: Fills
    trades: int
    wins: int
    losses: int
    groups: int
    addons_max: int
    profit: Decimal
    fees: Decimal
    max_margin_used: Decimal
    seconds: float


def _floor(value: Decimal, step: Decimal | None) -> Decimal:
    if not step:
        return value
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def _ceil(value: Decimal, step: Decimal | None) -> Decimal:
    if not step:
        return value
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def tick_decimals(candles: Candles) -> npt.NDArray[np.int64]:
    """Per candle, the decimals of the tick Freqtrade 2026.9 uses at that time (-1: the market's tick).

    Freqtrade formats each price with 14 significant digits, counts the decimals up to the last non-zero
    one, takes the maximum per calendar month, and reads the series `asof` the candle's time (the last
    month with a value).
    """
    n = len(candles)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    decimals = np.empty(n, dtype=np.int64)
    for start in range(0, n, CHUNK):  # in chunks: the temporaries of 1,000,000 candles would be ~200 MB
        stop = min(start + CHUNK, n)
        ohlc = (candles.open, candles.high, candles.low, candles.close)
        decimals[start:stop] = _decimals(np.abs(np.stack([a[start:stop] for a in ohlc])))
    month = (candles.time // 86_400_000).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    starts = np.flatnonzero(np.append(True, np.diff(month) != 0))
    per_month = np.maximum.reduceat(decimals, starts)
    known = np.where(per_month > 0, per_month, -1)
    # asof: a month without decimals takes the last earlier month that had some
    for k in range(1, known.size):
        if known[k] < 0:
            known[k] = known[k - 1]
    month_of_candle = np.repeat(np.arange(starts.size), np.diff(np.append(starts, n)))
    return np.asarray(known[month_of_candle], dtype=np.int64)


def _decimals(prices: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Per column, the most decimals any of its prices shows at 14 significant digits (0: none)."""
    shown = 13 - np.floor(np.log10(prices)).astype(np.int64)  # decimals shown at 14 significant digits
    digits = np.rint(prices * np.power(10.0, shown.astype(np.float64))).astype(np.int64)
    zeros = np.zeros_like(digits)
    for _ in range(15):
        more = (digits % 10 == 0) & (digits != 0) & (zeros < shown)
        if not more.any():
            break
        digits = np.where(more, digits // 10, digits)
        zeros += more
    return np.asarray(np.maximum(shown - zeros, 0).max(axis=0), dtype=np.int64)


def _tick_at(decimals: int, market_tick: Decimal | None) -> Decimal | None:
    return Decimal(1).scaleb(-decimals) if decimals >= 0 else market_tick


def _avg(stake: Decimal, amount: Decimal, tick: Decimal | None) -> Decimal:
    return _round_half_up(stake / amount, tick)


def _round_half_up(value: Decimal, step: Decimal | None) -> Decimal:
    if not step:
        return value
    return (value / step).to_integral_value(rounding=ROUND_HALF_UP) * step


def run_freqtrade_reference(candles: Candles, rules: FtRules) -> FtOutcome:
    """Replay `candles` with Freqtrade's backtesting rules, money in Decimal."""
    started = _time.perf_counter()
    n = len(candles)
    fee = rules.fee
    rows: list[tuple[int, int, int, float, float, float, int, float]] = []
    trades = wins = losses = groups = addons_max = 0
    profit = fees = max_margin = ZERO
    is_open = False
    amount = stake = entry_fees = first = ZERO
    stop: Decimal | None = None
    entries = 0
    ticks = tick_decimals(candles)
    tick: Decimal | None = rules.tick_size  # the open trade's tick
    # Triggers of the add-ons, for skipping candles in floats (widened so Decimal has the last word).
    opens, lows, highs = candles.open, candles.low, candles.high

    def buy(i: int, kind: int, quote: Decimal, price: Decimal) -> bool:
        nonlocal amount, stake, entry_fees, fees, max_margin
        qty = _floor(quote / price, rules.lot_size)
        if qty <= 0:
            return False
        cost = qty * price
        f = cost * fee
        amount += qty
        stake += cost
        entry_fees += f
        fees += f
        max_margin = max(max_margin, stake)
        rows.append((i, kind, 1, float(price), float(qty), float(f), groups, 0.0))
        return True

    def sell(i: int, kind: int, price: Decimal) -> None:
        nonlocal is_open, trades, wins, losses, profit, fees, amount, stake, entry_fees, stop
        price = _round_half_up(price, tick)  # Freqtrade's _exit_trade: price_to_precision
        value = amount * price
        f = value * fee
        # Freqtrade: close value minus open value, both with their fee (open value from the average).
        pnl = (value - f) - stake * (ONE + fee)  # recalc_trade_from_orders: the unrounded average
        profit += pnl
        fees += f
        trades += 1
        wins += pnl > 0
        losses += pnl <= 0  # the domain's rule: a trade that made nothing is not a win
        rows.append((i, kind, -1, float(price), float(amount), float(f), groups, float(pnl)))
        is_open = False
        amount = stake = entry_fees = ZERO
        stop = None

    next_addon_f = float("-inf")
    i = 1
    while i < n:
        last = i == n - 1
        if is_open and not last:
            # Nothing can happen while the open stays above the next add-on, the low above the stop
            # and the high below the take-profit threshold: skip ahead in floats.
            stop_f = float(stop) * (1 + 1e-12) if stop is not None else float("-inf")
            tp_f = float(_roi_threshold(_avg(stake, amount, tick), fee, rules.take_profit)) * (1 - 1e-12)
            j = i
            while j < n - 1 and opens[j] > next_addon_f and lows[j] > stop_f and highs[j] < tp_f:
                j += 1
            i = j
            last = i == n - 1
        o = to_decimal(float(opens[i]))
        if not is_open and not last:
            groups += 1
            if buy(i, BASE, rules.base_order, o):
                is_open = True
                entries = 1
                first = o
                tick = _tick_at(int(ticks[i]), rules.tick_size)
                stop = _ceil(o * (ONE - rules.stop_loss), tick) if rules.stop_loss else None
            else:  # the base order rounds to nothing at this price: no trade, try again next candle
                groups -= 1
        if is_open:
            k = entries - 1  # add-ons done
            due = k < len(rules.addon_orders) and o <= first * (ONE - rules.addon_deviations[k])
            if due and buy(i, ADDON, rules.addon_orders[k], o):
                entries += 1
                addons_max = max(addons_max, entries - 1)
            h = to_decimal(float(highs[i]))
            low = to_decimal(float(lows[i]))
            if stop is not None and stop >= low:
                sell(i, STOP_LOSS, o if stop > h else stop)
            else:
                avg = _avg(stake, amount, tick)
                ratio = ((amount * h * (ONE - fee)) / (amount * avg * (ONE + fee)) - ONE).quantize(Q8)
                if ratio > rules.take_profit:
                    close_rate = avg * (ONE + fee) * (ONE + rules.take_profit) / (ONE - fee)
                    sell(i, TAKE_PROFIT, min(max(close_rate, low), h))
        if is_open:
            k = entries - 1
            next_addon_f = (
                float(first * (ONE - rules.addon_deviations[k])) * (1 + 1e-12)
                if k < len(rules.addon_orders)
                else float("-inf")
            )
        i += 1
    if is_open:
        sell(n - 1, END, to_decimal(float(opens[n - 1])))
    return FtOutcome(
        Fills.from_rows(rows),
        trades,
        wins,
        losses,
        groups,
        addons_max,
        profit,
        fees,
        max_margin,
        _time.perf_counter() - started,
    )


def _roi_threshold(avg: Decimal, fee: Decimal, tp: Decimal) -> Decimal:
    """The high above which Freqtrade's profit ratio passes tp (before its 8-decimal rounding)."""
    return avg * (ONE + fee) * (ONE + tp) / (ONE - fee)
