"""RSI entry: the reference engine hands `decide` the RSI of the TF candles closed before each candle."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradewarden.domain.indicators import rsi
from tradewarden.domain.strategies.base import Context
from tradewarden.services.backtest import runner
from tradewarden.services.backtest.candles import from_arrays, load_candles, to_decimal
from tradewarden.services.backtest.indicators import rsi_feed
from tradewarden.services.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "data" / "candles"


def test_feed_uses_only_closed_buckets() -> None:
    # 1m candles, RSI on 2m buckets with period 2: bucket closes are the closes of minutes 1, 3, 5, 7
    closes = np.array([10, 11, 12, 13, 13, 10, 14, 15], dtype=np.float64)
    t0 = 1_700_000_040_000  # a multiple of 2 minutes
    time = t0 + 60_000 * np.arange(8, dtype=np.int64)
    candles = from_arrays(time, closes, closes, closes, closes, timeframe_ms=60_000)
    feed = rsi_feed(candles, "rsi:2m:2")
    expected = rsi([to_decimal(x) for x in (11, 13, 10, 15)], 2)
    # bucket k (minutes 2k, 2k+1) closes at minute 2k+2: candles 0..5 see at most buckets 0..1 (no value)
    assert feed.values[:6] == [None] * 6
    assert feed.values[6] == expected[2] and feed.values[7] == expected[2]
    assert expected[2] == pytest.approx(Decimal(40))  # gains 2, losses 3 over two changes


def test_rsi_timeframe_must_be_a_multiple_of_the_file() -> None:
    candles = load_candles(DATA / "binance-btcusdt-1d-2020.csv")
    with pytest.raises(InputError, match="needs 1h candles built from finer ones, but the file is 1d"):
        rsi_feed(candles, "rsi:1h:14")


def test_rsi_entry_opens_groups_only_when_rsi_is_low() -> None:
    candles = load_candles(DATA / "bitstamp-btcusd-1m-2020-01-01.csv")
    settings = {"base_order": "100", "take_profit_pct": "0.3", "entry": "rsi:5m:14:35"}
    result = runner.run_reference(candles, "dca", settings, context=Context(recovery=False))
    feed = rsi_feed(candles, "rsi:5m:14")
    bases = [r["candle"] for r in result.fills.rows() if r["kind"] == "base"]
    assert bases, "RSI dips below 35 on this day"
    for i in bases:
        value = feed.values[i]
        assert value is not None and value < 35
