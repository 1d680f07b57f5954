"""Simulator matching engine and ledgers: filters, price-time priority, money conservation (hypothesis)."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewarden.sim.ledger import CLEARING, FEES, MARKET, PerpSettlement, SpotSettlement, Wallets
from tradewarden.sim.market import MarketData, PairSpec
from tradewarden.sim.matching import (
    TIF,
    CancelRejected,
    Engine,
    Instrument,
    OrderRejected,
    OrdType,
    Reject,
    Side,
    Status,
)

D = Decimal
PAIR = PairSpec("BTC", "USDT", D("60000"), D("0.01"), D("0.00001"), D("5"))
INST = Instrument(
    "BTCUSDT",
    "BTC/USDT",
    "BTC",
    "USDT",
    tick=D("0.01"),
    step=D("0.00001"),
    min_qty=D("0.00001"),
    min_price=D("0.01"),
    min_notional=D("5"),
    maker_fee=D("0.001"),
    taker_fee=D("0.002"),
)
PERP = Instrument(
    "BTCUSDT",
    "BTC/USDT",
    "BTC",
    "USDT",
    "perp",
    tick=D("0.1"),
    step=D("0.001"),
    min_qty=D("0.001"),
    min_price=D("0.1"),
    min_notional=D("5"),
    maker_fee=D("0.0002"),
    taker_fee=D("0.0005"),
    settle="USDT",
)
ACCOUNTS = ("alice", "bob", "carol")


class StepClock:
    """A clock the test moves by hand: prices follow simulator time, not calls."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def spot(seed: int = 1) -> tuple[Engine, Wallets, MarketData]:
    clock = StepClock(1_700_000_000_000)
    market = MarketData("test", seed, (PAIR,), clock=clock)
    wallets = Wallets({"USDT": D("100000"), "BTC": D("2")})
    engine = Engine(market, SpotSettlement(wallets), clock=clock)
    engine.add_instrument(INST)
    for a in ACCOUNTS:
        wallets.ensure(a)
    return engine, wallets, market


def totals(wallets: Wallets) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for balances in wallets.accounts().values():
        for asset, bal in balances.items():
            out[asset] = out.get(asset, D(0)) + bal.total
    return out


def test_filters() -> None:
    engine, _, _ = spot()
    with pytest.raises(OrderRejected) as e:
        engine.validate(INST, OrdType.LIMIT, D("0.001"), D("60000.005"), None)
    assert e.value.reason is Reject.PRICE_FILTER
    with pytest.raises(OrderRejected) as e:
        engine.validate(INST, OrdType.LIMIT, D("0.000015"), D("60000"), None)
    assert e.value.reason is Reject.LOT_SIZE
    with pytest.raises(OrderRejected) as e:
        engine.validate(INST, OrdType.LIMIT, D("0.00005"), D("60000"), None)  # 3 USDT < 5
    assert e.value.reason is Reject.MIN_NOTIONAL
    with pytest.raises(OrderRejected) as e:
        engine.validate(INST, OrdType.MARKET, None, None, D("4.99"))
    assert e.value.reason is Reject.MIN_NOTIONAL
    engine.validate(INST, OrdType.LIMIT, D("0.001"), D("60000.01"), None)  # valid: no exception


def test_price_time_priority_and_partial_fill() -> None:
    engine, wallets, market = spot()
    best_bid = engine.depth("BTCUSDT", 1)[0][0][0]
    inside = best_bid + D("1")  # above the synthetic bids, below the synthetic asks
    first = engine.new_order("alice", "BTCUSDT", Side.BUY, OrdType.LIMIT, qty=D("0.1"), price=inside)
    second = engine.new_order("bob", "BTCUSDT", Side.BUY, OrdType.LIMIT, qty=D("0.1"), price=inside)
    assert first.status is second.status is Status.NEW
    sell = engine.new_order(
        "carol", "BTCUSDT", Side.SELL, OrdType.LIMIT, qty=D("0.15"), price=inside, tif=TIF.IOC
    )
    assert first.status is Status.FILLED and first.fills[0].is_maker
    assert second.status is Status.PARTIALLY_FILLED and second.executed_qty == D("0.05")
    assert sell.status is Status.FILLED and [f.price for f in sell.fills] == [inside, inside]
    assert not sell.fills[0].is_maker
    # the partially filled order keeps exactly what its remainder needs locked
    assert wallets.get("bob", "USDT").locked == inside * D("0.05")
    engine.cancel("bob", "BTCUSDT", second.order_id)
    assert wallets.get("bob", "USDT").locked == 0
    with pytest.raises(CancelRejected):
        engine.cancel("bob", "BTCUSDT", second.order_id)
    assert market.tick == 0  # nothing here advanced the market


