"""`tradewarden bots ...` through the real CLI: create, list, show, start, stop, orders, remove; bad input."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.integration.bots.conftest import BotWorld, runner_for
from tradewarden.services import audit_log

DCA = [
    "--set", "base_order=100", "--set", "addon_order=150", "--set", "addon_count=3",
    "--set", "addon_deviation_pct=2", "--set", "take_profit_pct=1",
]  # fmt: skip


def _create(world: BotWorld, name: str, *extra: str) -> object:
    return world.cli(
        "bots", "create", name, "-c", "m", "--strategy", "dca", "--pair", "BTC/USDT", *DCA, *extra
    )


def test_create_start_show_stop_remove(world: BotWorld) -> None:
    world.connect("m", "mexc")
    world.price("mexc", 50000)
    made = _create(world, "d1", "--mode", "paper", "--margin-limit", "600", "--json")
    assert made.code == 0, made.stderr
    created = json.loads(made.stdout)
    design = (
        "name connection strategy pairs mode status settings margin_limit margin_used addons_used recovery"
    )
    for key in (*design.split(), "realized_pnl", "unrealized_pnl", "fees"):
        assert key in created, key
    assert created["status"] == "created" and created["mode"] == "paper" and created["pairs"] == ["BTC/USDT"]
    # base 100 + three add-ons of 150: the settings' worst case is below the limit
    assert created["margin_limit"] == "600" and created["max_commit"] == "550"
    started = world.cli("bots", "start", "d1", "--json")
    assert started.code == 0 and json.loads(started.stdout)["status"] == "running", started.stderr

    async def rounds() -> None:
        hub = world.hub()
        try:
            runner = runner_for(world, hub)
            await runner.round()
        finally:
            await hub.close()

    asyncio.run(rounds())
    listed = json.loads(world.cli("bots", "list", "--json").stdout)
    assert [b["name"] for b in listed] == ["d1"]
    assert listed[0]["margin_used"] != "0", listed[0]  # the base order filled
    shown = json.loads(world.cli("bots", "show", "d1", "--json").stdout)
    assert shown["pair_states"]["BTC/USDT"]["groups"] == 1
    assert [e["kind"] for e in shown["history"]][-3:] == ["group_opened", "started", "created"]
    orders = json.loads(world.cli("bots", "orders", "d1", "--json").stdout)
    assert (
        len(orders) == 1
        and orders[0]["status"] == "closed"
        and orders[0]["tag"].startswith("BTC/USDT|dca-g1")
    )
    table = world.cli("bots", "list")
    assert "d1" in table.stdout and "paper" in table.stdout
    refused = world.cli("bots", "remove", "d1")
    assert refused.code == 1 and "stop it first" in refused.stderr
    stopped = world.cli("bots", "stop", "d1", "--cancel-orders", "--json")
    assert stopped.code == 0, stopped.stderr
    assert json.loads(stopped.stdout)["status"] == "stopped"
    assert world.cli("bots", "remove", "d1").code == 0
    assert json.loads(world.cli("bots", "list", "--json").stdout) == []
    # the audit log tells the bot's life in sentences (not "bot.created by cli.")
    events, _total = audit_log.page(world.app, None, None, None, None, 1, 200)
    said = [e.message.removeprefix(f"{e.actor} ") for e in events if e.kind.startswith("bot.")]
    assert said == [
        "removed the bot d1.",
        "stopped the bot d1.",
        "started the bot d1 (paper).",
        "created the bot d1 on m (dca, paper, BTC/USDT).",
    ], said


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "martingale"], "unknown strategy"),
        (["--mode", "yolo"], "unknown mode"),
        (["--risk", "extreme"], "unknown risk"),
        (["--margin-limit", "-5"], "margin limit"),
        (["--margin-limit", "lots"], "not a number"),
        (["--set", "take_profit_pct"], "KEY=VALUE"),
        (["--set", "warp_speed=9"], "warp_speed"),
        (["--set", "take_profit_pct=-1"], "take_profit_pct"),
        (["--pair", "BTCUSDT"], "not a market symbol"),
        (["--set", "entry=rsi:1h:14:30"], "backtests only"),
        (["--pair", "BTC/\x1b[31mUSDT"], "not a market symbol"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world: BotWorld, args: list[str], message: str) -> None:
    world.connect("m", "mexc")
    base = ["bots", "create", "bad", "-c", "m", "--strategy", "dca", "--pair", "BTC/USDT", *DCA]
    result = world.cli(*base, *args)
    assert result.code != 0, result.stdout
    assert message in result.stderr, result.stderr
    assert json.loads(world.cli("bots", "list", "--json").stdout) == []


def test_live_needs_confirmation_and_a_live_connection(world: BotWorld) -> None:
    world.connect("m", "mexc")
    unconfirmed = _create(world, "l1", "--mode", "live", "--margin-limit", "700")
    assert (
        unconfirmed.code == 1
        and "may commit up to 550" in unconfirmed.stderr
        and "--yes" in unconfirmed.stderr
    )
    assert json.loads(world.cli("bots", "list", "--json").stdout) == []
    confirmed = _create(world, "l1", "--mode", "live", "--margin-limit", "700", "--yes", "--json")
    assert confirmed.code == 0, confirmed.stderr
    assert json.loads(confirmed.stdout)["mode"] == "live"
    again = _create(world, "L1", "--mode", "paper")
    assert again.code == 1 and "exists" in again.stderr  # names are unique whatever their case
    missing = world.cli("bots", "show", "nope")
    assert missing.code == 1 and "no bot named" in missing.stderr and "bots list" in missing.stderr
