"""The Venue extension point: one subclass per exchange, routes declared with @route.

See VENUES.md for the how-to. A Venue owns its hosts, its MarketData and engines, and renders its
own wire format; the server does routing, fault injection, downtime, weight accounting and logging.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDictProxy

from .keys import ApiKey, KeyStore
from .market import DEFAULT_PAIRS, MarketData, PairSpec
from .matching import Engine, Order
from .ratelimit import Counters

if TYPE_CHECKING:
    from .server import SimContext

Handler = Callable[[Any, "SimRequest"], Awaitable[Any]]
H = TypeVar("H", bound=Handler)
BoundHandler = Callable[["SimRequest"], Awaitable[Any]]


class VenueError(Exception):
    """An error the venue answers with: HTTP status plus the venue's own code and message."""

    def __init__(
        self, status: int, code: int | str, msg: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = headers or {}
        self.body = body  # full custom body; None means the venue's render_error shape


@dataclass
class SimRequest:
    """One request as a venue handler sees it (host prefix already stripped from `path`)."""

    http: web.Request
    venue: str
    host: str
    path: str
    method: str
    query_string: str
    body: bytes
    headers: CIMultiDictProxy[str]
    remote: str
    now_ms: int
    path_params: dict[str, str] = field(default_factory=dict)
    weight: int = 1
    api_key_id: str | None = None
    api_key: ApiKey | None = None
    testnet: bool = False  # it reached the venue's testnet (host, or OKX's x-simulated-trading: 1)
    code: str | None = None
    used_weight: int = 0
    #: which weight pool the request drew on (default: the client IP), its quota and ms to its reset
    rate_subject: str = ""
    rate_limit: int | None = None
    rate_reset_ms: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    _query: dict[str, str] | None = None
    _form: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        """Query-string parameters, percent-decoded (first occurrence wins)."""
        if self._query is None:
            q: dict[str, str] = {}
            for k, v in parse_qsl(self.query_string, keep_blank_values=True):
                q.setdefault(k, v)
            self._query = q
        return self._query

    @property
    def form(self) -> dict[str, str]:
        """Form-encoded body parameters (empty for JSON or empty bodies)."""
        if self._form is None:
            f: dict[str, str] = {}
            ctype = self.headers.get("Content-Type", "")
            if self.body and "json" not in ctype:
                for k, v in parse_qsl(self.body.decode(errors="replace"), keep_blank_values=True):
                    f.setdefault(k, v)
            self._form = f
        return self._form

    @property
    def params(self) -> dict[str, str]:
        """Body and query parameters merged; the query string wins (Binance's documented rule)."""
        return {**self.form, **self.query}

    def json(self) -> Any:
        """The body parsed as JSON; None when empty; raises ValueError when malformed."""
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class RouteSpec:
    """A declared route: method, hosts, path (with {name} placeholders) and static weight."""

    method: str
    hosts: tuple[str, ...]
    path: str
    weight: int
    attr: str
    pattern: re.Pattern[str] | None


def route(method: str, hosts: str | tuple[str, ...], path: str, weight: int = 1) -> Callable[[H], H]:
    """Declare a handler `async def h(self, req: SimRequest) -> JSON-able | web.Response`."""

    def deco(fn: H) -> H:
        specs: list[tuple[str, tuple[str, ...], str, int]] = list(getattr(fn, "__sim_routes__", []))
        specs.append((method.upper(), (hosts,) if isinstance(hosts, str) else tuple(hosts), path, weight))
        fn.__sim_routes__ = specs  # type: ignore[attr-defined]
        return fn

    return deco


def _compile(path: str) -> re.Pattern[str] | None:
    if "{" not in path:
        return None
    return re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


class Venue:
    """Base class of a simulated exchange. Subclass, set `name`/`hosts`, declare @route handlers."""

    name: ClassVar[str] = ""
    hosts: ClassVar[tuple[str, ...]] = ()
    #: keys of this venue get a passphrase ("password" in ccxt) on creation
    needs_passphrase: ClassVar[bool] = False
    #: request weight allowed per IP per window; None disables accounting
    weight_limit: ClassVar[int | None] = None
    weight_window_s: ClassVar[float] = 60.0
    #: how long an IP stays banned after ignoring a rate-limit answer (0: never banned)
    ban_seconds: ClassVar[float] = 0.0
    pairs: ClassVar[tuple[PairSpec, ...]] = DEFAULT_PAIRS
    #: the venue's testnet hosts, each serving the routes of the production host it names
    testnet_hosts: ClassVar[dict[str, str]] = {}
    #: keys may be created with "testnet": true (they then work only on the testnet, as the exchange's do)
    has_testnet: ClassVar[bool] = False

    def production_host(self, host: str, path: str) -> str:
        """The production host whose routes a request to `host` (maybe a testnet host) is served by."""
        return self.testnet_hosts.get(host, host)

    def is_testnet(self, host: str, headers: Any) -> bool:
        """Whether a request reached the venue's testnet (by host here; OKX by its demo-trading header)."""
        return host in self.testnet_hosts

    @staticmethod
    def same_environment(req: SimRequest, key: ApiKey) -> bool:
        """A testnet key works only on the testnet and a production key only in production."""
        return bool(key.extra.get("testnet")) == req.testnet

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.keys: KeyStore = ctx.keys
        # every venue quotes the one reference market at the one simulator clock
        self.market = MarketData(
            self.name, ctx.seed, self.pairs, clock=ctx.clock.now_ms, reference=ctx.reference
        )
        self.engines: list[Engine] = []
        #: order-count, per-endpoint and per-UID windows (beside the server's per-IP weight meter)
        self.counters = Counters()
        self._exact: dict[tuple[str, str, str], tuple[RouteSpec, BoundHandler]] = {}
        self._patterns: list[tuple[RouteSpec, BoundHandler]] = []
        for cls in reversed(type(self).__mro__):
            for attr, fn in vars(cls).items():
                for method, hosts, path, weight in getattr(fn, "__sim_routes__", []):
                    spec = RouteSpec(method, hosts, path, weight, attr, _compile(path))
                    bound: BoundHandler = getattr(self, attr)
                    for host in hosts:
                        if spec.pattern is None:
                            self._exact[(method, host, path)] = (spec, bound)
                    if spec.pattern is not None:
                        self._patterns.append((spec, bound))

    # ---- routing (used by the server) ---------------------------------------------------------

    def match(
        self, method: str, host: str, path: str
    ) -> tuple[RouteSpec, BoundHandler, dict[str, str]] | None:
        """Find the handler for a request, with path parameters."""
        hit = self._exact.get((method, host, path))
        if hit is not None:
            return hit[0], hit[1], {}
        for spec, handler in self._patterns:
            if spec.method == method and host in spec.hosts and spec.pattern is not None:
                m = spec.pattern.match(path)
                if m:
                    return spec, handler, m.groupdict()
        return None

    def routes(self) -> list[RouteSpec]:
        """Every declared route (for docs and tests)."""
        return [s for s, _ in self._exact.values()] + [s for s, _ in self._patterns]

    # ---- clock --------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Venue server time: wall clock plus the admin clock skew."""
        return self.ctx.now_ms(self.name)

    def limit(self, name: str, default: int) -> int:
        """A documented limit, unless the admin set another (`POST /_sim/venue {"limits": {name: n}}`)."""
        state = self.ctx.states.get(self.name)
        override = state.limits.get(name) if state is not None else None
        return default if override is None else override

    # ---- hooks a venue may override -----------------------------------------------------------

    def rate_pool(self, req: SimRequest, limit: int | None) -> tuple[str, int | None]:
        """Which weight pool a request draws on and its quota; default: the client IP, the venue limit."""
        return req.remote, limit

    def admit(self, req: SimRequest) -> None:
        """Per-endpoint / per-UID limits checked before the handler; raise VenueError to refuse."""

    def key_extra(self, body: dict[str, Any]) -> dict[str, Any]:
        """Venue-specific properties of a key from the `POST /_sim/keys` body; raise ValueError if bad."""
        return {}

    def render_error(self, req: SimRequest, err: VenueError) -> web.Response:
        """Error body; default `{"code": ..., "msg": ...}`."""
        body = err.body if err.body is not None else {"code": err.code, "msg": err.msg}
        return web.json_response(body, status=err.status, headers=err.headers, dumps=dumps)

    def rate_limited(
        self, req: SimRequest, used: int, limit: int, retry_after: int, banned: bool
    ) -> VenueError:
        """The error for a request over the weight limit (banned: the IP kept going after a 429)."""
        status = 418 if banned else 429
        return VenueError(status, status, "Too many requests", headers={"Retry-After": str(retry_after)})

    def fault_error(self, req: SimRequest, status: int) -> web.Response:
        """Response for an injected http_500/503/429/418 fault; default plain text."""
        headers = {"Retry-After": "1"} if status in (418, 429) else {}
        return web.Response(status=status, text=f"simulated {status}", headers=headers)

    def down_response(self, req: SimRequest) -> web.Response:
        """Response while the venue is marked down."""
        return web.Response(status=503, text="Service Unavailable")

    def not_found(self, req: SimRequest) -> web.Response:
        """Response for a path the venue does not serve."""
        return web.Response(status=404, text=f"no route {req.method} {req.host}{req.path}")

    def decorate(self, req: SimRequest, resp: web.StreamResponse) -> None:
        """Last touch on every venue response (e.g. used-weight headers)."""
        for k, v in req.response_headers.items():
            resp.headers[k] = v

    def on_tick(self) -> None:
        """Called once per venue request after the market advanced; default fills crossed resting orders."""
        for engine in self.engines:
            engine.sweep()

    def on_key_created(self, key: ApiKey, balances: dict[str, Decimal] | None) -> None:
        """Set up accounts for a new key (`balances` from the admin call, else the venue defaults)."""

    def set_balances(self, key: ApiKey, balances: dict[str, Decimal]) -> None:
        """Admin: replace a key's account balances."""
        raise NotImplementedError

    def admin_orders(self, key: ApiKey | None) -> list[dict[str, Any]]:
        """Every order of the venue (or of one key's account) with fills, for GET /_sim/orders."""
        out: list[dict[str, Any]] = []
        for engine in self.engines:
            for o in engine.all_orders(key.account if key else None):
                out.append(order_admin_view(engine.name, o))
        return out


def order_admin_view(market: str, o: Order) -> dict[str, Any]:
    """Venue-neutral JSON view of an order and its fills."""
    return {
        "market": market,
        "orderId": o.order_id,
        "clientOrderId": o.client_order_id,
        "account": o.account,
        "symbol": o.symbol,
        "side": o.side.value,
        "type": o.type.value,
        "timeInForce": o.tif.value,
        "price": None if o.price is None else str(o.price),
        "qty": None if o.qty is None else str(o.qty),
        "quoteQty": None if o.quote_qty is None else str(o.quote_qty),
        "executedQty": str(o.executed_qty),
        "cumQuote": str(o.cum_quote),
        "status": o.status.value,
        "created": o.created_ms,
        "updated": o.updated_ms,
        "fills": [
            {
                "tradeId": f.trade_id,
                "price": str(f.price),
                "qty": str(f.qty),
                "quoteQty": str(f.quote_qty),
                "fee": str(f.fee),
                "feeAsset": f.fee_asset,
                "maker": f.is_maker,
                "time": f.time_ms,
                "realizedPnl": str(f.realized_pnl),
            }
            for f in o.fills
        ],
    }


def _default(obj: object) -> Any:
    if isinstance(obj, Decimal):
        return fmt(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def dumps(obj: Any) -> str:
    """Compact JSON; Decimals become plain strings."""
    return json.dumps(obj, separators=(",", ":"), default=_default)


def fmt(value: Decimal, places: int | None = None) -> str:
    """Plain (non-scientific) decimal string, optionally with a fixed number of places."""
    if places is not None:
        return f"{value:.{places}f}"
    s = format(value, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def parse_decimal(text: str | None) -> Decimal | None:
    """Decimal from a request parameter; None when absent or not a finite number."""
    if text is None or text == "":
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None
