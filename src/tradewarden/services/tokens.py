"""API tokens: created with a scope, shown once, stored as a digest, revocable."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tradewarden.adapters import audit
from tradewarden.adapters.store.models import ApiToken, name_key, utcnow
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.app import App
from tradewarden.services.connections.validation import validate_name
from tradewarden.services.errors import ConflictError, InputError, NotFoundError

SCOPES = ("read", "trade", "admin")
TOKEN_PREFIX = "tw_"
TOKEN_BYTES = 32  # 256 bits
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last-use at most once a minute per token
# A token found valid is believed this long without asking the store again. Revocation in this process
# (API or service call) takes effect at once; revocation by another process (the CLI) within this time.
AUTH_CACHE_TTL_S = 2.0


@dataclass(frozen=True)
class TokenView:
    """What may be shown of a token: never the token."""

    id: str
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> TokenView:
        """The view of a stored token."""
        return cls(row.id, row.name, row.scope, row.prefix, row.created_at, row.last_used_at, row.revoked_at)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def scope_allows(granted: str, needed: str) -> bool:
    """admin ⊇ trade ⊇ read."""
    return SCOPES.index(granted) >= SCOPES.index(needed)


def digest(token: str) -> str:
    """SHA-256 of a token; a fast hash is right here because tokens carry 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(app: App, name: str, scope: str) -> tuple[TokenView, Secret]:
    """A new token; the returned Secret is the only time the token exists outside its digest."""
    name = validate_name(name)
    if scope not in SCOPES:
        raise InputError(f"{scope!r} is not a scope", f"use one of {', '.join(SCOPES)}", field="scope")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with app.store.session() as session:
        clash = session.scalars(
            select(ApiToken).where(ApiToken.name_key == name_key(name), ApiToken.revoked_at.is_(None))
        ).first()
        if clash is not None:
            raise _duplicate(clash.name)
        row = ApiToken(name=name, scope=scope, digest=digest(token), prefix=token[:10])
        session.add(row)
        try:
            session.flush()
        except IntegrityError:  # a concurrent create took the name after the check above
            raise _duplicate(name) from None
        audit.record(session, "token.created", app.actor, token_name=name, scope=scope)
        return TokenView.of(row), Secret(token)


def _duplicate(name: str) -> ConflictError:
    return ConflictError(
        f"an active token named {name!r} exists (names are compared ignoring case and Unicode form)",
        "choose another name",
        field="name",
    )


def list_tokens(app: App, include_revoked: bool = False) -> list[TokenView]:
    """Tokens, newest first."""
    with app.store.session() as session:
        stmt = select(ApiToken).order_by(ApiToken.created_at.desc())
        if not include_revoked:
            stmt = stmt.where(ApiToken.revoked_at.is_(None))
        return [TokenView.of(row) for row in session.scalars(stmt)]


class _AuthCache:
    """Valid tokens recently looked up, by (database, digest), each believed for AUTH_CACHE_TTL_S.

    Every API request authenticates; without this each one reads (and once a minute writes) the store.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, TokenView]] = {}

    def get(self, app: App, token_digest: str) -> TokenView | None:
        key = (str(app.store.engine.url), token_digest)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, app: App, token_digest: str, view: TokenView) -> None:
        with self._lock:
            if len(self._entries) > 10_000:  # only valid tokens get here; keep it bounded regardless
                self._entries.clear()
            key = (str(app.store.engine.url), token_digest)
            self._entries[key] = (time.monotonic() + AUTH_CACHE_TTL_S, view)

    def forget(self, token_id: str) -> None:
        with self._lock:
            for key in [k for k, (_, view) in self._entries.items() if view.id == token_id]:
                del self._entries[key]

    def is_active(self, app: App, token_id: str) -> bool:
        url = str(app.store.engine.url)
        now = time.monotonic()
        with self._lock:
            return any(
                key[0] == url and view.id == token_id and expires > now
                for key, (expires, view) in self._entries.items()
            )


_auth_cache = _AuthCache()


def revoke_token(app: App, name_or_id: str) -> TokenView:
    """Revoke the active token with this name or id."""
    with app.store.session() as session:
        row = session.scalars(
            select(ApiToken).where(
                (ApiToken.name_key == name_key(name_or_id)) | (ApiToken.id == name_or_id),
                ApiToken.revoked_at.is_(None),
            )
        ).first()
        if row is None:
            raise NotFoundError(
                f"no active token {name_or_id!r}", "see: tradewarden tokens list", field="name"
            )
        row.revoked_at = utcnow()
        audit.record(session, "token.revoked", app.actor, token_name=row.name)
        view = TokenView.of(row)
        # Before the commit: whatever this process holds for the token (open streams) ends no later than
        # the revocation becomes visible; should the commit fail, a stream closed early just reconnects.
        _auth_cache.forget(view.id)
        _notify_revoked(view.id)
    _auth_cache.forget(view.id)
    return view


RevocationListener = Callable[[str], None]
_revocation_listeners: list[RevocationListener] = []
_listeners_lock = threading.Lock()


def on_revoked(listener: RevocationListener) -> Callable[[], None]:
    """Call `listener(token_id)` when this process revokes a token; returns the function that unsubscribes.

    The listener runs in the revoking thread and must only hand the news on (e.g. call_soon_threadsafe).
    Revocations by other processes are not announced: holders re-check the store (token_is_active).
    """
    with _listeners_lock:
        _revocation_listeners.append(listener)

    def unsubscribe() -> None:
        with _listeners_lock, contextlib.suppress(ValueError):
            _revocation_listeners.remove(listener)

    return unsubscribe


def _notify_revoked(token_id: str) -> None:
    with _listeners_lock:
        listeners = list(_revocation_listeners)
    for listener in listeners:
        listener(token_id)


def has_active_tokens(app: App) -> bool:
    """True when at least one token is not revoked."""
    with app.store.session() as session:
        return session.scalars(select(ApiToken.id).where(ApiToken.revoked_at.is_(None))).first() is not None


def token_is_active(app: App, token_id: str, fresh: bool = False) -> bool:
    """True while the token exists and is not revoked (see AUTH_CACHE_TTL_S; `fresh` asks the store)."""
    if not fresh and _auth_cache.is_active(app, token_id):
        return True
    with app.store.session() as session:
        row = session.get(ApiToken, token_id)
        return row is not None and row.revoked_at is None


def cached_token(app: App, token: str) -> TokenView | None:
    """The token's view when `authenticate` found it valid within AUTH_CACHE_TTL_S; None otherwise."""
    return _auth_cache.get(app, digest(token))


def authenticate(app: App, token: str) -> TokenView | None:
    """The active token matching `token`, its last use recorded; None when unknown or revoked.

    A token found valid is believed for AUTH_CACHE_TTL_S without reading the store (see there).
    """
    wanted = digest(token)
    cached = _auth_cache.get(app, wanted)
    if cached is not None:
        return cached
    with app.store.session() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.digest == wanted)).first()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.digest, wanted):
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
        view = TokenView.of(row)
    _auth_cache.put(app, wanted, view)
    return view
