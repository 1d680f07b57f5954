"""HTML reports of backtests and sweeps, and a PNG of the equity curve.

One backtest: the figures, the settings, the price with entries/add-ons/exits, equity and drawdown,
margin in use over time with Recovery Mode shaded, and the fills. A sweep: a heatmap of a metric over two
parameters and the results table. Everything is inline SVG generated here: the file opens with no network
(no scripts, no outside assets). Long series are downsampled to a few thousand points. Files are written
to a temporary file beside the target and renamed into place, so a failed run leaves no half-written file.
"""

from __future__ import annotations

import html
import itertools
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tradewarden.services.backtest import png
from tradewarden.services.backtest.candles import Candles
from tradewarden.services.backtest.results import (
    ADDON,
    BASE,
    END,
    GRID_BUY,
    GRID_SELL,
    INVENTORY,
    STOP_LOSS,
    TAKE_PROFIT,
    BacktestResult,
)
from tradewarden.services.errors import InputError

MAX_FILL_ROWS = 2000
MAX_POINTS = 2000  # per curve: enough for a sharp line on any screen, small enough for a light file
MAX_MARKERS = 4000  # per marker kind; the legend always says how many fills there were
WIDTH, HEIGHT, PAD_L, PAD_B = 900, 260, 70, 24

# Marker groups: (css class, label, colour, kinds)
MARKER_GROUPS = (
    ("entry", "entries", "#2563eb", (BASE, GRID_BUY, INVENTORY)),
    ("addon", "add-ons", "#d97706", (ADDON,)),
    ("exit-tp", "take profit / grid sells", "#16a34a", (TAKE_PROFIT, GRID_SELL)),
    ("exit-sl", "stop loss", "#dc2626", (STOP_LOSS,)),
    ("exit-end", "closed at the end", "#6b7280", (END,)),
)

