"""Backtest and sweep jobs for the API: checked at submission, run in background threads, read by id.

The API's routes stay thin: they hand a request here and read a job's view back. A job keeps its candles
and result in memory (for the report) until it is among the oldest beyond `MAX_KEPT` finished ones.
Candles come from an uploaded CSV (inside the server's body limit) or the candle store (data.py).
Sweeps of `LOCAL_BELOW` settings or more use the Dask sweep (sweep.run_sweep, a LocalCluster per sweep);
smaller ones run the same tasks (sweep.run_one) one by one in the job's thread, ranked the same way.
The result says which ran (`backend`: dask | local).
"""

from __future__ import annotations

import math
import secrets
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from tradewarden.domain.strategies.dca import DESIGN_EXAMPLE
from tradewarden.domain.strategies.risk import PRESETS
from tradewarden.services.backtest.candles import Candles
from tradewarden.services.errors import InputError, NotFoundError, UserError

Kind = Literal["backtest", "sweep"]
Status = Literal["queued", "running", "done", "failed"]
MAX_KEPT = 50  # finished jobs kept in memory; the oldest beyond this are forgotten
MAX_QUEUED = 8  # jobs waiting or running at once; more is refused (the machine has few cores)
# Below this many settings a sweep runs one by one in the job's thread: starting a LocalCluster (worker
# processes, numba loading in each) takes longer than a few dozen fast-path runs.
LOCAL_BELOW = 50
MAX_SWEEP_SETTINGS = 2000  # a sweep from the dashboard; bigger ones belong to `backtest sweep`
OBJECTIVES = ("sharpe", "return", "calmar")

# The DESIGN.md example every benchmark uses: the form's starting values.
DCA_EXAMPLE = dict(DESIGN_EXAMPLE)
GRID_EXAMPLE = {"lower": "90", "upper": "110", "levels": "10", "spacing": "arithmetic", "order_amount": "50"}


@dataclass(frozen=True)
class DataSource:
    """Where the candles come from: CSV text (`csv`), with the pair and timeframe it holds (optional).
    With `exchange` (and pair and timeframe) instead of `csv`: that series of the candle store."""

    csv: str | None = None
    exchange: str | None = None
    pair: str | None = None
    timeframe: str | None = None


@dataclass(frozen=True)
class JobRequest:
    """A backtest (no `grid`) or a sweep (`grid`: `KEY=V1,V2` / `KEY=LO..HI:STEP` strings, as the CLI)."""

    strategy: str
    settings: Mapping[str, str]
    data: DataSource
    fills: str = "ours"
    risk: str | None = None
    margin_limit: str | None = None
    recovery: bool | None = None
    grid: Sequence[str] = ()
    objective: str = "sharpe"


@dataclass
class Job:
    """One submitted job and what it has produced so far."""

    id: str
    kind: Kind
    request: JobRequest
    status: Status = "queued"
    created: float = field(default_factory=time.time)
    finished: float | None = None
    done: int = 0
    total: int = 0
    error: str | None = None
    error_field: str | None = None
    result: dict[str, Any] | None = None
    candles: Candles | None = field(default=None, repr=False)
    backtest: Any = field(default=None, repr=False)  # the BacktestResult, for the report
    context: Any = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        """What the API returns: status, progress, the result once done, the error if failed."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.done / self.total, 4)
            if self.total
            else (1.0 if self.status == "done" else 0.0),
            "done": self.done,
            "total": self.total,
            "strategy": self.request.strategy,
            "settings": dict(self.request.settings),
            "grid": list(self.request.grid),
            "objective": self.request.objective if self.kind == "sweep" else None,
            "result": self.result,
            "error": self.error,
            "error_field": self.error_field,
        }


def stored_series(store_root: Path | None) -> list[dict[str, Any]]:
    """The candle store's series: exchange, pair, timeframe, first and last candle, rows, gaps."""
    if store_root is None:
        return []
    from tradewarden.services.backtest import data as store

    return [
        {
            "exchange": m.exchange,
            "pair": m.pair,
            "timeframe": m.timeframe,
            "first": store.iso(m.first_ms) if m.first_ms is not None else None,
            "last": store.iso(m.last_ms) if m.last_ms is not None else None,
            "rows": m.rows,
            "gaps": len(m.gaps),
        }
        for _folder, m in store.series(store_root)
    ]


