"""Order sizes a bot's settings will send, checked against the venue's rules before it is stored or started.

A DCA base order of 100 USDT at 50,001 buys 0.00199.. BTC, which the strategy floors to USD-M's 0.001
step: 0.001 BTC, 50 USDT, under the 100 USDT minimum. The order guard refuses it every time the bot
tries. This module sizes each order the settings will place (DCA: the base order and every add-on;
grid: every level's order and the initial buy) with the strategy's own sizing (`dca.order_amount`,
`grid.order_amount`: the rounding `decide` applies) and checks it with the guard's own market check
(`guard.check_market`: lot step, minimum amount, minimum notional), at the current price. A failing
setting is refused naming the order, the market, the rule and the smallest value of the setting that
passes (found by search over that same sizing and check, so there is no second rounding rule here).

`check_spec` reads the market through the market hub (fail closed: a market that cannot be read stops
the create/start with ExchangeUnavailableError); `refusal_advice` gives the driver the same text for an
order refused at run time.
"""

from __future__ import annotations

import decimal
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.adapters.execution.guard import MarketTerms, OrderRefused, RefusalReason, check_market
from tradewarden.adapters.execution.ledger import dec
from tradewarden.adapters.execution.paper import MarketInfo
from tradewarden.adapters.market import MarketHub
from tradewarden.domain.strategies import STRATEGIES, dca, grid
from tradewarden.domain.strategies.base import MONEY_CONTEXT, Context, MarketView, PlaceOrder, SettingsError
from tradewarden.services.bots.executors import Venue, market_source
from tradewarden.services.errors import ExchangeUnavailableError, InputError, UserError
from tradewarden.services.vault_session import VaultSession

Side = Literal["buy", "sell"]
SIZE_REFUSALS: frozenset[str] = frozenset({"precision", "min_amount", "min_notional"})
# fill-model reasons a paper order is rejected with (its error starts with one), as the guard names them
PAPER_REASONS: Mapping[str, RefusalReason] = {
    "lot_size": "precision",
    "tick_size": "precision",
    "amount_not_positive": "precision",
    "min_amount": "min_amount",
    "min_notional": "min_notional",
}
MAX_DOUBLINGS = 64  # the search for a passing value gives up beyond 2^64 x the setting (a price rule)
VaultGetter = Callable[[], Awaitable[VaultSession | None]]


@dataclass(frozen=True)
class PricePoint:
    """The market's price now: last, and the book's top when the ticker has it."""

    price: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None

    def ref(self, side: Side) -> Decimal:
        """The price a market order is sized at (the DCA sizes buys at the ask, sells at the bid)."""
        return (self.ask if side == "buy" else self.bid) or self.price

    def value(self, side: Side) -> Decimal:
        """The price the order is valued at: the lower of the book's mid (guard) and its touch (paper)."""
        mid = (self.bid + self.ask) / 2 if self.bid and self.ask else self.price
        return min(mid, self.ref(side))


@dataclass(frozen=True)
class PlannedOrder:
    """One order as the strategy would send it: amount in base units, the price it was sized at."""

    side: Side
    type: Literal["market", "limit"]
    quote: Decimal  # what the setting gives this order, in quote
    amount: Decimal
    at: Decimal
    price: Decimal | None  # limit price
    value_price: Decimal


@dataclass(frozen=True)
class Sized:
    """An order a setting sizes: its name and how it comes out for any value of the setting."""

    label: str
    setting: str
    make: Callable[[Decimal], PlannedOrder]


@dataclass(frozen=True)
class SizeProblem:
    """A setting whose order the market refuses: the rule, the smallest value that passes, the text."""

    pair: str
    setting: str
    label: str
    reason: RefusalReason
    order: PlannedOrder
    smallest: Decimal | None
    step: Decimal | None  # the smallest value is a multiple of this; one step less fails
    text: str


# ---------------------------------------------------------------- the orders a strategy sizes


def _dca_orders(s: dca.DcaSettings, point: PricePoint) -> list[Sized]:
    side: Side = "buy" if s.long else "sell"
    ref = point.ref(side)
    value = point.value(side)
    if s.entry.kind == "below" and s.entry.price is not None and ref > s.entry.price:
        ref = value = s.entry.price  # it opens only at or below that price
    out = [
        Sized(
            "base order",
            "base_order",
            lambda v: PlannedOrder(side, "market", v, dca.order_amount(s, v, ref), ref, None, value),
        )
    ]
    for lv in s.levels:
        at = dca.level_price(s, ref, lv)

        def addon(v: Decimal, k: int = lv.index, at: Decimal = at) -> PlannedOrder:
            quote = dca.addon_quotes(s, v)[k - 1]
            return PlannedOrder(side, "market", quote, dca.order_amount(s, quote, at), at, None, at)

        out.append(Sized(f"add-on {lv.index} (at {_signed(s, lv.deviation_pct)}%)", "addon_order", addon))
    return out


