"""Issue 17, disk full: paper orders through the real CLI while the store cannot grow.

Two ways to fill the disk without touching the machine's: as root, a small tmpfs mounted for the test
and filled but for FREE bytes (ENOSPC); always, RLIMIT_FSIZE on the CLI process just above the store's
files (EFBIG). Per run: the process ends without a traceback on the terminal (a clear line, exit code
non-zero when the write was refused), the store passes SQLite's integrity and foreign-key checks and the
row checks (every order whole, every paper order's fills adding up), and once space is back the same
home works again.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST_KDF_ENV, PASSPHRASE, SRC
from tests.integration.simtools import SimAdmin
from tests.reliability.counters import Counters
from tests.reliability.env import add_online, sim_key
from tests.reliability.integrity import half_written
from tests.reliability.settings import LONG
from tradewarden.adapters.store.db import Store
from tradewarden.sim import ThreadedSim

CATEGORY = "disk full: paper orders (CLI)"
VENUE = "mexc"
FREE_BYTES = (0, 4096, 65536, 262144) if LONG else (0,)  # tmpfs room left
FSIZE = (4096, 16384, 65536, 262144) if LONG else (16384,)  # RLIMIT_FSIZE: the largest file it may write
ORDERS_PER_RUN = 3 if LONG else 1


@pytest.fixture(scope="module")
def disk_sim() -> Iterator[ThreadedSim]:
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=1719).start()
    SimAdmin(sim.url).call("POST", "/_sim/market", {"venue": VENUE, "symbol": "BTC/USDT", "price": 50000})
    try:
        yield sim
    finally:
        sim.stop()


@contextlib.contextmanager
def small_tmpfs(where: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of `size_kib` mounted at `where` (root only), unmounted after."""
    where.mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(where)], check=True
    )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _env(home: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWARDEN_")}
    env.update(
        TRADEWARDEN_HOME=str(home),
        TRADEWARDEN_PASSPHRASE=PASSPHRASE,
        PYTHONPATH=str(SRC),
        TMPDIR=str(tmp),  # a crash log that cannot go to the home lands here, where the test looks
        COLUMNS="200",
        TERM="dumb",
        TRADEWARDEN_PUBLIC_IP_LOOKUP="off",
        **FAST_KDF_ENV,
    )
    return env


def _trade(env: dict[str, str], fsize: int | None = None) -> subprocess.CompletedProcess[bytes]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tradewarden",
            "trade",
            "buy",
            "Disk",
            "BTC/USDT",
            "0.001",
            "--paper",
            "--json",
        ],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
        preexec_fn=limit,
    )


def _prepare(home: Path, sim: ThreadedSim) -> None:
    from tests.integration.api.conftest import make_app

    app = make_app(home)
    try:
        add_online(app, "Disk", VENUE, sim_key(SimAdmin(sim.url), VENUE), sim.url)
    finally:
        app.close()


def _fill(where: Path, leave: int) -> Path:
    """Fill the file system at `where` but for `leave` bytes."""
    filler = where / "filler"
    stat = os.statvfs(where)
    size = max(stat.f_bavail * stat.f_frsize - leave, 0)
    with filler.open("wb") as out, contextlib.suppress(OSError):
        out.write(b"\0" * size)
    return filler


def _judge(
    home: Path, tmp: Path, runs: list[subprocess.CompletedProcess[bytes]], reliability: Counters
) -> dict[str, Any]:
    store = Store(f"sqlite:///{home / 'tradewarden.db'}")
    try:
        broken = half_written(store, settled=False)
    finally:
        store.dispose()
    refused = [r for r in runs if r.returncode != 0]
    tracebacks = [r.stderr.decode(errors="replace") for r in runs if b"Traceback" in r.stderr + r.stdout]
    reliability.count(CATEGORY, "cases", len(runs))
    reliability.count(CATEGORY, "faults", len(refused))
    reliability.count(CATEGORY, "half_written", len(broken), why=str(broken[:3]))
    return {
        "broken": broken,
        "tracebacks": tracebacks,
        "refused": [(r.returncode, r.stderr.decode(errors="replace").strip()[:300]) for r in refused],
        "crash_logs": sorted(p.name for p in tmp.glob("tradewarden-error-*")),
    }


def _works_again(env: dict[str, str]) -> None:
    again = _trade(env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["mode"] == "paper"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("free", FREE_BYTES)
def test_tmpfs_full(free: int, disk_sim: ThreadedSim, tmp_path: Path, reliability: Counters) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root: the RLIMIT_FSIZE runs below cover the full disk")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with small_tmpfs(tmp_path / "small", 4096) as mount:
        home = mount / "twhome"
        _prepare(home, disk_sim)
        env = _env(home, tmp)
        filler = _fill(mount, free)
        runs = [_trade(env) for _ in range(ORDERS_PER_RUN)]
        filler.unlink()  # the checks open the store, which needs room for its -shm file
        verdict = _judge(home, tmp, runs, reliability)
        print(f"\n[tmpfs, {free} bytes free] {verdict}")
        assert verdict["tracebacks"] == []
        assert verdict["broken"] == []
        if free == 0:
            assert verdict["refused"], "a full disk accepted every order"
        assert all(code == 1 and "could not be written" in said for code, said in verdict["refused"]), verdict
        _works_again(env)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("fsize", FSIZE)
def test_file_size_limit(fsize: int, disk_sim: ThreadedSim, tmp_path: Path, reliability: Counters) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    home = tmp_path / "twhome"
    _prepare(home, disk_sim)
    env = _env(home, tmp)
    runs = [_trade(env, fsize) for _ in range(ORDERS_PER_RUN)]
    verdict = _judge(home, tmp, runs, reliability)
    print(f"\n[RLIMIT_FSIZE {fsize} bytes] {verdict}")
    assert verdict["tracebacks"] == []
    assert verdict["broken"] == []
    assert all(code == 1 and "could not be written" in said for code, said in verdict["refused"]), verdict
    _works_again(env)
