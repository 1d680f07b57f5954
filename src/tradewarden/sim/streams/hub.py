"""The stream hub: WebSocket upgrades on the venues' stream hosts, topics, the clock tick, ws faults.

One hub per SimServer. Upgrades arrive on the same port as REST, as `/{stream-host}/{path}`; the
venue's `@stream` handler runs the session. Venues publish rendered frames to topics (hashable
keys of their choosing); a frame is rendered once and fanned out to every subscriber's queue.
Public streams move with the simulator clock: one ticker task polls the clock every 25 ms of wall
time and, when a venue's time has moved 100 ms or more, calls its `stream_tick(now, prev)` (one
call per venue per wake however far the clock jumped, so work stays bounded at any clock speed).
Engine events (orders, fills) reach `stream_event` synchronously, inside the REST call that made
them, so a fill is on the private stream before the REST answer is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..venue import dumps
from .conn import StreamConn, Wrap
from .registry import StreamRoutes

if TYPE_CHECKING:
    from ..server import SimContext
    from ..venue import Venue

log = logging.getLogger("tradewarden.sim")

WS_FAULT_KINDS = ("ws_drop", "ws_stall", "listenkey_expire")
TICK_MS = 100  # simulator milliseconds between public updates (Binance's fastest depth cadence)
POLL_S = 0.025  # wall seconds between clock reads
MAX_CATCHUP_MS = 60_000  # a clock jump replays at most this much of the tape in one tick


class StreamHub:
    """Connections, topics and the clock tick of every venue that declares `@stream` endpoints."""

    def __init__(self, ctx: SimContext, venues: dict[str, Venue], seed: int = 0) -> None:
        self.ctx = ctx
        self.venues = venues
        self.routes: dict[str, StreamRoutes] = {}
        for name, venue in venues.items():
            routes = StreamRoutes(venue)
            if not routes:
                continue
            self.routes[name] = routes
            # the venue publishes through the hub; its engines report order changes to it
            venue.streams = self  # type: ignore[attr-defined]
            hook = getattr(venue, "stream_event", None)
            if hook is not None:
                for engine in venue.engines:
                    engine.listeners.append(hook)
            attach = getattr(venue, "stream_attach", None)
            if attach is not None:
                attach()
        self.conns: dict[str, set[StreamConn]] = {name: set() for name in self.routes}
        self._subs: dict[str, dict[Hashable, dict[StreamConn, Wrap | None]]] = {n: {} for n in self.routes}
        self._stall_until: dict[str, float] = {}
        self._last_tick: dict[str, int] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._rng = random.Random(seed)
        self.frames = 0
        self.latencies: deque[float] = deque(maxlen=200_000)  # seconds, engine event -> frame written
        self.accepted = 0

    # ---- upgrades -----------------------------------------------------------------------------

    def serves(self, venue: str) -> bool:
        """True when the venue declares stream endpoints."""
        return venue in self.routes

    async def serve(self, venue: Venue, host: str, path: str, request: web.Request) -> web.StreamResponse:
        """Upgrade and run the venue's handler for `/{host}{path}`; 404 when none is declared."""
        routes = self.routes.get(venue.name)
        found = routes.match(host, path) if routes else None
        if found is None:
            return web.Response(status=404, text=f"no stream {host}{path}")
        if self.ctx.states[venue.name].down:
            return web.Response(status=503, text="Service Unavailable")
        _spec, handler, params = found
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = StreamConn(self, venue.name, ws, request, host, path, params, venue.now_ms)
        self.conns[venue.name].add(conn)
        self.accepted += 1
        self._ensure_ticker()
        sender = asyncio.ensure_future(conn.run_sender())
        try:
            handler_task = asyncio.ensure_future(handler(conn))
            done, _ = await asyncio.wait({handler_task, sender}, return_when=asyncio.FIRST_COMPLETED)
            if handler_task in done:
                exc = handler_task.exception()
                if exc is not None:
                    log.error("stream handler %s%s failed", host, path, exc_info=exc)
                # let the queued frames (and a requested close) go out, briefly
                if not conn.closed and not sender.done():
                    conn.close(conn.close_code or 1000)
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, ConnectionError):
                    await asyncio.wait_for(asyncio.shield(sender), 2.0)
            else:
                handler_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
                    await handler_task
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
                await sender
            for topic in list(conn.topics):
                self.remove_subscriber(conn, topic)
            self.conns[venue.name].discard(conn)
            await conn.finish()
        return ws

    # ---- topics -------------------------------------------------------------------------------

    def add_subscriber(self, conn: StreamConn, topic: Hashable, wrap: Wrap | None) -> None:
        """Register `conn` on a venue topic."""
        self._subs[conn.venue].setdefault(topic, {})[conn] = wrap

    def remove_subscriber(self, conn: StreamConn, topic: Hashable) -> None:
        """Forget `conn` on a topic (the topic goes when its last subscriber does)."""
        subs = self._subs[conn.venue].get(topic)
        if subs is not None:
            subs.pop(conn, None)
            if not subs:
                del self._subs[conn.venue][topic]

    def subscribers(self, venue: str, topic: Hashable) -> dict[StreamConn, Wrap | None]:
        """Who listens to a topic (empty when nobody)."""
        return self._subs.get(venue, {}).get(topic, {})

    def topics(self, venue: str) -> list[Hashable]:
        """Every topic of a venue with at least one subscriber."""
        return list(self._subs.get(venue, {}))

    def publish(self, venue: str, topic: Hashable, frame: Any, t0: float | None = None) -> int:
        """Render once, queue to every subscriber; returns how many got it."""
        subs = self._subs.get(venue, {}).get(topic)
        if not subs:
            return 0
        text = frame if isinstance(frame, (str, bytes)) else dumps(frame)
        for conn, wrap in list(subs.items()):
            conn.push(wrap(text) if wrap is not None and isinstance(text, str) else text, t0)
        return len(subs)

    def sent(self, t0: float | None) -> None:
        """Count a frame written; with t0, its engine-event-to-frame latency."""
        self.frames += 1
        if t0 is not None:
            self.latencies.append(time.perf_counter() - t0)

    # ---- the clock tick -----------------------------------------------------------------------

    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.ensure_future(self._tick_loop())

    async def _tick_loop(self) -> None:
        while any(self.conns.values()):
            await asyncio.sleep(POLL_S)
            self.tick()

    def tick(self) -> None:
        """Give each venue with subscribers its clock step, when 100 ms or more of its time passed."""
        for name, subs in self._subs.items():
            if not subs:
                continue
            venue = self.venues[name]
            now = venue.now_ms()
            last = self._last_tick.get(name)
            if last is None or now < last:  # first tick, or an admin set the clock back
                self._last_tick[name] = now
                continue
            if now - last < TICK_MS:
                continue
            self._last_tick[name] = now
            hook = getattr(venue, "stream_tick", None)
            if hook is None:
                continue
            try:
                hook(now, max(last, now - MAX_CATCHUP_MS))
            except Exception:
                log.exception("stream tick of %s failed", name)

    # ---- faults -------------------------------------------------------------------------------

    def stalled(self, venue: str) -> bool:
        """True while a ws_stall holds the venue's frames and pongs."""
        return self.stall_left(venue) > 0

    def stall_left(self, venue: str) -> float:
        """Wall seconds the venue's streams stay stalled."""
        until = max(self._stall_until.get(venue, 0.0), self._stall_until.get("*", 0.0))
        return max(0.0, until - time.monotonic())

    def apply_fault(
        self, venue: str, kind: str, rate: float = 1.0, ms: int | None = None, count: int | None = None
    ) -> dict[str, Any]:
        """ws_drop: cut connections now; ws_stall: hold frames and pongs for `ms`; listenkey_expire."""
        names = [n for n in self.routes if venue in ("*", n)]
        if kind == "ws_drop":
            dropped = 0
            for name in names:
                for conn in list(self.conns[name]):
                    if count is not None and dropped >= count:
                        break
                    if rate < 1.0 and self._rng.random() >= rate:
                        continue
                    conn.drop()
                    dropped += 1
            return {"venue": venue, "kind": kind, "dropped": dropped}
        if kind == "ws_stall":
            span = (ms if ms is not None else 30_000) / 1000
            self._stall_until[venue] = time.monotonic() + span
            return {"venue": venue, "kind": kind, "ms": int(span * 1000)}
        if kind == "listenkey_expire":
            expired = 0
            for name in names:
                hook = getattr(self.venues[name], "stream_fault", None)
                if hook is not None:
                    expired += int(hook(kind))
            return {"venue": venue, "kind": kind, "expired": expired}
        raise ValueError(f"kind must be one of {list(WS_FAULT_KINDS)}")

    def clear_faults(self, venue: str | None) -> None:
        """End stalls (all venues, or one)."""
        if venue is None:
            self._stall_until.clear()
        else:
            self._stall_until.pop(venue, None)

    # ---- admin view and shutdown --------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """GET /_sim/streams: connections and topics per venue, frames sent, latency percentiles."""
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else None

        return {
            "venues": {
                name: {"connections": len(self.conns[name]), "topics": len(self._subs[name])}
                for name in self.routes
            },
            "accepted": self.accepted,
            "frames": self.frames,
            "event_frames": len(lat),
            "latency_ms": {"p50": pct(0.50), "p99": pct(0.99), "max": pct(1.0)},
        }

    def reset_stats(self) -> None:
        """Zero the frame counter and the latency sample."""
        self.frames = 0
        self.latencies.clear()

    async def close_all(self) -> None:
        """Close every connection (server stop)."""
        for conns in self.conns.values():
            for conn in list(conns):
                conn.close(1001, "server stopping")
                conn.drop()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
