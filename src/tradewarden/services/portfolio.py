"""The portfolio: every connection's balances, valued in one quote currency with the exchange's own prices.

Balances come from the exchange through ccxt (`fetch_balance`), prices from the same exchange's public
spot tickers. Each connection's snapshot (balances and prices) is cached for a short TTL, so a dashboard
refreshing every few seconds costs the exchanges one read per connection per TTL; the valuation itself is
redone per request, so any quote currency is served from the same snapshot.

Valuation of an asset: the quote itself is 1; else the ASSET/QUOTE pair (or QUOTE/ASSET inverted); else
through USDT (ASSET/USDT × USDT/QUOTE). An asset with no such price gets value None and is left out of
every total.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from tradewarden.adapters import audit
from tradewarden.adapters.exchanges import errors, registry, remedies
from tradewarden.adapters.exchanges.client import build_client
from tradewarden.adapters.exchanges.shared import SharedClients, http_session
from tradewarden.adapters.store.models import Connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services import simulator
from tradewarden.services.app import App
from tradewarden.services.connections.checks import Target, open_target
from tradewarden.services.vault_access import unlocked

DEFAULT_TTL_S = 30.0
FETCH_TIMEOUT_MS = 10_000  # per HTTP request: a dashboard should not hang on one slow exchange
DEADLINE_S = 30.0  # per connection, all requests included (markets, balance, tickers)
FETCHABLE = frozenset({"online", "untested"})
BRIDGE = "USDT"  # the currency every exchange lists most pairs against
ZERO = Decimal(0)


@dataclass(frozen=True)
class Holding:
    """One asset of an account: available, in orders, and their sum."""

    asset: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True)
class Snapshot:
    """One read of a connection: its balances and its exchange's spot prices, or why they are missing."""

    fetched_at: datetime
    holdings: tuple[Holding, ...] = ()
    prices: Mapping[str, Decimal] = field(default_factory=dict)  # "BASE/QUOTE" -> last price
    error: str | None = None


@dataclass(frozen=True)
class Balance:
    """A holding valued in the quote currency (None when no price leads there)."""

    asset: str
    free: Decimal
    used: Decimal
    total: Decimal
    value: Decimal | None


@dataclass(frozen=True)
class ConnectionPortfolio:
    """One connection's part of the portfolio; `error` says why `total` is None."""

    id: str
    name: str
    exchange: str
    status: str
    total: Decimal | None
    error: str | None
    balances: tuple[Balance, ...]
    as_of: datetime | None
    simulated: bool = False  # read from the simulator `up` runs: not real funds
    error_code: str | None = None  # `error` as a code with params (translated by the dashboard)
    error_params: dict[str, str] = field(default_factory=dict)
    testnet: bool = False  # the exchange's testnet: shown, never added to the total


@dataclass(frozen=True)
class Portfolio:
    """Every connection, valued in `quote`; `as_of` is the time of the oldest snapshot used."""

    quote: str
    as_of: datetime
    total: Decimal
    connections: tuple[ConnectionPortfolio, ...]
    simulated_total: Decimal = Decimal(0)  # the part of `total` that is simulated funds
    testnet_total: Decimal = Decimal(0)  # testnet connections' value, NOT part of `total`


@dataclass(frozen=True)
class _Row:
    id: str
    name: str
    exchange: str
    market: str
    endpoint: str | None
    status: str
    version: tuple[str, ...]  # what invalidates a cached snapshot: new key, endpoint, market
    simulated: bool = False
    testnet: bool = False


@dataclass(frozen=True)
class _Entry:
    version: tuple[str, ...]
    task: asyncio.Task[Snapshot]


# ------------------------------------------------------------------------------------------- valuation


def _rate(base: str, quote: str, prices: Mapping[str, Decimal]) -> Decimal | None:
    """One `base` in `quote` from the BASE/QUOTE pair or the inverted QUOTE/BASE pair."""
    direct = prices.get(f"{base}/{quote}")
    if direct:
        return direct
    inverse = prices.get(f"{quote}/{base}")
    if inverse:
        return Decimal(1) / inverse
    return None


