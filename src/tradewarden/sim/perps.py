"""Perpetual-futures risk: index, mark, funding and liquidation, shared by every venue's perp market.

The arithmetic is pure (functions of their arguments, Decimal throughout) and unit-tested; `PerpRisk`
is the small stateful part a venue owns: it remembers which funding times it has charged and turns
crossed liquidation prices into liquidation orders on the venue's engine.

Model (the venues' own documents describe the same mechanism; each venue cites its page):
- index = the reference price of the pair (`PairMarket.index_price(t)` once the shared clock provides
  it, else the pair's current price); premium = a small seeded, smooth function of time (a few basis
  points); mark = index × (1 + premium), on the instrument's tick.
- funding rate at a funding time = premium + clamp(interest − premium, −clamp, +clamp), then held
  within ±cap — the formula Binance publishes ("Introduction to Binance Futures Funding Rates":
  interest 0.01 % per 8 h, clamp ±0.05 %); OKX, Bybit, KuCoin and MEXC document the same shape with
  their own caps. Funding times are every `interval_ms` from epoch (00:00, 08:00, 16:00 UTC for 8 h).
- a position receives −qty × contract size × mark × rate at each funding time (longs pay a positive
  rate); an isolated position's payment also moves its margin.
- maintenance margin = notional at mark × mmr (one tier per symbol, the first tier of each venue's
  bracket table); a position is liquidated when its mark crosses its liquidation price.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from .ledger import EIGHT, INSURANCE, ZERO, PerpSettlement, Position, liquidation_price
from .market import MarketData, seed_for
from .matching import Engine, Fill, OrderRejected, OrdType, Side

__all__ = [
    "HISTORY_MS",
    "FundingEvent",
    "FundingRules",
    "Liquidation",
    "PerpRisk",
    "clamp",
    "crossed",
    "funding_payment",
    "funding_rate",
    "funding_times",
    "liquidation_price",  # re-exported: the formula lives beside the ledger that applies it
    "maintenance_margin",
    "mark_from_index",
    "next_funding_time",
    "premium_at",
]

HOUR_MS = 3_600_000
# Funding history reaches back this far from now: OKX documents three months for funding-rate-history;
# the sim keeps the same window on every venue (each row is computed, and old days cost time).
HISTORY_MS = 90 * 24 * HOUR_MS
ONE = Decimal(1)
RATE_Q = Decimal("0.00000001")  # funding rates travel with 8 decimals on every venue
PREMIUM_Q = Decimal("0.000001")


@dataclass(frozen=True)
class FundingRules:
    """A venue's funding and maintenance parameters (one tier per symbol)."""

    interval_ms: int = 8 * HOUR_MS
    interest: Decimal = Decimal("0.0001")  # per interval: 0.03 % a day split over three fundings
    clamp: Decimal = Decimal("0.0005")
    cap: Decimal = Decimal("0.0075")
    mmr: Decimal = Decimal("0.004")
    premium_amplitude: Decimal = Decimal("0.0008")  # the simulator's choice: premiums within ±0.08 %


@dataclass(frozen=True)
class FundingEvent:
    """One funding time of one symbol: the rate charged and the mark and index it was charged at."""

    symbol: str
    time_ms: int
    rate: Decimal
    mark: Decimal
    index: Decimal


@dataclass(frozen=True)
class Liquidation:
    """A position closed by the liquidation engine."""

    account: str
    symbol: str
    order_id: int
    qty: Decimal
    price: Decimal
    mark: Decimal
    margin: Decimal
    insurance: Decimal  # what the account paid to (negative) or got from (positive) the insurance fund
    time_ms: int
    isolated: bool


# ---- pure arithmetic ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _phases(seed: int, symbol: str) -> tuple[float, float]:
    s = seed_for(seed, symbol, "premium")
    return (s % 10_000) / 10_000 * 2 * math.pi, ((s >> 20) % 10_000) / 10_000 * 2 * math.pi


