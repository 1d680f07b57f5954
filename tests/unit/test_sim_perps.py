"""Perpetual arithmetic (sim/perps.py) and the isolated/cross margin ledger (sim/ledger.PerpSettlement)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewarden.sim.ledger import EIGHT, FEES, INSURANCE, MARKET, PerpSettlement
from tradewarden.sim.market import MarketData, PairSpec
from tradewarden.sim.matching import Engine, Instrument, OrdType, Side
from tradewarden.sim.perps import (
    FundingRules,
    PerpRisk,
    crossed,
    funding_payment,
    funding_rate,
    funding_times,
    liquidation_price,
    mark_from_index,
    premium_at,
)

D = Decimal
H8 = 8 * 3_600_000
RULES = FundingRules()

prices = st.decimals(min_value=D("1"), max_value=D("200000"), places=2)
qtys = st.decimals(min_value=D("0.001"), max_value=D("100"), places=3)
levs = st.integers(min_value=1, max_value=125)


def test_funding_rate_follows_the_published_formula() -> None:
    # premium inside interest ± clamp: the rate is the interest rate
    assert funding_rate(D("0.0003"), RULES) == D("0.0001")
    assert funding_rate(D("-0.0003"), RULES) == D("0.0001")
    # outside it: premium ∓ clamp
    assert funding_rate(D("0.002"), RULES) == D("0.002") - D("0.0005")
    assert funding_rate(D("-0.002"), RULES) == D("-0.002") + D("0.0005")
    # and never beyond the cap
    assert funding_rate(D("0.5"), RULES) == RULES.cap
    assert funding_rate(D("-0.5"), RULES) == -RULES.cap


def test_funding_times_crossed_by_a_jump() -> None:
    assert funding_times(0, H8 - 1, H8) == []
    assert funding_times(0, H8, H8) == [H8]
    assert funding_times(H8, H8, H8) == []  # a time is charged once
    assert funding_times(5, 30 * 24 * 3_600_000, H8) == [H8 * i for i in range(1, 91)]


@given(st.integers(min_value=0, max_value=2**41))
def test_premium_is_small_and_deterministic(t: int) -> None:
    p = premium_at(7, "BTCUSDT", t, RULES.premium_amplitude)
    assert abs(p) <= RULES.premium_amplitude
    assert p == premium_at(7, "BTCUSDT", t, RULES.premium_amplitude)
    mark = mark_from_index(D("60000"), p, D("0.1"))
    assert abs(mark - D("60000") * (1 + p)) <= D("0.05")


@given(prices, qtys, levs)
def test_isolated_liquidation_price_is_where_margin_meets_maintenance(entry: D, qty: D, lev: int) -> None:
    margin = entry * qty / lev
    for signed in (qty, -qty):
        liq = liquidation_price(signed, entry, margin, RULES.mmr)
        if liq == 0:
            assert signed > 0 and lev == 1  # a 1x long is never liquidated (price cannot go below 0)
            continue
        direction = 1 if signed > 0 else -1
        equity = margin + (liq - entry) * qty * direction
        assert abs(equity - liq * qty * RULES.mmr) < D("1e-12") * max(D(1), entry * qty)
        # and it lies on the losing side of the entry, closer for higher leverage
        assert (liq < entry) if signed > 0 else (liq > entry)
        assert crossed(signed, liq, liq)
        assert not crossed(signed, entry, liq)


@given(qtys, prices, st.decimals(min_value=D("-0.0075"), max_value=D("0.0075"), places=6))
def test_longs_pay_shorts_receive_a_positive_rate(qty: D, mark: D, rate: D) -> None:
    long_pays = funding_payment(qty, D(1), mark, rate)
    assert long_pays == (-qty * mark * rate).quantize(EIGHT, ROUND_HALF_EVEN)
    assert funding_payment(-qty, D(1), mark, rate) == -long_pays
    if rate > 0:
        assert long_pays <= 0


T0 = 1_764_633_600_000  # a funding time (2025-12-02 00:00 UTC)


def _setup(now: list[int], wallet: D = D("10000")) -> tuple[MarketData, Engine, PerpSettlement, Instrument]:
    """One BTCUSDT perpetual on a market that reads the test's clock `now[0]`."""
    spec = PairSpec("BTC", "USDT", D("60000"), D("0.1"), D("0.001"))
    market = MarketData("unit", 1, (spec,), clock=lambda: now[0])
    perps = PerpSettlement(wallet, "USDT", default_leverage=10)
    engine = Engine(market, perps, name="perp", clock=lambda: now[0])
    inst = Instrument(
        "BTCUSDT", "BTC/USDT", "BTC", "USDT", "perp", tick=D("0.1"), step=D("0.001"), min_qty=D("0.001"),
        min_price=D("0.1"), min_notional=D("5"), maker_fee=D("0.0002"), taker_fee=D("0.0005"),
    )  # fmt: skip
    engine.add_instrument(inst)
    return market, engine, perps, inst


def _total(perps: PerpSettlement) -> D:
    return sum((a.wallet for a in perps.accounts.values()), D(0))


