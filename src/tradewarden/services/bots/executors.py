"""The guarded executor of one bot: paper (its own paper account) or live (its connection's client)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewarden.adapters.exchanges import registry
from tradewarden.adapters.execution.guard import GuardPolicy
from tradewarden.adapters.execution.ledger import OrderLedger
from tradewarden.adapters.execution.live import LiveConfig, LiveExecutor
from tradewarden.adapters.execution.paper import MarketSource, PaperExecutor
from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.store.models import Connection
from tradewarden.services.app import App
from tradewarden.services.orders import GuardedExecutor
from tradewarden.services.trading import ClientSource, DepthSource, LazyLive
from tradewarden.services.vault_session import VaultSession

UNLIMITED = Decimal("Infinity")


@dataclass(frozen=True)
class Venue:
    """Where a bot's connection trades: names, ccxt id, endpoint, testnet."""

    connection_id: str
    connection_name: str
    ccxt_id: str
    endpoint: str | None
    testnet: bool
    options: dict[str, Any]


def venue_of(connection: Connection) -> Venue:
    """The venue of a stored connection."""
    info = registry.get_exchange(connection.exchange)
    ccxt_id = registry.ccxt_id_for(info, connection.market) if info is not None else connection.exchange
    options = dict(registry.client_options(info, connection.market, bool(connection.testnet)))
    return Venue(
        connection.id, connection.name, ccxt_id, connection.endpoint, bool(connection.testnet), options
    )


class NeedsVault(Exception):
    """A live or testnet bot needs the connection's secrets and this process holds no unlocked vault."""


async def market_source(hub: MarketHub, venue: Venue, vault: VaultSession | None) -> MarketSource:
    """Where the bot reads markets and books: the shared hub, or a testnet connection's own client."""
    if venue.endpoint and hub.endpoint(venue.ccxt_id) != venue.endpoint:
        await hub.set_endpoint(venue.ccxt_id, venue.endpoint)
    if venue.testnet:
        if vault is None:
            raise NeedsVault("a testnet connection's markets are read with its own key")
        return DepthSource(ClientSource(await vault.private_client(hub, venue.connection_name)))
    return DepthSource(hub)


def guarded_executor(
    app: App,
    hub: MarketHub,
    vault: VaultSession | None,
    venue: Venue,
    source: MarketSource,
    mode: str,
    bot: str,
    policy: GuardPolicy,
    starting: dict[str, Decimal] | None = None,
    leverage: Decimal = Decimal(1),
    live_config: LiveConfig | None = None,
) -> GuardedExecutor:
    """The bot's executor behind the order guard (paper: its own account, seeded once with `starting`)."""
    executor: Any
    if mode == "paper":
        executor = PaperExecutor(
            app.store, source, venue.ccxt_id, venue.connection_id, bot, starting, leverage=leverage, bot=bot
        )
    else:
        if vault is None:
            raise NeedsVault("a live bot trades with the connection's key")
        session = vault

        async def make() -> LiveExecutor:
            client = await session.private_client(hub, venue.connection_name)
            markets = await client.load_markets()
            if not policy.pairs <= set(markets):
                # ccxt reads an unreadable markets answer as an empty list and keeps it on the client:
                # every later call then failed BadSymbol and the live bot never loaded. Read again once;
                # still missing, this load fails and the next round tries again.
                markets = await client.load_markets(True)
                missing = sorted(policy.pairs - set(markets))
                if missing:
                    import ccxt

                    raise ccxt.ExchangeNotAvailable(
                        f"{venue.ccxt_id} listed no market {missing[0]} this time"
                    )
            return LiveExecutor(app.store, venue.connection_id, venue.ccxt_id, client, live_config)

        executor = LazyLive(make)
    ledger = OrderLedger(app.store, venue.connection_id, venue.ccxt_id, mode)
    return GuardedExecutor(
        app.store, executor, ledger, source, venue.ccxt_id, venue.connection_id, policy, bot
    )
