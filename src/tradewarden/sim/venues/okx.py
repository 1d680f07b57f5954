"""OKX API v5 on www.okx.com: public data, market data, trading account, order book trading, funding.

Written from OKX's own v5 documentation (https://www.okx.com/docs-v5/en/): every body is
`{"code": "0", "msg": "", "data": [...]}`, numbers travel as strings, private requests carry
OK-ACCESS-KEY / -SIGN / -TIMESTAMP / -PASSPHRASE ("REST Authentication").

OKX keys have three permissions only: Read, Trade and Withdraw; "Trade" covers every instrument type.
A sim key's `spot_trade` or `futures_trade` therefore both show as "trade" in account/config `perm`.
What OKX *can* express is the account mode: a "Spot mode" account (acctLv "1") cannot trade
derivatives and OKX answers 51010 ("current account mode"). A sim key without `futures_trade` is
modelled as such an account: SWAP orders, leverage changes and the positions endpoint answer 51010.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..keys import ApiKey
from ..ledger import CLEARING, FEES, MARKET, PerpAccount, PerpSettlement, SpotSettlement, Wallets
from ..market import MINUTE_MS, BookLevels
from ..matching import (
    TIF,
    CancelRejected,
    Engine,
    Instrument,
    Order,
    OrderNotFound,
    OrderRejected,
    OrdType,
    Reject,
    Side,
    Status,
)
from ..perps import FundingRules, PerpRisk
from ..signing import equal, hmac_sha256_b64
from ..streams.okx import HOSTS as WS_HOSTS
from ..streams.okx import OkxStreams
from ..venue import SimRequest, Venue, VenueError, dumps, fmt, parse_decimal, route

if TYPE_CHECKING:
    from ..server import SimContext

HOST = "www.okx.com"
V5 = "/api/v5"

# Per-endpoint limits beside the per-IP budget (v5 docs, each endpoint's "Rate Limit" and "Rate limit
# rule" lines): (admin limit name, requests, window ms, counted per). Placing, amending and cancelling
# count per user ID and instrument; reading balance and positions per user ID.
ENDPOINT_LIMITS: dict[tuple[str, str], tuple[str, int, int, str]] = {
    ("POST", V5 + "/trade/order"): ("order", 60, 2_000, "uid+inst"),
    ("POST", V5 + "/trade/amend-order"): ("amend", 60, 2_000, "uid+inst"),
    ("POST", V5 + "/trade/cancel-order"): ("cancel", 60, 2_000, "uid+inst"),
    ("GET", V5 + "/trade/order"): ("get_order", 60, 2_000, "uid+inst"),
    ("GET", V5 + "/account/balance"): ("balance", 10, 2_000, "uid"),
    ("GET", V5 + "/account/positions"): ("positions", 10, 2_000, "uid"),
}
# "Place multiple orders" / "Cancel multiple orders": 300 orders per 2 s per user ID and instrument,
# counted per order; a batch of one order counts as a single "Place order" / "Cancel order"
BATCH_LIMITS: dict[str, tuple[str, str, int, int]] = {
    V5 + "/trade/batch-orders": ("order", "batch_orders", 300, 2_000),
    V5 + "/trade/cancel-batch-orders": ("cancel", "batch_cancel", 300, 2_000),
}
# "OKX will introduce sub-account rate limit" (help centre, 2024): at most 1000 new and amended
# orders per 2 s per (sub-)account, beside the per-instrument rule
SUB_ACCOUNT_ORDERS = ("sub_account_orders", 1000, 2_000)
RATE_LIMIT_MSG = "Rate limit reached. Please refer to API documentation and throttle requests accordingly."
ZERO = Decimal(0)
#: "The request will expire 30 seconds after the timestamp" (REST Authentication, Making Requests)
TIMESTAMP_WINDOW_MS = 30_000
#: fee rates of a regular (Lv1) user, as account/trade-fee reports them (Trading Fee Rules)
SPOT_MAKER, SPOT_TAKER = Decimal("0.0008"), Decimal("0.001")
SWAP_MAKER, SWAP_TAKER = Decimal("0.0002"), Decimal("0.0005")
BIG = Decimal("1000000000")
#: contract value (ctVal, in base units) and tick of the USDT-margined perpetuals; lot size 0.01 contracts
SWAP_SPECS: dict[str, tuple[str, str | None]] = {
    "BTC": ("0.01", "0.1"),
    "ETH": ("0.1", "0.01"),
    "BNB": ("0.01", None),
    "SOL": ("1", None),
    "XRP": ("100", None),
    "DOGE": ("1000", None),
    "ADA": ("100", None),
    "LTC": ("1", None),
}
SWAP_LOT = Decimal("0.01")
#: candlestick bars (Get candlesticks, `bar`); 6H and longer default to Hong Kong time, "utc" suffix to UTC
BARS: dict[str, int] = {
    "1m": 1,
    "3m": 3,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1H": 60,
    "2H": 120,
    "4H": 240,
    "6H": 360,
    "12H": 720,
    "1D": 1440,
    "2D": 2880,
    "3D": 4320,
    "1W": 10080,
    "1M": 43200,
    "3M": 129600,
}
#: withdrawal networks and fixed fees served by asset/currencies (chain ids are "CCY-Network")
CHAINS: dict[str, list[tuple[str, str, str]]] = {
    "BTC": [("BTC-Bitcoin", "0.0001", "0.0005")],
    "ETH": [("ETH-ERC20", "0.001", "0.001")],
    "USDT": [("USDT-TRC20", "1", "2"), ("USDT-ERC20", "3", "10")],
    "BNB": [("BNB-BSC", "0.0005", "0.01")],
    "SOL": [("SOL-Solana", "0.008", "0.1")],
    "XRP": [("XRP-Ripple", "0.2", "20")],
    "DOGE": [("DOGE-Dogecoin", "4", "40")],
    "ADA": [("ADA-Cardano", "0.8", "2")],
    "LTC": [("LTC-Litecoin", "0.001", "0.01")],
}
NAMES = {
    "BTC": "Bitcoin",
    "ETH": "Ethereum",
    "USDT": "Tether",
    "BNB": "BNB",
    "SOL": "Solana",
    "XRP": "Ripple",
    "DOGE": "Dogecoin",
    "ADA": "Cardano",
    "LTC": "Litecoin",
}
STATES = {
    Status.NEW: "live",
    Status.PARTIALLY_FILLED: "partially_filled",
    Status.FILLED: "filled",
    Status.CANCELED: "canceled",
    Status.EXPIRED: "canceled",
}


# ---- errors --------------------------------------------------------------------------------------
# Codes, HTTP statuses and messages from the v5 "Error Code" section (REST API, Public / Trade / Funding).


def _err(status: int, code: str, msg: str) -> VenueError:
    return VenueError(status, code, msg)


def _empty(param: str) -> VenueError:
    return _err(400, "50014", f"Parameter {param} can not be empty.")


def _bad(param: str) -> VenueError:
    return _err(400, "51000", f"Parameter {param} error")


class OrderFailure(Exception):
    """A per-order failure: rendered in the order's `sCode`/`sMsg`, the request itself answers HTTP 200."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg


REJECTS: dict[Reject, tuple[str, str]] = {
    Reject.UNKNOWN_SYMBOL: ("51001", "Instrument ID doesn't exist."),
    Reject.PRICE_FILTER: ("51000", "Parameter px error"),
    Reject.LOT_SIZE: ("51121", "Order quantity must be a multiple of the lot size."),
    Reject.MARKET_LOT_SIZE: ("51005", "Order amount exceeds the limit"),
    Reject.MIN_NOTIONAL: ("51020", "Your order should meet or exceed the minimum order amount."),
    Reject.INSUFFICIENT_BALANCE: ("51008", "Order failed. Insufficient balance."),
    Reject.NO_LIQUIDITY: ("51109", "No available offer."),
    Reject.REDUCE_ONLY: ("51169", "Order failed because you don't have any positions to reduce."),
    Reject.DUPLICATE_CLIENT_ID: ("51016", "Duplicated clOrdId"),
    Reject.BAD_PARAMS: ("51000", "Parameter sz error"),
}


# ---- accounts ------------------------------------------------------------------------------------


@dataclass
class _UnifiedAccount(PerpAccount):
    name: str = ""


class UnifiedMargin(PerpSettlement):
    """USDT-margined swaps settled in the trading account itself: OKX's unified account has one balance."""

    def __init__(self, wallets: Wallets) -> None:
        super().__init__(default_wallet=ZERO, asset="USDT")
        self.wallets = wallets

    def account(self, name: str, initial: Decimal | None = None) -> PerpAccount:
        """The margin state of an account (its money lives in `wallets`)."""
        acc = self.accounts.get(name)
        if acc is None:
            acc = self.accounts[name] = _UnifiedAccount(ZERO, self.asset, name=name)
        return acc

    def cash(self, acc: PerpAccount) -> Decimal:
        """Free settlement-asset balance of the trading account."""
        name = acc.name if isinstance(acc, _UnifiedAccount) else ""
        return self.wallets.get(name, self.asset).free

    def wallet_of(self, acc: PerpAccount) -> Decimal:
        """The free settlement balance stands behind the positions (see available)."""
        return self.cash(acc)

    def credit(
        self, account: str, amount: Decimal, counterparty: str, kind: str, symbol: str, time_ms: int
    ) -> None:
        """Funding and insurance move USDT in the trading account itself."""
        self.wallets.transfer(counterparty, self.asset, amount, account)
        self.journal(account, kind, symbol, amount, time_ms)

    def settle(
        self,
        order: Order,
        inst: Instrument,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        counterparty: str | None,
    ) -> tuple[Decimal, str, Decimal]:
        """Move the position as PerpSettlement does, then book PnL and fee in the trading account."""
        fee, asset, pnl = super().settle(order, inst, price, qty, is_maker, counterparty)
        src = MARKET if counterparty is None else CLEARING
        if pnl:
            self.wallets.transfer(src, asset, pnl, order.account)
        if fee:
            self.wallets.transfer(order.account, asset, fee, FEES)
        return fee, asset, pnl


