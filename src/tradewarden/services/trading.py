"""Manual trading on a connection: one order by hand, paper or live, through the same order guard as bots.

Every manual order goes through `GuardedExecutor` (connection Online, not withdraw-enabled, permissions
verified, a known pair) and, paper or live, through the exchange's filters (precision, minimum amount,
minimum notional) before any executor sees it; a refusal raises `OrderRefused`, is audited as
`order.refused` and never reaches the exchange. Orders carry the bot id `manual:<connection id>`, so
their client order ids are deterministic per connection (adapters/execution/client_ids.py). Accepted
orders and cancels are audited as `order.placed` / `order.canceled`.

Testnet connections (`testnet` true) read their markets and books through their own sandboxed private
client, never through the shared public hub (whose clients speak to the production hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import select

from tradewarden.adapters.exchanges import registry
from tradewarden.adapters.execution.base import Balance, FillView, OrderRequest, OrderView, Position
from tradewarden.adapters.execution.guard import GuardPolicy, MarketTerms, OrderRefused, check
from tradewarden.adapters.execution.ledger import OrderLedger, dec
from tradewarden.adapters.execution.live import LiveExecutor
from tradewarden.adapters.execution.paper import MarketInfo, MarketSource, PaperExecutor
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.store.models import Connection, OrderRow, PaperBalance
from tradewarden.services.app import App
from tradewarden.services.connections.service import find
from tradewarden.services.errors import ExchangeUnavailableError, InputError, NotFoundError
from tradewarden.services.orders import GuardedExecutor, connection_state
from tradewarden.services.vault_session import VaultSession

__all__ = [
    "OrderRefused",
    "OrderTicket",
    "TicketInfo",
    "Trader",
    "can_trade_live",
    "manual_bot",
    "order_json",
    "trader",
]

MAX_NUMBER = Decimal(10) ** 15  # no market trades or prices a quadrillion units in one order
UNLIMITED = Decimal("Infinity")  # a manual order has no bot cap: the exchange's filters and the key limit it


def manual_bot(connection_id: str) -> str:
    """The bot id of a connection's manual orders (its client order ids derive from it)."""
    return f"manual:{connection_id}"


def can_trade_live(connection: Connection) -> bool:
    """Whether a bot may trade live on this connection: never on a testnet (its orders are not real)."""
    return not connection.testnet


@dataclass(frozen=True)
class OrderTicket:
    """A manual order as typed: `amount` in base units, or in quote units when `quote` is set."""

    pair: str
    side: Literal["buy", "sell"]
    amount: Decimal
    type: Literal["market", "limit"] = "market"
    price: Decimal | None = None
    reduce_only: bool = False
    paper: bool = False
    quote: bool = False


@dataclass(frozen=True)
class TicketInfo:
    """What an order ticket shows before sending: the book's top, fees, minimums and precision."""

    connection: str
    exchange: str
    pair: str
    testnet: bool
    bid: Decimal | None
    ask: Decimal | None
    maker_fee: Decimal
    taker_fee: Decimal
    min_notional: Decimal | None
    min_amount: Decimal | None
    amount_step: Decimal | None
    price_step: Decimal | None
    base: str
    quote: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: Decimals as strings."""
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def order_json(view: OrderView, mode: str) -> dict[str, Any]:
    """An order in ccxt's field names, Decimals as strings."""
    return {
        "id": view.client_order_id,
        "client_order_id": view.client_order_id,
        "exchange_order_id": view.exchange_order_id,
        "mode": mode,
        "symbol": view.symbol,
        "side": view.side,
        "type": view.type,
        "amount": str(view.amount),
        "price": _text(view.price),
        "reduce_only": view.reduce_only,
        "status": view.status,
        "filled": str(view.filled),
        "remaining": _text(view.remaining),
        "average": _text(view.average),
        "cost": str(view.cost),
        "fee": str(view.fee),
        "outcome": view.outcome,
        "error": view.error,
        "created_at": _when(view.created_at),
        "updated_at": _when(view.updated_at),
    }


def _when(moment: datetime | None) -> str | None:
    """An ISO 8601 UTC time (None: not known)."""
    return None if moment is None else moment.isoformat()


