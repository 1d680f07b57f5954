"""Candle files: every shared file loads as it is; every kind of bad file is refused naming file, row, fix."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradewarden.services.backtest.candles import (
    check_pair,
    decimal_ohlc,
    format_timeframe,
    from_arrays,
    load_candles,
    parse_timeframe,
)
from tradewarden.services.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "data" / "candles"
HEADER = "timestamp,open,high,low,close,volume\n"
T0 = 1_640_991_660_000


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "c.csv"
    path.write_text(header + body)
    return path


def _rows(*rows: tuple[int, float, float, float, float]) -> str:
    return "".join(f"{t},{o},{h},{low},{c},1\n" for t, o, h, low, c in rows)


@pytest.mark.parametrize(
    ("name", "rows", "timeframe"),
    [
        ("btc-perp-1m-2022-01.csv", 45_031, "1m"),
        ("btcusdt-perp-5m-2023-01.csv", 10_999, "5m"),
        ("binance-btcusdt-1d-2020.csv", 366, "1d"),
        ("bitstamp-btcusd-1m-2020-01-01.csv", 1_440, "1m"),
        ("kraken-xbtusdt-1m-2025-11.csv", 721, "1m"),
    ],
)
def test_shared_files_load_with_their_timeframe(name: str, rows: int, timeframe: str) -> None:
    candles = load_candles(DATA / name)
    assert len(candles) == rows
    assert candles.timeframe == timeframe
    assert (np.diff(candles.time) > 0).all()
    assert (candles.high >= candles.low).all()


def test_decimal_view_is_the_figure_the_file_wrote() -> None:
    candles = load_candles(DATA / "binance-btcusdt-1d-2020.csv")
    # first row: 1577836800000,7195.24000000,7255.00000000,7175.15000000,7200.85000000
    assert decimal_ohlc(candles, 0) == (
        Decimal("7195.24"),
        Decimal("7255"),
        Decimal("7175.15"),
        Decimal("7200.85"),
    )


def test_timeframe_given_and_matching_is_accepted() -> None:
    assert load_candles(DATA / "kraken-xbtusdt-1m-2025-11.csv", timeframe="1m").timeframe_ms == 60_000


def test_gap_of_whole_candles_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows((T0, 1, 2, 1, 2), (T0 + 60_000, 2, 2, 1, 1), (T0 + 180_000, 1, 1, 1, 1)))
    assert len(load_candles(path, timeframe="1m")) == 3


BAD = [
    ("empty file", "", "", "the file is empty"),
    ("header only", HEADER, "", "has a header but no candles"),
    ("wrong header", "time,o,h,l,c,v\n", _rows((T0, 1, 2, 1, 2)), "row 0 (header)"),
    ("unsorted", HEADER, _rows((T0 + 60_000, 1, 2, 1, 2), (T0, 1, 2, 1, 2)), "row 2: timestamp"),
    ("duplicated", HEADER, _rows((T0, 1, 2, 1, 2), (T0, 1, 2, 1, 2)), "is duplicated"),
    ("nan price", HEADER, _rows((T0, 1, 2, 1, 2)) + f"{T0 + 60_000},nan,2,1,2,1\n", "row 2: open is NaN"),
    ("negative price", HEADER, _rows((T0, 1, 2, -1, 2)), "row 1: low is -1"),
    ("zero price", HEADER, _rows((T0, 0, 2, 1, 2)), "row 1: open is 0"),
    ("high below low", HEADER, _rows((T0, 1, 1, 2, 1)), "row 1: high 1 is below low 2"),
    ("close above high", HEADER, _rows((T0, 1, 2, 1, 3)), "row 1: open 1 / close 3 lie outside"),
    ("not a number", HEADER, f"{T0},1,2,x,2,1\n", "row 1"),
    ("too few columns", HEADER, f"{T0},1,2,1\n", "rows have 4 columns"),
    ("ragged rows", HEADER, _rows((T0, 1, 2, 1, 2)) + f"{T0 + 60_000},1,2\n", "row 2"),
    ("seconds, not ms", HEADER, _rows((1_640_991_660, 1, 2, 1, 2), (1_640_991_720, 1, 2, 1, 2)), "seconds"),
]


@pytest.mark.parametrize(("what", "header", "body", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_refused_naming_file_and_row(
    tmp_path: Path, what: str, header: str, body: str, message: str
) -> None:
    path = _write(tmp_path, body, header=header)
    with pytest.raises(InputError) as caught:
        load_candles(path)
    text = str(caught.value)
    assert message in text, text
    assert str(path) in text
    assert caught.value.fix, "every refusal says how to fix it"


def test_timeframe_mismatch_names_both_spacings(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"rows are 1m apart, but --timeframe says 5m; pass --timeframe 1m"):
        load_candles(DATA / "kraken-xbtusdt-1m-2025-11.csv", timeframe="5m")


def test_spacing_off_the_timeframe_names_the_row(tmp_path: Path) -> None:
    rows = _rows(
        (T0, 1, 2, 1, 2), (T0 + 60_000, 1, 2, 1, 2), (T0 + 150_000, 1, 2, 1, 2), (T0 + 210_000, 1, 1, 1, 1)
    )
    with pytest.raises(InputError, match=r"row 3 is 90000 ms after row 2, not a multiple of the 1m"):
        load_candles(_write(tmp_path, rows), timeframe="1m")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_candles(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="is a directory"):
        load_candles(tmp_path)


@pytest.mark.parametrize("text", ["1x", "0m", "m", "5 minutes", "-1m"])
def test_bad_timeframes_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="not understood"):
        parse_timeframe(text)


def test_timeframes_round_trip() -> None:
    for text in ("1m", "5m", "15m", "1h", "4h", "1d", "1w"):
        assert format_timeframe(parse_timeframe(text)) == text


@pytest.mark.parametrize("pair", ["BTCUSDT", "btc/usdt", "BTC-USDT", "BTC/", "/USDT", "BTC/USDT:"])
def test_unknown_pairs_are_refused(pair: str) -> None:
    with pytest.raises(InputError, match="unknown pair"):
        check_pair(pair)


def test_known_pair_spellings() -> None:
    assert check_pair("BTC/USDT") == "BTC/USDT"
    assert check_pair("BTC/USDT:USDT") == "BTC/USDT:USDT"


def test_from_arrays_applies_the_same_checks() -> None:
    t = np.array([T0, T0 + 60_000], dtype=np.int64)
    one = np.array([1.0, 1.0])
    assert len(from_arrays(t, one, one * 2, one, one, timeframe_ms=60_000)) == 2
    with pytest.raises(InputError, match="high 1 is below low 2"):
        from_arrays(t, one, one, one * 2, one, timeframe_ms=60_000)
