"""The candle store: Parquet chunks per exchange/pair/timeframe under TRADEWARDEN_HOME/data, with a manifest.

    root/<exchange>/<BASE_QUOTE[-SETTLE]>/<timeframe>/manifest.json
    root/<exchange>/<BASE_QUOTE[-SETTLE]>/<timeframe>/<first_ms>-<last_ms>.parquet

Each chunk is written to a temporary name and renamed into place, then the manifest (also renamed into
place) records it; a chunk the manifest does not name is ignored and overwritten later. So a run killed at
any moment leaves a store that reads back consistently, and the next download resumes after the last chunk
the manifest records.

- `download(...)` (async) pages candles through the market hub (its weighted budget per exchange and its
  rate-limit pauses), resumable, reporting gaps; `import_file(...)` takes candle CSVs (timestamp,open,high,
  low,close,volume), Freqtrade's feather files and Freqtrade's JSON files.
- `series(root)` lists what is stored; `check(...)` finds gaps, duplicates and outliers; `load(...)` gives
  `Candles` for the backtest engine.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tradewarden.services.backtest.candles import (
    Candles,
    check_pair,
    format_timeframe,
    load_candles,
    parse_timeframe,
)
from tradewarden.services.errors import InputError, NotFoundError, UserError

MANIFEST = "manifest.json"
COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
PAGE_LIMIT = 1000  # candles per request: what Binance, OKX and most others serve at most
CHUNK_CANDLES = 10_000  # candles per Parquet chunk: a killed run loses at most this much work
MAX_RETRIES = 6  # rate-limited or failed pages retried this often (the hub waits out each pause)
OUTLIER_SIGMA = 12.0  # a close-to-close move this many robust deviations from the median is an outlier
_EXCHANGE = re.compile(r"^[a-z][a-z0-9]{1,30}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?Z?$")
Progress = Callable[[int, int], None]  # (candles stored so far, candles expected)


def _pa(sub: str | None = None) -> Any:
    """pyarrow (untyped) or one of its modules, imported on first use."""
    return importlib.import_module("pyarrow" + (f".{sub}" if sub else ""))


def data_root(home: Path) -> Path:
    """Where candles live inside TRADEWARDEN_HOME."""
    return home / "data"


def check_exchange(exchange: str) -> str:
    """An exchange id as ccxt spells it (binance, okx, kucoin ...)."""
    if not _EXCHANGE.match(exchange):
        raise InputError(
            f"unknown exchange id {exchange!r}", "use ccxt's id, e.g. binance", field="--exchange"
        )
    return exchange


def parse_date(text: str, name: str) -> int:
    """`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]` (UTC) as epoch milliseconds."""
    if not _DATE.match(text.strip()):
        raise InputError(
            f"{name} {text!r} is not a date", "write YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)", field=name
        )
    raw = text.strip().rstrip("Z").replace(" ", "T")
    try:
        when = datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        raise InputError(f"{name} {text!r} is not a valid date", "write YYYY-MM-DD", field=name) from None
    return int(when.timestamp() * 1000)


def iso(ms: int) -> str:
    """Epoch milliseconds as an ISO-8601 UTC time."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pair_dir(pair: str) -> str:
    """BTC/USDT -> BTC_USDT, BTC/USDT:USDT -> BTC_USDT-USDT (safe as a folder name)."""
    return check_pair(pair).replace("/", "_").replace(":", "-")


def series_dir(root: Path, exchange: str, pair: str, timeframe: str) -> Path:
    """The folder of one series."""
    return root / check_exchange(exchange) / pair_dir(pair) / format_timeframe(parse_timeframe(timeframe))


# ---- manifest and chunks ---------------------------------------------------------------------------


