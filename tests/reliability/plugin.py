"""The reliability plugin: a `reliability` fixture that counts, a summary table, and a verdict.

Like the attack table of tests/conftest.py, the table is printed by `pytest_terminal_summary`; unlike it,
the counts judge the run: any duplicate order, lost order, leaked secret, 5xx answer or half-written row
counted by any test makes the session fail (exit code 1), even when every test passed.

Loaded by tests/conftest.py (`pytest_plugins`), not as a directory conftest: with pytest-xdist the
controller collects nothing, so only plugins named at the root run there. Each worker hands its counts
to the controller at the end (`workeroutput`), which adds them up, prints the table and judges.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.reliability.counters import COUNTERS, Counters
from tests.reliability.settings import MODE

BOT_TESTS = "tests/integration/bots/"
BOT_CATEGORY = "bot tests (tests/integration/bots)"


class BotTestsCounter:
    """Counts the bot tests run in the same session (`make reliability` runs them with their long knobs)
    into the table: each passed test a case, and the SIGKILLs and faulted order sends they print. A
    registered plugin, not a conftest hook: those only see the tests of their own directory. Under xdist
    only the controller counts (it sees every worker's reports, captured output included)."""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count one finished bot test."""
        if report.when != "call" or not report.nodeid.startswith(BOT_TESTS):
            return
        if report.passed:
            COUNTERS.count(BOT_CATEGORY, "cases")
        out = report.capstdout
        kills = sum(int(n) for n in re.findall(r"\[restart\] (\d+) SIGKILLs", out))
        kills += len(re.findall(r"\[leases\] \d+ bots; split before the kill", out))
        COUNTERS.count(BOT_CATEGORY, "kills", kills)
        COUNTERS.count(
            BOT_CATEGORY, "faults", sum(int(n) for n in re.findall(r"order sends \d+, faulted (\d+)", out))
        )


def pytest_configure(config: pytest.Config) -> None:
    """Register the bot tests' counter for the whole session (on the controller when under xdist)."""
    if hasattr(config, "workerinput"):
        return
    if not config.pluginmanager.has_plugin("reliability-bot-tests"):
        config.pluginmanager.register(BotTestsCounter(), "reliability-bot-tests")


@pytest.fixture
def reliability() -> Counters:
    """The run's counters: `reliability.count(category, field, n)`."""
    return COUNTERS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when a must-be-zero counter is not zero; a worker hands its counts over."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["tw_reliability"] = COUNTERS.export()
    if COUNTERS.failures() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """(xdist controller) Add up a finished worker's counts."""
    COUNTERS.merge(getattr(node, "workeroutput", {}).get("tw_reliability"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the reliability table (and why the run failed, when it did)."""
    if not COUNTERS.counts:
        return
    tr = terminalreporter
    tr.section(f"reliability: {MODE} configuration (TW_RELIABILITY=short|long)")
    for line in COUNTERS.table():
        tr.write_line(line)
    failures = COUNTERS.failures()
    if failures:
        tr.write_line("FAILED: these must be zero:", red=True, bold=True)
        for line in failures + COUNTERS.evidence:
            tr.write_line(f"  {line}", red=True)
    else:
        tr.write_line("held: no duplicate, no lost order, no leak, no 5xx, no half-written row", green=True)
