"""DCA: one group per pair, a base order, add-ons in zones, take profit with fees, Recovery Mode.

Rules (percentages are plain numbers, 2 means 2 %; "down" means against the position: lower for a
long, higher for a short; a short mirrors every price rule):

- Entry. With no group, no order in flight and the cooldown over, a group opens with a market base
  order of `base_order` quote: at once (`entry=now`), when the price is at or below PRICE
  (`entry=below:PRICE`), or when the caller's RSI(PERIOD) on TF is below LEVEL (`entry=rsi:TF:PERIOD:LEVEL`,
  read from `MarketView.indicators["rsi:TF:PERIOD"]`). `cooldown_s` counts from the last group's exit.
- Add-on levels. Level k (1..addon_count) lies at a cumulative deviation from the FIRST entry price
  d_k = addon_deviation_pct * (1 + s + ... + s^(k-1)), s = addon_step_scale, and buys
  addon_order * addon_volume_scale^(k-1) quote. Levels with d_k >= deep_zone_from_pct are the deep
  zone, held back for Recovery Mode; the others are the shallow zone.
- An add-on fires for the next unused level of the zone in use (shallow normally, deep in Recovery
  Mode) when the price is at or below its level price AND at or below the price at which it improves
  the group's average by addon_min_improvement_pct: with quote q, average A, position Q and
  m = addon_min_improvement_pct / 100, that price is q A (1 - m) / (q + Q A m) (it is A when m = 0:
  an add-on never worsens the average). One add-on per `decide` call. An add-on that would take the
  committed margin past the margin limit is refused (event) and that level is skipped for the group.
  A deep level reached outside Recovery Mode is reported once as refused and stays available.
- Take profit when the price reaches P_tp = (C + F) (1 + tp) / (Q (1 - f)) for a long (C the entry
  notional, F the entry fees paid, f the taker fee rate, tp = take_profit_pct / 100): the exit's
  proceeds after its fee are then tp above everything paid. A short: P_tp = (C - F) (1 - tp) / (Q (1 + f)).
  With trailing_pct the group arms at P_tp, follows the best price since, and exits when the price
  comes back trailing_pct from that peak.
- Stop loss at stop_loss_pct below the first entry (stop_loss_from=first) or below the current average
  (stop_loss_from=average); it is checked before the take profit, and applies in Recovery Mode too.
- Recovery Mode (when enabled) starts when the drawdown from the average reaches recovery_drawdown_pct,
  when the shallow add-ons are used up, or when committed margin reaches recovery_margin_pct of the
  margin limit. In it only deep-zone add-ons that improve the average and fit the remaining margin are
  taken, trailing is off, the exit is at break-even plus fees plus recovery_exit_pct (the P_tp formula
  with recovery_exit_pct), and no new group opens while the group lives. Entering and leaving are events.
- Margin committed = entry notional / leverage (fees are counted in `fees`, not margin).
- Exits are market orders for the whole position, reduce-only on futures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from tradewarden.domain.fills import Fees, MarketRules, floor_to_step
from tradewarden.domain.strategies import risk
from tradewarden.domain.strategies.base import (
    DUST,
    HUNDRED,
    ONE,
    ZERO,
    Action,
    Context,
    Decision,
    EventKind,
    Fill,
    MarketType,
    MarketView,
    PlaceOrder,
    SettingsError,
    SettingsValues,
    Snapshot,
    StrategyEvent,
    Triggers,
    in_money_context,
    indicator_key,
)
from tradewarden.domain.strategies.values import (
    check_keys,
    choice,
    decimal_in,
    int_in,
    optional_pct,
    required_decimal,
    to_decimal,
)

# DESIGN.md's DCA example, which every benchmark, the differential tests and the dashboard's form start
# from: add-ons at -2/-4/-6 % of the first entry, each 1.5x the previous; exit at +1 %; stop at -8 %.
DESIGN_EXAMPLE: Mapping[str, str] = {
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "3",
    "addon_deviation_pct": "2",
    "addon_step_scale": "1",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "1",
    "stop_loss_pct": "8",
    "stop_loss_from": "first",
}

KEYS: tuple[str, ...] = (
    "base_order",
    "addon_order",
    "addon_count",
    "addon_deviation_pct",
    "addon_step_scale",
    "addon_volume_scale",
    "addon_min_improvement_pct",
    "take_profit_pct",
    "trailing_pct",
    "stop_loss_pct",
    "stop_loss_from",
    "entry",
    "cooldown_s",
    "side",
    "leverage",
    "recovery_drawdown_pct",
    "recovery_margin_pct",
    "recovery_exit_pct",
    "deep_zone_from_pct",
)
RECOVERY_KEYS = ("recovery_drawdown_pct", "recovery_margin_pct", "recovery_exit_pct", "deep_zone_from_pct")
TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")
MAX_ADDONS = 50
D = Decimal

# Neutral defaults when neither the user nor a preset gives a value.
NEUTRAL: Mapping[str, object] = {
    "addon_count": 0,
    "addon_deviation_pct": D(2),
    "addon_step_scale": D(1),
    "addon_volume_scale": D(1),
    "addon_min_improvement_pct": D(0),
    "take_profit_pct": D(1),
    "cooldown_s": 0,
    "recovery_exit_pct": D(0),
}

Role = Literal["base", "addon", "close"]
ExitWhy = Literal["take_profit", "stop_loss", "recovery_exit", "close"]  # close: the user's close-out


@dataclass(frozen=True, slots=True)
class Entry:
    """How a group opens: now, below a price, or on RSI below a level."""

    kind: Literal["now", "below", "rsi"]
    price: Decimal | None = None
    key: str | None = None  # the MarketView.indicators key for rsi
    level: Decimal | None = None

    def text(self) -> str:
        """The setting's text form."""
        if self.kind == "below":
            return f"below:{self.price}"
        if self.kind == "rsi":
            return f"{self.key}:{self.level}"
        return "now"


