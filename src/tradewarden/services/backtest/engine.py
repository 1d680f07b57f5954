"""The reference backtest engine: candles replayed through the pure strategy core, money in Decimal.

It drives a strategy exactly as `tradewarden.domain.strategies.base` (the engine contract) says, so
that paper, live and backtests share one core and the fast path has one thing to reproduce:

Intra-candle path. Each candle is four path points at the candle's open time: open, first extreme,
second extreme, close. Up candles (close >= open) go O -> L -> H -> C, down candles O -> H -> L -> C
(the extreme nearer the close comes last). Between points the price passes every price in between;
from one close to the next open it jumps (a gap touches nothing in between).

Fill convention ("ours"). A market order fills in full at the price of the path point where `decide`
asked for it, with the taker fee. A resting limit buy fills in full at its own price when the path
reaches it (a sell: reaches it from below), maker fee; when a gap opens beyond it, it fills at the
open, the better price. A limit order that is marketable when placed fills at once at that price as a
taker. Fees are `Context.fees` (0.1 % maker and taker unless set). Nothing is force-closed at the end:
open positions count in profit at the last close (before exit fees), not as trades.

Calls. At every path point the engine calls `decide` when `triggers()` says the point reaches the low
or high trigger or the wake time, or when a resting order filled there; inside a segment it stops where
the path first touches a trigger or a resting order's price (in path order), and calls `decide` there.
After any fill it calls `decide` again at the same point, at most `MAX_FOLLOW_UPS` times.

Speed. `triggers()` and the resting orders give the band of prices (and the time) inside which a candle
can change nothing; a compiled scan (`scan.next_active`) jumps over all candles inside that band, so
Decimal work is only done on the candles that cross something. The float band is widened by a relative
1e-12 so rounding can only make the engine visit a candle it could have skipped, never the reverse.
"""

from __future__ import annotations

import itertools
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from tradewarden.domain.fills import Fees, FillResult, candle_limit_fill, candle_market_fill
from tradewarden.domain.strategies.base import (
    MAX_FOLLOW_UPS,
    CancelOrder,
    Fill,
    MarketView,
    PlaceOrder,
    StrategyEvent,
    Triggers,
)
from tradewarden.services.backtest.candles import Candles, decimal_ohlc
from tradewarden.services.backtest.indicators import IndicatorFeed
from tradewarden.services.backtest.scan import NO_WAKE, next_active

WIDEN = 1e-12
Progress = Callable[[int], None]


@dataclass
class FillRow:
    """One fill as the engine saw it (Decimal money)."""

    candle: int
    tag: str
    side: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    realized_delta: Decimal
    group: int
    exit_why: str | None = None  # the strategy's reason for a closing order, when its state says it


@dataclass
class EventRow:
    """One strategy event with the candle it happened on."""

    candle: int
    kind: str
    reason: str


