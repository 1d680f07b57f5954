"""Fixed-window counters for the limits venues keep beside the per-IP weight meter.

Exchanges count in windows aligned to the clock (Binance: "a 10 SECOND interval starts every
10 seconds", the DAY interval at 00:00 UTC), per account, per endpoint or per instrument. One
`Counters` per venue holds every such count, keyed by whatever the venue's rule names.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass

DAY_MS = 86_400_000


@dataclass(slots=True)
class _Window:
    start_ms: int
    count: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of one counted use: the count in the window, and how long to wait when refused."""

    count: int
    retry_after_ms: int
    reset_ms: int

    @property
    def allowed(self) -> bool:
        """True when the use fitted in the window."""
        return self.retry_after_ms == 0

    @property
    def retry_after_s(self) -> int:
        """Whole seconds to wait (at least 1), for Retry-After headers."""
        return max(1, -(-self.retry_after_ms // 1000))


class Counters:
    """Clock-aligned fixed windows keyed by (rule, subject...); thread-safe."""

    def __init__(self) -> None:
        self._w: dict[Hashable, _Window] = {}
        self._lock = threading.Lock()

    def _window(self, key: Hashable, window_ms: int, now_ms: int) -> _Window:
        start = now_ms - now_ms % window_ms
        w = self._w.get(key)
        if w is None or w.start_ms != start:
            w = _Window(start, 0)
            self._w[key] = w
        return w

    def hit(self, key: Hashable, limit: int, window_ms: int, now_ms: int, cost: int = 1) -> Verdict:
        """Count a use unless it would pass `limit`; a refused use is not counted."""
        with self._lock:
            w = self._window(key, window_ms, now_ms)
            reset = w.start_ms + window_ms - now_ms
            if w.count + cost > limit:
                return Verdict(w.count, max(1, reset), reset)
            w.count += cost
            return Verdict(w.count, 0, reset)

    def peek(self, key: Hashable, window_ms: int, now_ms: int) -> int:
        """The count in the current window."""
        with self._lock:
            return self._window(key, window_ms, now_ms).count

    def add(self, key: Hashable, window_ms: int, now_ms: int, delta: int) -> int:
        """Adjust the current window's count (never below zero); returns the new count."""
        with self._lock:
            w = self._window(key, window_ms, now_ms)
            w.count = max(0, w.count + delta)
            return w.count

    def clear(self) -> None:
        """Forget every count."""
        with self._lock:
            self._w.clear()
