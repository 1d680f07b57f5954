"""PaperExecutor on fixed books, figures computed by hand; balances conserved over random sequences.

The fill model itself is covered in tests/unit/domain/test_fills.py; these check what the executor does
with it: balances and holds in the store, order states, fills, outcomes.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.adapters.execution.paper import PaperExecutor
from tradewarden.adapters.store.db import Store, migrate

D = Decimal
SPOT_MARKET = {
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "contract": False,
    "precision": {"amount": 0.001, "price": 0.5},
    "limits": {"amount": {"min": 0.001}, "cost": {"min": 5}},
    "maker": 0.001,
    "taker": 0.002,
}
PERP_MARKET = {
    "symbol": "BTC/USDT:USDT",
    "base": "BTC",
    "quote": "USDT",
    "settle": "USDT",
    "contract": True,
    "contractSize": 0.01,
    "precision": {"amount": 1, "price": 0.5},
    "limits": {"amount": {"min": 1}, "cost": {"min": None}},
    "maker": 0.0002,
    "taker": 0.0005,
}
BOOK = {"bids": [[99, 1], [98, 2], [96, 5]], "asks": [[100, 1], [101, 2], [103, 5]]}
# ccxt states a contract market's book in contracts: the same BTC amounts at 0.01 BTC a contract
PERP_BOOK = {"bids": [[99, 100], [98, 200], [96, 500]], "asks": [[100, 100], [101, 200], [103, 500]]}


class FixedSource:
    """Markets and one book per symbol that the test sets (what the hub would serve)."""

    def __init__(self) -> None:
        self.books: dict[str, dict[str, Any]] = {"BTC/USDT": BOOK, "BTC/USDT:USDT": PERP_BOOK}

    async def markets(self, exchange_id: str) -> dict[str, Any]:
        return {"BTC/USDT": SPOT_MARKET, "BTC/USDT:USDT": PERP_MARKET}

    async def order_book(self, exchange_id: str, symbol: str, limit: int | None = None) -> dict[str, Any]:
        return self.books[symbol]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    made = Store(f"sqlite:///{Path(tmp_path_factory.mktemp('paper')) / 'paper.db'}")
    migrate(made.engine)
    yield made
    made.dispose()


ACCOUNTS = itertools.count()


def paper(
    store: Store, source: FixedSource, start: dict[str, Decimal], leverage: Decimal = D(1)
) -> PaperExecutor:
    n = next(ACCOUNTS)
    return PaperExecutor(store, source, "binance", f"conn{n}", f"acct{n}", start, leverage=leverage)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_market_buy_walks_the_book_vwap_and_taker_fee(store: Store) -> None:
    ex = paper(store, FixedSource(), {"USDT": D(1000), "BTC": D(0)})
    order = run(ex.create_order(OrderRequest("BTC/USDT", "buy", "market", D("2.5"))))
    # 1 @ 100 + 1.5 @ 101 = 251.5; VWAP 100.6; taker fee 0.2 % of 251.5 = 0.503
    assert (order.status, order.filled, order.average, order.cost, order.fee) == (
        "closed",
        D("2.5"),
        D("100.6"),
        D("251.5"),
        D("0.503"),
    )
    fills = run(ex.fills())
    assert [(f.price, f.amount, f.fee, f.liquidity) for f in fills] == [
        (D(100), D(1), D("0.2"), "taker"),
        (D(101), D("1.5"), D("0.303"), "taker"),
    ]
    balances = run(ex.balances())
    assert balances["USDT"].total == D("747.997") and balances["BTC"].total == D("2.5")


def test_market_sell_more_than_the_book_shows_fills_what_is_there(store: Store) -> None:
    ex = paper(store, FixedSource(), {"USDT": D(0), "BTC": D(10)})
    order = run(ex.create_order(OrderRequest("BTC/USDT", "sell", "market", D(9))))
    # the bids hold 8: 99 + 196 + 480 = 775, fee 1.55; the last 1 is not filled (no book left)
    assert (order.status, order.filled, order.cost, order.fee) == ("closed", D(8), D(775), D("1.55"))
    assert run(ex.balances())["USDT"].total == D("773.45")
    assert run(ex.balances())["BTC"].total == D(2)


def test_limit_partial_then_rest_fills_as_maker_when_the_book_moves_through(store: Store) -> None:
    source = FixedSource()
    ex = paper(store, source, {"USDT": D(1000)})
    order = run(ex.create_order(OrderRequest("BTC/USDT", "buy", "limit", D(4), D(101))))
    # takes 1 @ 100 + 2 @ 101 = 302 (+0.604 taker fee); 1 rests at 101 holding 101 x 1.001 = 101.101
    assert (order.status, order.filled, order.cost) == ("open", D(3), D(302))
    usdt = run(ex.balances())["USDT"]
    assert (usdt.total, usdt.used) == (D("697.396"), D("101.101"))
    # the same book again: the levels at 100 and 101 are the ones it took; nothing more fills
    assert run(ex.fetch_order(order.client_order_id)).filled == D(3)
    source.books["BTC/USDT"] = {"bids": [[98, 1]], "asks": [[99, 3]]}
    done = run(ex.fetch_order(order.client_order_id))
    # the rest fills at its own price as maker: 101, fee 0.101
    assert (done.status, done.filled, done.cost, done.fee) == ("closed", D(4), D(403), D("0.705"))
    usdt = run(ex.balances())["USDT"]
    assert (usdt.total, usdt.used) == (D("596.295"), D(0))
    assert [f.liquidity for f in run(ex.fills())] == ["taker", "taker", "maker"]


def test_cancel_releases_the_hold(store: Store) -> None:
    ex = paper(store, FixedSource(), {"USDT": D(1000)})
    order = run(ex.create_order(OrderRequest("BTC/USDT", "buy", "limit", D(2), D(90))))
    assert order.status == "open" and run(ex.balances())["USDT"].used == D("180.18")
    assert run(ex.cancel_order(order.client_order_id)).status == "canceled"
    assert run(ex.balances())["USDT"].used == D(0) and run(ex.open_orders()) == []


@pytest.mark.parametrize(
    ("request_", "outcome"),
    [
        (OrderRequest("BTC/USDT", "buy", "market", D("0.0015")), "filter_failure"),  # lot size
        (OrderRequest("BTC/USDT", "buy", "limit", D(1), D("99.25")), "filter_failure"),  # tick size
        (OrderRequest("BTC/USDT", "buy", "limit", D("0.001"), D(90)), "filter_failure"),  # notional 0.09 < 5
        (OrderRequest("BTC/USDT", "buy", "market", D(5)), "insufficient_balance"),  # ~510 > 100
        (OrderRequest("BTC/USDT", "sell", "market", D(2)), "insufficient_balance"),  # holds 1 BTC
        (OrderRequest("BTC/USDT:USDT", "sell", "market", D(1), reduce_only=True), "rejected"),  # no position
    ],
)
def test_refusals_name_their_outcome_and_change_nothing(
    store: Store, request_: OrderRequest, outcome: str
) -> None:
    ex = paper(store, FixedSource(), {"USDT": D(100), "BTC": D(1)})
    before = run(ex.balances())
    order = run(ex.create_order(request_))
    assert (order.status, order.outcome) == ("rejected", outcome), order
    assert run(ex.balances()) == before and run(ex.fills()) == []


def test_perpetual_open_and_reduce_only_close(store: Store) -> None:
    ex = paper(store, FixedSource(), {"USDT": D(1000)}, leverage=D(10))
    opened = run(ex.create_order(OrderRequest("BTC/USDT:USDT", "buy", "market", D(150))))
    # 150 contracts x 0.01 = 1.5 BTC: 1 @ 100 + 0.5 @ 101 = 150.5; margin 15.05; fee 0.07525
    assert (opened.filled, opened.cost, opened.fee) == (D(150), D("150.5"), D("0.07525"))
    [position] = run(ex.positions())
    assert (position.contracts, position.entry_price) == (D(150), D("100.333333333333333333"))
    assert run(ex.balances())["USDT"].used == D("15.05")
    closed = run(ex.create_order(OrderRequest("BTC/USDT:USDT", "sell", "market", D(150), reduce_only=True)))
    # sells 1 @ 99 + 0.5 @ 98 = 148: loss 150.5 - 148 = 2.5; fee 0.074
    assert closed.status == "closed" and run(ex.positions()) == []
    usdt = run(ex.balances())["USDT"]
    assert usdt.used == D(0)
    assert usdt.total == D(1000) - D("0.07525") - D("2.5") - D("0.074")


ORDERS = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(min_value=1, max_value=9000)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=ORDERS)
def test_value_moves_only_by_fees_and_price(store: Store, orders: list[tuple[str, int]]) -> None:
    """At a fixed mark, each fill changes the account's value by (mark - price) x amount x side - fee,
    exactly; a refused order changes nothing."""
    ex = paper(store, FixedSource(), {"USDT": D(500), "BTC": D(3)})
    mark = D("99.5")

    def value() -> Decimal:
        b = run(ex.balances())
        total: Decimal = b["USDT"].total + b["BTC"].total * mark
        return total

    for side, lots in orders:
        before, seen = value(), len(run(ex.fills()))
        order = run(ex.create_order(OrderRequest("BTC/USDT", side, "market", D(lots) / 1000)))  # type: ignore[arg-type]
        new = run(ex.fills())[seen:]
        if order.status == "rejected":
            assert new == [] and value() == before
            continue
        sign = 1 if side == "buy" else -1
        expected = sum(((mark - f.price) * f.amount * sign - f.fee for f in new), D(0))
        assert value() - before == expected
        b = run(ex.balances())
        assert b["USDT"].total >= 0 and b["BTC"].total >= 0
