"""How `make test` spreads test files over pytest-xdist workers: the slowest files first, one file at a time.

xdist's own `--dist loadfile` orders files by how many tests they hold and queues more files on a worker
while its first still runs. Our slowest files hold one test each (100 bots for simulated hours, a month
replayed, two runner processes on PostgreSQL): they came last and stacked up behind each other on one
worker while the others sat idle. Here the known slow files are collected first, in order of their
measured durations, and each worker takes the next file from the front of the queue (longest first) when
it is down to its last test. A worker holds its last test until it is sent another (pytest needs the next
item to tear down), so one whose last test is a slow one is sent the lightest file left instead: the slow
files run side by side from the start, and nothing heavy waits behind them.

`TW_SLOW_FILES` (comma-separated paths) replaces the list, for the scheduler's own test.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

# Slowest first, from `make test --durations` and `make reliability --durations` (2 December 2026).
SLOW_FILES = (
    "tests/integration/bots/test_many_bots.py",
    "tests/integration/bots/test_month_replay.py",
    "tests/integration/bots/test_restart_kill.py",
    "tests/integration/bots/test_leases_pg.py",
    "tests/reliability/test_bot_leases_pg.py",
    "tests/integration/bots/test_live_faults.py",
    "tests/reliability/test_bot_fault_matrix.py",
    "tests/reliability/test_fault_matrix.py",
    "tests/reliability/test_crash.py",
    "tests/reliability/test_bot_stream_faults.py",
    "tests/integration/execution/test_kill_reconcile.py",
    "tests/integration/execution/test_live_faults.py",
    "tests/e2e/test_issue10.py",
    "tests/reliability/test_leak_scan.py",
    "tests/reliability/test_bot_crash_serve.py",
)


def slow_files() -> tuple[str, ...]:
    """The slow files, slowest first (TW_SLOW_FILES replaces SLOW_FILES)."""
    named = os.environ.get("TW_SLOW_FILES")
    return tuple(p.strip() for p in named.split(",") if p.strip()) if named else SLOW_FILES


def slow_rank(path: str) -> int:
    """A file's place in the run: its index among the slow files, else after all of them."""
    files = slow_files()
    return files.index(path) if path in files else len(files)


def is_slow(nodeid: str) -> bool:
    """Whether a test belongs to one of the slow files."""
    return slow_rank(nodeid.split("::", 1)[0]) < len(slow_files())


def unique_nodeids(items: list[pytest.Item]) -> None:
    """Give each schemathesis operation test its own node id. Schemathesis names its items
    `test_api[POST /api/v1/bots]` but leaves every node id at `...::test_api`; xdist tells items apart by
    node id, so under it the 47 operations collapsed into one test and the rest never ran."""
    for item in items:
        last = item.nodeid.rpartition("::")[2]
        if item.parent is not None and last != item.name and item.name.startswith(last + "["):
            item._id = item.parent.id.child(item.name)  # how pytest itself names a child node


def order_slowest_first(items: list[pytest.Item]) -> None:
    """Reorder `items` in place: the slow files first (their tests in file order), the rest as collected."""
    items.sort(key=lambda item: slow_rank(item.nodeid.split("::", 1)[0]))  # stable: keeps file order


def greedy_file_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's file scheduling in collection order (slowest first), sending a worker whose last test is a
    slow one the lightest file left rather than the next heavy one."""
    from xdist.scheduler import LoadFileScheduling

    class SlowFirstFileScheduling(LoadFileScheduling):
        """One file at a time per worker, slowest first; a light file behind a slow test."""

        def _reschedule(self, node: Any) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            pending = [
                nodeid
                for unit in self.assigned_work[node].values()
                for nodeid, done in unit.items()
                if not done
            ]
            if len(pending) > 1:
                return  # it has a test to run and the next one to hold
            if pending and is_slow(pending[0]):
                lightest = next(reversed(self.workqueue))
                self.workqueue.move_to_end(lightest, last=False)
            self._assign_work_unit(node)

    config.option.loadscopereorder = False
    return SlowFirstFileScheduling(config, log)
