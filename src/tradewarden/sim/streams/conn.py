"""One WebSocket connection as a venue's stream handler sees it: frames out through a queue, text in."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from multidict import CIMultiDictProxy

from ..venue import dumps

if TYPE_CHECKING:
    from .hub import StreamHub

Wrap = Callable[[str], str]
log = logging.getLogger("tradewarden.sim")
_ids = itertools.count(1)
_CLOSE = "\x00close"  # queue sentinel: close after the frames queued before it


class StreamConn:
    """A subscriber: `send` frames (queued, in order), iterate `messages()`, `subscribe` to topics."""

    #: frames a slow reader may have pending before the venue drops it (exchanges do the same)
    max_pending = 5000

    def __init__(
        self,
        hub: StreamHub,
        venue: str,
        ws: web.WebSocketResponse,
        request: web.Request,
        host: str,
        path: str,
        path_params: dict[str, str],
        now_ms: Callable[[], int],
    ) -> None:
        self.id = next(_ids)
        self.hub = hub
        self.venue = venue
        self.ws = ws
        self.request = request
        self.host = host
        self.path = path
        self.path_params = path_params
        self.query: dict[str, str] = {k: v for k, v in request.query.items()}
        self.headers: CIMultiDictProxy[str] = request.headers
        self.remote = request.remote or ""
        self.now_ms = now_ms
        #: the venue's per-connection state (logged-in key, subscriptions by name, ...)
        self.state: dict[str, Any] = {}
        self.topics: dict[Hashable, Wrap | None] = {}
        self.closed = False
        self.close_code: int | None = None
        self.last_pong = time.monotonic()
        self._queue: deque[tuple[str | bytes, float | None]] = deque()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._on_close: list[Callable[[], None]] = []

    # ---- frames out ---------------------------------------------------------------------------

    def send(self, frame: Any, t0: float | None = None) -> None:
        """Queue one frame (str as text, bytes as a binary frame, else compact JSON); t0: for latency."""
        if self.closed:
            return
        self.push(frame if isinstance(frame, (str, bytes)) else dumps(frame), t0)

    def push(self, text: str | bytes, t0: float | None = None) -> None:
        """Queue a pre-rendered frame (the hub's fan-out path); bytes go out as a binary frame."""
        if self.closed:
            return
        if len(self._queue) >= self.max_pending:
            self.drop()  # a reader this far behind is cut off rather than buffered without end
            return
        self._queue.append((text, t0))
        self._wake.set()

    def close(self, code: int = 1000, message: str = "") -> None:
        """Close after the frames already queued have gone out (e.g. listenKeyExpired, then close)."""
        if self.closed:
            return
        self.close_code = code
        self._queue.append((_CLOSE + message, None))
        self._wake.set()

    def drop(self) -> None:
        """Cut the TCP connection with no close frame (a network drop)."""
        if self.closed and self.ws.closed:
            return
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()
        self._wake.set()

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the connection is gone (unsubscribe from venue state, etc.)."""
        self._on_close.append(callback)

    def spawn(self, coro: Any) -> asyncio.Task[None]:
        """Run a task for the life of the connection (cancelled when it closes)."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.append(task)
        return task

    # ---- topics -------------------------------------------------------------------------------

    def subscribe(self, topic: Hashable, wrap: Wrap | None = None) -> None:
        """Receive what the venue publishes on `topic`; `wrap` reshapes each frame (combined streams)."""
        self.topics[topic] = wrap
        self.hub.add_subscriber(self, topic, wrap)

    def unsubscribe(self, topic: Hashable) -> None:
        """Stop receiving `topic`."""
        if self.topics.pop(topic, None) is not None or topic in self.hub.subscribers(self.venue, topic):
            self.hub.remove_subscriber(self, topic)

    # ---- frames in ----------------------------------------------------------------------------

    async def messages(self) -> AsyncIterator[str]:
        """Text (and decoded binary) frames from the client; protocol pings answered unless stalled."""
        while not self.closed:
            msg = await self.ws.receive()
            if msg.type is WSMsgType.TEXT:
                yield str(msg.data)
            elif msg.type is WSMsgType.BINARY:
                yield bytes(msg.data).decode(errors="replace")
            elif msg.type is WSMsgType.PING:
                if not self.hub.stalled(self.venue):
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await self.ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                self.last_pong = time.monotonic()
            else:  # CLOSE, CLOSING, CLOSED, ERROR
                return

    async def json_messages(self) -> AsyncIterator[tuple[str, Any]]:
        """(raw text, parsed JSON or None when the text is not JSON) for each client frame."""
        async for text in self.messages():
            try:
                yield text, json.loads(text)
            except ValueError:
                yield text, None

    def keepalive(self, interval_s: float, timeout_s: float) -> None:
        """Server pings every `interval_s`; no pong for `timeout_s` closes the connection (Binance)."""

        async def loop() -> None:
            while not self.closed:
                await asyncio.sleep(interval_s)
                if time.monotonic() - self.last_pong > timeout_s:
                    self.drop()
                    return
                if not self.hub.stalled(self.venue):
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await self.ws.ping()

        self.spawn(loop())

    # ---- the sender (run by the hub) ----------------------------------------------------------

    async def run_sender(self) -> None:
        """Write queued frames in order; hold them while the venue is stalled (ws_stall)."""
        ws = self.ws
        try:
            while True:
                while not self._queue:
                    if self.closed:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                if self.closed and not self.close_code:
                    return
                wait = self.hub.stall_left(self.venue)
                if wait > 0:
                    await asyncio.sleep(min(wait, 0.05))
                    continue
                text, t0 = self._queue.popleft()
                if isinstance(text, bytes):  # protobuf push channels (MEXC spot)
                    await ws.send_bytes(text)
                    self.hub.sent(t0)
                    continue
                if text.startswith(_CLOSE):
                    self.closed = True
                    await ws.close(code=self.close_code or 1000, message=text[len(_CLOSE) :].encode())
                    return
                await ws.send_str(text)
                self.hub.sent(t0)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            self.closed = True
            raise

    async def finish(self) -> None:
        """Tear down: tasks cancelled, close callbacks run, socket closed."""
        self.closed = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for cb in self._on_close:
            try:
                cb()
            except Exception:  # a venue's cleanup must not keep the socket open
                log.exception("stream on_close callback failed")
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.close(code=self.close_code or 1000)