class DepthSource:
    """A MarketSource asking for book depths every venue accepts (KuCoin takes only 20 or 100 levels)."""

    def __init__(self, source: MarketSource) -> None:
        self.source = source

    async def markets(self, exchange_id: str) -> dict[str, Any]:
        """The source's markets."""
        return await self.source.markets(exchange_id)

    async def order_book(self, exchange_id: str, symbol: str, limit: int | None = None) -> dict[str, Any]:
        """The source's book, 20 levels (or 100 when more were asked for)."""
        depth = 20 if limit is None or limit <= 20 else 100
        return await self.source.order_book(exchange_id, symbol, depth)


class ClientSource:
    """A MarketSource over one ccxt client (a testnet connection's own sandboxed client)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def markets(self, exchange_id: str) -> dict[str, Any]:
        """The client's markets (loaded once)."""
        return dict(await self.client.load_markets())

    async def order_book(self, exchange_id: str, symbol: str, limit: int | None = None) -> dict[str, Any]:
        """The client's order book."""
        return dict(await self.client.fetch_order_book(symbol, limit))


class LazyLive:
    """A LiveExecutor made on first use: ccxt's load_markets already signs requests on some venues
    (MEXC reads its currencies privately), so a refused order must not even build the client."""

    mode: Literal["paper", "live"] = "live"

    def __init__(self, make: Callable[[], Awaitable[LiveExecutor]]) -> None:
        self._make = make
        self._inner: LiveExecutor | None = None

    async def _live(self) -> LiveExecutor:
        if self._inner is None:
            self._inner = await self._make()
        return self._inner

    async def create_order(self, request: OrderRequest) -> OrderView:
        """Place through the live executor."""
        return await (await self._live()).create_order(request)

    async def cancel_order(self, client_order_id: str) -> OrderView:
        """Cancel through the live executor."""
        return await (await self._live()).cancel_order(client_order_id)

    async def fetch_order(self, client_order_id: str) -> OrderView:
        """Refresh one order from the exchange."""
        return await (await self._live()).fetch_order(client_order_id)

    async def open_orders(self, symbol: str | None = None) -> list[OrderView]:
        """Open orders on the exchange."""
        return await (await self._live()).open_orders(symbol)

    async def fills(self, symbol: str | None = None) -> list[FillView]:
        """Our executions."""
        return await (await self._live()).fills(symbol)

    async def balances(self) -> dict[str, Balance]:
        """Balances on the exchange."""
        return await (await self._live()).balances()

    async def positions(self, symbol: str | None = None) -> list[Position]:
        """Open positions on the exchange."""
        return await (await self._live()).positions(symbol)

    async def close(self) -> None:
        """Release the live executor, if one was made."""
        if self._inner is not None:
            await self._inner.close()


@dataclass(frozen=True)
class _Spec:
    id: str
    name: str
    exchange: str
    ccxt_id: str
    options: Mapping[str, Any]
    endpoint: str | None
    testnet: bool


def _spec(app: App, name: str) -> _Spec:
    with app.store.session() as session:
        row = find(session, name)
        info = registry.get_exchange(row.exchange)
        ccxt_id = registry.ccxt_id_for(info, row.market) if info is not None else row.exchange
        testnet = bool(row.testnet)
        options = registry.client_options(info, row.market, testnet)
        return _Spec(row.id, row.name, row.exchange, ccxt_id, options, row.endpoint, testnet)


def _step_text(value: Decimal | None) -> str:
    return "none" if value is None else format(value.normalize(), "f")


def _filters(info: MarketInfo) -> str:
    rules = info.rules
    return (
        f"{info.symbol}: minimum notional {_step_text(rules.min_notional)} {info.quote}, minimum amount "
        f"{_step_text(rules.min_amount)}, amount step {_step_text(rules.lot_size)}, price step "
        f"{_step_text(rules.tick_size)}"
    )


