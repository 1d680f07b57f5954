"""Bots as the user manages them: create, list, show, start, stop, remove, their orders and history.

The runner (runner.py) drives running bots; these verbs only change what the store says a bot should do
and read what it did. Settings are validated here against the strategy core, with the bot's risk
preset, margin limit and Recovery Mode choice, so a bot that was created will start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewarden.adapters import audit
from tradewarden.adapters.execution.base import OrderView
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.store.models import BotEventRow, BotRow, Connection, OrderRow, name_key, utcnow
from tradewarden.domain.strategies import STRATEGIES
from tradewarden.domain.strategies.base import Context, SettingsError
from tradewarden.services import events
from tradewarden.services.app import App
from tradewarden.services.bots import sizing
from tradewarden.services.bots.executors import venue_of
from tradewarden.services.connections.service import find as find_connection
from tradewarden.services.connections.validation import validate_name
from tradewarden.services.errors import ConflictError, InputError, NotFoundError

Mode = Literal["paper", "live"]
RISKS = ("conservative", "balanced", "aggressive")
MODES = ("paper", "live")
ACTIVE = frozenset({"running", "paused"})  # the runner holds these (paused ones wait for their connection)
MAX_PAIRS = 20


def bot_key(bot_id: str) -> str:
    """The `orders.bot` value of a bot's orders (its client order ids derive from it)."""
    return f"bot:{bot_id}"


@dataclass(frozen=True)
class BotSpec:
    """A bot as typed: `settings` are the `--set` values, strings as given."""

    name: str
    connection: str
    strategy: str
    pairs: tuple[str, ...]
    mode: Mode = "paper"
    risk: str | None = None
    margin_limit: Decimal | None = None
    recovery: bool | None = None
    settings: Mapping[str, str] | None = None


@dataclass(frozen=True)
class BotView:
    """A bot as `bots show` prints it."""

    id: str
    name: str
    connection: str
    connection_testnet: bool
    strategy: str
    pairs: tuple[str, ...]
    mode: str
    status: str
    status_reason: str | None
    risk: str | None
    settings: dict[str, str]
    margin_limit: Decimal | None
    max_commit: Decimal
    margin_used: Decimal
    margin_used_max: Decimal
    addons_used: int
    recovery: bool
    recovery_active: bool
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    groups: int
    pair_states: dict[str, dict[str, Any]]
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md bot object (Decimals as strings) and the extra figures `show` adds."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = str(value) if isinstance(value, Decimal) else value
        out["pairs"] = list(self.pairs)
        return out


def context_for(pair: str, risk: str | None, margin_limit: Decimal | None, recovery: bool | None) -> Context:
    """The strategy context of one pair before its market is known (spot, or futures for `A/B:C`)."""
    market: Literal["spot", "futures"] = "futures" if ":" in pair else "spot"
    return Context(market=market, risk=risk, margin_limit=margin_limit, recovery=recovery)


def parse_settings(
    strategy: str,
    values: Mapping[str, str],
    context: Context,
) -> Any:
    """The strategy's parsed settings, or InputError naming the key and the fix."""
    try:
        return STRATEGIES[strategy].parse(dict(values), context)
    except SettingsError as exc:
        raise InputError(
            str(exc), "fix the --set value (see `tradewarden bots create --help`)", "--set"
        ) from None


def max_commit(
    strategy: str,
    pairs: tuple[str, ...],
    settings: Mapping[str, str],
    risk: str | None,
    margin_limit: Decimal | None,
    recovery: bool | None,
) -> Decimal:
    """What the bot may commit at most, in quote: its margin limit, or its settings' worst case per pair."""
    worst = Decimal(0)
    for pair in pairs:
        parsed = parse_settings(strategy, settings, context_for(pair, risk, margin_limit, recovery))
        worst += Decimal(parsed.worst_case_margin)
    return worst if margin_limit is None else min(margin_limit, worst)


def _validate_pair(pair: str) -> str:
    text = pair.strip()
    if not text or len(text) > 48 or "/" not in text or any(not c.isprintable() or c.isspace() for c in text):
        raise InputError(
            f"pair {pair!r} is not a market symbol",
            "use the exchange's unified symbol, e.g. BTC/USDT (spot) or BTC/USDT:USDT (perpetual)",
            field="pair",
        )
    return text.upper()


