"""The simulator clock every venue shares: real time, or a virtual time a test sets and steps.

Real mode reads the wall clock. Virtual mode starts at a chosen epoch-ms and runs at `speed` times
wall time (speed 0: frozen, moved only by `advance`). Prices, candles, trades, order times and
expiries all read this clock, so a test can play a month of market in seconds, deterministically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

REAL = "real"
VIRTUAL = "virtual"


def wall_ms() -> int:
    """Wall clock in epoch milliseconds."""
    return int(time.time() * 1000)


@dataclass
class SimClock:
    """Shared clock; `now_ms()` is the one source of simulator time."""

    mode: str = REAL
    speed: float = 1.0
    _start_ms: int = 0  # virtual time at the anchor
    _anchor: float = 0.0  # time.monotonic() when the virtual time was last set

    def now_ms(self) -> int:
        """Current simulator time in epoch milliseconds."""
        if self.mode == REAL:
            return wall_ms()
        if self.speed == 0:
            return self._start_ms
        return self._start_ms + int((time.monotonic() - self._anchor) * 1000 * self.speed)

    def set_virtual(self, start_ms: int, speed: float = 0.0) -> None:
        """Virtual time from `start_ms`, running at `speed` x wall time (0 = frozen)."""
        if start_ms < 0:
            raise ValueError("start must be epoch milliseconds >= 0")
        if not 0.0 <= speed <= 1_000_000.0:
            raise ValueError("speed must be within 0..1000000 (0 freezes the clock)")
        self.mode = VIRTUAL
        self.speed = float(speed)
        self._start_ms = int(start_ms)
        self._anchor = time.monotonic()

    def set_real(self) -> None:
        """Back to the wall clock."""
        self.mode = REAL
        self.speed = 1.0

    def advance(self, ms: int) -> int:
        """Step a virtual clock forward by `ms` (>= 0); returns the new time."""
        if self.mode != VIRTUAL:
            raise ValueError('advance_ms needs a virtual clock: POST {"mode": "virtual", "start": ms} first')
        if ms < 0:
            raise ValueError("advance_ms must be >= 0 (time does not run backwards)")
        now = self.now_ms()
        self._start_ms = now + int(ms)
        self._anchor = time.monotonic()
        return self._start_ms

    def view(self) -> dict[str, object]:
        """The admin view: {"mode", "now", "speed"}."""
        return {"mode": self.mode, "now": self.now_ms(), "speed": self.speed}
