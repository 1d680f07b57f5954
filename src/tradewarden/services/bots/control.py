"""Stopping a bot with its orders canceled, and closing its position at market: the verbs that trade.

Both build the bot's own guarded executor (paper: its paper account; live: the connection's client, so
the vault must be open) the way the runner does, and act only on the bot's own orders and holdings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from tradewarden.adapters.execution.base import OrderRequest, OrderView
from tradewarden.adapters.execution.guard import GuardPolicy, OrderRefused
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.store.models import Connection
from tradewarden.services.app import App
from tradewarden.services.bots import service
from tradewarden.services.bots.driver import CLOSE_TAG, BotDriver, LeaseLost, PairRun, Paused
from tradewarden.services.bots.executors import UNLIMITED, guarded_executor, market_source, venue_of
from tradewarden.services.bots.runner import BotRunner
from tradewarden.services.errors import InputError
from tradewarden.services.orders import GuardedExecutor
from tradewarden.services.vault_session import VaultSession

log = logging.getLogger(__name__)

CLOSE_SETTLE_S = 10.0  # how long close-position waits for a live close's fills before it answers
CLOSE_POLL_S = 0.25


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


async def close_position(
    app: App, name: str, hub: MarketHub, vault: VaultSession | None, settle_s: float = CLOSE_SETTLE_S
) -> list[OrderView]:
    """Sell (or buy back, for a short) what the bot holds on each pair at market; the bot must be stopped.

    The bot is loaded as a restart would load it (runner.load_stopped: its orders reconciled, every fill
    applied), so the amount closed is what its strategy holds. Its open orders on the pair are canceled
    first (a stopped grid's resting limits would otherwise fill later against a grid that is gone). The
    close's fills are booked through the strategy's close_out (BotDriver.absorb): position, group,
    realized P&L, margin and a `position_closed` event, saved with the fill cursor past them in one
    transaction. What has not filled when this returns stays shown as held; a runner that starts the bot
    books the rest of the close's fills when they come.
    """
    with app.store.session() as session:
        row = service._find(session, name)
        if row.status in service.ACTIVE:
            raise InputError(
                f"bot {row.name} is {row.status}", f"stop it first: tradewarden bots stop {row.name}"
            )
        if session.get(Connection, row.connection_id) is None:
            raise InputError(
                f"bot {row.name}'s connection was removed", "its holdings can no longer be reached"
            )
        bot_id, key = row.id, service.bot_key(row.id)
    try:
        driver = await BotRunner(app, hub, vault).load_stopped(bot_id)
    except Paused as why:  # its market is gone, or the like: what the runner would have said
        raise InputError(f"bot {name} cannot be loaded: {why.reason}", "nothing was sold") from why
    if driver is None:
        raise InputError(f"bot {name} is gone", "nothing to close")
    executor = driver.executor
    # the close is not bound by the bot's order cap or margin limit (the price moved since they were set)
    executor.policy = GuardPolicy(executor.policy.pairs, UNLIMITED, UNLIMITED)
    placed: list[str] = []
    try:
        try:
            for pair, run in driver.pairs.items():
                for order, _mode in service.orders(app, name, open_only=True):
                    if order.symbol == pair:
                        await executor.cancel_order(order.client_order_id)
                await _settle(driver, run)
                position = driver.strategy.snapshot(run.settings, run.state, None).position
                if position == 0:
                    continue
                tag = f"{pair}|{CLOSE_TAG}{len(service.orders(app, name))}"
                request = OrderRequest(
                    pair,
                    "sell" if position > 0 else "buy",
                    "market",
                    abs(position) / run.info.contract_size,
                    reduce_only=":" in pair,
                    bot=key,
                    tag=tag,
                )
                try:
                    await executor.create_order(request)
                except OrderRefused as refusal:  # nothing was sent: the figures still show it held
                    raise InputError(
                        f"closing {name}'s position on {pair} was refused: {refusal.message}",
                        "nothing was sold on it; try again when the market can be read",
                    ) from refusal
                placed.append(tag)
                run.open_tags.append(tag)  # watched until its fills are stored (a live venue's trades)
                deadline = time.monotonic() + settle_s
                while True:
                    await _settle(driver, run)
                    if tag not in run.open_tags or time.monotonic() >= deadline:
                        break
                    await asyncio.sleep(CLOSE_POLL_S)
        finally:
            try:
                driver.persist_stopped()
            except LeaseLost as lost:  # started meanwhile: its runner books the close from the store
                log.info("bot %s: close not saved here: %s", name, lost)
        return [view for tag in placed if (view := driver._order_by_tag(tag)) is not None]
    finally:
        await executor.executor.close()


async def _settle(driver: BotDriver, run: PairRun) -> None:
    """Bring the pair's orders up to date and apply what they did (a refusal pauses nothing here)."""
    await driver.refresh(run)
    with contextlib.suppress(Paused):
        driver.absorb()
