"""LiveExecutor: orders through a connection's private ccxt client, never placed twice.

- Each order is stored (`pending`) under a deterministic client order id before it is sent.
- A failed send is classified by the venue's code (order_errors.py). A definite refusal is stored as
  `rejected`. Anything else (timeout, reset, 5xx, rate limit, duplicate id) may mean the order exists:
  after `settle_s` the order is looked up by its client id, and it is sent again (same id) only when the
  venue says it has no such order. When the lookup itself keeps failing, the order is left `unknown`:
  resending without knowing could double it.
- `settle_s` must outlast any request still in flight. By default it is the client's receive window
  plus a second (ccxt sends Binance recvWindow 10 s, MEXC and Bybit 5 s): after it the venue refuses
  the old request, so "not found" is final. OKX and KuCoin requests carry no receive window by default
  (OKX's optional expTime header is not sent yet), so there the default of 11 s is a bound on network
  delay, not a guarantee from the venue.
- `reconcile()` on start: every stored order not yet final is looked up by client id and updated from the
  venue (or marked never placed); open orders on the venue carrying our client-id prefix that the store
  lacks are added; recent fills are recorded. Everything it writes is marked `reconciled`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from tradewarden.adapters.exchanges.order_errors import OrderOutcome, classify_order_error
from tradewarden.adapters.execution import client_ids, venues
from tradewarden.adapters.execution.base import (
    Balance,
    FillView,
    OrderRequest,
    OrderView,
    Position,
)
from tradewarden.adapters.execution.ledger import OrderLedger, dec, dec0
from tradewarden.adapters.store.db import Store

NEVER_PLACED = "never reached the exchange: it has no order with this client id"
UNREADABLE = "the exchange's answer about the order could not be read"


def readable(answer: Any) -> dict[str, Any]:
    """A ccxt order answer that says something about the order, else ccxt.BadResponse (outcome unknown).

    ccxt turns a body it cannot parse (a truncated 200) into an "order" with no id and the raw text as
    `info`; applied, it would mark an order that never reached the venue open, or zero a real fill.
    """
    import ccxt

    if not isinstance(answer, Mapping) or not answer.get("id") or isinstance(answer.get("info"), str):
        raise ccxt.BadResponse(UNREADABLE)
    return dict(answer)


DEFAULT_SETTLE_S = 11.0


def settle_for(client: Any) -> float:
    """Seconds after which a request sent now can no longer be accepted: the receive window ccxt sends
    with it, plus a second; DEFAULT_SETTLE_S where the client sends none."""
    window = (getattr(client, "options", None) or {}).get("recvWindow")
    if isinstance(window, int | float) and window > 0:
        return float(window) / 1000.0 + 1.0
    return DEFAULT_SETTLE_S


@dataclass(frozen=True)
class LiveConfig:
    """Retry and settling behaviour of the live executor."""

    max_attempts: int = 6  # sends of one order (each after a lookup that found nothing)
    lookup_attempts: int = 8  # lookups after one failed send before giving up (order left unknown)
    settle_s: float | None = None  # wait after an uncertain send before the lookup; None: see settle_for
    backoff_s: float = 0.2  # base of the jittered backoff between lookups and after a rate limit
    backoff_cap_s: float = 5.0


class LiveExecutor:
    """The Executor of live trading on one connection (the client is the connection's private client)."""

    mode: Literal["paper", "live"] = "live"

    def __init__(
        self,
        store: Store,
        connection_id: str,
        exchange_id: str,
        client: Any,
        config: LiveConfig | None = None,
        on_change: Callable[[OrderView], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.connection_id = connection_id
        self.exchange_id = exchange_id
        self.client = client
        self.config = config or LiveConfig()
        self.settle_s = self.config.settle_s if self.config.settle_s is not None else settle_for(client)
        self.ledger = OrderLedger(store, connection_id, exchange_id, "live")
        self._on_change = on_change
        self._rng = rng or random.Random()
        self.outcomes: dict[str, int] = {}  # counts of classified send failures, for reports

    # ---- helpers --------------------------------------------------------------------------------

    def _changed(self, view: OrderView) -> OrderView:
        if self._on_change is not None:
            self._on_change(view)
        return view

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    async def _pause(self, attempt: int) -> None:
        base = self.config.backoff_s * float(2 ** min(attempt, 8))
        await asyncio.sleep(min(self.config.backoff_cap_s, base * (0.5 + self._rng.random())))

    async def _lookup(self, view: OrderView) -> tuple[bool, dict[str, Any] | None]:
        """(looked, order): looked is False when every lookup failed (the order's fate is unknown)."""
        for attempt in range(self.config.lookup_attempts):
            try:
                found = await venues.find_by_client_id(
                    self.client, self.exchange_id, view.symbol, view.client_order_id
                )
                return True, None if found is None else readable(found)
            except Exception as exc:
                self._count(f"lookup:{classify_order_error(self.exchange_id, exc).outcome}")
                await self._pause(attempt)
        return False, None

    def _float(self, value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    # ---- placing ------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> OrderView:
        """Store the order, then send it until the venue has it exactly once (or refuses it)."""
        view = self.ledger.new_pending(request)
        self._changed(view)
        return await self._drive(view)

    async def _send(self, view: OrderView) -> dict[str, Any]:
        amount = self.client.amount_to_precision(view.symbol, float(view.amount))
        price = None
        if view.type == "limit" and view.price is not None:
            price = self.client.price_to_precision(view.symbol, float(view.price))
        params = venues.create_params(self.exchange_id, view.client_order_id, view.reduce_only)
        order = await self.client.create_order(
            view.symbol, view.type, view.side, float(amount), None if price is None else float(price), params
        )
        return readable(order)

    async def _drive(self, view: OrderView) -> OrderView:
        cid = view.client_order_id
        for attempt in range(self.config.max_attempts):
            self.ledger.bump_attempts(cid)
            try:
                answer = await self._send(view)
            except Exception as exc:
                failure = classify_order_error(self.exchange_id, exc)
                self._count(failure.outcome)
                if failure.not_placed:
                    return self._changed(self._reject(cid, failure))
                await asyncio.sleep(self.settle_s)
                looked, found = await self._lookup(view)
                if not looked:
                    return self._changed(self._unknown(cid, failure))
                if found is not None:
                    self._count("found_by_lookup")  # the failed send had placed it: not sent again
                    return self._changed(await self._settle(cid, found, reconciled=False))
                if failure.outcome == "duplicate_id":
                    # The venue says the id is taken yet finds no order by it: never send a third time.
                    return self._changed(self._unknown(cid, failure))
                if failure.outcome == "rate_limited":
                    await self._pause(attempt)
                continue
            return self._changed(await self._settle(cid, answer, reconciled=False))
        return self._changed(
            self.ledger.update(
                cid, status="unknown", outcome="outcome_unknown", error="no answer after retries"
            )
        )

    def _reject(self, cid: str, failure: OrderOutcome) -> OrderView:
        return self.ledger.update(
            cid, status="rejected", outcome=failure.outcome, error=failure.detail, remaining=Decimal(0)
        )

    def _unknown(self, cid: str, failure: OrderOutcome) -> OrderView:
        return self.ledger.update(cid, status="unknown", outcome=failure.outcome, error=failure.detail)

    async def _settle(self, cid: str, answer: dict[str, Any], reconciled: bool) -> OrderView:
        """Apply a venue answer; a bare acknowledgement (id only) is completed with a fetch."""
        view = self.ledger.apply_exchange(cid, answer, reconciled)
        if answer.get("status") is None or answer.get("filled") is None:
            try:
                full = await self.client.fetch_order(
                    view.exchange_order_id, view.symbol, venues.fetch_params(self.exchange_id)
                )
                view = self.ledger.apply_exchange(cid, readable(full), reconciled)
            except Exception as exc:
                self._count(f"fetch:{classify_order_error(self.exchange_id, exc).outcome}")
        self._record_trades(cid, answer, reconciled)
        return view

    def _record_trades(self, cid: str, answer: dict[str, Any], reconciled: bool) -> None:
        for trade in answer.get("trades") or []:
            if trade.get("id") is not None:
                self._store_trade(cid, trade, reconciled)

    def _store_trade(self, cid: str, trade: dict[str, Any], reconciled: bool) -> bool:
        fee = trade.get("fee") if isinstance(trade.get("fee"), dict) else {}
        ts = trade.get("timestamp")
        return self.ledger.add_fill(
            cid,
            str(trade["id"]),
            dec0(trade.get("price")),
            dec0(trade.get("amount")),
            dec0((fee or {}).get("cost")),
            (fee or {}).get("currency"),
            trade.get("takerOrMaker"),
            reconciled,
            datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int | float) else None,
        )

    # ---- the rest of the protocol ------------------------------------------------------------------

    async def fetch_order(self, client_order_id: str) -> OrderView:
        """Refresh the order from the venue (by exchange id, else by client id)."""
        view = self.ledger.get(client_order_id)
        if view.exchange_order_id:
            answer = await self.client.fetch_order(
                view.exchange_order_id, view.symbol, venues.fetch_params(self.exchange_id)
            )
        else:
            answer = await venues.find_by_client_id(
                self.client, self.exchange_id, view.symbol, client_order_id
            )
            if answer is None:
                return view
        return self._changed(self.ledger.apply_exchange(client_order_id, readable(answer), False))

    async def cancel_order(self, client_order_id: str) -> OrderView:
        """Cancel on the venue; an order the venue no longer has open is refreshed instead."""
        view = self.ledger.get(client_order_id)
        if view.final:
            return view
        if not view.exchange_order_id:
            view = await self.fetch_order(client_order_id)
        if view.exchange_order_id:
            try:
                await self.client.cancel_order(view.exchange_order_id, view.symbol)
            except Exception as exc:
                if classify_order_error(self.exchange_id, exc).outcome != "unknown_order":
                    raise
        return await self.fetch_order(client_order_id)

    async def open_orders(self, symbol: str | None = None) -> list[OrderView]:
        """Our orders the venue reports open (the store is refreshed from the venue's list)."""
        symbols = [symbol] if symbol else sorted({o.symbol for o in self.ledger.unresolved()})
        out: list[OrderView] = []
        for sym in symbols:
            venue_open = {venues.client_id_of(o): o for o in await self.client.fetch_open_orders(sym)}
            for view in self.ledger.orders(sym):
                if view.client_order_id in venue_open:
                    out.append(
                        self.ledger.apply_exchange(
                            view.client_order_id, venue_open[view.client_order_id], False
                        )
                    )
                elif view.status == "open":
                    out_view = await self.fetch_order(view.client_order_id)
                    if out_view.status == "open":
                        out.append(out_view)
        return out

    async def sync_fills(self, symbols: list[str], reconciled: bool = False) -> int:
        """Record the venue's executions of our orders on `symbols`; returns how many were new."""
        added = 0
        for sym in symbols:
            ours = {
                o.exchange_order_id: o.client_order_id for o in self.ledger.orders(sym) if o.exchange_order_id
            }
            if not ours:
                continue
            for trade in await self.client.fetch_my_trades(sym):
                cid = ours.get(str(trade.get("order")))
                if cid is not None and trade.get("id") is not None:
                    added += self._store_trade(cid, dict(trade), reconciled)
        return added

    async def fills(self, symbol: str | None = None) -> list[FillView]:
        """Our executions (synced from the venue first)."""
        symbols = [symbol] if symbol else sorted({o.symbol for o in self.ledger.orders()})
        await self.sync_fills(symbols)
        return [FillView.of(f, o) for f, o in self.ledger.fills(symbol)]

    async def balances(self) -> dict[str, Balance]:
        """The venue's balances."""
        raw = await self.client.fetch_balance()
        out: dict[str, Balance] = {}
        for currency, row in raw.items():
            if isinstance(row, dict) and "total" in row and currency not in ("info", "free", "used", "total"):
                out[currency] = Balance(
                    currency, dec0(row.get("free")), dec0(row.get("used")), dec0(row.get("total"))
                )
        return out

    async def positions(self, symbol: str | None = None) -> list[Position]:
        """The venue's open positions (contracts signed by side)."""
        rows = await self.client.fetch_positions([symbol] if symbol else None)
        out: list[Position] = []
        for row in rows:
            contracts = dec0(row.get("contracts"))
            if not contracts or (symbol and row.get("symbol") != symbol):
                continue
            signed = -contracts if row.get("side") == "short" else contracts
            out.append(Position(str(row["symbol"]), signed, dec(row.get("entryPrice"))))
        return out

    async def close(self) -> None:
        """Nothing of its own to release: the private client belongs to the registry that made it."""

    # ---- reconciliation -----------------------------------------------------------------------------

    async def reconcile(
        self, symbols: list[str] | None = None, bot: str | None = None, only: Collection[str] | None = None
    ) -> dict[str, int]:
        """Make the store match the venue (see the module doc); returns counts of what changed.

        `only`: the client order ids to look up (default: every stored order not final). Manual
        reconciliation passes its own rows, so a bot's order in flight in another task is not judged.
        """
        counts = {"updated": 0, "never_placed": 0, "added": 0, "fills": 0, "unreachable": 0}
        unresolved = self.ledger.unresolved()
        if only is not None:
            unresolved = [view for view in unresolved if view.client_order_id in only]
        for view in unresolved:
            looked, found = await self._lookup(view)
            if not looked:
                counts["unreachable"] += 1
                continue
            if found is None:
                if view.status in ("pending", "unknown"):
                    self._changed(
                        self.ledger.update(
                            view.client_order_id,
                            status="rejected",
                            error=NEVER_PLACED,
                            remaining=Decimal(0),
                            reconciled=True,
                        )
                    )
                    counts["never_placed"] += 1
                continue
            self._changed(await self._settle(view.client_order_id, found, reconciled=True))
            counts["updated"] += 1
        known_symbols = {o.symbol for o in self.ledger.orders()}
        wanted = sorted(set(symbols or []) | known_symbols)
        prefix = client_ids.prefix_of(client_ids.bot_tag(bot, self.connection_id))
        for sym in wanted:
            for order in await self.client.fetch_open_orders(sym):
                cid = venues.client_id_of(order) or ""
                if not cid.startswith(prefix) or self.ledger.find(cid) is not None:
                    continue
                counts["added"] += self._adopt(cid, dict(order), bot)
        counts["fills"] = await self.sync_fills(wanted, reconciled=True)
        return counts

    def _adopt(self, cid: str, order: dict[str, Any], bot: str | None) -> int:
        """Store an order of ours that the venue has and the store lacks (reconciliation)."""
        parsed = client_ids.parse(cid)
        if parsed is None:
            return 0
        from sqlalchemy.exc import IntegrityError

        from tradewarden.adapters.store.models import OrderRow

        try:
            with self.store.session() as session:
                session.add(
                    OrderRow(
                        connection_id=self.connection_id,
                        bot=bot,
                        mode="live",
                        exchange=self.exchange_id,
                        seq=parsed[1],
                        client_order_id=cid,
                        symbol=str(order.get("symbol")),
                        side=str(order.get("side")),
                        type=str(order.get("type") or "limit"),
                        amount=dec0(order.get("amount")),
                        price=dec(order.get("price")),
                        reduce_only=bool(order.get("reduceOnly")),
                        status="pending",
                        filled=Decimal(0),
                        cost=Decimal(0),
                        fee=Decimal(0),
                        attempts=0,
                        reconciled=True,
                    )
                )
        except IntegrityError:
            return 0
        self._changed(self.ledger.apply_exchange(cid, order, reconciled=True))
        return 1
