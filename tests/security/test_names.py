"""Issue 9.3 and 9.5: names are printed as typed (never as Rich markup), refused when they hide characters,
and compared by their normalised form (NFKC, case-folded) for uniqueness and lookup, in the CLI and API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from tests.conftest import Cli
from tests.integration.api.conftest import ApiServer, running_server
from tests.pg import pg_available, pg_schema_url
from tradewarden.adapters.store.db import Store, alembic_config, migrate
from tradewarden.adapters.store.models import AuditEvent

CREDS = {"apiKey": "AKname0123456789", "secret": "name-secret-0123456789"}
CLOSED_PORT_ENDPOINT = "http://127.0.0.1:9"  # nothing listens: a test fails fast, offline


@pytest.fixture
def creds_file(tmp_path: Path) -> Path:
    """A credentials file with well-formed (fake) values."""
    path = tmp_path / "creds.json"
    path.write_text(json.dumps(CREDS))
    return path


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[ApiServer]:
    """A real server on a fresh home."""
    with running_server(tmp_path / "twhome") as server:
        yield server


def add(cli: Cli, name: str, creds: Path, *extra: str) -> int:
    """`connections add NAME` on binance through a closed port; its exit code."""
    return cli(
        "connections",
        "add",
        "--no-test",  # the names are under test here, not the key
        name,
        "-e",
        "binance",
        "-c",
        str(creds),
        "--endpoint",
        CLOSED_PORT_ENDPOINT,
        *extra,
    ).code


@pytest.mark.attack("rich markup in names")
@pytest.mark.parametrize(
    "name", ["oops [/]", "[bold red]loud[/]", "x [link=http://evil]y[/link]", ":warning: z"]
)
def test_markup_in_a_connection_name_is_printed_as_typed(cli: Cli, creds_file: Path, name: str) -> None:
    assert cli("init").code == 0
    added = cli(
        "connections",
        "add",
        "--no-test",
        name,
        "-e",
        "binance",
        "-c",
        str(creds_file),
        "--endpoint",
        CLOSED_PORT_ENDPOINT,
    )
    assert added.code == 0, added.stderr
    assert name in added.stdout
    listed = cli("connections", "list")
    assert listed.code == 0, listed.stderr
    assert name in listed.stdout
    shown = cli("connections", "show", name)
    assert shown.code == 0 and name in shown.stdout
    tested = cli("connections", "test", "--all")
    assert tested.code == 1, tested.stderr  # the endpoint is closed: a failed test, not a crash (70)
    assert name in tested.stdout
    removed = cli("connections", "remove", "-y", name)
    assert removed.code == 0 and name in removed.stdout


@pytest.mark.attack("rich markup in names")
def test_a_token_name_cannot_hide_itself_in_tokens_list(cli: Cli) -> None:
    assert cli("init").code == 0
    name = "[white on white]backdoor[/]"
    created = cli("tokens", "create", name, "--scope", "admin")
    assert created.code == 0, created.stderr
    assert name in created.stderr
    listed = cli("tokens", "list")
    assert listed.code == 0 and name in listed.stdout


@pytest.mark.attack("rich markup in names")
@pytest.mark.parametrize(
    ("name", "codepoint"),
    [
        ("evil\x1b[31mred", "U+001B"),  # ANSI escape
        ("two\nlines", "U+000A"),
        ("bidi\u202eevil", "U+202E"),  # right-to-left override
        ("zero\u200bwidth", "U+200B"),
        ("para\u2029sep", "U+2029"),
    ],
)
def test_names_with_hidden_characters_are_refused(
    cli: Cli, creds_file: Path, name: str, codepoint: str
) -> None:
    assert cli("init").code == 0
    result = cli("connections", "add", "--no-test", name, "-e", "binance", "-c", str(creds_file))
    assert result.code == 1
    assert codepoint in result.stderr and "name" in result.stderr
    token = cli("tokens", "create", name)
    assert token.code == 1 and codepoint in token.stderr
    assert "No connections yet" in cli("connections", "list").stdout


@pytest.mark.attack("unicode name confusion")
def test_a_name_is_found_in_any_case_and_form_and_never_twice(cli: Cli, creds_file: Path) -> None:
    assert cli("init").code == 0
    assert add(cli, "Ödeme Konto", creds_file) == 0
    for spelling in ("Ödeme Konto", "ödeme konto", "ÖDEME KONTO", "O\u0308deme Konto"):
        shown = cli("connections", "show", spelling, "--json")
        assert shown.code == 0, (spelling, shown.stderr)
        assert json.loads(shown.stdout)["name"] == "Ödeme Konto"  # the display name, as typed
    duplicate = cli("connections", "add", "--no-test", "ödeme konto", "-e", "binance", "-c", str(creds_file))
    assert duplicate.code == 1 and "already exists" in duplicate.stderr
    assert [c["name"] for c in json.loads(cli("connections", "list", "--json").stdout)] == ["Ödeme Konto"]


@pytest.mark.attack("unicode name confusion")
def test_remove_by_a_fullwidth_name_removes_the_one_it_normalises_to(cli: Cli, creds_file: Path) -> None:
    assert cli("init").code == 0
    assert add(cli, "MEXC", creds_file) == 0
    other = creds_file.with_name("other.json")  # one API key lives under one name only (issue 10)
    other.write_text(json.dumps({"apiKey": "AKother0123456789", "secret": "other-secret-0123456789"}))
    assert add(cli, "Other", other) == 0
    clash = cli("connections", "add", "--no-test", "ｍｅｘｃ", "-e", "binance", "-c", str(creds_file))
    assert clash.code == 1 and "already exists" in clash.stderr
    removed = cli("connections", "remove", "-y", "ＭＥＸＣ")
    assert removed.code == 0, removed.stderr
    assert [c["name"] for c in json.loads(cli("connections", "list", "--json").stdout)] == ["Other"]
    assert cli("connections", "remove", "-y", "ＭＥＸＣ").code == 1  # gone; nothing else matches


@pytest.mark.attack("unicode name confusion")
def test_token_names_are_unique_by_normalised_form(cli: Cli) -> None:
    assert cli("init").code == 0
    assert cli("tokens", "create", "Grafana").code == 0
    clash = cli("tokens", "create", "ＧＲＡＦＡＮＡ")
    assert clash.code == 1 and "exists" in clash.stderr
    assert cli("tokens", "revoke", "grafana").code == 0
    assert cli("tokens", "create", "ＧＲＡＦＡＮＡ").code == 0  # a revoked token's name is free again


@pytest.mark.attack("unicode name confusion")
def test_the_api_finds_unicode_and_slash_names(api_server: ApiServer) -> None:
    admin = api_server.client("admin")
    for number, name in enumerate(("Ödeme Konto", "Binance/Spot", "a/b/c")):
        # One API key lives under one name only (issue 10): each connection gets its own.
        creds = {**CREDS, "apiKey": f"{CREDS['apiKey']}{number}"}
        body = {"name": name, "exchange": "binance", "credentials": creds}
        assert admin.post("/api/v1/connections", json=body).status_code == 201
    assert admin.get("/api/v1/connections/%C3%96deme%20Konto").json()["name"] == "Ödeme Konto"
    assert admin.get("/api/v1/connections/%C3%B6DEME%20konto").json()["name"] == "Ödeme Konto"
    assert admin.get("/api/v1/connections/Binance%2FSpot").json()["name"] == "Binance/Spot"
    assert admin.get("/api/v1/connections/binance/spot").json()["name"] == "Binance/Spot"
    assert admin.get("/api/v1/connections/Binance%2FSpot/history").status_code == 200
    duplicate = admin.post(
        "/api/v1/connections", json={"name": "ödeme KONTO", "exchange": "binance", "credentials": CREDS}
    )
    assert duplicate.status_code == 409
    assert admin.delete("/api/v1/connections/a%2Fb%2Fc").status_code == 204
    names = sorted(c["name"] for c in admin.get("/api/v1/connections").json())
    assert names == ["Binance/Spot", "Ödeme Konto"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file, then a fresh PostgreSQL schema when the server runs."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    if not pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432: the SQLite case ran")
    with pg_schema_url() as url:
        yield url


@pytest.mark.attack("unicode name confusion")
def test_migration_0003_backfills_keys_and_renames_clashing_names(store_url: str) -> None:
    store = Store(store_url)
    try:
        command.upgrade(alembic_config(store.engine), "0002")
        rows = [("a" * 32, "Ödeme Konto", 1), ("b" * 32, "ödeme konto", 2), ("c" * 32, "Ödeme Konto (2)", 3)]
        with store.engine.begin() as conn:
            for row_id, name, day in rows:
                conn.execute(
                    text(
                        "INSERT INTO connections (id, name, exchange, market, key_type, api_key_masked,"
                        " status, created_at, updated_at) VALUES (:id, :name, 'binance', 'spot', 'hmac',"
                        " 'AK…1', 'untested', :ts, :ts)"
                    ),
                    {"id": row_id, "name": name, "ts": f"2026-11-0{day} 00:00:00+00:00"},
                )
            for token_id, name, revoked in (
                ("t1", "Grafana", None),
                ("t2", "GRAFANA", None),
                ("t3", "grafana", "2026-11-01"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO api_tokens (id, name, scope, digest, prefix, created_at, revoked_at) "
                        "VALUES (:id, :name, 'read', :id, 'tw_', '2026-11-01 00:00:00+00:00', :revoked)"
                    ),
                    {"id": token_id, "name": name, "revoked": revoked},
                )
        assert migrate(store.engine) is True
        with store.engine.connect() as conn:
            names: dict[str, str] = dict(conn.execute(text("SELECT id, name FROM connections")).all())
            keys: dict[str, str] = dict(conn.execute(text("SELECT id, name_key FROM connections")).all())
            tokens: dict[str, str] = dict(conn.execute(text("SELECT id, name FROM api_tokens")).all())
        # The oldest keeps its name; the clash is renamed past the existing "(2)"; keys are normalised.
        assert names == {"a" * 32: "Ödeme Konto", "b" * 32: "ödeme konto (3)", "c" * 32: "Ödeme Konto (2)"}
        assert keys["a" * 32] == "ödeme konto" and len(set(keys.values())) == 3
        assert tokens == {"t1": "Grafana", "t2": "GRAFANA (2)", "t3": "grafana"}  # revoked: no clash
        with store.session() as session:
            kinds = [e.kind for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert kinds == ["connection.renamed", "token.renamed"]
    finally:
        store.dispose()
