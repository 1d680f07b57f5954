"""MEXC streams: the spot v3 stream (protocol buffers, listenKey user data) and the contract stream (JSON).

Written from MEXC's documents (mexc.com/api-docs: spot-v3 "Websocket Market Streams" and "Websocket
User Data Streams", futures "WebSocket API"):

- Spot `wss://wbs-api.mexc.com/ws`: `{"method": "SUBSCRIPTION", "params": [channel]}` is answered
  `{"id": 0, "code": 0, "msg": channel}`; `{"method": "PING"}` -> `{"id": 0, "code": 0, "msg": "PONG"}`.
  Market and user channels are pushed as protobuf binary frames: a `PushDataV3ApiWrapper` (channel
  = field 1, symbol = 3, createTime = 5, sendTime = 6) carrying one body (publicAggreDepths 313,
  publicAggreDeals 314, publicAggreBookTicker 315, publicSpotKline 308, privateOrders 304,
  privateDeals 306, privateAccount 307), field numbers as in MEXC's published .proto files.
  Channels: `spot@public.aggre.depth.v3.api.pb@(100ms|10ms)@SYM` (fromVersion/toVersion from the
  same counter as REST `/api/v3/depth` lastUpdateId), `spot@public.aggre.deals.v3.api.pb@100ms@SYM`,
  `spot@public.aggre.bookTicker.v3.api.pb@100ms@SYM`, `spot@public.kline.v3.api.pb@SYM@Min1`;
  user data `spot@private.orders.v3.api.pb`, `spot@private.deals.v3.api.pb`,
  `spot@private.account.v3.api.pb` on a connection opened with `?listenKey=`.
  MEXC retired the JSON spot channels; ccxt 4.5.90 subscribes the `.pb` channels and decodes them
  (it needs the `protobuf` package), so only protobuf is served for spot.
- listenKey: `POST/PUT/DELETE/GET /api/v3/userDataStream` (signed like every spot v3 call), valid for
  60 minutes of simulator time, PUT extends it by 60 minutes. An unknown or expired listenKey gets
  the text frame `Invalid listen key` and the connection is closed; an expiry closes open streams.
- Contract `wss://contract.mexc.com/edge`: JSON `{"method": "sub.ticker"|"sub.deal"|"sub.depth"|
  "sub.kline", "param": {...}}` answered `{"channel": "rs.sub.<x>", "data": "success", "ts"}`;
  pushes `push.ticker`, `push.deal`, `push.depth` (`version`, the REST depth's version counter),
  `push.kline`. `{"method": "ping"}` -> `{"channel": "pong", "data": ts}`. `login` with
  `{"apiKey", "reqTime", "signature"}` (hex HMAC-SHA256 of apiKey + reqTime), answered
  `{"channel": "rs.login", "data": "success"}` or `{"channel": "rs.error", "data": reason}`; after it
  every private push comes: `push.personal.order`, `push.personal.order.deal`,
  `push.personal.asset`, `push.personal.position`.
"""

from __future__ import annotations

import hmac
import secrets
import types
from collections.abc import Callable
from decimal import Decimal
from hashlib import sha256
from typing import TYPE_CHECKING, Any, cast

from ..market import MINUTE_MS, PairMarket
from ..matching import Engine, EngineEvent, Order, OrdType, Side, Status
from ..venue import SimRequest, VenueError, fmt, route
from .base import StreamVenue
from .book import BookSequencer
from .conn import StreamConn
from .registry import stream
from .tape import new_trades

if TYPE_CHECKING:
    from ..keys import ApiKey, KeyStore
    from ..ledger import PerpSettlement, Wallets
    from ..market import MarketData
    from ..perps import PerpRisk
    from ..server import SimContext

SPOT_WS, CONTRACT_WS = "wbs-api.mexc.com", "contract.mexc.com"
SPOT_REST = "api.mexc.com"
STREAM_HOSTS = (SPOT_WS,)  # contract.mexc.com is already a REST host of the venue
LISTEN_KEY_TTL_MS = 60 * 60_000
FULL_BOOK = 5000
ZERO = Decimal(0)
SPOT_KLINES = {"Min1": 1, "Min5": 5, "Min15": 15, "Min30": 30, "Min60": 60, "Hour4": 240, "Day1": 1440}
CONTRACT_KLINES = {"Min1": 1, "Min5": 5, "Min15": 15, "Min30": 30, "Min60": 60, "Hour4": 240, "Day1": 1440}
KLINE_PUSH_MS = 1000
TICKER_PUSH_MS = 1000  # contract push.ticker: once a second