@settings(max_examples=40, deadline=None)
@given(qtys.filter(lambda q: q <= D("0.3")), levs.filter(lambda x: x >= 2), st.booleans())
def test_isolated_margin_and_capped_loss(qty: D, lev: int, long: bool) -> None:
    now = [T0 + 1_000]
    market, engine, perps, _ = _setup(now)
    risk = PerpRisk("unit", 1, market, engine, perps, lambda: now[0], RULES)
    perps.set_margin_mode("a", "BTCUSDT", "isolated")
    perps.account("a").leverage["BTCUSDT"] = lev
    start_total = _total(perps)
    order = engine.new_order("a", "BTCUSDT", Side.BUY if long else Side.SELL, OrdType.MARKET, qty=qty)
    entry, fee = order.avg_price, sum((f.fee for f in order.fills), D(0))
    pos = perps.position("a", "BTCUSDT")
    margin = sum((f.price * f.qty for f in order.fills), D(0)) / lev
    assert pos.isolated and abs(pos.margin - margin) <= D("0.00000001") * len(order.fills)
    margin = pos.margin
    acc = perps.account("a")
    assert acc.wallet == D("10000") - fee
    # isolated: other money is untouched by this position's unrealized loss
    assert perps.available(acc) == acc.wallet - margin
    # crash through the liquidation price: the account loses exactly its isolated margin
    liq = perps.liquidation_price("a", "BTCUSDT")
    assert liq == liquidation_price(pos.qty, entry, margin, RULES.mmr)
    far = liq * D("0.5") if long else liq * D("1.5")
    market.set_price("BTC/USDT", max(D("0.1"), far.quantize(D("0.1"))))
    done = risk.check_liquidations(now[0])
    assert [(x.account, x.isolated) for x in done] == [("a", True)]
    assert perps.position("a", "BTCUSDT").qty == 0
    assert acc.wallet == D("10000") - fee - margin
    assert perps.accounts[INSURANCE].wallet == -done[0].insurance
    assert [e.kind for e in acc.journal][-1] == "insurance"
    # double entry: money moved between accounts, none was created or destroyed
    assert _total(perps) == start_total
    assert perps.accounts[FEES].wallet == fee


def test_funding_is_charged_at_every_crossed_time_and_moves_isolated_margin() -> None:
    now = [T0 + H8 - 1]
    market, engine, perps, _ = _setup(now)
    risk = PerpRisk("unit", 1, market, engine, perps, lambda: now[0], RULES)
    perps.set_margin_mode("iso", "BTCUSDT", "isolated")
    engine.new_order("iso", "BTCUSDT", Side.BUY, OrdType.MARKET, qty=D("0.1"))
    engine.new_order("crs", "BTCUSDT", Side.SELL, OrdType.MARKET, qty=D("0.1"))
    iso, crs = perps.account("iso"), perps.account("crs")
    w_iso, w_crs, m_iso = iso.wallet, crs.wallet, perps.position("iso", "BTCUSDT").margin
    total = _total(perps)
    now[0] = T0 + 3 * H8 + 10  # a jump over three funding times
    risk.update()
    events = [risk.applied[("BTCUSDT", T0 + t)] for t in (H8, 2 * H8, 3 * H8)]
    paid_long = sum((funding_payment(D("0.1"), D(1), e.mark, e.rate) for e in events), D(0))
    assert iso.wallet == w_iso + paid_long
    assert perps.position("iso", "BTCUSDT").margin == m_iso + paid_long
    assert crs.wallet == w_crs - paid_long
    assert [e.kind for e in iso.journal if e.kind == "funding"] == ["funding"] * 3
    assert _total(perps) == total
    risk.update()  # nothing new crossed: nothing charged twice
    assert iso.wallet == w_iso + paid_long
    assert perps.accounts[MARKET].wallet == -(
        sum((e.amount for e in iso.journal + crs.journal if e.kind != "commission"), D(0))
    )


def test_margin_mode_cannot_change_under_an_open_position() -> None:
    _, engine, perps, _ = _setup([T0])
    engine.new_order("a", "BTCUSDT", Side.BUY, OrdType.MARKET, qty=D("0.01"))
    try:
        perps.set_margin_mode("a", "BTCUSDT", "isolated")
    except ValueError as exc:
        assert "other margin mode" in str(exc)
    else:
        raise AssertionError("mode changed under an open cross position")
    assert perps.margin_mode("a", "BTCUSDT") == "cross"


def test_cross_liquidation_uses_the_shared_wallet() -> None:
    now = [T0]
    market, engine, perps, _ = _setup(now, D("1000"))
    risk = PerpRisk("unit", 1, market, engine, perps, lambda: now[0], RULES)
    perps.account("a").leverage["BTCUSDT"] = 20
    engine.new_order("a", "BTCUSDT", Side.BUY, OrdType.MARKET, qty=D("0.2"))
    pos = perps.position("a", "BTCUSDT")
    acc = perps.account("a")
    # cross: the whole wallet backs the position
    assert perps.liquidation_price("a", "BTCUSDT") == liquidation_price(
        pos.qty, pos.entry, acc.wallet, RULES.mmr
    )
    market.set_price("BTC/USDT", D("50000"))
    assert risk.check_liquidations(now[0])[0].isolated is False
    assert pos.qty == 0 and acc.wallet >= 0
