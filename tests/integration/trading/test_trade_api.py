"""Issue 18: manual orders through the API (scope trade places and cancels, read lists and reads tickets)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.integration.api.conftest import ApiServer
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import PRICE, api_connection, order_requests, pin_price, sim_orders
from tradewarden.sim import ThreadedSim

BASE = "/api/v1/connections"


@pytest.mark.parametrize("venue", ["mexc", "kucoin"])
def test_place_list_cancel_and_fill_through_the_api(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin, venue: str
) -> None:
    key = api_connection(api_server, threaded_sim, sim_admin, "Main", venue)
    pin_price(sim_admin, venue)
    trade, read = api_server.client("trade"), api_server.client("read")
    ticket = read.get(f"{BASE}/Main/ticket", params={"pair": "BTC/USDT"})
    assert ticket.status_code == 200, ticket.text
    t = ticket.json()
    assert Decimal(t["bid"]) < PRICE < Decimal(t["ask"]) * Decimal("1.01")
    assert Decimal(t["min_notional"]) > 0 and Decimal(t["amount_step"]) > 0 and Decimal(t["price_step"]) > 0
    assert t["testnet"] is False and t["base"] == "BTC" and t["quote"] == "USDT"
    low = str(PRICE * Decimal("0.8"))
    for paper in (False, True):
        order = {
            "pair": "BTC/USDT",
            "side": "buy",
            "amount": "0.001",
            "type": "limit",
            "price": low,
            "paper": paper,
        }
        assert read.post(f"{BASE}/Main/orders", json=order).status_code == 403  # read may not trade
        placed = trade.post(f"{BASE}/Main/orders", json=order)
        assert placed.status_code == 201, placed.text
        assert placed.json()["status"] == "open" and placed.json()["mode"] == ("paper" if paper else "live")
        listed = read.get(f"{BASE}/Main/orders", params={"open": "true"})
        assert [o["id"] for o in listed.json()] == [placed.json()["id"]]
        assert read.delete(f"{BASE}/Main/orders/{placed.json()['id']}").status_code == 403
        canceled = trade.delete(f"{BASE}/Main/orders/{placed.json()['id']}")
        assert canceled.status_code == 200 and canceled.json()["status"] == "canceled", canceled.text
        # when it was stored and last changed (ISO 8601, UTC): placing, then canceling
        born = datetime.fromisoformat(placed.json()["created_at"])
        changed = datetime.fromisoformat(canceled.json()["updated_at"])
        assert born.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - born) < timedelta(minutes=5)
        assert canceled.json()["created_at"] == placed.json()["created_at"] and changed >= born
        market = {"pair": "BTC/USDT", "side": "buy", "amount": "20", "quote": True, "paper": paper}
        filled = trade.post(f"{BASE}/Main/orders", json=market)
        assert filled.status_code == 201 and filled.json()["status"] == "closed", filled.text
        assert Decimal(filled.json()["filled"]) > 0
    assert len(sim_orders(sim_admin, venue, key["apiKey"])) == 2  # the live two only
    assert len(read.get(f"{BASE}/Main/orders").json()) == 4
    # the audit log tells each order placed and canceled by hand in a sentence with its figures
    said = {
        kind: [e["message"] for e in read.get("/api/v1/audit", params={"kind": kind}).json()["items"]]
        for kind in ("order.placed", "order.canceled")
    }
    assert len(said["order.placed"]) == 4 and len(said["order.canceled"]) == 2, said
    for mode in ("live", "paper"):
        assert any(f"on Main: buy 0.001 BTC/USDT (limit, {mode})." in m for m in said["order.canceled"]), said
        assert any(m.endswith(f"BTC/USDT (market, {mode}).") for m in said["order.placed"]), said
    assert not any("—" in m for m in said["order.placed"] + said["order.canceled"]), said
    missing = trade.delete(f"{BASE}/Main/orders/nope")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "order_id"


def test_refusals_are_422_with_the_reason_and_never_reach_the_simulator(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    key = api_connection(api_server, threaded_sim, sim_admin, "KC", "kucoin")
    pin_price(sim_admin, "kucoin")
    trade = api_server.client("trade")
    cases = {
        "min_notional": {
            "pair": "BTC/USDT",
            "side": "buy",
            "amount": "0.00001",
            "type": "limit",
            "price": "1000",
        },
        "pair_not_allowed": {"pair": "NOPE/USDT", "side": "buy", "amount": "1"},
    }
    for reason, order in cases.items():
        refused = trade.post(f"{BASE}/KC/orders", json=order)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == f"order_refused.{reason}"
    assert (
        "minimum notional"
        in trade.post(f"{BASE}/KC/orders", json=cases["min_notional"]).json()["error"]["message"]
    )
    no_price = trade.post(
        f"{BASE}/KC/orders", json={"pair": "BTC/USDT", "side": "buy", "amount": "1", "type": "limit"}
    )
    assert no_price.status_code == 422 and no_price.json()["error"]["field"] == "price"
    assert order_requests(sim_admin, "kucoin", key["apiKey"]) == []
    audit = api_server.client("read").get("/api/v1/audit", params={"kind": "order.refused", "page_size": 50})
    assert audit.status_code == 200 and len(audit.json()["items"]) == 3
