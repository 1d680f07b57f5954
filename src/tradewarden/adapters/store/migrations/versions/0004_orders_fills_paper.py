"""Orders, fills, paper balances and paper positions (issue 13: executors and the order guard).

Amounts are NUMERIC(38, 18) where the database has it and canonical text on SQLite (whose NUMERIC is a
float): the `DecimalAmount` column type of the models reads and writes both exactly.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _amount() -> sa.Numeric[Decimal]:
    # Frozen copy of models.DecimalAmount's storage types (a migration keeps meaning what it meant).
    return sa.Numeric(38, 18).with_variant(sa.String(64), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("connection_id", sa.String(32), nullable=False),
        sa.Column("bot", sa.String(64), nullable=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("client_order_id", sa.String(40), nullable=False),
        sa.Column("exchange_order_id", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(48), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("amount", _amount(), nullable=False),
        sa.Column("price", _amount(), nullable=True),
        sa.Column("reduce_only", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filled", _amount(), nullable=False),
        sa.Column("remaining", _amount(), nullable=True),
        sa.Column("average", _amount(), nullable=True),
        sa.Column("cost", _amount(), nullable=False),
        sa.Column("fee", _amount(), nullable=False),
        sa.Column("fee_currency", sa.String(16), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("reconciled", sa.Boolean, nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.UniqueConstraint("connection_id", "client_order_id", name="uq_orders_connection_client_order_id"),
    )
    op.create_index("ix_orders_connection_status", "orders", ["connection_id", "status"])
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trade_id", sa.String(64), nullable=False),
        sa.Column("price", _amount(), nullable=False),
        sa.Column("amount", _amount(), nullable=False),
        sa.Column("fee", _amount(), nullable=False),
        sa.Column("fee_currency", sa.String(16), nullable=True),
        sa.Column("liquidity", sa.String(8), nullable=True),
        sa.Column("reconciled", sa.Boolean, nullable=False),
        sa.Column("ts", _ts(), nullable=False),
        sa.UniqueConstraint("order_id", "trade_id", name="uq_fills_order_trade"),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])
    op.create_table(
        "paper_balances",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("currency", sa.String(16), primary_key=True),
        sa.Column("total", _amount(), nullable=False),
        sa.Column("used", _amount(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
    )
    op.create_table(
        "paper_positions",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("symbol", sa.String(48), primary_key=True),
        sa.Column("contracts", _amount(), nullable=False),
        sa.Column("entry_price", _amount(), nullable=False),
        sa.Column("margin", _amount(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("paper_positions")
    op.drop_table("paper_balances")
    op.drop_index("ix_fills_order_id", table_name="fills")
    op.drop_table("fills")
    op.drop_index("ix_orders_connection_status", table_name="orders")
    op.drop_table("orders")
