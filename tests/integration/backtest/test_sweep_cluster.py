"""A sweep on a separately started `dask scheduler` and two `dask worker` processes on loopback."""

from __future__ import annotations

import importlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.backtest.sweep_data import BASE, GRID, candles, one_by_one, without_speed
from tradewarden.services.backtest.sweep import SweepRequest, parse_grid, run_sweep

DASK = str(Path(sys.executable).parent / "dask")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def scheduler() -> Iterator[str]:
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, free ports, no dashboards."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        client = importlib.import_module("distributed").Client(address, timeout=60, set_as_default=False)
        try:
            client.wait_for_workers(2, timeout=90)
        finally:
            client.close()
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


def test_grid_on_an_external_scheduler_with_two_workers_matches_one_by_one(scheduler: str) -> None:
    series = candles()
    result = run_sweep(
        series, SweepRequest(strategy="dca", base=BASE, axes=parse_grid("dca", GRID), scheduler=scheduler)
    )
    assert result.workers == 2
    assert len(result.results) == 231 and len(result.failed) == 33
    for item in result.results:
        assert without_speed({k: v for k, v in item.items() if k != "settings"}) == one_by_one(
            series, item["settings"]
        )
    # the cluster outlives the sweep: a second client still finds both workers
    client = importlib.import_module("distributed").Client(scheduler, timeout=30, set_as_default=False)
    try:
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 2
    finally:
        client.close()
