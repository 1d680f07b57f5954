"""Vault header, connections, sealed credentials, connection checks, audit events.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vault_header",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kdf", sa.String(16), nullable=False),
        sa.Column("kdf_time_cost", sa.Integer, nullable=False),
        sa.Column("kdf_memory_kib", sa.Integer, nullable=False),
        sa.Column("kdf_parallelism", sa.Integer, nullable=False),
        sa.Column("salt", sa.LargeBinary, nullable=False),
        sa.Column("wrapped_data_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("rewrapped_at", TS, nullable=True),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("market", sa.String(8), nullable=False),
        sa.Column("endpoint", sa.String(512), nullable=True),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("api_key_masked", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_checked_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "sealed_credentials",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "connection_id",
            sa.String(32),
            sa.ForeignKey("connections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("sealed_at", TS, nullable=False),
        sa.UniqueConstraint("connection_id", "field"),
    )
    op.create_table(
        "connection_checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "connection_id",
            sa.String(32),
            sa.ForeignKey("connections.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("connection_name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("result_json", sa.Text, nullable=False),
        sa.Column("checked_at", TS, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", TS, nullable=False, index=True),
        sa.Column("kind", sa.String(48), nullable=False, index=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("connection_id", sa.String(32), nullable=True, index=True),
        sa.Column("connection_name", sa.String(64), nullable=True),
        sa.Column("detail_json", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_events", "connection_checks", "sealed_credentials", "connections", "vault_header"):
        op.drop_table(table)
