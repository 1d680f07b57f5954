"""PaperExecutor: the fill model (domain/fills.py) on live books from the market hub; balances in the store.

Spot: buys spend quote (notional + fee), sells spend base and pay the fee in quote; an open limit order
holds what it may spend (`used`). Contract markets: amounts are contracts; opening or adding holds the
notional / leverage as margin, reducing releases it and books the price difference; fees are paid in
the settle currency. Resting limit orders fill (maker, at their price) when a later book crosses them,
checked whenever the executor is asked about orders. Refusals come back as `rejected` orders with the
same outcomes the live venues give (order_errors.Outcome).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from sqlalchemy import func, select

from tradewarden.adapters.execution.base import Balance, FillView, OrderRequest, OrderView, Position
from tradewarden.adapters.execution.ledger import OrderLedger, dec, dec0
from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import FillRow, PaperBalance, PaperPosition, utcnow
from tradewarden.domain import fills as fm

ZERO = Decimal(0)


class MarketSource(Protocol):
    """Where paper trading reads markets and books: the MarketHub (or a fixed source in tests)."""

    async def markets(self, exchange_id: str) -> dict[str, Any]:
        """ccxt markets by symbol."""
        ...

    async def order_book(self, exchange_id: str, symbol: str, limit: int | None = None) -> dict[str, Any]:
        """ccxt order book."""
        ...


@dataclass(frozen=True)
class MarketInfo:
    """What paper trading needs of a market, in Decimal: units, rules, fees."""

    symbol: str
    base: str
    quote: str
    settle: str
    contract: bool
    contract_size: Decimal
    rules: fm.MarketRules
    fees: fm.Fees

    @property
    def base_rules(self) -> fm.MarketRules:
        """The market's rules in base units (contract markets state lots in contracts)."""
        return self.rules.in_base(self.contract_size)

    @classmethod
    def of(cls, market: Mapping[str, Any]) -> MarketInfo:
        """From a ccxt market (precision as tick sizes, ccxt's TICK_SIZE mode)."""
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}
        contract = bool(market.get("contract"))
        return cls(
            str(market["symbol"]),
            str(market["base"]),
            str(market["quote"]),
            str(market.get("settle") or market["quote"]),
            contract,
            dec(market.get("contractSize")) or Decimal(1) if contract else Decimal(1),
            fm.MarketRules(
                tick_size=dec(precision.get("price")),
                lot_size=dec(precision.get("amount")),
                min_amount=dec((limits.get("amount") or {}).get("min")),
                min_notional=dec((limits.get("cost") or {}).get("min")),
            ),
            fm.Fees(
                maker=_rate(market.get("maker"), fm.Fees().maker),
                taker=_rate(market.get("taker"), fm.Fees().taker),
            ),
        )


def _rate(value: Any, default: Decimal) -> Decimal:
    """A fee rate from the market, the default only when the market names none (0 is a rate)."""
    got = dec(value)
    return default if got is None else got


def _exact(*rows: PaperBalance | PaperPosition) -> None:
    """Round what arithmetic left on the store's 18 decimals (a hold can never go below zero)."""
    for row in rows:
        for name in ("total", "used", "contracts", "entry_price", "margin"):
            if hasattr(row, name):
                setattr(row, name, dec0(getattr(row, name)))
        if isinstance(row, PaperBalance) and row.used < 0:
            row.used = ZERO


def domain_book(book: Mapping[str, Any], contract_size: Decimal = Decimal(1)) -> fm.OrderBook:
    """A ccxt book as the fill model's book, amounts in base units (contracts x contract size)."""

    def levels(rows: Any) -> tuple[fm.BookLevel, ...]:
        return tuple(fm.BookLevel(dec0(r[0]), dec0(r[1]) * contract_size) for r in rows or [])

    return fm.OrderBook(levels(book.get("bids")), levels(book.get("asks")))