def _signed(s: dca.DcaSettings, pct: Decimal) -> str:
    return f"-{_fmt(pct)}" if s.long else f"+{_fmt(pct)}"


def _grid_layout(s: grid.GridSettings, point: PricePoint) -> tuple[int, tuple[Decimal, ...], Decimal | None]:
    """Where the grid leaves its empty level at this price, its levels, and its initial buy's amount."""
    decision = grid.decide(s, grid.initial_state(s), MarketView(0, point.price, point.bid, point.ask))
    buys = [a.amount for a in decision.actions if isinstance(a, PlaceOrder) and a.kind == "market"]
    initial = buys[0] if buys else None
    return decision.state.empty, decision.state.prices, initial


def _grid_orders(s: grid.GridSettings, point: PricePoint) -> list[Sized]:
    empty, prices, initial = _grid_layout(s, point)
    out: list[Sized] = []
    if initial is not None:

        def first_buy(v: Decimal) -> PlannedOrder:
            amount = _grid_layout(replace(s, order_amount=v), point)[2] or Decimal(0)
            at = point.ref("buy")
            return PlannedOrder("buy", "market", v, amount, at, None, point.value("buy"))

        out.append(Sized("the grid's initial market buy", "order_amount", first_buy))
    for level, price in enumerate(prices):
        if level == empty:
            continue
        side: Side = "buy" if level < empty else "sell"

        def limit(v: Decimal, level: int = level, side: Side = side, price: Decimal = price) -> PlannedOrder:
            amount = grid.order_amount(replace(s, order_amount=v), prices, level, side)
            at = prices[level] if side == "buy" else prices[level - 1]
            return PlannedOrder(side, "limit", v, amount, at, price, price)

        out.append(Sized(f"grid {side} at level {level + 1} ({_fmt(price)})", "order_amount", limit))
    return out


def sized_orders(strategy: str, settings: Any, point: PricePoint) -> list[Sized]:
    """Every order the settings size, at this price (a DCA's add-ons from an entry at this price)."""
    with decimal.localcontext(MONEY_CONTEXT):
        if strategy == "dca":
            return _dca_orders(settings, point)
        if strategy == "grid":
            return _grid_orders(settings, point)
    return []


# ---------------------------------------------------------------- the check


def refusal_of(order: PlannedOrder, symbol: str, info: MarketInfo) -> OrderRefused | None:
    """The guard's refusal of the order by the market's rules, or None when it passes."""
    request = OrderRequest(symbol, order.side, order.type, order.amount / info.contract_size, order.price)
    try:
        check_market(request, MarketTerms(info.contract_size, info.rules, info.contract), order.value_price)
    except OrderRefused as refusal:
        return refusal
    return None


def smallest_passing(passes: Callable[[Decimal], bool], start: Decimal) -> tuple[Decimal, Decimal] | None:
    """The smallest value that passes and its step (one step less fails): doubling, then bisection on
    multiples of a step five significant digits below the passing value (None: nothing passes)."""
    high = start if start > 0 else Decimal("1e-8")
    for _ in range(MAX_DOUBLINGS):
        if passes(high):
            break
        high *= 2
    else:
        return None
    step = Decimal(1).scaleb(high.adjusted() - 4)
    low_k, high_k = 0, int((high / step).to_integral_value(rounding=decimal.ROUND_CEILING))
    while high_k - low_k > 1:
        mid = (low_k + high_k) // 2
        if passes(mid * step):
            high_k = mid
        else:
            low_k = mid
    return (high_k * step).normalize(), step


def _fmt(value: Decimal) -> str:
    """A figure as people read it: thousands separated, no trailing zeros."""
    return f"{value.normalize():,f}"