def presets(store_root: Path | None = None) -> dict[str, Any]:
    """What the form offers: strategies with example settings, risk presets (as bots use them), fills,
    sweep objectives, and the candle store's series."""
    return {
        "strategies": {"dca": dict(DCA_EXAMPLE), "grid": dict(GRID_EXAMPLE)},
        "risk": [
            {
                "name": p.name,
                "summary": p.summary,
                "max_leverage": str(p.max_leverage),
                "values": {k: str(v) for k, v in p.values().items()},
            }
            for p in PRESETS.values()
        ],
        "fills": ["ours", "freqtrade"],
        "objectives": list(OBJECTIVES),
        "max_sweep_settings": MAX_SWEEP_SETTINGS,
        "stored": stored_series(store_root),
    }


def _margin_limit(text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InputError(
            f"margin limit {text!r} is not a number", "give an amount such as 1000", "margin_limit"
        ) from None
    if not value.is_finite() or value <= 0:
        raise InputError(
            f"margin limit {text!r} must be above zero", "give an amount such as 1000", "margin_limit"
        )
    return value


def load_data(source: DataSource, store_root: Path | None = None) -> Candles:
    """The candles of a request: an uploaded CSV checked like `backtest run --data`, or a series of the
    candle store under `store_root` (refused when it has gaps, as `backtest run` does)."""
    from tradewarden.services.backtest.candles import load_candles

    if source.csv is not None:
        if not source.csv.strip():
            raise InputError(
                "the uploaded candle file is empty", "choose a CSV with candles", field="data.csv"
            )
        with tempfile.TemporaryDirectory(prefix="tw-backtest-") as folder:
            path = Path(folder) / "upload.csv"
            path.write_text(source.csv, encoding="utf-8")
            try:
                return load_candles(path, timeframe=source.timeframe or None, pair=source.pair or None)
            except InputError as exc:  # name the upload, not the server's temporary folder
                message = exc.message.replace(str(path), "the uploaded CSV")
                raise InputError(message, exc.fix, field="data.csv") from None
    if source.exchange:
        from tradewarden.services.backtest import data as store

        if store_root is None:
            raise InputError(
                "this server has no candle store", "upload a candle CSV instead", "data.exchange"
            )
        if not source.pair or not source.timeframe:
            raise InputError(
                "a stored series needs its exchange, pair and timeframe",
                "pick one of /backtests/presets",
                "data",
            )
        return store.load(store_root, source.exchange, source.pair, source.timeframe)
    raise InputError(
        "no candles given", "upload a candle CSV (timestamp,open,high,low,close,volume)", field="data"
    )


class Jobs:
    """The server's jobs: submit, read, and the report of a finished backtest."""

    def __init__(
        self, local_below: int = LOCAL_BELOW, workers: int = 2, store_root: Path | None = None
    ) -> None:
        self.local_below = local_below
        self.store_root = store_root
        self._workers = workers
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        # Two threads: a sweep (which waits on its cluster) does not hold up a single backtest.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tw-backtest")

    def close(self) -> None:
        """Stop taking jobs; running ones finish in their threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- submission --------------------------------------------------------------------------------

    def submit(self, kind: Kind, request: JobRequest) -> Job:
        """Check the request (strategy, settings, grid, data) now; run it in the background."""
        from tradewarden.services.backtest import runner

        backtest = runner.BacktestRequest(
            strategy=request.strategy,
            values=dict(request.settings),
            fills=request.fills,
            risk=request.risk,
            margin_limit=_margin_limit(request.margin_limit),
            recovery=request.recovery,
            pair=request.data.pair or None,
        )
        runner.check_request(backtest)
        if request.risk is not None and request.risk not in PRESETS:
            raise InputError(
                f"unknown risk preset {request.risk!r}", "use " + " | ".join(PRESETS), field="risk"
            )
        context = runner.context_for(backtest)
        runner.parse_settings(request.strategy, backtest.values, context)  # refuse bad settings now
        combos: list[dict[str, str]] = []
        if kind == "sweep":
            combos = self._combos(request)
        candles = load_data(request.data, self.store_root)
        job = Job(id=secrets.token_hex(8), kind=kind, request=request, candles=candles, context=context)
        job.total = len(candles) if kind == "backtest" else len(combos)
        with self._lock:
            active = sum(1 for j in self._jobs.values() if j.status in ("queued", "running"))
            if active >= MAX_QUEUED:
                raise InputError(
                    f"{active} backtests are already waiting or running", "wait for one to finish", field=None
                )
            self._jobs[job.id] = job
            self._forget_old()
        if kind == "backtest":
            self._pool.submit(self._run_backtest, job, backtest)
        else:
            self._pool.submit(self._run_sweep, job, combos)
        return job

    def _combos(self, request: JobRequest) -> list[dict[str, str]]:
        from tradewarden.services.backtest import sweep

        if request.objective not in OBJECTIVES:
            raise InputError(
                f"unknown objective {request.objective!r}", "use " + " | ".join(OBJECTIVES), field="objective"
            )
        if not request.grid:
            raise InputError(
                "a sweep needs at least one grid axis", "e.g. take_profit_pct=0.5,1,1.5", field="grid"
            )
        axes = sweep.parse_grid(request.strategy, list(request.grid))
        size = sweep.grid_size(axes)
        if size > MAX_SWEEP_SETTINGS:
            raise InputError(
                f"the grid has {size} settings, more than {MAX_SWEEP_SETTINGS}",
                "narrow it, or run `tradewarden backtest sweep` on a cluster",
                field="grid",
            )
        return sweep.expand(_base(request, axes), axes)

    # -- running -----------------------------------------------------------------------------------

    def _finish(self, job: Job, result: dict[str, Any] | None, error: UserError | Exception | None) -> None:
        with self._lock:
            if error is None:
                job.status, job.result, job.done = "done", result, job.total
            else:
                job.status = "failed"
                if isinstance(error, UserError):
                    job.error = error.message + (f"; {error.fix}" if error.fix else "")
                    job.error_field = error.field
                else:  # an engine bug: say what kind, never a traceback
                    job.error = f"the backtest stopped on an internal error ({type(error).__name__})"
            job.finished = time.time()

    def _run_backtest(self, job: Job, request: Any) -> None:
        from tradewarden.services.backtest import runner

        job.status = "running"
        try:
            assert job.candles is not None
            result = runner.run(request, job.candles, progress=lambda done: setattr(job, "done", int(done)))
            job.backtest = result
            body = result.to_json()
            body["annualised_return_pct"] = round(result.annualised_return_pct, 4)
            body["equity"] = _equity_points(result, job.candles)
            self._finish(job, body, None)
        except Exception as exc:  # reported on the job, never lost in a thread
            self._finish(job, None, exc)

    def _run_sweep(self, job: Job, combos: list[dict[str, str]]) -> None:
        job.status = "running"
        try:
            assert job.candles is not None
            if len(combos) >= self.local_below:
                body = self._dask_sweep(job)
                body["backend"] = "dask"
            else:
                body = self._sequential_sweep(job, combos)
                body["backend"] = "local"
            self._finish(job, body, None)
        except Exception as exc:  # reported on the job
            self._finish(job, None, exc)

    def _dask_sweep(self, job: Job) -> dict[str, Any]:
        from tradewarden.services.backtest import sweep

        req = job.request
        axes = sweep.parse_grid(req.strategy, list(req.grid))
        request = sweep.SweepRequest(
            strategy=req.strategy,
            base=_base(req, axes),
            axes=axes,
            objective=req.objective,
            fills=req.fills,
            risk=req.risk,
            margin_limit=_margin_limit(req.margin_limit),
            recovery=req.recovery,
            pair=req.data.pair or None,
            workers=self._workers,
        )
        assert job.candles is not None
        result = sweep.run_sweep(
            job.candles, request, progress=lambda done, _total: setattr(job, "done", done)
        )
        body = result.to_json()
        body["objective"] = req.objective
        return body

    def _sequential_sweep(self, job: Job, combos: list[dict[str, str]]) -> dict[str, Any]:
        """The same settings one by one in this thread (sweep.run_one per setting), ranked alike."""
        from tradewarden.services.backtest import sweep

        req = job.request
        spec = sweep.TaskSpec(
            strategy=req.strategy,
            fills=req.fills,
            risk=req.risk,
            margin_limit=_margin_limit(req.margin_limit),
            recovery=req.recovery,
            pair=req.data.pair or None,
            split=None,
        )
        assert job.candles is not None
        results: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for i, settings in enumerate(combos):
            out = sweep.run_one(job.candles, spec, settings)
            if "error" in out:
                failed.append({"settings": settings, "error": out["error"]})
            else:
                results.append({"settings": settings, **out["run"]})
            job.done = i + 1
        results.sort(key=lambda item: _rank(sweep.metric(item, req.objective)))
        return {"results": results, "failed": failed, "objective": req.objective}

    # -- reading -----------------------------------------------------------------------------------

    def get(self, job_id: str, kind: Kind) -> Job:
        """The job `job_id` of this kind, or NotFoundError."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.kind != kind:
            raise NotFoundError(
                f"no {kind} with id {job_id!r}", "start one first (ids are kept in memory)", "id"
            )
        return job

    def report_html(self, job_id: str) -> str:
        """The HTML report of a finished backtest (the same as `backtest run --report`)."""
        from tradewarden.services.backtest import report

        job = self.get(job_id, "backtest")
        if job.status != "done" or job.backtest is None or job.candles is None:
            raise InputError(
                f"backtest {job_id} has no report yet (it is {job.status})", "wait until it is done", "id"
            )
        data = report.report_data(job.backtest, job.candles, job.request.settings, job.context)
        return report.render(job.backtest, job.candles, job.request.settings, data)

    def sweep_report_html(self, job_id: str, x_key: str | None, y_key: str | None, metric: str | None) -> str:
        """The HTML report of a finished sweep: the heatmap over `x_key` × `y_key` (by default the first
        two swept keys), the results table."""
        from tradewarden.services.backtest import report

        job = self.get(job_id, "sweep")
        swept = [axis.split("=", 1)[0].strip() for axis in job.request.grid]
        x_key = x_key or (swept[0] if swept else "")
        y_key = y_key or next((k for k in swept if k != x_key), "")
        if not y_key:
            raise InputError("the sweep varied one setting: a heatmap needs two", "sweep two keys", field="y")
        if job.status != "done" or job.result is None:
            raise InputError(
                f"sweep {job_id} has no report yet (it is {job.status})", "wait until it is done", "id"
            )
        return report.render_sweep(job.result, x_key, y_key, metric)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in ("done", "failed")]
        for job in finished[: max(0, len(finished) - MAX_KEPT)]:
            del self._jobs[job.id]


def _base(request: JobRequest, axes: Sequence[Any]) -> dict[str, str]:
    """The fixed settings: the form's values without the swept keys (the axes replace them)."""
    swept = {axis.key for axis in axes}
    return {k: v for k, v in request.settings.items() if k not in swept}


def _rank(value: float) -> tuple[int, float]:
    """Best first; runs without the figure (NaN) last, as the Dask sweep ranks them."""
    return (1, 0.0) if math.isnan(value) else (0, -value)


def _equity_points(result: Any, candles: Candles, limit: int = 500) -> list[list[float]]:
    """[[time ms, equity], ...] downsampled for the dashboard's chart."""
    from tradewarden.services.backtest.report import sample_indexes

    idx = sample_indexes(len(candles), limit)
    return [[int(candles.time[i]), round(float(result.equity[i]), 8)] for i in idx]