@dataclass
class Manifest:
    """What a series folder holds: chunks (file, first and last candle time, rows) and known gaps."""

    exchange: str
    pair: str
    timeframe: str
    timeframe_ms: int
    chunks: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[list[int]] = field(default_factory=list)  # [first missing ms, last missing ms]
    source: str = ""

    @property
    def first_ms(self) -> int | None:
        """Time of the oldest stored candle."""
        return min((c["first"] for c in self.chunks), default=None)

    @property
    def last_ms(self) -> int | None:
        """Time of the newest stored candle."""
        return max((c["last"] for c in self.chunks), default=None)

    @property
    def rows(self) -> int:
        """Candles stored."""
        return sum(int(c["rows"]) for c in self.chunks)

    def to_json(self) -> dict[str, Any]:
        """The manifest file's content."""
        return {
            "exchange": self.exchange,
            "pair": self.pair,
            "timeframe": self.timeframe,
            "timeframe_ms": self.timeframe_ms,
            "source": self.source,
            "chunks": self.chunks,
            "gaps": self.gaps,
        }


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of a series folder, or None when nothing is stored there yet."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        body = json.loads(path.read_text())
        return Manifest(
            exchange=body["exchange"],
            pair=body["pair"],
            timeframe=body["timeframe"],
            timeframe_ms=int(body["timeframe_ms"]),
            chunks=list(body["chunks"]),
            gaps=[list(g) for g in body.get("gaps", [])],
            source=body.get("source", ""),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"{path} is damaged ({type(exc).__name__})", "remove that series folder and download it again"
        ) from None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Replace the manifest in one rename."""
    _write_atomic(folder / MANIFEST, json.dumps(manifest.to_json(), indent=1).encode())


def write_chunk(folder: Path, table: npt.NDArray[np.float64]) -> dict[str, Any]:
    """Write candle rows (timestamp + 5 columns) as one Parquet chunk; its manifest entry."""
    pa, pq = _pa(), _pa("parquet")
    first, last = int(table[0, 0]), int(table[-1, 0])
    name = f"{first}-{last}.parquet"
    arrays = [pa.array(table[:, 0].astype(np.int64))] + [pa.array(table[:, i]) for i in range(1, 6)]
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    pq.write_table(pa.table(dict(zip(COLUMNS, arrays, strict=True))), tmp)
    tmp.replace(folder / name)
    return {"file": name, "first": first, "last": last, "rows": int(table.shape[0])}


def read_rows(folder: Path, manifest: Manifest) -> npt.NDArray[np.float64]:
    """Every stored candle of a series, sorted by time (duplicates kept: `check` reports them)."""
    pq = _pa("parquet")
    parts = []
    for chunk in manifest.chunks:
        table = pq.read_table(folder / chunk["file"])
        parts.append(np.column_stack([table.column(c).to_numpy().astype(np.float64) for c in COLUMNS]))
    if not parts:
        return np.empty((0, 6), dtype=np.float64)
    rows = np.concatenate(parts)
    return rows[np.argsort(rows[:, 0], kind="stable")]


def _add_chunk(folder: Path, manifest: Manifest, table: npt.NDArray[np.float64]) -> None:
    entry = write_chunk(folder, table)
    manifest.chunks = [c for c in manifest.chunks if c["file"] != entry["file"]] + [entry]
    manifest.chunks.sort(key=lambda c: int(c["first"]))
    write_manifest(folder, manifest)


def _open_series(root: Path, exchange: str, pair: str, timeframe: str, source: str) -> tuple[Path, Manifest]:
    folder = series_dir(root, exchange, pair, timeframe)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    manifest = read_manifest(folder)
    if manifest is None:
        tf_ms = parse_timeframe(timeframe)
        manifest = Manifest(exchange, pair, format_timeframe(tf_ms), tf_ms, source=source)
    return folder, manifest


# ---- download --------------------------------------------------------------------------------------


@dataclass
class DownloadReport:
    """What one download did: candles fetched, where it resumed, requests sent, gaps the exchange left."""

    exchange: str
    pair: str
    timeframe: str
    since_ms: int
    until_ms: int
    resumed_from_ms: int | None = None
    fetched: int = 0
    pages: int = 0
    retries: int = 0
    stored: int = 0
    gaps: list[list[int]] = field(default_factory=list)


def _missing(manifest: Manifest, since_ms: int, until_ms: int, tf: int) -> list[tuple[int, int]]:
    """Spans [start, end] of candle open times in since..until that no stored chunk covers."""
    spans: list[tuple[int, int]] = []
    cursor = since_ms
    known = sorted(
        [(int(c["first"]), int(c["last"])) for c in manifest.chunks] + [tuple(g) for g in manifest.gaps]
    )
    for first, last in known:
        if last < cursor:
            continue
        if first > cursor:
            spans.append((cursor, min(first - tf, until_ms)))
        cursor = max(cursor, last + tf)
        if cursor > until_ms:
            break
    if cursor <= until_ms:
        spans.append((cursor, until_ms))
    return [(a, b) for a, b in spans if a <= b]


async def _page(
    hub: Any, exchange: str, pair: str, timeframe: str, since: int, report: DownloadReport
) -> Any:
    """One page through the hub; rate limits and network failures retried a bounded number of times."""
    import ccxt

    attempt = 0
    while True:
        try:
            report.pages += 1
            return await hub.ohlcv(exchange, pair, timeframe, since=since, limit=PAGE_LIMIT)
        except (ccxt.RateLimitExceeded, ccxt.DDoSProtection, ccxt.NetworkError) as exc:
            attempt += 1
            report.retries += 1
            if attempt > MAX_RETRIES:
                raise UserError(
                    f"{exchange} keeps refusing candle requests ({type(exc).__name__}), "
                    f"{MAX_RETRIES} retries",
                    "wait a few minutes and run the same command again: it resumes where it stopped",
                ) from None
            await asyncio.sleep(min(30.0, 0.5 * 2**attempt))  # the hub's budget also waits out Retry-After
        except ccxt.BadSymbol:
            raise InputError(
                f"{exchange} has no pair {pair}", "check the spelling (ccxt's)", field="--pair"
            ) from None
        except ccxt.BadRequest as exc:
            raise InputError(
                f"{exchange} refused the request: {exc}", "check --timeframe and --pair"
            ) from None


async def download(
    hub: Any,
    root: Path,
    exchange: str,
    pair: str,
    timeframe: str,
    since_ms: int,
    until_ms: int,
    *,
    progress: Progress | None = None,
    chunk_candles: int = CHUNK_CANDLES,
) -> DownloadReport:
    """Fetch candles opening in [since, until] that the store lacks; chunks land as they fill."""
    check_exchange(exchange)
    check_pair(pair)
    tf = parse_timeframe(timeframe)
    since_ms = -(-since_ms // tf) * tf
    until_ms = until_ms // tf * tf
    if until_ms < since_ms:
        raise InputError(
            f"--until {iso(until_ms)} is before --since {iso(since_ms)}", "swap them", field="--until"
        )
    folder, manifest = _open_series(root, exchange, pair, timeframe, f"download {exchange}")
    report = DownloadReport(exchange, pair, manifest.timeframe, since_ms, until_ms)
    expected = (until_ms - since_ms) // tf + 1
    spans = _missing(manifest, since_ms, until_ms, tf)
    have = expected - sum((b - a) // tf + 1 for a, b in spans)
    if spans and manifest.chunks and spans[0][0] > since_ms:
        report.resumed_from_ms = spans[0][0]
    if progress is not None:
        progress(have, expected)
    for start, end in spans:
        cursor = start
        buffer: list[list[float]] = []
        while cursor <= end:
            page = await _page(hub, exchange, pair, timeframe, cursor, report)
            rows = [r for r in page if cursor <= int(r[0]) <= end and int(r[0]) % tf == 0]
            if not rows:
                report.gaps.append([cursor, end])  # the exchange has nothing more in this span
                break
            first = int(rows[0][0])
            if first > cursor:
                report.gaps.append([cursor, first - tf])
            for prev, row in itertools.pairwise(rows):
                if int(row[0]) - int(prev[0]) > tf:
                    report.gaps.append([int(prev[0]) + tf, int(row[0]) - tf])
            buffer.extend([float(v) if v is not None else np.nan for v in r[:6]] for r in rows)
            report.fetched += len(rows)
            have += len(rows)
            cursor = int(rows[-1][0]) + tf
            if len(buffer) >= chunk_candles or cursor > end:
                _flush(folder, manifest, buffer, report)
                buffer = []
            if progress is not None:
                progress(have, expected)
        if buffer:
            _flush(folder, manifest, buffer, report)
    if report.gaps:
        manifest.gaps = _merge_gaps(manifest.gaps + report.gaps)
        write_manifest(folder, manifest)
    report.stored = manifest.rows
    return report


def _flush(folder: Path, manifest: Manifest, buffer: list[list[float]], report: DownloadReport) -> None:
    table = np.asarray(buffer, dtype=np.float64)
    _, keep = np.unique(table[:, 0], return_index=True)  # pages may overlap by a candle
    _add_chunk(folder, manifest, table[np.sort(keep)])


def _merge_gaps(gaps: list[list[int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for first, last in sorted(gaps):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


# ---- import ----------------------------------------------------------------------------------------

_FT_NAME = re.compile(
    r"^([A-Z0-9]+)_([A-Z0-9]+)(?:_([A-Z0-9]+))?-(\d+[smhdw])(?:-(futures|spot|mark|index))?$"
)


@dataclass(frozen=True)
class ImportReport:
    """What an import stored."""

    exchange: str
    pair: str
    timeframe: str
    rows: int
    first_ms: int
    last_ms: int
    folder: Path


def guess_from_name(path: Path) -> tuple[str | None, str | None, str | None]:
    """Exchange, pair and timeframe from a Freqtrade path (user_data/data/EXCHANGE/BTC_USDT-1m.feather)."""
    stem = path.name.split(".")[0]
    match = _FT_NAME.match(stem)
    if not match:
        return None, None, None
    base, quote, settle, tf = match.group(1), match.group(2), match.group(3), match.group(4)
    pair = f"{base}/{quote}" + (f":{settle}" if settle else "")
    folder = path.parent.name if path.parent.name != "futures" else path.parent.parent.name
    exchange = folder if _EXCHANGE.match(folder) else None
    return exchange, pair, tf


def _read_freqtrade_json(path: Path) -> npt.NDArray[np.float64]:
    try:
        body = json.loads(path.read_text())
        table = np.asarray(body, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{path}: not a Freqtrade JSON candle file ({exc})", "give [[ms,o,h,l,c,v], ...]"
        ) from None
    if table.ndim != 2 or table.shape[1] < 6 or table.shape[0] == 0:
        raise InputError(f"{path}: expected rows of [ms, open, high, low, close, volume]", "check the file")
    return table[:, :6]


def _read_feather(path: Path) -> npt.NDArray[np.float64]:
    feather = _pa("feather")
    try:
        table = feather.read_table(path)
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise InputError(
            f"{path}: not a feather file ({type(exc).__name__})", "give Freqtrade's .feather"
        ) from None
    names = set(table.column_names)
    if not {"date", "open", "high", "low", "close", "volume"} <= names:
        raise InputError(
            f"{path}: columns {sorted(names)}", "Freqtrade's feather has date,open,high,low,close,volume"
        )
    dates = table.column("date").to_numpy()
    ms = (
        dates.astype("datetime64[ms]").astype(np.int64)
        if np.issubdtype(dates.dtype, np.datetime64)
        else dates
    )
    cols = [np.asarray(ms, dtype=np.float64)]
    cols += [
        table.column(c).to_numpy().astype(np.float64) for c in ("open", "high", "low", "close", "volume")
    ]
    return np.column_stack(cols)


def _to_csv_checked(path: Path, table: npt.NDArray[np.float64], timeframe: str | None) -> Candles:
    """Run the engine's own file checks on rows read from another format (written to a temp CSV)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / (path.name + ".csv")
        np.savetxt(
            csv, table, delimiter=",", header=",".join(COLUMNS), comments="", fmt=["%d"] + ["%.12g"] * 5
        )
        candles = load_candles(csv, timeframe=timeframe)
    return candles


