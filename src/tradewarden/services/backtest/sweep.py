"""Parameter sweeps on Dask: many settings over one candle series, one fast-path backtest per task.

The interface other parts call (the CLI, the API, the dashboard):

    from tradewarden.services.backtest.sweep import SweepRequest, parse_grid, run_sweep

    axes = parse_grid("dca", ["take_profit_pct=0.5..3:0.5", "addon_deviation_pct=1,2,3"])
    request = SweepRequest(strategy="dca", base={"base_order": "100", ...}, axes=axes,
                           objective="sharpe", trials=None, walk_forward=None, scheduler=None)
    result = run_sweep(candles, request, progress=lambda done, total: ...)
    result.to_json()            # the `backtest sweep --json` object of DESIGN.md
    result.write_parquet(path)  # one row per setting: the axes, the run fields, the error if any

- Grid mode (`trials=None`): every combination of the axes. Optuna mode (`trials=N`): N settings chosen by
  Optuna's TPE sampler from the same axes, asked in batches as wide as the cluster.
- `scheduler=None` starts a `LocalCluster` (processes, loopback only, no dashboard) for the sweep and stops
  it afterwards; `scheduler="tcp://HOST:PORT"` uses that cluster and leaves it running.
- The candles are scattered once to every worker (broadcast), never shipped with each task.
- A task that fails (settings the strategy refuses, an engine error, a lost worker) lands in `failed` with
  its settings and the error; the sweep goes on.
- `walk_forward=F` runs every setting on the first F of the candles (in-sample, what the results are
  sorted by) and on the rest (`out_of_sample`, one more object in each result).
- `progress(done, total)` is called from the calling thread after each finished task.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tradewarden.services.backtest.candles import Candles
from tradewarden.services.errors import InputError

OBJECTIVES = ("sharpe", "return", "calmar")
MAX_SETTINGS = 1_000_000  # a grid beyond this is a typo, not a sweep
DEFAULT_WORKERS = 2
CONNECT_TIMEOUT_S = 10.0
Progress = Callable[[int, int], None]
_RANGE = re.compile(r"^\s*(.+?)\s*\.\.\s*([^:]+?)\s*:\s*(\S+)\s*$")
_ADDRESS = re.compile(r"^tcp://[A-Za-z0-9.\-]+:[0-9]{1,5}$")


@dataclass(frozen=True)
class Axis:
    """One swept setting and the values (as the strings `--set` would take) it runs through."""

    key: str
    values: tuple[str, ...]
    is_range: bool = False


@dataclass(frozen=True)
class SweepRequest:
    """What to sweep: a strategy, its fixed settings, the axes, and how to search and rank."""

    strategy: str
    base: Mapping[str, str]
    axes: Sequence[Axis]
    objective: str = "sharpe"
    trials: int | None = None
    max_drawdown_pct: float | None = None
    walk_forward: float | None = None
    fills: str = "ours"
    risk: str | None = None
    margin_limit: Decimal | None = None
    recovery: bool | None = None
    pair: str | None = None
    scheduler: str | None = None
    workers: int = DEFAULT_WORKERS
    seed: int = 0


@dataclass
class SweepResult:
    """Finished runs sorted by the objective (best first), and the settings that failed."""

    objective: str
    results: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0  # runs over --max-drawdown, left out of `results`
    workers: int = 0

    def to_json(self) -> dict[str, Any]:
        """Exactly the `backtest sweep --json` object: {"results": [...], "failed": [...]}."""
        return {"results": self.results, "failed": self.failed}

    def write_parquet(self, path: Path) -> None:
        """One row per setting (results, then failures): settings columns, run fields, `error`."""
        pa, pq = _module("pyarrow"), _module("pyarrow.parquet")

        rows: list[dict[str, Any]] = []
        for item in self.results:
            row = {f"set.{k}": v for k, v in item["settings"].items()}
            for key, value in item.items():
                if key == "settings":
                    continue
                if key == "out_of_sample":
                    row.update({f"oos.{k}": v for k, v in value.items()})
                else:
                    row[key] = value
            row["error"] = None
            rows.append(row)
        for item in self.failed:
            row = {f"set.{k}": v for k, v in item["settings"].items()}
            row["error"] = item["error"]
            rows.append(row)
        columns: list[str] = []
        for row in rows:
            columns.extend(c for c in row if c not in columns)
        table = pa.table({c: [row.get(c) for row in rows] for c in columns}) if rows else pa.table({})
        tmp = path.with_name(path.name + ".tmp")
        pq.write_table(table, tmp)
        tmp.replace(path)


def _module(name: str) -> Any:
    """Import an untyped third-party module (dask's distributed, pyarrow) as Any, on first use."""
    import importlib

    return importlib.import_module(name)


# ---- grid parsing ----------------------------------------------------------------------------------


def strategy_keys(strategy: str) -> tuple[str, ...]:
    """The setting names a strategy takes (DESIGN.md's `--set` keys)."""
    from tradewarden.services.backtest.runner import strategy_object

    keys: tuple[str, ...] = strategy_object(strategy).keys
    return keys


def _number(text: str, spec: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InputError(
            f"--grid {spec!r}: {text!r} is not a number",
            "write KEY=LO..HI:STEP, e.g. take_profit_pct=0.5..3:0.5",
        ) from None
    if not value.is_finite():
        raise InputError(f"--grid {spec!r}: {text!r} is not a finite number", "use plain numbers")
    return value


def _expand_range(spec: str, key: str, lo_text: str, hi_text: str, step_text: str) -> tuple[str, ...]:
    lo, hi, step = _number(lo_text, spec), _number(hi_text, spec), _number(step_text, spec)
    if step <= 0:
        raise InputError(f"--grid {spec!r}: step {step_text} must be above zero", f"e.g. {key}=0.5..3:0.5")
    if hi < lo:
        raise InputError(
            f"--grid {spec!r}: the range is empty ({lo_text} is above {hi_text})",
            f"write the low end first, e.g. {key}={hi_text}..{lo_text}:{step_text}",
        )
    count = int((hi - lo) / step) + 1
    if count > MAX_SETTINGS:
        raise InputError(f"--grid {spec!r}: {count:,} values", "use a larger step")
    # Decimal steps keep 0.1-style values exact (0.30000000000000004 would not be a valid --set value).
    return tuple(str(lo + step * i) for i in range(count))


def parse_grid(strategy: str, specs: Sequence[str]) -> list[Axis]:
    """`--grid` strings as axes: `KEY=V1,V2,...` or `KEY=LO..HI:STEP` (inclusive); refuses bad ones."""
    known = strategy_keys(strategy)
    axes: list[Axis] = []
    for spec in specs:
        key, sep, rest = spec.partition("=")
        key = key.strip()
        if not sep or not key or not rest.strip():
            raise InputError(
                f"--grid {spec!r} is not KEY=VALUES",
                "write KEY=V1,V2 or KEY=LO..HI:STEP, e.g. take_profit_pct=1,2",
            )
        if key not in known:
            raise InputError(
                f"--grid {spec!r}: unknown parameter {key!r} for {strategy}",
                "use one of: " + ", ".join(known),
            )
        if any(a.key == key for a in axes):
            raise InputError(f"--grid {key} is given twice", "give each parameter one --grid")
        match = _RANGE.match(rest) if ".." in rest else None
        if ".." in rest and match is None:
            raise InputError(f"--grid {spec!r}: a range needs a step", f"write {key}=LO..HI:STEP")
        if match is not None:
            values = _expand_range(spec, key, match.group(1), match.group(2), match.group(3))
            axes.append(Axis(key, values, is_range=True))
            continue
        values = tuple(v.strip() for v in rest.split(","))
        if any(not v for v in values):
            raise InputError(f"--grid {spec!r} has an empty value", f"write {key}=V1,V2 with no empty item")
        if len(set(values)) != len(values):
            raise InputError(f"--grid {spec!r} repeats a value", "give each value once")
        axes.append(Axis(key, values))
    if not axes:
        raise InputError("nothing to sweep", "give at least one --grid KEY=V1,V2 or KEY=LO..HI:STEP")
    return axes


def grid_size(axes: Sequence[Axis]) -> int:
    """How many settings the full grid holds."""
    return math.prod(len(a.values) for a in axes)


def expand(base: Mapping[str, str], axes: Sequence[Axis]) -> list[dict[str, str]]:
    """Every combination of the axes over the fixed settings (the last axis varies fastest)."""
    size = grid_size(axes)
    if size > MAX_SETTINGS:
        raise InputError(
            f"the grid holds {size:,} settings", f"keep it under {MAX_SETTINGS:,} or use --trials"
        )
    out: list[dict[str, str]] = []
    for combo in itertools.product(*(a.values for a in axes)):
        settings = dict(base)
        settings.update(zip((a.key for a in axes), combo, strict=True))
        out.append(settings)
    return out


# ---- the task a worker runs ------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """What a worker needs besides the candles: everything but the data, small to ship."""

    strategy: str
    fills: str
    risk: str | None
    margin_limit: Decimal | None
    recovery: bool | None
    pair: str | None
    split: int | None  # walk-forward: index of the first out-of-sample candle


def run_one(candles: Candles, spec: TaskSpec, settings: Mapping[str, str]) -> dict[str, Any]:
    """One backtest (fast path when it covers the settings): run fields, or {"error": ...} for a refusal."""
    from tradewarden.services.backtest import runner
    from tradewarden.services.errors import UserError

    request = runner.BacktestRequest(
        strategy=spec.strategy,
        values=dict(settings),
        fills=spec.fills,
        engine="auto",
        risk=spec.risk,
        margin_limit=spec.margin_limit,
        recovery=spec.recovery,
        pair=spec.pair,
    )
    try:
        if spec.split is None:
            return {"run": runner.run(request, candles).to_json()}
        inside = runner.run(request, candles.slice(0, spec.split)).to_json()
        outside = runner.run(request, candles.slice(spec.split, len(candles))).to_json()
        return {"run": inside, "out_of_sample": outside}
    except UserError as exc:
        return {"error": str(exc)}


# ---- ranking ---------------------------------------------------------------------------------------


def metric(run: Mapping[str, Any], objective: str) -> float:
    """The objective's figure of one run (higher is better); NaN when it has none (no trades, say)."""
    if objective == "sharpe":
        value = run.get("sharpe")
        return float(value) if value is not None else math.nan
    if objective == "return":
        return float(run["profit_pct"])
    if objective == "calmar":
        # return over the deepest drawdown; a run that never drew down ranks by its return alone
        drawdown = float(run["max_drawdown_pct"])
        profit = float(run["profit_pct"])
        return profit / drawdown if drawdown > 0 else (math.inf if profit > 0 else profit)
    raise InputError(f"unknown objective {objective!r}", "use " + " | ".join(OBJECTIVES), field="--objective")


def _sort_key(item: Mapping[str, Any], objective: str) -> tuple[int, float]:
    value = metric(item, objective)
    return (1, 0.0) if math.isnan(value) else (0, -value)


# ---- the cluster -----------------------------------------------------------------------------------


def check_scheduler(address: str) -> str:
    """A scheduler address must read tcp://HOST:PORT."""
    if not _ADDRESS.match(address):
        raise InputError(
            f"scheduler address {address!r} is not tcp://HOST:PORT",
            "e.g. --scheduler tcp://127.0.0.1:8786",
            field="--scheduler",
        )
    return address


@contextmanager
def cluster_client(scheduler: str | None, workers: int = DEFAULT_WORKERS) -> Iterator[Any]:
    """A Dask client: to `scheduler`, or to a LocalCluster started (and stopped) here."""
    dd = _module("distributed")
    Client, LocalCluster = dd.Client, dd.LocalCluster

    if scheduler is not None:
        check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"no Dask scheduler answers at {scheduler} ({type(exc).__name__})",
                "start one (`dask scheduler` and `dask worker ADDRESS`) or leave out --scheduler "
                "for a local cluster",
                field="--scheduler",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    if workers < 1:
        raise InputError(f"{workers} workers", "use 1 or more", field="--workers")
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # no dashboard; the scheduler's small HTTP server (health) still runs: a free loopback port,
        # never the fixed 8787, which a second sweep would fight over
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        silence_logs=40,  # logging.ERROR: worker chatter would tear the progress bar
    )
    client = Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


# ---- the sweep -------------------------------------------------------------------------------------


def _check(request: SweepRequest, candles: Candles) -> TaskSpec:
    from tradewarden.services.backtest import runner

    if request.objective not in OBJECTIVES:
        raise InputError(
            f"unknown objective {request.objective!r}", "use " + " | ".join(OBJECTIVES), field="--objective"
        )
    if request.trials is not None and request.trials < 1:
        raise InputError(f"--trials {request.trials}", "give 1 or more trials", field="--trials")
    if request.max_drawdown_pct is not None and not 0 < request.max_drawdown_pct <= 100:
        raise InputError(
            f"--max-drawdown {request.max_drawdown_pct}",
            "give a percentage above 0, at most 100",
            field="--max-drawdown",
        )
    if request.scheduler is not None:
        check_scheduler(request.scheduler)
    runner.check_request(
        runner.BacktestRequest(
            strategy=request.strategy, values=request.base, fills=request.fills, pair=request.pair
        )
    )
    clash = sorted(set(request.base) & {a.key for a in request.axes})
    if clash:
        raise InputError(
            f"{', '.join(clash)} is both fixed (--set) and swept (--grid)", "drop one of them", field="--grid"
        )
    split = None
    if request.walk_forward is not None:
        if not 0 < request.walk_forward < 1:
            raise InputError(
                f"--walk-forward {request.walk_forward}",
                "give the in-sample share as a fraction between 0 and 1, e.g. 0.7",
                field="--walk-forward",
            )
        split = int(len(candles) * request.walk_forward)
        if split < 2 or len(candles) - split < 2:
            raise InputError(
                f"--walk-forward {request.walk_forward} leaves a part under 2 candles",
                "use more candles or a fraction nearer 0.5",
                field="--walk-forward",
            )
    return TaskSpec(
        request.strategy,
        request.fills,
        request.risk,
        request.margin_limit,
        request.recovery,
        request.pair,
        split,
    )


def _collect(
    out: dict[str, Any], settings: Mapping[str, str], result: SweepResult, request: SweepRequest
) -> float | None:
    """File one task's answer under results, failed or rejected; the objective's figure if it ran."""
    if "error" in out:
        result.failed.append({"settings": dict(settings), "error": out["error"]})
        return None
    run = out["run"]
    if request.max_drawdown_pct is not None and float(run["max_drawdown_pct"]) > request.max_drawdown_pct:
        result.rejected += 1
        return None
    item: dict[str, Any] = {"settings": dict(settings), **run}
    if "out_of_sample" in out:
        item["out_of_sample"] = out["out_of_sample"]
    result.results.append(item)
    return metric(run, request.objective)


def _error_text(future: Any) -> str:
    try:
        exc = future.exception()
    except Exception as lost:  # a cancelled future raises here instead of handing its error over
        return f"{type(lost).__name__}: {lost}"
    return f"{type(exc).__name__}: {exc}"


def run_sweep(
    candles: Candles,
    request: SweepRequest,
    *,
    progress: Progress | None = None,
    client: Any | None = None,
) -> SweepResult:
    """Run the sweep on Dask and rank it; `client` reuses an existing distributed.Client."""
    spec = _check(request, candles)
    combos = expand(request.base, request.axes) if request.trials is None else []
    if client is not None:
        return _run(client, candles, request, spec, combos, progress)
    with cluster_client(request.scheduler, request.workers) as own:
        return _run(own, candles, request, spec, combos, progress)


def _run(
    client: Any,
    candles: Candles,
    request: SweepRequest,
    spec: TaskSpec,
    combos: list[dict[str, str]],
    progress: Progress | None,
) -> SweepResult:
    as_completed = _module("distributed").as_completed

    workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
    result = SweepResult(objective=request.objective, workers=workers)
    # broadcast: every worker holds the candles once; tasks name them by key
    data = client.scatter(candles, broadcast=True, hash=False)
    try:
        if request.trials is None:
            total = len(combos)
            futures = {client.submit(run_one, data, spec, s, pure=False, retries=0): s for s in combos}
            for done, future in enumerate(as_completed(futures, loop=client.loop), start=1):
                settings = futures[future]
                if future.status == "finished":
                    _collect(future.result(), settings, result, request)
                else:
                    result.failed.append({"settings": dict(settings), "error": _error_text(future)})
                if progress is not None:
                    progress(done, total)
        else:
            _optuna(client, data, request, spec, result, progress, workers)
    finally:
        client.cancel([data], force=True)
    result.results.sort(key=lambda item: _sort_key(item, request.objective))
    return result


def _optuna(
    client: Any,
    data: Any,
    request: SweepRequest,
    spec: TaskSpec,
    result: SweepResult,
    progress: Progress | None,
    workers: int,
) -> None:
    """Ask Optuna for settings a batch at a time (as wide as the cluster), run them, tell the figures."""
    import optuna

    as_completed = _module("distributed").as_completed

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=request.seed))
    assert request.trials is not None
    total = request.trials
    seen: dict[tuple[str, ...], float | None] = {}
    done = 0
    batch = max(2, workers * 2)
    while done < total:
        asked = []
        for _ in range(min(batch, total - done)):
            trial = study.ask()
            settings = dict(request.base)
            for axis in request.axes:
                if axis.is_range:  # an index keeps the order TPE learns from and the values exact
                    settings[axis.key] = axis.values[trial.suggest_int(axis.key, 0, len(axis.values) - 1)]
                else:
                    settings[axis.key] = trial.suggest_categorical(axis.key, list(axis.values))
            asked.append((trial, settings))
        fresh = {}
        for _trial, settings in asked:
            key = tuple(settings[a.key] for a in request.axes)
            if key not in seen and key not in fresh:
                fresh[key] = (settings, client.submit(run_one, data, spec, settings, pure=False))
        for _ in as_completed([f for _, f in fresh.values()], loop=client.loop):
            pass  # wait for the batch; each future is read below, in asking order
        for key, (settings, future) in fresh.items():
            if future.status == "finished":
                seen[key] = _collect(future.result(), settings, result, request)
            else:
                result.failed.append({"settings": dict(settings), "error": _error_text(future)})
                seen[key] = None
        for trial, settings in asked:
            value = seen[tuple(settings[a.key] for a in request.axes)]
            if value is None or math.isnan(value):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, min(value, 1e12))
            done += 1
            if progress is not None:
                progress(done, total)
