"""Issue 13, item 7: the same Executor scenarios pass for PaperExecutor and LiveExecutor, on every
simulator venue market (spot and perpetual).

Scenarios, in order, on one executor: market buy; limit buy rests, then fills when the price is moved
through it (`/_sim/market`, then `/_sim/clock` steps time on); partial fill (a limit at the best ask for
more than the first level shows); cancel; reduce-only close and a refused reduce-only (perpetuals);
rejection below the market's minimum (notional where the market has one, else amount); insufficient
balance. Each scenario asserts the same observable results for both executors.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.execution.conftest import (
    ROW_IDS,
    ROWS,
    Row,
    amount_for,
    make_hub,
    make_live,
    make_paper,
    on_tick,
    step_of,
)
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.execution.base import Executor, OrderRequest, OrderView
from tradewarden.adapters.store.db import Store
from tradewarden.sim import ThreadedSim

WAIT_S = 8.0  # bound on waiting for a venue to report a fill


async def book_top(hub: Any, row: Row) -> tuple[Decimal, Decimal, Decimal]:
    """(best bid, best ask, amount at the best ask) from the hub."""
    book = await hub.order_book(row.ccxt_id, row.symbol, 20)
    return (
        Decimal(str(book["bids"][0][0])),
        Decimal(str(book["asks"][0][0])),
        Decimal(str(book["asks"][0][1])),
    )


async def until_status(ex: Executor, cid: str, want: set[str]) -> OrderView:
    """The order once its status is in `want`, or as it is after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        view = await ex.fetch_order(cid)
        if view.status in want or time.monotonic() > deadline:
            return view
        await asyncio.sleep(0.1)


async def held(ex: Executor, row: Row) -> Decimal:
    """Signed contracts held on the row's symbol."""
    return sum((p.contracts for p in await ex.positions(row.symbol)), Decimal(0))


