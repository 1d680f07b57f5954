"""Market data: per-pair price processes (seeded random walk or candle replay), books, trades, klines.

Determinism: the venue's market advances one *tick* per venue request (the server calls `advance()`
before each handler). Each pair's path is a pure function of (seed, venue, pair, tick count) and of
admin price/replay commands, so the same seed and the same request sequence give the same prices,
books and fills. Only timestamps (candle buckets, trade times) follow the wall clock.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

MINUTE_MS = 60_000
HISTORY_MINUTES = 1500
_FOUR = Decimal(4)


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
    return rows


class PriceProcess:
    """Seeded geometric random walk; one step per tick. Replay mode walks a candle file instead."""

    def __init__(self, spec: PairSpec, seed: int, sigma: float = 0.0004) -> None:
        self.spec = spec
        self.sigma = sigma
        self._rng = random.Random(seed)
        self.price = spec.price
        self.step_no = 0
        self._replay: list[Decimal] | None = None
        self._replay_pos = 0.0
        self._replay_speed = 1.0

    def set_price(self, price: Decimal) -> None:
        """Jump to `price`; the walk continues from there (replay stops)."""
        self._replay = None
        self.price = price

    def replay(self, candles: list[Candle], speed: float = 1.0) -> None:
        """Play candles: each candle gives 4 prices (open, high/low in path order, close)."""
        path: list[Decimal] = []
        for c in candles:
            # a bullish candle more likely touched its low before its high
            mid = (c.low, c.high) if c.close >= c.open else (c.high, c.low)
            path.extend((c.open, mid[0], mid[1], c.close))
        self._replay = path
        self._replay_pos = 0.0
        self._replay_speed = max(speed, 0.0001)
        self.price = path[0]

    def step(self) -> Decimal:
        """Advance one tick and return the new price."""
        self.step_no += 1
        if self._replay is not None:
            self._replay_pos += self._replay_speed
            self.price = self._replay[int(self._replay_pos) % len(self._replay)]
            return self.price
        z = self._rng.gauss(0.0, 1.0)
        factor = math.exp(self.sigma * z - 0.5 * self.sigma * self.sigma)
        new = self.price * Decimal(repr(factor))
        self.price = max(self.spec.tick, new.quantize(self.spec.tick))
        return self.price


class PairMarket:
    """Everything market-side about one pair on one venue."""

    def __init__(self, spec: PairSpec, seed: int, start_ms: int, history_minutes: int = HISTORY_MINUTES):
        self.spec = spec
        self.seed = seed
        self.process = PriceProcess(spec, seed)
        self.tick = 0
        self.trades: deque[PublicTrade] = deque(maxlen=1000)
        self._candles: deque[Candle] = deque(maxlen=history_minutes + 600)
        self._next_trade_id = 1
        self._rng = random.Random(seed ^ 0x5EED)
        self._book_cache: dict[tuple[int, Decimal, Decimal, int, Decimal, Decimal], BookLevels] = {}
        # history is generated on first use: a server with many venues and pairs starts fast
        self._pending_history: tuple[int, int] | None = (start_ms, history_minutes)

    @property
    def candles(self) -> deque[Candle]:
        """The 1m candle series (pre-history generated on first access)."""
        if self._pending_history is not None:
            start_ms, minutes = self._pending_history
            self._pending_history = None
            live = list(self._candles)
            self._candles.clear()
            self._history(start_ms, minutes)
            self._candles.extend(live)
        return self._candles

    def _history(self, start_ms: int, minutes: int) -> None:
        # A backward walk from the start price, so history ends where the live walk begins.
        rng = random.Random(self.seed ^ 0xB1570)
        sigma = self.process.sigma * 2.5  # roughly 4% daily moves in the pre-history
        close = self.spec.price
        candles: list[Candle] = []
        first = (start_ms // MINUTE_MS - minutes) * MINUTE_MS
        for i in range(minutes, 0, -1):
            open_ = close * Decimal(repr(math.exp(sigma * rng.gauss(0, 1))))
            hi = max(open_, close) * Decimal(repr(1 + abs(rng.gauss(0, sigma))))
            lo = min(open_, close) * Decimal(repr(1 - abs(rng.gauss(0, sigma))))
            vol = Decimal(repr(round(rng.uniform(5, 50) * 1000 / float(self.spec.price), 6)))
            q = self.spec.tick
            c = Candle(
                first + (i - 1) * MINUTE_MS,
                open_.quantize(q),
                hi.quantize(q),
                lo.quantize(q),
                close.quantize(q),
                vol,
                vol * close.quantize(q),
                10,
            )
            candles.append(c)
            close = open_
        candles.reverse()
        self._candles.extend(candles)

    @property
    def price(self) -> Decimal:
        """Current last price."""
        return self.process.price

    def index_price(self, now_ms: int) -> Decimal:
        """Reference cross price (no venue basis) at `now_ms`; interim: the current price."""
        return self.process.price

    def advance_to(self, tick: int, wall_ms: int) -> None:
        """Catch the pair up to the venue's tick count, printing one synthetic trade per step."""
        while self.tick < tick:
            self.tick += 1
            before = self.process.price
            price = self.process.step()
            qty = floor_to_min(
                Decimal(repr(self._rng.uniform(0.0002, 0.02)))
                * Decimal(1000)
                / max(price, Decimal("0.0001"))
                / Decimal(100),
                self.spec.step,
            )
            self.record_trade(price, qty, wall_ms, buyer_maker=price < before)

    def record_trade(self, price: Decimal, qty: Decimal, wall_ms: int, buyer_maker: bool) -> PublicTrade:
        """Append a trade to the tape and fold it into the current 1m candle."""
        trade = PublicTrade(self._next_trade_id, price, qty, wall_ms, buyer_maker)
        self._next_trade_id += 1
        self.trades.append(trade)
        bucket = wall_ms // MINUTE_MS * MINUTE_MS
        series = self._candles  # not `candles`: ticking must not force the pre-history
        last = series[-1] if series else None
        if last is None or bucket > last.open_ms:
            start = last.close if last is not None else price
            series.append(Candle(bucket, start, max(start, price), min(start, price), price))
            last = series[-1]
        last.update(price, qty)
        return trade

    def book(
        self,
        tick_size: Decimal,
        step: Decimal,
        depth: int = 20,
        spread_bps: Decimal = Decimal(2),
        level_notional: Decimal = Decimal(25000),
    ) -> BookLevels:
        """Synthetic book around the current price; deterministic for (seed, tick, sizes)."""
        key = (self.tick, tick_size, step, depth, spread_bps, level_notional)
        cached = self._book_cache.get(key)
        if cached is not None:
            return cached
        if len(self._book_cache) > 64:
            self._book_cache.clear()
        mid = self.price
        half = max(tick_size, floor_to(mid * spread_bps / Decimal(20000), tick_size))
        best_bid = floor_to(mid - half, tick_size)
        best_ask = ceil_to(mid + half, tick_size)
        if best_ask <= best_bid:
            best_ask = best_bid + tick_size
        gap = max(tick_size, floor_to(mid * Decimal("0.0001"), tick_size))
        rng = random.Random(seed_for(self.seed, self.tick, "book"))
        bids: list[tuple[Decimal, Decimal]] = []
        asks: list[tuple[Decimal, Decimal]] = []
        for i in range(depth):
            scale = Decimal(repr(round((1 + 0.35 * i) * rng.uniform(0.6, 1.4), 6)))
            qty_b = floor_to_min(level_notional * scale / mid, step)
            scale = Decimal(repr(round((1 + 0.35 * i) * rng.uniform(0.6, 1.4), 6)))
            qty_a = floor_to_min(level_notional * scale / mid, step)
            bid_px = best_bid - gap * i
            if bid_px > 0:
                bids.append((bid_px, qty_b))
            asks.append((best_ask + gap * i, qty_a))
        levels = BookLevels(tuple(bids), tuple(asks))
        self._book_cache[key] = levels
        return levels

    def klines(
        self, interval_ms: int, start_ms: int | None = None, end_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Candles of `interval_ms` aggregated from the 1m series, oldest first, at most `limit`."""
        out: list[Candle] = []
        for c in self.candles:
            if start_ms is not None and c.open_ms + MINUTE_MS <= start_ms:
                continue
            if end_ms is not None and c.open_ms > end_ms:
                break
            bucket = c.open_ms // interval_ms * interval_ms
            if out and out[-1].open_ms == bucket:
                agg = out[-1]
                agg.high = max(agg.high, c.high)
                agg.low = min(agg.low, c.low)
                agg.close = c.close
                agg.volume += c.volume
                agg.quote_volume += c.quote_volume
                agg.trades += c.trades
            else:
                out.append(Candle(bucket, c.open, c.high, c.low, c.close, c.volume, c.quote_volume, c.trades))
        if start_ms is not None:
            return out[:limit]
        return out[-limit:]

    def stats_24h(self, wall_ms: int) -> Candle:
        """Rolling 24h open/high/low/close/volume from the 1m series."""
        since = wall_ms - 24 * 60 * MINUTE_MS
        window = [c for c in self.candles if c.open_ms >= since] or [self.candles[-1]]
        agg = Candle(window[0].open_ms, window[0].open, window[0].high, window[0].low, window[-1].close)
        for c in window:
            agg.high = max(agg.high, c.high)
            agg.low = min(agg.low, c.low)
            agg.volume += c.volume
            agg.quote_volume += c.quote_volume
            agg.trades += c.trades
        agg.close = self.price
        return agg


def floor_to_min(qty: Decimal, step: Decimal) -> Decimal:
    """Floor to the step, but never below one step (a level always has some size)."""
    return max(step, floor_to(qty, step))


_NON_ALNUM = re.compile(r"[^A-Z0-9]")


class MarketData:
    """All pairs of one venue, advanced together one tick per venue request."""

    def __init__(
        self,
        venue: str,
        seed: int,
        pairs: tuple[PairSpec, ...] = DEFAULT_PAIRS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.venue = venue
        self.seed = seed
        self.clock = clock
        self.tick = 0
        start = clock()
        self.pairs: dict[str, PairMarket] = {
            s.pair: PairMarket(s, seed_for(seed, venue, s.pair), start) for s in pairs
        }
        self._by_compact = {_NON_ALNUM.sub("", p.upper()): p for p in self.pairs}

    def advance(self) -> int:
        """One tick for the whole venue (pairs catch up lazily when read)."""
        self.tick += 1
        return self.tick

    def resolve(self, symbol: str) -> str | None:
        """Canonical pair for 'BTC/USDT', 'BTCUSDT', 'BTC-USDT', 'btc_usdt' ...; None if unknown."""
        return self._by_compact.get(_NON_ALNUM.sub("", symbol.upper()))

    def get(self, pair: str) -> PairMarket:
        """The pair, caught up to the current tick (KeyError if unknown)."""
        pm = self.pairs[pair]
        if pm.tick < self.tick:
            pm.advance_to(self.tick, self.clock())
        return pm

    def all(self) -> list[PairMarket]:
        """Every pair, caught up."""
        return [self.get(p) for p in self.pairs]

    def set_price(self, pair: str, price: Decimal) -> None:
        """Admin: move a pair's price now."""
        pm = self.get(pair)
        pm.process.set_price(price)
        pm.record_trade(price, pm.spec.step, self.clock(), buyer_maker=False)

    def replay(self, pair: str, path: str | Path, speed: float = 1.0) -> int:
        """Admin: replay a candle CSV on a pair; history is replaced by the file's candles; returns rows."""
        candles = load_candles_csv(path)
        pm = self.get(pair)
        pm.process.replay(candles, speed)
        # Shift the file's timestamps so its first candle ends now; history then reads like the file.
        shift = self.clock() - candles[0].open_ms - MINUTE_MS
        pm.candles.clear()
        pm.candles.append(
            Candle(
                candles[0].open_ms + shift,
                candles[0].open,
                candles[0].high,
                candles[0].low,
                candles[0].close,
                candles[0].volume,
            )
        )
        return len(candles)
