"""MEXC: spot v3 (api.mexc.com/api/v3) and USDT-M perpetual contracts (api.mexc.com/api/v1).

Written from MEXC's own documentation (spot v3 "General Info", "Error Code", market-data, spot
account/trade and wallet pages; futures "Integration guide", market and account/trading pages):

* Spot SIGNED requests carry `X-MEXC-APIKEY`, `timestamp`, optional `recvWindow` (default 5000, at most
  60000) and a lowercase hex HMAC-SHA256 `signature` over totalParams = query string + request body.
  Errors are `{"code": N, "msg": "..."}` with HTTP 4XX.
* Contract private requests carry `ApiKey`, `Request-Time` (ms), optional `Recv-Window` (seconds,
  default 10, max 60) and `Signature` = hex HMAC-SHA256 of accessKey + Request-Time + parameter
  string (GET: parameters sorted by name, joined with &; POST: the JSON body). Answers are
  `{"success": bool, "code": N, "data"|"message": ...}`.
* Key permissions are MEXC's scopes (SPOT_ACCOUNT_READ, SPOT_DEAL_WRITE, CONTRACT_ACCOUNT_READ, ...);
  the simulator's read / spot_trade / futures_trade / withdraw map onto them (see `SCOPES`).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from aiohttp import web

from ..keys import ApiKey
from ..ledger import PerpSettlement, SpotSettlement, Wallets
from ..market import MINUTE_MS, BookLevels, PairMarket
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
from ..perps import HISTORY_MS, FundingRules, PerpRisk
from ..signing import equal, hmac_sha256_hex
from ..streams.mexc import STREAM_HOSTS, MexcStreams
from ..venue import SimRequest, Venue, VenueError, dumps, fmt, parse_decimal, route

API = "api.mexc.com"
CONTRACT_HOST = "contract.mexc.com"  # the futures docs' original base URL; same paths as api.mexc.com
HOSTS = (API, CONTRACT_HOST)

DEFAULT_RECV_WINDOW = 5_000
MAX_RECV_WINDOW = 60_000
CONTRACT_RECV_WINDOW_S = 10
CONTRACT_MAX_RECV_WINDOW_S = 60

# The simulator's permissions expressed as MEXC API-key scopes (spot v3 "Create an APIKey for a
# sub-account" lists the scope names; the wallet pages name SPOT_WITHDRAW_READ / _WRITE).
SCOPES: dict[str, tuple[str, ...]] = {
    "read": ("SPOT_ACCOUNT_READ", "SPOT_DEAL_READ", "SPOT_WITHDRAW_READ", "SPOT_TRANSFER_READ"),
    "spot_trade": ("SPOT_DEAL_WRITE",),
    "futures_trade": (
        "CONTRACT_ACCOUNT_READ",
        "CONTRACT_ACCOUNT_WRITE",
        "CONTRACT_DEAL_READ",
        "CONTRACT_DEAL_WRITE",
    ),
    "withdraw": ("SPOT_WITHDRAW_WRITE",),
}

# Spot kline intervals (spot v3 "ENUM definitions / Kline Interval") in minutes.
SPOT_INTERVALS: dict[str, int] = {
    "1m": 1,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "60m": 60,
    "4h": 240,
    "1d": 1440,
    "1W": 10080,
    "1M": 43200,
}
# Contract kline intervals (futures "Get candlestick data") in minutes.
CONTRACT_INTERVALS: dict[str, int] = {
    "Min1": 1,
    "Min5": 5,
    "Min15": 15,
    "Min30": 30,
    "Min60": 60,
    "Hour4": 240,
    "Hour8": 480,
    "Day1": 1440,
    "Week1": 10080,
    "Month1": 43200,
}

# Perpetual specs per pair: (contractSize, priceUnit), shaped like MEXC's contract/detail.
CONTRACT_SPECS: dict[str, tuple[str, str]] = {
    "BTC/USDT": ("0.0001", "0.1"),
    "ETH/USDT": ("0.01", "0.01"),
    "BNB/USDT": ("0.01", "0.01"),
    "SOL/USDT": ("0.1", "0.01"),
    "XRP/USDT": ("1", "0.0001"),
    "DOGE/USDT": ("100", "0.00001"),
    "ADA/USDT": ("1", "0.0001"),
    "LTC/USDT": ("0.01", "0.01"),
}

SPOT_MAKER_FEE = Decimal("0")  # exchangeInfo makerCommission of the USDT majors
SPOT_TAKER_FEE = Decimal("0.0005")  # exchangeInfo takerCommission (0.05 %)
CONTRACT_MAKER_FEE = Decimal("0")
CONTRACT_TAKER_FEE = Decimal("0.0002")

# Networks listed by capital/config/getall: coin -> [(netWork id, legacy network name)].
NETWORKS: dict[str, list[tuple[str, str]]] = {
    "USDT": [("ETH", "ERC20"), ("TRX", "TRC20")],
    "BTC": [("BTC", "BTC")],
    "ETH": [("ETH", "ERC20")],
    "BNB": [("BSC", "BEP20(BSC)")],
    "SOL": [("SOL", "SOL")],
    "XRP": [("XRP", "XRP")],
    "DOGE": [("DOGE", "DOGE")],
    "ADA": [("ADA", "ADA")],
    "LTC": [("LTC", "LTC")],
}

KEY_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")
NUM_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
SPOT_ERROR = 400  # spot v3 business and auth errors come with HTTP 400 ("4XX ... sender's side")
# spot v3 "LIMITS": IP and UID limits are independent; every endpoint has its own 500 weight per
# 10 s per IP, and (for endpoints with a UID weight, i.e. the keyed ones) its own 500 per 10 s per UID
SPOT_ENDPOINT_IP = ("endpoint_ip", 500, 10_000)
SPOT_ENDPOINT_UID = ("endpoint_uid", 500, 10_000)
# contract docs: each endpoint's "Rate limit: 20 times/2 seconds" (per UID when keyed, else per IP);
# over it the answer is code 510 "Excessive frequency of requests" (rate_limited)
CONTRACT_ENDPOINT = ("contract_endpoint", 20, 2_000)
CONTRACT_ERROR = 200  # contract errors: HTTP 200, {"success": false, "code": ..., "message": ...}


def _err(code: int, msg: str, status: int = SPOT_ERROR) -> VenueError:
    return VenueError(status, code, msg)


def _cerr(code: int, msg: str) -> VenueError:
    return VenueError(CONTRACT_ERROR, code, msg)


def _places(step: Decimal) -> int:
    exp = step.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _num(value: Decimal) -> float | int:
    """Contract answers use JSON numbers; integral values print without a fraction."""
    return int(value) if value == value.to_integral_value() else float(value)


def _split_signature(raw: str) -> tuple[str, str | None]:
    """Remove `signature=...` from a raw query/body; return (rest joined with &, signature as sent)."""
    if not raw:
        return raw, None
    parts = raw.split("&")
    sig = next((p[len("signature=") :] for p in parts if p.startswith("signature=")), None)
    return "&".join(p for p in parts if not p.startswith("signature=")), sig


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


class ContractEngine(Engine):
    """Engine whose book is in contracts: the synthetic base-unit book divided by the contract size."""

    def _levels(self, inst: Instrument) -> Any:
        cs = inst.contract_size
        base = self.market.get(inst.pair).book(inst.tick, inst.step * cs, self.book_depth)
        return BookLevels(
            tuple((p, q / cs) for p, q in base.bids),
            tuple((p, q / cs) for p, q in base.asks),
        )


class MexcVenue(MexcStreams, Venue):
    """MEXC spot v3 and USDT-M perpetual contracts."""

    name = "mexc"
    hosts = (*HOSTS, *STREAM_HOSTS)
    # spot v3 "LIMITS": 500 weight per 10 seconds; IP bans escalate from 2 minutes.
    weight_limit = 500
    weight_window_s = 10.0
    ban_seconds = 120.0

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.wallets = Wallets()
        # MEXC charges spot commission in the quote asset (myTrades: commissionAsset USDT on buys).
        self.spot = Engine(self.market, SpotSettlement(self.wallets, fee_in="quote"), name="spot")
        self.perps = PerpSettlement(Decimal("10000"), "USDT", default_leverage=20)
        self.contracts = ContractEngine(
            self.market, self.perps, name="futures", first_order_id=700_000_000, clock=self.now_ms
        )
        # futures "Get contract funding rate": collectCycle 8 h, max/minFundingRate ±0.3 %; one risk
        # tier with maintenance margin 0.4 % (the first level of "Get the risk limit")
        self.risk = PerpRisk(
            self.name,
            ctx.seed,
            self.market,
            self.contracts,
            self.perps,
            self.now_ms,
            FundingRules(cap=Decimal("0.003")),
        )
        self.engines = [self.spot, self.contracts]
        self.withdrawals: list[dict[str, Any]] = []
        self.contract_ids: dict[str, int] = {}
        for spec in self.pairs:
            usdt = spec.quote == "USDT"
            self.spot.add_instrument(
                Instrument(
                    spec.base + spec.quote,
                    spec.pair,
                    spec.base,
                    spec.quote,
                    "spot",
                    tick=spec.tick,
                    step=spec.step,
                    min_qty=spec.step,
                    max_qty=Decimal("90000000"),
                    market_max_qty=Decimal("90000000"),
                    min_price=spec.tick,
                    max_price=Decimal("10000000"),
                    # MEXC's minimum order value is 1 USDT on the USDT market
                    min_notional=Decimal("1") if usdt else spec.min_notional,
                    maker_fee=SPOT_MAKER_FEE,
                    taker_fee=SPOT_TAKER_FEE,
                )
            )
            if usdt and spec.pair in CONTRACT_SPECS:
                size, unit = (Decimal(x) for x in CONTRACT_SPECS[spec.pair])
                sym = f"{spec.base}_{spec.quote}"
                self.contract_ids[sym] = len(self.contract_ids) + 1
                self.contracts.add_instrument(
                    Instrument(
                        sym,
                        spec.pair,
                        spec.base,
                        spec.quote,
                        "perp",
                        tick=unit,
                        step=Decimal(1),
                        min_qty=Decimal(1),
                        max_qty=Decimal("1000000"),
                        market_max_qty=Decimal("1000000"),
                        min_price=unit,
                        max_price=Decimal("10000000"),
                        min_notional=Decimal(0),
                        maker_fee=CONTRACT_MAKER_FEE,
                        taker_fee=CONTRACT_TAKER_FEE,
                        contract_size=size,
                        settle="USDT",
                    )
                )

    # ---- accounts ----------------------------------------------------------------------------------

    def on_key_created(self, key: ApiKey, balances: dict[str, Decimal] | None) -> None:
        """Spot wallet from `balances` (default 10000 USDT, 1 BTC, 10 ETH); contract wallet in USDT."""
        self.wallets.ensure(key.account, balances)
        self.perps.account(key.account, None if balances is None else balances.get("USDT", Decimal(0)))

    def set_balances(self, key: ApiKey, balances: dict[str, Decimal]) -> None:
        """Admin: replace the key's spot balances (and its contract USDT wallet)."""
        self.wallets.set(key.account, balances)
        if "USDT" in balances:
            self.perps.account(key.account).wallet = balances["USDT"]

    def on_tick(self) -> None:
        """Fill crossed resting orders, then charge crossed funding times and liquidate (contracts)."""
        super().on_tick()
        self.risk.update()

    # ---- error rendering ---------------------------------------------------------------------------

    @staticmethod
    def _is_contract(req: SimRequest) -> bool:
        return req.path.startswith("/api/v1/")

    def render_error(self, req: SimRequest, err: VenueError) -> web.Response:
        """Spot `{"code","msg"}`; contract `{"success": false, "code", "message"}`."""
        if err.body is not None:
            body: Any = err.body
        elif self._is_contract(req):
            body = {"success": False, "code": err.code, "message": err.msg}
        else:
            body = {"code": err.code, "msg": err.msg}
        return web.json_response(body, status=err.status, headers=err.headers, dumps=dumps)

    def rate_limited(
        self, req: SimRequest, used: int, limit: int, retry_after: int, banned: bool
    ) -> VenueError:
        """429 (or 418 once banned) with Retry-After, per spot v3 "Limits Error"; contract code 510."""
        headers = {"Retry-After": str(retry_after)}
        status = 418 if banned else 429
        if self._is_contract(req):
            return VenueError(status, 510, "Excessive frequency of requests", headers=headers)
        return VenueError(status, 429, "Too Many Requests", headers=headers)

    def admit(self, req: SimRequest) -> None:
        """Per-endpoint limits beside the per-IP budget (see SPOT_ENDPOINT_* and CONTRACT_ENDPOINT)."""
        found = self.match(req.method, req.host, req.path)
        if found is None:
            return
        endpoint = (req.method, found[0].path)
        contract = self._is_contract(req)
        req.api_key_id = req.headers.get("ApiKey" if contract else "X-MEXC-APIKEY")
        key = self.keys.get(req.api_key_id)
        uid = key.account if key is not None and key.venue == self.name else None
        checks: list[tuple[tuple[str, ...], str, int, int, int]] = []
        if contract:
            name, default, window = CONTRACT_ENDPOINT
            checks.append(((name, *endpoint, uid or req.remote), name, default, window, 1))
        else:
            name, default, window = SPOT_ENDPOINT_IP
            checks.append(((name, *endpoint, req.remote), name, default, window, req.weight))
            if uid is not None:
                name, default, window = SPOT_ENDPOINT_UID
                checks.append(((name, *endpoint, uid), name, default, window, req.weight))
        for subject, name, default, window, cost in checks:
            verdict = self.counters.hit(subject, self.limit(name, default), window, req.now_ms, cost)
            if not verdict.allowed:
                # the same answer as the per-IP budget: spot 429 "Too Many Requests", contract 510
                limit = self.limit(name, default)
                raise self.rate_limited(req, verdict.count, limit, verdict.retry_after_s, banned=False)

    def down_response(self, req: SimRequest) -> web.Response:
        """Maintenance answer: HTTP 503 with MEXC's maintenance body (code 500, announcement link)."""
        body = {
            "code": 500,
            "message": "Under maintenance, please try again later",
            "announcement": "https://www.mexc.com/support/sections/360000547811",
        }
        if self._is_contract(req):
            body["success"] = False
        return web.json_response(body, status=503, dumps=dumps)

    # ---- spot authentication -----------------------------------------------------------------------

    @staticmethod
    def scopes(key: ApiKey) -> list[str]:
        """The key's MEXC permission scopes, in a stable order."""
        out: list[str] = []
        for perm in ("read", "spot_trade", "futures_trade", "withdraw"):
            if key.has(perm):
                out.extend(SCOPES[perm])
        return out

    def _spot_auth(self, req: SimRequest, scope: str | None) -> ApiKey:
        """Key → recvWindow → timestamp → signature → IP whitelist → scope (spot v3 "SIGNED")."""
        key_id = req.headers.get("X-MEXC-APIKEY")
        if not key_id:
            raise _err(400, "api key required")
        req.api_key_id = key_id
        if not KEY_RE.match(key_id):
            raise _err(700001, "API-key format invalid.")
        key = self.keys.get(key_id)
        if key is None or key.venue != self.name or not key.is_active(req.now_ms):
            # unknown, deleted and lapsed keys all answer "invalid access key"
            raise _err(10072, "Api key info invalid")
        params = req.params
        rw_raw = params.get("recvWindow", str(DEFAULT_RECV_WINDOW))
        if not rw_raw.isdigit():
            raise _err(33333, "param is error")
        rw = int(rw_raw)
        if rw > MAX_RECV_WINDOW:
            raise _err(700005, "recvWindow must less than 60000")
        ts_raw = params.get("timestamp", "")
        # timing security: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow
        if not ts_raw.isdigit() or not (int(ts_raw) < req.now_ms + 1000 and req.now_ms - int(ts_raw) <= rw):
            raise _err(700003, "Timestamp for this request is outside of the recvWindow.")
        query, qsig = _split_signature(req.query_string)
        body, bsig = _split_signature(req.body.decode(errors="replace"))
        sig = qsig if qsig is not None else bsig
        # totalParams = query string concatenated with the request body; lowercase hex only
        payload = query + body
        if not sig or key.secret is None or not equal(hmac_sha256_hex(key.secret, payload), sig):
            raise _err(700002, "Signature for this request is not valid.")
        if not key.allows_ip(req.remote):
            raise _err(700006, f"IP [{req.remote}] not in the ip white list")
        if scope is not None and scope not in self.scopes(key):
            raise _err(700007, "No permission to access the endpoint.")
        req.api_key = key
        return key

    # ---- contract authentication -------------------------------------------------------------------

    def _contract_auth(self, req: SimRequest, scope: str) -> ApiKey:
        """ApiKey → Request-Time window → Signature → IP → scope (futures "Authentication method")."""
        key_id = req.headers.get("ApiKey")
        if not key_id:
            raise _cerr(401, "Not logged in or login has expired")
        req.api_key_id = key_id
        key = self.keys.get(key_id)
        if key is None or key.venue != self.name or key.revoked:
            raise _cerr(401, "Not logged in or login has expired")
        if not key.is_active(req.now_ms):
            raise _cerr(402, "Api_key expired")
        req_time = req.headers.get("Request-Time", "")
        if not req_time.isdigit():
            raise _cerr(10073, "Invalid Request-Time")
        window_raw = req.headers.get("Recv-Window", str(CONTRACT_RECV_WINDOW_S))
        window = int(window_raw) if window_raw.isdigit() else CONTRACT_RECV_WINDOW_S
        window = min(window, CONTRACT_MAX_RECV_WINDOW_S)
        if abs(req.now_ms - int(req_time)) > window * 1000:
            raise _cerr(513, "Invalid request(for open api serves time more or less than 10s)")
        if req.method == "POST":
            param_string = req.body.decode(errors="replace")  # POST signs the JSON body as sent
        else:
            pieces = [p for p in req.query_string.split("&") if p]
            pieces.sort(key=lambda p: p.split("=", 1)[0])  # GET/DELETE: dictionary order
            param_string = "&".join(pieces)
        sig = req.headers.get("Signature", "")
        expected = hmac_sha256_hex(key.secret, key_id + req_time + param_string) if key.secret else ""
        if not sig or not expected or not equal(expected, sig):
            raise _cerr(602, "Signature verification failed!")
        if not key.allows_ip(req.remote):
            raise _cerr(406, "Accessed IP is not in the whitelist")
        if scope not in self.scopes(key):
            raise _cerr(*_CONTRACT_SCOPE_ERRORS[scope])
        req.api_key = key
        return key

    # ---- parameter helpers -------------------------------------------------------------------------

    def _spot_symbol(self, req: SimRequest, required: bool = True) -> str | None:
        sym = req.params.get("symbol")
        if not sym:
            if required:
                raise _err(44444, "param cannot be null")
            return None
        if sym not in self.spot.instruments:
            raise _err(-1121, "Invalid symbol.")
        return sym

    def _contract_symbol(self, sym: str | None) -> str:
        if not sym or sym not in self.contracts.instruments:
            raise _cerr(1001, "Contract does not exist")
        return sym

    def _int(self, req: SimRequest, name: str, default: int | None = None) -> int | None:
        raw = req.params.get(name)
        if raw is None or raw == "":
            return default
        if not re.match(r"^-?\d+$", raw):
            if self._is_contract(req):
                raise _cerr(600, "Param error!")
            raise _err(33333, "param is error")
        return int(raw)

    def _limit(self, req: SimRequest, default: int, maximum: int) -> int:
        limit = self._int(req, "limit", default) or default
        return max(1, min(limit, maximum))

    def _pm(self, engine: Engine, symbol: str) -> PairMarket:
        return self.market.get(engine.instruments[symbol].pair)

    # ---- spot market data ----------------------------------------------------------------------------

    @route("GET", API, "/api/v3/ping", weight=1)
    async def ping(self, req: SimRequest) -> Any:
        """Test connectivity: `{}`."""
        return {}

    @route("GET", API, "/api/v3/time", weight=1)
    async def server_time(self, req: SimRequest) -> Any:
        """Server time in ms."""
        return {"serverTime": req.now_ms}

    @route("GET", API, "/api/v3/defaultSymbols", weight=1)
    async def default_symbols(self, req: SimRequest) -> Any:
        """Symbols open to API trading."""
        return {"code": 200, "data": list(self.spot.instruments), "msg": None}

    def _spot_symbol_info(self, inst: Instrument) -> dict[str, Any]:
        # field list from spot v3 "Exchange Information"
        return {
            "symbol": inst.symbol,
            "status": "1",
            "baseAsset": inst.base,
            "baseAssetPrecision": _places(inst.step),
            "quoteAsset": inst.quote,
            "quotePrecision": _places(inst.tick),
            "quoteAssetPrecision": _places(inst.tick),
            "baseCommissionPrecision": _places(inst.step),
            "quoteCommissionPrecision": _places(inst.tick),
            "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "quoteAmountPrecision": fmt(inst.min_notional),
            "baseSizePrecision": fmt(inst.min_qty),
            "permissions": ["SPOT"],
            "filters": [],
            "maxQuoteAmount": "2000000",
            "makerCommission": fmt(inst.maker_fee),
            "takerCommission": fmt(inst.taker_fee),
            "quoteAmountPrecisionMarket": fmt(inst.min_notional),
            "maxQuoteAmountMarket": "100000",
            "fullName": inst.base,
            "tradeSideType": 1,
        }

    @route("GET", API, "/api/v3/exchangeInfo", weight=10)
    async def exchange_info(self, req: SimRequest) -> Any:
        """Trading rules: `symbol`, `symbols` (comma separated) or everything."""
        wanted: list[str] | None = None
        if req.params.get("symbols"):
            wanted = req.params["symbols"].split(",")
        elif req.params.get("symbol"):
            wanted = [req.params["symbol"]]
        if wanted is not None and any(w not in self.spot.instruments for w in wanted):
            raise _err(-1121, "Invalid symbol.")
        return {
            "timezone": "CST",
            "serverTime": req.now_ms,
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": [
                self._spot_symbol_info(i)
                for s, i in self.spot.instruments.items()
                if wanted is None or s in wanted
            ],
        }

    def _best(self, engine: Engine, symbol: str) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
        bids, asks = engine.depth(symbol, 1)
        zero = (Decimal(0), Decimal(0))
        return (bids[0] if bids else zero), (asks[0] if asks else zero)

    def _ticker24(self, req: SimRequest, symbol: str) -> dict[str, Any]:
        pm = self._pm(self.spot, symbol)
        st = pm.stats_24h(req.now_ms)
        (bp, bq), (ap, aq) = self._best(self.spot, symbol)
        change = st.close - st.open
        pct = (change / st.open).quantize(Decimal("0.00000001")) if st.open else Decimal(0)
        last = pm.trades[-1] if pm.trades else None
        return {
            "symbol": symbol,
            "priceChange": fmt(change),
            "priceChangePercent": fmt(pct),  # a fraction, as MEXC reports it
            "prevClosePrice": fmt(st.open),
            "lastPrice": fmt(st.close),
            "lastQty": fmt(last.qty) if last else "",
            "bidPrice": fmt(bp),
            "bidQty": fmt(bq),
            "askPrice": fmt(ap),
            "askQty": fmt(aq),
            "openPrice": fmt(st.open),
            "highPrice": fmt(st.high),
            "lowPrice": fmt(st.low),
            "volume": fmt(st.volume),
            "quoteVolume": fmt(st.quote_volume.quantize(Decimal("0.01"))),
            "openTime": st.open_ms,
            "closeTime": req.now_ms,
            "count": None,
        }

    @route("GET", API, "/api/v3/ticker/24hr", weight=1)
    async def ticker_24hr(self, req: SimRequest) -> Any:
        """24h statistics: one object with `symbol`, else a list of all."""
        sym = self._spot_symbol(req, required=False)
        if sym:
            return self._ticker24(req, sym)
        req.weight = 40
        return [self._ticker24(req, s) for s in self.spot.instruments]

    @route("GET", API, "/api/v3/ticker/price", weight=1)
    async def ticker_price(self, req: SimRequest) -> Any:
        """Last price: one object with `symbol`, else a list."""
        sym = self._spot_symbol(req, required=False)

        def one(s: str) -> dict[str, Any]:
            return {"symbol": s, "price": fmt(self._pm(self.spot, s).price)}

        return one(sym) if sym else [one(s) for s in self.spot.instruments]

    @route("GET", API, "/api/v3/ticker/bookTicker", weight=1)
    async def book_ticker(self, req: SimRequest) -> Any:
        """Best bid/ask: one object with `symbol`, else a list."""
        sym = self._spot_symbol(req, required=False)

        def one(s: str) -> dict[str, Any]:
            (bp, bq), (ap, aq) = self._best(self.spot, s)
            return {
                "symbol": s,
                "bidPrice": fmt(bp),
                "bidQty": fmt(bq),
                "askPrice": fmt(ap),
                "askQty": fmt(aq),
            }

        return one(sym) if sym else [one(s) for s in self.spot.instruments]

    @route("GET", API, "/api/v3/avgPrice", weight=1)
    async def avg_price(self, req: SimRequest) -> Any:
        """Average price over the last 5 minutes."""
        sym = self._spot_symbol(req)
        assert sym is not None
        candles = self._pm(self.spot, sym).klines(MINUTE_MS, limit=5)
        avg = sum((c.close for c in candles), Decimal(0)) / max(1, len(candles))
        inst = self.spot.instruments[sym]
        return {"mins": 5, "price": fmt(avg.quantize(inst.tick))}

    @route("GET", API, "/api/v3/depth", weight=1)
    async def depth(self, req: SimRequest) -> Any:
        """Order book, [price, quantity] strings; limit default 100, max 5000."""
        sym = self._spot_symbol(req)
        assert sym is not None
        limit = self._limit(req, 100, 5000)
        # the aggre.depth stream's version counter (streams/mexc.py), so snapshot and diffs line up
        version, bids, asks = self.book_version("spot", sym, limit)
        return {
            "lastUpdateId": version,
            "bids": [[fmt(p), fmt(q)] for p, q in bids],
            "asks": [[fmt(p), fmt(q)] for p, q in asks],
            "timestamp": req.now_ms,
        }

    @route("GET", API, "/api/v3/trades", weight=5)
    async def trades(self, req: SimRequest) -> Any:
        """Recent trades (limit default 500, max 1000)."""
        sym = self._spot_symbol(req)
        assert sym is not None
        limit = self._limit(req, 500, 1000)
        return [
            {
                "id": None,
                "price": fmt(t.price),
                "qty": fmt(t.qty),
                "quoteQty": fmt(t.price * t.qty),
                "time": t.time_ms,
                "isBuyerMaker": t.buyer_maker,
                "isBestMatch": True,
                "tradeType": "ASK" if t.buyer_maker else "BID",
            }
            for t in list(self._pm(self.spot, sym).trades)[-limit:]
        ]

    @route("GET", API, "/api/v3/aggTrades", weight=1)
    async def agg_trades(self, req: SimRequest) -> Any:
        """Aggregate trades; startTime and endTime go together (inclusive)."""
        sym = self._spot_symbol(req)
        assert sym is not None
        limit = self._limit(req, 500, 1000)
        start = self._int(req, "startTime")
        end = self._int(req, "endTime")
        rows = [
            t
            for t in self._pm(self.spot, sym).trades
            if (start is None or t.time_ms >= start) and (end is None or t.time_ms <= end)
        ]
        return [
            {
                "a": None,
                "f": None,
                "l": None,
                "p": fmt(t.price),
                "q": fmt(t.qty),
                "T": t.time_ms,
                "m": t.buyer_maker,
                "M": True,
            }
            for t in rows[-limit:]
        ]

    @route("GET", API, "/api/v3/klines", weight=1)
    async def klines(self, req: SimRequest) -> Any:
        """Candles [openTime, o, h, l, c, volume, closeTime, quoteVolume]; limit default 500, max 1000."""
        sym = self._spot_symbol(req)
        assert sym is not None
        interval = req.params.get("interval", "")
        if interval not in SPOT_INTERVALS:
            raise _err(-1121, "Invalid interval.")
        limit = self._limit(req, 500, 1000)
        iv = SPOT_INTERVALS[interval] * MINUTE_MS
        end = self._int(req, "endTime")
        candles = self._pm(self.spot, sym).klines(
            iv, self._int(req, "startTime"), None if end is None else end - 1, limit
        )
        return [
            [
                c.open_ms,
                fmt(c.open),
                fmt(c.high),
                fmt(c.low),
                fmt(c.close),
                fmt(c.volume),
                c.open_ms + iv,
                fmt(c.quote_volume.quantize(Decimal("0.01"))),
            ]
            for c in candles
        ]

    # ---- spot account ------------------------------------------------------------------------------

    @route("GET", API, "/api/v3/account", weight=10)
    async def account(self, req: SimRequest) -> Any:
        """Balances; canTrade / canWithdraw follow the key's SPOT_DEAL_WRITE / SPOT_WITHDRAW_WRITE."""
        key = self._spot_auth(req, "SPOT_ACCOUNT_READ")
        scopes = self.scopes(key)
        acc = self.wallets.ensure(key.account)
        return {
            "makerCommission": int(SPOT_MAKER_FEE * 10000),
            "takerCommission": int(SPOT_TAKER_FEE * 10000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "canTrade": "SPOT_DEAL_WRITE" in scopes,
            "canWithdraw": "SPOT_WITHDRAW_WRITE" in scopes,
            "canDeposit": True,
            "updateTime": None,
            "accountType": "SPOT",
            "balances": [
                {"asset": a, "free": fmt(b.free), "locked": fmt(b.locked)}
                for a, b in sorted(acc.items())
                if b.total != 0
            ],
            "permissions": ["SPOT"],
        }

    @route("GET", API, "/api/v3/apiKeyInfo", weight=1)
    async def api_key_info(self, req: SimRequest) -> Any:
        """Query API key info (spot v3 "Query API Key Info"): scopes, IP whitelist, validity, status."""
        key = self._spot_auth(req, "SPOT_ACCOUNT_READ")
        access_key = req.params.get("accessKey")
        if not access_key:
            raise _err(730707, "accessKey cannot be null")
        target = self.keys.get(access_key)
        # only keys of the caller's own account are visible
        if target is None or target.venue != self.name or target.account != key.account:
            raise _err(730706, "API KEY information does not exist")
        remaining: int | None = None
        if target.expires_ms is not None:
            left = Decimal(max(0, target.expires_ms - req.now_ms)) / Decimal(86_400_000)
            remaining = int(left.to_integral_value(rounding=ROUND_CEILING))
        if target.revoked:
            status = "INVALID"
        elif not target.is_active(req.now_ms):
            status = "EXPIRED"
        else:
            status = "VALID"
        return {
            "note": target.label,
            "accessKey": target.api_key,
            "createTime": _iso(target.created_ms),
            "permissions": ",".join(self.scopes(target)),
            "remainingValidity": remaining,
            "ipWhiteList": ",".join(target.ip_whitelist),
            "status": status,
        }

    @route("GET", API, "/api/v3/uid", weight=1)
    async def uid(self, req: SimRequest) -> Any:
        """Account UID."""
        key = self._spot_auth(req, "SPOT_ACCOUNT_READ")
        return {"uid": str(int.from_bytes(key.account.encode()[-6:], "big") % 10**9)}

    @route("GET", API, "/api/v3/tradeFee", weight=20)
    async def trade_fee(self, req: SimRequest) -> Any:
        """Commission rates of one symbol."""
        self._spot_auth(req, "SPOT_ACCOUNT_READ")
        sym = self._spot_symbol(req)
        assert sym is not None
        inst = self.spot.instruments[sym]
        return {
            "data": {"makerCommission": float(inst.maker_fee), "takerCommission": float(inst.taker_fee)},
            "code": 0,
            "msg": "success",
            "timestamp": req.now_ms,
        }

    @route("GET", API, "/api/v3/selfSymbols", weight=1)
    async def self_symbols(self, req: SimRequest) -> Any:
        """Symbols this key may trade through the API."""
        self._spot_auth(req, "SPOT_ACCOUNT_READ")
        return {"code": 200, "data": list(self.spot.instruments), "msg": None}

    # ---- wallet ------------------------------------------------------------------------------------

    def _coins(self) -> list[str]:
        return sorted({a for s in self.pairs for a in (s.base, s.quote)})

    @route("GET", API, "/api/v3/capital/config/getall", weight=10)
    async def capital_config(self, req: SimRequest) -> Any:
        """Currency information with networks (permission SPOT_WITHDRAW_READ)."""
        self._spot_auth(req, "SPOT_WITHDRAW_READ")
        out = []
        for coin in self._coins():
            networks = []
            for net_id, legacy in NETWORKS.get(coin, [(coin, coin)]):
                networks.append(
                    {
                        "coin": coin,
                        "depositDesc": None,
                        "depositEnable": True,
                        "minConfirm": 1,
                        "name": coin,
                        "network": legacy,
                        "withdrawEnable": True,
                        "withdrawFee": "1" if coin == "USDT" else "0.0001",
                        "withdrawIntegerMultiple": None,
                        "withdrawMax": "10000000",
                        "withdrawMin": "1" if coin == "USDT" else "0.001",
                        "sameAddress": False,
                        "contract": "",
                        "withdrawTips": None,
                        "depositTips": None,
                        "netWork": net_id,
                    }
                )
            out.append({"coin": coin, "name": coin, "networkList": networks})
        return out

    @route("POST", API, "/api/v3/capital/withdraw", weight=1)
    async def withdraw(self, req: SimRequest) -> Any:
        """Withdraw (permission SPOT_WITHDRAW_WRITE): debits the spot wallet and returns the id."""
        key = self._spot_auth(req, "SPOT_WITHDRAW_WRITE")
        p = req.params
        coin = p.get("coin")
        if not coin:
            raise _err(10222, "currency cannot be null")
        if coin not in self._coins():
            raise _err(10232, "currency does not exist")
        if not p.get("address"):
            raise _err(44444, "param cannot be null")
        networks = NETWORKS.get(coin, [(coin, coin)])
        network = p.get("netWork") or p.get("network") or networks[0][0]
        if network not in {n for pair in networks for n in pair}:
            raise _err(33333, "param is error")
        raw = p.get("amount", "")
        amount = parse_decimal(raw) if NUM_RE.match(raw) else None
        if amount is None:
            raise _err(10097, "amount is error")
        if amount <= 0:
            raise _err(10102, "amount cannot be zero or negative")
        with self.wallets.lock:
            bal = self.wallets.get(key.account, coin)
            if bal.free < amount:
                raise _err(10101, "Insufficient balance")
            bal.free -= amount
        wid = secrets.token_hex(16)
        self.withdrawals.append(
            {
                "id": wid,
                "account": key.account,
                "coin": coin,
                "network": network,
                "address": p["address"],
                "memo": p.get("memo"),
                "amount": fmt(amount),
                "applyTime": req.now_ms,
                "remark": p.get("remark"),
                "withdrawOrderId": p.get("withdrawOrderId"),
            }
        )
        return {"id": wid}

    @route("GET", API, "/api/v3/capital/withdraw/history", weight=1)
    async def withdraw_history(self, req: SimRequest) -> Any:
        """Withdrawals of the key's account, newest first."""
        key = self._spot_auth(req, "SPOT_WITHDRAW_READ")
        coin = req.params.get("coin")
        limit = self._limit(req, 1000, 1000)
        rows = [
            w for w in self.withdrawals if w["account"] == key.account and (not coin or w["coin"] == coin)
        ]
        return [
            {
                "id": w["id"],
                "txId": None,
                "coin": w["coin"],
                "network": w["network"],
                "address": w["address"],
                "amount": w["amount"],
                "transferType": 0,
                "status": 7,  # SUCCESS: the simulator settles withdrawals at once
                "transactionFee": "0",
                "confirmNo": None,
                "applyTime": w["applyTime"],
                "remark": w["remark"],
                "memo": w["memo"],
                "transHash": None,
                "updateTime": w["applyTime"],
                "coinId": w["coin"],
                "vcoinId": w["coin"],
            }
            for w in reversed(rows)
        ][:limit]

    # ---- spot orders -------------------------------------------------------------------------------

    @staticmethod
    def _spot_status(o: Order) -> str:
        if o.status in (Status.CANCELED, Status.EXPIRED):
            return "PARTIALLY_CANCELED" if o.executed_qty > 0 else "CANCELED"
        return o.status.value

    @staticmethod
    def _spot_type(o: Order) -> str:
        if o.type is OrdType.MARKET:
            return "MARKET"
        return {
            TIF.GTX: "LIMIT_MAKER",
            TIF.IOC: "IMMEDIATE_OR_CANCEL",
            TIF.FOK: "FILL_OR_KILL",
        }.get(o.tif, "LIMIT")

    @staticmethod
    def _cid(o: Order) -> str | None:
        return None if o.client_order_id == f"sim-{o.order_id}" else o.client_order_id

    def _spot_order(self, o: Order) -> dict[str, Any]:
        # spot v3 "Query Order" response fields
        return {
            "symbol": o.symbol,
            "orderId": str(o.order_id),
            "orderListId": "-1",
            "clientOrderId": self._cid(o),
            "price": fmt(o.price or Decimal(0)),
            "origQty": fmt(o.qty if o.qty is not None else o.executed_qty),
            "executedQty": fmt(o.executed_qty),
            "cummulativeQuoteQty": fmt(o.cum_quote),
            "status": self._spot_status(o),
            "timeInForce": None,
            "type": self._spot_type(o),
            "side": o.side.value,
            "stopPrice": None,
            "icebergQty": None,
            "time": o.created_ms,
            "updateTime": o.updated_ms,
            "isWorking": True,
            "origQuoteOrderQty": fmt(
                o.quote_qty if o.quote_qty is not None else (o.price or Decimal(0)) * (o.qty or Decimal(0))
            ),
        }

    def _spot_reject(self, exc: OrderRejected, inst: Instrument) -> VenueError:
        r = exc.reason
        if r is Reject.MIN_NOTIONAL:
            return _err(
                30002,
                f"The minimum transaction volume cannot be less than:{fmt(inst.min_notional)}{inst.quote}",
            )
        if r in (Reject.LOT_SIZE, Reject.MARKET_LOT_SIZE):
            qty = parse_decimal(exc.detail)
            if qty is not None and qty > inst.max_qty:
                return _err(
                    30003, f"The maximum transaction volume cannot be greater than:{fmt(inst.max_qty)}"
                )
            return _err(
                30002, f"The minimum transaction volume cannot be less than:{fmt(inst.min_qty)}{inst.base}"
            )
        if r is Reject.PRICE_FILTER:
            return _err(30087, "Order price exceeds allowed range")
        if r is Reject.INSUFFICIENT_BALANCE:
            return _err(30004, "Insufficient position")
        if r is Reject.NO_LIQUIDITY:
            return _err(30010, "no valid trade price")
        if r is Reject.POST_ONLY_WOULD_TAKE:
            return _err(30041, "current order type can not place order")
        if r is Reject.UNKNOWN_SYMBOL:
            return _err(-1121, "Invalid symbol.")
        return _err(33333, "param is error")

    def _decimal_param(self, req: SimRequest, name: str) -> Decimal | None:
        raw = req.params.get(name)
        if raw is None or raw == "":
            return None
        if not NUM_RE.match(raw):
            raise _err(700008, "Illegal characters found in parameter")
        value = parse_decimal(raw)
        assert value is not None
        return value

    @route("POST", API, "/api/v3/order", weight=1)
    @route("POST", API, "/api/v3/order/test", weight=1)
    async def new_order(self, req: SimRequest) -> Any:
        """New order (SPOT_DEAL_WRITE): LIMIT, MARKET, LIMIT_MAKER, IMMEDIATE_OR_CANCEL, FILL_OR_KILL."""
        key = self._spot_auth(req, "SPOT_DEAL_WRITE")
        sym = self._spot_symbol(req)
        assert sym is not None
        inst = self.spot.instruments[sym]
        side_raw = req.params.get("side", "")
        type_raw = req.params.get("type", "")
        if side_raw not in ("BUY", "SELL") or not type_raw:
            raise _err(44444 if not side_raw or not type_raw else 33333, "param is error")
        tif = {
            "LIMIT": TIF.GTC,
            "LIMIT_MAKER": TIF.GTX,
            "IMMEDIATE_OR_CANCEL": TIF.IOC,
            "FILL_OR_KILL": TIF.FOK,
        }
        if type_raw != "MARKET" and type_raw not in tif:
            raise _err(30041, "current order type can not place order")
        qty = self._decimal_param(req, "quantity")
        quote_qty = self._decimal_param(req, "quoteOrderQty")
        price = self._decimal_param(req, "price")
        cid = req.params.get("newClientOrderId") or None
        if type_raw == "MARKET":
            if qty is None and quote_qty is None:
                raise _err(44444, "param cannot be null")
            price = None
            if qty is not None:
                quote_qty = None
        else:
            if qty is None or price is None:
                raise _err(44444, "param cannot be null")
            quote_qty = None
        # precision: quantity on the base step, price on the quote tick (exchangeInfo precisions)
        if qty is not None and qty % inst.step != 0:
            raise _err(10096, "amount decimal places is too long")
        if price is not None and price % inst.tick != 0:
            raise _err(30087, "Order price exceeds allowed range")
        if qty is not None and 0 < qty < inst.min_qty:
            raise _err(
                30002, f"The minimum transaction volume cannot be less than:{fmt(inst.min_qty)}{inst.base}"
            )
        if req.path.endswith("/test"):
            return {}
        try:
            order = self.spot.new_order(
                key.account,
                sym,
                Side(side_raw),
                OrdType.MARKET if type_raw == "MARKET" else OrdType.LIMIT,
                qty=qty,
                price=price,
                quote_qty=quote_qty,
                tif=TIF.IOC if type_raw == "MARKET" else tif[type_raw],
                client_order_id=cid,
            )
        except OrderRejected as exc:
            raise self._spot_reject(exc, inst) from exc
        # spot v3 "New Order" response
        return {
            "symbol": order.symbol,
            "orderId": str(order.order_id),
            "orderListId": -1,
            "price": fmt(order.price or Decimal(0)),
            "origQty": fmt(order.qty if order.qty is not None else order.executed_qty),
            "type": self._spot_type(order),
            "side": order.side.value,
            "transactTime": order.created_ms,
        }

    def _spot_find(self, req: SimRequest, key: ApiKey) -> Order:
        sym = self._spot_symbol(req)
        oid_raw = req.params.get("orderId")
        cid = req.params.get("origClientOrderId")
        if not oid_raw and not cid:
            raise _err(
                700004, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null"
            )
        try:
            if oid_raw:
                if not oid_raw.isdigit():
                    raise OrderNotFound(oid_raw)
                return self.spot.find(key.account, sym, order_id=int(oid_raw))
            return self.spot.find(key.account, sym, client_order_id=cid)
        except OrderNotFound as exc:
            raise _err(-2013, "Order does not exist.") from exc

    @route("GET", API, "/api/v3/order", weight=2)
    async def get_order(self, req: SimRequest) -> Any:
        """Query order by orderId or origClientOrderId (SPOT_DEAL_READ)."""
        key = self._spot_auth(req, "SPOT_DEAL_READ")
        return self._spot_order(self._spot_find(req, key))

    @route("DELETE", API, "/api/v3/order", weight=1)
    async def cancel_order(self, req: SimRequest) -> Any:
        """Cancel an open order (SPOT_DEAL_WRITE)."""
        key = self._spot_auth(req, "SPOT_DEAL_WRITE")
        order = self._spot_find(req, key)
        try:
            self.spot.cancel(key.account, order.symbol, order.order_id)
        except (CancelRejected, OrderNotFound) as exc:
            raise _err(-2011, "Unknown order sent.") from exc
        return self._cancel_view(order)

    def _cancel_view(self, o: Order) -> dict[str, Any]:
        full = self._spot_order(o)
        keys = (
            "symbol",
            "orderId",
            "clientOrderId",
            "price",
            "origQty",
            "executedQty",
            "cummulativeQuoteQty",
            "status",
            "timeInForce",
            "type",
            "side",
        )
        return {"origClientOrderId": self._cid(o), **{k: full[k] for k in keys}}

    @route("DELETE", API, "/api/v3/openOrders", weight=1)
    async def cancel_open_orders(self, req: SimRequest) -> Any:
        """Cancel every open order of a symbol (SPOT_DEAL_WRITE)."""
        key = self._spot_auth(req, "SPOT_DEAL_WRITE")
        sym = self._spot_symbol(req)
        return [self._cancel_view(o) for o in self.spot.cancel_all(key.account, sym)]

    @route("GET", API, "/api/v3/openOrders", weight=3)
    async def open_orders(self, req: SimRequest) -> Any:
        """Open orders of a symbol (SPOT_DEAL_READ)."""
        key = self._spot_auth(req, "SPOT_DEAL_READ")
        sym = self._spot_symbol(req)
        return [self._spot_order(o) for o in self.spot.open_orders(key.account, sym)]

    @route("GET", API, "/api/v3/allOrders", weight=10)
    async def all_orders(self, req: SimRequest) -> Any:
        """All orders of a symbol, optionally between startTime and endTime (SPOT_DEAL_READ)."""
        key = self._spot_auth(req, "SPOT_DEAL_READ")
        sym = self._spot_symbol(req)
        start, end = self._int(req, "startTime"), self._int(req, "endTime")
        limit = self._limit(req, 500, 1000)
        rows = [
            o
            for o in self.spot.all_orders(key.account, sym)
            if (start is None or o.created_ms >= start) and (end is None or o.created_ms <= end)
        ]
        return [self._spot_order(o) for o in rows[-limit:]]

    @route("GET", API, "/api/v3/myTrades", weight=10)
    async def my_trades(self, req: SimRequest) -> Any:
        """Account trade list of a symbol with commission and commissionAsset (SPOT_DEAL_READ)."""
        key = self._spot_auth(req, "SPOT_DEAL_READ")
        sym = self._spot_symbol(req)
        oid = self._int(req, "orderId")
        start, end = self._int(req, "startTime"), self._int(req, "endTime")
        limit = self._limit(req, 100, 100)
        rows = [
            f
            for f in self.spot.fills(key.account, sym)
            if (oid is None or f.order_id == oid)
            and (start is None or f.time_ms >= start)
            and (end is None or f.time_ms <= end)
        ]
        return [
            {
                "symbol": f.symbol,
                "id": str(f.trade_id),
                "orderId": str(f.order_id),
                "orderListId": -1,
                "price": fmt(f.price),
                "qty": fmt(f.qty),
                "quoteQty": fmt(f.quote_qty),
                "commission": fmt(f.fee),
                "commissionAsset": f.fee_asset,
                "time": f.time_ms,
                "isBuyer": f.side is Side.BUY,
                "isMaker": f.is_maker,
                "isBestMatch": True,
                "isSelfTrade": False,
                "clientOrderId": None,
            }
            for f in rows[-limit:]
        ]

    # ---- contract market data ----------------------------------------------------------------------

    @staticmethod
    def _ok(data: Any) -> dict[str, Any]:
        return {"success": True, "code": 0, "data": data}

    @route("GET", HOSTS, "/api/v1/contract/ping", weight=1)
    async def contract_ping(self, req: SimRequest) -> Any:
        """Contract server time."""
        return self._ok(req.now_ms)

    def _contract_detail(self, inst: Instrument) -> dict[str, Any]:
        # field list from futures "Get the contract information"
        return {
            "symbol": inst.symbol,
            "displayName": f"{inst.symbol} PERPETUAL",
            "displayNameEn": f"{inst.symbol} PERPETUAL",
            "positionOpenType": 3,
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "baseCoinName": inst.base,
            "quoteCoinName": inst.quote,
            "futureType": 1,
            "settleCoin": inst.settle,
            "contractSize": _num(inst.contract_size),
            "minLeverage": 1,
            "maxLeverage": 200,
            "priceScale": _places(inst.tick),
            "volScale": 0,
            "amountScale": 4,
            "priceUnit": _num(inst.tick),
            "volUnit": _num(inst.step),
            "minVol": _num(inst.min_qty),
            "maxVol": _num(inst.max_qty),
            "bidLimitPriceRate": 0.2,
            "askLimitPriceRate": 0.2,
            "takerFeeRate": _num(inst.taker_fee),
            "makerFeeRate": _num(inst.maker_fee),
            "maintenanceMarginRate": 0.004,
            "initialMarginRate": 0.005,
            "riskBaseVol": 100000,
            "riskIncrVol": 200000,
            "riskIncrMmr": 0.004,
            "riskIncrImr": 0.004,
            "riskLevelLimit": 5,
            "priceCoefficientVariation": 0.1,
            "indexOrigin": ["BINANCE", "GATEIO", "HUOBI", "MXC"],
            "state": 0,
            "isNew": False,
            "isHot": True,
            "isHidden": False,
            "conceptPlate": [],
            "riskLimitType": "BY_VOLUME",
            "maxNumOrders": [200, 50],
            "marketOrderMaxLevel": 20,
            "marketOrderPriceLimitRate1": 0.2,
            "marketOrderPriceLimitRate2": 0.005,
            "triggerProtect": 0.1,
            "appraisal": 0,
            "showAppraisalCountdown": 0,
            "automaticDelivery": 0,
            "apiAllowed": True,
        }

    @route("GET", HOSTS, "/api/v1/contract/detail", weight=1)
    async def contract_detail(self, req: SimRequest) -> Any:
        """Contract information: one object with `symbol`, else a list."""
        sym = req.params.get("symbol")
        if sym:
            return self._ok(self._contract_detail(self.contracts.instruments[self._contract_symbol(sym)]))
        return self._ok([self._contract_detail(i) for i in self.contracts.instruments.values()])

    @route("GET", HOSTS, "/api/v1/contract/support_currencies", weight=1)
    async def contract_currencies(self, req: SimRequest) -> Any:
        """Transferable currencies."""
        return self._ok(["USDT"])

    def _contract_ticker(self, req: SimRequest, symbol: str) -> dict[str, Any]:
        inst = self.contracts.instruments[symbol]
        pm = self._pm(self.contracts, symbol)
        st = pm.stats_24h(req.now_ms)
        (bp, _), (ap, _) = self._best(self.contracts, symbol)
        change = st.close - st.open
        rate = (change / st.open).quantize(Decimal("0.0001")) if st.open else Decimal(0)
        return {
            "contractId": self.contract_ids[symbol],
            "symbol": symbol,
            "lastPrice": _num(st.close),
            "bid1": _num(bp),
            "ask1": _num(ap),
            "volume24": _num((st.volume / inst.contract_size).to_integral_value()),
            "amount24": _num(st.quote_volume.quantize(Decimal("0.0001"))),
            "holdVol": 0,
            "lower24Price": _num(st.low),
            "high24Price": _num(st.high),
            "riseFallRate": _num(rate),
            "riseFallValue": _num(change),
            "indexPrice": _num(st.close),
            "fairPrice": _num(st.close),
            "fundingRate": 0.0001,
            "maxBidPrice": _num((st.close * Decimal("1.2")).quantize(inst.tick)),
            "minAskPrice": _num((st.close * Decimal("0.8")).quantize(inst.tick)),
            "timestamp": req.now_ms,
        }

    @route("GET", HOSTS, "/api/v1/contract/ticker", weight=1)
    async def contract_ticker(self, req: SimRequest) -> Any:
        """Ticker: one object with `symbol`, else a list of all contracts."""
        sym = req.params.get("symbol")
        if sym:
            return self._ok(self._contract_ticker(req, self._contract_symbol(sym)))
        return self._ok([self._contract_ticker(req, s) for s in self.contracts.instruments])

    @route("GET", HOSTS, "/api/v1/contract/depth/{symbol}", weight=1)
    async def contract_depth(self, req: SimRequest) -> Any:
        """Depth: [price, contracts, order count] levels, version and timestamp."""
        sym = self._contract_symbol(req.path_params.get("symbol"))
        limit = self._limit(req, 100, 2000)
        version, bids, asks = self.book_version("futures", sym, limit)
        return self._ok(
            {
                "asks": [[_num(p), _num(q), 1] for p, q in asks],
                "bids": [[_num(p), _num(q), 1] for p, q in bids],
                "version": version,
                "timestamp": req.now_ms,
            }
        )

    @route("GET", HOSTS, "/api/v1/contract/kline/{symbol}", weight=1)
    @route("GET", HOSTS, "/api/v1/contract/kline/index_price/{symbol}", weight=1)
    @route("GET", HOSTS, "/api/v1/contract/kline/fair_price/{symbol}", weight=1)
    async def contract_kline(self, req: SimRequest) -> Any:
        """Candles as column arrays; `start`/`end` are in seconds."""
        sym = self._contract_symbol(req.path_params.get("symbol"))
        inst = self.contracts.instruments[sym]
        interval = req.params.get("interval", "Min1")
        if interval not in CONTRACT_INTERVALS:
            raise _cerr(600, "Param error!")
        iv = CONTRACT_INTERVALS[interval] * MINUTE_MS
        start, end = self._int(req, "start"), self._int(req, "end")
        candles = self._pm(self.contracts, sym).klines(
            iv, None if start is None else start * 1000, None if end is None else end * 1000, 2000
        )
        return self._ok(
            {
                "time": [c.open_ms // 1000 for c in candles],
                "open": [_num(c.open) for c in candles],
                "close": [_num(c.close) for c in candles],
                "high": [_num(c.high) for c in candles],
                "low": [_num(c.low) for c in candles],
                "vol": [_num((c.volume / inst.contract_size).to_integral_value()) for c in candles],
                "amount": [_num(c.quote_volume.quantize(Decimal("0.0001"))) for c in candles],
            }
        )

    @route("GET", HOSTS, "/api/v1/contract/deals/{symbol}", weight=1)
    async def contract_deals(self, req: SimRequest) -> Any:
        """Recent trades: p price, v contracts, T 1 buy / 2 sell, t ms."""
        sym = self._contract_symbol(req.path_params.get("symbol"))
        inst = self.contracts.instruments[sym]
        limit = self._limit(req, 100, 100)
        return self._ok(
            [
                {
                    "p": _num(t.price),
                    "v": _num(max(Decimal(1), (t.qty / inst.contract_size).to_integral_value())),
                    "T": 2 if t.buyer_maker else 1,
                    "O": 3,
                    "M": 2,
                    "t": t.time_ms,
                }
                for t in list(self._pm(self.contracts, sym).trades)[-limit:]
            ]
        )

    @route("GET", HOSTS, "/api/v1/contract/funding_rate/{symbol}", weight=1)
    async def contract_funding(self, req: SimRequest) -> Any:
        """Get contract funding rate: the rate of the running period and its settlement time."""
        sym = self._contract_symbol(req.path_params.get("symbol"))
        now = self.now_ms()
        cap = self.risk.rules.cap
        return self._ok(
            {
                "symbol": sym,
                "fundingRate": _num(self.risk.predicted_rate(sym, now)),
                "maxFundingRate": _num(cap),
                "minFundingRate": _num(-cap),
                "collectCycle": self.risk.rules.interval_ms // 3_600_000,
                "nextSettleTime": self.risk.next_funding(now),
                "timestamp": now,
            }
        )

    @route("GET", HOSTS, "/api/v1/contract/funding_rate/history", weight=1)
    async def contract_funding_history(self, req: SimRequest) -> Any:
        """Get contract funding rate history: newest first, page_num/page_size (20, max 100).

        An exact route, so it wins over funding_rate/{symbol} (which would read "history" as a symbol).
        """
        sym = self._contract_symbol(req.params.get("symbol"))
        page = self._int(req, "page_num", 1) or 1
        size = min(100, self._int(req, "page_size", 20) or 20)
        if page < 1 or size < 1:
            raise _cerr(600, "Param error!")
        iv = self.risk.rules.interval_ms
        newest = self.now_ms() // iv * iv
        total = HISTORY_MS // iv  # the sim's funding history window (perps.HISTORY_MS)
        first = (page - 1) * size
        rows = [self.risk.event(sym, newest - i * iv) for i in range(first, min(total, first + size))]
        return self._ok(
            {
                "pageSize": size,
                "totalCount": total,
                "totalPage": -(-total // size),
                "currentPage": page,
                "resultList": [
                    {
                        "symbol": sym,
                        "fundingRate": _num(e.rate),
                        "settleTime": e.time_ms,
                        "collectCycle": iv // 3_600_000,
                    }
                    for e in rows
                ],
            }
        )

    @route("GET", HOSTS, "/api/v1/contract/index_price/{symbol}", weight=1)
    @route("GET", HOSTS, "/api/v1/contract/fair_price/{symbol}", weight=1)
    async def contract_index(self, req: SimRequest) -> Any:
        """Index price (the reference) and fair price (the mark: index × (1 + premium))."""
        sym = self._contract_symbol(req.path_params.get("symbol"))
        now = self.now_ms()
        if "fair_price" in req.path:
            return self._ok({"symbol": sym, "fairPrice": _num(self.risk.mark(sym, now)), "timestamp": now})
        return self._ok({"symbol": sym, "indexPrice": _num(self.risk.index(sym, now)), "timestamp": now})

    # ---- contract account and orders ---------------------------------------------------------------

    def _asset_row(self, key: ApiKey) -> dict[str, Any]:
        acc = self.perps.account(key.account)
        unreal = self.perps.unrealized(acc)
        pos_margin = self.perps.position_margin(acc)
        avail = self.perps.available(acc)
        return {
            "currency": acc.asset,
            "positionMargin": _num(pos_margin),
            "availableBalance": _num(avail),
            "cashBalance": _num(acc.wallet - pos_margin - acc.order_margin),
            "frozenBalance": _num(acc.order_margin),
            "equity": _num(acc.wallet + unreal),
            "unrealized": _num(unreal),
            "bonus": 0,
            "availableCash": _num(avail),
            "availableOpen": _num(avail),
        }

    @route("GET", HOSTS, "/api/v1/private/account/assets", weight=1)
    async def contract_assets(self, req: SimRequest) -> Any:
        """All contract account assets (needs CONTRACT_ACCOUNT_READ, i.e. futures permission)."""
        key = self._contract_auth(req, "CONTRACT_ACCOUNT_READ")
        return self._ok([self._asset_row(key)])

    @route("GET", HOSTS, "/api/v1/private/account/asset/{currency}", weight=1)
    async def contract_asset(self, req: SimRequest) -> Any:
        """One contract account asset."""
        key = self._contract_auth(req, "CONTRACT_ACCOUNT_READ")
        if req.path_params.get("currency") != "USDT":
            raise _cerr(4001, "Unsupported currency")
        return self._ok(self._asset_row(key))

    @route("GET", HOSTS, "/api/v1/private/position/open_positions", weight=1)
    async def contract_positions(self, req: SimRequest) -> Any:
        """Open positions (one-way: positionType 1 long, 2 short)."""
        key = self._contract_auth(req, "CONTRACT_DEAL_READ")
        want = req.params.get("symbol")
        acc = self.perps.account(key.account)
        out = []
        for sym, pos in acc.positions.items():
            if not pos.qty or (want and sym != want):
                continue
            lev = self.perps.leverage(key.account, sym)
            im = self.perps.initial_margin(acc, sym, pos)
            liq = self.perps.liquidation_price(key.account, sym)
            inst = self.contracts.instruments[sym]
            out.append(
                {
                    "positionId": self.contract_ids.get(sym, 0),
                    "symbol": sym,
                    "positionType": 1 if pos.qty > 0 else 2,
                    "openType": 1 if pos.isolated else 2,
                    "state": 1,
                    "holdVol": _num(abs(pos.qty)),
                    "frozenVol": 0,
                    "closeVol": 0,
                    "holdAvgPrice": _num(pos.entry),
                    "openAvgPrice": _num(pos.entry),
                    "closeAvgPrice": 0,
                    "liquidatePrice": _num(liq.quantize(inst.tick)) if liq else 0,
                    "oim": _num(im - pos.funding if pos.isolated else im),
                    "im": _num(im),
                    "holdFee": _num(pos.funding),
                    "realised": _num(pos.realized),
                    "leverage": lev,
                    "createTime": pos.opened_ms,
                    "updateTime": pos.updated_ms,
                    "autoAddIm": False,
                }
            )
        return self._ok(out)

    @staticmethod
    def _contract_state(o: Order) -> int:
        # 1 uninformed, 2 uncompleted, 3 completed, 4 cancelled, 5 invalid
        if o.status is Status.FILLED:
            return 3
        if o.status in (Status.CANCELED, Status.EXPIRED):
            return 4
        return 2

    def _contract_order(self, o: Order) -> dict[str, Any]:
        # 1 open long, 2 close short, 3 open short, 4 close long (a liquidation closes)
        closing = o.reduce_only
        default_side = (2 if closing else 1) if o.side is Side.BUY else (4 if closing else 3)
        side = o.extra.get("mexc_side", default_side)
        cs = self.contracts.instruments[o.symbol].contract_size
        taker = sum((f.fee for f in o.fills if not f.is_maker), Decimal(0))
        maker = sum((f.fee for f in o.fills if f.is_maker), Decimal(0))
        return {
            "orderId": str(o.order_id),
            "symbol": o.symbol,
            "positionId": 0,
            "price": _num(o.price or Decimal(0)),
            "vol": _num(o.qty or Decimal(0)),
            "leverage": o.extra.get("leverage", self.perps.default_leverage),
            "side": side,
            # category 2: "system take-over delegate", the liquidation engine's orders
            "category": 2 if o.extra.get("liquidation") else 1,
            "orderType": o.extra.get("mexc_type", 5),
            # fills' quote amounts include the contract size; the average price does not
            "dealAvgPrice": _num(o.cum_quote / (o.executed_qty * cs) if o.executed_qty else Decimal(0)),
            "dealVol": _num(o.executed_qty),
            "orderMargin": _num(o.locked),
            "takerFee": _num(taker),
            "makerFee": _num(maker),
            "profit": _num(sum((f.realized_pnl for f in o.fills), Decimal(0))),
            "feeCurrency": "USDT",
            "openType": o.extra.get("openType", 2),
            "state": self._contract_state(o),
            "externalOid": self._cid(o) or "",
            "errorCode": 0,
            "usedMargin": 0,
            "createTime": o.created_ms,
            "updateTime": o.updated_ms,
            "positionMode": 2,
        }

    def _contract_reject(self, exc: OrderRejected) -> VenueError:
        r = exc.reason
        if r is Reject.INSUFFICIENT_BALANCE:
            return _cerr(2005, "Balance insufficient")
        if r in (Reject.LOT_SIZE, Reject.MARKET_LOT_SIZE, Reject.MIN_NOTIONAL):
            return _cerr(2011, "Order quantity error")
        if r is Reject.PRICE_FILTER:
            return _cerr(2015, "Price or quantity accuracy error")
        if r is Reject.REDUCE_ONLY:
            return _cerr(2009, "Positions do not exist or have been closed")
        if r is Reject.UNKNOWN_SYMBOL:
            return _cerr(1001, "Contract does not exist")
        if r is Reject.DUPLICATE_CLIENT_ID:
            return _cerr(603, "Repeated requests")
        return _cerr(600, "Param error!")

    def _json_body(self, req: SimRequest) -> Any:
        try:
            return req.json()
        except ValueError as exc:
            raise _cerr(601, "Data decoding error") from exc

    @route("POST", HOSTS, "/api/v1/private/order/submit", weight=1)
    @route("POST", HOSTS, "/api/v1/private/order/create", weight=1)
    async def contract_order(self, req: SimRequest) -> Any:
        """Place an order: side 1 open long, 2 close short, 3 open short, 4 close long; type 1..6."""
        key = self._contract_auth(req, "CONTRACT_DEAL_WRITE")
        body = self._json_body(req)
        if not isinstance(body, dict):
            raise _cerr(600, "Param error!")
        sym = self._contract_symbol(body.get("symbol"))
        inst = self.contracts.instruments[sym]
        vol = parse_decimal(str(body.get("vol", "")))
        side = body.get("side")
        otype = body.get("type")
        open_type = body.get("openType")
        if vol is None or vol <= 0:
            raise _cerr(2011, "Order quantity error")
        if side not in (1, 2, 3, 4):
            raise _cerr(2001, "Wrong order direction")
        if otype not in (1, 2, 3, 4, 5, 6):
            raise _cerr(2029, "Error order type")
        if open_type not in (1, 2):
            raise _cerr(2002, "Wrong opening type")
        leverage = body.get("leverage")
        if open_type == 1 and not isinstance(leverage, int):
            raise _cerr(2006, "Leverage ratio error")
        is_market = otype in (5, 6)
        price = None if is_market else parse_decimal(str(body.get("price", "")))
        if not is_market and (price is None or price <= 0):
            raise _cerr(2007, "Order price error")
        if vol % inst.step != 0 or (price is not None and price % inst.tick != 0):
            raise _cerr(2015, "Price or quantity accuracy error")
        try:
            # one position per contract in the sim: a flat one opens in the order's openType
            self.perps.set_margin_mode(key.account, sym, "isolated" if open_type == 1 else "cross")
        except ValueError as exc:
            raise _cerr(2002, "Wrong opening type") from exc
        if isinstance(leverage, int):
            self.perps.account(key.account).leverage[sym] = leverage
        tif = {1: TIF.GTC, 2: TIF.GTX, 3: TIF.IOC, 4: TIF.FOK}.get(otype, TIF.IOC)
        cid = body.get("externalOid")
        try:
            order = self.contracts.new_order(
                key.account,
                sym,
                Side.BUY if side in (1, 2) else Side.SELL,
                OrdType.MARKET if is_market else OrdType.LIMIT,
                qty=vol,
                price=price,
                tif=tif,
                client_order_id=str(cid) if cid else None,
                reduce_only=side in (2, 4),
                extra={
                    "mexc_side": side,
                    "mexc_type": otype,
                    "openType": open_type,
                    "leverage": self.perps.leverage(key.account, sym),
                },
            )
        except OrderRejected as exc:
            raise self._contract_reject(exc) from exc
        return self._ok({"orderId": str(order.order_id), "ts": order.created_ms})

    def _contract_find(self, key: ApiKey, raw: str | None) -> Order:
        if not raw or not raw.isdigit():
            raise _cerr(600, "Param error!")
        try:
            return self.contracts.find(key.account, order_id=int(raw))
        except OrderNotFound as exc:
            raise _cerr(2040, "Order does not exist") from exc

    @route("GET", HOSTS, "/api/v1/private/order/get/{order_id}", weight=1)
    async def contract_get_order(self, req: SimRequest) -> Any:
        """Order by id."""
        key = self._contract_auth(req, "CONTRACT_DEAL_READ")
        return self._ok(self._contract_order(self._contract_find(key, req.path_params.get("order_id"))))

    @route("POST", HOSTS, "/api/v1/private/order/cancel", weight=1)
    async def contract_cancel(self, req: SimRequest) -> Any:
        """Cancel orders: body is a JSON list of order ids; one result per id."""
        key = self._contract_auth(req, "CONTRACT_DEAL_WRITE")
        ids = self._json_body(req)
        if not isinstance(ids, list) or not ids:
            raise _cerr(600, "Param error!")
        out = []
        for raw in ids:
            try:
                order = self._contract_find(key, str(raw))
                self.contracts.cancel(key.account, order_id=order.order_id)
                out.append({"orderId": str(raw), "errorCode": 0, "errorMsg": "success"})
            except (VenueError, CancelRejected):
                out.append(
                    {"orderId": str(raw), "errorCode": 2041, "errorMsg": "order state cannot be cancelled"}
                )
        return self._ok(out)

    @route("GET", HOSTS, "/api/v1/private/order/list/open_orders/{symbol}", weight=1)
    @route("GET", HOSTS, "/api/v1/private/order/list/open_orders", weight=1)
    async def contract_open_orders(self, req: SimRequest) -> Any:
        """Current open orders, optionally of one contract."""
        key = self._contract_auth(req, "CONTRACT_DEAL_READ")
        sym = req.path_params.get("symbol")
        if sym:
            self._contract_symbol(sym)
        return self._ok([self._contract_order(o) for o in self.contracts.open_orders(key.account, sym)])

    @route("GET", HOSTS, "/api/v1/private/order/list/order_deals", weight=1)
    async def contract_deals_mine(self, req: SimRequest) -> Any:
        """The account's fills of one contract."""
        key = self._contract_auth(req, "CONTRACT_DEAL_READ")
        sym = self._contract_symbol(req.params.get("symbol"))
        return self._ok(
            [
                {
                    "id": str(f.trade_id),
                    "symbol": f.symbol,
                    "side": 1 if f.side is Side.BUY else 3,
                    "vol": _num(f.qty),
                    "price": _num(f.price),
                    "feeCurrency": f.fee_asset,
                    "fee": _num(f.fee),
                    "timestamp": f.time_ms,
                    "profit": _num(f.realized_pnl),
                    "category": 2 if self.contracts.orders[f.order_id].extra.get("liquidation") else 1,
                    "orderId": str(f.order_id),
                    "positionMode": 2,
                    "taker": not f.is_maker,
                }
                for f in self.contracts.fills(key.account, sym)
            ]
        )

    # ---- contract leverage, cancel all, order history, funding records ------------------------------

    @route("POST", HOSTS, "/api/v1/private/position/change_leverage", weight=1)
    async def contract_change_leverage(self, req: SimRequest) -> Any:
        """Switch leverage: with positionId, of that position; else symbol + openType (1 isolated,
        2 cross) + positionType, which also sets the margin mode a flat contract opens in."""
        key = self._contract_auth(req, "CONTRACT_DEAL_WRITE")
        body = self._json_body(req)
        if not isinstance(body, dict):
            raise _cerr(600, "Param error!")
        lev = body.get("leverage")
        if not isinstance(lev, int) or isinstance(lev, bool) or not 1 <= lev <= 200:
            raise _cerr(2006, "Leverage ratio error")
        if body.get("positionId") not in (None, ""):
            by_id = {v: k for k, v in self.contract_ids.items()}
            sym = by_id.get(int(str(body["positionId"]))) if str(body["positionId"]).isdigit() else None
            if sym is None or not self.perps.position(key.account, sym).qty:
                raise _cerr(2009, "Positions do not exist or have been closed")
        else:
            sym = self._contract_symbol(body.get("symbol"))
            open_type = body.get("openType")
            if open_type not in (1, 2) or body.get("positionType") not in (1, 2):
                raise _cerr(600, "Param error!")
            try:
                self.perps.set_margin_mode(key.account, sym, "isolated" if open_type == 1 else "cross")
            except ValueError as exc:
                raise _cerr(2002, "Wrong opening type") from exc
        self.perps.account(key.account).leverage[sym] = lev
        return {"success": True, "code": 0}

    @route("GET", HOSTS, "/api/v1/private/position/leverage", weight=1)
    async def contract_leverage(self, req: SimRequest) -> Any:
        """Get leverage: one row per position side (one risk level in the sim)."""
        key = self._contract_auth(req, "CONTRACT_DEAL_READ")
        sym = self._contract_symbol(req.params.get("symbol"))
        lev = self.perps.leverage(key.account, sym)
        open_type = 1 if self.perps.margin_mode(key.account, sym) == "isolated" else 2
        return self._ok(
            [
                {
                    "positionType": side,
                    "level": 1,
                    "maxVol": 1_000_000,
                    "mmr": _num(self.perps.mmr),
                    "imr": _num(Decimal(1) / lev),
                    "leverage": lev,
                    "openType": open_type,
                    "limitBySys": False,
                    "currentMmr": _num(self.perps.mmr),
                }
                for side in (1, 2)
            ]
        )

    @route("POST", HOSTS, "/api/v1/private/order/cancel_all", weight=1)
    async def contract_cancel_all(self, req: SimRequest) -> Any:
        """Cancel all orders under a contract (or every contract when no symbol)."""
        key = self._contract_auth(req, "CONTRACT_DEAL_WRITE")
        body = self._json_body(req) if req.body else {}
        sym = body.get("symbol") if isinstance(body, dict) else None
        if sym:
            self._contract_symbol(sym)
        self.contracts.cancel_all(key.account, sym or None)
        return {"success": True, "code": 0}

    @route("GET", HOSTS, "/api/v1/private/order/list/history_orders", weight=1)
    async def contract_history_orders(self, req: SimRequest) -> Any:
        """All historical orders, newest first: filters symbol, states, category, side, start/end_time;
        page_num/page_size (20, max 100)."""
        key = self._contract_auth(req, "CONTRACT_DEAL_READ")
        sym = req.params.get("symbol") or None
        if sym:
            self._contract_symbol(sym)
        page = self._int(req, "page_num", 1) or 1
        size = min(100, self._int(req, "page_size", 20) or 20)
        states = {int(x) for x in (req.params.get("states") or "").split(",") if x.isdigit()}
        category = self._int(req, "category")
        side = self._int(req, "side")
        start, end = self._int(req, "start_time"), self._int(req, "end_time")
        rows = []
        for o in reversed(self.contracts.all_orders(key.account, sym)):
            view = self._contract_order(o)
            if (states and view["state"] not in states) or (category and view["category"] != category):
                continue
            if (
                (side and view["side"] != side)
                or (start and o.created_ms < start)
                or (end and o.created_ms > end)
            ):
                continue
            rows.append(view)
        return self._ok(rows[(page - 1) * size : page * size])

    @route("GET", HOSTS, "/api/v1/private/position/funding_records", weight=1)
    async def contract_funding_records(self, req: SimRequest) -> Any:
        """Get details of user's funding rate: settlements newest first (funding < 0: paid)."""
        key = self._contract_auth(req, "CONTRACT_DEAL_READ")
        sym = req.params.get("symbol") or None
        if sym:
            self._contract_symbol(sym)
        page = self._int(req, "page_num", 1) or 1
        size = min(100, self._int(req, "page_size", 20) or 20)
        rows = [
            e
            for e in reversed(self.perps.account(key.account).journal)
            if e.kind == "funding" and (sym is None or e.symbol == sym)
        ]
        items = [
            {
                "id": e.entry_id,
                "symbol": e.symbol,
                "positionType": 1 if e.info["qty"] > 0 else 2,
                "positionValue": _num(
                    abs(e.info["qty"]) * self.contracts.instruments[e.symbol].contract_size * e.info["mark"]
                ),
                "funding": _num(e.amount),
                "rate": _num(e.info["rate"]),
                "settleTime": e.time_ms,
            }
            for e in rows[(page - 1) * size : page * size]
        ]
        total = len(rows)
        return self._ok(
            {
                "pageSize": size,
                "totalCount": total,
                "totalPage": -(-total // size),
                "currentPage": page,
                "resultList": items,
            }
        )


# futures "Error code": the scope each private endpoint needs, with the code it is refused with
_CONTRACT_SCOPE_ERRORS: dict[str, tuple[int, str]] = {
    "CONTRACT_ACCOUNT_READ": (701, "Account read permission is required"),
    "CONTRACT_ACCOUNT_WRITE": (702, "Account modify permission is required"),
    "CONTRACT_DEAL_READ": (703, "Trade information read permission is required"),
    "CONTRACT_DEAL_WRITE": (704, "Transaction information modify permission is required"),
}

VENUE = MexcVenue