async def scenarios(ex: Executor, hub: Any, row: Row, admin: SimAdmin) -> list[str]:
    """Run every scenario on `ex`; returns the names run (each asserts as it goes)."""
    ran: list[str] = []
    market = (await hub.markets(row.ccxt_id))[row.symbol]
    cs = Decimal(str(market.get("contractSize") or 1))
    bid, ask, _ = await book_top(hub, row)

    # market buy: filled in full, fills add up, the money moved
    before = await ex.balances()
    amount = amount_for(market, ask, Decimal(150))
    bought = await ex.create_order(OrderRequest(row.symbol, "buy", "market", amount))
    assert bought.status == "closed", bought
    assert bought.filled == amount and bought.average is not None
    assert abs(bought.average - ask) <= ask * Decimal("0.01")
    fills = [f for f in await ex.fills(row.symbol) if f.client_order_id == bought.client_order_id]
    assert sum((f.amount for f in fills), Decimal(0)) == amount
    after = await ex.balances()
    settle = "USDT"
    assert after[settle].free < before[settle].free
    ran.append("market")

    # reduce-only close (perpetuals): the position goes to zero; a second one is refused
    if row.contract:
        contracts = await held(ex, row)
        assert contracts == amount
        closing = await ex.create_order(
            OrderRequest(row.symbol, "sell", "market", contracts, reduce_only=True)
        )
        assert closing.status == "closed" and closing.filled == contracts, closing
        assert await held(ex, row) == 0
        refused = await ex.create_order(OrderRequest(row.symbol, "sell", "market", amount, reduce_only=True))
        assert refused.status == "rejected" and refused.outcome == "rejected", refused
        ran.append("reduce_only")
    else:
        sold = await ex.create_order(
            OrderRequest(
                row.symbol,
                "sell",
                "market",
                bought.filled * Decimal("0.99")
                - (bought.filled * Decimal("0.99")) % step_of(market, "amount"),
            )
        )
        assert sold.status == "closed", sold

    # a limit buy under the market rests; moving the price through it fills it (maker, at its price)
    bid, ask, _ = await book_top(hub, row)
    limit = on_tick(market, bid * Decimal("0.98"))
    amount = amount_for(market, limit, Decimal(120))
    resting = await ex.create_order(OrderRequest(row.symbol, "buy", "limit", amount, limit))
    assert resting.status == "open" and resting.filled == 0, resting
    assert resting.client_order_id in {o.client_order_id for o in await ex.open_orders(row.symbol)}
    admin.call(
        "POST",
        "/_sim/market",
        {"venue": row.venue, "symbol": "BTC/USDT", "price": str(limit * Decimal("0.97"))},
    )
    admin.call("POST", "/_sim/clock", {"advance_ms": 1000})
    filled = await until_status(ex, resting.client_order_id, {"closed"})
    assert filled.status == "closed" and filled.filled == amount, filled
    assert filled.average is not None and abs(filled.average - limit) <= step_of(market, "price"), filled
    ran.append("limit_rests_then_fills")
    if row.contract:  # flatten what the limit bought
        flat = await ex.create_order(
            OrderRequest(row.symbol, "sell", "market", await held(ex, row), reduce_only=True)
        )
        assert flat.status == "closed"

    # cancel: a resting order is canceled and no longer open
    bid, ask, _ = await book_top(hub, row)
    limit = on_tick(market, bid * Decimal("0.95"))
    resting = await ex.create_order(
        OrderRequest(row.symbol, "buy", "limit", amount_for(market, limit, Decimal(100)), limit)
    )
    assert resting.status == "open", resting
    canceled = await ex.cancel_order(resting.client_order_id)
    assert canceled.status == "canceled", canceled
    assert resting.client_order_id not in {o.client_order_id for o in await ex.open_orders(row.symbol)}
    ran.append("cancel")

    # partial fill: a limit at the best ask for more than that level shows takes the level, rests the
    # rest; the clock stands still meanwhile (well inside every venue's receive window) so the book holds
    admin.call("POST", "/_sim/clock", {"mode": "virtual", "start": int(time.time() * 1000), "speed": 0})
    try:
        bid, ask, level = await book_top(hub, row)
        lot = step_of(market, "amount")
        want = (level * Decimal("1.5") / lot).to_integral_value() * lot
        partial = await ex.create_order(OrderRequest(row.symbol, "buy", "limit", want, ask))
        rest_canceled = await ex.cancel_order(partial.client_order_id)
    finally:
        admin.call("POST", "/_sim/clock", {"mode": "virtual", "start": int(time.time() * 1000), "speed": 1})
    assert partial.status == "open" and 0 < partial.filled < want, partial
    assert rest_canceled.status == "canceled" and rest_canceled.filled == partial.filled, rest_canceled
    ran.append("partial_fill")
    if row.contract:
        flat = await ex.create_order(
            OrderRequest(row.symbol, "sell", "market", await held(ex, row), reduce_only=True)
        )
        assert flat.status == "closed"

    # below the market's minimum: refused as a filter failure
    bid, ask, _ = await book_top(hub, row)
    min_cost = market["limits"]["cost"]["min"]
    minimum = Decimal(str(market["limits"]["amount"]["min"] or lot))
    if min_cost and minimum * cs * ask < Decimal(str(min_cost)):
        small = OrderRequest(row.symbol, "buy", "market", minimum)
    elif min_cost:
        price = on_tick(market, Decimal(str(min_cost)) / (minimum * cs) / 2)
        small = OrderRequest(row.symbol, "buy", "limit", minimum, price)
    else:
        small = OrderRequest(row.symbol, "buy", "market", lot / 2)
    tiny = await ex.create_order(small)
    assert tiny.status == "rejected" and tiny.outcome == "filter_failure", tiny
    ran.append("below_minimum")

    # insufficient balance: an order worth three times the free quote (on perpetuals 200 times: more
    # than any leverage covers), within the market's maximum amount
    free = (await ex.balances())["USDT"].free
    big = amount_for(market, ask, free * (200 if row.contract else 3))
    most = market["limits"]["amount"]["max"]
    if most:
        big = min(big, Decimal(str(most)))
    broke = await ex.create_order(
        OrderRequest(row.symbol, "buy", "limit", big, on_tick(market, bid * Decimal("0.99")))
    )
    assert broke.status == "rejected" and broke.outcome == "insufficient_balance", broke
    ran.append("insufficient_balance")
    return ran


@pytest.mark.timeout(300)
@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
@pytest.mark.parametrize("mode", ["paper", "live"])
async def test_conformance(
    exec_sim: ThreadedSim, sim_admin13: SimAdmin, store: Store, row: Row, mode: str
) -> None:
    """Every scenario passes for this executor on this venue market."""
    admin = sim_admin13
    # a first level worth 2000 USDT, so partial fills are affordable; time runs virtually from now
    admin.call("POST", "/_sim/market", {"venue": row.venue, "level_notional": 2000})
    admin.call("POST", "/_sim/clock", {"mode": "virtual", "start": int(time.time() * 1000), "speed": 1})
    hub = make_hub(exec_sim.url, row)
    client = None
    ex: Executor
    try:
        if mode == "live":
            ex, client, _key = await make_live(store, exec_sim.url, admin, row)
        else:
            ex = make_paper(store, hub, row)
        ran = await scenarios(ex, hub, row, admin)
    finally:
        await hub.close()
        if client is not None:
            await client.close()
    expected = [
        "market",
        "limit_rests_then_fills",
        "cancel",
        "partial_fill",
        "below_minimum",
        "insufficient_balance",
    ]
    if row.contract:
        expected.insert(1, "reduce_only")
    assert ran == expected
