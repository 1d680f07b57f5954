"""The fill model on fixed books (walk, VWAP, slippage cap, partial fills, fees, each rejection), the
candle adaptation, and hypothesis: balances move only by fees and price."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewarden.domain.fills import (
    Balances,
    BookLevel,
    Fees,
    MarketRules,
    OrderBook,
    OrderRejected,
    candle_limit_fill,
    candle_market_fill,
    check_order,
    limit_fill_on_arrival,
    market_fill,
    resting_fill_on_book,
    resting_fill_on_trade,
    shown,
)

FEES = Fees(maker=D("0.0002"), taker=D("0.001"))
BOOK = OrderBook(
    bids=(BookLevel(D(99), D(1)), BookLevel(D(98), D(2)), BookLevel(D(96), D(5))),
    asks=(BookLevel(D(100), D(1)), BookLevel(D(101), D(2)), BookLevel(D(103), D(5))),
)


def test_market_buy_walks_the_asks_vwap_and_taker_fee() -> None:
    r = market_fill("buy", D("2.5"), BOOK, FEES)
    assert [(e.price, e.amount) for e in r.executions] == [(D(100), D(1)), (D(101), D("1.5"))]
    assert r.notional == D("251.5")
    assert r.avg_price == D("100.6")
    assert r.fee == D("0.2515")
    assert (r.filled, r.remaining, r.stopped) == (D("2.5"), D(0), "filled")
    assert all(e.liquidity == "taker" for e in r.executions)


def test_market_sell_walks_the_bids() -> None:
    r = market_fill("sell", D(2), BOOK, FEES)
    assert r.avg_price == D("98.5") and r.fee == D("0.197")


def test_max_slippage_caps_the_walk() -> None:
    r = market_fill("buy", D(4), BOOK, FEES, max_slippage_pct=D(1))  # at most 101
    assert (r.filled, r.remaining, r.stopped) == (D(3), D(1), "max_slippage")
    s = market_fill("sell", D(8), BOOK, FEES, max_slippage_pct=D(2))  # at least 97.02
    assert (s.filled, s.stopped) == (D(3), "max_slippage")


def test_partial_fill_when_the_book_runs_out() -> None:
    r = market_fill("buy", D(10), BOOK, FEES)
    assert (r.filled, r.remaining, r.stopped) == (D(8), D(2), "book_exhausted")
    assert r.notional == D(100) + D(202) + D(515)


def test_limit_on_arrival_takes_up_to_its_price_and_rests_the_rest() -> None:
    full = limit_fill_on_arrival("buy", D(3), D(101), BOOK, FEES)
    assert (full.filled, full.stopped, full.avg_price) == (D(3), "filled", D(302) / D(3))
    part = limit_fill_on_arrival("buy", D(4), D("100.5"), BOOK, FEES)
    assert (part.filled, part.remaining, part.stopped) == (D(1), D(3), "limit_price")
    none = limit_fill_on_arrival("sell", D(1), D("99.5"), BOOK, FEES)
    assert (none.filled, none.avg_price) == (D(0), None)


def test_resting_order_fills_as_maker_at_its_price_up_to_visible_size() -> None:
    moved = OrderBook(
        bids=(), asks=(BookLevel(D("99.5"), D(1)), BookLevel(D(100), D("0.5")), BookLevel(D(101), D(9)))
    )
    r = resting_fill_on_book("buy", D(2), D(100), moved, FEES)
    assert [(e.price, e.amount, e.liquidity) for e in r.executions] == [
        (D(100), D(1), "maker"),
        (D(100), D("0.5"), "maker"),
    ]
    assert r.fee == D(150) * D("0.0002") and r.stopped == "limit_price"


def test_resting_order_fills_on_a_crossing_trade_at_most_its_size() -> None:
    r = resting_fill_on_trade("buy", D(1), D(100), D("99.9"), D("0.4"), FEES)
    assert (r.filled, r.avg_price, r.stopped) == (D("0.4"), D(100), "visible_size")
    assert resting_fill_on_trade("buy", D(1), D(100), D("100.1"), D(5), FEES).filled == 0
    s = resting_fill_on_trade("sell", D(1), D(100), D(100), D(5), FEES)
    assert (s.filled, s.stopped) == (D(1), "filled")


@pytest.mark.parametrize(
    ("amount", "price", "rules", "reason", "fragment"),
    [
        (D(0), None, MarketRules(), "amount_not_positive", "must be above 0"),
        (D(1), D(-1), MarketRules(), "price_not_positive", "price -1"),
        (D("0.0015"), None, MarketRules(lot_size=D("0.001")), "lot_size", "round to 0.001"),
        (D("0.001"), None, MarketRules(min_amount=D("0.01")), "min_amount", "below the minimum 0.01"),
        (D(1), D("100.05"), MarketRules(tick_size=D("0.1")), "tick_size", "tick size 0.1"),
        (
            D("0.01"),
            None,
            MarketRules(min_notional=D(5)),
            "min_notional",
            "notional 1 (0.01 x 100) is below 5",
        ),
    ],
)
def test_each_rejection_names_its_rule(
    amount: D, price: D | None, rules: MarketRules, reason: str, fragment: str
) -> None:
    with pytest.raises(OrderRejected) as err:
        check_order("buy", amount, price, rules, D(100))
    assert err.value.reason == reason
    assert fragment in str(err.value)


def test_market_order_rejections_happen_before_any_fill() -> None:
    with pytest.raises(OrderRejected, match="min_notional"):
        market_fill("buy", D("0.01"), BOOK, FEES, MarketRules(min_notional=D(5)))
    with pytest.raises(OrderRejected) as err:
        market_fill("buy", D(1), OrderBook(bids=(), asks=()), FEES)
    assert err.value.reason == "no_liquidity"
    check_order("buy", D("0.05"), D("100.1"), MarketRules(D("0.1"), D("0.01"), D("0.01"), D(5)), D(100))


def test_candle_market_fill_at_the_point_price_or_the_quote() -> None:
    r = candle_market_fill("buy", D(2), D(100), FEES)
    assert (r.avg_price, r.fee) == (D(100), D("0.2"))
    q = candle_market_fill("sell", D(2), D(100), FEES, bid=D("99.9"), ask=D("100.1"))
    assert q.avg_price == D("99.9")


def test_candle_limit_fill_when_the_path_reaches_it() -> None:
    assert candle_limit_fill("buy", D(1), D(95), D("95.01"), FEES) is None
    r = candle_limit_fill("buy", D(1), D(95), D(94), FEES)
    assert r is not None and (r.avg_price, r.fee) == (D(95), D("0.019"))
    gap = candle_limit_fill("buy", D(1), D(95), D(93), FEES, at_open=True)
    assert gap is not None and gap.avg_price == D(93)
    sell = candle_limit_fill("sell", D(1), D(105), D(106), FEES, at_open=True)
    assert sell is not None and sell.avg_price == D(106)
    assert candle_limit_fill("sell", D(1), D(105), D(104), FEES) is None


money = st.decimals(min_value=D("0.01"), max_value=D(1000), places=2)
size = st.decimals(min_value=D("0.001"), max_value=D(10), places=3)


@st.composite
def books(draw: st.DrawFn) -> OrderBook:
    mid = draw(st.decimals(min_value=D(10), max_value=D(1000), places=2))
    steps = draw(st.lists(st.decimals(min_value=D("0.01"), max_value=D(5), places=2), min_size=1, max_size=6))
    sizes = draw(st.lists(size, min_size=len(steps), max_size=len(steps)))
    asks, bids, a, b = [], [], mid, mid
    for step, amount in zip(steps, sizes, strict=True):
        a, b = a + step, b - step
        asks.append(BookLevel(a, amount))
        if b > 0:
            bids.append(BookLevel(b, amount))
    return OrderBook(bids=tuple(bids), asks=tuple(asks))


@settings(max_examples=60, deadline=None)
@given(
    book=books(),
    orders=st.lists(st.tuples(st.sampled_from(["buy", "sell"]), size), min_size=1, max_size=8),
    mark=money,
    slippage=st.none() | st.decimals(min_value=D("0.1"), max_value=D(5), places=1),
)
def test_fills_conserve_value_only_fees_and_price_move_it(
    book: OrderBook, orders: list[tuple[str, D]], mark: D, slippage: D | None
) -> None:
    balances = Balances(D(100), D(100000))
    for side, amount in orders:
        if not (book.asks if side == "buy" else book.bids):
            continue
        r = market_fill(side, amount, book, FEES, max_slippage_pct=slippage)  # type: ignore[arg-type]
        before = balances.value(mark)
        balances = balances.apply(r)
        sign = 1 if side == "buy" else -1
        # value at the mark moves by the price difference of what traded, minus the fee, nothing else
        assert balances.value(mark) - before == sign * (r.filled * mark - r.notional) - r.fee
        assert r.filled + r.remaining == amount and r.filled <= amount
        assert r.fee == r.notional * FEES.taker
        levels = book.asks if side == "buy" else book.bids
        if slippage is not None and r.executions:
            bound = levels[0].price * (1 + sign * slippage / 100)
            assert all((e.price <= bound) if side == "buy" else (e.price >= bound) for e in r.executions)
        assert r.filled <= sum((lv.amount for lv in levels), D(0))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("4.999999999999999999"), "5"),  # quote/price noise reads as the figure a person means
        (D("0.000199524783984521"), "0.000199524784"),
        (D("50123.450000"), "50123.45"),
        (D("1E+3"), "1000"),
        (D("0E-18"), "0"),
        (D("-0.0015"), "-0.0015"),
        (None, "none"),
    ],
)
def test_shown_figures_are_short_and_plain(value: D | None, text: str) -> None:
    assert shown(value) == text


@given(st.decimals(min_value=D("1e-12"), max_value=D("1e12"), allow_nan=False, places=18))
def test_shown_is_within_ten_significant_digits(value: D) -> None:
    text = shown(value)
    assert "E" not in text and "e" not in text
    if value != 0:
        assert abs(D(text) - value) <= abs(value) * D("1e-9")


def test_rules_in_base_units_scale_lots_and_minimum_amounts_only() -> None:
    rules = MarketRules(tick_size=D("0.1"), lot_size=D("1"), min_amount=D("2"), min_notional=D("5"))
    assert rules.in_base(D("0.001")) == MarketRules(
        tick_size=D("0.1"), lot_size=D("0.001"), min_amount=D("0.002"), min_notional=D("5")
    )
    assert rules.in_base(D(1)) == rules
    assert MarketRules().in_base(D(10)) == MarketRules()