class Trader:
    """Manual trading on one connection (made by `trader`): place, list, cancel, ticket."""

    def __init__(
        self, app: App, spec: _Spec, source: MarketSource, vault: VaultSession, hub: MarketHub
    ) -> None:
        self.app = app
        self.spec = spec
        self.source = source
        self.vault = vault
        self.hub = hub
        self._live: GuardedExecutor | None = None
        self._paper: GuardedExecutor | None = None

    @property
    def bot(self) -> str:
        """This connection's manual bot id."""
        return manual_bot(self.spec.id)

    async def _client(self) -> Any:
        client = await self.vault.private_client(self.hub, self.spec.name)
        await client.load_markets()
        return client

    def _guard(self, executor: Any, mode: str) -> GuardedExecutor:
        ledger = OrderLedger(self.app.store, self.spec.id, self.spec.ccxt_id, mode)
        policy = GuardPolicy(frozenset(), UNLIMITED, UNLIMITED)  # pairs filled per order
        return GuardedExecutor(
            self.app.store,
            executor,
            ledger,
            self.source,
            self.spec.ccxt_id,
            self.spec.id,
            policy,
            self.app.actor,
            audit_paper=True,
        )

    async def executor(self, paper: bool) -> GuardedExecutor:
        """The guarded paper or live executor of this connection."""
        if paper:
            if self._paper is None:
                paper_exec = PaperExecutor(
                    self.app.store, self.source, self.spec.ccxt_id, self.spec.id, self.paper_account
                )
                self._paper = self._guard(paper_exec, "paper")
            return self._paper
        if self._live is None:

            async def make() -> LiveExecutor:
                return LiveExecutor(self.app.store, self.spec.id, self.spec.ccxt_id, await self._client())

            self._live = self._guard(LazyLive(make), "live")
        return self._live

    async def live(self) -> LiveExecutor:
        """The connection's LiveExecutor itself (made now; its client loads the markets): reconciliation
        reads the venue through it, outside the order guard, which only stands before new orders."""
        guarded = await self.executor(paper=False)
        lazy = guarded.executor
        assert isinstance(lazy, LazyLive)
        return await lazy._live()

    @property
    def paper_account(self) -> str:
        """The paper balances of this connection's manual orders."""
        return f"manual:{self.spec.id}"

    async def _fund_paper(self) -> None:
        """Paper trading starts from what the account holds on the exchange, read once (after the guard
        passed: a refused connection's key is not used) and then kept in the store."""
        with self.app.store.session() as session:
            funded = session.scalar(
                select(PaperBalance.currency).where(PaperBalance.account == self.paper_account)
            )
        if funded is not None:
            return
        client = await self._client()
        balance = await client.fetch_balance()
        starting = {str(c): Decimal(str(v)) for c, v in (balance.get("total") or {}).items() if v}
        # constructing a PaperExecutor seeds an account that has no balances yet
        PaperExecutor(
            self.app.store, self.source, self.spec.ccxt_id, self.spec.id, self.paper_account, starting
        )

    async def market(self, pair: str) -> MarketInfo:
        """The pair's market (InputError naming the fix when the exchange has none)."""
        markets = await self.source.markets(self.spec.ccxt_id)
        market = markets.get(pair)
        if market is None:
            raise InputError(
                f"{self.spec.exchange} has no market {pair!r}",
                "use the exchange's unified symbol, e.g. BTC/USDT (spot) or BTC/USDT:USDT (perpetual)",
                field="pair",
            )
        return MarketInfo.of(market)

    async def _top(self, pair: str) -> tuple[Decimal | None, Decimal | None]:
        book = await self.source.order_book(self.spec.ccxt_id, pair, 5)
        bids, asks = book.get("bids") or [], book.get("asks") or []
        return (dec(bids[0][0]) if bids else None, dec(asks[0][0]) if asks else None)

    async def default_pair(self) -> str:
        """The pair a ticket opens on: BTC/USDT (or its perpetual) when listed, else the first market."""
        markets = await self.source.markets(self.spec.ccxt_id)
        for pair in ("BTC/USDT", "BTC/USDT:USDT"):
            if pair in markets:
                return pair
        active = sorted(s for s, m in markets.items() if m.get("active") is not False)
        if not active:
            raise InputError(f"{self.spec.exchange} lists no markets", "try again when the exchange answers")
        return active[0]

    async def ticket(self, pair: str | None = None) -> TicketInfo:
        """What an order ticket on `pair` (default: `default_pair`) needs to show."""
        pair = pair or await self.default_pair()
        info = await self.market(pair)
        bid, ask = await self._top(pair)
        r = info.rules
        return TicketInfo(
            self.spec.name,
            self.spec.exchange,
            pair,
            self.spec.testnet,
            bid,
            ask,
            info.fees.maker,
            info.fees.taker,
            r.min_notional,
            r.min_amount,
            r.lot_size,
            r.tick_size,
            info.base,
            info.quote,
        )

    async def _request(self, ticket: OrderTicket) -> tuple[OrderRequest, MarketInfo | None, Decimal | None]:
        markets = await self.source.markets(self.spec.ccxt_id)
        market = markets.get(ticket.pair)
        info = MarketInfo.of(market) if market is not None else None
        if ticket.type == "limit" and ticket.price is None:
            raise InputError(
                "a limit order needs a price", "add --price P, or use --type market", field="price"
            )
        if ticket.type == "market" and ticket.price is not None:
            raise InputError(
                "a market order takes no price", "drop --price, or use --type limit", field="price"
            )
        if ticket.amount <= 0 or (ticket.price is not None and ticket.price <= 0):
            raise InputError("amount and price must be above 0", "give positive numbers", field="amount")
        for what, number in (("amount", ticket.amount), ("price", ticket.price)):
            # the store keeps 18 decimals in 38 digits; a number past MAX_NUMBER is a typo, and one past
            # the decimal context's range (1e999) broke the arithmetic below with InvalidOperation
            if number is not None and (not number.is_finite() or number >= MAX_NUMBER):
                raise InputError(
                    f"{what} {number} is too large", f"give {what} below {MAX_NUMBER:,}", field=what
                )
        mid: Decimal | None = None
        amount = ticket.amount
        if info is not None:
            bid, ask = await self._top(ticket.pair)
            mid = (bid + ask) / 2 if bid is not None and ask is not None else None
            if ticket.quote:
                # quote amount -> base (contracts) at the limit price or the side's best price, on the lot
                at = ticket.price or (ask if ticket.side == "buy" else bid)
                if at is None or at <= 0:
                    raise InputError(
                        f"no price on {ticket.pair} to convert the quote amount", "give a base amount"
                    )
                base = ticket.amount / (at * info.contract_size)
                lot = info.rules.lot_size
                amount = (base / lot).to_integral_value(rounding=ROUND_FLOOR) * lot if lot else base
        request = OrderRequest(
            ticket.pair, ticket.side, ticket.type, amount, ticket.price, ticket.reduce_only, self.bot
        )
        return request, info, mid

    async def place(self, ticket: OrderTicket) -> tuple[OrderView, str]:
        """Guard and place one manual order; OrderRefused (audited) when the guard or a filter refuses,
        ExchangeUnavailableError when reading the market failed (the executor never lets one out)."""
        import ccxt

        try:
            return await self._place(ticket)
        except ccxt.BaseError as exc:
            raise ExchangeUnavailableError(
                f"{self.spec.exchange} did not answer ({type(exc).__name__}); no order was sent",
                "try again shortly; `tradewarden connections test` says whether the exchange is up",
            ) from None

    async def _place(self, ticket: OrderTicket) -> tuple[OrderView, str]:
        request, info, mid = await self._request(ticket)
        guarded = await self.executor(ticket.paper)
        if info is not None:
            # The exchange's filters are checked for paper orders too (GuardedExecutor checks them live
            # only): a paper fill the exchange would refuse teaches the wrong thing.
            policy = GuardPolicy(frozenset({ticket.pair}), UNLIMITED, UNLIMITED)
            guarded.policy = policy
            state = connection_state(self.app.store, self.spec.id)
            terms = MarketTerms(info.contract_size, info.rules, info.contract)
            try:
                check(policy, request, state, mid, Decimal(0), terms, live=True)
            except OrderRefused as refusal:
                if refusal.reason in ("precision", "min_amount", "min_notional"):
                    refusal = OrderRefused(refusal.reason, f"{refusal.message} ({_filters(info)})")
                guarded._refuse(request, refusal)  # the guard's own audit and event
                raise refusal from None
            if ticket.paper:
                await self._fund_paper()
        view = await guarded.create_order(request)  # refused or placed, audited in there
        return view, guarded.mode

    def stored(self, open_only: bool = False) -> list[tuple[OrderView, str]]:
        """This connection's orders from the store (manual and bots'), newest first."""
        query = select(OrderRow).where(OrderRow.connection_id == self.spec.id)
        if open_only:
            query = query.where(OrderRow.status.in_(("open", "pending", "unknown")))
        with self.app.store.session() as session:
            rows = session.scalars(query.order_by(OrderRow.created_at.desc(), OrderRow.seq.desc())).all()
            return [(OrderView.of(r), r.mode) for r in rows]

    async def orders(self, open_only: bool = False) -> list[tuple[OrderView, str]]:
        """This connection's orders; live orders not yet final are refreshed from the exchange first."""
        pending = [v for v, mode in self.stored(open_only=True) if mode == "live"]
        if pending:
            live = await self.executor(paper=False)
            for view in pending:
                with contextlib.suppress(Exception):  # an unreachable venue leaves the stored state shown
                    await live.fetch_order(view.client_order_id)
        return self.stored(open_only)

    def _find(self, order_id: str) -> tuple[OrderView, str]:
        with self.app.store.session() as session:
            row = session.scalars(
                select(OrderRow).where(
                    OrderRow.connection_id == self.spec.id,
                    (OrderRow.client_order_id == order_id)
                    | (OrderRow.exchange_order_id == order_id)
                    | (OrderRow.id == order_id),
                )
            ).first()
            if row is None:
                raise NotFoundError(
                    f"no order {order_id!r} on {self.spec.name}",
                    "see: tradewarden trade orders CONNECTION",
                    field="order_id",
                )
            return OrderView.of(row), row.mode

    async def cancel(self, order_id: str) -> tuple[OrderView, str]:
        """Cancel one order (by client order id, exchange order id or stored id)."""
        view, mode = self._find(order_id)
        if view.final:
            raise InputError(
                f"order {view.client_order_id} is already {view.status}", "only open orders can be canceled"
            )
        guarded = await self.executor(paper=mode == "paper")
        canceled = await guarded.cancel_order(view.client_order_id)  # audited in there
        return canceled, mode

    async def close(self) -> None:
        """Release the paper executor (the live client belongs to the hub)."""
        if self._paper is not None:
            await self._paper.executor.close()