@dataclass(frozen=True, slots=True)
class AddonLevel:
    """One add-on level: 1-based index, cumulative deviation from the first entry, quote, zone."""

    index: int
    deviation_pct: Decimal
    quote: Decimal
    deep: bool


@dataclass(frozen=True, slots=True)
class DcaSettings:
    """Validated DCA settings (the DESIGN.md keys) plus what they depend on (`Context`)."""

    base_order: Decimal
    addon_order: Decimal
    addon_count: int
    addon_deviation_pct: Decimal
    addon_step_scale: Decimal
    addon_volume_scale: Decimal
    addon_min_improvement_pct: Decimal
    take_profit_pct: Decimal
    trailing_pct: Decimal | None
    stop_loss_pct: Decimal | None
    stop_loss_from: Literal["first", "average"]
    entry: Entry
    cooldown_s: int
    side: Literal["long", "short"]
    leverage: Decimal
    recovery_drawdown_pct: Decimal | None
    recovery_margin_pct: Decimal | None
    recovery_exit_pct: Decimal
    deep_zone_from_pct: Decimal | None
    recovery: bool
    market: MarketType
    risk: str | None
    margin_limit: Decimal | None
    fees: Fees
    rules: MarketRules
    maintenance_margin_rate: Decimal
    levels: tuple[AddonLevel, ...]
    worst_case_margin: Decimal

    @property
    def long(self) -> bool:
        """True for a long DCA."""
        return self.side == "long"

    def values(self) -> dict[str, str]:
        """The settings as `--set` strings under the DESIGN.md keys (None: key left out)."""
        raw: dict[str, object] = {k: getattr(self, k) for k in KEYS if k != "entry"}
        raw["entry"] = self.entry.text()
        return {k: str(v) for k, v in raw.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Pending:
    """An order placed and not yet finished."""

    tag: str
    role: Role
    level: int  # add-on level; 0 for base and close
    quote: Decimal  # nominal quote of an entry order (margin reservation); 0 for a close
    amount: Decimal  # base amount ordered
    filled: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Group:
    """The open position: first entry, size, entry notional and fees, add-ons, mode."""

    number: int
    first_price: Decimal
    qty: Decimal
    cost: Decimal
    fees: Decimal
    pnl: Decimal
    addons: tuple[int, ...] = ()
    skipped: tuple[int, ...] = ()
    reported: tuple[int, ...] = ()
    recovery: bool = False
    peak: Decimal | None = None

    @property
    def avg(self) -> Decimal:
        """Average entry price (fees not included)."""
        return self.cost / self.qty


@dataclass(frozen=True, slots=True)
class DcaState:
    """Everything the DCA remembers between calls."""

    group: Group | None = None
    pending: tuple[Pending, ...] = ()
    seq: int = 0
    groups_opened: int = 0
    cooldown_until: int | None = None
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    trades: int = 0
    wins: int = 0
    losses: int = 0
    addons_max: int = 0
    last_exit: ExitWhy | None = None


# ---------------------------------------------------------------- settings


def _entry(raw: object) -> Entry:
    text = str(raw).strip().lower() if raw is not None else "now"
    problem = "must be now | below:PRICE | rsi:TF:PERIOD:LEVEL (e.g. rsi:1h:14:30)"
    if text == "now":
        return Entry("now")
    parts = text.split(":")
    if parts[0] == "below" and len(parts) == 2:
        price = to_decimal("entry", parts[1])
        if price <= 0:
            raise SettingsError("entry", raw, "below:PRICE needs a price above 0")
        return Entry("below", price=price)
    if parts[0] == "rsi" and len(parts) == 4:
        tf, period_s, level_s = parts[1], parts[2], parts[3]
        if tf not in TIMEFRAMES:
            raise SettingsError("entry", raw, f"timeframe must be one of {' | '.join(TIMEFRAMES)}")
        if not period_s.isdigit() or not 2 <= int(period_s) <= 500:
            raise SettingsError("entry", raw, "RSI period must be a whole number from 2 to 500")
        level = to_decimal("entry", level_s)
        if not ZERO < level < HUNDRED:
            raise SettingsError("entry", raw, "RSI level must be > 0 and < 100")
        return Entry("rsi", key=indicator_key("rsi", tf, int(period_s)), level=level)
    raise SettingsError("entry", raw, problem)


def _levels(
    count: int, dev: Decimal, step: Decimal, addon: Decimal, vol: Decimal, deep_from: Decimal | None
) -> tuple[AddonLevel, ...]:
    out: list[AddonLevel] = []
    cumulative = ZERO
    for k in range(1, count + 1):
        cumulative += dev * step ** (k - 1)
        deep = deep_from is not None and cumulative >= deep_from
        out.append(AddonLevel(k, cumulative, addon * vol ** (k - 1), deep))
    return tuple(out)


def parse(values: SettingsValues, context: Context) -> DcaSettings:
    """Validate DCA `--set` values with the preset and context; refuse what breaks a limit."""
    check_keys(values, KEYS, "dca")
    preset = risk.preset(context.risk)
    given = {k: v for k, v in values.items() if v is not None}
    merged: dict[str, object] = {**NEUTRAL, **(preset.values() if preset else {}), **given}
    max_lev = preset.max_leverage if preset else risk.DEFAULT_MAX_LEVERAGE

    base_order = required_decimal(merged, "base_order", None, ZERO, None)
    addon_order = required_decimal(merged, "addon_order", base_order, ZERO, None)
    addon_count = int_in(merged, "addon_count", 0, 0, MAX_ADDONS)
    dev = required_decimal(merged, "addon_deviation_pct", None, ZERO, HUNDRED, high_open=True)
    step = required_decimal(merged, "addon_step_scale", None, ZERO, D(10))
    vol = required_decimal(merged, "addon_volume_scale", None, ZERO, D(10))
    min_impr = required_decimal(merged, "addon_min_improvement_pct", None, ZERO, D(50), low_open=False)
    tp = required_decimal(merged, "take_profit_pct", None, ZERO, D(1000))
    trailing = optional_pct(merged, "trailing_pct", None, D(50))
    side = choice(merged, "side", "long", ("long", "short"))
    stop = optional_pct(merged, "stop_loss_pct", None, HUNDRED if side == "long" else D(1000))
    stop_from = choice(merged, "stop_loss_from", "first", ("first", "average"))
    entry = _entry(merged.get("entry"))
    cooldown = int_in(merged, "cooldown_s", 0, 0, 30 * 86400)
    leverage = required_decimal(merged, "leverage", ONE, ONE, max_lev, low_open=False)
    if context.market == "spot" and side == "short":
        raise SettingsError("side", "short", "short needs a futures market; spot DCA is long only")
    if context.market == "spot" and leverage != ONE:
        raise SettingsError("leverage", leverage, "must be 1 on spot; leverage needs a futures market")
    rec_dd = decimal_in(merged, "recovery_drawdown_pct", None, ZERO, HUNDRED, high_open=True)
    rec_margin = decimal_in(merged, "recovery_margin_pct", None, ZERO, HUNDRED)
    rec_exit = required_decimal(
        merged, "recovery_exit_pct", None, ZERO, HUNDRED, low_open=False, high_open=True
    )
    deep_from = decimal_in(merged, "deep_zone_from_pct", None, ZERO, HUNDRED, high_open=True)
    recovery = context.recovery
    if recovery is None:
        recovery = preset is not None or any(k in given for k in RECOVERY_KEYS)
    if not recovery and "deep_zone_from_pct" in given:
        raise SettingsError(
            "deep_zone_from_pct",
            given["deep_zone_from_pct"],
            "deep zones are only used in Recovery Mode; turn Recovery Mode on or leave the key out",
        )
    if not recovery:
        deep_from = None

    levels = _levels(addon_count, dev, step, addon_order, vol, deep_from)
    if side == "long" and levels and levels[-1].deviation_pct >= HUNDRED:
        raise SettingsError(
            "addon_deviation_pct",
            dev,
            f"the deepest add-on would sit {levels[-1].deviation_pct}% below the first entry; "
            "keep it under 100 (fewer add-ons or a smaller step)",
        )
    total = base_order + sum((lv.quote for lv in levels), ZERO)
    worst = total / leverage
    risk.check_margin_limit(
        worst,
        context.margin_limit,
        f"base {base_order} + {addon_count} add-ons = {total} notional at leverage {leverage}",
    )
    if context.rules.min_notional is not None and base_order < context.rules.min_notional:
        raise SettingsError(
            "base_order", base_order, f"below the market's minimum notional {context.rules.min_notional}"
        )
    settings = DcaSettings(
        base_order=base_order,
        addon_order=addon_order,
        addon_count=addon_count,
        addon_deviation_pct=dev,
        addon_step_scale=step,
        addon_volume_scale=vol,
        addon_min_improvement_pct=min_impr,
        take_profit_pct=tp,
        trailing_pct=trailing,
        stop_loss_pct=stop,
        stop_loss_from="first" if stop_from == "first" else "average",
        entry=entry,
        cooldown_s=cooldown,
        side="long" if side == "long" else "short",
        leverage=leverage,
        recovery_drawdown_pct=rec_dd,
        recovery_margin_pct=rec_margin,
        recovery_exit_pct=rec_exit,
        deep_zone_from_pct=deep_from,
        recovery=recovery,
        market=context.market,
        risk=preset.name if preset else None,
        margin_limit=context.margin_limit,
        fees=context.fees,
        rules=context.rules,
        maintenance_margin_rate=context.maintenance_margin_rate,
        levels=levels,
        worst_case_margin=worst,
    )
    if context.market == "futures":
        check_liquidation(settings)
    return settings


def check_liquidation(s: DcaSettings) -> None:
    """Refuse settings whose add-ons or stop lie beyond the liquidation of the position they add to."""
    mmr = s.maintenance_margin_rate
    first = ONE  # prices relative to the first entry: liquidation scales with them
    qty, cost = s.base_order / first, s.base_order
    margin = s.base_order / s.leverage
    for lv in s.levels:
        liq = risk.liquidation_price(s.long, qty, cost / qty, margin, mmr)
        price = level_price(s, first, lv)
        if risk.beyond(s.long, price, liq):
            raise SettingsError(
                "leverage",
                s.leverage,
                f"add-on {lv.index} at {_signed(s, lv.deviation_pct)}% of the first entry lies beyond the "
                f"estimated liquidation at {_signed(s, _pct_from(liq))}% (maintenance margin "
                f"{mmr * HUNDRED}%); lower the leverage or the add-on depth",
            )
        qty += lv.quote / price
        cost += lv.quote
        margin += lv.quote / s.leverage
    if s.stop_loss_pct is not None:
        liq = risk.liquidation_price(s.long, qty, cost / qty, margin, mmr)
        stop_ref = first if s.stop_loss_from == "first" else cost / qty
        stop = _adverse(s, stop_ref, s.stop_loss_pct)
        if risk.beyond(s.long, stop, liq):
            raise SettingsError(
                "stop_loss_pct",
                s.stop_loss_pct,
                f"the stop at {_signed(s, _pct_from(stop))}% of the first entry lies beyond the estimated "
                f"liquidation at {_signed(s, _pct_from(liq))}% with every add-on filled; lower the leverage "
                "or tighten the stop",
            )


def _pct_from(relative_price: Decimal) -> Decimal:
    return abs(relative_price - ONE) * HUNDRED


def _signed(s: DcaSettings, pct: Decimal) -> str:
    q = pct.quantize(D("0.01"))
    return f"-{q}" if s.long else f"+{q}"


# ---------------------------------------------------------------- prices


def _adverse(s: DcaSettings, ref: Decimal, pct: Decimal) -> Decimal:
    """`pct` percent against the position from `ref` (below for a long)."""
    return ref * (ONE - pct / HUNDRED) if s.long else ref * (ONE + pct / HUNDRED)


def level_price(s: DcaSettings, first: Decimal, level: AddonLevel) -> Decimal:
    """Price of add-on level `level` for a group whose first entry was `first`."""
    return _adverse(s, first, level.deviation_pct)


def exit_price(s: DcaSettings, g: Group, pct: Decimal) -> Decimal:
    """Price at which closing the whole group nets `pct` percent over everything paid (fees included)."""
    f = s.fees.taker
    if s.long:
        return (g.cost + g.fees) * (ONE + pct / HUNDRED) / (g.qty * (ONE - f))
    return (g.cost - g.fees) * (ONE - pct / HUNDRED) / (g.qty * (ONE + f))


def stop_price(s: DcaSettings, g: Group) -> Decimal | None:
    """The stop-loss price, from the first entry or the average."""
    if s.stop_loss_pct is None:
        return None
    ref = g.first_price if s.stop_loss_from == "first" else g.avg
    return _adverse(s, ref, s.stop_loss_pct)


def improvement_price(s: DcaSettings, g: Group, quote: Decimal) -> Decimal | None:
    """Worst price at which buying (selling, short) `quote` improves the average by the minimum."""
    m = s.addon_min_improvement_pct / HUNDRED
    a = g.avg
    if m == 0:
        return a  # exactly the average: rounding must not let an add-on worsen it by one digit
    if s.long:
        return min(a, quote * a * (ONE - m) / (quote + g.qty * a * m))
    denominator = quote - g.qty * a * m
    if denominator <= 0:
        return None  # no price improves a short's average that much with this amount
    return max(a, quote * a * (ONE + m) / denominator)


def _at_or_beyond(s: DcaSettings, price: Decimal, limit: Decimal) -> bool:
    return price <= limit if s.long else price >= limit


def _at_or_better(s: DcaSettings, price: Decimal, limit: Decimal) -> bool:
    return price >= limit if s.long else price <= limit


def _worse(s: DcaSettings, a: Decimal, b: Decimal) -> Decimal:
    """The more adverse of two prices (the one the market reaches later moving against us)."""
    return min(a, b) if s.long else max(a, b)


def margin_used(s: DcaSettings, state: DcaState) -> Decimal:
    """Committed margin: the group's entry notional and in-flight entry orders, over the leverage."""
    cost = state.group.cost if state.group else ZERO
    return (cost + sum((p.quote for p in state.pending), ZERO)) / s.leverage


def _next_level(s: DcaSettings, g: Group) -> AddonLevel | None:
    """The next level the group may use in its current mode (shallow normally, deep in recovery)."""
    for lv in s.levels:
        if lv.index in g.addons or lv.index in g.skipped:
            continue
        if lv.deep == g.recovery:
            return lv
    return None


def _unreported_deep(s: DcaSettings, g: Group) -> AddonLevel | None:
    """The first deep level not yet used nor reported while the group is outside Recovery Mode."""
    if g.recovery:
        return None
    for lv in s.levels:
        if lv.deep and lv.index not in g.addons and lv.index not in g.reported:
            return lv
    return None


def addon_trigger(s: DcaSettings, g: Group, lv: AddonLevel) -> Decimal | None:
    """Price at which level `lv` fires: its level price or the minimum-improvement price, the worse."""
    impr = improvement_price(s, g, lv.quote)
    if impr is None:
        return None
    return _worse(s, level_price(s, g.first_price, lv), impr)


def _recovery_due(s: DcaSettings, state: DcaState, g: Group, price: Decimal | None) -> str | None:
    """Why the group should enter Recovery Mode now, or None."""
    if not s.recovery or g.recovery:
        return None
    if price is not None and s.recovery_drawdown_pct is not None:
        limit = _adverse(s, g.avg, s.recovery_drawdown_pct)
        if _at_or_beyond(s, price, limit):
            dd = abs(price - g.avg) / g.avg * HUNDRED
            return f"drawdown {dd.quantize(D('0.01'))}% reached {s.recovery_drawdown_pct}% at {price}"
    shallow = [lv.index for lv in s.levels if not lv.deep]
    if shallow and all(i in g.addons or i in g.skipped for i in shallow):
        return f"shallow add-ons used up ({len(shallow)} of {len(shallow)})"
    if s.recovery_margin_pct is not None and s.margin_limit is not None:
        used = margin_used(s, state)
        threshold = s.margin_limit * s.recovery_margin_pct / HUNDRED
        if used >= threshold:
            return (
                f"margin used {used.normalize():f} reached {s.recovery_margin_pct}% "
                f"of the limit {s.margin_limit}"
            )
    return None


# ---------------------------------------------------------------- the four functions


def initial_state(settings: DcaSettings) -> DcaState:
    """A bot with no group."""
    return DcaState()


def _amount(s: DcaSettings, quote: Decimal, price: Decimal) -> Decimal:
    return floor_to_step(quote / price, s.rules.lot_size)


def order_amount(s: DcaSettings, quote: Decimal, price: Decimal) -> Decimal:
    """Base amount an entry order of `quote` gets at `price`, floored to the lot size as `decide` sends it."""
    return _amount(s, quote, price)


def addon_quotes(s: DcaSettings, addon_order: Decimal) -> tuple[Decimal, ...]:
    """The quote of each add-on level (1..addon_count) when the first add-on is `addon_order`."""
    levels = _levels(
        s.addon_count, s.addon_deviation_pct, s.addon_step_scale, addon_order, s.addon_volume_scale, None
    )
    return tuple(lv.quote for lv in levels)


def _order(
    s: DcaSettings,
    state: DcaState,
    role: Role,
    level: int,
    quote: Decimal,
    market: MarketView,
    amount: Decimal | None = None,
) -> tuple[DcaState, PlaceOrder]:
    seq = state.seq + 1
    number = state.groups_opened if role != "base" else state.groups_opened + 1
    tag = f"dca-g{number}-{role}{level if role == 'addon' else ''}-{seq}"
    entering = role != "close"
    buy = entering == s.long
    ref = (market.ask if buy else market.bid) or market.price
    size = amount if amount is not None else _amount(s, quote, ref)
    order = PlaceOrder(
        tag,
        "buy" if buy else "sell",
        "market",
        size,
        None,
        reduce_only=(not entering and s.market == "futures"),
    )
    pending = Pending(tag, role, level, quote if entering else ZERO, size)
    return replace(state, seq=seq, pending=(*state.pending, pending)), order


def _event(kind: EventKind, reason: str) -> StrategyEvent:
    return StrategyEvent(kind, reason)


def decide(settings: DcaSettings, state: DcaState, market: MarketView) -> Decision[DcaState]:
    """Look at one path point: open a group, close it, enter Recovery Mode or add on (at most one order)."""
    s, p = settings, market.price
    if state.pending:
        return Decision(state)  # an order is in flight; its fill or cancel comes first
    if state.cooldown_until is not None:
        if market.ts_ms < state.cooldown_until:
            return Decision(state)
        state = replace(state, cooldown_until=None)
    g = state.group
    if g is None:
        return _maybe_open(s, state, market)
    actions: list[Action] = []

    stop = stop_price(s, g)
    if stop is not None and _at_or_beyond(s, p, stop):
        ref = "first entry" if s.stop_loss_from == "first" else "average"
        actions.append(
            _event(
                "stop_loss", f"price {p} at or beyond the stop {_q(stop)} ({s.stop_loss_pct}% from the {ref})"
            )
        )
        return _close(s, state, g, market, actions, "stop_loss", "stop loss")

    if g.recovery:
        target = exit_price(s, g, s.recovery_exit_pct)
        if _at_or_better(s, p, target):
            actions.append(
                _event(
                    "take_profit",
                    f"price {p} reached the recovery exit {_q(target)} "
                    f"(break-even plus fees plus {s.recovery_exit_pct}%)",
                )
            )
            return _close(s, state, g, market, actions, "recovery_exit", "recovery exit")
    else:
        target = exit_price(s, g, s.take_profit_pct)
        if s.trailing_pct is None:
            if _at_or_better(s, p, target):
                actions.append(
                    _event(
                        "take_profit",
                        f"price {p} reached the take profit {_q(target)} "
                        f"({s.take_profit_pct}% over the average {_q(g.avg)}, fees included)",
                    )
                )
                return _close(s, state, g, market, actions, "take_profit", "take profit")
        else:
            peak = g.peak
            if peak is None and _at_or_better(s, p, target):
                peak = p
                actions.append(
                    _event(
                        "trailing_armed",
                        f"take profit {_q(target)} reached at {p}; "
                        f"trailing {s.trailing_pct}% from the best price",
                    )
                )
            if peak is not None:
                peak = max(peak, p) if s.long else min(peak, p)
                g = replace(g, peak=peak)
                state = replace(state, group=g)
                back = _adverse(s, peak, s.trailing_pct)
                if _at_or_beyond(s, p, back):
                    actions.append(
                        _event(
                            "take_profit",
                            f"price {p} came back {s.trailing_pct}% from the "
                            f"peak {peak} (trailing stop {_q(back)})",
                        )
                    )
                    return _close(s, state, g, market, actions, "take_profit", "trailing take profit")

    why = _recovery_due(s, state, g, p)
    if why is not None:
        g = replace(g, recovery=True, peak=None)
        state = replace(state, group=g)
        actions.append(_event("recovery_entered", why))
        target = exit_price(s, g, s.recovery_exit_pct)
        if _at_or_better(s, p, target):  # already at break-even: leave at once
            actions.append(_event("take_profit", f"price {p} at the recovery exit {_q(target)}"))
            return _close(s, state, g, market, actions, "recovery_exit", "recovery exit")

    return _maybe_addon(s, state, g, market, actions)


def _q(x: Decimal) -> str:
    return f"{x.quantize(D('0.00000001')).normalize():f}"


def _maybe_open(s: DcaSettings, state: DcaState, market: MarketView) -> Decision[DcaState]:
    p, e = market.price, s.entry
    if e.kind == "below":
        assert e.price is not None
        if p > e.price:
            return Decision(state)
        reason = f"price {p} at or below {e.price}"
    elif e.kind == "rsi":
        assert e.key is not None and e.level is not None
        value = market.indicators.get(e.key)
        if value is None or value >= e.level:
            return Decision(state)
        reason = f"{e.key} = {value} below {e.level}"
    else:
        reason = f"entry now at {p}"
    state, order = _order(s, state, "base", 0, s.base_order, market)
    return Decision(state, (_event("group_opened", reason), order))


def _close(
    s: DcaSettings,
    state: DcaState,
    g: Group,
    market: MarketView,
    actions: list[Action],
    why: ExitWhy,
    label: str,
) -> Decision[DcaState]:
    if g.recovery:
        actions.append(_event("recovery_left", f"{label} at {market.price}"))
    actions.append(_event("group_closed", f"{label} at {market.price} after {len(g.addons)} add-ons"))
    state, order = _order(s, replace(state, last_exit=why), "close", 0, ZERO, market, amount=g.qty)
    actions.append(order)
    return Decision(state, tuple(actions))


def _maybe_addon(
    s: DcaSettings, state: DcaState, g: Group, market: MarketView, actions: list[Action]
) -> Decision[DcaState]:
    p = market.price
    deep = _unreported_deep(s, g)
    if deep is not None and _at_or_beyond(s, p, level_price(s, g.first_price, deep)):
        g = replace(g, reported=(*g.reported, deep.index))
        state = replace(state, group=g)
        actions.append(
            _event(
                "refused",
                f"add-on {deep.index} at {_signed(s, deep.deviation_pct)}% is in the "
                "deep zone, held back for Recovery Mode",
            )
        )
    lv = _next_level(s, g)
    if lv is None:
        return Decision(state, tuple(actions))
    trigger = addon_trigger(s, g, lv)
    if trigger is None or not _at_or_beyond(s, p, trigger):
        return Decision(state, tuple(actions))
    if s.margin_limit is not None:
        after = margin_used(s, state) + lv.quote / s.leverage
        if after > s.margin_limit:
            g = replace(g, skipped=(*g.skipped, lv.index))
            actions.append(
                _event(
                    "refused",
                    f"add-on {lv.index} would commit {after.normalize():f}, above the "
                    f"margin limit {s.margin_limit}",
                )
            )
            return Decision(replace(state, group=g), tuple(actions))
    zone = "deep" if lv.deep else "shallow"
    actions.append(
        _event(
            "addon",
            f"add-on {lv.index} at {p} ({zone} zone, "
            f"{_signed(s, lv.deviation_pct)}% of the first entry {g.first_price})",
        )
    )
    state, order = _order(s, state, "addon", lv.index, lv.quote, market)
    actions.append(order)
    return Decision(state, tuple(actions))


def on_fill(settings: DcaSettings, state: DcaState, fill: Fill) -> DcaState:
    """Account a fill: open or grow the group, or shrink it and book the P&L on an exit."""
    s = settings
    pending = next((x for x in state.pending if x.tag == fill.tag), None)
    if pending is None or fill.amount <= 0:
        return state
    filled = pending.filled + fill.amount
    still = tuple(
        (replace(x, filled=filled) if x.tag == fill.tag else x)
        for x in state.pending
        if x.tag != fill.tag or filled < x.amount
    )
    state = replace(state, fees=state.fees + fill.fee, pending=still)
    g = state.group
    notional = fill.price * fill.amount
    if pending.role == "base" and g is None:
        g = Group(state.groups_opened + 1, fill.price, fill.amount, notional, fill.fee, ZERO)
        return replace(state, group=g, groups_opened=state.groups_opened + 1)
    if g is None:
        return state
    if pending.role in ("base", "addon"):
        addons = (
            g.addons if pending.role == "base" or pending.level in g.addons else (*g.addons, pending.level)
        )
        g = replace(g, qty=g.qty + fill.amount, cost=g.cost + notional, fees=g.fees + fill.fee, addons=addons)
        return replace(state, group=g, addons_max=max(state.addons_max, len(addons)))
    # an exit fill: book its share of the group
    amount = min(fill.amount, g.qty)
    frac = amount / g.qty
    sign = ONE if s.long else -ONE
    pnl = sign * (fill.price * amount - g.cost * frac) - fill.fee - g.fees * frac
    state = replace(state, realized_pnl=state.realized_pnl + pnl)
    if amount < g.qty:
        g = replace(
            g, qty=g.qty - amount, cost=g.cost * (ONE - frac), fees=g.fees * (ONE - frac), pnl=g.pnl + pnl
        )
        return replace(state, group=g)
    total = g.pnl + pnl
    cooldown = fill.ts_ms + s.cooldown_s * 1000 if s.cooldown_s else None
    return replace(
        state,
        group=None,
        pending=tuple(x for x in state.pending if x.tag != fill.tag),
        trades=state.trades + 1,
        wins=state.wins + (total > 0),
        losses=state.losses + (total <= 0),
        cooldown_until=cooldown,
    )


def on_cancel(settings: DcaSettings, state: DcaState, tag: str) -> DcaState:
    """The order ended without (further) fills: cancelled, rejected or its rest expired."""
    return replace(state, pending=tuple(x for x in state.pending if x.tag != tag))


def close_out(settings: DcaSettings, state: DcaState, fills: Sequence[Fill]) -> DcaState:
    """Account a close made outside the strategy (the user's close-position) from its fills.

    The fills of the exit's side are booked against the group at once, like an exit: P&L = their
    proceeds (cost, for a short) against the group's entry notional, minus the entry and the close
    fees, in quote. A close that covered the whole group ends it: no group and nothing in flight, so
    the next `decide` opens a new one (after the cooldown). A partial close leaves the rest held, with
    its share of the entry notional and fees.
    """
    s, g = settings, state.group
    exit_side = "sell" if s.long else "buy"
    ours = [f for f in fills if f.side == exit_side and f.amount > 0]
    if g is None or not ours:
        return state
    amount = sum((f.amount for f in ours), ZERO)
    value = sum((f.price * f.amount for f in ours), ZERO)
    fee = sum((f.fee for f in ours), ZERO)
    sign = ONE if s.long else -ONE
    state = replace(state, fees=state.fees + fee)
    if g.qty - amount > DUST:  # what is left is still held (a remainder below DUST is rounding)
        frac = amount / g.qty
        pnl = sign * (value - g.cost * frac) - fee - g.fees * frac
        g = replace(
            g, qty=g.qty - amount, cost=g.cost * (ONE - frac), fees=g.fees * (ONE - frac), pnl=g.pnl + pnl
        )
        return replace(state, group=g, realized_pnl=state.realized_pnl + pnl)
    # the whole group: booked without fractions, so the money adds up to the last digit
    pnl = sign * (value - g.cost) - fee - g.fees
    total = g.pnl + pnl
    last_ts = max(f.ts_ms for f in ours)
    return replace(
        state,
        group=None,
        pending=(),
        realized_pnl=state.realized_pnl + pnl,
        trades=state.trades + 1,
        wins=state.wins + (total > 0),
        losses=state.losses + (total <= 0),
        cooldown_until=last_ts + s.cooldown_s * 1000 if s.cooldown_s else None,
        last_exit="close",
    )


def triggers(settings: DcaSettings, state: DcaState) -> Triggers:
    """The nearest prices below/above (and the time) at which `decide` would act."""
    s = settings
    if state.pending:
        return Triggers(wake_ms=0)
    if state.cooldown_until is not None:
        return Triggers(wake_ms=state.cooldown_until)
    g = state.group
    if g is None:
        if s.entry.kind == "below":
            return Triggers(low=s.entry.price)
        return Triggers(wake_ms=0)  # now: at once; rsi: every point while flat
    adverse: list[Decimal] = []
    favourable: list[Decimal] = []
    stop = stop_price(s, g)
    if stop is not None:
        adverse.append(stop)
    if g.recovery:
        favourable.append(exit_price(s, g, s.recovery_exit_pct))
    elif s.trailing_pct is None or g.peak is None:
        favourable.append(exit_price(s, g, s.take_profit_pct))
    else:
        favourable.append(g.peak)
        adverse.append(_adverse(s, g.peak, s.trailing_pct))
    if _recovery_due(s, state, g, None) is not None:
        return Triggers(wake_ms=0)
    if s.recovery and not g.recovery and s.recovery_drawdown_pct is not None:
        adverse.append(_adverse(s, g.avg, s.recovery_drawdown_pct))
    deep = _unreported_deep(s, g)
    if deep is not None:
        adverse.append(level_price(s, g.first_price, deep))
    lv = _next_level(s, g)
    if lv is not None:
        t = addon_trigger(s, g, lv)
        if t is not None:
            adverse.append(t)
    low_list, high_list = (adverse, favourable) if s.long else (favourable, adverse)
    return Triggers(low=max(low_list) if low_list else None, high=min(high_list) if high_list else None)


def snapshot(settings: DcaSettings, state: DcaState, price: Decimal | None) -> Snapshot:
    """The bot's figures at `price`."""
    s, g = settings, state.group
    unreal = ZERO
    position = ZERO
    if g is not None:
        position = g.qty if s.long else -g.qty
        if price is not None:
            unreal = (price * g.qty - g.cost) * (ONE if s.long else -ONE)
    return Snapshot(
        margin_used=margin_used(s, state),
        addons_used=len(g.addons) if g else 0,
        recovery=bool(g and g.recovery),
        position=position,
        realized_pnl=state.realized_pnl,
        unrealized_pnl=unreal,
        fees=state.fees,
        trades=state.trades,
        wins=state.wins,
        losses=state.losses,
        addons_max=state.addons_max,
    )


@dataclass(frozen=True, slots=True)
class DcaStrategy:
    """The DCA strategy as one object (the `Strategy` protocol of base.py)."""

    name: str = "dca"
    keys: tuple[str, ...] = KEYS

    @in_money_context
    def parse(self, values: SettingsValues, context: Context) -> DcaSettings:
        """See `parse`."""
        return parse(values, context)

    @in_money_context
    def initial_state(self, settings: DcaSettings) -> DcaState:
        """See `initial_state`."""
        return initial_state(settings)

    @in_money_context
    def decide(self, settings: DcaSettings, state: DcaState, market: MarketView) -> Decision[DcaState]:
        """See `decide`."""
        return decide(settings, state, market)

    @in_money_context
    def on_fill(self, settings: DcaSettings, state: DcaState, fill: Fill) -> DcaState:
        """See `on_fill`."""
        return on_fill(settings, state, fill)

    @in_money_context
    def on_cancel(self, settings: DcaSettings, state: DcaState, tag: str) -> DcaState:
        """See `on_cancel`."""
        return on_cancel(settings, state, tag)

    @in_money_context
    def close_out(self, settings: DcaSettings, state: DcaState, fills: Sequence[Fill]) -> DcaState:
        """See `close_out`."""
        return close_out(settings, state, fills)

    @in_money_context
    def triggers(self, settings: DcaSettings, state: DcaState) -> Triggers:
        """See `triggers`."""
        return triggers(settings, state)

    @in_money_context
    def snapshot(self, settings: DcaSettings, state: DcaState, price: Decimal | None) -> Snapshot:
        """See `snapshot`."""
        return snapshot(settings, state, price)


DCA = DcaStrategy()
