"""`tradewarden backtest run`: replay candles through a strategy and print the figures (or JSON)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tradewarden.cli.common import err, out, print_json
from tradewarden.services.errors import InputError

if TYPE_CHECKING:
    from tradewarden.services.backtest import sweep as sweeps_t
    from tradewarden.services.backtest.candles import Candles
    from tradewarden.services.backtest.results import BacktestResult

app = typer.Typer(
    no_args_is_help=True,
    help="Backtests: replay historical candles through a bot's settings.",
)

EXAMPLE = (
    "tradewarden backtest run --strategy dca --data btc-1m.csv --set base_order=100 --set addon_order=150 "
    "--set addon_count=3 --set addon_deviation_pct=2 --set addon_step_scale=1 --set addon_volume_scale=1.5 "
    "--set take_profit_pct=1 --set stop_loss_pct=8 --set stop_loss_from=first --json"
)
RUN_HELP = f"""Replay candles through a strategy; print trades, profit, drawdown, Sharpe (or --json).

The file is CSV: timestamp,open,high,low,close,volume (timestamp in ms, UTC, oldest first).
--fills ours follows TradeWarden's candle path (O-L-H-C up, O-H-L-C down); --fills freqtrade
reproduces Freqtrade's backtesting rules (DCA only). The fast path (numba) runs when it covers the
settings; --reference forces the Decimal reference engine.

Example (the DCA rules every benchmark uses):

{EXAMPLE}
"""


def _decimal_option(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise InputError(f"{value!r} is not a number", "give an amount such as 1000", field=name) from None
    if not parsed.is_finite() or parsed <= 0:
        raise InputError(f"{value!r} must be above zero", "give an amount such as 1000", field=name)
    return parsed


@app.command("run", help=RUN_HELP)
def run(
    strategy: str = typer.Option(..., "--strategy", help="dca or grid."),
    data: Path | None = typer.Option(None, "--data", help="Candle CSV file.", dir_okay=False),
    pair: str | None = typer.Option(None, "--pair", help="Pair, ccxt spelling: BTC/USDT, BTC/USDT:USDT."),
    timeframe: str | None = typer.Option(
        None, "--timeframe", help="1m, 5m, 1h, 1d ...; checked against the file's spacing."
    ),
    exchange: str | None = typer.Option(None, "--exchange", help="Download mode: exchange id."),
    since: str | None = typer.Option(None, "--since", help="Download mode: first date (YYYY-MM-DD)."),
    risk: str | None = typer.Option(None, "--risk", help="conservative | balanced | aggressive."),
    margin_limit: str | None = typer.Option(
        None, "--margin-limit", help="Refuse settings whose worst case commits more (quote currency)."
    ),
    recovery: bool | None = typer.Option(
        None, "--recovery/--no-recovery", help="Recovery Mode (default: on when a recovery key is set)."
    ),
    set_: list[str] = typer.Option([], "--set", help="Strategy setting KEY=VALUE (repeat)."),
    fills: str = typer.Option("ours", "--fills", help="ours | freqtrade."),
    fast: bool | None = typer.Option(
        None, "--fast/--reference", help="Engine: fast path (numba) or the Decimal reference engine."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    report: Path | None = typer.Option(None, "--report", help="Also write an HTML report here."),
    png: Path | None = typer.Option(None, "--png", help="Also write the equity curve as a PNG here."),
) -> None:
    # Imported here: numba takes a moment to load, and other commands should not pay for it.
    from tradewarden.services.backtest import runner
    from tradewarden.services.backtest.candles import check_pair
    from tradewarden.services.backtest.report import write_png, write_report

    if pair is not None:
        check_pair(pair)
    if data is None and exchange is None:
        raise InputError("no candles given", "pass --data FILE (a candle CSV)", field="--data")
    if report is not None and report.suffix.lower() not in {".html", ".htm"}:
        raise InputError(f"report file {str(report)!r} must end in .html", "e.g. --report run.html")
    if report is not None and not report.resolve().parent.is_dir():
        raise InputError(f"folder of {str(report)!r} does not exist", "create it first", field="--report")
    if png is not None and png.suffix.lower() != ".png":
        raise InputError(f"image file {str(png)!r} must end in .png", "e.g. --png equity.png", field="--png")
    if png is not None and not png.resolve().parent.is_dir():
        raise InputError(f"folder of {str(png)!r} does not exist", "create it first", field="--png")
    request = runner.BacktestRequest(
        strategy=strategy,
        values=runner.parse_set(set_),
        fills=fills,
        engine="auto" if fast is None else ("fast" if fast else "reference"),
        risk=risk,
        margin_limit=_decimal_option(margin_limit, "--margin-limit"),
        recovery=recovery,
        pair=pair,
    )
    runner.check_request(request)
    candles = stored_candles(data, exchange, pair, timeframe, since, None, allow_gaps=True)
    if as_json:
        result = runner.run(request, candles)
    else:
        with Progress(
            TextColumn("backtest"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f} candles"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task("replay", total=len(candles))
            result = runner.run(request, candles, progress=lambda done: bar.update(task, completed=done))
    if report is not None:
        write_report(report, result, candles, request.values, context=runner.context_for(request))
    if png is not None:
        write_png(png, result)
    if as_json:
        print_json(result.to_json())
        return
    _print_human(result, report)


def _print_human(result: BacktestResult, report: Path | None) -> None:
    body = result.to_json()
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key in ("strategy", "fills", "candles", "from", "to", "trades", "wins", "losses", "groups"):
        table.add_row(key, escape(str(body[key])))
    table.add_row("addons_max", str(body["addons_max"]))
    table.add_row("profit", f"{result.profit:,.2f} ({result.profit_pct:+.2f} % of {result.capital:,.2f})")
    table.add_row("annualised return", f"{result.annualised_return_pct:+.2f} %")
    table.add_row("fees", f"{result.fees:,.2f}")
    table.add_row("max drawdown", f"{result.max_drawdown_pct:.2f} %")
    table.add_row("max margin used", f"{result.max_margin_used:,.2f}")
    table.add_row("time in Recovery Mode", f"{result.recovery_time_pct:.2f} %")
    table.add_row("sharpe", f"{result.sharpe:.2f}")
    table.add_row("engine", f"{result.engine}, {result.candles_per_s:,.0f} candles/s")
    out.print(table)
    if report is not None:
        out.print(f"Report written to {escape(str(report))}")


# ---- candles from a file or from the store (`data download`) -----------------------------------------


def stored_candles(
    data: Path | None,
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    since: str | None,
    until: str | None,
    *,
    allow_gaps: bool,
) -> Candles:
    """Candles of --data FILE, or of --exchange/--pair/--timeframe/--since from the candle store."""
    from tradewarden.cli.data import root_path
    from tradewarden.services.backtest import data as store
    from tradewarden.services.backtest.candles import load_candles

    if data is not None and exchange is not None:
        raise InputError("both --data and --exchange given", "use one source of candles", field="--data")
    if data is not None:
        candles = load_candles(data, timeframe=timeframe, pair=pair)
        gaps = store.candle_gaps(candles)
        if gaps and not allow_gaps:
            raise InputError(
                f"{data} has {len(gaps)} gap(s); the first: no candles from {store.iso(gaps[0][0])} to "
                f"{store.iso(gaps[0][1])}",
                "fill it (see `tradewarden data check`), cut the file before it, or pass --allow-gaps",
                field="--data",
            )
        return candles
    missing = [n for n, v in (("--pair", pair), ("--timeframe", timeframe), ("--since", since)) if v is None]
    if exchange is None or missing:
        raise InputError(
            "candles from the store need --exchange, --pair, --timeframe and --since",
            "add " + ", ".join(missing or ["--exchange"]) + " (or pass --data FILE)",
            field="--exchange",
        )
    assert pair is not None and timeframe is not None and since is not None
    return store.load(
        root_path(),
        exchange,
        pair,
        timeframe,
        since_ms=store.parse_date(since, "--since"),
        until_ms=store.parse_date(until, "--until") if until else None,
        allow_gaps=allow_gaps,
    )


# ---- sweep --------------------------------------------------------------------------------------------

SWEEP_HELP = """Run many settings over the same candles on Dask; print them ranked (or --json, --parquet).