# ---- protobuf wire encoding (varints and length-delimited fields are all these messages use) ------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _pb_str(num: int, value: str) -> bytes:
    raw = value.encode()
    return _varint(num << 3 | 2) + _varint(len(raw)) + raw if raw else b""


def _pb_int(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(value) if value else b""


def _pb_msg(num: int, body: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(body)) + body


def _wrapper(channel: str, symbol: str, field: int, body: bytes, now: int) -> bytes:
    """PushDataV3ApiWrapper: channel, one body field, symbol, createTime, sendTime."""
    return _pb_str(1, channel) + _pb_msg(field, body) + _pb_str(3, symbol) + _pb_int(5, now) + _pb_int(6, now)


def _levels(num: int, levels: list[tuple[Decimal, Decimal]]) -> bytes:
    return b"".join(_pb_msg(num, _pb_str(1, fmt(p)) + _pb_str(2, fmt(q))) for p, q in levels)


class MexcStreams(StreamVenue):
    """Stream half of MexcVenue (mixed in before Venue)."""

    # provided by MexcVenue / Venue
    ctx: SimContext
    keys: KeyStore
    market: MarketData
    spot: Engine
    contracts: Engine
    wallets: Wallets
    perps: PerpSettlement
    risk: PerpRisk
    _spot_auth: Callable[[SimRequest, str | None], ApiKey]
    _contract_ticker: Callable[[SimRequest, str], dict[str, Any]]
    _contract_order: Callable[[Order], dict[str, Any]]
    _asset_row: Callable[[ApiKey], dict[str, Any]]

    # ---- state ----------------------------------------------------------------------------------

    def stream_attach(self) -> None:
        """listenKeys and one book sequencer per (market, symbol)."""
        self._mx_keys: dict[str, dict[str, Any]] = {}
        self._mx_seqs: dict[tuple[str, str], BookSequencer] = {}

    def _mx(self) -> None:
        if "_mx_keys" not in self.__dict__:
            self.stream_attach()

    def _now(self) -> int:
        return self.ctx.now_ms(str(getattr(self, "name", "mexc")))

    def _eng(self, mkt: str) -> Engine:
        return self.spot if mkt == "spot" else self.contracts

    def _pmk(self, mkt: str, symbol: str) -> PairMarket:
        return self.market.get(self._eng(mkt).instruments[symbol].pair)

    # ---- listenKey (REST) -----------------------------------------------------------------------

    def _lk_owner(self, req: SimRequest, key: ApiKey) -> str:
        lk = req.params.get("listenKey", "")
        entry = self._mx_keys.get(lk)
        if entry is None or entry["key"] != key.api_key or entry["expires"] <= req.now_ms:
            raise VenueError(400, 730706, "Invalid listen key")
        return lk

    @route("POST", SPOT_REST, "/api/v3/userDataStream", weight=1)
    async def listen_key_create(self, req: SimRequest) -> Any:
        """Create a listenKey (valid 60 minutes)."""
        key = self._spot_auth(req, "SPOT_ACCOUNT_READ")
        self._mx()
        lk = secrets.token_hex(32)
        self._mx_keys[lk] = {"key": key.api_key, "expires": req.now_ms + LISTEN_KEY_TTL_MS}
        return {"listenKey": lk}

    @route("PUT", SPOT_REST, "/api/v3/userDataStream", weight=1)
    async def listen_key_keepalive(self, req: SimRequest) -> Any:
        """Keep a listenKey alive for another 60 minutes."""
        key = self._spot_auth(req, "SPOT_ACCOUNT_READ")
        self._mx()
        lk = self._lk_owner(req, key)
        self._mx_keys[lk]["expires"] = req.now_ms + LISTEN_KEY_TTL_MS
        return {"listenKey": lk}

    @route("DELETE", SPOT_REST, "/api/v3/userDataStream", weight=1)
    async def listen_key_close(self, req: SimRequest) -> Any:
        """Close a listenKey (its open streams end)."""
        key = self._spot_auth(req, "SPOT_ACCOUNT_READ")
        self._mx()
        lk = self._lk_owner(req, key)
        self._expire(lk)
        return {"listenKey": lk}

    @route("GET", SPOT_REST, "/api/v3/userDataStream", weight=1)
    async def listen_key_list(self, req: SimRequest) -> Any:
        """The key's valid listenKeys."""
        key = self._spot_auth(req, "SPOT_ACCOUNT_READ")
        self._mx()
        live = [k for k, v in self._mx_keys.items() if v["key"] == key.api_key and v["expires"] > req.now_ms]
        return {"listenKey": live}

    def _expire(self, lk: str) -> None:
        self._mx_keys.pop(lk, None)
        hub = self.streams
        if hub is None:
            return
        for conn in list(hub.conns.get("mexc", ())):
            if conn.state.get("listenKey") == lk:
                conn.close(1000, "listenKey expired")

    def stream_fault(self, kind: str) -> int:
        """listenkey_expire: every listenKey lapses now; its streams are closed."""
        self._mx()
        if kind != "listenkey_expire":
            return 0
        keys = list(self._mx_keys)
        for lk in keys:
            self._expire(lk)
        return len(keys)

    # ---- spot stream ----------------------------------------------------------------------------

    @stream(SPOT_WS, "/ws")
    async def ws_spot(self, conn: StreamConn) -> None:
        """Spot v3: SUBSCRIPTION / UNSUBSCRIPTION / PING; protobuf pushes."""
        self._mx()
        lk = conn.query.get("listenKey")
        key: ApiKey | None = None
        if lk is not None:
            entry = self._mx_keys.get(lk)
            key = self.keys.get(entry["key"]) if entry is not None else None
            if (
                entry is None
                or key is None
                or entry["expires"] <= self._now()
                or not key.is_active(self._now())
                or not key.allows_ip(conn.remote)
            ):
                conn.send("Invalid listen key")
                conn.close(1000, "")
                return
            conn.state["listenKey"] = lk
        async for _text, msg in conn.json_messages():
            if not isinstance(msg, dict):
                conn.send({"id": 0, "code": 0, "msg": "msg format invalid"})
                continue
            method = str(msg.get("method", "")).upper()
            if method == "PING":
                conn.send({"id": 0, "code": 0, "msg": "PONG"})
                continue
            if method not in ("SUBSCRIPTION", "UNSUBSCRIPTION"):
                conn.send({"id": msg.get("id", 0), "code": 0, "msg": "msg format invalid"})
                continue
            params = msg.get("params") if isinstance(msg.get("params"), list) else []
            for raw in cast(list[Any], params):
                channel = str(raw)
                topic = self._spot_topic(channel, key)
                if topic is None:
                    conn.send(
                        {
                            "id": msg.get("id", 0),
                            "code": 0,
                            "msg": f"Not Subscribed successfully! [{channel}]. Reason: Blocked!",
                        }
                    )
                    continue
                conn.send({"id": msg.get("id", 0), "code": 0, "msg": channel})
                if method == "UNSUBSCRIPTION":
                    conn.unsubscribe(topic)
                    continue
                if topic[0] == "depth":
                    self._book_step("spot", topic[1], self._now())
                conn.subscribe(topic)
                if topic[0] == "kline":
                    conn.send(self._spot_kline(topic, self._now()))

    def _spot_topic(self, channel: str, key: ApiKey | None) -> tuple[Any, ...] | None:
        parts = channel.split("@")
        if len(parts) < 2 or parts[0] != "spot":
            return None
        name = parts[1]
        if name.startswith("private."):
            if key is None or len(parts) != 2:
                return None
            kinds = {
                "private.orders.v3.api.pb": "orders",
                "private.deals.v3.api.pb": "deals",
                "private.account.v3.api.pb": "account",
            }
            kind = kinds.get(name)
            return None if kind is None else (kind, key.account)
        instruments = self.spot.instruments
        if name == "public.kline.v3.api.pb" and len(parts) == 4:
            sym, interval = parts[2], parts[3]
            return ("kline", sym, interval) if sym in instruments and interval in SPOT_KLINES else None
        if len(parts) == 4 and parts[2] in ("100ms", "10ms") and parts[3] in instruments:
            kinds = {
                "public.aggre.depth.v3.api.pb": "depth",
                "public.aggre.deals.v3.api.pb": "deals_pub",
                "public.aggre.bookTicker.v3.api.pb": "book_ticker",
            }
            kind = kinds.get(name)
            return None if kind is None else (kind, parts[3], parts[2])
        return None

    # ---- books ----------------------------------------------------------------------------------

    def book_version(
        self, mkt: str, symbol: str, limit: int
    ) -> tuple[int, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """REST depth: (lastUpdateId / version, bids, asks) of the book the stream also sequences."""
        seq = self._book_step(mkt, symbol, self._now())
        bids, asks = seq.top(limit)
        return seq.last_id, bids, asks

    def _book_step(self, mkt: str, symbol: str, now: int) -> BookSequencer:
        self._mx()
        seq = self._mx_seqs.get((mkt, symbol))
        if seq is None:
            seq = self._mx_seqs[(mkt, symbol)] = BookSequencer(first_id=100_000)
        diff = seq.refresh(*self._eng(mkt).depth(symbol, FULL_BOOK))
        if diff is None:
            return seq
        if mkt == "spot":
            for speed in ("100ms", "10ms"):
                topic = ("depth", symbol, speed)
                if not self.subscribed(topic):
                    continue
                channel = f"spot@public.aggre.depth.v3.api.pb@{speed}@{symbol}"
                body = (
                    _levels(1, diff.asks)
                    + _levels(2, diff.bids)
                    + _pb_str(3, f"spot@public.aggre.depth.v3.api.pb@{speed}")
                    + _pb_str(4, str(diff.first_id))
                    + _pb_str(5, str(diff.last_id))
                )
                self.publish(topic, _wrapper(channel, symbol, 313, body, now))
        elif self.subscribed(("c_depth", symbol)):
            data = {
                "asks": [[float(p), float(q), 1 if q else 0] for p, q in diff.asks],
                "bids": [[float(p), float(q), 1 if q else 0] for p, q in diff.bids],
                "version": diff.last_id,
            }
            self.publish(
                ("c_depth", symbol), {"channel": "push.depth", "data": data, "symbol": symbol, "ts": now}
            )
        return seq

    # ---- the clock ------------------------------------------------------------------------------

    def stream_tick(self, now_ms: int, prev_ms: int) -> None:
        """Depth and book ticker every tick, deals of the span, klines and contract tickers each second."""
        self._mx()
        for lk in [k for k, v in self._mx_keys.items() if v["expires"] <= now_ms]:
            self._expire(lk)  # 60 minutes of simulator time without a PUT: the key and its streams end
        for topic in self.stream_topics():
            if not isinstance(topic, tuple):
                continue
            kind = topic[0]
            if kind == "depth":
                self._book_step("spot", topic[1], now_ms)
            elif kind == "c_depth":
                self._book_step("futures", topic[1], now_ms)
            elif kind == "book_ticker":
                self.publish(topic, self._spot_book_ticker(topic, now_ms))
            elif kind == "deals_pub":
                self._spot_deals(topic, prev_ms, now_ms)
            elif kind == "kline" and now_ms // KLINE_PUSH_MS != prev_ms // KLINE_PUSH_MS:
                self.publish(topic, self._spot_kline(topic, now_ms))
            elif kind == "c_ticker" and now_ms // TICKER_PUSH_MS != prev_ms // TICKER_PUSH_MS:
                self.publish(topic, self._c_ticker(topic[1], now_ms))
            elif kind == "c_deal":
                self._c_deals(topic[1], prev_ms, now_ms)
            elif kind == "c_kline" and now_ms // KLINE_PUSH_MS != prev_ms // KLINE_PUSH_MS:
                self.publish(topic, self._c_kline(topic[1], topic[2], now_ms))

    def _spot_book_ticker(self, topic: tuple[Any, ...], now: int) -> bytes:
        _, sym, speed = topic
        bids, asks = self.spot.depth(sym, 1)
        body = b""
        if bids:
            body += _pb_str(1, fmt(bids[0][0])) + _pb_str(2, fmt(bids[0][1]))
        if asks:
            body += _pb_str(3, fmt(asks[0][0])) + _pb_str(4, fmt(asks[0][1]))
        return _wrapper(f"spot@public.aggre.bookTicker.v3.api.pb@{speed}@{sym}", sym, 315, body, now)

    def _spot_deals(self, topic: tuple[Any, ...], prev: int, now: int) -> None:
        _, sym, speed = topic
        trades = new_trades(self._pmk("spot", sym), prev, now)
        if not trades:
            return
        items = b"".join(
            _pb_msg(
                1,
                _pb_str(1, fmt(t.price))
                + _pb_str(2, fmt(t.qty))
                + _pb_int(3, 2 if t.buyer_maker else 1)  # 1 buy, 2 sell (the taker)
                + _pb_int(4, t.time_ms),
            )
            for t in trades
        )
        body = items + _pb_str(2, f"spot@public.aggre.deals.v3.api.pb@{speed}")
        self.publish(topic, _wrapper(f"spot@public.aggre.deals.v3.api.pb@{speed}@{sym}", sym, 314, body, now))

    def _spot_kline(self, topic: tuple[Any, ...], now: int) -> bytes:
        _, sym, interval = topic
        span = SPOT_KLINES[interval] * MINUTE_MS
        c = self._pmk("spot", sym).klines(span, None, now, 1)[-1]
        body = (
            _pb_str(1, interval)
            + _pb_int(2, c.open_ms // 1000)
            + _pb_str(3, fmt(c.open))
            + _pb_str(4, fmt(c.close))
            + _pb_str(5, fmt(c.high))
            + _pb_str(6, fmt(c.low))
            + _pb_str(7, fmt(c.volume))
            + _pb_str(8, fmt(c.quote_volume))
            + _pb_int(9, (c.open_ms + span) // 1000)
        )
        return _wrapper(f"spot@public.kline.v3.api.pb@{sym}@{interval}", sym, 308, body, now)

    # ---- private events -------------------------------------------------------------------------

    def stream_event(self, ev: EngineEvent) -> None:
        """Spot: privateOrders / privateDeals / privateAccount; contract: push.personal.*."""
        o = ev.order
        acct = o.account
        now = self._now()
        if ev.engine == "spot":
            if self.subscribed(("orders", acct)):
                self.publish(("orders", acct), self._pb_order(ev, now), ev.t0)
            if ev.kind == "trade" and ev.fill is not None and self.subscribed(("deals", acct)):
                self.publish(("deals", acct), self._pb_deal(ev, now), ev.t0)
            if self.subscribed(("account", acct)):
                inst = self.spot.instruments[o.symbol]
                for coin in (inst.base, inst.quote):
                    self.publish(("account", acct), self._pb_account(acct, coin, now), ev.t0)
            return
        topic = ("c_private", acct)
        if not self.subscribed(topic):
            return
        self.publish(
            topic, {"channel": "push.personal.order", "data": self._contract_order(o), "ts": now}, ev.t0
        )
        if ev.kind == "trade" and ev.fill is not None:
            f = ev.fill
            deal = {
                "category": 1,
                "fee": float(f.fee),
                "feeCurrency": "USDT",
                "id": str(f.trade_id),
                "isSelf": False,
                "isTaker": not f.is_maker,
                "orderId": str(o.order_id),
                "positionMode": 1,
                "price": float(f.price),
                "profit": float(f.realized_pnl),
                "side": self._contract_order(o).get("side"),
                "symbol": o.symbol,
                "timestamp": f.time_ms,
                "vol": float(f.qty),
            }
            self.publish(topic, {"channel": "push.personal.order.deal", "data": deal, "ts": now}, ev.t0)
            key = self._key_of(acct)
            if key is not None:
                self.publish(
                    topic, {"channel": "push.personal.asset", "data": self._asset_row(key), "ts": now}, ev.t0
                )
            self.publish(
                topic,
                {
                    "channel": "push.personal.position",
                    "data": self._c_position(acct, o.symbol, now),
                    "ts": now,
                },
                ev.t0,
            )

    def _key_of(self, acct: str) -> ApiKey | None:
        for key in self.keys.for_venue("mexc"):
            if key.account == acct:
                return key
        return None

    def _pb_order(self, ev: EngineEvent, now: int) -> bytes:
        o = ev.order
        cum = o.executed_qty
        cum_q = o.cum_quote
        last = ZERO
        if ev.kind == "trade" and ev.fill is not None and ev.fill in o.fills:
            upto = o.fills[: o.fills.index(ev.fill) + 1]
            cum = sum((f.qty for f in upto), ZERO)
            cum_q = sum((f.quote_qty for f in upto), ZERO)
            last = ev.fill.qty
        qty = o.qty if o.qty is not None else cum
        if ev.kind == "new":
            status = 1
        elif ev.kind == "trade":
            status = 2 if cum >= qty and o.status is Status.FILLED else 3
        else:
            status = 5 if o.executed_qty else 4
        body = (
            _pb_str(1, str(o.order_id))
            + _pb_str(2, o.client_order_id or "")
            + _pb_str(3, fmt(o.price or ZERO))
            + _pb_str(4, fmt(qty))
            + _pb_str(5, fmt((o.price or ZERO) * qty if o.quote_qty is None else o.quote_qty))
            + _pb_str(6, fmt(cum_q / cum if cum else ZERO))
            + _pb_int(7, 5 if o.type is OrdType.MARKET else 1)
            + _pb_int(8, 1 if o.side is Side.BUY else 2)
            + _pb_str(11, fmt(max(ZERO, qty - cum)))
            + _pb_str(12, fmt(last))
            + _pb_str(13, fmt(cum))
            + _pb_str(14, fmt(cum_q))
            + _pb_int(15, status)
            + _pb_int(16, o.created_ms)
        )
        return _wrapper("spot@private.orders.v3.api.pb", o.symbol, 304, body, now)

    def _pb_deal(self, ev: EngineEvent, now: int) -> bytes:
        o, f = ev.order, ev.fill
        assert f is not None
        body = (
            _pb_str(1, fmt(f.price))
            + _pb_str(2, fmt(f.qty))
            + _pb_str(3, fmt(f.quote_qty))
            + _pb_int(4, 1 if f.side is Side.BUY else 2)
            + _pb_int(5, 1 if f.is_maker else 0)
            + _pb_str(7, str(f.trade_id))
            + _pb_str(8, o.client_order_id or "")
            + _pb_str(9, str(o.order_id))
            + _pb_str(10, fmt(f.fee))
            + _pb_str(11, f.fee_asset)
            + _pb_int(12, f.time_ms)
        )
        return _wrapper("spot@private.deals.v3.api.pb", o.symbol, 306, body, now)

    def _pb_account(self, acct: str, coin: str, now: int) -> bytes:
        with self.wallets.lock:
            bal = self.wallets.ensure(acct).get(coin)
        free = bal.free if bal is not None else ZERO
        locked = bal.locked if bal is not None else ZERO
        body = (
            _pb_str(1, coin)
            + _pb_str(2, coin.lower())
            + _pb_str(3, fmt(free))
            + _pb_str(4, "0")
            + _pb_str(5, fmt(locked))
            + _pb_str(6, "0")
            + _pb_str(7, "ENTRUST")
            + _pb_int(8, now)
        )
        return _wrapper("spot@private.account.v3.api.pb", "", 307, body, now)

    # ---- contract stream ------------------------------------------------------------------------

    @stream(CONTRACT_WS, "/edge")
    async def ws_contract(self, conn: StreamConn) -> None:
        """Contract: sub.* / unsub.* public channels, login for the personal pushes, ping."""
        self._mx()
        async for _text, msg in conn.json_messages():
            if not isinstance(msg, dict):
                conn.send({"channel": "rs.error", "data": "msg format invalid", "ts": self._now()})
                continue
            method = str(msg.get("method", ""))
            param = msg.get("param") if isinstance(msg.get("param"), dict) else {}
            param = cast(dict[str, Any], param)
            now = self._now()
            if method == "ping":
                conn.send({"channel": "pong", "data": now})
            elif method == "login":
                error = self._c_login(conn, param)
                if error is None:
                    conn.send({"channel": "rs.login", "data": "success", "ts": now})
                else:
                    conn.send({"channel": "rs.error", "data": error, "ts": now})
            elif method.startswith(("sub.", "unsub.")):
                on = method.startswith("sub.")
                name = method.split(".", 1)[1]
                topic = self._c_topic(name, param)
                if topic is None:
                    conn.send({"channel": "rs.error", "data": f"invalid param for {method}", "ts": now})
                    continue
                conn.send({"channel": f"rs.{method}", "data": "success", "ts": now})
                if not on:
                    conn.unsubscribe(topic)
                    continue
                if topic[0] == "c_depth":
                    self._book_step("futures", topic[1], now)
                conn.subscribe(topic)
                if topic[0] == "c_ticker":
                    conn.send(self._c_ticker(topic[1], now))
                elif topic[0] == "c_kline":
                    conn.send(self._c_kline(topic[1], topic[2], now))
            else:
                conn.send({"channel": "rs.error", "data": f"unknown method {method}", "ts": now})

    def _c_topic(self, name: str, param: dict[str, Any]) -> tuple[Any, ...] | None:
        sym = str(param.get("symbol", ""))
        if sym not in self.contracts.instruments:
            return None
        if name in ("ticker", "deal", "depth"):
            return (f"c_{name}", sym)
        if name == "kline":
            interval = str(param.get("interval", "Min1"))
            return ("c_kline", sym, interval) if interval in CONTRACT_KLINES else None
        return None

    def _c_login(self, conn: StreamConn, param: dict[str, Any]) -> str | None:
        """Check like REST: key, reqTime window, signature, IP, contract permission."""
        key_id, req_time, sig = (
            str(param.get("apiKey", "")),
            str(param.get("reqTime", "")),
            str(param.get("signature", "")),
        )
        key = self.keys.get(key_id)
        now = self._now()
        if key is None or key.venue != "mexc" or key.revoked:
            return "Not logged in or login has expired"
        if not key.is_active(now):
            return "Api_key expired"
        if not req_time.isdigit() or abs(now - int(req_time)) > 10_000:
            return "Invalid request time"
        expected = hmac.new((key.secret or "").encode(), (key_id + req_time).encode(), sha256).hexdigest()
        if not key.secret or not hmac.compare_digest(expected, sig):
            return "Signature verification failed!"
        if not key.allows_ip(conn.remote):
            return "Accessed IP is not in the whitelist"
        if not key.has("futures_trade"):
            return "No permission to access the endpoint."
        conn.subscribe(("c_private", key.account))
        return None

    def _c_ticker(self, sym: str, now: int) -> dict[str, Any]:
        data = self._contract_ticker(cast(SimRequest, types.SimpleNamespace(now_ms=now)), sym)
        return {"channel": "push.ticker", "data": data, "symbol": sym, "ts": now}

    def _c_deals(self, sym: str, prev: int, now: int) -> None:
        trades = new_trades(self._pmk("futures", sym), prev, now)
        if not trades:
            return
        rows = [
            {
                "p": float(t.price),
                "v": float(t.qty),
                "T": 2 if t.buyer_maker else 1,
                "O": 3,
                "M": 2,
                "t": t.time_ms,
            }
            for t in trades
        ]
        self.publish(("c_deal", sym), {"channel": "push.deal", "data": rows, "symbol": sym, "ts": now})

    def _c_kline(self, sym: str, interval: str, now: int) -> dict[str, Any]:
        span = CONTRACT_KLINES[interval] * MINUTE_MS
        c = self._pmk("futures", sym).klines(span, None, now, 1)[-1]
        data = {
            "symbol": sym,
            "interval": interval,
            "t": c.open_ms // 1000,
            "o": float(c.open),
            "c": float(c.close),
            "h": float(c.high),
            "l": float(c.low),
            "a": float(c.quote_volume),
            "q": float(c.volume),
        }
        return {"channel": "push.kline", "data": data, "symbol": sym, "ts": now}

    def _c_position(self, acct: str, sym: str, now: int) -> dict[str, Any]:
        pos = self.perps.position(acct, sym)
        return {
            "positionId": abs(hash((acct, sym))) % 10**9,
            "symbol": sym,
            "positionType": 1 if pos.qty >= 0 else 2,
            "openType": 1 if pos.isolated else 2,
            "state": 1 if pos.qty else 3,
            "holdVol": float(abs(pos.qty)),
            "frozenVol": 0,
            "closeVol": 0,
            "holdAvgPrice": float(pos.entry),
            "openAvgPrice": float(pos.entry),
            "closeAvgPrice": 0,
            "liquidatePrice": float(self.perps.liquidation_price(acct, sym)),
            "oim": 0,
            "adlLevel": 0,
            "im": 0,
            "holdFee": float(pos.funding),
            "realised": float(pos.realized),
            "leverage": self.perps.leverage(acct, sym),
            "createTime": pos.opened_ms or now,
            "updateTime": now,
        }
