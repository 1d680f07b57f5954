"""Authentication: bearer tokens for programs; a session cookie plus CSRF header for the dashboard."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from tradewarden.api.errors import ApiError
from tradewarden.api.state import ServerState
from tradewarden.services import tokens
from tradewarden.services.audit_log import record_server_event

SESSION_COOKIE = "tw_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token (directly, or through a dashboard session)."""

    token_id: str
    token_name: str
    scope: str
    via: str  # "bearer" | "session"

    @property
    def actor(self) -> str:
        """The audit actor."""
        return f"token:{self.token_name}"


def state_of(request: Request) -> ServerState:
    """The server state attached to the app."""
    state: ServerState = request.app.state.tw
    return state


def client_address(request: HTTPConnection) -> str:
    """The caller's address as this server sees it."""
    return request.client.host if request.client else "unknown"


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8 and ::1."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def record_auth_failure(state: ServerState, request: HTTPConnection, reason: str, token: str | None) -> None:
    """Count a failed authentication (address, token prefix, global) and put it in the audit log."""
    client = client_address(request)
    state.limiter.failed(client, token)
    record_server_event(state.app, "auth.failed", f"client:{client}", reason=reason, path=request.url.path)


def refuse_if_limited(state: ServerState, request: HTTPConnection, token: str | None) -> None:
    """429 while unknown tokens from this client (or with this prefix, or from anyone) are over budget.

    Call it only once the presented token has been found invalid: a valid token is never limited.
    """
    client = client_address(request)
    wait = state.limiter.retry_after(client, token)
    if wait:
        if state.limiter.first_refusal(client):  # one audit event per address and window, not a flood
            record_server_event(
                state.app, "auth.limited", f"client:{client}", path=request.url.path, retry_after_s=wait
            )
        raise ApiError(
            429,
            "too_many_failures",
            f"too many failed authentications; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def refuse_unknown_token(state: ServerState, request: HTTPConnection, token: str, reason: str) -> None:
    """The answer to a token found unknown or revoked: 429 when over the limit, else count it (then 401)."""
    refuse_if_limited(state, request, token)
    record_auth_failure(state, request, reason, token)


def _bearer(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(request: Request) -> Principal:
    """The caller's principal, or 401 (and an audited failure)."""
    return authenticate_connection(request, request.method)


def authenticate_connection(request: HTTPConnection, method: str) -> Principal:
    """authenticate() for any connection, HTTP or WebSocket; `method` decides whether CSRF applies."""
    state: ServerState = request.app.state.tw
    token = _bearer(request)
    if token is not None:
        # Verified first (a digest and an indexed lookup): the failure limit applies to bad tokens only.
        view = tokens.authenticate(state.app, token)
        if view is None:
            refuse_unknown_token(state, request, token, "unknown or revoked token")
            raise ApiError(
                401, "unauthorized", "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
            )
        return Principal(view.id, view.name, view.scope, "bearer")
    session_id = request.cookies.get(SESSION_COOKIE)
    session = state.sessions.get(session_id) if session_id else None
    if session is None or session_id is None:
        raise ApiError(
            401,
            "unauthorized",
            "log in, or send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not tokens.token_is_active(state.app, session.token_id):
        state.sessions.drop(session_id)
        raise ApiError(401, "unauthorized", "the token behind this session was revoked; log in again")
    if method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != session.csrf:
        raise ApiError(
            403, "csrf", f"state-changing requests with the session cookie need the {CSRF_HEADER} header"
        )
    return Principal(session.token_id, session.token_name, session.scope, "session")


def _cached_bearer(request: Request) -> Principal | None:
    """The principal of a bearer token validated moments ago (tokens.AUTH_CACHE_TTL_S), without I/O."""
    token = _bearer(request)
    if token is None:
        return None
    view = tokens.cached_token(state_of(request).app, token)
    return Principal(view.id, view.name, view.scope, "bearer") if view is not None else None


def require(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting callers whose scope includes `scope`."""

    async def dependency(request: Request) -> Principal:
        # A token seen moments ago is checked on the event loop; anything that may read or write the
        # store (first sight of a token, sessions, failures) runs in the threadpool.
        principal = _cached_bearer(request)
        if principal is None:
            principal = await run_in_threadpool(authenticate, request)
        if not tokens.scope_allows(principal.scope, scope):
            raise ApiError(
                403, "forbidden", f"this needs a token with scope {scope!r} (yours: {principal.scope!r})"
            )
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency


async def _state_dependency(request: Request) -> ServerState:
    # async: FastAPI runs a sync dependency in the threadpool, a hop per request for an attribute read.
    return state_of(request)


StateDep = Annotated[ServerState, Depends(_state_dependency)]
ReadPrincipal = Annotated[Principal, Depends(require("read"))]
TradePrincipal = Annotated[Principal, Depends(require("trade"))]
AdminPrincipal = Annotated[Principal, Depends(require("admin"))]
