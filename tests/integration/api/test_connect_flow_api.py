"""Issue 10a over HTTP, against the real simulator: test-gated create, supported exchanges only, one key
under one name, PATCH (rename, market, endpoint, key fields in place), codes with params beside the English,
the simulator and public address in server-info, audit sentences, and a portfolio view that is not an action.
"""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import ApiServer
from tests.integration.conftest import sim_admin, threaded_sim  # noqa: F401  (fixtures)
from tests.integration.simtools import SimAdmin
from tradewarden.services import simulator
from tradewarden.sim import ThreadedSim


def _body(name: str, exchange: str, key: dict[str, Any], url: str, **extra: Any) -> dict[str, Any]:
    fields = {f: key[f] for f in ("apiKey", "secret", "password") if key.get(f)}
    return {"name": name, "exchange": exchange, "endpoint": url, "credentials": fields, **extra}


def _audit(server: ApiServer, kind: str) -> list[dict[str, Any]]:
    response = server.client("read").get("/api/v1/audit", params={"kind": kind, "page_size": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_create_with_test_refuses_a_failing_key_unless_kept(
    api_server: ApiServer,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    admin = api_server.client("admin")
    key = sim_admin.key("binance", ["read", "spot_trade", "withdraw"], ["127.0.0.1"])
    refused = admin.post("/api/v1/connections", json=_body("W", "binance", key, threaded_sim.url, test=True))
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"]["code"] == "test_failed" and body["error"]["field"] == "credentials"
    test = body["test"]
    assert test["status"] == "withdraw_enabled"
    failed = [c for c in test["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["key_permissions"]
    assert failed[0]["detail_code"] == "check.withdraw_enabled"
    assert failed[0]["detail_params"]["permissions"] == "read, spot_trade, withdraw"
    assert test["message_code"] == "status.withdraw_enabled.message"
    assert test["message_params"]["exchange"] == "Binance"
    assert test["message_params"]["withdraw"] == "Enable Withdrawals"
    assert admin.get("/api/v1/connections").json() == []
    kept = admin.post(
        "/api/v1/connections",
        json=_body("W", "binance", key, threaded_sim.url, test=True, keep_untested=True),
    )
    assert kept.status_code == 201, kept.text
    assert kept.json()["status"] == "withdraw_enabled" and kept.json()["test"]["ok"] is False
    [event] = _audit(api_server, "connection.add_refused")
    assert event["actor"] == "token:admin-token" and event["message_code"] == "audit.connection.add_refused"
    assert "failed the test (withdraw_enabled)" in event["message"]


def test_create_refuses_an_unsupported_exchange_and_a_key_stored_twice(
    api_server: ApiServer,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    admin = api_server.client("admin")
    key = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    kraken = admin.post("/api/v1/connections", json=_body("K", "kraken", key, threaded_sim.url))
    assert kraken.status_code == 422 and kraken.json()["error"]["field"] == "exchange"
    assert "tradewarden exchanges" in kraken.json()["error"]["message"]
    first = admin.post("/api/v1/connections", json=_body("One", "binance", key, threaded_sim.url, test=True))
    assert first.status_code == 201 and first.json()["test"]["status"] == "online"
    twice = admin.post("/api/v1/connections", json=_body("Two", "binance", key, threaded_sim.url))
    assert twice.status_code == 409 and "'One'" in twice.json()["error"]["message"]
    assert key["apiKey"] not in twice.text


def test_patch_edits_name_market_endpoint_and_corrects_key_fields(
    api_server: ApiServer,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    admin = api_server.client("admin")
    key = sim_admin.key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
    wrong = {**key, "password": "wrong-passphrase"}
    created = admin.post(
        "/api/v1/connections",
        json=_body("KC", "kucoin", wrong, threaded_sim.url, test=True, keep_untested=True),
    )
    assert created.status_code == 201, created.text
    assert "passphrase" in created.json()["test"]["message"]
    fixed = admin.patch("/api/v1/connections/KC", json={"credentials": {"password": key["password"]}})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["rotated"] is True and fixed.json()["connection"]["status"] == "online"
    renamed = admin.patch("/api/v1/connections/KC", json={"name": "KuCoin Main", "market": "both"})
    assert renamed.status_code == 200, renamed.text
    connection = renamed.json()["connection"]
    assert (connection["name"], connection["market"], connection["status"]) == (
        "KuCoin Main",
        "both",
        "untested",
    )
    cleared = admin.patch("/api/v1/connections/KuCoin Main", json={"endpoint": None})
    assert cleared.status_code == 200 and cleared.json()["connection"]["endpoint"] is None
    assert admin.patch("/api/v1/connections/Nobody", json={"name": "X"}).status_code == 404
    assert admin.patch("/api/v1/connections/KuCoin Main", json={"market": "options"}).status_code == 422
    assert (
        api_server.client("read").patch("/api/v1/connections/KuCoin Main", json={"name": "Y"}).status_code
        == 403
    )
    [edit] = _audit(api_server, "connection.edited")
    assert "name KC → KuCoin Main" in edit["message"]


def test_server_info_names_the_simulator_and_the_public_address(api_server: ApiServer) -> None:
    simulator.record(api_server.home, 18765)
    info = api_server.client("read").get("/api/v1/server-info")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["simulator_url"] == "http://127.0.0.1:18765"
    assert body["public_address"] is None and body["public_address_source"] == "off"  # off in tests
    assert body["public_address_note_code"] == "ip.off" and "what-is-my-IP" in body["public_address_note"]
    exchanges = {e["id"]: e for e in api_server.client("read").get("/api/v1/exchanges").json()}
    assert exchanges["kucoin"]["simulator"] is True and exchanges["coinbase"]["simulator"] is False


def test_a_portfolio_view_is_not_an_action_and_simulated_funds_are_marked(
    api_server: ApiServer,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    simulator.record(api_server.home, int(threaded_sim.url.rsplit(":", 1)[1]))
    admin = api_server.client("admin")
    key = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"], balances={"USDT": "42"})
    created = admin.post(
        "/api/v1/connections", json=_body("Sim", "binance", key, threaded_sim.url, test=True)
    )
    assert created.status_code == 201 and created.json()["simulated"] is True
    assert admin.get("/api/v1/connections").json()[0]["simulated"] is True
    reader = api_server.client("read")
    for _ in range(5):
        api_server.state.portfolio_cache.clear()  # every view reads the exchange again
        portfolio = reader.get("/api/v1/portfolio")
        assert portfolio.status_code == 200, portfolio.text
    body = portfolio.json()
    assert body["connections"][0]["simulated"] is True
    assert body["simulated_total"] == body["total"] == "42"
    assert len(_audit(api_server, "connection.balances_read")) == 1
