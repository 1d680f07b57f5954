"""GET /api/v1/portfolio through a real server, real ccxt and the simulator: values, cache, failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api._serverfixture import TwServer, running_server
from tests.integration.simtools import SimAdmin
from tradewarden.sim import ThreadedSim

# Prices pinned for the test (a constant replay: the simulator's walk would move them on every request).
PINNED = {"BTC/USDT": "61234.5", "ETH/USDT": "3021.25", "SOL/USDT": "151.75"}
VENUES = ("binance", "kucoin")
BINANCE_BALANCES = {"BTC": "0.25", "ETH": "1.5", "USDT": "1000", "XYZ": "7"}  # XYZ: no market anywhere
KUCOIN_BALANCES = {"SOL": "10", "USDT": "250.5", "BTC": "0.01"}


@pytest.fixture
def pinned_prices(sim_admin: SimAdmin, tmp_path: Path) -> Iterator[dict[str, dict[str, Decimal]]]:
    """Constant prices on both venues for the test; the walk resumes from the old prices afterwards."""
    before = sim_admin.call("GET", "/_sim/market")
    for pair, price in PINNED.items():
        csv = tmp_path / f"{pair.replace('/', '-')}.csv"
        csv.write_text(
            f"timestamp,open,high,low,close,volume\n1700000000000,{price},{price},{price},{price},1\n"
        )
        for venue in VENUES:
            sim_admin.call("POST", "/_sim/market", {"venue": venue, "symbol": pair, "replay": str(csv)})
    market = sim_admin.call("GET", "/_sim/market")
    yield {venue: {pair: Decimal(p) for pair, p in market[venue].items()} for venue in VENUES}
    for venue in VENUES:
        for pair in PINNED:
            sim_admin.call(
                "POST", "/_sim/market", {"venue": venue, "symbol": pair, "price": before[venue][pair]}
            )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TwServer]:
    """A fresh server with no connections yet."""
    with running_server(tmp_path / "home") as running:
        yield running


def _expected(
    balances: dict[str, str], prices: dict[str, Decimal]
) -> tuple[Decimal, dict[str, Decimal | None]]:
    """Each asset's value in USDT and their total, from the simulator's own prices (unknown: None)."""
    values: dict[str, Decimal | None] = {}
    for asset, amount in balances.items():
        price = Decimal(1) if asset == "USDT" else prices.get(f"{asset}/USDT")
        values[asset] = None if price is None else Decimal(amount) * price
    return sum((v for v in values.values() if v is not None), Decimal(0)), values


def _sim_request_count(sim_admin: SimAdmin) -> int:
    return sum(len(sim_admin.requests(venue)) for venue in VENUES)


def _two_connections(
    server: TwServer, sim_admin: SimAdmin, sim: ThreadedSim
) -> tuple[dict[str, Any], dict[str, Any]]:
    binance = sim_admin.key("binance", ["read", "spot_trade"], balances=BINANCE_BALANCES)
    kucoin = sim_admin.key("kucoin", ["read", "spot_trade"], balances=KUCOIN_BALANCES)
    server.add_connection("Binance Main", "binance", binance, sim.url)
    server.add_connection("KuCoin Main", "kucoin", kucoin, sim.url)
    return binance, kucoin


def test_portfolio_totals_match_simulator_prices_and_are_cached(
    server: TwServer,
    sim_admin: SimAdmin,
    threaded_sim: ThreadedSim,
    pinned_prices: dict[str, dict[str, Decimal]],
) -> None:
    """Two venues: each value and total is amount × the simulator's price; a refresh comes from cache."""
    keys = _two_connections(server, sim_admin, threaded_sim)
    with server.client(server.read_token) as client:
        response = client.get("/api/v1/portfolio", params={"quote": "USDT"})
        assert response.status_code == 200, response.text
        body = response.json()
        requests_after_first = _sim_request_count(sim_admin)

        assert body["quote"] == "USDT"
        by_name = {c["name"]: c for c in body["connections"]}
        grand = Decimal(0)
        for name, venue, balances in (
            ("Binance Main", "binance", BINANCE_BALANCES),
            ("KuCoin Main", "kucoin", KUCOIN_BALANCES),
        ):
            part = by_name[name]
            total, values = _expected(balances, pinned_prices[venue])
            assert part["error"] is None, part
            assert part["exchange"] == venue and part["status"] == "untested"
            assert Decimal(part["total"]) == total
            got = {b["asset"]: b for b in part["balances"]}
            assert set(got) == set(balances)
            for asset, value in values.items():
                assert Decimal(got[asset]["total"]) == Decimal(balances[asset])
                assert Decimal(got[asset]["free"]) == Decimal(balances[asset])
                assert got[asset]["used"] == "0"
                assert (
                    (got[asset]["value"] is None) if value is None else Decimal(got[asset]["value"]) == value
                )
            grand += total
        assert Decimal(body["total"]) == grand
        assert by_name["Binance Main"]["balances"][-1]["asset"] == "XYZ"  # unpriced last, out of the total

        # Within the TTL: no request reaches either venue, whatever the quote currency.
        again = client.get("/api/v1/portfolio")
        in_btc = client.get("/api/v1/portfolio", params={"quote": "btc"})
        assert again.status_code == 200 and in_btc.status_code == 200
        assert _sim_request_count(sim_admin) == requests_after_first
        assert Decimal(again.json()["total"]) == grand
        assert in_btc.json()["quote"] == "BTC"
        btc_part = {c["name"]: c for c in in_btc.json()["connections"]}["Binance Main"]
        assert {b["asset"]: b["value"] for b in btc_part["balances"]}["BTC"] == "0.25"

    text = json.dumps(body) + again.text + in_btc.text
    for key in keys:
        for secret in (key["apiKey"], key["secret"], key.get("password")):
            assert not secret or secret not in text


