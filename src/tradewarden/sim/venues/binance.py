"""Binance: spot (api.binance.com, incl. sapi), USD-M futures (fapi), COIN-M market list (dapi).

Written from Binance's own API documentation (binance-spot-api-docs, derivatives docs): SIGNED
requests carry `timestamp`, optional `recvWindow` (default 5000, max 60000) and `signature` (hex
HMAC-SHA256, or base64 Ed25519 with a registered public key) over the query string followed by
the body; the key travels in `X-MBX-APIKEY`. Errors are `{"code": -NNNN, "msg": "..."}` with 4XX
statuses (401 for key/IP/permission refusals), 429 + Retry-After over the weight limit, 418 once banned.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web

from ..keys import ApiKey
from ..ledger import PerpSettlement, SpotSettlement, Wallets
from ..market import MINUTE_MS, PairMarket
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
from ..ratelimit import DAY_MS
from ..signing import verify_ed25519_b64, verify_hmac_hex
from ..streams.binance import STREAM_HOSTS, BinanceStreams
from ..venue import SimRequest, Venue, VenueError, fmt, parse_decimal, route

SPOT = "api.binance.com"
FAPI = "fapi.binance.com"
DAPI = "dapi.binance.com"

KEY_RE = re.compile(r"^[A-Za-z0-9]{64}$")
CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
MAX_RECV_WINDOW = 60_000
DEFAULT_RECV_WINDOW = 5_000

INTERVALS_MS: dict[str, int] = {
    "1m": 1,
    "3m": 3,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "2h": 120,
    "4h": 240,
    "6h": 360,
    "8h": 480,
    "12h": 720,
    "1d": 1440,
    "3d": 4320,
    "1w": 10080,
}

# USD-M contract specs that differ from spot (tick, step, min notional), per Binance's exchangeInfo.
FUTURES_SPECS: dict[str, tuple[str, str, str]] = {
    "BTC/USDT": ("0.10", "0.001", "100"),
    "ETH/USDT": ("0.01", "0.001", "20"),
}

INVALID_KEY_MSG = "Invalid API-key, IP, or permissions for action."

# spot order limits (rest-api.md "Query Unfilled Order Count" example; filters.md MAX_NUM_ORDERS)
ORDERS_10S = 50
ORDERS_1D = 160_000
MAX_NUM_ORDERS = 200
# USD-M "Exchange Information" example rateLimits: REQUEST_WEIGHT 2400 and ORDERS 1200 per minute
FAPI_WEIGHT_1M = 2400
FAPI_ORDERS_1M = 1200
LISTEN_KEY_TTL_MS = 60 * 60_000  # derivatives "User Data Streams": valid 60 minutes after creation/PUT


def _err(status: int, code: int, msg: str) -> VenueError:
    return VenueError(status, code, msg)


def _mandatory(name: str) -> VenueError:
    return _err(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def _illegal(name: str) -> VenueError:
    return _err(
        400,
        -1100,
        f"Illegal characters found in parameter '{name}'; legal range is "
        "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
    )


def _strip_signature(raw: str) -> tuple[str, str | None]:
    """Split `...&signature=X` off a raw query/body, returning (payload, signature-as-sent)."""
    if not raw:
        return raw, None
    parts = raw.split("&")
    kept = [p for p in parts if not p.startswith("signature=")]
    sig = next((p[len("signature=") :] for p in parts if p.startswith("signature=")), None)
    return "&".join(kept), sig


# Get Income History: the simulator's ledger kinds under Binance's incomeType names
INCOME_TYPES = {
    "realized_pnl": "REALIZED_PNL",
    "commission": "COMMISSION",
    "funding": "FUNDING_FEE",
    "insurance": "INSURANCE_CLEAR",
}
OTHER_INCOME_TYPES = frozenset({"TRANSFER", "WELCOME_BONUS", "REFERRAL_KICKBACK", "API_REBATE"})
INCOME_DEFAULT_WINDOW_MS = 7 * 86_400_000  # without startTime/endTime: the last 7 days


def _d(value: Decimal, places: int = 8) -> str:
    return fmt(value, places)


class BinanceVenue(BinanceStreams, Venue):
    """Binance spot + USD-M futures, with the COIN-M market list ccxt loads."""

    name = "binance"
    hosts = (SPOT, FAPI, DAPI, *STREAM_HOSTS)  # streams: sim/streams/binance.py
    # Spot Testnet and the USD-M futures testnet, the hosts ccxt's sandbox mode uses (urls['test'])
    testnet_hosts: ClassVar[dict[str, str]] = {
        "testnet.binance.vision": SPOT,
        "testnet.binancefuture.com": FAPI,
    }
    has_testnet = True

    def production_host(self, host: str, path: str) -> str:
        """The futures testnet serves USD-M (/fapi) and COIN-M (/dapi) on one host."""
        if host == "testnet.binancefuture.com" and path.startswith("/dapi/"):
            return DAPI
        return super().production_host(host, path)

    # spot docs, enums.md "Rate limiters" and CHANGELOG 2023-08-25: REQUEST_WEIGHT is 6,000 per
    # minute (the older 1,200 no longer applies)
    weight_limit = 6000
    weight_window_s = 60.0
    ban_seconds = 120.0

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.wallets = Wallets()
        self.spot = Engine(
            self.market, SpotSettlement(self.wallets, fee_in="received"), name="spot", first_order_id=1000
        )
        self.perps = PerpSettlement(Decimal("10000"), "USDT", default_leverage=20)
        self.futures = Engine(
            self.market, self.perps, name="futures", first_order_id=5_000_000, clock=self.now_ms
        )
        # USD-M "Mark Price and Funding Rate" / funding FAQ: 8-hour funding, interest 0.01 %, clamp
        # ±0.05 %; BTCUSDT's first leverage bracket holds maintenance margin at 0.4 %.
        self.risk = PerpRisk(
            self.name, ctx.seed, self.market, self.futures, self.perps, self.now_ms, FundingRules()
        )
        self.engines = [self.spot, self.futures]
        self.dual_side: dict[str, bool] = {}
        self.listen_keys: dict[str, str] = {}
        self.listen_key_expiry: dict[str, int] = {}
        # placed orders still waiting for their first fill, per account (unfilled order count)
        self.awaiting_first_fill: dict[str, list[Order]] = {}
        self.withdrawals: list[dict[str, Any]] = []
        for spec in self.pairs:
            sym = spec.base + spec.quote
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
                    max_qty=Decimal("9000000"),
                    market_max_qty=Decimal("100000"),
                    min_price=spec.tick,
                    max_price=Decimal("1000000"),
                    min_notional=spec.min_notional,
                    maker_fee=Decimal("0.001"),
                    taker_fee=Decimal("0.001"),
                )
            )
            if spec.quote == "USDT":
                tick, step, mn = FUTURES_SPECS.get(spec.pair, (str(spec.tick), str(spec.step), "5"))
                self.futures.add_instrument(
                    Instrument(
                        sym,
                        spec.pair,
                        spec.base,
                        spec.quote,
                        "perp",
                        tick=Decimal(tick),
                        step=Decimal(step),
                        min_qty=Decimal(step),
                        max_qty=Decimal("1000000"),
                        market_max_qty=Decimal("100000"),
                        min_price=Decimal(tick),
                        max_price=Decimal("4529764"),
                        min_notional=Decimal(mn),
                        maker_fee=Decimal("0.0002"),
                        taker_fee=Decimal("0.0005"),
                        settle="USDT",
                    )
                )

    # ---- accounts ----------------------------------------------------------------------------------

    def on_key_created(self, key: ApiKey, balances: dict[str, Decimal] | None) -> None:
        """Spot wallet from `balances` (or 10000 USDT, 1 BTC, 10 ETH); futures wallet 10000 USDT."""
        self.wallets.ensure(key.account, balances)
        futures_usdt = None if balances is None else balances.get("USDT", Decimal(0))
        self.perps.account(key.account, futures_usdt)

    def set_balances(self, key: ApiKey, balances: dict[str, Decimal]) -> None:
        """Admin: replace the key's spot balances (and its futures USDT wallet)."""
        before = {a: b.total for a, b in self.wallets.ensure(key.account).items()}
        self.wallets.set(key.account, balances)
        self.spot_balance_changed(key.account, before)  # balanceUpdate on the user data stream
        if "USDT" in balances:
            self.perps.account(key.account).wallet = balances["USDT"]

    # ---- framework hooks -----------------------------------------------------------------------

    def on_tick(self) -> None:
        """Fill crossed resting orders, then charge funding times crossed and liquidate (perps)."""
        super().on_tick()
        self.risk.update()

    def _is_fapi(self, req: SimRequest) -> bool:
        return req.host != SPOT

    def rate_pool(self, req: SimRequest, limit: int | None) -> tuple[str, int | None]:
        """Spot (api) and the futures hosts (fapi, dapi) keep separate per-IP weight: 6,000 and 2,400."""
        if req.host == SPOT:
            return req.remote, limit
        return f"fapi:{req.remote}", (None if limit is None else self._fapi_weight)

    def rate_limited(
        self, req: SimRequest, used: int, limit: int, retry_after: int, banned: bool
    ) -> VenueError:
        """-1003 with 429 (over the limit) or 418 (kept going: banned), as documented."""
        if banned:
            until = req.now_ms + retry_after * 1000
            msg = (
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans."
            )
            return VenueError(418, -1003, msg, headers={"Retry-After": str(retry_after)})
        msg = (
            f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API."
        )
        return VenueError(429, -1003, msg, headers={"Retry-After": str(retry_after)})

    def decorate(self, req: SimRequest, resp: web.StreamResponse) -> None:
        """Used-weight headers: X-SAPI-USED-IP-WEIGHT-1M on sapi, X-MBX-USED-WEIGHT-1M elsewhere."""
        super().decorate(req, resp)
        if req.used_weight:
            if req.path.startswith("/sapi/"):
                resp.headers["X-SAPI-USED-IP-WEIGHT-1M"] = str(req.used_weight)
            else:
                resp.headers["X-MBX-USED-WEIGHT-1M"] = str(req.used_weight)
                resp.headers["X-MBX-USED-WEIGHT"] = str(req.used_weight)

    # ---- authentication ----------------------------------------------------------------------------

    def _invalid_key(self, req: SimRequest) -> VenueError:
        if self._is_fapi(req):
            return _err(
                401, -2015, f"Invalid API-key, IP, or permissions for action, request ip: {req.remote}"
            )
        return _err(401, -2015, INVALID_KEY_MSG)

    def _key(self, req: SimRequest) -> ApiKey:
        key_id = req.headers.get("X-MBX-APIKEY")
        req.api_key_id = key_id
        if not key_id or not KEY_RE.match(key_id):
            raise _err(401, -2014, "API-key format invalid.")
        key = self.keys.get(key_id)
        if key is None or key.venue != self.name or not key.is_active(req.now_ms):
            raise self._invalid_key(req)
        if not self.same_environment(req, key):  # a testnet key is unknown in production, and vice versa
            raise self._invalid_key(req)
        return key

    def _check_signature(self, req: SimRequest, key: ApiKey) -> None:
        params = req.params
        ts_raw = params.get("timestamp")
        if not ts_raw or not ts_raw.isdigit():
            raise _mandatory("timestamp")
        rw_raw = params.get("recvWindow", str(DEFAULT_RECV_WINDOW))
        rw = parse_decimal(rw_raw)
        if rw is None or rw <= 0:
            raise _illegal("recvWindow")
        if rw > MAX_RECV_WINDOW:
            raise _err(400, -1131, f"'recvWindow' must be less than {MAX_RECV_WINDOW}.")
        ts = int(ts_raw)
        if ts >= req.now_ms + 1000:
            raise _err(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if req.now_ms - ts > rw:
            raise _err(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        query, qsig = _strip_signature(req.query_string)
        body, bsig = _strip_signature(req.body.decode(errors="replace"))
        raw_sig = qsig if qsig is not None else bsig
        if not raw_sig:
            raise _mandatory("signature")
        # the signature is verified over exactly what was sent: query string, then body
        payload = query + body
        sig = req.params.get("signature", "")
        if key.key_type == "ed25519":
            ok = key.public_key is not None and verify_ed25519_b64(key.public_key, payload, sig)
        else:
            ok = key.secret is not None and verify_hmac_hex(key.secret, payload, sig)
        if not ok:
            raise _err(400, -1022, "Signature for this request is not valid.")

    def _auth(self, req: SimRequest, perm: str | None = "read", signed: bool = True) -> ApiKey:
        """Key → timestamp/recvWindow → signature → IP whitelist → permission, as Binance orders them."""
        key = self._key(req)
        if signed:
            self._check_signature(req, key)
        if not key.allows_ip(req.remote):
            raise self._invalid_key(req)
        if perm is not None and not key.has(perm):
            raise self._invalid_key(req)
        req.api_key = key
        return key

    # ---- parameter helpers ---------------------------------------------------------------------

    def _symbol(self, req: SimRequest, engine: Engine, required: bool = True) -> str | None:
        sym = req.params.get("symbol")
        if not sym:
            if required:
                raise _mandatory("symbol")
            return None
        if sym not in engine.instruments:
            raise _err(400, -1121, "Invalid symbol.")
        return sym

    def _symbols_list(self, req: SimRequest, engine: Engine) -> list[str] | None:
        raw = req.params.get("symbols")
        if raw is None:
            return None
        try:
            symbols = json.loads(raw)
        except ValueError as exc:
            raise _illegal("symbols") from exc
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            raise _illegal("symbols")
        for s in symbols:
            if s not in engine.instruments:
                raise _err(400, -1121, "Invalid symbol.")
        return symbols

    def _decimal(self, req: SimRequest, name: str, required: bool = False) -> Decimal | None:
        raw = req.params.get(name)
        if raw is None or raw == "":
            if required:
                raise _mandatory(name)
            return None
        value = parse_decimal(raw)
        if value is None or not re.match(r"^-?[0-9]{1,20}(\.[0-9]{1,20})?$", raw):
            raise _illegal(name)
        return value

    def _int(self, req: SimRequest, name: str, default: int | None = None) -> int | None:
        raw = req.params.get(name)
        if raw is None or raw == "":
            return default
        if not re.match(r"^-?\d+$", raw):
            raise _illegal(name)
        return int(raw)

    def _limit(self, req: SimRequest, default: int, maximum: int) -> int:
        limit = self._int(req, "limit", default) or default
        if limit <= 0:
            raise _err(400, -1100, "Illegal characters found in parameter 'limit'.")
        return min(limit, maximum)

    def _pm(self, engine: Engine, symbol: str) -> PairMarket:
        return self.market.get(engine.instruments[symbol].pair)

    # ---- exchangeInfo --------------------------------------------------------------------------

    def _rate_limits(self) -> list[dict[str, Any]]:
        # spot rest-api.md "Query Unfilled Order Count": ORDERS 50 per 10 SECOND and 160,000 per DAY;
        # enums.md "Rate limiters": REQUEST_WEIGHT 6,000 per MINUTE, RAW_REQUESTS 61,000 per 5 MINUTE
        limit = self.ctx.states[self.name].weight_limit or self.weight_limit or 6000
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limit},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": self._orders_10s},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": self._orders_1d},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ]

    def _futures_rate_limits(self) -> list[dict[str, Any]]:
        # USD-M "Exchange Information" example: REQUEST_WEIGHT 2400 and ORDERS 1200 per MINUTE
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self._fapi_weight,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": FAPI_ORDERS_1M},
        ]

    @property
    def _fapi_weight(self) -> int:
        state_limit = self.ctx.states[self.name].weight_limit
        # an admin weight_limit other than the spot default caps the futures pool as well
        if state_limit is not None and state_limit != self.weight_limit:
            return state_limit
        return self.limit("fapi_weight", FAPI_WEIGHT_1M)

    @property
    def _orders_10s(self) -> int:
        return self.limit("orders_10s", ORDERS_10S)

    @property
    def _orders_1d(self) -> int:
        return self.limit("orders_1d", ORDERS_1D)

    @property
    def _max_num_orders(self) -> int:
        return self.limit("max_num_orders", MAX_NUM_ORDERS)

    def _order_windows(self) -> tuple[tuple[str, int, int, str], ...]:
        """(header suffix, limit, window ms, interval name) of each spot ORDERS limiter."""
        return (
            ("10S", self._orders_10s, 10_000, "10 SECOND"),
            ("1D", self._orders_1d, DAY_MS, "1 DAY"),
        )

    def _check_order_count(self, req: SimRequest, key: ApiKey) -> None:
        """-1015 with 429 once the account's unfilled order count reached a limit.

        faqs/order_count_decrement.md: the count is per (sub)account, across keys and IPs, in windows
        aligned to the interval; an order refused this way answers HTTP 429, -1015 "Too many new orders".
        """
        self._credit_first_fills(key.account, req.now_ms)
        for _suffix, limit, window, interval in self._order_windows():
            count = self.counters.peek(("orders", key.account, window), window, req.now_ms)
            if count >= limit:
                reset = window - req.now_ms % window
                raise VenueError(
                    429,
                    -1015,
                    f"Too many new orders; current limit is {limit} orders per {interval}.",
                    headers={"Retry-After": str(max(1, -(-reset // 1000)))},
                )

    def _count_order(self, req: SimRequest, key: ApiKey, order: Order) -> None:
        """Add a placed order to the unfilled counts and answer them in X-MBX-ORDER-COUNT-* headers.

        rest-api.md "Unfilled Order Count": every successful order response carries the headers;
        order_count_decrement.md: an order's first fill takes one off again, a moment later (so the
        header still shows the placement).
        """
        for suffix, _limit, window, _interval in self._order_windows():
            ckey = ("orders", key.account, window)
            count = self.counters.add(ckey, window, req.now_ms, 1)
            req.response_headers[f"X-MBX-ORDER-COUNT-{suffix}"] = str(count)
            if order.fills:
                self.counters.add(ckey, window, req.now_ms, -1)
        if not order.fills and order.is_open:
            self.awaiting_first_fill.setdefault(key.account, []).append(order)

    def _credit_first_fills(self, account: str, now_ms: int) -> None:
        """A resting order's first fill (maker phase) takes one off the current intervals' counts.

        order_count_decrement.md: the FAQ says a maker's first fill may take off more than one; the
        simulator takes off one, like a taker's.
        """
        waiting = self.awaiting_first_fill.get(account)
        if not waiting:
            return
        still: list[Order] = []
        for order in waiting:
            if order.fills:
                for _suffix, _limit, window, _interval in self._order_windows():
                    self.counters.add(("orders", account, window), window, now_ms, -1)
            elif order.is_open:
                still.append(order)
        self.awaiting_first_fill[account] = still

    @route("GET", SPOT, "/api/v3/rateLimit/order", weight=40)
    async def unfilled_order_count(self, req: SimRequest) -> Any:
        """rest-api.md "Query Unfilled Order Count": every ORDERS interval with its limit and count."""
        key = self._auth(req)
        self._credit_first_fills(key.account, req.now_ms)
        return [
            {
                "rateLimitType": "ORDERS",
                "interval": interval.split()[1],
                "intervalNum": int(interval.split()[0]),
                "limit": limit,
                "count": self.counters.peek(("orders", key.account, window), window, req.now_ms),
            }
            for _suffix, limit, window, interval in self._order_windows()
        ]

    def _check_max_num_orders(self, key: ApiKey, symbol: str) -> None:
        """filters.md MAX_NUM_ORDERS: open orders per account and symbol; errors.md "Filter failures"."""
        if len(self.spot.open_orders(key.account, symbol)) >= self._max_num_orders:
            raise _err(400, -2010, "Filter failure: MAX_NUM_ORDERS")

    @staticmethod
    def _places(step: Decimal) -> int:
        return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]

    def _spot_symbol_info(self, inst: Instrument) -> dict[str, Any]:
        return {
            "symbol": inst.symbol,
            "status": "TRADING",
            "baseAsset": inst.base,
            "baseAssetPrecision": 8,
            "quoteAsset": inst.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _d(inst.min_price),
                    "maxPrice": _d(inst.max_price),
                    "tickSize": _d(inst.tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": _d(inst.min_qty),
                    "maxQty": _d(inst.max_qty),
                    "stepSize": _d(inst.step),
                },
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": _d(Decimal(0)),
                    "maxQty": _d(inst.market_max_qty),
                    "stepSize": _d(Decimal(0)),
                },
                {
                    "filterType": "TRAILING_DELTA",
                    "minTrailingAboveDelta": 10,
                    "maxTrailingAboveDelta": 2000,
                    "minTrailingBelowDelta": 10,
                    "maxTrailingBelowDelta": 2000,
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": _d(inst.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self._max_num_orders},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    @route("GET", SPOT, "/api/v3/exchangeInfo", weight=20)
    async def exchange_info(self, req: SimRequest) -> Any:
        """Spot trading rules and symbol filters (PRICE_FILTER, LOT_SIZE, NOTIONAL, ...)."""
        wanted = self._symbols_list(req, self.spot)
        single = self._symbol(req, self.spot, required=False)
        if single:
            wanted = [single]
        insts = [i for s, i in self.spot.instruments.items() if wanted is None or s in wanted]
        return {
            "timezone": "UTC",
            "serverTime": req.now_ms,
            "rateLimits": self._rate_limits(),
            "exchangeFilters": [],
            "symbols": [self._spot_symbol_info(i) for i in insts],
        }

    def _futures_symbol_info(self, inst: Instrument) -> dict[str, Any]:
        return {
            "symbol": inst.symbol,
            "pair": inst.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": inst.base,
            "quoteAsset": inst.quote,
            "marginAsset": inst.settle,
            "pricePrecision": self._places(inst.tick),
            "quantityPrecision": self._places(inst.step),
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "maxMoveOrderLimit": 10000,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": fmt(inst.min_price),
                    "maxPrice": fmt(inst.max_price),
                    "tickSize": fmt(inst.tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": fmt(inst.min_qty),
                    "maxQty": fmt(inst.max_qty),
                    "stepSize": fmt(inst.step),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": fmt(inst.min_qty),
                    "maxQty": fmt(inst.market_max_qty),
                    "stepSize": fmt(inst.step),
                },
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                {"filterType": "MIN_NOTIONAL", "notional": fmt(inst.min_notional)},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        }

    @route("GET", FAPI, "/fapi/v1/exchangeInfo", weight=1)
    async def fapi_exchange_info(self, req: SimRequest) -> Any:
        """USD-M perpetual contracts and their filters."""
        return {
            "timezone": "UTC",
            "serverTime": req.now_ms,
            "futuresType": "U_MARGINED",
            "rateLimits": self._futures_rate_limits(),
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [self._futures_symbol_info(i) for i in self.futures.instruments.values()],
        }

    @route("GET", DAPI, "/dapi/v1/exchangeInfo", weight=1)
    async def dapi_exchange_info(self, req: SimRequest) -> Any:
        """COIN-M contract list (listed so ccxt's load_markets succeeds; not tradable here)."""
        symbols = []
        for base, size, tick in (("BTC", 100, "0.1"), ("ETH", 10, "0.01")):
            symbols.append(
                {
                    "symbol": f"{base}USD_PERP",
                    "pair": f"{base}USD",
                    "contractType": "PERPETUAL",
                    "deliveryDate": 4133404800000,
                    "onboardDate": 1597042800000,
                    "contractStatus": "TRADING",
                    "contractSize": size,
                    "marginAsset": base,
                    "maintMarginPercent": "2.5000",
                    "requiredMarginPercent": "5.0000",
                    "baseAsset": base,
                    "quoteAsset": "USD",
                    "pricePrecision": 1,
                    "quantityPrecision": 0,
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "equalQtyPrecision": 4,
                    "triggerProtect": "0.0500",
                    "underlyingType": "COIN",
                    "underlyingSubType": [],
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": tick,
                            "maxPrice": "4520958",
                            "tickSize": tick,
                        },
                        {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "1000000", "stepSize": "1"},
                        {"filterType": "MARKET_LOT_SIZE", "minQty": "1", "maxQty": "60000", "stepSize": "1"},
                    ],
                    "orderTypes": ["LIMIT", "MARKET"],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
                }
            )
        return {
            "timezone": "UTC",
            "serverTime": req.now_ms,
            "rateLimits": self._futures_rate_limits(),
            "exchangeFilters": [],
            "symbols": symbols,
        }

    # ---- general endpoints ---------------------------------------------------------------------

    @route("GET", SPOT, "/api/v3/ping", weight=1)
    @route("GET", FAPI, "/fapi/v1/ping", weight=1)
    @route("GET", DAPI, "/dapi/v1/ping", weight=1)
    async def ping(self, req: SimRequest) -> Any:
        """Connectivity test."""
        return {}

    @route("GET", SPOT, "/api/v3/time", weight=1)
    @route("GET", FAPI, "/fapi/v1/time", weight=1)
    @route("GET", DAPI, "/dapi/v1/time", weight=1)
    async def server_time(self, req: SimRequest) -> Any:
        """Server time (includes the admin clock skew)."""
        return {"serverTime": req.now_ms}

    @route("GET", SPOT, "/sapi/v1/system/status", weight=1)
    async def system_status(self, req: SimRequest) -> Any:
        """0 normal, 1 system maintenance."""
        return {"status": 0, "msg": "normal"}

    # ---- market data (spot and futures share the handlers) ---------------------------------------

    def _engine(self, req: SimRequest) -> Engine:
        return self.spot if req.host == SPOT else self.futures

    def _ticker24(self, req: SimRequest, engine: Engine, symbol: str) -> dict[str, Any]:
        pm = self._pm(engine, symbol)
        stats = pm.stats_24h(req.now_ms)
        bids, asks = engine.depth(symbol, 1)
        last = pm.trades[-1] if pm.trades else None
        change = stats.close - stats.open
        pct = (change / stats.open * 100) if stats.open else Decimal(0)
        wavg = stats.quote_volume / stats.volume if stats.volume else stats.close
        first_id = pm.trades[0].trade_id if pm.trades else 0
        out: dict[str, Any] = {
            "symbol": symbol,
            "priceChange": _d(change),
            "priceChangePercent": fmt(pct, 3),
            "weightedAvgPrice": _d(wavg),
            "lastPrice": _d(stats.close),
            "lastQty": _d(last.qty if last else Decimal(0)),
            "openPrice": _d(stats.open),
            "highPrice": _d(stats.high),
            "lowPrice": _d(stats.low),
            "volume": _d(stats.volume),
            "quoteVolume": _d(stats.quote_volume),
            "openTime": req.now_ms - 86_400_000,
            "closeTime": req.now_ms,
            "firstId": first_id,
            "lastId": last.trade_id if last else 0,
            "count": stats.trades,
        }
        if engine is self.spot:
            out.update(
                {
                    "prevClosePrice": _d(stats.open),
                    "bidPrice": _d(bids[0][0]),
                    "bidQty": _d(bids[0][1]),
                    "askPrice": _d(asks[0][0]),
                    "askQty": _d(asks[0][1]),
                }
            )
        return out

    @route("GET", SPOT, "/api/v3/ticker/24hr", weight=2)
    @route("GET", FAPI, "/fapi/v1/ticker/24hr", weight=1)
    async def ticker_24hr(self, req: SimRequest) -> Any:
        """24h rolling statistics for one symbol, a `symbols` list, or all."""
        engine = self._engine(req)
        single = self._symbol(req, engine, required=False)
        if single:
            return self._ticker24(req, engine, single)
        listed = self._symbols_list(req, engine) if engine is self.spot else None
        symbols = listed if listed is not None else list(engine.instruments)
        req.weight = (80 if listed is None else min(80, 2 * len(symbols))) if engine is self.spot else 40
        return [self._ticker24(req, engine, s) for s in symbols]

    @route("GET", SPOT, "/api/v3/ticker/price", weight=2)
    @route("GET", FAPI, "/fapi/v1/ticker/price", weight=1)
    @route("GET", FAPI, "/fapi/v2/ticker/price", weight=1)
    async def ticker_price(self, req: SimRequest) -> Any:
        """Last price for one symbol or all."""
        engine = self._engine(req)

        def one(s: str) -> dict[str, Any]:
            row: dict[str, Any] = {"symbol": s, "price": _d(engine.last_price(s))}
            if engine is self.futures:
                row["time"] = req.now_ms
            return row

        single = self._symbol(req, engine, required=False)
        if single:
            return one(single)
        req.weight = 4 if engine is self.spot else 2
        return [one(s) for s in self._symbols_list(req, engine) or engine.instruments]

    @route("GET", SPOT, "/api/v3/ticker/bookTicker", weight=2)
    @route("GET", FAPI, "/fapi/v1/ticker/bookTicker", weight=2)
    async def book_ticker(self, req: SimRequest) -> Any:
        """Best bid/ask for one symbol or all."""
        engine = self._engine(req)

        def one(s: str) -> dict[str, Any]:
            bids, asks = engine.depth(s, 1)
            row: dict[str, Any] = {
                "symbol": s,
                "bidPrice": _d(bids[0][0]),
                "bidQty": _d(bids[0][1]),
                "askPrice": _d(asks[0][0]),
                "askQty": _d(asks[0][1]),
            }
            if engine is self.futures:
                row.update({"time": req.now_ms, "lastUpdateId": self.market.tick})
            return row

        single = self._symbol(req, engine, required=False)
        if single:
            return one(single)
        req.weight = 4 if engine is self.spot else 5
        return [one(s) for s in self._symbols_list(req, engine) or engine.instruments]

    @route("GET", SPOT, "/api/v3/avgPrice", weight=2)
    async def avg_price(self, req: SimRequest) -> Any:
        """Average price over the last 5 minutes."""
        sym = self._symbol(req, self.spot)
        assert sym is not None
        candles = self._pm(self.spot, sym).klines(MINUTE_MS, limit=5)
        avg = sum((c.close for c in candles), Decimal(0)) / max(1, len(candles))
        return {"mins": 5, "price": _d(avg), "closeTime": req.now_ms}

    @route("GET", SPOT, "/api/v3/depth", weight=5)
    @route("GET", FAPI, "/fapi/v1/depth", weight=5)
    async def depth(self, req: SimRequest) -> Any:
        """Order book: synthetic liquidity plus resting user orders."""
        engine = self._engine(req)
        sym = self._symbol(req, engine)
        assert sym is not None
        limit = self._limit(req, 100, 5000)
        if engine is self.spot:
            req.weight = 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
        else:
            req.weight = 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20
        # the diff depth streams sequence the same book, so lastUpdateId lines up with their U/u
        last_id, bids, asks = self.book_snapshot(engine, sym, limit)
        out: dict[str, Any] = {
            "lastUpdateId": last_id,
            "bids": [[_d(p), _d(q)] for p, q in bids],
            "asks": [[_d(p), _d(q)] for p, q in asks],
        }
        if engine is self.futures:
            out.update({"E": req.now_ms, "T": req.now_ms})
        return out

    @route("GET", SPOT, "/api/v3/klines", weight=2)
    @route("GET", SPOT, "/api/v3/uiKlines", weight=2)
    @route("GET", FAPI, "/fapi/v1/klines", weight=5)
    @route("GET", FAPI, "/fapi/v1/markPriceKlines", weight=5)
    @route("GET", FAPI, "/fapi/v1/indexPriceKlines", weight=5)
    async def klines(self, req: SimRequest) -> Any:
        """Candles aggregated from the simulated 1m series."""
        engine = self._engine(req)
        if engine is self.futures and "symbol" not in req.params and "pair" in req.params:
            # index-price klines name the pair, which equals the perpetual's symbol here
            sym = req.params["pair"] if req.params["pair"] in engine.instruments else None
            if sym is None:
                raise _err(400, -1121, "Invalid symbol.")
        else:
            sym = self._symbol(req, engine)
        assert sym is not None
        interval = req.params.get("interval")
        if not interval:
            raise _mandatory("interval")
        if interval not in INTERVALS_MS:
            raise _err(400, -1120, "Invalid interval.")
        limit = self._limit(req, 500, 1000 if engine is self.spot else 1500)
        if engine is self.futures:
            req.weight = 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10
        step = INTERVALS_MS[interval] * MINUTE_MS
        start = self._int(req, "startTime")
        end = self._int(req, "endTime")
        candles = self._pm(engine, sym).klines(step, start, end, limit)
        return [
            [
                c.open_ms,
                _d(c.open),
                _d(c.high),
                _d(c.low),
                _d(c.close),
                _d(c.volume),
                c.open_ms + step - 1,
                _d(c.quote_volume),
                c.trades,
                _d(c.volume / 2),
                _d(c.quote_volume / 2),
                "0",
            ]
            for c in candles
        ]

    @route("GET", SPOT, "/api/v3/trades", weight=25)
    @route("GET", FAPI, "/fapi/v1/trades", weight=5)
    async def trades(self, req: SimRequest) -> Any:
        """Recent public trades."""
        engine = self._engine(req)
        sym = self._symbol(req, engine)
        assert sym is not None
        limit = self._limit(req, 500, 1000)
        rows = list(self._pm(engine, sym).trades)[-limit:]
        return [
            {
                "id": t.trade_id,
                "price": _d(t.price),
                "qty": _d(t.qty),
                "quoteQty": _d(t.price * t.qty),
                "time": t.time_ms,
                "isBuyerMaker": t.buyer_maker,
                "isBestMatch": True,
            }
            for t in rows
        ]

    @route("GET", SPOT, "/api/v3/aggTrades", weight=4)
    @route("GET", FAPI, "/fapi/v1/aggTrades", weight=20)
    async def agg_trades(self, req: SimRequest) -> Any:
        """Compressed trades (one trade per aggregate here)."""
        engine = self._engine(req)
        sym = self._symbol(req, engine)
        assert sym is not None
        limit = self._limit(req, 500, 1000)
        start = self._int(req, "startTime")
        end = self._int(req, "endTime")
        rows = [
            t
            for t in self._pm(engine, sym).trades
            if (start is None or t.time_ms >= start) and (end is None or t.time_ms <= end)
        ]
        rows = rows[:limit] if start is not None else rows[-limit:]
        return [
            {
                "a": t.trade_id,
                "p": _d(t.price),
                "q": _d(t.qty),
                "f": t.trade_id,
                "l": t.trade_id,
                "T": t.time_ms,
                "m": t.buyer_maker,
                "M": True,
            }
            for t in rows
        ]

    @route("GET", FAPI, "/fapi/v1/premiumIndex", weight=1)
    async def premium_index(self, req: SimRequest) -> Any:
        """Mark Price and Funding Rate: mark, index, the predicted rate and the next funding time."""
        sym = self._symbol(req, self.futures, required=False)
        now = self.now_ms()

        def one(s: str) -> dict[str, Any]:
            mark = self.risk.mark(s, now)
            return {
                "symbol": s,
                "markPrice": _d(mark),
                "indexPrice": _d(self.risk.index(s, now)),
                "estimatedSettlePrice": _d(mark),
                "lastFundingRate": _d(self.risk.predicted_rate(s, now)),
                "interestRate": _d(self.risk.rules.interest),
                "nextFundingTime": self.risk.next_funding(now),
                "time": now,
            }

        return one(sym) if sym else [one(s) for s in self.futures.instruments]

    @route("GET", FAPI, "/fapi/v1/fundingRate", weight=1)
    async def funding_rate_history(self, req: SimRequest) -> Any:
        """Get Funding Rate History: ascending; without startTime/endTime the most recent `limit`
        (default 100, max 1000); with both and more rows than `limit`, startTime + limit."""
        sym = self._symbol(req, self.futures)
        assert sym is not None
        limit = self._limit(req, 100, 1000)
        start, end = self._int(req, "startTime"), self._int(req, "endTime")
        events = self.risk.history(sym, start, end, limit)
        return [
            {
                "symbol": e.symbol,
                "fundingRate": _d(e.rate),
                "fundingTime": e.time_ms,
                "markPrice": _d(e.mark),
            }
            for e in events
        ]

    # ---- sapi: key permissions, wallet ------------------------------------------------------------

    @route("GET", SPOT, "/sapi/v1/account/apiRestrictions", weight=1)
    async def api_restrictions(self, req: SimRequest) -> Any:
        """What this key may do (USER_DATA; any valid key may ask)."""
        key = self._auth(req, perm=None)
        return {
            "ipRestrict": bool(key.ip_whitelist),
            "createTime": key.created_ms,
            "enableReading": key.has("read"),
            "enableSpotAndMarginTrading": key.has("spot_trade"),
            "enableWithdrawals": key.has("withdraw"),
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": key.has("futures_trade"),
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enablePortfolioMarginTrading": False,
            **({"tradingAuthorityExpirationTime": key.expires_ms} if key.expires_ms else {}),
        }

    @route("GET", SPOT, "/sapi/v1/capital/config/getall", weight=10)
    async def capital_config(self, req: SimRequest) -> Any:
        """All coins with the key's balances and their networks."""
        key = self._auth(req)
        acc = self.wallets.ensure(key.account)
        assets = sorted({a for s in self.pairs for a in (s.base, s.quote)} | set(acc))
        out = []
        for asset in assets:
            bal = acc.get(asset)
            network = {
                "network": asset if asset != "USDT" else "ETH",
                "coin": asset,
                "withdrawIntegerMultiple": "0.00000001",
                "isDefault": True,
                "depositEnable": True,
                "withdrawEnable": True,
                "depositDesc": "",
                "withdrawDesc": "",
                "specialTips": "",
                "name": asset,
                "resetAddressStatus": False,
                "addressRegex": "^[0-9A-Za-z]{20,64}$",
                "memoRegex": "",
                "withdrawFee": "0.0005",
                "withdrawMin": "0.001",
                "withdrawMax": "10000000",
                "minConfirm": 1,
                "unLockConfirm": 0,
                "sameAddress": False,
                "estimatedArrivalTime": 5,
                "busy": False,
                "contractAddressUrl": "",
                "contractAddress": "",
            }
            out.append(
                {
                    "coin": asset,
                    "depositAllEnable": True,
                    "withdrawAllEnable": True,
                    "name": asset,
                    "free": _d(bal.free if bal else Decimal(0)),
                    "locked": _d(bal.locked if bal else Decimal(0)),
                    "freeze": "0",
                    "withdrawing": "0",
                    "ipoing": "0",
                    "ipoable": "0",
                    "storage": "0",
                    "isLegalMoney": False,
                    "trading": True,
                    "networkList": [network],
                }
            )
        return out

    @route("GET", SPOT, "/sapi/v1/margin/allPairs", weight=1)
    @route("GET", SPOT, "/sapi/v1/margin/isolated/allPairs", weight=10)
    async def margin_pairs(self, req: SimRequest) -> Any:
        """Margin pairs: none are offered by the simulator (MARKET_DATA: key only)."""
        self._auth(req, perm=None, signed=False)
        return []

    @route("POST", SPOT, "/sapi/v1/capital/withdraw/apply", weight=1)
    async def withdraw(self, req: SimRequest) -> Any:
        """Withdraw: refused with -1002 unless the key has the withdraw permission."""
        key = self._auth(req, perm=None)
        if not key.has("withdraw"):
            raise _err(401, -1002, "You are not authorized to execute this request.")
        coin = req.params.get("coin")
        if not coin:
            raise _mandatory("coin")
        if not req.params.get("address"):
            raise _mandatory("address")
        amount = self._decimal(req, "amount", required=True)
        assert amount is not None
        if amount <= 0:
            raise _illegal("amount")
        bal = self.wallets.get(key.account, coin)
        if bal.free < amount:
            raise _err(400, -4026, "User has insufficient balance")
        bal.free -= amount
        wid = secrets.token_hex(16)
        self.withdrawals.append(
            {
                "id": wid,
                "account": key.account,
                "coin": coin,
                "amount": str(amount),
                "address": req.params["address"],
                "time": req.now_ms,
            }
        )
        return {"id": wid}

    # ---- spot account and orders -----------------------------------------------------------------

    @route("GET", SPOT, "/api/v3/account", weight=20)
    async def account(self, req: SimRequest) -> Any:
        """Spot balances and commission rates."""
        key = self._auth(req)
        acc = self.wallets.ensure(key.account)
        omit_zero = req.params.get("omitZeroBalances") == "true"
        balances = [
            {"asset": a, "free": _d(b.free), "locked": _d(b.locked)}
            for a, b in sorted(acc.items())
            if not (omit_zero and b.total == 0)
        ]
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            # the Spot Testnet has no wallet: nothing can be withdrawn there, and no /sapi to ask the key
            "canTrade": key.has("spot_trade") if req.testnet else True,
            "canWithdraw": not req.testnet,
            "canDeposit": not req.testnet,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": req.now_ms,
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": int.from_bytes(key.account.encode()[-6:], "big") % 10**9,
        }

    def _spot_order(self, o: Order, now_ms: int | None = None) -> dict[str, Any]:
        return {
            "symbol": o.symbol,
            "orderId": o.order_id,
            "orderListId": -1,
            "clientOrderId": o.client_order_id,
            "price": _d(o.price or Decimal(0)),
            "origQty": _d(o.qty if o.qty is not None else o.executed_qty),
            "executedQty": _d(o.executed_qty),
            "cummulativeQuoteQty": _d(o.cum_quote),
            "status": o.status.value,
            "timeInForce": "GTC" if o.tif is TIF.GTX else o.tif.value,
            "type": "LIMIT_MAKER" if o.tif is TIF.GTX else o.type.value,
            "side": o.side.value,
            "stopPrice": _d(Decimal(0)),
            "icebergQty": _d(Decimal(0)),
            "time": o.created_ms,
            "updateTime": o.updated_ms,
            "isWorking": True,
            "workingTime": o.created_ms,
            "origQuoteOrderQty": _d(o.quote_qty or Decimal(0)),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _reject(self, exc: OrderRejected, futures: bool, inst: Instrument | None = None) -> VenueError:
        r = exc.reason
        if futures:
            mapping: dict[Reject, tuple[int, str]] = {
                Reject.PRICE_FILTER: (-4014, "Price not increased by tick size."),
                Reject.LOT_SIZE: (-1111, "Precision is over the maximum defined for this asset."),
                Reject.MARKET_LOT_SIZE: (-4005, "Quantity greater than max quantity."),
                Reject.MIN_NOTIONAL: (
                    -4164,
                    "Order's notional must be no smaller than "
                    f"{fmt(inst.min_notional) if inst else '5'} "
                    "(unless you choose reduce only).",
                ),
                Reject.INSUFFICIENT_BALANCE: (-2019, "Margin is insufficient."),
                Reject.NO_LIQUIDITY: (
                    -5021,
                    "Due to the order could not be filled immediately, the FOK order "
                    "has been rejected. The order will not be recorded in the order "
                    "history",
                ),
                Reject.POST_ONLY_WOULD_TAKE: (
                    -5022,
                    "Due to the order could not be executed as maker, the Post "
                    "Only order will be rejected. The order will not be "
                    "recorded in the order history",
                ),
                Reject.REDUCE_ONLY: (-2022, "ReduceOnly Order is rejected."),
                Reject.DUPLICATE_CLIENT_ID: (-4116, "ClientOrderId is duplicated."),
                Reject.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
            }
        else:
            mapping = {
                Reject.PRICE_FILTER: (-1013, "Filter failure: PRICE_FILTER"),
                Reject.LOT_SIZE: (-1013, "Filter failure: LOT_SIZE"),
                Reject.MARKET_LOT_SIZE: (-1013, "Filter failure: MARKET_LOT_SIZE"),
                Reject.MIN_NOTIONAL: (-1013, "Filter failure: NOTIONAL"),
                Reject.INSUFFICIENT_BALANCE: (
                    -2010,
                    "Account has insufficient balance for requested action.",
                ),
                Reject.NO_LIQUIDITY: (
                    -2010,
                    "Order book liquidity is less than LOT_SIZE filter minimum quantity.",
                ),
                Reject.POST_ONLY_WOULD_TAKE: (-2010, "Order would immediately match and take."),
                Reject.DUPLICATE_CLIENT_ID: (-2010, "Duplicate order sent."),
                Reject.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
            }
        code, msg = mapping.get(r, (-1102, exc.detail or "Order rejected."))
        return _err(400, code, msg)

    def _parse_new_order(self, req: SimRequest, engine: Engine) -> dict[str, Any]:
        sym = self._symbol(req, engine)
        assert sym is not None
        side_raw = req.params.get("side")
        if not side_raw:
            raise _mandatory("side")
        if side_raw not in ("BUY", "SELL"):
            raise _err(400, -1117, "Invalid side.")
        type_raw = req.params.get("type")
        if not type_raw:
            raise _mandatory("type")
        allowed = ("LIMIT", "MARKET", "LIMIT_MAKER") if engine is self.spot else ("LIMIT", "MARKET")
        if type_raw not in allowed:
            if type_raw in (
                "STOP_LOSS",
                "STOP_LOSS_LIMIT",
                "TAKE_PROFIT",
                "TAKE_PROFIT_LIMIT",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ):
                raise _err(400, -1116, "Invalid orderType.")  # conditional orders are not simulated
            raise _err(400, -1116, "Invalid orderType.")
        qty = self._decimal(req, "quantity")
        quote_qty = self._decimal(req, "quoteOrderQty") if engine is self.spot else None
        price = self._decimal(req, "price")
        tif_raw = req.params.get("timeInForce")
        cid = req.params.get("newClientOrderId")
        if cid is not None and not CLIENT_ID_RE.match(cid):
            raise _illegal("newClientOrderId")
        tif = TIF.GTC
        if type_raw == "LIMIT":
            if not tif_raw:
                raise _mandatory("timeInForce")
            if tif_raw not in ("GTC", "IOC", "FOK") + (("GTX",) if engine is self.futures else ()):
                raise _err(400, -1115, "Invalid timeInForce.")
            if qty is None:
                raise _mandatory("quantity")
            if price is None:
                raise _mandatory("price")
            tif = TIF(tif_raw)
        elif type_raw == "LIMIT_MAKER":
            if qty is None:
                raise _mandatory("quantity")
            if price is None:
                raise _mandatory("price")
            tif = TIF.GTX
        else:
            if tif_raw:
                raise _err(400, -1106, "Parameter 'timeInForce' sent when not required.")
            if price is not None and engine is self.spot:
                raise _err(400, -1106, "Parameter 'price' sent when not required.")
            if qty is None and quote_qty is None:
                raise _err(
                    400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
                )
            if qty is not None and quote_qty is not None:
                raise _err(400, -1106, "Parameter 'quoteOrderQty' sent when not required.")
            tif = TIF.IOC
        return {
            "symbol": sym,
            "side": Side(side_raw),
            "type": OrdType.MARKET if type_raw == "MARKET" else OrdType.LIMIT,
            "qty": qty,
            "price": price if type_raw != "MARKET" else None,
            "quote_qty": quote_qty,
            "tif": tif,
            "cid": cid,
        }

    @route("POST", SPOT, "/api/v3/order", weight=1)
    async def spot_new_order(self, req: SimRequest) -> Any:
        """Place a spot LIMIT / LIMIT_MAKER / MARKET (quantity or quoteOrderQty) order."""
        key = self._auth(req, perm="spot_trade")
        p = self._parse_new_order(req, self.spot)
        resp_type = req.params.get("newOrderRespType", "FULL")
        if resp_type not in ("ACK", "RESULT", "FULL"):
            raise _err(400, -1136, "Invalid newOrderRespType")
        self._check_order_count(req, key)
        self._check_max_num_orders(key, p["symbol"])
        try:
            order = self.spot.new_order(
                key.account,
                p["symbol"],
                p["side"],
                p["type"],
                qty=p["qty"],
                price=p["price"],
                quote_qty=p["quote_qty"],
                tif=p["tif"],
                client_order_id=p["cid"],
                # enums.md order status EXPIRED: a LIMIT FOK with no fill is accepted, then expired
                unfillable=Status.EXPIRED if p["tif"] is TIF.FOK else None,
            )
        except OrderRejected as exc:
            raise self._reject(exc, futures=False) from exc
        self._count_order(req, key, order)
        ack = {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "transactTime": order.created_ms,
        }
        if resp_type == "ACK":
            return ack
        full = self._spot_order(order)
        result = {
            **ack,
            **{
                k: full[k]
                for k in (
                    "price",
                    "origQty",
                    "executedQty",
                    "origQuoteOrderQty",
                    "cummulativeQuoteQty",
                    "status",
                    "timeInForce",
                    "type",
                    "side",
                    "workingTime",
                    "selfTradePreventionMode",
                )
            },
        }
        if resp_type == "FULL":
            result["fills"] = [
                {
                    "price": _d(f.price),
                    "qty": _d(f.qty),
                    "commission": _d(f.fee),
                    "commissionAsset": f.fee_asset,
                    "tradeId": f.trade_id,
                }
                for f in order.fills
            ]
        return result

    def _find(self, req: SimRequest, engine: Engine, key: ApiKey, missing: VenueError) -> Order:
        sym = self._symbol(req, engine)
        oid = self._int(req, "orderId")
        cid = req.params.get("origClientOrderId")
        if oid is None and not cid:
            raise _err(
                400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
            )
        try:
            return engine.find(key.account, sym, oid, cid if oid is None else None)
        except OrderNotFound as exc:
            raise missing from exc

    @route("GET", SPOT, "/api/v3/order", weight=4)
    async def spot_get_order(self, req: SimRequest) -> Any:
        """Query one order by orderId or origClientOrderId."""
        key = self._auth(req)
        return self._spot_order(self._find(req, self.spot, key, _err(400, -2013, "Order does not exist.")))

    @route("DELETE", SPOT, "/api/v3/order", weight=1)
    async def spot_cancel_order(self, req: SimRequest) -> Any:
        """Cancel an open order; unknown or closed → -2011."""
        key = self._auth(req, perm="spot_trade")
        unknown = _err(400, -2011, "Unknown order sent.")
        order = self._find(req, self.spot, key, unknown)
        try:
            self.spot.cancel(key.account, order.symbol, order.order_id)
        except (OrderNotFound, CancelRejected) as exc:
            raise unknown from exc
        out = self._spot_order(order)
        return {
            "symbol": order.symbol,
            "origClientOrderId": order.client_order_id,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": req.params.get("newClientOrderId") or order.client_order_id,
            "transactTime": req.now_ms,
            **{
                k: out[k]
                for k in (
                    "price",
                    "origQty",
                    "executedQty",
                    "cummulativeQuoteQty",
                    "status",
                    "timeInForce",
                    "type",
                    "side",
                    "selfTradePreventionMode",
                )
            },
        }

    @route("DELETE", SPOT, "/api/v3/openOrders", weight=1)
    async def spot_cancel_all(self, req: SimRequest) -> Any:
        """Cancel every open order on a symbol."""
        key = self._auth(req, perm="spot_trade")
        sym = self._symbol(req, self.spot)
        orders = self.spot.cancel_all(key.account, sym)
        if not orders:
            raise _err(400, -2011, "Unknown order sent.")
        return [{**self._spot_order(o), "origClientOrderId": o.client_order_id} for o in orders]

    @route("GET", SPOT, "/api/v3/openOrders", weight=6)
    async def spot_open_orders(self, req: SimRequest) -> Any:
        """Open orders of one symbol (weight 6) or all (weight 80)."""
        key = self._auth(req)
        sym = self._symbol(req, self.spot, required=False)
        if sym is None:
            req.weight = 80
        return [self._spot_order(o) for o in self.spot.open_orders(key.account, sym)]

    @route("GET", SPOT, "/api/v3/allOrders", weight=20)
    async def spot_all_orders(self, req: SimRequest) -> Any:
        """All orders of a symbol, oldest first."""
        key = self._auth(req)
        sym = self._symbol(req, self.spot)
        limit = self._limit(req, 500, 1000)
        start = self._int(req, "startTime")
        from_id = self._int(req, "orderId")
        rows = [
            o
            for o in self.spot.all_orders(key.account, sym)
            if (from_id is None or o.order_id >= from_id) and (start is None or o.created_ms >= start)
        ]
        return [self._spot_order(o) for o in rows[:limit]]

    @route("GET", SPOT, "/api/v3/myTrades", weight=20)
    async def spot_my_trades(self, req: SimRequest) -> Any:
        """The account's fills on a symbol."""
        key = self._auth(req)
        sym = self._symbol(req, self.spot)
        limit = self._limit(req, 500, 1000)
        oid = self._int(req, "orderId")
        start = self._int(req, "startTime")
        from_id = self._int(req, "fromId")
        fills = [
            f
            for f in self.spot.fills(key.account, sym)
            if (oid is None or f.order_id == oid)
            and (start is None or f.time_ms >= start)
            and (from_id is None or f.trade_id >= from_id)
        ]
        return [
            {
                "symbol": f.symbol,
                "id": f.trade_id,
                "orderId": f.order_id,
                "orderListId": -1,
                "price": _d(f.price),
                "qty": _d(f.qty),
                "quoteQty": _d(f.quote_qty),
                "commission": _d(f.fee),
                "commissionAsset": f.fee_asset,
                "time": f.time_ms,
                "isBuyer": f.side is Side.BUY,
                "isMaker": f.is_maker,
                "isBestMatch": True,
            }
            for f in fills[:limit]
        ]

    # Spot's POST/PUT/DELETE /api/v3/userDataStream are not served: spot CHANGELOG 2026-01-21 says they
    # are no longer available from 2026-02-20 07:00 UTC (user data now comes over the WebSocket API),
    # so they answer like any path Binance does not serve (404).
    @route("POST", FAPI, "/fapi/v1/listenKey", weight=1)
    @route("PUT", FAPI, "/fapi/v1/listenKey", weight=1)
    @route("DELETE", FAPI, "/fapi/v1/listenKey", weight=1)
    async def listen_key(self, req: SimRequest) -> Any:
        """USD-M user-data stream keys (USER_STREAM: API key only); streams themselves are not simulated.

        Derivatives "User Data Streams": a listenKey lives 60 minutes; POST returns the active one and
        extends it; PUT extends it; PUT or DELETE when the account has no live listenKey (never created,
        closed or expired) answers -1125 "This listenKey does not exist." (POST makes a new one).
        """
        key = self._auth(req, perm=None, signed=False)
        live = self.listen_keys.get(key.api_key)
        if live is not None and self.listen_key_expiry.get(live, 0) <= req.now_ms:
            self.listen_keys.pop(key.api_key, None)
            live = None
        if req.method == "POST":
            lk = live or secrets.token_hex(32)
            self.listen_keys[key.api_key] = lk
            self.listen_key_expiry[lk] = req.now_ms + LISTEN_KEY_TTL_MS
            return {"listenKey": lk}
        sent = req.params.get("listenKey")
        if live is None or (sent is not None and sent != live):
            raise _err(400, -1125, "This listenKey does not exist.")
        if req.method == "DELETE":
            self.listen_keys.pop(key.api_key, None)
            self.listen_key_expiry.pop(live, None)
            return {}
        self.listen_key_expiry[live] = req.now_ms + LISTEN_KEY_TTL_MS
        return {"listenKey": live}

    # ---- USD-M futures account and orders ----------------------------------------------------------

    def _fauth(self, req: SimRequest, trade: bool = False) -> ApiKey:
        """Futures needs the key's futures permission (enableFutures) for every private call."""
        key = self._auth(req, perm="read")
        if not key.has("futures_trade"):
            raise self._invalid_key(req)
        return key

    def _position_row(self, key: ApiKey, symbol: str, v3: bool, now: int) -> dict[str, Any]:
        pos = self.perps.position(key.account, symbol)
        mark = self.risk.mark(symbol, now)
        lev = self.perps.leverage(key.account, symbol)
        upnl = (mark - pos.entry) * pos.qty if pos.qty else Decimal(0)
        notional = pos.qty * mark
        acc = self.perps.account(key.account)
        im = self.perps.initial_margin(acc, symbol, pos) if pos.qty else Decimal(0)
        liq = self.perps.liquidation_price(key.account, symbol)
        isolated = pos.isolated if pos.qty else self.perps.margin_mode(key.account, symbol) == "isolated"
        iso_wallet = pos.margin if pos.qty and pos.isolated else Decimal(0)
        row: dict[str, Any] = {
            "symbol": symbol,
            "positionSide": "BOTH",
            "positionAmt": fmt(pos.qty, 3),
            "entryPrice": fmt(pos.entry, 8),
            "breakEvenPrice": fmt(pos.entry, 8),
            "markPrice": fmt(mark, 8),
            "unRealizedProfit": fmt(upnl, 8),
            "liquidationPrice": fmt(liq, 8),
            # positionRisk: isolatedMargin = isolated wallet + unrealized PnL; both 0 for cross
            "isolatedMargin": fmt(iso_wallet + upnl if iso_wallet else Decimal(0), 8),
            "notional": fmt(notional, 8),
            "isolatedWallet": fmt(iso_wallet, 8),
            "updateTime": pos.updated_ms if pos.qty else 0,
        }
        if v3:
            row.update(
                {
                    "marginAsset": "USDT",
                    "initialMargin": fmt(im, 8),
                    "maintMargin": fmt(abs(notional) * self.perps.mmr, 8),
                    "positionInitialMargin": fmt(im, 8),
                    "openOrderInitialMargin": "0",
                    "adl": 0,
                    "bidNotional": "0",
                    "askNotional": "0",
                }
            )
        else:
            row.update(
                {
                    "leverage": str(lev),
                    "marginType": "isolated" if isolated else "cross",
                    "isAutoAddMargin": "false",
                    "maxNotionalValue": "10000000",
                }
            )
        return row

    def _futures_totals(self, key: ApiKey) -> dict[str, Decimal]:
        acc = self.perps.account(key.account)
        upnl = self.perps.unrealized(acc)
        pos_margin = self.perps.position_margin(acc)
        available = self.perps.available(acc)
        return {
            "wallet": acc.wallet,
            "upnl": upnl,
            "margin_balance": acc.wallet + upnl,
            "position_margin": pos_margin,
            "order_margin": acc.order_margin,
            "initial": pos_margin + acc.order_margin,
            "available": available,
            "maint": sum((self.perps.maintenance(p, s) for s, p in acc.positions.items()), Decimal(0)),
            # isolated margins are wallet money set aside: the cross wallet is what is left
            "cross_wallet": acc.wallet - self.perps.isolated_margin(acc),
            "cross_upnl": self.perps.unrealized(acc, cross_only=True),
        }

    @route("GET", FAPI, "/fapi/v2/account", weight=5)
    @route("GET", FAPI, "/fapi/v3/account", weight=5)
    async def fapi_account(self, req: SimRequest) -> Any:
        """Futures account: totals, per-asset balances and positions."""
        key = self._fauth(req)
        t = self._futures_totals(key)
        v3 = req.path.startswith("/fapi/v3/")
        asset = {
            "asset": "USDT",
            "walletBalance": _d(t["wallet"]),
            "unrealizedProfit": _d(t["upnl"]),
            "marginBalance": _d(t["margin_balance"]),
            "maintMargin": _d(t["maint"]),
            "initialMargin": _d(t["initial"]),
            "positionInitialMargin": _d(t["position_margin"]),
            "openOrderInitialMargin": _d(t["order_margin"]),
            "crossWalletBalance": _d(t["cross_wallet"]),
            "crossUnPnl": _d(t["cross_upnl"]),
            "availableBalance": _d(t["available"]),
            "maxWithdrawAmount": _d(t["available"]),
            "marginAvailable": True,
            "updateTime": req.now_ms,
        }
        acc = self.perps.account(key.account)
        positions = [
            self._position_row(key, s, True, req.now_ms) for s, p in acc.positions.items() if p.qty or not v3
        ]
        out: dict[str, Any] = {
            "totalInitialMargin": _d(t["initial"]),
            "totalMaintMargin": _d(t["maint"]),
            "totalWalletBalance": _d(t["wallet"]),
            "totalUnrealizedProfit": _d(t["upnl"]),
            "totalMarginBalance": _d(t["margin_balance"]),
            "totalPositionInitialMargin": _d(t["position_margin"]),
            "totalOpenOrderInitialMargin": _d(t["order_margin"]),
            "totalCrossWalletBalance": _d(t["cross_wallet"]),
            "totalCrossUnPnl": _d(t["cross_upnl"]),
            "availableBalance": _d(t["available"]),
            "maxWithdrawAmount": _d(t["available"]),
            "assets": [asset],
            "positions": positions,
        }
        if not v3:
            out.update(
                {
                    "feeTier": 0,
                    "canTrade": True,
                    "canDeposit": True,
                    "canWithdraw": True,
                    "updateTime": 0,
                    "multiAssetsMargin": False,
                    "tradeGroupId": -1,
                }
            )
        return out

    @route("GET", FAPI, "/fapi/v2/balance", weight=5)
    @route("GET", FAPI, "/fapi/v3/balance", weight=5)
    async def fapi_balance(self, req: SimRequest) -> Any:
        """Futures balances per asset."""
        key = self._fauth(req)
        t = self._futures_totals(key)
        return [
            {
                "accountAlias": "SgsR",
                "asset": "USDT",
                "balance": _d(t["wallet"]),
                "crossWalletBalance": _d(t["cross_wallet"]),
                "crossUnPnl": _d(t["cross_upnl"]),
                "availableBalance": _d(t["available"]),
                "maxWithdrawAmount": _d(t["available"]),
                "marginAvailable": True,
                "updateTime": req.now_ms,
            }
        ]

    @route("GET", FAPI, "/fapi/v2/positionRisk", weight=5)
    @route("GET", FAPI, "/fapi/v3/positionRisk", weight=5)
    async def fapi_position_risk(self, req: SimRequest) -> Any:
        """Positions (v2: every symbol; v3: only open positions)."""
        key = self._fauth(req)
        sym = self._symbol(req, self.futures, required=False)
        v3 = req.path.startswith("/fapi/v3/")
        acc = self.perps.account(key.account)
        symbols = [sym] if sym else list(self.futures.instruments)
        return [
            self._position_row(key, s, v3, req.now_ms)
            for s in symbols
            if not v3 or (s in acc.positions and acc.positions[s].qty)
        ]

    def _futures_order(self, o: Order) -> dict[str, Any]:
        if o.extra.get("liquidation"):
            # "User's Force Orders": the liquidation engine's orders are IOC limits at the price it
            # closed at, with a client id starting "autoclose-"
            row = self._futures_order_row(o)
            row["reduceOnly"] = False  # as the documented example shows it
            row.update(
                {"type": "LIMIT", "origType": "LIMIT", "timeInForce": "IOC", "price": fmt(o.avg_price)}
            )
            return row
        return self._futures_order_row(o)

    def _futures_order_row(self, o: Order) -> dict[str, Any]:
        return {
            "orderId": o.order_id,
            "symbol": o.symbol,
            "status": o.status.value,
            "clientOrderId": o.client_order_id,
            "price": fmt(o.price or Decimal(0)),
            "avgPrice": fmt(o.avg_price),
            "origQty": fmt(o.qty if o.qty is not None else o.executed_qty),
            "executedQty": fmt(o.executed_qty),
            "cumQty": fmt(o.executed_qty),
            "cumQuote": fmt(o.cum_quote),
            "timeInForce": o.tif.value,
            "type": o.type.value,
            "reduceOnly": o.reduce_only,
            "closePosition": False,
            "side": o.side.value,
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": o.type.value,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": o.created_ms,
            "updateTime": o.updated_ms,
        }

    @route("POST", FAPI, "/fapi/v1/order", weight=1)
    async def fapi_new_order(self, req: SimRequest) -> Any:
        """Place a futures LIMIT/MARKET order (one-way mode)."""
        key = self._fauth(req, trade=True)
        p = self._parse_new_order(req, self.futures)
        if p["qty"] is None:
            raise _mandatory("quantity")
        reduce_only = req.params.get("reduceOnly", "false").lower() == "true"
        pos_side = req.params.get("positionSide", "BOTH")
        if pos_side != "BOTH":
            raise _err(400, -4061, "Order's position side does not match user's setting.")
        inst = self.futures.instruments[p["symbol"]]
        if p["qty"] <= 0:
            raise _err(400, -4003, "Quantity less than or equal to zero.")
        try:
            order = self.futures.new_order(
                key.account,
                p["symbol"],
                p["side"],
                p["type"],
                qty=p["qty"],
                price=p["price"],
                tif=p["tif"],
                client_order_id=p["cid"],
                reduce_only=reduce_only,
            )
        except OrderRejected as exc:
            if exc.reason is Reject.MIN_NOTIONAL and reduce_only:
                raise _err(400, -2022, "ReduceOnly Order is rejected.") from exc
            raise self._reject(exc, futures=True, inst=inst) from exc
        return self._futures_order(order)

    @route("GET", FAPI, "/fapi/v1/order", weight=1)
    async def fapi_get_order(self, req: SimRequest) -> Any:
        """Query one futures order."""
        key = self._fauth(req)
        return self._futures_order(
            self._find(req, self.futures, key, _err(400, -2013, "Order does not exist."))
        )

    @route("DELETE", FAPI, "/fapi/v1/order", weight=1)
    async def fapi_cancel_order(self, req: SimRequest) -> Any:
        """Cancel one futures order; unknown or closed → -2011."""
        key = self._fauth(req, trade=True)
        unknown = _err(400, -2011, "Unknown order sent.")
        order = self._find(req, self.futures, key, unknown)
        try:
            self.futures.cancel(key.account, order.symbol, order.order_id)
        except (OrderNotFound, CancelRejected) as exc:
            raise unknown from exc
        return self._futures_order(order)

    @route("DELETE", FAPI, "/fapi/v1/allOpenOrders", weight=1)
    async def fapi_cancel_all(self, req: SimRequest) -> Any:
        """Cancel all open futures orders on a symbol."""
        key = self._fauth(req, trade=True)
        sym = self._symbol(req, self.futures)
        self.futures.cancel_all(key.account, sym)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    @route("GET", FAPI, "/fapi/v1/openOrders", weight=1)
    async def fapi_open_orders(self, req: SimRequest) -> Any:
        """Open futures orders (weight 40 without symbol)."""
        key = self._fauth(req)
        sym = self._symbol(req, self.futures, required=False)
        if sym is None:
            req.weight = 40
        return [self._futures_order(o) for o in self.futures.open_orders(key.account, sym)]

    @route("GET", FAPI, "/fapi/v1/allOrders", weight=5)
    async def fapi_all_orders(self, req: SimRequest) -> Any:
        """All futures orders of a symbol."""
        key = self._fauth(req)
        sym = self._symbol(req, self.futures)
        limit = self._limit(req, 500, 1000)
        return [self._futures_order(o) for o in self.futures.all_orders(key.account, sym)[:limit]]

    @route("GET", FAPI, "/fapi/v1/userTrades", weight=5)
    async def fapi_user_trades(self, req: SimRequest) -> Any:
        """The account's futures fills on a symbol."""
        key = self._fauth(req)
        sym = self._symbol(req, self.futures)
        limit = self._limit(req, 500, 1000)
        oid = self._int(req, "orderId")
        fills = [f for f in self.futures.fills(key.account, sym) if oid is None or f.order_id == oid]
        return [
            {
                "buyer": f.side is Side.BUY,
                "commission": fmt(f.fee, 8),
                "commissionAsset": f.fee_asset,
                "id": f.trade_id,
                "maker": f.is_maker,
                "orderId": f.order_id,
                "price": fmt(f.price),
                "qty": fmt(f.qty),
                "quoteQty": fmt(f.quote_qty),
                "realizedPnl": fmt(f.realized_pnl, 8),
                "side": f.side.value,
                "positionSide": "BOTH",
                "symbol": f.symbol,
                "time": f.time_ms,
            }
            for f in fills[:limit]
        ]

    @route("POST", FAPI, "/fapi/v1/leverage", weight=1)
    async def fapi_leverage(self, req: SimRequest) -> Any:
        """Set initial leverage (1..125) for a symbol."""
        key = self._fauth(req, trade=True)
        sym = self._symbol(req, self.futures)
        assert sym is not None
        lev = self._int(req, "leverage")
        if lev is None:
            raise _mandatory("leverage")
        if not 1 <= lev <= 125:
            raise _err(400, -4028, f"Leverage {lev} is not valid")
        pos = self.perps.position(key.account, sym)
        if pos.qty and pos.isolated and lev < self.perps.leverage(key.account, sym):
            # error codes: -4161 — an open isolated position's leverage may rise, never fall
            raise _err(
                400, -4161, "Leverage reduction is not supported in Isolated Margin Mode with open positions."
            )
        self.perps.account(key.account).leverage[sym] = lev
        return {"leverage": lev, "maxNotionalValue": "10000000", "symbol": sym}

    @route("POST", FAPI, "/fapi/v1/marginType", weight=1)
    async def fapi_margin_type(self, req: SimRequest) -> Any:
        """Change Margin Type: ISOLATED/CROSSED per symbol; refused with open orders or a position."""
        key = self._fauth(req, trade=True)
        sym = self._symbol(req, self.futures)
        assert sym is not None
        mt = req.params.get("marginType")
        if mt not in ("ISOLATED", "CROSSED"):
            raise _mandatory("marginType")
        new = "isolated" if mt == "ISOLATED" else "cross"
        if self.perps.margin_mode(key.account, sym) == new:
            raise _err(400, -4046, "No need to change margin type.")
        if self.futures.open_orders(key.account, sym):
            raise _err(400, -4047, "Margin type cannot be changed if there exists open orders.")
        if self.perps.position(key.account, sym).qty:
            raise _err(400, -4048, "Margin type cannot be changed if there exists position.")
        self.perps.set_margin_mode(key.account, sym, new)
        return {"code": 200, "msg": "success"}

    @route("GET", FAPI, "/fapi/v1/income", weight=30)
    async def fapi_income(self, req: SimRequest) -> Any:
        """Get Income History: REALIZED_PNL, COMMISSION, FUNDING_FEE, INSURANCE_CLEAR rows, oldest first;
        without startTime/endTime the last 7 days; limit default 100, max 1000."""
        key = self._fauth(req)
        sym = self._symbol(req, self.futures, required=False)
        kind = req.params.get("incomeType")
        kinds = {v: k for k, v in INCOME_TYPES.items()}
        if kind is not None and kind not in kinds and kind not in OTHER_INCOME_TYPES:
            raise _err(400, -1116, "Invalid incomeType.")
        limit = self._limit(req, 100, 1000)
        start, end = self._int(req, "startTime"), self._int(req, "endTime")
        now = self.now_ms()
        if start is None and end is None:
            start = now - INCOME_DEFAULT_WINDOW_MS
        rows = [
            e
            for e in self.perps.account(key.account).journal
            if (sym is None or e.symbol == sym)
            and (kind is None or kinds.get(kind) == e.kind)
            and (start is None or e.time_ms >= start)
            and (end is None or e.time_ms <= end)
        ]
        return [
            {
                "symbol": e.symbol,
                "incomeType": INCOME_TYPES[e.kind],
                "income": _d(e.amount),
                "asset": e.asset,
                "info": INCOME_TYPES[e.kind],
                "time": e.time_ms,
                "tranId": 9_000_000_000 + e.entry_id,
                "tradeId": str(e.info.get("order_id", ""))
                if e.kind in ("realized_pnl", "commission")
                else "",
            }
            for e in rows[:limit]
        ]

    @route("GET", FAPI, "/fapi/v1/forceOrders", weight=20)
    async def fapi_force_orders(self, req: SimRequest) -> Any:
        """User's Force Orders: the account's liquidation orders (autoCloseType LIQUIDATION); weight 20
        with a symbol, 50 without."""
        key = self._fauth(req)
        sym = self._symbol(req, self.futures, required=False)
        if sym is None:
            req.weight = 50
        if req.params.get("autoCloseType", "LIQUIDATION") != "LIQUIDATION":
            return []  # ADL is not simulated
        limit = self._limit(req, 50, 100)
        orders = [o for o in self.futures.all_orders(key.account, sym) if o.extra.get("liquidation")]
        return [self._futures_order(o) for o in orders[-limit:]]

    @route("GET", FAPI, "/fapi/v1/symbolConfig", weight=5)
    async def fapi_symbol_config(self, req: SimRequest) -> Any:
        """Symbol Configuration: margin type and leverage per symbol (one symbol, or all)."""
        key = self._fauth(req)
        sym = self._symbol(req, self.futures, required=False)
        return [
            {
                "symbol": s,
                "marginType": "ISOLATED"
                if self.perps.margin_mode(key.account, s) == "isolated"
                else "CROSSED",
                "isAutoAddMargin": "false",
                "leverage": self.perps.leverage(key.account, s),
                "maxNotionalValue": "10000000",
            }
            for s in ([sym] if sym else list(self.futures.instruments))
        ]

    @route("GET", FAPI, "/fapi/v1/positionSide/dual", weight=30)
    async def fapi_get_dual(self, req: SimRequest) -> Any:
        """Position mode (always one-way in the simulator)."""
        key = self._fauth(req)
        return {"dualSidePosition": self.dual_side.get(key.account, False)}

    @route("POST", FAPI, "/fapi/v1/positionSide/dual", weight=1)
    async def fapi_set_dual(self, req: SimRequest) -> Any:
        """Hedge mode is not simulated: switching to it is refused, one-way is a no-op error."""
        self._fauth(req, trade=True)
        want = req.params.get("dualSidePosition", "").lower() == "true"
        if not want:
            raise _err(400, -4059, "No need to change position side.")
        raise _err(400, -4068, "The position side cannot be changed if there exists position.")

    @route("GET", FAPI, "/fapi/v1/leverageBracket", weight=1)
    async def fapi_leverage_bracket(self, req: SimRequest) -> Any:
        """Notional brackets per symbol (a simplified two-tier schedule)."""
        self._fauth(req)
        sym = self._symbol(req, self.futures, required=False)
        brackets = [
            {
                "bracket": 1,
                "initialLeverage": 125,
                "notionalCap": 50000,
                "notionalFloor": 0,
                "maintMarginRatio": 0.004,
                "cum": 0.0,
            },
            {
                "bracket": 2,
                "initialLeverage": 100,
                "notionalCap": 10000000,
                "notionalFloor": 50000,
                "maintMarginRatio": 0.005,
                "cum": 50.0,
            },
        ]
        rows = [
            {"symbol": s, "notionalCoef": 1.0, "brackets": brackets}
            for s in ([sym] if sym else list(self.futures.instruments))
        ]
        return rows[0] if sym else rows

    @route("GET", FAPI, "/fapi/v1/commissionRate", weight=20)
    async def fapi_commission(self, req: SimRequest) -> Any:
        """Maker/taker rates of a symbol."""
        self._fauth(req)
        sym = self._symbol(req, self.futures)
        assert sym is not None
        inst = self.futures.instruments[sym]
        return {
            "symbol": sym,
            "makerCommissionRate": fmt(inst.maker_fee),
            "takerCommissionRate": fmt(inst.taker_fee),
        }


VENUE = BinanceVenue
