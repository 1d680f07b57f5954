"""`StreamVenue`: the mixin a venue inherits to serve streams (hooks the hub calls, publish helpers)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..matching import EngineEvent
    from .hub import StreamHub


class StreamVenue:
    """Mix in before `Venue`: `class BinanceVenue(BinanceStreams, Venue)`; override the hooks."""

    #: set by the hub when the server starts (None for a venue built without a server)
    streams: StreamHub | None = None

    def stream_attach(self) -> None:
        """Called once when the server's hub attaches (set up stream state, ledger listeners)."""

    def stream_tick(self, now_ms: int, prev_ms: int) -> None:
        """The clock moved from `prev_ms` to `now_ms` (>= 100 ms): publish public updates for that span."""

    def stream_event(self, ev: EngineEvent) -> None:
        """An order changed (new, trade, canceled, expired): publish it on the owner's private stream."""

    def stream_fault(self, kind: str) -> int:
        """An admin fault other than drop/stall (listenkey_expire); returns how many things it hit."""
        return 0

    def publish(self, topic: Hashable, frame: Any, t0: float | None = None) -> int:
        """Send a frame to the topic's subscribers; returns how many."""
        hub = self.streams
        return 0 if hub is None else hub.publish(self._stream_name(), topic, frame, t0)

    def subscribed(self, topic: Hashable) -> bool:
        """True when someone listens to `topic` (render nothing otherwise)."""
        hub = self.streams
        return hub is not None and bool(hub.subscribers(self._stream_name(), topic))

    def stream_topics(self) -> list[Hashable]:
        """The venue's topics that have subscribers."""
        hub = self.streams
        return [] if hub is None else hub.topics(self._stream_name())

    def _stream_name(self) -> str:
        return str(getattr(self, "name", ""))
