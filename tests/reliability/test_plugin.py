"""The reliability plugin itself: the table is printed, and a must-be-zero count fails a passing run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SRC
from tests.reliability.counters import MUST_BE_ZERO, Counters

ROOT = SRC.parent


def _run(tmp_path: Path, body: str, *extra: str, copies: int = 1) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(
        "from tests.reliability.counters import Counters\n\n\n"
        + "".join(
            f"def test_probe{i}(reliability: Counters) -> None:\n    {body}\n\n\n" for i in range(copies)
        )
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.reliability.plugin",
            "-p",
            "no:cacheprovider",
            *extra,
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_probe.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": f"{ROOT}:{SRC}", "PATH": "/usr/bin:/bin"},
    )


def test_a_clean_run_passes_and_prints_the_table(tmp_path: Path) -> None:
    done = _run(tmp_path, 'reliability.count("probe", "cases", 3)')
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reliability: short configuration" in done.stdout
    assert "probe" in done.stdout and "held: no duplicate" in done.stdout


def test_any_bad_count_fails_a_passing_run(tmp_path: Path) -> None:
    planted = "; ".join(f'reliability.count("probe", "{f}", 1, why="planted {f}")' for f in MUST_BE_ZERO)
    done = _run(tmp_path, planted)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout and "FAILED: these must be zero" in done.stdout
    for field in MUST_BE_ZERO:
        assert f"planted {field}" in done.stdout, field


def test_workers_counts_add_up_on_the_controller(tmp_path: Path) -> None:
    """Under pytest-xdist (`make test` runs it) each worker counts its own tests: the controller adds them
    up, prints one table, and fails the run on a bad count made in any worker."""
    done = _run(tmp_path, 'reliability.count("probe", "cases", 3)', "-n", "2", copies=4)
    assert done.returncode == 0, done.stdout + done.stderr
    [row] = [line for line in done.stdout.splitlines() if line.startswith("probe ")]
    assert row.split()[1] == "12", row  # 4 tests x 3 cases, from two workers
    bad = _run(tmp_path, 'reliability.count("probe", "duplicates", 1, why="planted")', "-n", "2", copies=2)
    assert bad.returncode == 1 and "2 passed" in bad.stdout, bad.stdout + bad.stderr
    assert "probe: duplicates found = 2" in bad.stdout


def test_counts_refuse_unknown_fields_and_negative_numbers() -> None:
    counters = Counters()
    with pytest.raises(ValueError, match="unknown reliability field"):
        counters.count("x", "orders_found")
    with pytest.raises(ValueError, match="only grow"):
        counters.count("x", "cases", -1)
    counters.count("x", "cases", 2)
    assert counters.failures() == [] and counters.table()[-1].split()[:2] == ["total", "2"]
