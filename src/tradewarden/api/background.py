"""Jobs that run for the server's lifetime: the health monitor and the audit-event feed."""

from __future__ import annotations

import asyncio
import contextlib
import json

from sqlalchemy import select

from tradewarden.adapters.store.models import AuditEvent
from tradewarden.api.state import ServerState
from tradewarden.services.connections.health import HealthMonitor

FEED_POLL_S = 0.5


async def health_monitor(state: ServerState, stop: asyncio.Event) -> None:
    """Re-test every connection each `monitor_interval_s` (status changes land in the audit log)."""
    monitor = HealthMonitor(state.app, state.passphrase, interval_s=state.monitor_interval_s)
    state.monitor = monitor
    await monitor.run(stop)


def _latest_id(state: ServerState) -> int:
    with state.app.store.session() as session:
        return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def _events_after(state: ServerState, last_id: int) -> list[AuditEvent]:
    with state.app.store.session() as session:
        stmt = select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(500)
        return list(session.scalars(stmt))


async def audit_feed(state: ServerState, stop: asyncio.Event) -> None:
    """Publish every new audit event (from this process or the CLI) to the live stream.

    Polling the table catches writers in other processes too, which an in-process hook would miss.
    """
    last_id = await asyncio.to_thread(_latest_id, state)
    while not stop.is_set():
        for row in await asyncio.to_thread(_events_after, state, last_id):
            last_id = row.id
            event = {
                "type": "connection.status" if row.kind == "connection.status_changed" else "audit",
                "id": row.id,
                "ts": row.ts.isoformat(),
                "kind": row.kind,
                "actor": row.actor,
                "connection_id": row.connection_id,
                "connection_name": row.connection_name,
                "detail": json.loads(row.detail_json),
            }
            state.events.publish(event)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=FEED_POLL_S)
