"""Jobs that run for the server's lifetime: health monitor, audit-event feed, market hub, bot runner;
and one at start: reconciling manual live orders a crash may have left unresolved."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import replace
from datetime import UTC, datetime

from tradewarden.api.state import ServerState
from tradewarden.services import events, reconcile, vault_session
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.bots.streams import streams_enabled
from tradewarden.services.connections.health import HealthMonitor

log = logging.getLogger(__name__)


async def health_monitor(state: ServerState, stop: asyncio.Event) -> None:
    """Re-test every connection each `monitor_interval_s` (status changes land in the audit log)."""
    monitor = HealthMonitor(state.app, state.passphrase, interval_s=state.monitor_interval_s)
    state.monitor = monitor
    await monitor.run(stop)


async def audit_feed(state: ServerState, stop: asyncio.Event) -> None:
    """Publish every audit event this process commits to the live stream, for the server's lifetime.

    No polling: the store's commit hook hands each committed audit row to the event bus (typed events,
    services/events.py). Writes by other processes (the CLI) are not seen live; they are in the audit log.
    """
    with events.audit_publishing(state.app.store):
        await stop.wait()


async def market_hub(state: ServerState, stop: asyncio.Event) -> None:
    """The process's market-data hub and the connections' private clients, for the server's lifetime."""
    vault = state.vault
    if vault is None:  # the data key is held by now: this reuses it (no second Argon2id run)
        vault = state.vault = await asyncio.to_thread(
            vault_session.VaultSession.open, state.app, state.passphrase
        )
    async with vault_session.market_for(vault) as hub:
        state.market = hub
        try:
            await stop.wait()
        finally:
            state.market = None


async def bot_runner(state: ServerState, stop: asyncio.Event) -> None:
    """Drive the bots this process holds a lease on (services/bots/runner.py), on the server's hub."""
    while state.market is None and not stop.is_set():  # the hub job starts alongside this one
        await asyncio.sleep(0.05)
    if stop.is_set():
        return
    interval = float(os.environ.get("TRADEWARDEN_BOT_INTERVAL_S", "2"))

    def report(name: str) -> None:
        if state.monitor is not None:
            state.monitor.report_auth_error(name)

    config = RunnerConfig(interval_s=interval, streams=streams_enabled())
    runner = BotRunner(state.app, state.market, state.vault, config, report)
    state.runner = runner
    await runner.run(stop)


STARTUP_ACTOR = "startup"  # the audit trail's name for what the server does by itself when it starts


async def reconcile_manual_orders(state: ServerState, stop: asyncio.Event) -> None:
    """Once at start: reconcile every connection's manual live orders not yet final with its exchange
    (services/reconcile.py), on the server's hub; each connection audited, a failing one never stops the
    others nor the server. Orders placed after the server started are their senders' and not touched."""
    started = datetime.now(UTC)
    while state.market is None and not stop.is_set():  # the hub job starts alongside this one
        await asyncio.sleep(0.05)
    if stop.is_set() or state.vault is None:
        return
    app = replace(state.app, actor=STARTUP_ACTOR)
    work = asyncio.ensure_future(reconcile.reconcile_all(app, state.vault, state.market, before=started))
    halt = asyncio.ensure_future(stop.wait())
    await asyncio.wait({work, halt}, return_when=asyncio.FIRST_COMPLETED)
    for task in (work, halt):
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if work.done() and not work.cancelled() and work.exception() is not None:
        # reconcile_all catches per connection; this is a failure to even list them (the store)
        log.warning("startup reconciliation did not run: %s", type(work.exception()).__name__)


async def notifications(state: ServerState, stop: asyncio.Event) -> None:
    """Send webhook and Telegram notifications (services/notifications) for the server's lifetime."""
    from tradewarden.services.notifications import run_until

    await run_until(state.app, state.passphrase, stop, vault=state.vault)
