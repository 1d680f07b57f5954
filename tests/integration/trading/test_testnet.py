"""Issue 18: testnet connections on the simulator's testnet hosts (ccxt sandbox mode), end to end."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.conftest import Cli
from tests.integration.api.conftest import ApiServer
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import (
    PRICE,
    add_connection,
    api_connection,
    cli_json,
    pin_price,
    sim_orders,
)
from tradewarden.adapters.store.models import Connection
from tradewarden.services.trading import can_trade_live
from tradewarden.sim import ThreadedSim


def _hosts(admin: SimAdmin, venue: str, api_key: str) -> set[str]:
    rows = admin.call("GET", f"/_sim/requests?venue={venue}&api_key={api_key}")
    return {str(r.get("host") or r["path"].split("/")[1]) for r in rows}


def test_binance_testnet_connection_passes_the_test_and_trades_by_hand(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    assert cli("init").code == 0
    key = add_connection(
        cli, threaded_sim, sim_admin, "BN Test", "binance", extra=("--testnet",), testnet=True
    )
    tested = cli("connections", "test", "BN Test", "--json")
    report = json.loads(tested.stdout)
    assert tested.code == 0 and report["status"] == "online", report
    assert report["permissions"]["withdraw"] is False and report["permissions"]["spot_trade"] is True
    listed = json.loads(cli("connections", "list", "--json").stdout)
    assert [c["testnet"] for c in listed] == [True]
    assert "testnet" in cli("connections", "list").stdout
    pin_price(sim_admin, "binance")
    low = str(PRICE * Decimal("0.8"))
    placed = cli_json(cli("trade", "buy", "BN Test", "BTC/USDT", "0.001", "--price", low, "--json"))
    assert placed["status"] == "open" and placed["mode"] == "live"
    canceled = cli_json(cli("trade", "cancel", "BN Test", placed["id"], "--json"))
    assert canceled["status"] == "canceled"
    filled = cli_json(cli("trade", "buy", "BN Test", "BTC/USDT", "0.001", "--json"))
    assert filled["status"] == "closed" and Decimal(filled["filled"]) == Decimal("0.001")
    assert len(sim_orders(sim_admin, "binance", key["apiKey"])) == 2
    # every request of the key went to the testnet host, none to production
    assert _hosts(sim_admin, "binance", key["apiKey"]) == {"testnet.binance.vision"}


def test_keys_work_only_in_their_own_environment(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    assert cli("init").code == 0
    for venue in ("binance", "bybit", "okx"):
        live_key = sim_admin.key(venue, ["read", "spot_trade"], ["127.0.0.1"])
        test_key = sim_admin.key(venue, ["read", "spot_trade"], ["127.0.0.1"], testnet=True)
        for key, flag, ok in ((live_key, True, False), (test_key, False, False), (test_key, True, True)):
            creds = json.dumps({k: key[k] for k in ("apiKey", "secret", "password") if k in key})
            name = f"{venue} {key['apiKey'][:6]} {flag}"
            args = [
                "connections",
                "add",
                name,
                "-e",
                venue,
                "--endpoint",
                threaded_sim.url,
                "-c",
                "-",
                "--json",
            ]
            added = cli(*args, *(["--testnet"] if flag else []), stdin=creds.encode())
            result = json.loads(added.stdout)
            assert result["added"] is ok, (venue, flag, result["test"])
            if not ok:
                assert result["test"]["status"] == "invalid_key", (venue, flag, result["test"])
    refused = cli("connections", "add", "KC", "-e", "kucoin", "--testnet", "-c", "-", stdin=b"{}")
    assert refused.code == 1 and "no testnet" in refused.stderr and "binance, bybit, okx" in refused.stderr
    listing = json.loads(cli("exchanges", "--json").stdout)
    testnets = {row["id"]: row["testnet"] for row in listing}
    assert testnets["kucoin"] is None and testnets["mexc"] is None
    assert "testnet.binance.vision" in testnets["binance"] and "x-simulated-trading" in testnets["okx"]


def test_testnet_balance_is_marked_and_never_in_the_portfolio_total(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    api_connection(api_server, threaded_sim, sim_admin, "Real", "mexc")
    api_connection(api_server, threaded_sim, sim_admin, "Play", "binance", testnet=True, key_testnet=True)
    read = api_server.client("read")
    portfolio = read.get("/api/v1/portfolio", params={"quote": "USDT"})
    assert portfolio.status_code == 200, portfolio.text
    body = portfolio.json()
    parts = {p["name"]: p for p in body["connections"]}
    assert parts["Play"]["testnet"] is True and parts["Real"]["testnet"] is False
    real, play = Decimal(parts["Real"]["total"]), Decimal(parts["Play"]["total"])
    assert real > 0 and play > 0
    assert Decimal(body["total"]) == real
    assert Decimal(body["testnet_total"]) == play
    connections = {c["name"]: c for c in read.get("/api/v1/connections").json()}
    assert connections["Play"]["testnet"] is True and connections["Real"]["testnet"] is False
    ticket = read.get("/api/v1/connections/Play/ticket", params={"pair": "BTC/USDT"})
    assert ticket.status_code == 200 and ticket.json()["testnet"] is True, ticket.text


@pytest.mark.parametrize("testnet", [True, False])
def test_can_trade_live_only_off_testnet(testnet: bool) -> None:
    row = Connection(name="x", exchange="binance", market="spot", api_key_masked="x", testnet=testnet)
    assert can_trade_live(row) is (not testnet)


def test_binance_usdm_testnet_connection_tests_online_and_trades(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    assert cli("init").code == 0
    perms = ["read", "spot_trade", "futures_trade"]
    key = add_connection(
        cli,
        threaded_sim,
        sim_admin,
        "BN Fut Test",
        "binance",
        perms,
        ("--testnet", "--market", "futures"),
        testnet=True,
    )
    pin_price(sim_admin, "binance")
    placed = cli_json(cli("trade", "buy", "BN Fut Test", "BTC/USDT:USDT", "0.003", "--json"))
    assert placed["status"] == "closed" and Decimal(placed["filled"]) == Decimal("0.003"), placed
    assert _hosts(sim_admin, "binance", key["apiKey"]) <= {
        "testnet.binance.vision",
        "testnet.binancefuture.com",
    }
    assert "testnet.binancefuture.com" in _hosts(sim_admin, "binance", key["apiKey"])
