"""Order sizes against the venue's rules (services/bots/sizing.py) on the simulator's Binance USD-M.

BTC/USDT:USDT steps 0.001 BTC with a 100 USDT minimum notional: a 100 USDT base order at 50,001 buys
0.00199.. BTC, floored to 0.001 (about 50 USDT). `bots create`/`start` refuse it naming the order, the
market, the rule and the smallest base order that passes, and store nothing; 150.01 passes (the API:
tests/integration/api/test_bot_order_sizes_api.py). A bot whose order the market refuses at run time
(the price moved) pauses at once saying what to change, and its history tells no `group_opened` for a
group whose base order never went out.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.conftest import PASSPHRASE, CliResult
from tests.integration.bots.conftest import BotWorld
from tests.integration.bots.test_live_faults import LIVE
from tests.integration.trading.conftest import add_connection
from tradewarden.adapters.store.models import BotRow, PaperBalance
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.bots import leases, service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.vault_session import VaultSession

PERP = "BTC/USDT:USDT"
FUTURES_PERMS = ["read", "spot_trade", "futures_trade"]
DCA = [
    "--set", "addon_order=150", "--set", "addon_count=3", "--set", "addon_deviation_pct=2",
    "--set", "addon_volume_scale=1.5", "--set", "take_profit_pct=1", "--set", "stop_loss_pct=8",
]  # fmt: skip
SMALLEST = re.compile(r"set base_order to at least ([0-9.,]+) USDT")


@pytest.fixture
def usdm(world: BotWorld) -> Iterator[BotWorld]:
    """A Binance USD-M connection `u` with BTC at 50,001 (the simulator's perpetual follows the asset,
    wandering a little; the venue is up again after)."""
    add_connection(world.cli, world.sim, world.admin, "u", "binance", FUTURES_PERMS, ("--market", "futures"))
    world.price("binance", Decimal("50001"))
    try:
        yield world
    finally:
        world.admin.call("POST", "/_sim/venue", {"venue": "binance", "down": False})


def _create(world: BotWorld, name: str, base: str, *extra: str) -> CliResult:
    return world.cli(
        "bots", "create", name, "-c", "u", "--strategy", "dca", "--pair", PERP,
        "--set", f"base_order={base}", *DCA, *extra,
    )  # fmt: skip


def _stored(world: BotWorld) -> list[str]:
    return [b["name"] for b in json.loads(world.cli("bots", "list", "--json").stdout)]


def test_cli_refuses_a_base_order_that_rounds_under_the_minimum(usdm: BotWorld) -> None:
    world = usdm
    refused = _create(world, "small", "100")
    assert refused.code != 0, refused.stdout
    text = " ".join(refused.stderr.split())  # Rich wraps long lines
    at = re.search(r"base order 100 USDT buys 0\.001 BTC at ([0-9.,]+) after", text)
    assert at is not None and abs(Decimal(at.group(1).replace(",", "")) - 50001) < 100, text
    for piece in (
        "after rounding to the 0.001 step",
        "under binanceusdm BTC/USDT:USDT's minimum notional 100 USDT",
        "set base_order to at least",
    ):
        assert piece in text, text
    found = SMALLEST.search(text)
    assert found is not None, text
    smallest = Decimal(found.group(1).replace(",", ""))
    # 0.002 BTC at 50,001 (100.002 USDT), or 0.003 when the price wandered under 50,000
    assert Decimal("100") < smallest < Decimal("150.1"), smallest
    assert _stored(world) == []  # nothing stored

    made = _create(world, "fits", "150.01", "--json")
    assert made.code == 0, made.stderr
    assert json.loads(made.stdout)["settings"]["base_order"] == "150.01"
    assert _stored(world) == ["fits"]


def test_cli_start_checks_again_at_the_current_price(usdm: BotWorld) -> None:
    world = usdm
    assert _create(world, "b", "150.01").code == 0
    # at 80,000 150.01 USDT buys 0.00187.. BTC, floored to 0.001: 80 USDT, under the minimum
    world.price("binance", Decimal("80000"))
    refused = world.cli("bots", "start", "b")
    text = " ".join(refused.stderr.split())
    assert refused.code != 0 and "minimum notional 100 USDT" in text and "set base_order" in text, text
    assert service.get(world.app, "b").status == "created"
    world.price("binance", Decimal("50001"))
    started = world.cli("bots", "start", "b", "--json")
    assert started.code == 0, started.stderr
    assert json.loads(started.stdout)["status"] == "running"


def test_an_unreadable_market_fails_closed(usdm: BotWorld) -> None:
    world = usdm
    world.admin.call("POST", "/_sim/venue", {"venue": "binance", "down": True})
    refused = _create(world, "down", "150.01")
    text = " ".join(refused.stderr.split())
    assert refused.code != 0 and "could not run" in text, text
    assert _stored(world) == []


def _round(world: BotWorld, live: bool = False) -> dict[str, int]:
    async def run() -> dict[str, int]:
        hub = world.hub()
        vault = VaultSession.open(world.app, Secret(PASSPHRASE)) if live else None
        runner = BotRunner(world.app, hub, vault, RunnerConfig(live=LIVE))
        try:
            await runner.round()
            await runner.round()  # a paused bot is not stepped again
            return dict(runner.config.errors)
        finally:
            leases.release(world.app.store, runner.owner)  # the next runner takes the bot at once
            await hub.close()

    return asyncio.run(run())


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_a_refusal_at_run_time_pauses_with_the_fix_and_opens_no_group(usdm: BotWorld, mode: str) -> None:
    """Paper: the fill model rejects the order (the guard checks market rules for live orders only);
    live: the guard refuses it before the exchange. Either way the bot pauses at once with the fix."""
    world = usdm
    live = mode == "live"
    confirm = ("--yes",) if live else ()
    assert _create(world, "p", "150.01", "--mode", mode, *confirm).code == 0
    assert world.cli("bots", "start", "p", *confirm).code == 0
    world.price("binance", Decimal("80000"))  # the price moved after the start
    assert _round(world, live) == {}
    view = service.get(world.app, "p")
    assert view.status == "paused", (view.status, view.status_reason)
    reason = view.status_reason or ""
    for piece in ("min_notional", "base order 150.01 USDT", "minimum notional 100 USDT", "set base_order"):
        assert piece in reason, reason
    kinds = [e["kind"] for e in service.history(world.app, "p")]
    assert kinds.count("refused") == 1 and kinds[0] == "paused", kinds
    assert "group_opened" not in kinds, kinds  # its base order never went out
    assert view.groups == 0 and view.margin_used == 0
    # one try, no hammering: paper stores the rejected order, live never sends it
    assert len(service.orders(world.app, "p")) == (0 if live else 1)
    with world.app.store.session() as session:
        row = session.get(BotRow, view.id)
        assert row is not None
        state = json.loads(row.state_json)["pairs"][PERP]
    assert state["open"] == [] and state["blocked_until_ms"] == 0, state  # nothing left to re-refuse

    # back at a price where the order passes, a start resumes it and the group opens, told once
    world.price("binance", Decimal("50001"))
    assert world.cli("bots", "start", "p", *confirm).code == 0
    assert _round(world, live) == {}
    view = service.get(world.app, "p")
    kinds = [e["kind"] for e in service.history(world.app, "p")]
    assert view.status == "running" and view.groups == 1, (view.status, kinds)
    assert kinds.count("group_opened") == 1, kinds


def test_a_base_order_rejected_without_a_pause_tells_no_group_opened(world: BotWorld) -> None:
    """A paper base order the executor rejects for a reason that only backs off (an empty paper account)
    opens no group: its decision's `group_opened` is not told (it was, right after the refusal, while
    the figures said 0 groups); it is told once, when the decision is made again and the order fills."""
    world.connect("m", "mexc")
    world.price("mexc", Decimal("50000"))
    view = world.bot("poor", "m")
    with world.app.store.session() as session:  # the account exists, nearly empty: the seed keeps it
        session.add(PaperBalance(account=service.bot_key(view.id), currency="USDT", total=Decimal(1)))
    assert _round(world) == {}
    view = service.get(world.app, "poor")
    kinds = [e["kind"] for e in service.history(world.app, "poor")]
    assert view.status == "running" and kinds[0] == "refused", (view.status, kinds)
    assert "insufficient_balance" in service.history(world.app, "poor")[0]["reason"]
    assert "group_opened" not in kinds and view.groups == 0, kinds
    with world.app.store.session() as session:
        row = session.get(BotRow, view.id)
        assert row is not None
        blocked = json.loads(row.state_json)["pairs"]["BTC/USDT"]["blocked_until_ms"]
        row.state_json = row.state_json.replace(f'"blocked_until_ms": {blocked}', '"blocked_until_ms": 0')
        funds = session.get(PaperBalance, (service.bot_key(view.id), "USDT"))
        assert funds is not None and blocked > 0
        funds.total = Decimal(10_000)
    assert _round(world) == {}
    view = service.get(world.app, "poor")
    kinds = [e["kind"] for e in service.history(world.app, "poor")]
    assert view.groups == 1 and kinds.count("group_opened") == 1, kinds
