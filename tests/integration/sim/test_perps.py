"""Perpetuals through real ccxt: funding rate and history, leverage, margin mode, funding charged at the
funding time, and an isolated position liquidated when its mark crosses the liquidation price.

Every amount is checked against a hand computation with Decimal (margin = entry × qty / leverage,
fee = entry × qty × taker rate, funding = −qty × mark × rate, liquidation price from the isolated
margin and the 0.4 % maintenance rate, and the loss on liquidation = the isolated margin).
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin

D = Decimal
FUTURES = ["read", "spot_trade", "futures_trade"]
HOUR = 3_600_000
INTERVAL = 8 * HOUR
MMR = D("0.004")
CAP = D("0.0075")
EIGHT = D("0.00000001")  # funding amounts: 8 decimals, half-even (ccxt leaves the context half-up)


def dec(x: Any) -> Decimal:
    """A ccxt number as Decimal (via str, so 0.1 stays 0.1)."""
    return D(str(x))


def hand_liq_long(entry: Decimal, qty: Decimal, margin: Decimal) -> Decimal:
    """Long isolated: margin + (P − entry)·q = mmr·P·q."""
    return (entry * qty - margin) / (qty * (1 - MMR))


async def start_virtual_clock(sim: SimServer) -> None:
    """Virtual clock (POST /_sim/clock) at wall time, running at wall speed so signatures stay fresh."""
    view = await admin(
        sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": int(time.time() * 1000), "speed": 1}
    )
    assert view["mode"] == "virtual"


async def jump_past_funding(sim: SimServer, clients: list[Any]) -> int:
    """Advance the shared clock just past the next funding time; tell ccxt the new time difference
    (ccxt signs with its own clock minus options["timeDifference"], and venues check the window)."""
    now = int((await admin(sim.url, "GET", "/_sim/clock"))["now"])
    target = (now // INTERVAL + 1) * INTERVAL + 5_000
    view = await admin(sim.url, "POST", "/_sim/clock", {"advance_ms": target - now})
    for ex in clients:
        ex.options["timeDifference"] = int(time.time() * 1000) - view["now"]
    return target - 5_000


async def crash(sim_url: str, venue: str, symbol: str, price: Decimal) -> None:
    """Move the venue's price (and so its index and mark) to `price`."""
    await admin(sim_url, "POST", "/_sim/market", {"venue": venue, "symbol": symbol, "price": str(price)})


def check_rate_shape(fr: dict[str, Any], now_ms: int) -> None:
    """A funding-rate structure as the simulator's model makes it."""
    assert abs(dec(fr["fundingRate"])) <= CAP
    mark, index = dec(fr["markPrice"]), dec(fr["indexPrice"])
    assert abs(mark / index - 1) < D("0.001")  # premium within ±0.08 % plus a tick
    assert fr["fundingTimestamp"] % INTERVAL == 0 and fr["fundingTimestamp"] > now_ms - 60_000


async def binance_wallet(ex: Any) -> Decimal:
    """USDT walletBalance from fetch_balance (ccxt's total is the margin balance, PnL included)."""
    bal = await ex.fetch_balance()
    return D(next(a["walletBalance"] for a in bal["info"]["assets"] if a["asset"] == "USDT"))