def validate(spec: BotSpec) -> BotSpec:
    """The spec with its name and pairs checked and normalised (InputError otherwise)."""
    name = validate_name(spec.name)
    if spec.strategy not in STRATEGIES:
        raise InputError(
            f"unknown strategy {spec.strategy!r}", "use --strategy dca or --strategy grid", "strategy"
        )
    if spec.mode not in MODES:
        raise InputError(f"unknown mode {spec.mode!r}", "use --mode paper or --mode live", "mode")
    if spec.risk is not None and spec.risk not in RISKS:
        raise InputError(f"unknown risk {spec.risk!r}", "use conservative, balanced or aggressive", "risk")
    if not spec.pairs:
        raise InputError("a bot needs at least one pair", "add --pair BTC/USDT", "pair")
    pairs = tuple(dict.fromkeys(_validate_pair(p) for p in spec.pairs))
    if len(pairs) > MAX_PAIRS:
        raise InputError(
            f"{len(pairs)} pairs is more than {MAX_PAIRS}", "split them over several bots", "pair"
        )
    if spec.margin_limit is not None and (not spec.margin_limit.is_finite() or spec.margin_limit <= 0):
        raise InputError(
            f"margin limit {spec.margin_limit} must be a positive amount",
            "e.g. --margin-limit 500",
            "margin_limit",
        )
    settings = dict(spec.settings or {})
    if str(settings.get("entry", "")).strip().lower().startswith("rsi"):
        # The runner feeds no indicator values yet: such a bot would wait for an entry forever.
        raise InputError(
            "entry=rsi:... is for backtests only: running bots do not compute indicators yet",
            "use entry=now or entry=below:PRICE",
            "--set",
        )
    for pair in pairs:
        parse_settings(
            spec.strategy, settings, context_for(pair, spec.risk, spec.margin_limit, spec.recovery)
        )
    return BotSpec(
        name,
        spec.connection,
        spec.strategy,
        pairs,
        spec.mode,
        spec.risk,
        spec.margin_limit,
        spec.recovery,
        settings,
    )


def _find(session: Session, name: str) -> BotRow:
    row = session.scalar(select(BotRow).where(BotRow.name_key == name_key(name)))
    if row is None:
        raise NotFoundError(f"no bot named {name!r}", "see: tradewarden bots list", field="name")
    return row


def view_of(session: Session, row: BotRow) -> BotView:
    """The view of a stored bot."""
    connection = session.get(Connection, row.connection_id)
    pairs = tuple(json.loads(row.pairs_json))
    settings = json.loads(row.settings_json)
    state = json.loads(row.state_json or "{}")
    pair_states: dict[str, dict[str, Any]] = state.get("figures", {})
    groups = sum(int(f.get("groups", 0)) for f in pair_states.values())
    try:
        commit = max_commit(row.strategy, pairs, settings, row.risk, row.margin_limit, row.recovery)
    except InputError:
        commit = row.margin_limit or Decimal(0)
    return BotView(
        row.id,
        row.name,
        connection.name if connection is not None else "(removed)",
        bool(connection.testnet) if connection is not None else False,
        row.strategy,
        pairs,
        row.mode,
        row.status,
        row.status_reason,
        row.risk,
        settings,
        row.margin_limit,
        commit,
        row.margin_used,
        row.margin_used_max,
        row.addons_used,
        bool(row.recovery),
        any(bool(f.get("recovery")) for f in pair_states.values()),
        row.realized_pnl,
        row.unrealized_pnl,
        row.fees,
        groups,
        pair_states,
        row.updated_at.isoformat(),
    )


def _event(session: Session, row: BotRow, kind: str, reason: str, pair: str | None = None) -> None:
    session.add(BotEventRow(bot_id=row.id, kind=kind, pair=pair, reason=reason))


def publish(app: App, row_name: str, status: str, detail: dict[str, Any]) -> None:
    """Tell the live stream (and notifications) about a bot."""
    events.publish(app.store, events.BotEvent(bot=row_name, status=status, detail=detail))


