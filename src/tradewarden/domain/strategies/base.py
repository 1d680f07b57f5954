"""The strategy core's vocabulary: what a strategy sees, what it asks for, and how an engine must drive it.

One core serves paper, live and backtests. A strategy is five pure functions over immutable values:

    decide(settings, state, market) -> Decision(state, actions)
    on_fill(settings, state, fill)  -> state
    on_cancel(settings, state, tag) -> state     # an order ended without (further) fills: cancelled,
                                                 # rejected, or the unfilled rest of a market order
    triggers(settings, state)       -> Triggers(low, high, wake_ms)
    close_out(settings, state, fills) -> state   # a close made outside the strategy (the user's
                                                 # close-position): book its fills, end what it covered

plus `parse(values, context) -> settings`, `initial_state(settings) -> state` and
`snapshot(settings, state, price) -> Snapshot`. `STRATEGIES` in `tradewarden.domain.strategies` maps
"dca" and "grid" to an object with all of them (the `Strategy` protocol below).

Engine contract (the reference backtest engine, the numba fast path and the bot runner follow it; the
fast path must reproduce it exactly, so nothing here is left to taste):

1. Path. The market is a sequence of path points (price, ts_ms). A candle contributes four points,
   open, first extreme, second extreme, close: low first when close >= open (O-L-H-C), high first when
   close < open (O-H-L-C). All four carry the candle's open time as ts_ms. Between two points the price
   moves continuously (it passes every price in between); from one candle's close to the next candle's
   open it jumps (a gap touches nothing in between).
2. Point calls. At every path point p the engine computes `t = triggers(settings, state)` and calls
   `decide` with `MarketView(price=p)` when `t.low is not None and p <= t.low`, or
   `t.high is not None and p >= t.high`, or `t.wake_ms is not None and ts_ms >= t.wake_ms`.
   Skipping every other call is safe: a strategy returns no action and the same state at any price
   strictly inside (low, high) before wake_ms.
3. Segment calls. Moving from point a to point b (a > b, falling), the engine looks for
   `t.low` strictly between b and a (b < t.low < a); if there is one, the path touches x = t.low first:
   the engine calls `decide` at price x, applies its actions, recomputes `t`, and looks again strictly
   between b and x. Rising (a < b) the same with `t.high` (a < t.high < b). Then the point call at b.
4. Resting limit orders are the engine's to watch (they are in its order book, not in `triggers`). The
   path fills a resting limit buy when it reaches the order's price or below, a sell at its price or
   above, at the order's own price (`fills.candle_limit_fill`); a gap fills it at the open when the open
   is better. The engine stops at resting order prices inside a segment exactly like at triggers
   (between a and b, in path order), fills them, calls `on_fill`, then `decide` at that price.
5. Actions, in list order: `CancelOrder` removes a resting order (then `on_cancel`), `PlaceOrder`
   market fills at once at the call's price x (`fills.candle_market_fill`: price x, taker fee; with
   bid/ask in the view, buys at the ask and sells at the bid), `PlaceOrder` limit rests, or fills at once
   at x as a taker when it is already marketable at x. `StrategyEvent`s are recorded with the call's
   ts_ms. Every fill is passed to `on_fill` before the next action's fill is computed.
6. Follow-up calls. If any fill happened during a call's actions (or a resting order filled), the engine
   calls `decide` again at the same price and ts_ms, and repeats while fills keep happening, at most
   `MAX_FOLLOW_UPS` times. (A grid places the replacement of a fill; a DCA group enters Recovery Mode
   after the add-on that used up its shallow zone.)
7. Nothing else calls `decide`. Indicator values in `MarketView.indicators` are the caller's: for a
   candle at open time T, the value computed on the candles that closed before T (no look-ahead).

Live and paper runners call `decide` on every market update they receive; the same rules hold with the
update's price as the point, and orders filling when the exchange (or the paper fill model) says so.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Literal, ParamSpec, Protocol, TypeVar

from tradewarden.domain.fills import Fees, MarketRules

OrderSide = Literal["buy", "sell"]
OrderKind = Literal["market", "limit"]
MarketType = Literal["spot", "futures"]
P = ParamSpec("P")
R = TypeVar("R")
EventKind = Literal[
    "group_opened",
    "group_closed",
    "addon",
    "take_profit",
    "trailing_armed",
    "stop_loss",
    "recovery_entered",
    "recovery_left",
    "refused",
    "grid_placed",
    "grid_trailed",
]

MAX_FOLLOW_UPS = 8
# Every strategy call computes in this context, whatever the process's current one: libraries that
# share the process (ccxt sets ROUND_HALF_UP globally when it formats numbers) must not change how a
# bot rounds, or paper, live and backtest would disagree in the last digit.
MONEY_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


def in_money_context(method: Callable[P, R]) -> Callable[P, R]:
    """Run `method` in MONEY_CONTEXT (the strategy objects' public methods use this)."""

    @functools.wraps(method)
    def pinned(*args: P.args, **kwargs: P.kwargs) -> R:
        with decimal.localcontext(MONEY_CONTEXT):
            return method(*args, **kwargs)

    return pinned


ZERO = Decimal(0)
ONE = Decimal(1)
# The smallest amount the store keeps (18 decimals): a remainder below it is the rounding of an amount
# split in parts, not a position anyone holds or could order.
DUST = Decimal("1e-18")
HUNDRED = Decimal(100)


class SettingsError(ValueError):
    """A strategy setting is missing, unknown or out of range; the message names key, value and range."""

    def __init__(self, key: str, value: object, problem: str) -> None:
        self.key = key
        self.value = value
        self.problem = problem
        shown = "(missing)" if value is None else repr(str(value))
        super().__init__(f"{key}={shown}: {problem}")


@dataclass(frozen=True, slots=True)
class MarketView:
    """What `decide` sees at one path point: the price there and what the caller computed around it."""

    ts_ms: int
    price: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    # Indicator values keyed like the entry setting, e.g. "rsi:1h:14" (see `indicator_key`).
    indicators: Mapping[str, Decimal] = field(default_factory=dict)


def indicator_key(name: str, timeframe: str, period: int) -> str:
    """The `MarketView.indicators` key for one indicator series, e.g. ("rsi", "1h", 14) -> "rsi:1h:14"."""
    return f"{name}:{timeframe}:{period}"


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Place an order; `amount` in base units, `price` only for limit orders; `tag` unique per order."""

    tag: str
    side: OrderSide
    kind: OrderKind
    amount: Decimal
    price: Decimal | None = None
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel the resting order with this tag."""

    tag: str


@dataclass(frozen=True, slots=True)
class StrategyEvent:
    """Something the user should see in the bot's history (a group opened, Recovery Mode entered, ...)."""

    kind: EventKind
    reason: str


Action = PlaceOrder | CancelOrder | StrategyEvent


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order placed by the strategy; `fee` in quote currency."""

    tag: str
    side: OrderSide
    price: Decimal
    amount: Decimal
    fee: Decimal
    ts_ms: int


StateT = TypeVar("StateT")
SettingsT = TypeVar("SettingsT")


@dataclass(frozen=True, slots=True)
class Decision(Generic[StateT]):
    """What one `decide` call returns: the next state and the actions to carry out, in order."""

    state: StateT
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class Triggers:
    """Where `decide` would next act: at or below `low`, at or above `high`, or from `wake_ms` on."""

    low: Decimal | None = None
    high: Decimal | None = None
    wake_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A bot's figures at one price (the `bots show` and backtest result fields come from here)."""

    margin_used: Decimal
    addons_used: int
    recovery: bool
    position: Decimal  # base units; negative for a short
    realized_pnl: Decimal  # after fees
    unrealized_pnl: Decimal  # before exit fees
    fees: Decimal
    trades: int  # closed round trips (DCA: groups closed; grid: sells matched to buys)
    wins: int
    losses: int
    addons_max: int  # most add-ons any one group took (0 for grid)


@dataclass(frozen=True, slots=True)
class Context:
    """What a strategy's settings depend on besides the `--set` keys: market, risk, limits, costs."""

    market: MarketType = "spot"
    risk: str | None = None  # conservative | balanced | aggressive; None: no preset
    margin_limit: Decimal | None = None  # quote currency; None: no limit
    recovery: bool | None = None  # None: on when any recovery/deep-zone key is given
    fees: Fees = field(default_factory=Fees)
    rules: MarketRules = field(default_factory=MarketRules)
    maintenance_margin_rate: Decimal = Decimal("0.005")


SettingsValues = Mapping[str, object]


class Strategy(Protocol[SettingsT, StateT]):
    """The functions an engine or runner needs from one strategy (all pure)."""

    @property
    def name(self) -> str:
        """The strategy's name ("dca", "grid")."""
        ...

    @property
    def keys(self) -> tuple[str, ...]:
        """Its `--set` keys, as DESIGN.md lists them."""
        ...

    def parse(self, values: SettingsValues, context: Context) -> SettingsT:
        """Validate `--set` values (strings or numbers) against the context; raise SettingsError."""
        ...

    def initial_state(self, settings: SettingsT) -> StateT:
        """The state of a bot that has done nothing yet."""
        ...

    def decide(self, settings: SettingsT, state: StateT, market: MarketView) -> Decision[StateT]:
        """Look at one path point and say what to do."""
        ...

    def on_fill(self, settings: SettingsT, state: StateT, fill: Fill) -> StateT:
        """Account one fill of one of the strategy's orders."""
        ...

    def on_cancel(self, settings: SettingsT, state: StateT, tag: str) -> StateT:
        """Forget an order that ended without further fills."""
        ...

    def triggers(self, settings: SettingsT, state: StateT) -> Triggers:
        """The nearest prices (and time) at which `decide` would act."""
        ...

    def close_out(self, settings: SettingsT, state: StateT, fills: Sequence[Fill]) -> StateT:
        """Book the fills of a close made outside the strategy; a full close leaves nothing in progress."""
        ...

    def snapshot(self, settings: SettingsT, state: StateT, price: Decimal | None) -> Snapshot:
        """The bot's figures valued at `price` (None: unrealized P&L is zero)."""
        ...


def parse_set_args(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn `--set KEY=VALUE` strings into a dict; a malformed or repeated key is a SettingsError."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SettingsError(pair, None, "expected KEY=VALUE, e.g. take_profit_pct=1")
        if key in out:
            raise SettingsError(key, value, "given twice; give each key once")
        out[key] = value.strip()
    return out
