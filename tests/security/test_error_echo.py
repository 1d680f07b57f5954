"""Issue 9.7: an error never echoes a key or value that could be a secret: unknown fields are named by
position, in the CLI's credentials file and in API bodies; a bad endpoint URL is not repeated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.api.conftest import ApiServer, running_server

CREDS = {"apiKey": "AKecho0123456789", "secret": "echo-secret-0123456789"}
# Pasted where a field name belongs; identifier-shaped and short, so a "looks like a name" rule shows it.
SECRET_AS_KEY = "sk9Live4Qx7TzB2"
PASSWORD_IN_URL = "pr0xyPassw0rd77"


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[ApiServer]:
    """A real server on a fresh home."""
    with running_server(tmp_path / "twhome") as server:
        yield server


@pytest.mark.attack("secret echoed in error")
@pytest.mark.parametrize("key", [SECRET_AS_KEY, "Zq8vN3kPw7Lx2RtY5mBc9HdJ+4fG/aQ=", "apikey"])
def test_cli_names_an_unknown_credentials_field_by_position(cli: Cli, tmp_path: Path, key: str) -> None:
    assert cli("init").code == 0
    path = tmp_path / "creds.json"
    path.write_text(json.dumps({**CREDS, key: "x"}))
    result = cli("connections", "add", "Echo", "-e", "binance", "-c", str(path))
    assert result.code == 1
    assert "unknown field #3" in result.stderr and "allowed: apiKey, secret, password" in result.stderr
    assert key not in result.stdout + result.stderr


@pytest.mark.attack("secret echoed in error")
def test_api_names_unknown_fields_by_position_never_by_text(api_server: ApiServer) -> None:
    admin = api_server.client("admin")
    nested = {"name": "Echo", "exchange": "binance", "credentials": {**CREDS, SECRET_AS_KEY: "x"}}
    response = admin.post("/api/v1/connections", json=nested)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "credentials" and "unknown field #3" in error["message"]
    assert "apiKey" in error["message"]  # the allowed names are told
    assert SECRET_AS_KEY not in response.text

    top = {SECRET_AS_KEY: "x", "name": "Echo", "exchange": "binance", "credentials": CREDS}
    response = admin.post("/api/v1/connections", json=top)
    assert response.status_code == 422 and "unknown field #1" in response.json()["error"]["message"]
    assert SECRET_AS_KEY not in response.text

    rotate = admin.post(
        "/api/v1/connections/Echo/rotate", json={"credentials": {**CREDS, SECRET_AS_KEY: "x"}}
    )
    assert rotate.status_code == 422 and SECRET_AS_KEY not in rotate.text


@pytest.mark.attack("secret echoed in error")
def test_a_bad_endpoint_with_a_password_is_not_repeated(
    api_server: ApiServer, cli: Cli, tmp_path: Path
) -> None:
    bad = f"ftp://user:{PASSWORD_IN_URL}@proxy.example"
    response = api_server.client("admin").post(
        "/api/v1/connections",
        json={"name": "Echo", "exchange": "binance", "endpoint": bad, "credentials": CREDS},
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "endpoint"
    assert PASSWORD_IN_URL not in response.text

    assert cli("init").code == 0
    path = tmp_path / "creds.json"
    path.write_text(json.dumps(CREDS))
    result = cli("connections", "add", "Echo", "-e", "binance", "-c", str(path), "--endpoint", bad)
    assert result.code == 1 and "endpoint" in result.stderr
    assert PASSWORD_IN_URL not in result.stdout + result.stderr


@pytest.mark.attack("secret echoed in error")
def test_a_value_given_as_exchange_or_market_is_not_repeated(api_server: ApiServer) -> None:
    admin = api_server.client("admin")
    for field, value in (("exchange", "Zx9QwErTy55"), ("market", "Zx9QwErTy55")):
        body = {"name": "Echo", "exchange": "binance", "credentials": CREDS, field: value}
        response = admin.post("/api/v1/connections", json=body)
        assert response.status_code == 422 and response.json()["error"]["field"] == field
        assert value not in response.text
