"""Normalised name keys (unique) for connections and active tokens; key version for rotations.

Names were unique byte for byte and looked up with ASCII-only lower(): "Ödeme Konto" and "ödeme konto"
could both exist. Each row now carries `name_key` (NFKC, case-folded) under a unique index; rows whose
keys clash are renamed "NAME (2)", "NAME (3)", ... (oldest keeps its name) and the renaming is audited.
`key_version` lets concurrent rotations of one connection compare-and-swap.

Only columns and indexes are added (no table rebuild): on SQLite a rebuild drops the connections table,
and with foreign keys on that would cascade into the sealed credentials.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import json
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_LENGTH = 64
KEY_LENGTH = 512
ACTOR = "migration:0003"


def _key(name: str) -> str:
    # Frozen copy of models.name_key: a migration must keep meaning what it meant when written.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())


def _unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name (n)` with the smallest n whose key is not taken (cut to fit the column)."""
    candidate, n = name, 2
    while _key(candidate) in taken:
        suffix = f" ({n})"
        candidate = name[: NAME_LENGTH - len(suffix)] + suffix
        n += 1
    return candidate


def _backfill(table: str, active_only_clash: bool) -> list[tuple[str, str, str]]:
    """Set every row's key; rename clashing rows. Returns (id, old name, new name) of renamed rows."""
    bind = op.get_bind()
    where = "WHERE revoked_at IS NULL " if active_only_clash else ""
    clashing = bind.execute(
        sa.text(f"SELECT id, name FROM {table} {where}ORDER BY created_at, id")  # noqa: S608 (fixed names)
    ).all()
    everything = bind.execute(sa.text(f"SELECT id, name FROM {table}")).all()  # noqa: S608
    # Keys of rows not considered for clashes (and of every original name) stay reserved, so a new
    # "NAME (2)" never lands on an existing one.
    considered = {row_id for row_id, _name in clashing}
    taken = {_key(name) for row_id, name in everything if row_id not in considered}
    originals = {_key(name) for _id, name in everything}
    renamed: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for row_id, name in clashing:
        new_name = name if _key(name) not in seen else _unique_name(name, seen | taken | originals)
        seen.add(_key(new_name))
        if new_name != name:
            renamed.append((row_id, name, new_name))
    new_names = {row_id: new for row_id, _old, new in renamed}
    for row_id, name in everything:
        new_name = new_names.get(row_id, name)
        bind.execute(
            sa.text(f"UPDATE {table} SET name = :name, name_key = :key WHERE id = :id"),  # noqa: S608
            {"name": new_name, "key": _key(new_name), "id": row_id},
        )
    return renamed


def _audit_renames(kind: str, renamed: list[tuple[str, str, str]], connection: bool) -> None:
    events = sa.table(
        "audit_events",
        sa.column("ts", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String),
        sa.column("actor", sa.String),
        sa.column("connection_id", sa.String),
        sa.column("connection_name", sa.String),
        sa.column("detail_json", sa.Text),
    )
    reason = "another name differs from it only in case or Unicode form"
    for row_id, old, new in renamed:
        detail = {"previous": old, "name": new, "reason": reason}
        if not connection:
            detail["token_id"] = row_id
        op.execute(
            events.insert().values(
                ts=datetime.now(UTC),
                kind=kind,
                actor=ACTOR,
                connection_id=row_id if connection else None,
                connection_name=new if connection else None,
                detail_json=json.dumps(detail, sort_keys=True),
            )
        )


def upgrade() -> None:
    # NOT NULL with a default is what SQLite's ADD COLUMN allows; the backfill sets the real keys.
    op.add_column(
        "connections",
        sa.Column("name_key", sa.String(KEY_LENGTH), nullable=False, server_default=""),
    )
    op.add_column(
        "connections",
        sa.Column("key_version", sa.Integer, nullable=False, server_default=sa.text("1")),
    )
    op.add_column(
        "api_tokens",
        sa.Column("name_key", sa.String(KEY_LENGTH), nullable=False, server_default=""),
    )
    _audit_renames("connection.renamed", _backfill("connections", active_only_clash=False), True)
    _audit_renames("token.renamed", _backfill("api_tokens", active_only_clash=True), False)
    op.create_index("uq_connections_name_key", "connections", ["name_key"], unique=True)
    op.create_index(
        "uq_api_tokens_active_name_key",
        "api_tokens",
        ["name_key"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_api_tokens_active_name_key", table_name="api_tokens")
    op.drop_index("uq_connections_name_key", table_name="connections")
    # Plain DROP COLUMN (SQLite 3.35+), never a table rebuild (see the module docstring).
    op.drop_column("api_tokens", "name_key")
    op.drop_column("connections", "key_version")
    op.drop_column("connections", "name_key")