--grid KEY=V1,V2,... or KEY=LO..HI:STEP (inclusive), repeated: every combination runs; --set fixes the
other settings. --trials N lets Optuna pick N settings from the same axes instead, maximising
--objective (sharpe | return | calmar = annualised return / max drawdown). --max-drawdown X leaves out
runs that fell more than X %. --walk-forward 0.7 ranks on the first 70 % of the candles and also runs
each setting on the last 30 % (out_of_sample). A LocalCluster on 127.0.0.1 (--workers processes) runs
the sweep unless --scheduler tcp://HOST:PORT names a running Dask scheduler.

Example:

tradewarden backtest sweep --strategy dca --data btc-1m.csv --set base_order=100 --set addon_order=150
  --set addon_count=3 --set addon_step_scale=1 --set addon_volume_scale=1.5 --set stop_loss_pct=8
  --grid addon_deviation_pct=1,2,3 --grid take_profit_pct=0.5..3:0.5 --objective sharpe
"""


@app.command("sweep", help=SWEEP_HELP)
def sweep(
    strategy: str = typer.Option(..., "--strategy", help="dca or grid."),
    data: Path | None = typer.Option(None, "--data", help="Candle CSV file.", dir_okay=False),
    exchange: str | None = typer.Option(None, "--exchange", help="Stored candles: exchange id."),
    pair: str | None = typer.Option(None, "--pair", help="Pair, ccxt spelling."),
    timeframe: str | None = typer.Option(None, "--timeframe", help="1m, 5m, 1h ..."),
    since: str | None = typer.Option(None, "--since", help="Stored candles: first date (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Stored candles: last date."),
    allow_gaps: bool = typer.Option(False, "--allow-gaps", help="Accept candles with gaps."),
    set_: list[str] = typer.Option([], "--set", help="Fixed setting KEY=VALUE (repeat)."),
    grid: list[str] = typer.Option([], "--grid", help="Swept setting KEY=V1,V2 or KEY=LO..HI:STEP (repeat)."),
    trials: int | None = typer.Option(
        None, "--trials", help="Optuna: this many settings instead of the grid."
    ),
    objective: str = typer.Option("sharpe", "--objective", help="sharpe | return | calmar."),
    max_drawdown: float | None = typer.Option(None, "--max-drawdown", help="Leave out runs deeper than X %."),
    walk_forward: float | None = typer.Option(None, "--walk-forward", help="In-sample share, e.g. 0.7."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler tcp://HOST:PORT."),
    workers: int = typer.Option(2, "--workers", help="LocalCluster worker processes."),
    risk: str | None = typer.Option(None, "--risk", help="conservative | balanced | aggressive."),
    margin_limit: str | None = typer.Option(None, "--margin-limit", help="Margin limit (quote currency)."),
    recovery: bool | None = typer.Option(None, "--recovery/--no-recovery", help="Recovery Mode."),
    fills: str = typer.Option("ours", "--fills", help="ours | freqtrade."),
    seed: int = typer.Option(0, "--seed", help="Optuna's sampler seed."),
    top: int = typer.Option(20, "--top", help="Rows of the printed table."),
    as_json: bool = typer.Option(False, "--json", help='Print {"results": [...], "failed": [...]}.'),
    parquet: Path | None = typer.Option(None, "--parquet", help="Also write every run here (Parquet)."),
) -> None:
    """Sweep settings on Dask and rank them (see SWEEP_HELP)."""
    from tradewarden.services.backtest import runner
    from tradewarden.services.backtest import sweep as sweeps

    axes = sweeps.parse_grid(strategy, grid) if strategy in runner.STRATEGY_NAMES else []
    runner.check_request(runner.BacktestRequest(strategy=strategy, values={}, fills=fills, pair=pair))
    if scheduler is not None:
        sweeps.check_scheduler(scheduler)
    if parquet is not None and not parquet.resolve().parent.is_dir():
        raise InputError(f"folder of {str(parquet)!r} does not exist", "create it first", field="--parquet")
    request = sweeps.SweepRequest(
        strategy=strategy,
        base=runner.parse_set(set_),
        axes=axes,
        objective=objective,
        trials=trials,
        max_drawdown_pct=max_drawdown,
        walk_forward=walk_forward,
        fills=fills,
        risk=risk,
        margin_limit=_decimal_option(margin_limit, "--margin-limit"),
        recovery=recovery,
        pair=pair,
        scheduler=scheduler,
        workers=workers,
        seed=seed,
    )
    if request.trials is None:
        sweeps.expand(request.base, axes)  # refuse an oversized grid before loading anything
    candles = stored_candles(data, exchange, pair, timeframe, since, until, allow_gaps=allow_gaps)
    with Progress(
        TextColumn("sweep"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} settings"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task("sweep", total=None)
        result = sweeps.run_sweep(
            candles, request, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    if parquet is not None:
        result.write_parquet(parquet)
    if as_json:
        print_json(result.to_json())
        return
    _print_sweep(result, axes, top, parquet)


def _fmt(value: Any) -> str:
    """A table cell: floats to two decimals, a missing figure as a dash."""
    if value is None:
        return "-"
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def _print_sweep(result: sweeps_t.SweepResult, axes: list[Any], top: int, parquet: Path | None) -> None:
    keys = [a.key for a in axes]
    table = Table(
        title=f"best {min(top, len(result.results))} of {len(result.results)} by {result.objective}"
    )
    for key in keys:
        table.add_column(key)
    for name in ("profit_pct", "max_drawdown_pct", "sharpe", "trades", "addons_max", "max_margin_used"):
        table.add_column(name, justify="right")
    oos = bool(result.results) and "out_of_sample" in result.results[0]
    if oos:
        table.add_column("oos profit_pct", justify="right")
        table.add_column("oos sharpe", justify="right")
    for item in result.results[:top]:
        cells = [escape(str(item["settings"].get(k))) for k in keys]
        cells += [_fmt(item[n]) for n in ("profit_pct", "max_drawdown_pct", "sharpe", "trades", "addons_max")]
        cells.append(_fmt(item["max_margin_used"]))
        if oos:
            cells += [_fmt(item["out_of_sample"]["profit_pct"]), _fmt(item["out_of_sample"]["sharpe"])]
        table.add_row(*cells)
    out.print(table)
    if result.rejected:
        out.print(f"{result.rejected} run(s) left out: drawdown above --max-drawdown")
    for item in result.failed[:top]:
        shown = ", ".join(f"{k}={item['settings'].get(k)}" for k in keys)
        out.print(f"[red]failed[/] {escape(shown)}: {escape(item['error'])}")
    if parquet is not None:
        out.print(f"Every run written to {escape(str(parquet))}")
