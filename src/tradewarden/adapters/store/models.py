"""SQLAlchemy models of the store; Alembic migrations in `migrations/` create them."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

NAME_KEY_LENGTH = 512  # NFKC can expand a character up to 18-fold; names longer than this key are refused


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def name_key(name: str) -> str:
    """The key names are unique by and looked up with: NFKC, case-folded, NFKC again (Unicode's
    NFKC_Casefold in effect), so "Ödeme", "ödeme" and "ÖDEME", or "ＭＥＸＣ" and "mexc", are one name."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())


def new_id() -> str:
    """A random identifier for rows that are referenced from sealed data."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class VaultHeader(Base):
    """The single vault row: KDF parameters and salt, and the data key wrapped by the passphrase key."""

    __tablename__ = "vault_header"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kdf: Mapped[str] = mapped_column(String(16))
    kdf_time_cost: Mapped[int] = mapped_column(Integer)
    kdf_memory_kib: Mapped[int] = mapped_column(Integer)
    kdf_parallelism: Mapped[int] = mapped_column(Integer)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rewrapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Connection(Base):
    """A named exchange account reached through one API key."""

    __tablename__ = "connections"
    __table_args__ = (Index("uq_connections_name_key", "name_key", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # the display name, as typed
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_LENGTH), server_default="")
    exchange: Mapped[str] = mapped_column(String(32))
    market: Mapped[str] = mapped_column(String(8), default="spot")
    endpoint: Mapped[str | None] = mapped_column(String(512), nullable=True)
    key_type: Mapped[str] = mapped_column(String(16), default="hmac")
    api_key_masked: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), default="untested")
    status_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every change of the sealed key, compared-and-swapped so concurrent rotations serialise.
    key_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    credentials: Mapped[list[SealedCredential]] = relationship(
        back_populates="connection", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("name")
    def _keep_name_key(self, _attribute: str, value: str) -> str:
        # Every way of setting the name sets its key, so uniqueness never depends on a caller remembering.
        self.name_key = name_key(value)
        return value


class SealedCredential(Base):
    """One secret field of a connection, sealed with AES-256-GCM under the vault's data key."""

    __tablename__ = "sealed_credentials"
    __table_args__ = (UniqueConstraint("connection_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    connection: Mapped[Connection] = relationship(back_populates="credentials")


class ConnectionCheck(Base):
    """One run of the connection test, kept as history (survives the connection's removal)."""

    __tablename__ = "connection_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL"), nullable=True
    )
    connection_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    ok: Mapped[bool] = mapped_column(default=False)
    result_json: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """Who did what, when, to which connection; never a secret."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(48), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    connection_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    connection_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail_json: Mapped[str] = mapped_column(Text, default="{}")


class ApiToken(Base):
    """An API token: only its SHA-256 digest is stored; the token itself is shown once at creation."""

    __tablename__ = "api_tokens"
    # Active token names are unique (by key); a revoked token's name may be used again.
    __table_args__ = (
        Index(
            "uq_api_tokens_active_name_key",
            "name_key",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_LENGTH), server_default="")
    scope: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @validates("name")
    def _keep_name_key(self, _attribute: str, value: str) -> str:
        self.name_key = name_key(value)
        return value
