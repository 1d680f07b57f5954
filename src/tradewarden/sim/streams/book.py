"""Book sequencing shared by a venue's REST depth and its diff streams, so update ids line up.

One `BookSequencer` per (engine, symbol) holds the last book any client was shown and an update id.
Every look at the book — a REST snapshot or a stream tick — goes through `refresh`, which turns the
change since the last look into one diff with ids `first..last` (Binance `U`..`u`, one id per changed
level, `pu` = the previous diff's last id; OKX `prevSeqId`/`seqId`). A snapshot's `lastUpdateId` is
then the id of the state it shows, and the diff the snapshot caused is published to the stream too,
so a client that keeps a local book never sees a gap.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal

Level = tuple[Decimal, Decimal]


@dataclass(frozen=True)
class BookDiff:
    """Levels changed since the previous look (qty 0 = removed), with the update-id span."""

    first_id: int
    last_id: int
    prev_id: int
    bids: list[Level]
    asks: list[Level]


class BookSequencer:
    """The last book shown for one symbol and its update id."""

    def __init__(self, first_id: int = 1000) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.last_id = first_id
        self.prev_id = first_id

    @staticmethod
    def _changes(old: dict[Decimal, Decimal], new: list[Level]) -> list[Level]:
        fresh = dict(new)
        out = [(p, q) for p, q in fresh.items() if old.get(p) != q]
        out += [(p, Decimal(0)) for p in old if p not in fresh]
        return out

    def refresh(self, bids: list[Level], asks: list[Level]) -> BookDiff | None:
        """Take the current full book; the diff from the last one (None when nothing changed)."""
        db = self._changes(self.bids, bids)
        da = self._changes(self.asks, asks)
        if not db and not da:
            return None
        self.bids = dict(bids)
        self.asks = dict(asks)
        first = self.last_id + 1
        self.prev_id = self.last_id
        self.last_id += len(db) + len(da)
        db.sort(key=lambda lv: lv[0], reverse=True)
        da.sort(key=lambda lv: lv[0])
        return BookDiff(first, self.last_id, self.prev_id, db, da)

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best `n` levels a side of the book last shown, best first."""
        b = sorted(self.bids.items(), key=lambda lv: lv[0], reverse=True)[:n]
        a = sorted(self.asks.items(), key=lambda lv: lv[0])[:n]
        return b, a


def okx_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """OKX order-book checksum: CRC32 (signed 32-bit) of the best 25 levels, bid/ask interleaved.

    OKX WebSocket docs ("Order book" channel, checksum): take up to 25 levels of each side, build
    `bidPx:bidSz:askPx:askSz:...` alternating per level (a side that runs out simply stops
    contributing), CRC32 it and read the result as a signed 32-bit integer.
    """
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    crc = zlib.crc32(":".join(parts).encode()) & 0xFFFFFFFF
    return crc - (1 << 32) if crc >= 1 << 31 else crc
