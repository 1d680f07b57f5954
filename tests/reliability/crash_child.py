"""The process the crash test kills: manual orders through services.trading, three at a time, until killed.

Forked from the test (everything imported, so it is ready in well under a second); it opens its own app
(database engine), vault session and trader, says `ready` on its pipe, then trades until SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tests.conftest import PASSPHRASE
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services import trading
from tradewarden.services.app import open_app
from tradewarden.services.vault_session import VaultSession

PAIR = "BTC/USDT"
PER_WORKER = 100  # bound: the parent kills it long before
WORKERS = 3


def ticket(i: int, price: Decimal) -> trading.OrderTicket:
    """Market orders filled at once, and limit orders resting under the market."""
    if i % 2:
        return trading.OrderTicket(PAIR, "buy", Decimal("0.001"), "limit", price * Decimal("0.8"))
    return trading.OrderTicket(PAIR, "buy" if i % 4 else "sell", Decimal("0.001"))


async def _trade(config: dict[str, Any], ready: Connection) -> None:
    settings = Settings(
        home=Path(config["home"]), database_url=config["db"], kdf_time_cost=2, kdf_memory_kib=19 * 1024
    )
    app = open_app(settings, actor="crash-child")
    vault = VaultSession.open(app, Secret(PASSPHRASE))
    price = Decimal(str(config["price"]))
    async with trading.trader(app, vault, config["name"]) as trader:
        await trader.ticket(PAIR)  # markets loaded
        ready.send("ready")

        async def worker(w: int) -> None:
            for i in range(PER_WORKER):
                with contextlib.suppress(Exception):  # a refusal or venue error: go on trading
                    await trader.place(ticket(w + i, price))

        await asyncio.gather(*(worker(w) for w in range(WORKERS)))


def run_child(config: dict[str, Any], ready: Connection) -> None:
    """Entry point of the forked child."""
    asyncio.run(_trade(config, ready))
