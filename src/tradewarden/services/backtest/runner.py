"""Backtest entry points: check a request, parse settings through the domain, pick and run an engine.

`run_reference` and `run_fast` are the functions other parts (the CLI, sweeps, benchmarks) call; both
return a `BacktestResult` whose `to_json()` is the `backtest run --json` contract object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from tradewarden.domain.fills import Fees, MarketRules
from tradewarden.domain.strategies.base import Context, SettingsError, parse_set_args
from tradewarden.services.backtest import engine, fast, freqtrade, indicators, results
from tradewarden.services.backtest.candles import Candles, check_pair, load_candles
from tradewarden.services.backtest.results import BacktestResult, Fills, summarize
from tradewarden.services.errors import InputError

STRATEGY_NAMES = ("dca", "grid")
FILLS = ("ours", "freqtrade")
ENGINES = ("auto", "fast", "reference")
Progress = engine.Progress


@dataclass(frozen=True)
class BacktestRequest:
    """What the user asked for, before any file is read."""

    strategy: str
    values: Mapping[str, object]
    fills: str = "ours"
    engine: str = "auto"
    risk: str | None = None
    margin_limit: Decimal | None = None
    recovery: bool | None = None
    pair: str | None = None
    fees: Fees = field(default_factory=Fees)
    rules: MarketRules = field(default_factory=MarketRules)


def parse_set(items: Sequence[str]) -> dict[str, str]:
    """`--set KEY=VALUE` strings as a dict; a malformed or repeated one is an InputError."""
    try:
        return parse_set_args(list(items))
    except SettingsError as exc:
        raise InputError(str(exc), "write --set KEY=VALUE, each key once", field="--set") from None


def check_request(request: BacktestRequest) -> None:
    """Refuse an unknown strategy, fill convention, engine or pair before reading any file."""
    if request.strategy not in STRATEGY_NAMES:
        raise InputError(f"unknown strategy {request.strategy!r}", "use dca or grid", field="--strategy")
    if request.fills not in FILLS:
        raise InputError(
            f"unknown fill convention {request.fills!r}", "use ours or freqtrade", field="--fills"
        )
    if request.engine not in ENGINES:
        raise InputError(f"unknown engine {request.engine!r}", "use fast or reference", field="--fast")
    if request.fills == "freqtrade" and request.strategy != "dca":
        raise InputError(
            "--fills freqtrade reproduces Freqtrade's DCA backtests only",
            "use --fills ours for grid",
            field="--fills",
        )
    if request.pair is not None:
        check_pair(request.pair)


def load(path: Path, *, timeframe: str | None = None, pair: str | None = None) -> Candles:
    """Load and check a candle file (see candles.load_candles)."""
    return load_candles(path, timeframe=timeframe, pair=pair)


def context_for(request: BacktestRequest) -> Context:
    """The domain Context of a request: futures when the pair has a settle currency (BTC/USDT:USDT)."""
    market: Literal["spot", "futures"] = "futures" if request.pair and ":" in request.pair else "spot"
    return Context(
        market=market,
        risk=request.risk,
        margin_limit=request.margin_limit,
        recovery=request.recovery,
        fees=request.fees,
        rules=request.rules,
    )


def strategy_object(name: str) -> Any:
    """The domain strategy called `name` (the Strategy protocol of domain/strategies/base.py)."""
    if name == "dca":
        from tradewarden.domain.strategies.dca import DCA

        return DCA
    if name == "grid":
        from tradewarden.domain.strategies.grid import GRID

        return GRID
    raise InputError(f"unknown strategy {name!r}", "use dca or grid", field="--strategy")


def parse_settings(name: str, values: Mapping[str, object], context: Context) -> tuple[Any, Any]:
    """The strategy object and its parsed settings; a SettingsError becomes an InputError."""
    strategy = strategy_object(name)
    try:
        return strategy, strategy.parse(values, context)
    except SettingsError as exc:
        raise InputError(
            str(exc), "fix the --set value (see `tradewarden backtest run --help`)", field="--set"
        ) from None


def _capital(settings: Any) -> float:
    worst = getattr(settings, "worst_case_margin", None)
    if worst is None:
        worst = getattr(settings, "capital", None)
    return float(worst) if worst is not None else 0.0


def run_reference(
    candles: Candles,
    strategy: str,
    settings: Mapping[str, object],
    fills: str = "ours",
    *,
    context: Context | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Replay with the Decimal reference engine (`fills="ours"`) or Freqtrade's rules (`"freqtrade"`)."""
    context = context or Context()
    obj, parsed = parse_settings(strategy, settings, context)
    leverage = float(getattr(parsed, "leverage", 1))
    if fills == "freqtrade":
        rules = freqtrade_rules(parsed)
        ft = freqtrade.run_freqtrade_reference(candles, rules)
        return summarize(
            strategy=strategy,
            fills_convention=fills,
            engine="reference",
            candles=candles,
            fills=ft.fills,
            counts=(ft.trades, ft.wins, ft.losses, ft.groups, ft.addons_max),
            recovery_candles=0,
            capital=_capital(parsed),
            max_margin_used=float(ft.max_margin_used) / leverage,
            seconds=ft.seconds,
        )
    feed = indicators.feed_for(parsed, candles)
    replay = engine.replay(obj, parsed, candles, context.fees, progress=progress, feed=feed)
    final = obj.snapshot(parsed, replay.state, None)
    rows = [
        (
            f.candle,
            _kind(f),
            1 if f.side == "buy" else -1,
            float(f.price),
            float(f.amount),
            float(f.fee),
            f.group,
            float(f.realized_delta),
        )
        for f in replay.fills
    ]
    # groups whose base order filled (an order rounded to nothing by the lot size opens none)
    groups = int(getattr(replay.state, "groups_opened", 0))
    if strategy == "grid":
        groups = 1 if replay.fills else 0
    return summarize(
        strategy=strategy,
        fills_convention=fills,
        engine="reference",
        candles=candles,
        fills=Fills.from_rows(rows),
        counts=(final.trades, final.wins, final.losses, groups, final.addons_max),
        recovery_candles=replay.recovery_candles,
        capital=_capital(parsed),
        max_margin_used=float(replay.max_margin_used),
        seconds=replay.seconds,
    )