def price_in(asset: str, quote: str, prices: Mapping[str, Decimal]) -> Decimal | None:
    """The price of one `asset` in `quote`: 1, a direct (or inverse) pair, or through USDT; else None."""
    if asset == quote:
        return Decimal(1)
    direct = _rate(asset, quote, prices)
    if direct is not None or BRIDGE in (asset, quote):
        return direct
    to_bridge, from_bridge = _rate(asset, BRIDGE, prices), _rate(BRIDGE, quote, prices)
    if to_bridge is None or from_bridge is None:
        return None
    return to_bridge * from_bridge


def value_snapshot(snapshot: Snapshot, quote: str) -> tuple[tuple[Balance, ...], Decimal | None]:
    """The holdings valued in `quote`, largest first, and their total (None when the snapshot failed)."""
    balances = []
    for holding in snapshot.holdings:
        price = price_in(holding.asset, quote, snapshot.prices)
        value = None if price is None else holding.total * price
        balances.append(Balance(holding.asset, holding.free, holding.used, holding.total, value))
    balances.sort(key=lambda b: (b.value is None, -(b.value or ZERO), b.asset))
    if snapshot.error is not None:
        return tuple(balances), None
    return tuple(balances), sum((b.value for b in balances if b.value is not None), ZERO)


# ------------------------------------------------------------------------------------------- fetching


def _decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a ccxt number, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))  # str(): ccxt's floats back to the shortest decimal they came from
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _side(balance: Any, key: str) -> Mapping[str, Any]:
    """One side (free, used, total) of a ccxt balance; anything but a mapping counts as empty."""
    side = balance.get(key) if isinstance(balance, Mapping) else None
    return side if isinstance(side, Mapping) else {}


def holdings_of(balance: Any) -> tuple[Holding, ...]:
    """The non-zero holdings of a ccxt unified balance (any other shape holds nothing)."""
    free, used, total = (_side(balance, k) for k in ("free", "used", "total"))
    out = []
    for asset in sorted(set(free) | set(used) | set(total)):
        f, u, t = (_decimal(side.get(asset)) for side in (free, used, total))
        f, u = f or ZERO, u or ZERO
        t = t if t is not None else f + u
        if t or f or u:
            out.append(Holding(str(asset), f, u, t))
    return tuple(out)


def spot_prices(tickers: Any) -> dict[str, Decimal]:
    """Last price per spot symbol of a ccxt tickers map (close, then the bid/ask midpoint, as fallbacks)."""
    prices: dict[str, Decimal] = {}
    for symbol, ticker in tickers.items() if isinstance(tickers, Mapping) else ():
        if not isinstance(symbol, str) or ":" in symbol or "/" not in symbol:
            continue
        if not isinstance(ticker, Mapping):
            continue  # derivatives carry a settle currency after ':'; their prices are not spot prices
        price = _decimal(ticker.get("last")) or _decimal(ticker.get("close"))
        if price is None:
            bid, ask = _decimal(ticker.get("bid")), _decimal(ticker.get("ask"))
            price = (bid + ask) / 2 if bid and ask else None
        if price is not None and price > 0:
            prices[symbol] = price
    return prices


def _say(exchange: str, exc: BaseException, client: Any, what: str) -> str:
    """A classified failure in words for a person: never the exception text, which may carry a URL."""
    http_status, body = errors.last_response(client)
    classified = errors.classify(exchange, http_status, body, exc)
    return f"{what}: {classified.status.replace('_', ' ')} — {classified.detail}"


