"""Fixtures of the bot tests: an initialised home with simulator connections, the app and a market hub."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import add_connection, init_home, pin_price
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.market.budget import BudgetLimits
from tradewarden.config import Settings
from tradewarden.services.app import App, open_app
from tradewarden.services.bots import service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.sim import ThreadedSim

CCXT_IDS = ("mexc", "kucoin", "kucoinfutures", "binance", "binanceusdm", "okx", "bybit")
NO_CACHE = {"ticker": 0.0, "order_book": 0.0, "trades": 0.0, "markets": 3600.0}
DCA_SETTINGS = {
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "3",
    "addon_deviation_pct": "2",
    "addon_step_scale": "1",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "1",
    "stop_loss_pct": "8",
    "stop_loss_from": "first",
}


@dataclass
class BotWorld:
    """A home with connections on the simulator, the app over its store, and helpers to run bots."""

    cli: Cli
    sim: ThreadedSim
    admin: SimAdmin
    app: App
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)

    def connect(self, name: str, venue: str, permissions: list[str] | None = None) -> dict[str, Any]:
        """Add (and test) a connection on `venue`."""
        key = add_connection(self.cli, self.sim, self.admin, name, venue, permissions)
        self.keys[name] = key
        return key

    def price(self, venue: str, price: Decimal | float, symbol: str = "BTC/USDT") -> None:
        """Pin the venue's price of `symbol`."""
        pin_price(self.admin, venue, symbol, Decimal(str(price)))

    def hub(self, virtual_clock: bool = False) -> MarketHub:
        """A hub on the simulator that caches nothing but markets (every round reads fresh prices).

        `virtual_clock`: the test moves the simulator's clock faster than the wall clock, so the
        exchanges' limits (per simulated second) allow far more calls per wall second than the hub's
        wall-clock budget would: the budget is lifted.
        """
        limits = {v: BudgetLimits(1e9, 1.0) for v in CCXT_IDS} if virtual_clock else {}
        return MarketHub(HubConfig(default_endpoint=self.sim.url, ttl_s=NO_CACHE, limits=limits))

    def bot(self, name: str, connection: str, **extra: Any) -> service.BotView:
        """Create a paper DCA bot on BTC/USDT (override anything with keyword arguments) and start it."""
        spec = service.BotSpec(
            name=name,
            connection=connection,
            strategy=extra.pop("strategy", "dca"),
            pairs=tuple(extra.pop("pairs", ("BTC/USDT",))),
            mode=extra.pop("mode", "paper"),
            risk=extra.pop("risk", None),
            margin_limit=extra.pop("margin_limit", None),
            recovery=extra.pop("recovery", None),
            settings=extra.pop("settings", DCA_SETTINGS),
        )
        assert not extra, f"unknown options {extra}"
        service.create(self.app, spec)
        return service.start(self.app, name)

    def rounds(self, runner: BotRunner, count: int) -> None:
        """Run `count` runner rounds."""
        for _ in range(count):
            asyncio.run(runner.round())


@pytest.fixture
def world(cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin, home: Path) -> Iterator[BotWorld]:
    """An initialised home and the app over it (closed after the test)."""
    init_home(cli)
    app = open_app(Settings(home=home))
    try:
        yield BotWorld(cli, threaded_sim, sim_admin, app)
    finally:
        app.close()


def runner_for(world: BotWorld, hub: MarketHub, **config: Any) -> BotRunner:
    """A runner over the world's store (no vault: paper bots on live connections need none)."""
    return BotRunner(world.app, hub, None, RunnerConfig(**config))