STYLE = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:62rem;padding:0 1rem;color:#111}
table{border-collapse:collapse;margin-bottom:1.5rem}th,td{padding:.2rem .6rem;text-align:left;
border-bottom:1px solid #ddd}td.num{text-align:right;font-variant-numeric:tabular-nums}
svg{display:block;max-width:100%;height:auto;background:#fff}
.legend span{display:inline-block;margin-right:1rem}.sw{display:inline-block;width:.8rem;height:.8rem;
margin-right:.3rem;vertical-align:middle}figure{margin:0 0 1.5rem}figcaption{color:#444;font-size:.9rem}
.wide{overflow-x:auto}"""


@dataclass
class ReportData:
    """What the report draws beyond the result: Recovery Mode spans and the leverage of the settings."""

    recovery_spans: list[tuple[int, int]] = field(default_factory=list)  # [start, end) candle indexes
    leverage: float = 1.0


# -- series ------------------------------------------------------------------------------------------------


def sample_indexes(n: int, limit: int = MAX_POINTS) -> npt.NDArray[np.int64]:
    """At most `limit` candle indexes spread evenly over 0..n-1, first and last included."""
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def drawdown_pct(equity: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Fall of equity below its running peak, in percent of that peak (0 at new highs)."""
    if equity.size == 0:
        return equity
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(peak > 0, (peak - equity) / peak * 100.0, 0.0), dtype=np.float64)


def margin_series(result: BacktestResult, n: int, leverage: float = 1.0) -> npt.NDArray[np.float64]:
    """Margin in use at each candle's close: the cost basis held (average cost) divided by the leverage."""
    fills = result.fills
    after = np.zeros(len(fills), dtype=np.float64)
    pos = cost = 0.0
    for i in range(len(fills)):
        qty, price = float(fills.qty[i]), float(fills.price[i])
        signed = qty if fills.side[i] > 0 else -qty
        if pos == 0.0 or (signed > 0) == (pos > 0):
            cost += qty * price
            pos += signed
        else:  # reduces (or flips) the position: release its share of the cost at the average price
            closed = min(qty, abs(pos))
            cost -= cost * closed / abs(pos)
            pos += signed
            if abs(pos) <= 1e-12 * max(qty, 1.0):
                pos = cost = 0.0
            elif (signed > 0) == (pos > 0):  # flipped: the rest is a new position at this price
                cost = abs(pos) * price
        after[i] = cost / leverage
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    last = np.searchsorted(fills.candle, np.arange(n), side="right") - 1
    return np.asarray(np.where(last >= 0, after[np.maximum(last, 0)], 0.0), dtype=np.float64)


def recovery_spans_from_events(events: Sequence[Any], n: int) -> list[tuple[int, int]]:
    """[start, end) candle spans between recovery_entered and recovery_left events (open at the end)."""
    spans: list[tuple[int, int]] = []
    since: int | None = None
    for event in events:
        if event.kind == "recovery_entered" and since is None:
            since = int(event.candle)
        elif event.kind == "recovery_left" and since is not None:
            spans.append((since, max(int(event.candle), since + 1)))
            since = None
    if since is not None:
        spans.append((since, n))
    return spans


def report_data(
    result: BacktestResult, candles: Candles, settings: Mapping[str, object], context: Any = None
) -> ReportData:
    """Leverage from the settings, and the Recovery Mode spans when Recovery Mode ran.

    The spans come from a reference replay's events (the fast path counts recovery candles only), so
    this replays once more, and only when the result says Recovery Mode ran.
    """
    from tradewarden.domain.strategies.base import Context
    from tradewarden.services.backtest import engine, indicators, runner

    context = context if context is not None else Context()
    try:
        obj, parsed = runner.parse_settings(result.strategy, settings, context)
    except InputError:
        return ReportData()
    data = ReportData(leverage=float(getattr(parsed, "leverage", 1) or 1))
    if result.recovery_time_pct > 0 and result.fills_convention == "ours":
        feed = indicators.feed_for(parsed, candles)
        replay = engine.replay(obj, parsed, candles, context.fees, feed=feed)
        data.recovery_spans = recovery_spans_from_events(replay.events, len(candles))
    return data


# -- SVG -------------------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


class _Frame:
    """Maps candle index and value to SVG coordinates inside one chart's plotting area."""

    def __init__(self, n: int, lo: float, hi: float, height: int = HEIGHT) -> None:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            lo, hi = 0.0, 1.0
        if hi <= lo:
            lo, hi = lo - 1.0, hi + 1.0
        pad = (hi - lo) * 0.04
        self.n, self.lo, self.hi, self.height = n, lo - pad, hi + pad, height

    def x(self, index: float) -> float:
        return PAD_L + index * (WIDTH - PAD_L - 8) / max(self.n - 1, 1)

    def y(self, value: float) -> float:
        return 6 + (self.hi - value) / (self.hi - self.lo) * (self.height - 6 - PAD_B)

    def axes(self, first: str, last: str) -> str:
        bottom = self.height - PAD_B
        parts = [f'<line x1="{PAD_L}" y1="{bottom}" x2="{WIDTH - 8}" y2="{bottom}" stroke="#999"/>']
        for frac in (0.0, 0.5, 1.0):
            value = self.lo + (self.hi - self.lo) * (0.04 / 1.08 + frac * (1 - 0.08 / 1.08))
            y = self.y(value)
            parts.append(
                f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}" stroke="#eee"/>'
                f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_fmt(value)}</text>'
            )
        parts.append(
            f'<text x="{PAD_L}" y="{self.height - 6}" font-size="11">{html.escape(first)}</text>'
            f'<text x="{WIDTH - 8}" y="{self.height - 6}" font-size="11" text-anchor="end">'
            f"{html.escape(last)}</text>"
        )
        return "".join(parts)

    def polyline(
        self, idx: npt.NDArray[np.int64], values: npt.NDArray[np.float64], css: str, color: str
    ) -> str:
        pts = " ".join(
            f"{self.x(float(i)):.1f},{self.y(float(v)):.1f}" for i, v in zip(idx, values, strict=True)
        )
        return f'<polyline class="{css}" fill="none" stroke="{color}" stroke-width="1.3" points="{pts}"/>'


