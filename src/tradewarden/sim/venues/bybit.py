"""Bybit V5 (api.bybit.com): spot and USDT linear perpetuals on one Unified Trading Account.

Written from Bybit's own V5 documentation (bybit-exchange.github.io/docs/v5): "Integration Guidance"
(authentication), "Error Codes", "Rate Limit", and the market / trade / position / account / asset / user
pages. What the simulator plays:

* Authentication (Integration Guidance): headers X-BAPI-API-KEY, X-BAPI-TIMESTAMP, X-BAPI-SIGN and optional
  X-BAPI-RECV-WINDOW (default 5000). The signature is the hex HMAC-SHA256 of
  timestamp + apiKey + recvWindow + (query string for GET | raw JSON body for POST), and the timestamp must
  satisfy server_time - recv_window <= timestamp < server_time + 1000. Only system-generated (HMAC) keys
  are simulated; a key of another type fails the signature check.
* Answers are `{"retCode", "retMsg", "result", "retExtInfo", "time"}`. Errors keep HTTP 200 and carry the
  code in retCode, except an unknown or deleted key (HTTP 401, "need to use the correct key") and the IP
  rate limit (HTTP 403 "access too frequent", 600 requests per 5 s per IP, then a 10-minute ban).
* The account is a UTA 2.0 (`uta` 1, unifiedMarginStatus 6): one wallet per key, spot trades move its
  coins and linear perpetuals take their initial margin from its USDT. Inverse contracts and options are
  listed for ccxt's load_markets (inverse with market data, options as an empty list) but not traded.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, ClassVar

from aiohttp import web

from ..keys import ApiKey
from ..ledger import CLEARING, FEES, MARKET, PerpSettlement, SpotSettlement, Wallets
from ..market import DEFAULT_PAIRS, MINUTE_MS, PairMarket, PairSpec
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
from ..signing import verify_hmac_hex
from ..streams.bybit import STREAM_HOST, BybitStreams
from ..venue import SimRequest, Venue, VenueError, dumps, fmt, order_admin_view, parse_decimal, route

HOST = "api.bybit.com"
ZERO = Decimal(0)
DAY_MS = 86_400_000
DEFAULT_RECV_WINDOW = 5_000
# Get API Key Information: keys with no IP bound expire (Bybit: after three months).
UNBOUND_KEY_LIFETIME_MS = 90 * DAY_MS

# Get Kline: interval enum (minutes); M is approximated by 30 days here.
INTERVALS: dict[str, int] = {
    "1": 1,
    "3": 3,
    "5": 5,
    "15": 15,
    "30": 30,
    "60": 60,
    "120": 120,
    "240": 240,
    "360": 360,
    "720": 720,
    "D": 1440,
    "W": 10080,
    "M": 43200,
}

# Inverse perpetuals (USD-quoted, coin-settled) are listed with their own price paths.
INVERSE_PAIRS: tuple[PairSpec, ...] = (
    PairSpec("BTC", "USD", Decimal("60000"), Decimal("0.5"), Decimal("1"), Decimal("1")),
    PairSpec("ETH", "USD", Decimal("3000"), Decimal("0.05"), Decimal("1"), Decimal("1")),
)

# Linear contract specs that differ from spot (tickSize, qtyStep), in the spirit of Bybit's instruments.
LINEAR_SPECS: dict[str, tuple[str, str]] = {
    "BTC/USDT": ("0.10", "0.001"),
    "ETH/USDT": ("0.01", "0.01"),
}

# Coins and chains for /v5/asset/coin/query-info (simulator values: fee, minimum, decimals).
COIN_CHAINS: dict[str, tuple[tuple[str, str, str, str, int], ...]] = {
    "USDT": (
        ("ETH", "ERC20", "4", "10", 6),
        ("TRX", "TRC20", "1", "10", 6),
        ("BSC", "BEP20", "0.3", "10", 8),
    ),
    "BTC": (("BTC", "BTC", "0.0002", "0.001", 8),),
    "ETH": (("ETH", "ETH", "0.0012", "0.01", 8), ("ARBI", "Arbitrum One", "0.0001", "0.001", 8)),
    "BNB": (("BSC", "BEP20", "0.0005", "0.01", 8),),
    "SOL": (("SOL", "SOL", "0.01", "0.1", 8),),
    "XRP": (("XRP", "XRP", "0.2", "20", 6),),
    "DOGE": (("DOGE", "DOGE", "5", "25", 8),),
    "ADA": (("ADA", "Cardano", "1", "10", 6),),
    "LTC": (("LTC", "LTC", "0.001", "0.1", 8),),
}

# Error messages as Bybit words them (Error Codes page and observed responses).
MSG_INVALID_KEY = "API key is invalid."
MSG_PERMISSION = "Permission denied, please check your API key permissions."
MSG_IP = "Unmatched IP, please check your API key's bound IP addresses."
MSG_EXPIRED = "Your api key has expired."
MSG_BAD_SYMBOL = "Not supported symbols"
MSG_CATEGORY = "Illegal category"

# Rate Limit > API Rate Limit: per UID and endpoint, rolling one-second window (answers retCode 10006).
UID_LIMITS: dict[str, int] = {
    "/v5/order/create": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 10,
    "/v5/asset/withdraw/create": 5,  # Withdraw: "the API rate limit for this endpoint is 5 req/s"
}
DEFAULT_UID_LIMIT = 50

TRADE_PERMISSION = {"spot": "spot_trade", "linear": "futures_trade", "inverse": "futures_trade"}


def _err(code: int, msg: str, status: int = 200) -> VenueError:
    return VenueError(status, code, msg)


def _param_err(what: str) -> VenueError:
    return _err(10001, f"params error: {what}")


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digits_id(text: str) -> int:
    """A stable 8-digit id derived from text (key ids, user ids)."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 90_000_000 + 10_000_000


class UnifiedPerps(PerpSettlement):
    """Linear perpetuals margined from the unified wallet: their initial margin is locked in its USDT.

    Before each engine call the margin account's `wallet` is loaded from the wallet's USDT (free plus
    the margin already held) and afterwards the change is written back, so spot and futures share money.
    """

    def __init__(self, wallets: Wallets, default_leverage: int = 10) -> None:
        super().__init__(ZERO, "USDT", default_leverage)
        self.wallets = wallets
        self.held: dict[str, Decimal] = {}
        # Set Margin Mode: on a unified account the mode is account-wide (REGULAR_MARGIN is cross)
        self.account_modes: dict[str, str] = {}

    def margin_mode(self, account: str, symbol: str) -> str:
        """ISOLATED_MARGIN accounts open isolated positions; REGULAR_MARGIN (default) cross ones."""
        return "isolated" if self.account_modes.get(account) == "ISOLATED_MARGIN" else "cross"

    def liquidation_price(self, account: str, symbol: str) -> Decimal:
        """As PerpSettlement, with the wallet read from the unified USDT balance."""
        with self.wallets.lock:
            self._load(account)
            return super().liquidation_price(account, symbol)

    def cross_backing(self, account: str) -> Decimal:
        """As PerpSettlement, with the wallet read from the unified USDT balance."""
        with self.wallets.lock:
            self._load(account)
            return super().cross_backing(account)

    def credit(
        self, account: str, amount: Decimal, counterparty: str, kind: str, symbol: str, time_ms: int
    ) -> None:
        """Funding and insurance move the unified wallet's USDT; the held margin follows."""
        with self.wallets.lock:
            self.wallets.transfer(counterparty, self.asset, amount, account)
            self.journal(account, kind, symbol, amount, time_ms)
            self.hold(account)

    def _load(self, name: str) -> Decimal:
        acc = self.account(name, ZERO)
        acc.wallet = self.wallets.get(name, self.asset).free + self.held.get(name, ZERO)
        return acc.wallet

    def _store(self, name: str, before: Decimal) -> None:
        delta = self.accounts[name].wallet - before
        if delta:
            self.wallets.get(name, self.asset).free += delta

    def hold(self, name: str) -> None:
        """Lock (or unlock) USDT so the wallet holds exactly the position plus order margin."""
        acc = self.accounts.get(name)
        if acc is None:
            return
        want = self.position_margin(acc) + acc.order_margin
        diff = want - self.held.get(name, ZERO)
        if diff:
            bal = self.wallets.get(name, self.asset)
            bal.free -= diff
            bal.locked += diff
            self.held[name] = want

    def reserve(self, order: Order, inst: Instrument, notional: Decimal, qty: Decimal) -> None:
        """Check margin against the wallet's free USDT, then hold it."""
        with self.wallets.lock:
            self._load(order.account)
            super().reserve(order, inst, notional, qty)
            self.hold(order.account)

    def settle(
        self,
        order: Order,
        inst: Instrument,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        counterparty: str | None,
    ) -> tuple[Decimal, str, Decimal]:
        """Fill through PerpSettlement, moving PnL and fees through the wallets."""
        with self.wallets.lock:
            names = [order.account, MARKET if counterparty is None else CLEARING, FEES]
            before = {n: self._load(n) for n in names}
            out = super().settle(order, inst, price, qty, is_maker, counterparty)
            for n in names:
                self._store(n, before[n])
            self.hold(order.account)
            return out

    def release(self, order: Order, inst: Instrument) -> None:
        """Return unused order margin to the wallet."""
        with self.wallets.lock:
            super().release(order, inst)
            self.hold(order.account)


