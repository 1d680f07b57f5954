"""What the running server holds: the app context, the vault passphrase, sessions, limits, events."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.app import App

SESSION_TTL_S = 12 * 3600
LOGIN_WINDOW_S = 300.0
LOGIN_MAX_FAILURES = 5


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


class LoginLimiter:
    """At most LOGIN_MAX_FAILURES failed authentications per client address per window."""

    def __init__(self, max_failures: int = LOGIN_MAX_FAILURES, window_s: float = LOGIN_WINDOW_S) -> None:
        self.max_failures, self.window_s = max_failures, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again (0: now)."""
        failures = self._failures[client]
        now = time.monotonic()
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if len(failures) < self.max_failures:
            return 0
        return max(1, int(failures[0] + self.window_s - now))

    def failed(self, client: str) -> None:
        """Count one failure."""
        self._failures[client].append(time.monotonic())


class EventHub:
    """Fan-out of server events (audit events, status changes) to WebSocket subscribers."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue receiving every event from now on."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop delivering to `queue`."""
        self._subscribers.discard(queue)

    def publish(self, event: dict[str, Any]) -> None:
        """Deliver to every subscriber; a subscriber that stopped reading loses the oldest events."""
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)


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
    events: EventHub = field(default_factory=EventHub)
    portfolio_cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    # Coroutines run for the server's lifetime: job(state, stop_event).
    background_jobs: list[Callable[[ServerState, asyncio.Event], Coroutine[Any, Any, None]]] = field(
        default_factory=list
    )
    # Extra route modules (each with a `router`) mounted under /api/v1.
    extra_routers: list[Any] = field(default_factory=list)
    monitor: Any = None  # the HealthMonitor, once its job runs
    listing_cache: tuple[int, bytes] | None = None  # (store data version, rendered connection list)

    def app_for(self, actor: str) -> App:
        """The app context acting as `actor` (for the audit trail)."""
        return replace(self.app, actor=actor)
