"""The test run's own scheduling (tests/scheduling.py): the slow files it names exist, and come first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import SRC
from tests.scheduling import SLOW_FILES, slow_rank

ROOT = SRC.parent


def test_every_slow_file_named_exists() -> None:
    """A renamed or removed slow file would silently fall back to the end of the run."""
    missing = [path for path in SLOW_FILES if not (ROOT / path).is_file()]
    assert missing == []
    assert len(set(SLOW_FILES)) == len(SLOW_FILES)


def test_slow_files_rank_first_in_their_order() -> None:
    ranks = [slow_rank(path) for path in SLOW_FILES]
    assert ranks == sorted(ranks) == list(range(len(SLOW_FILES)))
    assert slow_rank("tests/unit/test_scheduling.py") == len(SLOW_FILES)


PROBE_TEST = """import os, time


def test_it() -> None:
    with open(os.environ["PROBE_LOG"], "a") as log:
        log.write(f"NAME {os.environ['PYTEST_XDIST_WORKER']} {time.time()}\\n")
    time.sleep(SLEEP)
"""


def test_nothing_waits_behind_a_slow_file(tmp_path: Path) -> None:
    """Two workers, a slow one-test file and three quick ones: the slow file starts first, and the quick
    ones run on the other worker, except the lightest one, sent to free the slow file's held test."""
    probe, log = tmp_path / "probe", tmp_path / "ran.log"
    probe.mkdir()
    (probe / "conftest.py").write_text(
        "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n"
        "from tests.conftest import pytest_xdist_make_scheduler  # noqa: F401\n"
    )
    files = {"test_a_slow.py": 4.0, "test_b_mid.py": 1.0, "test_c_mid.py": 1.0, "test_d_quick.py": 0.0}
    for name, sleep in files.items():
        (probe / name).write_text(PROBE_TEST.replace("NAME", name).replace("SLEEP", str(sleep)))
    env = {"PYTHONPATH": f"{ROOT}:{SRC}", "PATH": "/usr/bin:/bin", "TW_SLOW_FILES": "test_a_slow.py"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider",
         "--rootdir", str(probe), str(probe)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**env, "PROBE_LOG": str(log)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    ran = {
        name: (worker, float(at))
        for name, worker, at in (line.split() for line in log.read_text().splitlines())
    }
    assert set(ran) == set(files), ran
    slow_worker, slow_start = ran["test_a_slow.py"]
    assert slow_start == min(at for w, at in ran.values() if w == slow_worker)  # its worker's first file
    behind = sorted(n for n, (worker, _at) in ran.items() if worker == slow_worker and n != "test_a_slow.py")
    assert behind == ["test_d_quick.py"], ran  # only the lightest file behind it; both mid ones elsewhere
