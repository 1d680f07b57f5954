"""Counts the metrics endpoint reports: connections by status and audit events by kind."""

from __future__ import annotations

from sqlalchemy import func, select

from tradewarden.adapters.exchanges.errors import STATUSES
from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import AuditEvent, Connection

# Every status a stored connection can have, so a dashboard panel shows each one even at zero.
CONNECTION_STATUSES = ("untested", *STATUSES)


def connections_by_status(store: Store) -> dict[str, int]:
    """How many connections are in each status (every known status present, zero when none)."""
    with store.session() as session:
        rows = session.execute(select(Connection.status, func.count()).group_by(Connection.status)).all()
    counts = dict.fromkeys(CONNECTION_STATUSES, 0)
    counts.update({str(status): int(n) for status, n in rows})
    return counts


def audit_events_by_kind(store: Store) -> dict[str, int]:
    """How many audit events of each kind the store holds."""
    with store.session() as session:
        rows = session.execute(select(AuditEvent.kind, func.count()).group_by(AuditEvent.kind)).all()
    return {str(kind): int(n) for kind, n in rows}