async def test_binance_usdm_perps(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    sym, qty, lev = "BTC/USDT:USDT", D("0.01"), 10
    key = await make_key("binance", permissions=FUTURES)
    ex = ccxt_client("binanceusdm", key)
    await ex.load_markets()
    await start_virtual_clock(sim)

    fr = await ex.fetch_funding_rate(sym)
    check_rate_shape(fr, sim.ctx.clock.now_ms())
    hist = await ex.fetch_funding_rate_history(sym, limit=3)
    assert len(hist) == 3
    assert [h["timestamp"] % INTERVAL for h in hist] == [0, 0, 0]
    assert hist[1]["timestamp"] - hist[0]["timestamp"] == INTERVAL

    await ex.set_margin_mode("isolated", sym)
    await ex.set_leverage(lev, sym)
    order = await ex.create_order(sym, "market", "buy", float(qty))
    fill = (await ex.fetch_my_trades(sym))[-1]["info"]
    entry, fee = D(fill["price"]), D(fill["commission"])
    margin = entry * qty / lev
    assert fee == entry * qty * D("0.0005")
    pos = (await ex.fetch_positions([sym]))[0]
    assert pos["marginMode"] == "isolated" and dec(pos["contracts"]) == qty
    assert D(pos["info"]["isolatedWallet"]) == margin
    assert abs(D(pos["info"]["liquidationPrice"]) - hand_liq_long(entry, qty, margin)) < D("0.00001")
    assert await binance_wallet(ex) == 10000 - fee

    # funding: the clock crosses a funding time; the payment is −qty × mark × rate at that time
    t_fund = await jump_past_funding(sim, [ex])
    paid = await ex.fetch_funding_history(sym)
    assert len(paid) == 1 and paid[0]["timestamp"] == t_fund
    row = next(h for h in await ex.fetch_funding_rate_history(sym, t_fund) if h["timestamp"] == t_fund)
    rate, mark = D(row["info"]["fundingRate"]), D(row["info"]["markPrice"])
    funding = (-qty * mark * rate).quantize(EIGHT, ROUND_HALF_EVEN)
    assert D(paid[0]["info"]["income"]) == funding
    assert await binance_wallet(ex) == 10000 - fee + funding
    pos = (await ex.fetch_positions([sym]))[0]
    margin += funding  # an isolated position's funding moves its margin
    assert D(pos["info"]["isolatedWallet"]) == margin
    liq = hand_liq_long(entry, qty, margin)
    assert abs(D(pos["info"]["liquidationPrice"]) - liq) < D("0.00001")

    # liquidation: the price falls 3 % below the liquidation price; the next request sees it
    await crash(sim.url, "binance", "BTC/USDT", (liq * D("0.97")).quantize(D("0.1")))
    assert await ex.fetch_positions([sym]) == []
    # the whole isolated margin is lost, nothing more: wallet = start − opening fee − initial margin
    assert await binance_wallet(ex) == 10000 - fee - entry * qty / lev
    trades = await ex.fetch_my_trades(sym)
    closing = trades[-1]["info"]
    assert closing["side"] == "SELL" and D(closing["qty"]) == qty and D(closing["commission"]) == 0
    forced = await ex.fapiPrivateGetForceOrders({"symbol": "BTCUSDT"})
    assert len(forced) == 1 and forced[0]["clientOrderId"].startswith("autoclose-")
    assert forced[0]["orderId"] == int(closing["orderId"]) and forced[0]["orderId"] != int(order["id"])
    insurance = await ex.fapiPrivateGetIncome({"symbol": "BTCUSDT", "incomeType": "INSURANCE_CLEAR"})
    pnl = D(closing["realizedPnl"])
    assert [D(r["income"]) for r in insurance] == [-(margin + pnl)]


def okx_usdt(bal: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """(cashBal, upl) of USDT in an OKX account/balance answer."""
    row = next(d for d in bal["info"]["data"][0]["details"] if d["ccy"] == "USDT")
    return D(row["cashBal"]), D(row["upl"])


async def test_okx_swap_perps(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    sym, contracts, ct_val, lev = "BTC/USDT:USDT", D(1), D("0.01"), 10
    key = await make_key("okx", permissions=FUTURES)
    ex = ccxt_client("okx", key)
    await ex.load_markets()
    await start_virtual_clock(sim)

    fr = await ex.fetch_funding_rate(sym)
    assert abs(dec(fr["fundingRate"])) <= CAP and fr["fundingTimestamp"] % INTERVAL == 0
    assert fr["fundingTimestamp"] > sim.ctx.clock.now_ms()
    hist = await ex.fetch_funding_rate_history(sym, limit=3)
    assert len(hist) == 3 and hist[1]["timestamp"] - hist[0]["timestamp"] == INTERVAL
    mark = await ex.publicGetPublicMarkPrice({"instType": "SWAP", "instId": "BTC-USDT-SWAP"})
    assert D(mark["data"][0]["markPx"]) > 0

    await ex.set_margin_mode("isolated", sym, {"lever": lev})
    await ex.set_leverage(lev, sym, {"mgnMode": "isolated"})
    start_cash, _ = okx_usdt(await ex.fetch_balance())
    await ex.create_order(sym, "market", "buy", float(contracts), None, {"tdMode": "isolated"})
    fill = (await ex.fetch_my_trades(sym))[-1]["info"]
    entry, fee = D(fill["fillPx"]), -D(fill["fee"])
    size = contracts * ct_val
    margin = entry * size / lev
    assert fee == entry * size * D("0.0005")
    pos = (await ex.fetch_positions([sym]))[0]
    assert pos["info"]["mgnMode"] == "isolated" and D(pos["info"]["margin"]) == margin
    assert abs(D(pos["info"]["liqPx"]) - hand_liq_long(entry, size, margin)) <= D("0.1")
    bal = await ex.fetch_balance()
    assert okx_usdt(bal)[0] == start_cash - fee
    usdt = next(d for d in bal["info"]["data"][0]["details"] if d["ccy"] == "USDT")
    assert D(usdt["isoEq"]) == margin + D(usdt["isoUpl"])  # isolated equity: its margin and its PnL

    t_fund = await jump_past_funding(sim, [ex])
    paid = await ex.fetch_funding_history(sym)
    assert len(paid) == 1 and paid[0]["timestamp"] == t_fund
    assert paid[0]["info"]["type"] == "8" and paid[0]["info"]["subType"] in ("173", "174")
    row = next(h for h in await ex.fetch_funding_rate_history(sym, t_fund) if h["timestamp"] == t_fund)
    rate = D(row["info"]["fundingRate"])
    funding = dec(paid[0]["amount"])
    mark_then = D(paid[0]["info"]["px"])
    assert funding == (-size * mark_then * rate).quantize(EIGHT, ROUND_HALF_EVEN)
    assert okx_usdt(await ex.fetch_balance())[0] == start_cash - fee + funding
    margin += funding
    pos = (await ex.fetch_positions([sym]))[0]
    assert D(pos["info"]["margin"]) == margin
    liq = hand_liq_long(entry, size, margin)

    await crash(sim.url, "okx", "BTC/USDT", (liq * D("0.97")).quantize(D("0.1")))
    assert await ex.fetch_positions([sym]) == []
    assert okx_usdt(await ex.fetch_balance())[0] == start_cash - fee - entry * size / lev
    closed = await ex.fetch_closed_orders(sym)
    assert closed[-1]["info"]["category"] == "full_liquidation" and closed[-1]["side"] == "sell"
    bills = (await ex.privateGetAccountBills({"instId": "BTC-USDT-SWAP", "type": "5"}))["data"]
    kinds = {b["subType"] for b in bills}
    assert "104" in kinds and kinds <= {"104", "110", "111"}
    # the liquidation's bills add up to the lost margin
    assert sum(D(b["balChg"]) for b in bills) == -margin


async def bybit_usdt(ex: Any) -> Decimal:
    """USDT walletBalance of the unified account."""
    bal = await ex.fetch_balance()
    coins = bal["info"]["result"]["list"][0]["coin"]
    return D(next(c["walletBalance"] for c in coins if c["coin"] == "USDT"))


async def test_bybit_linear_perps(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    sym, qty, lev = "BTC/USDT:USDT", D("0.01"), 20  # not the default 10: Bybit refuses a no-op (110043)
    key = await make_key("bybit", permissions=FUTURES)
    ex = ccxt_client("bybit", key)
    await ex.load_markets()
    await start_virtual_clock(sim)

    fr = await ex.fetch_funding_rate(sym)
    check_rate_shape(fr, sim.ctx.clock.now_ms())
    hist = await ex.fetch_funding_rate_history(sym, limit=3)
    assert len(hist) == 3 and hist[1]["timestamp"] - hist[0]["timestamp"] == INTERVAL

    await ex.set_margin_mode("isolated", sym)
    await ex.set_leverage(lev, sym)
    start = await bybit_usdt(ex)
    await ex.create_order(sym, "market", "buy", float(qty))
    fill = (await ex.fetch_my_trades(sym))[-1]["info"]
    entry, fee = D(fill["execPrice"]), D(fill["execFee"])
    margin = entry * qty / lev
    assert fee == entry * qty * D(fill["feeRate"]) and fee > 0
    pos = (await ex.fetch_positions([sym]))[0]
    assert pos["info"]["tradeMode"] == 1 and D(pos["info"]["positionIM"]) == margin
    assert abs(D(pos["info"]["liqPrice"]) - hand_liq_long(entry, qty, margin)) <= D("0.1")
    assert await bybit_usdt(ex) == start - fee

    t_fund = await jump_past_funding(sim, [ex])
    paid = await ex.fetch_funding_history(sym)
    assert len(paid) == 1 and paid[0]["timestamp"] == t_fund and paid[0]["info"]["execType"] == "Funding"
    row = next(h for h in await ex.fetch_funding_rate_history(sym, t_fund) if h["timestamp"] == t_fund)
    rate, mark_then = D(row["info"]["fundingRate"]), D(paid[0]["info"]["markPrice"])
    assert D(paid[0]["info"]["feeRate"]) == rate
    funding = (-qty * mark_then * rate).quantize(EIGHT, ROUND_HALF_EVEN)
    assert -dec(paid[0]["amount"]) == funding  # execFee > 0 means the position paid
    assert await bybit_usdt(ex) == start - fee + funding
    margin += funding
    pos = (await ex.fetch_positions([sym]))[0]
    assert D(pos["info"]["positionIM"]) == margin
    liq = hand_liq_long(entry, qty, margin)

    await crash(sim.url, "bybit", "BTC/USDT", (liq * D("0.97")).quantize(D("0.1")))
    # Get Position Info answers a flat row for a symbol asked by name
    assert [p["contracts"] for p in await ex.fetch_positions([sym]) if p["contracts"]] == []
    assert await bybit_usdt(ex) == start - fee - entry * qty / lev
    closed = (await ex.fetch_closed_orders(sym))[-1]["info"]
    assert closed["createType"] == "CreateByLiquidate" and closed["side"] == "Sell"
    busts = (await ex.privateGetV5ExecutionList({"category": "linear", "execType": "BustTrade"}))["result"]
    assert [r["orderId"] for r in busts["list"]] == [closed["orderId"]]


async def kucoin_futures_wallet(ex: Any) -> Decimal:
    """marginBalance (the futures wallet, PnL excluded) of the USDT futures account."""
    bal = await ex.fetch_balance({"code": "USDT"})
    return D(str(bal["info"]["data"]["marginBalance"]))


async def test_kucoin_futures_perps(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    sym, contracts, mult, lev = "BTC/USDT:USDT", D(10), D("0.001"), 10
    key = await make_key("kucoin", permissions=FUTURES)
    ex = ccxt_client("kucoinfutures", key)
    await ex.load_markets()
    await start_virtual_clock(sim)

    fr = await ex.fetch_funding_rate(sym)
    assert abs(dec(fr["fundingRate"])) <= D("0.003") and fr["fundingTimestamp"] % INTERVAL == 0
    mark = await ex.fetch_mark_price(sym)
    assert abs(dec(mark["info"]["value"]) / dec(mark["info"]["indexPrice"]) - 1) < D("0.001")
    since = sim.ctx.clock.now_ms() - 3 * INTERVAL
    hist = await ex.fetch_funding_rate_history(sym, since)
    assert len(hist) == 3 and hist[1]["timestamp"] - hist[0]["timestamp"] == INTERVAL

    await ex.set_margin_mode("cross", sym)
    await ex.set_leverage(lev, sym)  # cross leverage
    assert (await ex.fetch_leverage(sym))["longLeverage"] == lev
    await ex.set_margin_mode("isolated", sym)
    start = await kucoin_futures_wallet(ex)
    await ex.create_order(
        sym, "market", "buy", float(contracts), None, {"marginMode": "isolated", "leverage": lev}
    )
    fill = (await ex.fetch_my_trades(sym))[-1]["info"]
    entry, fee = D(fill["price"]), D(fill["fee"])
    size = contracts * mult
    margin = entry * size / lev
    assert fee == entry * size * D(fill["feeRate"]) and fee > 0
    pos = (await ex.fetch_positions([sym]))[0]
    assert pos["info"]["marginMode"] == "ISOLATED" and D(str(pos["info"]["posMargin"])) == margin
    assert abs(D(str(pos["info"]["liquidationPrice"])) - hand_liq_long(entry, size, margin)) <= D("0.1")
    assert await kucoin_futures_wallet(ex) == start - fee

    t_fund = await jump_past_funding(sim, [ex])
    paid = await ex.fetch_funding_history(sym)
    assert len(paid) == 1 and paid[0]["timestamp"] == t_fund
    rate, mark_then = D(str(paid[0]["info"]["fundingRate"])), D(str(paid[0]["info"]["markPrice"]))
    # ccxt bounds this query with its own (wall) clock unless told the simulator's time
    until = {"until": sim.ctx.clock.now_ms()}
    rows = await ex.fetch_funding_rate_history(sym, t_fund - 1, None, until)
    row = next(h for h in rows if h["timestamp"] == t_fund)
    assert dec(row["fundingRate"]) == rate
    funding = (-size * mark_then * rate).quantize(EIGHT, ROUND_HALF_EVEN)
    assert D(str(paid[0]["info"]["funding"])) == funding
    assert await kucoin_futures_wallet(ex) == start - fee + funding
    margin += funding
    pos = (await ex.fetch_positions([sym]))[0]
    assert D(str(pos["info"]["posMargin"])) == margin
    liq = hand_liq_long(entry, size, margin)

    await crash(sim.url, "kucoin", "BTC/USDT", (liq * D("0.97")).quantize(D("0.1")))
    assert await ex.fetch_positions([sym]) == []
    assert await kucoin_futures_wallet(ex) == start - fee - entry * size / lev
    last = (await ex.fetch_my_trades(sym))[-1]["info"]
    assert last["tradeType"] == "liquid" and last["side"] == "sell" and D(last["fee"]) == 0


async def mexc_contract_wallet(ex: Any) -> Decimal:
    """The contract USDT wallet: equity − unrealized (MEXC's assets answer has no wallet field)."""
    bal = await ex.fetch_balance({"type": "swap"})
    row = next(a for a in bal["info"]["data"] if a["currency"] == "USDT")
    return D(str(row["equity"])) - D(str(row["unrealized"]))


async def test_mexc_swap_perps(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    sym, lev = "BTC/USDT:USDT", 10
    key = await make_key("mexc", permissions=FUTURES)
    ex = ccxt_client("mexc", key)
    await ex.load_markets()
    ct = dec(ex.market(sym)["contractSize"])
    contracts = (D("0.01") / ct).to_integral_value()
    await start_virtual_clock(sim)

    fr = await ex.fetch_funding_rate(sym)
    assert abs(dec(fr["fundingRate"])) <= D("0.003") and fr["fundingTimestamp"] % INTERVAL == 0
    hist = await ex.fetch_funding_rate_history(sym, limit=3)
    assert len(hist) == 3 and hist[1]["timestamp"] - hist[0]["timestamp"] == INTERVAL

    await ex.set_margin_mode("isolated", sym, {"leverage": lev, "direction": "long"})
    await ex.set_leverage(lev, sym, {"openType": 1, "positionType": 1})
    start = await mexc_contract_wallet(ex)
    order = await ex.create_order(
        sym, "market", "buy", float(contracts), None, {"marginMode": "isolated", "leverage": lev}
    )
    fill = (await ex.fetch_my_trades(sym))[-1]["info"]
    entry, fee = D(str(fill["price"])), D(str(fill["fee"]))
    size = contracts * ct
    margin = entry * size / lev
    assert fee == entry * size * D("0.0002")
    pos = (await ex.fetch_positions([sym]))[0]
    assert pos["info"]["openType"] == 1 and D(str(pos["info"]["im"])) == margin
    assert abs(D(str(pos["info"]["liquidatePrice"])) - hand_liq_long(entry, size, margin)) <= D("0.1")
    assert await mexc_contract_wallet(ex) == start - fee

    t_fund = await jump_past_funding(sim, [ex])
    paid = await ex.fetch_funding_history(sym)
    assert len(paid) == 1 and paid[0]["timestamp"] == t_fund
    rate = D(str(paid[0]["info"]["rate"]))
    row = next(h for h in await ex.fetch_funding_rate_history(sym) if h["timestamp"] == t_fund)
    assert dec(row["fundingRate"]) == rate
    mark_then = D(str(paid[0]["info"]["positionValue"])) / size
    funding = (-size * mark_then * rate).quantize(EIGHT, ROUND_HALF_EVEN)
    assert dec(paid[0]["amount"]) == funding
    assert await mexc_contract_wallet(ex) == start - fee + funding
    margin += funding
    pos = (await ex.fetch_positions([sym]))[0]
    assert D(str(pos["info"]["im"])) == margin and D(str(pos["info"]["holdFee"])) == funding
    liq = hand_liq_long(entry, size, margin)

    # cancel_all and history_orders answer (they collided or were missing before)
    await ex.cancel_all_orders(sym)
    await crash(sim.url, "mexc", "BTC/USDT", (liq * D("0.97")).quantize(D("0.1")))
    assert await ex.fetch_positions([sym]) == []
    assert await mexc_contract_wallet(ex) == start - fee - entry * size / lev
    history = await ex.fetch_orders(sym)
    liquidations = [o for o in history if o["info"]["category"] == 2]
    # side 4: close long (ccxt maps contract sides only partly, so read the venue's number)
    assert len(liquidations) == 1 and liquidations[0]["info"]["side"] == 4
    assert {o["id"] for o in history} == {order["id"], liquidations[0]["id"]}


async def test_binance_cross_margin_shares_the_wallet(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    """Cross: the whole futures wallet backs the position, so its liquidation price moves with it."""
    sym, qty, lev = "BTC/USDT:USDT", D("0.01"), 20
    key = await make_key("binance", permissions=FUTURES, balances={"USDT": "100"})
    ex = ccxt_client("binanceusdm", key)
    await ex.load_markets()
    await ex.set_leverage(lev, sym)
    await ex.create_order(sym, "market", "buy", float(qty))
    fill = (await ex.fetch_my_trades(sym))[-1]["info"]
    entry, fee = D(fill["price"]), D(fill["commission"])
    wallet = D(100) - fee
    assert await binance_wallet(ex) == wallet
    pos = (await ex.fetch_positions([sym]))[0]
    assert pos["marginMode"] == "cross" and D(pos["info"]["isolatedWallet"]) == 0
    # long cross: wallet + (P − entry)·q = mmr·P·q
    assert abs(D(pos["info"]["liquidationPrice"]) - hand_liq_long(entry, qty, wallet)) < D("0.00001")
    # more money in the wallet (admin) pushes the liquidation price down: the wallet is shared
    await admin(sim.url, "POST", "/_sim/balances", {"apiKey": key["apiKey"], "balances": {"USDT": "200"}})
    pos = (await ex.fetch_positions([sym]))[0]
    assert abs(D(pos["info"]["liquidationPrice"]) - hand_liq_long(entry, qty, D(200))) < D("0.00001")
    liq = hand_liq_long(entry, qty, D(200))
    await crash(sim.url, "binance", "BTC/USDT", (liq * D("0.97")).quantize(D("0.1")))
    assert await ex.fetch_positions([sym]) == []
    closing = (await ex.fetch_my_trades(sym))[-1]["info"]
    # the cross wallet takes the loss, floored at zero by the insurance fund
    assert await binance_wallet(ex) == max(D(0), D(200) + D(closing["realizedPnl"]))