def _describe(
    exchange: str,
    symbol: str,
    info: MarketInfo,
    item: Sized,
    order: PlannedOrder,
    refusal: OrderRefused,
    found: tuple[Decimal, Decimal] | None,
) -> str:
    rules = info.base_rules
    where = f"{exchange} {symbol}"
    step = f" after rounding to the {_fmt(rules.lot_size)} step" if rules.lot_size else ""
    buys = "buys" if order.side == "buy" else "sells"
    head = (
        f"{item.label} {_fmt(order.quote)} {info.quote} {buys} {_fmt(order.amount)} {info.base} "
        f"at {_fmt(order.at)}{step}"
    )
    if refusal.reason == "min_notional" and rules.min_notional is not None:
        notional = order.amount * order.value_price
        body = (
            f"{head} ({_fmt(notional)} {info.quote}), under {where}'s minimum notional "
            f"{_fmt(rules.min_notional)} {info.quote}"
        )
    elif refusal.reason == "min_amount" and rules.min_amount is not None:
        body = f"{head}, under {where}'s minimum amount {_fmt(rules.min_amount)} {info.base}"
    else:
        body = f"{head}, which {where} refuses: {refusal.message}"
    if found is None:
        return f"{body}; no {item.setting} makes it pass at this price"
    return f"{body}; set {item.setting} to at least {_fmt(found[0])} {info.quote}"


def problems(
    strategy: str, settings: Any, pair: str, info: MarketInfo, point: PricePoint, exchange: str
) -> list[SizeProblem]:
    """Each setting one of whose orders the market refuses at this price (its first such order)."""
    found: list[SizeProblem] = []
    with decimal.localcontext(MONEY_CONTEXT):
        items = sized_orders(strategy, settings, point)
        for item in items:
            if any(p.setting == item.setting for p in found):
                continue
            current = Decimal(getattr(settings, item.setting))
            order = item.make(current)
            refusal = refusal_of(order, pair, info)
            if refusal is None:
                continue
            same = [i for i in items if i.setting == item.setting]

            def passes(v: Decimal, same: list[Sized] = same) -> bool:
                return all(refusal_of(i.make(v), pair, info) is None for i in same)

            result = smallest_passing(passes, current)
            text = _describe(exchange, pair, info, item, order, refusal, result)
            found.append(
                SizeProblem(
                    pair,
                    item.setting,
                    item.label,
                    refusal.reason,
                    order,
                    None if result is None else result[0],
                    None if result is None else result[1],
                    text,
                )
            )
    return found


def _tag_order(strategy: str, settings: Any, point: PricePoint, tag: str) -> Sized | None:
    """The order a strategy tag names, sized at this price (a DCA add-on as if it fired now)."""
    parts = tag.split("-")
    if strategy == "dca" and len(parts) >= 4:
        s: dca.DcaSettings = settings
        side: Side = "buy" if s.long else "sell"
        ref, value = point.ref(side), point.value(side)
        role = parts[2]
        if role == "base":
            return Sized(
                "base order",
                "base_order",
                lambda v: PlannedOrder(side, "market", v, dca.order_amount(s, v, ref), ref, None, value),
            )
        if role.startswith("addon") and role[5:].isdigit() and 1 <= int(role[5:]) <= s.addon_count:
            k = int(role[5:])

            def addon(v: Decimal) -> PlannedOrder:
                quote = dca.addon_quotes(s, v)[k - 1]
                return PlannedOrder(side, "market", quote, dca.order_amount(s, quote, ref), ref, None, value)

            return Sized(f"add-on {k}", "addon_order", addon)
        return None
    if strategy == "grid" and len(parts) == 3:
        items = sized_orders(strategy, settings, point)
        if parts[1] == "init":
            return next((i for i in items if i.label.startswith("the grid's initial")), None)
        if parts[1][:1] in ("b", "s") and parts[1][1:].isdigit():
            g: grid.GridSettings = settings
            level, side = int(parts[1][1:]), "buy" if parts[1][0] == "b" else "sell"
            if not 0 <= level < len(g.prices) or (side == "sell" and level == 0):
                return None
            price = g.prices[level]

            def limit(v: Decimal) -> PlannedOrder:
                amount = grid.order_amount(replace(g, order_amount=v), g.prices, level, side)
                at = g.prices[level] if side == "buy" else g.prices[level - 1]
                return PlannedOrder(side, "limit", v, amount, at, price, price)

            return Sized(f"grid {side} at level {level + 1} ({_fmt(price)})", "order_amount", limit)
    return None


def refusal_advice(
    strategy: str,
    settings: Any,
    pair: str,
    info: MarketInfo,
    point: PricePoint,
    exchange: str,
    tag: str,
) -> str | None:
    """What to change when the order under `tag` was refused by the market's rules at this price (None:
    the tag is not an order a setting sizes, or the order passes at this price)."""
    with decimal.localcontext(MONEY_CONTEXT):
        item = _tag_order(strategy, settings, point, tag)
        if item is None:
            return None
        current = Decimal(getattr(settings, item.setting))
        order = item.make(current)
        refusal = refusal_of(order, pair, info)
        if refusal is None:
            return None
        found = smallest_passing(lambda v: refusal_of(item.make(v), pair, info) is None, current)
        return _describe(exchange, pair, info, item, order, refusal, found)


