"""Connections on an exchange's testnet or demo environment (issue 18: ccxt sandbox mode).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add connections.testnet (false for every existing connection); a column only, no table rebuild."""
    op.add_column(
        "connections", sa.Column("testnet", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    """Drop the column."""
    op.drop_column("connections", "testnet")
