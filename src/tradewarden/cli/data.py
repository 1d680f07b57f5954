"""`tradewarden data download|import|list|check`: the candle store under TRADEWARDEN_HOME/data."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tradewarden.cli.common import err, out, print_json
from tradewarden.config import ensure_home, load_settings
from tradewarden.services.backtest import data as store
from tradewarden.services.backtest.candles import check_pair, parse_timeframe

app = typer.Typer(no_args_is_help=True, help="Candle data: download, import, list and check stored candles.")


def _root(create: bool = False) -> Path:
    home = load_settings().home_dir
    if create:  # only commands that write make the home; reading a missing store finds nothing
        ensure_home(home)
    return store.data_root(home)


def root_path() -> Path:
    """The candle store of this TRADEWARDEN_HOME (for `backtest run|sweep --exchange`); creates nothing."""
    return _root()


async def _download(
    endpoint: str | None, root: Path, args: tuple[str, str, str, int, int], bar: Progress | None
) -> store.DownloadReport:
    from tradewarden.adapters.market.hub import HubConfig, MarketHub

    exchange, pair, timeframe, since_ms, until_ms = args
    hub = MarketHub(HubConfig(endpoints={exchange: endpoint} if endpoint else {}))
    task = bar.add_task("download", total=1) if bar is not None else None

    def progress(done: int, total: int) -> None:
        if bar is not None and task is not None:
            bar.update(task, completed=done, total=total)

    try:
        return await store.download(
            hub, root, exchange, pair, timeframe, since_ms, until_ms, progress=progress
        )
    finally:
        await hub.close()


@app.command("download")
def download(
    exchange: str = typer.Option(..., "--exchange", help="Exchange id (ccxt's): binance, okx, kucoin ..."),
    pair: str = typer.Option(..., "--pair", help="Pair, ccxt spelling: BTC/USDT, BTC/USDT:USDT."),
    timeframe: str = typer.Option("1m", "--timeframe", help="1m, 5m, 1h, 1d ..."),
    since: str = typer.Option(..., "--since", help="First candle (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM."),
    until: str | None = typer.Option(
        None, "--until", help="Last candle (UTC); default: the last closed one."
    ),
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="Send requests here (the simulator, a proxy)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was done as one JSON object."),
) -> None:
    """Download candles through the market hub (rate budget respected); a rerun resumes where one stopped."""
    store.check_exchange(exchange)
    check_pair(pair)
    tf_ms = parse_timeframe(timeframe)
    since_ms = store.parse_date(since, "--since")
    until_ms = (
        store.parse_date(until, "--until") if until else int(time.time() * 1000) // tf_ms * tf_ms - tf_ms
    )
    root = _root(create=True)
    args = (exchange, pair, timeframe, since_ms, until_ms)
    with Progress(
        TextColumn(f"{escape(exchange)} {escape(pair)} {escape(timeframe)}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} candles"),
        TimeRemainingColumn(),
        console=err,
        disable=as_json,
    ) as bar:
        report = asyncio.run(_download(endpoint, root, args, bar))
    body = _report_json(report)
    if as_json:
        print_json(body)
        return
    if report.resumed_from_ms is not None:
        out.print(f"Resumed at {store.iso(report.resumed_from_ms)} (earlier candles were already stored)")
    out.print(
        f"{report.fetched:,} candles fetched in {report.pages} requests ({report.retries} retried); "
        f"{report.stored:,} stored for {escape(pair)} {escape(report.timeframe)} on {escape(exchange)}"
    )
    for first, last in report.gaps:
        out.print(f"[yellow]gap[/]: no candles from {store.iso(first)} to {store.iso(last)}")


def _report_json(report: store.DownloadReport) -> dict[str, Any]:
    return {
        "exchange": report.exchange,
        "pair": report.pair,
        "timeframe": report.timeframe,
        "since": store.iso(report.since_ms),
        "until": store.iso(report.until_ms),
        "resumed_from": store.iso(report.resumed_from_ms) if report.resumed_from_ms is not None else None,
        "fetched": report.fetched,
        "requests": report.pages,
        "retries": report.retries,
        "stored": report.stored,
        "gaps": [{"from": store.iso(a), "to": store.iso(b)} for a, b in report.gaps],
    }


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="Candle CSV, or Freqtrade's .feather / .json data file."),
    exchange: str | None = typer.Option(
        None, "--exchange", help="Exchange id (guessed from Freqtrade paths)."
    ),
    pair: str | None = typer.Option(None, "--pair", help="Pair (guessed from Freqtrade file names)."),
    timeframe: str | None = typer.Option(None, "--timeframe", help="Checked against the rows' spacing."),
    allow_gaps: bool = typer.Option(False, "--allow-gaps", help="Store a file with gaps (recorded as such)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was stored as one JSON object."),
) -> None:
    """Import candles into the store; every row is checked first, and a file with gaps is refused."""
    report = store.import_file(
        _root(create=True), file, exchange=exchange, pair=pair, timeframe=timeframe, allow_gaps=allow_gaps
    )
    body = {
        "exchange": report.exchange,
        "pair": report.pair,
        "timeframe": report.timeframe,
        "candles": report.rows,
        "from": store.iso(report.first_ms),
        "to": store.iso(report.last_ms),
    }
    if as_json:
        print_json(body)
        return
    out.print(
        f"Imported {report.rows:,} {escape(report.timeframe)} candles of {escape(report.pair)} "
        f"({escape(report.exchange)}) from {body['from']} to {body['to']}"
    )


def _list_json(folder: Path, manifest: store.Manifest) -> dict[str, Any]:
    first, last = manifest.first_ms, manifest.last_ms
    return {
        "exchange": manifest.exchange,
        "pair": manifest.pair,
        "timeframe": manifest.timeframe,
        "candles": manifest.rows,
        "from": store.iso(first) if first is not None else None,
        "to": store.iso(last) if last is not None else None,
        "chunks": len(manifest.chunks),
        "gaps": len(manifest.gaps),
        "path": str(folder),
    }


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """Stored candle series: exchange, pair, timeframe, period, candles."""
    rows = [_list_json(folder, manifest) for folder, manifest in store.series(_root())]
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("No candles stored yet: `tradewarden data download ...` or `tradewarden data import FILE`")
        return
    table = Table("exchange", "pair", "timeframe", "from", "to", "candles", "gaps")
    for row in rows:
        table.add_row(
            *(escape(str(row[k])) for k in ("exchange", "pair", "timeframe", "from", "to")),
            f"{row['candles']:,}",
            str(row["gaps"]),
        )
    out.print(table)


@app.command("check")
def check(
    exchange: str | None = typer.Option(None, "--exchange", help="Only this exchange."),
    pair: str | None = typer.Option(None, "--pair", help="Only this pair."),
    timeframe: str | None = typer.Option(None, "--timeframe", help="Only this timeframe."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one entry per series."),
) -> None:
    """Check stored series for gaps, duplicate candles, outlier moves and broken rows; exit 1 on any."""
    reports = [
        store.check_series(folder, manifest)
        for folder, manifest in store.series(_root())
        if (exchange is None or manifest.exchange == exchange)
        and (pair is None or manifest.pair == pair)
        and (timeframe is None or manifest.timeframe == timeframe)
    ]
    if as_json:
        print_json([r.to_json() for r in reports])
    else:
        if not reports:
            out.print("No stored series match")
        for r in reports:
            name = f"{escape(r.exchange)} {escape(r.pair)} {escape(r.timeframe)} ({r.rows:,} candles)"
            if r.ok:
                out.print(f"[green]ok[/] {name}")
                continue
            out.print(
                f"[red]problems[/] {name}: {len(r.gaps)} gap(s), {len(r.duplicates)} duplicate(s), "
                f"{len(r.outliers)} outlier(s), {len(r.invalid)} broken row(s)"
            )
            for first, last in r.gaps[:10]:
                out.print(f"  gap: no candles from {store.iso(first)} to {store.iso(last)}")
            for t in r.duplicates[:10]:
                out.print(f"  duplicate: {store.iso(t)}")
            for t in r.outliers[:10]:
                out.print(f"  outlier move at {store.iso(t)}")
    if any(not r.ok for r in reports):
        err.print("fix: re-download the affected period, or re-import a clean file")
        raise typer.Exit(1)