class BybitVenue(BybitStreams, Venue):
    """Bybit V5: spot + linear trading on a Unified Trading Account, inverse/option market lists."""

    name = "bybit"
    hosts = (HOST, STREAM_HOST)
    # ccxt's sandbox mode: api-testnet.{hostname}
    testnet_hosts: ClassVar[dict[str, str]] = {"api-testnet.bybit.com": HOST}
    has_testnet = True
    # Rate Limit > HTTP IP limit: 600 requests per 5-second window per IP; a breach bans for 10 minutes.
    weight_limit = 600
    weight_window_s = 5.0
    ban_seconds = 600.0
    pairs = DEFAULT_PAIRS + INVERSE_PAIRS

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.wallets = Wallets()
        self.spot = Engine(
            self.market,
            SpotSettlement(self.wallets, fee_in="received"),  # spot fee: base coin on buys, quote on sells
            name="spot",
            first_order_id=1_700_000_000,
            book_depth=200,  # Get Orderbook: spot depth up to 200 levels
            clock=self.now_ms,
        )
        self.perps = UnifiedPerps(self.wallets)
        self.linear = Engine(
            self.market,
            self.perps,
            name="linear",
            first_order_id=2_700_000_000,
            book_depth=200,  # Get Orderbook: spot depth up to 200 levels
            clock=self.now_ms,
        )
        # Get Funding Rate History / instruments-info: linear funding every 480 minutes within
        # upper/lowerFundingRate; the sim's single risk tier holds maintenance margin at 0.4 %
        self.risk = PerpRisk(
            self.name,
            ctx.seed,
            self.market,
            self.linear,
            self.perps,
            self.now_ms,
            FundingRules(cap=Decimal("0.005")),
            liquidation_id=lambda symbol, now: "",
        )
        self.engines = [self.spot, self.linear]
        self.inverse: dict[str, Instrument] = {}
        self.dead: dict[str, list[Order]] = {"spot": [], "linear": []}
        self._dead_ids = itertools.count(9_000_000_000)
        self.withdrawals: list[dict[str, Any]] = []
        self._uid_hits: dict[tuple[str, str], deque[int]] = {}
        self._withdraw_ids = itertools.count(10_000_001)
        self.launch_ms = self.now_ms() - 400 * DAY_MS
        for spec in self.pairs:
            sym = spec.base + spec.quote
            if spec.quote == "USD":
                self.inverse[sym] = Instrument(
                    sym,
                    spec.pair,
                    spec.base,
                    spec.quote,
                    "inverse",
                    tick=spec.tick,
                    step=spec.step,
                    min_qty=spec.step,
                    max_qty=Decimal("1000000"),
                    market_max_qty=Decimal("200000"),
                    min_price=spec.tick,
                    max_price=Decimal("1999999.5"),
                    min_notional=ZERO,
                    maker_fee=Decimal("0.0002"),
                    taker_fee=Decimal("0.00055"),
                    contract_size=Decimal(1),
                    settle=spec.base,
                )
                continue
            max_amt = Decimal("2000000") if spec.quote == "USDT" else Decimal("40")
            self.spot.add_instrument(
                Instrument(
                    sym,
                    spec.pair,
                    spec.base,
                    spec.quote,
                    "spot",
                    tick=spec.tick,
                    step=spec.step,
                    min_qty=spec.step,
                    max_qty=Decimal("1000000"),
                    market_max_qty=Decimal("1000000"),
                    min_price=spec.tick,
                    max_price=Decimal("10000000"),
                    min_notional=spec.min_notional,
                    maker_fee=Decimal("0.001"),
                    taker_fee=Decimal("0.001"),
                    extra={"maxOrderAmt": max_amt, "quotePrecision": Decimal("0.00000001")},
                )
            )
            if spec.quote == "USDT":
                tick, step = LINEAR_SPECS.get(spec.pair, (str(spec.tick), str(spec.step)))
                self.linear.add_instrument(
                    Instrument(
                        sym,
                        spec.pair,
                        spec.base,
                        spec.quote,
                        "linear",
                        tick=Decimal(tick),
                        step=Decimal(step),
                        min_qty=Decimal(step),
                        max_qty=Decimal("1190"),
                        market_max_qty=Decimal("119"),
                        min_price=Decimal(tick),
                        max_price=Decimal("1999999.8"),
                        min_notional=Decimal("5"),
                        # Bybit's non-VIP derivatives fees: maker 0.02%, taker 0.055%
                        maker_fee=Decimal("0.0002"),
                        taker_fee=Decimal("0.00055"),
                        settle="USDT",
                    )
                )

    # ---- accounts ------------------------------------------------------------------------------

    def on_key_created(self, key: ApiKey, balances: dict[str, Decimal] | None) -> None:
        """The unified wallet: `balances`, or 10000 USDT, 1 BTC and 10 ETH."""
        self.wallets.ensure(key.account, balances)

    def on_tick(self) -> None:
        """Fill crossed resting orders, then charge crossed funding times and liquidate (linear)."""
        super().on_tick()
        self.risk.update()

    def set_balances(self, key: ApiKey, balances: dict[str, Decimal]) -> None:
        """Admin: replace the unified wallet's balances (futures margin stays held)."""
        with self.wallets.lock:
            self.wallets.set(key.account, balances)
            held = self.perps.held.get(key.account, ZERO)
            if held:
                bal = self.wallets.get(key.account, "USDT")
                bal.free -= held
                bal.locked += held

    def admin_orders(self, key: ApiKey | None) -> list[dict[str, Any]]:
        """Engine orders plus orders Bybit accepted and cancelled at once (post-only, FOK)."""
        out = super().admin_orders(key)
        for cat, orders in self.dead.items():
            out += [order_admin_view(cat, o) for o in orders if key is None or o.account == key.account]
        return out

    # ---- wire format ---------------------------------------------------------------------------

    @staticmethod
    def ok(req: SimRequest, result: Any) -> dict[str, Any]:
        """The V5 success envelope."""
        return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": req.now_ms}

    def render_error(self, req: SimRequest, err: VenueError) -> web.Response:
        """V5 errors: the envelope with retCode/retMsg (a plain-text body for the IP-limit 403)."""
        if isinstance(err.body, str):
            return web.Response(status=err.status, text=err.body, headers=err.headers)
        body = err.body
        if body is None:
            code: int | str = int(err.code) if str(err.code).lstrip("-").isdigit() else err.code
            body = {"retCode": code, "retMsg": err.msg, "result": {}, "retExtInfo": {}, "time": req.now_ms}
        return web.Response(
            status=err.status, text=dumps(body), content_type="application/json", headers=err.headers
        )

    def rate_limited(
        self, req: SimRequest, used: int, limit: int, retry_after: int, banned: bool
    ) -> VenueError:
        """Rate Limit > HTTP IP limit: "403, access too frequent"; wait at least 10 minutes."""
        return VenueError(
            403,
            10018,
            "access too frequent",
            headers={"Retry-After": str(retry_after)},
            body="access too frequent",
        )

    # ---- authentication ------------------------------------------------------------------------

    def _raw_params(self, req: SimRequest) -> dict[str, Any] | None:
        """GET: the decoded query; POST: the JSON body object (None when it is not one)."""
        if req.method == "GET":
            return dict(req.query)
        try:
            data = req.json()
        except ValueError:
            return None
        if data is None:
            return {}
        return data if isinstance(data, dict) else None

    def _expiry(self, key: ApiKey) -> int | None:
        """When the key stops working: the set expiry, else three months after creation if no IP is bound."""
        if key.expires_ms is not None:
            return key.expires_ms
        if not key.ip_whitelist:
            return key.created_ms + UNBOUND_KEY_LIFETIME_MS
        return None

    def _auth(self, req: SimRequest, category: str | None = None) -> ApiKey:
        """Key → timestamp window → signature → bound IP → expiry, as Integration Guidance describes."""
        h = req.headers
        key_id = h.get("X-BAPI-API-KEY", "")
        sign = h.get("X-BAPI-SIGN", "")
        ts_raw = h.get("X-BAPI-TIMESTAMP", "")
        req.api_key_id = key_id or None
        if not key_id or not sign or not ts_raw:
            # HTTP 401: "need to put authentication params in the request header"
            raise _err(
                10001, f"empty value: apiTimestamp[{ts_raw}] apiKey[{key_id}] apiSignature[{sign}]", 401
            )
        key = self.keys.get(key_id)
        if key is None or key.venue != self.name or key.revoked or not self.same_environment(req, key):
            # HTTP 401: "need to use the correct key to access"; a deleted key is an unknown key, and
            # testnet and mainnet keys are separate (a key of the other environment is unknown)
            raise _err(10003, MSG_INVALID_KEY, 401)
        rw_raw = h.get("X-BAPI-RECV-WINDOW")
        rw = int(rw_raw) if rw_raw is not None and rw_raw.isdigit() else DEFAULT_RECV_WINDOW
        ts = int(ts_raw) if ts_raw.isdigit() else -1
        if not (req.now_ms - rw <= ts < req.now_ms + 1000):
            raise _err(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts_raw}],server_timestamp[{req.now_ms}],recv_window[{rw}]",
            )
        payload = (
            ts_raw
            + key_id
            + (rw_raw or "")
            + (req.body.decode(errors="replace") if req.method == "POST" else req.query_string)
        )
        if key.key_type != "hmac" or key.secret is None or not verify_hmac_hex(key.secret, payload, sign):
            raise _err(10004, f"error sign! origin_string[{payload}]")
        if not key.allows_ip(req.remote):
            raise _err(10010, MSG_IP)
        expiry = self._expiry(key)
        if expiry is not None and req.now_ms >= expiry:
            # Error Codes: -2015 "(Spot) Your api key has expired", 33004 "(Derivatives) ..."
            raise _err(-2015 if category == "spot" else 33004, MSG_EXPIRED)
        req.api_key = key
        return key

    def _private(self, req: SimRequest, perm: str | None = "read") -> tuple[ApiKey, dict[str, Any]]:
        """Authenticate, check one permission, and return the request's parameters."""
        raw = self._raw_params(req)
        category = str(raw.get("category")) if raw and raw.get("category") is not None else None
        key = self._auth(req, category)
        self._uid_limit(req, key)
        if perm is not None and not key.has(perm):
            raise _err(10005, MSG_PERMISSION)
        if raw is None:
            raise _err(10001, "request params type error")
        return key, raw

    def _uid_limit(self, req: SimRequest, key: ApiKey) -> None:
        """Per-UID endpoint limit with the X-Bapi-Limit* headers every private answer carries."""
        limit = UID_LIMITS.get(req.path, DEFAULT_UID_LIMIT)
        hits = self._uid_hits.setdefault((key.account, req.path), deque())
        now = req.now_ms
        while hits and hits[0] <= now - 1000:
            hits.popleft()
        if len(hits) >= limit:
            req.response_headers.update(
                {
                    "X-Bapi-Limit": str(limit),
                    "X-Bapi-Limit-Status": "0",
                    "X-Bapi-Limit-Reset-Timestamp": str(hits[0] + 1000),
                }
            )
            raise _err(10006, "Too many visits!")
        hits.append(now)
        req.response_headers.update(
            {
                "X-Bapi-Limit": str(limit),
                "X-Bapi-Limit-Status": str(limit - len(hits)),
                "X-Bapi-Limit-Reset-Timestamp": str(now),
            }
        )

    # ---- parameter helpers ---------------------------------------------------------------------

    @staticmethod
    def _str(p: dict[str, Any], name: str) -> str | None:
        v = p.get(name)
        if v is None:
            return None
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        if isinstance(v, str):
            return v
        raise _param_err(f"{name} invalid")

    def _dec(self, p: dict[str, Any], name: str) -> Decimal | None:
        raw = self._str(p, name)
        if raw is None or raw == "":
            return None
        d = parse_decimal(raw)
        if d is None:
            raise _param_err(f"{name} invalid")
        return d

    def _int(self, p: dict[str, Any], name: str, default: int | None = None) -> int | None:
        raw = self._str(p, name)
        if raw is None or raw == "":
            return default
        if not raw.lstrip("-").isdigit():
            raise _param_err(f"{name} invalid")
        return int(raw)

    def _limit(self, p: dict[str, Any], default: int, maximum: int) -> int:
        limit = self._int(p, "limit", default) or default
        if limit < 1 or limit > maximum:
            raise _param_err("limit invalid")
        return limit

    def _category(self, p: dict[str, Any], allowed: tuple[str, ...]) -> str:
        cat = self._str(p, "category")
        if not cat or cat not in allowed:
            raise _err(10001, MSG_CATEGORY)
        return cat

    def _engine(self, category: str) -> Engine:
        return self.spot if category == "spot" else self.linear

    def _instrument(self, category: str, symbol: str | None) -> Instrument:
        """A listed instrument of the category; 10001 "Not supported symbols" otherwise."""
        if not symbol:
            raise _param_err("symbol is required")
        inst = (
            self.inverse.get(symbol)
            if category == "inverse"
            else self._engine(category).instruments.get(symbol)
        )
        if inst is None or category == "option":
            raise _err(10001, MSG_BAD_SYMBOL)
        return inst

    def _instruments(self, category: str) -> list[Instrument]:
        if category == "inverse":
            return list(self.inverse.values())
        if category == "option":
            return []
        return list(self._engine(category).instruments.values())

    def _pm(self, inst: Instrument) -> PairMarket:
        return self.market.get(inst.pair)

    @staticmethod
    def _px(inst: Instrument, value: Decimal) -> str:
        return fmt(value, _places(inst.tick))

    @staticmethod
    def _qty(inst: Instrument, value: Decimal) -> str:
        return fmt(value, _places(inst.step))

    def _depth(
        self, category: str, inst: Instrument, limit: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        if category == "inverse":
            # inverse sizes are USD contracts: the synthetic book's coin sizes times the price
            levels = self._pm(inst).book(inst.tick, Decimal("0.0001"), max(limit, 1))

            def usd(rows: tuple[tuple[Decimal, Decimal], ...]) -> list[tuple[Decimal, Decimal]]:
                return [
                    (px, max(inst.step, (q * px).quantize(inst.step, ROUND_DOWN))) for px, q in rows[:limit]
                ]

            return usd(levels.bids), usd(levels.asks)
        return self._engine(category).depth(inst.symbol, limit)

    # ---- market data (public) ------------------------------------------------------------------

    @route("GET", HOST, "/v5/market/time")
    async def market_time(self, req: SimRequest) -> Any:
        """Get Bybit Server Time."""
        now = req.now_ms
        return self.ok(req, {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    def _spot_info(self, inst: Instrument) -> dict[str, Any]:
        return {
            "symbol": inst.symbol,
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "none",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": fmt(inst.step),
                "quotePrecision": fmt(inst.extra["quotePrecision"]),
                "minOrderQty": fmt(inst.min_qty),
                "maxOrderQty": fmt(inst.max_qty),
                "minOrderAmt": fmt(inst.min_notional),
                "maxOrderAmt": fmt(inst.extra["maxOrderAmt"]),
                "maxLimitOrderQty": fmt(inst.max_qty),
                "maxMarketOrderQty": fmt(inst.market_max_qty),
            },
            "priceFilter": {"tickSize": fmt(inst.tick)},
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
        }

    def _contract_info(self, category: str, inst: Instrument) -> dict[str, Any]:
        linear = category == "linear"
        return {
            "symbol": inst.symbol,
            "contractType": "LinearPerpetual" if linear else "InversePerpetual",
            "status": "Trading",
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "launchTime": str(self.launch_ms),
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(_places(inst.tick)),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {
                "minPrice": self._px(inst, inst.min_price),
                "maxPrice": self._px(inst, inst.max_price),
                "tickSize": self._px(inst, inst.tick),
            },
            "lotSizeFilter": {
                "maxOrderQty": self._qty(inst, inst.max_qty),
                "minOrderQty": self._qty(inst, inst.min_qty),
                "qtyStep": self._qty(inst, inst.step),
                "postOnlyMaxOrderQty": self._qty(inst, inst.max_qty),
                "maxMktOrderQty": self._qty(inst, inst.market_max_qty),
                "minNotionalValue": fmt(inst.min_notional) if linear else "",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": inst.settle,
            "copyTrading": "both" if linear else "none",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.1"},
            "displayName": "",
        }

    @route("GET", HOST, "/v5/market/instruments-info")
    async def instruments_info(self, req: SimRequest) -> Any:
        """Get Instruments Info: spot, linear, inverse (options: none listed in the simulator)."""
        p = dict(req.query)
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        symbol = p.get("symbol")
        status = p.get("status") or "Trading"
        base = p.get("baseCoin")
        insts = [
            i
            for i in self._instruments(cat)
            if (not symbol or i.symbol == symbol) and (not base or i.base == base) and status == "Trading"
        ]
        if cat != "spot":
            insts = insts[: self._limit(p, 500, 1000)]
        rows = [self._spot_info(i) if cat == "spot" else self._contract_info(cat, i) for i in insts]
        result: dict[str, Any] = {"category": cat, "list": rows}
        if cat != "spot":
            result["nextPageCursor"] = ""
        return self.ok(req, result)

    def _ticker(self, cat: str, inst: Instrument, now: int) -> dict[str, Any]:
        pm = self._pm(inst)
        stats = pm.stats_24h(now)
        bids, asks = self._depth(cat, inst, 1)
        last = pm.price
        prev = stats.open
        pcnt = ((last - prev) / prev).quantize(Decimal("0.0001")) if prev else ZERO
        out: dict[str, Any] = {
            "symbol": inst.symbol,
            "bid1Price": self._px(inst, bids[0][0]) if bids else "",
            "bid1Size": self._qty(inst, bids[0][1]) if bids else "",
            "ask1Price": self._px(inst, asks[0][0]) if asks else "",
            "ask1Size": self._qty(inst, asks[0][1]) if asks else "",
            "lastPrice": self._px(inst, last),
            "prevPrice24h": self._px(inst, prev),
            "price24hPcnt": fmt(pcnt),
            "highPrice24h": self._px(inst, max(stats.high, last)),
            "lowPrice24h": self._px(inst, min(stats.low, last)),
            # inverse: volume in USD contracts, turnover in the coin
            "turnover24h": fmt(stats.volume if cat == "inverse" else stats.quote_volume, 4),
            "volume24h": fmt(stats.quote_volume if cat == "inverse" else stats.volume, 4),
        }
        if cat == "spot":
            out["usdIndexPrice"] = self._px(inst, last) if inst.quote == "USDT" else ""
            return out
        hour = self.market.get(inst.pair).klines(60 * MINUTE_MS, None, None, 2)
        linear = cat == "linear"
        next_funding = self.risk.next_funding(now)
        oi = (stats.volume / 10).quantize(Decimal("0.001"))
        out.update(
            {
                "indexPrice": self._px(inst, self.risk.index(inst.symbol, now) if linear else last),
                "markPrice": self._px(inst, self.risk.mark(inst.symbol, now) if linear else last),
                "prevPrice1h": self._px(inst, hour[0].open if hour else last),
                "openInterest": fmt(oi),
                "openInterestValue": fmt((oi * last).quantize(Decimal("0.01"))),
                "fundingRate": fmt(self.risk.predicted_rate(inst.symbol, now)) if linear else "0.0001",
                "nextFundingTime": str(next_funding),
                "predictedDeliveryPrice": "",
                "basisRate": "",
                "deliveryFeeRate": "",
                "deliveryTime": "0",
                "basis": "",
                "preOpenPrice": "",
                "preQty": "",
                "curPreListingPhase": "",
            }
        )
        return out

    @route("GET", HOST, "/v5/market/tickers")
    async def tickers(self, req: SimRequest) -> Any:
        """Get Tickers: one symbol or the whole category."""
        p = dict(req.query)
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        symbol = p.get("symbol")
        if cat == "option":
            if symbol:
                raise _err(10001, MSG_BAD_SYMBOL)
            return self.ok(req, {"category": cat, "list": []})
        insts = [self._instrument(cat, symbol)] if symbol else self._instruments(cat)
        now = self.market.clock()
        return self.ok(req, {"category": cat, "list": [self._ticker(cat, i, now) for i in insts]})

    @route("GET", HOST, "/v5/market/orderbook")
    async def orderbook(self, req: SimRequest) -> Any:
        """Get Orderbook: b (bids, best first) and a (asks), each [price, size]."""
        p = dict(req.query)
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        inst = self._instrument(cat, p.get("symbol"))
        # limits: spot [1, 200] default 1; linear & inverse [1, 500] default 25
        limit = self._limit(p, 1, 200) if cat == "spot" else self._limit(p, 25, 500)
        bids, asks = self._depth(cat, inst, limit)
        now = req.now_ms
        return self.ok(
            req,
            {
                "s": inst.symbol,
                "b": [[self._px(inst, px), self._qty(inst, q)] for px, q in bids],
                "a": [[self._px(inst, px), self._qty(inst, q)] for px, q in asks],
                "ts": now,
                "u": self.market.tick,
                "seq": self.market.tick,
                "cts": now,
            },
        )

    @route("GET", HOST, "/v5/market/kline")
    async def kline(self, req: SimRequest) -> Any:
        """Get Kline: [startTime, open, high, low, close, volume, turnover], newest first."""
        p = dict(req.query)
        cat = self._category(p, ("spot", "linear", "inverse"))
        inst = self._instrument(cat, p.get("symbol"))
        interval = p.get("interval", "")
        if interval not in INTERVALS:
            raise _param_err("interval invalid")
        limit = self._limit(p, 200, 1000)
        start = self._int(p, "start")
        end = self._int(p, "end")
        step = INTERVALS[interval] * MINUTE_MS
        # Get Kline: with `start` the answer pages forward from the candle that contains `start` (at
        # most `limit` of them, up to `end`); without it, the newest `limit` up to `end`. Either way
        # the list is sorted newest first.
        first = None if start is None else start // step * step
        candles = self._pm(inst).klines(step, first, end, limit)
        rows = []
        for c in reversed(candles):
            # inverse: volume in contracts (USD), turnover in coin
            volume, turnover = (c.quote_volume, c.volume) if cat == "inverse" else (c.volume, c.quote_volume)
            rows.append(
                [
                    str(c.open_ms),
                    self._px(inst, c.open),
                    self._px(inst, c.high),
                    self._px(inst, c.low),
                    self._px(inst, c.close),
                    fmt(volume, 6),
                    fmt(turnover, 6),
                ]
            )
        return self.ok(req, {"category": cat, "symbol": inst.symbol, "list": rows})

    @route("GET", HOST, "/v5/market/recent-trade")
    async def recent_trade(self, req: SimRequest) -> Any:
        """Get Public Recent Trading History: newest first; side is the taker's."""
        p = dict(req.query)
        cat = self._category(p, ("spot", "linear", "inverse"))
        inst = self._instrument(cat, p.get("symbol"))
        limit = self._limit(p, 60, 60) if cat == "spot" else self._limit(p, 500, 1000)
        trades = list(self._pm(inst).trades)[-limit:]
        rows = [
            {
                "execId": f"{inst.symbol}-{t.trade_id}",
                "symbol": inst.symbol,
                "price": self._px(inst, t.price),
                "size": self._qty(inst, max(t.qty, inst.step)),
                "side": "Sell" if t.buyer_maker else "Buy",
                "time": str(t.time_ms),
                "isBlockTrade": False,
                "isRPITrade": False,
                "seq": str(t.trade_id),
            }
            for t in reversed(trades)
        ]
        return self.ok(req, {"category": cat, "list": rows})

    # ---- user / account (private) --------------------------------------------------------------

    def key_info(self, key: ApiKey, now_ms: int) -> dict[str, Any]:
        """Get API Key Information, answered from the key's real permissions, IPs and expiry."""
        spot, futures, withdraw = key.has("spot_trade"), key.has("futures_trade"), key.has("withdraw")
        expiry = self._expiry(key)
        return {
            "id": str(_digits_id(key.api_key)),
            "note": key.label or "tradewarden-sim",
            "apiKey": key.api_key,
            "readOnly": 0 if (spot or futures or withdraw) else 1,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"] if futures else [],
                "Spot": ["SpotTrade"] if spot else [],
                "Wallet": ["AccountTransfer", "SubMemberTransfer"] + (["Withdraw"] if withdraw else []),
                "Options": [],
                "Derivatives": ["DerivativesTrade"] if futures else [],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": [],
                "NFT": [],
                "Affiliate": [],
                "Earn": [],
            },
            "ips": list(key.ip_whitelist) if key.ip_whitelist else ["*"],
            "type": 1,
            # expiredAt/deadlineDay apply to keys with no IP bound (or an explicit expiry here)
            "deadlineDay": max(0, -(-(expiry - now_ms) // DAY_MS)) if expiry is not None else -1,
            "expiredAt": _iso(expiry) if expiry is not None else "",
            "createdAt": _iso(key.created_ms),
            "unified": 0,
            "uta": 1,
            "userID": _digits_id(key.account),
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_1",
            "kycRegion": "",
        }

    @route("GET", HOST, "/v5/user/query-api")
    async def query_api(self, req: SimRequest) -> Any:
        """Get API Key Information ("any permission can access this endpoint")."""
        key, _ = self._private(req, perm=None)
        return self.ok(req, self.key_info(key, req.now_ms))

    @route("GET", HOST, "/v5/account/info")
    async def account_info(self, req: SimRequest) -> Any:
        """Get Account Info: a UTA 2.0 Pro account (unifiedMarginStatus 6) in regular margin mode."""
        key, _ = self._private(req)
        return self.ok(
            req,
            {
                "marginMode": "REGULAR_MARGIN",
                "updatedTime": str(key.created_ms),
                "unifiedMarginStatus": 6,
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
            },
        )

    def _usd(self, coin: str) -> Decimal:
        if coin in ("USDT", "USDC"):
            return Decimal(1)
        pair = self.market.resolve(coin + "USDT")
        return self.market.get(pair).price if pair else ZERO

    @route("GET", HOST, "/v5/account/wallet-balance")
    async def wallet_balance(self, req: SimRequest) -> Any:
        """Get Wallet Balance: accountType UNIFIED (UTA 2.0); non-zero coins unless `coin` names them."""
        key, p = self._private(req)
        account_type = self._str(p, "accountType")
        if not account_type:
            raise _param_err("accountType is required")
        if account_type != "UNIFIED":
            raise _err(10001, "accountType only support UNIFIED.")
        wanted = [c for c in (self._str(p, "coin") or "").split(",") if c]
        acc = self.perps.accounts.get(key.account)
        upnl = self.perps.unrealized(acc) if acc else ZERO
        order_im = acc.order_margin if acc else ZERO
        pos_im = self.perps.position_margin(acc) if acc else ZERO
        # maintenance margin at mark, one tier (perps.FundingRules.mmr)
        pos_mm = (
            sum((self.perps.maintenance(p_, s_) for s_, p_ in acc.positions.items()), ZERO) if acc else ZERO
        )
        held = self.perps.held.get(key.account, ZERO)
        with self.wallets.lock:
            balances = dict(self.wallets.ensure(key.account))
        coins = []
        totals = {"wallet": ZERO, "equity": ZERO, "upl": ZERO, "im": ZERO, "mm": ZERO}
        for coin in sorted(balances):
            bal = balances[coin]
            if wanted and coin not in wanted:
                continue
            if not wanted and bal.total == 0 and not (coin == "USDT" and upnl):
                continue
            is_usdt = coin == "USDT"
            c_upl = upnl if is_usdt else ZERO
            c_order_im = order_im if is_usdt else ZERO
            c_pos_im = pos_im if is_usdt else ZERO
            spot_locked = bal.locked - (held if is_usdt else ZERO)
            usd = self._usd(coin)
            equity = bal.total + c_upl
            totals["wallet"] += bal.total * usd
            totals["equity"] += equity * usd
            totals["upl"] += c_upl
            totals["im"] += (c_order_im + c_pos_im) * usd
            totals["mm"] += (pos_mm if is_usdt else ZERO) * usd
            coins.append(
                {
                    "coin": coin,
                    "equity": fmt(equity, 8),
                    "usdValue": fmt(equity * usd, 8),
                    "walletBalance": fmt(bal.total, 8),
                    "locked": fmt(spot_locked, 8),
                    "spotHedgingQty": "0",
                    "borrowAmount": "0",
                    "accruedInterest": "0",
                    # deprecated for UNIFIED: free = walletBalance - locked - totalOrderIM - totalPositionIM
                    "availableToWithdraw": "",
                    "availableToBorrow": "",
                    "totalOrderIM": fmt(c_order_im, 8),
                    "totalPositionIM": fmt(c_pos_im, 8),
                    "totalPositionMM": fmt(pos_mm if is_usdt else ZERO, 8),
                    "unrealisedPnl": fmt(c_upl, 8),
                    "cumRealisedPnl": fmt(
                        sum((pos.realized for pos in acc.positions.values()), ZERO)
                        if acc and is_usdt
                        else ZERO,
                        8,
                    ),
                    "bonus": "0",
                    "marginCollateral": True,
                    "collateralSwitch": True,
                    "spotBorrow": "0",
                }
            )
        available = totals["equity"] - totals["im"]
        im_rate = (
            (totals["im"] / totals["equity"]).quantize(Decimal("0.0001")) if totals["equity"] > 0 else ZERO
        )
        mm_rate = (
            (totals["mm"] / totals["equity"]).quantize(Decimal("0.0001")) if totals["equity"] > 0 else ZERO
        )
        return self.ok(
            req,
            {
                "list": [
                    {
                        "accountType": "UNIFIED",
                        "accountIMRate": fmt(im_rate),
                        "accountMMRate": fmt(mm_rate),
                        "accountIMRateByMp": fmt(im_rate),
                        "accountMMRateByMp": fmt(mm_rate),
                        "totalEquity": fmt(totals["equity"], 8),
                        "totalWalletBalance": fmt(totals["wallet"], 8),
                        "totalMarginBalance": fmt(totals["wallet"] + totals["upl"], 8),
                        "totalAvailableBalance": fmt(available, 8),
                        "totalPerpUPL": fmt(totals["upl"], 8),
                        "totalInitialMargin": fmt(totals["im"], 8),
                        "totalInitialMarginByMp": fmt(totals["im"], 8),
                        "totalMaintenanceMargin": fmt(totals["mm"], 8),
                        "totalMaintenanceMarginByMp": fmt(totals["mm"], 8),
                        "accountLTV": "0",
                        "coin": coins,
                    }
                ]
            },
        )

    @route("GET", HOST, "/v5/account/fee-rate")
    async def fee_rate(self, req: SimRequest) -> Any:
        """Get Fee Rate: the non-VIP rates of the category's symbols."""
        _, p = self._private(req)
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        symbol = self._str(p, "symbol")
        insts = [self._instrument(cat, symbol)] if symbol else self._instruments(cat)
        rows = [
            {
                "symbol": i.symbol,
                "baseCoin": "" if cat == "spot" else i.base,
                "takerFeeRate": fmt(i.taker_fee),
                "makerFeeRate": fmt(i.maker_fee),
            }
            for i in insts
        ]
        return self.ok(req, {"list": rows})

    # ---- asset ---------------------------------------------------------------------------------

    @route("GET", HOST, "/v5/asset/coin/query-info")
    async def coin_info(self, req: SimRequest) -> Any:
        """Get Coin Info: chains with deposit/withdraw switches, fees and minimums (any key may call)."""
        _, p = self._private(req, perm=None)
        wanted = self._str(p, "coin")
        rows = []
        for coin, chains in COIN_CHAINS.items():
            if wanted and coin != wanted:
                continue
            rows.append(
                {
                    "name": coin,
                    "coin": coin,
                    "remainAmount": "1000000",
                    "chains": [
                        {
                            "chainType": chain_type,
                            "confirmation": "6",
                            "withdrawFee": fee,
                            "depositMin": "0",
                            "withdrawMin": minimum,
                            "chain": chain,
                            "chainDeposit": "1",
                            "chainWithdraw": "1",
                            "minAccuracy": str(acc),
                            "withdrawPercentageFee": "0",
                            "contractAddress": "",
                            "safeConfirmNumber": "6",
                        }
                        for chain, chain_type, fee, minimum, acc in chains
                    ],
                }
            )
        return self.ok(req, {"rows": rows})

    @route("POST", HOST, "/v5/asset/withdraw/create")
    async def withdraw_create(self, req: SimRequest) -> Any:
        """Withdraw: needs the Wallet "Withdraw" permission; recorded, debited, answered with an id."""
        key, p = self._private(req, perm="withdraw")
        coin = self._str(p, "coin")
        address = self._str(p, "address")
        amount = self._dec(p, "amount")
        if not coin or not address or amount is None or self._str(p, "timestamp") is None:
            raise _param_err("coin, address, amount and timestamp are required")
        chains = {c[0]: c for c in COIN_CHAINS.get(coin, ())}
        if not chains:
            raise _err(131002, "Parameter error: coin")
        force_chain = self._int(p, "forceChain", 0)
        chain = self._str(p, "chain")
        if force_chain != 2:
            if not chain:
                raise _param_err("chain is required")  # forceChain 0 or 1: chain is required
            if chain not in chains:
                raise _err(131002, "Parameter error: chain")
        spec = chains[chain] if chain in chains else next(iter(chains.values()))
        fee, minimum, accuracy = Decimal(spec[2]), Decimal(spec[3]), spec[4]
        if amount <= 0 or amount < minimum:
            raise _err(131096, "Withdraw amount does not satisfy the lower limit or upper limit")
        if amount != amount.quantize(Decimal(1).scaleb(-accuracy), rounding=ROUND_DOWN):
            raise _err(131002, "Parameter error: amount precision")
        # feeType 0 (default): the address receives `amount`, the fee is charged on top; 1: fee from amount
        fee_type = self._int(p, "feeType", 0)
        debit = amount if fee_type == 1 else amount + fee
        with self.wallets.lock:
            bal = self.wallets.get(key.account, coin)
            if bal.free < debit:
                raise _err(131001, "the available balance is not sufficient to cover the handling fee")
            self.wallets.transfer(key.account, coin, debit, MARKET)
        wid = str(next(self._withdraw_ids))
        self.withdrawals.append(
            {
                "withdrawId": wid,
                "account": key.account,
                "coin": coin,
                "chain": spec[0],
                "amount": fmt(amount if fee_type == 0 else amount - fee),
                "withdrawFee": fmt(fee),
                "toAddress": address,
                "tag": self._str(p, "tag") or "",
                "accountType": self._str(p, "accountType") or "FUND",
                "createTime": str(req.now_ms),
                "updateTime": str(req.now_ms),
                "status": "success",
                "txID": hashlib.sha256(f"{wid}{address}".encode()).hexdigest(),
                "withdrawType": 0,
            }
        )
        return self.ok(req, {"id": wid})

    @route("GET", HOST, "/v5/asset/withdraw/query-record")
    async def withdraw_records(self, req: SimRequest) -> Any:
        """Get Withdrawal Records of the key's account, newest first."""
        key, p = self._private(req)
        coin = self._str(p, "coin")
        wid = self._str(p, "withdrawID")
        limit = self._limit(p, 50, 50)
        rows = [
            {k: v for k, v in w.items() if k not in ("account", "accountType")}
            for w in reversed(self.withdrawals)
            if w["account"] == key.account
            and (not coin or w["coin"] == coin)
            and (not wid or w["withdrawId"] == wid)
        ][:limit]
        return self.ok(req, {"rows": rows, "nextPageCursor": ""})

    # ---- orders --------------------------------------------------------------------------------

    def _status(self, cat: str, o: Order) -> str:
        if o.status is Status.NEW:
            return "New"
        if o.status is Status.PARTIALLY_FILLED:
            return "PartiallyFilled"
        if o.status is Status.FILLED:
            return "Filled"
        # "PartiallyFilledCanceled: only spot has this order status"
        return "PartiallyFilledCanceled" if cat == "spot" and o.executed_qty > 0 else "Cancelled"

    def _order_view(self, cat: str, o: Order, inst: Instrument) -> dict[str, Any]:
        """One order in the Get Open & Closed Orders shape."""
        fee = sum((f.fee for f in o.fills), ZERO)
        fee_coin = o.fills[0].fee_asset if o.fills else ""
        is_market = o.type is OrdType.MARKET
        open_ = o.is_open
        leaves = o.remaining if open_ else ZERO
        qty = o.qty if o.qty is not None else (o.quote_qty or ZERO)
        tif = {TIF.GTC: "GTC", TIF.IOC: "IOC", TIF.FOK: "FOK", TIF.GTX: "PostOnly"}[o.tif]
        view: dict[str, Any] = {
            "orderId": str(o.order_id),
            "orderLinkId": o.extra.get("linkId", ""),
            "blockTradeId": "",
            "symbol": o.symbol,
            "price": "0" if is_market or o.price is None else self._px(inst, o.price),
            "qty": fmt(qty),
            "side": "Buy" if o.side is Side.BUY else "Sell",
            "isLeverage": "0" if cat == "spot" else "",
            "positionIdx": 0,
            "orderStatus": self._status(cat, o),
            # createType: orders the liquidation engine placed are CreateByLiquidate
            "createType": ("CreateByLiquidate" if o.extra.get("liquidation") else "CreateByUser")
            if cat != "spot"
            else "",
            "cancelType": o.extra.get("cancelType", "UNKNOWN"),
            "rejectReason": o.extra.get("rejectReason", "EC_NoError"),
            "avgPrice": self._px(inst, o.avg_price) if o.executed_qty else ("" if cat == "spot" else "0"),
            "leavesQty": self._qty(inst, leaves),
            "leavesValue": fmt(leaves * (o.price or ZERO), 8),
            "cumExecQty": self._qty(inst, o.executed_qty),
            "cumExecValue": fmt(o.cum_quote, 8),
            "cumExecFee": fmt(fee, 8),
            "cumFeeDetail": {fee_coin: fmt(fee, 8)} if o.fills else {},
            "timeInForce": "IOC" if is_market else tif,
            "orderType": "Market" if is_market else "Limit",
            "stopOrderType": "",
            "orderIv": "",
            "marketUnit": o.extra.get("marketUnit", ""),
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": o.extra.get("lastPriceOnCreated", ""),
            "basePrice": "",
            "reduceOnly": o.reduce_only,
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "createdTime": str(o.created_ms),
            "updatedTime": str(o.updated_ms),
        }
        if cat != "spot":
            view["tpslMode"] = ""  # derivatives orders carry tpslMode; spot orders do not
        return view

    def _orders(self, cat: str, account: str, symbol: str | None = None) -> list[Order]:
        """Every order of the account in the category (incl. accepted-then-cancelled), newest first."""
        engine = self._engine(cat)
        out = engine.all_orders(account, symbol) + [
            o for o in self.dead[cat] if o.account == account and (symbol is None or o.symbol == symbol)
        ]
        out.sort(key=lambda o: (o.created_ms, o.order_id), reverse=True)
        return out

    def _reject(self, cat: str, reason: Reject, inst: Instrument | None) -> VenueError:
        """Matching-engine refusals in Bybit's words: 170xxx for spot, 110xxx/10001 for contracts."""
        if cat == "spot":
            return {
                Reject.UNKNOWN_SYMBOL: _err(170121, "Invalid symbol."),
                Reject.PRICE_FILTER: _err(170134, "Order price decimal too long."),
                Reject.LOT_SIZE: _err(170137, "Order volume decimal too long."),
                Reject.MARKET_LOT_SIZE: _err(170135, "Order quantity too large."),
                Reject.MIN_NOTIONAL: _err(170140, "Order value exceeded lower limit."),
                Reject.INSUFFICIENT_BALANCE: _err(170131, "Insufficient balance."),
                Reject.DUPLICATE_CLIENT_ID: _err(170141, "Duplicate clientOrderId."),
                Reject.BAD_PARAMS: _param_err("order parameters invalid"),
            }.get(reason, _err(170210, "New order rejected."))
        minimum = f"{fmt(inst.min_notional)}{inst.settle}" if inst else ""
        return {
            Reject.UNKNOWN_SYMBOL: _param_err("symbol invalid"),
            Reject.PRICE_FILTER: _param_err("price invalid"),
            Reject.LOT_SIZE: _err(10001, "Qty invalid"),
            Reject.MARKET_LOT_SIZE: _err(10001, "The number of contracts exceeds maximum limit allowed"),
            Reject.MIN_NOTIONAL: _err(110094, f"Order does not meet minimum order value {minimum}"),
            Reject.INSUFFICIENT_BALANCE: _err(110007, "ab not enough for new order"),
            Reject.DUPLICATE_CLIENT_ID: _err(110072, "OrderLinkedID is duplicate"),
            Reject.REDUCE_ONLY: _err(110017, "Reduce-only rule not satisfied"),
            Reject.BAD_PARAMS: _param_err("order parameters invalid"),
        }.get(reason, _err(110007, "ab not enough for new order"))

    def _check_order(
        self,
        cat: str,
        inst: Instrument,
        type_: OrdType,
        qty: Decimal | None,
        price: Decimal | None,
        quote: Decimal | None,
    ) -> None:
        """Price/quantity/value filters of Get Instruments Info, with the codes Bybit answers."""
        spot = cat == "spot"
        if price is not None:
            if price <= 0 or price % inst.tick != 0:
                raise _err(170134, "Order price decimal too long.") if spot else _param_err("price invalid")
            if price < inst.min_price:
                raise (
                    _err(170133, "Order price lower than the minimum.")
                    if spot
                    else _param_err("price invalid")
                )
            if price > inst.max_price:
                raise _err(170132, "Order price too high.") if spot else _param_err("price invalid")
        if qty is not None:
            if qty <= 0 or qty % inst.step != 0:
                raise _err(170137, "Order volume decimal too long.") if spot else _err(10001, "Qty invalid")
            if qty < inst.min_qty:
                raise (
                    _err(170136, "Order quantity lower than the minimum.")
                    if spot
                    else _err(10001, "The number of contracts exceeds minimum limit allowed")
                )
            if qty > (inst.max_qty if type_ is OrdType.LIMIT else inst.market_max_qty):
                raise (
                    _err(170135, "Order quantity too large.")
                    if spot
                    else _err(10001, "The number of contracts exceeds maximum limit allowed")
                )
        if quote is not None and (quote <= 0 or quote % inst.extra["quotePrecision"] != 0):
            raise _err(170148, "Market order amount decimal too long.")
        ref = price if price is not None else self._engine(cat).last_price(inst.symbol)
        notional = quote if quote is not None else (qty or ZERO) * ref
        if notional < inst.min_notional:
            raise self._reject(cat, Reject.MIN_NOTIONAL, inst)
        if spot and notional > inst.extra["maxOrderAmt"]:
            raise _err(170124, "Order amount too large.")

    @route("POST", HOST, "/v5/order/create")
    async def order_create(self, req: SimRequest) -> Any:
        """Place Order: spot (Spot "SpotTrade") and linear (ContractTrade "Order") limit/market orders."""
        raw = self._raw_params(req) or {}
        cat_raw = self._str(raw, "category") if "category" in raw else None
        key, p = self._private(req, perm=TRADE_PERMISSION.get(cat_raw or "", "spot_trade"))
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        if cat not in ("spot", "linear"):
            raise _param_err(f"category {cat} is not traded by the simulator")
        engine = self._engine(cat)
        symbol = self._str(p, "symbol")
        inst = engine.instruments.get(symbol or "")
        if inst is None:
            raise self._reject(cat, Reject.UNKNOWN_SYMBOL, None)
        side_raw = self._str(p, "side")
        if side_raw not in ("Buy", "Sell"):
            raise _err(170117, "Invalid side.") if cat == "spot" else _param_err("side invalid")
        side = Side.BUY if side_raw == "Buy" else Side.SELL
        type_raw = self._str(p, "orderType")
        if type_raw not in ("Limit", "Market"):
            raise _err(170116, "Invalid orderType.") if cat == "spot" else _param_err("orderType invalid")
        type_ = OrdType.LIMIT if type_raw == "Limit" else OrdType.MARKET
        if self._str(p, "triggerPrice") or self._str(p, "orderFilter") in ("StopOrder", "tpslOrder"):
            raise _param_err("conditional orders are not supported by the simulator")
        qty = self._dec(p, "qty")
        if qty is None:
            raise _param_err("qty is required")
        price = self._dec(p, "price") if type_ is OrdType.LIMIT else None
        if type_ is OrdType.LIMIT and price is None:
            raise _param_err("price is required for limit orders")
        tif_raw = self._str(p, "timeInForce") or "GTC"
        tifs = {"GTC": TIF.GTC, "IOC": TIF.IOC, "FOK": TIF.FOK, "PostOnly": TIF.GTX}
        if tif_raw not in tifs:
            raise _err(170115, "Invalid timeInForce.") if cat == "spot" else _param_err("timeInForce invalid")
        tif = TIF.IOC if type_ is OrdType.MARKET else tifs[tif_raw]
        link_id = self._str(p, "orderLinkId") or ""
        if len(link_id) > 36:
            raise _param_err("orderLinkId invalid")
        reduce_only = self._str(p, "reduceOnly") == "true"
        if cat == "spot" and self._int(p, "isLeverage", 0):
            raise _param_err("margin trading is not enabled on this account")
        quote: Decimal | None = None
        unit = ""
        if cat == "spot" and type_ is OrdType.MARKET:
            # Place Order: spot market Buy defaults to quoteCoin units, Sell to baseCoin
            unit = self._str(p, "marketUnit") or ("quoteCoin" if side is Side.BUY else "baseCoin")
            if unit not in ("baseCoin", "quoteCoin"):
                raise _param_err("marketUnit invalid")
            if unit == "quoteCoin":
                quote, qty = qty, None
        self._check_order(cat, inst, type_, qty, price, quote)
        last = engine.last_price(inst.symbol)
        extra = {
            "linkId": link_id,
            "marketUnit": unit,
            "lastPriceOnCreated": self._px(inst, last),
        }
        try:
            order = engine.new_order(
                key.account,
                inst.symbol,
                side,
                type_,
                qty=qty,
                price=price,
                quote_qty=quote,
                tif=tif,
                client_order_id=link_id or None,
                reduce_only=reduce_only,
                extra=extra,
                validate=False,
            )
        except OrderRejected as rej:
            if rej.reason in (Reject.POST_ONLY_WOULD_TAKE, Reject.NO_LIQUIDITY):
                # Bybit accepts these and cancels them at once (Get Order: rejectReason)
                order = self._accepted_then_cancelled(
                    cat, key.account, inst, side, type_, tif, qty, price, quote, rej
                )
                order.extra.update(extra)
            else:
                raise self._reject(cat, rej.reason, inst) from rej
        return self.ok(req, {"orderId": str(order.order_id), "orderLinkId": link_id})

    def _accepted_then_cancelled(
        self,
        cat: str,
        account: str,
        inst: Instrument,
        side: Side,
        type_: OrdType,
        tif: TIF,
        qty: Decimal | None,
        price: Decimal | None,
        quote: Decimal | None,
        rej: OrderRejected,
    ) -> Order:
        now = self.now_ms()
        oid = next(self._dead_ids)
        order = Order(
            oid,
            f"sim-{oid}",
            account,
            inst.symbol,
            side,
            type_,
            tif,
            price,
            qty,
            quote,
            now,
            0,
            status=Status.CANCELED,
            updated_ms=now,
        )
        order.extra["rejectReason"] = (
            "EC_PostOnlyWillTakeLiquidity"
            if rej.reason is Reject.POST_ONLY_WOULD_TAKE
            else "EC_CancelForNoFullFill"
        )
        self.dead[cat].append(order)
        return order

    def _find(self, cat: str, account: str, p: dict[str, Any], symbol: str | None) -> Order:
        oid_raw = self._str(p, "orderId")
        link = self._str(p, "orderLinkId")
        if not oid_raw and not link:
            raise _param_err("orderId or orderLinkId is required")
        for o in self._orders(cat, account, symbol):
            if (oid_raw and str(o.order_id) == oid_raw) or (
                not oid_raw and link and o.extra.get("linkId") == link
            ):
                return o
        raise OrderNotFound(oid_raw or link or "")

    def _not_found(self, cat: str) -> VenueError:
        if cat == "spot":
            return _err(170213, "Order does not exist.")
        return _err(110001, "order not exists or too late to cancel")

    @route("POST", HOST, "/v5/order/cancel")
    async def order_cancel(self, req: SimRequest) -> Any:
        """Cancel Order by orderId or orderLinkId."""
        raw = self._raw_params(req) or {}
        cat_raw = self._str(raw, "category") if "category" in raw else None
        key, p = self._private(req, perm=TRADE_PERMISSION.get(cat_raw or "", "spot_trade"))
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        if cat not in ("spot", "linear"):
            raise self._not_found("linear")
        symbol = self._str(p, "symbol")
        self._instrument(cat, symbol)
        try:
            order = self._find(cat, key.account, p, symbol)
            if not order.is_open:
                raise CancelRejected(order)
            self._engine(cat).cancel(key.account, symbol, order.order_id)
        except (OrderNotFound, CancelRejected) as exc:
            raise self._not_found(cat) from exc
        order.extra["cancelType"] = "CancelByUser"
        return self.ok(req, {"orderId": str(order.order_id), "orderLinkId": order.extra.get("linkId", "")})

    @route("POST", HOST, "/v5/order/cancel-all")
    async def order_cancel_all(self, req: SimRequest) -> Any:
        """Cancel All Orders of a symbol (or of every symbol of the category / settle coin)."""
        raw = self._raw_params(req) or {}
        cat_raw = self._str(raw, "category") if "category" in raw else None
        key, p = self._private(req, perm=TRADE_PERMISSION.get(cat_raw or "", "spot_trade"))
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        if cat not in ("spot", "linear"):
            return self.ok(req, {"list": [], "success": "1"})
        symbol = self._str(p, "symbol")
        if symbol:
            self._instrument(cat, symbol)
        elif cat == "linear" and not (self._str(p, "settleCoin") or self._str(p, "baseCoin")):
            raise _param_err("symbol, baseCoin or settleCoin is required")
        cancelled = self._engine(cat).cancel_all(key.account, symbol or None)
        for o in cancelled:
            o.extra["cancelType"] = "CancelByUser"
        rows = [{"orderId": str(o.order_id), "orderLinkId": o.extra.get("linkId", "")} for o in cancelled]
        return self.ok(req, {"list": rows, "success": "1"})

    def _order_query(self, req: SimRequest, history: bool) -> Any:
        key, p = self._private(req)
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        symbol = self._str(p, "symbol") or None
        if symbol:
            self._instrument(cat, symbol)
        elif cat == "linear" and not history and not (self._str(p, "settleCoin") or self._str(p, "baseCoin")):
            raise _param_err("symbol, baseCoin or settleCoin is required")
        limit = self._limit(p, 20, 50)
        if cat not in ("spot", "linear") or self._str(p, "orderFilter") in ("StopOrder", "tpslOrder"):
            return self.ok(req, {"category": cat, "list": [], "nextPageCursor": ""})
        orders = self._orders(cat, key.account, symbol)
        base = self._str(p, "baseCoin")
        settle = self._str(p, "settleCoin")
        engine = self._engine(cat)
        orders = [
            o
            for o in orders
            if (not base or engine.instruments[o.symbol].base == base)
            and (not settle or engine.instruments[o.symbol].settle == settle)
        ]
        oid = self._str(p, "orderId")
        link = self._str(p, "orderLinkId")
        if oid or link:
            # by id the order is found whatever its status
            orders = [
                o
                for o in orders
                if (oid and str(o.order_id) == oid) or (link and o.extra.get("linkId") == link)
            ]
        elif history:
            status = self._str(p, "orderStatus")
            orders = [o for o in orders if (self._status(cat, o) == status if status else not o.is_open)]
            start, end = self._int(p, "startTime"), self._int(p, "endTime")
            if start is None and end is None:
                start = req.now_ms - 7 * DAY_MS  # default: the last 7 days
            orders = [
                o
                for o in orders
                if (start is None or o.created_ms >= start) and (end is None or o.created_ms <= end)
            ]
        else:
            # openOnly=0 (default): open orders; 1: also the most recent 500 closed ones
            open_only = self._int(p, "openOnly", 0)
            orders = [o for o in orders if o.is_open] if open_only == 0 else orders[:500]
        rows = [self._order_view(cat, o, engine.instruments[o.symbol]) for o in orders[:limit]]
        return self.ok(req, {"category": cat, "list": rows, "nextPageCursor": ""})

    @route("GET", HOST, "/v5/order/realtime")
    async def order_realtime(self, req: SimRequest) -> Any:
        """Get Open & Closed Orders (real-time)."""
        return self._order_query(req, history=False)

    @route("GET", HOST, "/v5/order/history")
    async def order_history(self, req: SimRequest) -> Any:
        """Get Order History (closed orders unless orderStatus says otherwise)."""
        return self._order_query(req, history=True)

    @route("GET", HOST, "/v5/execution/list")
    async def execution_list(self, req: SimRequest) -> Any:
        """Get Trade History: the account's fills, newest first."""
        key, p = self._private(req)
        cat = self._category(p, ("spot", "linear", "inverse", "option"))
        symbol = self._str(p, "symbol") or None
        if symbol:
            self._instrument(cat, symbol)
        limit = self._limit(p, 50, 100)
        exec_type = self._str(p, "execType")
        if cat == "linear" and exec_type == "Funding":
            return self.ok(
                req,
                {
                    "category": cat,
                    "list": self._funding_execs(key.account, p, symbol, limit),
                    "nextPageCursor": "",
                },
            )
        if cat not in ("spot", "linear") or (exec_type and exec_type not in ("Trade", "BustTrade")):
            return self.ok(req, {"category": cat, "list": [], "nextPageCursor": ""})
        engine = self._engine(cat)
        oid = self._str(p, "orderId")
        link = self._str(p, "orderLinkId")
        start, end = self._int(p, "startTime"), self._int(p, "endTime")
        rows = []
        for f in reversed(engine.fills(key.account, symbol)):
            o = engine.orders[f.order_id]
            if (oid and str(o.order_id) != oid) or (link and o.extra.get("linkId") != link):
                continue
            if (start is not None and f.time_ms < start) or (end is not None and f.time_ms > end):
                continue
            # execType BustTrade: fills of the liquidation engine's orders
            bust = bool(o.extra.get("liquidation"))
            if exec_type and exec_type != ("BustTrade" if bust else "Trade"):
                continue
            inst = engine.instruments[f.symbol]
            rate = ZERO if bust else (inst.maker_fee if f.is_maker else inst.taker_fee)
            row: dict[str, Any] = {
                "symbol": f.symbol,
                "orderId": str(o.order_id),
                "orderLinkId": o.extra.get("linkId", ""),
                "side": "Buy" if f.side is Side.BUY else "Sell",
                "orderPrice": "0" if o.price is None else self._px(inst, o.price),
                "orderQty": fmt(o.qty if o.qty is not None else (o.quote_qty or ZERO)),
                "leavesQty": self._qty(inst, o.remaining if o.is_open else ZERO),
                "orderType": "Market" if o.type is OrdType.MARKET else "Limit",
                "stopOrderType": "",
                "execFee": fmt(f.fee, 8),
                "execId": f"{cat}-{f.trade_id}",
                "execPrice": self._px(inst, f.price),
                "execQty": self._qty(inst, f.qty),
                "execType": "BustTrade" if bust else "Trade",
                "execValue": fmt(f.quote_qty, 8),
                "execTime": str(f.time_ms),
                "feeCurrency": f.fee_asset if cat == "spot" else "",
                "isMaker": f.is_maker,
                "feeRate": fmt(rate),
                "tradeIv": "",
                "markIv": "",
                "markPrice": self._px(inst, engine.last_price(f.symbol)),
                "indexPrice": "",
                "underlyingPrice": "",
                "blockTradeId": "",
                "closedSize": "",
                "seq": f.trade_id,
                "extraFees": "",
            }
            if cat != "spot":
                row["createType"] = "CreateByLiquidate" if bust else "CreateByUser"
                row["closedSize"] = self._qty(inst, f.qty) if f.realized_pnl else "0"
            rows.append(row)
            if len(rows) >= limit:
                break
        return self.ok(req, {"category": cat, "list": rows, "nextPageCursor": ""})

    def _funding_execs(self, account: str, p: dict[str, Any], symbol: str | None, limit: int) -> list[Any]:
        """Funding settlements as Get Trade History rows (execType Funding; execFee > 0 means paid)."""
        start, end = self._int(p, "startTime"), self._int(p, "endTime")
        rows: list[Any] = []
        for e in reversed(self.perps.account(account, ZERO).journal):
            if e.kind != "funding" or (symbol and e.symbol != symbol):
                continue
            if (start is not None and e.time_ms < start) or (end is not None and e.time_ms > end):
                continue
            inst = self.linear.instruments[e.symbol]
            qty, mark = abs(e.info["qty"]), e.info["mark"]
            rows.append(
                {
                    "symbol": e.symbol,
                    "orderId": "",
                    "orderLinkId": "",
                    "side": "Buy" if e.info["qty"] > 0 else "Sell",
                    "orderPrice": "0",
                    "orderQty": "0",
                    "leavesQty": "0",
                    "createType": "",
                    "orderType": "UNKNOWN",
                    "stopOrderType": "UNKNOWN",
                    "execFee": fmt(-e.amount, 8),
                    "execId": f"funding-{e.entry_id}",
                    "execPrice": self._px(inst, mark),
                    "execQty": self._qty(inst, qty),
                    "execType": "Funding",
                    "execValue": fmt(qty * mark, 8),
                    "execTime": str(e.time_ms),
                    "feeCurrency": "",
                    "isMaker": False,
                    "feeRate": fmt(e.info["rate"]),
                    "tradeIv": "",
                    "markIv": "",
                    "markPrice": self._px(inst, mark),
                    "indexPrice": "",
                    "underlyingPrice": "",
                    "blockTradeId": "",
                    "closedSize": "0",
                    "seq": e.entry_id,
                    "extraFees": "",
                }
            )
            if len(rows) >= limit:
                break
        return rows

    @route("GET", HOST, "/v5/market/funding/history")
    async def funding_history(self, req: SimRequest) -> Any:
        """Get Funding Rate History: newest first, limit 1..200 (200); startTime needs endTime."""
        p = req.params
        cat = self._category(p, ("linear", "inverse"))
        inst = self._instrument(cat, self._str(p, "symbol"))
        limit = self._limit(p, 200, 200)
        start, end = self._int(p, "startTime"), self._int(p, "endTime")
        if start is not None and end is None:
            raise _param_err("endTime is required when startTime is given")
        if cat != "linear":
            return self.ok(req, {"category": cat, "list": []})
        events = self.risk.history(inst.symbol, start, end, limit, newest_first=True)
        rows = [
            {"symbol": e.symbol, "fundingRate": fmt(e.rate), "fundingRateTimestamp": str(e.time_ms)}
            for e in events
        ]
        return self.ok(req, {"category": cat, "list": rows})

    @route("POST", HOST, "/v5/account/set-margin-mode")
    async def set_margin_mode(self, req: SimRequest) -> Any:
        """Set Margin Mode (account-wide on a unified account): ISOLATED_MARGIN, REGULAR_MARGIN, or
        PORTFOLIO_MARGIN (not simulated); refused while linear positions or orders are open."""
        key, p = self._private(req, perm="futures_trade")
        mode = self._str(p, "setMarginMode")
        if mode not in ("ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"):
            raise _param_err("setMarginMode invalid")
        if mode == "PORTFOLIO_MARGIN":
            raise _err(3400045, "Set margin mode failed: portfolio margin is not available to this account")
        acc = self.perps.account(key.account, ZERO)
        busy = any(pos.qty for pos in acc.positions.values()) or self.linear.open_orders(key.account)
        current = self.perps.account_modes.get(key.account, "REGULAR_MARGIN")
        if busy and mode != current:
            raise _err(3400045, "Set margin mode failed: close all positions and orders first")
        self.perps.account_modes[key.account] = mode
        return self.ok(req, {"reasons": []})

    # ---- positions -----------------------------------------------------------------------------

    def _position_view(self, account: str, inst: Instrument, now: int) -> dict[str, Any]:
        acc = self.perps.account(account, ZERO)
        pos = acc.positions.get(inst.symbol)
        size = abs(pos.qty) if pos else ZERO
        entry = pos.entry if pos and pos.qty else ZERO
        lev = self.perps.leverage(account, inst.symbol)
        mark = self.risk.mark(inst.symbol, now)
        upnl = self.perps.unrealized(acc, inst.symbol)
        im = self.perps.initial_margin(acc, inst.symbol, pos) if pos and pos.qty else ZERO
        mm = size * mark * self.perps.mmr
        liq = self.perps.liquidation_price(account, inst.symbol) if size else ZERO
        isolated = bool(pos and pos.qty and pos.isolated)
        side = "" if not size else ("Buy" if pos and pos.qty > 0 else "Sell")
        return {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": inst.symbol,
            "side": side,
            "size": self._qty(inst, size),
            "avgPrice": self._px(inst, entry) if size else "0",
            "positionValue": fmt(size * entry, 8) if size else "",
            "tradeMode": 1 if isolated else 0,
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "leverage": str(lev),
            "markPrice": self._px(inst, mark),
            "liqPrice": self._px(inst, liq) if liq else "",
            "bustPrice": "",
            "positionIM": fmt(im, 8),
            "positionMM": fmt(mm, 8),
            "positionBalance": fmt(im, 8),
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "sessionAvgPrice": "",
            "delta": "",
            "gamma": "",
            "vega": "",
            "theta": "",
            "unrealisedPnl": fmt(upnl, 8),
            "curRealisedPnl": fmt(pos.realized if pos else ZERO, 8),
            "cumRealisedPnl": fmt(pos.realized if pos else ZERO, 8),
            "adlRankIndicator": 2 if size else 0,
            "createdTime": str(self.launch_ms),
            "updatedTime": str(now),
            "seq": self.market.tick,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "tpslMode": "Full",
        }

    @route("GET", HOST, "/v5/position/list")
    async def position_list(self, req: SimRequest) -> Any:
        """Get Position Info (the futures account check): needs ContractTrade "Position"."""
        key, p = self._private(req, perm="futures_trade")
        cat = self._category(p, ("linear", "inverse", "option"))
        symbol = self._str(p, "symbol") or None
        settle = self._str(p, "settleCoin")
        base = self._str(p, "baseCoin")
        # Get Position Info: "linear: either symbol or settleCoin is required"; inverse lists all
        if cat == "linear" and not symbol and not settle and not base:
            raise _param_err("symbol, baseCoin or settleCoin is required")
        if symbol:
            self._instrument(cat, symbol)
        if cat != "linear":
            return self.ok(req, {"category": cat, "list": [], "nextPageCursor": ""})
        limit = self._limit(p, 20, 200)
        now = req.now_ms
        if symbol:
            rows = [self._position_view(key.account, self.linear.instruments[symbol], now)]
        else:
            acc = self.perps.account(key.account, ZERO)
            rows = [
                self._position_view(key.account, self.linear.instruments[s], now)
                for s, pos in acc.positions.items()
                if pos.qty
                and (not settle or self.linear.instruments[s].settle == settle)
                and (not base or self.linear.instruments[s].base == base)
            ]
        return self.ok(req, {"category": cat, "list": rows[:limit], "nextPageCursor": ""})

    @route("POST", HOST, "/v5/position/set-leverage")
    async def set_leverage(self, req: SimRequest) -> Any:
        """Set Leverage (one-way mode: buyLeverage must equal sellLeverage)."""
        key, p = self._private(req, perm="futures_trade")
        cat = self._category(p, ("linear", "inverse"))
        inst = self._instrument(cat, self._str(p, "symbol"))
        buy, sell = self._dec(p, "buyLeverage"), self._dec(p, "sellLeverage")
        if (
            buy is None
            or sell is None
            or buy != sell
            or buy < 1
            or buy > 100
            or buy != buy.to_integral_value()
        ):
            raise _param_err("buyLeverage invalid")
        if cat != "linear":
            return self.ok(req, {})
        acc = self.perps.account(key.account, ZERO)
        if self.perps.leverage(key.account, inst.symbol) == int(buy):
            raise _err(110043, "Set leverage not modified")
        with self.wallets.lock:
            acc.leverage[inst.symbol] = int(buy)
            self.perps.hold(key.account)
        return self.ok(req, {})


VENUE = BybitVenue
