"""The market-data hub: one shared public ccxt client per exchange for the whole process.

Every consumer (bots, paper executors, the portfolio) asks the hub instead of keeping its own client:

    hub = MarketHub(HubConfig(endpoints={"binance": sim_url}))
    ticker = await hub.ticker("binance", "BTC/USDT")
    book = await hub.order_book("binance", "BTC/USDT", limit=20)
    candles = await hub.ohlcv("binance", "BTC/USDT", "1m", since=None, limit=100)
    prints = await hub.trades("binance", "BTC/USDT", since=None, limit=50)
    await hub.close()

Exchange ids are ccxt ids ("binance", "binanceusdm", "okx", ...). What the hub gives back is shared by
every asker: treat it as read-only.

- Single-flight: concurrent identical requests share one upstream call; a failure is handed to every
  asker for `error_ttl_s` (no herd of retries against a failing exchange).
- A TTL cache per kind (`HubConfig.ttl_s`); an OHLCV page is cached until its last candle closes (at most
  `ohlcv_forming_max_s` while that candle is still forming; a full page of closed candles for `historic_s`).
- One weighted rate budget per exchange for public calls (budget.py), spent with ccxt's per-endpoint
  cost against the exchange's limit (ccxt's `rateLimit`, or `HubConfig.limits`); a 429/418 pauses it for the
  Retry-After the exchange sent, and the call is retried after the pause (`max_rate_limit_retries`).
- The endpoint override (DESIGN.md) per exchange or for all (`endpoints`, `default_endpoint`), so tests and
  the simulator use the production code path.
- Private clients per connection: `private` (private.py), each key on its own budget.
- Live updates: `feeds` (feeds.py) poll through the hub, or stream tickers over ccxt.pro (streams.py);
  `ticker()` answers from a stream frame younger than `stream_fresh_s`, else from REST.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tradewarden.adapters.exchanges import errors
from tradewarden.adapters.exchanges.client import DEFAULT_TIMEOUT_MS, build_client
from tradewarden.adapters.market.budget import (
    DEFAULT_HEADROOM,
    DEFAULT_MAX_WAIT_S,
    DOCUMENTED_PUBLIC,
    BudgetLimits,
    WeightBudget,
)
from tradewarden.adapters.market.cache import SingleFlightCache

RATE_LIMIT_STATUSES = frozenset({429, 418})
DEFAULT_TTL_S: Mapping[str, float] = MappingProxyType(
    {"ticker": 1.0, "order_book": 1.0, "trades": 1.0, "markets": 3600.0}
)
DEFAULT_PAUSE_S = {429: 1.0, 418: 60.0}  # when the exchange names no Retry-After
MAX_PAUSE_S = 600.0  # a Retry-After beyond this is capped (a broken header must not park us for days)


@dataclass(frozen=True)
class HubConfig:
    """How the hub caches, limits and where it connects."""

    ttl_s: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TTL_S))
    ohlcv_forming_max_s: float = 60.0  # a page whose last candle is still forming is refreshed this often
    ohlcv_closed_s: float = 1.0  # a partial page whose candles all closed: the next one may appear soon
    historic_s: float = 3600.0  # a full page of closed candles never changes
    limits: Mapping[str, BudgetLimits] = field(default_factory=dict)  # per exchange; default from ccxt
    headroom: float = DEFAULT_HEADROOM
    endpoints: Mapping[str, str] = field(default_factory=dict)  # per exchange id
    default_endpoint: str | None = None  # for every exchange not in `endpoints`
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # ccxt options per exchange
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    max_rate_limit_retries: int = 2
    max_pause_wait_s: float = DEFAULT_MAX_WAIT_S  # a longer rate-limit pause (a ban) is refused, not slept
    error_ttl_s: float = 1.0  # a failed call's error is given to askers for this long, without a new call
    streams: bool = True  # ticker feeds asked for source="stream" use ccxt.pro where it has the exchange
    stream_fresh_s: float = 3.0  # ticker() answers from a stream frame at most this old, else from REST
    stream_stall_s: float = 10.0  # a watch with no frame for this long is a stalled connection: reconnect
    stream_retry_s: float = 1.0  # backoff base of a failed stream (doubling, jittered, capped at 60 s)


@dataclass
class ExchangeStats:
    """Upstream calls by kind (each attempt counts), rate-limit answers and feed reconnects."""

    upstream: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    stream_reconnects: int = 0
    stream_frames: int = 0  # ticker frames received from streams
    stream_hits: int = 0  # ticker() answered from a fresh stream frame
    stream_fallbacks: int = 0  # ticker() answered by REST while a stream was subscribed (stale or down)
    user_stream_reconnects: int = 0  # private (order) streams watched again after a drop or an expiry


@dataclass(frozen=True)
class KindSnapshot:
    """One (exchange, kind) line of the hub's figures."""

    exchange: str
    kind: str
    upstream: int
    cache_hits: int
    coalesced: int


