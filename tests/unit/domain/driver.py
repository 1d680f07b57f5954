"""A minimal driver for domain tests: calls `decide` at given prices and fills market orders there.

It is not the backtest engine (services/backtest owns that); it lets a test walk a strategy through
prices and see every action, fill and state, with fees charged at the context's taker/maker rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewarden.domain.strategies.base import (
    Action,
    CancelOrder,
    Fill,
    MarketView,
    PlaceOrder,
    Strategy,
    StrategyEvent,
)


@dataclass
class Driver:
    """Walks one strategy through prices; market orders fill at the call's price, limits when crossed."""

    strategy: Strategy[Any, Any]
    settings: Any
    state: Any = None
    taker: Decimal = Decimal(0)
    maker: Decimal = Decimal(0)
    resting: dict[str, PlaceOrder] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    decisions: list[tuple[Any, tuple[Action, ...]]] = field(default_factory=list)  # (state decided, actions)

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = self.strategy.initial_state(self.settings)
        fees = getattr(self.settings, "fees", None)
        if fees is not None:
            self.taker, self.maker = fees.taker, fees.maker

    def events(self, kind: str | None = None) -> list[StrategyEvent]:
        """Events seen so far (of one kind)."""
        return [a for a in self.actions if isinstance(a, StrategyEvent) and (kind is None or a.kind == kind)]

    def orders(self) -> list[PlaceOrder]:
        """Orders placed so far."""
        return [a for a in self.actions if isinstance(a, PlaceOrder)]

    def fill(self, tag: str, price: Decimal, ts: int = 0, amount: Decimal | None = None) -> None:
        """Fill (part of) a resting order at `price` as maker."""
        order = self.resting[tag]
        size = order.amount if amount is None else amount
        f = Fill(tag, order.side, price, size, price * size * self.maker, ts)
        self.fills.append(f)
        self.state = self.strategy.on_fill(self.settings, self.state, f)
        if amount is None or amount >= order.amount:
            del self.resting[tag]

    def call(
        self, price: str | Decimal, ts: int = 0, follow_up: bool = True, **indicators: Decimal
    ) -> list[Action]:
        """One `decide` at `price`; market orders fill at once; follow-up calls while fills happen."""
        p = Decimal(price)
        out: list[Action] = []
        for _ in range(9):
            view = MarketView(ts, p, indicators={k.replace("_", ":"): v for k, v in indicators.items()})
            decision = self.strategy.decide(self.settings, self.state, view)
            self.state = decision.state
            if decision.actions:
                self.decisions.append((decision.state, decision.actions))
            filled = False
            for a in decision.actions:
                out.append(a)
                self.actions.append(a)
                if isinstance(a, CancelOrder):
                    self.resting.pop(a.tag, None)
                    self.state = self.strategy.on_cancel(self.settings, self.state, a.tag)
                elif isinstance(a, PlaceOrder) and a.kind == "market":
                    f = Fill(a.tag, a.side, p, a.amount, p * a.amount * self.taker, ts)
                    self.fills.append(f)
                    self.state = self.strategy.on_fill(self.settings, self.state, f)
                    filled = True
                elif isinstance(a, PlaceOrder):
                    self.resting[a.tag] = a
            if not (filled and follow_up):
                break
        return out

    def cross(self, price: str | Decimal, ts: int = 0) -> None:
        """The path reaches `price`: fill every resting limit it crosses (nearest first), then decide."""
        p = Decimal(price)
        crossed = [
            o
            for o in self.resting.values()
            if o.price is not None
            and ((o.side == "buy" and p <= o.price) or (o.side == "sell" and p >= o.price))
        ]
        crossed.sort(key=lambda o: abs(o.price - p) if o.price is not None else Decimal(0), reverse=True)
        for o in crossed:
            assert o.price is not None
            self.fill(o.tag, o.price, ts)
            self.call(o.price, ts)
        self.call(p, ts)