@contextlib.asynccontextmanager
async def trader(
    app: App, vault: VaultSession, name: str, hub: MarketHub | None = None
) -> AsyncIterator[Trader]:
    """A Trader on connection `name`; without `hub`, one is made for the block (on its endpoint)."""
    spec = await asyncio.to_thread(_spec, app, name)
    own = hub is None
    if hub is None:
        options = {spec.ccxt_id: dict(spec.options)} if spec.options else {}
        hub = MarketHub(
            HubConfig(
                endpoints={spec.ccxt_id: spec.endpoint} if spec.endpoint else {},
                options=options,
                ttl_s={"ticker": 0.0, "order_book": 0.0, "trades": 0.0, "markets": 3600.0},
            )
        )
    elif hub.endpoint(spec.ccxt_id) != spec.endpoint:
        await hub.set_endpoint(spec.ccxt_id, spec.endpoint)
    try:
        if spec.testnet:
            source: MarketSource = ClientSource(await vault.private_client(hub, spec.name))
        else:
            source = hub
        made = Trader(app, spec, DepthSource(source), vault, hub)
        try:
            yield made
        finally:
            await made.close()
    finally:
        if own:
            await hub.close()


def parse_decimal(value: str, what: str) -> Decimal:
    """A positive Decimal from user text (InputError naming the field otherwise)."""
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise InputError(
            f"{what} {value!r} is not a number", f"give {what} as e.g. 0.001", field=what
        ) from None
    if not number.is_finite() or number <= 0:
        raise InputError(
            f"{what} {value!r} must be a positive number", f"give {what} as e.g. 0.001", field=what
        )
    return number
