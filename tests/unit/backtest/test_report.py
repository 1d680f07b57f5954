"""The backtest and sweep reports: self-contained HTML with the charts, markers matching the fills,
Recovery Mode shaded when it ran, a valid PNG of the equity curve, and a heatmap over two parameters."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import Cli
from tradewarden.domain.strategies.base import Context
from tradewarden.services.backtest import runner
from tradewarden.services.backtest.candles import Candles, from_arrays
from tradewarden.services.backtest.report import (
    MAX_POINTS,
    heatmap_cells,
    margin_series,
    report_data,
    sample_indexes,
    sweep_report,
    write_png,
    write_report,
)
from tradewarden.services.backtest.results import ADDON, BASE, END, STOP_LOSS, TAKE_PROFIT, BacktestResult
from tradewarden.services.errors import InputError

DCA = {
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "3",
    "addon_deviation_pct": "2",
    "addon_step_scale": "1",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "1",
    "stop_loss_pct": "30",
}
MINUTE = 60_000


def waves(n: int, depth: float = 0.12) -> Candles:
    """Price swinging between 100 and 100 * (1 - depth): every group adds on, then takes profit."""
    x = np.linspace(0, 6 * np.pi, n)
    close = 100 * (1 - depth * np.abs(np.sin(x)))
    opens = np.r_[close[0], close[:-1]]
    times = np.arange(n, dtype=np.int64) * MINUTE + 1_700_000_000_000
    return from_arrays(
        times,
        opens,
        np.maximum(opens, close) * 1.001,
        np.minimum(opens, close) * 0.999,
        close,
        timeframe_ms=MINUTE,
    )


def run(candles: Candles, settings: dict[str, str], recovery: bool) -> tuple[BacktestResult, Context]:
    request = runner.BacktestRequest(strategy="dca", values=settings, recovery=recovery)
    return runner.run(request, candles), runner.context_for(request)


def count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text))


def group(text: str, css: str) -> str:
    found = re.search(
        rf'<g class="markers markers-{css}" data-count="(\d+)" data-shown="(\d+)"[^>]*>(.*?)</g>', text
    )
    assert found is not None, f"no {css} marker group"
    return found.group(0)


def test_report_draws_every_chart_and_one_marker_per_fill(tmp_path: Path) -> None:
    candles = waves(3000)
    result, context = run(candles, DCA, recovery=False)
    path = tmp_path / "run.html"
    write_report(path, result, candles, DCA, context=context)
    text = path.read_text()

    for chart in ("price", "equity", "drawdown", "margin"):
        assert f'class="chart chart-{chart}"' in text
    # self-contained: no script, no link to anything outside the file
    assert "<script" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    kinds = result.fills.kind
    assert (kinds == ADDON).sum() > 0 and (kinds == TAKE_PROFIT).sum() > 0
    expected = {
        "entry": int((kinds == BASE).sum()),
        "addon": int((kinds == ADDON).sum()),
        "exit-tp": int((kinds == TAKE_PROFIT).sum()),
        "exit-sl": int((kinds == STOP_LOSS).sum()),
        "exit-end": int((kinds == END).sum()),
    }
    drawn = 0
    for css, n in expected.items():
        if n == 0:
            assert f"markers-{css}" not in text
            continue
        g = group(text, css)
        assert f'data-count="{n}" data-shown="{n}"' in g
        shapes = count(r"<circle ", g) + count(r"<path ", g) + count(r"<rect ", g)
        assert shapes == n, css
        drawn += shapes
    assert drawn == len(result.fills)
    # the results table carries the contract figures
    assert f"<th>trades</th><td>{result.trades}</td>" in text
    # Recovery Mode did not run: nothing shaded, and the caption says so
    assert '<g class="recovery-spans" data-count="0">' in text
    assert "Recovery Mode did not run" in text


def test_recovery_mode_periods_are_shaded_and_add_up_to_its_share_of_time(tmp_path: Path) -> None:
    candles = waves(3000)
    settings = {**DCA, "recovery_drawdown_pct": "5"}
    result, context = run(candles, settings, recovery=True)
    assert result.recovery_time_pct > 0
    data = report_data(result, candles, settings, context)
    assert data.recovery_spans
    covered = sum(b - a for a, b in data.recovery_spans)
    assert covered / len(candles) * 100 == pytest.approx(result.recovery_time_pct)
    path = tmp_path / "recovery.html"
    write_report(path, result, candles, settings, context=context)
    text = path.read_text()
    assert f'<g class="recovery-spans" data-count="{len(data.recovery_spans)}">' in text
    assert count(r'<rect class="recovery"', text) == len(data.recovery_spans)


def test_margin_curve_peaks_at_the_engines_max_margin_used() -> None:
    candles = waves(2000)
    result, _ = run(candles, DCA, recovery=False)
    margin = margin_series(result, len(candles))
    assert margin.max() == pytest.approx(result.max_margin_used)
    assert margin[-1] >= 0


def test_long_series_are_downsampled(tmp_path: Path) -> None:
    candles = waves(60_000)
    result, context = run(candles, DCA, recovery=False)
    path = tmp_path / "long.html"
    write_report(path, result, candles, DCA, context=context)
    text = path.read_text()
    points = re.search(r'<polyline class="equity"[^>]*points="([^"]*)"', text)
    assert points is not None
    assert len(points.group(1).split()) == len(sample_indexes(60_000)) <= MAX_POINTS
    assert len(text) < 2_000_000


def test_png_is_a_valid_image_of_the_equity_curve(tmp_path: Path) -> None:
    candles = waves(1000)
    result, _ = run(candles, DCA, recovery=False)
    path = tmp_path / "equity.png"
    write_png(path, result)
    blob = path.read_bytes()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", blob[16:24])
    assert (width, height) == (900, 300)
    # decode IDAT: every row starts with filter 0, and the line's blue appears in the pixels
    idat = blob.index(b"IDAT")
    size = struct.unpack(">I", blob[idat - 4 : idat])[0]
    raw = zlib.decompress(blob[idat + 4 : idat + 4 + size])
    assert len(raw) == height * (1 + width * 3)
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + width * 3)
    assert (pixels[:, 0] == 0).all()
    rgb = pixels[:, 1:].reshape(height, width, 3)
    blue = (rgb[:, :, 0] == 37) & (rgb[:, :, 1] == 99) & (rgb[:, :, 2] == 235)
    assert blue.any(axis=0)[20:-20].all(), "the line crosses every column"


def sweep_json() -> dict[str, object]:
    results = []
    for tp in ("0.5", "1", "1.5"):
        for dev in ("1", "2"):
            for vol in ("1", "1.5"):  # a third parameter: each cell keeps the best of two
                profit = float(tp) * 2 + float(dev) + float(vol)
                results.append(
                    {
                        "settings": {
                            "take_profit_pct": tp,
                            "addon_deviation_pct": dev,
                            "addon_volume_scale": vol,
                        },
                        "profit_pct": profit,
                        "max_drawdown_pct": 1.0,
                        "sharpe": profit / 2,
                        "trades": 3,
                    }
                )
    return {"results": results, "failed": [{"settings": {"take_profit_pct": "9"}, "error": "refused"}]}


def test_sweep_heatmap_has_one_cell_per_pair_with_the_best_value(tmp_path: Path) -> None:
    body = sweep_json()
    xs, ys, cells = heatmap_cells(body["results"], "take_profit_pct", "addon_deviation_pct", "profit_pct")  # type: ignore[arg-type]
    assert xs == ["0.5", "1", "1.5"] and ys == ["1", "2"]
    assert cells[("1.5", "2")] == pytest.approx(3 + 2 + 1.5)
    path = tmp_path / "sweep.html"
    sweep_report(body, "take_profit_pct", "addon_deviation_pct", path, metric="profit_pct")
    text = path.read_text()
    assert 'class="chart chart-heatmap"' in text
    assert count(r'<g class="cell">', text) == 6
    assert "Results (12)" in text and "Failed (1)" in text and "refused" in text
    assert "<script" not in text


def test_sweep_heatmap_refuses_a_key_the_sweep_did_not_vary(tmp_path: Path) -> None:
    path = tmp_path / "bad.html"
    with pytest.raises(InputError, match="stop_loss_pct"):
        sweep_report(sweep_json(), "take_profit_pct", "stop_loss_pct", path)
    with pytest.raises(InputError, match="two different keys"):
        sweep_report(sweep_json(), "take_profit_pct", "take_profit_pct", path)
    assert not path.exists()


def test_cli_writes_the_report_and_the_png(cli: Cli, tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[2] / "data" / "candles" / "kraken-xbtusdt-1m-2025-11.csv"
    report, image = tmp_path / "run.html", tmp_path / "equity.png"
    sets = [
        f"--set={k}={v}" for k, v in {**DCA, "addon_deviation_pct": "0.3", "take_profit_pct": "0.3"}.items()
    ]
    args = [
        "backtest",
        "run",
        "--strategy",
        "dca",
        "--data",
        str(data),
        *sets,
        "--set=recovery_drawdown_pct=0.5",
    ]
    result = cli(*args, "--report", str(report), "--png", str(image), "--json")
    assert result.code == 0, result.stderr
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert count(r'<rect class="recovery"', report.read_text()) >= 1  # Recovery Mode ran and is shaded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["equity.png", "run.html"]
    bad = cli(*args, "--png", str(tmp_path / "equity.jpg"))
    assert bad.code != 0 and "must end in .png" in bad.stderr
    assert not (tmp_path / "equity.jpg").exists()
