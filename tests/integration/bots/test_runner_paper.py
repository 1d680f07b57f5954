"""A paper DCA bot driven by the runner on the simulator: entry, add-on, take profit, restart."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.integration.bots.conftest import BotWorld, runner_for
from tradewarden.services.bots import service


async def _rounds(world: BotWorld, prices: list[float], venue: str = "mexc") -> dict[str, object]:
    hub = world.hub()
    try:
        runner = runner_for(world, hub)
        for price in prices:
            world.price(venue, price)
            await runner.round()
        return {"errors": dict(runner.config.errors)}
    finally:
        await hub.close()


def test_paper_dca_enters_adds_and_takes_profit(world: BotWorld) -> None:
    world.connect("m", "mexc")
    world.price("mexc", 50000)
    world.bot("d1", "m")
    got = asyncio.run(_rounds(world, [50000, 48900, 50000, 51000]))
    assert got["errors"] == {}
    orders = service.orders(world.app, "d1")
    kinds = [
        (o.side, o.type, o.status, o.tag.split("|")[1].split("-")[2] if o.tag else None) for o, _ in orders
    ]
    assert ("buy", "market", "closed", "base") in kinds, kinds
    assert any(k[0] == "buy" and k[3] and k[3].startswith("addon") and k[2] == "closed" for k in kinds), kinds
    view = service.get(world.app, "d1")
    assert view.status == "running"
    assert view.realized_pnl > 0, view
    assert view.margin_used_max > Decimal(200), view
    history = [e["kind"] for e in service.history(world.app, "d1")]
    assert "group_opened" in history and "addon" in history and "take_profit" in history, history
