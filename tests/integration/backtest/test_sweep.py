"""Sweeps on a Dask LocalCluster: 264 settings equal to running each alone; failures kept; ranking."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow.parquet as pq

from tests.integration.backtest.sweep_data import BASE, GRID, candles, one_by_one, without_speed
from tradewarden.services.backtest.sweep import SweepRequest, metric, parse_grid, run_sweep


def test_grid_of_264_settings_on_a_local_cluster_matches_one_by_one(tmp_path: Path) -> None:
    series = candles()
    axes = parse_grid("dca", GRID)
    ticks: list[tuple[int, int]] = []
    result = run_sweep(
        series, SweepRequest(strategy="dca", base=BASE, axes=axes), progress=lambda d, t: ticks.append((d, t))
    )
    assert result.workers == 2
    assert len(result.results) + len(result.failed) == 264
    assert len(result.failed) == 33
    assert {f["settings"]["addon_deviation_pct"] for f in result.failed} == {"0"}
    assert all("addon_deviation_pct" in f["error"] for f in result.failed)
    assert ticks[-1] == (264, 264) and [d for d, _ in ticks] == list(range(1, 265))
    for item in result.results:
        settings = item["settings"]
        assert without_speed({k: v for k, v in item.items() if k != "settings"}) == one_by_one(
            series, settings
        )
    sharpes = [metric(item, "sharpe") for item in result.results]
    finite = [s for s in sharpes if not math.isnan(s)]
    assert finite == sorted(finite, reverse=True) and sharpes[: len(finite)] == finite
    body = result.to_json()
    assert set(body) == {"results", "failed"} and set(body["failed"][0]) == {"settings", "error"}
    out = tmp_path / "sweep.parquet"
    result.write_parquet(out)
    table = pq.read_table(out)
    assert table.num_rows == 264
    assert table.column("error").null_count == 231


def test_optuna_trials_walk_forward_and_drawdown_cap() -> None:
    objective = "calmar"
    series = candles(2000)
    axes = parse_grid("dca", ["addon_deviation_pct=1..4:0.5", "take_profit_pct=0.5..3:0.5"])
    request = SweepRequest(
        strategy="dca",
        base=BASE,
        axes=axes,
        trials=12,
        objective=objective,
        walk_forward=0.7,
        max_drawdown_pct=6,
    )
    result = run_sweep(series, request)
    assert len(result.results) >= 1 and len(result.results) + result.rejected <= 12 and not result.failed
    split = int(len(series) * 0.7)
    for item in result.results:
        assert item["candles"] == split and item["out_of_sample"]["candles"] == len(series) - split
        assert item["max_drawdown_pct"] <= 6
        assert without_speed(item["out_of_sample"]) == one_by_one(
            series.slice(split, len(series)), item["settings"]
        )
        assert without_speed(
            {k: v for k, v in item.items() if k not in ("settings", "out_of_sample")}
        ) == one_by_one(series.slice(0, split), item["settings"])
    values = [metric(item, objective) for item in result.results]
    assert values == sorted(values, reverse=True)
