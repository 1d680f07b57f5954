"""Binance streams: spot market streams, the spot WebSocket API user data, USD-M market and user streams.

Written from Binance's documents (binance-spot-api-docs: web-socket-streams.md, web-socket-api.md,
user-data-stream.md; USD-M "WebSocket Market Streams" and "User Data Streams"):

- Market streams: raw `/ws/<stream>`, combined `/stream?streams=a/b` (frames wrapped as
  `{"stream", "data"}`), and live `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` requests answered
  `{"result": null, "id"}`; bad requests get `{"code": 0..3, "msg", "id"}`. Symbols are lowercase.
  The server pings every 20 s (spot) / 3 min (USD-M) and drops a client silent for 1 min / 10 min.
- Diff depth `depthUpdate` with `U` (first) .. `u` (last update id); the REST `/api/v3/depth` and
  `/fapi/v1/depth` snapshot's `lastUpdateId` comes from the same sequence (streams/book.py). USD-M
  adds `pu` (the previous event's `u`) and `T`.
- Spot user data over the WebSocket API (the spot listenKey was retired on 2026-02-20):
  `userDataStream.subscribe.signature` (any key type, params signed like every WS API request:
  all params but `signature`, sorted by name, `k=v` joined by `&`), or `session.logon` then
  `userDataStream.subscribe` (Ed25519 sessions only). Events arrive as `{"subscriptionId", "event"}`.
- USD-M user data by listenKey (`/private/ws?listenKey=`, or the legacy `/ws/<listenKey>`): valid 60
  minutes of simulator time unless PUT renews it; on expiry the stream gets `listenKeyExpired` and
  is closed. Events: ORDER_TRADE_UPDATE, ACCOUNT_UPDATE (reason ORDER or FUNDING_FEE), MARGIN_CALL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..market import MINUTE_MS, PairMarket
from ..matching import TIF, Engine, EngineEvent, Order, OrdType, Status
from ..signing import verify_ed25519_b64, verify_hmac_hex
from ..venue import fmt
from .base import StreamVenue
from .book import BookDiff, BookSequencer
from .conn import StreamConn
from .registry import stream
from .tape import new_trades

if TYPE_CHECKING:
    from ..keys import ApiKey, KeyStore
    from ..ledger import LedgerEntry, PerpSettlement, Wallets
    from ..market import MarketData
    from ..perps import PerpRisk
    from ..server import SimContext

SPOT_STREAM_HOSTS = ("stream.binance.com:9443", "stream.binance.com:443", "stream.binance.com")
SPOT_WS_API_HOSTS = ("ws-api.binance.com:443", "ws-api.binance.com:9443", "ws-api.binance.com")
FAPI_STREAM_HOSTS = ("fstream.binance.com",)
STREAM_HOSTS = SPOT_STREAM_HOSTS + SPOT_WS_API_HOSTS + FAPI_STREAM_HOSTS

SPOT, FUT = "spot", "futures"
FULL_BOOK = 5000  # every level the engine has (synthetic depth plus resting user orders)
# update speeds (ms) each market documents for its diff depth stream; 100 ms is pushed every tick
DEPTH_SPEEDS = {SPOT: {"": 1000, "100ms": 100}, FUT: {"": 250, "500ms": 500, "100ms": 100}}
KLINE_PUSH_MS = 2000  # "Update Speed: 2000ms" for every interval but 1s
TICKER_PUSH_MS = 1000
MARK_PUSH_MS = {"": 3000, "1s": 1000}
INVALID_KEY = "Invalid API-key, IP, or permissions for action."
MAX_RECV_WINDOW = 60_000
MARGIN_CALL_RATIO = Decimal("0.8")  # maintenance / margin balance at which MARGIN_CALL is pushed
LISTEN_KEY_TTL_MS = 60 * 60_000
KLINE_INTERVALS = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}


def _d(value: Decimal, places: int = 8) -> str:
    return fmt(value, places)


class WsApiError(Exception):
    """A WebSocket API request refused: HTTP-like status plus Binance's code and message."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