def _svg(css: str, label: str, body: str, height: int = HEIGHT) -> str:
    return (
        f'<svg class="{css}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{html.escape(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _dates(candles: Candles) -> tuple[str, str]:
    from datetime import UTC, datetime

    if not len(candles):
        return "", ""

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")

    return iso(int(candles.time[0])), iso(int(candles.time[-1]))


def _marker(shape: str, x: float, y: float) -> str:
    if shape == "entry":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>'
    if shape == "addon":
        return f'<path d="M{x:.1f},{y - 4:.1f}l4,7h-8z"/>'
    return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6"/>'


def price_svg(result: BacktestResult, candles: Candles) -> str:
    """The close price with every fill marked by kind (entries, add-ons, exits)."""
    n = len(candles)
    if n < 2:
        return "<p>Not enough candles for a chart.</p>"
    idx = sample_indexes(n)
    lo = float(min(candles.close.min(), result.fills.price.min() if len(result.fills) else np.inf))
    hi = float(max(candles.close.max(), result.fills.price.max() if len(result.fills) else -np.inf))
    frame = _Frame(n, lo, hi)
    body = [frame.axes(*_dates(candles)), frame.polyline(idx, candles.close[idx], "price", "#334155")]
    legend = []
    for css, label, color, kinds in MARKER_GROUPS:
        mask = np.isin(result.fills.kind, kinds)
        count = int(mask.sum())
        if count == 0:
            continue
        where = np.flatnonzero(mask)
        shown = where[sample_indexes(where.size, MAX_MARKERS)] if where.size > MAX_MARKERS else where
        shape = "entry" if css == "entry" else ("addon" if css == "addon" else "exit")
        marks = "".join(
            _marker(shape, frame.x(float(result.fills.candle[i])), frame.y(float(result.fills.price[i])))
            for i in shown
        )
        body.append(
            f'<g class="markers markers-{css}" data-count="{count}" data-shown="{shown.size}" '
            f'fill="{color}">{marks}</g>'
        )
        note = f" ({shown.size:,} drawn)" if shown.size < count else ""
        legend.append(f'<span><i class="sw" style="background:{color}"></i>{label}: {count:,}{note}</span>')
    svg = _svg(
        "chart chart-price",
        f"price from {_fmt(lo)} to {_fmt(hi)} with {len(result.fills)} fills",
        "".join(body),
    )
    return f'<figure>{svg}<figcaption class="legend">{"".join(legend) or "No fills."}</figcaption></figure>'


def equity_svg(result: BacktestResult, candles: Candles) -> str:
    """Equity (budget plus profit) at candle closes."""
    eq = result.equity
    if eq.size < 2:
        return "<p>Not enough candles for a curve.</p>"
    idx = sample_indexes(eq.size)
    frame = _Frame(eq.size, float(eq.min()), float(eq.max()))
    body = frame.axes(*_dates(candles)) + frame.polyline(idx, eq[idx], "equity", "#2563eb")
    label = f"equity from {_fmt(float(eq.min()))} to {_fmt(float(eq.max()))}"
    return f"<figure>{_svg('chart chart-equity', label, body)}<figcaption>{label}</figcaption></figure>"


def drawdown_svg(result: BacktestResult, candles: Candles) -> str:
    """Drawdown below the running peak of equity, as a filled area (percent)."""
    dd = drawdown_pct(result.equity)
    if dd.size < 2:
        return ""
    idx = sample_indexes(dd.size)
    worst = float(dd.max())
    frame = _Frame(dd.size, -worst, 0.0, 180)
    line = " ".join(f"{frame.x(float(i)):.1f},{frame.y(-float(dd[i])):.1f}" for i in idx)
    top = frame.y(0.0)
    area = (
        f'<polygon class="drawdown" fill="#fecaca" stroke="#dc2626" stroke-width="1" '
        f'points="{frame.x(0):.1f},{top:.1f} {line} {frame.x(float(idx[-1])):.1f},{top:.1f}"/>'
    )
    label = f"drawdown, deepest {worst:.2f} %"
    svg = _svg("chart chart-drawdown", label, frame.axes(*_dates(candles)) + area, 180)
    return f"<figure>{svg}<figcaption>{label}</figcaption></figure>"


def margin_svg(result: BacktestResult, candles: Candles, data: ReportData) -> str:
    """Margin in use over time, Recovery Mode periods shaded."""
    n = len(candles)
    if n < 2:
        return ""
    margin = margin_series(result, n, data.leverage)
    idx = sample_indexes(n)
    frame = _Frame(n, 0.0, float(margin.max()) or 1.0)
    bottom = HEIGHT - PAD_B
    shades = "".join(
        f'<rect class="recovery" x="{frame.x(a):.1f}" y="6" width="{max(frame.x(b) - frame.x(a), 1.0):.1f}" '
        f'height="{bottom - 6}" fill="#fde68a" fill-opacity="0.6"><title>Recovery Mode</title></rect>'
        for a, b in data.recovery_spans
    )
    body = f'<g class="recovery-spans" data-count="{len(data.recovery_spans)}">{shades}</g>'
    body += frame.axes(*_dates(candles)) + frame.polyline(idx, margin[idx], "margin", "#7c3aed")
    label = f"margin in use, up to {_fmt(float(margin.max()))}"
    rec = (
        f'; <i class="sw" style="background:#fde68a"></i>Recovery Mode: {len(data.recovery_spans)} '
        f"period(s), {result.recovery_time_pct:.2f} % of the time"
        if data.recovery_spans
        else "; Recovery Mode did not run"
    )
    return f"<figure>{_svg('chart chart-margin', label, body)}<figcaption>{label}{rec}</figcaption></figure>"


# -- pages -----------------------------------------------------------------------------------------------


def _rows(items: Iterator[tuple[str, object]]) -> str:
    return "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in items)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n{body}\n</body></html>\n"
    )


