"""Bots and their history (issue 15), and the strategy tag of each bot order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NAME_KEY_LENGTH = 512


def _amount() -> sa.Numeric[Decimal]:
    # Frozen copy of models.DecimalAmount's storage types (a migration keeps meaning what it meant).
    return sa.Numeric(38, 18).with_variant(sa.String(64), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create bots, bot_runners and bot_events; add orders.tag, unique per (connection, bot, tag)."""
    op.create_table(
        "bots",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(NAME_KEY_LENGTH), nullable=False, server_default=""),
        sa.Column("connection_id", sa.String(32), nullable=False),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("pairs_json", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("risk", sa.String(16), nullable=True),
        sa.Column("margin_limit", _amount(), nullable=True),
        sa.Column("recovery", sa.Boolean(), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("margin_used", _amount(), nullable=False),
        sa.Column("margin_used_max", _amount(), nullable=False),
        sa.Column("addons_used", sa.Integer(), nullable=False),
        sa.Column("realized_pnl", _amount(), nullable=False),
        sa.Column("unrealized_pnl", _amount(), nullable=False),
        sa.Column("fees", _amount(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", _ts(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
    )
    op.create_index("uq_bots_name_key", "bots", ["name_key"], unique=True)
    op.create_index("ix_bots_connection_id", "bots", ["connection_id"])
    op.create_index("ix_bots_status", "bots", ["status"])
    op.create_table(
        "bot_runners",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("seen_until", _ts(), nullable=False),
    )
    op.create_table(
        "bot_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("bot_id", sa.String(32), nullable=False),
        sa.Column("ts", _ts(), nullable=False),
        sa.Column("market_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("pair", sa.String(48), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_bot_events_bot_id", "bot_events", ["bot_id"])
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("tag", sa.String(96), nullable=True))
        batch.create_unique_constraint("uq_orders_bot_tag", ["connection_id", "bot", "tag"])


def downgrade() -> None:
    """Drop what upgrade made."""
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("uq_orders_bot_tag", type_="unique")
        batch.drop_column("tag")
    op.drop_index("ix_bot_events_bot_id", "bot_events")
    op.drop_table("bot_events")
    op.drop_table("bot_runners")
    op.drop_index("ix_bots_status", "bots")
    op.drop_index("ix_bots_connection_id", "bots")
    op.drop_index("uq_bots_name_key", "bots")
    op.drop_table("bots")
