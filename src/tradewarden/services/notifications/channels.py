"""Notification channels in the store: validated, their secrets sealed, listed, removed, loaded to send.

Secret fields (sealed with the vault's data key, the associated data binding each to its channel and
field, under the id `notification:<channel id>` so no notification ciphertext opens as a connection's):
`url` (a webhook's whole URL: its path is often a capability), `signing_key` (a webhook's HMAC key,
generated here and shown once) and `bot_token` (Telegram's). What is shown is `target`: the webhook's
origin, or the chat and the Bot API host.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewarden.adapters import audit
from tradewarden.adapters.store.models import (
    NotificationChannel,
    NotificationDelivery,
    NotificationSecret,
    SealedCredential,
    name_key,
    new_id,
    utcnow,
)
from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import UnlockedVault
from tradewarden.services.app import App
from tradewarden.services.connections.validation import validate_name
from tradewarden.services.errors import ConflictError, InputError, NotFoundError
from tradewarden.services.notifications.kinds import ALL, DEFAULT_KINDS, KINDS, parse_kinds
from tradewarden.services.vault_access import unlocked

WEBHOOK, TELEGRAM = "webhook", "telegram"
TELEGRAM_API_BASE = "https://api.telegram.org"
SIGNING_KEY_PREFIX = "twsk_"
SIGNING_KEY_BYTES = 32  # 256 bits
MAX_URL_LENGTH = 2048
KEEP_DELIVERIES = 50  # outcomes kept per channel
AAD_PREFIX = "notification:"
URL_FIELD, SIGNING_KEY_FIELD, BOT_TOKEN_FIELD = "url", "signing_key", "bot_token"
# Telegram bot tokens are "<bot id>:<35 characters>"; checked so a wrong file fails here, not at send time.
_TELEGRAM_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")
_CHAT_ID = re.compile(r"^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")


@dataclass(frozen=True)
class DeliveryView:
    """One delivery's outcome, as shown."""

    ts: datetime
    event_kind: str
    ok: bool
    attempts: int
    status_code: int | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "ts": self.ts.isoformat(),
            "event_kind": self.event_kind,
            "ok": self.ok,
            "attempts": self.attempts,
            "status_code": self.status_code,
            "error": self.error,
        }


@dataclass(frozen=True)
class ChannelView:
    """What may be shown of a channel: never its URL's path, signing key or bot token."""

    id: str
    name: str
    kind: str
    target: str
    events: tuple[str, ...]
    enabled: bool
    created_at: datetime
    last_delivery: DeliveryView | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "target": self.target,
            "events": list(self.events),
            "enabled": self.enabled,
            "created_at": self.created_at.isoformat(),
            "last_delivery": self.last_delivery.to_json() if self.last_delivery else None,
        }


@dataclass(frozen=True)
class LoadedChannel:
    """A channel with its secrets opened, ready to send (lives in memory only; Secrets print masked)."""

    id: str
    name: str
    kind: str
    events: frozenset[str]
    url: Secret  # webhook: its URL; telegram: the sendMessage URL (the token is in its path)
    signing_key: Secret | None = None
    chat_id: str | None = None
    api_base: str | None = field(default=None, compare=False)


# -- validation -----------------------------------------------------------------------------------------


