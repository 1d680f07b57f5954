"""Matching engine: resting user orders with price-time priority against each other and the synthetic book.

Pure logic (no I/O, no asyncio). Money is Decimal throughout. Venues own one Engine per market kind
(spot, perp), translate `OrderRejected.reason` into their own error codes, and format `Order`/`Fill`.
Balances move through a `Settlement` (see ledger.py), so the same engine serves spot wallets and
margin accounts. Self-trades are avoided by skipping the taker's own resting orders.

The synthetic book reacts: what a taker consumes from level i of a side is gone, and comes back
linearly over `recovery_ms` of simulator time, so a large order pays slippage and the next one
within the recovery time sees the dent. Dents are kept per level (distance from the best price), so
they travel with the price rather than vanish when it moves by a tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from .market import MarketData

log = logging.getLogger("tradewarden.sim")

ZERO = Decimal(0)
_SAFE_BELOW, _SAFE_ABOVE = Decimal("0.99"), Decimal("1.01")


class Side(StrEnum):
    """Order side."""

    BUY = "BUY"
    SELL = "SELL"


class OrdType(StrEnum):
    """Order type the engine knows; venues map their own names onto these."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"


class TIF(StrEnum):
    """Time in force; GTX is post-only (reject if it would take)."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"


class Status(StrEnum):
    """Order status (Binance's vocabulary; other venues translate)."""

    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


OPEN_STATUSES = frozenset({Status.NEW, Status.PARTIALLY_FILLED})


class Reject(StrEnum):
    """Why an order was refused; each venue maps these to its own code/message/HTTP status."""

    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    PRICE_FILTER = "PRICE_FILTER"
    LOT_SIZE = "LOT_SIZE"
    MARKET_LOT_SIZE = "MARKET_LOT_SIZE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    REDUCE_ONLY = "REDUCE_ONLY"
    DUPLICATE_CLIENT_ID = "DUPLICATE_CLIENT_ID"
    BAD_PARAMS = "BAD_PARAMS"


class OrderRejected(Exception):
    """Raised by Engine.new_order; nothing has changed when it is raised."""

    def __init__(self, reason: Reject, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


class OrderNotFound(Exception):
    """No such order for this account."""


class CancelRejected(Exception):
    """The order exists but is no longer open."""

    def __init__(self, order: Order) -> None:
        super().__init__(f"order {order.order_id} is {order.status}")
        self.order = order


@dataclass(frozen=True)
class Instrument:
    """A tradable symbol on one venue market; quantities in base units times `contract_size`."""

    symbol: str
    pair: str
    base: str
    quote: str
    kind: str = "spot"
    tick: Decimal = Decimal("0.01")
    step: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    market_max_qty: Decimal = Decimal("1000")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    min_notional: Decimal = Decimal("5")
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    contract_size: Decimal = Decimal(1)
    settle: str = ""
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Fill:
    """One execution of one order."""

    trade_id: int
    order_id: int
    account: str
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    time_ms: int
    realized_pnl: Decimal = ZERO


@dataclass
class Order:
    """An order as the engine holds it; venues render it in their own shape."""

    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrdType
    tif: TIF
    price: Decimal | None
    qty: Decimal | None
    quote_qty: Decimal | None
    created_ms: int
    seq: int
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: Status = Status.NEW
    updated_ms: int = 0
    locked: Decimal = ZERO
    reduce_only: bool = False
    fills: list[Fill] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        """True while NEW or PARTIALLY_FILLED."""
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        """Base quantity still to fill (zero for quote-sized market orders once done)."""
        return ZERO if self.qty is None else self.qty - self.executed_qty

    @property
    def avg_price(self) -> Decimal:
        """Average fill price (zero before any fill)."""
        return self.cum_quote / self.executed_qty if self.executed_qty else ZERO


class Settlement(Protocol):
    """How fills move money; see ledger.SpotSettlement and ledger.PerpSettlement."""

    def reserve(self, order: Order, inst: Instrument, notional: Decimal, qty: Decimal) -> None:
        """Lock what the order needs (notional in quote, qty in base); raise OrderRejected if short."""

    def settle(
        self,
        order: Order,
        inst: Instrument,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        counterparty: str | None,
    ) -> tuple[Decimal, str, Decimal]:
        """Apply one fill to the order's account; return (fee, fee asset, realized pnl)."""

    def release(self, order: Order, inst: Instrument) -> None:
        """Unlock whatever the order still holds once it is done."""


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """An order change for the streams: kind "new" | "trade" | "canceled" | "expired" (after the call)."""

    kind: str
    engine: str
    order: Order
    fill: Fill | None
    time_ms: int
    #: time.perf_counter() when the engine made the change (engine-event-to-frame latency)
    t0: float


EventListener = Callable[[EngineEvent], None]


@dataclass
class _Take:
    price: Decimal
    qty: Decimal
    maker: Order | None  # None: the synthetic book
    level: int = -1  # synthetic level index (0 = best) when maker is None


class Engine:
    """One market (e.g. Binance spot) of one venue: instruments, orders, fills."""

    def __init__(
        self,
        market: MarketData,
        settlement: Settlement,
        *,
        name: str = "spot",
        first_order_id: int = 1000,
        book_depth: int = 20,
        spread_bps: Decimal = Decimal(2),
        level_notional: Decimal = Decimal(25000),
        recovery_ms: int = 5000,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.market = market
        self.settlement = settlement
        self.name = name
        self.clock = clock if clock is not None else market.clock
        self.book_depth = book_depth
        self.spread_bps = spread_bps  # synthetic book: best bid/ask this far apart, in basis points
        self.level_notional = level_notional  # synthetic book: quote value of the first level
        self.recovery_ms = recovery_ms  # synthetic book: how long a consumed level takes to refill
        self.instruments: dict[str, Instrument] = {}
        self.orders: dict[int, Order] = {}
        self._by_client: dict[tuple[str, str], Order] = {}
        self._by_account: dict[str, list[Order]] = {}
        self._bids: dict[str, list[Order]] = {}
        self._asks: dict[str, list[Order]] = {}
        # (symbol, side of the book, level index) -> (qty taken, when): the dent, refilling linearly
        self._consumed: dict[tuple[str, Side, int], tuple[Decimal, int]] = {}
        self._next_order_id = first_order_id
        self._next_trade_id = 1
        self._seq = 0
        #: stream hook: called with each EngineEvent once the public call that made it has finished
        self.listeners: list[EventListener] = []
        self._events: list[EngineEvent] = []

    # ---- instruments and queries -------------------------------------------------------------

    def add_instrument(self, inst: Instrument) -> None:
        """Register a symbol; its pair must exist in the venue's MarketData."""
        if inst.pair not in self.market.pairs:
            raise KeyError(f"pair {inst.pair} not in market")
        self.instruments[inst.symbol] = inst
        self._bids.setdefault(inst.symbol, [])
        self._asks.setdefault(inst.symbol, [])

    def last_price(self, symbol: str) -> Decimal:
        """Current price of the instrument's pair."""
        return self.market.get(self.instruments[symbol].pair).price

    def find(
        self,
        account: str,
        symbol: str | None = None,
        order_id: int | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        """Look up an order of `account` by id or client id; raises OrderNotFound."""
        order: Order | None = None
        if order_id is not None:
            order = self.orders.get(order_id)
        elif client_order_id is not None:
            order = self._by_client.get((account, client_order_id))
        if order is None or order.account != account or (symbol is not None and order.symbol != symbol):
            raise OrderNotFound(str(order_id or client_order_id))
        return order

    def open_orders(self, account: str | None, symbol: str | None = None) -> list[Order]:
        """Open orders, oldest first; account None means every account."""
        # every open order rests in a book (the others finish at once), so read the books, not history
        symbols = [symbol] if symbol is not None else list(self.instruments)
        out = [
            o
            for s in symbols
            for book in (self._bids, self._asks)
            for o in book.get(s, ())
            if account is None or o.account == account
        ]
        out.sort(key=lambda o: o.seq)
        return out

    def all_orders(self, account: str | None, symbol: str | None = None) -> list[Order]:
        """Every order ever placed, oldest first; account None means every account."""
        source = self.orders.values() if account is None else self._by_account.get(account, [])
        return [o for o in source if symbol is None or o.symbol == symbol]

    def fills(self, account: str, symbol: str | None = None) -> list[Fill]:
        """Every fill of the account, oldest first."""
        out = [f for o in self.all_orders(account, symbol) for f in o.fills]
        out.sort(key=lambda f: f.trade_id)
        return out

    def depth(
        self, symbol: str, limit: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """Public book: synthetic levels merged with resting user orders, best first."""
        inst = self.instruments[symbol]
        levels = self._levels(inst)
        now = self.clock()
        bids: dict[Decimal, Decimal] = {}
        asks: dict[Decimal, Decimal] = {}
        for i, (px, q) in enumerate(levels.bids):
            bids[px] = bids.get(px, ZERO) + q - self._taken(symbol, Side.BUY, i, now)
        for i, (px, q) in enumerate(levels.asks):
            asks[px] = asks.get(px, ZERO) + q - self._taken(symbol, Side.SELL, i, now)
        for o in self._bids[symbol]:
            assert o.price is not None
            bids[o.price] = bids.get(o.price, ZERO) + o.remaining
        for o in self._asks[symbol]:
            assert o.price is not None
            asks[o.price] = asks.get(o.price, ZERO) + o.remaining
        b = sorted(((p, q) for p, q in bids.items() if q > 0), reverse=True)[:limit]
        a = sorted((p, q) for p, q in asks.items() if q > 0)[:limit]
        return b, a

    # ---- validation --------------------------------------------------------------------------

    def validate(
        self,
        inst: Instrument,
        type_: OrdType,
        qty: Decimal | None,
        price: Decimal | None,
        quote_qty: Decimal | None,
    ) -> None:
        """Tick/step/min-notional checks in Binance's filter order; raises OrderRejected."""
        if type_ is OrdType.LIMIT:
            if price is None or qty is None:
                raise OrderRejected(Reject.BAD_PARAMS, "limit orders need price and quantity")
            if price < inst.min_price or price > inst.max_price or (price - inst.min_price) % inst.tick != 0:
                raise OrderRejected(Reject.PRICE_FILTER, str(price))
        if qty is not None:
            max_qty = inst.max_qty if type_ is OrdType.LIMIT else inst.market_max_qty
            if qty <= 0 or qty < inst.min_qty or (qty - inst.min_qty) % inst.step != 0:
                raise OrderRejected(Reject.LOT_SIZE, str(qty))
            if qty > max_qty:
                reason = Reject.LOT_SIZE if type_ is OrdType.LIMIT else Reject.MARKET_LOT_SIZE
                raise OrderRejected(reason, str(qty))
        elif quote_qty is None or quote_qty <= 0:
            raise OrderRejected(Reject.BAD_PARAMS, "quantity or quote quantity required")
        ref = price if price is not None else self.last_price(inst.symbol)
        notional = quote_qty if qty is None and quote_qty is not None else (qty or ZERO) * ref
        if notional * inst.contract_size < inst.min_notional:
            raise OrderRejected(Reject.MIN_NOTIONAL, str(notional))

    # ---- order lifecycle ---------------------------------------------------------------------

    def new_order(
        self,
        account: str,
        symbol: str,
        side: Side,
        type_: OrdType,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        quote_qty: Decimal | None = None,
        tif: TIF = TIF.GTC,
        client_order_id: str | None = None,
        reduce_only: bool = False,
        extra: dict[str, Any] | None = None,
        validate: bool = True,
        unfillable: Status | None = None,
    ) -> Order:
        """Validate, reserve, match and (for resting limits) book an order; raises OrderRejected.

        `unfillable`: venues that accept a FOK that cannot fill completely, or a post-only that would
        take, and end it at once (Binance spot EXPIRED, KuCoin CANCELED) pass that status; the order
        is then recorded with no fills instead of refused.
        """
        inst = self.instruments.get(symbol)
        if inst is None:
            raise OrderRejected(Reject.UNKNOWN_SYMBOL, symbol)
        if client_order_id is not None:
            prior = self._by_client.get((account, client_order_id))
            if prior is not None and prior.is_open:
                raise OrderRejected(Reject.DUPLICATE_CLIENT_ID, client_order_id)
        if validate:
            self.validate(inst, type_, qty, price, quote_qty)
        if type_ is OrdType.MARKET:
            price = None
        now = self.clock()
        oid = self._next_order_id
        self._seq += 1
        order = Order(
            oid,
            client_order_id or f"sim-{oid}",
            account,
            symbol,
            side,
            type_,
            tif,
            price,
            qty,
            quote_qty if qty is None else None,
            now,
            self._seq,
            updated_ms=now,
            reduce_only=reduce_only,
            extra=dict(extra or {}),
        )
        plan = self._plan(inst, order)
        planned_qty = sum((t.qty for t in plan), ZERO)
        planned_quote = sum((t.qty * t.price for t in plan), ZERO)
        would_take = tif is TIF.GTX and bool(plan)
        cannot_fill = tif is TIF.FOK and (qty is None or planned_qty < qty)
        if unfillable is not None and (would_take or cannot_fill):
            return self._record_unfilled(inst, order, unfillable)
        if tif is TIF.GTX and plan:
            raise OrderRejected(Reject.POST_ONLY_WOULD_TAKE, symbol)
        if tif is TIF.FOK and (qty is None or planned_qty < qty):
            raise OrderRejected(Reject.NO_LIQUIDITY, "FOK order cannot be filled completely")
        if type_ is OrdType.MARKET and not plan:
            raise OrderRejected(Reject.NO_LIQUIDITY, symbol)
        if type_ is OrdType.LIMIT:
            assert price is not None and qty is not None
            self.settlement.reserve(order, inst, price * qty * inst.contract_size, qty)
        else:
            reserve_quote = order.quote_qty if order.quote_qty is not None else planned_quote
            self.settlement.reserve(order, inst, reserve_quote * inst.contract_size, planned_qty)
        # Committed from here on: nothing below may raise OrderRejected.
        self._next_order_id += 1
        self.orders[oid] = order
        self._by_account.setdefault(account, []).append(order)
        if client_order_id is not None:
            self._by_client[(account, client_order_id)] = order
        else:
            self._by_client[(account, order.client_order_id)] = order
        self._emit("new", order, None, now)
        for take in plan:
            self._execute(inst, order, take, now)
        if order.type is OrdType.LIMIT and order.remaining > 0 and tif in (TIF.GTC, TIF.GTX):
            self._rest(order)
        else:
            self._finish(
                inst,
                order,
                Status.FILLED
                if order.remaining <= 0 and order.executed_qty > 0 and (order.qty is not None)
                else None,
            )
            if order.status is Status.EXPIRED:
                self._emit("expired", order, None, now)
        self._flush()
        return order

    def _record_unfilled(self, inst: Instrument, order: Order, status: Status) -> Order:
        """Book an order that ends at once with no fills (the balance check still applies)."""
        if order.price is not None and order.qty is not None:
            self.settlement.reserve(order, inst, order.price * order.qty * inst.contract_size, order.qty)
            self.settlement.release(order, inst)
        self._next_order_id += 1
        self.orders[order.order_id] = order
        self._by_account.setdefault(order.account, []).append(order)
        self._by_client[(order.account, order.client_order_id)] = order
        order.status = status
        self._emit("expired", order, None, order.created_ms)
        self._flush()
        return order

    def cancel(
        self,
        account: str,
        symbol: str | None = None,
        order_id: int | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        """Cancel an open order; raises OrderNotFound or CancelRejected."""
        order = self.find(account, symbol, order_id, client_order_id)
        if not order.is_open:
            raise CancelRejected(order)
        self._unrest(order)
        order.status = Status.CANCELED
        order.updated_ms = self.clock()
        self.settlement.release(order, self.instruments[order.symbol])
        self._emit("canceled", order, None, order.updated_ms)
        self._flush()
        return order

    def cancel_all(self, account: str, symbol: str | None = None) -> list[Order]:
        """Cancel every open order of an account (optionally one symbol)."""
        return [self.cancel(account, o.symbol, o.order_id) for o in self.open_orders(account, symbol)]

    def sweep(self) -> list[Fill]:
        """Fill resting orders the synthetic book has moved through (call once per request)."""
        fills: list[Fill] = []
        now = self.clock()
        for symbol, inst in self.instruments.items():
            bids, asks = self._bids[symbol], self._asks[symbol]
            if not bids and not asks:
                continue
            # the synthetic bids sit below the price and its asks above it: orders resting over 1 %
            # on their own side of it cannot cross, so skip building the book (most requests)
            mid = self.last_price(symbol)
            low, high = mid * _SAFE_BELOW, mid * _SAFE_ABOVE
            if (not bids or (bids[0].price or ZERO) < low) and (not asks or (asks[0].price or ZERO) > high):
                continue
            levels = self._levels(inst)
            for book, opposite, taker_side in ((bids, levels.asks, Side.SELL), (asks, levels.bids, Side.BUY)):
                for order in list(book):
                    assert order.price is not None
                    for i, (px, q) in enumerate(opposite):
                        crosses = px <= order.price if order.side is Side.BUY else px >= order.price
                        if not crosses or order.remaining <= 0:
                            break
                        avail = q - self._taken(symbol, taker_side, i, now)
                        take = min(avail, order.remaining)
                        if take <= 0:
                            continue
                        self._consume(symbol, taker_side, i, take, now)
                        fills.append(self._fill(inst, order, order.price, take, True, None, now))
                    if order.remaining <= 0:
                        self._unrest(order)
                        self._finish(inst, order, Status.FILLED)
        if self._events:
            self._flush()
        return fills

    # ---- stream events -----------------------------------------------------------------------

    def _emit(self, kind: str, order: Order, fill: Fill | None, now: int) -> None:
        if self.listeners:
            self._events.append(EngineEvent(kind, self.name, order, fill, now, time.perf_counter()))

    def _flush(self) -> None:
        """Hand the call's events to the listeners; a failing listener never fails the order."""
        events, self._events = self._events, []
        for ev in events:
            for listener in self.listeners:
                try:
                    listener(ev)
                except Exception:
                    log.exception("stream listener failed on %s %s", ev.kind, ev.order.order_id)

    # ---- internals ---------------------------------------------------------------------------

    def _levels(self, inst: Instrument) -> Any:
        return self.market.get(inst.pair).book(
            inst.tick, inst.step, self.book_depth, self.spread_bps, self.level_notional
        )

    def _taken(self, symbol: str, side: Side, level: int, now: int) -> Decimal:
        """What is still missing from a synthetic level at `now` (linear refill over recovery_ms)."""
        got = self._consumed.get((symbol, side, level))
        if got is None:
            return ZERO
        qty, at = got
        elapsed = now - at
        # refilled, or taken "in the future" of a clock an admin has set back
        if self.recovery_ms <= 0 or not 0 <= elapsed < self.recovery_ms:
            del self._consumed[(symbol, side, level)]
            return ZERO
        return qty * (self.recovery_ms - elapsed) / self.recovery_ms

    def _consume(self, symbol: str, side: Side, level: int, qty: Decimal, now: int) -> None:
        missing = self._taken(symbol, side, level, now) + qty
        self._consumed[(symbol, side, level)] = (missing, now)

    def _plan(self, inst: Instrument, order: Order) -> list[_Take]:
        """What the order would take now, best price first, without changing anything."""
        buy = order.side is Side.BUY
        now = self.clock()
        levels = self._levels(inst)
        synth = list(levels.asks if buy else levels.bids)
        # the synthetic side an incoming buy consumes is the ask side (side key SELL), and vice versa
        synth_side = Side.SELL if buy else Side.BUY
        users = [o for o in (self._asks if buy else self._bids)[inst.symbol] if o.account != order.account]
        plan: list[_Take] = []
        remaining = order.qty
        budget = order.quote_qty
        i = j = 0
        while i < len(synth) or j < len(users):
            if remaining is not None and remaining <= 0:
                break
            if budget is not None and budget <= 0:
                break
            s_px = synth[i][0] if i < len(synth) else None
            u_px = users[j].price if j < len(users) else None
            use_user = u_px is not None and (s_px is None or (u_px <= s_px if buy else u_px >= s_px))
            px = u_px if use_user else s_px
            assert px is not None
            if order.price is not None and (px > order.price if buy else px < order.price):
                break
            avail = (
                users[j].remaining if use_user else synth[i][1] - self._taken(inst.symbol, synth_side, i, now)
            )
            qty = avail if remaining is None else min(avail, remaining)
            if budget is not None:
                affordable = (budget / (px * inst.contract_size) / inst.step).to_integral_value(
                    rounding="ROUND_FLOOR"
                ) * inst.step
                qty = min(qty, affordable)
                if qty <= 0:
                    break
            if qty > 0:
                plan.append(_Take(px, qty, users[j] if use_user else None, -1 if use_user else i))
                if remaining is not None:
                    remaining -= qty
                if budget is not None:
                    budget -= qty * px * inst.contract_size
            if use_user:
                j += 1
            else:
                i += 1
        return plan

    def _execute(self, inst: Instrument, order: Order, take: _Take, now: int) -> None:
        self._fill(inst, order, take.price, take.qty, False, take.maker.account if take.maker else None, now)
        if take.maker is None:
            side = Side.SELL if order.side is Side.BUY else Side.BUY
            self._consume(inst.symbol, side, take.level, take.qty, now)
        else:
            maker = take.maker
            self._fill(inst, maker, take.price, take.qty, True, order.account, now)
            if maker.remaining <= 0:
                self._unrest(maker)
                self._finish(inst, maker, Status.FILLED)
        self.market.get(inst.pair).record_trade(
            take.price, take.qty, now, buyer_maker=order.side is Side.SELL
        )

    def _fill(
        self,
        inst: Instrument,
        order: Order,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        counterparty: str | None,
        now: int,
    ) -> Fill:
        fee, fee_asset, pnl = self.settlement.settle(order, inst, price, qty, is_maker, counterparty)
        fill = Fill(
            self._next_trade_id,
            order.order_id,
            order.account,
            order.symbol,
            order.side,
            price,
            qty,
            price * qty * inst.contract_size,
            fee,
            fee_asset,
            is_maker,
            now,
            pnl,
        )
        self._next_trade_id += 1
        self._emit("trade", order, fill, now)
        order.fills.append(fill)
        order.executed_qty += qty
        order.cum_quote += fill.quote_qty
        order.updated_ms = now
        if order.status is Status.NEW:
            order.status = Status.PARTIALLY_FILLED
        return fill

    def _rest(self, order: Order) -> None:
        book = self._bids if order.side is Side.BUY else self._asks
        lst = book[order.symbol]
        lst.append(order)
        assert order.price is not None
        if order.side is Side.BUY:
            lst.sort(key=lambda o: (-(o.price or ZERO), o.seq))
        else:
            lst.sort(key=lambda o: (o.price or ZERO, o.seq))

    def _unrest(self, order: Order) -> None:
        book = self._bids if order.side is Side.BUY else self._asks
        lst = book.get(order.symbol, [])
        if order in lst:
            lst.remove(order)

    def _finish(self, inst: Instrument, order: Order, status: Status | None) -> None:
        if status is None:
            # market/IOC/FOK that did not complete, or a quote-sized market order that is done
            done = (order.qty is None and order.executed_qty > 0) or (
                order.qty is not None and order.remaining <= 0
            )
            status = Status.FILLED if done else Status.EXPIRED
        order.status = status
        self.settlement.release(order, inst)
