"""KuCoin: spot/margin host api.kucoin.com and futures host api-futures.kucoin.com.

Written from KuCoin's own API documentation (docs-new, "Authentication", "Error Code", the REST
pages of "Spot Trading", "Account Info" and "Futures Trading"; response shapes follow the examples
published there). Every answer is `{"code": "200000", "data": ...}`; errors are
`{"code": "NNNNNN", "msg": "..."}`. Private calls carry KC-API-KEY, KC-API-SIGN (base64 HMAC-SHA256 of
timestamp + METHOD + path?query + body), KC-API-TIMESTAMP (ms, within 5 s of server time) and
KC-API-PASSPHRASE (HMAC-signed with the secret for KC-API-KEY-VERSION 2/3, plain for v1).

The simulated account is a high-frequency ("HF") spot account, which is what KuCoin's current docs
describe first (the non-HF `/api/v1/orders` family is labelled "- Old"); both families are served.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import secrets
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

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
from ..signing import equal, hmac_sha256_b64
from ..streams.kucoin import STREAM_HOSTS, KucoinStreams
from ..venue import SimRequest, Venue, VenueError, dumps, fmt, route

SPOT = "api.kucoin.com"
FUT = "api-futures.kucoin.com"
OK = "200000"
TIMESTAMP_WINDOW_MS = 5_000  # docs "Authentication": must be within 5 seconds of server time
# docs-new "Rate Limit", VIP0 row: weight per 30 s of each resource pool
POOL_QUOTAS: dict[str, int] = {"spot": 4000, "futures": 2000, "management": 2000, "public": 2000}
MANAGEMENT_PREFIXES = (
    "/api/v1/accounts",
    "/api/v1/user/",
    "/api/v2/user-info",
    "/api/v1/withdrawals",
    "/api/v3/withdrawals",
)
# docs "Authentication" / "Signing a Message": V1 keys send the passphrase in plain text, V2 and V3
# keys send it HMAC-SHA256-signed with the secret (base64) and name their version; keys made today
# are V3.
KEY_VERSIONS = (1, 2, 3)
CURRENT_KEY_VERSION = 3
ZERO = Decimal(0)

# Spot kline `type` values (docs: Get Klines) in minutes.
SPOT_KLINE_MINUTES: dict[str, int] = {
    "1min": 1,
    "3min": 3,
    "5min": 5,
    "15min": 15,
    "30min": 30,
    "1hour": 60,
    "2hour": 120,
    "4hour": 240,
    "6hour": 360,
    "8hour": 480,
    "12hour": 720,
    "1day": 1440,
    "1week": 10080,
}
# Futures kline `granularity` values (docs: Futures Get Klines), minutes.
FUT_GRANULARITIES = (1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 10080)

# Linear USDT-margined perpetuals: KuCoin's contract multiplier and tick per base (contracts/active).
FUT_SPECS: dict[str, tuple[str, str]] = {
    "BTC": ("0.001", "0.1"),
    "ETH": ("0.01", "0.01"),
    "BNB": ("0.01", "0.01"),
    "SOL": ("0.1", "0.001"),
    "XRP": ("10", "0.0001"),
    "DOGE": ("100", "0.00001"),
    "ADA": ("10", "0.00001"),
    "LTC": ("0.1", "0.01"),
}

# Currency metadata for GET /api/v3/currencies: full name, precision, chains (name, chainId, min fee).
CURRENCIES: dict[str, tuple[str, int, tuple[tuple[str, str, str], ...]]] = {
    "BTC": ("Bitcoin", 8, (("BTC", "btc", "0.0005"),)),
    "ETH": ("Ethereum", 8, (("ERC20", "eth", "0.002"),)),
    "USDT": ("Tether", 8, (("ERC20", "eth", "5"), ("TRC20", "trx", "1"))),
    "BNB": ("Binance Coin", 8, (("BEP20", "bsc", "0.001"),)),
    "SOL": ("Solana", 8, (("SOL", "sol", "0.01"),)),
    "XRP": ("XRP", 6, (("XRP", "xrp", "0.2"),)),
    "DOGE": ("Dogecoin", 8, (("DOGE", "doge", "5"),)),
    "ADA": ("Cardano", 6, (("ADA", "ada", "1"),)),
    "LTC": ("Litecoin", 8, (("LTC", "ltc", "0.001"),)),
}

# Sim permission -> KuCoin API-key permission name (docs "Get Apikey Info": "General,Spot,Futures,...";
# "Transfer" is the withdrawal permission, "InnerTransfer" the internal-transfer one).
PERMISSION_NAMES: tuple[tuple[str, str], ...] = (
    ("read", "General"),
    ("spot_trade", "Spot"),
    ("futures_trade", "Futures"),
    ("withdraw", "Transfer"),
)

HEX24 = re.compile(r"^[0-9a-f]{24}$")


def _err(status: int, code: str, msg: str) -> VenueError:
    return VenueError(status, code, msg)


def _param_error(msg: str = "Parameter Error") -> VenueError:
    # docs "Error Code" (spot): 400100 is the generic invalid-parameter code
    return _err(400, "400100", msg)


def _ok(data: Any) -> dict[str, Any]:
    return {"code": OK, "data": data}


def _s(value: Decimal | None) -> str:
    return fmt(value if value is not None else ZERO)


def _num(value: Decimal) -> float | int:
    """A JSON number as the futures API writes them (ints stay ints)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _decimal(raw: Any, name: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise _param_error(f"{name} is invalid") from exc
    if not value.is_finite():
        raise _param_error(f"{name} is invalid")
    return value


def _mask_ip(entry: str) -> str:
    """KuCoin masks whitelisted IPv4 addresses as `203.**.154` in Get Apikey Info."""
    try:
        addr = ipaddress.ip_address(entry)
    except ValueError:
        return entry
    if addr.version == 4:
        parts = entry.split(".")
        return f"{parts[0]}.**.{parts[3]}"
    return entry


class KucoinVenue(KucoinStreams, Venue):
    """KuCoin spot (HF account) and USDT-margined futures."""

    name = "kucoin"
    hosts = (SPOT, FUT, *STREAM_HOSTS)
    needs_passphrase = True
    # docs-new "Rate Limit": separate resource pools (see rate_pool); None here means no single
    # per-IP pool. An admin weight_limit still caps every pool at once (tests use a small one).
    weight_limit = None
    weight_window_s = 30.0
    ban_seconds = 0.0

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.wallets = Wallets()
        # spot fees are charged in the quote currency (symbols' feeCurrency); 100 synthetic levels
        # a side, so level2_100 and the full book have something to show
        self.spot = Engine(
            self.market, SpotSettlement(self.wallets, fee_in="quote"), name="spot", book_depth=100
        )
        # futures "Switch Margin Mode": a symbol trades in ISOLATED mode until switched to CROSS
        self.perps = PerpSettlement(
            Decimal("10000"), "USDT", default_leverage=1, default_margin_mode="isolated"
        )
        self.futures = Engine(
            self.market,
            self.perps,
            name="futures",
            first_order_id=50_000_000,
            book_depth=100,
            clock=self.now_ms,
        )
        # "Get Current Funding Rate": 8-hour granularity, fundingRateCap/Floor ±0.3 %; one risk tier
        # with maintenance margin 0.4 % (maintainMargin of the first risk limit level)
        self.risk = PerpRisk(
            self.name,
            ctx.seed,
            self.market,
            self.futures,
            self.perps,
            self.now_ms,
            FundingRules(cap=Decimal("0.003")),
        )
        self.engines = [self.spot, self.futures]
        self.multipliers: dict[str, Decimal] = {}
        self.withdrawals: list[dict[str, Any]] = []
        for spec in self.pairs:
            self.spot.add_instrument(
                Instrument(
                    f"{spec.base}-{spec.quote}",
                    spec.pair,
                    spec.base,
                    spec.quote,
                    "spot",
                    tick=spec.tick,
                    step=spec.step,
                    min_qty=spec.step,
                    max_qty=Decimal("10000000000"),
                    market_max_qty=Decimal("10000000000"),
                    min_price=spec.tick,
                    max_price=Decimal("100000000"),
                    # quoteMinSize (minimum funds): 0.1 USDT on USDT markets
                    min_notional=Decimal("0.1") if spec.quote == "USDT" else Decimal("0.00001"),
                    maker_fee=Decimal("0.001"),
                    taker_fee=Decimal("0.001"),
                )
            )
            if spec.quote == "USDT" and spec.base in FUT_SPECS:
                mult, tick = (Decimal(x) for x in FUT_SPECS[spec.base])
                sym = f"{'XBT' if spec.base == 'BTC' else spec.base}USDTM"
                self.multipliers[sym] = mult
                # Engine quantities are base units (contracts x multiplier): the synthetic book then
                # has realistic depth; the venue converts to and from whole contracts.
                self.futures.add_instrument(
                    Instrument(
                        sym,
                        spec.pair,
                        spec.base,
                        spec.quote,
                        "perp",
                        tick=tick,
                        step=mult,
                        min_qty=mult,
                        max_qty=mult * 1_000_000,
                        market_max_qty=mult * 1_000_000,
                        min_price=tick,
                        max_price=Decimal("1000000"),
                        min_notional=ZERO,
                        maker_fee=Decimal("0.0002"),
                        taker_fee=Decimal("0.0006"),
                        settle="USDT",
                    )
                )

    # ---- accounts --------------------------------------------------------------------------------

    def on_key_created(self, key: ApiKey, balances: dict[str, Decimal] | None) -> None:
        """Spot (trade_hf) wallet from `balances` or the defaults; futures wallet 10000 USDT."""
        self.wallets.ensure(key.account, balances)
        futures_usdt = None if balances is None else balances.get("USDT", ZERO)
        self.perps.account(key.account, futures_usdt)

    def set_balances(self, key: ApiKey, balances: dict[str, Decimal]) -> None:
        """Admin: replace the key's spot balances (and its futures USDT wallet)."""
        self.wallets.set(key.account, balances)
        if "USDT" in balances:
            self.perps.account(key.account).wallet = balances["USDT"]

    def on_tick(self) -> None:
        """Fill crossed resting orders, then charge crossed funding times and liquidate (futures)."""
        super().on_tick()
        self.risk.update()

    # ---- wire format hooks -----------------------------------------------------------------------

    def rate_pool(self, req: SimRequest, limit: int | None) -> tuple[str, int | None]:
        """docs-new "Rate Limit": one quota per resource pool, 30 s windows from the first request.

        VIP0 quotas: Spot 4000, Futures 2000, Management 2000, Public 2000 weight per 30 s. Private
        pools count per user (UID), the Public pool per IP ("Rate limit 1.0": private endpoints limit the
        account by userid, public ones the IP), so public polling never drains a private pool.
        Each endpoint's page names its pool (API-RATE-LIMIT-POOL); account/key/withdrawal pages say
        Management.
        """
        key_id = req.headers.get("KC-API-KEY")
        if not key_id:
            pool, subject = "public", req.remote
        else:
            key = self.keys.get(key_id)
            subject = key.account if key is not None and key.venue == self.name else f"ip:{req.remote}"
            if req.host == FUT:
                pool = "futures"
            elif req.path.startswith(MANAGEMENT_PREFIXES):
                pool = "management"
            else:
                pool = "spot"
        quota = limit if limit is not None else self.limit(pool, POOL_QUOTAS[pool])
        return f"{pool}:{subject}", quota

    def rate_limited(
        self, req: SimRequest, used: int, limit: int, retry_after: int, banned: bool
    ) -> VenueError:
        """docs "Rate Limit": HTTP 429, code 429000, gw-ratelimit-* headers (reset in ms)."""
        headers = {
            "gw-ratelimit-limit": str(limit),
            "gw-ratelimit-remaining": "0",
            "gw-ratelimit-reset": str(max(req.rate_reset_ms, 1)),
        }
        return VenueError(429, "429000", "Too Many Requests", headers=headers)

    def key_extra(self, body: dict[str, Any]) -> dict[str, Any]:
        """`kc_version` (1, 2 or 3; default the current 3): the key's API version, fixed at creation."""
        raw = body.get("kc_version", CURRENT_KEY_VERSION)
        if isinstance(raw, bool) or not isinstance(raw, int | str) or str(raw) not in ("1", "2", "3"):
            raise ValueError(f"kc_version must be one of {list(KEY_VERSIONS)}")
        return {"kc_version": int(raw)}

    def fault_error(self, req: SimRequest, status: int) -> web.Response:
        """Injected 429/500 in KuCoin's JSON shape (429000, 500000); other statuses as a gateway would."""
        if status == 429:
            body = {"code": "429000", "msg": "Too Many Requests"}
            return web.json_response(body, status=429, dumps=dumps)
        if status == 500:
            body = {"code": "500000", "msg": "Internal Server Error"}
            return web.json_response(body, status=500, dumps=dumps)
        return super().fault_error(req, status)

    def not_found(self, req: SimRequest) -> web.Response:
        """docs "Error Code": 404000 Url Not Found."""
        return web.json_response({"code": "404000", "msg": "Url Not Found"}, status=404, dumps=dumps)

    def decorate(self, req: SimRequest, resp: web.StreamResponse) -> None:
        """gw-ratelimit-limit / -remaining / -reset (ms) of the request's pool on every answer."""
        super().decorate(req, resp)
        limit = req.rate_limit
        if limit and req.used_weight and "gw-ratelimit-limit" not in resp.headers:
            resp.headers["gw-ratelimit-limit"] = str(limit)
            resp.headers["gw-ratelimit-remaining"] = str(max(0, limit - req.used_weight))
            resp.headers["gw-ratelimit-reset"] = str(req.rate_reset_ms)

    # ---- authentication ----------------------------------------------------------------------------

    def _auth(self, req: SimRequest, perm: str | None = "read") -> ApiKey:
        """Headers → key → timestamp → signature → passphrase → IP whitelist → permission.

        Codes and messages from docs "Error Code" (gateway 4000xx); HTTP 401 for credential errors,
        400 for the timestamp, 403 for IP and permission refusals, as KuCoin answers them.
        """
        h = req.headers
        key_id = h.get("KC-API-KEY")
        req.api_key_id = key_id
        sign = h.get("KC-API-SIGN")
        ts_raw = h.get("KC-API-TIMESTAMP")
        passphrase = h.get("KC-API-PASSPHRASE")
        if not key_id or not sign or not ts_raw or passphrase is None:
            raise _err(
                401,
                "400001",
                "Any of KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE is missing "
                "in your request header.",
            )
        key = self.keys.get(key_id)
        # a revoked (deleted) or expired key no longer exists as far as the gateway is concerned
        if key is None or key.venue != self.name or not key.is_active(req.now_ms) or key.secret is None:
            raise _err(401, "400003", "KC-API-KEY does not exist.")
        if not ts_raw.isdigit() or abs(req.now_ms - int(ts_raw)) > TIMESTAMP_WINDOW_MS:
            raise _err(400, "400002", "Invalid KC-API-TIMESTAMP.")
        # prehash: timestamp + METHOD + path (with ?query for GET/DELETE) + body; the docs sign the
        # query as it reads before URL-encoding, so the decoded form is accepted as well
        body = req.body.decode(errors="replace")
        candidates = {req.query_string, unquote(req.query_string)}
        ok = False
        for qs in candidates:
            endpoint = req.path + (f"?{qs}" if qs else "")
            expected = hmac_sha256_b64(key.secret, ts_raw + req.method.upper() + endpoint + body)
            ok = ok or equal(expected, sign)
        if not ok:
            raise _err(401, "400005", "Invalid KC-API-SIGN.")
        # the key's version decides the passphrase form: plain for a V1 key only; a V2/V3 key must send
        # the signed form (and a signed version header), a plain passphrase is refused with 400004
        key_version = int(key.extra.get("kc_version", CURRENT_KEY_VERSION))
        header_version = h.get("KC-API-KEY-VERSION", "1")
        if key_version >= 2:
            signed_ok = header_version in ("2", "3")
            expected_pass = hmac_sha256_b64(key.secret, key.passphrase or "") if signed_ok else None
        else:
            expected_pass = key.passphrase if header_version == "1" else None
        if expected_pass is None or not equal(expected_pass, passphrase):
            raise _err(401, "400004", "Invalid KC-API-PASSPHRASE.")
        if not key.allows_ip(req.remote):
            raise _err(403, "400006", f"Invalid request IP, the current client IP is: {req.remote}.")
        if perm is not None and not key.has(perm):
            raise _err(403, "400007", "Access denied, requires more permission.")
        req.api_key = key
        return key

    # ---- parameter helpers -------------------------------------------------------------------------

    def _body(self, req: SimRequest) -> dict[str, Any]:
        """JSON body of a POST; docs: Content-Type must be application/json (else 415000)."""
        if not req.body:
            return {}
        if "json" not in req.headers.get("Content-Type", ""):
            raise _err(415, "415000", "Unsupported Media Type")
        try:
            data = json.loads(req.body)
        except ValueError as exc:
            raise _param_error("Request body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise _param_error("Request body must be a JSON object")
        return data

    def _spot_symbol(self, raw: Any, required: bool = True) -> str | None:
        if raw is None or raw == "":
            if required:
                raise _param_error("symbol is required")
            return None
        sym = str(raw)
        if sym not in self.spot.instruments:
            raise _param_error("Unsupported trading pair.")
        return sym

    def _fut_symbol(self, raw: Any, required: bool = True) -> str | None:
        if raw is None or raw == "":
            if required:
                raise _err(200, "100001", "There are invalid parameters")
            return None
        sym = str(raw)
        if sym not in self.futures.instruments:
            # futures docs: 200003 "The symbol parameter is invalid."
            raise _err(200, "200003", "The symbol parameter is invalid.")
        return sym

    def _pm(self, engine: Engine, symbol: str) -> PairMarket:
        return self.market.get(engine.instruments[symbol].pair)

    @staticmethod
    def _order_id(o: Order) -> str:
        """24 hex digits like KuCoin's ids: creation second, then the engine's order number."""
        return f"{(o.created_ms // 1000) & 0xFFFFFFFF:08x}{o.order_id:016x}"

    @staticmethod
    def _parse_order_id(raw: str) -> int | None:
        return int(raw[8:], 16) if HEX24.match(raw or "") else None

    def _uid(self, key: ApiKey) -> int:
        return int(hashlib.sha256(key.account.encode()).hexdigest()[:8], 16) % 900_000_000 + 100_000_000

    # ---- public: server ----------------------------------------------------------------------------

    @route("GET", SPOT, "/api/v1/timestamp", weight=3)
    @route("GET", FUT, "/api/v1/timestamp", weight=2)
    async def timestamp(self, req: SimRequest) -> Any:
        """Server time in ms (docs: Get Server Time)."""
        return _ok(req.now_ms)

    @route("GET", SPOT, "/api/v1/status", weight=3)
    @route("GET", FUT, "/api/v1/status", weight=4)
    async def status(self, req: SimRequest) -> Any:
        """Service status (docs: Get Service Status)."""
        return _ok({"status": "open", "msg": ""})

    # ---- public: spot market data --------------------------------------------------------------

    def _symbol_info(self, inst: Instrument) -> dict[str, Any]:
        # docs: Get All Symbols (v2) example
        return {
            "symbol": inst.symbol,
            "name": inst.symbol,
            "baseCurrency": inst.base,
            "quoteCurrency": inst.quote,
            "feeCurrency": inst.quote,
            "market": "USDS" if inst.quote == "USDT" else inst.quote,
            "baseMinSize": _s(inst.min_qty),
            "quoteMinSize": _s(inst.min_notional),
            "baseMaxSize": _s(inst.max_qty),
            "quoteMaxSize": "99999999",
            "baseIncrement": _s(inst.step),
            "quoteIncrement": _s(min(inst.tick, Decimal("0.000001"))),
            "priceIncrement": _s(inst.tick),
            "priceLimitRate": "0.1",
            "minFunds": _s(inst.min_notional),
            "isMarginEnabled": inst.quote == "USDT",
            "enableTrading": True,
            "feeCategory": 1,
            "makerFeeCoefficient": "1.00",
            "takerFeeCoefficient": "1.00",
            "st": False,
        }

    @route("GET", SPOT, "/api/v2/symbols", weight=4)
    async def symbols(self, req: SimRequest) -> Any:
        """All spot symbols, optionally filtered by `market` (docs: Get All Symbols)."""
        market = req.query.get("market")
        rows = [self._symbol_info(i) for i in self.spot.instruments.values()]
        return _ok([r for r in rows if not market or r["market"] == market])

    @route("GET", SPOT, "/api/v2/symbols/{symbol}", weight=4)
    async def symbol(self, req: SimRequest) -> Any:
        """One spot symbol (docs: Get Symbol)."""
        sym = self._spot_symbol(req.path_params["symbol"])
        assert sym is not None
        return _ok(self._symbol_info(self.spot.instruments[sym]))

    @route("GET", SPOT, "/api/v1/markets", weight=3)
    async def markets(self, req: SimRequest) -> Any:
        """Market (category) names (docs: Get Market List)."""
        return _ok(sorted({self._symbol_info(i)["market"] for i in self.spot.instruments.values()}))

    def _spot_stats(self, req: SimRequest, sym: str) -> dict[str, Any]:
        inst = self.spot.instruments[sym]
        pm = self._pm(self.spot, sym)
        stats = pm.stats_24h(req.now_ms)
        bids, asks = self.spot.depth(sym, 1)
        change = stats.close - stats.open
        rate = (change / stats.open).quantize(Decimal("0.0001")) if stats.open else ZERO
        avg = stats.quote_volume / stats.volume if stats.volume else stats.close
        return {
            "time": req.now_ms,
            "symbol": sym,
            "buy": _s(bids[0][0]) if bids else None,
            "sell": _s(asks[0][0]) if asks else None,
            "changeRate": _s(rate),
            "changePrice": _s(change),
            "high": _s(stats.high),
            "low": _s(stats.low),
            "vol": _s(stats.volume),
            "volValue": _s(stats.quote_volume),
            "last": _s(stats.close),
            "averagePrice": _s(avg.quantize(inst.tick, rounding=ROUND_FLOOR)),
            "takerFeeRate": _s(inst.taker_fee),
            "makerFeeRate": _s(inst.maker_fee),
            "takerCoefficient": "1",
            "makerCoefficient": "1",
        }

    @route("GET", SPOT, "/api/v1/market/stats", weight=15)
    async def market_stats(self, req: SimRequest) -> Any:
        """24h statistics of one symbol (docs: Get 24hr Stats)."""
        sym = self._spot_symbol(req.query.get("symbol"))
        assert sym is not None
        return _ok(self._spot_stats(req, sym))

    @route("GET", SPOT, "/api/v1/market/allTickers", weight=15)
    async def all_tickers(self, req: SimRequest) -> Any:
        """Every spot ticker (docs: Get All Tickers)."""
        rows = []
        for sym in self.spot.instruments:
            row = self._spot_stats(req, sym)
            row.pop("time")
            bids, asks = self.spot.depth(sym, 1)
            row["symbolName"] = sym
            row["bestBidSize"] = _s(bids[0][1]) if bids else None
            row["bestAskSize"] = _s(asks[0][1]) if asks else None
            rows.append(row)
        return _ok({"time": req.now_ms, "ticker": rows})

    @route("GET", SPOT, "/api/v1/market/orderbook/level1", weight=2)
    async def level1(self, req: SimRequest) -> Any:
        """Best bid/ask and last trade (docs: Get Ticker)."""
        sym = self._spot_symbol(req.query.get("symbol"))
        assert sym is not None
        pm = self._pm(self.spot, sym)
        bids, asks = self.spot.depth(sym, 1)
        last = pm.trades[-1] if pm.trades else None
        return _ok(
            {
                "time": req.now_ms,
                "sequence": str(self.market.tick),
                "price": _s(pm.price),
                "size": _s(last.qty if last else ZERO),
                "bestBid": _s(bids[0][0]) if bids else None,
                "bestBidSize": _s(bids[0][1]) if bids else None,
                "bestAsk": _s(asks[0][0]) if asks else None,
                "bestAskSize": _s(asks[0][1]) if asks else None,
            }
        )

    def _spot_book(self, req: SimRequest, depth: int) -> dict[str, Any]:
        sym = self._spot_symbol(req.query.get("symbol"))
        assert sym is not None
        # the level2 stream's sequence (streams/kucoin.py), so snapshot and diffs line up
        seq, bids, asks = self.book_snapshot("spot", sym, depth)
        return {
            "time": req.now_ms,
            "sequence": str(seq),
            "bids": [[_s(p), _s(q)] for p, q in bids],
            "asks": [[_s(p), _s(q)] for p, q in asks],
        }

    @route("GET", SPOT, "/api/v1/market/orderbook/level2_20", weight=2)
    async def level2_20(self, req: SimRequest) -> Any:
        """20 levels per side (docs: Get Part OrderBook)."""
        return _ok(self._spot_book(req, 20))

    @route("GET", SPOT, "/api/v1/market/orderbook/level2_100", weight=4)
    async def level2_100(self, req: SimRequest) -> Any:
        """100 levels per side (docs: Get Part OrderBook)."""
        return _ok(self._spot_book(req, 100))

    @route("GET", SPOT, "/api/v3/market/orderbook/level2", weight=3)
    async def level2_full(self, req: SimRequest) -> Any:
        """Full book; a private (General) endpoint (docs: Get Full OrderBook)."""
        self._auth(req, "read")
        return _ok(self._spot_book(req, 500))

    @route("GET", SPOT, "/api/v1/market/histories", weight=3)
    async def histories(self, req: SimRequest) -> Any:
        """Last 100 public trades, `time` in ns, `side` the taker's (docs: Get Trade History)."""
        sym = self._spot_symbol(req.query.get("symbol"))
        assert sym is not None
        trades = list(self._pm(self.spot, sym).trades)[-100:]
        return _ok(
            [
                {
                    "sequence": str(t.trade_id),
                    "price": _s(t.price),
                    "size": _s(t.qty),
                    "side": "sell" if t.buyer_maker else "buy",
                    "time": t.time_ms * 1_000_000,
                }
                for t in trades
            ]
        )

    @route("GET", SPOT, "/api/v1/market/candles", weight=3)
    async def candles(self, req: SimRequest) -> Any:
        """Klines newest first: [time s, open, close, high, low, volume, turnover] (docs: Get Klines)."""
        sym = self._spot_symbol(req.query.get("symbol"))
        assert sym is not None
        minutes = SPOT_KLINE_MINUTES.get(req.query.get("type", ""))
        if minutes is None:
            raise _param_error("type is invalid")
        start = self._int_param(req.query.get("startAt"), "startAt")
        end = self._int_param(req.query.get("endAt"), "endAt")
        candles = self._pm(self.spot, sym).klines(
            minutes * MINUTE_MS,
            start * 1000 if start else None,
            end * 1000 if end else None,
            limit=1500,  # "each request returns at most 1500 pieces of data"
        )
        return _ok(
            [
                [
                    str(c.open_ms // 1000),
                    _s(c.open),
                    _s(c.close),
                    _s(c.high),
                    _s(c.low),
                    _s(c.volume),
                    _s(c.quote_volume),
                ]
                for c in reversed(candles)
            ]
        )

    @staticmethod
    def _int_param(raw: str | None, name: str) -> int:
        if raw is None or raw == "":
            return 0
        if not raw.isdigit():
            raise _param_error(f"{name} is invalid")
        return int(raw)

    def _currency_info(self, code: str) -> dict[str, Any]:
        full, precision, chains = CURRENCIES[code]
        # docs: Get All Currencies (v3) example
        return {
            "currency": code,
            "name": code,
            "fullName": full,
            "precision": precision,
            "confirms": None,
            "contractAddress": None,
            "isMarginEnabled": True,
            "isDebitEnabled": True,
            "chains": [
                {
                    "chainName": name,
                    "withdrawalMinSize": fee,
                    "depositMinSize": None,
                    "withdrawFeeRate": "0",
                    "withdrawalMinFee": fee,
                    "isWithdrawEnabled": True,
                    "isDepositEnabled": True,
                    "confirms": 12,
                    "preConfirms": 12,
                    "contractAddress": "",
                    "withdrawPrecision": precision,
                    "maxWithdraw": None,
                    "maxDeposit": None,
                    "needTag": False,
                    "chainId": chain_id,
                }
                for name, chain_id, fee in chains
            ],
        }

    def _currency_codes(self) -> list[str]:
        codes = {c for i in self.spot.instruments.values() for c in (i.base, i.quote)}
        return sorted(c for c in codes if c in CURRENCIES)

    @route("GET", SPOT, "/api/v3/currencies", weight=3)
    async def currencies(self, req: SimRequest) -> Any:
        """Every currency with its chains (docs: Get All Currencies)."""
        return _ok([self._currency_info(c) for c in self._currency_codes()])

    @route("GET", SPOT, "/api/v3/currencies/{currency}", weight=3)
    async def currency(self, req: SimRequest) -> Any:
        """One currency (docs: Get Currency)."""
        code = req.path_params["currency"].upper()
        if code not in self._currency_codes():
            raise _param_error("Currency does not exist")
        return _ok(self._currency_info(code))

    # ---- private: account info -------------------------------------------------------------------

    @route("GET", SPOT, "/api/v1/user/api-key", weight=20)
    async def api_key_info(self, req: SimRequest) -> Any:
        """The calling key's permissions and IP whitelist (docs: Get Apikey Info)."""
        key = self._auth(req, perm=None)
        perms = [name for perm, name in PERMISSION_NAMES if key.has(perm)]
        return _ok(
            {
                "remark": key.label,
                "apiKey": key.api_key,
                "apiVersion": 3,
                "permission": ",".join(perms),
                "ipWhitelist": ",".join(_mask_ip(ip) for ip in key.ip_whitelist),
                "createdAt": key.created_ms,
                "uid": self._uid(key),
                "isMaster": True,
            }
        )

    @route("GET", SPOT, "/api/v2/user-info", weight=20)
    async def user_info(self, req: SimRequest) -> Any:
        """Account summary (docs: Get Account Summary Info)."""
        self._auth(req)
        return _ok(
            {
                "level": 0,
                "subQuantity": 0,
                "spotSubQuantity": 0,
                "marginSubQuantity": 0,
                "futuresSubQuantity": 0,
                "optionSubQuantity": 0,
                "maxSubQuantity": 5,
                "maxDefaultSubQuantity": 5,
                "maxSpotSubQuantity": 0,
                "maxMarginSubQuantity": 0,
                "maxFuturesSubQuantity": 0,
                "maxOptionSubQuantity": 0,
            }
        )

    @route("GET", SPOT, "/api/v1/hf/accounts/opened", weight=2)
    async def hf_opened(self, req: SimRequest) -> Any:
        """True: the simulated spot account is a high-frequency one (docs: Get Account Type - Spot)."""
        self._auth(req)
        return _ok(True)

    @route("GET", SPOT, "/api/ua/v1/account/mode", weight=30)
    async def account_mode(self, req: SimRequest) -> Any:
        """Classic (not unified) account; ccxt reads `selfAccountMode` before private calls."""
        self._auth(req)
        return _ok({"accountMode": "CLASSIC", "selfAccountMode": "CLASSIC"})

    @route("GET", SPOT, "/api/v3/margin/symbols", weight=3)
    async def margin_symbols(self, req: SimRequest) -> Any:
        """Cross-margin symbols: the USDT markets (docs: Get Symbols - Cross Margin)."""
        self._auth(req)
        items = [self._symbol_info(i) for i in self.spot.instruments.values() if i.quote == "USDT"]
        return _ok({"timestamp": req.now_ms, "items": items})

    @route("GET", SPOT, "/api/v1/isolated/symbols", weight=3)
    async def isolated_symbols(self, req: SimRequest) -> Any:
        """Isolated-margin symbols: none are simulated (docs: Get Symbols - Isolated Margin)."""
        self._auth(req)
        return _ok([])

    def _account_id(self, key: ApiKey, currency: str, kind: str) -> str:
        return hashlib.sha256(f"{key.account}|{currency}|{kind}".encode()).hexdigest()[:24]

    @route("GET", SPOT, "/api/v1/accounts", weight=5)
    async def accounts(self, req: SimRequest) -> Any:
        """Spot account list, filtered by `currency` / `type` (docs: Get Account List - Spot).

        The HF wallet answers for both `trade_hf` and `trade`; the funding (`main`) account is empty.
        """
        key = self._auth(req)
        kind = req.query.get("type") or "trade_hf"
        if kind not in ("main", "trade", "trade_hf", "margin"):
            raise _param_error("type is invalid")
        currency = req.query.get("currency")
        rows = []
        if kind in ("trade", "trade_hf"):
            for asset, bal in sorted(self.wallets.ensure(key.account).items()):
                if currency and asset != currency:
                    continue
                rows.append(
                    {
                        "id": self._account_id(key, asset, kind),
                        "currency": asset,
                        "type": kind,
                        "balance": _s(bal.total),
                        "available": _s(bal.free),
                        "holds": _s(bal.locked),
                    }
                )
        return _ok(rows)

    @route("GET", SPOT, "/api/v1/accounts/{accountId}", weight=5)
    async def account_detail(self, req: SimRequest) -> Any:
        """One spot account by id (docs: Get Account Detail - Spot)."""
        key = self._auth(req)
        for asset, bal in self.wallets.ensure(key.account).items():
            for kind in ("trade", "trade_hf"):
                if self._account_id(key, asset, kind) == req.path_params["accountId"]:
                    return _ok(
                        {
                            "currency": asset,
                            "balance": _s(bal.total),
                            "available": _s(bal.free),
                            "holds": _s(bal.locked),
                        }
                    )
        raise _param_error("account not exist")

    # ---- private: spot orders ---------------------------------------------------------------------

    def _spot_reject(self, exc: OrderRejected, inst: Instrument | None) -> VenueError:
        r = exc.reason
        if r is Reject.INSUFFICIENT_BALANCE:
            # docs "Error Code" (spot): 200004 Balance insufficient
            return _err(200, "200004", "Balance insufficient!")
        if r is Reject.MIN_NOTIONAL:
            quote = inst.quote if inst else "USDT"
            minimum = _s(inst.min_notional) if inst else "0.1"
            return _err(200, "600101", f"The order funds should more then {minimum} {quote}.")
        if r is Reject.DUPLICATE_CLIENT_ID:
            return _err(200, "126044", "clientOid duplicate")
        if r is Reject.UNKNOWN_SYMBOL:
            return _param_error("Unsupported trading pair.")
        if r is Reject.PRICE_FILTER:
            return _param_error("Price increment invalid.")
        if r in (Reject.LOT_SIZE, Reject.MARKET_LOT_SIZE):
            return _param_error("Order size increment invalid.")
        if r is Reject.NO_LIQUIDITY:
            return _param_error("No liquidity to fill the order.")
        if r is Reject.POST_ONLY_WOULD_TAKE:
            return _param_error("The post-only order would be executed immediately.")
        return _param_error(exc.detail or "Parameter Error")

    def _place_spot(self, req: SimRequest, test: bool = False) -> tuple[Order | None, str]:
        """Validate and place a spot order from the JSON body (docs: Add Order / Add Order - Old)."""
        key = self._auth(req, "spot_trade")
        body = self._body(req)
        sym = self._spot_symbol(body.get("symbol"))
        assert sym is not None
        inst = self.spot.instruments[sym]
        side_raw = str(body.get("side", "")).lower()
        if side_raw not in ("buy", "sell"):
            raise _param_error("side is invalid")
        type_raw = str(body.get("type", "limit")).lower()
        if type_raw not in ("limit", "market"):
            raise _param_error("type is invalid")
        cid = str(body.get("clientOid") or secrets.token_hex(16))
        if len(cid) > 40:
            raise _param_error("clientOid is invalid")
        size = _decimal(body["size"], "size") if body.get("size") not in (None, "") else None
        price = _decimal(body["price"], "price") if body.get("price") not in (None, "") else None
        funds = _decimal(body["funds"], "funds") if body.get("funds") not in (None, "") else None
        tif = TIF.GTC
        if type_raw == "limit":
            if price is None or size is None:
                raise _param_error("price and size are required for limit orders")
            raw_tif = str(body.get("timeInForce", "GTC")).upper()
            if raw_tif not in ("GTC", "GTT", "IOC", "FOK"):
                raise _param_error("timeInForce is invalid")
            tif = {"GTC": TIF.GTC, "GTT": TIF.GTC, "IOC": TIF.IOC, "FOK": TIF.FOK}[raw_tif]
            if body.get("postOnly") in (True, "true"):
                tif = TIF.GTX
        elif (size is None) == (funds is None):
            raise _param_error("One of size or funds is required for market orders")
        # precision checks in the order KuCoin reports them (docs "Error Code", 400100 messages)
        if size is not None:
            if size < inst.min_qty:
                raise _param_error("Order size below the minimum requirement.")
            if size % inst.step != 0:
                raise _param_error("Order size increment invalid.")
        if price is not None and (price <= 0 or price % inst.tick != 0):
            raise _param_error("Price increment invalid.")
        if funds is not None and funds < inst.min_notional:
            raise _err(
                200, "600101", f"The order funds should more then {_s(inst.min_notional)} {inst.quote}."
            )
        side = Side.BUY if side_raw == "buy" else Side.SELL
        order_type = OrdType.LIMIT if type_raw == "limit" else OrdType.MARKET
        if test:
            try:
                self.spot.validate(inst, order_type, size, price, funds)
            except OrderRejected as exc:
                raise self._spot_reject(exc, inst) from exc
            return None, cid
        try:
            order = self.spot.new_order(
                key.account,
                sym,
                side,
                order_type,
                qty=size,
                price=price,
                quote_qty=funds,
                tif=tif,
                client_order_id=cid,
                extra={"remark": body.get("remark"), "stp": body.get("stp")},
                # docs Enums "TimeInForce" (FOK: cancel if it cannot be completely filled) and Add
                # Order "postOnly": the order is accepted (an orderId comes back), then the matching
                # engine cancels it; it is not refused at placement
                unfillable=Status.CANCELED,
            )
        except OrderRejected as exc:
            raise self._spot_reject(exc, inst) from exc
        return order, cid

    @route("POST", SPOT, "/api/v1/hf/orders", weight=1)
    async def hf_add_order(self, req: SimRequest) -> Any:
        """Place an order: `{"orderId", "clientOid"}` (docs: Add Order)."""
        order, cid = self._place_spot(req)
        assert order is not None
        return _ok({"orderId": self._order_id(order), "clientOid": cid})

    @route("POST", SPOT, "/api/v1/hf/orders/sync", weight=1)
    async def hf_add_order_sync(self, req: SimRequest) -> Any:
        """Place and report the matching result (docs: Add Order Sync)."""
        order, cid = self._place_spot(req)
        assert order is not None
        view = self._hf_order(order)
        return _ok(
            {
                "orderId": view["id"],
                "clientOid": cid,
                "orderTime": order.created_ms,
                "originSize": view["size"],
                "dealSize": view["dealSize"],
                "remainSize": view["remainSize"],
                "canceledSize": view["cancelledSize"],
                "status": "open" if order.is_open else "done",
                "matchTime": order.updated_ms,
            }
        )

    @route("POST", SPOT, "/api/v1/hf/orders/test", weight=1)
    @route("POST", SPOT, "/api/v1/orders/test", weight=2)
    async def add_order_test(self, req: SimRequest) -> Any:
        """Validate without placing (docs: Add Order Test)."""
        _, cid = self._place_spot(req, test=True)
        out: dict[str, Any] = {"orderId": secrets.token_hex(12)}
        if req.path.startswith("/api/v1/hf/"):
            out["clientOid"] = cid
        return _ok(out)

    @route("POST", SPOT, "/api/v1/orders", weight=2)
    async def old_add_order(self, req: SimRequest) -> Any:
        """Place an order through the non-HF endpoint: `{"orderId"}` (docs: Add Order - Old)."""
        order, _ = self._place_spot(req)
        assert order is not None
        return _ok({"orderId": self._order_id(order)})

    def _spot_amounts(self, o: Order) -> dict[str, Decimal]:
        price = o.price or ZERO
        closed_unfilled = o.status in (Status.CANCELED, Status.EXPIRED)
        funds = price * (o.qty or ZERO) if o.type is OrdType.LIMIT else (o.quote_qty or ZERO)
        cancelled_size = (o.qty - o.executed_qty) if (closed_unfilled and o.qty is not None) else ZERO
        if o.type is OrdType.LIMIT:
            cancelled_funds = cancelled_size * price
        else:
            cancelled_funds = (funds - o.cum_quote) if closed_unfilled and o.quote_qty is not None else ZERO
        remain_size = o.remaining if o.is_open else ZERO
        remain_funds = max(ZERO, funds - o.cum_quote - cancelled_funds) if o.is_open or funds else ZERO
        return {
            "funds": funds,
            "cancelledSize": cancelled_size,
            "cancelledFunds": cancelled_funds,
            "remainSize": remain_size,
            "remainFunds": remain_funds,
            "fee": sum((f.fee for f in o.fills), ZERO),
        }

    def _hf_order(self, o: Order) -> dict[str, Any]:
        """An order in the HF shape (docs: Get Order By OrderId)."""
        inst = self.spot.instruments[o.symbol]
        a = self._spot_amounts(o)
        return {
            "id": self._order_id(o),
            "clientOid": o.client_order_id,
            "symbol": o.symbol,
            "opType": "DEAL",
            "type": o.type.value.lower(),
            "side": o.side.value.lower(),
            "price": _s(o.price),
            "size": _s(o.qty),
            "funds": _s(a["funds"]),
            "dealSize": _s(o.executed_qty),
            "dealFunds": _s(o.cum_quote),
            "remainSize": _s(a["remainSize"]),
            "remainFunds": _s(a["remainFunds"]),
            "cancelledSize": _s(a["cancelledSize"]),
            "cancelledFunds": _s(a["cancelledFunds"]),
            "fee": _s(a["fee"]),
            "feeCurrency": inst.quote,
            "stp": o.extra.get("stp"),
            "timeInForce": "GTC" if o.tif is TIF.GTX else o.tif.value,
            "postOnly": o.tif is TIF.GTX,
            "hidden": False,
            "iceberg": False,
            "visibleSize": "0",
            "cancelAfter": 0,
            "channel": "API",
            "remark": o.extra.get("remark"),
            "tags": None,
            "cancelExist": o.status in (Status.CANCELED, Status.EXPIRED),
            "tradeType": "TRADE",
            "inOrderBook": o.is_open and o.type is OrdType.LIMIT,
            "active": o.is_open,
            "tax": "0",
            "createdAt": o.created_ms,
            "lastUpdatedAt": o.updated_ms,
        }

    def _old_order(self, o: Order) -> dict[str, Any]:
        """An order in the non-HF shape (docs: Get Order By OrderId - Old)."""
        hf = self._hf_order(o)
        return {
            "id": hf["id"],
            "symbol": o.symbol,
            "opType": "DEAL",
            "type": hf["type"],
            "side": hf["side"],
            "price": hf["price"],
            "size": hf["size"],
            "funds": hf["funds"],
            "dealFunds": hf["dealFunds"],
            "dealSize": hf["dealSize"],
            "fee": hf["fee"],
            "feeCurrency": hf["feeCurrency"],
            "stp": "",
            "stop": "",
            "stopTriggered": False,
            "stopPrice": "0",
            "timeInForce": hf["timeInForce"],
            "postOnly": hf["postOnly"],
            "hidden": False,
            "iceberg": False,
            "visibleSize": "0",
            "cancelAfter": 0,
            "channel": "API",
            "clientOid": o.client_order_id,
            "remark": hf["remark"],
            "tags": None,
            "isActive": o.is_open,
            "cancelExist": hf["cancelExist"],
            "createdAt": o.created_ms,
            "tradeType": "TRADE",
        }

    def _find_spot(self, key: ApiKey, order_id: str | None, cid: str | None, symbol: str | None) -> Order:
        try:
            if cid is not None:
                return self.spot.find(key.account, symbol, client_order_id=cid)
            oid = self._parse_order_id(order_id or "")
            if oid is None:
                raise OrderNotFound(order_id or "")
            return self.spot.find(key.account, symbol, order_id=oid)
        except OrderNotFound as exc:
            # ccxt and KuCoin both report a missing order through this message
            raise _param_error("order not exist.") from exc

    @route("GET", SPOT, "/api/v1/hf/orders/{orderId}", weight=2)
    async def hf_get_order(self, req: SimRequest) -> Any:
        """One order by id; `symbol` is required (docs: Get Order By OrderId)."""
        key = self._auth(req)
        sym = self._spot_symbol(req.query.get("symbol"))
        return _ok(self._hf_order(self._find_spot(key, req.path_params["orderId"], None, sym)))

    @route("GET", SPOT, "/api/v1/hf/orders/client-order/{clientOid}", weight=2)
    async def hf_get_order_by_cid(self, req: SimRequest) -> Any:
        """One order by clientOid (docs: Get Order By ClientOid)."""
        key = self._auth(req)
        sym = self._spot_symbol(req.query.get("symbol"))
        return _ok(self._hf_order(self._find_spot(key, None, req.path_params["clientOid"], sym)))

    @route("GET", SPOT, "/api/v1/orders/{orderId}", weight=2)
    async def old_get_order(self, req: SimRequest) -> Any:
        """One order by id (docs: Get Order By OrderId - Old)."""
        key = self._auth(req)
        return _ok(self._old_order(self._find_spot(key, req.path_params["orderId"], None, None)))

    @route("GET", SPOT, "/api/v1/order/client-order/{clientOid}", weight=2)
    async def old_get_order_by_cid(self, req: SimRequest) -> Any:
        """One order by clientOid (docs: Get Order By ClientOid - Old)."""
        key = self._auth(req)
        return _ok(self._old_order(self._find_spot(key, None, req.path_params["clientOid"], None)))

    def _cancel_spot(self, req: SimRequest, order_id: str | None, cid: str | None, hf: bool) -> Order:
        key = self._auth(req, "spot_trade")
        sym = self._spot_symbol(req.query.get("symbol"), required=hf)
        try:
            order = self._find_spot(key, order_id, cid, sym)
            return self.spot.cancel(key.account, order.symbol, order.order_id)
        except (VenueError, CancelRejected) as exc:
            # ccxt issue 24154: KuCoin answers 400100 with this message for HF cancels
            raise _param_error("order_not_exist_or_not_allow_to_cancel") from exc

    @route("DELETE", SPOT, "/api/v1/hf/orders/{orderId}", weight=1)
    async def hf_cancel(self, req: SimRequest) -> Any:
        """Cancel by id: `{"orderId"}` (docs: Cancel Order By OrderId)."""
        order = self._cancel_spot(req, req.path_params["orderId"], None, hf=True)
        return _ok({"orderId": self._order_id(order)})

    @route("DELETE", SPOT, "/api/v1/hf/orders/client-order/{clientOid}", weight=1)
    async def hf_cancel_by_cid(self, req: SimRequest) -> Any:
        """Cancel by clientOid: `{"clientOid"}` (docs: Cancel Order By ClientOid)."""
        order = self._cancel_spot(req, None, req.path_params["clientOid"], hf=True)
        return _ok({"clientOid": order.client_order_id})

    @route("DELETE", SPOT, "/api/v1/orders/{orderId}", weight=3)
    async def old_cancel(self, req: SimRequest) -> Any:
        """Cancel by id: `{"cancelledOrderIds": [...]}` (docs: Cancel Order By OrderId - Old)."""
        order = self._cancel_spot(req, req.path_params["orderId"], None, hf=False)
        return _ok({"cancelledOrderIds": [self._order_id(order)]})

    @route("DELETE", SPOT, "/api/v1/order/client-order/{clientOid}", weight=5)
    async def old_cancel_by_cid(self, req: SimRequest) -> Any:
        """Cancel by clientOid (docs: Cancel Order By ClientOid - Old)."""
        order = self._cancel_spot(req, None, req.path_params["clientOid"], hf=False)
        return _ok(
            {
                "cancelledOrderId": self._order_id(order),
                "clientOid": order.client_order_id,
                "cancelledOcoOrderIds": None,
            }
        )

    @route("DELETE", SPOT, "/api/v1/hf/orders", weight=2)
    async def hf_cancel_all_symbol(self, req: SimRequest) -> Any:
        """Cancel every open order of a symbol: `"success"` (docs: Cancel All Orders By Symbol)."""
        key = self._auth(req, "spot_trade")
        sym = self._spot_symbol(req.query.get("symbol"))
        self.spot.cancel_all(key.account, sym)
        return _ok("success")

    @route("DELETE", SPOT, "/api/v1/hf/orders/cancelAll", weight=30)
    async def hf_cancel_all(self, req: SimRequest) -> Any:
        """Cancel every open order (docs: Cancel All Orders)."""
        key = self._auth(req, "spot_trade")
        symbols = sorted({o.symbol for o in self.spot.open_orders(key.account)})
        self.spot.cancel_all(key.account)
        return _ok({"succeedSymbols": symbols, "failedSymbols": []})

    @route("DELETE", SPOT, "/api/v1/orders", weight=20)
    async def old_cancel_all(self, req: SimRequest) -> Any:
        """Cancel all (optionally one symbol) (docs: Batch Cancel Order - Old)."""
        key = self._auth(req, "spot_trade")
        sym = self._spot_symbol(req.query.get("symbol"), required=False)
        cancelled = self.spot.cancel_all(key.account, sym)
        return _ok({"cancelledOrderIds": [self._order_id(o) for o in cancelled]})

    @route("GET", SPOT, "/api/v1/hf/orders/active", weight=2)
    async def hf_active(self, req: SimRequest) -> Any:
        """Open orders of a symbol, newest first (docs: Get Open Orders)."""
        key = self._auth(req)
        sym = self._spot_symbol(req.query.get("symbol"))
        orders = self.spot.open_orders(key.account, sym)
        return _ok([self._hf_order(o) for o in reversed(orders)])

    @route("GET", SPOT, "/api/v1/hf/orders/active/symbols", weight=2)
    async def hf_active_symbols(self, req: SimRequest) -> Any:
        """Symbols with open orders (docs: Get Symbols With Open Order)."""
        key = self._auth(req)
        return _ok({"symbols": sorted({o.symbol for o in self.spot.open_orders(key.account)})})

    @route("GET", SPOT, "/api/v1/hf/orders/done", weight=2)
    async def hf_done(self, req: SimRequest) -> Any:
        """Closed orders of a symbol, newest first, `lastId` paging (docs: Get Closed Orders)."""
        key = self._auth(req)
        sym = self._spot_symbol(req.query.get("symbol"))
        limit = min(100, self._int_param(req.query.get("limit"), "limit") or 20)
        done = [o for o in reversed(self.spot.all_orders(key.account, sym)) if not o.is_open]
        done = [o for o in done if self._in_window(req, o.created_ms)]
        last_id = self._int_param(req.query.get("lastId"), "lastId")
        if last_id:
            done = [o for o in done if o.seq < last_id]
        page = done[:limit]
        return _ok({"lastId": page[-1].seq if page else 0, "items": [self._hf_order(o) for o in page]})

    def _in_window(self, req: SimRequest, ts: int) -> bool:
        start = self._int_param(req.query.get("startAt"), "startAt")
        end = self._int_param(req.query.get("endAt"), "endAt")
        return (not start or ts >= start) and (not end or ts <= end)

    @staticmethod
    def _paged(req: SimRequest, rows: list[dict[str, Any]], default_size: int = 50) -> dict[str, Any]:
        """KuCoin's page envelope: currentPage, pageSize, totalNum, totalPage, items."""
        raw_page = req.query.get("currentPage", "1")
        raw_size = req.query.get("pageSize", str(default_size))
        page = max(1, int(raw_page)) if raw_page.isdigit() else 1
        size = min(500, max(1, int(raw_size))) if raw_size.isdigit() else default_size
        total_page = (len(rows) + size - 1) // size
        return {
            "currentPage": page,
            "pageSize": size,
            "totalNum": len(rows),
            "totalPage": total_page,
            "items": rows[(page - 1) * size : page * size],
        }

    @route("GET", SPOT, "/api/v1/orders", weight=2)
    async def old_list_orders(self, req: SimRequest) -> Any:
        """Orders by `status` (active|done), newest first, paged (docs: Get Orders List - Old)."""
        key = self._auth(req)
        sym = self._spot_symbol(req.query.get("symbol"), required=False)
        status = req.query.get("status")
        if status not in (None, "", "active", "done"):
            raise _param_error("status is invalid")
        orders = list(reversed(self.spot.all_orders(key.account, sym)))
        if status == "active":
            orders = [o for o in orders if o.is_open]
        elif status == "done":
            orders = [o for o in orders if not o.is_open]
        for name in ("side", "type"):
            want = req.query.get(name)
            if want:
                attr = "side" if name == "side" else "type"
                orders = [o for o in orders if getattr(o, attr).value.lower() == want.lower()]
        orders = [o for o in orders if self._in_window(req, o.created_ms)]
        return _ok(self._paged(req, [self._old_order(o) for o in orders]))

    def _spot_fill(self, f: Any, hf: bool) -> dict[str, Any]:
        order = self.spot.orders[f.order_id]
        inst = self.spot.instruments[f.symbol]
        row: dict[str, Any] = {
            "symbol": f.symbol,
            "tradeId": str(f.trade_id),
            "orderId": self._order_id(order),
            "counterOrderId": "",
            "side": f.side.value.lower(),
            "liquidity": "maker" if f.is_maker else "taker",
            "forceTaker": False,
            "price": _s(f.price),
            "size": _s(f.qty),
            "funds": _s(f.quote_qty),
            "fee": _s(f.fee),
            "feeRate": _s(inst.maker_fee if f.is_maker else inst.taker_fee),
            "feeCurrency": f.fee_asset,
            "stop": "",
            "tradeType": "TRADE",
            "type": order.type.value.lower(),
            "createdAt": f.time_ms,
        }
        if hf:
            row.update({"id": f.trade_id, "taxRate": "0", "tax": "0"})
        return row

    @route("GET", SPOT, "/api/v1/hf/fills", weight=2)
    async def hf_fills(self, req: SimRequest) -> Any:
        """Own trades of a symbol, newest first (docs: Get Trade History)."""
        key = self._auth(req)
        sym = self._spot_symbol(req.query.get("symbol"))
        fills = list(reversed(self.spot.fills(key.account, sym)))
        oid = self._parse_order_id(req.query.get("orderId", "")) if req.query.get("orderId") else None
        if req.query.get("orderId"):
            fills = [f for f in fills if f.order_id == oid]
        fills = [f for f in fills if self._in_window(req, f.time_ms)]
        limit = min(100, self._int_param(req.query.get("limit"), "limit") or 20)
        page = fills[:limit]
        return _ok(
            {"items": [self._spot_fill(f, True) for f in page], "lastId": page[-1].trade_id if page else 0}
        )

    @route("GET", SPOT, "/api/v1/fills", weight=10)
    async def old_fills(self, req: SimRequest) -> Any:
        """Own trades, newest first, paged (docs: Get Trade History - Old)."""
        key = self._auth(req)
        sym = self._spot_symbol(req.query.get("symbol"), required=False)
        fills = list(reversed(self.spot.fills(key.account, sym)))
        if req.query.get("orderId"):
            oid = self._parse_order_id(req.query["orderId"])
            fills = [f for f in fills if f.order_id == oid]
        fills = [f for f in fills if self._in_window(req, f.time_ms)]
        return _ok(self._paged(req, [self._spot_fill(f, False) for f in fills]))

    # ---- private: withdrawals ----------------------------------------------------------------------

    @route("POST", SPOT, "/api/v3/withdrawals", weight=5)
    @route("POST", SPOT, "/api/v1/withdrawals", weight=5)
    async def withdraw(self, req: SimRequest) -> Any:
        """Apply for a withdrawal; needs the withdrawal ("Transfer") permission (docs: Withdraw (V3)).

        The amount (plus the chain's fee, unless `feeDeductType` is INTERNAL) leaves the spot wallet;
        the request is recorded and answered with `{"withdrawalId"}`.
        """
        key = self._auth(req, "withdraw")
        body = self._body(req)
        currency = str(body.get("currency") or "").upper()
        if currency not in CURRENCIES:
            raise _param_error("currency is invalid")
        address = body.get("toAddress") or body.get("address")
        if not address:
            raise _param_error("toAddress is required")
        if body.get("amount") in (None, ""):
            raise _param_error("amount is required")
        amount = _decimal(body["amount"], "amount")
        _, precision, chains = CURRENCIES[currency]
        chain_id = str(body.get("chain") or chains[0][1]).lower()
        chain = next((c for c in chains if c[1] == chain_id), None)
        if chain is None:
            raise _err(400, "900014", "Invalid chainId")
        fee = Decimal(chain[2])
        if amount < fee:
            raise _param_error("The withdrawal amount is below the minimum requirement.")
        if amount != amount.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_FLOOR):
            raise _param_error("The amount increment is invalid.")
        internal = str(body.get("feeDeductType", "EXTERNAL")).upper() == "INTERNAL"
        debit = amount if internal else amount + fee
        bal = self.wallets.get(key.account, currency)
        if bal.free < debit:
            # docs "Error Code" (spot): 400100 account.available.amount — balance insufficient
            raise _param_error("account.available.amount")
        bal.free -= debit
        wid = secrets.token_hex(12)
        self.withdrawals.append(
            {
                "id": wid,
                "account": key.account,
                "currency": currency,
                "chain": chain_id,
                "address": str(address),
                "memo": str(body.get("memo") or ""),
                "isInner": False,
                "amount": _s(amount - fee if internal else amount),
                "fee": _s(fee),
                "walletTxId": None,
                "createdAt": req.now_ms,
                "updatedAt": req.now_ms,
                "remark": str(body.get("remark") or ""),
                "status": "PROCESSING",
            }
        )
        return _ok({"withdrawalId": wid})

    @route("GET", SPOT, "/api/v1/withdrawals", weight=20)
    async def withdrawals_list(self, req: SimRequest) -> Any:
        """The key account's withdrawals, newest first, paged (docs: Get Withdrawal History)."""
        key = self._auth(req)
        currency = req.query.get("currency")
        rows = [
            {k: v for k, v in w.items() if k != "account"}
            for w in reversed(self.withdrawals)
            if w["account"] == key.account and (not currency or w["currency"] == currency)
        ]
        return _ok(self._paged(req, rows))

    # ---- futures: public -------------------------------------------------------------------------

    def _contract(self, req: SimRequest, sym: str) -> dict[str, Any]:
        inst = self.futures.instruments[sym]
        mult = self.multipliers[sym]
        pm = self._pm(self.futures, sym)
        stats = pm.stats_24h(req.now_ms)
        change = stats.close - stats.open
        base = "XBT" if inst.base == "BTC" else inst.base
        # docs: Get All Symbols (futures) — the contract object of contracts/active
        return {
            "symbol": sym,
            "rootSymbol": "USDT",
            "type": "FFWCSX",
            "firstOpenDate": 1585555200000,
            "expireDate": None,
            "settleDate": None,
            "baseCurrency": base,
            "quoteCurrency": "USDT",
            "settleCurrency": "USDT",
            "maxOrderQty": 1000000,
            "maxPrice": 1000000.0,
            "lotSize": 1,
            "tickSize": _num(inst.tick),
            "indexPriceTickSize": _num(inst.tick),
            "multiplier": _num(mult),
            "initialMargin": 0.008,
            "maintainMargin": 0.004,
            "maxRiskLimit": 100000,
            "minRiskLimit": 100000,
            "riskStep": 50000,
            "makerFeeRate": _num(inst.maker_fee),
            "takerFeeRate": _num(inst.taker_fee),
            "takerFixFee": 0.0,
            "makerFixFee": 0.0,
            "settlementFee": None,
            "isDeleverage": True,
            "isQuanto": False,
            "isInverse": False,
            "markMethod": "FairPrice",
            "fairMethod": "FundingRate",
            "fundingBaseSymbol": f".{base}INT8H",
            "fundingQuoteSymbol": ".USDTINT8H",
            "fundingRateSymbol": f".{sym}FPI8H",
            "indexSymbol": f".K{base}USDT",
            "settlementSymbol": "",
            "status": "Open",
            "fundingFeeRate": 0.0001,
            "predictedFundingFeeRate": 0.0001,
            "fundingRateGranularity": 28800000,
            "openInterest": "0",
            "turnoverOf24h": _num(stats.quote_volume),
            "volumeOf24h": _num(stats.volume),
            "markPrice": _num(pm.price),
            "indexPrice": _num(pm.price),
            "lastTradePrice": _num(pm.price),
            "nextFundingRateTime": 28800000 - req.now_ms % 28800000,
            "maxLeverage": 125,
            "sourceExchanges": ["okex", "binance", "kucoin", "bybit", "bitget", "gateio"],
            "premiumsSymbol1M": f".{sym}PI",
            "premiumsSymbol8H": f".{sym}PI8H",
            "fundingBaseSymbol1M": f".{base}INT",
            "fundingQuoteSymbol1M": ".USDTINT",
            "lowPrice": _num(stats.low),
            "highPrice": _num(stats.high),
            "priceChgPct": _num((change / stats.open).quantize(Decimal("0.0001"))) if stats.open else 0,
            "priceChg": _num(change),
            "supportCross": True,
        }

    @route("GET", FUT, "/api/v1/contracts/active", weight=3)
    async def contracts_active(self, req: SimRequest) -> Any:
        """Every open contract (docs: Get All Symbols - futures)."""
        return _ok([self._contract(req, s) for s in self.futures.instruments])

    @route("GET", FUT, "/api/v1/contracts/{symbol}", weight=3)
    async def contract(self, req: SimRequest) -> Any:
        """One contract (docs: Get Symbol - futures)."""
        sym = self._fut_symbol(req.path_params["symbol"])
        assert sym is not None
        return _ok(self._contract(req, sym))

    def _contracts(self, sym: str, qty: Decimal) -> Decimal:
        return (qty / self.multipliers[sym]).to_integral_value(rounding=ROUND_FLOOR)

    def _fut_ticker(self, req: SimRequest, sym: str) -> dict[str, Any]:
        pm = self._pm(self.futures, sym)
        bids, asks = self.futures.depth(sym, 1)
        last = pm.trades[-1] if pm.trades else None
        # docs: Get Ticker (futures); ts in nanoseconds, sizes in contracts
        return {
            "sequence": self.market.tick,
            "symbol": sym,
            "side": "sell" if last and last.buyer_maker else "buy",
            "size": max(1, int(self._contracts(sym, last.qty))) if last else 0,
            "tradeId": str(last.trade_id if last else 0),
            "price": _s(pm.price),
            "bestBidPrice": _s(bids[0][0]) if bids else None,
            "bestBidSize": int(self._contracts(sym, bids[0][1])) if bids else 0,
            "bestAskPrice": _s(asks[0][0]) if asks else None,
            "bestAskSize": int(self._contracts(sym, asks[0][1])) if asks else 0,
            "ts": req.now_ms * 1_000_000,
        }

    @route("GET", FUT, "/api/v1/ticker", weight=2)
    async def fut_ticker(self, req: SimRequest) -> Any:
        """Last trade and best quotes of a contract (docs: Get Ticker - futures)."""
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        return _ok(self._fut_ticker(req, sym))

    @route("GET", FUT, "/api/v1/allTickers", weight=5)
    async def fut_all_tickers(self, req: SimRequest) -> Any:
        """Tickers of every contract (docs: Get All Tickers - futures)."""
        return _ok([self._fut_ticker(req, s) for s in self.futures.instruments])

    def _fut_book(self, req: SimRequest, depth: int) -> dict[str, Any]:
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        seq, bids, asks = self.book_snapshot("futures", sym, depth)
        return {
            "symbol": sym,
            "sequence": seq,
            "bids": [[_num(p), int(self._contracts(sym, q))] for p, q in bids],
            "asks": [[_num(p), int(self._contracts(sym, q))] for p, q in asks],
            "ts": req.now_ms * 1_000_000,
        }

    @route("GET", FUT, "/api/v1/level2/snapshot", weight=3)
    async def fut_level2(self, req: SimRequest) -> Any:
        """Full book in contracts (docs: Get Full OrderBook - futures)."""
        return _ok(self._fut_book(req, 500))

    @route("GET", FUT, "/api/v1/level2/depth20", weight=5)
    async def fut_depth20(self, req: SimRequest) -> Any:
        """20 levels (docs: Get Part OrderBook - futures)."""
        return _ok(self._fut_book(req, 20))

    @route("GET", FUT, "/api/v1/level2/depth100", weight=10)
    async def fut_depth100(self, req: SimRequest) -> Any:
        """100 levels (docs: Get Part OrderBook - futures)."""
        return _ok(self._fut_book(req, 100))

    @route("GET", FUT, "/api/v1/kline/query", weight=3)
    async def fut_klines(self, req: SimRequest) -> Any:
        """Klines oldest first: [time ms, open, high, low, close, volume] (docs: Get Klines - futures)."""
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        granularity = self._int_param(req.query.get("granularity"), "granularity")
        if granularity not in FUT_GRANULARITIES:
            raise _err(200, "100001", "There are invalid parameters")
        start = self._int_param(req.query.get("from"), "from") or None
        end = self._int_param(req.query.get("to"), "to") or None
        # "the system would return at most 500 pieces of data" per request
        candles = self._pm(self.futures, sym).klines(granularity * MINUTE_MS, start, end, limit=500)
        return _ok(
            [
                [
                    c.open_ms,
                    _num(c.open),
                    _num(c.high),
                    _num(c.low),
                    _num(c.close),
                    int(self._contracts(sym, c.volume)),
                ]
                for c in candles
            ]
        )

    @route("GET", FUT, "/api/v1/trade/history", weight=5)
    async def fut_trades(self, req: SimRequest) -> Any:
        """Last 100 public trades of a contract, newest first (docs: Get Trade History - futures)."""
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        trades = list(self._pm(self.futures, sym).trades)[-100:]
        return _ok(
            [
                {
                    "sequence": t.trade_id,
                    "tradeId": str(t.trade_id),
                    "takerOrderId": "",
                    "makerOrderId": "",
                    "price": _s(t.price),
                    "size": max(1, int(self._contracts(sym, t.qty))),
                    "side": "sell" if t.buyer_maker else "buy",
                    "ts": t.time_ms * 1_000_000,
                }
                for t in reversed(trades)
            ]
        )

    # ---- futures: private ------------------------------------------------------------------------

    @route("GET", FUT, "/api/v1/account-overview", weight=5)
    async def account_overview(self, req: SimRequest) -> Any:
        """Futures account of one settle currency; needs Futures permission (docs: Get Account - Futures)."""
        key = self._auth(req, "futures_trade")
        currency = req.query.get("currency") or "XBT"  # the documented default
        acc = self.perps.account(key.account)
        if currency != acc.asset:
            zero = 0
            return _ok(
                {
                    "accountEquity": zero,
                    "unrealisedPNL": zero,
                    "marginBalance": zero,
                    "positionMargin": zero,
                    "orderMargin": zero,
                    "frozenFunds": zero,
                    "availableBalance": zero,
                    "currency": currency,
                    "riskRatio": zero,
                    "maxWithdrawAmount": zero,
                }
            )
        upnl = self.perps.unrealized(acc)
        pos_margin = self.perps.position_margin(acc)
        available = max(ZERO, self.perps.available(acc))
        equity = acc.wallet + upnl
        return _ok(
            {
                "accountEquity": _num(equity),
                "unrealisedPNL": _num(upnl),
                "marginBalance": _num(acc.wallet),
                "positionMargin": _num(pos_margin),
                "orderMargin": _num(acc.order_margin),
                "frozenFunds": 0,
                "availableBalance": _num(available),
                "currency": acc.asset,
                "riskRatio": 0,
                "maxWithdrawAmount": _num(available),
            }
        )

    def _fut_reject(self, exc: OrderRejected) -> VenueError:
        r = exc.reason
        if r is Reject.INSUFFICIENT_BALANCE:
            # futures docs "Error Code": 300003 balance not enough
            return _err(
                200,
                "300003",
                "Balance not enough, please first deposit at least 2 USDT before you start the battle",
            )
        if r is Reject.REDUCE_ONLY:
            return _err(200, "300009", "No open positions to close.")
        if r is Reject.DUPLICATE_CLIENT_ID:
            return _err(200, "300000", "The clientOid is duplicated.")
        return _err(200, "300000", "request parameter illegal")

    def _fut_order(self, o: Order) -> dict[str, Any]:
        """A futures order in KuCoin's shape (docs: Get Order By OrderId - futures); sizes in contracts."""
        sym = o.symbol
        mult = self.multipliers[sym]
        size = self._contracts(sym, o.qty or ZERO)
        filled = self._contracts(sym, o.executed_qty)
        value = (o.price or ZERO) * (o.qty or ZERO)
        return {
            "id": self._order_id(o),
            "symbol": sym,
            "type": o.type.value.lower(),
            "side": o.side.value.lower(),
            "price": _s(o.price) if o.price is not None else None,
            "size": int(size),
            "value": _s(value),
            "dealValue": _s(o.cum_quote),
            "dealSize": int(filled),
            "stp": "",
            "stop": "",
            "stopPriceType": "",
            "stopTriggered": False,
            "stopPrice": None,
            "timeInForce": "GTC" if o.tif is TIF.GTX else o.tif.value,
            "postOnly": o.tif is TIF.GTX,
            "hidden": False,
            "iceberg": False,
            "leverage": str(o.extra.get("leverage", 1)),
            "forceHold": False,
            "closeOrder": False,
            "visibleSize": None,
            "clientOid": o.client_order_id,
            "remark": o.extra.get("remark"),
            "tags": None,
            "isActive": o.is_open,
            "cancelExist": o.status in (Status.CANCELED, Status.EXPIRED),
            "createdAt": o.created_ms,
            "updatedAt": o.updated_ms,
            "endAt": None if o.is_open else o.updated_ms,
            "orderTime": o.created_ms * 1_000_000,
            "settleCurrency": "USDT",
            "marginMode": o.extra.get("marginMode", "ISOLATED"),
            "status": "open" if o.is_open else "done",
            "filledSize": int(filled),
            "filledValue": _s(o.cum_quote),
            "reduceOnly": o.reduce_only,
            "multiplier": _num(mult),
        }

    @route("POST", FUT, "/api/v1/orders", weight=2)
    async def fut_add_order(self, req: SimRequest) -> Any:
        """Place a futures order; `size` in whole contracts (docs: Add Order - futures)."""
        key = self._auth(req, "futures_trade")
        body = self._body(req)
        sym = self._fut_symbol(body.get("symbol"))
        assert sym is not None
        inst = self.futures.instruments[sym]
        side_raw = str(body.get("side", "")).lower()
        type_raw = str(body.get("type", "limit")).lower()
        if side_raw not in ("buy", "sell") or type_raw not in ("limit", "market"):
            raise _err(200, "300000", "request parameter illegal")
        size_raw = body.get("size")
        if size_raw in (None, ""):
            raise _err(200, "300000", "request parameter illegal")
        size = _decimal(size_raw, "size")
        if size < 1 or size != size.to_integral_value():
            # lotSize is 1 contract
            raise _err(200, "300000", "The order size must be a positive integer multiple of the lot size.")
        # Add Order "leverage" sizes an isolated order's margin; without it (and always in CROSS mode,
        # where Modify Cross Margin Leverage sets it) the symbol's current leverage applies
        leverage_raw = body.get("leverage")
        current = self.perps.leverage(key.account, sym)
        leverage = current if leverage_raw in (None, "") else int(_decimal(leverage_raw, "leverage"))
        if not 1 <= leverage <= 125:
            raise _err(200, "300000", "request parameter illegal")
        if self.perps.margin_mode(key.account, sym) == "cross":
            leverage = current
        price = None
        tif = TIF.GTC
        if type_raw == "limit":
            if body.get("price") in (None, ""):
                raise _err(200, "300000", "request parameter illegal")
            price = _decimal(body["price"], "price")
            if price <= 0 or price % inst.tick != 0:
                raise _err(200, "300000", "Price parameter invalid.")
            raw_tif = str(body.get("timeInForce", "GTC")).upper()
            tif = {"GTC": TIF.GTC, "IOC": TIF.IOC, "FOK": TIF.FOK}.get(raw_tif, TIF.GTC)
            if body.get("postOnly") in (True, "true"):
                tif = TIF.GTX
        cid = str(body.get("clientOid") or secrets.token_hex(16))
        mode = self.perps.margin_mode(key.account, sym).upper()
        if body.get("marginMode") not in (None, "") and str(body.get("marginMode")).upper() != mode:
            # futures "Error Code" 330005: the order's margin mode differs from the symbol's setting
            raise _err(
                200,
                "330005",
                "The order's margin mode does not match the selected one. Please switch and try again.",
            )
        self.perps.account(key.account).leverage[sym] = leverage
        try:
            order = self.futures.new_order(
                key.account,
                sym,
                Side.BUY if side_raw == "buy" else Side.SELL,
                OrdType.LIMIT if type_raw == "limit" else OrdType.MARKET,
                qty=size * self.multipliers[sym],
                price=price,
                tif=tif,
                client_order_id=cid,
                reduce_only=body.get("reduceOnly") in (True, "true"),
                # futures Add Order "postOnly": accepted, then cancelled if it would take liquidity
                unfillable=Status.CANCELED,
                extra={"leverage": leverage, "remark": body.get("remark"), "marginMode": mode},
            )
        except OrderRejected as exc:
            raise self._fut_reject(exc) from exc
        return _ok({"orderId": self._order_id(order), "clientOid": cid})

    def _find_fut(self, key: ApiKey, order_id: str | None, cid: str | None) -> Order:
        try:
            if cid is not None:
                return self.futures.find(key.account, client_order_id=cid)
            oid = self._parse_order_id(order_id or "")
            if oid is None:
                raise OrderNotFound(order_id or "")
            return self.futures.find(key.account, order_id=oid)
        except OrderNotFound as exc:
            raise _err(200, "100001", "error.getOrder.orderNotExist") from exc

    @route("GET", FUT, "/api/v1/orders/{orderId}", weight=5)
    async def fut_get_order(self, req: SimRequest) -> Any:
        """One futures order by id (docs: Get Order By OrderId - futures)."""
        key = self._auth(req, "futures_trade")
        return _ok(self._fut_order(self._find_fut(key, req.path_params["orderId"], None)))

    @route("GET", FUT, "/api/v1/orders/byClientOid", weight=5)
    async def fut_get_order_by_cid(self, req: SimRequest) -> Any:
        """One futures order by `clientOid` (docs: Get Order By ClientOid - futures)."""
        key = self._auth(req, "futures_trade")
        return _ok(self._fut_order(self._find_fut(key, None, req.query.get("clientOid") or "")))

    @route("DELETE", FUT, "/api/v1/orders/{orderId}", weight=1)
    async def fut_cancel(self, req: SimRequest) -> Any:
        """Cancel a futures order: `{"cancelledOrderIds": [...]}` (docs: Cancel Order By OrderId)."""
        key = self._auth(req, "futures_trade")
        try:
            order = self._find_fut(key, req.path_params["orderId"], None)
            self.futures.cancel(key.account, order.symbol, order.order_id)
        except (VenueError, CancelRejected) as exc:
            # futures docs "Error Code": 100004 order does not exist or cannot be cancelled
            raise _err(200, "100004", "Order is in not cancelable state") from exc
        return _ok({"cancelledOrderIds": [self._order_id(order)]})

    @route("DELETE", FUT, "/api/v1/orders/client-order/{clientOid}", weight=1)
    async def fut_cancel_by_cid(self, req: SimRequest) -> Any:
        """Cancel by clientOid: `{"clientOid"}` (docs: Cancel Order By ClientOid - futures)."""
        key = self._auth(req, "futures_trade")
        try:
            order = self._find_fut(key, None, req.path_params["clientOid"])
            self.futures.cancel(key.account, order.symbol, order.order_id)
        except (VenueError, CancelRejected) as exc:
            raise _err(200, "100004", "Order is in not cancelable state") from exc
        return _ok({"clientOid": order.client_order_id})

    @route("GET", FUT, "/api/v1/orders", weight=2)
    async def fut_list_orders(self, req: SimRequest) -> Any:
        """Futures orders by `status` (active|done), paged (docs: Get Order List - futures)."""
        key = self._auth(req, "futures_trade")
        sym = self._fut_symbol(req.query.get("symbol"), required=False)
        status = req.query.get("status")
        orders = list(reversed(self.futures.all_orders(key.account, sym)))
        if status == "active":
            orders = [o for o in orders if o.is_open]
        elif status == "done":
            orders = [o for o in orders if not o.is_open]
        return _ok(self._paged(req, [self._fut_order(o) for o in orders]))

    @route("DELETE", FUT, "/api/v1/orders", weight=10)
    async def fut_cancel_all(self, req: SimRequest) -> Any:
        """Cancel all open futures orders, optionally of one symbol (docs: Cancel All Orders)."""
        key = self._auth(req, "futures_trade")
        sym = self._fut_symbol(req.query.get("symbol"), required=False)
        cancelled = self.futures.cancel_all(key.account, sym)
        return _ok({"cancelledOrderIds": [self._order_id(o) for o in cancelled]})

    def _position(self, req: SimRequest, key: ApiKey, sym: str) -> dict[str, Any]:
        inst = self.futures.instruments[sym]
        acc = self.perps.account(key.account)
        pos = self.perps.position(key.account, sym)
        mark = self.risk.mark(sym, req.now_ms)
        qty = self._contracts(sym, abs(pos.qty)) * (1 if pos.qty >= 0 else -1)
        lev = self.perps.leverage(key.account, sym)
        cost = pos.entry * pos.qty
        upnl = (mark - pos.entry) * pos.qty
        margin = self.perps.initial_margin(acc, sym, pos) if pos.qty else ZERO
        isolated = pos.isolated if pos.qty else self.perps.margin_mode(key.account, sym) == "isolated"
        liq = self.perps.liquidation_price(key.account, sym)
        return {
            "id": hashlib.sha256(f"{key.account}|{sym}".encode()).hexdigest()[:24],
            "symbol": sym,
            "autoDeposit": False,
            "crossMode": not isolated,
            "maintMarginReq": _num(self.perps.mmr),
            "riskLimit": 100000,
            "realLeverage": lev,
            "delevPercentage": 0.0,
            "openingTimestamp": pos.opened_ms if pos.qty else None,
            "currentTimestamp": req.now_ms,
            "currentQty": int(qty),
            "currentCost": _num(cost),
            "currentComm": 0,
            "unrealisedCost": _num(cost),
            "realisedGrossCost": 0,
            "realisedCost": 0,
            "isOpen": bool(pos.qty),
            "markPrice": _num(mark),
            "markValue": _num(mark * pos.qty),
            "posCost": _num(cost),
            "posInit": _num(margin),
            "posMargin": _num(margin),
            "posMaint": _num(abs(pos.qty) * mark * self.perps.mmr),
            "posFunding": _num(pos.funding),
            "realisedGrossPnl": _num(pos.realized),
            "realisedPnl": _num(pos.realized),
            "unrealisedPnl": _num(upnl),
            "unrealisedPnlPcnt": _num((upnl / abs(cost)).quantize(Decimal("0.0001"))) if cost else 0,
            "unrealisedRoePcnt": _num((upnl / margin).quantize(Decimal("0.0001"))) if margin else 0,
            "avgEntryPrice": _num(pos.entry),
            "liquidationPrice": _num(liq.quantize(inst.tick)) if liq else 0,
            "bankruptPrice": 0,
            "settleCurrency": inst.settle,
            "isInverse": False,
            "maintainMargin": _num(self.perps.mmr),
            "marginMode": "ISOLATED" if isolated else "CROSS",
            "positionSide": "BOTH",
            "leverage": lev,
        }

    @route("GET", FUT, "/api/v1/position", weight=2)
    async def fut_position(self, req: SimRequest) -> Any:
        """One position (docs: Get Position Details)."""
        key = self._auth(req, "futures_trade")
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        return _ok(self._position(req, key, sym))

    @route("GET", FUT, "/api/v1/positions", weight=2)
    async def fut_positions(self, req: SimRequest) -> Any:
        """Open positions (docs: Get Position List)."""
        key = self._auth(req, "futures_trade")
        acc = self.perps.account(key.account)
        return _ok([self._position(req, key, s) for s, p in acc.positions.items() if p.qty])

    @route("GET", FUT, "/api/v1/fills", weight=5)
    async def fut_fills(self, req: SimRequest) -> Any:
        """Own futures trades, newest first, paged (docs: Get Trade History - futures)."""
        key = self._auth(req, "futures_trade")
        sym = self._fut_symbol(req.query.get("symbol"), required=False)
        rows = []
        for f in reversed(self.futures.fills(key.account, sym)):
            order = self.futures.orders[f.order_id]
            inst = self.futures.instruments[f.symbol]
            rows.append(
                {
                    "symbol": f.symbol,
                    "tradeId": str(f.trade_id),
                    "orderId": self._order_id(order),
                    "side": f.side.value.lower(),
                    "liquidity": "maker" if f.is_maker else "taker",
                    "forceTaker": False,
                    "price": _s(f.price),
                    "size": int(self._contracts(f.symbol, f.qty)),
                    "value": _s(f.quote_qty),
                    "feeRate": _s(inst.maker_fee if f.is_maker else inst.taker_fee),
                    "fixFee": "0",
                    "feeCurrency": f.fee_asset,
                    "stop": "",
                    "fee": _s(f.fee),
                    "orderType": order.type.value.lower(),
                    # Get Trade History tradeType: liquid for the liquidation engine's fills
                    "tradeType": "liquid" if order.extra.get("liquidation") else "trade",
                    "createdAt": f.time_ms,
                    "settleCurrency": "USDT",
                    "tradeTime": f.time_ms * 1_000_000,
                    "marginMode": order.extra.get("marginMode", "ISOLATED"),
                }
            )
        return _ok(self._paged(req, rows))

    # ---- perpetuals: funding, leverage, margin mode -------------------------------------------------

    @route("GET", FUT, "/api/v1/funding-rate/{symbol}/current", weight=2)
    async def fut_funding_rate(self, req: SimRequest) -> Any:
        """Get Current Funding Rate: the rate of the period ending at fundingTime (docs: funding-fees)."""
        sym = self._fut_symbol(req.path_params.get("symbol"))
        assert sym is not None
        now = self.now_ms()
        iv = self.risk.rules.interval_ms
        nxt = self.risk.next_funding(now)
        return _ok(
            {
                "symbol": f".{sym}FPI8H",
                "granularity": iv,
                "timePoint": nxt - iv,
                "value": _num(self.risk.predicted_rate(sym, now)),
                "predictedValue": _num(self.risk.predicted_rate(sym, now)),
                "fundingRateCap": _num(self.risk.rules.cap),
                "fundingRateFloor": _num(-self.risk.rules.cap),
                "period": 0,
                "fundingTime": nxt,
            }
        )

    @route("GET", FUT, "/api/v1/mark-price/{symbol}/current", weight=3)
    async def fut_mark_price(self, req: SimRequest) -> Any:
        """Get Mark Price (futures): the mark (index × (1 + premium)) and the index it comes from."""
        sym = self._fut_symbol(req.path_params.get("symbol"))
        assert sym is not None
        now = self.now_ms()
        return _ok(
            {
                "symbol": sym,
                "granularity": 1000,
                "timePoint": now,
                "value": _num(self.risk.mark(sym, now)),
                "indexPrice": _num(self.risk.index(sym, now)),
            }
        )

    @route("GET", FUT, "/api/v1/contract/funding-rates", weight=5)
    async def fut_funding_rates(self, req: SimRequest) -> Any:
        """Get Public Funding History: settled rates with from ≤ timepoint ≤ to, newest first."""
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        try:
            start, end = int(req.query["from"]), int(req.query["to"])
        except (KeyError, ValueError) as exc:
            raise _err(200, "300000", "request parameter illegal") from exc
        events = self.risk.history(sym, start, end, 100)
        return _ok(
            [{"symbol": sym, "fundingRate": _num(e.rate), "timepoint": e.time_ms} for e in reversed(events)]
        )

    @route("GET", FUT, "/api/v1/funding-history", weight=5)
    async def fut_funding_history(self, req: SimRequest) -> Any:
        """Get Private Funding History: the account's settlements (funding < 0: paid), newest first."""
        key = self._auth(req, "futures_trade")
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        start = int(req.query.get("startAt") or 0)
        end = int(req.query.get("endAt") or 2**62)
        count = min(100, int(req.query.get("maxCount") or 10))
        rows = [
            e
            for e in reversed(self.perps.account(key.account).journal)
            if e.kind == "funding" and e.symbol == sym and start <= e.time_ms <= end
        ]
        items = [
            {
                "id": e.entry_id,
                "symbol": sym,
                "timePoint": e.time_ms,
                "fundingRate": _num(e.info["rate"]),
                "markPrice": _num(e.info["mark"]),
                "positionQty": int(self._contracts(sym, e.info["qty"])),
                "positionCost": _num(e.info["qty"] * e.info["mark"]),
                "funding": _num(e.amount),
                "settleCurrency": e.asset,
                "context": "",
                "marginMode": self.perps.margin_mode(key.account, sym).upper(),
            }
            for e in rows[:count]
        ]
        return _ok({"dataList": items, "hasMore": len(rows) > count})

    @route("POST", FUT, "/api/v2/position/changeMarginMode", weight=2)
    async def fut_change_margin_mode(self, req: SimRequest) -> Any:
        """Switch Margin Mode (ISOLATED | CROSS) of a symbol; refused with a position or open orders."""
        key = self._auth(req, "futures_trade")
        body = self._body(req)
        sym = self._fut_symbol(body.get("symbol"))
        assert sym is not None
        mode = str(body.get("marginMode", "")).upper()
        if mode not in ("ISOLATED", "CROSS"):
            raise _err(200, "300000", "request parameter illegal")
        if self.perps.margin_mode(key.account, sym).upper() != mode and (
            self.perps.position(key.account, sym).qty or self.futures.open_orders(key.account, sym)
        ):
            # futures "Error Code" 330006: mode cannot change with positions or orders
            raise _err(
                200,
                "330006",
                "Please close all positions and cancel all orders before switching the margin mode.",
            )
        self.perps.set_margin_mode(key.account, sym, mode.lower())
        return _ok({"symbol": sym, "marginMode": mode})

    @route("GET", FUT, "/api/v2/position/getMarginMode", weight=2)
    async def fut_get_margin_mode(self, req: SimRequest) -> Any:
        """Get Margin Mode of a symbol."""
        key = self._auth(req, "futures_trade")
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        return _ok({"symbol": sym, "marginMode": self.perps.margin_mode(key.account, sym).upper()})

    @route("POST", FUT, "/api/v2/changeCrossUserLeverage", weight=2)
    async def fut_change_cross_leverage(self, req: SimRequest) -> Any:
        """Modify Cross Margin Leverage of a symbol (orders in CROSS mode use it)."""
        key = self._auth(req, "futures_trade")
        body = self._body(req)
        sym = self._fut_symbol(body.get("symbol"))
        assert sym is not None
        lev = _decimal(body.get("leverage"), "leverage")
        if not 1 <= lev <= 125 or lev != lev.to_integral_value():
            raise _err(200, "300000", "request parameter illegal")
        self.perps.account(key.account).leverage[sym] = int(lev)
        return _ok(True)

    @route("GET", FUT, "/api/v2/getCrossUserLeverage", weight=2)
    async def fut_get_cross_leverage(self, req: SimRequest) -> Any:
        """Get Cross Margin Leverage of a symbol."""
        key = self._auth(req, "futures_trade")
        sym = self._fut_symbol(req.query.get("symbol"))
        assert sym is not None
        return _ok({"symbol": sym, "leverage": str(self.perps.leverage(key.account, sym))})


VENUE = KucoinVenue
