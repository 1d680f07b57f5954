"""`backtest sweep` refuses bad input with one clear error line and a non-zero exit, writing nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import Cli
from tests.integration.backtest.sweep_data import BASE, candles

SETS = [f"--set={k}={v}" for k, v in BASE.items()]


def _csv(path: Path, drop: slice | None = None) -> Path:
    series = candles(400)
    rows = np.column_stack(
        [series.time, series.open, series.high, series.low, series.close, np.ones(len(series))]
    )
    if drop is not None:
        rows = np.delete(rows, np.arange(400)[drop], axis=0)
    np.savetxt(
        path,
        rows,
        delimiter=",",
        header="timestamp,open,high,low,close,volume",
        comments="",
        fmt=["%d"] + ["%.8f"] * 5,
    )
    return path


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # released: nobody listens there now


CASES = {
    "unknown parameter": (
        ["--grid", "tp=1,2"],
        "--grid 'tp=1,2': unknown parameter 'tp' for dca; use one of: base_order",
    ),
    "empty range": (["--grid", "take_profit_pct=3..1:0.5"], "the range is empty (3 is above 1)"),
    "zero step": (["--grid", "take_profit_pct=1..3:0"], "step 0 must be above zero"),
    "range without step": (["--grid", "take_profit_pct=1..3"], "a range needs a step"),
    "nothing swept": ([], "nothing to sweep"),
    "fixed and swept": (
        ["--grid", "base_order=50,100"],
        "base_order is both fixed (--set) and swept (--grid)",
    ),
    "bad objective": (["--grid", "take_profit_pct=1,2", "--objective", "luck"], "unknown objective 'luck'"),
    "bad scheduler address": (
        ["--grid", "take_profit_pct=1,2", "--scheduler", "localhost"],
        "is not tcp://HOST:PORT",
    ),
    "bad walk-forward": (["--grid", "take_profit_pct=1,2", "--walk-forward", "1.5"], "--walk-forward 1.5"),
}


def _refused(result: object, message: str) -> None:
    code, stdout, stderr = result.code, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert code != 0
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ") and message in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_sweep_arguments(cli: Cli, tmp_path: Path, case: str) -> None:
    args, message = CASES[case]
    out = tmp_path / "out.parquet"
    data = _csv(tmp_path / "c.csv")
    result = cli(
        "backtest",
        "sweep",
        "--strategy",
        "dca",
        "--data",
        str(data),
        *SETS,
        *args,
        "--parquet",
        str(out),
        "--json",
    )
    _refused(result, message)
    assert not out.exists()


def test_a_scheduler_nobody_listens_on(cli: Cli, tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_closed_port()}"
    data = _csv(tmp_path / "c.csv")
    result = cli(
        "backtest", "sweep", "--strategy", "dca", "--data", str(data), *SETS,
        "--grid", "take_profit_pct=1,2", "--scheduler", address, "--json",
    )  # fmt: skip
    _refused(result, f"--scheduler: no Dask scheduler answers at {address}")
    assert "leave out --scheduler" in result.stderr


def test_a_data_file_with_gaps(cli: Cli, tmp_path: Path) -> None:
    data = _csv(tmp_path / "gappy.csv", drop=slice(100, 130))
    args = [
        "backtest",
        "sweep",
        "--strategy",
        "dca",
        "--data",
        str(data),
        *SETS,
        "--grid",
        "take_profit_pct=1,2",
    ]
    result = cli(*args, "--json")
    first_missing = (
        np.datetime_as_string(np.datetime64(1_700_000_000_000 + 100 * 60_000, "ms"), unit="s") + "Z"
    )
    _refused(result, f"has 1 gap(s); the first: no candles from {first_missing}")
    assert "--allow-gaps" in result.stderr
