"""What the running server holds: the app context, the vault passphrase, sessions, limits, events."""

from __future__ import annotations

import asyncio
import ipaddress
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.app import App
from tradewarden.services.events import EventBus, bus_for

SESSION_TTL_S = 12 * 3600
LOGIN_WINDOW_S = 300.0
LOGIN_MAX_FAILURES = 5  # per source address, and per presented token prefix
AUTH_MAX_GLOBAL_FAILURES = 100  # from every source together: many addresses must not multiply the budget
TOKEN_PREFIX_CHARS = 10  # what `tokens list` shows of a token (tw_ and 7 characters)


@dataclass
class Session:
    """A dashboard session: which token logged in, its scope, and the CSRF token it must echo."""

    token_id: str
    token_name: str
    scope: str
    csrf: str
    expires: float


class SessionStore:
    """In-memory sessions (a restart logs everyone out, which is the safe default)."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def create(self, token_id: str, token_name: str, scope: str) -> tuple[str, Session]:
        """A new session id (≥ 256 bits) and its session."""
        session_id = secrets.token_urlsafe(32)
        session = Session(token_id, token_name, scope, secrets.token_urlsafe(32), time.time() + SESSION_TTL_S)
        self._sessions[session_id] = session
        return session_id, session

    def get(self, session_id: str) -> Session | None:
        """The live session, or None (expired ones are dropped)."""
        session = self._sessions.get(session_id)
        if session is not None and session.expires < time.time():
            del self._sessions[session_id]
            return None
        return session

    def drop(self, session_id: str) -> None:
        """End a session."""
        self._sessions.pop(session_id, None)

    def drop_token(self, token_id: str) -> None:
        """End every session opened with a (now revoked) token."""
        for key in [k for k, s in self._sessions.items() if s.token_id == token_id]:
            del self._sessions[key]


def address_bucket(address: str) -> str:
    """The bucket an address's failures count in: all of loopback is one, an IPv6 client is its /64.

    Every local client (and everything behind a local reverse proxy) shares loopback, and rotating
    127.0.0.x or the low bits of an IPv6 address costs an attacker nothing, so neither may reset the count.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"other:{address[:64]}"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if isinstance(ip, ipaddress.IPv6Address):
        return f"ip:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"ip:{ip}"


class LoginLimiter:
    """Failed authentications, counted per source address, per presented token prefix and globally.

    Only failures count, and only unknown or revoked tokens are refused when a budget is spent: a valid
    token is verified before the limit is consulted, so an attack on others never locks it out.
    """

    def __init__(
        self,
        max_failures: int = LOGIN_MAX_FAILURES,
        window_s: float = LOGIN_WINDOW_S,
        max_global_failures: int = AUTH_MAX_GLOBAL_FAILURES,
    ) -> None:
        self.max_failures, self.window_s = max_failures, window_s
        self.max_global_failures = max(max_global_failures, max_failures)
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._refusals_noted: dict[str, float] = {}  # address bucket -> when its refusals were audited

    def _buckets(self, client: str, prefix: str | None) -> list[tuple[str, int]]:
        buckets = [
            (f"addr:{address_bucket(client)}", self.max_failures),
            ("global", self.max_global_failures),
        ]
        if prefix:
            buckets.append((f"prefix:{prefix[:TOKEN_PREFIX_CHARS]}", self.max_failures))
        return buckets

    def _wait(self, key: str, limit: int, now: float) -> float:
        failures = self._failures.get(key)
        if failures is None:
            return 0.0
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[key]  # bounded memory: only buckets with recent failures are kept
            return 0.0
        if len(failures) < limit:
            return 0.0
        return failures[-limit] + self.window_s - now

    def retry_after(self, client: str, prefix: str | None = None) -> int:
        """Seconds until an unknown token from `client` (starting with `prefix`) may be tried (0: now)."""
        now = time.monotonic()
        with self._lock:
            wait = max(self._wait(key, limit, now) for key, limit in self._buckets(client, prefix))
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def first_refusal(self, client: str) -> bool:
        """True for the first refusal of `client`'s address bucket in a window (audit that one only)."""
        now, bucket = time.monotonic(), address_bucket(client)
        with self._lock:
            if len(self._refusals_noted) > 4 * self.max_global_failures:
                cutoff = now - self.window_s
                self._refusals_noted = {k: t for k, t in self._refusals_noted.items() if t > cutoff}
            noted = self._refusals_noted.get(bucket)
            if noted is not None and noted > now - self.window_s:
                return False
            self._refusals_noted[bucket] = now
            return True

    def failed(self, client: str, prefix: str | None = None) -> None:
        """Count one failure against the client's address, the token prefix and the global budget."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 4 * self.max_global_failures:  # drop buckets nobody asked about since
                for key in list(self._failures):
                    self._wait(key, 1, now)
            for key, _limit in self._buckets(client, prefix):
                self._failures.setdefault(key, deque()).append(now)


# The event hub lives below the services now (services publish, the stream subscribes): see
# services/events.py. The name stays for code that imported it from here.
EventHub = EventBus


@dataclass
class ServerState:
    """Shared by every request of one server process."""

    app: App
    passphrase: Secret
    cors_origins: list[str] = field(default_factory=list)
    secure_cookies: bool = False
    monitor_interval_s: float = 300.0
    sessions: SessionStore = field(default_factory=SessionStore)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    events: EventBus = field(init=False)  # the store's bus (services/events.py), set below
    portfolio_cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    # Coroutines run for the server's lifetime: job(state, stop_event).
    background_jobs: list[Callable[[ServerState, asyncio.Event], Coroutine[Any, Any, None]]] = field(
        default_factory=list
    )
    # Extra route modules (each with a `router`) mounted under /api/v1.
    extra_routers: list[Any] = field(default_factory=list)
    monitor: Any = None  # the HealthMonitor, once its job runs
    vault: Any = None  # the VaultSession (services/vault_session.py): the data key held, Argon2id run once
    market: Any = None  # the MarketHub (adapters/market), while its job runs
    runner: Any = None  # the BotRunner (services/bots/runner.py), while its job runs
    listing_cache: tuple[int, bytes] | None = None  # (store data version, rendered connection list)

    def __post_init__(self) -> None:
        self.events = bus_for(self.app.store)

    def app_for(self, actor: str) -> App:
        """The app context acting as `actor` (for the audit trail)."""
        return replace(self.app, actor=actor)