def import_file(
    root: Path,
    path: Path,
    *,
    exchange: str | None = None,
    pair: str | None = None,
    timeframe: str | None = None,
    allow_gaps: bool = False,
) -> ImportReport:
    """Store a candle CSV, Freqtrade feather or Freqtrade JSON file; checks every row before writing."""
    guess_exchange, guess_pair, guess_tf = guess_from_name(path)
    exchange = exchange or guess_exchange
    pair = pair or guess_pair
    timeframe = timeframe or guess_tf
    if exchange is None:
        raise InputError(
            f"cannot tell the exchange of {path.name}", "pass --exchange (e.g. binance)", field="--exchange"
        )
    if pair is None:
        raise InputError(
            f"cannot tell the pair of {path.name}", "pass --pair (e.g. BTC/USDT)", field="--pair"
        )
    check_exchange(exchange)
    check_pair(pair)
    if not path.is_file():
        raise InputError(f"{path}: no such file", "check the path", field="FILE")
    suffix = path.suffix.lower()
    if suffix == ".feather":
        candles = _to_csv_checked(path, _read_feather(path), timeframe)
    elif suffix == ".json":
        candles = _to_csv_checked(path, _read_freqtrade_json(path), timeframe)
    elif suffix == ".csv":
        candles = load_candles(path, timeframe=timeframe)
    else:
        raise InputError(f"{path.name}: unknown file type {suffix!r}", "give a .csv, .feather or .json file")
    gaps = find_gaps(candles.time, candles.timeframe_ms)
    if gaps and not allow_gaps:
        first, last = gaps[0]
        raise InputError(
            f"{path} has {len(gaps)} gap(s) in its {candles.timeframe} candles; the first: no candles from "
            f"{iso(first)} to {iso(last)}",
            "fill the gap from another source, or pass --allow-gaps to store it with the gaps recorded",
            field="FILE",
        )
    folder, manifest = _open_series(root, exchange, pair, candles.timeframe, f"import {path.name}")
    if manifest.timeframe_ms != candles.timeframe_ms:
        raise InputError(f"{folder} holds {manifest.timeframe} candles", "import into the matching timeframe")
    table = np.column_stack(
        [
            candles.time.astype(np.float64),
            candles.open,
            candles.high,
            candles.low,
            candles.close,
            candles.volume,
        ]
    )
    # replace what the file covers; keep stored chunks outside it
    lo, hi = int(candles.time[0]), int(candles.time[-1])
    kept = [c for c in manifest.chunks if int(c["last"]) < lo or int(c["first"]) > hi]
    overlapping = [c for c in manifest.chunks if c not in kept]
    if overlapping:
        rows = read_rows(
            folder, Manifest(exchange, pair, manifest.timeframe, manifest.timeframe_ms, overlapping)
        )
        outside = rows[(rows[:, 0] < lo) | (rows[:, 0] > hi)]
        table = np.concatenate([outside, table])
        table = table[np.argsort(table[:, 0], kind="stable")]
        manifest.chunks = kept
    for start in range(0, table.shape[0], CHUNK_CANDLES * 10):
        _add_chunk(folder, manifest, table[start : start + CHUNK_CANDLES * 10])
    for stale in overlapping:
        if all(c["file"] != stale["file"] for c in manifest.chunks):
            (folder / stale["file"]).unlink(missing_ok=True)
    manifest.gaps = _merge_gaps(
        [g for g in manifest.gaps if g[1] < lo or g[0] > hi] + [list(g) for g in gaps]
    )
    write_manifest(folder, manifest)
    return ImportReport(exchange, pair, manifest.timeframe, len(candles), lo, hi, folder)


