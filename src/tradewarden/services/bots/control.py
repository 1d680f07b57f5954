"""Stopping a bot with its orders canceled, and closing its position at market: the verbs that trade.

Both build the bot's own guarded executor (paper: its paper account; live: the connection's client, so
the vault must be open) the way the runner does, and act only on the bot's own orders and holdings.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tradewarden.adapters.execution.base import OrderRequest, OrderView
from tradewarden.adapters.execution.guard import GuardPolicy
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.store.models import Connection
from tradewarden.services.app import App
from tradewarden.services.bots import service
from tradewarden.services.bots.executors import UNLIMITED, guarded_executor, market_source, venue_of
from tradewarden.services.errors import InputError
from tradewarden.services.orders import GuardedExecutor
from tradewarden.services.vault_session import VaultSession


async def _executor(
    app: App, hub: MarketHub, vault: VaultSession | None, name: str
) -> tuple[GuardedExecutor, list[str], str]:
    with app.store.session() as session:
        row = service._find(session, name)
        connection = session.get(Connection, row.connection_id)
        if connection is None:
            raise InputError(
                f"bot {row.name}'s connection was removed", "its orders can no longer be reached"
            )
        venue = venue_of(connection)
        pairs = list(json.loads(row.pairs_json))
        mode, key = row.mode, service.bot_key(row.id)
    source = await market_source(hub, venue, vault)
    policy = GuardPolicy(frozenset(pairs), UNLIMITED, UNLIMITED)
    return guarded_executor(app, hub, vault, venue, source, mode, key, policy), pairs, key


async def stop(
    app: App, name: str, cancel_orders: bool, hub: MarketHub, vault: VaultSession | None
) -> tuple[service.BotView, list[OrderView]]:
    """Stop the bot; with `cancel_orders`, cancel each of its open orders (those that fail stay listed)."""
    view = service.stop(app, name, cancel_orders)
    canceled: list[OrderView] = []
    if cancel_orders:
        executor, _pairs, _key = await _executor(app, hub, vault, name)
        try:
            for order, _mode in service.orders(app, name, open_only=True):
                canceled.append(await executor.cancel_order(order.client_order_id))
        finally:
            await executor.executor.close()
    return view, canceled


async def close_position(app: App, name: str, hub: MarketHub, vault: VaultSession | None) -> list[OrderView]:
    """Sell (or buy back, for a short) what the bot holds on each pair at market; the bot must be stopped."""
    with app.store.session() as session:
        row = service._find(session, name)
        if row.status in service.ACTIVE:
            raise InputError(
                f"bot {row.name} is {row.status}", f"stop it first: tradewarden bots stop {row.name}"
            )
        figures: dict[str, Any] = json.loads(row.state_json or "{}").get("figures", {})
    executor, pairs, key = await _executor(app, hub, vault, name)
    placed: list[OrderView] = []
    try:
        for pair in pairs:
            position = Decimal(str(figures.get(pair, {}).get("position", "0")))
            if position == 0:
                continue
            request = OrderRequest(
                pair,
                "sell" if position > 0 else "buy",
                "market",
                abs(position),
                reduce_only=":" in pair,
                bot=key,
                tag=f"{pair}|close-{len(service.orders(app, name))}",
            )
            placed.append(await executor.create_order(request))
    finally:
        await executor.executor.close()
    return placed
