"""A keyed hash of each connection's API key, so one key cannot be stored under two names.

The hash is HMAC-SHA256 under a key derived from the vault's data key (UnlockedVault.fingerprint): the
plaintext API key is never stored or compared, and the column says nothing without the vault. Existing rows
start with NULL and are filled the next time a connection is added with the vault open.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add connections.api_key_hash (nullable) and its index; columns only, no table rebuild."""
    op.add_column("connections", sa.Column("api_key_hash", sa.String(64), nullable=True))
    op.create_index("ix_connections_api_key_hash", "connections", ["api_key_hash"])


def downgrade() -> None:
    """Drop the hash and its index."""
    op.drop_index("ix_connections_api_key_hash", table_name="connections")
    op.drop_column("connections", "api_key_hash")
