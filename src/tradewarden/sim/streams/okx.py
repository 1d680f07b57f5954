"""OKX v5 WebSocket: public, business and private endpoints, login, channels, text ping/pong.

Written from OKX's v5 documentation ("WebSocket" overview, "Login", "Subscribe", the channel pages
and the WebSocket error codes):

- Endpoints `wss://ws.okx.com:8443/ws/v5/public` (tickers, books, books5, bbo-tbt, trades,
  mark-price), `/business` (candle channels), `/private` (login; orders, account, positions).
- `{"op": "subscribe", "args": [{"channel", "instId"|"instType"...}]}` answered
  `{"event": "subscribe", "arg", "connId"}`; pushes are `{"arg", "data": [...]}` (books add
  `action` snapshot/update). Errors: `{"event": "error", "code", "msg", "connId"}`.
- `login`: args apiKey, passphrase, timestamp (Unix seconds, 30 s window) and sign =
  Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")). Codes: 60004 invalid
  timestamp, 60005 invalid apiKey, 60006 timestamp expired, 60007 invalid sign, 60009 login failure
  (IP not whitelisted, no read permission here), 60011 please log in, 60012 invalid request,
  60018 unknown channel/instrument, 60024 wrong passphrase.
- `books`: a 400-level snapshot, then increments every 100 ms with `prevSeqId`/`seqId` and a
  `checksum`: CRC32 (signed) of the best 25 bids and asks interleaved `bidPx:bidSz:askPx:askSz`.
- Text "ping" is answered "pong"; a connection silent for 30 s is closed.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from ..market import MINUTE_MS
from ..matching import EngineEvent, Side, Status
from ..signing import equal, hmac_sha256_b64
from ..venue import fmt
from .base import StreamVenue
from .book import BookSequencer, okx_checksum
from .conn import StreamConn
from .registry import stream
from .tape import new_trades

if TYPE_CHECKING:
    from ..keys import KeyStore
    from ..server import SimContext

HOSTS = ("ws.okx.com:8443", "ws.okx.com:443", "ws.okx.com", "wspap.okx.com:8443", "wspap.okx.com:443")
PUBLIC_CHANNELS = ("tickers", "books", "books5", "bbo-tbt", "trades", "mark-price")
PRIVATE_CHANNELS = ("orders", "account", "positions")
CANDLE_BARS = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1H": 60, "4H": 240, "1D": 1440}
BOOK_LEVELS = 400
LOGIN_WINDOW_S = 30
IDLE_CLOSE_S = 30.0  # "the connection will break automatically if there is no data push within 30 s"
STATE = {
    Status.NEW: "live",
    Status.PARTIALLY_FILLED: "partially_filled",
    Status.FILLED: "filled",
    Status.CANCELED: "canceled",
    Status.EXPIRED: "canceled",
}


class OkxStreams(StreamVenue):
    """Stream half of OkxVenue (mixed in before Venue)."""

    ctx: SimContext
    keys: KeyStore

    def stream_attach(self) -> None:
        """Per-instrument book sequences and last pushes."""
        self._ok_seqs: dict[str, BookSequencer] = {}
        self._ok_last: dict[Hashable, Any] = {}

    def _v(self) -> Any:
        return cast(Any, self)  # OkxVenue: listings, views, engines

    # ---- connections --------------------------------------------------------------------------------

    @stream(HOSTS, "/ws/v5/public")
    async def ws_public(self, conn: StreamConn) -> None:
        """Public channels."""
        await self._session(conn, "public")

    @stream(HOSTS, "/ws/v5/business")
    async def ws_business(self, conn: StreamConn) -> None:
        """Business channels (candles)."""
        await self._session(conn, "business")

    @stream(HOSTS, "/ws/v5/private")
    async def ws_private(self, conn: StreamConn) -> None:
        """Private channels after login."""
        await self._session(conn, "private")

    async def _session(self, conn: StreamConn, endpoint: str) -> None:
        conn.state["connId"] = secrets.token_hex(4)
        conn.state["last_in"] = time.monotonic()
        conn.spawn(self._idle_watch(conn))
        async for text, msg in conn.json_messages():
            conn.state["last_in"] = time.monotonic()
            if text == "ping":
                conn.send("pong")
                continue
            if not isinstance(msg, dict) or msg.get("op") not in ("login", "subscribe", "unsubscribe"):
                op = msg.get("op") if isinstance(msg, dict) else None
                code, why = (
                    ("60019", f"Invalid op: {op}") if op else ("60012", f"Invalid request: {text[:200]}")
                )
                self._error(conn, code, why)
                continue
            args = msg.get("args")
            if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
                self._error(conn, "60012", f"Invalid request: {text[:200]}")
                continue
            if msg["op"] == "login":
                if endpoint != "private" and endpoint != "business":
                    self._error(conn, "60028", "The current operation is not supported by this URL.")
                else:
                    self._login(conn, args[0])
                continue
            for arg in args:
                if msg["op"] == "subscribe":
                    self._subscribe(conn, endpoint, arg)
                else:
                    self._unsubscribe(conn, arg)

    async def _idle_watch(self, conn: StreamConn) -> None:
        while not conn.closed:
            await asyncio.sleep(1.0)
            if time.monotonic() - conn.state["last_in"] > IDLE_CLOSE_S and not conn.topics:
                conn.close(4004, "No data received in 30s.")
                return

    def _error(self, conn: StreamConn, code: str, msg: str) -> None:
        conn.send({"event": "error", "code": code, "msg": msg, "connId": conn.state["connId"]})

    def _login(self, conn: StreamConn, arg: dict[str, Any]) -> None:
        """Check the login op in OKX's order; on success the connection acts for the key's account."""
        for field in ("apiKey", "passphrase", "timestamp", "sign"):
            if not arg.get(field):
                self._error(conn, "60027", f"Parameter {field} can not be empty.")
                return
        stamp = str(arg["timestamp"])
        if not stamp.isdigit():
            self._error(conn, "60004", "Invalid timestamp")
            return
        key = self.keys.get(str(arg["apiKey"]))
        now = conn.now_ms()
        if key is None or key.venue != "okx" or key.secret is None or not key.is_active(now):
            self._error(conn, "60005", "Invalid apiKey")
            return
        if abs(now // 1000 - int(stamp)) > LOGIN_WINDOW_S:
            self._error(conn, "60006", "Timestamp request expired")
            return
        if not equal(str(arg["passphrase"]), key.passphrase or ""):
            self._error(conn, "60024", "Wrong passphrase")
            return
        if not equal(hmac_sha256_b64(key.secret, stamp + "GET/users/self/verify"), str(arg["sign"])):
            self._error(conn, "60007", "Invalid sign")
            return
        if not key.allows_ip(conn.remote) or not key.has("read"):
            self._error(conn, "60009", "Login failed.")
            return
        conn.state["key"] = key.api_key
        conn.state["account"] = key.account
        conn.send({"event": "login", "code": "0", "msg": "", "connId": conn.state["connId"]})

    # ---- subscriptions ------------------------------------------------------------------------------

    def _subscribe(self, conn: StreamConn, endpoint: str, arg: dict[str, Any]) -> None:
        channel = str(arg.get("channel", ""))
        echo = {k: v for k, v in arg.items() if isinstance(v, str)}
        if channel in PRIVATE_CHANNELS:
            account = conn.state.get("account")
            key = self.keys.get(conn.state.get("key"))
            if account is None or key is None or not key.is_active(conn.now_ms()):
                self._error(conn, "60011", "Please log in")
                return
            private = self._private_topic(channel, account, arg)
            if private is None:
                self._error(conn, "60018", f"Wrong URL or channel:{channel} doesn't exist.")
                return
            echo["uid"] = self._v().uid(account)
            conn.subscribe(private, _with_arg(echo))
            conn.send({"event": "subscribe", "arg": echo, "connId": conn.state["connId"]})
            if channel == "positions":  # the positions channel starts with a snapshot
                conn.send({"arg": echo, "data": self._positions(account, arg.get("instId"), conn.now_ms())})
            return
        inst_id = str(arg.get("instId", ""))
        lst = self._v().listings.get(inst_id)
        candle = channel.startswith("candle") and channel[len("candle") :] in CANDLE_BARS
        wrong_place = (endpoint == "business") != candle or (endpoint == "private" and not candle)
        if lst is None or (channel not in PUBLIC_CHANNELS and not candle) or wrong_place:
            self._error(conn, "60018", f"Wrong URL or channel:{channel},instId:{inst_id} doesn't exist.")
            return
        topic: Hashable = ("candle", channel[len("candle") :], inst_id) if candle else (channel, inst_id)
        conn.send({"event": "subscribe", "arg": echo, "connId": conn.state["connId"]})
        if channel == "books":
            seq = self._refresh(inst_id, conn.now_ms())  # others get the diff up to now first
            conn.subscribe(topic, _with_arg(echo))
            conn.send({"arg": echo, "action": "snapshot", "data": [self._book_data(seq, -1, conn.now_ms())]})
            return
        conn.subscribe(topic, _with_arg(echo))

    def _unsubscribe(self, conn: StreamConn, arg: dict[str, Any]) -> None:
        channel = str(arg.get("channel", ""))
        echo = {k: v for k, v in arg.items() if isinstance(v, str)}
        for topic in list(conn.topics):
            if isinstance(topic, tuple) and (topic[0] == channel or "candle" + str(topic[1]) == channel):
                inst = arg.get("instId")
                if inst is None or inst in topic:
                    conn.unsubscribe(topic)
        conn.send({"event": "unsubscribe", "arg": echo, "connId": conn.state["connId"]})

    @staticmethod
    def _private_topic(channel: str, account: str, arg: dict[str, Any]) -> Hashable | None:
        if channel == "account":
            return ("account", account, str(arg.get("ccy", "")))
        inst_type = str(arg.get("instType", ""))
        allowed = ("ANY", "SPOT", "SWAP") if channel == "orders" else ("ANY", "SWAP")
        if inst_type not in allowed:
            return None
        return (channel, account, inst_type, str(arg.get("instId", "")))

    # ---- books --------------------------------------------------------------------------------------

    def _refresh(self, inst_id: str, now: int) -> BookSequencer:
        seqs = self._ok_seqs
        seq = seqs.get(inst_id)
        if seq is None:
            seq = seqs[inst_id] = BookSequencer(first_id=10_000)
        lst = self._v().listings[inst_id]
        bids, asks = lst.engine.depth(inst_id, BOOK_LEVELS)
        diff = seq.refresh(bids, asks)
        if diff is not None and self.subscribed(("books", inst_id)):
            data = {
                "asks": [[fmt(p), fmt(q), "0", "1" if q else "0"] for p, q in diff.asks],
                "bids": [[fmt(p), fmt(q), "0", "1" if q else "0"] for p, q in diff.bids],
                "ts": str(now),
                "checksum": self._checksum(seq),
                "prevSeqId": diff.prev_id,
                "seqId": diff.last_id,
            }
            self.publish(("books", inst_id), {"action": "update", "data": [data]})
        return seq

    @staticmethod
    def _checksum(seq: BookSequencer) -> int:
        bids, asks = seq.top(25)
        return okx_checksum([(fmt(p), fmt(q)) for p, q in bids], [(fmt(p), fmt(q)) for p, q in asks])

    def _book_data(
        self, seq: BookSequencer, prev: int, now: int, levels: int = BOOK_LEVELS
    ) -> dict[str, Any]:
        bids, asks = seq.top(levels)
        data: dict[str, Any] = {
            "asks": [[fmt(p), fmt(q), "0", "1"] for p, q in asks],
            "bids": [[fmt(p), fmt(q), "0", "1"] for p, q in bids],
            "ts": str(now),
        }
        if levels == BOOK_LEVELS:
            data.update({"checksum": self._checksum(seq), "prevSeqId": prev, "seqId": seq.last_id})
        return data

    # ---- the clock tick -----------------------------------------------------------------------------

    def stream_tick(self, now_ms: int, prev_ms: int) -> None:
        """Books every 100 ms, tickers/bbo on change, trades as they happen, candles each second."""
        venue = self._v()
        second = now_ms // 1000 != prev_ms // 1000
        for topic in self.stream_topics():
            if not isinstance(topic, tuple):
                continue
            kind = topic[0]
            if kind in PRIVATE_CHANNELS:
                continue
            inst_id = topic[-1]
            lst = venue.listings[inst_id]
            pm = self.market_of(lst)
            if kind == "books":
                self._refresh(inst_id, now_ms)
            elif kind in ("books5", "bbo-tbt"):
                seq = self._refresh(inst_id, now_ms)
                data = self._book_data(seq, -1, now_ms, 5 if kind == "books5" else 1)
                if kind == "books5":
                    data["instId"] = inst_id
                if self._changed(topic, (data["bids"], data["asks"])):
                    self.publish(topic, {"data": [data]})
            elif kind == "tickers":
                view = venue.ticker_view(lst, now_ms)
                if second or self._changed(topic, (view["last"], view["bidPx"], view["askPx"])):
                    self._ok_last[topic] = (view["last"], view["bidPx"], view["askPx"])
                    self.publish(topic, {"data": [view]})
            elif kind == "trades":
                rows = [
                    {
                        "instId": inst_id,
                        "tradeId": str(t.trade_id),
                        "px": fmt(t.price),
                        "sz": fmt(t.qty / lst.ct_val if lst.inst_type == "SWAP" else t.qty),
                        "side": "sell" if t.buyer_maker else "buy",
                        "ts": str(t.time_ms),
                        "count": "1",
                    }
                    for t in new_trades(pm, prev_ms, now_ms)
                ]
                for row in rows:
                    self.publish(topic, {"data": [row]})
            elif kind == "mark-price" and second and lst.inst_type == "SWAP":
                mark = venue.risk.mark(inst_id, now_ms)
                data = {"instType": "SWAP", "instId": inst_id, "markPx": fmt(mark), "ts": str(now_ms)}
                self.publish(topic, {"data": [data]})
            elif kind == "candle" and second:
                interval = CANDLE_BARS[topic[1]] * MINUTE_MS
                for c in pm.klines(interval, None, now_ms, 2):
                    closed = c.open_ms + interval <= now_ms
                    if closed and c.open_ms + interval <= prev_ms:
                        continue
                    vol = c.volume / lst.ct_val if lst.inst_type == "SWAP" else c.volume
                    candle_row = [
                        str(c.open_ms), fmt(c.open), fmt(c.high), fmt(c.low), fmt(c.close), fmt(vol),
                        fmt(c.volume if lst.inst_type == "SWAP" else c.quote_volume), fmt(c.quote_volume),
                        "1" if closed else "0",
                    ]  # fmt: skip
                    self.publish(topic, {"data": [candle_row]})

    def market_of(self, lst: Any) -> Any:
        """The instrument's PairMarket."""
        return self._v().market.get(lst.inst.pair)

    def _changed(self, topic: Hashable, value: Any) -> bool:
        if self._ok_last.get(topic) == value:
            return False
        self._ok_last[topic] = value
        return True

    # ---- private pushes -----------------------------------------------------------------------------

    def stream_event(self, ev: EngineEvent) -> None:
        """orders (every change), then account and positions after fills."""
        venue = self._v()
        o = ev.order
        lst = venue.listings.get(o.symbol)
        if lst is None or o.account.startswith("__"):
            return
        account = o.account
        targets = [("orders", account, t, i) for t in ("ANY", lst.inst_type) for i in ("", o.symbol)]
        if any(self.subscribed(t) for t in targets):
            row = self._order_row(lst, ev)
            for topic in targets:
                self.publish(topic, {"data": [row]}, ev.t0)
        if ev.kind in ("trade", "new", "canceled", "expired"):
            for ccy in ("", lst.inst.base, lst.inst.quote):
                acc_topic = ("account", account, ccy)
                if self.subscribed(acc_topic):
                    self.publish(
                        acc_topic, {"data": [self._account(account, ccy or None, ev.time_ms)]}, ev.t0
                    )
        if ev.kind == "trade" and lst.inst_type == "SWAP":
            for topic in [("positions", account, t, i) for t in ("ANY", "SWAP") for i in ("", o.symbol)]:
                if self.subscribed(topic):
                    self.publish(topic, {"data": self._positions(account, o.symbol, ev.time_ms)}, ev.t0)

    def _order_row(self, lst: Any, ev: EngineEvent) -> dict[str, Any]:
        """The order as Get order details shows it, with the fill that caused this push."""
        o = ev.order
        row = dict(self._v().order_view(lst, o))
        row["uTime"] = str(ev.time_ms)
        if ev.kind == "new":
            row.update(
                {"state": "live", "accFillSz": "0", "avgPx": "", "fillSz": "0", "fillPx": "", "tradeId": ""}
            )
        elif ev.kind == "trade" and ev.fill is not None:
            f = ev.fill
            upto = o.fills[: o.fills.index(f) + 1] if f in o.fills else o.fills
            acc = sum((x.qty for x in upto), Decimal(0))
            quote = sum((x.price * x.qty for x in upto), Decimal(0))
            last = not o.fills or f is o.fills[-1]
            state = "filled" if last and o.status is Status.FILLED else "partially_filled"
            swap = lst.inst_type == "SWAP"
            fee_ccy = (
                (lst.inst.settle or lst.inst.quote)
                if swap
                else (lst.inst.base if o.side is Side.BUY else lst.inst.quote)
            )
            row.update(
                {
                    "state": state, "accFillSz": fmt(acc), "avgPx": fmt(quote / acc) if acc else "",
                    "fillSz": fmt(f.qty), "fillPx": fmt(f.price), "tradeId": str(f.trade_id),
                    "fillTime": str(f.time_ms), "execType": "M" if f.is_maker else "T",
                    "fillFee": fmt(-f.fee), "fillFeeCcy": fee_ccy, "fillPnl": fmt(f.realized_pnl),
                }
            )  # fmt: skip
        else:
            row.update({"state": STATE.get(o.status, "canceled"), "fillSz": "0", "tradeId": ""})
        return row

    def _account(self, account: str, ccy: str | None, now: int) -> dict[str, Any]:
        """The account channel: trading account equity and per-currency details (Get balance shape)."""
        venue = self._v()
        acc = venue.wallets.ensure(account)
        perp = venue.margin.account(account)
        upl = venue.margin.unrealized(perp)
        margin_frozen = venue.margin.position_margin(perp) + perp.order_margin
        details = []
        total = Decimal(0)
        for asset, bal in sorted(acc.items()):
            if ccy and asset != ccy:
                continue
            cash = bal.free + bal.locked
            settle = asset == venue.margin.asset
            asset_upl = upl if settle else Decimal(0)
            frozen = bal.locked + (margin_frozen if settle else Decimal(0))
            eq = cash + asset_upl
            if eq == 0 and not ccy:
                continue
            eq_usd = eq * venue.usd_price(asset)
            total += eq_usd
            avail = cash - frozen + min(Decimal(0), asset_upl)
            details.append(
                {
                    "ccy": asset, "eq": fmt(eq), "cashBal": fmt(cash), "availBal": fmt(avail),
                    "availEq": fmt(avail), "frozenBal": fmt(frozen), "ordFrozen": fmt(bal.locked),
                    "upl": fmt(asset_upl), "eqUsd": fmt(eq_usd), "uTime": str(now), "disEq": fmt(eq_usd),
                }
            )  # fmt: skip
        return {
            "uTime": str(now),
            "totalEq": fmt(total),
            "isoEq": "0",
            "adjEq": fmt(total),
            "details": details,
        }

    def _positions(self, account: str, inst_id: Any, now: int) -> list[dict[str, Any]]:
        venue = self._v()
        acc = venue.margin.account(account)
        rows = []
        for sym, pos in sorted(acc.positions.items()):
            if inst_id and sym != inst_id:
                continue
            row = dict(venue.position_view(account, sym, now))
            if not pos.qty:
                row["pos"] = "0"
            rows.append(row)
        return rows


def _with_arg(arg: dict[str, str]) -> Callable[[str], str]:
    """Push framing: the subscription's own arg first, then what was published (data, action)."""
    head = '{"arg":' + json.dumps(arg, separators=(",", ":")) + ","
    return lambda text: head + text[1:]