def test_self_trade_is_skipped() -> None:
    engine, _, _ = spot()
    best_bid = engine.depth("BTCUSDT", 1)[0][0][0]
    own = engine.new_order("alice", "BTCUSDT", Side.BUY, OrdType.LIMIT, qty=D("0.1"), price=best_bid + 1)
    sell = engine.new_order("alice", "BTCUSDT", Side.SELL, OrdType.MARKET, qty=D("0.01"))
    assert own.status is Status.NEW and all(f.price <= best_bid for f in sell.fills)


def test_market_buy_deltas() -> None:
    engine, wallets, _ = spot()
    before_q, before_b = wallets.get("alice", "USDT").total, wallets.get("alice", "BTC").total
    order = engine.new_order("alice", "BTCUSDT", Side.BUY, OrdType.MARKET, qty=D("1.5"))
    assert order.status is Status.FILLED and len(order.fills) > 1  # walks several levels
    cost = sum((f.price * f.qty for f in order.fills), D(0))
    fee = sum((f.fee for f in order.fills), D(0))
    assert fee == D("1.5") * INST.taker_fee and {f.fee_asset for f in order.fills} == {"BTC"}
    assert wallets.get("alice", "USDT").total == before_q - cost
    assert wallets.get("alice", "BTC").total == before_b + D("1.5") - fee
    prices = [f.price for f in order.fills]
    assert prices == sorted(prices)


