"""Bybit V5 streams: public spot/linear topics; the private stream (auth op, order/execution/wallet/position).

Written from Bybit's V5 WebSocket documents (bybit-exchange.github.io/docs/v5/ws/connect and the
public/private topic pages):

- Endpoints: `wss://stream.bybit.com/v5/public/spot`, `/v5/public/linear`, `/v5/private`.
- Requests are JSON `{"req_id"?, "op", "args"}`. `subscribe` answers
  `{"success", "ret_msg", "conn_id", "req_id", "op": "subscribe"}`.
- Heartbeat: the client sends `{"op": "ping"}` (docs advise every 20 s). Public streams answer
  `{"success": true, "ret_msg": "pong", "conn_id", "req_id", "op": "ping"}`; the private stream
  answers `{"req_id", "op": "pong", "args": ["<ms>"], "conn_id"}`. A connection silent for longer
  than the documented window is closed (here: no frame at all for 10 minutes of wall time).
- Private auth: `{"op": "auth", "args": [apiKey, expires, signature]}` where signature is
  hex HMAC-SHA256 of `GET/realtime{expires}` and `expires` must be later than now. The answer is
  `{"success", "ret_msg", "op": "auth", "conn_id"}`; topics before a successful auth are refused.
- Topics: `orderbook.{1|50|200}.{symbol}` (a snapshot on subscribe, then `delta` frames; `u` is the
  update id, `seq` the cross sequence), `publicTrade.{symbol}`, `tickers.{symbol}`,
  `kline.{interval}.{symbol}`; private `order`, `execution`, `wallet`, `position` (each also as
  `order.spot`, `order.linear`, ...). Private frames are `{"id", "topic", "creationTime", "data"}`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Hashable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..market import MINUTE_MS, PairMarket
from ..matching import Engine, EngineEvent, Instrument, Order, Side
from ..signing import verify_hmac_hex
from ..venue import fmt
from .base import StreamVenue
from .book import BookSequencer
from .conn import StreamConn
from .registry import stream
from .tape import new_trades

if TYPE_CHECKING:
    from ..keys import ApiKey, KeyStore
    from ..ledger import Wallets
    from ..market import MarketData
    from ..perps import PerpRisk
    from ..server import SimContext

STREAM_HOST = "stream.bybit.com"
ZERO = Decimal(0)
BOOK_DEPTHS = {"spot": (1, 50, 200), "linear": (1, 50, 200, 500)}
KLINE_MINUTES = {"1": 1, "3": 3, "5": 5, "15": 15, "30": 30, "60": 60, "120": 120, "240": 240, "D": 1440}
KLINE_PUSH_MS = 1000  # "Push frequency: 1-60s": every second of simulator time here
TICKER_PUSH_MS = 100  # linear tickers push every 100 ms; spot 50 ms (one tick here)
PRIVATE_TOPICS = ("order", "execution", "wallet", "position")
SILENT_S = 600.0  # a connection that sends nothing (not even ping) is closed after this long


class BybitStreams(StreamVenue):
    """Stream half of BybitVenue (mixed in before Venue)."""

    # provided by BybitVenue / Venue
    ctx: SimContext
    keys: KeyStore
    market: MarketData
    spot: Engine
    linear: Engine
    wallets: Wallets
    perps: Any  # BybitVenue's UnifiedPerps (a PerpSettlement holding spot wallets too)
    risk: PerpRisk
    _engine: Callable[[str], Engine]
    _pm: Callable[[Instrument], PairMarket]
    _px: Callable[[Instrument, Decimal], str]
    _qty: Callable[[Instrument, Decimal], str]
    _ticker: Callable[[str, Instrument, int], dict[str, Any]]
    _order_view: Callable[[str, Order, Instrument], dict[str, Any]]
    _position_view: Callable[[str, Instrument, int], dict[str, Any]]
    _expiry: Callable[[ApiKey], int | None]
    _usd: Callable[[str], Decimal]

    # ---- state ----------------------------------------------------------------------------------

    def stream_attach(self) -> None:
        """Book sequencers per (category, symbol, depth)."""
        self._by_seqs: dict[tuple[str, str, int], BookSequencer] = {}

    def _seq(self, cat: str, symbol: str, depth: int) -> BookSequencer:
        if "_by_seqs" not in self.__dict__:
            self.stream_attach()
        seq = self._by_seqs.get((cat, symbol, depth))
        if seq is None:
            seq = self._by_seqs[(cat, symbol, depth)] = BookSequencer(first_id=0)
        return seq

    def _now(self) -> int:
        return self.ctx.now_ms(str(getattr(self, "name", "bybit")))

    # ---- public ---------------------------------------------------------------------------------

    @stream(STREAM_HOST, "/v5/public/{category}")
    async def ws_public(self, conn: StreamConn) -> None:
        """Public spot / linear stream."""
        cat = conn.path_params["category"]
        if cat not in ("spot", "linear"):
            conn.close(1008, "unsupported category")
            return
        conn_id = str(uuid.uuid4())
        self._watchdog(conn)
        async for _text, msg in conn.json_messages():
            conn.state["last_in"] = time.monotonic()
            if not isinstance(msg, dict):
                conn.send({"success": False, "ret_msg": "error:invalid request", "conn_id": conn_id})
                continue
            op, req_id = msg.get("op"), msg.get("req_id")
            if op == "ping":
                conn.send(
                    {"success": True, "ret_msg": "pong", "conn_id": conn_id, "req_id": req_id, "op": "ping"}
                )
            elif op in ("subscribe", "unsubscribe"):
                raw = msg.get("args")
                args: list[Any] = raw if isinstance(raw, list) else []
                bad = [a for a in args if self._public_topic(cat, str(a)) is None]
                if bad or not args:
                    conn.send(
                        {
                            "success": False,
                            "ret_msg": f"error:handler not found,topic:{bad[0] if bad else ''}",
                            "conn_id": conn_id,
                            "req_id": req_id,
                            "op": op,
                        }
                    )
                    continue
                conn.send({"success": True, "ret_msg": "", "conn_id": conn_id, "req_id": req_id, "op": op})
                for a in args:
                    topic = self._public_topic(cat, str(a))
                    assert topic is not None
                    if op == "subscribe":
                        self._first_frame(conn, topic)
                    else:
                        conn.unsubscribe(topic)
            else:
                conn.send(
                    {
                        "success": False,
                        "ret_msg": f"error:unsupported op {op}",
                        "conn_id": conn_id,
                        "req_id": req_id,
                        "op": op,
                    }
                )

    def _watchdog(self, conn: StreamConn) -> None:
        conn.state["last_in"] = time.monotonic()

        async def loop() -> None:
            while not conn.closed:
                await asyncio.sleep(5.0)
                if time.monotonic() - conn.state["last_in"] > SILENT_S:
                    conn.drop()
                    return

        conn.spawn(loop())

    def _public_topic(self, cat: str, name: str) -> tuple[Any, ...] | None:
        parts = name.split(".")
        engine = self._engine(cat)
        if len(parts) == 3 and parts[0] == "orderbook":
            depth = int(parts[1]) if parts[1].isdigit() else -1
            if depth in BOOK_DEPTHS[cat] and parts[2] in engine.instruments:
                return ("orderbook", cat, parts[2], depth)
        elif len(parts) == 2 and parts[0] in ("publicTrade", "tickers") and parts[1] in engine.instruments:
            return (parts[0], cat, parts[1])
        elif (
            len(parts) == 3
            and parts[0] == "kline"
            and parts[1] in KLINE_MINUTES
            and parts[2] in engine.instruments
        ):
            return ("kline", cat, parts[2], parts[1])
        return None

    def _first_frame(self, conn: StreamConn, topic: tuple[Any, ...]) -> None:
        """Subscribe; order books start with a snapshot of the book the deltas continue from."""
        now = self._now()
        if topic[0] == "orderbook":
            _, cat, symbol, depth = topic
            self._book_step(cat, symbol, depth, now)  # others get the change up to now first
            conn.subscribe(topic)
            seq = self._seq(cat, symbol, depth)
            bids, asks = seq.top(depth)
            conn.send(self._book_frame(cat, symbol, depth, "snapshot", bids, asks, seq.last_id, now))
            return
        conn.subscribe(topic)
        if topic[0] == "tickers":
            conn.send(self._ticker_frame(topic[1], topic[2], now))
        elif topic[0] == "kline":
            conn.send(self._kline_frame(topic[1], topic[2], topic[3], now))

    def _inst(self, cat: str, symbol: str) -> Instrument:
        return self._engine(cat).instruments[symbol]

    def _book_step(self, cat: str, symbol: str, depth: int, now: int, t0: float | None = None) -> None:
        seq = self._seq(cat, symbol, depth)
        diff = seq.refresh(*self._engine(cat).depth(symbol, depth))
        if diff is not None:
            self.publish(
                ("orderbook", cat, symbol, depth),
                self._book_frame(cat, symbol, depth, "delta", diff.bids, diff.asks, diff.last_id, now),
                t0,
            )

    def _book_frame(
        self,
        cat: str,
        symbol: str,
        depth: int,
        kind: str,
        bids: list[tuple[Decimal, Decimal]],
        asks: list[tuple[Decimal, Decimal]],
        update_id: int,
        now: int,
    ) -> dict[str, Any]:
        inst = self._inst(cat, symbol)
        return {
            "topic": f"orderbook.{depth}.{symbol}",
            "type": kind,
            "ts": now,
            "data": {
                "s": symbol,
                "b": [[self._px(inst, p), self._qty(inst, q)] for p, q in bids],
                "a": [[self._px(inst, p), self._qty(inst, q)] for p, q in asks],
                "u": update_id,
                "seq": update_id,
            },
            "cts": now,
        }

    def _ticker_frame(self, cat: str, symbol: str, now: int) -> dict[str, Any]:
        inst = self._inst(cat, symbol)
        data = self._ticker(cat, inst, now)
        if cat == "spot":
            # the spot ticker topic carries usdIndexPrice (clients tell spot frames apart by it)
            data["usdIndexPrice"] = fmt(self._pm(inst).index_price(now))
        return {"topic": f"tickers.{symbol}", "ts": now, "type": "snapshot", "cs": now, "data": data}

    def _kline_frame(self, cat: str, symbol: str, interval: str, now: int) -> dict[str, Any]:
        inst = self._inst(cat, symbol)
        span = KLINE_MINUTES[interval] * MINUTE_MS
        start = now // span * span
        candles = self._pm(inst).klines(span, None, now, 1)
        c = candles[-1]
        row = {
            "start": c.open_ms,
            "end": c.open_ms + span - 1,
            "interval": interval,
            "open": self._px(inst, c.open),
            "close": self._px(inst, c.close),
            "high": self._px(inst, c.high),
            "low": self._px(inst, c.low),
            "volume": fmt(c.volume),
            "turnover": fmt(c.quote_volume),
            "confirm": c.open_ms < start,
            "timestamp": now,
        }
        return {"topic": f"kline.{interval}.{symbol}", "data": [row], "ts": now, "type": "snapshot"}

    def stream_tick(self, now_ms: int, prev_ms: int) -> None:
        """Books every tick, tickers every tick, klines each second, trades of the span."""
        for topic in self.stream_topics():
            if not isinstance(topic, tuple):
                continue
            kind = topic[0]
            if kind == "orderbook":
                self._book_step(topic[1], topic[2], topic[3], now_ms)
            elif kind == "tickers" and now_ms // TICKER_PUSH_MS != prev_ms // TICKER_PUSH_MS:
                self.publish(topic, self._ticker_frame(topic[1], topic[2], now_ms))
            elif kind == "kline" and now_ms // KLINE_PUSH_MS != prev_ms // KLINE_PUSH_MS:
                self.publish(topic, self._kline_frame(topic[1], topic[2], topic[3], now_ms))
            elif kind == "publicTrade":
                self._trades(topic, prev_ms, now_ms)

    def _trades(self, topic: tuple[Any, ...], prev_ms: int, now_ms: int) -> None:
        _, cat, symbol = topic
        inst = self._inst(cat, symbol)
        trades = new_trades(self._pm(inst), prev_ms, now_ms)
        if not trades:
            return
        rows = []
        for t in trades:
            row: dict[str, Any] = {
                "T": t.time_ms,
                "s": symbol,
                "S": "Sell" if t.buyer_maker else "Buy",  # taker side
                "v": self._qty(inst, t.qty),
                "p": self._px(inst, t.price),
                "i": str(t.trade_id),
                "BT": False,
            }
            if cat == "linear":
                row["L"] = "PlusTick"
            rows.append(row)
        self.publish(
            topic, {"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": now_ms, "data": rows}
        )

    # ---- private --------------------------------------------------------------------------------

    @stream(STREAM_HOST, "/v5/private")
    async def ws_private(self, conn: StreamConn) -> None:
        """Private stream: auth op, then order / execution / wallet / position topics."""
        conn_id = str(uuid.uuid4())
        self._watchdog(conn)
        async for _text, msg in conn.json_messages():
            conn.state["last_in"] = time.monotonic()
            if not isinstance(msg, dict):
                conn.send({"success": False, "ret_msg": "error:invalid request", "conn_id": conn_id})
                continue
            op, req_id = msg.get("op"), msg.get("req_id")
            if op == "ping":
                conn.send({"req_id": req_id, "op": "pong", "args": [str(self._now())], "conn_id": conn_id})
            elif op == "auth":
                error = self._ws_auth(conn, msg.get("args"))
                reply: dict[str, Any] = {"success": error is None, "ret_msg": error or "", "op": "auth"}
                if req_id is not None:
                    reply["req_id"] = req_id
                reply["conn_id"] = conn_id
                conn.send(reply)
            elif op in ("subscribe", "unsubscribe"):
                error = self._private_subscribe(conn, op, msg.get("args"))
                conn.send(
                    {
                        "success": error is None,
                        "ret_msg": error or "",
                        "conn_id": conn_id,
                        "req_id": req_id,
                        "op": op,
                    }
                )
            else:
                conn.send(
                    {"success": False, "ret_msg": f"error:unsupported op {op}", "conn_id": conn_id, "op": op}
                )

    def _ws_auth(self, conn: StreamConn, args: Any) -> str | None:
        """Check like REST: key, expires, signature, bound IP, key expiry; None when accepted."""
        if not isinstance(args, list) or len(args) != 3:
            return "error:params error"
        key_id, expires, sign = str(args[0]), args[1], str(args[2])
        key = self.keys.get(key_id)
        if key is None or key.venue != "bybit" or key.revoked:
            return "error:invalid apiKey"
        now = self._now()
        try:
            exp = int(expires)
        except (TypeError, ValueError):
            return "error:params error"
        if exp <= now:
            return "error:expires is smaller than current time"
        if (
            key.key_type != "hmac"
            or key.secret is None
            or not verify_hmac_hex(key.secret, f"GET/realtime{expires}", sign)
        ):
            return "error:signature verification failed"
        if not key.allows_ip(conn.remote):
            return "error:ip not allowed"
        expiry = self._expiry(key)
        if expiry is not None and now >= expiry:
            return "error:api key expired"
        if not key.has("read"):
            return "error:permission denied"
        conn.state["key"] = key
        return None

    def _private_subscribe(self, conn: StreamConn, op: str, args: Any) -> str | None:
        key: ApiKey | None = conn.state.get("key")
        if key is None:
            return "Request not authorized"
        if not isinstance(args, list) or not args:
            return "error:params error"
        topics: list[Hashable] = []
        for a in args:
            name = str(a)
            base, _, cat = name.partition(".")
            if base not in PRIVATE_TOPICS or cat not in ("", "spot", "linear"):
                return f"error:handler not found,topic:{name}"
            if base == "position" and not key.has("futures_trade"):
                return "error:permission denied for topic:position"
            topics.append(("priv", key.account, name))
        for t in topics:
            if op == "subscribe":
                conn.subscribe(t)
            else:
                conn.unsubscribe(t)
        return None

    def _priv(
        self, account: str, base: str, cat: str, data: list[dict[str, Any]], now: int, t0: float
    ) -> None:
        frame = {"id": str(uuid.uuid4()), "topic": base, "creationTime": now, "data": data}
        self.publish(("priv", account, base), frame, t0)
        if cat:
            frame = dict(frame, topic=f"{base}.{cat}")
            self.publish(("priv", account, f"{base}.{cat}"), frame, t0)

    def _any(self, account: str, base: str, cat: str) -> bool:
        return self.subscribed(("priv", account, base)) or self.subscribed(("priv", account, f"{base}.{cat}"))

    def stream_event(self, ev: EngineEvent) -> None:
        """order (every change), execution and wallet (fills), position (linear fills)."""
        cat = "spot" if ev.engine == "spot" else "linear"
        o = ev.order
        acct = o.account
        now = self._now()
        inst = self._inst(cat, o.symbol)
        if self._any(acct, "order", cat):
            row = dict(self._order_view(cat, o, inst), category=cat)
            self._priv(acct, "order", cat, [row], now, ev.t0)
        if ev.kind == "trade" and ev.fill is not None:
            if self._any(acct, "execution", cat):
                self._priv(acct, "execution", cat, [self._exec_row(cat, o, ev, inst)], now, ev.t0)
            if self.subscribed(("priv", acct, "wallet")):
                self._priv(acct, "wallet", "", [self._wallet_row(acct)], now, ev.t0)
            if cat == "linear" and self._any(acct, "position", cat):
                row = dict(self._position_view(acct, inst, now), category="linear")
                self._priv(acct, "position", cat, [row], now, ev.t0)

    def _exec_row(self, cat: str, o: Order, ev: EngineEvent, inst: Instrument) -> dict[str, Any]:
        f = ev.fill
        assert f is not None
        rate = inst.maker_fee if f.is_maker else inst.taker_fee
        return {
            "category": cat,
            "symbol": f.symbol,
            "isLeverage": "0" if cat == "spot" else "",
            "orderId": str(o.order_id),
            "orderLinkId": o.extra.get("linkId", ""),
            "side": "Buy" if f.side is Side.BUY else "Sell",
            "orderPrice": "0" if o.price is None else self._px(inst, o.price),
            "orderQty": fmt(o.qty if o.qty is not None else (o.quote_qty or ZERO)),
            "leavesQty": self._qty(inst, o.remaining if o.is_open else ZERO),
            "createType": "" if cat == "spot" else "CreateByUser",
            "orderType": "Limit" if o.price is not None else "Market",
            "stopOrderType": "",
            "execFee": fmt(f.fee, 8),
            "feeCurrency": f.fee_asset if cat == "spot" else "",
            "execId": f"{cat}-{f.trade_id}",
            "execPrice": self._px(inst, f.price),
            "execQty": self._qty(inst, f.qty),
            "execPnl": fmt(f.realized_pnl, 8),
            "execType": "Trade",
            "execValue": fmt(f.quote_qty, 8),
            "execTime": str(f.time_ms),
            "isMaker": f.is_maker,
            "feeRate": fmt(rate),
            "tradeIv": "",
            "markIv": "",
            "markPrice": self._px(inst, self._engine(cat).last_price(f.symbol)),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": self._qty(inst, f.qty) if f.realized_pnl else "0",
            "seq": f.trade_id,
        }

    def _wallet_row(self, account: str) -> dict[str, Any]:
        """The Unified account as the wallet topic shows it (the REST wallet-balance fields)."""
        acc = self.perps.accounts.get(account)
        upnl = self.perps.unrealized(acc) if acc else ZERO
        order_im = acc.order_margin if acc else ZERO
        pos_im = self.perps.position_margin(acc) if acc else ZERO
        with self.wallets.lock:
            balances = dict(self.wallets.ensure(account))
        coins = []
        equity_usd = wallet_usd = ZERO
        for coin in sorted(balances):
            bal = balances[coin]
            is_usdt = coin == "USDT"
            if bal.total == 0 and not is_usdt:
                continue
            upl = upnl if is_usdt else ZERO
            im_o = order_im if is_usdt else ZERO
            im_p = pos_im if is_usdt else ZERO
            equity = bal.total + upl
            usd = self._usd(coin)
            equity_usd += equity * usd
            wallet_usd += bal.total * usd
            coins.append(
                {
                    "coin": coin,
                    "equity": fmt(equity, 8),
                    "usdValue": fmt(equity * usd, 8),
                    "walletBalance": fmt(bal.total, 8),
                    "locked": fmt(bal.locked - (self.perps.held.get(account, ZERO) if is_usdt else ZERO), 8),
                    "totalOrderIM": fmt(im_o, 8),
                    "totalPositionIM": fmt(im_p, 8),
                    "unrealisedPnl": fmt(upl, 8),
                    "borrowAmount": "0",
                    "accruedInterest": "0",
                    "marginCollateral": True,
                    "collateralSwitch": True,
                }
            )
        return {
            "accountType": "UNIFIED",
            "totalEquity": fmt(equity_usd, 8),
            "totalWalletBalance": fmt(wallet_usd, 8),
            "totalPerpUPL": fmt(upnl, 8),
            "totalInitialMargin": fmt(order_im + pos_im, 8),
            "coin": coins,
        }
