"""A fresh simulator per test (clean request log and weight meters) on the virtual clock, and a home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.simtools import SimAdmin
from tradewarden.sim import ThreadedSim

DAY_MS = 86_400_000
# The simulator's virtual "now": 2026-02-01T00:00Z; every download in these tests ends before it.
NOW_MS = 1_769_904_000_000


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    """A simulator on an ephemeral loopback port with its clock at NOW_MS (virtual, real speed)."""
    server = ThreadedSim(host="127.0.0.1", port=0, seed=7).start()
    try:
        SimAdmin(server.url).call("POST", "/_sim/clock", {"mode": "virtual", "start": NOW_MS, "speed": 1})
        yield server
    finally:
        server.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TRADEWARDEN_HOME of the test's own."""
    path = tmp_path / "home"
    monkeypatch.setenv("TRADEWARDEN_HOME", str(path))
    return path
