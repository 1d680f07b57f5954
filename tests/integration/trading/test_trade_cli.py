"""Issue 18: manual orders through the real CLI on the simulator (MEXC and KuCoin, paper and live)."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

import pytest

from tests.conftest import Cli
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import (
    PRICE,
    add_connection,
    cli_json,
    order_requests,
    pin_price,
    sim_orders,
)
from tradewarden.sim import ThreadedSim

VENUES = ("mexc", "kucoin")


@pytest.mark.parametrize("venue", VENUES)
def test_limit_order_placed_seen_canceled_and_market_order_filled_live_and_paper(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin, venue: str
) -> None:
    assert cli("init").code == 0
    key = add_connection(cli, threaded_sim, sim_admin, "Main", venue)
    pin_price(sim_admin, venue)
    low = str(PRICE * Decimal("0.8"))  # well under the book: rests
    for paper in (False, True):
        flag = ("--paper",) if paper else ()
        mode = "paper" if paper else "live"
        placed = cli_json(cli("trade", "buy", "Main", "BTC/USDT", "0.001", "--price", low, *flag, "--json"))
        assert (placed["status"], placed["mode"], placed["type"]) == ("open", mode, "limit")
        open_ = cli_json(cli("trade", "orders", "Main", "--open", "--json"))
        assert [o["id"] for o in open_] == [placed["id"]]
        canceled = cli_json(cli("trade", "cancel", "Main", placed["id"], "--json"))
        assert canceled["status"] == "canceled"
        assert cli_json(cli("trade", "orders", "Main", "--open", "--json")) == []
        filled = cli_json(cli("trade", "buy", "Main", "BTC/USDT", "20", "--quote", *flag, "--json"))
        assert filled["status"] == "closed" and Decimal(filled["filled"]) > 0, filled
        assert Decimal(filled["average"]) > PRICE * Decimal("0.9")
    held = sim_orders(sim_admin, venue, key["apiKey"])
    # the live limit order and the live market order reached the venue; the paper ones did not
    assert len(held) == 2, held
    every = cli_json(cli("trade", "orders", "Main", "--json"))
    assert sorted((o["mode"], o["status"]) for o in every) == [
        ("live", "canceled"),
        ("live", "closed"),
        ("paper", "canceled"),
        ("paper", "closed"),
    ]
    # manual client order ids are deterministic per connection: the same prefix on all four
    assert len({o["client_order_id"][:14] for o in every}) == 1
    table = cli("trade", "orders", "Main")
    assert table.code == 0 and "BTC/USDT" in table.stdout


def test_refused_orders_never_reach_the_simulator_and_say_why(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    assert cli("init").code == 0
    key = add_connection(cli, threaded_sim, sim_admin, "MX", "mexc")
    pin_price(sim_admin, "mexc")
    tiny = cli("trade", "buy", "MX", "BTC/USDT", "0.00001", "--price", "40000")
    assert tiny.code == 1
    assert "min_notional" in tiny.stderr and "minimum notional" in tiny.stderr
    assert "amount step 0.00001" in tiny.stderr and "price step" in tiny.stderr
    paper_tiny = cli("trade", "buy", "MX", "BTC/USDT", "0.00001", "--price", "40000", "--paper")
    assert paper_tiny.code == 1 and "min_notional" in paper_tiny.stderr
    unknown = cli("trade", "buy", "MX", "NOPE/USDT", "1", "--json")
    assert unknown.code == 1
    assert json.loads(unknown.stdout)["reason"] == "pair_not_allowed"
    assert "NOPE/USDT" in unknown.stderr
    bad_price = cli("trade", "buy", "MX", "BTC/USDT", "0.001", "--price", "40000.123456789")
    assert bad_price.code == 1 and "precision" in bad_price.stderr
    assert order_requests(sim_admin, "mexc", key["apiKey"]) == []
    # a withdraw-enabled key: kept untested-then-refused by its test, and every order refused
    wkey = add_connection(
        cli,
        threaded_sim,
        sim_admin,
        "MX Withdraw",
        "mexc",
        ["read", "spot_trade", "withdraw"],
        ("--keep-untested",),
    )
    used = len(sim_admin.call("GET", f"/_sim/requests?venue=mexc&api_key={wkey['apiKey']}"))
    refused = cli("trade", "buy", "MX Withdraw", "BTC/USDT", "0.001", "--price", "40000")
    assert refused.code == 1 and "withdraw" in refused.stderr
    paper = cli("trade", "buy", "MX Withdraw", "BTC/USDT", "0.001", "--paper")
    assert paper.code == 1 and "withdraw_enabled" in paper.stderr
    # the withdraw-enabled key was not used at all: no order, not even a balance read for paper funds
    after = sim_admin.call("GET", f"/_sim/requests?venue=mexc&api_key={wkey['apiKey']}")
    assert len(after) == used, [(r["method"], r["path"]) for r in after[used:]]
    assert order_requests(sim_admin, "mexc", wkey["apiKey"]) == []
    assert sim_orders(sim_admin, "mexc", key["apiKey"]) == []
    with sqlite3.connect(cli.home / "tradewarden.db") as db:
        kinds = [k for (k,) in db.execute("select kind from audit_events where kind like 'order.%'")]
    assert kinds.count("order.refused") == 6  # below minimum x2, unknown pair, precision, withdraw x2
    assert "order.placed" not in kinds


def test_bad_input_exits_non_zero_and_changes_nothing(cli: Cli) -> None:
    assert cli("init").code == 0
    missing = cli("trade", "buy", "Nobody", "BTC/USDT", "1")
    assert missing.code == 1 and "no connection named" in missing.stderr
    nan = cli("trade", "buy", "Nobody", "BTC/USDT", "lots")
    assert nan.code == 1 and "amount" in nan.stderr
    kind = cli("trade", "sell", "Nobody", "BTC/USDT", "1", "--type", "stop")
    assert kind.code == 1 and "market or limit" in kind.stderr
    helped = cli("trade", "buy", "--help")
    assert helped.code == 0 and "Examples" in helped.stdout