def render(
    result: BacktestResult, candles: Candles, settings: Mapping[str, object], data: ReportData | None = None
) -> str:
    """The report of one backtest as one HTML page."""
    data = data or ReportData()
    figures = result.to_json()
    figures["annualised_return_pct"] = round(result.annualised_return_pct, 4)
    fills = result.fills.rows()[:MAX_FILL_ROWS]
    fill_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(x))}</td>"
            for x in (
                int(candles.time[f["candle"]]),
                f["kind"],
                f["side"],
                f"{f['price']:.8g}",
                f"{f['qty']:.8g}",
                f"{f['fee']:.6g}",
                f"{f['pnl']:.6g}",
            )
        )
        + "</tr>"
        for f in fills
    )
    more = (
        f"<p>First {MAX_FILL_ROWS} of {len(result.fills)} fills shown.</p>"
        if len(result.fills) > MAX_FILL_ROWS
        else ""
    )
    title = f"Backtest: {html.escape(result.strategy)} on {html.escape(Path(candles.source).name)}"
    settings_rows = _rows((str(k), v) for k, v in sorted(settings.items()))
    body = f"""<h2>Results</h2><table class="results">{_rows(iter(figures.items()))}</table>
<h2>Settings</h2><table>{settings_rows or "<tr><td>(defaults)</td></tr>"}</table>
<h2>Price, entries, add-ons and exits</h2>{price_svg(result, candles)}
<h2>Equity</h2>{equity_svg(result, candles)}
<h2>Drawdown</h2>{drawdown_svg(result, candles)}
<h2>Margin in use</h2>{margin_svg(result, candles, data)}
<h2>Fills</h2>{more}<div class="wide"><table class="fills"><tr><th>time (ms)</th><th>kind</th><th>side</th>
<th>price</th><th>qty</th><th>fee</th><th>pnl</th></tr>{fill_rows}</table></div>"""
    return _page(title, body)


# -- sweeps ----------------------------------------------------------------------------------------------


