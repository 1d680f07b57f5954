"""Issue 13, Done-when: the same market order against the same book gives the same average price in
PaperExecutor and in the simulator's matching engine, within one tick, on every venue market.

The clock stands still (virtual, speed 0) while the paper executor reads the book through the hub and
fills on it, and the live executor sends the same order to the venue, which walks its own book.
The order is sized to walk about three levels of the book.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.integration.execution.conftest import ROW_IDS, ROWS, Row, make_hub, make_live, step_of
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.adapters.execution.paper import PaperExecutor
from tradewarden.adapters.store.db import Store
from tradewarden.sim import ThreadedSim

LEVEL_NOTIONAL = 1000  # USDT at the first level: three levels stay affordable on every account


@pytest.mark.timeout(120)
@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
async def test_paper_and_venue_agree_on_average_price(
    exec_sim: ThreadedSim, sim_admin13: SimAdmin, store: Store, row: Row
) -> None:
    """One market buy, same book: paper VWAP == venue VWAP within one tick."""
    admin = sim_admin13
    admin.call("POST", "/_sim/market", {"venue": row.venue, "level_notional": LEVEL_NOTIONAL})
    hub = make_hub(exec_sim.url, row)
    live, client, _key = await make_live(store, exec_sim.url, admin, row)
    paper = PaperExecutor(
        store,
        hub,
        row.ccxt_id,
        f"agree-{row.name}",
        f"agree-{row.name}",
        {"USDT": Decimal(1_000_000), "BTC": Decimal(100)},
        leverage=Decimal(10) if row.contract else Decimal(1),
    )
    try:
        market = (await hub.markets(row.ccxt_id))[row.symbol]
        lot = step_of(market, "amount")
        # pay the client's ccxt throttle debt (market loading is costly) before the clock stands still
        await client.fetch_balance()
        # frozen 3 s ahead: the requests' timestamps stay behind the venue's time, inside its window
        start = int(time.time() * 1000) + 3000
        admin.call("POST", "/_sim/clock", {"mode": "virtual", "start": start, "speed": 0})
        try:
            book = await hub.order_book(row.ccxt_id, row.symbol, 20)
            levels = [Decimal(str(a[1])) for a in book["asks"][:3]]
            # all of the first two levels and half the third: the walk crosses three prices
            amount = ((levels[0] + levels[1] + levels[2] / 2) / lot).to_integral_value() * lot
            on_paper = await paper.create_order(OrderRequest(row.symbol, "buy", "market", amount))
            on_venue = await live.create_order(OrderRequest(row.symbol, "buy", "market", amount))
        finally:
            admin.call("POST", "/_sim/clock", {"mode": "real"})
    finally:
        await hub.close()
        await client.close()
    tick = step_of(market, "price")
    assert on_paper.status == "closed" and on_paper.filled == amount, on_paper
    assert on_venue.status == "closed" and on_venue.filled == amount, on_venue
    assert on_paper.average is not None and on_venue.average is not None
    prices = {Decimal(str(a[0])) for a in book["asks"][:3]}
    assert on_paper.average > min(prices)  # it did walk past the first level
    print(f"\n[agree] {row.name}: paper {on_paper.average} venue {on_venue.average} tick {tick}")
    assert abs(on_paper.average - on_venue.average) <= tick
