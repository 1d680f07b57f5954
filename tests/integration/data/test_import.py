"""`data import` (candle CSV, Freqtrade feather and JSON), `data check` and `data list` on a real store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from tests.conftest import Cli
from tradewarden.services.backtest import data as store
from tradewarden.services.errors import InputError

START = 1_700_000_000_000


def _rows(n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(5)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.r_[close[0], close[:-1]]
    return np.column_stack(
        [
            START + 60_000 * np.arange(n),
            open_,
            np.maximum(open_, close) + 0.01,
            np.minimum(open_, close) - 0.01,
            close,
            np.ones(n),
        ]
    )


def _csv(path: Path, rows: np.ndarray) -> Path:
    np.savetxt(
        path,
        rows,
        delimiter=",",
        header="timestamp,open,high,low,close,volume",
        comments="",
        fmt=["%d"] + ["%.8f"] * 5,
    )
    return path


def _json(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_csv_import_list_check_and_backtest_from_the_store(cli: Cli, tmp_path: Path) -> None:
    path = _csv(tmp_path / "c.csv", _rows())
    body = _json(cli("data", "import", str(path), "--exchange", "binance", "--pair", "BTC/USDT", "--json"))
    assert body == {
        "exchange": "binance", "pair": "BTC/USDT", "timeframe": "1m", "candles": 300,
        "from": store.iso(START), "to": store.iso(START + 299 * 60_000),
    }  # fmt: skip
    listed: dict[str, Any] = _json(cli("data", "list", "--json"))[0]
    assert listed["candles"] == 300 and listed["gaps"] == 0
    checked: dict[str, Any] = _json(cli("data", "check", "--json"))[0]
    assert checked["ok"] is True
    run = _json(
        cli(
            "backtest",
            "run",
            "--strategy",
            "dca",
            "--exchange",
            "binance",
            "--pair",
            "BTC/USDT",
            "--timeframe",
            "1m",
            "--since",
            "2023-11-14",
            "--set",
            "base_order=100",
            "--set",
            "addon_order=150",
            "--set",
            "addon_count=3",
            "--set",
            "addon_deviation_pct=2",
            "--set",
            "take_profit_pct=1",
            "--json",
        )
    )
    assert run["candles"] == 300
    swept = _json(
        cli(
            "backtest",
            "sweep",
            "--strategy",
            "dca",
            "--exchange",
            "binance",
            "--pair",
            "BTC/USDT",
            "--timeframe",
            "1m",
            "--since",
            "2023-11-14",
            "--set",
            "base_order=100",
            "--set",
            "addon_order=150",
            "--set",
            "addon_count=3",
            "--set",
            "addon_deviation_pct=2",
            "--grid",
            "take_profit_pct=1,2",
            "--workers",
            "1",
            "--json",
        )
    )
    assert sorted(r["settings"]["take_profit_pct"] for r in swept["results"]) == ["1", "2"]
    assert all(r["candles"] == 300 for r in swept["results"]) and swept["failed"] == []


def test_freqtrade_json_and_feather(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "user_data" / "data" / "binance" / "futures"
    folder.mkdir(parents=True)
    target = folder / "BTC_USDT_USDT-1m-futures.json"
    # Freqtrade's JSON data format: one [ms, open, high, low, close, volume] list per candle
    target.write_text(json.dumps([[int(r[0]), *map(float, r[1:])] for r in _rows(200)]))
    expected = 200
    body = _json(cli("data", "import", str(target), "--json"))
    assert body["exchange"] == "binance" and body["pair"] == "BTC/USDT:USDT"
    assert body["candles"] == expected
    rows = _rows(120)
    table = pa.table(
        {
            "date": pa.array(rows[:, 0].astype("datetime64[ms]")).cast(pa.timestamp("ms", tz="UTC")),
            **{c: pa.array(rows[:, i + 1]) for i, c in enumerate(("open", "high", "low", "close", "volume"))},
        }
    )
    feather_path = tmp_path / "user_data" / "data" / "okx" / "ETH_USDT-1m.feather"
    feather_path.parent.mkdir(parents=True)
    feather.write_feather(table, feather_path)
    body = _json(cli("data", "import", str(feather_path), "--json"))
    assert body["exchange"] == "okx" and body["pair"] == "ETH/USDT" and body["candles"] == 120
    candles = store.load(cli.home / "data", "okx", "ETH/USDT", "1m")
    assert np.allclose(candles.close, rows[:, 4]) and int(candles.time[0]) == START


def test_a_file_with_gaps_is_refused_unless_allowed_and_check_reports_it(cli: Cli, tmp_path: Path) -> None:
    rows = np.delete(_rows(), np.arange(100, 110), axis=0)
    path = _csv(tmp_path / "gappy.csv", rows)
    args = ["data", "import", str(path), "--exchange", "binance", "--pair", "BTC/USDT"]
    refused = cli(*args)
    assert refused.code != 0 and refused.stdout == ""
    assert (
        f"has 1 gap(s) in its 1m candles; the first: no candles from {store.iso(START + 100 * 60_000)}"
        in refused.stderr
    )
    assert "--allow-gaps" in refused.stderr
    assert not (cli.home / "data" / "binance").exists()
    assert cli(*args, "--allow-gaps").code == 0
    checked = cli("data", "check", "--json")
    assert checked.code == 1
    [report] = json.loads(checked.stdout)
    assert report["ok"] is False
    assert report["gaps"] == [
        {"from": store.iso(START + 100 * 60_000), "to": store.iso(START + 109 * 60_000), "missing": 10}
    ]


def test_check_finds_duplicates_and_outliers(cli: Cli, tmp_path: Path) -> None:
    rows = _rows()
    rows[200, 1:5] = rows[200, 1:5] * np.array([1.0, 3.0, 1.0, 3.0])  # close jumps to 3x
    rows[200, 2] = max(rows[200, 1:5])
    root = cli.home / "data"
    assert (
        store.import_file(root, _csv(tmp_path / "c.csv", rows), exchange="kucoin", pair="BTC/USDT").rows
        == 300
    )
    folder, manifest = store.find_series(root, "kucoin", "BTC/USDT", "1m")
    store._add_chunk(folder, manifest, rows[50:52])  # a second chunk overlapping the first: duplicates
    report = store.check_series(folder, manifest)
    assert report.duplicates == [int(rows[50, 0]), int(rows[51, 0])]
    assert int(rows[200, 0]) in report.outliers
    with pytest.raises(InputError, match="duplicate candles"):
        store.load(root, "kucoin", "BTC/USDT", "1m")