def _split_http_url(url: str, what: str, option: str) -> SplitResult:
    """A parsed http(s) URL with a host and no user info, or InputError naming the problem (not the URL)."""
    if len(url) > MAX_URL_LENGTH:
        raise InputError(
            f"the {what} is longer than {MAX_URL_LENGTH} characters", "use a shorter URL", option
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InputError(
            f"the {what} contains a space or control character",
            "percent-encode it (%20) or remove it",
            option,
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises ValueError for a port out of range or not a number
    except ValueError:
        raise InputError(
            f"the {what} is not a valid URL", "give a URL like https://host/path", option
        ) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError(
            f"the {what} must start with https:// or http://"
            + (f" (it starts with {parts.scheme}:)" if parts.scheme else ""),
            "give a URL like https://host/path",
            option,
        )
    if "@" in parts.netloc:
        raise InputError(
            f"the {what} holds a user name or password before the host",
            "remove the user:password@ part; webhook receivers check our signature header instead "
            "(shown once when the channel is added)",
            option,
        )
    if not parts.hostname:
        raise InputError(f"the {what} has no host", "give a URL like https://host/path", option)
    return parts


def _origin(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme.lower()}://{host}{port}"


def validate_webhook_url(url: str) -> tuple[str, str]:
    """(the URL to seal, the target to show: its origin, the path hidden) or InputError."""
    parts = _split_http_url(url.strip(), "webhook URL", "url")
    hidden = "/…" if parts.path not in ("", "/") or parts.query else "/"
    return parts.geturl(), _origin(parts) + hidden


def validate_api_base(api_base: str | None) -> str:
    """The Telegram Bot API base URL (default the official one), without a trailing slash."""
    if api_base is None or not api_base.strip():
        return TELEGRAM_API_BASE
    parts = _split_http_url(api_base.strip(), "Telegram API base URL", "api_base")
    if parts.query or parts.fragment:
        raise InputError(
            "the Telegram API base URL has a query or fragment",
            f"give only scheme, host and path, e.g. {TELEGRAM_API_BASE}",
            "api_base",
        )
    return parts.geturl().rstrip("/")


def validate_chat_id(chat_id: str) -> str:
    """A Telegram chat id (a number, negative for groups) or @channel name."""
    value = chat_id.strip()
    if not _CHAT_ID.match(value):
        raise InputError(
            "is not a Telegram chat id",
            "give the numeric id (e.g. 123456789, or -100… for a group) or @channelname",
            "chat_id",
        )
    return value


def validate_bot_token(token: Secret) -> Secret:
    """The bot token, trimmed, checked for Telegram's shape (the value is never echoed)."""
    value = token.reveal().strip()
    if not value:
        raise InputError(
            "the Telegram bot token is empty", "put the token BotFather gave you in the file", "token"
        )
    if not _TELEGRAM_TOKEN.match(value):
        raise InputError(
            "the Telegram bot token does not look like one (expected <digits>:<letters, digits, - or _>)",
            "copy the whole token BotFather gave you, with nothing else in the file",
            "token",
        )
    return Secret(value)


def validate_events(events: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The event kinds a channel wants (default: DEFAULT_KINDS), or InputError naming the unknown one."""
    text = ",".join(events) if isinstance(events, list | tuple) else events
    try:
        parsed = parse_kinds(text)
    except ValueError as exc:
        raise InputError(
            f"{str(exc)!r} is not an event kind",
            f"use any of {', '.join(KINDS)} (comma-separated), or {ALL}",
            "events",
        ) from None
    return parsed or DEFAULT_KINDS


# -- sealing --------------------------------------------------------------------------------------------


def _aad_id(channel_id: str) -> str:
    return AAD_PREFIX + channel_id


def _seal(opened: UnlockedVault, channel_id: str, field_name: str, value: Secret) -> NotificationSecret:
    # The vault seals for (id, field); the transient credential row is only the carrier of its output.
    sealed = opened.seal(_aad_id(channel_id), field_name, value)
    return NotificationSecret(
        channel_id=channel_id, field=field_name, nonce=sealed.nonce, ciphertext=sealed.ciphertext
    )


def _open(opened: UnlockedVault, row: NotificationSecret) -> Secret:
    probe = SealedCredential(
        connection_id=_aad_id(row.channel_id), field=row.field, nonce=row.nonce, ciphertext=row.ciphertext
    )
    return opened.open(probe)


def new_signing_key() -> Secret:
    """A fresh webhook signing key (256 random bits)."""
    return Secret(SIGNING_KEY_PREFIX + secrets.token_urlsafe(SIGNING_KEY_BYTES))


# -- verbs ------------------------------------------------------------------------------------------------


def _duplicate(name: str) -> ConflictError:
    return ConflictError(
        f"a notification channel named {name!r} exists (names are compared ignoring case and Unicode form)",
        "choose another name, or remove the old one: tradewarden notifications remove NAME",
        field="name",
    )


def _insert(
    app: App,
    passphrase: Secret,
    row: NotificationChannel,
    sealed: dict[str, Secret],
) -> ChannelView:
    with unlocked(app, passphrase) as (session, opened):
        if session.scalars(
            select(NotificationChannel.id).where(NotificationChannel.name_key == name_key(row.name))
        ).first():
            raise _duplicate(row.name)
        session.add(row)
        for field_name, value in sealed.items():
            row.secrets.append(_seal(opened, row.id, field_name, value))
        try:
            session.flush()
        except IntegrityError:  # a concurrent add took the name after the check above
            raise _duplicate(row.name) from None
        audit.record(
            session,
            "notification.added",
            app.actor,
            channel=row.name,
            channel_kind=row.kind,
            target=row.target,
            events=json.loads(row.events_json),
        )
        return _view(row, None)


def add_webhook(
    app: App, passphrase: Secret, name: str, url: str, events: str | list[str] | None = None
) -> tuple[ChannelView, Secret]:
    """Add a webhook channel; the returned signing key is its only appearance outside the vault."""
    name = validate_name(name)
    sealed_url, target = validate_webhook_url(url)
    kinds = validate_events(events)
    key = new_signing_key()
    row = NotificationChannel(
        id=new_id(), name=name, kind=WEBHOOK, target=target, events_json=json.dumps(list(kinds))
    )
    view = _insert(app, passphrase, row, {URL_FIELD: Secret(sealed_url), SIGNING_KEY_FIELD: key})
    return view, key


def add_telegram(
    app: App,
    passphrase: Secret,
    name: str,
    chat_id: str,
    token: Secret,
    events: str | list[str] | None = None,
    api_base: str | None = None,
) -> ChannelView:
    """Add a Telegram channel (Bot API sendMessage to `chat_id`); the token is sealed."""
    name = validate_name(name)
    chat = validate_chat_id(chat_id)
    base = validate_api_base(api_base)
    kinds = validate_events(events)
    token = validate_bot_token(token)
    shown_base = "" if base == TELEGRAM_API_BASE else f" via {_origin(urlsplit(base))}"
    row = NotificationChannel(
        id=new_id(),
        name=name,
        kind=TELEGRAM,
        target=f"telegram chat {chat}{shown_base}",
        chat_id=chat,
        api_base=base,
        events_json=json.dumps(list(kinds)),
    )
    return _insert(app, passphrase, row, {BOT_TOKEN_FIELD: token})


def _events_of(row: NotificationChannel) -> tuple[str, ...]:
    try:
        stored = json.loads(row.events_json)
    except ValueError:
        return DEFAULT_KINDS
    return tuple(k for k in stored if isinstance(k, str)) if isinstance(stored, list) else DEFAULT_KINDS


def _delivery_view(row: NotificationDelivery) -> DeliveryView:
    return DeliveryView(row.ts, row.event_kind, row.ok, row.attempts, row.status_code, row.error)


def _view(row: NotificationChannel, last: NotificationDelivery | None) -> ChannelView:
    return ChannelView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        target=row.target,
        events=_events_of(row),
        enabled=row.enabled,
        created_at=row.created_at,
        last_delivery=_delivery_view(last) if last is not None else None,
    )


def find(session: Session, name_or_id: str) -> NotificationChannel:
    """The channel with this name (normalised) or id, or NotFoundError."""
    row = session.scalars(
        select(NotificationChannel).where(
            (NotificationChannel.name_key == name_key(name_or_id)) | (NotificationChannel.id == name_or_id)
        )
    ).first()
    if row is None:
        raise NotFoundError(
            f"no notification channel {name_or_id!r}", "see: tradewarden notifications list", field="name"
        )
    return row


def _last_delivery(session: Session, channel_id: str) -> NotificationDelivery | None:
    return session.scalars(
        select(NotificationDelivery)
        .where(NotificationDelivery.channel_id == channel_id)
        .order_by(NotificationDelivery.id.desc())
        .limit(1)
    ).first()


def list_channels(app: App) -> list[ChannelView]:
    """Every channel, by name, with its last delivery."""
    with app.store.session() as session:
        rows = session.scalars(select(NotificationChannel).order_by(NotificationChannel.name_key)).all()
        return [_view(row, _last_delivery(session, row.id)) for row in rows]


def deliveries(
    app: App, name: str | None = None, limit: int = KEEP_DELIVERIES
) -> list[tuple[str, DeliveryView]]:
    """Recent delivery outcomes, newest first, as (channel name, outcome); one channel's when named."""
    with app.store.session() as session:
        stmt = (
            select(NotificationDelivery, NotificationChannel.name)
            .join(NotificationChannel, NotificationChannel.id == NotificationDelivery.channel_id)
            .order_by(NotificationDelivery.id.desc())
            .limit(limit)
        )
        if name is not None:
            stmt = stmt.where(NotificationDelivery.channel_id == find(session, name).id)
        return [(channel, _delivery_view(row)) for row, channel in session.execute(stmt).all()]


def remove_channel(app: App, name: str) -> ChannelView:
    """Delete a channel with its sealed secrets and delivery history; audited."""
    with app.store.session() as session:
        row = find(session, name)
        view = _view(row, None)
        session.execute(delete(NotificationDelivery).where(NotificationDelivery.channel_id == row.id))
        session.delete(row)
        audit.record(session, "notification.removed", app.actor, channel=view.name, channel_kind=view.kind)
    return view


def telegram_send_url(api_base: str, token: Secret) -> Secret:
    """Bot API sendMessage URL for `token` (a Secret: the token is in its path)."""
    return Secret(f"{api_base.rstrip('/')}/bot{token.reveal()}/sendMessage")


def load(session: Session, opened: UnlockedVault, row: NotificationChannel) -> LoadedChannel:
    """The channel with its secrets opened (DecryptionError if they were altered or moved)."""
    opened_fields = {s.field: _open(opened, s) for s in row.secrets}
    events = frozenset(_events_of(row))
    if row.kind == TELEGRAM:
        base = row.api_base or TELEGRAM_API_BASE
        url = telegram_send_url(base, opened_fields[BOT_TOKEN_FIELD])
        return LoadedChannel(row.id, row.name, row.kind, events, url, chat_id=row.chat_id, api_base=base)
    return LoadedChannel(
        row.id,
        row.name,
        row.kind,
        events,
        opened_fields[URL_FIELD],
        signing_key=opened_fields[SIGNING_KEY_FIELD],
    )


def load_named(app: App, opened: UnlockedVault, name: str) -> LoadedChannel:
    """One channel, loaded to send (for `notifications test`)."""
    with app.store.session() as session:
        return load(session, opened, find(session, name))


def record_delivery(
    app: App,
    channel_id: str,
    event_kind: str,
    ok: bool,
    attempts: int,
    status_code: int | None,
    error: str | None,
    keep: int = KEEP_DELIVERIES,
) -> None:
    """Store one outcome and drop the channel's older ones beyond `keep`; a final failure is audited."""
    with app.store.session() as session:
        channel = session.get(NotificationChannel, channel_id)
        if channel is None:  # removed while the message was under way
            return
        session.add(
            NotificationDelivery(
                channel_id=channel_id,
                ts=utcnow(),
                event_kind=event_kind,
                ok=ok,
                attempts=attempts,
                status_code=status_code,
                error=error,
            )
        )
        session.flush()
        stale = session.scalars(
            select(NotificationDelivery.id)
            .where(NotificationDelivery.channel_id == channel_id)
            .order_by(NotificationDelivery.id.desc())
            .offset(keep)
        ).all()
        if stale:
            session.execute(delete(NotificationDelivery).where(NotificationDelivery.id.in_(stale)))
        if not ok and event_kind != "test":
            audit.record(
                session,
                "notification.failed",
                app.actor,
                channel=channel.name,
                event_kind=event_kind,
                attempts=attempts,
                error=error,
            )
