"""Simulator WebSocket streams: endpoints declared per venue, topics, clock tick, engine events, faults.

See VENUES.md ("Streams") for how a venue declares its stream endpoints and pushes frames.
"""

from .base import StreamVenue
from .book import BookDiff, BookSequencer, okx_checksum
from .conn import StreamConn
from .hub import TICK_MS, WS_FAULT_KINDS, StreamHub
from .registry import StreamRoutes, stream
from .tape import new_trades

__all__ = [
    "TICK_MS",
    "WS_FAULT_KINDS",
    "BookDiff",
    "BookSequencer",
    "StreamConn",
    "StreamHub",
    "StreamRoutes",
    "StreamVenue",
    "new_trades",
    "okx_checksum",
    "stream",
]
