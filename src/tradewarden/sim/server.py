"""The HTTP server: `/{host}/{path}` venue routing, admin API under `/_sim/`, faults, weights, log."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import EllipsisType, TracebackType
from typing import Any

from aiohttp import web

from .clock import SimClock
from .keys import KeyError_, KeyStore
from .market import seed_for
from .reference import ReferenceMarket
from .streams import WS_FAULT_KINDS, StreamHub
from .venue import SimRequest, Venue, VenueError, dumps

log = logging.getLogger("tradewarden.sim")

FAULT_KINDS = (
    *("http_500", "http_503", "http_429", "http_418", "timeout", "reset", "bad_json", "latency"),
    *WS_FAULT_KINDS,  # applied to open WebSocket connections at once (streams/hub.py)
)


def is_loopback(remote: str | None) -> bool:
    """True only for loopback client addresses (admin API guard)."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


@dataclass
class Fault:
    """An injected fault: applies with probability `rate` to venue requests, at most `count` times."""

    venue: str
    kind: str
    rate: float = 1.0
    ms: int | None = None
    count: int | None = None
    hits: int = 0


@dataclass(slots=True)
class RequestRecord:
    """One line of the request log."""

    ts: int
    venue: str
    method: str
    host: str
    path: str
    status: int
    weight: int
    code: str | None
    api_key: str | None
    remote: str
    ms: float
    fault: str | None = None


@dataclass
class VenueState:
    """Admin-controlled state of one venue."""

    down: bool = False
    clock_skew_ms: int = 0
    weight_limit: int | None = None
    weight_window_s: float = 60.0
    ban_seconds: float = 0.0
    #: admin overrides of a venue's documented limits by name (order counts, pools, per endpoint)
    limits: dict[str, int] = field(default_factory=dict)


@dataclass
class _Meter:
    window_start: float = 0.0
    used: int = 0
    limited: bool = False
    banned_until: float = 0.0


class WeightMeter:
    """Per (venue, IP) request weight in fixed windows; 429 over the limit, ban (418) if ignored."""

    def __init__(self) -> None:
        self._m: dict[tuple[str, str], _Meter] = {}

    def reset(self, venue: str | None = None) -> None:
        """Forget usage (all venues, or one)."""
        for k in [k for k in self._m if venue is None or k[0] == venue]:
            del self._m[k]

    def charge(self, venue: str, ip: str, extra: int) -> int:
        """Add weight found out while handling (the limit is checked on the next request)."""
        m = self._m.get((venue, ip))
        if m is None:
            return 0
        m.used += extra
        return m.used

    def reset_in(self, venue: str, ip: str, state: VenueState, now: float) -> float:
        """Seconds until the pool's current window ends."""
        m = self._m.get((venue, ip))
        return state.weight_window_s if m is None else max(0.0, m.window_start + state.weight_window_s - now)

    def add(
        self,
        venue: str,
        ip: str,
        weight: int,
        state: VenueState,
        now: float,
        limit: int | EllipsisType | None = ...,
    ) -> tuple[int, int, bool]:
        """Count a request in pool `ip` (an IP, or a venue's pool name); limit defaults to the state's.

        Returns (used, retry_after_s, banned); retry_after 0 means allowed.
        """
        m = self._m.setdefault((venue, ip), _Meter(window_start=now))
        window = state.weight_window_s
        if now >= m.window_start + window:
            m.window_start = now - ((now - m.window_start) % window)
            m.used = 0
            m.limited = False
        if m.banned_until > now:
            return m.used, max(1, int(m.banned_until - now + 0.999)), True
        if isinstance(limit, EllipsisType):
            limit = state.weight_limit
        if limit is None:
            m.used += weight
            return m.used, 0, False
        if m.limited and state.ban_seconds > 0:
            # kept going after being told to back off: auto-ban, as Binance does
            m.banned_until = now + state.ban_seconds
            return m.used, max(1, int(state.ban_seconds)), True
        m.used += weight
        if m.used > limit:
            m.limited = True
            return m.used, max(1, int(m.window_start + window - now + 0.999)), False
        return m.used, 0, False


