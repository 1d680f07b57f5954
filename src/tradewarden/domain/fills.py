"""The fill model shared by paper trading and backtests (pure, Decimal).

On an order book (paper trading on live books):
- a market order walks the opposite side level by level, taking what each level shows, and stops where
  the book runs out or where the next level would be more than `max_slippage_pct` away from the best
  price; the average price is the VWAP of what it took; the taker fee is charged on the notional;
- a limit order takes, on arrival, what the opposite side offers at its price or better (taker), and the
  rest rests; a resting order fills as maker, at its own price, when the book or a public trade crosses
  it, never for more than the size the book or trade showed (partial fills);
- amounts are checked against the lot size and minimum amount, limit prices against the tick size, and
  the notional against the minimum notional, before anything fills: a breach is `OrderRejected` with a
  reason code and a message naming the figure and the rule.

On candles (backtests; the engine contract is in `strategies/base.py`):
- `candle_market_fill`: a market order fills in full at the path point's price (buys at the ask and
  sells at the bid when the caller knows them), taker fee;
- `candle_limit_fill`: a resting limit buy fills in full at its own price when the path reaches that
  price or below (a sell: or above), maker fee; reached by a gap at the open, it fills at the open when
  the open is better.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Literal

Side = Literal["buy", "sell"]
Liquidity = Literal["maker", "taker"]
RejectReason = Literal[
    "amount_not_positive",
    "price_not_positive",
    "lot_size",
    "min_amount",
    "tick_size",
    "min_notional",
    "no_liquidity",
]
StopReason = Literal["filled", "book_exhausted", "max_slippage", "limit_price", "visible_size"]

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Fees:
    """Fee rates as fractions (0.001 = 0.1 %); the default is a common spot base tier."""

    maker: Decimal = Decimal("0.001")
    taker: Decimal = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class MarketRules:
    """A market's precision and minimums as the exchange enforces them (None: no rule)."""

    tick_size: Decimal | None = None
    lot_size: Decimal | None = None
    min_amount: Decimal | None = None
    min_notional: Decimal | None = None

    def in_base(self, contract_size: Decimal) -> MarketRules:
        """These rules in base units (contract markets state lots and minimum amounts in contracts)."""
        if contract_size == 1:
            return self
        return MarketRules(
            tick_size=self.tick_size,
            lot_size=self.lot_size * contract_size if self.lot_size is not None else None,
            min_amount=self.min_amount * contract_size if self.min_amount is not None else None,
            min_notional=self.min_notional,
        )


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of a book: price and visible base amount."""

    price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Bids best (highest) first, asks best (lowest) first."""

    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]


@dataclass(frozen=True, slots=True)
class Execution:
    """One piece of a fill: at one price, one liquidity role."""

    price: Decimal
    amount: Decimal
    fee: Decimal
    liquidity: Liquidity


@dataclass(frozen=True, slots=True)
class FillResult:
    """What an order got: the executions, their totals, what is left, and why it stopped."""

    side: Side
    requested: Decimal
    executions: tuple[Execution, ...]
    stopped: StopReason

    @property
    def filled(self) -> Decimal:
        """Base amount filled."""
        return sum((e.amount for e in self.executions), ZERO)

    @property
    def notional(self) -> Decimal:
        """Quote value of what filled, before fees."""
        return sum((e.price * e.amount for e in self.executions), ZERO)

    @property
    def fee(self) -> Decimal:
        """Total fee in quote currency."""
        return sum((e.fee for e in self.executions), ZERO)

    @property
    def remaining(self) -> Decimal:
        """Base amount not filled."""
        return self.requested - self.filled

    @property
    def avg_price(self) -> Decimal | None:
        """Volume-weighted average price, None when nothing filled."""
        filled = self.filled
        return self.notional / filled if filled else None