def paper_reason(error: str | None) -> RefusalReason | None:
    """The guard's name for the market rule a paper order was rejected by (its error says which)."""
    head = (error or "").partition(":")[0].strip()
    return PAPER_REASONS.get(head)


# ---------------------------------------------------------------- the market, read


def context_of(
    info: MarketInfo, risk: str | None, margin_limit: Decimal | None, recovery: bool | None
) -> Context:
    """The strategy context the runner builds for this market (rules in base units)."""
    return Context(
        market="futures" if info.contract else "spot",
        risk=risk,
        margin_limit=margin_limit,
        recovery=recovery,
        fees=info.fees,
        rules=info.base_rules,
    )


def point_of(ticker: Mapping[str, Any]) -> PricePoint | None:
    """A price point from a ccxt ticker (None without a usable price)."""
    bid, ask, last = dec(ticker.get("bid")), dec(ticker.get("ask")), dec(ticker.get("last"))
    if last is None and bid is not None and ask is not None:
        last = (bid + ask) / 2
    if last is None or last <= 0:
        return None
    return PricePoint(last, bid if bid and bid > 0 else None, ask if ask and ask > 0 else None)


async def read_markets(
    hub: MarketHub, venue: Venue, pairs: Iterable[str], vault: VaultGetter | None = None
) -> dict[str, tuple[MarketInfo, PricePoint]]:
    """Each pair's market and price now; ExchangeUnavailableError (the check could not run) when the
    exchange does not answer, InputError when it has no such market."""
    wanted = list(pairs)
    try:
        session = await vault() if venue.testnet and vault is not None else None
        source = await market_source(hub, venue, session)
        markets = await source.markets(venue.ccxt_id)
        if not venue.testnet and any(p not in markets for p in wanted):
            await hub.client(venue.ccxt_id).load_markets(True)  # a partial list, as the runner does
            markets = await source.markets(venue.ccxt_id)
        out: dict[str, tuple[MarketInfo, PricePoint]] = {}
        for pair in wanted:
            market = markets.get(pair)
            if market is None:
                raise InputError(
                    f"{venue.ccxt_id} has no market {pair}",
                    "use the exchange's unified symbol, e.g. BTC/USDT (spot) or BTC/USDT:USDT (perpetual)",
                    "pair",
                )
            if venue.testnet:
                client = getattr(getattr(source, "source", source), "client", None)
                ticker = await client.fetch_ticker(pair) if client is not None else {}
            else:
                ticker = await hub.ticker(venue.ccxt_id, pair)
            point = point_of(ticker)
            if point is None:
                raise ExchangeUnavailableError(
                    f"the order-size check could not run: {venue.ccxt_id} gave no price for {pair}",
                    "try again when the exchange quotes it; the bot was left as it was",
                )
            out[pair] = (MarketInfo.of(market), point)
        return out
    except UserError:
        raise
    except Exception as exc:  # fail closed: a bot whose orders could not be checked does not start
        raise ExchangeUnavailableError(
            f"the order-size check could not run: {venue.ccxt_id} did not answer ({type(exc).__name__})",
            "try again when the exchange answers (`tradewarden connections test` says whether it is up); "
            "the bot was left as it was",
        ) from None


async def check_spec(
    hub: MarketHub,
    venue: Venue,
    strategy: str,
    pairs: Iterable[str],
    settings: Mapping[str, str],
    risk: str | None,
    margin_limit: Decimal | None,
    recovery: bool | None,
    vault: VaultGetter | None = None,
) -> None:
    """Refuse (InputError) settings an order of which the venue's rules refuse at the current price."""
    markets = await read_markets(hub, venue, pairs, vault)
    found: list[SizeProblem] = []
    for pair, (info, point) in markets.items():
        context = context_of(info, risk, margin_limit, recovery)
        # The minimum notional is left to the check below: the strategy's own test compares the setting
        # before rounding, and its message cannot say how much would pass.
        context = replace(context, rules=replace(context.rules, min_notional=None))
        try:
            parsed = STRATEGIES[strategy].parse(dict(settings), context)
        except SettingsError as exc:
            raise InputError(
                f"{exc} (on {venue.ccxt_id} {pair})",
                "fix the --set value (see `tradewarden bots create --help`)",
                "--set",
            ) from None
        found += problems(strategy, parsed, pair, info, point, venue.ccxt_id)
    if found:
        raise InputError(
            "; ".join(p.text for p in found),
            "the check uses the exchange's rules at the current price; change the setting and try again",
            "--set",
        )