@dataclass(frozen=True)
class BudgetSnapshot:
    """One budget's figures: cost spent in the window against the limit, and what it has done."""

    name: str
    scope: str  # "public" or "private"
    used: float
    capacity: float
    limit: float
    window_s: float
    peak_used: float
    requests: int
    pauses: int
    paused_s: float


@dataclass(frozen=True)
class HubSnapshot:
    """Everything /metrics shows about the hub."""

    kinds: tuple[KindSnapshot, ...]
    budgets: tuple[BudgetSnapshot, ...]
    rate_limited: Mapping[str, int]
    stream_reconnects: Mapping[str, int]
    # per exchange: {"frames", "hits", "fallbacks", "user_reconnects"} (see ExchangeStats)
    streams: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


def retry_after_s(headers: Mapping[str, Any] | None, status: int) -> float:
    """Seconds the exchange asks us to wait: Retry-After (seconds or an HTTP date), else a default."""
    value = None
    for name, raw in (headers or {}).items():
        if str(name).lower() == "retry-after":
            value = str(raw).strip()
            break
    if value:
        try:
            return min(MAX_PAUSE_S, max(0.0, float(value)))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if value else None
            if when is not None:
                return min(MAX_PAUSE_S, max(0.0, when.timestamp() - time.time()))
    return DEFAULT_PAUSE_S.get(status, 1.0)


def install_rate_limit_pause(client: Any, budget: WeightBudget, on_limited: Callable[[], None]) -> None:
    """Make every 429/418 answer to `client` pause `budget` for the exchange's Retry-After.

    Hooked on ccxt's per-response callback, so the pause starts before ccxt raises and uses the headers
    of that very response (the client's `last_response_headers` may already belong to another request).
    """
    original = client.on_rest_response

    def hook(code: Any, reason: Any, url: Any, method: Any, headers: Any, body: Any, *rest: Any) -> Any:
        if isinstance(code, int) and code in RATE_LIMIT_STATUSES:
            budget.pause(retry_after_s(headers, code))
            on_limited()
        return original(code, reason, url, method, headers, body, *rest)

    client.on_rest_response = hook


def _is_rate_limit(exc: BaseException) -> bool:
    import ccxt

    return isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection)


