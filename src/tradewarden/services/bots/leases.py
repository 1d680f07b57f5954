"""Which runner process drives which bot: leases in the store.

Each running (or paused) bot has at most one holder: `lease_owner` until `lease_until`. A runner renews
its leases every round, takes free or expired ones up to its fair share (active bots divided by the
runners alive: each renews its row in `bot_runners`) and gives back what is over its share, so two
runners split the bots and a dead runner's bots pass to the others once its leases expire. On
PostgreSQL the candidates are read with `FOR UPDATE SKIP LOCKED`, so two runners claiming at once never
take the same row; SQLite (one process) needs no row locks. The driver checks its lease again in the
transaction that saves each step.
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import BotRow, BotRunnerRow, utcnow

ACTIVE = ("running", "paused")


def new_owner() -> str:
    """A runner's lease owner id: host, process and a random part (a restarted process is a new owner)."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _renew(session: Session, owner: str, until: datetime) -> None:
    session.execute(
        update(BotRow).where(BotRow.lease_owner == owner, BotRow.status.in_(ACTIVE)).values(lease_until=until)
    )
    me = session.get(BotRunnerRow, owner)
    if me is None:
        session.add(BotRunnerRow(owner=owner, seen_until=until))
    else:
        me.seen_until = until
    session.flush()


def renew(store: Store, owner: str, lease_s: float) -> None:
    """Extend this owner's leases and presence (the runner's heartbeat, between and during rounds)."""
    with store.session() as session:
        _renew(session, owner, utcnow() + timedelta(seconds=lease_s))


def claim(store: Store, owner: str, lease_s: float) -> list[str]:
    """Renew this owner's leases, take free or expired ones up to a fair share; the ids it now holds."""
    now = utcnow()
    until = now + timedelta(seconds=lease_s)
    with store.session() as session:
        postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
        _renew(session, owner, until)
        active = (
            session.scalar(select(func.count()).select_from(BotRow).where(BotRow.status.in_(ACTIVE))) or 0
        )
        alive = (
            session.scalar(
                select(func.count()).select_from(BotRunnerRow).where(BotRunnerRow.seen_until > now)
            )
            or 1
        )
        held = (
            session.scalar(
                select(func.count())
                .select_from(BotRow)
                .where(BotRow.lease_owner == owner, BotRow.status.in_(ACTIVE))
            )
            or 0
        )
        share = math.ceil(active / alive) if active else 0
        want = share - held
        if want < 0:  # more than our share (a runner joined): give the newest back
            extra = session.scalars(
                select(BotRow)
                .where(BotRow.lease_owner == owner, BotRow.status.in_(ACTIVE))
                .order_by(BotRow.id.desc())
                .limit(-want)
            )
            for row in extra:
                row.lease_owner = None
                row.lease_until = None
        elif want > 0:
            query = (
                select(BotRow)
                .where(
                    BotRow.status.in_(ACTIVE),
                    (BotRow.lease_owner.is_(None)) | (BotRow.lease_until < now),
                )
                .order_by(BotRow.id)
                .limit(want)
            )
            if postgres:
                query = query.with_for_update(skip_locked=True)
            for row in session.scalars(query):
                row.lease_owner = owner
                row.lease_until = until
        session.flush()
        return list(
            session.scalars(
                select(BotRow.id)
                .where(BotRow.lease_owner == owner, BotRow.status.in_(ACTIVE))
                .order_by(BotRow.id)
            )
        )


def release(store: Store, owner: str, bot_ids: list[str] | None = None) -> None:
    """Give leases back (all of this owner's, or these), so another runner may take them at once."""
    with store.session() as session:
        if bot_ids is None:
            gone = session.get(BotRunnerRow, owner)
            if gone is not None:
                session.delete(gone)
        query = update(BotRow).where(BotRow.lease_owner == owner)
        if bot_ids is not None:
            query = query.where(BotRow.id.in_(bot_ids))
        session.execute(query.values(lease_owner=None, lease_until=None))
