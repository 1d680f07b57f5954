"""Backtests and sweeps through the real server: start (scope trade), poll (scope read), results equal to
running the same settings directly, the sandboxed HTML report, presets, and clear errors for bad input."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.api.conftest import ApiServer
from tradewarden.domain.strategies.risk import PRESETS
from tradewarden.services.backtest import data, runner
from tradewarden.services.backtest.candles import load_candles
from tradewarden.services.backtest.jobs import Jobs

DATA = Path(__file__).resolve().parents[2] / "data" / "candles" / "kraken-xbtusdt-1m-2025-11.csv"
SETTINGS = {
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "3",
    "addon_deviation_pct": "0.3",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "0.3",
}
GRID = ["take_profit_pct=0.2,0.3,0.5", "addon_deviation_pct=0.2,0.4"]
RUN_KEYS = {
    *("strategy", "fills", "candles", "from", "to", "trades", "wins", "losses", "groups", "addons_max"),
    *("profit", "profit_pct", "fees", "max_drawdown_pct", "max_margin_used", "recovery_time_pct", "sharpe"),
    "candles_per_s",
}
WAIT_S = 120.0  # a Dask LocalCluster start on a busy two-core machine


def body(**extra: Any) -> dict[str, Any]:
    return {
        "strategy": "dca",
        "settings": SETTINGS,
        "data": {"csv": DATA.read_text(), "timeframe": "1m"},
        **extra,
    }


def wait(client: httpx.Client, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        response = client.get(path)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in ("done", "failed"):
            return job
        assert 0.0 <= job["progress"] <= 1.0
        assert time.monotonic() < deadline, f"{path} still {job['status']} after {WAIT_S}s"
        time.sleep(0.1)


def finished_job_ids(server: ApiServer) -> dict[str, str]:
    """A finished backtest and a finished two-axis sweep on `server`: path values for route-wide tests."""
    trade, read = server.client("trade"), server.client("read")
    backtest = trade.post("/api/v1/backtests", json=body()).json()["id"]
    sweep = trade.post("/api/v1/sweeps", json=body(grid=GRID)).json()["id"]
    assert wait(read, f"/api/v1/backtests/{backtest}")["status"] == "done"
    assert wait(read, f"/api/v1/sweeps/{sweep}")["status"] == "done"
    return {"backtest_id": backtest, "sweep_id": sweep}


def direct(settings: dict[str, str]) -> dict[str, Any]:
    """The same backtest run in this process, without the server."""
    candles = load_candles(DATA, timeframe="1m")
    result = runner.run(runner.BacktestRequest(strategy="dca", values=settings), candles).to_json()
    result.pop("candles_per_s")
    return result


def test_backtest_runs_in_the_background_and_matches_a_direct_run(api_server: ApiServer) -> None:
    trade, read = api_server.client("trade"), api_server.client("read")
    started = trade.post("/api/v1/backtests", json=body())
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "backtest" and job["status"] in ("queued", "running", "done")
    assert job["total"] == 721
    done = wait(read, f"/api/v1/backtests/{job['id']}")
    assert done["status"] == "done", done["error"]
    result = done["result"]
    assert set(result) >= RUN_KEYS
    assert result["trades"] > 0
    expected = direct(SETTINGS)
    assert {k: v for k, v in result.items() if k in expected} == expected
    equity = result["equity"]
    assert 2 <= len(equity) <= 500 and equity[0][0] < equity[-1][0]

    report = read.get(f"/api/v1/backtests/{job['id']}/report")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    csp = report.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script-src" not in csp
    for chart in ("price", "equity", "drawdown", "margin"):
        assert f"chart chart-{chart}" in report.text
    assert "<script" not in report.text


def test_starting_needs_trade_scope_and_reading_needs_a_token(api_server: ApiServer) -> None:
    refused = api_server.client("read").post("/api/v1/backtests", json=body())
    assert refused.status_code == 403
    assert "trade" in refused.json()["error"]["message"]
    assert api_server.client("read").post("/api/v1/sweeps", json=body(grid=GRID)).status_code == 403
    assert api_server.client(None).get("/api/v1/backtests/presets").status_code == 401
    missing = api_server.client("read").get("/api/v1/backtests/0123456789abcdef")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api_server.client("read").get("/api/v1/sweeps/0123456789abcdef").status_code == 404


def test_presets_are_the_bots_risk_presets(api_server: ApiServer) -> None:
    presets = api_server.client("read").get("/api/v1/backtests/presets").json()
    assert [p["name"] for p in presets["risk"]] == list(PRESETS)
    balanced = next(p for p in presets["risk"] if p["name"] == "balanced")
    assert balanced["values"]["take_profit_pct"] == str(PRESETS["balanced"].take_profit_pct)
    assert presets["strategies"]["dca"]["addon_volume_scale"] == "1.5"
    assert set(presets["objectives"]) == {"sharpe", "return", "calmar"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"settings": {**SETTINGS, "take_profit_pct": "-1"}}, "--set", "take_profit_pct"),
        ({"settings": {**SETTINGS, "bogus_key": "1"}}, "--set", "bogus_key"),
        ({"data": {"csv": "   "}}, "data.csv", "empty"),
        ({"data": {}}, "data", "no candles"),
        ({"data": {"csv": "timestamp,open,high,low,close,volume\n1,2,3\n"}}, None, ""),
        ({"data": {"exchange": "kraken", "pair": "BTC/USDT"}}, "data", "exchange, pair and timeframe"),
        ({"margin_limit": "lots"}, "margin_limit", "not a number"),
        ({"fills": "freqtrade", "strategy": "grid"}, "--fills", "Freqtrade"),
    ],
)
def test_bad_backtest_input_is_refused_with_the_field(
    api_server: ApiServer, change: dict[str, Any], field: str | None, words: str
) -> None:
    response = api_server.client("trade").post("/api/v1/backtests", json={**body(), **change})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    if field is not None:
        assert error.get("field") == field, error
    assert words in error["message"]


def test_a_bad_candle_file_is_refused_naming_the_upload(api_server: ApiServer) -> None:
    lines = DATA.read_text().splitlines()
    duplicated = "\n".join([*lines[:100], lines[99], *lines[100:]]) + "\n"
    response = api_server.client("trade").post(
        "/api/v1/backtests", json=body(data={"csv": duplicated, "timeframe": "1m"})
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "data.csv"
    assert error["message"].startswith("the uploaded CSV: row ") and "duplicated" in error["message"]
    assert "/tmp" not in error["message"] and "tw-backtest" not in error["message"]


def test_backtest_on_a_series_of_the_candle_store(api_server: ApiServer) -> None:
    read, trade = api_server.client("read"), api_server.client("trade")
    source = {"exchange": "kraken", "pair": "BTC/USDT", "timeframe": "1m"}
    missing = trade.post("/api/v1/backtests", json=body(data=source))
    assert missing.status_code == 404 and "data download" in missing.json()["error"]["message"]
    root = data.data_root(api_server.app.settings.home_dir)
    data.import_file(root, DATA, exchange="kraken", pair="BTC/USDT", timeframe="1m")
    stored = read.get("/api/v1/backtests/presets").json()["stored"]
    assert [(s["exchange"], s["pair"], s["timeframe"], s["rows"]) for s in stored] == [
        ("kraken", "BTC/USDT", "1m", 721)
    ]
    started = trade.post("/api/v1/backtests", json=body(data=source))
    assert started.status_code == 202, started.text
    done = wait(read, f"/api/v1/backtests/{started.json()['id']}")
    assert done["status"] == "done", done["error"]
    expected = direct(SETTINGS)
    assert {k: v for k, v in done["result"].items() if k in expected} == expected


def test_bad_sweep_input_is_refused(api_server: ApiServer) -> None:
    trade = api_server.client("trade")
    unknown = trade.post("/api/v1/sweeps", json=body(grid=["no_such_key=1,2"]))
    assert unknown.status_code == 422 and "no_such_key" in unknown.json()["error"]["message"]
    empty = trade.post("/api/v1/sweeps", json=body(grid=["take_profit_pct=3..1:0.5"]))
    assert empty.status_code == 422
    huge = trade.post("/api/v1/sweeps", json=body(grid=["take_profit_pct=0.1..30:0.01"]))
    assert huge.status_code == 422 and "more than" in huge.json()["error"]["message"]
    assert trade.post("/api/v1/sweeps", json=body(grid=[])).status_code == 422


def sweep_and_wait(api_server: ApiServer) -> dict[str, Any]:
    started = api_server.client("trade").post("/api/v1/sweeps", json=body(grid=GRID, objective="return"))
    assert started.status_code == 202, started.text
    assert started.json()["total"] == 6
    done = wait(api_server.client("read"), f"/api/v1/sweeps/{started.json()['id']}")
    assert done["status"] == "done", done["error"]
    return done


def assert_same_as_one_by_one(result: dict[str, Any]) -> None:
    assert result["failed"] == []
    rows = result["results"]
    assert len(rows) == 6
    profits = [row["profit_pct"] for row in rows]
    assert profits == sorted(profits, reverse=True), "ranked by the objective (return), best first"
    for row in rows:
        expected = direct(row["settings"])
        assert {k: row[k] for k in expected} == expected, row["settings"]
    assert {(r["settings"]["take_profit_pct"], r["settings"]["addon_deviation_pct"]) for r in rows} == {
        (tp, dev) for tp in ("0.2", "0.3", "0.5") for dev in ("0.2", "0.4")
    }


def test_small_sweep_runs_in_the_server_and_equals_runs_one_by_one(api_server: ApiServer) -> None:
    done = sweep_and_wait(api_server)
    assert done["result"]["backend"] == "local"
    assert_same_as_one_by_one(done["result"])
    report = api_server.client("read").get(
        f"/api/v1/sweeps/{done['id']}/report", params={"x": "addon_deviation_pct", "y": "take_profit_pct"}
    )
    assert report.status_code == 200 and report.headers["content-security-policy"].startswith("sandbox;")
    assert report.text.count('<g class="cell">') == 6
    assert "return over addon_deviation_pct and take_profit_pct" in report.text
    default = api_server.client("read").get(f"/api/v1/sweeps/{done['id']}/report")
    assert "return over take_profit_pct and addon_deviation_pct" in default.text, "the grid's first two keys"
    bad = api_server.client("read").get(
        f"/api/v1/sweeps/{done['id']}/report", params={"x": "take_profit_pct", "y": "stop_loss_pct"}
    )
    assert bad.status_code == 422 and "stop_loss_pct" in bad.json()["error"]["message"]


def test_sweep_on_a_dask_local_cluster_equals_runs_one_by_one(api_server: ApiServer) -> None:
    # Every sweep on Dask, however small (the server's default starts the cluster from 50 settings).
    api_server.fastapi.state.backtest_jobs = Jobs(local_below=0, workers=2)
    done = sweep_and_wait(api_server)
    assert done["result"]["backend"] == "dask"
    assert_same_as_one_by_one(done["result"])
