"""Backtests and sweeps: start one (scope trade), read its progress and results (scope read), its report.

Thin: the jobs live in services/backtest/jobs.py (background threads, kept in memory). A report is a
self-contained HTML file (inline SVG, inline style, no script) served under its own strict policy.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from tradewarden.api.auth import ReadPrincipal, TradePrincipal
from tradewarden.api.errors import ERROR_RESPONSES, NOT_FOUND
from tradewarden.services.backtest import jobs

router = APIRouter(tags=["backtests"], responses=ERROR_RESPONSES)
# The reports answer HTML, their errors JSON: documented apart, since a route-wide HTML response class would
# also label the JSON error responses text/html.
HTML_REPORT: dict[int | str, dict[str, Any]] = {
    200: {"description": "The report", "content": {"text/html": {"schema": {"type": "string"}}}},
    **NOT_FOUND,
}

# The report is a document, not an app: sandboxed (no script runs, no same-origin access to the API),
# nothing loads from anywhere; only its inline style and data: images.
REPORT_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"

KEY = r"^[a-z_]{1,40}$"


class DataIn(BaseModel):
    """The candles: a CSV upload (timestamp,open,high,low,close,volume; ms, UTC, oldest first), or a series
    of the candle store named by exchange, pair and timeframe."""

    model_config = ConfigDict(extra="forbid")
    csv: str | None = Field(
        default=None, description="The candle CSV itself (within the server's body limit)"
    )
    pair: str | None = Field(
        default=None, max_length=40, description="ccxt spelling: BTC/USDT, BTC/USDT:USDT"
    )
    timeframe: str | None = Field(
        default=None, max_length=8, description="Checked against the file's spacing"
    )
    exchange: str | None = Field(
        default=None, max_length=40, description="With pair and timeframe: a stored series"
    )


class BacktestIn(BaseModel):
    """One backtest: the strategy, its `--set` settings as strings, the candles, the fill convention."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "strategy": "dca",
                    "settings": dict(jobs.DCA_EXAMPLE),
                    "data": {"csv": "timestamp,open,high,low,close,volume\n...", "timeframe": "1m"},
                    "fills": "ours",
                }
            ]
        },
    )
    strategy: Literal["dca", "grid"]
    settings: dict[str, str] = Field(default_factory=dict, max_length=40)
    data: DataIn
    fills: Literal["ours", "freqtrade"] = "ours"
    risk: Literal["conservative", "balanced", "aggressive"] | None = None
    margin_limit: str | None = Field(default=None, max_length=30)
    recovery: bool | None = None


class SweepIn(BacktestIn):
    """A sweep: the backtest's fields plus grid axes (`KEY=V1,V2` or `KEY=LO..HI:STEP`) and the objective."""

    grid: list[str] = Field(min_length=1, max_length=6)
    objective: Literal["sharpe", "return", "calmar"] = "sharpe"


class JobOut(BaseModel):
    """A job's state; `result` once done (the `backtest run --json` / `backtest sweep --json` object)."""

    id: str
    kind: Literal["backtest", "sweep"]
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(description="0..1: candles replayed, or settings finished")
    done: int
    total: int
    strategy: str
    settings: dict[str, str]
    grid: list[str]
    objective: str | None
    result: dict[str, Any] | None
    error: str | None
    error_field: str | None


def _jobs(request: Request) -> jobs.Jobs:
    held = getattr(request.app.state, "backtest_jobs", None)
    if held is None:
        from tradewarden.services.backtest.data import data_root

        home = request.app.state.tw.app.settings.home_dir
        held = request.app.state.backtest_jobs = jobs.Jobs(store_root=data_root(home))
    assert isinstance(held, jobs.Jobs)
    return held


def _request(body: BacktestIn, grid: list[str] | None = None, objective: str = "sharpe") -> jobs.JobRequest:
    data = jobs.DataSource(
        csv=body.data.csv, exchange=body.data.exchange, pair=body.data.pair, timeframe=body.data.timeframe
    )
    return jobs.JobRequest(
        strategy=body.strategy,
        settings=body.settings,
        data=data,
        fills=body.fills,
        risk=body.risk,
        margin_limit=body.margin_limit,
        recovery=body.recovery,
        grid=tuple(grid or ()),
        objective=objective,
    )


@router.get("/backtests/presets", summary="What the backtest form offers")
def backtest_presets(_: ReadPrincipal, request: Request) -> dict[str, Any]:
    """Strategies with example settings, the risk presets bots use, fill conventions, sweep objectives,
    and the series of the candle store (`tradewarden data download|import`)."""
    return jobs.presets(_jobs(request).store_root)


@router.post(
    "/backtests", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED, summary="Start a backtest"
)
def start_backtest(body: BacktestIn, _: TradePrincipal, request: Request) -> JobOut:
    """Checked now (settings, candles); runs in the background. Poll GET /backtests/{id}."""
    return JobOut.model_validate(_jobs(request).submit("backtest", _request(body)).view())


@router.get(
    "/backtests/{backtest_id}",
    response_model=JobOut,
    summary="A backtest's progress and results",
    responses=NOT_FOUND,
)
def read_backtest(backtest_id: str, _: ReadPrincipal, request: Request) -> JobOut:
    """Status, progress, and the results once done (with a downsampled equity curve)."""
    return JobOut.model_validate(_jobs(request).get(backtest_id, "backtest").view())


@router.get(
    "/backtests/{backtest_id}/report",
    response_model=None,
    summary="A finished backtest's HTML report",
    responses=HTML_REPORT,
)
def backtest_report(backtest_id: str, _: ReadPrincipal, request: Request) -> HTMLResponse:
    """The self-contained report (as `backtest run --report`), sandboxed by its Content-Security-Policy."""
    html = _jobs(request).report_html(backtest_id)
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})


@router.post("/sweeps", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED, summary="Start a sweep")
def start_sweep(body: SweepIn, _: TradePrincipal, request: Request) -> JobOut:
    """Every combination of the grid axes on the base settings; ranked by the objective when done."""
    return JobOut.model_validate(
        _jobs(request).submit("sweep", _request(body, body.grid, body.objective)).view()
    )


@router.get(
    "/sweeps/{sweep_id}", response_model=JobOut, summary="A sweep's progress and results", responses=NOT_FOUND
)
def read_sweep(sweep_id: str, _: ReadPrincipal, request: Request) -> JobOut:
    """Status, settings finished so far, and once done `{"results": [...], "failed": [...], "objective"}`."""
    return JobOut.model_validate(_jobs(request).get(sweep_id, "sweep").view())


@router.get(
    "/sweeps/{sweep_id}/report",
    response_model=None,
    summary="A finished sweep's HTML report (heatmap)",
    responses=HTML_REPORT,
)
def sweep_report(
    sweep_id: str,
    _: ReadPrincipal,
    request: Request,
    x: str | None = Query(
        default=None, pattern=KEY, description="Horizontal axis (default: the first swept key)"
    ),
    y: str | None = Query(
        default=None, pattern=KEY, description="Vertical axis (default: the second swept key)"
    ),
    metric: str | None = Query(
        default=None, pattern=KEY, description="Objective or run field (default: the objective)"
    ),
) -> HTMLResponse:
    """The heatmap of the metric over two swept settings, and the results table."""
    html = _jobs(request).sweep_report_html(sweep_id, x, y, metric)
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})