def _sweep_rows(sweep_result: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    body = sweep_result.to_json() if hasattr(sweep_result, "to_json") else sweep_result
    if not isinstance(body, Mapping) or not isinstance(body.get("results"), list):
        raise InputError("a sweep result needs a 'results' list", "pass what run_sweep returned")
    objective = getattr(sweep_result, "objective", None) or body.get("objective")
    return list(body["results"]), list(body.get("failed") or []), str(objective) if objective else None


def metric_value(row: Mapping[str, Any], metric: str) -> float:
    """`metric` of one run: a sweep objective (sharpe | return | calmar) or any numeric run field."""
    from tradewarden.services.backtest import sweep

    if metric in sweep.OBJECTIVES:
        return sweep.metric(row, metric)
    value = row.get(metric)
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _sort_key(value: object) -> tuple[int, float, str]:
    try:
        return (0, float(str(value)), "")
    except ValueError:
        return (1, 0.0, str(value))


def heatmap_cells(
    results: Sequence[Mapping[str, Any]], x_key: str, y_key: str, metric: str
) -> tuple[list[str], list[str], dict[tuple[str, str], float]]:
    """x values, y values (sorted) and the best metric per (x, y) cell over the other parameters."""
    cells: dict[tuple[str, str], float] = {}
    for row in results:
        settings = row.get("settings") or {}
        if x_key not in settings or y_key not in settings:
            raise InputError(
                f"the sweep did not vary {x_key if x_key not in settings else y_key!r}",
                "name two keys of the sweep's settings in --heatmap KEY1,KEY2",
                field="--heatmap",
            )
        value = metric_value(row, metric)
        if not math.isfinite(value):
            continue
        key = (str(settings[x_key]), str(settings[y_key]))
        cells[key] = max(cells.get(key, -math.inf), value)
    xs = sorted({k[0] for k in cells}, key=_sort_key)
    ys = sorted({k[1] for k in cells}, key=_sort_key)
    return xs, ys, cells


def _colour(t: float) -> str:
    """Red (worst) through pale yellow to green (best), t in [0, 1]."""
    stops = ((0.0, (220, 38, 38)), (0.5, (254, 240, 138)), (1.0, (22, 163, 74)))
    for (t0, c0), (t1, c1) in itertools.pairwise(stops):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            r, g, b = (round(a + (bb - a) * f) for a, bb in zip(c0, c1, strict=True))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#16a34a"


def heatmap_svg(results: Sequence[Mapping[str, Any]], x_key: str, y_key: str, metric: str) -> str:
    """The metric over two parameters as a grid of coloured cells (best value per cell)."""
    xs, ys, cells = heatmap_cells(results, x_key, y_key, metric)
    if not cells:
        return "<p>No finished settings to draw.</p>"
    lo, hi = min(cells.values()), max(cells.values())
    cw = max(40, min(90, (WIDTH - PAD_L - 10) // max(len(xs), 1)))
    ch = max(22, min(40, 480 // max(len(ys), 1)))
    width, height = PAD_L + cw * len(xs) + 10, ch * len(ys) + 50
    parts = []
    for (x, y), value in cells.items():
        i, j = xs.index(x), len(ys) - 1 - ys.index(y)
        t = (value - lo) / (hi - lo) if hi > lo else 1.0
        parts.append(
            f'<g class="cell"><rect x="{PAD_L + i * cw}" y="{6 + j * ch}" width="{cw - 1}" height="{ch - 1}" '
            f'fill="{_colour(t)}"><title>{html.escape(f"{x_key}={x}, {y_key}={y}: {metric} {value:.6g}")}'
            f'</title></rect><text x="{PAD_L + i * cw + cw / 2}" y="{6 + j * ch + ch / 2 + 4}" '
            f'text-anchor="middle" font-size="10">{_fmt(value)}</text></g>'
        )
    for i, x in enumerate(xs):
        parts.append(
            f'<text x="{PAD_L + i * cw + cw / 2}" y="{height - 28}" text-anchor="middle" font-size="11">'
            f"{html.escape(x)}</text>"
        )
    for j, y in enumerate(reversed(ys)):
        parts.append(
            f'<text x="{PAD_L - 6}" y="{6 + j * ch + ch / 2 + 4}" text-anchor="end" font-size="11">'
            f"{html.escape(y)}</text>"
        )
    mid = 6 + ch * len(ys) / 2
    parts.append(
        f'<text x="{PAD_L + cw * len(xs) / 2}" y="{height - 8}" text-anchor="middle" font-size="12">'
        f"{html.escape(x_key)}</text>"
        f'<text x="12" y="{mid}" font-size="12" transform="rotate(-90 12 {mid})" '
        f'text-anchor="middle">{html.escape(y_key)}</text>'
    )
    label = f"{metric} over {x_key} and {y_key}: from {_fmt(lo)} to {_fmt(hi)}"
    return (
        f'<figure><svg class="chart chart-heatmap" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{html.escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(parts)}</svg><figcaption>{html.escape(label)}; each cell shows the best value over "
        f"the other parameters.</figcaption></figure>"
    )


def render_sweep(sweep_result: Any, x_key: str, y_key: str, metric: str | None = None) -> str:
    """The report of a sweep: heatmap of `metric` over `x_key` × `y_key`, the results and the failures."""
    results, failed, sorted_by = _sweep_rows(sweep_result)
    metric = metric or sorted_by or "return"
    if x_key == y_key:
        raise InputError(
            "the heatmap needs two different keys",
            "e.g. --heatmap take_profit_pct,addon_deviation_pct",
            field="--heatmap",
        )
    heat = heatmap_svg(results, x_key, y_key, metric)
    keys = sorted({k for r in results for k in (r.get("settings") or {})})
    figures = [
        "profit_pct",
        "max_drawdown_pct",
        "sharpe",
        "trades",
        "addons_max",
        "max_margin_used",
        "recovery_time_pct",
    ]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in (*keys, *figures))
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str((r.get('settings') or {}).get(k, '')))}</td>" for k in keys)
        + "".join(f'<td class="num">{html.escape(str(r.get(k, "")))}</td>' for k in figures)
        + "</tr>"
        for r in results[:MAX_FILL_ROWS]
    )
    fail_rows = "".join(
        f"<tr><td>{html.escape(str(f.get('settings')))}</td><td>{html.escape(str(f.get('error')))}</td></tr>"
        for f in failed
    )
    body = (
        f"<h2>{html.escape(metric)} over {html.escape(x_key)} and {html.escape(y_key)}</h2>{heat}"
        f'<h2>Results ({len(results)})</h2><div class="wide"><table class="results"><tr>{head}</tr>{rows}'
        f"</table></div>"
        + (
            f"<h2>Failed ({len(failed)})</h2><table><tr><th>settings</th><th>error</th></tr>"
            f"{fail_rows}</table>"
            if failed
            else ""
        )
    )
    return _page(f"Sweep: {len(results)} settings", body)


# -- files -----------------------------------------------------------------------------------------------


def write_atomic(path: Path, content: bytes, option: str = "--report") -> None:
    """Write `content` to `path` through a temporary file in the same folder and a rename."""
    folder = path.resolve().parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=path.suffix, dir=folder)
    except OSError as exc:
        raise InputError(
            f"cannot write {str(path)!r} in {str(folder)!r} ({exc.strerror})",
            "choose a writable folder",
            field=option,
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(
            f"cannot write {str(path)!r} ({exc.strerror})", "choose a writable path", field=option
        ) from None


def write_report(
    path: Path,
    result: BacktestResult,
    candles: Candles,
    settings: Mapping[str, object],
    *,
    context: Any = None,
) -> None:
    """Write the backtest report atomically; `context` is the run's domain Context (risk, recovery...)."""
    data = report_data(result, candles, settings, context)
    write_atomic(path, render(result, candles, settings, data).encode("utf-8"))


def write_png(path: Path, result: BacktestResult) -> None:
    """Write the equity curve alone as a PNG (pure Python: zlib, no plotting library)."""
    write_atomic(path, png.line_chart_png(result.equity[sample_indexes(result.equity.size)]), "--png")


def sweep_report(sweep_result: Any, x_key: str, y_key: str, path: Path, metric: str | None = None) -> None:
    """Write a sweep's report (heatmap of `metric` over two parameters, results, failures) atomically.

    `sweep_result` is what run_sweep returns (a SweepResult) or the `backtest sweep --json` object;
    `metric` is an objective (sharpe | return | calmar) or a run field (profit_pct, max_drawdown_pct ...),
    by default the objective the sweep was ranked by, else return.
    """
    write_atomic(Path(path), render_sweep(sweep_result, x_key, y_key, metric).encode("utf-8"))
