"""A live fill stored with an id below the bot's fill cursor (another runner process stored it, and on
PostgreSQL a smaller id can commit after a larger one) still reaches the strategy, exactly once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.conftest import PASSPHRASE
from tests.integration.bots.conftest import BotWorld
from tests.integration.bots.test_live_faults import LIVE
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.bots import service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.vault_session import VaultSession

BASE = Decimal(50000)


async def _run(world: BotWorld) -> tuple[Decimal, Decimal]:
    hub = world.hub()
    vault = VaultSession.open(world.app, Secret(PASSPHRASE))
    try:
        runner = BotRunner(world.app, hub, vault, RunnerConfig(live=LIVE))
        await runner.round()  # the base order fills
        [item] = runner.loaded.values()
        after_base = Decimal(service.get(world.app, "d").pair_states["BTC/USDT"]["position"])
        item.driver.fill_cursor += 5  # as if fills of other bots with higher ids had committed first
        world.price("mexc", BASE * Decimal("0.978"))
        for _ in range(3):
            await runner.round()
        position = Decimal(service.get(world.app, "d").pair_states["BTC/USDT"]["position"])
        return after_base, position
    finally:
        await hub.close()


def test_a_fill_below_the_cursor_is_applied_once(world: BotWorld) -> None:
    world.connect("live", "mexc")
    world.price("mexc", BASE)
    world.bot("d", "live", mode="live")
    after_base, position = asyncio.run(_run(world))
    orders = [o for o, _ in service.orders(world.app, "d") if o.status == "closed"]
    assert len(orders) == 2, orders  # base and the first add-on, no more
    assert position == sum((o.filled for o in orders), Decimal(0)), (position, orders)
    assert position > after_base > 0