# ---- list, check, load -----------------------------------------------------------------------------


def series(root: Path) -> Iterator[tuple[Path, Manifest]]:
    """Every stored series (folder, manifest), sorted by exchange, pair, timeframe."""
    if not root.is_dir():
        return
    for path in sorted(root.glob(f"*/*/*/{MANIFEST}")):
        manifest = read_manifest(path.parent)
        if manifest is not None and manifest.chunks:
            yield path.parent, manifest


def find_gaps(time: npt.NDArray[np.int64], tf: int) -> list[tuple[int, int]]:
    """Missing candle spans [first missing, last missing] between stored candles."""
    steps = np.diff(time)
    where = np.flatnonzero(steps > tf)
    return [(int(time[i]) + tf, int(time[i + 1]) - tf) for i in where]


@dataclass
class CheckReport:
    """Problems in one series: gaps, duplicated times, price outliers, broken rows."""

    exchange: str
    pair: str
    timeframe: str
    rows: int
    gaps: list[tuple[int, int]]
    duplicates: list[int]
    outliers: list[int]
    invalid: list[int]
    timeframe_ms: int = 60_000

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not (self.gaps or self.duplicates or self.outliers or self.invalid)

    def to_json(self) -> dict[str, Any]:
        """The `data check --json` entry of this series."""
        return {
            "exchange": self.exchange,
            "pair": self.pair,
            "timeframe": self.timeframe,
            "candles": self.rows,
            "ok": self.ok,
            "gaps": [
                {"from": iso(a), "to": iso(b), "missing": (b - a) // self.timeframe_ms + 1}
                for a, b in self.gaps
            ],
            "duplicates": [iso(t) for t in self.duplicates],
            "outliers": [iso(t) for t in self.outliers],
            "invalid": [iso(t) for t in self.invalid],
        }


def check_series(folder: Path, manifest: Manifest) -> CheckReport:
    """Gaps, duplicate times, outlier moves (robust z-score of log returns) and broken OHLC rows."""
    rows = read_rows(folder, manifest)
    time = rows[:, 0].astype(np.int64)
    unique_time, counts = np.unique(time, return_counts=True)
    duplicates = [int(t) for t in unique_time[counts > 1]]
    gaps = find_gaps(unique_time, manifest.timeframe_ms)
    o, h, low, c = rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
    broken = ~np.isfinite(rows[:, 1:5]).all(axis=1) | (rows[:, 1:5] <= 0).any(axis=1)
    broken |= (h < low) | (o > h) | (c > h) | (o < low) | (c < low)
    invalid = [int(t) for t in time[broken]]
    outliers: list[int] = []
    good = c[~broken]
    if good.size > 10:
        moves = np.diff(np.log(good))
        median = float(np.median(moves))
        spread = float(np.median(np.abs(moves - median))) * 1.4826
        if spread > 0:
            far = np.flatnonzero(np.abs(moves - median) > OUTLIER_SIGMA * spread)
            outliers = [int(t) for t in time[~broken][far + 1]]
    return CheckReport(
        manifest.exchange,
        manifest.pair,
        manifest.timeframe,
        len(time),
        gaps,
        duplicates,
        outliers,
        invalid,
        manifest.timeframe_ms,
    )


def find_series(root: Path, exchange: str, pair: str, timeframe: str) -> tuple[Path, Manifest]:
    """The stored series, or a NotFoundError saying how to get it."""
    folder = series_dir(root, exchange, pair, timeframe)
    manifest = read_manifest(folder)
    if manifest is None or not manifest.chunks:
        raise NotFoundError(
            f"no {timeframe} candles of {pair} on {exchange} are stored",
            f"run `tradewarden data download --exchange {exchange} --pair {pair} --timeframe {timeframe} "
            "--since YYYY-MM-DD` first",
        )
    return folder, manifest


def load(
    root: Path,
    exchange: str,
    pair: str,
    timeframe: str,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    allow_gaps: bool = False,
) -> Candles:
    """Stored candles as `Candles` (engine-ready); refuses duplicates, and gaps unless allowed."""
    folder, manifest = find_series(root, exchange, pair, timeframe)
    rows = read_rows(folder, manifest)
    if since_ms is not None:
        rows = rows[rows[:, 0] >= since_ms]
    if until_ms is not None:
        rows = rows[rows[:, 0] <= until_ms]
    if rows.shape[0] == 0:
        raise NotFoundError(
            f"no stored {pair} candles in that period", "download it or widen --since/--until"
        )
    time = rows[:, 0].astype(np.int64)
    if np.any(np.diff(time) == 0):
        raise InputError(
            f"{folder} holds duplicate candles", "run `tradewarden data check` and re-import the series"
        )
    gaps = find_gaps(time, manifest.timeframe_ms)
    if gaps and not allow_gaps:
        raise InputError(
            f"{pair} {timeframe} on {exchange} has {len(gaps)} gap(s); the first: no candles from "
            f"{iso(gaps[0][0])} to {iso(gaps[0][1])}",
            "pick a period without gaps (--since), or pass --allow-gaps",
        )
    from tradewarden.services.backtest.candles import from_arrays

    candles = from_arrays(
        time,
        rows[:, 1],
        rows[:, 2],
        rows[:, 3],
        rows[:, 4],
        timeframe_ms=manifest.timeframe_ms,
        source=str(folder),
    )
    return Candles(
        candles.source,
        candles.timeframe_ms,
        candles.time,
        candles.open,
        candles.high,
        candles.low,
        candles.close,
        np.ascontiguousarray(rows[:, 5]),
        pair,
    )


def candle_gaps(candles: Candles) -> list[tuple[int, int]]:
    """Gaps in candles already loaded (a --data file)."""
    return find_gaps(candles.time, candles.timeframe_ms)