class _Pricing:
    """One exchange's public spot prices in a batch: markets loaded once, prices fetched once.

    The prices go through a second client sharing the markets: ccxt throttles each client by the cost of
    its previous call, and after loading markets that would hold the price request back for seconds.
    """

    def __init__(self, shared: SharedClients, exchange: str, ccxt_id: str, endpoint: str | None) -> None:
        options = {"defaultType": "spot"}
        self.exchange = exchange
        self.client = shared.client(ccxt_id, endpoint, "portfolio-markets", options)
        self.quotes = shared.client(ccxt_id, endpoint, "portfolio-prices", options)
        self.markets: asyncio.Future[Any] = asyncio.ensure_future(self.client.load_markets())
        self.prices: asyncio.Future[dict[str, Decimal]] = asyncio.ensure_future(self._prices())
        for future in (self.markets, self.prices):
            future.add_done_callback(_retrieve)

    async def _prices(self) -> dict[str, Decimal]:
        """Last spot prices by symbol, once the markets are in."""
        try:
            await self.markets
        except Exception as exc:
            raise _PricesUnavailable(_say(self.exchange, exc, self.client, "prices unavailable")) from None
        try:
            self.quotes.set_markets_from_exchange(self.client)
            if self.quotes.has.get("fetchLastPrices") is True:
                # Binance: all last prices for weight 4, where the 24 h tickers of every pair weigh 80.
                last = await self.quotes.fetch_last_prices()
                rows = last.items() if isinstance(last, Mapping) else ()
                return spot_prices({s: {"last": r.get("price")} for s, r in rows if isinstance(r, Mapping)})
            return spot_prices(await self.quotes.fetch_tickers())
        except Exception as exc:
            raise _PricesUnavailable(_say(self.exchange, exc, self.quotes, "prices unavailable")) from None


class _PricesUnavailable(Exception):
    """Prices could not be read; the message is already in words for a person."""


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a future's failure as seen: one nobody awaits (its connection already failed) is expected."""
    if not future.cancelled():
        future.exception()


def _info(exchange: str) -> registry.ExchangeInfo:
    """The registry entry, or generic words for a ccxt-only exchange."""
    return registry.get_exchange(exchange) or remedies.basic_info(exchange)


def _account_client(target: Target) -> tuple[str, dict[str, Any]]:
    """The ccxt id and options of the account a connection trades (futures for market `futures`)."""
    info = registry.get_exchange(target.exchange)
    if info is None:
        return target.exchange, {}
    market = "futures" if target.market == "futures" else "spot"
    return registry.ccxt_id_for(info, market), registry.client_options(info, market, target.testnet)


async def _fetch_one(
    target: Target, shared: SharedClients, pricing: dict[tuple[str, str | None], _Pricing]
) -> Snapshot:
    """Balances through the connection's own key, prices through the shared public client."""
    if target.integrity_error:
        return Snapshot(_now(), error=remedies.integrity(target.name, _info(target.exchange))[0])
    info = registry.get_exchange(target.exchange)
    spot_id = registry.ccxt_id_for(info, "spot") if info else target.exchange
    key = (spot_id, target.endpoint)
    if key not in pricing:
        pricing[key] = _Pricing(shared, target.exchange, spot_id, target.endpoint)
    venue = pricing[key]
    ccxt_id, options = _account_client(target)
    client = build_client(
        ccxt_id, target.credentials, target.endpoint, options, FETCH_TIMEOUT_MS, shared.session
    )
    errors.install_response_capture(client)
    try:
        if ccxt_id == spot_id:
            # Borrow the public client's markets: Binance would otherwise load them again (seven requests).
            with contextlib.suppress(Exception):
                await asyncio.shield(venue.markets)
                client.set_markets_from_exchange(venue.client)
        try:
            raw = await client.fetch_balance()
        except Exception as exc:
            return Snapshot(_now(), error=_say(target.exchange, exc, client, "balances unavailable"))
    finally:
        await client.close()
    holdings = holdings_of(raw)
    try:
        prices = await asyncio.shield(venue.prices)
    except _PricesUnavailable as exc:
        return Snapshot(_now(), holdings, error=str(exc))
    return Snapshot(_now(), holdings, prices)


