"""Audit events: who did what, when, to which connection. Details never carry a secret."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tradewarden.adapters.store.models import AuditEvent, Connection, utcnow
from tradewarden.adapters.vault.redaction import redact_text


def record(
    session: Session,
    kind: str,
    actor: str,
    connection: Connection | None = None,
    ts: datetime | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the caller's transaction (redacted as a last line of defence)."""
    event = AuditEvent(
        ts=ts or utcnow(),
        kind=kind,
        actor=actor,
        connection_id=connection.id if connection else None,
        connection_name=connection.name if connection else None,
        detail_json=redact_text(json.dumps(detail, default=str, sort_keys=True)),
    )
    session.add(event)
    return event


def query(
    kind: str | None = None,
    connection_name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[AuditEvent]:
    """A select of audit events, newest first, filtered by what is given."""
    stmt = select(AuditEvent).order_by(AuditEvent.ts.desc(), AuditEvent.id.desc())
    if kind:
        stmt = stmt.where(AuditEvent.kind == kind)
    if connection_name:
        stmt = stmt.where(AuditEvent.connection_name == connection_name)
    if since:
        stmt = stmt.where(AuditEvent.ts >= since)
    if until:
        stmt = stmt.where(AuditEvent.ts < until)
    return stmt
