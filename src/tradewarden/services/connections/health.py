"""The health monitor: re-tests connections on an interval, and at once after an authentication error."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

from tradewarden.adapters.vault.secret import Secret
from tradewarden.logs import get_logger
from tradewarden.services.app import App
from tradewarden.services.connections.checks import (
    load_targets,
    name_public_ip,
    record_reports,
    run_targets,
)
from tradewarden.services.connections.tester import ConnectionReport

log = get_logger(__name__)
StatusListener = Callable[[str, str | None, str], None]
MONITOR_ACTOR = "monitor"


class HealthMonitor:
    """Tests every connection each `interval_s`; `report_auth_error(name)` asks for an early re-test."""

    def __init__(
        self, app: App, passphrase: Secret, interval_s: float = 300.0, timeout_ms: int = 30_000
    ) -> None:
        self.app = replace(app, actor=MONITOR_ACTOR)  # its re-tests are the monitor's, not a user's
        self.interval_s = interval_s
        self.timeout_ms = timeout_ms
        self._passphrase = passphrase
        self._wake = asyncio.Event()
        self._urgent: set[str] = set()
        self._last: dict[str, str] = {}
        self.listeners: list[StatusListener] = []
        self.rounds = 0

    def report_auth_error(self, name: str) -> None:
        """An exchange call of `name` failed authentication: re-test it without waiting for the interval."""
        self._urgent.add(name)
        self._wake.set()

    async def run_once(self, names: Sequence[str] | None = None) -> list[ConnectionReport]:
        """Test the named connections (all when None), record results, tell listeners of status changes."""
        targets = await asyncio.to_thread(load_targets, self.app, self._passphrase, names)
        reports = await run_targets(targets, self.timeout_ms)
        await asyncio.to_thread(name_public_ip, self.app, reports)
        await asyncio.to_thread(record_reports, self.app, targets, reports)
        for report in reports:
            previous = self._last.get(report.name)
            self._last[report.name] = report.status
            if previous != report.status:
                log.info("connection status", connection=report.name, previous=previous, status=report.status)
                for listener in self.listeners:
                    try:
                        listener(report.name, previous, report.status)
                    except Exception:  # one listener's failure must not hide the change from the rest
                        log.exception("status listener failed", connection=report.name)
        self.rounds += 1
        return reports

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set: a full round each interval, urgent re-tests in between."""
        while not stop.is_set():
            urgent, self._urgent = self._urgent, set()
            try:
                await self.run_once(sorted(urgent) if urgent else None)
            except Exception:  # a bad round must not end monitoring; the next one retries
                log.exception("health round failed")
            self._wake.clear()
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            _done, pending = await asyncio.wait(
                waiters, timeout=self.interval_s, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