class OrderRejected(ValueError):
    """The order breaks a market rule; `reason` is a stable code, the message gives the figures."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        self.reason: RejectReason = reason
        super().__init__(f"{reason}: {message}")


def floor_to_step(value: Decimal, step: Decimal | None) -> Decimal:
    """Round down to a multiple of `step` (None or 0: unchanged)."""
    if not step:
        return value
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to_step(value: Decimal, step: Decimal | None) -> Decimal:
    """Round up to a multiple of `step` (None or 0: unchanged)."""
    if not step:
        return value
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


SHOWN_DIGITS = 10


def shown(value: Decimal | None) -> str:
    """A figure for a message: at most 10 significant digits, plain notation, no trailing zeros (an
    amount converted from quote carries 18 decimals of noise a person cannot read)."""
    if value is None:
        return "none"
    if not value.is_finite() or value == 0:
        return str(value.normalize()) if value.is_finite() else str(value)
    with localcontext() as ctx:
        ctx.prec = SHOWN_DIGITS
        text = format(+value, "f")  # unary plus rounds to the context's precision
    return text.rstrip("0").rstrip(".") if "." in text else text


def _on_step(value: Decimal, step: Decimal | None) -> bool:
    return not step or value % step == 0


def check_order(
    side: Side, amount: Decimal, price: Decimal | None, rules: MarketRules, reference_price: Decimal
) -> None:
    """Raise OrderRejected when the order breaks a rule; `reference_price` values a market order."""
    if amount <= 0:
        raise OrderRejected("amount_not_positive", f"{side} amount {shown(amount)} must be above 0")
    if price is not None and price <= 0:
        raise OrderRejected("price_not_positive", f"{side} price {shown(price)} must be above 0")
    if not _on_step(amount, rules.lot_size):
        raise OrderRejected(
            "lot_size",
            f"amount {shown(amount)} is not a multiple of the lot size {shown(rules.lot_size)} "
            f"(round to {shown(floor_to_step(amount, rules.lot_size))})",
        )
    if rules.min_amount is not None and amount < rules.min_amount:
        raise OrderRejected(
            "min_amount", f"amount {shown(amount)} is below the minimum {shown(rules.min_amount)}"
        )
    if price is not None and not _on_step(price, rules.tick_size):
        raise OrderRejected(
            "tick_size", f"price {shown(price)} is not a multiple of the tick size {shown(rules.tick_size)}"
        )
    value_price = price if price is not None else reference_price
    notional = amount * value_price
    if rules.min_notional is not None and notional < rules.min_notional:
        raise OrderRejected(
            "min_notional",
            f"notional {shown(notional)} ({shown(amount)} x {shown(value_price)}) is below "
            f"{shown(rules.min_notional)}",
        )


def _fee(price: Decimal, amount: Decimal, rate: Decimal) -> Decimal:
    return price * amount * rate


def _crosses(side: Side, level_price: Decimal, limit: Decimal | None) -> bool:
    """Whether a level of the opposite side is at the limit price or better for this side."""
    if limit is None:
        return True
    return level_price <= limit if side == "buy" else level_price >= limit


def _take(
    side: Side,
    amount: Decimal,
    levels: Sequence[BookLevel],
    rate: Decimal,
    liquidity: Liquidity,
    limit: Decimal | None,
    max_slippage_pct: Decimal | None,
    fill_at: Decimal | None = None,
) -> tuple[tuple[Execution, ...], StopReason]:
    """Walk `levels` (best first) taking up to `amount`; `fill_at` prices every piece (resting orders)."""
    if not levels:
        return (), "book_exhausted"
    best = levels[0].price
    bound: Decimal | None = None
    if max_slippage_pct is not None:
        factor = max_slippage_pct / HUNDRED
        bound = best * (1 + factor) if side == "buy" else best * (1 - factor)
    remaining = amount
    out: list[Execution] = []
    for level in levels:
        if remaining <= 0:
            break
        if not _crosses(side, level.price, limit):
            return tuple(out), "limit_price"
        if bound is not None and (level.price > bound if side == "buy" else level.price < bound):
            return tuple(out), "max_slippage"
        if level.amount <= 0:
            continue
        take = min(remaining, level.amount)
        price = fill_at if fill_at is not None else level.price
        out.append(Execution(price, take, _fee(price, take, rate), liquidity))
        remaining -= take
    return tuple(out), ("filled" if remaining <= 0 else "book_exhausted")


def market_fill(
    side: Side,
    amount: Decimal,
    book: OrderBook,
    fees: Fees,
    rules: MarketRules | None = None,
    max_slippage_pct: Decimal | None = None,
) -> FillResult:
    """Fill a market order by walking the book; rejects by the market's rules first."""
    levels = book.asks if side == "buy" else book.bids
    if not levels:
        raise OrderRejected("no_liquidity", f"the book has no {'asks' if side == 'buy' else 'bids'}")
    check_order(side, amount, None, rules or MarketRules(), levels[0].price)
    executions, stopped = _take(side, amount, levels, fees.taker, "taker", None, max_slippage_pct)
    return FillResult(side, amount, executions, stopped)


