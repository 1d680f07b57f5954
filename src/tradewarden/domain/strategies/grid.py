"""Grid: limit buys below the price and sells above it, each fill replaced by its opposite one level away.

Rules:
- Levels. `levels` prices from `lower` to `upper` inclusive: arithmetic (equal differences) or geometric
  (equal ratios), rounded to the tick size.
- Start. At the first `decide` the level nearest the price is left empty; every level below it gets a
  limit buy, every level above it a limit sell. The amount at level i is `order_amount / price[i]`
  (floored to the lot size, or to 1e-12) for a buy, and a sell at level i sells what a buy at level
  i - 1 bought (`order_amount / price[i - 1]`). The base the initial sells need is bought first with
  one market order (spot: the base must be held before it is offered); the limit orders follow once it
  has filled.
- Replacement. A buy filled at level i leaves level i empty and places a sell at level i + 1; a sell
  filled at level i places a buy at level i - 1. In general: after any fill, the filled level becomes the
  empty one, levels below it hold buys and levels above it hold sells; missing orders are placed and an
  order on the wrong side is cancelled and replaced.
- Trailing (`trailing=on`): when the price reaches one level above the top (every sell has filled),
  the range moves up one level: the lowest buy is cancelled and a buy is placed at the old top. The
  grid trails up only: below the range it waits, holding its base, rather than selling it at a loss.
- Accounting: average cost (buy fees included); a sell's P&L is its proceeds after its fee minus the
  average cost of the base it sold; each sell fill is one trade.
- Committed capital: open buys' notional plus the cost of the base held. Worst case (every slot bought,
  each at up to its sell level's price): (levels - 1) * order_amount * the largest ratio between two
  neighbouring levels; refused before start when above the margin limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise
from typing import Literal

from tradewarden.domain.fills import Fees, MarketRules, floor_to_step
from tradewarden.domain.strategies import risk
from tradewarden.domain.strategies.base import (
    DUST,
    ONE,
    ZERO,
    Action,
    CancelOrder,
    Context,
    Decision,
    Fill,
    MarketType,
    MarketView,
    OrderSide,
    PlaceOrder,
    SettingsError,
    SettingsValues,
    Snapshot,
    StrategyEvent,
    Triggers,
    in_money_context,
)
from tradewarden.domain.strategies.values import check_keys, choice, int_in, required_decimal

KEYS: tuple[str, ...] = ("lower", "upper", "levels", "spacing", "order_amount", "trailing")
MAX_LEVELS = 500
# Without a lot size, amounts are floored to this step so that sums of them stay exact in Decimal
# (the initial buy must equal the sells it pays for, digit for digit).
AMOUNT_STEP = Decimal("1e-12")


@dataclass(frozen=True, slots=True)
class GridSettings:
    """Validated grid settings (the DESIGN.md keys) plus what they depend on."""

    lower: Decimal
    upper: Decimal
    levels: int
    spacing: Literal["arithmetic", "geometric"]
    order_amount: Decimal
    trailing: bool
    market: MarketType
    margin_limit: Decimal | None
    fees: Fees
    rules: MarketRules
    prices: tuple[Decimal, ...]
    worst_case_margin: Decimal

    def values(self) -> dict[str, str]:
        """The settings as `--set` strings under the DESIGN.md keys."""
        return {
            "lower": str(self.lower),
            "upper": str(self.upper),
            "levels": str(self.levels),
            "spacing": self.spacing,
            "order_amount": str(self.order_amount),
            "trailing": "on" if self.trailing else "off",
        }


@dataclass(frozen=True, slots=True)
class GridOrder:
    """One of the grid's orders: a resting limit at a level, or the initial market buy (level -1)."""

    tag: str
    side: OrderSide
    level: int
    price: Decimal
    amount: Decimal
    filled: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class GridState:
    """The grid's current range, its orders, its holdings and its figures."""

    prices: tuple[Decimal, ...] = ()  # empty until started
    empty: int = -1
    orders: tuple[GridOrder, ...] = ()
    seq: int = 0
    inventory: Decimal = ZERO
    inventory_cost: Decimal = ZERO  # quote paid for the base held, buy fees included
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    trades: int = 0
    wins: int = 0
    losses: int = 0
    shifts: int = 0

    @property
    def started(self) -> bool:
        """Whether the grid has been laid out."""
        return bool(self.prices)