class MarketHub:
    """Shared public market data for the process (one per event loop; see the module's docstring)."""

    def __init__(
        self,
        config: HubConfig | None = None,
        clock: Callable[[], float] = time.time,
        session: Any = None,
    ) -> None:
        self.config = config or HubConfig()
        self._clock = clock  # wall seconds: candle close times are wall times
        self._session = session  # a shared aiohttp session, or None: one is made on first use
        self._own_session = session is None
        self._cache = SingleFlightCache(clock, error_ttl_s=self.config.error_ttl_s)
        self._clients: dict[str, Any] = {}
        self._budgets: dict[str, WeightBudget] = {}
        self._private_budgets: dict[str, WeightBudget] = {}
        self._stats: dict[str, ExchangeStats] = {}
        self._closed = False
        self._endpoint_overrides: dict[str, str | None] = {}
        self._price_read_at: dict[tuple[str, str], float] = {}  # see saw_price
        from tradewarden.adapters.market.feeds import Feeds
        from tradewarden.adapters.market.private import PrivateClients
        from tradewarden.adapters.market.streams import StreamClients

        self.feeds = Feeds(self)
        self.private = PrivateClients(self)
        self.streams = StreamClients(self)

    # ---- configuration -------------------------------------------------------------------------

    def endpoint(self, exchange_id: str) -> str | None:
        """Where requests for this exchange go (None: the exchange itself)."""
        if exchange_id in self._endpoint_overrides:
            return self._endpoint_overrides[exchange_id]
        return self.config.endpoints.get(exchange_id, self.config.default_endpoint)

    async def set_endpoint(self, exchange_id: str, endpoint: str | None) -> None:
        """Point one exchange elsewhere; its shared client is closed and remade on the next call."""
        self._endpoint_overrides[exchange_id] = endpoint
        client = self._clients.pop(exchange_id, None)
        self._cache.clear()
        if client is not None:
            await client.close()
        await self.streams.close(exchange_id)

    def stats_of(self, exchange_id: str) -> ExchangeStats:
        """The counters of one exchange (made on first use)."""
        stats = self._stats.get(exchange_id)
        if stats is None:
            stats = self._stats[exchange_id] = ExchangeStats()
        return stats

    # ---- clients and budgets -------------------------------------------------------------------

    def _http_session(self) -> Any:
        if self._session is None:
            from tradewarden.adapters.exchanges.shared import http_session

            self._session = http_session()
        return self._session

    def limits_for(self, exchange_id: str, client: Any) -> BudgetLimits:
        """The exchange's public limit: configured, else documented (budget.py), else ccxt's `rateLimit`."""
        if exchange_id in self.config.limits:
            return self.config.limits[exchange_id]
        if exchange_id in DOCUMENTED_PUBLIC:
            return DOCUMENTED_PUBLIC[exchange_id][1]
        return BudgetLimits.from_ccxt_rate_limit(float(client.rateLimit))

    def _public_pool(self, exchange_id: str) -> str:
        """The budget an exchange's public calls spend (ids the exchange meters as one share one)."""
        if exchange_id in self.config.limits or exchange_id not in DOCUMENTED_PUBLIC:
            return exchange_id
        return DOCUMENTED_PUBLIC[exchange_id][0]

    def public_budget(self, exchange_id: str) -> WeightBudget:
        """The one public budget of this exchange, shared by every public call in the process."""
        self.client(exchange_id)  # the budget is made with the client
        return self._budgets[self._public_pool(exchange_id)]

    def _new_budget(self, name: str, limits: BudgetLimits) -> WeightBudget:
        return WeightBudget(name, limits, self.config.headroom, max_wait_s=self.config.max_pause_wait_s)

    def private_budget(self, exchange_id: str, key_id: str, rate_limit_ms: float) -> WeightBudget:
        """The budget of one API key (private calls), shared by every client using that key."""
        budget = self._private_budgets.get(key_id)
        if budget is None:
            limits = self.config.limits.get(exchange_id) or BudgetLimits.from_ccxt_rate_limit(rate_limit_ms)
            budget = self._private_budgets[key_id] = self._new_budget(f"{exchange_id}:{key_id}", limits)
        return budget

    def drop_private_budget(self, key_id: str) -> None:
        """Forget a key's budget (the key was rotated or removed)."""
        self._private_budgets.pop(key_id, None)

    def client(self, exchange_id: str) -> Any:
        """The shared public client of this exchange (made on first use, on the process's one session)."""
        if self._closed:
            raise RuntimeError("the market hub is closed")
        client = self._clients.get(exchange_id)
        if client is not None:
            return client
        client = build_client(
            exchange_id,
            None,
            self.endpoint(exchange_id),
            self.config.options.get(exchange_id),
            self.config.timeout_ms,
            session=self._http_session(),
        )
        pool = self._public_pool(exchange_id)
        budget = self._budgets.get(pool)
        if budget is None:
            limits = self.limits_for(exchange_id, client)
            budget = self._budgets[pool] = self._new_budget(pool, limits)
        client.throttle = budget.acquire  # ccxt calls throttle(cost) before every request it sends
        errors.install_response_capture(client)
        install_rate_limit_pause(client, budget, lambda: self._count_limited(exchange_id))
        self._clients[exchange_id] = client
        return client

    def _count_limited(self, exchange_id: str) -> None:
        self.stats_of(exchange_id).rate_limited += 1

    async def _call(self, exchange_id: str, kind: str, call: Callable[[Any], Awaitable[Any]]) -> Any:
        """Run one upstream call, retrying after a rate-limit pause (the budget waits it out)."""
        client = self.client(exchange_id)
        stats = self.stats_of(exchange_id)
        attempt = 0
        while True:
            stats.upstream[kind] = stats.upstream.get(kind, 0) + 1
            try:
                return await call(client)
            except Exception as exc:
                if not _is_rate_limit(exc) or attempt >= self.config.max_rate_limit_retries:
                    raise
                attempt += 1  # the hook paused the budget: the retry's throttle waits the pause out

    async def markets(self, exchange_id: str) -> dict[str, Any]:
        """The exchange's markets, loaded once for every consumer."""
        client = self.client(exchange_id)

        async def fetch() -> tuple[Any, float]:
            loaded = await self._call(exchange_id, "markets", lambda c: c.load_markets())
            if not loaded:
                # ccxt reads an unreadable answer (a truncated body) as no markets at all; cached for the
                # markets' TTL it hid every pair of the exchange for an hour. A failure is retried instead.
                import ccxt

                raise ccxt.BadResponse(f"{exchange_id} answered its markets request with no markets")
            return loaded, self._clock() + self.config.ttl_s.get("markets", DEFAULT_TTL_S["markets"])

        if client.markets:
            return dict(client.markets)
        result: dict[str, Any] = await self._cache.get((exchange_id, "markets"), "markets", fetch)
        return result

    async def _get(
        self,
        exchange_id: str,
        kind: str,
        key: tuple[Any, ...],
        call: Callable[[Any], Awaitable[Any]],
        expiry: Callable[[Any], float] | None = None,
        not_before: float | None = None,
    ) -> Any:
        if not self.client(exchange_id).markets:
            await self.markets(exchange_id)  # once, shared: ccxt would otherwise load them per call site
        ttl = self.config.ttl_s.get(kind, DEFAULT_TTL_S.get(kind, 1.0))

        async def fetch() -> tuple[Any, float]:
            value = await self._call(exchange_id, kind, call)
            return value, (expiry(value) if expiry is not None else self._clock() + ttl)

        return await self._cache.get(
            (exchange_id, kind, *key), f"{exchange_id}\x00{kind}", fetch, not_before=not_before
        )

    # ---- the public interface ------------------------------------------------------------------

    async def ticker(self, exchange_id: str, symbol: str) -> dict[str, Any]:
        """The symbol's ticker (ccxt's unified shape): a fresh stream frame when one is subscribed."""
        streamed = self.streams.fresh(exchange_id, symbol)
        if streamed is not None:
            self.saw_price(exchange_id, symbol, streamed.received_at)
            return streamed.ticker
        result: dict[str, Any] = await self._get(
            exchange_id, "ticker", (symbol,), lambda c: c.fetch_ticker(symbol)
        )
        born = self._cache.born((exchange_id, "ticker", symbol))
        if born is not None:
            self.saw_price(exchange_id, symbol, born)
        return result

    def saw_price(self, exchange_id: str, symbol: str, read_at: float) -> None:
        """Record that a price read at `read_at` (wall seconds) was handed out: no book older than it is
        served afterwards. A bot decides on the ticker and its paper order fills on the book; a book
        cached from before a price jump filled a take profit at the old price (a loss)."""
        key = (exchange_id, symbol)
        if read_at > self._price_read_at.get(key, float("-inf")):
            self._price_read_at[key] = read_at

    async def order_book(self, exchange_id: str, symbol: str, limit: int | None = None) -> dict[str, Any]:
        """The symbol's order book, `limit` levels a side (ccxt's unified shape), never read before the
        last price handed out for the symbol (see `saw_price`)."""
        result: dict[str, Any] = await self._get(
            exchange_id,
            "order_book",
            (symbol, limit),
            lambda c: c.fetch_order_book(symbol, limit),
            not_before=self._price_read_at.get((exchange_id, symbol)),
        )
        return result

    async def trades(
        self, exchange_id: str, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Recent public trades (ccxt's unified shape)."""
        result: list[dict[str, Any]] = await self._get(
            exchange_id, "trades", (symbol, since, limit), lambda c: c.fetch_trades(symbol, since, limit)
        )
        return result

    async def ohlcv(
        self,
        exchange_id: str,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
    ) -> list[list[Any]]:
        """A page of candles `[ms, open, high, low, close, volume]`, cached until its last candle closes."""
        import ccxt

        frame_s = float(ccxt.Exchange.parse_timeframe(timeframe))

        def expiry(page: list[list[Any]]) -> float:
            now = self._clock()
            if not page:
                return now + self.config.ohlcv_closed_s
            closes_at = float(page[-1][0]) / 1000.0 + frame_s
            if closes_at > now:  # the last candle is still forming
                return min(closes_at, now + self.config.ohlcv_forming_max_s)
            if since is not None and limit is not None and len(page) >= limit:
                return now + self.config.historic_s  # a full page of closed candles is history
            return now + self.config.ohlcv_closed_s

        result: list[list[Any]] = await self._get(
            exchange_id,
            "ohlcv",
            (symbol, timeframe, since, limit),
            lambda c: c.fetch_ohlcv(symbol, timeframe, since, limit),
            expiry,
        )
        return result

    # ---- figures and shutdown ------------------------------------------------------------------

    def snapshot(self) -> HubSnapshot:
        """Upstream requests, cache hits and coalesced waits per (exchange, kind), and every budget."""
        kinds: list[KindSnapshot] = []
        for exchange_id, stats in sorted(self._stats.items()):
            for kind, upstream in sorted(stats.upstream.items()):
                flight = self._cache.stats.get(f"{exchange_id}\x00{kind}")
                kinds.append(
                    KindSnapshot(
                        exchange_id,
                        kind,
                        upstream,
                        flight.hits if flight else 0,
                        flight.coalesced if flight else 0,
                    )
                )
        budgets = [_budget_snapshot(b, "public") for _, b in sorted(self._budgets.items())] + [
            _budget_snapshot(b, "private") for _, b in sorted(self._private_budgets.items())
        ]
        return HubSnapshot(
            tuple(kinds),
            tuple(budgets),
            {k: s.rate_limited for k, s in sorted(self._stats.items())},
            {k: s.stream_reconnects for k, s in sorted(self._stats.items())},
            {
                k: {
                    "frames": s.stream_frames,
                    "hits": s.stream_hits,
                    "fallbacks": s.stream_fallbacks,
                    "user_reconnects": s.user_stream_reconnects,
                }
                for k, s in sorted(self._stats.items())
            },
        )

    async def close(self) -> None:
        """Stop the feeds, close every private and public client, and the session the hub made."""
        self._closed = True
        await self.feeds.close()
        await self.streams.close()
        await self.private.close_all()
        clients = list(self._clients.values())
        self._clients.clear()
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None


def _budget_snapshot(budget: WeightBudget, scope: str) -> BudgetSnapshot:
    return BudgetSnapshot(
        budget.name,
        scope,
        budget.used(),
        budget.capacity,
        budget.limits.limit,
        budget.limits.window_s,
        budget.stats.peak_used,
        budget.stats.requests,
        budget.stats.pauses,
        budget.stats.paused_s,
    )


def jittered(base_s: float, attempt: int, cap_s: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: a delay in [0.5, 1.5) x base x 2^attempt, at most `cap_s`."""
    rng = rng or random.Random()
    return min(cap_s, base_s * float(2 ** min(attempt, 16)) * (0.5 + rng.random()))
