"""SQLAlchemy models of the store; Alembic migrations in `migrations/` create them."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator, TypeEngine

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


AMOUNT_PRECISION, AMOUNT_SCALE = 38, 18  # 20 integer digits, 18 decimals (wei-sized amounts fit)


class DecimalAmount(TypeDecorator[Decimal]):
    """Money and amounts as exact Decimals: NUMERIC(38, 18) where the database has it; on SQLite, whose
    NUMERIC is a float, as canonical text. Floats are refused: they are never exact."""

    impl = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(AMOUNT_PRECISION, AMOUNT_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"the store takes amounts as Decimal, not {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"amount {value} is not a finite number")
        with localcontext() as ctx:
            ctx.prec = AMOUNT_PRECISION + 2  # room for every digit the column holds
            try:
                exact = value.quantize(Decimal(1).scaleb(-AMOUNT_SCALE))
            except InvalidOperation:
                raise ValueError(f"amount {value} has more than {AMOUNT_PRECISION} digits") from None
            if exact != value:
                raise ValueError(f"amount {value} has more than {AMOUNT_SCALE} decimals")
            if len(exact.as_tuple().digits) > AMOUNT_PRECISION:
                raise ValueError(f"amount {value} has more than {AMOUNT_PRECISION} digits")
            return format(value.normalize(), "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)) if not isinstance(value, Decimal) else value


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
    # Keyed hash of the API key (UnlockedVault.fingerprint), never the key: refuses one key under two names.
    api_key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # The exchange's testnet/demo environment (ccxt sandbox mode): its funds are not real (migration 0006).
    testnet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

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


class OrderRow(Base):
    """An order a bot sent (live) or simulated (paper), in ccxt's order shape; written before it is sent.

    The row exists before the exchange hears of the order (status `pending`), so a crash between sending
    and storing the answer leaves a row that reconciliation resolves by its client order id.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("connection_id", "client_order_id", name="uq_orders_connection_client_order_id"),
        Index("ix_orders_connection_status", "connection_id", "status"),
        UniqueConstraint("connection_id", "bot", "tag", name="uq_orders_bot_tag"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(String(32))  # kept when the connection is removed: history
    bot: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mode: Mapped[str] = mapped_column(String(8))  # paper | live
    exchange: Mapped[str] = mapped_column(String(32))  # ccxt id
    seq: Mapped[int] = mapped_column(Integer)  # the bot's order sequence, part of the client order id
    client_order_id: Mapped[str] = mapped_column(String(40))
    exchange_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    symbol: Mapped[str] = mapped_column(String(48))
    side: Mapped[str] = mapped_column(String(4))
    type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(DecimalAmount)
    price: Mapped[Decimal | None] = mapped_column(DecimalAmount, nullable=True)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending (stored, not yet answered) | open | closed | canceled | rejected | expired | unknown
    status: Mapped[str] = mapped_column(String(16), default="pending")
    filled: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    remaining: Mapped[Decimal | None] = mapped_column(DecimalAmount, nullable=True)
    average: Mapped[Decimal | None] = mapped_column(DecimalAmount, nullable=True)
    cost: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    fee: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    fee_currency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)  # order_errors.Outcome
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # our words and the venue code
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reconciled: Mapped[bool] = mapped_column(Boolean, default=False)  # last state came from reconciliation
    # The strategy's own name for the order ("PAIR|dca-g3-addon2-17"): unique per bot, so a bot that
    # decides the same order again after a restart finds it instead of sending it twice (migration 0007).
    tag: Mapped[str | None] = mapped_column(String(96), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FillRow(Base):
    """One execution of an order (a trade of ours), from the exchange or from the paper fill model."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("order_id", "trade_id", name="uq_fills_order_trade"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    trade_id: Mapped[str] = mapped_column(String(64))
    price: Mapped[Decimal] = mapped_column(DecimalAmount)
    amount: Mapped[Decimal] = mapped_column(DecimalAmount)
    fee: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    fee_currency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    liquidity: Mapped[str | None] = mapped_column(String(8), nullable=True)  # maker | taker
    reconciled: Mapped[bool] = mapped_column(Boolean, default=False)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperBalance(Base):
    """A paper account's holding of one currency (total; `used` is held by open orders or margin)."""

    __tablename__ = "paper_balances"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(16), primary_key=True)
    total: Mapped[Decimal] = mapped_column(DecimalAmount)
    used: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperPosition(Base):
    """A paper account's position in one contract market (signed contracts, average entry)."""

    __tablename__ = "paper_positions"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(48), primary_key=True)
    contracts: Mapped[Decimal] = mapped_column(DecimalAmount)  # + long, - short
    entry_price: Mapped[Decimal] = mapped_column(DecimalAmount)
    margin: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BotRow(Base):
    """A bot: a strategy on one connection's pairs, paper or live, with its state after its last step.

    `state_json` holds each pair's strategy state and the runner's bookkeeping (fills already applied);
    it is written in one transaction with the bot's figures, so a restart resumes from a consistent step.
    `lease_owner`/`lease_until`: which runner process drives the bot, until when (PostgreSQL leases).
    """

    __tablename__ = "bots"
    __table_args__ = (Index("uq_bots_name_key", "name_key", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_LENGTH), server_default="")
    connection_id: Mapped[str] = mapped_column(String(32), index=True)
    strategy: Mapped[str] = mapped_column(String(16))
    pairs_json: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(8))  # paper | live
    # created | running | paused | stopped | error
    status: Mapped[str] = mapped_column(String(16), default="created", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    risk: Mapped[str | None] = mapped_column(String(16), nullable=True)
    margin_limit: Mapped[Decimal | None] = mapped_column(DecimalAmount, nullable=True)
    recovery: Mapped[bool] = mapped_column(Boolean, default=False)
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    state_json: Mapped[str] = mapped_column(Text, default="{}")
    margin_used: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    margin_used_max: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    addons_used: Mapped[int] = mapped_column(Integer, default=0)
    realized_pnl: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    unrealized_pnl: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    fees: Mapped[Decimal] = mapped_column(DecimalAmount, default=Decimal(0))
    steps: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("name")
    def _keep_name_key(self, _attribute: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class BotRunnerRow(Base):
    """A bot runner process that is alive (it renews `seen_until`): bots are shared among these."""

    __tablename__ = "bot_runners"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_until: Mapped[datetime] = mapped_column(UTCDateTime)


class BotEventRow(Base):
    """Something in a bot's history: a group opened, an add-on, Recovery Mode, paused, stopped."""

    __tablename__ = "bot_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(String(32), index=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    market_ts_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the price's own time
    kind: Mapped[str] = mapped_column(String(32))
    pair: Mapped[str | None] = mapped_column(String(48), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class NotificationChannel(Base):
    """Where notifications go: a webhook or a Telegram chat, and which event kinds it wants.

    Nothing secret is in this row: the webhook URL (its path is often a capability), the signing key and
    the Telegram bot token are sealed in `notification_secrets`; `target` is what may be shown.
    """

    __tablename__ = "notification_channels"
    __table_args__ = (Index("uq_notification_channels_name_key", "name_key", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_LENGTH), server_default="")
    kind: Mapped[str] = mapped_column(String(16))  # webhook | telegram
    target: Mapped[str] = mapped_column(String(512))  # shown: the URL's origin, or the chat and API base
    chat_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # telegram
    api_base: Mapped[str | None] = mapped_column(String(512), nullable=True)  # telegram Bot API base URL
    events_json: Mapped[str] = mapped_column(Text, default="[]")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    secrets: Mapped[list[NotificationSecret]] = relationship(
        back_populates="channel", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("name")
    def _keep_name_key(self, _attribute: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class NotificationSecret(Base):
    """One secret field of a notification channel, sealed with the data key (bound to channel and field)."""

    __tablename__ = "notification_secrets"
    __table_args__ = (UniqueConstraint("channel_id", "field", name="uq_notification_secrets_channel_field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("notification_channels.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    channel: Mapped[NotificationChannel] = relationship(back_populates="secrets")


class NotificationDelivery(Base):
    """The outcome of one notification to one channel (the last few per channel are kept)."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    ts: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event_kind: Mapped[str] = mapped_column(String(32))
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # our words, never the URL or a token
