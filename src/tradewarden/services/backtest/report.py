"""HTML report of one backtest: the figures, the settings, an equity curve (inline SVG) and the fills.

Self-contained (no scripts, no outside assets). Written to a temporary file beside the target and renamed
into place, so a failed run never leaves a half-written report.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tradewarden.services.backtest.candles import Candles
from tradewarden.services.backtest.results import BacktestResult
from tradewarden.services.errors import InputError

MAX_FILL_ROWS = 2000
CURVE_POINTS = 800


def _curve_svg(equity: npt.NDArray[np.float64]) -> str:
    if equity.size < 2:
        return "<p>Not enough candles for a curve.</p>"
    step = max(1, equity.size // CURVE_POINTS)
    points = equity[::step]
    lo, hi = float(points.min()), float(points.max())
    span = hi - lo or 1.0
    width, height = 800, 240
    coords = " ".join(
        f"{i * width / (points.size - 1):.1f},{height - (float(v) - lo) / span * height:.1f}"
        for i, v in enumerate(points)
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" height="{height}" role="img" '
        f'aria-label="equity curve from {lo:,.2f} to {hi:,.2f}">'
        f'<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="{coords}"/></svg>'
        f"<p>Equity from {lo:,.2f} to {hi:,.2f} (budget plus profit, at candle closes).</p>"
    )


def render(result: BacktestResult, candles: Candles, settings: Mapping[str, object]) -> str:
    """The report as one HTML page."""
    figures = result.to_json()
    figures["annualised_return_pct"] = round(result.annualised_return_pct, 4)
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in figures.items()
    )
    set_rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in sorted(settings.items())
    )
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
    title = f"Backtest: {result.strategy} on {html.escape(Path(candles.source).name)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}
table{{border-collapse:collapse;margin-bottom:1.5rem}}th,td{{padding:.2rem .6rem;text-align:left;
border-bottom:1px solid #ddd}}</style></head><body>
<h1>{title}</h1>
<h2>Figures</h2><table>{rows}</table>
<h2>Settings</h2><table>{set_rows or "<tr><td>(defaults)</td></tr>"}</table>
<h2>Equity</h2>{_curve_svg(result.equity)}
<h2>Fills</h2>{more}<table><tr><th>time (ms)</th><th>kind</th><th>side</th><th>price</th><th>qty</th>
<th>fee</th><th>pnl</th></tr>{fill_rows}</table>
</body></html>
"""


def write_report(
    path: Path, result: BacktestResult, candles: Candles, settings: Mapping[str, object]
) -> None:
    """Write the report atomically (temporary file, then rename)."""
    text = render(result, candles, settings)
    folder = path.resolve().parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=folder)
    except OSError as exc:
        raise InputError(
            f"cannot write the report in {str(folder)!r} ({exc.strerror})",
            "choose a writable folder",
            field="--report",
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(
            f"cannot write the report {str(path)!r} ({exc.strerror})",
            "choose a writable path",
            field="--report",
        ) from None
