"""Candle files: load `timestamp,open,high,low,close,volume` CSVs (ms, UTC, oldest first) into numpy arrays.

Every check names the file, the row (1 = the first data row, the header is row 0) and the fix, so a
user can correct the file. Prices stay float64 in the arrays (the fast path reads them as they are);
the reference engine asks for a Decimal view of a candle only when it visits it (`decimal_ohlc`), which
keeps 1,000,000 candles well under the memory budget.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tradewarden.services.errors import InputError

HEADER = ("timestamp", "open", "high", "low", "close", "volume")
_TIMEFRAME = re.compile(r"^([1-9][0-9]*)([smhdw])$")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PAIR = re.compile(r"^[A-Z0-9]{2,20}/[A-Z0-9]{2,20}(:[A-Z0-9]{2,20})?$")

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Candles:
    """One series of candles as numpy arrays (one row per candle), with where they came from."""

    source: str
    timeframe_ms: int
    time: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    pair: str | None = None

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def timeframe(self) -> str:
        """The timeframe written the usual way (1m, 5m, 1h, 1d ...)."""
        return format_timeframe(self.timeframe_ms)

    def slice(self, start: int, stop: int) -> Candles:
        """Candles [start, stop) as a new series (views, no copy)."""
        return Candles(
            self.source,
            self.timeframe_ms,
            self.time[start:stop],
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.volume[start:stop],
            self.pair,
        )


def parse_timeframe(text: str) -> int:
    """Milliseconds in a timeframe such as `1m`, `5m`, `1h`, `1d`; refuses anything else."""
    match = _TIMEFRAME.match(text.strip())
    if not match:
        raise InputError(
            f"timeframe {text!r} is not understood",
            "write a number and a unit: 1m, 5m, 15m, 1h, 4h, 1d, 1w",
            field="--timeframe",
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def format_timeframe(ms: int) -> str:
    """`60000` -> `1m`: the largest unit that divides the span."""
    for unit in ("w", "d", "h", "m", "s"):
        if ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


def check_pair(pair: str) -> str:
    """The pair in ccxt's spelling (BASE/QUOTE or BASE/QUOTE:SETTLE); refuses anything else."""
    if not _PAIR.match(pair):
        raise InputError(
            f"unknown pair {pair!r}",
            "write it as ccxt does, e.g. BTC/USDT for spot or BTC/USDT:USDT for a USDT perpetual",
            field="--pair",
        )
    return pair


def _fail(path: Path, what: str, fix: str) -> InputError:
    return InputError(f"{path}: {what}", fix, field="--data")