def limit_fill_on_arrival(
    side: Side,
    amount: Decimal,
    price: Decimal,
    book: OrderBook,
    fees: Fees,
    rules: MarketRules | None = None,
) -> FillResult:
    """Place a limit order: it takes what the book offers at its price or better (taker); the rest rests."""
    levels = book.asks if side == "buy" else book.bids
    check_order(side, amount, price, rules or MarketRules(), price)
    executions, stopped = _take(side, amount, levels, fees.taker, "taker", price, None)
    return FillResult(side, amount, executions, stopped)


def resting_fill_on_book(
    side: Side, remaining: Decimal, price: Decimal, book: OrderBook, fees: Fees
) -> FillResult:
    """A resting limit order meets a book that moved through it: maker fill at its own price, up to the
    size the book shows at its price or better."""
    levels = book.asks if side == "buy" else book.bids
    executions, stopped = _take(side, remaining, levels, fees.maker, "maker", price, None, fill_at=price)
    return FillResult(side, remaining, executions, stopped)


def resting_fill_on_trade(
    side: Side,
    remaining: Decimal,
    price: Decimal,
    trade_price: Decimal,
    trade_amount: Decimal,
    fees: Fees,
) -> FillResult:
    """A public trade at or through a resting limit order fills it as maker, at most the trade's size."""
    if not _crosses(side, trade_price, price) or trade_amount <= 0:
        return FillResult(side, remaining, (), "limit_price")
    take = min(remaining, trade_amount)
    stopped: StopReason = "filled" if take >= remaining else "visible_size"
    return FillResult(
        side, remaining, (Execution(price, take, _fee(price, take, fees.maker), "maker"),), stopped
    )


def candle_market_fill(
    side: Side,
    amount: Decimal,
    price: Decimal,
    fees: Fees,
    bid: Decimal | None = None,
    ask: Decimal | None = None,
) -> FillResult:
    """A market order at a path point: all of it at the point's price (ask for buys, bid for sells)."""
    at = (ask if side == "buy" else bid) or price
    return FillResult(side, amount, (Execution(at, amount, _fee(at, amount, fees.taker), "taker"),), "filled")


def candle_limit_fill(
    side: Side,
    amount: Decimal,
    limit_price: Decimal,
    reached: Decimal,
    fees: Fees,
    at_open: bool = False,
) -> FillResult | None:
    """A resting limit order and the path point `reached`: None when not reached; else a full maker fill
    at the limit price, or at the open when a gap opened through it at a better price."""
    if not _crosses(side, reached, limit_price):
        return None
    at = limit_price
    if at_open:
        at = min(limit_price, reached) if side == "buy" else max(limit_price, reached)
    return FillResult(side, amount, (Execution(at, amount, _fee(at, amount, fees.maker), "maker"),), "filled")


@dataclass(frozen=True, slots=True)
class Balances:
    """Base and quote holdings of one pair's account (paper trading's ledger)."""

    base: Decimal
    quote: Decimal

    def apply(self, result: FillResult) -> Balances:
        """The balances after a fill: the base moves one way, notional plus fee the other."""
        if result.side == "buy":
            return Balances(self.base + result.filled, self.quote - result.notional - result.fee)
        return Balances(self.base - result.filled, self.quote + result.notional - result.fee)

    def value(self, price: Decimal) -> Decimal:
        """Quote value of the holdings at `price`."""
        return self.quote + self.base * price
