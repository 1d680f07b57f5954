"""CI runs `make test` (.ci/run), and `make test` runs `make lint` first (issue 10): ruff and mypy gate CI."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _prerequisites(makefile: str, target: str) -> list[str]:
    match = re.search(rf"^{re.escape(target)}:(.*)$", makefile, re.MULTILINE)
    assert match, f"no {target} target"
    return match.group(1).split()


def _recipe(makefile: str, target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert match, f"no recipe for {target}"
    return match.group(1)


def test_ci_runs_make_test_and_make_test_runs_lint() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "lint" in _prerequisites(makefile, "test")
    lint = _recipe(makefile, "lint")
    for command in ("ruff check", "ruff format --check", "mypy"):
        assert command in lint, command
