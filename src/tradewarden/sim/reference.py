"""The one market behind every venue: a reference price path per asset in USD, a pure function of time.

Each asset's path is built so that any minute can be computed on its own, lazily:
- day boundaries come from a Brownian path over days, drawn by midpoint displacement with hashed
  normals inside 64-day blocks pinned to the asset's start price (so prices stay near their defaults);
- inside a day, 1,440 one-minute steps form a Brownian bridge between the two day boundaries
  (one seeded generator per asset-day, cached), plus a seeded high/low excursion per minute.
Inside a minute the price moves linearly through four points: open -> low -> high -> close for an up
minute, open -> high -> low -> close for a down one, at 0, 1/3, 2/3 and 1 of the minute.

Admin commands do not break purity: a price shift or a candle replay is a *segment* starting at a
minute boundary, and a price is a function of (seed, asset, time, segments). Replay maps the file's
minutes onto simulator time from the minute it starts, at `speed` file-minutes per simulator minute,
and after its last row holds the last close (`replay_status` says so).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import struct
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

MINUTE_MS = 60_000
DAY_MINUTES = 1440
DAY_MS = DAY_MINUTES * MINUTE_MS
BLOCK_DAYS = 64  # day-level path returns to the start price every 64 days
SIGMA_MINUTE = 0.0004  # log-return std-dev per minute (about 1.5 % a day)
STABLES = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "DAI", "TUSD"})
_THIRD = MINUTE_MS / 3

Points = tuple[float, float, float, float]  # open, first turn, second turn, close


def _hash_normal(*parts: object) -> float:
    """A standard normal drawn from a hash of `parts` (Box-Muller on two 32-bit uniforms)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    a, b = struct.unpack(">II", digest)
    u1 = (a + 1) / 4294967297.0
    u2 = b / 4294967296.0
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def hash_unit(*parts: object) -> float:
    """A uniform in [0, 1) drawn from a hash of `parts` (stable across processes)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 18446744073709551616.0


@dataclass(frozen=True)
class CandleRow:
    """One candle of a replay file, in USD (or the file's quote)."""

    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass
class Replay:
    """A candle file mapped onto simulator time from `origin_ms`, `minute_ms` per file row."""

    rows: Sequence[CandleRow]
    origin_ms: int
    minute_ms: float
    path: str = ""

    @property
    def end_ms(self) -> float:
        """Simulator time the last row ends (the last close holds from here on)."""
        return self.origin_ms + len(self.rows) * self.minute_ms

    def row_points(self, k: int) -> Points:
        """The four path points of row k (low before high for an up candle)."""
        r = self.rows[k]
        if r.close >= r.open:
            return (r.open, r.low, r.high, r.close)
        return (r.open, r.high, r.low, r.close)


@dataclass
class Segment:
    """From `start_ms` on, the asset follows its seeded path times `factor`, or `replay` when set."""

    start_ms: int
    factor: float = 1.0
    replay: Replay | None = None


@dataclass
class AssetPath:
    """The reference USD path of one asset."""

    asset: str
    usd0: float
    seed: int
    sigma: float = SIGMA_MINUTE
    segments: list[Segment] = field(default_factory=lambda: [Segment(-(2**62))])
    version: int = 0
    _days: OrderedDict[int, array[float]] = field(default_factory=OrderedDict)
    _anchors: dict[tuple[int, int], float] = field(default_factory=dict)

    # ---- the seeded path -----------------------------------------------------------------------

    def _anchor(self, day: int) -> float:
        """Log offset (from usd0) at the start of `day`: midpoint displacement in a pinned block."""
        if self.sigma == 0:
            return 0.0
        lo = day // BLOCK_DAYS * BLOCK_DAYS
        hi = lo + BLOCK_DAYS
        v_lo = v_hi = 0.0
        sigma_day = self.sigma * math.sqrt(DAY_MINUTES)
        while True:
            if day == lo:
                return v_lo
            if day == hi:
                return v_hi
            mid = (lo + hi) // 2
            cached = self._anchors.get((lo, hi))
            if cached is None:
                half_var = (hi - lo) / 4.0
                cached = (v_lo + v_hi) / 2 + sigma_day * math.sqrt(half_var) * _hash_normal(
                    self.seed, self.asset, "day", lo, hi
                )
                if len(self._anchors) > 100_000:
                    self._anchors.clear()
                self._anchors[(lo, hi)] = cached
            if day < mid:
                hi, v_hi = mid, cached
            else:
                lo, v_lo = mid, cached

    def _day(self, day: int) -> array[float]:
        """Raw (factor 1) points of every minute of `day`: 4 per minute, flat, cached."""
        pts = self._days.get(day)
        if pts is not None:
            self._days.move_to_end(day)
            return pts
        n = DAY_MINUTES
        if self.sigma == 0:
            pts = array("d", [self.usd0]) * (4 * n)
        else:
            rng = random.Random(_seed(self.seed, self.asset, day))
            gauss, exp, s = rng.gauss, math.exp, self.sigma
            steps = [gauss(0.0, s) for _ in range(n)]
            a0, a1 = self._anchor(day), self._anchor(day + 1)
            drift = (a1 - a0 - math.fsum(steps)) / n  # bridge: the day ends exactly on the next anchor
            log0 = math.log(self.usd0) + a0
            levels = list(itertools.accumulate((x + drift for x in steps), initial=log0))
            levels[n] = log0 + (a1 - a0)  # no rounding drift at the day's end
            prices = [exp(v) for v in levels]
            # seeded excursions beyond the open/close (the minute's low and high): exponential, with
            # the mean of 0.6 |N(0, sigma)|, and cheaper to draw than normals
            rand, mean = rng.random, 0.48 * s
            down = [exp(math.log(1.0 - rand()) * mean) for _ in range(n)]
            up = [exp(-math.log(1.0 - rand()) * mean) for _ in range(n)]
            flat: list[float] = []
            extend = flat.extend
            for i in range(n):
                o, c = prices[i], prices[i + 1]
                if c >= o:
                    extend((o, o * down[i], c * up[i], c))
                else:
                    extend((o, o * up[i], c * down[i], c))
            pts = array("d", flat)
        self._days[day] = pts
        if len(self._days) > 64:
            self._days.popitem(last=False)
        return pts

    def _raw_points(self, minute: int) -> Points:
        pts = self._day(minute // DAY_MINUTES)
        j = 4 * (minute % DAY_MINUTES)
        return (pts[j], pts[j + 1], pts[j + 2], pts[j + 3])

    def raw_price(self, t_ms: float) -> float:
        """The seeded path (factor 1) at `t_ms`."""
        minute = int(t_ms // MINUTE_MS)
        return _interp(self._raw_points(minute), (t_ms - minute * MINUTE_MS) / MINUTE_MS)

    # ---- segments ------------------------------------------------------------------------------

    def segment_at(self, t_ms: int) -> Segment:
        """The segment in force at `t_ms`."""
        segs = self.segments
        for seg in reversed(segs):
            if seg.start_ms <= t_ms:
                return seg
        return segs[0]

    def points(self, minute: int) -> tuple[Points, bool]:
        """Four path points of a simulator minute and whether they are evenly spaced (0, 1/3, 2/3, 1)."""
        seg = self.segment_at(minute * MINUTE_MS)
        if seg.replay is None:
            o, a, b, c = self._raw_points(minute)
            f = seg.factor
            return (o * f, a * f, b * f, c * f), True
        rp = seg.replay
        start = minute * MINUTE_MS
        k = (start - rp.origin_ms) / rp.minute_ms
        if k >= len(rp.rows):
            last = rp.rows[-1].close
            return (last, last, last, last), True
        if rp.minute_ms == MINUTE_MS and k == int(k):
            return rp.row_points(int(k)), True
        # speed != 1: sample the file path at the minute's start, extremes and end
        vals = [
            self.price(start),
            *(v for _, v in self.vertices(start, start + MINUTE_MS)),
            self.price_before(start + MINUTE_MS),
        ]
        return (vals[0], min(vals), max(vals), vals[-1]), False

    def vertices(self, t0: int, t1: int) -> list[tuple[float, float]]:
        """Path turning points strictly inside (t0, t1), oldest first (for exact highs and lows)."""
        out: list[tuple[float, float]] = []
        m0, m1 = t0 // MINUTE_MS, (t1 - 1) // MINUTE_MS
        for m in range(m0, m1 + 1):
            seg = self.segment_at(m * MINUTE_MS)
            if seg.replay is not None and seg.replay.minute_ms != MINUTE_MS:
                rp = seg.replay
                k0 = max(0, int((m * MINUTE_MS - rp.origin_ms) // rp.minute_ms))
                k = k0
                while k < len(rp.rows):
                    base = rp.origin_ms + k * rp.minute_ms
                    if base >= (m + 1) * MINUTE_MS:
                        break
                    p = rp.row_points(k)
                    for frac, v in ((0.0, p[0]), (1 / 3, p[1]), (2 / 3, p[2]), (1.0, p[3])):
                        t = base + frac * rp.minute_ms
                        if t0 < t < t1:
                            out.append((t, v))
                    k += 1
                continue
            pts, _ = self.points(m)
            base = m * MINUTE_MS
            for i in (0, 1, 2, 3):
                t = base + i * _THIRD
                if t0 < t < t1:
                    out.append((t, pts[i]))
        return out

    def price(self, t_ms: float) -> float:
        """USD price at `t_ms` (right-continuous: at a jump, the new value)."""
        seg = self.segment_at(int(t_ms))
        if seg.replay is not None:
            rp = seg.replay
            k_f = (t_ms - rp.origin_ms) / rp.minute_ms
            if k_f >= len(rp.rows):
                return rp.rows[-1].close
            k = int(k_f)
            return _interp(rp.row_points(k), k_f - k)
        return self.raw_price(t_ms) * seg.factor

    def price_before(self, t_ms: float) -> float:
        """Left limit of the price at `t_ms` (a candle's close at its end)."""
        minute = int((t_ms - 1) // MINUTE_MS)
        if t_ms % MINUTE_MS == 0:
            seg = self.segment_at(minute * MINUTE_MS)
            if seg.replay is None or seg.replay.minute_ms == MINUTE_MS:
                return self.points(minute)[0][3]
        return self.price(t_ms - 1e-3)

    def add_segment(self, seg: Segment) -> None:
        """Install a segment from its start on (later ones are dropped)."""
        self.segments = [s for s in self.segments if s.start_ms < seg.start_ms] + [seg]
        self.version += 1


def _interp(p: Points, frac: float) -> float:
    if frac <= 0:
        return p[0]
    if frac >= 1:
        return p[3]
    x = frac * 3
    i = int(x)
    return p[i] + (p[i + 1] - p[i]) * (x - i)


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


class ReferenceMarket:
    """Every asset's USD path for one simulator seed; venues quote pairs as base / quote from it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.assets: dict[str, AssetPath] = {}
        self._pairs: dict[tuple[str, str], PairPaths] = {}

    def pair(self, base: str, quote: str) -> PairPaths:
        """The shared pair view (one per pair, so every venue reuses its cached candle days)."""
        got = self._pairs.get((base, quote))
        if got is None:
            got = self._pairs[(base, quote)] = PairPaths(self, base, quote)
        return got

    def ensure(self, asset: str, usd: float) -> AssetPath:
        """The asset's path, created at `usd` on first use (stablecoins stay at 1)."""
        path = self.assets.get(asset)
        if path is None:
            stable = asset in STABLES
            path = AssetPath(asset, 1.0 if stable else usd, self.seed, 0.0 if stable else SIGMA_MINUTE)
            self.assets[asset] = path
        return path

    def usd(self, asset: str, t_ms: float) -> float:
        """Asset price in USD at `t_ms`."""
        return self.assets[asset].price(t_ms)

    def cross(self, base: str, quote: str, t_ms: float) -> float:
        """Reference pair price base/quote at `t_ms`."""
        return self.assets[base].price(t_ms) / self.assets[quote].price(t_ms)

    def shift(self, asset: str, target_usd: float, now_ms: int) -> None:
        """Admin: from the current minute on, scale the seeded path so the price now is `target_usd`."""
        path = self.assets[asset]
        path.add_segment(Segment(now_ms // MINUTE_MS * MINUTE_MS, target_usd / path.raw_price(now_ms)))

    def replay(self, asset: str, rows: Sequence[CandleRow], now_ms: int, speed: float, name: str) -> Replay:
        """Admin: play rows from the current minute on; the history before is re-levelled to meet them."""
        if speed <= 0:
            raise ValueError("speed must be > 0")
        path = self.assets[asset]
        origin = now_ms // MINUTE_MS * MINUTE_MS
        rp = Replay(rows, origin, MINUTE_MS / speed, name)
        path.segments = [Segment(-(2**62), rows[0].open / path.raw_price(origin)), Segment(origin, replay=rp)]
        path.version += 1
        return rp

    def replay_status(self, asset: str, now_ms: int) -> dict[str, object] | None:
        """Where a replay on `asset` stands: rows, position, and whether it ended (holding the last close)."""
        seg = self.assets[asset].segment_at(now_ms)
        rp = seg.replay
        if rp is None:
            return None
        row = int((now_ms - rp.origin_ms) // rp.minute_ms)
        return {
            "replay": rp.path,
            "rows": len(rp.rows),
            "row": min(row, len(rp.rows)),
            "origin": rp.origin_ms,
            "ended": row >= len(rp.rows),
            "holding": rp.rows[-1].close if row >= len(rp.rows) else None,
        }


@dataclass(frozen=True)
class PairDay:
    """One day of reference one-minute candles of a pair (quote units, no venue basis)."""

    open: array[float]
    high: array[float]
    low: array[float]
    close: array[float]
    volume: array[float]  # base units


class PairPaths:
    """Pair prices (base / quote) from a ReferenceMarket, with per-day candle arrays cached."""

    def __init__(self, ref: ReferenceMarket, base: str, quote: str) -> None:
        self.ref = ref
        self.base = ref.assets[base]
        self.quote = ref.assets[quote]
        self._days: OrderedDict[tuple[int, int, int], PairDay] = OrderedDict()
        self._hours: OrderedDict[tuple[int, int, int], PairDay] = OrderedDict()

    @property
    def version(self) -> tuple[int, int]:
        """Changes whenever an admin command changes either asset's path."""
        return (self.base.version, self.quote.version)

    def _quote_constant(self) -> bool:
        return self.quote.sigma == 0 and len(self.quote.segments) == 1

    def price(self, t_ms: float) -> float:
        """Reference pair price at `t_ms`."""
        if self._quote_constant():
            return self.base.price(t_ms) / self.quote.usd0 / self.quote.segments[0].factor
        return self.base.price(t_ms) / self.quote.price(t_ms)

    def vertices(self, minute: int) -> list[tuple[float, float]]:
        """(time, price) turning points of one minute: its open, the turns, its close (left limit)."""
        start = minute * MINUTE_MS
        bp, b_even = self.base.points(minute)
        if self._quote_constant():
            qv = self.quote.usd0 * self.quote.segments[0].factor
            if b_even:
                return [(start + i * _THIRD, bp[i] / qv) for i in range(4)]
        else:
            qp, q_even = self.quote.points(minute)
            if b_even and q_even:
                # each leg is linear between the same four times, so the ratio is monotonic between them
                return [(start + i * _THIRD, bp[i] / qp[i]) for i in range(4)]
        end = start + MINUTE_MS
        times = sorted(
            {t for t, _ in self.base.vertices(start, end)} | {t for t, _ in self.quote.vertices(start, end)}
        )
        out = [(float(start), self.price(start))]
        out += [(t, self.base.price(t) / self.quote.price(t)) for t in times]
        out.append((float(end), self.base.price_before(end) / self.quote.price_before(end)))
        return out

    def day(self, day: int) -> PairDay:
        """Candle arrays of one UTC day (cached until an admin command changes the path)."""
        key = (day, *self.version)
        got = self._days.get(key)
        if got is not None:
            self._days.move_to_end(key)
            return got
        n = DAY_MINUTES
        o, h, lo, c, v = (array("d", bytes(8 * n)) for _ in range(5))
        rng = random.Random(_seed(self.ref.seed, self.base.asset, self.quote.asset, day, "volume"))
        m0 = day * n
        seg = self.base.segment_at(m0 * MINUTE_MS)
        qseg = self.quote.segment_at(m0 * MINUTE_MS)
        last = (m0 + n) * MINUTE_MS - 1
        fast = (
            seg.replay is None
            and qseg.replay is None
            and self.base.segment_at(last) is seg
            and self.quote.segment_at(last) is qseg
        )
        if fast:
            # both legs on one seeded segment all day: the ratio of their points, minute by minute
            # (each leg is linear between the same four times, so the ratio's extremes are points)
            f = seg.factor / qseg.factor
            rb, rq = self.base._day(day), self.quote._day(day)
            ratio = array("d", [b / q * f for b, q in zip(rb, rq, strict=True)])
            quads = list(zip(ratio[0::4], ratio[1::4], ratio[2::4], ratio[3::4], strict=True))
            o, c = ratio[0::4], ratio[3::4]
            h = array("d", [max(x) for x in quads])
            lo = array("d", [min(x) for x in quads])
            rand = rng.random
            # traded notional: 20k .. 110k USD a minute
            v = array("d", [(20_000.0 + 90_000.0 * rand()) / max(x * seg.factor, 1e-12) for x in rb[0::4]])
            got = PairDay(o, h, lo, c, v)
            self._days[key] = got
            if len(self._days) > 64:
                self._days.popitem(last=False)
            return got
        constant = self._quote_constant()
        qv = self.quote.usd0 * self.quote.segments[0].factor
        for i in range(n):
            if constant:
                four, even = self.base.points(m0 + i)
                if even:  # e.g. a replay at speed 1: the file's own four points
                    o[i], c[i] = four[0] / qv, four[3] / qv
                    h[i], lo[i] = max(four) / qv, min(four) / qv
                    v[i] = (20_000.0 + 90_000.0 * rng.random()) / max(four[0], 1e-12)
                    continue
            vals = [p for _, p in self.vertices(m0 + i)]
            o[i], c[i] = vals[0], vals[-1]
            h[i], lo[i] = max(vals), min(vals)
            # traded notional: 20k .. 110k USD a minute
            v[i] = (20_000.0 + 90_000.0 * rng.random()) / max(self.base.price((m0 + i) * MINUTE_MS), 1e-12)
        got = PairDay(o, h, lo, c, v)
        self._days[key] = got
        if len(self._days) > 64:
            self._days.popitem(last=False)
        return got

    def hours(self, day: int) -> PairDay:
        """Hourly candles of one day (24 per array), kept long: long-interval klines read these."""
        key = (day, *self.version)
        got = self._hours.get(key)
        if got is not None:
            return got
        d = self.day(day)
        spans = [(i, i + 60) for i in range(0, DAY_MINUTES, 60)]
        got = PairDay(
            array("d", [d.open[a] for a, _ in spans]),
            array("d", [max(d.high[a:b]) for a, b in spans]),
            array("d", [min(d.low[a:b]) for a, b in spans]),
            array("d", [d.close[b - 1] for _, b in spans]),
            array("d", [math.fsum(d.volume[a:b]) for a, b in spans]),
        )
        self._hours[key] = got
        if len(self._hours) > 5000:  # about 1 KB a day: years of daily candles stay cached
            self._hours.popitem(last=False)
        return got