class _ContractEngine(Engine):
    """An engine whose synthetic levels are sized in contracts (about 25k USDT of notional per level)."""

    def _levels(self, inst: Instrument) -> BookLevels:
        # book_depth differs from the spot engine's, so the market's book cache never mixes the two sizings
        return self.market.get(inst.pair).book(
            inst.tick, inst.step, self.book_depth, level_notional=Decimal(25000) / inst.contract_size
        )


@dataclass(frozen=True)
class Listing:
    """One OKX instrument: its type, the engine that trades it and the engine's Instrument."""

    inst_type: str
    engine: Engine
    inst: Instrument
    ct_val: Decimal = Decimal(1)


@dataclass
class Withdrawal:
    """A recorded withdrawal request."""

    wd_id: str
    account: str
    ccy: str
    chain: str
    amt: Decimal
    fee: Decimal
    to_addr: str
    ts: int
    client_id: str


# ---- helpers -------------------------------------------------------------------------------------


def ok(data: list[Any]) -> dict[str, Any]:
    """The v5 success envelope."""
    return {"code": "0", "msg": "", "data": data}


def s(value: Decimal | None) -> str:
    """OKX number string ("" for absent)."""
    return "" if value is None else fmt(value)


def _text(value: Any) -> str | None:
    """A JSON body value as OKX reads it (numbers and booleans as their text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_ts(text: str) -> int | None:
    """Epoch ms of an ISO 8601 UTC timestamp such as 2020-12-08T09:08:57.715Z; None when malformed."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return int(dt.timestamp() * 1000)


def _int(text: str | None, default: int, lo: int, hi: int, name: str) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise _bad(name) from exc
    if value < lo:
        raise _bad(name)
    return min(value, hi)


