"""Connections over HTTP: bad input is refused naming the field and stores nothing; the whole lifecycle."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.integration.api.conftest import ApiServer
from tests.integration.helpers import find_leaks, row_counts
from tests.integration.simtools import SimAdmin
from tradewarden.sim import ThreadedSim

GOOD_CREDENTIALS = {"apiKey": "AKgood0123456789", "secret": "good-secret-0123456789"}
GOOD = {"name": "Binance Main", "exchange": "binance", "market": "spot", "credentials": GOOD_CREDENTIALS}
SECRET_AS_FIELD_NAME = "Zq8vN3kPw7Lx2RtY5mBc9HdJ+4fG/aQ="  # a value pasted where a field name belongs

# (id, request body, the field the error must name, words its message must contain)
BAD_INPUT: list[tuple[str, Any, str, list[str]]] = [
    ("unknown exchange", {**GOOD, "exchange": "binanse"}, "exchange", ["did you mean binance"]),
    ("empty name", {**GOOD, "name": ""}, "name", []),
    ("blank name", {**GOOD, "name": "   "}, "name", ["empty"]),
    ("over-long name", {**GOOD, "name": "N" * 65}, "name", ["64"]),
    ("control characters in name", {**GOOD, "name": "bad\x07name"}, "name", ["control"]),
    ("missing secret", {**GOOD, "credentials": {"apiKey": "AKgood0123456789"}}, "secret", ["missing"]),
    (
        "missing api key",
        {**GOOD, "credentials": {"secret": "good-secret-0123456789"}},
        "credentials.apiKey",
        [],
    ),
    ("missing credentials", {k: v for k, v in GOOD.items() if k != "credentials"}, "credentials", []),
    ("kucoin without passphrase", {**GOOD, "exchange": "kucoin"}, "password", ["kucoin", "passphrase"]),
    ("okx without passphrase", {**GOOD, "exchange": "okx"}, "password", ["okx"]),
    # Unknown keys are named by position, never echoed (issue 9: a pasted secret can sit there).
    ("extra unknown field", {**GOOD, "nmae": "typo"}, "body", ["unknown field #"]),
    (
        "unknown credentials field",
        {**GOOD, "credentials": {**GOOD_CREDENTIALS, "apikey": "x" * 12}},
        "credentials",
        ["unknown field #3", "allowed: apiKey"],
    ),
    ("bad market", {**GOOD, "market": "options"}, "market", ["spot"]),
    ("bad endpoint", {**GOOD, "endpoint": "ftp://example.invalid"}, "endpoint", ["http"]),
    ("secret too short", {**GOOD, "credentials": {**GOOD_CREDENTIALS, "secret": "abc"}}, "secret", ["8"]),
    (
        "whitespace around secret",
        {**GOOD, "credentials": {**GOOD_CREDENTIALS, "secret": " padded-secret-123 "}},
        "secret",
        ["whitespace"],
    ),
    (
        "secret is a number",
        {**GOOD, "credentials": {**GOOD_CREDENTIALS, "secret": 12345678901}},
        "credentials.secret",
        ["string"],
    ),
    ("name is a number", {**GOOD, "name": 42}, "name", ["string"]),
    ("over-long exchange", {**GOOD, "exchange": "x" * 33}, "exchange", []),
    (
        "1 MB secret",
        {**GOOD, "credentials": {**GOOD_CREDENTIALS, "secret": "s" * 1_000_000}},
        "credentials.secret",
        [],
    ),
]

STORED_TABLES = ("connections", "sealed_credentials", "audit_events")


def _stored(server: ApiServer) -> dict[str, int]:
    counts = row_counts(server.home)
    return {table: counts[table] for table in STORED_TABLES}


def _assert_error(response: Any, status: int, code: str, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) <= {"code", "message", "field"}
    assert error["code"] == code and error["message"], error
    assert error.get("field") == field, error
    return error


@pytest.mark.parametrize(
    ("body", "field", "words"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(
    api_server: ApiServer, body: Any, field: str, words: list[str]
) -> None:
    before = _stored(api_server)
    response = api_server.client("admin").post("/api/v1/connections", json=body)
    error = _assert_error(response, 422, "invalid_input", field)
    for word in words:
        assert word.lower() in error["message"].lower(), error
    assert _stored(api_server) == before
    # No value is echoed back: not the secret, not the apiKey.
    for value in GOOD_CREDENTIALS.values():
        assert value not in response.text


def test_a_value_pasted_as_a_field_name_is_not_echoed(api_server: ApiServer) -> None:
    before = _stored(api_server)
    body = {**GOOD, "credentials": {**GOOD_CREDENTIALS, SECRET_AS_FIELD_NAME: "x"}}
    response = api_server.client("admin").post("/api/v1/connections", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "credentials"
    assert find_leaks([response.text], [SECRET_AS_FIELD_NAME]) == []
    assert _stored(api_server) == before


def test_bad_json_and_wrong_types_are_422_in_the_error_shape(api_server: ApiServer) -> None:
    admin = api_server.client("admin")
    before = _stored(api_server)
    for content in (b'{"name": "x", ', b"[1, 2]", b'"just a string"', b"\xff\xfe"):
        response = admin.post(
            "/api/v1/connections", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_input"
    assert _stored(api_server) == before


def test_a_duplicate_name_is_409_and_stores_nothing(api_server: ApiServer) -> None:
    admin = api_server.client("admin")
    assert admin.post("/api/v1/connections", json=GOOD).status_code == 201
    before = _stored(api_server)
    for name in ("Binance Main", "BINANCE MAIN", "  binance main  "):
        _assert_error(admin.post("/api/v1/connections", json={**GOOD, "name": name}), 409, "conflict", "name")
    assert _stored(api_server) == before


def test_unknown_connection_is_404_on_every_connection_route(api_server: ApiServer) -> None:
    admin = api_server.client("admin")
    calls = [
        ("GET", "/api/v1/connections/nope", None),
        ("GET", "/api/v1/connections/nope/history", None),
        ("POST", "/api/v1/connections/nope/test", None),
        ("POST", "/api/v1/connections/nope/rotate", {"credentials": GOOD_CREDENTIALS}),
        ("DELETE", "/api/v1/connections/nope", None),
    ]
    for method, path, body in calls:
        _assert_error(admin.request(method, path, json=body), 404, "not_found", "name")


def _masked(api_key: str) -> str:
    return f"{api_key[:4]}…{api_key[-4:]}"


def _audit_kinds(server: ApiServer) -> list[str]:
    page = server.client("admin").get("/api/v1/audit", params={"connection": "Binance Sim", "page_size": 500})
    assert page.status_code == 200
    return [item["kind"] for item in reversed(page.json()["items"])]


def test_lifecycle_create_test_rotate_history_remove(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    admin = api_server.client("admin")
    first = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    body = {
        "name": "Binance Sim",
        "exchange": "binance",
        "market": "spot",
        "endpoint": threaded_sim.url,
        "credentials": {"apiKey": first["apiKey"], "secret": first["secret"]},
    }
    created = admin.post("/api/v1/connections", json=body)
    assert created.status_code == 201, created.text
    connection = created.json()
    assert connection["status"] == "untested"
    assert connection["api_key"] == _masked(first["apiKey"])
    assert connection["credential_fields"] == ["apiKey", "secret"]
    assert connection["endpoint"] == threaded_sim.url
    cid = connection["id"]
    assert row_counts(api_server.home)["sealed_credentials"] == 2

    tested = admin.post(f"/api/v1/connections/{cid}/test")
    assert tested.status_code == 200, tested.text
    result = tested.json()
    assert (result["ok"], result["status"], result["name"]) == (True, "online", "Binance Sim")
    assert result["permissions"]["withdraw"] is False and result["permissions"]["ip_restricted"] is True
    assert {check["name"] for check in result["checks"]}
    shown = admin.get("/api/v1/connections/binance sim")  # by name, any case
    assert shown.status_code == 200 and shown.json()["status"] == "online" and shown.json()["id"] == cid

    # A withdraw-enabled key is tested and refused: the old key stays in force.
    risky = sim_admin.key("binance", ["read", "spot_trade", "withdraw"], ["127.0.0.1"])
    rotated = admin.post(
        f"/api/v1/connections/{cid}/rotate",
        json={"credentials": {"apiKey": risky["apiKey"], "secret": risky["secret"]}},
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["rotated"] is False
    assert rotated.json()["test"]["status"] == "withdraw_enabled"
    assert rotated.json()["test"]["ok"] is False
    assert admin.get(f"/api/v1/connections/{cid}").json()["api_key"] == _masked(first["apiKey"])
    assert admin.post(f"/api/v1/connections/{cid}/test").json()["status"] == "online"

    # A good key is swapped in; with the old one revoked at the exchange, the connection stays online.
    second = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    rotated = admin.post(
        f"/api/v1/connections/{cid}/rotate",
        json={"credentials": {"apiKey": second["apiKey"], "secret": second["secret"]}},
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["rotated"] is True and rotated.json()["test"]["status"] == "online"
    after = admin.get(f"/api/v1/connections/{cid}").json()
    assert after["api_key"] == _masked(second["apiKey"]) and after["status"] == "online"
    sim_admin.revoke(first["apiKey"])
    assert admin.post(f"/api/v1/connections/{cid}/test").json()["status"] == "online"
    assert row_counts(api_server.home)["sealed_credentials"] == 2

    history = admin.get(f"/api/v1/connections/{cid}/history")
    assert history.status_code == 200
    items = history.json()
    # test, test, the passing rotation's test, test (the refused rotation is audited, not a result).
    assert [item["status"] for item in items] == ["online"] * 4
    stamps = [item["checked_at"] for item in items]
    assert stamps == sorted(stamps, reverse=True)
    assert len(admin.get(f"/api/v1/connections/{cid}/history", params={"limit": 1}).json()) == 1

    kinds = _audit_kinds(api_server)
    assert kinds[0] == "connection.added"
    assert "connection.rotation_refused" in kinds and "connection.rotated" in kinds
    assert kinds.count("connection.tested") == 4

    removed = admin.delete(f"/api/v1/connections/{cid}")
    assert removed.status_code == 204 and removed.content == b""
    _assert_error(admin.get(f"/api/v1/connections/{cid}"), 404, "not_found", "name")
    assert admin.get("/api/v1/connections").json() == []
    counts = row_counts(api_server.home)
    assert (counts["connections"], counts["sealed_credentials"]) == (0, 0)
    assert _audit_kinds(api_server)[-1] == "connection.removed"
    with sqlite3.connect(api_server.home / "tradewarden.db") as db:
        assert db.execute("select count(*) from connection_checks").fetchone()[0] == 4  # history outlives it


def test_kucoin_with_passphrase_and_futures_market(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    admin = api_server.client("admin")
    key = sim_admin.key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
    body = {
        "name": "KuCoin Main",
        "exchange": "kucoin",
        "endpoint": threaded_sim.url,
        "credentials": {k: key[k] for k in ("apiKey", "secret", "password")},
    }
    created = admin.post("/api/v1/connections", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["credential_fields"] == ["apiKey", "password", "secret"]
    assert created.json()["market"] == "spot"
    tested = admin.post("/api/v1/connections/KuCoin Main/test").json()
    assert tested["status"] == "online", tested


def test_audit_time_filters(api_server: ApiServer) -> None:
    """ISO 8601 in, UTC when no offset is given (a naive time once made a 500); numbers are refused."""
    admin = api_server.client("admin")
    assert admin.post("/api/v1/connections", json=GOOD).status_code == 201
    for value in ("2000-01-01", "2000-01-01T00:00:00", "2000-01-01T00:00:00Z", "2000-01-01T01:00:00+01:00"):
        page = admin.get("/api/v1/audit", params={"since": value, "connection": "Binance Main"})
        assert page.status_code == 200, (value, page.text)
        assert [item["kind"] for item in page.json()["items"]] == ["connection.added"]
        page = admin.get("/api/v1/audit", params={"until": value})
        assert page.status_code == 200 and page.json()["total"] == 0, (value, page.text)
    for value in ("0.5", "1700000000", "yesterday", "2000-13-01"):
        _assert_error(admin.get("/api/v1/audit", params={"since": value}), 422, "invalid_input", "since")


def test_framework_errors_use_the_error_shape(api_server: ApiServer) -> None:
    admin = api_server.client("admin")
    _assert_error(admin.get("/api/v1/no-such-thing"), 404, "not_found", None)
    not_allowed = admin.put("/api/v1/connections")
    _assert_error(not_allowed, 405, "method_not_allowed", None)
    assert not_allowed.headers["allow"] == "GET, POST"  # every method of the resource, not just one route's
    assert admin.put("/api/v1/connections/x").headers["allow"] == "DELETE, GET, PATCH"
    # Also with the dashboard mounted at "/": a GET to a POST-only API route is 405, not the dashboard's 404.
    login = admin.get("/api/v1/auth/login")
    _assert_error(login, 405, "method_not_allowed", None)
    assert login.headers["allow"] == "POST"
    # Names may hold "/" (issue 9): this path asks for the connection named "x/test/more".
    _assert_error(admin.get("/api/v1/connections/x/test/more"), 404, "not_found", "name")
