"""`data download` against the simulator: 30 days of 1m candles for two pairs, a 429, a killed run."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from tests.integration.data.conftest import DAY_MS, NOW_MS
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.market.budget import BudgetLimits
from tradewarden.adapters.market.hub import HubConfig, MarketHub
from tradewarden.cli.main import app
from tradewarden.services.backtest import data as store
from tradewarden.sim import ThreadedSim

SINCE = NOW_MS - 31 * DAY_MS
UNTIL = SINCE + 30 * DAY_MS - 60_000  # 30 days of 1m candles: 43,200
EXPECTED = 30 * 1440
PAIRS = ("BTC/USDT", "ETH/USDT")
WINDOW_S = 2.0
SIM_WEIGHT_LIMIT = 60  # per WINDOW_S: a burst of 30 kline pages would break it; the hub must pace itself
TOOL = [str(Path(sys.executable).parent / "tradewarden")]


def _note(ticks: list[tuple[int, int]], done: int, total: int) -> None:
    ticks.append((done, total))


def test_two_pairs_thirty_days_with_a_429_within_the_weight_limit(sim: ThreadedSim, tmp_path: Path) -> None:
    admin = SimAdmin(sim.url)
    admin.call(
        "POST",
        "/_sim/venue",
        {"venue": "binance", "weight_limit": SIM_WEIGHT_LIMIT, "weight_window_s": WINDOW_S},
    )
    admin.fault("binance", "http_429", rate=1.0, count=2)
    root = tmp_path / "data"
    # the hub's budget in ccxt cost units: ccxt prices Binance spot weight at 0.2 a unit (a kline page of
    # weight 2 costs 0.4), so 12 units with the hub's 0.8 headroom is 48 weight per rolling window, under 60
    config = HubConfig(endpoints={"binance": sim.url}, limits={"binance": BudgetLimits(12, WINDOW_S)})
    seen: dict[str, list[tuple[int, int]]] = defaultdict(list)

    async def run() -> list[store.DownloadReport]:
        hub = MarketHub(config)
        try:
            return [
                await store.download(
                    hub,
                    root,
                    "binance",
                    pair,
                    "1m",
                    SINCE,
                    UNTIL,
                    progress=functools.partial(_note, seen[pair]),
                )
                for pair in PAIRS
            ]
        finally:
            await hub.close()

    reports = asyncio.run(run())
    log = admin.requests("binance")
    refused = [(r["path"], r["status"], r["fault"], r["code"]) for r in log if r["status"] != 200]
    assert [r[2] for r in refused] == ["http_429", "http_429"], refused  # the injected ones, and no other
    assert all(r["status"] in (200, 429) for r in log)
    # weight per fixed window of the simulator's meter never above its limit
    per_window: dict[int, int] = defaultdict(int)
    for r in log:
        per_window[int(r["ts"] / 1000 // WINDOW_S)] += int(r.get("weight") or 0)
    assert max(per_window.values()) <= SIM_WEIGHT_LIMIT
    for pair, report in zip(PAIRS, reports, strict=True):
        assert report.fetched == EXPECTED and report.stored == EXPECTED and not report.gaps
        assert seen[pair][-1] == (EXPECTED, EXPECTED)
        assert [d for d, _ in seen[pair]] == sorted(d for d, _ in seen[pair])  # the bar only moves forward
        folder, manifest = store.find_series(root, "binance", pair, "1m")
        check = store.check_series(folder, manifest)
        assert check.ok and check.rows == EXPECTED, check.to_json()
        candles = store.load(root, "binance", pair, "1m")
        assert int(candles.time[0]) == SINCE and int(candles.time[-1]) == UNTIL
    assert sum(r.retries for r in reports) + sum(1 for r in log if r["status"] == 429) >= 2


def _manifest_chunks(home: Path) -> int:
    path = home / "data" / "binance" / "BTC_USDT" / "1m" / "manifest.json"
    try:
        return len(json.loads(path.read_text())["chunks"])
    except (FileNotFoundError, ValueError):
        return 0


def test_a_killed_download_resumes_where_it_stopped(sim: ThreadedSim, home: Path) -> None:
    admin = SimAdmin(sim.url)
    admin.fault("binance", "latency", rate=1.0, ms=150)  # slow enough to kill it half way
    env = {**os.environ, "TRADEWARDEN_HOME": str(home)}
    args = [
        *TOOL,
        "data",
        "download",
        "--exchange",
        "binance",
        "--pair",
        "BTC/USDT",
        "--timeframe",
        "1m",
        "--since",
        store.iso(SINCE),
        "--until",
        store.iso(UNTIL),
        "--endpoint",
        sim.url,
        "--json",
    ]
    first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _manifest_chunks(home) < 1 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert first.poll() is None, "the download finished before it could be killed"
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=10)
    stored = _manifest_chunks(home)
    assert stored >= 1
    admin.clear_faults()
    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr
    body = json.loads(second.stdout)
    assert body["resumed_from"] is not None and body["resumed_from"] > store.iso(SINCE)
    assert body["fetched"] < EXPECTED and body["stored"] == EXPECTED
    assert body["requests"] < 44  # the first run's pages were not fetched again
    runner = CliRunner()
    checked = runner.invoke(app, ["data", "check", "--json"], env={"TRADEWARDEN_HOME": str(home)})
    assert checked.exit_code == 0, checked.output
    [series] = json.loads(checked.stdout)
    assert series["ok"] and series["candles"] == EXPECTED
    listed = runner.invoke(app, ["data", "list", "--json"], env={"TRADEWARDEN_HOME": str(home)})
    assert json.loads(listed.stdout)[0]["from"] == store.iso(SINCE)
    assert json.loads(listed.stdout)[0]["to"] == store.iso(UNTIL)
    candles = store.load(home / "data", "binance", "BTC/USDT", "1m")
    assert np.all(np.diff(candles.time) == 60_000)
