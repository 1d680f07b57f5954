"""One running bot: its strategy state per pair, stepped on each market update, its orders kept exactly once.

A step, per pair: bring the bot's orders up to date (paper: sweep its resting orders against the book;
live: refresh them from the exchange), hand every new fill to `on_fill` and every order that ended short
of its amount to `on_cancel`, then call `decide` when the price reached a trigger (base.py's engine
contract, with the polled price as the path point) and carry out its actions through the order guard.
The state is written after every step, with the bot's figures and history, in one transaction.

Restart without repeats: every order carries the strategy's tag, unique per bot in the store
(`orders.tag`). An order is stored (`pending`) before it is sent; a bot that crashed after sending and
before saving its state decides the same order again on restart, finds it by its tag and adopts it
instead of sending it twice. Fills are applied through a cursor (the store's fill ids), so none is
applied twice or lost.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tradewarden.adapters.execution.base import OrderRequest, OrderView
from tradewarden.adapters.execution.guard import OrderRefused
from tradewarden.adapters.execution.ledger import TagTaken, dec0
from tradewarden.adapters.execution.live import NEVER_PLACED, LiveExecutor
from tradewarden.adapters.execution.paper import MarketInfo, PaperExecutor
from tradewarden.adapters.store.models import BotEventRow, BotRow, FillRow, OrderRow, utcnow
from tradewarden.domain.fills import shown
from tradewarden.domain.strategies import STRATEGIES
from tradewarden.domain.strategies.base import (
    MAX_FOLLOW_UPS,
    CancelOrder,
    Fill,
    MarketView,
    PlaceOrder,
    StrategyEvent,
)
from tradewarden.services.app import App
from tradewarden.services.bots import codec, sizing
from tradewarden.services.bots.service import ACTIVE, publish
from tradewarden.services.orders import GuardedExecutor

log = logging.getLogger(__name__)

# Refusals the bot cannot cure by waiting: the connection must change first.
CONNECTION_REFUSALS = frozenset({"connection_not_online", "withdraw_enabled", "permissions_unverified"})
# Refusals of a passing market-data failure (the guard's book read came back empty): decided again on the
# next step, without the backoff, but counted, so a market that never has a price still pauses the bot.
TRANSIENT_REFUSALS = frozenset({"no_price"})
# Refusals by the market's rules (lot step, minimum amount, minimum notional) of an order a setting
# sizes: waiting does not cure them (the same settings size the same order), so the bot pauses at the
# first one with what to change (sizing.refusal_advice), rather than backing off and retrying.
SIZE_REFUSALS = sizing.SIZE_REFUSALS
BACKOFF_MS = 60_000  # after a refused order, a pair waits this long (doubling) before deciding again
BACKOFF_MAX_MS = 3_600_000
MAX_REFUSALS = 5  # refused orders in a row before the bot pauses and says why
LATE_FILL_WINDOW = 10_000  # fill ids a live bot looks behind its cursor (see BotDriver.recent_fills)
PERSIST_IDLE_S = 30.0  # a step that changed nothing but the price is saved at most this often
NOTIFY_KINDS = frozenset(
    {
        "take_profit",
        "stop_loss",
        "recovery_entered",
        "recovery_left",
        "group_opened",
        "addon",
        "position_closed",
    }
)
# The tag of control.close_position's market close ("PAIR|close-N"): its fills are no strategy order's,
# they are booked through the strategy's close_out (see BotDriver.absorb).
CLOSE_TAG = "close-"


@dataclass(frozen=True)
class Quote:
    """One market update of one pair: the price, the book's top and the market's own time."""

    price: Decimal
    bid: Decimal | None
    ask: Decimal | None
    ts_ms: int


@dataclass
class PairRun:
    """One pair of a bot: parsed settings, strategy state and the tags of its unfinished orders."""

    pair: str
    info: MarketInfo
    settings: Any
    state: Any
    open_tags: list[str] = field(default_factory=list)
    blocked_until_ms: int = 0
    refusals: int = 0
    addons_total: int = 0
    last_price: Decimal | None = None
    last_quote: Quote | None = None


class Paused(Exception):
    """The bot must pause: `reason` says why (its connection, or refusals it cannot cure)."""

    def __init__(self, reason: str, kind: str = "paused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class LeaseLost(Exception):
    """Another runner holds the bot now (or the user stopped it): this process must drop it."""


class BotDriver:
    """Drives one bot; `step` is called once per market update of its pairs."""

    def __init__(
        self,
        app: App,
        bot_id: str,
        name: str,
        key: str,
        mode: str,
        strategy: str,
        executor: GuardedExecutor,
        pairs: dict[str, PairRun],
        fill_cursor: int,
        owner: str | None,
    ) -> None:
        self.app = app
        self.bot_id = bot_id
        self.name = name
        self.key = key
        self.mode = mode
        self.strategy = STRATEGIES[strategy]
        self.executor = executor
        self.pairs = pairs
        self.fill_cursor = fill_cursor
        # Live fills may be stored by another runner process (a venue's trades are read per symbol), and
        # on PostgreSQL a smaller id can commit after a larger one: a live bot reads LATE_FILL_WINDOW ids
        # behind its cursor and skips the ones it applied (kept while inside the window).
        self.recent_fills: set[int] = set()
        self.fills_applied = 0
        self.owner = owner
        self.margin_used_max = Decimal(0)
        # A live order refused for no reason of its own (not filters, not balance): perhaps the key was
        # revoked or its IP list changed. The runner asks for the connection to be re-tested at once.
        self.key_suspect = False
        self._events: list[tuple[str, str, str, int | None]] = []  # kind, pair, reason, market ts
        self.latencies_ms: list[float] = []
        self._sending: set[str] = set()  # tags of the decision being carried out (saved, not all sent yet)
        self._saved_key = ""  # the state (figures aside) as last saved by a step, and when
        self._saved_at = 0.0

    # ---- state in the store -------------------------------------------------------------------------

    @staticmethod
    def load_state(raw: str) -> dict[str, Any]:
        """The bot's stored runner state (empty for a new bot)."""
        return dict(json.loads(raw or "{}"))

    def state_json(self) -> str:
        """What `persist` writes: each pair's strategy state and bookkeeping, and the figures."""
        return json.dumps(
            {
                "pairs": {
                    p: {
                        "state": codec.dump(run.state),
                        "open": run.open_tags,
                        "blocked_until_ms": run.blocked_until_ms,
                        "refusals": run.refusals,
                        "addons_total": run.addons_total,
                    }
                    for p, run in self.pairs.items()
                },
                "fill_cursor": self.fill_cursor,
                "recent_fills": sorted(self.recent_fills),
                "figures": self.figures(),
            },
            sort_keys=True,
        )

    def _state_key(self) -> str:
        """The state a step would save, figures aside: a step that leaves it unchanged need not write."""
        pairs = {
            p: (codec.dump(r.state), r.open_tags, r.blocked_until_ms, r.refusals)
            for p, r in self.pairs.items()
        }
        return json.dumps([pairs, self.fill_cursor, sorted(self.recent_fills)], sort_keys=True)

    def figures(self) -> dict[str, dict[str, Any]]:
        """Per pair: the strategy's snapshot at the last price, plus groups and add-ons over the run."""
        out: dict[str, dict[str, Any]] = {}
        for pair, run in self.pairs.items():
            snap = self.strategy.snapshot(run.settings, run.state, run.last_price)
            avg = None
            group = getattr(run.state, "group", None)
            if group is not None and group.qty:
                avg = str(group.avg)
            out[pair] = {
                "price": None if run.last_price is None else str(run.last_price),
                "margin_used": str(snap.margin_used),
                "addons_used": snap.addons_used,
                "addons_max": snap.addons_max,
                "addons_total": run.addons_total,
                "recovery": snap.recovery,
                "position": str(snap.position),
                "average_price": avg,
                "realized_pnl": str(snap.realized_pnl),
                "unrealized_pnl": str(snap.unrealized_pnl),
                "fees": str(snap.fees),
                "trades": snap.trades,
                "wins": snap.wins,
                "losses": snap.losses,
                "groups": int(getattr(run.state, "groups_opened", snap.trades)),
                "triggers": self._triggers_json(run),
                "open_orders": len(run.open_tags),
            }
        return out

    def _triggers_json(self, run: PairRun) -> dict[str, Any]:
        t = self.strategy.triggers(run.settings, run.state)
        return {
            "low": None if t.low is None else str(t.low),
            "high": None if t.high is None else str(t.high),
            "wake_ms": t.wake_ms,
        }

    def persist(self, count_step: bool = True) -> None:
        """Write state, figures and new history in one transaction (LeaseLost when the bot is not ours)."""
        self._save(count_step, stopped=False)

    def persist_stopped(self) -> None:
        """Write a stopped bot's state after a verb that traded it while stopped (close-position).

        The narrow path beside `persist`: this driver holds no lease, so it writes only while the bot
        is not running or paused (LeaseLost otherwise: a runner drives it again, and its own steps
        apply the same fills from the store, after its cursor).
        """
        self._save(False, stopped=True)

    def _save(self, count_step: bool, stopped: bool) -> None:
        figures = self.figures()
        # The store keeps 18 decimals; a strategy's figures (an average cost, a ratio of level prices) may
        # carry more, and writing them unrounded failed the whole step, again at every step.
        margin = dec0(sum((Decimal(f["margin_used"]) for f in figures.values()), Decimal(0)))
        with self.app.store.session() as session:
            query = select(BotRow).where(BotRow.id == self.bot_id)
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                query = query.with_for_update()
            row = session.scalar(query)
            if row is None:
                raise LeaseLost(f"bot {self.name} was removed")
            if stopped:
                if row.status in ACTIVE:
                    raise LeaseLost(f"bot {self.name} was started again; its runner applies the close")
            elif row.status not in ACTIVE:
                raise LeaseLost(f"bot {self.name} is no longer running here")
            elif self.owner is not None and row.lease_owner != self.owner:
                raise LeaseLost(f"bot {self.name} is held by another runner")
            # who drove this step, under the bot's row lock (the lease tests read it back from the log)
            log.debug("step bot=%s owner=%s t=%.6f", self.bot_id, self.owner, time.time())
            self.margin_used_max = max(self.margin_used_max, row.margin_used_max, margin)
            row.state_json = self.state_json()
            row.margin_used = margin
            row.margin_used_max = self.margin_used_max
            row.addons_used = sum(int(f["addons_used"]) for f in figures.values())
            row.realized_pnl = dec0(sum((Decimal(f["realized_pnl"]) for f in figures.values()), Decimal(0)))
            row.unrealized_pnl = dec0(
                sum((Decimal(f["unrealized_pnl"]) for f in figures.values()), Decimal(0))
            )
            row.fees = dec0(sum((Decimal(f["fees"]) for f in figures.values()), Decimal(0)))
            row.steps = (row.steps or 0) + (1 if count_step else 0)
            row.updated_at = utcnow()
            for kind, pair, reason, ts_ms in self._events:
                session.add(
                    BotEventRow(bot_id=self.bot_id, kind=kind, pair=pair, reason=reason, market_ts_ms=ts_ms)
                )
        for kind, pair, reason, _ts in self._events:
            if kind in NOTIFY_KINDS or kind == "refused":
                publish(
                    self.app,
                    self.name,
                    "event",
                    {"kind": kind, "pair": pair, "reason": reason, "mode": self.mode},
                )
        self._events.clear()

    # ---- orders and fills ---------------------------------------------------------------------------

    def _order_by_tag(self, tag: str) -> OrderView | None:
        return self.executor.ledger.find_tag(self.key, tag)

    def _orders_by_tag(self, tags: list[str]) -> dict[str, OrderView]:
        """The bot's stored orders under these tags, in one read (a grid watches a dozen every step)."""
        if not tags:
            return {}
        with self.app.store.session() as session:
            rows = session.scalars(
                select(OrderRow).where(
                    OrderRow.connection_id == self.executor.connection_id,
                    OrderRow.bot == self.key,
                    OrderRow.tag.in_(tags),
                )
            )
            return {str(r.tag): OrderView.of(r) for r in rows}

    def _fills_missing(self, view: OrderView) -> bool:
        """True when the order filled more than its stored fills say (a live venue's trades not read yet)."""
        if view.filled <= 0:
            return False
        with self.app.store.session() as session:
            stored = session.scalar(
                select(func.coalesce(func.sum(FillRow.amount), 0))
                .join(OrderRow, FillRow.order_id == OrderRow.id)
                .where(
                    OrderRow.connection_id == self.executor.connection_id,
                    OrderRow.client_order_id == view.client_order_id,
                )
            )
        return Decimal(str(stored or 0)) < view.filled

    async def _live(self) -> LiveExecutor | None:
        inner = self.executor.executor
        if isinstance(inner, LiveExecutor):
            return inner
        getter = getattr(inner, "_live", None)
        return await getter() if getter is not None else None

    async def _sync_fills(self, run: PairRun) -> None:
        """Live: read the venue's trades of the pair when one of our orders filled more than is stored.

        A live order's answer (create or fetch) says how much it filled, not which trades: those come from
        the venue's trade list. Until they are stored the order stays watched, so `on_fill` sees them.
        """
        if self.mode != "live":
            return
        views = [self._order_by_tag(t) for t in run.open_tags]
        if not any(v is not None and self._fills_missing(v) for v in views):
            return
        live = await self._live()
        if live is None:
            return
        try:
            await live.sync_fills([run.pair])
        except Exception as exc:  # an unreachable venue: tried again next step
            log.info("bot %s: reading fills of %s failed: %s", self.name, run.pair, type(exc).__name__)

    def _new_fills(self) -> list[tuple[int, FillRow, OrderRow]]:
        with self.app.store.session() as session:
            rows = session.execute(
                select(FillRow, OrderRow)
                .join(OrderRow, FillRow.order_id == OrderRow.id)
                .where(
                    OrderRow.connection_id == self.executor.connection_id,
                    OrderRow.bot == self.key,
                    FillRow.id > self.fill_cursor - (LATE_FILL_WINDOW if self.mode == "live" else 0),
                )
                .order_by(FillRow.id)
            ).all()
            return [(f.id, f, o) for f, o in rows if f.id not in self.recent_fills]

    def absorb(self) -> bool:
        """Apply new fills and ended orders to the strategy states; True when any fill was applied.

        A refusal that pauses the bot is raised once every ended order is off the watch list (raised
        half-way, the rejected order stayed watched and paused the bot again when it was resumed).
        """
        filled = False
        pause: Paused | None = None
        closes: dict[str, list[Fill]] = {}
        for fill_id, fill, order in self._new_fills():
            self.fill_cursor = max(self.fill_cursor, fill_id)
            if self.mode == "live":
                self.recent_fills.add(fill_id)
            self.fills_applied += 1
            pair, _, tag = (order.tag or "").partition("|")
            run = self.pairs.get(pair)
            if run is None or not tag:
                continue
            amount = fill.amount * run.info.contract_size
            fee = fill.fee
            if fill.fee_currency is not None and fill.fee_currency == run.info.base:
                fee = fill.fee * fill.price  # the strategy counts fees in the quote currency
            ts_ms = int(fill.ts.timestamp() * 1000)
            applied = Fill(tag, order.side, fill.price, amount, fee, ts_ms)  # type: ignore[arg-type]
            if tag.startswith(CLOSE_TAG):
                closes.setdefault(pair, []).append(applied)
            else:
                run.state = self.strategy.on_fill(run.settings, run.state, applied)
            filled = True
        for pair, fills in closes.items():
            self._close_out(self.pairs[pair], fills)
        floor = self.fill_cursor - LATE_FILL_WINDOW
        self.recent_fills = {i for i in self.recent_fills if i > floor}
        for run in self.pairs.values():
            still: list[str] = []
            watched = list(dict.fromkeys(run.open_tags))
            views = self._orders_by_tag(watched)
            for full_tag in watched:
                view = views.get(full_tag)
                if view is None and full_tag in self._sending:
                    still.append(full_tag)  # saved with its decision, not sent yet (see _write_ahead)
                    continue
                if view is not None and view.final and self._fills_missing(view):
                    still.append(full_tag)  # ended, its trades not read yet: wait for them (_sync_fills)
                    continue
                if view is None or view.final:
                    tag = full_tag.partition("|")[2]
                    if view is None or view.filled < view.amount:
                        run.state = self.strategy.on_cancel(run.settings, run.state, tag)
                    if view is not None and view.status == "rejected" and view.error != NEVER_PLACED:
                        if self.mode == "live" and view.outcome == "rejected":
                            self.key_suspect = True  # a refusal that is not about the order itself
                        # a paper order the fill model rejected names the market rule in its error
                        rule = sizing.paper_reason(view.error) if view.outcome == "filter_failure" else None
                        try:
                            self._refused(
                                run,
                                view.outcome or "rejected",
                                view.error or "the exchange refused it",
                                rule=rule,
                                tag=full_tag.partition("|")[2],
                            )
                        except Paused as why:
                            pause = pause or why
                    elif view is not None and view.filled > 0:
                        run.refusals = 0
                    continue
                still.append(full_tag)
            run.open_tags = still
        if pause is not None:
            raise pause
        return filled

    def _close_out(self, run: PairRun, fills: list[Fill]) -> None:
        """Book a market close's fills (close-position) through the strategy, and tell it in the history."""
        before = self.strategy.snapshot(run.settings, run.state, None)
        run.state = self.strategy.close_out(run.settings, run.state, fills)
        after = self.strategy.snapshot(run.settings, run.state, None)
        amount = sum((f.amount for f in fills), Decimal(0))
        vwap = sum((f.price * f.amount for f in fills), Decimal(0)) / amount
        if run.last_price is None:
            run.last_price = vwap  # a stopped bot's driver has no quote: the rest is valued at the close
        result = after.realized_pnl - before.realized_pnl
        rest = "flat" if after.position == 0 else f"{shown(abs(after.position))} {run.info.base} still held"
        reason = (
            f"closed {shown(amount)} {run.info.base} at market, average {shown(vwap)}: result "
            f"{shown(result)} {run.info.quote} after {shown(sum((f.fee for f in fills), Decimal(0)))} "
            f"fees; {rest}"
        )
        self._events.append(("position_closed", run.pair, reason, max(f.ts_ms for f in fills)))

    async def refresh(self, run: PairRun) -> None:
        """Bring the pair's unfinished orders up to date (paper sweep, or a fetch per live order)."""
        inner = self.executor.executor
        if isinstance(inner, PaperExecutor):
            if run.open_tags:
                await inner.sweep(run.pair)
            return
        for full_tag in run.open_tags:
            view = self._order_by_tag(full_tag)
            if view is not None and not view.final:
                try:
                    await self.executor.fetch_order(view.client_order_id)
                except Exception as exc:  # an unreachable venue: the order stays as stored, retried next step
                    log.info(
                        "bot %s: refreshing %s failed: %s",
                        self.name,
                        view.client_order_id,
                        type(exc).__name__,
                    )
        await self._sync_fills(run)

    def _size_advice(self, run: PairRun, tag: str) -> str | None:
        """What to change when an order a setting sizes was refused by the market's rules (None: the
        tag is not such an order, or it passes at the last price, which moved since)."""
        quote = run.last_quote
        if quote is None:
            return None
        point = sizing.PricePoint(quote.price, quote.bid, quote.ask)
        try:
            return sizing.refusal_advice(
                self.strategy.name, run.settings, run.pair, run.info, point, self.executor.exchange_id, tag
            )
        except Exception as exc:  # advice is a courtesy: without it the refusal backs off as before
            log.info("bot %s: no advice for %s: %s", self.name, tag, type(exc).__name__)
            return None

    def _refused(
        self,
        run: PairRun,
        reason: str,
        message: str,
        ts_ms: int | None = None,
        rule: str | None = None,
        tag: str | None = None,
    ) -> None:
        """Count a refused order: back off, or pause the bot (its connection, a size rule, too many)."""
        run.refusals += 1
        rule = rule or reason
        advice = self._size_advice(run, tag) if rule in SIZE_REFUSALS and tag else None
        if advice is not None:
            self._events.append(("refused", run.pair, f"{reason}: {message}", ts_ms))
            raise Paused(f"order refused on {run.pair} ({rule}): {advice}")
        if reason not in TRANSIENT_REFUSALS:
            wait = min(BACKOFF_MS * 2 ** (run.refusals - 1), BACKOFF_MAX_MS)
            base = ts_ms if ts_ms is not None else int(time.time() * 1000)
            run.blocked_until_ms = max(run.blocked_until_ms, base + wait)
        self._events.append(("refused", run.pair, f"{reason}: {message}", ts_ms))
        if reason in CONNECTION_REFUSALS:
            raise Paused(f"order refused on {run.pair}: {message}")
        if run.refusals >= MAX_REFUSALS:
            raise Paused(
                f"{run.refusals} orders in a row refused on {run.pair}, the last: {reason}: {message}"
            )

    async def _place(self, run: PairRun, action: PlaceOrder, quote: Quote) -> bool:
        """Place (or adopt, by its tag) the strategy's order; False when the guard refused it or it came
        back rejected with nothing filled (it never went out)."""
        full_tag = f"{run.pair}|{action.tag}"
        existing = self._order_by_tag(full_tag)
        went_out = True
        if existing is None:
            amount = action.amount / run.info.contract_size
            request = OrderRequest(
                run.pair,
                action.side,
                action.kind,
                amount,
                action.price,
                action.reduce_only,
                bot=self.key,
                tag=full_tag,
            )
            log.debug("order bot=%s owner=%s tag=%s t=%.6f", self.bot_id, self.owner, full_tag, time.time())
            try:
                placed = await self.executor.create_order(request)
                # Rejected with nothing filled (a paper order the fill model refused, a live one the
                # venue refused at once): it never went out, so the decision's events are not told.
                went_out = not (placed.status == "rejected" and placed.filled == 0)
            except OrderRefused as refusal:
                run.state = self.strategy.on_cancel(run.settings, run.state, action.tag)
                self._refused(run, refusal.reason, refusal.message, quote.ts_ms, tag=action.tag)
                return False
            except TagTaken:
                pass  # stored a moment ago by this bot (a retried step): adopted below
            except Exception as exc:
                # Failed before storing (the guard's book read, the client's markets): an order never
                # stored was never sent, so the strategy must not wait for it; the step fails and the next
                # one decides again. One stored before the failure is ours: watched below like any other.
                if self._order_by_tag(full_tag) is None:
                    run.state = self.strategy.on_cancel(run.settings, run.state, action.tag)
                    raise
                log.info(
                    "bot %s: placing %s failed after it was stored: %s",
                    self.name,
                    full_tag,
                    type(exc).__name__,
                )
        if full_tag not in run.open_tags:
            run.open_tags.append(full_tag)
        await self._sync_fills(run)
        self.absorb()
        return went_out

    async def _cancel(self, run: PairRun, action: CancelOrder) -> None:
        full_tag = f"{run.pair}|{action.tag}"
        view = self._order_by_tag(full_tag)
        if view is None:
            run.state = self.strategy.on_cancel(run.settings, run.state, action.tag)
            return
        if not view.final:
            await self.executor.cancel_order(view.client_order_id)
        self.absorb()

    def _write_ahead(self, run: PairRun, actions: Any) -> list[str]:
        """Save the decision, with the tags of the orders it is about to send, before sending any.

        A process killed half-way through a decision restarts from this state: its orders that reached
        the store are watched by their tags (their fills land on a state that asked for them), and the
        others are ended (`absorb`: no order under the tag, so `on_cancel`) and decided again. Without it
        the restarted bot decided from the state before, with a new price: a grid chose other levels and
        left the orders already sent orphaned, and a DCA fill was read before its order was known and
        lost (the group was never counted).
        """
        tags = [f"{run.pair}|{a.tag}" for a in actions if isinstance(a, PlaceOrder)]
        if tags:
            run.open_tags.extend(t for t in tags if t not in run.open_tags)
            self._sending.update(tags)
            self.persist(count_step=False)
        return tags

    def _sent(self, run: PairRun, tags: list[str]) -> None:
        """The decision is carried out: its tags that never reached the store are not waited for."""
        self._sending.difference_update(tags)
        stored = self._orders_by_tag(tags)
        for full_tag in tags:
            if full_tag in run.open_tags and full_tag not in stored:
                run.open_tags.remove(full_tag)
                run.state = self.strategy.on_cancel(run.settings, run.state, full_tag.partition("|")[2])

    async def _act(self, run: PairRun, quote: Quote, market: MarketView) -> bool:
        decision = self.strategy.decide(run.settings, run.state, market)
        run.state = decision.state
        before = self.fills_applied
        sending = self._write_ahead(run, decision.actions)
        events: list[StrategyEvent] = []
        orders = placed = False
        try:
            for action in decision.actions:
                if isinstance(action, StrategyEvent):
                    events.append(action)
                elif isinstance(action, PlaceOrder):
                    orders = True
                    placed = await self._place(run, action, quote) or placed
                elif isinstance(action, CancelOrder):
                    await self._cancel(run, action)
        finally:
            self._sent(run, sending)
            # A decision none of whose orders was placed (refused, or failed on the way) is made again
            # later: its events ("addon", "group_opened") are told then, not twice.
            if placed or not orders:
                for event in events:
                    self._events.append((event.kind, run.pair, event.reason, quote.ts_ms))
                    if event.kind == "addon":
                        run.addons_total += 1
        return self.fills_applied != before

    async def step(self, pair: str, quote: Quote) -> None:
        """One market update of `pair`: refresh orders, apply fills, decide and act, persist."""
        run = self.pairs[pair]
        started = time.perf_counter()
        run.last_price = quote.price
        run.last_quote = quote
        await self.refresh(run)
        self.absorb()
        if quote.ts_ms >= run.blocked_until_ms:
            market = MarketView(ts_ms=quote.ts_ms, price=quote.price, bid=quote.bid, ask=quote.ask)
            t = self.strategy.triggers(run.settings, run.state)
            due = (
                (t.low is not None and quote.price <= t.low)
                or (t.high is not None and quote.price >= t.high)
                or (t.wake_ms is not None and quote.ts_ms >= t.wake_ms)
            )
            rounds = 0
            while due and rounds <= MAX_FOLLOW_UPS:
                due = await self._act(run, quote, market)
                rounds += 1
        # Saved when the step changed the state or has history to tell, else at most every PERSIST_IDLE_S
        # (the figures' price and unrealized P&L): a thousand idle bots wrote a thousand rows a round.
        key = self._state_key()
        if self._events or key != self._saved_key or time.monotonic() - self._saved_at >= PERSIST_IDLE_S:
            self.persist()
            self._saved_key, self._saved_at = key, time.monotonic()
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        if len(self.latencies_ms) > 10_000:
            del self.latencies_ms[:5_000]
