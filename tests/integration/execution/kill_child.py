"""The process the SIGKILL test kills: places orders through a LiveExecutor until it is killed.

Forked from the test (so it starts in milliseconds with everything imported); it makes its own event
loop, database engine and ccxt client, says `ready` on its pipe once the markets are loaded and
then places orders until it is killed (at most MAX_ORDERS).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

from tests.integration.execution.conftest import ROWS, live_client
from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.adapters.execution.live import LiveConfig, LiveExecutor
from tradewarden.adapters.store.db import Store

MAX_ORDERS = 200  # bound: the parent kills it long before


async def _place_until_killed(config: dict[str, Any], ready: Connection) -> None:
    row = next(r for r in ROWS if r.name == config["row"])
    store = Store(config["db"])
    client = live_client(config["sim_url"], row, config["key"], timeout_ms=5000)
    client.rateLimit = 5
    executor = LiveExecutor(store, config["connection"], row.ccxt_id, client, LiveConfig(settle_s=0.3))
    await client.load_markets()
    low = Decimal(str(config["low"]))
    ready.send("ready")
    for i in range(MAX_ORDERS):
        request = (
            OrderRequest(row.symbol, "buy", "limit", Decimal("0.0002"), low, bot=config["bot"])
            if i % 2
            else OrderRequest(row.symbol, "buy", "market", Decimal("0.0002"), bot=config["bot"])
        )
        await executor.create_order(request)
    await client.close()


def run_child(config: dict[str, Any], ready: Connection) -> None:
    """The child's entry point (a new event loop in the forked process)."""
    asyncio.run(_place_until_killed(config, ready))
