"""KuCoin streams: bullet tokens, the classic spot and futures push channels, and the Pro private push.

Written from KuCoin's documents (docs-new "WebSockets": Base Info, "Get Public Token", "Get Private
Token", and the spot/futures topic pages):

- `POST /api/v1/bullet-public` (no key) and `POST /api/v1/bullet-private` (signed like every private
  REST call) on `api.kucoin.com` and `api-futures.kucoin.com` return a token and one instance server:
  `endpoint`, `protocol: websocket`, `encrypt`, `pingInterval` 18000 ms and `pingTimeout` 10000 ms.
  Here the endpoint points back at the simulator (`ws://SIM/ws-api-spot.kucoin.com/` or
  `.../ws-api-futures.kucoin.com/`), the same E/HOST/PATH rewrite as every other URL.
- Connect with `?token=...&connectId=...`: the server sends `{"id": connectId, "type": "welcome"}`;
  an unknown token gets `{"type": "error", "code": 401, "data": "token is invalid"}` and a close.
  A private token whose key was revoked, expired or no longer matches its IP whitelist is refused
  the same way (the gateway checks the key behind the token).
- The client pings with `{"id", "type": "ping"}` and gets `{"id", "type": "pong", "timestamp"}`;
  nothing from the client for pingInterval + pingTimeout closes the connection.
- `{"id", "type": "subscribe", "topic", "privateChannel", "response": true}` is answered
  `{"id", "type": "ack"}`; an unknown topic `{"id", "type": "error", "code": 404, ...}`; a private
  topic on a public token `{"id", "type": "error", "code": 401, ...}`.
- Data frames are `{"type": "message", "topic", "subject", "data"}` (private ones add
  `"channelType": "private"` and `"userId"`).
- Spot `/market/level2` carries `sequenceStart`/`sequenceEnd` and one sequence per change; the
  REST order book's `sequence` comes from the same counter (streams/book.py), so a client that
  buffers diffs, reads a snapshot and replays the later diffs stays in sync. Futures
  `/contractMarket/level2` sends one change per frame (`"change": "price,side,size"`, `sequence`).
- Pro (unified) private push `wss://wsapi-push.kucoin.com?token=` (token from bullet-private with
  `version=v2`): `{"id", "action": "subscribe", "channel", "tradeType"}` answered
  `{"id", "result": true}`; position frames `{"T": "positionAll.FUTURES", "d": {...}}`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import types
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from ..market import MINUTE_MS, PairMarket
from ..matching import Engine, EngineEvent, Order, OrdType, Side, Status
from ..venue import SimRequest, route
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

SPOT_REST, FUT_REST = "api.kucoin.com", "api-futures.kucoin.com"
SPOT_WS, FUT_WS, PRO_WS = "ws-api-spot.kucoin.com", "ws-api-futures.kucoin.com", "wsapi-push.kucoin.com"
STREAM_HOSTS = (SPOT_WS, FUT_WS, PRO_WS)
PING_INTERVAL_MS, PING_TIMEOUT_MS = 18_000, 10_000
TOKEN_TTL_MS = 24 * 3600_000  # tokens are valid for 24 hours
FULL_BOOK = 5000
ZERO = Decimal(0)
KLINE_TYPES = {
    "1min": 1,
    "3min": 3,
    "5min": 5,
    "15min": 15,
    "30min": 30,
    "1hour": 60,
    "4hour": 240,
    "1day": 1440,
}
FUT_KLINE_TYPES = {"1min": 1, "5min": 5, "15min": 15, "30min": 30, "1hour": 60, "4hour": 240, "1day": 1440}
SNAPSHOT_PUSH_MS = 2000  # "/market/snapshot: push frequency 2s"
KLINE_PUSH_MS = 1000


def _s(v: Decimal) -> str:
    text = format(v.normalize(), "f") if v else "0"
    return text


class KucoinStreams(StreamVenue):
    """Stream half of KucoinVenue (mixed in before Venue)."""

    # provided by KucoinVenue / Venue
    ctx: SimContext
    keys: KeyStore
    market: MarketData
    spot: Engine
    futures: Engine
    wallets: Wallets
    perps: PerpSettlement
    risk: PerpRisk
    _auth: Callable[[SimRequest, str | None], ApiKey]
    _order_id: Callable[[Order], str]
    _contracts: Callable[[str, Decimal], Decimal]
    _spot_stats: Callable[[SimRequest, str], dict[str, Any]]
    _position: Callable[[SimRequest, ApiKey, str], dict[str, Any]]
    limit: Callable[[str, int], int]

    # ---- state --------------------------------------------------------------------------------

    def stream_attach(self) -> None:
        """Tokens and one book sequencer per (market, symbol)."""
        self._kc_tokens: dict[str, dict[str, Any]] = {}
        self._kc_seqs: dict[tuple[str, str], BookSequencer] = {}

    def _kc(self) -> None:
        if "_kc_tokens" not in self.__dict__:
            self.stream_attach()

    def _now(self) -> int:
        return self.ctx.now_ms(str(getattr(self, "name", "kucoin")))

    def _eng(self, mkt: str) -> Engine:
        return self.spot if mkt == "spot" else self.futures

    def _pmk(self, mkt: str, symbol: str) -> PairMarket:
        return self.market.get(self._eng(mkt).instruments[symbol].pair)

    # ---- tokens (REST) ------------------------------------------------------------------------

    def _bullet(self, req: SimRequest, mkt: str, key: ApiKey | None, pro: bool = False) -> dict[str, Any]:
        self._kc()
        token = secrets.token_urlsafe(48)
        self._kc_tokens[token] = {
            "market": mkt,
            "key": key.api_key if key is not None else None,
            "expires": req.now_ms + TOKEN_TTL_MS,
            "pro": pro,
        }
        host = req.headers.get("Host", "127.0.0.1")
        ws_host = SPOT_WS if mkt == "spot" else FUT_WS
        return {
            "code": "200000",
            "data": {
                "token": token,
                "instanceServers": [
                    {
                        "endpoint": f"ws://{host}/{ws_host}/",
                        "encrypt": False,  # the simulator's stream is plain ws on loopback
                        "protocol": "websocket",
                        # admin-adjustable (POST /_sim/venue {"limits": {"ws_ping_interval_ms": n}})
                        "pingInterval": self.limit("ws_ping_interval_ms", PING_INTERVAL_MS),
                        "pingTimeout": self.limit("ws_ping_timeout_ms", PING_TIMEOUT_MS),
                    }
                ],
            },
        }

    @route("POST", SPOT_REST, "/api/v1/bullet-public", weight=10)
    async def bullet_public_spot(self, req: SimRequest) -> Any:
        """Get Public Token - Spot/Margin."""
        return self._bullet(req, "spot", None)

    @route("POST", FUT_REST, "/api/v1/bullet-public", weight=10)
    async def bullet_public_futures(self, req: SimRequest) -> Any:
        """Get Public Token - Futures."""
        return self._bullet(req, "futures", None)

    @route("POST", SPOT_REST, "/api/v1/bullet-private", weight=10)
    async def bullet_private_spot(self, req: SimRequest) -> Any:
        """Get Private Token - Spot/Margin: signed like every private call (General permission)."""
        return self._bullet(req, "spot", self._auth(req, "read"))

    @route("POST", SPOT_REST, "/api/v2/bullet-private", weight=10)
    async def bullet_private_pro(self, req: SimRequest) -> Any:
        """Token for the Pro private push (wsapi-push): what ccxt 4.5.90 calls for watch_positions.

        Not found in KuCoin's public pages we could read; modelled on bullet-private (same checks).
        """
        return self._bullet(req, "spot", self._auth(req, "read"), pro=True)

    @route("POST", FUT_REST, "/api/v1/bullet-private", weight=10)
    async def bullet_private_futures(self, req: SimRequest) -> Any:
        """Get Private Token - Futures: needs the Futures permission like the futures account calls."""
        return self._bullet(req, "futures", self._auth(req, "futures_trade"))

    def _token_error(self, conn: StreamConn, token: dict[str, Any] | None) -> str | None:
        """Why a token cannot open a stream now (None when it can)."""
        if token is None or token["expires"] <= self._now():
            return "token is invalid" if token is None else "token is expired"
        if token["key"] is not None:
            key = self.keys.get(token["key"])
            if key is None or not key.is_active(self._now()):
                return "token is invalid"
            if not key.allows_ip(conn.remote):
                return f"Invalid request ip, the current clientIp is:{conn.remote}"
        return None

    def stream_fault(self, kind: str) -> int:
        """listenkey_expire: every connect token lapses and the streams opened with one are closed.

        KuCoin checks the token when a connection opens; a lapsed token then gets `token is expired`
        (the text ccxt looks for to fetch a new one). Open sessions are closed without an error
        frame: ccxt 4.5.90 raises inside its receive loop on an error frame and never settles the
        pending watch, whereas a close rejects it with NetworkError.
        """
        self._kc()
        if kind != "listenkey_expire":
            return 0
        for token in self._kc_tokens.values():
            token["expires"] = 0
        hub = self.streams
        for conn in list(hub.conns.get("kucoin", ())) if hub is not None else []:
            conn.close(1000, "token expired")
        return len(self._kc_tokens)

    # ---- the classic push endpoint --------------------------------------------------------------

    @stream((SPOT_WS, FUT_WS), "/")
    async def ws_classic(self, conn: StreamConn) -> None:
        """Spot or futures push: welcome, ping/pong, subscribe/unsubscribe, topics."""
        self._kc()
        mkt = "spot" if conn.host == SPOT_WS else "futures"
        token = self._kc_tokens.get(conn.query.get("token", ""))
        error = self._token_error(conn, token)
        if error is None and token is not None and token["market"] != mkt:
            error = "token is invalid"
        if error is not None or token is None:
            conn.send({"id": conn.query.get("connectId", ""), "type": "error", "code": 401, "data": error})
            conn.close(1000, "")
            return
        key = self.keys.get(token["key"]) if token["key"] else None
        conn.state["key"] = key
        conn.send({"id": conn.query.get("connectId", ""), "type": "welcome"})
        self._watchdog(conn)
        async for _text, msg in conn.json_messages():
            conn.state["last_in"] = time.monotonic()
            if not isinstance(msg, dict):
                conn.send({"type": "error", "code": 400, "data": "message is not json"})
                continue
            mid, kind = msg.get("id"), msg.get("type")
            if kind == "ping":
                conn.send({"id": mid, "type": "pong", "timestamp": self._now() * 1000})
            elif kind in ("subscribe", "unsubscribe"):
                self._subscribe(conn, mkt, msg, key, kind == "subscribe")
            else:
                conn.send({"id": mid, "type": "error", "code": 400, "data": f"type {kind} is not supported"})

    def _watchdog(self, conn: StreamConn) -> None:
        """No client frame for pingInterval + pingTimeout: the server closes the connection."""
        conn.state["last_in"] = time.monotonic()
        limit_s = (
            self.limit("ws_ping_interval_ms", PING_INTERVAL_MS)
            + self.limit("ws_ping_timeout_ms", PING_TIMEOUT_MS)
        ) / 1000

        async def loop() -> None:
            while not conn.closed:
                await asyncio.sleep(1.0)
                if time.monotonic() - conn.state["last_in"] > limit_s:
                    conn.drop()
                    return

        conn.spawn(loop())

    def _subscribe(
        self, conn: StreamConn, mkt: str, msg: dict[str, Any], key: ApiKey | None, on: bool
    ) -> None:
        mid = msg.get("id")
        topic = str(msg.get("topic", ""))
        channel, _, rest = topic.partition(":")
        engine = self._eng(mkt)
        symbols = [s for s in rest.split(",") if s]
        private = PRIVATE_TOPICS.get(mkt, {})
        if channel in private or (mkt == "futures" and channel == "/contract/position"):
            if key is None:
                conn.send({"id": mid, "type": "error", "code": 401, "data": "Unauthorized: private topic"})
                return
            if channel == "/contract/position":
                if len(symbols) != 1 or symbols[0] not in engine.instruments:
                    conn.send(
                        {"id": mid, "type": "error", "code": 404, "data": f"topic {topic} is not found"}
                    )
                    return
                topics: list[tuple[Any, ...]] = [("position", key.account, symbols[0])]
            else:
                topics = [(private[channel], key.account)]
        else:
            kind = PUBLIC_TOPICS.get(mkt, {}).get(channel)
            parsed = [self._public_symbol(mkt, kind, s) for s in symbols] if kind else []
            if not kind or not parsed or any(p is None for p in parsed):
                conn.send({"id": mid, "type": "error", "code": 404, "data": f"topic {topic} is not found"})
                return
            topics = [(kind, mkt, *cast(tuple[str, ...], p)) for p in parsed]
        if msg.get("response", True):
            conn.send({"id": mid, "type": "ack"})
        for t in topics:
            if not on:
                conn.unsubscribe(t)
                continue
            if t[0] == "l2":
                self._book_step(t[1], t[2], self._now())  # others see the change up to now first
            conn.subscribe(t, wrap=None)
            first = self._first_frame(t)
            if first is not None:
                conn.send(first)

    def _public_symbol(self, mkt: str, kind: str, raw: str) -> tuple[str, ...] | None:
        engine = self._eng(mkt)
        if kind == "kline":
            sym, _, ktype = raw.rpartition("_")
            types_ = KLINE_TYPES if mkt == "spot" else FUT_KLINE_TYPES
            return (sym, ktype) if sym in engine.instruments and ktype in types_ else None
        return (raw,) if raw in engine.instruments else None

    def _first_frame(self, t: tuple[Any, ...]) -> dict[str, Any] | None:
        now = self._now()
        if t[0] in ("ticker", "snapshot"):
            return self._ticker_frame(t, now)
        if t[0] in ("depth5", "depth50"):
            return self._depth_frame(t, now)
        if t[0] == "kline":
            return self._kline_frame(t, now)
        return None

    # ---- public frames ------------------------------------------------------------------------

    def _msg(self, topic: str, subject: str, data: Any) -> dict[str, Any]:
        return {"type": "message", "topic": topic, "subject": subject, "data": data}

    def _ticker_frame(self, t: tuple[Any, ...], now: int) -> dict[str, Any]:
        kind, mkt, sym = t[0], t[1], t[2]
        engine = self._eng(mkt)
        pm = self._pmk(mkt, sym)
        bids, asks = engine.depth(sym, 1)
        last = pm.price
        if mkt == "futures":
            to_c = self._contracts
            return self._msg(
                f"/contractMarket/ticker:{sym}",
                "ticker",
                {
                    "symbol": sym,
                    "sequence": self.market.tick,
                    "side": "buy",
                    "price": _s(last),
                    "size": 1,
                    "tradeId": str(now),
                    "bestBidSize": int(to_c(sym, bids[0][1])) if bids else 0,
                    "bestBidPrice": _s(bids[0][0]) if bids else "0",
                    "bestAskPrice": _s(asks[0][0]) if asks else "0",
                    "bestAskSize": int(to_c(sym, asks[0][1])) if asks else 0,
                    "ts": now * 1_000_000,
                },
            )
        if kind == "ticker":
            return self._msg(
                f"/market/ticker:{sym}",
                "trade.ticker",
                {
                    "sequence": str(self.market.tick),
                    "price": _s(last),
                    "size": "0.001",
                    "bestAsk": _s(asks[0][0]) if asks else "0",
                    "bestAskSize": _s(asks[0][1]) if asks else "0",
                    "bestBid": _s(bids[0][0]) if bids else "0",
                    "bestBidSize": _s(bids[0][1]) if bids else "0",
                    "time": now,
                },
            )
        stats = self._spot_stats(cast(SimRequest, types.SimpleNamespace(now_ms=now)), sym)
        inst = engine.instruments[sym]
        snap = {
            "averagePrice": float(stats["averagePrice"]),
            "baseCurrency": inst.base,
            "quoteCurrency": inst.quote,
            "board": 1,
            "buy": float(bids[0][0]) if bids else 0,
            "sell": float(asks[0][0]) if asks else 0,
            "changePrice": float(stats["changePrice"]),
            "changeRate": float(stats["changeRate"]),
            "close": float(last),
            "lastTradedPrice": float(last),
            "datetime": now,
            "high": float(stats["high"]),
            "low": float(stats["low"]),
            "open": float(Decimal(stats["last"]) - Decimal(stats["changePrice"])),
            "vol": float(stats["vol"]),
            "volValue": float(stats["volValue"]),
            "symbol": sym,
            "symbolCode": sym,
            "trading": True,
            "market": "USDS",
        }
        return self._msg(
            f"/market/snapshot:{sym}", "trade.snapshot", {"sequence": str(self.market.tick), "data": snap}
        )

    def _depth_frame(self, t: tuple[Any, ...], now: int) -> dict[str, Any]:
        kind, mkt, sym = t[0], t[1], t[2]
        n = 5 if kind == "depth5" else 50
        bids, asks = self._eng(mkt).depth(sym, n)
        if mkt == "futures":
            to_c = self._contracts
            data = {
                "symbol": sym,
                "bids": [[_s(p), int(to_c(sym, q))] for p, q in bids],
                "asks": [[_s(p), int(to_c(sym, q))] for p, q in asks],
                "timestamp": now,
                "ts": now,
            }
            name = "/contractMarket/level2Depth5" if n == 5 else "/contractMarket/level2Depth50"
            return self._msg(f"{name}:{sym}", "level2", data)
        data = {
            "asks": [[_s(p), _s(q)] for p, q in asks],
            "bids": [[_s(p), _s(q)] for p, q in bids],
            "timestamp": now,
        }
        name = "/spotMarket/level2Depth5" if n == 5 else "/spotMarket/level2Depth50"
        return self._msg(f"{name}:{sym}", "level2", data)

    def _kline_frame(self, t: tuple[Any, ...], now: int) -> dict[str, Any]:
        _, mkt, sym, ktype = t
        minutes = (KLINE_TYPES if mkt == "spot" else FUT_KLINE_TYPES)[ktype]
        c = self._pmk(mkt, sym).klines(minutes * MINUTE_MS, None, now, 1)[-1]
        if mkt == "futures":
            vol = self._contracts(sym, c.volume)
            candle: list[Any] = [
                str(c.open_ms // 1000),
                _s(c.open),
                _s(c.close),
                _s(c.high),
                _s(c.low),
                _s(vol),
                _s(c.volume),  # base-currency volume: the 7th field
            ]
            return self._msg(
                f"/contractMarket/limitCandle:{sym}_{ktype}",
                "candle.stick",
                {"symbol": sym, "candles": candle, "time": now},
            )
        candle = [
            str(c.open_ms // 1000),
            _s(c.open),
            _s(c.close),
            _s(c.high),
            _s(c.low),
            _s(c.volume),
            _s(c.quote_volume),
        ]
        return self._msg(
            f"/market/candles:{sym}_{ktype}",
            "trade.candles.update",
            {"symbol": sym, "candles": candle, "time": now * 1_000_000},
        )

    # ---- books: one sequence for REST and the level2 stream -----------------------------------

    def book_snapshot(
        self, mkt: str, symbol: str, limit: int
    ) -> tuple[int, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """REST order book: (sequence, bids, asks) of the book the level2 stream also sequences."""
        seq = self._book_step(mkt, symbol, self._now())
        bids, asks = seq.top(limit)
        return seq.last_id, bids, asks

    def _book_step(self, mkt: str, symbol: str, now: int) -> BookSequencer:
        self._kc()
        seq = self._kc_seqs.get((mkt, symbol))
        if seq is None:
            seq = self._kc_seqs[(mkt, symbol)] = BookSequencer(first_id=1_000_000)
        diff = seq.refresh(*self._eng(mkt).depth(symbol, FULL_BOOK))
        if diff is None or not self.subscribed(("l2", mkt, symbol)):
            return seq
        topic = ("l2", mkt, symbol)
        n = diff.first_id
        if mkt == "spot":
            bids, asks = [], []
            for p, q in diff.bids:
                bids.append([_s(p), _s(q), str(n)])
                n += 1
            for p, q in diff.asks:
                asks.append([_s(p), _s(q), str(n)])
                n += 1
            data = {
                "changes": {"asks": asks, "bids": bids},
                "sequenceEnd": diff.last_id,
                "sequenceStart": diff.first_id,
                "symbol": symbol,
                "time": now,
            }
            self.publish(topic, self._msg(f"/market/level2:{symbol}", "trade.l2update", data))
            return seq
        for side, levels in (("buy", diff.bids), ("sell", diff.asks)):
            for p, q in levels:
                change = f"{_s(p)},{side},{int(self._contracts(symbol, q))}"
                data = {"sequence": n, "change": change, "timestamp": now}
                self.publish(topic, self._msg(f"/contractMarket/level2:{symbol}", "level2", data))
                n += 1
        return seq

    # ---- the clock ----------------------------------------------------------------------------

    def stream_tick(self, now_ms: int, prev_ms: int) -> None:
        """level2 every tick, tickers and depth snapshots every tick, snapshot 2 s, klines 1 s, trades."""
        for topic in self.stream_topics():
            if not isinstance(topic, tuple) or len(topic) < 3 or topic[1] not in ("spot", "futures"):
                continue
            kind = topic[0]
            if kind == "l2":
                self._book_step(topic[1], topic[2], now_ms)
            elif kind == "ticker" or kind in ("depth5", "depth50"):
                frame = (
                    self._ticker_frame(topic, now_ms)
                    if kind == "ticker"
                    else self._depth_frame(topic, now_ms)
                )
                self.publish(topic, frame)
            elif kind == "snapshot" and now_ms // SNAPSHOT_PUSH_MS != prev_ms // SNAPSHOT_PUSH_MS:
                self.publish(topic, self._ticker_frame(topic, now_ms))
            elif kind == "kline" and now_ms // KLINE_PUSH_MS != prev_ms // KLINE_PUSH_MS:
                self.publish(topic, self._kline_frame(topic, now_ms))
            elif kind == "match":
                self._matches(topic, prev_ms, now_ms)

    def _matches(self, topic: tuple[Any, ...], prev_ms: int, now_ms: int) -> None:
        _, mkt, sym = topic
        for t in new_trades(self._pmk(mkt, sym), prev_ms, now_ms):
            side = "sell" if t.buyer_maker else "buy"  # the taker's side
            if mkt == "spot":
                data = {
                    "makerOrderId": f"m{t.trade_id}",
                    "price": _s(t.price),
                    "sequence": str(t.trade_id),
                    "side": side,
                    "size": _s(t.qty),
                    "symbol": sym,
                    "takerOrderId": f"t{t.trade_id}",
                    "time": str(t.time_ms * 1_000_000),
                    "tradeId": str(t.trade_id),
                    "type": "match",
                }
                self.publish(topic, self._msg(f"/market/match:{sym}", "trade.l3match", data))
            else:
                data = {
                    "symbol": sym,
                    "sequence": t.trade_id,
                    "side": side,
                    "size": max(1, int(self._contracts(sym, t.qty))),
                    "price": _s(t.price),
                    "takerOrderId": f"t{t.trade_id}",
                    "makerOrderId": f"m{t.trade_id}",
                    "tradeId": str(t.trade_id),
                    "ts": t.time_ms * 1_000_000,
                }
                self.publish(topic, self._msg(f"/contractMarket/execution:{sym}", "match", data))

    # ---- private ------------------------------------------------------------------------------

    def stream_event(self, ev: EngineEvent) -> None:
        """orderChange (spot and futures), account.balance / walletBalance.change, position.change."""
        mkt = "spot" if ev.engine == "spot" else "futures"
        acct = ev.order.account
        now = self._now()
        if mkt == "spot":
            for topic, name in (
                ("orders", "/spotMarket/tradeOrders"),
                ("ordersV2", "/spotMarket/tradeOrdersV2"),
            ):
                if self.subscribed((topic, acct)):
                    for data in self._order_changes(ev, mkt, now, v2=topic == "ordersV2"):
                        self.publish((topic, acct), self._private(name, "orderChange", data, acct), ev.t0)
            if self.subscribed(("balance", acct)) and ev.kind in ("new", "trade", "canceled", "expired"):
                inst = self.spot.instruments[ev.order.symbol]
                for cur in (inst.base, inst.quote):
                    self.publish(("balance", acct), self._balance_frame(acct, cur, ev, now), ev.t0)
            return
        if self.subscribed(("fut_orders", acct)):
            for data in self._order_changes(ev, mkt, now, v2=False):
                frame = self._private("/contractMarket/tradeOrders", "orderChange", data, acct)
                self.publish(("fut_orders", acct), frame, ev.t0)
        if self.subscribed(("wallet", acct)):
            self.publish(("wallet", acct), self._wallet_frame(acct, now), ev.t0)
        if ev.kind == "trade":
            sym = ev.order.symbol
            if self.subscribed(("position", acct, sym)):
                self.publish(("position", acct, sym), self._position_frame(acct, sym, now), ev.t0)
            if self.subscribed(("pro_positions", acct)):
                self.publish(("pro_positions", acct), self._pro_position(acct, sym, now), ev.t0)

    def _private(self, topic: str, subject: str, data: Any, acct: str) -> dict[str, Any]:
        return {
            "type": "message",
            "topic": topic,
            "subject": subject,
            "channelType": "private",
            "userId": acct,
            "data": data,
        }

    def _order_changes(self, ev: EngineEvent, mkt: str, now: int, v2: bool) -> list[dict[str, Any]]:
        """One orderChange per engine event; a fill that completes the order adds `filled`."""
        o = ev.order
        sym = o.symbol
        fut = mkt == "futures"

        def size(q: Decimal) -> Any:
            return int(self._contracts(sym, q)) if fut else _s(q)

        filled_now = o.executed_qty
        if ev.kind == "trade" and ev.fill is not None and ev.fill in o.fills:
            filled_now = sum((f.qty for f in o.fills[: o.fills.index(ev.fill) + 1]), ZERO)
        qty = o.qty if o.qty is not None else filled_now
        base: dict[str, Any] = {
            "symbol": sym,
            "orderId": self._order_id(o),
            "clientOid": o.client_order_id,
            "orderType": "market" if o.type is OrdType.MARKET else "limit",
            "side": "buy" if o.side is Side.BUY else "sell",
            "price": _s(o.price) if o.price is not None else "0",
            "size": size(qty),
            "originSize": size(qty),
            "filledSize": size(filled_now),
            "remainSize": size(max(ZERO, qty - filled_now)),
            "canceledSize": size(o.remaining)
            if o.status in (Status.CANCELED, Status.EXPIRED)
            else size(ZERO),
            "orderTime": o.created_ms * 1_000_000 if fut else o.created_ms,
            "ts": now * 1_000_000,
        }
        if fut:
            base["marginMode"] = o.extra.get("marginMode", "ISOLATED")
        out: list[dict[str, Any]] = []
        if ev.kind == "new":
            if v2 or not fut:
                out.append(dict(base, type="received", status="new"))
            if o.is_open and o.type is not OrdType.MARKET:
                out.append(dict(base, type="open", status="open"))
        elif ev.kind == "trade" and ev.fill is not None:
            f = ev.fill
            done = filled_now >= qty and o.status is Status.FILLED
            out.append(
                dict(
                    base,
                    type="match",
                    status="match",
                    matchPrice=_s(f.price),
                    matchSize=size(f.qty),
                    tradeId=str(f.trade_id),
                    liquidity="maker" if f.is_maker else "taker",
                    feeType="takerFee" if not f.is_maker else "makerFee",
                    fee=_s(f.fee),
                    feeRate=_s(f.fee / f.quote_qty) if f.quote_qty else "0",
                )
            )
            if done:
                out.append(dict(base, type="filled", status="done", remainSize=size(ZERO)))
        else:
            out.append(dict(base, type="canceled", status="done"))
        return out

    def _balance_frame(self, acct: str, currency: str, ev: EngineEvent, now: int) -> dict[str, Any]:
        with self.wallets.lock:
            bal = self.wallets.ensure(acct).get(currency)
        total = bal.total if bal is not None else ZERO
        free = bal.free if bal is not None else ZERO
        hold = bal.locked if bal is not None else ZERO
        event = "trade.setted" if ev.kind == "trade" else "trade.hold"
        data = {
            "accountId": f"{acct[:12]}-trade-{currency}",
            "available": _s(free),
            "availableChange": "0",
            "currency": currency,
            "hold": _s(hold),
            "holdChange": "0",
            "relationContext": {"symbol": ev.order.symbol, "orderId": self._order_id(ev.order)},
            "relationEvent": event,
            "relationEventId": secrets.token_hex(12),
            "time": str(now),
            "total": _s(total),
        }
        return self._private("/account/balance", "account.balance", data, acct)

    def _wallet_frame(self, acct: str, now: int) -> dict[str, Any]:
        acc = self.perps.account(acct)
        upnl = self.perps.unrealized(acc)
        pos_margin = self.perps.position_margin(acc)
        available = max(ZERO, self.perps.available(acc))
        data = {
            "currency": acc.asset,
            "walletBalance": _s(acc.wallet),
            "availableBalance": _s(available),
            "holdBalance": _s(acc.order_margin),
            "isolatedOrderMargin": _s(acc.order_margin),
            "isolatedPosMargin": _s(pos_margin),
            "isolatedUnPnl": _s(upnl),
            "crossOrderMargin": "0",
            "crossPosMargin": "0",
            "crossUnPnl": "0",
            "equity": _s(acc.wallet + upnl),
            "totalCrossMargin": "0",
            "version": str(now),
            "timestamp": str(now),
        }
        return self._private("/contractAccount/wallet", "walletBalance.change", data, acct)

    def _position_frame(self, acct: str, sym: str, now: int) -> dict[str, Any]:
        key = self._key_of(acct)
        data = self._position(cast(SimRequest, types.SimpleNamespace(now_ms=now)), key, sym)
        data["changeReason"] = "positionChange"
        return self._private(f"/contract/position:{sym}", "position.change", data, acct)

    def _key_of(self, acct: str) -> ApiKey:
        for key in self.keys.for_venue("kucoin"):
            if key.account == acct:
                return key
        raise LookupError(acct)

    # ---- the Pro (unified) private push: positionAll --------------------------------------------

    @stream(PRO_WS, "/")  # ccxt connects to the bare host: `wss://wsapi-push.kucoin.com?token=`
    async def ws_pro(self, conn: StreamConn) -> None:
        """Pro private push: token from bullet-private version v2; positionAll for classic futures."""
        self._kc()
        token = self._kc_tokens.get(conn.query.get("token", ""))
        error = self._token_error(conn, token)
        if error is None and token is not None and (not token["pro"] or token["key"] is None):
            error = "token is invalid"
        if error is not None or token is None:
            conn.send({"type": "error", "code": 401, "data": error})
            conn.close(1000, "")
            return
        key = self.keys.get(token["key"])
        assert key is not None
        conn.send({"type": "welcome", "sessionId": conn.query.get("connectId", str(conn.id))})
        self._watchdog(conn)
        async for _text, msg in conn.json_messages():
            conn.state["last_in"] = time.monotonic()
            if not isinstance(msg, dict):
                continue
            mid = msg.get("id")
            if msg.get("type") == "ping" or msg.get("action") == "ping":
                conn.send({"id": mid, "type": "pong", "timestamp": self._now() * 1000})
                continue
            action, channel = msg.get("action"), msg.get("channel")
            if action not in ("subscribe", "unsubscribe") or channel != "positionAll":
                conn.send(
                    {"id": mid, "result": False, "code": 404, "msg": f"channel {channel} is not supported"}
                )
                continue
            if not key.has("futures_trade"):
                conn.send(
                    {
                        "id": mid,
                        "result": False,
                        "code": 403,
                        "msg": "Access denied, requires more permission.",
                    }
                )
                continue
            conn.send({"id": mid, "result": True})
            if action == "subscribe":
                conn.subscribe(("pro_positions", key.account))
            else:
                conn.unsubscribe(("pro_positions", key.account))

    def _pro_position(self, acct: str, sym: str, now: int) -> dict[str, Any]:
        pos = self.perps.position(acct, sym)
        qty = self._contracts(sym, abs(pos.qty)) * (1 if pos.qty >= 0 else -1)
        mark = self.risk.mark(sym, now)
        acc = self.perps.account(acct)
        margin = self.perps.initial_margin(acc, sym, pos) if pos.qty else ZERO
        d = {
            "s": sym,
            "q": _s(qty),
            "eP": _s(pos.entry),
            "mP": _s(mark),
            "l": str(self.perps.leverage(acct, sym)),
            "uPL": _s((mark - pos.entry) * pos.qty),
            "rPL": _s(pos.realized),
            "iM": _s(margin),
            "mtM": _s(abs(pos.qty) * mark * self.perps.mmr),
            "mmr": _s(self.perps.mmr),
            "pV": _s(abs(pos.qty) * mark),
            "lP": _s(self.perps.liquidation_price(acct, sym)),
            "mM": "ISOLATED" if pos.isolated else "CROSS",
            "pi": f"{acct[:8]}-{sym}",
            "O": (pos.opened_ms or now) * 1_000_000,
            "U": now * 1_000_000,
        }
        return {"T": "positionAll.FUTURES", "P": now * 1000, "d": d}


PUBLIC_TOPICS: dict[str, dict[str, str]] = {
    "spot": {
        "/market/ticker": "ticker",
        "/market/snapshot": "snapshot",
        "/market/level2": "l2",
        "/spotMarket/level2Depth5": "depth5",
        "/spotMarket/level2Depth50": "depth50",
        "/market/match": "match",
        "/market/candles": "kline",
    },
    "futures": {
        "/contractMarket/ticker": "ticker",
        "/contractMarket/level2": "l2",
        "/contractMarket/level2Depth5": "depth5",
        "/contractMarket/level2Depth50": "depth50",
        "/contractMarket/execution": "match",
        "/contractMarket/limitCandle": "kline",
    },
}
PRIVATE_TOPICS: dict[str, dict[str, str]] = {
    "spot": {
        "/spotMarket/tradeOrders": "orders",
        "/spotMarket/tradeOrdersV2": "ordersV2",
        "/account/balance": "balance",
    },
    "futures": {
        "/contractMarket/tradeOrders": "fut_orders",
        "/contractAccount/wallet": "wallet",
    },
}
