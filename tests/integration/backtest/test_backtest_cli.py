"""`tradewarden backtest run` through the real CLI: the JSON contract, the report, and each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli

# The first test in a fresh checkout compiles the numba kernels (tens of seconds on a busy 2-core
# machine; cached in __pycache__ afterwards): allow more than the suite's 120 s default.
pytestmark = pytest.mark.timeout(900)

DATA = Path(__file__).resolve().parents[2] / "data" / "candles"
SMALL = DATA / "bitstamp-btcusd-1m-2020-01-01.csv"
DAILY = DATA / "binance-btcusdt-1d-2020.csv"
KEYS = [
    "strategy", "fills", "candles", "from", "to", "trades", "wins", "losses", "groups", "addons_max",
    "profit", "profit_pct", "fees", "max_drawdown_pct", "max_margin_used", "recovery_time_pct", "sharpe",
    "candles_per_s",
]  # fmt: skip
EXAMPLE = [
    "--set", "base_order=100", "--set", "addon_order=150", "--set", "addon_count=3",
    "--set", "addon_deviation_pct=2", "--set", "addon_step_scale=1", "--set", "addon_volume_scale=1.5",
    "--set", "take_profit_pct=1", "--set", "stop_loss_pct=8", "--set", "stop_loss_from=first",
]  # fmt: skip
HEADER = "timestamp,open,high,low,close,volume\n"


def _run_json(cli: Cli, *args: str) -> dict[str, object]:
    result = cli("backtest", "run", *args, "--json")
    assert result.code == 0, result.stderr
    body = json.loads(result.stdout)
    assert isinstance(body, dict)
    return body


def test_json_is_exactly_the_contract_object(cli: Cli) -> None:
    body = _run_json(cli, "--strategy", "dca", "--data", str(DAILY), *EXAMPLE)
    assert list(body) == KEYS
    assert body["strategy"] == "dca" and body["fills"] == "ours"
    assert body["candles"] == 366
    assert body["from"] == "2020-01-01T00:00:00Z" and body["to"] == "2020-12-31T00:00:00Z"
    for key in ("trades", "wins", "losses", "groups", "addons_max", "candles"):
        assert isinstance(body[key], int), key
    for key in ("profit", "profit_pct", "fees", "max_drawdown_pct", "max_margin_used", "recovery_time_pct"):
        assert isinstance(body[key], int | float), key
    assert body["wins"] + body["losses"] == body["trades"]
    assert body["groups"] >= body["trades"] >= 1
    assert 0 <= body["addons_max"] <= 3
    assert isinstance(body["candles_per_s"], float) and body["candles_per_s"] > 0


def test_reference_and_fast_print_the_same_figures(cli: Cli) -> None:
    fast = _run_json(cli, "--strategy", "dca", "--data", str(SMALL), "--fast", *EXAMPLE)
    ref = _run_json(cli, "--strategy", "dca", "--data", str(SMALL), "--reference", *EXAMPLE)
    fast.pop("candles_per_s")
    ref.pop("candles_per_s")
    assert fast == ref


def test_freqtrade_convention_and_grid(cli: Cli) -> None:
    ft = _run_json(cli, "--strategy", "dca", "--data", str(DAILY), "--fills", "freqtrade", *EXAMPLE)
    assert ft["fills"] == "freqtrade" and ft["trades"] >= 1
    grid = _run_json(
        cli, "--strategy", "grid", "--data", str(DAILY),
        "--set", "lower=6000", "--set", "upper=12000", "--set", "levels=10", "--set", "order_amount=50",
    )  # fmt: skip
    assert grid["strategy"] == "grid" and grid["trades"] >= 1 and grid["addons_max"] == 0


def test_human_output_and_report(cli: Cli, tmp_path: Path) -> None:
    report = tmp_path / "run.html"
    args = ["--strategy", "dca", "--data", str(DAILY), *EXAMPLE, "--report", str(report)]
    result = cli("backtest", "run", *args)
    assert result.code == 0, result.stderr
    assert "annualised return" in result.stdout and "sharpe" in result.stdout
    text = report.read_text()
    assert text.startswith("<!doctype html>") and "<svg" in text and "max_drawdown_pct" in text
    assert [p.name for p in tmp_path.iterdir()] == ["run.html"]


def test_help_shows_an_example(cli: Cli) -> None:
    result = cli("backtest", "run", "--help")
    assert result.code == 0
    assert "tradewarden backtest run --strategy dca --data" in " ".join(result.stdout.split())


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    return path


T = 1_577_836_800_000
GOOD_ROW = f"{T},10,11,9,10,1\n"
BAD_FILES = {
    "empty file": ("", "the file is empty"),
    "unsorted": (HEADER + f"{T + 60_000},10,11,9,10,1\n" + GOOD_ROW, "sort the rows oldest first"),
    "duplicated": (HEADER + GOOD_ROW + GOOD_ROW, "is duplicated"),
    "nan": (HEADER + GOOD_ROW + f"{T + 60_000},10,nan,9,10,1\n", "row 2: high is NaN"),
    "negative": (HEADER + GOOD_ROW + f"{T + 60_000},10,11,-9,10,1\n", "row 2: low is -9"),
    "ohlc": (HEADER + f"{T},10,11,9,12,1\n", "lie outside"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_files_one_error_line_nothing_written(cli: Cli, tmp_path: Path, case: str) -> None:
    body, message = BAD_FILES[case]
    report = tmp_path / "out.html"
    result = cli(
        "backtest", "run", "--strategy", "dca", "--data", str(_write(tmp_path, body)), *EXAMPLE,
        "--report", str(report), "--json",
    )  # fmt: skip
    _assert_refused(result, message)
    assert not report.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]
    assert not cli.home.exists(), "a backtest writes nothing in TRADEWARDEN_HOME"


def _assert_refused(result: object, message: str) -> None:
    code, stdout, stderr = result.code, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert code != 0
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ") and message in lines[0], lines[0]


BAD_ARGS = {
    "timeframe mismatch": (
        ["--data", str(SMALL), "--timeframe", "5m"],
        "rows are 1m apart, but --timeframe says 5m",
    ),
    "bad timeframe": (["--data", str(SMALL), "--timeframe", "5x"], "timeframe '5x' is not understood"),
    "unknown pair": (["--data", str(SMALL), "--pair", "BTCUSD"], "unknown pair 'BTCUSD'"),
    "download mode": (
        ["--exchange", "binance", "--pair", "BTC/USDT", "--timeframe", "1m", "--since", "2024-01-01"],
        "no 1m candles of BTC/USDT on binance are stored; run `tradewarden data download",
    ),
    "no data": ([], "pass --data FILE"),
    "missing file": (["--data", "/nonexistent/c.csv"], "no such file"),
    "unknown strategy": (["--data", str(SMALL), "--strategy", "martingale"], "unknown strategy 'martingale'"),
    "unknown fills": (["--data", str(SMALL), "--fills", "vectorbt"], "unknown fill convention"),
    "unknown setting": (["--data", str(SMALL), "--set", "take_profit=1"], "not a dca setting"),
    "malformed setting": (["--data", str(SMALL), "--set", "take_profit_pct"], "expected KEY=VALUE"),
    "margin limit": (["--data", str(SMALL), "--margin-limit", "500"], "above the margin limit 500"),
    "bad margin limit": (["--data", str(SMALL), "--margin-limit", "-5"], "must be above zero"),
    "freqtrade grid": (
        ["--data", str(SMALL), "--strategy", "grid", "--fills", "freqtrade"],
        "DCA backtests only",
    ),
    "freqtrade recovery": (
        ["--data", str(SMALL), "--fills", "freqtrade", "--set", "recovery_drawdown_pct=5"],
        "not supported: Recovery Mode",
    ),
    "fast not covering rsi": (
        ["--data", str(SMALL), "--fast", "--set", "entry=rsi:1h:14:30"],
        "the fast path does not cover entry=rsi",
    ),
    "report not html": (["--data", str(SMALL), "--report", "out.txt"], "must end in .html"),
}


@pytest.mark.parametrize("case", BAD_ARGS, ids=list(BAD_ARGS))
def test_bad_arguments_one_error_line(cli: Cli, tmp_path: Path, case: str) -> None:
    args, message = BAD_ARGS[case]
    if "--strategy" not in args:
        args = ["--strategy", "dca", *args]
    settings = [] if "grid" in args else EXAMPLE
    report = tmp_path / "out.html"
    extra = [] if "--report" in args else ["--report", str(report)]
    result = cli("backtest", "run", *args, *settings, *extra)
    _assert_refused(result, message)
    assert not report.exists()
    assert not cli.home.exists()


def test_real_console_script_prints_the_contract(cli: Cli) -> None:
    base = ["backtest", "run", "--strategy", "dca", "--data", str(SMALL)]
    result = cli(*base, *EXAMPLE, "--json", subprocess_=True)
    assert result.code == 0, result.stderr
    assert list(json.loads(result.stdout)) == KEYS
    bad = cli(*base, "--timeframe", "1h", subprocess_=True)
    assert bad.code == 1 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        f"Error: --timeframe: {SMALL}: rows are 1m apart, but --timeframe says 1h; "
        "pass --timeframe 1m or a file of 1h candles"
    ]
