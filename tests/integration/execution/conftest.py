"""Fixtures of the execution tests: one simulator per module, venue markets, paper and live executors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.simtools import SimAdmin
from tradewarden.adapters.exchanges.client import build_client
from tradewarden.adapters.execution.live import LiveConfig, LiveExecutor
from tradewarden.adapters.execution.paper import PaperExecutor
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.store.db import Store, migrate
from tradewarden.adapters.vault.secret import Secret
from tradewarden.sim import ThreadedSim

ALL_PERMS = ["read", "spot_trade", "futures_trade"]
PAPER_START = {"USDT": Decimal(10000), "BTC": Decimal(1), "ETH": Decimal(10)}  # the simulator's default


@dataclass(frozen=True)
class Row:
    """One venue market: ccxt class, simulator venue, the symbol traded, ccxt options."""

    name: str
    ccxt_id: str
    venue: str
    symbol: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def contract(self) -> bool:
        """True for perpetual rows."""
        return ":" in self.symbol


ROWS = (
    Row("binance", "binance", "binance", "BTC/USDT", (("fetchMarkets", {"types": ["spot"]}),)),
    Row("binanceusdm", "binanceusdm", "binance", "BTC/USDT:USDT"),
    Row("kucoin", "kucoin", "kucoin", "BTC/USDT"),
    Row("kucoinfutures", "kucoinfutures", "kucoin", "BTC/USDT:USDT"),
    Row("mexc-spot", "mexc", "mexc", "BTC/USDT", (("defaultType", "spot"),)),
    Row("mexc-swap", "mexc", "mexc", "BTC/USDT:USDT", (("defaultType", "swap"),)),
    Row("okx-spot", "okx", "okx", "BTC/USDT", (("defaultType", "spot"),)),
    Row("okx-swap", "okx", "okx", "BTC/USDT:USDT", (("defaultType", "swap"),)),
    Row("bybit-spot", "bybit", "bybit", "BTC/USDT", (("defaultType", "spot"),)),
    Row("bybit-linear", "bybit", "bybit", "BTC/USDT:USDT", (("defaultType", "swap"),)),
)
ROW_IDS = [r.name for r in ROWS]


@pytest.fixture(scope="module")
def exec_sim() -> Iterator[ThreadedSim]:
    """One simulator for the module, in its own thread."""
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=31).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim_admin13(exec_sim: ThreadedSim) -> Iterator[SimAdmin]:
    """Admin client; faults cleared and the clock back to real time after each test."""
    admin = SimAdmin(exec_sim.url)
    yield admin
    admin.clear_faults()
    admin.call("POST", "/_sim/clock", {"mode": "real"})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store in a fresh file."""
    made = Store(f"sqlite:///{tmp_path / 'orders.db'}")
    migrate(made.engine)
    try:
        yield made
    finally:
        made.dispose()


def live_client(sim_url: str, row: Row, key: dict[str, Any], timeout_ms: int = 10_000) -> Any:
    """A private async ccxt client for the row, through the product's client factory."""
    creds = {k: Secret(str(v)) for k, v in key.items() if k in ("apiKey", "secret", "password")}
    return build_client(row.ccxt_id, creds, sim_url, dict(row.options), timeout_ms)


def make_hub(sim_url: str, row: Row) -> MarketHub:
    """A market hub on the simulator whose books are never served from cache (prices move in tests)."""
    ttl = {"ticker": 0.0, "order_book": 0.0, "trades": 0.0, "markets": 3600.0}
    return MarketHub(HubConfig(ttl_s=ttl, default_endpoint=sim_url, options={row.ccxt_id: dict(row.options)}))


async def make_live(
    store: Store, sim_url: str, admin: SimAdmin, row: Row, config: LiveConfig | None = None
) -> tuple[LiveExecutor, Any, dict[str, Any]]:
    """A live executor on a new simulator key (its own account)."""
    key = admin.key(row.venue, ALL_PERMS)
    client = live_client(sim_url, row, key)
    await client.load_markets()
    executor = LiveExecutor(
        store, f"live-{row.name}", row.ccxt_id, client, config or LiveConfig(settle_s=0.05)
    )
    return executor, client, key


def make_paper(store: Store, hub: MarketHub, row: Row) -> PaperExecutor:
    """A paper executor on the hub's books, starting from the simulator's default balances."""
    leverage = Decimal(10) if row.contract else Decimal(1)  # the simulator's default leverage
    return PaperExecutor(
        store, hub, row.ccxt_id, f"paper-{row.name}", f"paper-{row.name}", PAPER_START, leverage=leverage
    )


def step_of(market: dict[str, Any], kind: str) -> Decimal:
    """A market's tick (price) or lot (amount) as a Decimal."""
    return Decimal(str(market["precision"][kind]))


def amount_for(market: dict[str, Any], price: Decimal, quote: Decimal) -> Decimal:
    """The amount (contracts on contract markets) worth about `quote`, on the lot, at least the minimum."""
    cs = Decimal(str(market.get("contractSize") or 1))
    lot = step_of(market, "amount")
    size = (quote / (price * cs) / lot).to_integral_value(rounding=ROUND_CEILING) * lot
    minimum = Decimal(str(market["limits"]["amount"]["min"] or 0))
    return max(size, minimum)


def on_tick(market: dict[str, Any], price: Decimal) -> Decimal:
    """`price` rounded down to the market's tick."""
    tick = step_of(market, "price")
    return (price / tick).to_integral_value(rounding="ROUND_FLOOR") * tick