def _creatable(session: Session, spec: BotSpec) -> Connection:
    """The spec's connection, when the bot may be created on it (NotFound, InputError, ConflictError)."""
    connection = find_connection(session, spec.connection)
    if spec.mode == "live" and connection.testnet:
        raise InputError(
            f"connection {connection.name} is a testnet connection: its orders are not real",
            "use --mode paper, or a live (non-testnet) connection for --mode live",
            "mode",
        )
    if session.scalar(select(BotRow.id).where(BotRow.name_key == name_key(spec.name))) is not None:
        raise ConflictError(f"a bot named {spec.name!r} exists", "choose another name", field="name")
    return connection


async def create_checked(
    app: App, spec: BotSpec, hub: MarketHub, vault: sizing.VaultGetter | None = None
) -> BotView:
    """`create`, once every order the settings will place passes the venue's rules at the current price
    (sizing.py; InputError naming the order, rule and smallest passing value, ExchangeUnavailableError
    when the market cannot be read): how the CLI and the API create bots."""
    spec = validate(spec)
    with app.store.session() as session:
        venue = venue_of(_creatable(session, spec))
    await sizing.check_spec(
        hub,
        venue,
        spec.strategy,
        spec.pairs,
        spec.settings or {},
        spec.risk,
        spec.margin_limit,
        spec.recovery,
        vault,
    )
    return create(app, spec)


