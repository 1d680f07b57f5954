"""Indicator values the reference engine hands to `decide` (`MarketView.indicators`), without look-ahead.

`entry=rsi:TF:PERIOD:LEVEL` reads Wilder's RSI(PERIOD) of TF candles. The TF candles are built from the
file's candles (buckets aligned to multiples of TF since the epoch; a bucket's close is the close of its
last candle) and a candle opening at T sees the RSI of the last TF candle that closed at or before T.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from tradewarden.domain.indicators import rsi
from tradewarden.services.backtest.candles import Candles, format_timeframe, parse_timeframe, to_decimal
from tradewarden.services.errors import InputError


@dataclass(frozen=True)
class IndicatorFeed:
    """One indicator series: its `MarketView.indicators` key and a value (or None) per candle."""

    key: str
    values: list[Decimal | None]


def rsi_feed(candles: Candles, key: str) -> IndicatorFeed:
    """Per-candle RSI values for an indicator key such as "rsi:1h:14"."""
    _, tf_text, period_text = key.split(":")
    tf_ms = parse_timeframe(tf_text)
    base = candles.timeframe_ms
    if tf_ms < base or tf_ms % base:
        raise InputError(
            f"entry {key} needs {tf_text} candles built from finer ones, but the file is "
            f"{format_timeframe(base)}",
            f"use an RSI timeframe that is a multiple of {format_timeframe(base)}",
            field="--set",
        )
    bucket = candles.time // tf_ms
    # the last candle of each bucket carries the bucket's close; the bucket has closed from (b + 1) * tf on
    last = np.flatnonzero(np.append(np.diff(bucket) != 0, True))
    closes = [to_decimal(float(candles.close[i])) for i in last]
    values = rsi(closes, int(period_text))
    closed_at = (bucket[last] + 1) * tf_ms
    # for candle j: the number of buckets closed at or before its open time, minus one, indexes `values`
    seen = np.searchsorted(closed_at, candles.time, side="right") - 1
    per_candle: list[Decimal | None] = [values[k] if k >= 0 else None for k in seen.tolist()]
    return IndicatorFeed(key, per_candle)


def feed_for(settings: Any, candles: Candles) -> IndicatorFeed | None:
    """The indicator a strategy's parsed settings read (DCA `entry=rsi:...`), or None."""
    entry = getattr(settings, "entry", None)
    if entry is None or getattr(entry, "kind", None) != "rsi" or entry.key is None:
        return None
    return rsi_feed(candles, entry.key)
