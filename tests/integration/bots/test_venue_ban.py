"""One exchange banning us (429, then a ban of minutes) must not hold the bots on the other exchanges.

The hub pauses an exchange's budget for as long as its Retry-After says; a consumer meeting a pause longer
than `HubConfig.max_pause_wait_s` is refused at once (ccxt RateLimitExceeded) instead of being parked. The
runner loads and steps its bots one round at a time, so before this a Binance ban parked the whole round,
and the MEXC bot with it, for the ban's length.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from tests.integration.bots.conftest import BotWorld, runner_for
from tradewarden.adapters.store.models import BotRow
from tradewarden.services.bots.runner import BotRunner

ROUND_BOUND_S = 30.0  # far below the simulator's 60 s Retry-After: a round that waits it out fails


def test_a_venue_that_rate_limits_us_does_not_hold_the_other_venues_bots(world: BotWorld) -> None:
    world.connect("m", "mexc")
    world.connect("b", "binance")
    world.price("mexc", 50000)
    world.price("binance", 50000)
    world.bot("on-mexc", "m")
    world.bot("on-binance", "b")
    # Binance meters us at 1 weight a minute from now: its first answer is a 429 with the rest of the
    # minute as Retry-After, and a request after that is banned for five minutes.
    world.admin.call("POST", "/_sim/venue", {"venue": "binance", "weight_limit": 1, "ban_seconds": 300})

    async def one_round() -> tuple[float, BotRunner]:
        hub = world.hub()
        try:
            runner = runner_for(world, hub)
            started = time.monotonic()
            async with asyncio.timeout(ROUND_BOUND_S):
                await runner.round()
            return time.monotonic() - started, runner
        finally:
            await hub.close()

    try:
        elapsed, runner = asyncio.run(one_round())
    finally:  # the simulator is shared by the session: Binance unmetered again
        world.admin.call(
            "POST",
            "/_sim/venue",
            {"venue": "binance", "weight_limit": None, "ban_seconds": 0, "reset_weights": True},
        )
    with world.app.store.session() as session:
        steps = {r.name: r.steps for r in session.scalars(select(BotRow))}
        statuses = {r.name: r.status for r in session.scalars(select(BotRow))}
    assert steps["on-mexc"] >= 1, (steps, runner.config.errors)  # its base order was decided this round
    assert steps["on-binance"] == 0, steps  # its markets could not be read: it waits for a later round
    assert statuses == {"on-mexc": "running", "on-binance": "running"}, statuses
    assert any(key.endswith("RateLimitExceeded") for key in runner.config.errors), runner.config.errors
    assert elapsed < ROUND_BOUND_S