def premium_at(seed: int, symbol: str, t_ms: int, amplitude: Decimal) -> Decimal:
    """The seeded premium of a symbol at a time: two slow sines, so it drifts smoothly and repeats never."""
    phase1, phase2 = _phases(seed, symbol)
    hours = t_ms / HOUR_MS
    wave = 0.7 * math.sin(hours / 5.3 + phase1) + 0.3 * math.sin(hours / 1.7 + phase2)
    return (amplitude * Decimal(repr(round(wave, 6)))).quantize(PREMIUM_Q, ROUND_HALF_EVEN)


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """value held within [low, high]."""
    return max(low, min(high, value))


def funding_rate(premium: Decimal, rules: FundingRules) -> Decimal:
    """F = P + clamp(I − P, −c, c), held within ±cap, 8 decimals."""
    raw = premium + clamp(rules.interest - premium, -rules.clamp, rules.clamp)
    return clamp(raw, -rules.cap, rules.cap).quantize(RATE_Q, ROUND_HALF_EVEN)


def mark_from_index(index: Decimal, premium: Decimal, tick: Decimal) -> Decimal:
    """index × (1 + premium) on the tick."""
    return ((index * (ONE + premium)) / tick).quantize(ONE, ROUND_HALF_EVEN) * tick


def funding_times(after_ms: int, upto_ms: int, interval_ms: int) -> list[int]:
    """Funding times t with after < t <= upto (multiples of the interval since epoch)."""
    first = (after_ms // interval_ms + 1) * interval_ms
    return list(range(first, upto_ms + 1, interval_ms)) if first <= upto_ms else []


def next_funding_time(now_ms: int, interval_ms: int) -> int:
    """The first funding time strictly after now."""
    return (now_ms // interval_ms + 1) * interval_ms


def funding_payment(qty: Decimal, contract_size: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """What a position receives at a funding time (negative: it pays); qty signed, longs pay rate > 0."""
    return (-qty * contract_size * mark * rate).quantize(EIGHT, ROUND_HALF_EVEN)


def maintenance_margin(qty: Decimal, contract_size: Decimal, mark: Decimal, mmr: Decimal) -> Decimal:
    """|qty| × contract size × mark × mmr."""
    return abs(qty) * contract_size * mark * mmr


def crossed(qty: Decimal, mark: Decimal, liq: Decimal) -> bool:
    """True when the mark has reached the liquidation price on the losing side."""
    if qty > 0:
        return liq > 0 and mark <= liq
    if qty < 0:
        return liq > 0 and mark >= liq
    return False


# ---- the stateful part a venue owns ---------------------------------------------------------------


class PerpRisk:
    """Mark/index/funding/liquidation for one venue's perpetual engine, following the venue clock."""

    def __init__(
        self,
        venue: str,
        seed: int,
        market: MarketData,
        engine: Engine,
        settlement: PerpSettlement,
        clock: Callable[[], int],
        rules: FundingRules | None = None,
        liquidation_id: Callable[[str, int], str] | None = None,
    ) -> None:
        self.venue = venue
        self.seed = seed_for(seed, venue)
        self.market = market
        self.engine = engine
        self.settlement = settlement
        self.clock = clock
        self.rules = rules or FundingRules()
        # Binance's form by default: "autoclose-" + the time in ms + a sequence number
        seq = itertools.count(1)
        self.liquidation_id = liquidation_id or (lambda symbol, now: f"autoclose-{now}{next(seq):06d}")
        self.applied: dict[tuple[str, int], FundingEvent] = {}
        self.liquidations: list[Liquidation] = []
        self.last_ms = clock()
        self._next_funding = next_funding_time(self.last_ms, self.rules.interval_ms)
        self._busy = False
        # marks memoized for one venue request at one instant: margin checks ask for them many times
        self._marks: dict[str, Decimal] = {}
        self._marks_tick = -1
        self._marks_at = -1
        settlement.mark_price = self.mark
        settlement.mmr = self.rules.mmr
        settlement.clock = clock

    # prices ------------------------------------------------------------------------------------

    def index(self, symbol: str, t_ms: int | None = None) -> Decimal:
        """Index (reference) price of the symbol's pair at a time (now by default)."""
        pm = self.market.get(self.engine.instruments[symbol].pair)
        at = self.clock() if t_ms is None else t_ms
        index_price = getattr(pm, "index_price", None)
        if callable(index_price):
            return Decimal(index_price(at))
        return pm.price

    def premium(self, symbol: str, t_ms: int) -> Decimal:
        """Premium of the perpetual over its index at a time."""
        return premium_at(self.seed, symbol, t_ms, self.rules.premium_amplitude)

    def mark(self, symbol: str, t_ms: int | None = None) -> Decimal:
        """Mark price: index × (1 + premium) on the tick."""
        if self.market.tick != self._marks_tick:
            # a new request (admin price moves land between requests): a new instant
            self._marks_tick = self.market.tick
            self._marks_at = self.clock()
            self._marks.clear()
        if t_ms is not None and t_ms > self._marks_at:
            self._marks_at = t_ms  # the request's own later reading of the clock
            self._marks.clear()
        at = self._marks_at if t_ms is None else t_ms
        if at != self._marks_at:  # a past instant (history): not memoized
            return self._mark_at(symbol, at)
        cached = self._marks.get(symbol)
        if cached is None:
            cached = self._marks[symbol] = self._mark_at(symbol, at)
        return cached

    def _mark_at(self, symbol: str, at: int) -> Decimal:
        tick = self.engine.instruments[symbol].tick
        return mark_from_index(self.index(symbol, at), self.premium(symbol, at), tick)

    def predicted_rate(self, symbol: str, t_ms: int | None = None) -> Decimal:
        """The rate the next funding would charge if it happened now."""
        at = self.clock() if t_ms is None else t_ms
        return funding_rate(self.premium(symbol, at), self.rules)

    def next_funding(self, t_ms: int | None = None) -> int:
        """Next funding time after now."""
        return next_funding_time(self.clock() if t_ms is None else t_ms, self.rules.interval_ms)

    # funding -------------------------------------------------------------------------------------

    def event(self, symbol: str, time_ms: int) -> FundingEvent:
        """The funding of a symbol at a funding time: as charged, or as it would have been (history)."""
        done = self.applied.get((symbol, time_ms))
        if done is not None:
            return done
        rate = funding_rate(self.premium(symbol, time_ms), self.rules)
        return FundingEvent(symbol, time_ms, rate, self.mark(symbol, time_ms), self.index(symbol, time_ms))

    def history(
        self, symbol: str, start_ms: int | None, end_ms: int | None, limit: int, newest_first: bool = False
    ) -> list[FundingEvent]:
        """Funding events in [start, end] (end defaults to now), `limit` of them from the start (or end)."""
        iv = self.rules.interval_ms
        now = self.clock()
        end = min(now, end_ms if end_ms is not None else now)
        floor = max(now - HISTORY_MS, start_ms if start_ms is not None else 0)
        if start_ms is None or newest_first:
            last = end // iv * iv
            times = [t for t in (last - i * iv for i in range(limit)) if t >= floor]
            times.sort()
        else:
            first = -(-floor // iv) * iv
            times = list(range(first, end + 1, iv))[:limit]
        events = [self.event(symbol, t) for t in times]
        return events[::-1] if newest_first else events

    def update(self) -> None:
        """Charge every funding time crossed since the last call, then liquidate what has crossed."""
        if self._busy:  # a liquidation order ticks the engine again; do not recurse
            return
        self._busy = True
        try:
            now = self.clock()
            if now >= self._next_funding:
                for t in funding_times(self.last_ms, now, self.rules.interval_ms):
                    self._fund(t)
                self._next_funding = next_funding_time(now, self.rules.interval_ms)
            self.last_ms = max(self.last_ms, now)
            if self.settlement.open_positions:
                self.check_liquidations(now)
        finally:
            self._busy = False

    def _fund(self, t: int) -> None:
        # only symbols someone holds are charged (and so fixed in `applied`); the others' history is
        # the same pure function of time, computed when asked, so a month-long clock jump stays cheap
        held = {
            sym
            for name, acc in self.settlement.accounts.items()
            if not name.startswith("__")
            for sym, pos in acc.positions.items()
            if pos.qty
        }
        for symbol, inst in self.engine.instruments.items():
            if symbol not in held:
                continue
            ev = self.event(symbol, t)
            self.applied[(symbol, t)] = ev
            self.settlement.apply_funding(symbol, ev.rate, ev.mark, t, inst.contract_size)

    # liquidation -----------------------------------------------------------------------------------

    def check_liquidations(self, now: int) -> list[Liquidation]:
        """Liquidate every position whose mark has crossed its liquidation price.

        Checked as margin, which is the same test without solving for a price: an isolated position
        falls when margin + unrealized PnL <= its maintenance margin; an account's cross positions
        fall together when cross equity <= their summed maintenance margin (one pass per account,
        cheap enough for every request).
        """
        done: list[Liquidation] = []
        mmr = self.settlement.mmr
        for account, acc in list(self.settlement.accounts.items()):
            if account.startswith("__"):
                continue
            cross: list[tuple[str, Position, Decimal]] = []
            cross_mm = cross_upnl = ZERO
            for symbol, pos in list(acc.positions.items()):
                if not pos.qty or symbol not in self.engine.instruments:
                    continue
                mark = self.mark(symbol, now)
                size = pos.qty * pos.contract_size
                mm = abs(size) * mark * mmr
                upnl = (mark - pos.entry) * size
                if pos.isolated:
                    if pos.margin + upnl <= mm:
                        done.extend(self._liquidate(account, symbol, pos, mark, now))
                else:
                    cross.append((symbol, pos, mark))
                    cross_mm += mm
                    cross_upnl += upnl
            if cross and self.settlement.cross_backing(account) + cross_upnl <= cross_mm:
                for symbol, pos, mark in cross:
                    done.extend(self._liquidate(account, symbol, pos, mark, now))
        self.liquidations.extend(done)
        return done

    def _liquidate(
        self, account: str, symbol: str, pos: Position, mark: Decimal, now: int
    ) -> list[Liquidation]:
        isolated = pos.isolated
        margin = pos.margin if isolated else ZERO
        qty = abs(pos.qty)
        side = Side.SELL if pos.qty > 0 else Side.BUY
        # open orders of the account on the symbol are cancelled first, as every venue does
        for o in self.engine.open_orders(account, symbol):
            self.engine.cancel(account, symbol, o.order_id)
        try:
            order = self.engine.new_order(
                account,
                symbol,
                side,
                OrdType.MARKET,
                qty=qty,
                client_order_id=self.liquidation_id(symbol, now),
                reduce_only=True,
                extra={"liquidation": True},
                validate=False,
            )
        except OrderRejected:
            return []  # no liquidity right now: the next update tries again
        fills: list[Fill] = order.fills
        pnl = sum((f.realized_pnl for f in fills), ZERO)
        price = order.avg_price
        if isolated:
            # what is left of the margin goes to the insurance fund; a deficit is covered by it
            insurance = -(margin + pnl) * order.executed_qty / qty
        else:
            insurance = max(ZERO, -self.settlement.cross_equity(account))
        insurance = insurance.quantize(EIGHT, ROUND_HALF_EVEN)
        if insurance:
            self.settlement.credit(account, insurance, INSURANCE, "insurance", symbol, now)
        return [
            Liquidation(
                account,
                symbol,
                order.order_id,
                order.executed_qty,
                price,
                mark,
                margin,
                insurance,
                now,
                isolated,
            )
        ]
