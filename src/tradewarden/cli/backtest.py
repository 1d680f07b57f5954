"""`tradewarden backtest run`: replay candles through a strategy and print the figures (or JSON)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tradewarden.cli.common import err, out, print_json
from tradewarden.services.errors import InputError

if TYPE_CHECKING:
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
    if exchange is not None or since is not None:
        raise InputError(
            "downloading candles needs `tradewarden data download` (not available yet)",
            "pass --data FILE",
            field="--exchange",
        )
    if data is None:
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
    candles = runner.load(data, timeframe=timeframe, pair=pair)
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