def _read_table(path: Path) -> npt.NDArray[np.float64]:
    try:
        with path.open("rb") as handle:
            first = handle.readline().decode("utf-8", "replace").strip().lower()
            if not first:
                raise _fail(path, "the file is empty", "give a CSV with the header " + ",".join(HEADER))
            names = tuple(c.strip() for c in first.split(","))
            if names != HEADER:
                raise _fail(
                    path,
                    f"row 0 (header) is {first!r}",
                    "the first line must be exactly " + ",".join(HEADER),
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "input contained no data": reported below
                table = np.loadtxt(handle, delimiter=",", dtype=np.float64, ndmin=2, encoding="utf-8")
    except FileNotFoundError:
        raise _fail(path, "no such file", "check the path given to --data") from None
    except IsADirectoryError:
        raise _fail(path, "is a directory", "give a CSV file to --data") from None
    except PermissionError:
        raise _fail(path, "cannot be read (permission denied)", "check the file's permissions") from None
    except ValueError as exc:
        raise _fail(path, _loadtxt_problem(str(exc)), "fix or remove that row") from None
    if table.shape[0] == 0:
        raise _fail(path, "has a header but no candles", "give a file with at least one candle row")
    if table.shape[1] != len(HEADER):
        raise _fail(path, f"rows have {table.shape[1]} columns, expected 6", ",".join(HEADER))
    return table


def _loadtxt_problem(message: str) -> str:
    # numpy counts data rows from 0 in conversion errors and from 1 when the column count changes.
    row = re.search(r"row (\d+)", message)
    if row:
        number = int(row.group(1)) + (0 if "number of columns changed" in message else 1)
        return f"row {number}: {message.split(' at row')[0]}"
    line = re.search(r"line (\d+)", message)
    if line:
        return f"row {int(line.group(1))}: {message}"
    return message


def _first_bad(mask: npt.NDArray[np.bool_] | np.bool_) -> int | None:
    idx = np.flatnonzero(np.asarray(mask))
    return int(idx[0]) if idx.size else None


def _validate_prices(path: Path, table: npt.NDArray[np.float64]) -> None:
    names = ("timestamp", "open", "high", "low", "close", "volume")
    bad = _first_bad(~np.isfinite(table).all(axis=1))
    if bad is not None:
        col = names[int(np.flatnonzero(~np.isfinite(table[bad]))[0])]
        raise _fail(path, f"row {bad + 1}: {col} is NaN or infinite", "fix or remove that row")
    bad = _first_bad((table[:, 1:5] <= 0).any(axis=1))
    if bad is not None:
        col = names[1 + int(np.flatnonzero(table[bad, 1:5] <= 0)[0])]
        raise _fail(
            path, f"row {bad + 1}: {col} is {table[bad, names.index(col)]:g}", "prices must be above zero"
        )
    bad = _first_bad(table[:, 5] < 0)
    if bad is not None:
        raise _fail(path, f"row {bad + 1}: volume is negative", "volume must be zero or more")
    o, h, low, c = table[:, 1], table[:, 2], table[:, 3], table[:, 4]
    bad = _first_bad(h < low)
    if bad is not None:
        raise _fail(path, f"row {bad + 1}: high {h[bad]:g} is below low {low[bad]:g}", "fix that row")
    bad = _first_bad((o > h) | (c > h) | (o < low) | (c < low))
    if bad is not None:
        raise _fail(
            path,
            f"row {bad + 1}: open {o[bad]:g} / close {c[bad]:g} lie outside low {low[bad]:g} .. "
            f"high {h[bad]:g}",
            "each candle needs low <= open, close <= high",
        )


def _validate_times(path: Path, ts: I64, raw: npt.NDArray[np.float64], timeframe_ms: int | None) -> int:
    if not np.array_equal(ts.astype(np.float64), raw) or (ts < 0).any():
        bad = _first_bad((ts.astype(np.float64) != raw) | (ts < 0))
        raise _fail(
            path, f"row {(bad or 0) + 1}: timestamp is not whole milliseconds", "write ms since the epoch"
        )
    if ts.size and ts[-1] < 10**11:
        raise _fail(path, "timestamps look like seconds, not milliseconds", "multiply them by 1000")
    steps = np.diff(ts)
    bad = _first_bad(steps == 0)
    if bad is not None:
        raise _fail(path, f"row {bad + 2}: timestamp {ts[bad + 1]} is duplicated", "keep one row per time")
    bad = _first_bad(steps < 0)
    if bad is not None:
        raise _fail(
            path,
            f"row {bad + 2}: timestamp {ts[bad + 1]} is earlier than row {bad + 1}",
            "sort the rows oldest first",
        )
    if steps.size == 0:
        if timeframe_ms is None:
            raise _fail(path, "one candle gives no timeframe", "pass --timeframe")
        return timeframe_ms
    values, counts = np.unique(steps, return_counts=True)
    usual = int(values[int(np.argmax(counts))])
    if timeframe_ms is None:
        timeframe_ms = usual
    elif usual != timeframe_ms:
        raise InputError(
            f"{path}: rows are {format_timeframe(usual)} apart, but --timeframe says "
            f"{format_timeframe(timeframe_ms)}",
            f"pass --timeframe {format_timeframe(usual)} or a file of "
            f"{format_timeframe(timeframe_ms)} candles",
            field="--timeframe",
        )
    # Gaps (an exchange's downtime) are whole multiples of the timeframe; anything else is a mismatch.
    bad = _first_bad(steps % timeframe_ms != 0)
    if bad is not None:
        raise InputError(
            f"{path}: row {bad + 2} is {int(steps[bad])} ms after row {bad + 1}, not a multiple of "
            f"the {format_timeframe(timeframe_ms)} timeframe",
            "resample the file to one timeframe or pass the right --timeframe",
            field="--timeframe",
        )
    return timeframe_ms


def load_candles(path: str | Path, timeframe: str | None = None, pair: str | None = None) -> Candles:
    """Load and check a candle CSV; `timeframe` (e.g. "1m") must match the rows' spacing when given."""
    path = Path(path)
    timeframe_ms = parse_timeframe(timeframe) if timeframe is not None else None
    if pair is not None:
        check_pair(pair)
    table = _read_table(path)
    _validate_prices(path, table)
    raw_ts = table[:, 0]
    ts = raw_ts.astype(np.int64)
    timeframe_ms = _validate_times(path, ts, raw_ts, timeframe_ms)
    cols = [np.ascontiguousarray(table[:, i]) for i in range(1, 6)]
    return Candles(str(path), timeframe_ms, ts, cols[0], cols[1], cols[2], cols[3], cols[4], pair)


def from_arrays(
    time: I64, open_: F64, high: F64, low: F64, close: F64, *, timeframe_ms: int, source: str = "<arrays>"
) -> Candles:
    """Candles from arrays made in memory (random walks, benchmarks); same checks as a file."""
    table = np.column_stack(
        [time.astype(np.float64), open_, high, low, close, np.zeros_like(close, dtype=np.float64)]
    )
    path = Path(source)
    _validate_prices(path, table)
    _validate_times(path, time.astype(np.int64), time.astype(np.float64), timeframe_ms)
    return Candles(
        source,
        timeframe_ms,
        np.ascontiguousarray(time, dtype=np.int64),
        np.ascontiguousarray(open_, dtype=np.float64),
        np.ascontiguousarray(high, dtype=np.float64),
        np.ascontiguousarray(low, dtype=np.float64),
        np.ascontiguousarray(close, dtype=np.float64),
        np.zeros(len(time), dtype=np.float64),
    )


def to_decimal(value: float) -> Decimal:
    """The shortest decimal that reads back as `value`: the figure as the CSV wrote it."""
    if not math.isfinite(value):
        raise ValueError("not a finite price")
    return Decimal(repr(value))


def decimal_ohlc(candles: Candles, i: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Candle `i`'s open, high, low and close as Decimals (made on demand, never stored)."""
    return (
        to_decimal(float(candles.open[i])),
        to_decimal(float(candles.high[i])),
        to_decimal(float(candles.low[i])),
        to_decimal(float(candles.close[i])),
    )