def moved_through(book: fm.OrderBook, price: Decimal, taken: Mapping[Decimal, Decimal]) -> fm.OrderBook:
    """The levels strictly better than `price` for a resting order, less the amounts `taken` by it."""

    def left(levels: tuple[fm.BookLevel, ...], buy_side: bool) -> tuple[fm.BookLevel, ...]:
        out = (fm.BookLevel(x.price, x.amount - taken.get(x.price, ZERO)) for x in levels)
        return tuple(x for x in out if (x.price > price if buy_side else x.price < price) and x.amount > 0)

    return fm.OrderBook(left(book.bids, True), left(book.asks, False))


class PaperExecutor:
    """The Executor of paper trading: fills from the fill model on the hub's books."""

    mode: Literal["paper", "live"] = "paper"

    def __init__(
        self,
        store: Store,
        source: MarketSource,
        exchange_id: str,
        connection_id: str,
        account: str,
        starting: Mapping[str, Decimal] | None = None,
        book_depth: int = 20,
        fees: fm.Fees | None = None,
        leverage: Decimal = Decimal(1),
        bot: str | None = None,
    ) -> None:
        self.store = store
        self.bot = bot  # when set, this executor's sweeps fill only that bot's orders (its own account)
        self.source = source
        self.exchange_id = exchange_id
        self.connection_id = connection_id
        self.account = account
        self.book_depth = book_depth
        self.fees = fees
        if leverage <= 0:
            raise ValueError(f"leverage {leverage} must be above 0")
        self.leverage = leverage
        self.ledger = OrderLedger(store, connection_id, exchange_id, "paper")
        self._trade_seq = 0
        if starting:
            self._seed(starting)

    # ---- balances in the store ---------------------------------------------------------------------

    def _seed(self, starting: Mapping[str, Decimal]) -> None:
        """Set the starting paper balance once (an account that already has balances keeps them)."""
        with self.store.session() as session:
            have = session.scalar(select(PaperBalance.currency).where(PaperBalance.account == self.account))
            if have is not None:
                return
            for currency, amount in starting.items():
                session.add(PaperBalance(account=self.account, currency=currency, total=amount, used=ZERO))

    def _balance_rows(self, session: Any, *currencies: str) -> dict[str, PaperBalance]:
        rows = {
            r.currency: r
            for r in session.scalars(
                select(PaperBalance).where(
                    PaperBalance.account == self.account, PaperBalance.currency.in_(currencies)
                )
            )
        }
        for c in currencies:
            if c not in rows:
                rows[c] = PaperBalance(account=self.account, currency=c, total=ZERO, used=ZERO)
                session.add(rows[c])
        return rows

    async def _info(self, symbol: str) -> MarketInfo:
        markets = await self.source.markets(self.exchange_id)
        if symbol not in markets:
            raise KeyError(f"{self.exchange_id} has no market {symbol!r}")
        info = MarketInfo.of(markets[symbol])
        if self.fees is not None:
            info = MarketInfo(
                info.symbol,
                info.base,
                info.quote,
                info.settle,
                info.contract,
                info.contract_size,
                info.rules,
                self.fees,
            )
        return info

    async def _book(self, info: MarketInfo) -> fm.OrderBook:
        raw = await self.source.order_book(self.exchange_id, info.symbol, self.book_depth)
        if not raw.get("bids") and not raw.get("asks"):
            # ccxt reads an unreadable answer (truncated JSON) as a book with no levels; taken as the
            # market's, it rejected the order no_liquidity and a bot backed off a minute for nothing
            import ccxt

            raise ccxt.ExchangeNotAvailable(f"{self.exchange_id} answered an empty {info.symbol} book")
        return domain_book(raw, info.contract_size)

    # ---- placing ---------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> OrderView:
        """Fill what the book allows now; a limit order's rest rests (holding its funds)."""
        # The market and its book are read before the order is stored: a read that fails (the venue
        # answering 502, a timeout) must leave no pending paper order behind, which nothing in a running
        # process would ever finish (a bot waited on one for good).
        info = await self._info(request.symbol)
        book = await self._book(info)
        view = self.ledger.new_pending(request)
        cid = view.client_order_id
        cs = info.contract_size
        base_amount = request.amount * cs
        try:
            if request.type == "market":
                result = fm.market_fill(
                    request.side,
                    base_amount,
                    book,
                    info.fees,
                    info.base_rules,
                    request.max_slippage_pct,
                )
            else:
                if request.price is None:
                    raise fm.OrderRejected("price_not_positive", "a limit order needs a price")
                result = fm.limit_fill_on_arrival(
                    request.side, base_amount, request.price, book, info.fees, info.base_rules
                )
        except fm.OrderRejected as exc:
            outcome = "rejected" if exc.reason == "no_liquidity" else "filter_failure"
            return self.ledger.update(cid, status="rejected", outcome=outcome, error=str(exc), remaining=ZERO)
        rests = request.type == "limit" and result.remaining > 0
        refusal = self._apply(view, info, result, rests, check_only=True)
        if refusal is not None:
            outcome, message = refusal
            return self.ledger.update(cid, status="rejected", outcome=outcome, error=message, remaining=ZERO)
        # Balances, executions and the order's new status in one transaction: a process killed here
        # leaves the order pending with nothing moved (the bot runner ends it on restart), never half done.
        with self.store.session() as session:
            self._apply(view, info, result, rests, check_only=False, session=session)
            return self._record(view, info, result, rests, session)

    def _tx(self, session: Any) -> AbstractContextManager[Any]:
        """The caller's session (its transaction), or a new one."""
        return nullcontext(session) if session is not None else self.store.session()

    def _apply(
        self,
        view: OrderView,
        info: MarketInfo,
        result: fm.FillResult,
        rests: bool,
        check_only: bool,
        session: Any = None,
    ) -> tuple[str, str] | None:
        """Move balances (and the position) for `result`; with check_only, only say whether it may."""
        with self._tx(session) as session:
            if info.contract:
                return self._apply_contract(session, view, info, result, rests, check_only)
            rows = self._balance_rows(session, info.base, info.quote)
            base, quote = rows[info.base], rows[info.quote]
            hold_price = view.price or ZERO
            if result.side == "buy":
                need = result.notional + result.fee
                hold = result.remaining * hold_price * (1 + info.fees.maker) if rests else ZERO
                if need + hold > quote.total - quote.used:
                    return "insufficient_balance", (
                        f"needs {need + hold} {info.quote}, {quote.total - quote.used} free"
                    )
                if check_only:
                    return None
                quote.total -= need
                quote.used += hold
                base.total += result.filled
            else:
                want = result.filled + (result.remaining if rests else ZERO)
                if want > base.total - base.used:
                    return "insufficient_balance", f"needs {want} {info.base}, {base.total - base.used} free"
                if check_only:
                    return None
                base.total -= result.filled
                base.used += result.remaining if rests else ZERO
                quote.total += result.notional - result.fee
            _exact(base, quote)
            base.updated_at = quote.updated_at = utcnow()
            return None

    def _apply_contract(
        self,
        session: Any,
        view: OrderView,
        info: MarketInfo,
        result: fm.FillResult,
        rests: bool,
        check_only: bool,
    ) -> tuple[str, str] | None:
        settle = self._balance_rows(session, info.settle)[info.settle]
        pos = session.get(PaperPosition, (self.account, info.symbol))
        held = pos.contracts if pos is not None else ZERO
        signed = (result.filled if result.side == "buy" else -result.filled) / info.contract_size
        if view.reduce_only and (
            held == 0 or (held > 0) == (result.side == "buy") or abs(signed) > abs(held)
        ):
            return "rejected", "reduce-only order would open or increase a position"
        closing = min(abs(signed), abs(held)) if held and (held > 0) != (signed > 0) else ZERO
        opening = abs(signed) - closing
        price = result.avg_price or view.price or ZERO
        open_margin = opening * info.contract_size * price / self.leverage
        hold = result.remaining * (view.price or ZERO) / self.leverage if rests else ZERO
        if open_margin + hold + result.fee > settle.total - settle.used + (
            pos.margin * closing / abs(held) if pos is not None and held else ZERO
        ):
            return "insufficient_balance", f"needs {open_margin + hold + result.fee} {info.settle} of margin"
        if check_only:
            return None
        if pos is None:
            pos = PaperPosition(
                account=self.account, symbol=info.symbol, contracts=ZERO, entry_price=ZERO, margin=ZERO
            )
            session.add(pos)
        if closing:
            direction = Decimal(1) if held > 0 else Decimal(-1)
            pnl = (price - pos.entry_price) * closing * info.contract_size * direction
            released = pos.margin * closing / abs(held)
            pos.margin -= released
            settle.used -= released
            settle.total += pnl
            pos.contracts -= direction * closing
        if opening:
            new_contracts = abs(pos.contracts) + opening
            pos.entry_price = (pos.entry_price * abs(pos.contracts) + price * opening) / new_contracts
            pos.contracts = new_contracts if signed > 0 else -new_contracts
            pos.margin += open_margin
            settle.used += open_margin
        settle.total -= result.fee
        settle.used += hold
        _exact(pos, settle)
        pos.updated_at = settle.updated_at = utcnow()
        return None

    def _record(
        self, view: OrderView, info: MarketInfo, result: fm.FillResult, rests: bool, session: Any
    ) -> OrderView:
        cs = info.contract_size
        for execution in result.executions:
            self._trade_seq += 1
            self.ledger.add_fill(
                view.client_order_id,
                f"{view.client_order_id}-{self._fill_count(view.id, session) + 1}",
                dec0(execution.price),
                dec0(execution.amount / cs),
                dec0(execution.fee),
                info.settle if info.contract else info.quote,
                execution.liquidity,
                reconciled=False,
                session=session,
            )
        current = self.ledger.get(view.client_order_id, session)
        filled = current.filled + result.filled / cs
        cost = current.cost + result.notional
        fee = current.fee + result.fee
        remaining = current.amount - filled
        status = "open" if rests and remaining > 0 else "closed"
        if view.type == "market" and remaining > 0:
            status = "closed" if filled > 0 else "expired"  # what the book lacked is not filled later
        return self.ledger.update(
            view.client_order_id,
            session,
            status=status,
            exchange_order_id=view.client_order_id,
            filled=dec0(filled),
            remaining=dec0(remaining),
            cost=dec0(cost),
            fee=dec0(fee),
            fee_currency=info.settle if info.contract else info.quote,
            average=dec(cost / (filled * cs)) if filled else None,
        )

    # ---- resting orders ----------------------------------------------------------------------------

    async def sweep(self, symbol: str | None = None) -> int:
        """Fill resting orders the current books cross (maker, at their price); returns fills made."""
        made = 0
        books: dict[str, tuple[MarketInfo, fm.OrderBook]] = {}  # one book per market per sweep
        # Only this executor's bot's orders (when it has one): another bot's fills belong to that bot's
        # paper account.
        resting = self.ledger.orders(symbol, frozenset({"open"}), bot=self.bot)
        # In the order the market reaches them (buys from the highest price down, sells from the lowest
        # up), not the order they were placed in: a grid reads its fills in this order, and a fall through
        # five buys filled oldest first left it believing the price stood at a middle level (it then
        # bought those levels again, past its own worst case).
        resting.sort(
            key=lambda v: (v.side != "buy", -(v.price or ZERO) if v.side == "buy" else v.price or ZERO)
        )
        for view in resting:
            if view.symbol not in books:
                info = await self._info(view.symbol)
                books[view.symbol] = (info, await self._book(info))
            info, book = books[view.symbol]
            remaining = (view.remaining or ZERO) * info.contract_size
            price = view.price or ZERO
            # Only levels the market moved through count, less what this order already took there: the
            # book paper trading reads never shows our own takings removed from it.
            reached = moved_through(book, price, {})
            if not (reached.asks if view.side == "buy" else reached.bids):
                continue  # the market has not reached the order: nothing to work out, nothing to read
            taken: dict[Decimal, Decimal] = {}
            for fill_price, fill_amount in self._order_fills(view.id):
                taken[fill_price] = taken.get(fill_price, ZERO) + fill_amount * info.contract_size
            through = moved_through(book, price, taken)
            result = fm.resting_fill_on_book(view.side, remaining, price, through, info.fees)  # type: ignore[arg-type]
            if not result.filled:
                continue
            rest_left = remaining - result.filled
            with self.store.session() as session:  # one transaction, as in create_order
                self._release(view, info, result.filled, session)
                self._apply(view, info, result, rests=rest_left > 0, check_only=False, session=session)
                self._record(view, info, result, rest_left > 0, session)
            made += len(result.executions)
        return made

    def _order_fills(self, order_id: str) -> list[tuple[Decimal, Decimal]]:
        """(price, amount) of one order's stored fills (not every fill of the market: sweeps run often)."""
        with self.store.session() as session:
            rows = session.execute(
                select(FillRow.price, FillRow.amount).where(FillRow.order_id == order_id)
            ).all()
            return [(price, amount) for price, amount in rows]

    def _fill_count(self, order_id: str, session: Any = None) -> int:
        """How many fills the order has stored (its next trade id follows)."""
        with self._tx(session) as session:
            count = session.scalar(
                select(func.count()).select_from(FillRow).where(FillRow.order_id == order_id)
            )
            return int(count or 0)

    def _release(self, view: OrderView, info: MarketInfo, base_amount: Decimal, session: Any = None) -> None:
        """Give back what an open order held, before its fill (and any new hold for its rest) applies."""
        with self._tx(session) as session:
            whole = (view.remaining or ZERO) * info.contract_size
            price = view.price or ZERO
            if info.contract:
                row = self._balance_rows(session, info.settle)[info.settle]
                row.used -= whole * price / self.leverage
            elif view.side == "buy":
                row = self._balance_rows(session, info.quote)[info.quote]
                row.used -= whole * price * (1 + info.fees.maker)
            else:
                row = self._balance_rows(session, info.base)[info.base]
                row.used -= whole
            _exact(row)

    async def fetch_order(self, client_order_id: str) -> OrderView:
        """The order after a sweep of its market."""
        view = self.ledger.get(client_order_id)
        if view.status == "open":
            await self.sweep(view.symbol)
        return self.ledger.get(client_order_id)

    async def cancel_order(self, client_order_id: str) -> OrderView:
        """Cancel an open paper order, releasing what it held."""
        view = await self.fetch_order(client_order_id)
        if view.status != "open":
            return view
        info = await self._info(view.symbol)
        with self.store.session() as session:  # the hold given back with the cancel, or neither
            self._release(view, info, ZERO, session)
            return self.ledger.update(client_order_id, session, status="canceled")

    async def open_orders(self, symbol: str | None = None) -> list[OrderView]:
        """Open paper orders after a sweep."""
        await self.sweep(symbol)
        return self.ledger.orders(symbol, frozenset({"open"}))

    async def fills(self, symbol: str | None = None) -> list[FillView]:
        """Paper executions, oldest first."""
        return [FillView.of(f, o) for f, o in self.ledger.fills(symbol)]

    async def balances(self) -> dict[str, Balance]:
        """The paper account's balances."""
        with self.store.session() as session:
            rows = session.scalars(select(PaperBalance).where(PaperBalance.account == self.account)).all()
            return {r.currency: Balance(r.currency, r.total - r.used, r.used, r.total) for r in rows}

    async def positions(self, symbol: str | None = None) -> list[Position]:
        """Open paper positions."""
        with self.store.session() as session:
            query = select(PaperPosition).where(PaperPosition.account == self.account)
            if symbol is not None:
                query = query.where(PaperPosition.symbol == symbol)
            return [
                Position(p.symbol, p.contracts, p.entry_price)
                for p in session.scalars(query)
                if p.contracts != 0
            ]

    async def close(self) -> None:
        """Nothing to release: the market source is shared."""