def test_taken_levels_refill_over_the_recovery_time() -> None:
    engine, _, _ = spot()
    twin, _, _ = spot()  # same seed and time, nothing taken: the book as it would be
    clock, twin_clock = engine.clock, twin.clock
    assert isinstance(clock, StepClock) and isinstance(twin_clock, StepClock)
    assert engine.recovery_ms == 5000

    def at(now: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        clock.now = twin_clock.now = now
        return engine.depth("BTCUSDT", 5)[1], twin.depth("BTCUSDT", 5)[1]

    t0 = clock.now
    asks, fresh = at(t0)
    assert asks == fresh
    top_px, top = fresh[0]
    engine.new_order("alice", "BTCUSDT", Side.BUY, OrdType.MARKET, qty=top)
    asks, fresh = at(t0)
    assert asks[0][0] > top_px and asks[:4] == fresh[1:]  # the best level is gone
    asks, fresh = at(t0 + 1000)  # a fifth of the recovery time: four fifths still missing
    missing = top * 4 / 5
    if fresh[0][1] > missing:
        assert asks[0] == (fresh[0][0], fresh[0][1] - missing) and asks[1:] == fresh[1:]
    else:
        assert asks[:4] == fresh[1:]
    asks, fresh = at(t0 + 5000)
    assert asks == fresh  # refilled
    engine.new_order("alice", "BTCUSDT", Side.BUY, OrdType.MARKET, qty=fresh[0][1])
    asks, fresh = at(t0 - 60_000)  # an admin set the clock back: dents "from the future" are dropped
    assert asks == fresh and not engine._consumed


def test_insufficient_balance_changes_nothing() -> None:
    engine, wallets, _ = spot()
    before = totals(wallets)
    with pytest.raises(OrderRejected) as e:
        engine.new_order("alice", "BTCUSDT", Side.BUY, OrdType.LIMIT, qty=D("5"), price=D("60000"))
    assert e.value.reason is Reject.INSUFFICIENT_BALANCE
    assert totals(wallets) == before and engine.orders == {}


op = st.tuples(
    st.sampled_from(ACCOUNTS),
    st.sampled_from(["limit", "market", "quote", "cancel", "tick"]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(min_value=1, max_value=40_000),  # quantity in steps of 0.00001
    st.integers(min_value=-300, max_value=300),  # limit price offset in 0.5 USDT
    st.sampled_from([TIF.GTC, TIF.IOC, TIF.FOK, TIF.GTX]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10_000), ops=st.lists(op, min_size=1, max_size=40))
def test_spot_money_is_conserved(seed: int, ops: list[tuple[str, str, Side, int, int, TIF]]) -> None:
    engine, wallets, _ = spot(seed)
    start = totals(wallets)
    for account, kind, side, steps, offset, tif in ops:
        qty = D(steps) * INST.step
        try:
            if kind == "tick":
                # a minute passes: the price moves and resting orders it crossed fill
                assert isinstance(engine.clock, StepClock)
                engine.clock.now += 60_000
                engine.sweep()
            elif kind == "cancel":
                mine = engine.open_orders(account)
                if mine:
                    engine.cancel(account, "BTCUSDT", mine[0].order_id)
            elif kind == "limit":
                price = engine.last_price("BTCUSDT") + D(offset) / 2
                engine.new_order(account, "BTCUSDT", side, OrdType.LIMIT, qty=qty, price=price, tif=tif)
            elif kind == "market":
                engine.new_order(account, "BTCUSDT", side, OrdType.MARKET, qty=qty)
            else:
                engine.new_order(account, "BTCUSDT", side, OrdType.MARKET, quote_qty=qty * 1000)
        except OrderRejected:
            pass
        # every asset sums to the same total over all accounts (users, MARKET, CLEARING, FEES)
        assert totals(wallets) == start
        for a in ACCOUNTS:
            for asset in ("USDT", "BTC"):
                bal = wallets.get(a, asset)
                assert bal.free >= 0 and bal.locked >= 0
            # locked funds are exactly what the account's open orders hold
            open_ = engine.open_orders(a)
            assert wallets.get(a, "USDT").locked == sum((o.locked for o in open_ if o.side is Side.BUY), D(0))
            assert wallets.get(a, "BTC").locked == sum((o.locked for o in open_ if o.side is Side.SELL), D(0))
        assert wallets.get(CLEARING, "USDT").total == 0 and wallets.get(CLEARING, "BTC").total == 0
        assert wallets.get(FEES, "USDT").total >= 0 and wallets.get(FEES, "BTC").total >= 0
    for order in engine.all_orders(None):
        for fill in order.fills:
            assert fill.quote_qty == fill.price * fill.qty
            assert fill.fee == (fill.qty if order.side is Side.BUY else fill.quote_qty) * (
                INST.maker_fee if fill.is_maker else INST.taker_fee
            )
        assert order.executed_qty == sum((f.qty for f in order.fills), D(0))
        if not order.is_open:
            assert order.locked == 0


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    trades=st.lists(
        st.tuples(
            st.sampled_from(ACCOUNTS),
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(min_value=1, max_value=300),
            st.booleans(),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_perp_pnl_and_fees_settle_to_wallets(seed: int, trades: list[tuple[str, Side, int, bool]]) -> None:
    clock = StepClock(1_700_000_000_000)
    market = MarketData("test", seed, (PAIR,), clock=clock)
    perps = PerpSettlement(D("100000"))
    engine = Engine(market, perps, clock=clock)
    engine.add_instrument(PERP)
    perps.mark_price = engine.last_price
    for a in ACCOUNTS:
        perps.account(a)

    def wallets_sum() -> Decimal:
        return sum((acc.wallet for acc in perps.accounts.values()), D(0))

    start = wallets_sum()
    for account, side, steps, tick in trades:
        if tick:
            clock.now += 60_000  # the mark moves with time, so PnL is not all zero
            engine.sweep()
        with contextlib.suppress(OrderRejected):
            engine.new_order(account, "BTCUSDT", side, OrdType.MARKET, qty=D(steps) * PERP.step)
        assert wallets_sum() == start  # PnL and fees only move between accounts and the sinks
    # flatten everyone, then each wallet = initial + realized PnL − fees
    for a in ACCOUNTS:
        pos = perps.position(a, "BTCUSDT")
        if pos.qty:
            side = Side.SELL if pos.qty > 0 else Side.BUY
            engine.new_order(a, "BTCUSDT", side, OrdType.MARKET, qty=abs(pos.qty), reduce_only=True)
        fills = engine.fills(a)
        acc = perps.account(a)
        assert perps.position(a, "BTCUSDT").qty == 0 and acc.order_margin == 0
        assert acc.wallet == D("100000") + sum((f.realized_pnl - f.fee for f in fills), D(0))
    assert perps.account(FEES).wallet == sum((f.fee for a in ACCOUNTS for f in engine.fills(a)), D(0))
    assert perps.account(MARKET).wallet == -sum(
        (f.realized_pnl for a in ACCOUNTS for f in engine.fills(a)), D(0)
    )