class OkxVenue(OkxStreams, Venue):
    """OKX (www.okx.com), unified trading account in net position mode."""

    name = "okx"
    hosts = (HOST, *WS_HOSTS)  # streams: sim/streams/okx.py
    has_testnet = True  # demo trading: the same host, with the header x-simulated-trading: 1

    def is_testnet(self, host: str, headers: Any) -> bool:
        """OKX demo trading is the production host with x-simulated-trading: 1."""
        return bool(headers.get("x-simulated-trading") == "1")

    needs_passphrase = True
    # OKX limits per endpoint (mostly 20 requests / 2 s); the sim applies one generous per-IP budget.
    weight_limit = 600
    weight_window_s = 2.0
    ban_seconds = 0.0

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.wallets = Wallets()  # the trading account
        self.funding = Wallets()  # the funding account (withdrawals leave from here)
        self.spot = Engine(self.market, SpotSettlement(self.wallets, fee_in="received"), name="spot")
        self.margin = UnifiedMargin(self.wallets)
        self.swap = _ContractEngine(
            self.market, self.margin, name="swap", first_order_id=700_000_000, book_depth=25
        )
        # Funding rate / mark price docs: funding every 8 h; the sim's one maintenance tier is 0.4 %
        self.risk = PerpRisk(
            self.name,
            ctx.seed,
            self.market,
            self.swap,
            self.margin,
            self.now_ms,
            FundingRules(cap=Decimal("0.0075")),
            liquidation_id=lambda symbol, now: "",
        )
        self.engines += [self.spot, self.swap]
        self.listings: dict[str, Listing] = {}
        for spec in self.pairs:
            inst_id = f"{spec.base}-{spec.quote}"
            inst = Instrument(
                inst_id,
                spec.pair,
                spec.base,
                spec.quote,
                kind="spot",
                tick=spec.tick,
                step=spec.step,
                min_qty=spec.step,
                max_qty=BIG,
                market_max_qty=BIG,
                min_price=spec.tick,
                max_price=BIG,
                min_notional=ZERO,
                maker_fee=SPOT_MAKER,
                taker_fee=SPOT_TAKER,
            )
            self.spot.add_instrument(inst)
            self.listings[inst_id] = Listing("SPOT", self.spot, inst)
            if spec.quote == "USDT" and spec.base in SWAP_SPECS:
                ct, tick = SWAP_SPECS[spec.base]
                swap_id = f"{spec.base}-USDT-SWAP"
                tick_d = Decimal(tick) if tick else spec.tick
                sw = Instrument(
                    swap_id,
                    spec.pair,
                    spec.base,
                    "USDT",
                    kind="swap",
                    tick=tick_d,
                    step=SWAP_LOT,
                    min_qty=SWAP_LOT,
                    max_qty=BIG,
                    market_max_qty=BIG,
                    min_price=tick_d,
                    max_price=BIG,
                    min_notional=ZERO,
                    maker_fee=SWAP_MAKER,
                    taker_fee=SWAP_TAKER,
                    contract_size=Decimal(ct),
                    settle="USDT",
                )
                self.swap.add_instrument(sw)
                self.listings[swap_id] = Listing("SWAP", self.swap, sw, Decimal(ct))
        self.withdrawals: list[Withdrawal] = []
        self._wd_ids = itertools.count(70_000_001)
        # orders OKX accepts and cancels at once (post-only that would take, FOK that cannot fill);
        # the engine refuses them before booking, so the venue keeps them itself
        self.stillborn: dict[int, tuple[Listing, Order]] = {}
        self._stillborn_ids = itertools.count(900_000_000)
        self._bill_ids = itertools.count(900_000_001)
        self._created_ms = self.now_ms()

    # ---- hooks ---------------------------------------------------------------------------------

    def on_key_created(self, key: ApiKey, balances: dict[str, Decimal] | None) -> None:
        """Seed the key's trading account (admin balances or defaults) and its funding account."""
        self.wallets.ensure(key.account, balances)
        self.funding.ensure(key.account)

    def set_balances(self, key: ApiKey, balances: dict[str, Decimal]) -> None:
        """Admin: replace the trading-account balances."""
        self.wallets.set(key.account, balances)

    def on_tick(self) -> None:
        """Fill crossed resting orders, then charge crossed funding times and liquidate (swaps)."""
        super().on_tick()
        self.risk.update()

    def render_error(self, req: SimRequest, err: VenueError) -> web.Response:
        """OKX's envelope: code and msg as strings with an empty data list."""
        body = err.body if err.body is not None else {"code": str(err.code), "msg": err.msg, "data": []}
        return web.Response(
            text=dumps(body), status=err.status, headers=err.headers, content_type="application/json"
        )

    def rate_limited(
        self, req: SimRequest, used: int, limit: int, retry_after: int, banned: bool
    ) -> VenueError:
        """50011 with HTTP 429 (Error Code: "Rate limit reached"); OKX does not ban."""
        return VenueError(429, "50011", RATE_LIMIT_MSG)

    def admit(self, req: SimRequest) -> None:
        """Per-endpoint limits per user ID (and instrument): ENDPOINT_LIMITS, BATCH_LIMITS and the
        sub-account order limit; over any of them: HTTP 429 with 50011."""
        rule = ENDPOINT_LIMITS.get((req.method, req.path))
        batch = BATCH_LIMITS.get(req.path) if req.method == "POST" else None
        if rule is None and batch is None:
            return
        req.api_key_id = req.headers.get("OK-ACCESS-KEY")
        key = self.keys.get(req.api_key_id)
        if key is None or key.venue != self.name:
            return  # authentication answers first
        uses: list[tuple[str, int, int, tuple[str, ...]]] = []
        if rule is not None:
            name, default, window, per = rule
            inst = (self._inst_ids(req)[:1] or [""]) if per == "uid+inst" else []
            uses.append((name, default, window, (name, key.account, *inst)))
        elif batch is not None:
            single, name, default, window = batch
            insts = self._inst_ids(req)
            if len(insts) == 1:
                _, default, window, _per = ENDPOINT_LIMITS[
                    ("POST", V5 + ("/trade/order" if single == "order" else "/trade/cancel-order"))
                ]
                name = single
            uses += [(name, default, window, (name, key.account, inst)) for inst in insts]
        if uses and uses[0][0] in ("order", "amend", "batch_orders"):
            sub_name, sub_default, sub_window = SUB_ACCOUNT_ORDERS
            uses += [(sub_name, sub_default, sub_window, (sub_name, key.account))] * len(uses)
        for name, default, window, subject in uses:
            if not self.counters.hit(subject, self.limit(name, default), window, req.now_ms).allowed:
                raise VenueError(429, "50011", RATE_LIMIT_MSG)

    @staticmethod
    def _inst_ids(req: SimRequest) -> list[str]:
        """instId of a GET query, a JSON order, or each order of a JSON batch."""
        if req.method == "GET":
            return [req.query.get("instId", "")]
        try:
            body = req.json()
        except ValueError:
            return [""]
        items = body if isinstance(body, list) else [body]
        return [str(o.get("instId", "")) for o in items if isinstance(o, dict)]

    def fault_error(self, req: SimRequest, status: int) -> web.Response:
        """Injected HTTP faults in OKX's shape where OKX has a code for them."""
        codes = {
            429: ("50011", "Too Many Requests"),
            500: ("50026", "System error. Try again later."),
            503: ("50001", "Service temporarily unavailable. Please try again later."),
        }
        if status not in codes:
            return super().fault_error(req, status)
        code, msg = codes[status]
        return self.render_error(req, VenueError(status, code, msg))

    def down_response(self, req: SimRequest) -> web.Response:
        """Maintenance: 50001 with HTTP 503."""
        return self.render_error(
            req, VenueError(503, "50001", "Service temporarily unavailable. Please try again later.")
        )

    # ---- authentication ------------------------------------------------------------------------

    def auth(self, req: SimRequest, need: str) -> ApiKey:
        """Check headers, key, timestamp, passphrase, signature, IP and the permission `need`."""
        h = req.headers
        key_id = h.get("OK-ACCESS-KEY", "")
        if not key_id:
            raise _err(401, "50103", 'Request header "OK-ACCESS-KEY" can not be empty.')
        req.api_key_id = key_id
        passphrase = h.get("OK-ACCESS-PASSPHRASE", "")
        if not passphrase:
            raise _err(401, "50104", 'Request header "OK-ACCESS-PASSPHRASE" can not be empty.')
        sign = h.get("OK-ACCESS-SIGN", "")
        if not sign:
            raise _err(401, "50106", 'Request header "OK-ACCESS-SIGN" can not be empty.')
        stamp = h.get("OK-ACCESS-TIMESTAMP", "")
        if not stamp:
            raise _err(401, "50107", 'Request header "OK-ACCESS-TIMESTAMP" can not be empty.')
        key = self.keys.get(key_id)
        # deleted (revoked) and expired keys no longer exist for OKX
        if key is None or key.venue != self.name or key.secret is None or not key.is_active(req.now_ms):
            raise _err(401, "50111", "Invalid OK-ACCESS-KEY")
        if not self.same_environment(req, key):
            # demo-trading keys work only with x-simulated-trading: 1, live keys only without it
            raise _err(401, "50101", "APIKey does not match current environment.")
        ts_ms = _parse_ts(stamp)
        if ts_ms is None:
            raise _err(401, "50112", "Invalid OK-ACCESS-TIMESTAMP")
        if abs(req.now_ms - ts_ms) > TIMESTAMP_WINDOW_MS:
            raise _err(401, "50102", "Timestamp request expired")
        if not equal(passphrase, key.passphrase or ""):
            raise _err(401, "50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
        # prehash = timestamp + method + requestPath (query included) + body, HMAC-SHA256, Base64
        path = req.path + ("?" + req.query_string if req.query_string else "")
        prehash = stamp + req.method + path + req.body.decode("utf-8", errors="replace")
        if not equal(hmac_sha256_b64(key.secret, prehash), sign):
            raise _err(401, "50113", "Invalid Sign")
        if not key.allows_ip(req.remote):
            raise _err(401, "50110", f"Your IP {req.remote} is not included in your API key's IP whitelist.")
        req.api_key = key
        if not self.allowed(key, need):
            raise _err(401, "50120", "API key doesn't have permission")
        return key

    @staticmethod
    def allowed(key: ApiKey, need: str) -> bool:
        """OKX's three permissions over the sim's four."""
        if need == "read":
            return key.has("read")
        if need == "trade":
            return key.has("spot_trade") or key.has("futures_trade")
        if need == "withdraw":
            return key.has("withdraw")
        return True

    @staticmethod
    def perm(key: ApiKey) -> str:
        """account/config `perm`: comma-separated read_only, trade, withdraw."""
        parts = []
        if key.has("read"):
            parts.append("read_only")
        if key.has("spot_trade") or key.has("futures_trade"):
            parts.append("trade")
        if key.has("withdraw"):
            parts.append("withdraw")
        return ",".join(parts)

    @staticmethod
    def acct_lv(key: ApiKey) -> str:
        """Account mode: "2" (spot and futures) with futures_trade, else "1" (spot mode)."""
        return "2" if key.has("futures_trade") else "1"

    @staticmethod
    def uid(account: str) -> str:
        """A stable numeric user id per account."""
        return str(int(hashlib.sha256(account.encode()).hexdigest()[:13], 16))

    def _require_derivatives(self, key: ApiKey) -> None:
        if self.acct_lv(key) == "1":
            raise _err(200, "51010", "The current account mode does not support this API interface.")

    # ---- request helpers -----------------------------------------------------------------------

    def body(self, req: SimRequest) -> Any:
        """JSON body (50002 when malformed, 50000 when empty)."""
        if not req.body:
            raise _err(400, "50000", "Body can not be empty.")
        try:
            return req.json()
        except ValueError as exc:
            raise _err(400, "50002", "JSON syntax error") from exc

    def listing(self, inst_id: str | None, types: tuple[str, ...] | None = None) -> Listing:
        """The instrument named by instId (50014 when missing, 51001 when unknown)."""
        if not inst_id:
            raise _empty("instId")
        lst = self.listings.get(inst_id)
        if lst is None or (types is not None and lst.inst_type not in types):
            raise _err(200, "51001", "Instrument ID doesn't exist.")
        return lst

    # ---- public data ---------------------------------------------------------------------------

    @route("GET", HOST, V5 + "/public/time")
    async def time(self, req: SimRequest) -> Any:
        """Get system time."""
        return ok([{"ts": str(req.now_ms)}])

    @route("GET", HOST, V5 + "/system/status")
    async def status(self, req: SimRequest) -> Any:
        """Status: no maintenance planned."""
        return ok([])

    @route("GET", HOST, V5 + "/public/instruments")
    async def instruments(self, req: SimRequest) -> Any:
        """Get instruments; SPOT and SWAP are listed, MARGIN/FUTURES/OPTION answer an empty list."""
        inst_type = req.query.get("instType", "")
        if not inst_type:
            raise _empty("instType")
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise _bad("instType")
        if inst_type == "OPTION" and not (req.query.get("uly") or req.query.get("instFamily")):
            raise _err(400, "50015", "Either parameter instFamily or uly is required.")
        want = req.query.get("instId")
        out = [
            self.instrument_view(lst)
            for lst in self.listings.values()
            if lst.inst_type == inst_type and (not want or lst.inst.symbol == want)
        ]
        return ok(out)

    def instrument_view(self, lst: Listing) -> dict[str, Any]:
        """One instrument in the Get instruments shape."""
        i = lst.inst
        swap = lst.inst_type == "SWAP"
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": "" if swap else i.base,
            "category": "1",
            "ctMult": "1" if swap else "",
            "ctType": "linear" if swap else "",
            "ctVal": fmt(lst.ct_val) if swap else "",
            "ctValCcy": i.base if swap else "",
            "expTime": "",
            "instFamily": f"{i.base}-{i.quote}" if swap else "",
            "instId": i.symbol,
            "instType": lst.inst_type,
            "lever": "100" if swap else "10",
            "listTime": str(self._created_ms - 86_400_000 * 365),
            "lotSz": fmt(i.step),
            "maxIcebergSz": fmt(BIG),
            "maxLmtAmt": "20000000",
            "maxLmtSz": fmt(i.max_qty),
            "maxMktAmt": "1000000",
            "maxMktSz": fmt(i.market_max_qty),
            "maxStopSz": fmt(i.market_max_qty),
            "maxTriggerSz": fmt(i.max_qty),
            "maxTwapSz": fmt(i.max_qty),
            "minSz": fmt(i.min_qty),
            "optType": "",
            "quoteCcy": "" if swap else i.quote,
            "ruleType": "normal",
            "settleCcy": i.settle if swap else "",
            "state": "live",
            "stk": "",
            "tickSz": fmt(i.tick),
            "uly": f"{i.base}-{i.quote}" if swap else "",
        }

    # ---- market data ---------------------------------------------------------------------------

    def ticker_view(self, lst: Listing, now: int) -> dict[str, Any]:
        """One ticker (Get ticker); SWAP volumes: vol24h in contracts, volCcy24h in base."""
        i = lst.inst
        pm = self.market.get(i.pair)
        st = pm.stats_24h(now)
        bids, asks = lst.engine.depth(i.symbol, 1)
        last_qty = pm.trades[-1].qty if pm.trades else ZERO
        swap = lst.inst_type == "SWAP"
        # opening prices of the current day in UTC and in UTC+8
        day, h8 = 86_400_000, 8 * 3_600_000
        day0, day8 = now // day * day, (now + h8) // day * day - h8
        sod0, sod8 = pm.price_at(day0), pm.price_at(day8)
        return {
            "instType": lst.inst_type,
            "instId": i.symbol,
            "last": fmt(pm.price),
            "lastSz": fmt(last_qty / lst.ct_val if swap else last_qty),
            "askPx": fmt(asks[0][0]) if asks else "",
            "askSz": fmt(asks[0][1]) if asks else "",
            "bidPx": fmt(bids[0][0]) if bids else "",
            "bidSz": fmt(bids[0][1]) if bids else "",
            "open24h": fmt(st.open),
            "high24h": fmt(st.high),
            "low24h": fmt(st.low),
            "volCcy24h": fmt(st.volume if swap else st.quote_volume),
            "vol24h": fmt(st.volume / lst.ct_val if swap else st.volume),
            "ts": str(now),
            "sodUtc0": fmt(sod0),
            "sodUtc8": fmt(sod8),
        }

    @route("GET", HOST, V5 + "/market/ticker")
    async def ticker(self, req: SimRequest) -> Any:
        """Get ticker."""
        lst = self.listing(req.query.get("instId"))
        return ok([self.ticker_view(lst, req.now_ms)])

    @route("GET", HOST, V5 + "/market/tickers")
    async def tickers(self, req: SimRequest) -> Any:
        """Get tickers of one instrument type."""
        inst_type = req.query.get("instType", "")
        if not inst_type:
            raise _empty("instType")
        if inst_type not in ("SPOT", "SWAP", "FUTURES", "OPTION"):
            raise _bad("instType")
        return ok(
            [
                self.ticker_view(lst, req.now_ms)
                for lst in self.listings.values()
                if lst.inst_type == inst_type
            ]
        )

    @route("GET", HOST, V5 + "/market/books")
    @route("GET", HOST, V5 + "/market/books-full")
    async def books(self, req: SimRequest) -> Any:
        """Get order book: [price, size, "0" (deprecated), order count], best first."""
        lst = self.listing(req.query.get("instId"))
        full = req.path.endswith("books-full")
        depth = _int(req.query.get("sz"), 1, 1, 5000 if full else 400, "sz")
        bids, asks = lst.engine.depth(lst.inst.symbol, depth)
        return ok(
            [
                {
                    "asks": [[fmt(p), fmt(q), "0", "1"] for p, q in asks],
                    "bids": [[fmt(p), fmt(q), "0", "1"] for p, q in bids],
                    "ts": str(req.now_ms),
                }
            ]
        )

    @route("GET", HOST, V5 + "/market/candles")
    @route("GET", HOST, V5 + "/market/history-candles")
    async def candles(self, req: SimRequest) -> Any:
        """Get candlesticks, newest first: [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]."""
        lst = self.listing(req.query.get("instId"))
        bar = req.query.get("bar", "1m")
        minutes = BARS.get(bar[:-3] if bar.endswith("utc") else bar)
        if minutes is None or (bar.endswith("utc") and minutes < 360):
            raise _bad("bar")
        limit = _int(req.query.get("limit"), 100, 1, 300, "limit")
        after = _int(req.query.get("after"), 0, 0, 2**62, "after") or None  # records older than
        before = _int(req.query.get("before"), 0, 0, 2**62, "before") or None  # records newer than
        interval = minutes * MINUTE_MS
        pm = self.market.get(lst.inst.pair)
        rows = pm.klines(
            interval,
            before + 1 if before is not None else None,
            after - 1 if after is not None else None,
            limit=10**9,
        )
        rows = [
            c for c in rows if (after is None or c.open_ms < after) and (before is None or c.open_ms > before)
        ]
        rows = rows[-limit:]
        now = req.now_ms
        swap = lst.inst_type == "SWAP"
        out = []
        for c in reversed(rows):
            done = "1" if c.open_ms + interval <= now else "0"
            vol = c.volume / lst.ct_val if swap else c.volume
            vol_ccy = c.volume if swap else c.quote_volume
            out.append(
                [
                    str(c.open_ms),
                    fmt(c.open),
                    fmt(c.high),
                    fmt(c.low),
                    fmt(c.close),
                    fmt(vol),
                    fmt(vol_ccy),
                    fmt(c.quote_volume),
                    done,
                ]
            )
        return ok(out)

    @route("GET", HOST, V5 + "/market/trades")
    @route("GET", HOST, V5 + "/market/history-trades")
    async def trades(self, req: SimRequest) -> Any:
        """Get trades, newest first; `side` is the taker's side."""
        lst = self.listing(req.query.get("instId"))
        limit = _int(req.query.get("limit"), 100, 1, 500, "limit")
        pm = self.market.get(lst.inst.pair)
        swap = lst.inst_type == "SWAP"
        out = [
            {
                "instId": lst.inst.symbol,
                "side": "sell" if t.buyer_maker else "buy",
                "sz": fmt(t.qty / lst.ct_val if swap else t.qty),
                "px": fmt(t.price),
                "source": "0",
                "tradeId": str(t.trade_id),
                "ts": str(t.time_ms),
            }
            for t in list(pm.trades)[::-1][:limit]
        ]
        return ok(out)

    # ---- trading account -----------------------------------------------------------------------

    def usd_price(self, ccy: str) -> Decimal:
        """Price of one unit in USDT (0 when no USDT pair)."""
        if ccy in ("USDT", "USDC", "USD"):
            return Decimal(1)
        pair = self.market.resolve(f"{ccy}/USDT")
        return self.market.get(pair).price if pair else ZERO

    # ---- perpetuals: funding rate, mark price, bills --------------------------------------------

    def _funding_row(self, sym: str, now: int) -> dict[str, Any]:
        nxt = self.risk.next_funding(now)
        last = self.risk.event(sym, nxt - self.risk.rules.interval_ms)
        premium = self.risk.premium(sym, now)
        rules = self.risk.rules
        return {
            "instType": "SWAP",
            "instId": sym,
            "method": "current_period",
            "formulaType": "withRate",
            "fundingRate": fmt(self.risk.predicted_rate(sym, now)),
            "nextFundingRate": "",
            "fundingTime": str(nxt),
            "nextFundingTime": str(nxt + rules.interval_ms),
            "minFundingRate": fmt(-rules.cap),
            "maxFundingRate": fmt(rules.cap),
            "interestRate": fmt(rules.interest),
            "impactValue": "20000",
            "settState": "settled",
            "settFundingRate": fmt(last.rate),
            "premium": fmt(premium),
            "ts": str(now),
        }

    @route("GET", HOST, V5 + "/public/funding-rate")
    async def funding_rate(self, req: SimRequest) -> Any:
        """Get funding rate: the current period's rate, its settlement time and the next one."""
        lst = self.listing(req.query.get("instId") or None, ("SWAP",))
        return ok([self._funding_row(lst.inst.symbol, self.now_ms())])

    @route("GET", HOST, V5 + "/public/funding-rate-history")
    async def funding_rate_history(self, req: SimRequest) -> Any:
        """Get funding rate history: newest first; before/after are fundingTime bounds, limit ≤ 400."""
        lst = self.listing(req.query.get("instId") or None, ("SWAP",))
        limit = _int(req.query.get("limit"), 400, 1, 400, "limit")
        before = _int(req.query.get("before"), -1, 0, 2**62, "before")
        after = _int(req.query.get("after"), -1, 0, 2**62, "after")
        end = after - 1 if after >= 0 else None
        if before >= 0:
            # records newer than `before`: page forward from there, then answer newest first
            events = self.risk.history(lst.inst.symbol, before + 1, end, limit)[::-1]
        else:
            events = self.risk.history(lst.inst.symbol, None, end, limit, newest_first=True)
        return ok(
            [
                {
                    "instType": "SWAP",
                    "instId": e.symbol,
                    "formulaType": "withRate",
                    "fundingRate": fmt(e.rate),
                    "realizedRate": fmt(e.rate),
                    "fundingTime": str(e.time_ms),
                    "method": "current_period",
                }
                for e in events
            ]
        )

    @route("GET", HOST, V5 + "/public/mark-price")
    async def mark_price(self, req: SimRequest) -> Any:
        """Get mark price of SWAP instruments (instType required)."""
        inst_type = req.query.get("instType")
        if not inst_type:
            raise _empty("instType")
        if inst_type not in ("MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise _bad("instType")
        wanted = req.query.get("instId")
        now = self.now_ms()
        syms = [self.listing(wanted, ("SWAP",)).inst.symbol] if wanted else list(self.swap.instruments)
        if inst_type != "SWAP":
            syms = []
        return ok(
            [
                {"instType": "SWAP", "instId": s_, "markPx": fmt(self.risk.mark(s_, now)), "ts": str(now)}
                for s_ in syms
            ]
        )

    @route("GET", HOST, V5 + "/account/bills", weight=1)
    @route("GET", HOST, V5 + "/account/bills-archive", weight=1)
    async def bills(self, req: SimRequest) -> Any:
        """Get bills details: trades (type 2), funding fees (type 8: subType 173 paid, 174 received) and
        liquidations (type 5: 104/105 the close of a long/short, 110/111 insurance in/out); newest first."""
        key = self.auth(req, "read")
        q = req.query
        limit = _int(q.get("limit"), 100, 1, 100, "limit")
        begin = _int(q.get("begin"), 0, 0, 2**62, "begin")
        end = _int(q.get("end"), 2**62, 0, 2**62, "end")
        after = _int(q.get("after"), 2**62, 0, 2**62, "after")
        before = _int(q.get("before"), 0, 0, 2**62, "before")
        rows = []
        for e in self.margin.account(key.account).journal:
            bill = self._bill(e)
            if q.get("type") and bill["type"] != q["type"]:
                continue
            if q.get("subType") and bill["subType"] != q["subType"]:
                continue
            if q.get("instType") and q["instType"] != "SWAP":
                continue
            if q.get("instId") and q["instId"] != e.symbol:
                continue
            if q.get("ccy") and q["ccy"] != e.asset:
                continue
            if q.get("ctType") and q["ctType"] != "linear":
                continue
            if not begin <= e.time_ms <= end or not before < int(bill["billId"]) < after:
                continue
            rows.append(bill)
        rows.reverse()
        return ok(rows[:limit])

    def _bill(self, e: Any) -> dict[str, Any]:
        oid = e.info.get("order_id")
        order = self.swap.orders.get(oid) if oid is not None else None
        liquidation = bool(order is not None and order.extra.get("liquidation"))
        pos_long = order is not None and order.side is Side.SELL  # a sell closes (or opens short)
        if e.kind == "funding":
            kind, sub = "8", "174" if e.amount > 0 else "173"
        elif e.kind == "insurance":
            kind, sub = "5", "110" if e.amount > 0 else "111"
        elif liquidation:
            kind, sub = "5", "104" if pos_long else "105"
        else:
            kind, sub = "2", "2" if pos_long else "1"
        mgn = "isolated" if self.margin.margin_mode(e.account, e.symbol) == "isolated" else "cross"
        return {
            "bal": "",
            "balChg": fmt(e.amount),
            "billId": str(800_000_000_000 + e.entry_id),
            "ccy": e.asset,
            "clOrdId": "",
            "execType": "T" if order is not None else "",
            "fee": fmt(e.amount) if e.kind == "commission" else "0",
            "fillTime": str(e.time_ms),
            "from": "",
            "instId": e.symbol,
            "instType": "SWAP",
            "interest": "0",
            "mgnMode": mgn,
            "notes": "",
            "ordId": str(oid) if oid is not None else "",
            "pnl": fmt(e.amount) if e.kind == "realized_pnl" else "0",
            "posBal": "",
            "posBalChg": "0",
            "px": fmt(e.info["mark"]) if "mark" in e.info else "",
            "subType": sub,
            "sz": fmt(abs(e.info["qty"])) if "qty" in e.info else "",
            "tag": "",
            "to": "",
            "tradeId": "",
            "ts": str(e.time_ms),
            "type": kind,
        }

    @route("GET", HOST, V5 + "/account/balance", weight=2)
    async def balance(self, req: SimRequest) -> Any:
        """Get balance of the trading account (currencies with a non-zero balance)."""
        key = self.auth(req, "read")
        want = {c for c in req.query.get("ccy", "").split(",") if c}
        acc = self.wallets.ensure(key.account)
        perp = self.margin.account(key.account)
        upl = self.margin.unrealized(perp)
        pos_margin = self.margin.position_margin(perp)
        # Get balance: isoEq / isoUpl are the isolated positions' margin plus their PnL, and that PnL
        iso_upl = upl - self.margin.unrealized(perp, cross_only=True)
        iso_eq = self.margin.isolated_margin(perp) + iso_upl
        spot_mode = self.acct_lv(key) == "1"
        details = []
        total_eq = ZERO
        upd = str(req.now_ms)
        for ccy, bal in sorted(acc.items()):
            if want and ccy not in want:
                continue
            cash = bal.free + bal.locked
            extra_frozen = pos_margin + perp.order_margin if ccy == self.margin.asset else ZERO
            ccy_upl = upl if ccy == self.margin.asset else ZERO
            eq = cash + ccy_upl
            if eq == 0 and cash == 0 and not want:
                continue
            frozen = bal.locked + extra_frozen
            avail = cash - frozen + min(ZERO, ccy_upl)
            eq_usd = eq * self.usd_price(ccy)
            total_eq += eq_usd
            details.append(
                {
                    "accAvgPx": "",
                    "availBal": fmt(avail),
                    "availEq": "" if spot_mode else fmt(avail),
                    "borrowFroz": "",
                    "cashBal": fmt(cash),
                    "ccy": ccy,
                    "clSpotInUseAmt": "",
                    "crossLiab": "",
                    "disEq": fmt(eq_usd),
                    "eq": fmt(eq),
                    "eqUsd": fmt(eq_usd),
                    "fixedBal": "0",
                    "frozenBal": fmt(frozen),
                    "imr": "" if spot_mode else fmt(extra_frozen),
                    "interest": "",
                    "isoEq": fmt(iso_eq) if ccy == self.margin.asset else "0",
                    "isoLiab": "",
                    "isoUpl": fmt(iso_upl) if ccy == self.margin.asset else "0",
                    "liab": "",
                    "maxLoan": "",
                    "mgnRatio": "",
                    "mmr": "",
                    "notionalLever": "",
                    "ordFrozen": fmt(bal.locked + (perp.order_margin if extra_frozen else ZERO)),
                    "rewardBal": "",
                    "smtSyncEq": "0",
                    "spotBal": "",
                    "spotInUseAmt": "",
                    "spotIsoBal": "0",
                    "spotUpl": "",
                    "spotUplRatio": "",
                    "stgyEq": "0",
                    "totalPnl": "",
                    "totalPnlRatio": "",
                    "twap": "0",
                    "uTime": upd,
                    "upl": fmt(ccy_upl),
                    "uplLiab": "",
                }
            )
        return ok(
            [
                {
                    "adjEq": "",
                    "availEq": "",
                    "borrowFroz": "",
                    "details": details,
                    "imr": "",
                    "isoEq": fmt(iso_eq),
                    "mgnRatio": "",
                    "mmr": "",
                    "notionalUsd": "",
                    "notionalUsdForBorrow": "",
                    "notionalUsdForFutures": "",
                    "notionalUsdForOption": "",
                    "notionalUsdForSwap": "",
                    "ordFroz": "",
                    "totalEq": fmt(total_eq),
                    "uTime": upd,
                    "upl": fmt(upl),
                }
            ]
        )

    @route("GET", HOST, V5 + "/account/config", weight=2)
    async def config(self, req: SimRequest) -> Any:
        """Get account configuration: the key's perm and bound IPs, the account mode (acctLv)."""
        key = self.auth(req, "read")
        uid = self.uid(key.account)
        return ok(
            [
                {
                    "acctLv": self.acct_lv(key),
                    "acctStpMode": "cancel_maker",
                    "autoLoan": False,
                    "ctIsoMode": "automatic",
                    "enableSpotBorrow": False,
                    "feeType": "0",
                    "greeksType": "PA",
                    "ip": ",".join(key.ip_whitelist),
                    "kycLv": "2",
                    "label": key.label,
                    "level": "Lv1",
                    "levelTmp": "",
                    "liquidationGear": "-1",
                    "mainUid": uid,
                    "mgnIsoMode": "automatic",
                    "opAuth": "0",
                    "perm": self.perm(key),
                    "posMode": "net_mode",
                    "roleType": "0",
                    "settleCcy": "USDT",
                    "settleCcyList": ["USDT"],
                    "spotBorrowAutoRepay": False,
                    "spotOffsetType": "",
                    "spotRoleType": "0",
                    "spotTraderInsts": [],
                    "traderInsts": [],
                    "type": "0",
                    "uid": uid,
                }
            ]
        )

    @route("GET", HOST, V5 + "/account/positions", weight=2)
    async def positions(self, req: SimRequest) -> Any:
        """Get positions (open SWAP positions; spot-mode accounts hold none and answer 51010)."""
        key = self.auth(req, "read")
        self._require_derivatives(key)
        inst_type = req.query.get("instType", "")
        if inst_type and inst_type not in ("MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise _bad("instType")
        wanted = {i for i in req.query.get("instId", "").split(",") if i}
        if inst_type and inst_type != "SWAP":
            return ok([])
        acc = self.margin.account(key.account)
        out = []
        for sym, pos in sorted(acc.positions.items()):
            if not pos.qty or (wanted and sym not in wanted):
                continue
            out.append(self.position_view(key.account, sym, req.now_ms))
        return ok(out)

    def position_view(self, account: str, sym: str, now: int) -> dict[str, Any]:
        """One position in the Get positions shape (net mode; cross: imr, isolated: margin)."""
        lst = self.listings[sym]
        acc = self.margin.account(account)
        pos = acc.positions[sym]
        mark = self.risk.mark(sym, now)
        lev = self.margin.leverage(account, sym)
        upl = (mark - pos.entry) * pos.qty * pos.contract_size
        notional = pos.notional(mark)
        imr = notional / lev
        margin_at_entry = self.margin.initial_margin(acc, sym, pos)
        liq = self.margin.liquidation_price(account, sym)
        fees = sum((f.fee for o in self.swap.all_orders(account, sym) for f in o.fills), ZERO)
        return {
            "adl": "1",
            "availPos": "",
            "avgPx": fmt(pos.entry),
            "baseBal": "",
            "baseBorrowed": "",
            "baseInterest": "",
            "bePx": fmt(pos.entry),
            "bizRefId": "",
            "bizRefType": "",
            "cTime": str(pos.opened_ms),
            "ccy": "USDT",
            "clSpotInUseAmt": "",
            "closeOrderAlgo": [],
            "deltaBS": "",
            "deltaPA": "",
            "fee": fmt(-fees),
            "fundingFee": fmt(pos.funding),
            "gammaBS": "",
            "gammaPA": "",
            "idxPx": fmt(self.risk.index(sym, now)),
            # Get positions: imr for cross, margin for isolated
            "imr": "" if pos.isolated else fmt(imr),
            "instId": sym,
            "instType": lst.inst_type,
            "interest": "",
            "last": fmt(mark),
            "lever": str(lev),
            "liab": "",
            "liabCcy": "",
            "liqPenalty": "0",
            "liqPx": fmt(liq.quantize(lst.inst.tick)) if liq else "",
            "margin": fmt(pos.margin) if pos.isolated else "",
            "markPx": fmt(mark),
            "maxSpotInUseAmt": "",
            "mgnMode": "isolated" if pos.isolated else "cross",
            "mgnRatio": "",
            "mmr": fmt(notional * self.margin.mmr),
            "notionalUsd": fmt(notional),
            "optVal": "",
            "pendingCloseOrdLiabVal": "",
            "pnl": fmt(pos.realized),
            "pos": fmt(pos.qty),
            "posCcy": "",
            "posId": str(int(hashlib.sha256(f"{account}|{sym}".encode()).hexdigest()[:12], 16)),
            "posSide": "net",
            "quoteBal": "",
            "quoteBorrowed": "",
            "quoteInterest": "",
            "realizedPnl": fmt(pos.realized - fees),
            "spotInUseAmt": "",
            "spotInUseCcy": "",
            "thetaBS": "",
            "thetaPA": "",
            "tradeId": "",
            "uTime": str(pos.updated_ms),
            "upl": fmt(upl),
            "uplLastPx": fmt(upl),
            "uplRatio": fmt(upl / margin_at_entry) if margin_at_entry else "0",
            "uplRatioLastPx": fmt(upl / margin_at_entry) if margin_at_entry else "0",
            "usdPx": "",
            "vegaBS": "",
            "vegaPA": "",
        }

    @route("POST", HOST, V5 + "/account/set-leverage")
    async def set_leverage(self, req: SimRequest) -> Any:
        """Set leverage of a SWAP instrument (cross margin)."""
        key = self.auth(req, "trade")
        self._require_derivatives(key)
        p = self.body(req)
        if not isinstance(p, dict):
            raise _err(400, "50002", "JSON syntax error")
        lever = _text(p.get("lever"))
        mgn = _text(p.get("mgnMode"))
        if not lever:
            raise _empty("lever")
        if not mgn:
            raise _empty("mgnMode")
        if mgn not in ("cross", "isolated"):
            raise _bad("mgnMode")
        lst = self.listing(_text(p.get("instId")), ("SWAP",))
        lev_d = parse_decimal(lever)
        if lev_d is None or lev_d < 1 or lev_d > 100 or lev_d != lev_d.to_integral_value():
            raise _bad("lever")
        try:
            # the sim keeps one margin mode per instrument; an open position keeps its own
            self.margin.set_margin_mode(key.account, lst.inst.symbol, mgn)
        except ValueError as exc:
            raise _err(
                200, "59000", "Settings failed. Close any open positions or orders before modifying settings."
            ) from exc
        self.margin.account(key.account).leverage[lst.inst.symbol] = int(lev_d)
        return ok([{"instId": lst.inst.symbol, "lever": str(int(lev_d)), "mgnMode": mgn, "posSide": "net"}])

    @route("GET", HOST, V5 + "/account/leverage-info")
    async def leverage_info(self, req: SimRequest) -> Any:
        """Get leverage of SWAP instruments."""
        key = self.auth(req, "read")
        ids = [i for i in req.query.get("instId", "").split(",") if i]
        if not ids:
            raise _empty("instId")
        mgn = req.query.get("mgnMode", "")
        if not mgn:
            raise _empty("mgnMode")
        out = []
        for inst_id in ids:
            lst = self.listing(inst_id, ("SWAP",))
            lev = self.margin.leverage(key.account, lst.inst.symbol)
            out.append({"instId": inst_id, "lever": str(lev), "mgnMode": mgn, "posSide": "net"})
        return ok(out)

    @route("GET", HOST, V5 + "/account/trade-fee")
    async def trade_fee(self, req: SimRequest) -> Any:
        """Get fee rates (negative: charged)."""
        self.auth(req, "read")
        inst_type = req.query.get("instType", "")
        if not inst_type:
            raise _empty("instType")
        maker, taker = (
            (SPOT_MAKER, SPOT_TAKER) if inst_type in ("SPOT", "MARGIN") else (SWAP_MAKER, SWAP_TAKER)
        )
        return ok(
            [
                {
                    "category": "1",
                    "delivery": "",
                    "exercise": "",
                    "instType": inst_type,
                    "level": "Lv1",
                    "maker": fmt(-maker),
                    "makerU": fmt(-maker),
                    "taker": fmt(-taker),
                    "takerU": fmt(-taker),
                    "ts": str(req.now_ms),
                }
            ]
        )

    # ---- order book trading --------------------------------------------------------------------

    def place(self, key: ApiKey, p: Any) -> Order:
        """Validate one Place order request and hand it to the engine; raises OrderFailure."""
        if not isinstance(p, dict):
            raise OrderFailure("50002", "JSON syntax error")
        inst_id = _text(p.get("instId"))
        side_t, ord_type = _text(p.get("side")), _text(p.get("ordType"))
        td_mode, sz_t, px_t = _text(p.get("tdMode")), _text(p.get("sz")), _text(p.get("px"))
        for name, val in (
            ("instId", inst_id),
            ("tdMode", td_mode),
            ("side", side_t),
            ("ordType", ord_type),
            ("sz", sz_t),
        ):
            if not val:
                raise OrderFailure("50014", f"Parameter {name} can not be empty.")
        lst = self.listings.get(inst_id or "")
        if lst is None:
            raise OrderFailure("51001", "Instrument ID doesn't exist.")
        inst = lst.inst
        if side_t not in ("buy", "sell"):
            raise OrderFailure("51000", "Parameter side error")
        types = {"market", "limit", "post_only", "fok", "ioc", "optimal_limit_ioc"}
        if ord_type not in types:
            raise OrderFailure("51000", "Parameter ordType error")
        swap = lst.inst_type == "SWAP"
        if swap:
            if td_mode not in ("cross", "isolated"):
                raise OrderFailure("51000", "Parameter tdMode error")
            if self.acct_lv(key) == "1":
                raise OrderFailure("51010", "The current account mode does not support this API interface.")
            pos_side = _text(p.get("posSide")) or "net"
            if pos_side != "net":
                raise OrderFailure("51000", "Parameter posSide error")
            # the sim holds one position per instrument: a flat one opens in the order's tdMode, an
            # open one must be traded in its own mode
            try:
                self.margin.set_margin_mode(key.account, inst.symbol, td_mode)
            except ValueError as exc:
                raise OrderFailure("51000", "Parameter tdMode error") from exc
        elif td_mode != "cash":
            raise OrderFailure("51000", "Parameter tdMode error")
        sz = parse_decimal(sz_t)
        if sz is None or sz <= 0:
            raise OrderFailure("51000", "Parameter sz error")
        is_market = ord_type in ("market", "optimal_limit_ioc")
        px: Decimal | None = None
        if not is_market:
            if not px_t:
                raise OrderFailure("50014", "Parameter px can not be empty.")
            px = parse_decimal(px_t)
            if px is None or px <= 0 or px % inst.tick != 0:
                raise OrderFailure("51000", "Parameter px error")
        # spot market orders: tgtCcy says whether sz is base or quote; the default for buys is quote
        tgt = _text(p.get("tgtCcy")) or (
            "quote_ccy" if side_t == "buy" and is_market and not swap else "base_ccy"
        )
        if tgt not in ("base_ccy", "quote_ccy"):
            raise OrderFailure("51000", "Parameter tgtCcy error")
        quote_sized = is_market and not swap and tgt == "quote_ccy"
        if not quote_sized:
            if sz < inst.min_qty:
                raise OrderFailure("51020", "Your order should meet or exceed the minimum order amount.")
            if sz % inst.step != 0:
                raise OrderFailure("51121", "Order quantity must be a multiple of the lot size.")
        reduce_only = _text(p.get("reduceOnly")) == "true"
        if reduce_only and not swap:
            raise OrderFailure("51139", "Reduce-only feature is unavailable for the spot transactions.")
        cl = _text(p.get("clOrdId")) or ""
        if cl and (len(cl) > 32 or not cl.isalnum()):
            raise OrderFailure("51000", "Parameter clOrdId error")
        tif = {"fok": TIF.FOK, "ioc": TIF.IOC, "post_only": TIF.GTX}.get(ord_type, TIF.GTC)
        extra = {
            "ordType": ord_type,
            "tdMode": td_mode,
            "sz": fmt(sz),
            "tgtCcy": tgt if not swap else "",
            "tag": _text(p.get("tag")) or "",
            "clOrdId": cl,
        }
        try:
            return lst.engine.new_order(
                key.account,
                inst.symbol,
                Side.BUY if side_t == "buy" else Side.SELL,
                OrdType.MARKET if is_market else OrdType.LIMIT,
                qty=None if quote_sized else sz,
                quote_qty=sz if quote_sized else None,
                price=px,
                tif=TIF.IOC if is_market else tif,
                client_order_id=cl or None,
                reduce_only=reduce_only,
                extra=extra,
            )
        except OrderRejected as exc:
            # Order types: a post_only order that would take, a fok order that cannot fill completely,
            # are placed and then canceled (cancelSource 31 and 13), not refused
            if exc.reason is Reject.POST_ONLY_WOULD_TAKE or (
                exc.reason is Reject.NO_LIQUIDITY and tif is TIF.FOK and not is_market
            ):
                source = "31" if exc.reason is Reject.POST_ONLY_WOULD_TAKE else "13"
                return self._stillborn(key, lst, side_t, sz, px, tif, {**extra, "cancelSource": source})
            code, msg = REJECTS.get(exc.reason, ("51000", "Parameter error"))
            if exc.reason is Reject.INSUFFICIENT_BALANCE and not swap:
                ccy = inst.quote if side_t == "buy" else inst.base
                msg = f"Order failed. Insufficient {ccy} balance in account."
            raise OrderFailure(code, msg) from exc

    def _stillborn(
        self,
        key: ApiKey,
        lst: Listing,
        side: str | None,
        sz: Decimal,
        px: Decimal | None,
        tif: TIF,
        extra: dict[str, Any],
    ) -> Order:
        now = self.now_ms()
        oid = next(self._stillborn_ids)
        order = Order(
            oid,
            str(extra.get("clOrdId") or f"sim-{oid}"),
            key.account,
            lst.inst.symbol,
            Side.BUY if side == "buy" else Side.SELL,
            OrdType.LIMIT,
            tif,
            px,
            sz,
            None,
            now,
            0,
            status=Status.CANCELED,
            updated_ms=now,
            extra=extra,
        )
        self.stillborn[oid] = (lst, order)
        return order

    def _placed(self, cl: str, order: Order | None, fail: OrderFailure | None, now: int) -> dict[str, Any]:
        if order is not None:
            return {
                "clOrdId": order.extra.get("clOrdId", ""),
                "ordId": str(order.order_id),
                "sCode": "0",
                "sMsg": "Order placed",
                "tag": order.extra.get("tag", ""),
                "ts": str(now),
            }
        assert fail is not None
        return {"clOrdId": cl, "ordId": "", "sCode": fail.code, "sMsg": fail.msg, "tag": "", "ts": str(now)}

    def _batch(self, req: SimRequest, items: list[Any], op: Any) -> Any:
        """Run per-item operations; code "0" all ok, "1" all failed, "2" partly (Place multiple orders)."""
        rows: list[dict[str, Any]] = []
        failed = 0
        for item in items:
            row = op(item)
            failed += row["sCode"] != "0"
            rows.append(row)
        codes = [r["sCode"] for r in rows if r["sCode"] != "0"]
        if failed == 0:
            return ok(rows)
        req.code = codes[0]
        if failed == len(rows):
            msg = (
                "All operations failed"
                if len(rows) > 1 or req.path.endswith("batch-orders")
                else "Operation failed."
            )
            return {"code": "1", "msg": msg, "data": rows}
        return {"code": "2", "msg": "Bulk operation partially succeeded", "data": rows}

    def _place_one(self, key: ApiKey, now: int) -> Any:
        def op(item: Any) -> dict[str, Any]:
            cl = _text(item.get("clOrdId")) or "" if isinstance(item, dict) else ""
            try:
                return self._placed(cl, self.place(key, item), None, now)
            except OrderFailure as fail:
                return self._placed(cl, None, fail, now)

        return op

    @route("POST", HOST, V5 + "/trade/order")
    async def order_post(self, req: SimRequest) -> Any:
        """Place order."""
        key = self.auth(req, "trade")
        p = self.body(req)
        if not isinstance(p, dict):
            raise _err(400, "50002", "JSON syntax error")
        return self._batch(req, [p], self._place_one(key, req.now_ms))

    @route("POST", HOST, V5 + "/trade/batch-orders")
    async def batch_orders(self, req: SimRequest) -> Any:
        """Place multiple orders (at most 20)."""
        key = self.auth(req, "trade")
        p = self.body(req)
        if not isinstance(p, list) or not p:
            raise _err(400, "50002", "JSON syntax error")
        if len(p) > 20:
            raise _err(200, "51111", "Maximum 20 orders can be placed in bulk.")
        return self._batch(req, p, self._place_one(key, req.now_ms))

    def find(self, key: ApiKey, p: dict[str, Any]) -> tuple[Listing, Order]:
        """The order named by instId + ordId/clOrdId; raises OrderFailure 51603."""
        lst = self.listings.get(_text(p.get("instId")) or "")
        if not _text(p.get("instId")):
            raise OrderFailure("50014", "Parameter instId can not be empty.")
        if lst is None:
            raise OrderFailure("51001", "Instrument ID doesn't exist.")
        ord_id, cl = _text(p.get("ordId")), _text(p.get("clOrdId"))
        if not ord_id and not cl:
            raise OrderFailure("51003", "Either client order ID or order ID is required.")
        try:
            oid = int(ord_id) if ord_id else None
        except ValueError as exc:
            raise OrderFailure("51603", "Order does not exist") from exc
        try:
            order = lst.engine.find(key.account, lst.inst.symbol, oid, None if oid is not None else cl)
        except OrderNotFound as exc:
            for s_lst, s_order in self.stillborn.values():
                if (
                    s_order.account == key.account
                    and s_lst is lst
                    and (s_order.order_id == oid if oid is not None else s_order.extra.get("clOrdId") == cl)
                ):
                    return s_lst, s_order
            raise OrderFailure("51603", "Order does not exist") from exc
        return lst, order

    @route("GET", HOST, V5 + "/trade/order")
    async def order_get(self, req: SimRequest) -> Any:
        """Get order details (51603 when unknown)."""
        key = self.auth(req, "read")
        try:
            lst, order = self.find(key, dict(req.query))
        except OrderFailure as fail:
            status = 400 if fail.code == "50014" else 200
            raise _err(status, fail.code, fail.msg) from fail
        return ok([self.order_view(lst, order)])

    def _cancel_one(self, key: ApiKey, now: int) -> Any:
        def op(item: Any) -> dict[str, Any]:
            p = item if isinstance(item, dict) else {}
            cl = _text(p.get("clOrdId")) or ""
            try:
                lst, order = self.find(key, p)
                if not order.is_open:
                    raise CancelRejected(order)
                lst.engine.cancel(key.account, lst.inst.symbol, order.order_id)
            except OrderFailure as fail:
                code, msg = fail.code, fail.msg
                if code == "51603":
                    code, msg = (
                        "51400",
                        "Order cancellation failed as the order has been filled, canceled or does not exist.",
                    )
                return {
                    "clOrdId": cl,
                    "ordId": _text(p.get("ordId")) or "",
                    "sCode": code,
                    "sMsg": msg,
                    "ts": str(now),
                }
            except CancelRejected as exc:
                o = exc.order
                code, msg = (
                    ("51401", "Order cancellation failed as the order has been canceled.")
                    if o.status in (Status.CANCELED, Status.EXPIRED)
                    else ("51402", "Order cancellation failed as the order has been completed.")
                )
                return {
                    "clOrdId": o.extra.get("clOrdId", ""),
                    "ordId": str(o.order_id),
                    "sCode": code,
                    "sMsg": msg,
                    "ts": str(now),
                }
            return {
                "clOrdId": order.extra.get("clOrdId", ""),
                "ordId": str(order.order_id),
                "sCode": "0",
                "sMsg": "",
                "ts": str(now),
            }

        return op

    @route("POST", HOST, V5 + "/trade/cancel-order")
    async def cancel_order(self, req: SimRequest) -> Any:
        """Cancel order."""
        key = self.auth(req, "trade")
        p = self.body(req)
        if not isinstance(p, dict):
            raise _err(400, "50002", "JSON syntax error")
        return self._batch(req, [p], self._cancel_one(key, req.now_ms))

    @route("POST", HOST, V5 + "/trade/cancel-batch-orders")
    async def cancel_batch(self, req: SimRequest) -> Any:
        """Cancel multiple orders (at most 20)."""
        key = self.auth(req, "trade")
        p = self.body(req)
        if not isinstance(p, list) or not p:
            raise _err(400, "50002", "JSON syntax error")
        if len(p) > 20:
            raise _err(200, "51111", "Maximum 20 orders can be canceled in bulk.")
        return self._batch(req, p, self._cancel_one(key, req.now_ms))

    def _orders(self, key: ApiKey, req: SimRequest, open_only: bool) -> list[dict[str, Any]]:
        q = req.query
        inst_type, inst_id, ord_type = q.get("instType", ""), q.get("instId", ""), q.get("ordType", "")
        state = q.get("state", "")
        limit = _int(q.get("limit"), 100, 1, 100, "limit")
        after = _int(q.get("after"), 0, 0, 2**62, "after")
        before = _int(q.get("before"), 0, 0, 2**62, "before")
        begin = _int(q.get("begin"), 0, 0, 2**62, "begin")
        end = _int(q.get("end"), 0, 0, 2**62, "end")
        rows: list[tuple[Listing, Order]] = []
        for lst in self.listings.values():
            if (inst_type and lst.inst_type != inst_type) or (inst_id and lst.inst.symbol != inst_id):
                continue
            orders = (
                lst.engine.open_orders(key.account, lst.inst.symbol)
                if open_only
                else lst.engine.all_orders(key.account, lst.inst.symbol)
                + [o for s_lst, o in self.stillborn.values() if s_lst is lst and o.account == key.account]
            )
            for o in orders:
                if not open_only and o.is_open:
                    continue
                if ord_type and o.extra.get("ordType") not in ord_type.split(","):
                    continue
                if state and STATES[o.status] != state:
                    continue
                if (after and o.order_id >= after) or (before and o.order_id <= before):
                    continue
                if (begin and o.created_ms < begin) or (end and o.created_ms > end):
                    continue
                rows.append((lst, o))
        rows.sort(key=lambda r: (r[1].created_ms, r[1].order_id), reverse=True)
        return [self.order_view(lst, o) for lst, o in rows[:limit]]

    @route("GET", HOST, V5 + "/trade/orders-pending")
    async def orders_pending(self, req: SimRequest) -> Any:
        """Get order list (incomplete orders), newest first."""
        key = self.auth(req, "read")
        return ok(self._orders(key, req, open_only=True))

    @route("GET", HOST, V5 + "/trade/orders-history")
    @route("GET", HOST, V5 + "/trade/orders-history-archive")
    async def orders_history(self, req: SimRequest) -> Any:
        """Get order history (completed orders), newest first; instType is required."""
        key = self.auth(req, "read")
        if not req.query.get("instType"):
            raise _empty("instType")
        return ok(self._orders(key, req, open_only=False))

    @route("GET", HOST, V5 + "/trade/fills")
    @route("GET", HOST, V5 + "/trade/fills-history")
    async def fills(self, req: SimRequest) -> Any:
        """Get transaction details, newest first; fee negative when charged."""
        key = self.auth(req, "read")
        q = req.query
        limit = _int(q.get("limit"), 100, 1, 100, "limit")
        rows = []
        for lst in self.listings.values():
            if (q.get("instType") and lst.inst_type != q["instType"]) or (
                q.get("instId") and lst.inst.symbol != q["instId"]
            ):
                continue
            for o in lst.engine.all_orders(key.account, lst.inst.symbol):
                if q.get("ordId") and str(o.order_id) != q["ordId"]:
                    continue
                for f in o.fills:
                    rows.append((f.time_ms, f.trade_id, self.fill_view(lst, o, f)))
        rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
        return ok([r[2] for r in rows[:limit]])

    def fill_view(self, lst: Listing, o: Order, f: Any) -> dict[str, Any]:
        """One fill in the Get transaction details shape."""
        return {
            "billId": str(f.trade_id + 800_000_000),
            "clOrdId": o.extra.get("clOrdId", ""),
            "execType": "M" if f.is_maker else "T",
            "fee": fmt(-f.fee),
            "feeCcy": f.fee_asset,
            "feeRate": fmt(-(lst.inst.maker_fee if f.is_maker else lst.inst.taker_fee)),
            "fillIdxPx": fmt(f.price),
            "fillMarkPx": "" if lst.inst_type == "SPOT" else fmt(f.price),
            "fillMarkVol": "",
            "fillPnl": fmt(f.realized_pnl),
            "fillPx": fmt(f.price),
            "fillPxUsd": "",
            "fillPxVol": "",
            "fillSz": fmt(f.qty),
            "fillTime": str(f.time_ms),
            "instId": lst.inst.symbol,
            "instType": lst.inst_type,
            "ordId": str(o.order_id),
            "posSide": "net",
            "side": "buy" if o.side is Side.BUY else "sell",
            "subType": "1" if o.side is Side.BUY else "2",
            "tag": o.extra.get("tag", ""),
            "tradeId": str(f.trade_id),
            "ts": str(f.time_ms),
        }

    def order_view(self, lst: Listing, o: Order) -> dict[str, Any]:
        """One order in the Get order details shape."""
        inst = lst.inst
        swap = lst.inst_type == "SWAP"
        filled = o.executed_qty
        base_quote = sum((f.price * f.qty for f in o.fills), ZERO)
        avg = base_quote / filled if filled else None
        fee = sum((f.fee for f in o.fills), ZERO)
        # spot fees are taken from what the order receives; swap fees in the settlement currency
        fee_ccy = (inst.settle or inst.quote) if swap else (inst.base if o.side is Side.BUY else inst.quote)
        last = o.fills[-1] if o.fills else None
        pnl = sum((f.realized_pnl for f in o.fills), ZERO)
        # cancelSource: 1 canceled by the user, 13 fok not filled completely, 14 ioc remainder, 0 by system
        cancel_src = str(o.extra.get("cancelSource", ""))
        if not cancel_src and o.status is Status.CANCELED:
            cancel_src = "1"
        elif not cancel_src and o.status is Status.EXPIRED:
            cancel_src = {TIF.FOK: "13", TIF.IOC: "14"}.get(o.tif, "0") if o.type is OrdType.LIMIT else "0"
        return {
            "accFillSz": fmt(filled),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": s(avg),
            "cTime": str(o.created_ms),
            "cancelSource": cancel_src,
            "cancelSourceReason": "",
            # Get order details: category full_liquidation for the liquidation engine's orders
            "category": "full_liquidation" if o.extra.get("liquidation") else "normal",
            "ccy": "",
            "clOrdId": o.extra.get("clOrdId", ""),
            "fee": fmt(-fee),
            "feeCcy": fee_ccy,
            "fillPx": s(last.price) if last else "",
            "fillSz": s(last.qty) if last else "",
            "fillTime": str(last.time_ms) if last else "",
            "instId": inst.symbol,
            "instType": lst.inst_type,
            "isTpLimit": "false",
            "lever": str(self.margin.leverage(o.account, inst.symbol)) if swap else "",
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": str(o.order_id),
            "ordType": o.extra.get("ordType", "limit"),
            "pnl": fmt(pnl),
            "posSide": "net" if swap else "",
            "px": s(o.price),
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": inst.quote,
            "reduceOnly": "true" if o.reduce_only else "false",
            "side": "buy" if o.side is Side.BUY else "sell",
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": STATES[o.status],
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": o.extra.get("sz", s(o.qty)),
            "tag": o.extra.get("tag", ""),
            "tdMode": o.extra.get("tdMode", "cash"),
            "tgtCcy": o.extra.get("tgtCcy", ""),
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": str(last.trade_id) if last else "",
            "tradeQuoteCcy": "" if swap else inst.quote,
            "uTime": str(o.updated_ms),
        }

    # ---- funding -------------------------------------------------------------------------------

    @route("GET", HOST, V5 + "/asset/currencies")
    async def currencies(self, req: SimRequest) -> Any:
        """Get currencies: one row per currency and chain."""
        self.auth(req, "read")
        want = {c for c in req.query.get("ccy", "").split(",") if c}
        out = []
        for ccy, chains in CHAINS.items():
            if want and ccy not in want:
                continue
            for i, (chain, fee, min_wd) in enumerate(chains):
                out.append(
                    {
                        "burningFeeRate": "",
                        "canDep": True,
                        "canInternal": True,
                        "canWd": True,
                        "ccy": ccy,
                        "chain": chain,
                        "ctAddr": "",
                        "depEstOpenTime": "",
                        "depQuotaFixed": "",
                        "depQuoteDailyLayer2": "",
                        "fee": fee,
                        "logoLink": "",
                        "mainNet": i == 0,
                        "maxFee": fee,
                        "maxFeeForCtAddr": "",
                        "maxWd": "10000000",
                        "minDep": min_wd,
                        "minDepArrivalConfirm": "2",
                        "minFee": fee,
                        "minFeeForCtAddr": "",
                        "minInternal": "0.0001",
                        "minWd": min_wd,
                        "minWdUnlockConfirm": "4",
                        "name": NAMES.get(ccy, ccy),
                        "needTag": False,
                        "usedDepQuotaFixed": "",
                        "usedWdQuota": "0",
                        "wdEstOpenTime": "",
                        "wdQuota": "10000000",
                        "wdTickSz": "6" if ccy == "USDT" else "8",
                    }
                )
        return ok(out)

    @route("GET", HOST, V5 + "/asset/balances")
    async def funding_balances(self, req: SimRequest) -> Any:
        """Get balance of the funding account."""
        key = self.auth(req, "read")
        want = {c for c in req.query.get("ccy", "").split(",") if c}
        out = []
        for ccy, bal in sorted(self.funding.ensure(key.account).items()):
            if (want and ccy not in want) or (not want and bal.total == 0):
                continue
            out.append(
                {"availBal": fmt(bal.free), "bal": fmt(bal.total), "ccy": ccy, "frozenBal": fmt(bal.locked)}
            )
        return ok(out)

    @route("POST", HOST, V5 + "/asset/transfer")
    async def transfer(self, req: SimRequest) -> Any:
        """Funds transfer between the funding ("6") and trading ("18") accounts."""
        key = self.auth(req, "trade")
        p = self.body(req)
        if not isinstance(p, dict):
            raise _err(400, "50002", "JSON syntax error")
        for name in ("ccy", "amt", "from", "to"):
            if not _text(p.get(name)):
                raise _empty(name)
        ccy = str(_text(p.get("ccy")))
        amt = parse_decimal(_text(p.get("amt")))
        accounts = {"6": self.funding, "18": self.wallets}
        src, dst = accounts.get(str(_text(p.get("from")))), accounts.get(str(_text(p.get("to"))))
        if amt is None or amt <= 0:
            raise _bad("amt")
        if src is None or dst is None or src is dst:
            raise _bad("from")
        src.ensure(key.account)
        dst.ensure(key.account)
        if src.get(key.account, ccy).free < amt:
            raise _err(200, "58350", "Insufficient balance.")
        src.get(key.account, ccy).free -= amt
        dst.get(key.account, ccy).free += amt
        trans_id = str(next(self._bill_ids))
        return ok(
            [
                {
                    "amt": fmt(amt),
                    "ccy": ccy,
                    "clientId": _text(p.get("clientId")) or "",
                    "from": str(p.get("from")),
                    "to": str(p.get("to")),
                    "transId": trans_id,
                }
            ]
        )

    @route("POST", HOST, V5 + "/asset/withdrawal")
    async def withdrawal(self, req: SimRequest) -> Any:
        """Withdrawal from the funding account (needs the Withdraw permission); recorded, not sent."""
        key = self.auth(req, "withdraw")
        p = self.body(req)
        if not isinstance(p, dict):
            raise _err(400, "50002", "JSON syntax error")
        for name in ("ccy", "amt", "dest", "toAddr"):
            if not _text(p.get(name)):
                raise _empty(name)
        ccy = str(_text(p.get("ccy")))
        chains = CHAINS.get(ccy)
        if chains is None:
            raise _bad("ccy")
        chain_t = _text(p.get("chain")) or chains[0][0]
        chain = next((c for c in chains if c[0] == chain_t), None)
        if chain is None:
            raise _bad("chain")
        amt = parse_decimal(_text(p.get("amt")))
        if amt is None or amt <= 0:
            raise _bad("amt")
        if amt < Decimal(chain[2]):
            raise _bad("amt")  # below the chain's minWd
        fee = Decimal(chain[1])
        bal = self.funding.get(key.account, ccy)
        if bal.free < amt + fee:
            raise _err(200, "58350", "Insufficient balance.")
        self.funding.transfer(key.account, ccy, amt + fee, MARKET)
        wd = Withdrawal(
            str(next(self._wd_ids)),
            key.account,
            ccy,
            chain[0],
            amt,
            fee,
            str(_text(p.get("toAddr"))),
            req.now_ms,
            _text(p.get("clientId")) or "",
        )
        self.withdrawals.append(wd)
        return ok(
            [{"amt": fmt(amt), "ccy": ccy, "chain": wd.chain, "clientId": wd.client_id, "wdId": wd.wd_id}]
        )

    @route("GET", HOST, V5 + "/asset/withdrawal-history")
    async def withdrawal_history(self, req: SimRequest) -> Any:
        """Get withdrawal history, newest first (state 2: withdrawal complete)."""
        key = self.auth(req, "read")
        q = req.query
        limit = _int(q.get("limit"), 100, 1, 100, "limit")
        rows = [
            {
                "addrEx": None,
                "amt": fmt(w.amt),
                "areaCodeFrom": "",
                "areaCodeTo": "",
                "ccy": w.ccy,
                "chain": w.chain,
                "clientId": w.client_id,
                "fee": fmt(w.fee),
                "feeCcy": w.ccy,
                "from": "",
                "memo": "",
                "nonTradableAsset": False,
                "state": "2",
                "tag": "",
                "to": w.to_addr,
                "toAddrType": "1",
                "ts": str(w.ts),
                "txId": hashlib.sha256(w.wd_id.encode()).hexdigest(),
                "wdId": w.wd_id,
            }
            for w in reversed(self.withdrawals)
            if w.account == key.account
            and (not q.get("ccy") or w.ccy == q["ccy"])
            and (not q.get("wdId") or w.wd_id == q["wdId"])
        ]
        return ok(rows[:limit])


VENUE = OkxVenue