async def _guarded(
    target: Target, shared: SharedClients, pricing: dict[tuple[str, str | None], _Pricing]
) -> Snapshot:
    """One connection's snapshot within the deadline; any failure becomes its error, never the response's."""
    try:
        return await asyncio.wait_for(_fetch_one(target, shared, pricing), DEADLINE_S)
    except TimeoutError:
        return Snapshot(_now(), error=f"no answer from the exchange within {DEADLINE_S:.0f} s")
    except Exception as exc:
        return Snapshot(_now(), error=f"balances unavailable: unexpected {type(exc).__name__}")


def _open_targets(app: App, passphrase: Secret, ids: Sequence[str]) -> list[Target]:
    """The connections' credentials, opened with one unlock (connections removed meanwhile are skipped).

    A connection whose sealed key does not decrypt comes back marked (and audited), not as an exception.
    """
    with unlocked(app, passphrase) as (session, opened):
        rows = session.scalars(select(Connection).where(Connection.id.in_(ids)))
        return [open_target(app, session, opened, row) for row in rows]


# The outcome of the last audited balance read per connection, with the key and endpoint it used: a
# portfolio view is not an action, so a read is audited when its key is first used for it or its outcome
# changes, not on every refresh (issue 10: 43 events in five minutes of browsing).
_AUDITED_READS: dict[str, tuple[tuple[str, ...], bool, str | None]] = {}


def _audit_reads(app: App, snapshots: Mapping[str, Snapshot]) -> None:
    """Balance reads with a stored key go in the audit log once per key and outcome."""
    with app.store.session() as session:
        for connection_id, snapshot in snapshots.items():
            row = session.get(Connection, connection_id)
            if row is None:
                continue
            seen = (
                (row.updated_at.isoformat(), row.api_key_masked, row.endpoint or ""),
                snapshot.error is None,
            )
            last = _AUDITED_READS.get(connection_id)
            if last is not None and last[:2] == seen and last[2] == snapshot.error:
                continue
            _AUDITED_READS[connection_id] = (*seen, snapshot.error)
            audit.record(
                session,
                "connection.balances_read",
                app.actor,
                row,
                ok=snapshot.error is None,
                error=snapshot.error,
            )


async def _fetch_batch(app: App, passphrase: Secret, ids: Sequence[str]) -> dict[str, Snapshot]:
    """Snapshots of the given connections, concurrently over one HTTP session."""
    targets = await asyncio.to_thread(_open_targets, app, passphrase, ids)
    async with http_session() as session:
        shared = SharedClients(session, FETCH_TIMEOUT_MS)
        pricing: dict[tuple[str, str | None], _Pricing] = {}
        try:
            results = await asyncio.gather(*(_guarded(target, shared, pricing) for target in targets))
        finally:
            for venue in pricing.values():
                for future in (venue.prices, venue.markets):
                    future.cancel()
            await shared.close()
    snapshots = {target.connection_id: snap for target, snap in zip(targets, results, strict=True)}
    await asyncio.to_thread(_audit_reads, app, snapshots)
    removed = Snapshot(_now(), error="the connection was removed")
    return {connection_id: snapshots.get(connection_id, removed) for connection_id in ids}


async def _pick(batch: asyncio.Task[dict[str, Snapshot]], connection_id: str) -> Snapshot:
    """One connection's snapshot out of its batch."""
    return (await asyncio.shield(batch))[connection_id]


def _now() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(UTC)


def _rows(app: App) -> list[_Row]:
    """Every connection, by name, with what a cached snapshot depends on (no vault needed)."""
    sim_url = simulator.recorded_url(app.settings.home_dir)
    with app.store.session() as session:
        rows = session.scalars(select(Connection).order_by(Connection.name))
        return [
            _Row(
                r.id,
                r.name,
                r.exchange,
                r.market,
                r.endpoint,
                r.status,
                (r.exchange, r.market, r.endpoint or "", r.updated_at.isoformat(), r.api_key_masked),
                simulator.is_simulated(r.endpoint, sim_url),
                r.testnet,
            )
            for r in rows
        ]