def _round_tick(price: Decimal, tick: Decimal | None) -> Decimal:
    if not tick:
        return price
    return (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick


def level_prices(
    lower: Decimal, upper: Decimal, levels: int, spacing: str, tick: Decimal | None
) -> tuple[Decimal, ...]:
    """The grid's level prices from lower to upper inclusive."""
    n = levels - 1
    if spacing == "arithmetic":
        step = (upper - lower) / n
        raw = [lower + step * i for i in range(n)] + [upper]
    else:
        ratio = (upper / lower) ** (ONE / Decimal(n))
        raw = [lower * ratio**i for i in range(n)] + [upper]
    return tuple(_round_tick(p, tick) for p in raw)


def next_above(settings: GridSettings, prices: tuple[Decimal, ...]) -> Decimal:
    """The level one step above the top of `prices` (same spacing)."""
    if settings.spacing == "arithmetic":
        return _round_tick(prices[-1] + (prices[-1] - prices[-2]), settings.rules.tick_size)
    return _round_tick(prices[-1] * prices[-1] / prices[-2], settings.rules.tick_size)


def parse(values: SettingsValues, context: Context) -> GridSettings:
    """Validate grid `--set` values; refuse ranges, spacing and amounts that cannot work."""
    check_keys(values, KEYS, "grid")
    lower = required_decimal(values, "lower", None, ZERO, None)
    upper = required_decimal(values, "upper", None, ZERO, None)
    if upper <= lower:
        raise SettingsError("upper", values.get("upper"), f"must be above lower ({lower})")
    levels = int_in(values, "levels", 10, 2, MAX_LEVELS)
    spacing = choice(values, "spacing", "arithmetic", ("arithmetic", "geometric"))
    amount = required_decimal(values, "order_amount", None, ZERO, None)
    trailing = choice(values, "trailing", "off", ("on", "off")) == "on"
    prices = level_prices(lower, upper, levels, spacing, context.rules.tick_size)
    if any(b <= a for a, b in pairwise(prices)):
        raise SettingsError(
            "levels", levels, f"levels closer than the tick size {context.rules.tick_size}; use fewer levels"
        )
    minimum = context.rules.min_notional
    if minimum is not None and amount < minimum:
        raise SettingsError("order_amount", amount, f"below the market's minimum notional {minimum}")
    ratio = max(b / a for a, b in pairwise(prices))
    worst = max(amount * (levels - 1) * b / a for a, b in pairwise(prices))
    risk.check_margin_limit(
        worst, context.margin_limit, f"{levels - 1} slots x {amount} x neighbour ratio {ratio:.6f}"
    )
    return GridSettings(
        lower=lower,
        upper=upper,
        levels=levels,
        spacing="arithmetic" if spacing == "arithmetic" else "geometric",
        order_amount=amount,
        trailing=trailing,
        market=context.market,
        margin_limit=context.margin_limit,
        fees=context.fees,
        rules=context.rules,
        prices=prices,
        worst_case_margin=worst,
    )


def initial_state(settings: GridSettings) -> GridState:
    """A grid not yet laid out."""
    return GridState()


def _amount(s: GridSettings, prices: tuple[Decimal, ...], level: int, side: OrderSide) -> Decimal:
    """Base amount of the order at `level`: a sell sells what the buy one level below bought."""
    at = prices[level] if side == "buy" else prices[level - 1]
    return floor_to_step(s.order_amount / at, s.rules.lot_size or AMOUNT_STEP)


def order_amount(s: GridSettings, prices: tuple[Decimal, ...], level: int, side: OrderSide) -> Decimal:
    """Base amount of the grid's order at `level` (what `decide` places there)."""
    return _amount(s, prices, level, side)


def _nearest(prices: tuple[Decimal, ...], price: Decimal) -> int:
    return min(range(len(prices)), key=lambda i: (abs(prices[i] - price), i))


def _tag(state: GridState, side: OrderSide, level: int) -> tuple[GridState, str]:
    seq = state.seq + 1
    name = "init" if level < 0 else f"{side[0]}{level}"
    return replace(state, seq=seq), f"grid-{name}-{seq}"


def decide(settings: GridSettings, state: GridState, market: MarketView) -> Decision[GridState]:
    """Lay the grid out, trail it up, and keep one order on every level but the empty one."""
    s, p = settings, market.price
    if any(o.level < 0 for o in state.orders):
        return Decision(state)  # the initial market buy is in flight
    actions: list[Action] = []
    if not state.started:
        prices = s.prices
        empty = _nearest(prices, p)
        state = replace(state, prices=prices, empty=empty)
        actions.append(
            StrategyEvent(
                "grid_placed",
                f"{s.levels} {s.spacing} levels from {prices[0]} to {prices[-1]}; "
                f"empty level {prices[empty]} nearest the price {p}",
            )
        )
        need = sum((_amount(s, prices, i, "sell") for i in range(empty + 1, len(prices))), ZERO)
        if need > 0:
            state, tag = _tag(state, "buy", -1)
            state = replace(state, orders=(GridOrder(tag, "buy", -1, p, need),))
            actions.append(PlaceOrder(tag, "buy", "market", need))
            return Decision(state, tuple(actions))
    elif s.trailing and state.empty == len(state.prices) - 1 and p >= next_above(s, state.prices):
        state, shift_actions = _trail_up(s, state)
        actions += shift_actions
    state, placed = _reconcile(s, state)
    return Decision(state, (*actions, *placed))


def _trail_up(s: GridSettings, state: GridState) -> tuple[GridState, list[Action]]:
    """Move the range up one level: drop the bottom level (cancel its buy), add one above the top."""
    prices = (*state.prices[1:], next_above(s, state.prices))
    actions: list[Action] = []
    kept: list[GridOrder] = []
    for o in state.orders:
        if o.level == 0:
            actions.append(CancelOrder(o.tag))
        else:
            kept.append(replace(o, level=o.level - 1))
    state = replace(state, prices=prices, orders=tuple(kept), empty=len(prices) - 1, shifts=state.shifts + 1)
    actions.append(StrategyEvent("grid_trailed", f"range moved up to {prices[0]}..{prices[-1]}"))
    return state, actions


def _reconcile(s: GridSettings, state: GridState) -> tuple[GridState, list[Action]]:
    """Cancel orders on the wrong side of the empty level and place the missing ones (nearest first)."""
    actions: list[Action] = []
    by_level: dict[int, GridOrder] = {o.level: o for o in state.orders}
    kept = list(state.orders)
    wanted: list[tuple[int, OrderSide]] = []
    for i in range(len(state.prices)):
        if i == state.empty:
            continue
        side: OrderSide = "buy" if i < state.empty else "sell"
        order = by_level.get(i)
        if order is not None and order.side == side:
            continue
        if order is not None:
            actions.append(CancelOrder(order.tag))
            kept.remove(order)
        wanted.append((i, side))
    wanted.sort(key=lambda w: abs(w[0] - state.empty))
    for level, side in wanted:
        amount = _amount(s, state.prices, level, side)
        if amount <= 0 or (side == "sell" and amount > state.inventory - _offered(kept)):
            continue  # nothing to sell yet (spot holds no base for it); the next fill may bring it
        state, tag = _tag(state, side, level)
        order = GridOrder(tag, side, level, state.prices[level], amount)
        kept.append(order)
        actions.append(PlaceOrder(tag, side, "limit", amount, order.price))
    return replace(state, orders=tuple(kept)), actions


def _offered(orders: list[GridOrder]) -> Decimal:
    """Base already committed to open sells."""
    return sum((o.amount - o.filled for o in orders if o.side == "sell"), ZERO)


def on_fill(settings: GridSettings, state: GridState, fill: Fill) -> GridState:
    """Account a fill; a limit order's fill moves the empty level to it."""
    order = next((o for o in state.orders if o.tag == fill.tag), None)
    if order is None or fill.amount <= 0:
        return state
    filled = order.filled + fill.amount
    done = filled >= order.amount
    orders = tuple(
        (replace(o, filled=filled) if o.tag == fill.tag else o)
        for o in state.orders
        if o.tag != fill.tag or not done
    )
    state = replace(state, orders=orders, fees=state.fees + fill.fee)
    if fill.side == "buy":
        state = replace(
            state,
            inventory=state.inventory + fill.amount,
            inventory_cost=state.inventory_cost + fill.price * fill.amount + fill.fee,
        )
    else:
        sold = min(fill.amount, state.inventory)
        avg = state.inventory_cost / state.inventory if state.inventory else ZERO
        pnl = fill.price * fill.amount - fill.fee - avg * sold
        state = replace(
            state,
            inventory=state.inventory - sold,
            inventory_cost=state.inventory_cost - avg * sold,
            realized_pnl=state.realized_pnl + pnl,
            trades=state.trades + 1,
            wins=state.wins + (pnl > 0),
            losses=state.losses + (pnl <= 0),
        )
    if done and order.level >= 0:
        state = replace(state, empty=order.level)
    return state


def on_cancel(settings: GridSettings, state: GridState, tag: str) -> GridState:
    """Forget an order that ended without (further) fills; a level left without an order is refilled."""
    return replace(state, orders=tuple(o for o in state.orders if o.tag != tag))


def close_out(settings: GridSettings, state: GridState, fills: Sequence[Fill]) -> GridState:
    """Account a close made outside the strategy (the user's close-position) from its sell fills.

    P&L = the proceeds after the close fees minus the average cost (buy fees included) of the base
    sold. A close that sold all the inventory takes the grid down: no range, no orders, so the next
    `decide` lays out a fresh grid at the price of the day. A partial close keeps the rest held.
    The tag counter is kept: tags stay unique per bot in the store.
    """
    sells = [f for f in fills if f.side == "sell" and f.amount > 0]
    if not sells or state.inventory <= 0:
        return state
    amount = sum((f.amount for f in sells), ZERO)
    proceeds = sum((f.price * f.amount for f in sells), ZERO)
    fee = sum((f.fee for f in sells), ZERO)
    state = replace(state, fees=state.fees + fee)
    if state.inventory - amount > DUST:  # what is left is still held (a remainder below DUST is rounding)
        sold_cost = state.inventory_cost / state.inventory * amount
        pnl = proceeds - fee - sold_cost
        return replace(
            state,
            inventory=state.inventory - amount,
            inventory_cost=state.inventory_cost - sold_cost,
            realized_pnl=state.realized_pnl + pnl,
            trades=state.trades + 1,
            wins=state.wins + (pnl > 0),
            losses=state.losses + (pnl <= 0),
        )
    pnl = proceeds - fee - state.inventory_cost  # all of it: no average, no rounding
    return replace(
        state,
        prices=(),
        empty=-1,
        orders=(),
        inventory=ZERO,
        inventory_cost=ZERO,
        realized_pnl=state.realized_pnl + pnl,
        trades=state.trades + 1,
        wins=state.wins + (pnl > 0),
        losses=state.losses + (pnl <= 0),
    )


def _missing(state: GridState) -> bool:
    levels = {o.level for o in state.orders}
    return any(i not in levels for i in range(len(state.prices)) if i != state.empty)


def triggers(settings: GridSettings, state: GridState) -> Triggers:
    """Wake at once to lay out or refill the grid; above the top when trailing; else only fills matter."""
    if not state.started or any(o.level < 0 for o in state.orders):
        return Triggers(wake_ms=0)
    if _missing(state) and _placeable(settings, state):
        return Triggers(wake_ms=0)
    if settings.trailing and state.empty == len(state.prices) - 1:
        return Triggers(high=next_above(settings, state.prices))
    return Triggers()


def _placeable(s: GridSettings, state: GridState) -> bool:
    """Whether `decide` could place a missing order now (a sell needs unoffered base)."""
    levels = {o.level: o for o in state.orders}
    free = state.inventory - _offered(list(state.orders))
    for i in range(len(state.prices)):
        if i == state.empty or i in levels:
            continue
        side: OrderSide = "buy" if i < state.empty else "sell"
        amount = _amount(s, state.prices, i, side)
        if amount > 0 and (side == "buy" or amount <= free):
            return True
    return False


def margin_used(state: GridState) -> Decimal:
    """Committed capital: open buys' notional plus the cost of the base held."""
    buys = sum(
        ((o.amount - o.filled) * o.price for o in state.orders if o.side == "buy" and o.level >= 0), ZERO
    )
    return buys + state.inventory_cost


def snapshot(settings: GridSettings, state: GridState, price: Decimal | None) -> Snapshot:
    """The grid's figures at `price`."""
    unreal = ZERO if price is None else price * state.inventory - state.inventory_cost
    return Snapshot(
        margin_used=margin_used(state),
        addons_used=0,
        recovery=False,
        position=state.inventory,
        realized_pnl=state.realized_pnl,
        unrealized_pnl=unreal,
        fees=state.fees,
        trades=state.trades,
        wins=state.wins,
        losses=state.losses,
        addons_max=0,
    )


@dataclass(frozen=True, slots=True)
class GridStrategy:
    """The grid strategy as one object (the `Strategy` protocol of base.py)."""

    name: str = "grid"
    keys: tuple[str, ...] = KEYS

    @in_money_context
    def parse(self, values: SettingsValues, context: Context) -> GridSettings:
        """See `parse`."""
        return parse(values, context)

    @in_money_context
    def initial_state(self, settings: GridSettings) -> GridState:
        """See `initial_state`."""
        return initial_state(settings)

    @in_money_context
    def decide(self, settings: GridSettings, state: GridState, market: MarketView) -> Decision[GridState]:
        """See `decide`."""
        return decide(settings, state, market)

    @in_money_context
    def on_fill(self, settings: GridSettings, state: GridState, fill: Fill) -> GridState:
        """See `on_fill`."""
        return on_fill(settings, state, fill)

    @in_money_context
    def on_cancel(self, settings: GridSettings, state: GridState, tag: str) -> GridState:
        """See `on_cancel`."""
        return on_cancel(settings, state, tag)

    @in_money_context
    def close_out(self, settings: GridSettings, state: GridState, fills: Sequence[Fill]) -> GridState:
        """See `close_out`."""
        return close_out(settings, state, fills)

    @in_money_context
    def triggers(self, settings: GridSettings, state: GridState) -> Triggers:
        """See `triggers`."""
        return triggers(settings, state)

    @in_money_context
    def snapshot(self, settings: GridSettings, state: GridState, price: Decimal | None) -> Snapshot:
        """See `snapshot`."""
        return snapshot(settings, state, price)


GRID = GridStrategy()
