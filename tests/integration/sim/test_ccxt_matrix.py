"""The ccxt method matrix (issue 11, Done-when): every unified method a bot uses, on every venue
market the product supports, either passes through real ccxt against the simulator or is marked
"not offered by the exchange" with the document that says so (data below, checked by the test).

One simulator serves the whole module; each row (venue, market) has one ccxt client with markets
loaded once. Each cell places what it needs and cleans up, so cells do not depend on each other.
The table in src/tradewarden/sim/VENUES.md is this module's data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ccxt
import pytest

from tests.integration.simtools import SimAdmin
from tradewarden.adapters.exchanges.endpoint import apply_endpoint_override
from tradewarden.sim import ThreadedSim

ALL_PERMS = ["read", "spot_trade", "futures_trade"]


@dataclass(frozen=True)
class Row:
    """One venue market: the ccxt class, the simulator venue, the symbol a bot trades."""

    name: str
    ccxt_id: str
    venue: str
    symbol: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def contract(self) -> bool:
        """True for perpetual rows."""
        return ":" in self.symbol


ROWS = (
    Row("binance", "binance", "binance", "BTC/USDT", (("fetchMarkets", {"types": ["spot"]}),)),
    Row("binanceusdm", "binanceusdm", "binance", "BTC/USDT:USDT"),
    Row("kucoin", "kucoin", "kucoin", "BTC/USDT"),
    Row("kucoinfutures", "kucoinfutures", "kucoin", "BTC/USDT:USDT"),
    Row("mexc-spot", "mexc", "mexc", "BTC/USDT", (("defaultType", "spot"),)),
    Row("mexc-swap", "mexc", "mexc", "BTC/USDT:USDT", (("defaultType", "swap"),)),
    Row("okx-spot", "okx", "okx", "BTC/USDT", (("defaultType", "spot"),)),
    Row("okx-swap", "okx", "okx", "BTC/USDT:USDT", (("defaultType", "swap"),)),
    Row("bybit-spot", "bybit", "bybit", "BTC/USDT", (("defaultType", "spot"),)),
    Row("bybit-linear", "bybit", "bybit", "BTC/USDT:USDT", (("defaultType", "swap"),)),
)

METHODS = (
    "load_markets",
    "fetch_ticker",
    "fetch_order_book",
    "fetch_ohlcv_paging",
    "fetch_balance",
    "create_limit_order",
    "create_market_order",
    "create_reduce_only_order",
    "fetch_order",
    "fetch_open_orders",
    "fetch_closed_orders",
    "fetch_my_trades",
    "cancel_order",
    "cancel_all_orders",
    "fetch_positions",
    "set_leverage",
    "set_margin_mode",
    "fetch_funding_rate",
)

PERP_ONLY = (
    "create_reduce_only_order",
    "fetch_positions",
    "set_leverage",
    "set_margin_mode",
    "fetch_funding_rate",
)

# Spot markets have no position to reduce, no leverage, margin mode or funding: these are
# derivatives concepts. Each spot row names the venue's own spot order document, whose parameters
# and endpoints have none of them (the perpetual row of the same venue covers the method).
SPOT_DOCS = {
    "binance": "Binance spot rest-api.md 'New order (TRADE)' POST /api/v3/order: no reduceOnly; "
    "positions, leverage, margin type and funding exist only in the USD-M futures API",
    "kucoin": "KuCoin docs-new Spot Trading 'Add Order' (POST /api/v1/hf/orders): no reduceOnly or "
    "leverage; positions, margin mode and funding are Futures Trading endpoints",
    "mexc-spot": "MEXC spot v3 'New Order' (POST /api/v3/order): no reduceOnly or leverage; positions, "
    "leverage and funding exist only in the contract (futures) API",
    "okx-spot": "OKX v5 'Place order': reduceOnly applies to margin/derivatives only ('only applicable "
    "to MARGIN orders, and FUTURES/SWAP orders in net mode'); SPOT cash trades have no position, "
    "leverage or funding",
    "bybit-spot": "Bybit v5 'Place Order': reduceOnly is for linear/inverse only; positions, "
    "set-leverage, switch margin mode and funding are for category linear/inverse",
}
NOT_OFFERED: dict[tuple[str, str], str] = {
    (row, method): doc for row, doc in SPOT_DOCS.items() for method in PERP_ONLY
}
# Cells where the venue has no such endpoint at all, so ccxt declares the method unsupported
# (checked: ccxt's `has` flag is False and the call raises NotSupported before any request).
UNSUPPORTED_DOCS: dict[tuple[str, str], str] = {
    ("okx-spot", "cancel_all_orders"): "OKX v5 Trade: no cancel-all for SPOT/SWAP; 'Cancel multiple "
    "orders' takes the order ids (up to 20), 'Mass cancel' is for Option MMP orders only",
    ("okx-swap", "cancel_all_orders"): "OKX v5 Trade: no cancel-all for SPOT/SWAP; 'Cancel multiple "
    "orders' takes the order ids (up to 20), 'Mass cancel' is for Option MMP orders only",
}
NOT_OFFERED.update(UNSUPPORTED_DOCS)

# Cells that fail today because the simulator does not serve the endpoint yet (issue 11, item 4 is
# building them). Marked strict: the day one passes, the test fails until its line is removed here.
PENDING: dict[tuple[str, str], str] = {}


# ---- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_sim() -> Iterator[ThreadedSim]:
    """One simulator for the module, in its own thread (sync ccxt clients talk to it)."""
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=23).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def clients(matrix_sim: ThreadedSim) -> Iterator[dict[str, Any]]:
    """One sync ccxt client per row, markets loaded lazily on first use."""
    admin = SimAdmin(matrix_sim.url)
    keys: dict[str, Any] = {}
    made: dict[str, Any] = {}
    for row in ROWS:
        key = keys.setdefault(row.venue, admin.key(row.venue, ALL_PERMS))
        cfg: dict[str, Any] = {
            "apiKey": key["apiKey"],
            "secret": key["secret"],
            # ccxt's own throttle, as a bot runs it, where the venue's per-user limits are tight
            # (OKX positions 10 per 2 s, MEXC contract 20 per 2 s, Bybit per second): they hold here
            "enableRateLimit": row.ccxt_id in ("okx", "bybit") or row.name == "mexc-swap",
            "timeout": 10_000,
            "options": dict(row.options),
        }
        if "password" in key:
            cfg["password"] = key["password"]
        ex = getattr(ccxt, row.ccxt_id)(cfg)
        apply_endpoint_override(ex, matrix_sim.url)
        made[row.name] = ex
    yield made


def client(clients: dict[str, Any], row: Row) -> Any:
    """The row's client with markets loaded."""
    ex = clients[row.name]
    ex.load_markets()
    return ex