def _usable(entry: object, version: tuple[str, ...]) -> bool:
    """A cached entry of this connection's current key and endpoint, on this loop, not failed."""
    if not isinstance(entry, _Entry):
        return False
    task = entry.task
    if entry.version != version or task.get_loop() is not asyncio.get_running_loop():
        return False
    return not (task.done() and (task.cancelled() or task.exception() is not None))


def _snapshots(
    app: App,
    passphrase: Secret,
    rows: Iterable[_Row],
    cache: MutableMapping[str, tuple[float, Any]],
    ttl_s: float,
) -> dict[str, asyncio.Task[Snapshot]]:
    """A task per fetchable connection: the cached one while fresh, else one new batch for all the rest."""
    now = time.monotonic()
    tasks: dict[str, asyncio.Task[Snapshot]] = {}
    stale: list[_Row] = []
    for row in rows:
        if row.status not in FETCHABLE:
            continue
        cached = cache.get(row.id)
        if cached is not None and now - cached[0] < ttl_s and _usable(cached[1], row.version):
            tasks[row.id] = cached[1].task
        else:
            stale.append(row)
    if stale:
        # One unlock and one HTTP session for every connection that needs reading; a task (not a bare
        # await) so a client hanging up mid-fetch still leaves the result for the next request.
        batch = asyncio.create_task(_fetch_batch(app, passphrase, [row.id for row in stale]))
        batch.add_done_callback(_retrieve)
        for row in stale:
            task = asyncio.create_task(_pick(batch, row.id))
            task.add_done_callback(_retrieve)
            cache[row.id] = (now, _Entry(row.version, task))
            tasks[row.id] = task
    return tasks


async def get_portfolio(
    app: App,
    passphrase: Secret,
    quote: str,
    cache: MutableMapping[str, tuple[float, Any]],
    ttl_s: float = DEFAULT_TTL_S,
) -> Portfolio:
    """Every connection's balances valued in `quote`; exchanges are read at most once per `ttl_s`.

    Only online and untested connections are read. One failing connection gets an `error` and no total;
    the others still count. A locked vault (wrong passphrase) fails the whole call.
    """
    quote = quote.upper()
    rows = await asyncio.to_thread(_rows, app)
    for stale_id in set(cache) - {row.id for row in rows}:
        del cache[stale_id]  # removed connections
    tasks = _snapshots(app, passphrase, rows, cache, ttl_s)
    snapshots = {connection_id: await asyncio.shield(task) for connection_id, task in tasks.items()}
    parts = []
    for row in rows:
        snapshot = snapshots.get(row.id)
        if snapshot is None:
            code, params = "portfolio.not_counted", {"status": row.status, "name": row.name}
            error = (
                f"Not counted in the total: the last test of this connection ended in {row.status}; "
                "fix it and test it again."
            )
            if row.status == "integrity_error":
                code, error = (
                    "portfolio.integrity_error",
                    remedies.integrity(row.name, _info(row.exchange))[0],
                )
            parts.append(
                ConnectionPortfolio(
                    row.id,
                    row.name,
                    row.exchange,
                    row.status,
                    None,
                    error,
                    (),
                    None,
                    row.simulated,
                    code,
                    params,
                    row.testnet,
                )
            )
            continue
        balances, total = value_snapshot(snapshot, quote)
        parts.append(
            ConnectionPortfolio(
                row.id,
                row.name,
                row.exchange,
                row.status,
                total,
                snapshot.error,
                balances,
                snapshot.fetched_at,
                row.simulated,
                "portfolio.read_failed" if snapshot.error else None,
                {"reason": snapshot.error} if snapshot.error else {},
                row.testnet,
            )
        )
    # testnet balances are play money on the exchange's test environment: never in the real total
    grand = sum((p.total for p in parts if p.total is not None and not p.testnet), ZERO)
    simulated = sum((p.total for p in parts if p.total is not None and p.simulated and not p.testnet), ZERO)
    testnet = sum((p.total for p in parts if p.total is not None and p.testnet), ZERO)
    as_of = min((s.fetched_at for s in snapshots.values()), default=_now())
    return Portfolio(quote, as_of, grand, tuple(parts), simulated, testnet)
