"""Reads for the dashboard's bot page: a bot's fills as chart markers, its price candles, a market hub.

Read-only additions next to service.py: nothing here changes a bot. A fill's kind (entry, add-on, exit)
comes from the strategy tag its order carries (`PAIR|dca-g1-base-1`, `PAIR|grid-b3-7`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from sqlalchemy import select

from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.store.models import BotRow, Connection, FillRow, OrderRow
from tradewarden.services.app import App
from tradewarden.services.bots import service
from tradewarden.services.bots.executors import venue_of
from tradewarden.services.errors import InputError

Kind = Literal["entry", "addon", "exit"]
TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")
MAX_CANDLES = 1000
# A per-request hub reads fresh prices and keeps the markets it loaded.
PER_REQUEST_TTL = {"ticker": 0.0, "order_book": 0.0, "trades": 0.0, "markets": 3600.0}


def kind_of(tag: str | None, side: str) -> Kind:
    """What an order did for its bot, from its strategy tag: opened, added to, or closed a position."""
    strategy_tag = (tag or "").partition("|")[2]
    if strategy_tag.startswith("dca-"):
        role = strategy_tag.split("-")[2] if strategy_tag.count("-") >= 3 else ""
        if role.startswith("addon"):
            return "addon"
        return "exit" if role == "close" else "entry"
    if strategy_tag.startswith("grid-"):
        return "exit" if side == "sell" else "entry"
    if "close-" in strategy_tag:  # control.close_position's market close
        return "exit"
    return "entry" if side == "buy" else "exit"


def fills(app: App, name: str, limit: int = 500) -> list[dict[str, Any]]:
    """The bot's fills, oldest first (the newest `limit`), each with its kind for the chart's markers."""
    with app.store.session() as session:
        row = service._find(session, name)
        found = session.execute(
            select(FillRow, OrderRow)
            .join(OrderRow, FillRow.order_id == OrderRow.id)
            .where(OrderRow.connection_id == row.connection_id, OrderRow.bot == service.bot_key(row.id))
            .order_by(FillRow.id.desc())
            .limit(limit)
        ).all()
        out = [
            {
                "ts": fill.ts.isoformat(),
                "ts_ms": int(fill.ts.timestamp() * 1000),
                "symbol": order.symbol,
                "side": order.side,
                "kind": kind_of(order.tag, order.side),
                "price": str(fill.price),
                "amount": str(fill.amount),
                "fee": str(fill.fee),
                "fee_currency": fill.fee_currency,
                "client_order_id": order.client_order_id,
                "mode": order.mode,
            }
            for fill, order in found
        ]
    out.reverse()
    return out


def _venue_and_pairs(app: App, name: str) -> tuple[Any, list[str]]:
    with app.store.session() as session:
        row: BotRow = service._find(session, name)
        connection = session.get(Connection, row.connection_id)
        if connection is None:
            raise InputError(f"bot {row.name}'s connection was removed", "its market can no longer be read")
        return venue_of(connection), list(json.loads(row.pairs_json))


@contextlib.asynccontextmanager
async def market(hub: MarketHub | None) -> AsyncIterator[MarketHub]:
    """The server's hub, or (with none running) a hub for the block, closed after it."""
    if hub is not None:
        yield hub
        return
    own = MarketHub(HubConfig(ttl_s=PER_REQUEST_TTL))
    try:
        yield own
    finally:
        await own.close()


async def candles(
    app: App,
    name: str,
    hub: MarketHub | None,
    pair: str | None = None,
    timeframe: str = "1m",
    limit: int = 300,
) -> dict[str, Any]:
    """OHLCV of one of the bot's pairs (its first by default) through the market hub, for its chart."""
    venue, pairs = _venue_and_pairs(app, name)
    chosen = pair.strip().upper() if pair else pairs[0]
    if chosen not in pairs:
        raise InputError(
            f"the bot does not trade {chosen!r}", f"use one of its pairs: {', '.join(pairs)}", "pair"
        )
    if timeframe not in TIMEFRAMES:
        raise InputError(
            f"unknown timeframe {timeframe!r}", f"use one of {', '.join(TIMEFRAMES)}", "timeframe"
        )
    if not 1 <= limit <= MAX_CANDLES:
        raise InputError(f"limit {limit} is out of range", f"use 1 to {MAX_CANDLES}", "limit")
    async with market(hub) as source:
        if venue.endpoint and source.endpoint(venue.ccxt_id) != venue.endpoint:
            await source.set_endpoint(venue.ccxt_id, venue.endpoint)
        rows = await source.ohlcv(venue.ccxt_id, chosen, timeframe, None, limit)
    return {
        "pair": chosen,
        "timeframe": timeframe,
        "candles": [[int(r[0]), *(None if v is None else str(v) for v in r[1:6])] for r in rows],
    }
