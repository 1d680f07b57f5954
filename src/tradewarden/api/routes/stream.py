"""The live stream: WebSocket `/api/v1/stream` with every server event as JSON.

Authentication is the dashboard's session cookie (`tw_session`) or `Authorization: Bearer <token>` on the
handshake; tokens are never taken from the URL, where logs and browser history would keep them. Read scope.

The handshake is always accepted and a refused client is then closed with a code, because a browser's
WebSocket API cannot read the HTTP status of a refused handshake but can read a close code:
  4401 not authenticated (no or unknown token, expired session, token revoked while connected: at once
       when revoked through this server, within RECHECK_S when revoked by another process),
  4403 authenticated but not allowed (scope too small, or a cookie sent from another site's page),
  4429 too many failed authentications from this address.
Nothing is sent before that close. On success the server sends `{"type": "hello", "server_version", "scope"}`
and then each event published on the store's event bus (services/events.py: `audit`, `connection.status`,
`order`, `fill`, `bot`), each as `event.as_message()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from tradewarden import __version__
from tradewarden.api.auth import SESSION_COOKIE, Principal, authenticate_connection
from tradewarden.api.errors import ApiError
from tradewarden.api.routes import metrics
from tradewarden.api.state import ServerState
from tradewarden.services import tokens
from tradewarden.services.events import Subscription

router = APIRouter(tags=["stream"])

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY_FAILURES = 4429
CLOSE_CODES = {401: CLOSE_UNAUTHENTICATED, 403: CLOSE_FORBIDDEN, 429: CLOSE_TOO_MANY_FAILURES}
# How often an open stream re-checks that its token is active and its session open. A revocation in this
# process closes the stream at once; one by another process (the CLI) within this time.
RECHECK_S = 0.5
MAX_REASON_BYTES = 120  # a close frame's reason is limited to 123 bytes


def _same_site(websocket: WebSocket, state: ServerState) -> bool:
    """A browser always sends Origin on a WebSocket handshake: the page must be ours or a configured one."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser, so no ambient cookie was sent on someone else's behalf
    return urlsplit(origin).netloc == websocket.headers.get("host") or origin in state.cors_origins


def admit(websocket: WebSocket, state: ServerState) -> tuple[Principal | None, int, str]:
    """The caller's principal, or the close code and reason refusing it (runs the auth's DB reads)."""
    try:
        principal = authenticate_connection(websocket, "GET")
    except ApiError as exc:
        return None, CLOSE_CODES.get(exc.status, CLOSE_UNAUTHENTICATED), exc.message
    if principal.via == "session" and not _same_site(websocket, state):
        # Cross-site WebSocket hijacking: another site's page opening our stream with the user's cookie.
        return None, CLOSE_FORBIDDEN, "the session cookie is accepted only from this server's own pages"
    if not tokens.scope_allows(principal.scope, "read"):
        return None, CLOSE_FORBIDDEN, f"this needs a token with scope 'read' (yours: {principal.scope!r})"
    return principal, 0, ""


def _still_admitted(
    websocket: WebSocket, state: ServerState, principal: Principal, seen_version: int | None
) -> tuple[bool, int | None]:
    """Whether the caller may still listen, and the store version this answer is based on.

    The store is asked only when it changed since `seen_version` (SQLite's data_version, one pragma on a
    shared connection), so idle streams cost no query; a store without a version is asked each time.
    """
    version = state.app.store.data_version()
    if (version is None or version != seen_version) and not tokens.token_is_active(
        state.app, principal.token_id, fresh=True
    ):
        return False, version
    if principal.via == "session" and state.sessions.get(websocket.cookies.get(SESSION_COOKIE, "")) is None:
        return False, version
    return True, version


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):  # the client may already be gone
        await websocket.close(code, reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore"))


async def _until_disconnect(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice when it leaves."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _forward(
    websocket: WebSocket,
    state: ServerState,
    principal: Principal,
    queue: Subscription,
    revoked: asyncio.Event,
) -> None:
    """Send each event as it comes; end at once on `revoked`, and re-check the store every RECHECK_S."""
    next_check = time.monotonic()
    seen_version: int | None = None
    while True:
        if time.monotonic() >= next_check:
            admitted, seen_version = await asyncio.to_thread(
                _still_admitted, websocket, state, principal, seen_version
            )
            if not admitted:
                await _close(websocket, CLOSE_UNAUTHENTICATED, "the token or session is no longer valid")
                return
            next_check = time.monotonic() + RECHECK_S
        getter = asyncio.ensure_future(queue.get())
        watcher = asyncio.ensure_future(revoked.wait())
        await asyncio.wait(
            {getter, watcher}, timeout=max(0.0, next_check - time.monotonic()), return_when=FIRST_COMPLETED
        )
        watcher.cancel()
        if revoked.is_set():  # checked first: nothing published after the revocation reaches the client
            getter.cancel()
            await _close(websocket, CLOSE_UNAUTHENTICATED, "the token was revoked")
            return
        if getter.done():  # checked after the wait: the get may have completed as the timeout fired
            await websocket.send_text(json.dumps(getter.result().as_message(), default=str))
        else:
            getter.cancel()  # Queue.get gives up cleanly: no event is lost


def _revocation_event(principal: Principal) -> tuple[asyncio.Event, Callable[[], None]]:
    """An event set when this process revokes the principal's token, and the function that stops it."""
    loop = asyncio.get_running_loop()
    revoked = asyncio.Event()

    def on_revoked(token_id: str) -> None:
        if token_id == principal.token_id:
            with contextlib.suppress(RuntimeError):  # the loop may have closed with the server
                loop.call_soon_threadsafe(revoked.set)

    return revoked, tokens.on_revoked(on_revoked)


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Hello, then every server event as JSON until either side closes."""
    state: ServerState = websocket.app.state.tw
    await websocket.accept()
    principal, code, reason = await asyncio.to_thread(admit, websocket, state)
    if principal is None:
        await _close(websocket, code, reason)
        return
    revoked, stop_watching = _revocation_event(principal)
    queue = state.events.subscribe()  # before hello: nothing published after it can be missed
    gauge = metrics.of(websocket.app)
    if gauge is not None:
        gauge.stream_subscribers.inc()
    tasks: list[asyncio.Task[None]] = []
    try:
        hello = {"type": "hello", "server_version": __version__, "scope": principal.scope}
        try:
            await websocket.send_text(json.dumps(hello))
        except WebSocketDisconnect:
            return  # gone before the hello
        tasks = [
            asyncio.create_task(_forward(websocket, state, principal, queue, revoked)),
            asyncio.create_task(_until_disconnect(websocket)),
        ]
        # Either the client left, or the stream closed itself; a send to a departed client ends it too.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stop_watching()
        state.events.unsubscribe(queue)
        if gauge is not None:
            gauge.stream_subscribers.dec()