@dataclass
class Replay:
    """Everything one replay produced: fills, events, the final state and counters."""

    fills: list[FillRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    state: Any = None
    visited: int = 0
    decide_calls: int = 0
    max_margin_used: Decimal = Decimal(0)
    recovery_candles: int = 0
    seconds: float = 0.0


class _Run:
    """One replay's mutable machinery (kept out of the strategy, which is pure)."""

    def __init__(
        self, strategy: Any, settings: Any, fees: Fees, out: Replay, feed: IndicatorFeed | None = None
    ) -> None:
        self.strategy = strategy
        self.settings = settings
        self.fees = fees
        self.out = out
        self.state = out.state
        self.book: dict[str, PlaceOrder] = {}
        self.candle = 0
        self.ts = 0
        self.group = 0
        self.recovery_since: int | None = None
        self.feed = feed

    # --- bookkeeping -------------------------------------------------------------------------------
    def _record_fill(self, tag: str, result: FillResult, ended: bool) -> None:
        """Pass each execution to `on_fill`; when the order has ended, tell the strategy (`on_cancel`)."""
        before = self.strategy.snapshot(self.settings, self.state, None).realized_pnl
        for ex in result.executions:
            fill = Fill(tag, result.side, ex.price, ex.amount, ex.fee, self.ts)
            self.state = self.strategy.on_fill(self.settings, self.state, fill)
            self.out.fills.append(
                FillRow(
                    self.candle,
                    tag,
                    result.side,
                    ex.price,
                    ex.amount,
                    ex.fee,
                    Decimal(0),
                    self.group,
                    getattr(self.state, "last_exit", None),
                )
            )
        if ended:
            # A candle fill is always complete: the order is over, so it leaves the strategy's in-flight list.
            self.state = self.strategy.on_cancel(self.settings, self.state, tag)
        after = self.strategy.snapshot(self.settings, self.state, None)
        if after.margin_used > self.out.max_margin_used:
            self.out.max_margin_used = after.margin_used
        if result.executions:
            self.out.fills[-1].realized_delta = after.realized_pnl - before

    def _record_event(self, event: StrategyEvent) -> None:
        self.out.events.append(EventRow(self.candle, event.kind, event.reason))
        if event.kind == "group_opened":
            self.group += 1
        elif event.kind == "recovery_entered" and self.recovery_since is None:
            self.recovery_since = self.candle
        elif event.kind == "recovery_left" and self.recovery_since is not None:
            self.out.recovery_candles += self.candle - self.recovery_since
            self.recovery_since = None

    # --- the contract --------------------------------------------------------------------------------
    def _apply(self, actions: tuple[Any, ...], price: Decimal) -> bool:
        filled = False
        for action in actions:
            if isinstance(action, StrategyEvent):
                self._record_event(action)
            elif isinstance(action, CancelOrder):
                if self.book.pop(action.tag, None) is not None:
                    self.state = self.strategy.on_cancel(self.settings, self.state, action.tag)
            elif isinstance(action, PlaceOrder):
                if action.amount <= 0:
                    # Rounded to nothing by the lot size: the order ends unfilled (no fill, no follow-up).
                    self.state = self.strategy.on_cancel(self.settings, self.state, action.tag)
                elif action.kind == "market" or _marketable(action, price):
                    result = candle_market_fill(action.side, action.amount, price, self.fees)
                    self._record_fill(action.tag, result, ended=True)
                    filled = True
                else:
                    self.book[action.tag] = action
        return filled

    def _decide(self, price: Decimal) -> bool:
        self.out.decide_calls += 1
        indicators: dict[str, Decimal] = {}
        if self.feed is not None:
            value = self.feed.values[self.candle]
            if value is not None:
                indicators[self.feed.key] = value
        decision = self.strategy.decide(
            self.settings, self.state, MarketView(self.ts, price, None, None, indicators)
        )
        self.state = decision.state
        return self._apply(decision.actions, price)

    def _fill_resting(self, price: Decimal, at_open: bool) -> bool:
        """Fill every resting order the path reaches at `price` (buys at or above it, sells at or below)."""
        hit = [
            o
            for o in self.book.values()
            if o.price is not None and (o.price >= price if o.side == "buy" else o.price <= price)
        ]
        # Path order: falling, the highest buy is touched first; rising, the lowest sell.
        hit.sort(key=lambda o: -(o.price or 0) if o.side == "buy" else (o.price or 0))
        for order in hit:
            assert order.price is not None
            result = candle_limit_fill(order.side, order.amount, order.price, price, self.fees, at_open)
            if result is None:  # pragma: no cover - `hit` holds only reached orders
                continue
            del self.book[order.tag]
            self._record_fill(order.tag, result, ended=True)
        return bool(hit)

    def at_point(self, price: Decimal, at_open: bool) -> None:
        """A path point: fill what it reaches, then decide (and follow up) when triggered or filled."""
        filled = self._fill_resting(price, at_open)
        t = self.strategy.triggers(self.settings, self.state)
        if filled or _hit(t, price, self.ts):
            follow = 0
            while self._decide(price) and follow < MAX_FOLLOW_UPS:
                follow += 1
                self._fill_resting(price, False)

    def segment(self, a: Decimal, b: Decimal) -> None:
        """Move from a to b, stopping at each trigger or resting order price strictly between them."""
        falling = b < a
        x = a
        while True:
            t = self.strategy.triggers(self.settings, self.state)
            stop: Decimal | None = None
            if falling:
                if t.low is not None and b < t.low < x:
                    stop = t.low
                for o in self.book.values():
                    if o.side == "buy" and o.price is not None and b < o.price < x:
                        stop = o.price if stop is None else max(stop, o.price)
            else:
                if t.high is not None and x < t.high < b:
                    stop = t.high
                for o in self.book.values():
                    if o.side == "sell" and o.price is not None and x < o.price < b:
                        stop = o.price if stop is None else min(stop, o.price)
            if stop is None:
                return
            x = stop
            filled = self._fill_resting(x, False)
            t = self.strategy.triggers(self.settings, self.state)
            if filled or _hit(t, x, self.ts):
                follow = 0
                while self._decide(x) and follow < MAX_FOLLOW_UPS:
                    follow += 1
                    self._fill_resting(x, False)

    def candle_walk(self, candles: Candles, i: int) -> None:
        """Walk candle i's four path points."""
        self.candle = i
        self.ts = int(candles.time[i])
        o, h, low, c = decimal_ohlc(candles, i)
        path = (o, low, h, c) if c >= o else (o, h, low, c)
        self.at_point(o, at_open=True)
        for a, b in itertools.pairwise(path):
            if a != b:
                self.segment(a, b)
            self.at_point(b, at_open=False)

    def band(self) -> tuple[float, float, int]:
        """Float band (lo, hi, wake) outside which a candle may change something (widened)."""
        t: Triggers = self.strategy.triggers(self.settings, self.state)
        lo = float(t.low) if t.low is not None else -np.inf
        hi = float(t.high) if t.high is not None else np.inf
        for o in self.book.values():
            if o.price is None:
                continue
            if o.side == "buy":
                lo = max(lo, float(o.price))
            else:
                hi = min(hi, float(o.price))
        lo = lo + abs(lo) * WIDEN if np.isfinite(lo) else lo
        hi = hi - abs(hi) * WIDEN if np.isfinite(hi) else hi
        wake = t.wake_ms if t.wake_ms is not None else int(NO_WAKE)
        return lo, hi, wake


def _marketable(order: PlaceOrder, price: Decimal) -> bool:
    if order.price is None:
        return True
    return order.price >= price if order.side == "buy" else order.price <= price


def _hit(t: Triggers, price: Decimal, ts: int) -> bool:
    return (
        (t.low is not None and price <= t.low)
        or (t.high is not None and price >= t.high)
        or (t.wake_ms is not None and ts >= t.wake_ms)
    )


def replay(
    strategy: Any,
    settings: Any,
    candles: Candles,
    fees: Fees,
    *,
    progress: Progress | None = None,
    progress_every: int = 50_000,
    feed: IndicatorFeed | None = None,
) -> Replay:
    """Replay `candles` through `strategy` (a domain Strategy) under the engine contract; `feed` gives
    the indicator values `decide` reads (see indicators.py)."""
    # Load the compiled scan before the clock starts (numba's cache, or a compile on a new machine).
    next_active(candles.low[:1], candles.high[:1], candles.time[:1], 0, 0.0, 0.0, 0)
    out = Replay(state=strategy.initial_state(settings))
    run = _Run(strategy, settings, fees, out, feed)
    started = _time.perf_counter()
    n = len(candles)
    low, high, times = candles.low, candles.high, candles.time
    i = 0
    reported = 0
    while i < n:
        lo, hi, wake = run.band()
        j = int(next_active(low, high, times, i, lo, hi, wake))
        if progress is not None and j - reported >= progress_every:
            progress(min(j, n))
            reported = j
        if j >= n:
            break
        run.candle_walk(candles, j)
        out.visited += 1
        i = j + 1
    if run.recovery_since is not None:
        out.recovery_candles += n - run.recovery_since
    out.state = run.state
    out.seconds = _time.perf_counter() - started
    if progress is not None:
        progress(n)
    return out
