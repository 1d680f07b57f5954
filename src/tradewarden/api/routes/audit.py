"""The audit log, filtered and paged."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BeforeValidator

from tradewarden.api.auth import ReadPrincipal, StateDep
from tradewarden.api.errors import ERROR_RESPONSES
from tradewarden.api.schemas import AuditEventOut, AuditPageOut
from tradewarden.services import audit_log

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601(value: object) -> object:
    # Pydantic would also read "0.5" or "1700000000" as Unix timestamps; the API documents ISO 8601.
    if isinstance(value, str) and not ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-11-21T09:00:00Z")
    return value


def _aware(value: datetime) -> datetime:
    # A time without an offset is UTC (the store holds aware UTC times and refuses naive ones).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_aware)]


@router.get("", response_model=AuditPageOut, summary="Audit events")
def list_audit(
    _: ReadPrincipal,
    state: StateDep,
    kind: str | None = Query(None, max_length=48, examples=["connection.tested"]),
    connection: str | None = Query(None, max_length=64, description="Connection name"),
    since: IsoDateTime | None = Query(None, description="ISO 8601, inclusive; UTC when no offset is given"),
    until: IsoDateTime | None = Query(None, description="ISO 8601, exclusive; UTC when no offset is given"),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=500),
) -> AuditPageOut:
    """Newest first. Filter by kind, connection name and time. Each event carries a sentence (`message`)
    and the same as a code with params (`message_code` `audit.<kind>`, `message_params`) to translate."""
    events, total = audit_log.page(state.app, kind, connection, since, until, page, page_size)
    items = [AuditEventOut.model_validate(event, from_attributes=True) for event in events]
    return AuditPageOut(items=items, page=page, page_size=page_size, total=total)
