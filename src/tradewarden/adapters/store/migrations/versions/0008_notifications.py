"""Notification channels (webhook, Telegram), their sealed secrets and delivery outcomes (issue 15).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NAME_KEY_LENGTH = 512


def _ts() -> sa.DateTime:
    # Frozen copy of models.UTCDateTime's storage type (a migration keeps meaning what it meant).
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create notification_channels, notification_secrets and notification_deliveries."""
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(NAME_KEY_LENGTH), nullable=False, server_default=""),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=True),
        sa.Column("api_base", sa.String(512), nullable=True),
        sa.Column("events_json", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
    )
    op.create_index("uq_notification_channels_name_key", "notification_channels", ["name_key"], unique=True)
    op.create_table(
        "notification_secrets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "channel_id",
            sa.String(32),
            sa.ForeignKey("notification_channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_at", _ts(), nullable=False),
        sa.UniqueConstraint("channel_id", "field", name="uq_notification_secrets_channel_field"),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "channel_id",
            sa.String(32),
            sa.ForeignKey("notification_channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ts", _ts(), nullable=False),
        sa.Column("event_kind", sa.String(32), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_notification_deliveries_channel_id", "notification_deliveries", ["channel_id"])


def downgrade() -> None:
    """Drop what upgrade made (sealed secrets go with their channels: crypto-shredded)."""
    op.drop_index("ix_notification_deliveries_channel_id", "notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_secrets")
    op.drop_index("uq_notification_channels_name_key", "notification_channels")
    op.drop_table("notification_channels")