# ---- helpers -----------------------------------------------------------------------------------


def amount_for(ex: Any, symbol: str, price: float, cost: float = 150.0) -> float:
    """An order size worth about `cost` USDT (in contracts on contract markets), valid for the market."""
    market = ex.market(symbol)
    size = cost / (price * (market.get("contractSize") or 1))
    step = market["precision"]["amount"] or 1
    size = max(math.ceil(size / step) * step, market["limits"]["amount"]["min"] or 0)
    return float(ex.amount_to_precision(symbol, size))


def resting_buy(ex: Any, row: Row) -> dict[str, Any]:
    """A limit buy 5 % under the bid: it rests."""
    bid = ex.fetch_order_book(row.symbol)["bids"][0][0]
    price = float(ex.price_to_precision(row.symbol, bid * 0.95))
    return dict(ex.create_order(row.symbol, "limit", "buy", amount_for(ex, row.symbol, price), price))


def market_buy(ex: Any, row: Row, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A market buy that fills."""
    ask = ex.fetch_order_book(row.symbol)["asks"][0][0]
    return dict(
        ex.create_order(row.symbol, "market", "buy", amount_for(ex, row.symbol, ask), None, params or {})
    )


def open_contracts(ex: Any, row: Row) -> float:
    """Signed open position size on the row's symbol (contracts)."""
    total = 0.0
    for p in ex.fetch_positions([row.symbol]):
        if p["symbol"] == row.symbol and p.get("contracts"):
            total += float(p["contracts"]) * (-1 if p.get("side") == "short" else 1)
    return total


def flatten(ex: Any, row: Row) -> None:
    """Cancel the row's open orders and close its position (contract rows)."""
    for o in ex.fetch_open_orders(row.symbol):
        ex.cancel_order(o["id"], row.symbol)
    if row.contract:
        for p in ex.fetch_positions([row.symbol]):
            if p["symbol"] != row.symbol or not p.get("contracts"):
                continue
            side = "sell" if p.get("side") != "short" else "buy"
            params: dict[str, Any] = {"reduceOnly": True}
            if row.ccxt_id in ("okx", "mexc") and p.get("marginMode"):
                # OKX and MEXC close in the position's own margin mode (tdMode / openType)
                params["marginMode"] = p["marginMode"]
                if row.ccxt_id == "mexc" and p["marginMode"] == "isolated":
                    params["leverage"] = int(p.get("leverage") or 5)
            ex.create_order(row.symbol, "market", side, float(p["contracts"]), None, params)


def order_params(row: Row) -> dict[str, Any]:
    """Bybit's ccxt asks callers to acknowledge that fetchOrder sees only the last 500 orders."""
    return {"acknowledged": True} if row.ccxt_id == "bybit" else {}


def wait_status(ex: Any, row: Row, order_id: str, want: set[str]) -> dict[str, Any]:
    """The order once its status is one of `want` (venues that report asynchronously), bounded."""
    deadline = time.monotonic() + 5
    while True:
        order = dict(ex.fetch_order(order_id, row.symbol, order_params(row)))
        if order["status"] in want or time.monotonic() > deadline:
            return order
        time.sleep(0.05)


# ---- the cells ---------------------------------------------------------------------------------


def cell_load_markets(ex: Any, row: Row) -> None:
    market = ex.markets[row.symbol]
    assert market["contract"] is row.contract and market["active"] is not False
    assert market["precision"]["price"] and market["precision"]["amount"]


def cell_fetch_ticker(ex: Any, row: Row) -> None:
    t = ex.fetch_ticker(row.symbol)
    assert t["symbol"] == row.symbol and t["last"] > 0
    if t["bid"] is not None and t["ask"] is not None:
        assert t["bid"] < t["ask"]


def cell_fetch_order_book(ex: Any, row: Row) -> None:
    book = ex.fetch_order_book(row.symbol)
    bids, asks = book["bids"], book["asks"]
    assert bids and asks and bids[0][0] < asks[0][0]
    assert [b[0] for b in bids] == sorted((b[0] for b in bids), reverse=True)


def cell_fetch_ohlcv_paging(ex: Any, row: Row) -> None:
    now = ex.milliseconds()
    since = now - now % 60_000 - 180 * 60_000
    first = ex.fetch_ohlcv(row.symbol, "1m", since=since, limit=20)
    assert [c[0] for c in first] == [since + i * 60_000 for i in range(20)]
    nxt = first[-1][0] + 60_000
    second = ex.fetch_ohlcv(row.symbol, "1m", since=nxt, limit=20)
    assert [c[0] for c in second] == [nxt + i * 60_000 for i in range(20)]


def cell_fetch_balance(ex: Any, row: Row) -> None:
    bal = ex.fetch_balance()
    assert bal["USDT"]["free"] > 0


def cell_create_limit_order(ex: Any, row: Row) -> None:
    order = resting_buy(ex, row)
    assert order["id"]
    assert wait_status(ex, row, order["id"], {"open"})["status"] == "open"
    flatten(ex, row)


def cell_create_market_order(ex: Any, row: Row) -> None:
    order = market_buy(ex, row)
    done = wait_status(ex, row, order["id"], {"closed"})
    assert done["status"] == "closed" and done["filled"] > 0
    if not row.contract:
        # give the base currency back so later cells start from the same balances
        ex.create_order(
            row.symbol, "market", "sell", float(ex.amount_to_precision(row.symbol, done["filled"] * 0.99))
        )
    flatten(ex, row)


def cell_create_reduce_only_order(ex: Any, row: Row) -> None:
    flatten(ex, row)
    opened = market_buy(ex, row)
    size = open_contracts(ex, row)
    assert size > 0, opened
    closing = ex.create_order(row.symbol, "market", "sell", size, None, {"reduceOnly": True})
    assert wait_status(ex, row, closing["id"], {"closed"})["status"] == "closed"
    assert open_contracts(ex, row) == 0
    # a reduce-only order that would open a position is refused
    with pytest.raises(ccxt.BaseError):
        ex.create_order(row.symbol, "market", "sell", size, None, {"reduceOnly": True})


def cell_fetch_order(ex: Any, row: Row) -> None:
    order = resting_buy(ex, row)
    got = ex.fetch_order(order["id"], row.symbol, order_params(row))
    assert got["id"] == order["id"] and got["symbol"] == row.symbol and got["side"] == "buy"
    flatten(ex, row)


def cell_fetch_open_orders(ex: Any, row: Row) -> None:
    order = resting_buy(ex, row)
    assert order["id"] in {o["id"] for o in ex.fetch_open_orders(row.symbol)}
    flatten(ex, row)


def cell_fetch_closed_orders(ex: Any, row: Row) -> None:
    order = market_buy(ex, row)  # ccxt's "closed" means filled
    wait_status(ex, row, order["id"], {"closed"})
    closed = {o["id"]: o for o in ex.fetch_closed_orders(row.symbol)}
    assert closed[order["id"]]["status"] == "closed" and closed[order["id"]]["filled"] > 0
    flatten(ex, row)


def cell_fetch_my_trades(ex: Any, row: Row) -> None:
    order = market_buy(ex, row)
    wait_status(ex, row, order["id"], {"closed"})
    trades = ex.fetch_my_trades(row.symbol)
    assert order["id"] in {t["order"] for t in trades}
    flatten(ex, row)


def cell_cancel_order(ex: Any, row: Row) -> None:
    order = resting_buy(ex, row)
    ex.cancel_order(order["id"], row.symbol)
    assert wait_status(ex, row, order["id"], {"canceled"})["status"] == "canceled"


def cell_cancel_all_orders(ex: Any, row: Row) -> None:
    ids = {resting_buy(ex, row)["id"], resting_buy(ex, row)["id"]}
    ex.cancel_all_orders(row.symbol)
    assert not ids & {o["id"] for o in ex.fetch_open_orders(row.symbol)}


def cell_fetch_positions(ex: Any, row: Row) -> None:
    flatten(ex, row)
    market_buy(ex, row)
    positions = [p for p in ex.fetch_positions([row.symbol]) if p["symbol"] == row.symbol and p["contracts"]]
    assert positions and positions[0]["side"] == "long" and positions[0]["entryPrice"] > 0
    flatten(ex, row)


# MEXC's ccxt needs the position's margin type and side to set leverage on a symbol (openType 2 =
# cross, positionType 1 = long), as the contract API's change_leverage does
LEVERAGE_PARAMS: dict[str, dict[str, Any]] = {"mexc-swap": {"openType": 2, "positionType": 1}}


def cell_set_leverage(ex: Any, row: Row) -> None:
    flatten(ex, row)
    # KuCoin's set_leverage is the cross leverage ("Modify Cross Margin Leverage"); an ISOLATED
    # symbol (KuCoin's default) takes each order's own leverage, which ccxt sends as 1
    cross = {"marginMode": "cross"} if row.name == "kucoinfutures" else None
    if cross:
        ex.set_margin_mode("cross", row.symbol)
    ex.set_leverage(7, row.symbol, LEVERAGE_PARAMS.get(row.name, {}))
    market_buy(ex, row, cross)
    position = next(p for p in ex.fetch_positions([row.symbol]) if p["contracts"])
    leverage = position.get("leverage")
    if leverage is None:  # some position shapes do not carry it: ask the leverage endpoint
        got = ex.fetch_leverage(row.symbol)
        leverage = got.get("longLeverage") or got.get("leverage")
    assert leverage == 7
    flatten(ex, row)


def cell_set_margin_mode(ex: Any, row: Row) -> None:
    flatten(ex, row)
    # MEXC's change_leverage needs the side when there is no position yet (positionType)
    side = {"direction": "long"} if row.ccxt_id == "mexc" else {}
    ex.set_margin_mode("isolated", row.symbol, {"leverage": 5, **side})
    # OKX and MEXC choose the margin mode per order (tdMode, openType), so the order names it too
    per_order = {"okx": {"marginMode": "isolated"}, "mexc": {"marginMode": "isolated", "leverage": 5}}
    market_buy(ex, row, per_order.get(row.ccxt_id))
    position = next(p for p in ex.fetch_positions([row.symbol]) if p["contracts"])
    mode = position["marginMode"]
    if mode is None and row.ccxt_id == "bybit":
        # ccxt leaves a unified account's mode unset (account-wide); the position says tradeMode 1
        mode = "isolated" if str(position["info"].get("tradeMode")) == "1" else "cross"
    assert mode == "isolated"
    flatten(ex, row)
    ex.set_margin_mode("cross", row.symbol, {"leverage": 5, **side})


def cell_fetch_funding_rate(ex: Any, row: Row) -> None:
    rate = ex.fetch_funding_rate(row.symbol)
    assert rate["symbol"] == row.symbol and isinstance(rate["fundingRate"], float)
    assert rate["fundingTimestamp"] and rate["fundingTimestamp"] > ex.milliseconds() - 8 * 3_600_000


CELLS: dict[str, Callable[[Any, Row], None]] = {m: globals()[f"cell_{m}"] for m in METHODS}


def not_offered_check(ex: Any, row: Row, method: str) -> None:
    """A spot row's derivatives-only cell: the row's market is spot (no contract), and ccxt's own
    capability flag for the unified method is checked against the venue's perpetual row. A venue
    without the endpoint: ccxt's flag is False and the call is refused before any request."""
    if (row.name, method) in UNSUPPORTED_DOCS:
        name = "".join(w.capitalize() if i else w for i, w in enumerate(method.split("_")))
        assert ex.has[name] is False
        with pytest.raises(ccxt.NotSupported):
            getattr(ex, method)(row.symbol)
        return
    market = ex.markets[row.symbol]
    assert market["spot"] is True and market["contract"] is False
    flag = {
        "create_reduce_only_order": "createReduceOnlyOrder",
        "fetch_positions": "fetchPositions",
        "set_leverage": "setLeverage",
        "set_margin_mode": "setMarginMode",
        "fetch_funding_rate": "fetchFundingRate",
    }[method]
    # the perpetual side of the same exchange offers it (so the cell is covered there)
    assert any(r.contract and r.venue == row.venue for r in ROWS)
    assert flag in ex.has


@pytest.mark.parametrize(
    ("row", "method"),
    [pytest.param(r, m, id=f"{r.name}-{m}") for r in ROWS for m in METHODS],
)
def test_ccxt_matrix(request: pytest.FixtureRequest, clients: dict[str, Any], row: Row, method: str) -> None:
    """One cell: the method passes through real ccxt, or it is documented as not offered."""
    pending = PENDING.get((row.name, method))
    if pending is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"pending in the simulator: {pending}"))
    ex = client(clients, row)
    doc = NOT_OFFERED.get((row.name, method))
    if doc is not None:
        assert doc.strip()
        not_offered_check(ex, row, method)
        return
    CELLS[method](ex, row)


def test_every_cell_is_covered() -> None:
    """Each (row, method) is either run or marked with a document; nothing is silently left out."""
    for row in ROWS:
        for method in METHODS:
            offered = (row.name, method) not in NOT_OFFERED
            assert offered or NOT_OFFERED[(row.name, method)]
            # every perpetual row runs every method the exchange has an endpoint for
            assert offered or not row.contract or (row.name, method) in UNSUPPORTED_DOCS
