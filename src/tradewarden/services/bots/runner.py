"""The bot runner: one asyncio loop driving every bot this process holds a lease on.

Each round: renew and claim leases (leases.py), load newly held bots (reconciling live ones with the
exchange first), pause or stop bots whose connection went bad and resume those whose connection came
back, read one quote per distinct (exchange, pair) through the market hub however many bots trade it,
then step every running bot on its pairs' quotes. One bot's failure is logged, counted and recorded on
that bot; the others carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import select

from tradewarden.adapters.execution.guard import GuardPolicy
from tradewarden.adapters.execution.ledger import dec, dec0
from tradewarden.adapters.execution.live import LiveConfig, LiveExecutor
from tradewarden.adapters.execution.paper import MarketInfo, MarketSource
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.store.models import BotRow, Connection, FillRow
from tradewarden.domain.strategies import STRATEGIES
from tradewarden.domain.strategies.base import Context
from tradewarden.services.app import App
from tradewarden.services.bots import codec, leases
from tradewarden.services.bots.driver import BotDriver, LeaseLost, PairRun, Paused, Quote
from tradewarden.services.bots.executors import NeedsVault, Venue, guarded_executor, market_source, venue_of
from tradewarden.services.bots.service import bot_key, max_commit, set_status
from tradewarden.services.bots.streams import RunnerStreams
from tradewarden.services.vault_session import VaultSession

log = logging.getLogger(__name__)

STOPPING_STATUSES = frozenset({"invalid_key", "expired", "withdraw_enabled", "integrity_error", "removed"})
CONNECTION_PAUSE = "connection"  # status_reason prefix of a pause the runner lifts by itself
PAPER_FLOOR = Decimal(100)
PAPER_QUANTUM = Decimal("1e-8")
INTERRUPTED = "interrupted: the process stopped before its paper fill was worked out"


@dataclass
class RoundStats:
    """What one round did."""

    held: int = 0
    stepped: int = 0
    quotes: int = 0
    failures: int = 0
    seconds: float = 0.0


@dataclass
class _Loaded:
    driver: BotDriver
    venue: Venue
    source: MarketSource
    status: str
    connection_pause: bool = False


@dataclass
class RunnerConfig:
    """How often the runner steps and how long its leases last."""

    interval_s: float = 2.0
    lease_s: float = 15.0
    concurrency: int = 32
    owner: str | None = None
    quote_ttl_s: float = 0.0
    monitor_interval_s: float = 300.0  # `tradewarden runner`'s own health monitor
    live: LiveConfig | None = None  # live executors' retry and settle timing (None: the venue's defaults)
    # Ticker and order streams (services/bots/streams.py). Off unless asked: `tradewarden runner` and the
    # server turn them on; tests that drive the simulator's virtual clock faster than streams tick (month
    # replay, many bots) build RunnerConfig directly and stay on deterministic REST quotes.
    streams: bool = False
    errors: dict[str, int] = field(default_factory=dict)


def _end_interrupted_paper(driver: BotDriver) -> None:
    """Finish the bot's paper orders a stopped process left `pending` (paper orders go nowhere: the fill
    model runs in this process, and nobody else will ever finish them).

    The fill model stores an order's executions, then its new status: cut off in between, the order has
    fills and still says pending. It is finished from its stored fills (filled, cost, fees; a limit's
    rest rests, as the fill model had decided and held the funds for). One with no fill ends canceled,
    unfilled, and the strategy decides again rather than wait for it forever.
    """
    ledger = driver.executor.ledger
    for view in ledger.orders(statuses=frozenset({"pending"})):
        if view.bot != driver.key:
            continue
        run = driver.pairs.get(view.symbol)
        size = run.info.contract_size if run is not None else Decimal(1)
        with driver.app.store.session() as session:
            fills = session.execute(
                select(FillRow.price, FillRow.amount, FillRow.fee, FillRow.fee_currency).where(
                    FillRow.order_id == view.id
                )
            ).all()
        filled = sum((f.amount for f in fills), Decimal(0))
        if not filled:
            ledger.update(view.client_order_id, status="canceled", remaining=Decimal(0), error=INTERRUPTED)
            continue
        cost = sum((f.price * f.amount * size for f in fills), Decimal(0))
        rests = view.type == "limit" and filled < view.amount
        ledger.update(
            view.client_order_id,
            status="open" if rests else "closed",
            exchange_order_id=view.client_order_id,
            filled=dec0(filled),
            remaining=dec0(view.amount - filled) if rests else Decimal(0),
            cost=dec0(cost),
            fee=dec0(sum((f.fee for f in fills), Decimal(0))),
            fee_currency=fills[0].fee_currency,
            average=dec(cost / (filled * size)),
        )


def quote_of(ticker: dict[str, Any]) -> Quote | None:
    """A Quote from a ccxt ticker (None when it has no usable price)."""
    bid, ask = dec(ticker.get("bid")), dec(ticker.get("ask"))
    price = dec(ticker.get("last"))
    if price is None and bid is not None and ask is not None:
        price = (bid + ask) / 2
    if price is None or price <= 0:
        return None
    ts = ticker.get("timestamp")
    ts_ms = int(ts) if isinstance(ts, int | float) and ts > 0 else int(time.time() * 1000)
    return Quote(price, bid, ask, ts_ms)


class BotRunner:
    """Drives the bots this process holds; `round()` once, or `run(stop)` until told to stop."""

    def __init__(
        self,
        app: App,
        hub: MarketHub,
        vault: VaultSession | None = None,
        config: RunnerConfig | None = None,
        report_auth_error: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        # The health monitor's early re-test (HealthMonitor.report_auth_error): a revoked key then turns
        # the connection invalid_key within a round or two, and its bots stop, instead of failing orders.
        self.report_auth_error = report_auth_error
        self.hub = hub
        self.vault = vault
        self.config = config or RunnerConfig()
        self.owner = self.config.owner or leases.new_owner()
        self.loaded: dict[str, _Loaded] = {}
        self.rounds = 0
        self.last = RoundStats()
        self.quote_source: Callable[[Venue, MarketSource, str], Awaitable[Quote | None]] = self._quote
        self.streams = RunnerStreams(hub, vault) if self.config.streams else None

    # ---- loading ----------------------------------------------------------------------------------

    async def _load(self, bot_id: str) -> _Loaded | None:
        loaded = await self._build(bot_id)
        if loaded is not None:
            await self._reconcile(loaded.driver)
        return loaded

    async def load_stopped(self, bot_id: str) -> BotDriver | None:
        """A stopped bot's driver, for a verb that trades it while stopped (control.close_position).

        Built and reconciled with the exchange as a restart would be, so every fill so far is applied;
        it holds no lease and saves only through `persist_stopped`.
        """
        loaded = await self._build(bot_id)
        if loaded is None:
            return None
        driver = loaded.driver
        driver.owner = None
        # a refusal's pause means nothing to a stopped bot (its history tells it)
        with contextlib.suppress(Paused):
            await self._reconcile(driver)
        return driver

    async def _build(self, bot_id: str) -> _Loaded | None:
        with self.app.store.session() as session:
            row = session.get(BotRow, bot_id)
            if row is None:
                return None
            connection = session.get(Connection, row.connection_id)
            if connection is None:
                set_status(self.app, bot_id, "stopped", "its connection was removed", "stopped")
                return None
            venue = venue_of(connection)
            spec = {
                "name": row.name,
                "mode": row.mode,
                "strategy": row.strategy,
                "pairs": list(json.loads(row.pairs_json)),
                "settings": json.loads(row.settings_json),
                "risk": row.risk,
                "margin_limit": row.margin_limit,
                "recovery": row.recovery,
                "state": json.loads(row.state_json or "{}"),
                "status": row.status,
                "reason": row.status_reason or "",
                "max_used": row.margin_used_max,
            }
        source = await market_source(self.hub, venue, self.vault)
        markets = await self._markets(venue, source, spec["pairs"])
        strategy = STRATEGIES[spec["strategy"]]
        runs: dict[str, PairRun] = {}
        stored = spec["state"].get("pairs", {})
        starting: dict[str, Decimal] = {}
        leverage = Decimal(1)
        for pair in spec["pairs"]:
            market = markets.get(pair)
            if market is None:
                raise Paused(f"{venue.ccxt_id} has no market {pair}", "error")
            info = MarketInfo.of(market)
            context = Context(
                market="futures" if info.contract else "spot",
                risk=spec["risk"],
                margin_limit=spec["margin_limit"],
                recovery=spec["recovery"],
                fees=info.fees,
                rules=info.base_rules,
            )
            settings = strategy.parse(spec["settings"], context)
            leverage = Decimal(getattr(settings, "leverage", 1))
            saved = stored.get(pair)
            if saved is not None:
                initial = strategy.initial_state(settings)
                state = codec.load(type(initial), saved["state"])
                run = PairRun(
                    pair,
                    info,
                    settings,
                    state,
                    list(saved.get("open", [])),
                    int(saved.get("blocked_until_ms", 0)),
                    int(saved.get("refusals", 0)),
                    int(saved.get("addons_total", 0)),
                )
            else:
                run = PairRun(pair, info, settings, strategy.initial_state(settings))
            runs[pair] = run
            # Rounded up to the store's scale: a grid's worst case (a ratio of level prices) has more
            # decimals than a balance may hold, and the seed write would fail the whole load.
            funds = (Decimal(settings.worst_case_margin) * Decimal("1.1")).quantize(
                PAPER_QUANTUM, rounding=ROUND_CEILING
            )
            currency = info.settle if info.contract else info.quote
            starting[currency] = starting.get(currency, Decimal(0)) + max(funds, PAPER_FLOOR)
        commit = max_commit(
            spec["strategy"],
            tuple(spec["pairs"]),
            spec["settings"],
            spec["risk"],
            spec["margin_limit"],
            spec["recovery"],
        )
        limit = spec["margin_limit"] if spec["margin_limit"] is not None else commit
        # The guard's margin limit is the bot's; a little room over it for fees and rounding of amounts.
        policy = GuardPolicy(frozenset(spec["pairs"]), limit * Decimal("1.05"), limit * Decimal("1.05"))
        key = bot_key(bot_id)
        executor = guarded_executor(
            self.app,
            self.hub,
            self.vault,
            venue,
            source,
            spec["mode"],
            key,
            policy,
            starting,
            leverage,
            self.config.live,
        )
        driver = BotDriver(
            self.app,
            bot_id,
            spec["name"],
            key,
            spec["mode"],
            spec["strategy"],
            executor,
            runs,
            int(spec["state"].get("fill_cursor", 0)),
            self.owner,
        )
        driver.margin_used_max = spec["max_used"]
        driver.recent_fills = {int(i) for i in spec["state"].get("recent_fills", [])}
        return _Loaded(driver, venue, source, spec["status"], spec["reason"].startswith(CONNECTION_PAUSE))

    async def _markets(self, venue: Venue, source: MarketSource, pairs: list[str]) -> dict[str, Any]:
        """The venue's markets, read again once when one of the bot's pairs is missing: ccxt builds them
        from several requests (KuCoin: currencies, spot symbols, contracts) and reads an unreadable answer
        to one as empty, so a partial set (kept by the hub for an hour) must not mark the bot failed."""
        markets = await source.markets(venue.ccxt_id)
        if venue.testnet or all(pair in markets for pair in pairs):
            return markets
        await self.hub.client(venue.ccxt_id).load_markets(True)
        return await source.markets(venue.ccxt_id)

    async def _reconcile(self, driver: BotDriver) -> None:
        """Before a restarted bot acts: the exchange's word on its orders and fills, then apply them."""
        if driver.mode == "paper":
            _end_interrupted_paper(driver)
        if driver.mode == "live":
            inner = driver.executor.executor
            live = await inner._live() if hasattr(inner, "_live") else inner
            if isinstance(live, LiveExecutor):
                await live.reconcile(list(driver.pairs), driver.key)
        for run in driver.pairs.values():
            await driver.refresh(run)
        driver.absorb()

    # ---- one round --------------------------------------------------------------------------------

    async def round(self) -> RoundStats:
        """Claim leases, load, check connections, quote, step: one pass over the held bots."""
        started = time.perf_counter()
        stats = RoundStats()
        held = await asyncio.to_thread(leases.claim, self.app.store, self.owner, self.config.lease_s)
        for gone in set(self.loaded) - set(held):
            self.loaded.pop(gone, None)
        for bot_id in held:
            if bot_id in self.loaded:
                continue
            try:
                loaded = await self._load(bot_id)
            except Paused as why:
                set_status(
                    self.app, bot_id, "error" if why.kind == "error" else "paused", why.reason, why.kind
                )
                continue
            except NeedsVault as why:
                set_status(
                    self.app,
                    bot_id,
                    "paused",
                    f"{CONNECTION_PAUSE}: {why}; start the server with the vault",
                    "paused",
                )
                continue
            except Exception as exc:  # one bot that cannot load never stops the others
                self._count("load", exc)
                stats.failures += 1
                continue
            if loaded is not None:
                self.loaded[bot_id] = loaded
        stats.held = len(self.loaded)
        self._check_connections()
        if self.streams is not None:
            await self.streams.sync(self.loaded.values())
        quotes = await self._quotes()
        stats.quotes = len(quotes)
        gate = asyncio.Semaphore(self.config.concurrency)

        async def drive(bot_id: str, item: _Loaded) -> None:
            async with gate:
                for pair in item.driver.pairs:
                    quote = quotes.get(
                        (item.venue.ccxt_id, item.venue.connection_id if item.venue.testnet else "", pair)
                    )
                    if quote is None:
                        continue
                    try:
                        await item.driver.step(pair, quote)
                        stats.stepped += 1
                    except Paused as why:
                        with contextlib.suppress(LeaseLost):
                            item.driver.persist()
                        set_status(self.app, bot_id, "paused", why.reason, why.kind, pair)
                        item.status = "paused"
                        return
                    except LeaseLost:
                        self.loaded.pop(bot_id, None)
                        return
                    except Exception as exc:
                        stats.failures += 1
                        self._count("step", exc)
                        return

        await asyncio.gather(
            *(drive(bot_id, item) for bot_id, item in list(self.loaded.items()) if item.status == "running")
        )
        self._report_suspect_keys()
        self.rounds += 1
        stats.seconds = time.perf_counter() - started
        self.last = stats
        return stats

    def _report_suspect_keys(self) -> None:
        suspects = set()
        for item in self.loaded.values():
            if item.driver.key_suspect:
                item.driver.key_suspect = False
                suspects.add(item.venue.connection_name)
        for name in sorted(suspects):
            log.info("bot runner: a live order was refused on %s; asking for a re-test", name)
            if self.report_auth_error is not None:
                self.report_auth_error(name)

    def _count(self, where: str, exc: BaseException) -> None:
        key = f"{where}:{type(exc).__name__}"
        self.config.errors[key] = self.config.errors.get(key, 0) + 1
        log.warning(
            "bot runner %s failed: %s", where, type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG)
        )

    def _check_connections(self) -> None:
        if not self.loaded:
            return
        ids = {item.venue.connection_id for item in self.loaded.values()}
        with self.app.store.session() as session:
            rows = session.scalars(select(Connection).where(Connection.id.in_(ids))).all()
            statuses = {r.id: (r.name, r.status) for r in rows}
            found = session.execute(select(BotRow.id, BotRow.status).where(BotRow.id.in_(list(self.loaded))))
            bot_status = {bot_id: status for bot_id, status in found}
        for bot_id, item in list(self.loaded.items()):
            name, status = statuses.get(item.venue.connection_id, (item.venue.connection_name, "removed"))
            stored = bot_status.get(bot_id, "stopped")
            if stored not in ("running", "paused"):
                self.loaded.pop(bot_id, None)
                continue
            item.status = stored
            if status in STOPPING_STATUSES:
                set_status(self.app, bot_id, "stopped", f"{CONNECTION_PAUSE} {name} is {status}", "stopped")
                self.loaded.pop(bot_id, None)
            elif status != "online" and stored == "running":
                set_status(self.app, bot_id, "paused", f"{CONNECTION_PAUSE} {name} is {status}", "paused")
                item.status, item.connection_pause = "paused", True
            elif status == "online" and stored == "paused" and item.connection_pause:
                set_status(
                    self.app, bot_id, "running", f"{CONNECTION_PAUSE} {name} is online again", "resumed"
                )
                item.status, item.connection_pause = "running", False

    async def _quote(self, venue: Venue, source: MarketSource, pair: str) -> Quote | None:
        if venue.testnet:
            inner = getattr(source, "source", source)
            client = getattr(inner, "client", None)
            ticker = await client.fetch_ticker(pair) if client is not None else {}
        else:
            ticker = await self.hub.ticker(venue.ccxt_id, pair)
        return quote_of(ticker)

    async def _quotes(self) -> dict[tuple[str, str, str], Quote]:
        wanted: dict[tuple[str, str, str], tuple[Venue, MarketSource]] = {}
        for item in self.loaded.values():
            if item.status != "running":
                continue
            for pair in item.driver.pairs:
                scope = item.venue.connection_id if item.venue.testnet else ""
                wanted.setdefault((item.venue.ccxt_id, scope, pair), (item.venue, item.source))

        async def one(
            key: tuple[str, str, str], venue: Venue, source: MarketSource
        ) -> tuple[Any, Quote | None]:
            try:
                return key, await self.quote_source(venue, source, key[2])
            except Exception as exc:  # that market is unavailable this round; its bots wait
                self._count("quote", exc)
                return key, None

        got = await asyncio.gather(*(one(k, v, s) for k, (v, s) in wanted.items()))
        return {k: q for k, q in got if q is not None}

    def _heartbeat(self, stop: threading.Event) -> None:
        """Renew the leases every third of their time, from a thread of its own: a round that outlasts
        the lease (a first round loading hundreds of bots, with the event loop busy all along) must not
        let another runner take bots this one is still stepping. Leases then lapse only when the process
        is gone or cannot reach the store."""
        while not stop.wait(self.config.lease_s / 3):
            try:
                leases.renew(self.app.store, self.owner, self.config.lease_s)
            except Exception as exc:  # the store is unreachable: the next round's claim tries again
                self._count("renew", exc)

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds every `interval_s` until `stop` is set; leases are given back on the way out."""
        beating = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(beating,), name="lease-heartbeat", daemon=True
        )
        heartbeat.start()
        try:
            while not stop.is_set():
                try:
                    await self.round()
                except Exception as exc:  # the store or the hub failed this round: try again next one
                    self._count("round", exc)
                with contextlib.suppress(TimeoutError):  # an order update wakes the next round early
                    woken = self.streams.until_woken(stop) if self.streams else stop.wait()
                    await asyncio.wait_for(woken, self.config.interval_s)
        finally:
            if self.streams is not None:
                await self.streams.close()
            beating.set()
            await asyncio.to_thread(heartbeat.join, 30)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(leases.release, self.app.store, self.owner)

    def latencies_ms(self) -> list[float]:
        """Step latencies of every loaded bot (for the scale benchmark)."""
        return [x for item in self.loaded.values() for x in item.driver.latencies_ms]