class BinanceStreams(StreamVenue):
    """Stream half of BinanceVenue (mixed in before Venue)."""

    # provided by BinanceVenue / Venue
    ctx: SimContext
    keys: KeyStore
    market: MarketData
    spot: Engine
    futures: Engine
    wallets: Wallets
    perps: PerpSettlement
    risk: PerpRisk
    listen_keys: dict[str, str]
    listen_key_expiry: dict[str, int]

    # ---- shared state (built lazily: the venue's __init__ is not ours) ------------------------------

    def stream_attach(self) -> None:
        """Stream state, and funding from the futures ledger (called once the hub is attached)."""
        self._bn_seqs: dict[tuple[str, str], BookSequencer] = {}
        self._bn_slow: dict[tuple[str, str, int], list[Any]] = {}
        self._bn_best: dict[tuple[str, str], Any] = {}
        self._bn_margin_called: set[str] = set()
        self.perps.listeners.append(self._ledger_event)

    def _seqs(self) -> dict[tuple[str, str], BookSequencer]:
        if "_bn_seqs" not in self.__dict__:  # a venue built without a server (unit use)
            self.stream_attach()
        return self._bn_seqs

    def _engine_of(self, mkt: str) -> Engine:
        return self.spot if mkt == SPOT else self.futures

    def _now(self) -> int:
        return self.ctx.now_ms(str(getattr(self, "name", "binance")))

    # ---- books: one sequence for REST snapshots and diff streams ------------------------------------

    def book_snapshot(
        self, engine: Engine, symbol: str, limit: int
    ) -> tuple[int, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """REST depth: (lastUpdateId, bids, asks) of the book the streams also sequence."""
        mkt = SPOT if engine is self.spot else FUT
        seq = self._refresh(mkt, symbol, self._now(), time.perf_counter())
        bids, asks = seq.top(limit)
        return seq.last_id, bids, asks

    def _refresh(self, mkt: str, symbol: str, now: int, t0: float | None = None) -> BookSequencer:
        seqs = self._seqs()
        seq = seqs.get((mkt, symbol))
        if seq is None:
            seq = seqs[(mkt, symbol)] = BookSequencer()
        diff = seq.refresh(*self._engine_of(mkt).depth(symbol, FULL_BOOK))
        if diff is not None:
            self._publish_diff(mkt, symbol, diff, now, t0)
        return seq

    def _publish_diff(self, mkt: str, symbol: str, diff: BookDiff, now: int, t0: float | None) -> None:
        fast = ("depth", mkt, symbol, 100)
        if self.subscribed(fast):
            self.publish(
                fast,
                self._depth_frame(
                    mkt, symbol, diff.first_id, diff.last_id, diff.prev_id, diff.bids, diff.asks, now
                ),
                t0,
            )
        slow = self._bn_slow
        for speed in DEPTH_SPEEDS[mkt].values():
            if speed == 100 or not self.subscribed(("depth", mkt, symbol, speed)):
                continue
            acc = slow.setdefault((mkt, symbol, speed), [diff.first_id, {}, {}])
            acc[1].update(dict(diff.bids))
            acc[2].update(dict(diff.asks))

    def _flush_slow(self, mkt: str, symbol: str, speed: int, now: int) -> None:
        acc = self._bn_slow.pop((mkt, symbol, speed), None)
        if acc is None:
            return
        seq = self._seqs()[(mkt, symbol)]
        bids = sorted(acc[1].items(), key=lambda lv: lv[0], reverse=True)
        asks = sorted(acc[2].items(), key=lambda lv: lv[0])
        frame = self._depth_frame(mkt, symbol, acc[0], seq.last_id, acc[0] - 1, bids, asks, now)
        self.publish(("depth", mkt, symbol, speed), frame)

    @staticmethod
    def _depth_frame(
        mkt: str,
        symbol: str,
        first: int,
        last: int,
        prev: int,
        bids: list[tuple[Decimal, Decimal]],
        asks: list[tuple[Decimal, Decimal]],
        now: int,
    ) -> dict[str, Any]:
        frame: dict[str, Any] = {"e": "depthUpdate", "E": now}
        if mkt == FUT:
            frame["T"] = now
        frame.update({"s": symbol, "U": first, "u": last})
        if mkt == FUT:
            frame["pu"] = prev
        frame["b"] = [[_d(p), _d(q)] for p, q in bids]
        frame["a"] = [[_d(p), _d(q)] for p, q in asks]
        return frame

    # ---- stream names <-> topics -------------------------------------------------------------------

    def _topic(self, mkt: str, name: str) -> Hashable | None:
        """`btcusdt@depth@100ms` -> ("depth", mkt, "BTCUSDT", 100); None when not a stream we serve."""
        parts = name.split("@")
        symbol = parts[0].upper()
        if symbol not in self._engine_of(mkt).instruments or len(parts) < 2:
            return None
        kind, rest = parts[1], parts[2:]
        if kind in ("trade", "aggTrade", "ticker", "miniTicker", "bookTicker") and not rest:
            return (kind, mkt, symbol)
        if kind == "depth":
            speed = DEPTH_SPEEDS[mkt].get(rest[0] if rest else "")
            return None if speed is None or len(rest) > 1 else ("depth", mkt, symbol, speed)
        if kind.startswith("kline_") and not rest:
            interval = kind[len("kline_") :]
            return ("kline", mkt, symbol, interval) if interval in KLINE_INTERVALS else None
        if kind == "markPrice" and mkt == FUT:
            push = MARK_PUSH_MS.get(rest[0] if rest else "")
            return None if push is None else ("markPrice", mkt, symbol, push)
        return None

    def _subscribe_names(self, conn: StreamConn, mkt: str, names: list[str], combined: bool) -> list[str]:
        bad: list[str] = []
        subs: dict[str, Hashable] = conn.state.setdefault("streams", {})
        for name in names:
            topic = self._topic(mkt, name)
            if topic is None:
                bad.append(name)
                continue
            subs[name] = topic
            wrap = (
                (lambda text, n=name: '{"stream":' + json.dumps(n) + ',"data":' + text + "}")
                if combined
                else None
            )
            conn.subscribe(topic, wrap)
            if topic[0] in ("depth", "bookTicker"):  # type: ignore[index]
                self._refresh(mkt, topic[2], conn.now_ms())  # type: ignore[index]
        return bad

    # ---- market stream endpoints --------------------------------------------------------------------

    @stream(SPOT_STREAM_HOSTS, "/ws")
    @stream(SPOT_STREAM_HOSTS, "/ws/{name}")
    @stream(SPOT_STREAM_HOSTS, "/stream")
    async def ws_spot_market(self, conn: StreamConn) -> None:
        """Spot market streams (raw, combined, live SUBSCRIBE)."""
        conn.keepalive(20.0, 60.0)
        await self._market_session(conn, SPOT)

    @stream(FAPI_STREAM_HOSTS, "/ws")
    @stream(FAPI_STREAM_HOSTS, "/ws/{name}")
    @stream(FAPI_STREAM_HOSTS, "/stream")
    @stream(FAPI_STREAM_HOSTS, "/{category}/ws")
    @stream(FAPI_STREAM_HOSTS, "/{category}/ws/{name}")
    @stream(FAPI_STREAM_HOSTS, "/{category}/stream")
    async def ws_futures(self, conn: StreamConn) -> None:
        """USD-M streams: public/market/private categories, or the legacy paths; user data by listenKey."""
        conn.keepalive(180.0, 600.0)
        name = conn.path_params.get("name", "")
        listen_key = conn.query.get("listenKey") or (name if len(name) == 64 and "@" not in name else None)
        private = listen_key is not None or conn.path_params.get("category") == "private"
        if private and not self._attach_listen_key(conn, listen_key):
            return
        await self._market_session(conn, FUT)

    async def _market_session(self, conn: StreamConn, mkt: str) -> None:
        combined = conn.path.endswith("/stream")
        first: list[str] = []
        if combined:
            first = [s for s in conn.query.get("streams", "").split("/") if s]
        elif "@" in conn.path_params.get("name", ""):
            first = [conn.path_params["name"]]
        self._subscribe_names(conn, mkt, first, combined)
        async for text, msg in conn.json_messages():
            if not isinstance(msg, dict):
                conn.send({"code": 3, "msg": f"Invalid JSON: expected value at line 1 column 1: {text[:40]}"})
                continue
            req_id = msg.get("id")
            method = msg.get("method")
            params = msg.get("params", [])
            if method in ("SUBSCRIBE", "UNSUBSCRIBE") and not (
                isinstance(params, list) and all(isinstance(p, str) for p in params)
            ):
                conn.send({"code": 1, "msg": "Invalid value type: expected array of strings", "id": req_id})
                continue
            if method == "SUBSCRIBE":
                bad = self._subscribe_names(conn, mkt, params, combined)
                if bad:
                    conn.send({"code": 2, "msg": f"Invalid request: unknown stream {bad[0]}", "id": req_id})
                else:
                    conn.send({"result": None, "id": req_id})
            elif method == "UNSUBSCRIBE":
                subs: dict[str, Hashable] = conn.state.setdefault("streams", {})
                for name in params:
                    topic = subs.pop(name, None)
                    if topic is not None and topic not in subs.values():
                        conn.unsubscribe(topic)
                conn.send({"result": None, "id": req_id})
            elif method == "LIST_SUBSCRIPTIONS":
                conn.send({"result": sorted(conn.state.get("streams", {})), "id": req_id})
            elif method in ("SET_PROPERTY", "GET_PROPERTY"):
                conn.send({"result": False if method == "GET_PROPERTY" else None, "id": req_id})
            else:
                conn.send(
                    {
                        "code": 2,
                        "msg": f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
                        "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
                        "id": req_id,
                    }
                )

    # ---- the clock tick: public updates -------------------------------------------------------------

    def stream_tick(self, now_ms: int, prev_ms: int) -> None:
        """Push every subscribed public stream whose cadence the step from prev to now crossed."""
        refreshed: set[tuple[str, str]] = set()
        for topic in self.stream_topics():
            if not isinstance(topic, tuple):
                continue
            kind, mkt = topic[0], topic[1]
            if kind == "user":
                continue
            symbol = topic[2]
            engine = self._engine_of(mkt)
            pm = self.market.get(engine.instruments[symbol].pair)
            if kind in ("depth", "bookTicker") and (mkt, symbol) not in refreshed:
                refreshed.add((mkt, symbol))
                self._refresh(mkt, symbol, now_ms)
            if kind == "depth" and topic[3] != 100 and now_ms // topic[3] != prev_ms // topic[3]:
                self._flush_slow(mkt, symbol, topic[3], now_ms)
            elif kind == "bookTicker":
                self._push_book_ticker(mkt, symbol, now_ms)
            elif kind in ("trade", "aggTrade"):
                for t in new_trades(pm, prev_ms, now_ms):
                    self.publish(topic, self._trade_frame(kind, mkt, symbol, t, now_ms))
            elif kind == "kline" and now_ms // KLINE_PUSH_MS != prev_ms // KLINE_PUSH_MS:
                self._push_klines(
                    topic, pm, mkt, symbol, KLINE_INTERVALS[topic[3]] * MINUTE_MS, now_ms, prev_ms
                )
            elif kind in ("ticker", "miniTicker") and now_ms // TICKER_PUSH_MS != prev_ms // TICKER_PUSH_MS:
                self.publish(topic, self._ticker_frame(kind, mkt, symbol, pm, now_ms))
            elif kind == "markPrice" and now_ms // topic[3] != prev_ms // topic[3]:
                self.publish(topic, self._mark_frame(symbol, now_ms))
        if now_ms // 1000 != prev_ms // 1000:
            self._check_listen_keys(now_ms)
            self._check_margin_calls(now_ms)

    def _push_book_ticker(self, mkt: str, symbol: str, now: int) -> None:
        seq = self._seqs()[(mkt, symbol)]
        bids, asks = seq.top(1)
        if not bids or not asks:
            return
        best = (bids[0], asks[0])
        last = self._bn_best
        if last.get((mkt, symbol)) == best:
            return
        last[(mkt, symbol)] = best
        frame: dict[str, Any] = {}
        if mkt == FUT:
            frame = {"e": "bookTicker", "u": seq.last_id, "E": now, "T": now}
        else:
            frame = {"u": seq.last_id}
        frame.update(
            {"s": symbol, "b": _d(bids[0][0]), "B": _d(bids[0][1]), "a": _d(asks[0][0]), "A": _d(asks[0][1])}
        )
        self.publish(("bookTicker", mkt, symbol), frame)

    @staticmethod
    def _trade_frame(kind: str, mkt: str, symbol: str, t: Any, now: int) -> dict[str, Any]:
        if kind == "aggTrade":
            return {
                "e": "aggTrade",
                "E": now,
                "s": symbol,
                "a": t.trade_id,
                "p": _d(t.price),
                "q": _d(t.qty),
                "f": t.trade_id,
                "l": t.trade_id,
                "T": t.time_ms,
                "m": t.buyer_maker,
                "M": True,
            }
        frame: dict[str, Any] = {
            "e": "trade",
            "E": now,
            "s": symbol,
            "t": t.trade_id,
            "p": _d(t.price),
            "q": _d(t.qty),
            "T": t.time_ms,
            "m": t.buyer_maker,
            "M": True,
        }
        if mkt == FUT:
            frame["X"] = "MARKET"
        return frame

    def _push_klines(
        self, topic: Hashable, pm: PairMarket, mkt: str, symbol: str, interval: int, now: int, prev: int
    ) -> None:
        name = topic[3]  # type: ignore[index]
        candles = pm.klines(interval, None, now, 2)
        for c in candles:
            closed = c.open_ms + interval <= now
            if closed and c.open_ms + interval <= prev:
                continue  # closed before this step: already pushed as closed
            self.publish(
                topic,
                {
                    "e": "kline",
                    "E": now,
                    "s": symbol,
                    "k": {
                        "t": c.open_ms,
                        "T": c.open_ms + interval - 1,
                        "s": symbol,
                        "i": name,
                        "f": -1,
                        "L": -1,
                        "o": _d(c.open),
                        "c": _d(c.close),
                        "h": _d(c.high),
                        "l": _d(c.low),
                        "v": _d(c.volume),
                        "n": c.trades,
                        "x": closed,
                        "q": _d(c.quote_volume),
                        "V": "0",
                        "Q": "0",
                        "B": "0",
                    },
                },
            )

    def _ticker_frame(self, kind: str, mkt: str, symbol: str, pm: PairMarket, now: int) -> dict[str, Any]:
        stats = pm.stats_24h(now)
        if kind == "miniTicker":
            return {
                "e": "24hrMiniTicker",
                "E": now,
                "s": symbol,
                "c": _d(stats.close),
                "o": _d(stats.open),
                "h": _d(stats.high),
                "l": _d(stats.low),
                "v": _d(stats.volume),
                "q": _d(stats.quote_volume),
            }
        change = stats.close - stats.open
        pct = change / stats.open * 100 if stats.open else Decimal(0)
        wavg = stats.quote_volume / stats.volume if stats.volume else stats.close
        bids, asks = self._engine_of(mkt).depth(symbol, 1)
        frame: dict[str, Any] = {
            "e": "24hrTicker",
            "E": now,
            "s": symbol,
            "p": _d(change),
            "P": fmt(pct, 3),
            "w": _d(wavg),
            "c": _d(stats.close),
            "Q": "0",
            "o": _d(stats.open),
            "h": _d(stats.high),
            "l": _d(stats.low),
            "v": _d(stats.volume),
            "q": _d(stats.quote_volume),
            "O": now - 86_400_000,
            "C": now,
            "F": 0,
            "L": stats.trades - 1,
            "n": stats.trades,
        }
        if mkt == SPOT and bids and asks:
            frame.update(
                {
                    "x": _d(stats.open),
                    "b": _d(bids[0][0]),
                    "B": _d(bids[0][1]),
                    "a": _d(asks[0][0]),
                    "A": _d(asks[0][1]),
                }
            )
        return frame

    def _mark_frame(self, symbol: str, now: int) -> dict[str, Any]:
        return {
            "e": "markPriceUpdate",
            "E": now,
            "s": symbol,
            "p": _d(self.risk.mark(symbol, now)),
            "i": _d(self.risk.index(symbol, now)),
            "P": _d(self.risk.index(symbol, now)),
            "r": _d(self.risk.predicted_rate(symbol, now)),
            "T": self.risk.next_funding(now),
        }

    # ---- spot user data: the WebSocket API ----------------------------------------------------------

    @stream(SPOT_WS_API_HOSTS, "/ws-api/v3")
    async def ws_api(self, conn: StreamConn) -> None:
        """Spot WebSocket API: ping, time, session.*, userDataStream.* (other methods: -1020)."""
        conn.keepalive(20.0, 60.0)
        conn.state["connected"] = conn.now_ms()
        conn.state["subs"] = {}  # subscriptionId -> account
        conn.state["next_sub"] = 0
        async for _text, msg in conn.json_messages():
            if not isinstance(msg, dict) or not isinstance(msg.get("method"), str):
                conn.send({"id": None, "status": 400, "error": {"code": -1000, "msg": "Malformed request."}})
                continue
            req_id = msg.get("id")
            params = msg.get("params") or {}
            try:
                if not isinstance(params, dict):
                    raise WsApiError(400, -1104, "Not all sent parameters were read.")
                self._session_check(conn)
                result = self._ws_api_call(conn, msg["method"], params)
            except WsApiError as err:
                conn.send({"id": req_id, "status": err.status, "error": {"code": err.code, "msg": err.msg}})
                continue
            conn.send({"id": req_id, "status": 200, "result": result})

    def _session_check(self, conn: StreamConn) -> None:
        """A logged-on key that became invalid revokes the session at the next request (documented)."""
        key_id = conn.state.get("logon")
        if key_id is None:
            return
        key = self.keys.get(key_id)
        if key is None or not key.is_active(conn.now_ms()) or not key.allows_ip(conn.remote):
            self._drop_session(conn)
            conn.send({"id": None, "status": 401, "error": {"code": -2015, "msg": INVALID_KEY}})

    def _drop_session(self, conn: StreamConn) -> None:
        logon_sub = conn.state.pop("logon_sub", None)
        conn.state.pop("logon", None)
        if logon_sub is not None:
            self._unsubscribe_user(conn, logon_sub)

    def _ws_api_call(self, conn: StreamConn, method: str, params: dict[str, Any]) -> Any:
        now = conn.now_ms()
        if method == "ping":
            return {}
        if method == "time":
            return {"serverTime": now}
        if method == "session.logon":
            key = self._ws_auth(conn, params)
            conn.state["logon"] = key.api_key
            conn.state["logon_since"] = now
            return self._session_view(conn, now)
        if method == "session.status":
            return self._session_view(conn, now)
        if method == "session.logout":
            self._drop_session(conn)
            return self._session_view(conn, now)
        if method == "session.subscriptions":
            return [{"subscriptionId": sid} for sid in sorted(conn.state["subs"])]
        if method == "userDataStream.subscribe":
            key_id = conn.state.get("logon")
            session_key = self.keys.get(key_id) if key_id else None
            # web-socket-api.md: needs a session authenticated with an Ed25519 key (session.logon)
            if session_key is None or session_key.key_type != "ed25519":
                raise WsApiError(401, -1002, "You are not authorized to execute this request.")
            sid = self._subscribe_user(conn, session_key)
            conn.state["logon_sub"] = sid
            return {"subscriptionId": sid}
        if method == "userDataStream.subscribe.signature":
            key = self._ws_auth(conn, params)
            return {"subscriptionId": self._subscribe_user(conn, key)}
        if method == "userDataStream.unsubscribe":
            which = params.get("subscriptionId")
            for s in list(conn.state["subs"]) if which is None else [int(which)]:
                self._unsubscribe_user(conn, s)
            return {}
        raise WsApiError(400, -1020, "This operation is not supported.")

    def _session_view(self, conn: StreamConn, now: int) -> dict[str, Any]:
        return {
            "apiKey": conn.state.get("logon"),
            "authorizedSince": conn.state.get("logon_since") if conn.state.get("logon") else None,
            "connectedSince": conn.state["connected"],
            "returnRateLimits": False,
            "serverTime": now,
            "userDataStream": bool(conn.state["subs"]),
        }

    def _ws_auth(self, conn: StreamConn, params: dict[str, Any]) -> ApiKey:
        """Key -> timestamp/recvWindow -> signature -> IP -> permission, with the REST codes."""
        key_id = params.get("apiKey")
        if not isinstance(key_id, str) or not key_id:
            raise WsApiError(
                400, -1102, "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed."
            )
        found = self.keys.get(key_id)
        now = conn.now_ms()
        if found is None or found.venue != getattr(self, "name", "") or not found.is_active(now):
            raise WsApiError(401, -2015, INVALID_KEY)
        key = found
        ts_raw = params.get("timestamp")
        if not isinstance(ts_raw, int) and not (isinstance(ts_raw, str) and ts_raw.isdigit()):
            raise WsApiError(
                400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            )
        window = Decimal(str(params.get("recvWindow", 5000)))
        if window > MAX_RECV_WINDOW:
            raise WsApiError(400, -1131, f"'recvWindow' must be less than {MAX_RECV_WINDOW}.")
        ts = int(ts_raw)
        if ts >= now + 1000:
            raise WsApiError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now - ts > window:
            raise WsApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        sig = params.get("signature")
        if not isinstance(sig, str) or not sig:
            raise WsApiError(
                400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        payload = "&".join(f"{k}={_param_text(v)}" for k, v in sorted(params.items()) if k != "signature")
        if key.key_type == "ed25519":
            ok = key.public_key is not None and verify_ed25519_b64(key.public_key, payload, sig)
        else:
            ok = key.secret is not None and verify_hmac_hex(key.secret, payload, sig)
        if not ok:
            raise WsApiError(400, -1022, "Signature for this request is not valid.")
        if not key.allows_ip(conn.remote) or not key.has("read"):
            raise WsApiError(401, -2015, INVALID_KEY)
        return key

    def _subscribe_user(self, conn: StreamConn, key: ApiKey) -> int:
        subs: dict[int, str] = conn.state["subs"]
        for sid, account in subs.items():
            if account == key.account:
                return sid  # one subscription per account per connection
        sid = conn.state["next_sub"]
        conn.state["next_sub"] = sid + 1
        subs[sid] = key.account
        conn.subscribe(("user", SPOT, key.account), _user_event(sid))
        return int(sid)

    def _unsubscribe_user(self, conn: StreamConn, sid: int) -> None:
        account = conn.state["subs"].pop(sid, None)
        if account is None:
            return
        conn.unsubscribe(("user", SPOT, account))
        conn.send({"subscriptionId": sid, "event": {"e": "eventStreamTerminated", "E": conn.now_ms()}})

    # ---- engine events -> user streams --------------------------------------------------------------

    def stream_event(self, ev: EngineEvent) -> None:
        """executionReport + outboundAccountPosition (spot); ORDER_TRADE_UPDATE + ACCOUNT_UPDATE (USD-M)."""
        mkt = SPOT if ev.engine == "spot" else FUT
        topic = ("user", mkt, ev.order.account)
        if not self.subscribed(topic):
            return
        now = self._now()
        if mkt == SPOT:
            self.publish(topic, self._execution_report(ev, now), ev.t0)
            self.publish(topic, self._account_position(ev.order, now), ev.t0)
        else:
            self.publish(topic, self._order_trade_update(ev, now), ev.t0)
            if ev.kind == "trade":
                self.publish(
                    topic, self._account_update(ev.order.account, "ORDER", now, ev.order.symbol), ev.t0
                )

    @staticmethod
    def _exec_state(ev: EngineEvent) -> tuple[str, str, Decimal, Decimal, Decimal, Decimal]:
        """(execution type, status, last qty, last price, cumulative qty, cumulative quote) at the event."""
        o = ev.order
        if ev.kind == "trade" and ev.fill is not None:
            upto = o.fills[: o.fills.index(ev.fill) + 1] if ev.fill in o.fills else o.fills
            cum = sum((f.qty for f in upto), Decimal(0))
            cum_q = sum((f.quote_qty for f in upto), Decimal(0))
            # the fill that completes the order reports FILLED; earlier ones PARTIALLY_FILLED
            last_fill = not o.fills or ev.fill is o.fills[-1]
            status = "FILLED" if last_fill and o.status is Status.FILLED else "PARTIALLY_FILLED"
            return "TRADE", status, ev.fill.qty, ev.fill.price, cum, cum_q
        if ev.kind == "new":
            return "NEW", "NEW", Decimal(0), Decimal(0), Decimal(0), Decimal(0)
        kind = "CANCELED" if ev.kind == "canceled" else "EXPIRED"
        return kind, o.status.value, Decimal(0), Decimal(0), o.executed_qty, o.cum_quote

    def _execution_report(self, ev: EngineEvent, now: int) -> dict[str, Any]:
        o = ev.order
        x, status, lq, lp, cum, cum_q = self._exec_state(ev)
        fill = ev.fill if ev.kind == "trade" else None
        return {
            "e": "executionReport",
            "E": now,
            "s": o.symbol,
            "c": o.client_order_id,
            "S": o.side.value,
            "o": "LIMIT_MAKER" if o.tif is TIF.GTX else o.type.value,
            "f": "GTC" if o.tif is TIF.GTX else o.tif.value,
            "q": _d(o.qty if o.qty is not None else Decimal(0)),
            "p": _d(o.price or Decimal(0)),
            "P": _d(Decimal(0)),
            "F": _d(Decimal(0)),
            "g": -1,
            "C": "",
            "x": x,
            "X": status,
            "r": "NONE",
            "i": o.order_id,
            "l": _d(lq),
            "z": _d(cum),
            "L": _d(lp),
            "n": _d(fill.fee) if fill else "0",
            "N": fill.fee_asset if fill else None,
            "T": fill.time_ms if fill else ev.time_ms,
            "t": fill.trade_id if fill else -1,
            "I": ev.order.seq * 10 + len(o.fills),
            "w": o.is_open and o.type is OrdType.LIMIT,
            "m": bool(fill and fill.is_maker),
            "M": False,
            "O": o.created_ms,
            "Z": _d(cum_q),
            "Y": _d(lq * lp),
            "Q": _d(o.quote_qty or Decimal(0)),
            "W": o.created_ms,
            "V": "EXPIRE_MAKER",
        }

    def _account_position(self, o: Order, now: int) -> dict[str, Any]:
        inst = self.spot.instruments.get(o.symbol)
        acc = self.wallets.ensure(o.account)
        assets = [inst.base, inst.quote] if inst else sorted(acc)
        return {
            "e": "outboundAccountPosition",
            "E": now,
            "u": now,
            "B": [{"a": a, "f": _d(acc[a].free), "l": _d(acc[a].locked)} for a in assets if a in acc],
        }

    def spot_balance_changed(self, account: str, before: dict[str, Decimal]) -> None:
        """balanceUpdate per asset whose total moved outside trading (deposits, withdrawals, admin)."""
        topic = ("user", SPOT, account)
        if not self.subscribed(topic):
            return
        now = self._now()
        after = {a: b.total for a, b in self.wallets.ensure(account).items()}
        for asset in sorted(set(before) | set(after)):
            delta = after.get(asset, Decimal(0)) - before.get(asset, Decimal(0))
            if delta:
                self.publish(topic, {"e": "balanceUpdate", "E": now, "a": asset, "d": _d(delta), "T": now})

    def _order_trade_update(self, ev: EngineEvent, now: int) -> dict[str, Any]:
        o = ev.order
        x, status, lq, lp, cum, cum_q = self._exec_state(ev)
        fill = ev.fill if ev.kind == "trade" else None
        liquidation = bool(o.extra.get("liquidation"))
        return {
            "e": "ORDER_TRADE_UPDATE",
            "E": now,
            "T": ev.time_ms,
            "o": {
                "s": o.symbol,
                "c": o.client_order_id,
                "S": o.side.value,
                "o": "LIMIT" if liquidation else o.type.value,
                "f": "IOC" if liquidation else o.tif.value,
                "q": fmt(o.qty if o.qty is not None else o.executed_qty),
                "p": fmt(o.price or Decimal(0)),
                "ap": fmt(cum_q / cum if cum else Decimal(0)),
                "sp": "0",
                "x": x,
                "X": status,
                "i": o.order_id,
                "l": fmt(lq),
                "z": fmt(cum),
                "L": fmt(lp),
                "N": fill.fee_asset if fill else "USDT",
                "n": fmt(fill.fee) if fill else "0",
                "T": fill.time_ms if fill else ev.time_ms,
                "t": fill.trade_id if fill else 0,
                "b": "0",
                "a": "0",
                "m": bool(fill and fill.is_maker),
                "R": o.reduce_only,
                "wt": "CONTRACT_PRICE",
                "ot": o.type.value,
                "ps": "BOTH",
                "cp": False,
                "rp": fmt(fill.realized_pnl) if fill else "0",
                "pP": False,
                "si": 0,
                "ss": 0,
                "V": "EXPIRE_MAKER",
                "pm": "NONE",
                "gtd": 0,
            },
        }

    def _account_update(self, account: str, reason: str, now: int, symbol: str | None) -> dict[str, Any]:
        acc = self.perps.account(account)
        cross = acc.wallet - self.perps.isolated_margin(acc)
        symbols = [symbol] if symbol else sorted(acc.positions)
        positions = []
        for s in symbols:
            pos = self.perps.position(account, s)
            mark = self.risk.mark(s, now)
            positions.append(
                {
                    "s": s,
                    "pa": fmt(pos.qty),
                    "ep": fmt(pos.entry),
                    "bep": fmt(pos.entry),
                    "cr": fmt(pos.realized),
                    "up": fmt((mark - pos.entry) * pos.qty if pos.qty else Decimal(0), 8),
                    "mt": "isolated" if pos.isolated else "cross",
                    "iw": fmt(pos.margin if pos.isolated else Decimal(0)),
                    "ps": "BOTH",
                }
            )
        return {
            "e": "ACCOUNT_UPDATE",
            "E": now,
            "T": now,
            "a": {
                "m": reason,
                "B": [{"a": acc.asset, "wb": fmt(acc.wallet, 8), "cw": fmt(cross, 8), "bc": "0"}],
                "P": positions,
            },
        }

    def _ledger_event(self, entry: LedgerEntry) -> None:
        """Funding (and liquidation insurance) moves the futures wallet: ACCOUNT_UPDATE FUNDING_FEE."""
        if entry.kind != "funding":
            return
        topic = ("user", FUT, entry.account)
        if self.subscribed(topic):
            self.publish(
                topic, self._account_update(entry.account, "FUNDING_FEE", entry.time_ms, entry.symbol)
            )

    def _check_margin_calls(self, now: int) -> None:
        """MARGIN_CALL once an account's maintenance margin reaches 80 % of its margin balance."""
        called = self._bn_margin_called
        for topic in self.stream_topics():
            if not (isinstance(topic, tuple) and topic[:2] == ("user", FUT)):
                continue
            account = topic[2]
            acc = self.perps.account(account)
            maint = sum((self.perps.maintenance(p, s) for s, p in acc.positions.items() if p.qty), Decimal(0))
            balance = acc.wallet + self.perps.unrealized(acc)
            if maint <= 0 or balance <= 0 or maint < balance * MARGIN_CALL_RATIO:
                called.discard(account)
                continue
            if account in called:
                continue
            called.add(account)
            rows = []
            for s, p in acc.positions.items():
                if not p.qty:
                    continue
                mark = self.risk.mark(s, now)
                rows.append(
                    {
                        "s": s,
                        "ps": "BOTH",
                        "pa": fmt(p.qty),
                        "mt": "isolated" if p.isolated else "cross",
                        "iw": fmt(p.margin if p.isolated else Decimal(0)),
                        "mp": fmt(mark),
                        "up": fmt((mark - p.entry) * p.qty, 8),
                        "mm": fmt(self.perps.maintenance(p, s), 8),
                    }
                )
            cross = acc.wallet - self.perps.isolated_margin(acc)
            self.publish(topic, {"e": "MARGIN_CALL", "E": now, "cw": fmt(cross, 8), "p": rows})

    # ---- USD-M listenKey streams --------------------------------------------------------------------

    def _listen_key_owner(self, listen_key: str) -> ApiKey | None:
        for api_key, lk in self.listen_keys.items():
            if lk == listen_key:
                return self.keys.get(api_key)
        return None

    def _attach_listen_key(self, conn: StreamConn, listen_key: str | None) -> bool:
        """Subscribe the connection to the key's user data; close it (1008) when the key is not live."""
        now = conn.now_ms()
        key = self._listen_key_owner(listen_key) if listen_key else None
        if listen_key is None or key is None or self.listen_key_expiry.get(listen_key, 0) <= now:
            conn.close(1008, "Invalid listenKey")
            return False
        if not key.is_active(now) or not key.allows_ip(conn.remote):
            conn.close(1008, INVALID_KEY)
            return False
        conn.state["listenKey"] = listen_key
        conn.subscribe(("user", FUT, key.account))
        return True

    def _check_listen_keys(self, now: int) -> int:
        """Expired listenKeys: `listenKeyExpired` on their streams, then the streams are closed."""
        hub = self.streams
        if hub is None:
            return 0
        hit = 0
        for conn in list(hub.conns.get(str(getattr(self, "name", "")), ())):
            lk = conn.state.get("listenKey")
            if lk is None or conn.closed:
                continue
            key = self._listen_key_owner(lk)
            if self.listen_key_expiry.get(lk, 0) > now and key is not None and key.is_active(now):
                continue
            # USD-M "Event: User Data Stream Expired": E is sent as a string
            conn.send({"e": "listenKeyExpired", "E": str(now), "listenKey": lk})
            conn.close(1000, "listenKey expired")
            hit += 1
        return hit

    def stream_fault(self, kind: str) -> int:
        """listenkey_expire: every live USD-M listenKey expires now (PUT then answers -1125)."""
        if kind != "listenkey_expire":
            return 0
        now = self._now()
        live = [lk for lk in self.listen_keys.values() if self.listen_key_expiry.get(lk, 0) > now]
        for lk in live:
            self.listen_key_expiry[lk] = now
        self._check_listen_keys(now)
        return len(live)


def _user_event(sid: int) -> Callable[[str], str]:
    """WebSocket API user data framing: {"subscriptionId": n, "event": payload}."""
    head = '{"subscriptionId":' + str(sid) + ',"event":'
    return lambda text: head + text + "}"


def _param_text(value: Any) -> str:
    """How a JSON param value reads in the WS API signature payload."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