def test_portfolio_revoked_key_fails_alone(
    server: TwServer,
    sim_admin: SimAdmin,
    threaded_sim: ThreadedSim,
    pinned_prices: dict[str, dict[str, Decimal]],
) -> None:
    """A revoked key gives its connection an error (classified, secret-free); the other still totals."""
    binance, kucoin = _two_connections(server, sim_admin, threaded_sim)
    sim_admin.revoke(kucoin["apiKey"])
    with server.client(server.read_token) as client:
        response = client.get("/api/v1/portfolio")
    assert response.status_code == 200, response.text
    body = response.json()
    by_name = {c["name"]: c for c in body["connections"]}
    failed, healthy = by_name["KuCoin Main"], by_name["Binance Main"]
    assert failed["total"] is None and failed["balances"] == []
    assert failed["error"].startswith("balances unavailable: invalid key")
    assert "400003" in failed["error"]  # KuCoin's own code for an unknown key
    total, _values = _expected(BINANCE_BALANCES, pinned_prices["binance"])
    assert healthy["error"] is None and Decimal(healthy["total"]) == total
    assert Decimal(body["total"]) == total
    for secret in (kucoin["apiKey"], kucoin["secret"], kucoin["password"], binance["secret"]):
        assert secret not in response.text


def test_portfolio_skips_connections_needing_a_test(
    server: TwServer, sim_admin: SimAdmin, threaded_sim: ThreadedSim
) -> None:
    """A connection whose last test failed is not read: it says so, and nothing reaches the venue."""
    key = sim_admin.key("binance", ["read", "spot_trade"], balances={"USDT": "5"})
    view = server.add_connection("Binance Broken", "binance", key, threaded_sim.url)
    with server.app.store.session() as session:
        from tradewarden.adapters.store.models import Connection

        row = session.get(Connection, view.id)
        assert row is not None
        row.status = "ip_not_allowed"
    before = len(sim_admin.requests("binance"))
    with server.client(server.read_token) as client:
        response = client.get("/api/v1/portfolio")
        no_token = client.get("/api/v1/portfolio", headers={"Authorization": ""})
        bad_quote = client.get("/api/v1/portfolio", params={"quote": "US/DT"})
    assert response.status_code == 200, response.text
    [part] = response.json()["connections"]
    assert "ip_not_allowed" in part["error"] and "Not counted" in part["error"]
    assert (
        part["error_code"] == "portfolio.not_counted" and part["error_params"]["status"] == "ip_not_allowed"
    )
    assert part["total"] is None and part["balances"] == []
    assert response.json()["total"] == "0"
    assert len(sim_admin.requests("binance")) == before
    assert no_token.status_code == 401
    assert bad_quote.status_code == 422 and bad_quote.json()["error"]["field"] == "quote"


async def test_portfolio_concurrent_cold_requests_share_one_read(
    server: TwServer, sim_admin: SimAdmin, threaded_sim: ThreadedSim
) -> None:
    """Dashboards opened at once: one balance read per connection, not one per request."""
    key = sim_admin.key("binance", ["read", "spot_trade"], balances={"USDT": "42"})
    server.add_connection("Binance Shared", "binance", key, threaded_sim.url)
    async with server.async_client(server.read_token) as client:
        responses = await asyncio.gather(*(client.get("/api/v1/portfolio") for _ in range(4)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert {r.json()["total"] for r in responses} == {"42"}
    signed = sim_admin.call("GET", f"/_sim/requests?venue=binance&api_key={key['apiKey']}")
    assert [r["path"] for r in signed if r["path"] == "/api/v3/account"] == ["/api/v3/account"]