def create(app: App, spec: BotSpec) -> BotView:
    """Store a new bot (status `created`); ConflictError when the name is taken. Unchecked against the
    market: people's requests go through `create_checked`."""
    spec = validate(spec)
    with app.store.session() as session:
        connection = _creatable(session, spec)
        row = BotRow(
            name=spec.name,
            connection_id=connection.id,
            strategy=spec.strategy,
            pairs_json=json.dumps(list(spec.pairs)),
            mode=spec.mode,
            status="created",
            risk=spec.risk,
            margin_limit=spec.margin_limit,
            recovery=bool(spec.recovery) if spec.recovery is not None else _wants_recovery(spec),
            settings_json=json.dumps(dict(spec.settings or {}), sort_keys=True),
            state_json="{}",
            margin_used=Decimal(0),
            margin_used_max=Decimal(0),
            addons_used=0,
            realized_pnl=Decimal(0),
            unrealized_pnl=Decimal(0),
            fees=Decimal(0),
            steps=0,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise ConflictError(
                f"a bot named {spec.name!r} exists", "choose another name", field="name"
            ) from None
        _event(session, row, "created", f"{spec.strategy} on {', '.join(spec.pairs)}, {spec.mode} mode")
        audit.record(
            session,
            "bot.created",
            app.actor,
            connection,
            bot=row.name,
            mode=spec.mode,
            strategy=spec.strategy,
            pairs=list(spec.pairs),
        )
        view = view_of(session, row)
    publish(app, view.name, "created", {"kind": "created", "mode": view.mode})
    return view


def _wants_recovery(spec: BotSpec) -> bool:
    parsed = parse_settings(
        spec.strategy,
        spec.settings or {},
        context_for(spec.pairs[0], spec.risk, spec.margin_limit, spec.recovery),
    )
    return bool(getattr(parsed, "recovery", False))


def list_bots(app: App) -> list[BotView]:
    """Every bot, by name."""
    with app.store.session() as session:
        rows = session.scalars(select(BotRow).order_by(BotRow.name_key)).all()
        return [view_of(session, r) for r in rows]


def get(app: App, name: str) -> BotView:
    """One bot (NotFoundError naming the fix)."""
    with app.store.session() as session:
        return view_of(session, _find(session, name))


def _startable(session: Session, row: BotRow) -> Connection:
    """The bot's connection, when the bot may start on it (InputError naming the fix otherwise)."""
    connection = session.get(Connection, row.connection_id)
    if connection is None:
        raise InputError(f"bot {row.name}'s connection was removed", "remove the bot, or create it again")
    if row.mode == "live" and connection.testnet:
        raise InputError(f"{connection.name} is a testnet connection", "live bots need a live connection")
    if connection.status != "online":
        raise InputError(
            f"connection {connection.name} is {connection.status}, not online",
            f"test it first: tradewarden connections test {connection.name}",
            "connection",
        )
    return connection


async def start_checked(
    app: App, name: str, hub: MarketHub, vault: sizing.VaultGetter | None = None
) -> BotView:
    """`start`, once every order the bot's settings will place passes the venue's rules at the current
    price (see `create_checked`): a paused bot whose order the market refused starts again only when
    the price has moved so that it passes."""
    with app.store.session() as session:
        row = _find(session, name)
        venue = venue_of(_startable(session, row))
        if row.status == "running":
            return view_of(session, row)
        checked = (
            row.strategy,
            tuple(json.loads(row.pairs_json)),
            dict(json.loads(row.settings_json)),
            row.risk,
            row.margin_limit,
            row.recovery,
        )
    await sizing.check_spec(hub, venue, *checked, vault=vault)
    return start(app, name)


def start(app: App, name: str) -> BotView:
    """Mark the bot running (the runner picks it up); refused when its connection may not trade.
    Unchecked against the market: people's requests go through `start_checked`."""
    with app.store.session() as session:
        row = _find(session, name)
        connection = _startable(session, row)
        if row.status == "running":
            return view_of(session, row)
        row.status = "running"
        row.status_reason = None
        row.updated_at = utcnow()
        _event(session, row, "started", f"started in {row.mode} mode")
        audit.record(session, "bot.started", app.actor, connection, bot=row.name, mode=row.mode)
        view = view_of(session, row)
    publish(app, view.name, "running", {"kind": "started", "mode": view.mode})
    return view


def set_status(app: App, bot_id: str, status: str, reason: str, kind: str, pair: str | None = None) -> None:
    """The runner's way to pause, resume, stop or fail a bot, with its reason in the history."""
    with app.store.session() as session:
        row = session.get(BotRow, bot_id)
        if row is None:
            return
        row.status = status
        row.status_reason = reason
        row.updated_at = utcnow()
        _event(session, row, kind, reason, pair)
        name, mode = row.name, row.mode
    publish(app, name, status, {"kind": kind, "reason": reason, "mode": mode, "pair": pair})


def stop(app: App, name: str, cancel_orders: bool = False) -> BotView:
    """Mark the bot stopped; the caller cancels its open orders when asked (see `open_orders`)."""
    with app.store.session() as session:
        row = _find(session, name)
        row.status = "stopped"
        row.status_reason = "stopped by the user" + (
            ", orders canceled" if cancel_orders else ", orders left"
        )
        row.lease_owner = None
        row.lease_until = None
        row.updated_at = utcnow()
        _event(session, row, "stopped", row.status_reason)
        connection = session.get(Connection, row.connection_id)
        audit.record(session, "bot.stopped", app.actor, connection, bot=row.name, cancel_orders=cancel_orders)
        view = view_of(session, row)
    publish(app, view.name, "stopped", {"kind": "stopped", "mode": view.mode, "reason": view.status_reason})
    return view


def remove(app: App, name: str) -> None:
    """Delete a bot that is not running (its orders stay, as history of the connection)."""
    with app.store.session() as session:
        row = _find(session, name)
        if row.status in ACTIVE:
            raise InputError(
                f"bot {row.name} is {row.status}", f"stop it first: tradewarden bots stop {row.name}"
            )
        for event_row in session.scalars(select(BotEventRow).where(BotEventRow.bot_id == row.id)):
            session.delete(event_row)
        connection = session.get(Connection, row.connection_id)
        audit.record(session, "bot.removed", app.actor, connection, bot=row.name)
        session.delete(row)


def orders(app: App, name: str, open_only: bool = False) -> list[tuple[OrderView, str]]:
    """The bot's orders, newest first, with their mode."""
    with app.store.session() as session:
        row = _find(session, name)
        query = select(OrderRow).where(
            OrderRow.connection_id == row.connection_id, OrderRow.bot == bot_key(row.id)
        )
        if open_only:
            query = query.where(OrderRow.status.in_(("open", "pending", "unknown")))
        found = session.scalars(query.order_by(OrderRow.created_at.desc(), OrderRow.seq.desc())).all()
        return [(OrderView.of(r), r.mode) for r in found]


def history(app: App, name: str, limit: int = 200) -> list[dict[str, Any]]:
    """The bot's history, newest first."""
    with app.store.session() as session:
        row = _find(session, name)
        found = session.scalars(
            select(BotEventRow)
            .where(BotEventRow.bot_id == row.id)
            .order_by(BotEventRow.id.desc())
            .limit(limit)
        ).all()
        return [
            {
                "ts": e.ts.isoformat(),
                "market_ts_ms": e.market_ts_ms,
                "kind": e.kind,
                "pair": e.pair,
                "reason": e.reason,
            }
            for e in found
        ]
