"""Strategies compute in their own decimal context, whatever another library did to the process's one."""

from __future__ import annotations

import decimal
from decimal import Decimal

from tradewarden.domain.strategies import DCA, GRID
from tradewarden.domain.strategies.base import Context, Fill, MarketView
from tradewarden.domain.strategies.dca import DESIGN_EXAMPLE


def _run_dca() -> tuple[object, object]:
    settings = DCA.parse(DESIGN_EXAMPLE, Context())
    state = DCA.initial_state(settings)
    decision = DCA.decide(settings, state, MarketView(ts_ms=0, price=Decimal("101.37")))
    tag = next(a.tag for a in decision.actions if hasattr(a, "side"))
    state = DCA.on_fill(
        settings, decision.state, Fill(tag, "buy", Decimal("101.37"), Decimal("0.98648"), Decimal("0.1"), 0)
    )
    return DCA.triggers(settings, state), DCA.snapshot(settings, state, Decimal("99.991"))


def _run_grid() -> object:
    settings = GRID.parse(
        {"lower": "90", "upper": "110", "levels": "7", "spacing": "geometric", "order_amount": "13"},
        Context(),
    )
    return GRID.decide(settings, GRID.initial_state(settings), MarketView(ts_ms=0, price=Decimal("100.3")))


def test_a_changed_process_context_changes_nothing() -> None:
    expected = (_run_dca(), _run_grid())
    with decimal.localcontext() as ctx:
        ctx.prec = 6  # what a careless library might leave behind
        ctx.rounding = decimal.ROUND_HALF_UP
        assert (_run_dca(), _run_grid()) == expected