@dataclass
class SimContext:
    """State shared by the server and all venues."""

    seed: int
    keys: KeyStore = field(default_factory=KeyStore)
    states: dict[str, VenueState] = field(default_factory=dict)
    clock: SimClock = field(default_factory=SimClock)
    reference: ReferenceMarket = field(init=False)

    def __post_init__(self) -> None:
        self.reference = ReferenceMarket(self.seed)

    def now_ms(self, venue: str) -> int:
        """A venue's clock: the shared simulator clock plus the venue's admin skew."""
        state = self.states.get(venue)
        return self.clock.now_ms() + (state.clock_skew_ms if state else 0)


class SimServer:
    """aiohttp server hosting every registered venue; `async with SimServer(port=0) as sim: sim.url`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        venues: Sequence[type[Venue]] | None = None,
        log_size: int = 100_000,
        weight_limits: dict[str, int] | None = None,
    ) -> None:
        from .venues import load_venues

        self.host = host
        self.port = port
        self.ctx = SimContext(seed=seed)
        self.venues: dict[str, Venue] = {}
        self._by_host: dict[str, Venue] = {}
        for cls in venues if venues is not None else load_venues():
            state = VenueState(
                weight_limit=cls.weight_limit,
                weight_window_s=cls.weight_window_s,
                ban_seconds=cls.ban_seconds,
            )
            if weight_limits and cls.name in weight_limits:
                state.weight_limit = weight_limits[cls.name]
            self.ctx.states[cls.name] = state
            venue = cls(self.ctx)
            self.venues[cls.name] = venue
            for h in (*cls.hosts, *cls.testnet_hosts):
                self._by_host[h] = venue
        self.requests: deque[RequestRecord] = deque(maxlen=log_size)
        self.faults: list[Fault] = []
        self.meter = WeightMeter()
        self._fault_rng = random.Random(seed_for(seed, "faults"))
        self.streams = StreamHub(self.ctx, self.venues, seed_for(seed, "ws-faults"))
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.app = web.Application(client_max_size=4 * 1024 * 1024)
        self.app.router.add_route("*", "/_sim/{tail:.*}", self._admin)
        self.app.router.add_route("*", "/{host}/{path:.*}", self._dispatch)
        # a bare host (KuCoin's Pro push is `wss://wsapi-push.kucoin.com?token=`) is path "/"
        self.app.router.add_route("*", "/{host}", self._dispatch)

    # ---- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8765 (valid after start)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> SimServer:
        """Bind and serve; port 0 picks a free port (see `url`)."""
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        """Stop serving; pending 'timeout' faults are released at once."""
        self._stopping.set()
        await self.streams.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- venue dispatch -------------------------------------------------------------------------

    def _pick_fault(self, venue: str) -> Fault | None:
        for fault in list(self.faults):
            if fault.venue not in (venue, "*"):
                continue
            if fault.rate < 1.0 and self._fault_rng.random() >= fault.rate:
                continue
            fault.hits += 1
            if fault.count is not None and fault.hits >= fault.count:
                self.faults.remove(fault)
            return fault
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        t0 = time.perf_counter()
        host = request.match_info["host"]
        venue = self._by_host.get(host)
        if venue is None:
            return web.json_response({"error": f"unknown host {host}"}, status=404)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.streams.serve(venue, host, "/" + request.match_info.get("path", ""), request)
        body = await request.read() if request.can_read_body else b""
        raw_path = request.raw_path
        qpos = raw_path.find("?")
        query_string = raw_path[qpos + 1 :] if qpos >= 0 else ""
        path = "/" + request.match_info.get("path", "")
        req = SimRequest(
            http=request,
            venue=venue.name,
            host=venue.production_host(host, path),  # a testnet host serves its production host's routes
            path=path,
            method=request.method,
            query_string=query_string,
            body=body,
            headers=request.headers,
            remote=request.remote or "",
            now_ms=venue.now_ms(),
            testnet=venue.is_testnet(host, request.headers),
        )
        fault_kind: str | None = None
        resp: web.StreamResponse
        state = self.ctx.states[venue.name]
        if state.down:
            fault_kind = "down"
            resp = venue.down_response(req)
        else:
            fault = self._pick_fault(venue.name)
            fault_kind = fault.kind if fault else None
            early = await self._apply_fault(fault, req, venue) if fault else None
            resp = early if early is not None else await self._serve(venue, req, state)
        venue.decorate(req, resp)
        self.requests.append(
            RequestRecord(
                int(time.time() * 1000),
                venue.name,
                req.method,
                host,
                path,
                resp.status,
                req.weight,
                req.code,
                req.api_key_id,
                req.remote,
                round((time.perf_counter() - t0) * 1000, 3),
                fault_kind,
            )
        )
        return resp

    async def _apply_fault(self, fault: Fault, req: SimRequest, venue: Venue) -> web.StreamResponse | None:
        kind = fault.kind
        if kind == "latency":
            await asyncio.sleep((fault.ms or 200) / 1000)
            return None
        if kind == "timeout":
            # hold the request until the client gives up (or the server stops)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), (fault.ms or 30_000) / 1000)
            return web.Response(status=504, text="Gateway Timeout")
        if kind == "reset":
            # drop the TCP connection without an answer (RST where the OS allows it)
            transport = req.http.transport
            if transport is not None:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            return web.Response(status=499, text="")
        if kind == "bad_json":
            return web.Response(status=200, body=b'{"truncated": [1, 2', content_type="application/json")
        if kind.startswith("http_"):
            return venue.fault_error(req, int(kind[5:]))
        return None

    async def _serve(self, venue: Venue, req: SimRequest, state: VenueState) -> web.StreamResponse:
        found = venue.match(req.method, req.host, req.path)
        if found is None:
            return venue.not_found(req)
        spec, handler, params = found
        req.path_params = params
        req.weight = spec.weight
        venue.market.advance()  # a sequence number for books; prices follow the clock, not requests
        venue.on_tick()
        retry_after = 0
        try:
            # the venue names the pool (default: the client IP) and its quota
            subject, limit = venue.rate_pool(req, state.weight_limit)
            req.rate_subject, req.rate_limit = subject, limit
            now = time.time()
            used, retry_after, banned = self.meter.add(venue.name, subject, req.weight, state, now, limit)
            req.used_weight = used
            req.rate_reset_ms = int(self.meter.reset_in(venue.name, subject, state, now) * 1000)
            if retry_after:
                raise venue.rate_limited(req, used, limit or 0, retry_after, banned)
            venue.admit(req)
            result = await handler(req)
        except VenueError as err:
            req.code = str(err.code)
            return venue.render_error(req, err)
        except Exception:
            log.exception("sim handler %s %s%s failed", req.method, req.host, req.path)
            req.code = "internal"
            return web.Response(status=500, text="simulator internal error")
        finally:
            if req.weight > spec.weight and not retry_after:
                # the handler priced the request by its parameters (e.g. depth limit): charge the rest
                req.used_weight = self.meter.charge(venue.name, req.rate_subject, req.weight - spec.weight)
        if isinstance(result, web.StreamResponse):
            return result
        return web.Response(text=dumps(result), content_type="application/json")

    # ---- admin API ------------------------------------------------------------------------------

    async def _admin(self, request: web.Request) -> web.StreamResponse:
        if not is_loopback(request.remote):
            return web.json_response({"error": "admin API answers loopback clients only"}, status=403)
        tail = request.match_info["tail"].strip("/")
        try:
            body: Any = await request.json() if request.can_read_body and request.body_exists else {}
        except json.JSONDecodeError:
            return _bad("body is not JSON")
        if not isinstance(body, dict):
            return _bad("body must be a JSON object")
        try:
            return await self._admin_route(request.method, tail, body, request)
        except (ValueError, KeyError_, InvalidOperation) as exc:
            return _bad(str(exc))

    async def _admin_route(
        self, method: str, tail: str, body: dict[str, Any], request: web.Request
    ) -> web.StreamResponse:
        q = request.query
        if tail == "health":
            return _ok({"ok": True, "venues": sorted(self.venues)})
        if tail == "keys" and method == "POST":
            return self._admin_create_key(body)
        if tail == "keys" and method == "GET":
            keys = [
                k.public_view()
                for v in self.venues
                for k in self.ctx.keys.for_venue(v)
                if not q.get("venue") or k.venue == q["venue"]
            ]
            return _ok(keys)
        if tail.startswith("keys/") and method == "DELETE":
            if not self.ctx.keys.revoke(tail[5:]):
                return web.json_response({"error": "unknown apiKey"}, status=404)
            return _ok({"revoked": tail[5:]})
        if tail == "balances" and method == "POST":
            key = self.ctx.keys.get(str(body.get("apiKey", "")))
            if key is None:
                return web.json_response({"error": "unknown apiKey"}, status=404)
            self.venues[key.venue].set_balances(key, _decimals(body.get("balances") or {}))
            return _ok({"ok": True})
        if tail == "faults" and method == "POST":
            return self._admin_fault(body)
        if tail == "faults" and method == "DELETE":
            venue = q.get("venue") or body.get("venue")
            self.faults = [f for f in self.faults if venue and f.venue != venue]
            self.streams.clear_faults(venue)
            return _ok({"faults": len(self.faults)})
        if tail == "streams" and method == "GET":
            return _ok(self.streams.view())
        if tail == "faults" and method == "GET":
            return _ok([asdict(f) for f in self.faults])
        if tail == "venue" and method == "POST":
            return self._admin_venue(body)
        if tail == "venue" and method == "GET":
            return _ok({n: asdict(s) for n, s in self.ctx.states.items()})
        if tail == "market" and method == "POST":
            return self._admin_market(body)
        if tail == "market" and method == "GET":
            return _ok(self._admin_market_view(q.get("venue")))
        if tail == "clock" and method == "GET":
            return _ok(self.ctx.clock.view())
        if tail == "clock" and method == "POST":
            return self._admin_clock(body)
        if tail == "requests" and method == "GET":
            return _ok(self._admin_requests(q))
        if tail == "orders" and method == "GET":
            key = self.ctx.keys.get(q.get("api_key")) if q.get("api_key") else None
            if q.get("api_key") and key is None:
                return _ok([])
            out_orders: list[dict[str, Any]] = []
            for name, v in self.venues.items():
                if (q.get("venue") and q["venue"] != name) or (key is not None and key.venue != name):
                    continue
                for o in v.admin_orders(key):
                    out_orders.append({"venue": name, **o})
            return _ok(out_orders)
        return web.json_response({"error": f"no admin route {method} /_sim/{tail}"}, status=404)

    def _venue(self, name: Any) -> Venue:
        venue = self.venues.get(str(name))
        if venue is None:
            raise ValueError(f"unknown venue {name!r}; known: {sorted(self.venues)}")
        return venue

    def _admin_create_key(self, body: dict[str, Any]) -> web.StreamResponse:
        venue = self._venue(body.get("venue"))
        expires_ms = body.get("expires_ms")
        if body.get("expires_in_s") is not None:
            expires_ms = int(self.ctx.clock.now_ms() + float(body["expires_in_s"]) * 1000)
        extra = venue.key_extra(body)  # venue-specific key properties, validated before anything is stored
        if body.get("testnet") is not None:
            if not isinstance(body["testnet"], bool):
                raise ValueError("testnet must be true or false")
            if body["testnet"] and not venue.has_testnet:
                raise ValueError(f"{venue.name} has no testnet in the simulator")
            extra = {**extra, "testnet": body["testnet"]}
        key = self.ctx.keys.create(
            venue.name,
            permissions=list(body.get("permissions", ["read", "spot_trade"])),
            ip_whitelist=list(body.get("ip_whitelist", [])),
            key_type=str(body.get("key_type", "hmac")),
            public_key=body.get("public_key"),
            with_passphrase=venue.needs_passphrase,
            passphrase=body.get("password"),
            account=body.get("account"),
            expires_ms=int(expires_ms) if expires_ms is not None else None,
            # A key the caller already holds (a restarted simulator re-registering its clients' keys).
            api_key=str(body["apiKey"]) if body.get("apiKey") else None,
            secret=str(body["secret"]) if body.get("secret") else None,
            extra=extra,
        )
        key.created_ms = self.ctx.clock.now_ms()  # key times follow the simulator clock
        balances = body.get("balances")
        venue.on_key_created(key, _decimals(balances) if balances is not None else None)
        out: dict[str, Any] = {"apiKey": key.api_key, "account": key.account, "created_at": key.created_ms}
        if key.secret is not None:
            out["secret"] = key.secret
        if key.passphrase is not None:
            out["password"] = key.passphrase
        return _ok({**out, **extra})

    def _admin_fault(self, body: dict[str, Any]) -> web.StreamResponse:
        venue = str(body.get("venue", "*"))
        if venue != "*":
            self._venue(venue)
        kind = str(body.get("kind"))
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {list(FAULT_KINDS)}")
        rate = float(body.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within 0..1")
        count = body.get("count")
        ms = body.get("ms")
        if kind in WS_FAULT_KINDS:
            ms_i = int(ms) if ms is not None else None
            count_i = int(count) if count is not None else None
            return _ok(self.streams.apply_fault(venue, kind, rate, ms_i, count_i))
        fault = Fault(
            venue, kind, rate, int(ms) if ms is not None else None, int(count) if count is not None else None
        )
        self.faults.append(fault)
        return _ok(asdict(fault))

    def _admin_venue(self, body: dict[str, Any]) -> web.StreamResponse:
        venue = self._venue(body.get("venue"))
        state = self.ctx.states[venue.name]
        if "down" in body:
            state.down = bool(body["down"])
        if "clock_skew_ms" in body:
            state.clock_skew_ms = int(body["clock_skew_ms"])
        if "weight_limit" in body:
            state.weight_limit = None if body["weight_limit"] is None else int(body["weight_limit"])
            self.meter.reset(venue.name)
        if "weight_window_s" in body:
            state.weight_window_s = float(body["weight_window_s"])
        if "ban_seconds" in body:
            state.ban_seconds = float(body["ban_seconds"])
        if "limits" in body:
            limits = body["limits"]
            if not isinstance(limits, dict):
                raise ValueError("limits must be an object of limit name -> count (null: documented value)")
            bad = [n for n, v in limits.items() if v is not None and (not isinstance(v, int) or v < 1)]
            if bad:
                raise ValueError(
                    f"limits {bad} must be whole numbers >= 1 (or null for the documented value)"
                )
            for name, value in limits.items():
                if value is None:
                    state.limits.pop(str(name), None)
                else:
                    state.limits[str(name)] = int(value)
            venue.counters.clear()
            self.meter.reset(venue.name)
        if body.get("reset_weights"):
            self.meter.reset(venue.name)
            venue.counters.clear()
        return _ok({"venue": venue.name, **asdict(state)})

    def _admin_clock(self, body: dict[str, Any]) -> web.StreamResponse:
        clock = self.ctx.clock
        mode = body.get("mode")
        if mode is None and "advance_ms" not in body:
            raise ValueError(
                'give {"mode": "real"}, {"mode": "virtual", "start": ms, "speed": x} or {"advance_ms": n}'
            )
        if mode == "real":
            clock.set_real()
        elif mode == "virtual":
            start = body.get("start")
            speed = float(body.get("speed", 0.0))
            clock.set_virtual(int(start) if start is not None else clock.now_ms(), speed)
        elif mode is not None:
            raise ValueError('mode must be "real" or "virtual"')
        if "advance_ms" in body:
            clock.advance(int(body["advance_ms"]))
        return _ok(clock.view())

    def _admin_market_view(self, only: str | None) -> dict[str, Any]:
        """Each venue's current price per pair, and where any replay stands ("replays", by asset)."""
        out: dict[str, Any] = {}
        for name, v in self.venues.items():
            if only and only != name:
                continue
            out[name] = {pm.spec.pair: str(pm.price) for pm in v.market.all()}
        now = self.ctx.clock.now_ms()
        replays = {
            asset: status
            for asset in sorted(self.ctx.reference.assets)
            if (status := self.ctx.reference.replay_status(asset, now)) is not None
        }
        if replays:
            out["replays"] = replays
        return out

    def _admin_market(self, body: dict[str, Any]) -> web.StreamResponse:
        targets = [self._venue(body["venue"])] if body.get("venue") else list(self.venues.values())
        symbol = str(body.get("symbol", "BTC/USDT"))
        result: dict[str, Any] = {}
        book_keys = ("spread_bps", "depth", "recovery_ms", "level_notional")
        book_only = body.get("replay") is None and body.get("price") is None
        if any(k in body for k in book_keys):
            self._admin_book(targets, body, result)
            if book_only:
                return _ok(result)
        # the market is one: a price or a replay moves the asset on every venue; the first target's
        # pair names it (and, with "venue", that venue then quotes exactly the price given)
        venue = targets[0]
        pair = venue.market.resolve(symbol)
        if pair is None:
            raise ValueError(f"unknown symbol {symbol!r} on {venue.name}")
        if body.get("replay"):
            path = Path(str(body["replay"]))
            if not path.is_file():
                raise ValueError(f"replay file {path} not found")
            speed = float(body.get("speed", 1.0))
            if not 0 < speed <= 10_000:
                raise ValueError("speed must be within (0, 10000] file minutes per simulator minute")
            rows = venue.market.replay(pair, path, speed)
            for v in targets:
                result[v.name] = {"pair": pair, "replay": str(path), "rows": rows, "speed": speed}
        elif body.get("price") is not None:
            price = Decimal(str(body["price"]))
            if not price.is_finite() or price <= 0:
                raise ValueError("price must be a positive number")
            venue.market.set_price(pair, price, with_basis=bool(body.get("venue")))
            for v in targets:
                result[v.name] = {"pair": pair, "price": str(v.market.get(pair).price)}
        else:
            raise ValueError("give price, replay, spread_bps, depth, recovery_ms or level_notional")
        return _ok(result)

    def _admin_book(self, targets: list[Venue], body: dict[str, Any], result: dict[str, Any]) -> None:
        """Synthetic book shape (spread, levels, refill time, first level's notional) for every engine."""
        spread = Decimal(str(body["spread_bps"])) if "spread_bps" in body else None
        depth = int(body["depth"]) if "depth" in body else None
        recovery = int(body["recovery_ms"]) if "recovery_ms" in body else None
        notional = Decimal(str(body["level_notional"])) if "level_notional" in body else None
        if (spread is not None and spread <= 0) or (depth is not None and not 1 <= depth <= 5000):
            raise ValueError("spread_bps must be > 0 and depth within 1..5000")
        if recovery is not None and not 0 <= recovery <= 86_400_000:
            raise ValueError("recovery_ms must be within 0..86400000")
        if notional is not None and not (notional.is_finite() and notional > 0):
            raise ValueError("level_notional must be a positive quote amount")
        for venue in targets:
            for engine in venue.engines:
                engine.spread_bps = spread if spread is not None else engine.spread_bps
                engine.book_depth = depth if depth is not None else engine.book_depth
                engine.recovery_ms = recovery if recovery is not None else engine.recovery_ms
                engine.level_notional = notional if notional is not None else engine.level_notional
            result[venue.name] = {
                "spread_bps": str(spread),
                "depth": depth,
                "recovery_ms": recovery,
                "level_notional": None if notional is None else str(notional),
            }

    def _admin_requests(self, q: Any) -> list[dict[str, Any]]:
        venue, api_key = q.get("venue"), q.get("api_key")
        since = int(q.get("since", 0))
        rows = [
            asdict(r)
            for r in list(self.requests)
            if (not venue or r.venue == venue) and (not api_key or r.api_key == api_key) and r.ts >= since
        ]
        limit = int(q.get("limit", 0))
        return rows[-limit:] if limit else rows


def _decimals(raw: Any) -> dict[str, Decimal]:
    if not isinstance(raw, dict):
        raise ValueError("balances must be an object of asset -> amount")
    return {str(k): Decimal(str(v)) for k, v in raw.items()}


def _ok(payload: Any) -> web.Response:
    return web.Response(text=dumps(payload), content_type="application/json")


def _bad(msg: str) -> web.Response:
    return web.json_response({"error": msg}, status=400)


class ThreadedSim:
    """A SimServer running in a background thread's own event loop (for sync code and embedding)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 0, **kwargs: Any) -> None:
        self._args: dict[str, Any] = {"host": host, "port": port, "seed": seed, **kwargs}
        self.server: SimServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        if self.server is None:
            raise RuntimeError("ThreadedSim not started")
        return self.server.url

    def start(self, timeout: float = 10.0) -> ThreadedSim:
        """Start the thread and wait until the server listens."""
        self._thread = threading.Thread(target=self._run, name="tradewarden-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("simulator did not start in time")
        if self._error is not None:
            raise RuntimeError("simulator failed to start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self.server = SimServer(**self._args)
            loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.server.stop())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and join the thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> ThreadedSim:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
