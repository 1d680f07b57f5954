"""The audit log, filtered and paged."""

from __future__ import annotations

import json
from datetime import datetime

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from tradewarden.adapters import audit
from tradewarden.api.auth import ReadPrincipal, StateDep
from tradewarden.api.errors import ERROR_RESPONSES
from tradewarden.api.schemas import AuditEventOut, AuditPageOut

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)


@router.get("", response_model=AuditPageOut, summary="Audit events")
def list_audit(
    _: ReadPrincipal,
    state: StateDep,
    kind: str | None = Query(None, max_length=48, examples=["connection.tested"]),
    connection: str | None = Query(None, max_length=64, description="Connection name"),
    since: datetime | None = Query(None, description="ISO 8601, inclusive"),
    until: datetime | None = Query(None, description="ISO 8601, exclusive"),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=500),
) -> AuditPageOut:
    """Newest first. Filter by kind, connection name and time."""
    stmt = audit.query(kind, connection, since, until)
    with state.app.store.session() as session:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = session.scalars(stmt.offset((page - 1) * page_size).limit(page_size)).all()
        items = [
            AuditEventOut(
                id=row.id,
                ts=row.ts,
                kind=row.kind,
                actor=row.actor,
                connection_id=row.connection_id,
                connection_name=row.connection_name,
                detail=json.loads(row.detail_json),
            )
            for row in rows
        ]
    return AuditPageOut(items=items, page=page, page_size=page_size, total=total)
