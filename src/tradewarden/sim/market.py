"""One venue's view of the one market: pair prices, candles, trades and book shape, all following time.

Every price is a pure function of (seed, asset, simulator time) and admin commands: each venue quotes
each pair as base / quote from the shared `ReferenceMarket` (reference.py), times its own small basis
(seeded per venue and pair, a few basis points, stepping each hour). Requests never move prices;
`MarketData.tick` only counts requests, for venues' book sequence numbers.

Candles of any minute range are computed on demand from cached per-day arrays, so history reaches as
far back as anyone asks, with no empty minutes, and start-up does no work. The live minute is partial:
it has opened, passed the path's turning points so far, and closes at the current price.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import overload

from .reference import MINUTE_MS as MINUTE_MS
from .reference import CandleRow, PairDay, PairPaths, ReferenceMarket, hash_unit

HOUR_MINUTES = 60
DAY_MINUTES = 1440
MAX_KLINES = 5000  # buckets computed per klines call, whatever limit a venue passes
TAPE_SLOT_MS = 1000  # one synthetic public trade per second
TAPE_LENGTH = 500


def seed_for(*parts: object) -> int:
    """Stable 64-bit seed from any parts (hash() is salted per process, so not usable)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of `step` not above value."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of `step` not below value."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def now_ms() -> int:
    """Wall clock in epoch milliseconds."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class PairSpec:
    """A tradable pair and the defaults venues derive instruments from."""

    base: str
    quote: str
    price: Decimal
    tick: Decimal
    step: Decimal
    min_notional: Decimal = Decimal("5")

    @property
    def pair(self) -> str:
        """Canonical BASE/QUOTE name."""
        return f"{self.base}/{self.quote}"


def _p(base: str, quote: str, price: str, tick: str, step: str, mn: str = "5") -> PairSpec:
    return PairSpec(base, quote, Decimal(price), Decimal(tick), Decimal(step), Decimal(mn))


DEFAULT_PAIRS: tuple[PairSpec, ...] = (
    _p("BTC", "USDT", "60000", "0.01", "0.00001"),
    _p("ETH", "USDT", "3000", "0.01", "0.0001"),
    _p("BNB", "USDT", "600", "0.01", "0.001"),
    _p("SOL", "USDT", "150", "0.01", "0.001"),
    _p("XRP", "USDT", "0.6", "0.0001", "0.1"),
    _p("DOGE", "USDT", "0.15", "0.00001", "1"),
    _p("ADA", "USDT", "0.45", "0.0001", "0.1"),
    _p("LTC", "USDT", "80", "0.01", "0.001"),
    _p("ETH", "BTC", "0.05", "0.00001", "0.0001", "0.0001"),
)


@dataclass
class Candle:
    """One OHLCV candle; volume in base units, quote_volume in quote units."""

    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: int = 0

    def update(self, price: Decimal, qty: Decimal = Decimal(0)) -> None:
        """Fold one trade/price into the candle."""
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.volume += qty
        self.quote_volume += qty * price
        self.trades += 1


@dataclass(frozen=True)
class PublicTrade:
    """A trade on the public tape."""

    trade_id: int
    price: Decimal
    qty: Decimal
    time_ms: int
    buyer_maker: bool


@dataclass(frozen=True)
class BookLevels:
    """A synthetic book snapshot: bids best-first (descending), asks best-first (ascending)."""

    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]


def load_candles_csv(path: str | Path) -> list[Candle]:
    """Read a `timestamp,open,high,low,close,volume` CSV (ms epoch), oldest first."""
    rows: list[Candle] = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"timestamp", "open", "high", "low", "close", "volume"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise ValueError(f"{path}: header must be timestamp,open,high,low,close,volume")
        for row in reader:
            rows.append(
                Candle(
                    int(row["timestamp"]),
                    Decimal(row["open"]),
                    Decimal(row["high"]),
                    Decimal(row["low"]),
                    Decimal(row["close"]),
                    Decimal(row["volume"]),
                )
            )
    if not rows:
        raise ValueError(f"{path}: no candles")
    for c in rows:
        if not (c.low <= min(c.open, c.close) and c.high >= max(c.open, c.close) and c.low > 0):
            raise ValueError(f"{path}: candle at {c.open_ms} is not a valid OHLC (low <= open/close <= high)")
    return rows


def floor_to_min(qty: Decimal, step: Decimal) -> Decimal:
    """Floor to the step, but never below one step (a level always has some size)."""
    return max(step, floor_to(qty, step))


@dataclass
class _Agg:
    """Float OHLCV over a run of minutes (venue units)."""

    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float
    trades: int


class PairMarket:
    """Everything market-side about one pair on one venue."""

    def __init__(
        self,
        spec: PairSpec,
        venue: str,
        seed: int,
        paths: PairPaths,
        clock: Callable[[], int],
    ) -> None:
        self.spec = spec
        self.venue = venue
        self.seed = seed
        self.paths = paths
        self.clock = clock
        self.tick = 0  # kept for callers that read it; prices do not depend on it
        # venue personality: a constant basis, an hourly wobble, a wider-or-equal spread, volume share
        self._basis0 = (hash_unit(seed, venue, spec.pair, "basis") * 2 - 1) * 1.0  # bp
        self._phase = hash_unit(seed, venue, spec.pair, "phase") * 2 * math.pi
        self.spread_factor = 1.0 + 0.5 * hash_unit(seed, venue, spec.pair, "spread")
        self._volume_share = 0.5 + hash_unit(seed, venue, spec.pair, "volume")
        self._tick_f = float(spec.tick)
        self._step_f = float(spec.step)
        self._user_trades: deque[PublicTrade] = deque(maxlen=1000)
        self._user_seq = 0
        self._tape: OrderedDict[int, PublicTrade] = OrderedDict()
        self._tape_version: tuple[int, int] = (-1, -1)
        self._stats: tuple[tuple[int, int, int], _Agg | None] = ((-1, -1, -1), None)
        self._book_cache: dict[tuple[Decimal, int, Decimal, Decimal, int, Decimal, Decimal], BookLevels] = {}

    # ---- prices --------------------------------------------------------------------------------

    def basis_bp(self, t_ms: float) -> float:
        """This venue's basis on the pair at `t_ms`, in basis points (|basis| <= 1.5 bp)."""
        hour = int(t_ms // (HOUR_MINUTES * MINUTE_MS))
        return self._basis0 + 0.5 * math.sin(self._phase + 2 * math.pi * hour / 24)

    def _factor(self, t_ms: float) -> float:
        return 1.0 + self.basis_bp(t_ms) / 10_000

    def _px(self, value: float) -> Decimal:
        """A float price as a Decimal on the pair's tick (never below one tick)."""
        n = max(1, round(value / self._tick_f))
        return Decimal(n) * self.spec.tick

    def _qty(self, value: float) -> Decimal:
        return Decimal(max(0, int(value / self._step_f))) * self.spec.step

    def price_float(self, t_ms: float) -> float:
        """Venue price at `t_ms` as a float (reference x basis)."""
        return self.paths.price(t_ms) * self._factor(t_ms)

    def price_at(self, t_ms: float) -> Decimal:
        """Venue price at `t_ms`, on the tick."""
        return self._px(self.price_float(t_ms))

    @property
    def price(self) -> Decimal:
        """Current venue price (follows the simulator clock)."""
        return self.price_at(self.clock())

    def index_price(self, now_ms: int) -> Decimal:
        """Reference cross price at `now_ms`, without this venue's basis (an index for perpetuals)."""
        return self._px(self.paths.price(now_ms))

    # ---- candles -------------------------------------------------------------------------------

    def _agg_full(self, m0: int, m1: int) -> _Agg | None:
        """Aggregate the complete minutes [m0, m1), in venue units."""
        if m1 <= m0:
            return None
        out: _Agg | None = None
        m = m0
        while m < m1:
            day = m // DAY_MINUTES
            e = min(m1, (m // HOUR_MINUTES + 1) * HOUR_MINUTES)  # basis is constant within an hour
            i0, i1 = m - day * DAY_MINUTES, e - day * DAY_MINUTES
            arr: PairDay
            if i1 - i0 == HOUR_MINUTES:  # a whole hour: its summary (cached for long intervals)
                arr = self.paths.hours(day)
                i0, i1 = i0 // HOUR_MINUTES, i0 // HOUR_MINUTES + 1
            else:
                arr = self.paths.day(day)
            f = self._factor(m * MINUTE_MS)
            hi = max(arr.high[i0:i1]) * f
            lo = min(arr.low[i0:i1]) * f
            vol = math.fsum(arr.volume[i0:i1]) * self._volume_share
            close = arr.close[i1 - 1] * f
            qv = vol * (arr.open[i0] * f + close) / 2
            n = e - m
            if out is None:
                out = _Agg(arr.open[i0] * f, hi, lo, close, vol, qv, 0)
            else:
                out.high = max(out.high, hi)
                out.low = min(out.low, lo)
                out.close = close
                out.volume += vol
                out.quote_volume += qv
            out.trades += n * 12 + int(vol * close / 20_000)
            m = e
        return out

    def _agg_live(self, now: int) -> _Agg:
        """The current minute so far: open, turning points passed, close at the current price."""
        minute = now // MINUTE_MS
        f = self._factor(now)
        seen = [p * f for t, p in self.paths.vertices(minute) if t <= now]
        current = self.price_float(now)
        seen.append(current)
        arr = self.paths.day(minute // DAY_MINUTES)
        frac = (now - minute * MINUTE_MS) / MINUTE_MS
        vol = arr.volume[minute % DAY_MINUTES] * self._volume_share * frac
        return _Agg(seen[0], max(seen), min(seen), current, vol, vol * current, int(12 * frac))

    def _candle(self, open_ms: int, agg: _Agg) -> Candle:
        return Candle(
            open_ms,
            self._px(agg.open),
            self._px(agg.high),
            self._px(agg.low),
            self._px(agg.close),
            self._qty(agg.volume),
            Decimal(repr(round(agg.quote_volume, 4))),
            agg.trades,
        )

    def _bucket(self, open_ms: int, interval_ms: int, now: int) -> Candle | None:
        m0 = open_ms // MINUTE_MS
        m_now = now // MINUTE_MS
        m1 = min((open_ms + interval_ms) // MINUTE_MS, m_now)
        agg = self._agg_full(m0, m1)
        if open_ms + interval_ms > m_now * MINUTE_MS and open_ms <= now:
            live = self._agg_live(now)
            if agg is None:
                agg = live
            else:
                agg.high, agg.low = max(agg.high, live.high), min(agg.low, live.low)
                agg.close = live.close
                agg.volume += live.volume
                agg.quote_volume += live.quote_volume
                agg.trades += live.trades
        return None if agg is None else self._candle(open_ms, agg)

    def klines(
        self, interval_ms: int, start_ms: int | None = None, end_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Candles of `interval_ms`, oldest first, at most `limit`: from `start_ms` forward (buckets
        opening at or after it), else the newest up to `end_ms` (buckets opening at or before it)."""
        now = self.clock()
        interval_ms = max(MINUTE_MS, interval_ms // MINUTE_MS * MINUTE_MS)
        limit = max(1, min(limit, MAX_KLINES))
        last = now // interval_ms * interval_ms
        if end_ms is not None:
            last = min(last, end_ms // interval_ms * interval_ms)
        if start_ms is not None:
            first = max(0, -(-start_ms // interval_ms) * interval_ms)
            last = min(last, first + (limit - 1) * interval_ms)
        else:
            first = max(0, last - (limit - 1) * interval_ms)
        if interval_ms == MINUTE_MS:
            return self._minutes(first // MINUTE_MS, last // MINUTE_MS, now)
        out: list[Candle] = []
        for open_ms in range(first, last + 1, interval_ms):
            c = self._bucket(open_ms, interval_ms, now)
            if c is not None:
                out.append(c)
        return out

    def _minutes(self, m0: int, m_last: int, now: int) -> list[Candle]:
        """One-minute candles m0..m_last straight from the day arrays (the common, bulk case)."""
        out: list[Candle] = []
        m_now = now // MINUTE_MS
        px, share = self._px, self._volume_share
        arr: PairDay | None = None
        day = hour = -1
        f = 1.0
        for m in range(m0, min(m_last, m_now - 1) + 1):
            if m // DAY_MINUTES != day:
                day = m // DAY_MINUTES
                arr = self.paths.day(day)
            if m // HOUR_MINUTES != hour:
                hour = m // HOUR_MINUTES
                f = self._factor(m * MINUTE_MS)
            assert arr is not None
            i = m - day * DAY_MINUTES
            close = arr.close[i] * f
            vol = arr.volume[i] * share
            out.append(
                Candle(
                    m * MINUTE_MS,
                    px(arr.open[i] * f),
                    px(arr.high[i] * f),
                    px(arr.low[i] * f),
                    px(close),
                    self._qty(vol),
                    Decimal(repr(round(vol * close, 4))),
                    12 + int(vol * close / 20_000),
                )
            )
        if m0 <= m_now <= m_last:
            live = self._bucket(m_now * MINUTE_MS, MINUTE_MS, now)
            if live is not None:
                out.append(live)
        return out

    def stats_24h(self, wall_ms: int) -> Candle:
        """Rolling 24h open/high/low/close/volume ending at `wall_ms` (simulator time)."""
        minute = wall_ms // MINUTE_MS
        key = (minute, *self.paths.version)
        if self._stats[0] != key:
            self._stats = (key, self._agg_full(minute - DAY_MINUTES, minute))
        full = self._stats[1]
        live = self._agg_live(wall_ms)
        if full is None:
            return self._candle(wall_ms - DAY_MINUTES * MINUTE_MS, live)
        agg = _Agg(
            full.open,
            max(full.high, live.high),
            min(full.low, live.low),
            live.close,
            full.volume + live.volume,
            full.quote_volume + live.quote_volume,
            full.trades + live.trades,
        )
        return self._candle((minute - DAY_MINUTES) * MINUTE_MS, agg)

    # ---- public trades -------------------------------------------------------------------------

    def synthetic_trade(self, slot: int) -> PublicTrade:
        """The tape's trade of one second (`slot` = epoch second): at the slot's start, seeded size/side."""
        got = self._tape.get(slot)
        if got is not None:
            return got
        digest = hashlib.blake2b(f"{self.seed}|{self.venue}|{self.spec.pair}|{slot}".encode()).digest()
        size_u = int.from_bytes(digest[:8], "big") / 2.0**64
        t = slot * TAPE_SLOT_MS
        price = self.price_float(t)
        notional = 50.0 * math.exp(5.0 * size_u)  # 50 .. 7,400 quote units
        qty = max(self.spec.step, self._qty(notional / max(price, 1e-12)))
        got = PublicTrade(slot * 64, self._px(price), qty, t, digest[8] < 128)
        self._tape[slot] = got
        if len(self._tape) > 4 * TAPE_LENGTH:
            self._tape.popitem(last=False)
        return got

    @property
    def trades(self) -> Tape:
        """The recent public tape, oldest first: one synthetic trade a second plus users' fills."""
        if self._tape_version != self.paths.version:
            self._tape.clear()
            self._tape_version = self.paths.version
        return Tape(self, self.clock())

    def record_trade(self, price: Decimal, qty: Decimal, wall_ms: int, buyer_maker: bool) -> PublicTrade:
        """Put a user fill on the public tape (it does not move the reference price)."""
        self._user_seq = self._user_seq % 63 + 1
        trade = PublicTrade((wall_ms // TAPE_SLOT_MS) * 64 + self._user_seq, price, qty, wall_ms, buyer_maker)
        self._user_trades.append(trade)
        return trade

    # ---- book shape ----------------------------------------------------------------------------

    def book(
        self,
        tick_size: Decimal,
        step: Decimal,
        depth: int = 20,
        spread_bps: Decimal = Decimal(2),
        level_notional: Decimal = Decimal(25000),
    ) -> BookLevels:
        """The full synthetic book profile around the current price (before anything is taken).

        Level i (0 = best) sits i basis points behind the best price and holds about (1 + 0.35 i)
        times `level_notional`, with +-40 % seeded noise that changes each second."""
        now = self.clock()
        mid = self.price_at(now)
        # the shape changes when the price moves a tick, and its size noise each second
        key = (mid, now // 1000, tick_size, step, depth, spread_bps, level_notional)
        cached = self._book_cache.get(key)
        if cached is not None:
            return cached
        if len(self._book_cache) > 64:
            self._book_cache.clear()
        spread = spread_bps * Decimal(repr(round(self.spread_factor, 4)))
        half = max(tick_size, floor_to(mid * spread / Decimal(20000), tick_size))
        best_bid = floor_to(mid - half, tick_size)
        best_ask = ceil_to(mid + half, tick_size)
        if best_ask <= best_bid:
            best_ask = best_bid + tick_size
        gap = max(tick_size, floor_to(mid * Decimal("0.0001"), tick_size))
        rng = random.Random(seed_for(self.seed, self.venue, self.spec.pair, now // 1000, "book"))
        uniform = rng.uniform
        # sizes in whole steps, computed in floats (the exact value of a size does not matter)
        unit = float(level_notional) / float(mid) / float(step)
        bids: list[tuple[Decimal, Decimal]] = []
        asks: list[tuple[Decimal, Decimal]] = []
        for i in range(depth):
            grow = 1 + 0.35 * i
            qty_b = Decimal(max(1, int(unit * grow * uniform(0.6, 1.4)))) * step
            qty_a = Decimal(max(1, int(unit * grow * uniform(0.6, 1.4)))) * step
            offset = gap * i
            bid_px = best_bid - offset
            if bid_px > 0:
                bids.append((bid_px, qty_b))
            asks.append((best_ask + offset, qty_a))
        levels = BookLevels(tuple(bids), tuple(asks))
        self._book_cache[key] = levels
        return levels


class Tape(Sequence[PublicTrade]):
    """The last TAPE_LENGTH seconds of public trades, built lazily (venues often read one end only)."""

    def __init__(self, pm: PairMarket, now: int) -> None:
        self._pm = pm
        self._first = now // TAPE_SLOT_MS - TAPE_LENGTH + 1
        first_ms = self._first * TAPE_SLOT_MS
        users = [t for t in pm._user_trades if first_ms <= t.time_ms <= now]
        self._all: list[PublicTrade] | None = None
        if users:
            merged = [pm.synthetic_trade(self._first + i) for i in range(TAPE_LENGTH)] + users
            merged.sort(key=lambda t: (t.time_ms, t.trade_id))
            self._all = merged

    def __len__(self) -> int:
        return TAPE_LENGTH if self._all is None else len(self._all)

    @overload
    def __getitem__(self, index: int) -> PublicTrade: ...

    @overload
    def __getitem__(self, index: slice) -> list[PublicTrade]: ...

    def __getitem__(self, index: int | slice) -> PublicTrade | list[PublicTrade]:
        if self._all is not None:
            return self._all[index]
        if isinstance(index, slice):
            return [self._pm.synthetic_trade(self._first + i) for i in range(*index.indices(TAPE_LENGTH))]
        if index < 0:
            index += TAPE_LENGTH
        if not 0 <= index < TAPE_LENGTH:
            raise IndexError("tape index out of range")
        return self._pm.synthetic_trade(self._first + index)


_NON_ALNUM = re.compile(r"[^A-Z0-9]")


class MarketData:
    """All pairs of one venue, quoted from the shared reference market at the simulator clock."""

    def __init__(
        self,
        venue: str,
        seed: int,
        pairs: tuple[PairSpec, ...] = DEFAULT_PAIRS,
        clock: Callable[[], int] = now_ms,
        reference: ReferenceMarket | None = None,
    ) -> None:
        self.venue = venue
        self.seed = seed
        self.clock = clock
        self.tick = 0
        self.reference = reference if reference is not None else ReferenceMarket(seed)
        register_assets(self.reference, pairs)
        self.pairs: dict[str, PairMarket] = {
            s.pair: PairMarket(s, venue, seed, self.reference.pair(s.base, s.quote), clock) for s in pairs
        }
        self._by_compact = {_NON_ALNUM.sub("", p.upper()): p for p in self.pairs}

    def advance(self) -> int:
        """Count one venue request (book sequence numbers); prices follow the clock, not this."""
        self.tick += 1
        return self.tick

    def resolve(self, symbol: str) -> str | None:
        """Canonical pair for 'BTC/USDT', 'BTCUSDT', 'BTC-USDT', 'btc_usdt' ...; None if unknown."""
        return self._by_compact.get(_NON_ALNUM.sub("", symbol.upper()))

    def get(self, pair: str) -> PairMarket:
        """The pair (KeyError if unknown)."""
        return self.pairs[pair]

    def all(self) -> list[PairMarket]:
        """Every pair."""
        return list(self.pairs.values())

    def set_price(self, pair: str, price: Decimal, with_basis: bool = True) -> None:
        """Admin: shift the pair's base asset from now on so this venue quotes `price` (every venue moves)."""
        pm = self.pairs[pair]
        now = self.clock()
        target = float(price) / (pm._factor(now) if with_basis else 1.0)
        quote_usd = self.reference.usd(pm.spec.quote, now)
        self.reference.shift(pm.spec.base, target * quote_usd, now)

    def replay(self, pair: str, path: str | Path, speed: float = 1.0) -> int:
        """Admin: replay a candle CSV on the pair's base asset from the current minute; returns rows."""
        candles = load_candles_csv(path)
        pm = self.pairs[pair]
        now = self.clock()
        quote_usd = self.reference.usd(pm.spec.quote, now)
        rows = [
            CandleRow(
                float(c.open) * quote_usd,
                float(c.high) * quote_usd,
                float(c.low) * quote_usd,
                float(c.close) * quote_usd,
                float(c.volume),
            )
            for c in candles
        ]
        self.reference.replay(pm.spec.base, rows, now, speed, str(path))
        return len(rows)


def register_assets(ref: ReferenceMarket, pairs: tuple[PairSpec, ...]) -> None:
    """Give every asset of `pairs` a reference path (USD start price from a stable-quoted pair)."""
    for s in pairs:
        if s.quote in ref.assets or s.quote.upper().startswith("USD"):
            ref.ensure(s.quote, 1.0)
    for _ in range(3):  # crosses may need their quote asset priced first
        for s in pairs:
            if s.base not in ref.assets and s.quote in ref.assets:
                ref.ensure(s.base, float(s.price) * ref.assets[s.quote].usd0)
        for s in pairs:
            if s.quote not in ref.assets and s.base in ref.assets:
                ref.ensure(s.quote, ref.assets[s.base].usd0 / float(s.price))