def _kind(row: engine.FillRow) -> int:
    """The results kind of a reference fill, from its tag (dca.py and grid.py name their orders)."""
    if row.tag.startswith("dca-"):
        if "-base" in row.tag:
            return results.BASE
        if "-addon" in row.tag:
            return results.ADDON
        return results.STOP_LOSS if row.exit_why == "stop_loss" else results.TAKE_PROFIT
    if "-init-" in row.tag:
        return results.INVENTORY
    return results.GRID_BUY if row.side == "buy" else results.GRID_SELL


def freqtrade_rules(parsed: Any) -> freqtrade.FtRules:
    """Freqtrade's view of parsed DCA settings; refuses what Freqtrade's DCA cannot express."""
    refuse = []
    if parsed.side != "long":
        refuse.append("side=short")
    if parsed.leverage != 1:
        refuse.append("leverage")
    if parsed.entry.kind != "now":
        refuse.append(f"entry={parsed.entry.text()}")
    if parsed.trailing_pct is not None:
        refuse.append("trailing_pct")
    if parsed.recovery:
        refuse.append("Recovery Mode (use --no-recovery)")
    if parsed.addon_min_improvement_pct != 0:
        refuse.append("addon_min_improvement_pct")
    if parsed.cooldown_s:
        refuse.append("cooldown_s")
    if parsed.stop_loss_pct is not None and parsed.stop_loss_from != "first":
        refuse.append("stop_loss_from=average")
    if refuse:
        raise InputError(
            "--fills freqtrade reproduces Freqtrade's DCA rules only; not supported: " + ", ".join(refuse),
            "drop those settings or use --fills ours",
            field="--fills",
        )
    hundred = Decimal(100)
    return freqtrade.FtRules(
        base_order=parsed.base_order,
        addon_orders=tuple(lv.quote for lv in parsed.levels),
        addon_deviations=tuple(lv.deviation_pct / hundred for lv in parsed.levels),
        take_profit=parsed.take_profit_pct / hundred,
        stop_loss=parsed.stop_loss_pct / hundred if parsed.stop_loss_pct is not None else None,
        fee=parsed.fees.taker,
        lot_size=parsed.rules.lot_size,
        tick_size=parsed.rules.tick_size,
    )


def run_fast(
    candles: Candles,
    strategy: str,
    settings: Mapping[str, object],
    fills: str = "ours",
    *,
    context: Context | None = None,
) -> BacktestResult:
    """Run the numba fast path; an InputError says why when it does not cover these settings."""
    context = context or Context()
    _, parsed = parse_settings(strategy, settings, context)
    if fills == "freqtrade":
        rules = freqtrade_rules(parsed)
        return fast.run_freqtrade(candles, rules, capital=_capital(parsed))
    why = fast.unsupported(strategy, parsed)
    if why is not None:
        raise InputError(f"the fast path does not cover {why}", "use --reference", field="--fast")
    return fast.run_ours(candles, strategy, parsed, capital=_capital(parsed))


def run(request: BacktestRequest, candles: Candles, progress: Progress | None = None) -> BacktestResult:
    """Run a checked request: the fast path when it covers the settings (or was asked for)."""
    context = context_for(request)
    _, parsed = parse_settings(request.strategy, request.values, context)
    use_fast = request.engine == "fast"
    if request.engine == "auto":
        use_fast = request.fills == "freqtrade" or fast.unsupported(request.strategy, parsed) is None
    if use_fast:
        return run_fast(candles, request.strategy, request.values, request.fills, context=context)
    return run_reference(
        candles, request.strategy, request.values, request.fills, context=context, progress=progress
    )
