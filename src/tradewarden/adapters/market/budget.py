"""One weighted rate budget, shared by every client that spends it (a process-wide limiter).

ccxt gives each client its own limiter, so N clients on one exchange get N budgets and together overrun
the exchange's limit. A `WeightBudget` is installed as the `throttle` of every client that shares it: each
request waits until its cost (ccxt's per-endpoint cost, in ccxt's units) fits in a rolling window. A
rolling window of W seconds holding at most L means no fixed window of W seconds (how exchanges meter)
ever sees more than L either. A 429/418 or Retry-After pauses the whole budget for as long as the
exchange asks, so no consumer keeps knocking while the exchange is refusing. A consumer that meets a
pause longer than `max_wait_s` (a ban: minutes to days) is refused at once with ccxt's RateLimitExceeded
rather than parked: a bot runner round or an API request must not hang on one exchange's ban.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_WINDOW_S = 60.0
DEFAULT_MAX_WAIT_S = 10.0  # the longest pause a consumer sleeps through; a longer one is refused at once
DEFAULT_HEADROOM = (
    0.8  # spend at most this share of the exchange's limit: other tools may share the key or IP
)


@dataclass(frozen=True)
class BudgetLimits:
    """An exchange's limit: `limit` units of cost per `window_s` seconds."""

    limit: float
    window_s: float = DEFAULT_WINDOW_S

    @classmethod
    def from_ccxt_rate_limit(cls, rate_limit_ms: float, window_s: float = DEFAULT_WINDOW_S) -> BudgetLimits:
        """ccxt's model of an exchange's limit: one unit of cost per `rateLimit` milliseconds."""
        return cls(limit=window_s * 1000.0 / max(rate_limit_ms, 0.001), window_s=window_s)


# Public limits an exchange documents where ccxt's `rateLimit` models another pool, with the budget they
# share. KuCoin's rate-limit page: the public pool is 2000 weight per 30 s per IP (VIP0), one pool for spot
# and futures; ccxt's 7.5 ms per unit models the 4000-weight spot pool, twice the public one.
KUCOIN_PUBLIC = BudgetLimits(limit=2000, window_s=30.0)
DOCUMENTED_PUBLIC: dict[str, tuple[str, BudgetLimits]] = {
    "kucoin": ("kucoin-public", KUCOIN_PUBLIC),
    "kucoinfutures": ("kucoin-public", KUCOIN_PUBLIC),
}


@dataclass
class BudgetStats:
    """What a budget has done since it was made (read by the metrics)."""

    requests: int = 0
    weight_spent: float = 0.0
    peak_used: float = 0.0
    waits: int = 0
    pauses: int = 0
    paused_s: float = 0.0
    refused: int = 0  # consumers refused at once: the pause in force was longer than max_wait_s


def _refused(name: str, left: float) -> Exception:
    import ccxt  # the error every caller already classifies as a rate limit (retry later, nothing sent)

    error: Exception = ccxt.RateLimitExceeded(
        f"{name}: the exchange's rate limit pauses requests for {left:.0f} s more; nothing was sent"
    )
    return error


class WeightBudget:
    """A rolling-window weight budget with pauses; `acquire(cost)` is a drop-in ccxt `throttle`."""

    def __init__(
        self,
        name: str,
        limits: BudgetLimits,
        headroom: float = DEFAULT_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
    ) -> None:
        self.name = name
        self.max_wait_s = max_wait_s
        self.limits = limits
        self.capacity = max(1.0, limits.limit * headroom)
        self.stats = BudgetStats()
        self._clock = clock
        self._spent: deque[tuple[float, float]] = deque()
        self._used = 0.0
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None  # made on first use, inside the loop that uses it

    def _prune(self, now: float) -> None:
        horizon = now - self.limits.window_s
        while self._spent and self._spent[0][0] <= horizon:
            self._used -= self._spent.popleft()[1]
        if not self._spent:
            self._used = 0.0  # no float drift once the window is empty

    def used(self) -> float:
        """Cost spent in the current rolling window."""
        self._prune(self._clock())
        return self._used

    def paused_for(self) -> float:
        """Seconds the budget stays paused (0 when it is not)."""
        return max(0.0, self._paused_until - self._clock())

    async def acquire(self, cost: float | None = None) -> None:
        """Wait (first come, first served) until `cost` fits and the budget is not paused, then spend it."""
        cost = min(float(cost if cost is not None else 1.0), self.capacity)  # one huge call must still pass
        if self._lock is None:
            self._lock = asyncio.Lock()
        # Only a consumer sleeping for the budget ever holds the lock across an await: finding it held
        # means waiting behind one.
        waited = self._lock.locked()
        async with self._lock:  # asyncio.Lock is FIFO: no consumer starves behind newer ones
            while True:
                now = self._clock()
                if now < self._paused_until:
                    left = self._paused_until - now
                    if left > self.max_wait_s:
                        self.stats.refused += 1
                        raise _refused(self.name, left)
                    waited = True
                    await asyncio.sleep(left)
                    continue
                self._prune(now)
                if self._used + cost <= self.capacity:
                    break
                waited = True
                oldest = self._spent[0][0] if self._spent else now
                await asyncio.sleep(max(0.001, oldest + self.limits.window_s - now))
            self._spent.append((now, cost))
            self._used += cost
        self.stats.requests += 1
        self.stats.weight_spent += cost
        self.stats.waits += int(waited)
        self.stats.peak_used = max(self.stats.peak_used, self._used)

    def pause(self, seconds: float) -> None:
        """Spend nothing for `seconds` from now (extends, never shortens, a pause in force)."""
        now = self._clock()
        until = now + max(0.0, seconds)
        if until > self._paused_until:
            self.stats.pauses += 1
            self.stats.paused_s += until - max(now, self._paused_until)
            self._paused_until = until
