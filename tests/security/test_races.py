"""Issue 9.6: concurrent creates and rotates through a real server, on SQLite and (when present) PostgreSQL.

Parallel creates of one name (or of names equal once normalised) give one 201 and 409 for the rest,
never a 500 and never a duplicate; parallel rotates of one connection: one wins, the rest get 409.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE, Cli
from tests.integration.conftest import sim_admin, threaded_sim  # noqa: F401 (fixtures)
from tests.integration.simtools import SimAdmin
from tests.pg import pg_available, pg_schema_url
from tests.serving import serve_in_thread
from tradewarden.adapters.store.models import Connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.app import create_app
from tradewarden.api.server import ServeOptions, build_state
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import App, open_app
from tradewarden.services.connections import checks, service
from tradewarden.services.errors import ConflictError
from tradewarden.services.vault_access import init_vault
from tradewarden.sim import ThreadedSim

CREDS = {"apiKey": "AKrace0123456789", "secret": "race-secret-0123456789"}
JOIN_TIMEOUT_S = 120.0


@contextlib.contextmanager
def server_on(home: Path, database_url: str | None) -> Iterator[tuple[str, str, App]]:
    """A real server on `home` and the given database: (base URL, admin token, app)."""
    settings = Settings(home=home, database_url=database_url, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings, actor="test:race")
    try:
        assert init_vault(app, Secret(PASSPHRASE))
        token = tokens.create_token(app, "race-admin", "admin")[1].reveal()
        state = build_state(app, Secret(PASSPHRASE), ServeOptions(monitor_interval_s=3600.0))
        with serve_in_thread(create_app(state)) as url:
            yield url, token, app
    finally:
        app.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, App]]:
    """A server on SQLite, then on PostgreSQL when it runs on 127.0.0.1:5432."""
    if request.param == "sqlite":
        with server_on(tmp_path / "twhome", None) as running:
            yield running
        return
    if not pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432: the SQLite case ran")
    with pg_schema_url() as url, server_on(tmp_path / "twhome", url) as running:
        yield running


def in_parallel(calls: list[tuple[str, str, dict[str, Any]]], base: str, token: str) -> list[httpx.Response]:
    """Send every (method, path, json) at once (released together by a barrier); answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | BaseException | None] = [None] * len(calls)

    def one(index: int, method: str, path: str, body: dict[str, Any]) -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60, trust_env=False
        ) as client:
            barrier.wait(timeout=30)
            try:
                answers[index] = client.request(method, path, json=body)
            except BaseException as exc:  # reported below, with the others
                answers[index] = exc

    threads = [threading.Thread(target=one, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT_S)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish"
    failures = [a for a in answers if not isinstance(a, httpx.Response)]
    assert not failures, failures
    return [a for a in answers if isinstance(a, httpx.Response)]


def stored_names(app: App) -> list[str]:
    """Every connection name in the store."""
    with app.store.session() as session:
        return list(session.scalars(select(Connection.name)))


@pytest.mark.attack("parallel create race")
def test_twenty_parallel_creates_of_one_name_give_one_201(server: tuple[str, str, App]) -> None:
    base, token, app = server
    body = {"name": "Race Ü", "exchange": "binance", "credentials": CREDS}
    answers = in_parallel([("POST", "/api/v1/connections", body)] * 20, base, token)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 19, [a.text for a in answers if a.status_code not in (201, 409)]
    conflicts = [a.json()["error"] for a in answers if a.status_code == 409]
    # every loser is told the name is taken, also one that passed the name check before the winner
    # committed and then met the winner's key (it used to hear "credentials")
    assert {(c["code"], c["field"]) for c in conflicts} == {("conflict", "name")}, conflicts
    assert stored_names(app) == ["Race Ü"]


def test_the_same_key_under_the_same_name_is_the_names_conflict(tmp_path: Path) -> None:
    """The step the race above hits, in order: the name check passed, then the key check finds the key
    stored under that very name (normalised): the answer names the name, not the credentials."""
    app = open_app(Settings(home=tmp_path / "home"), actor="test")
    try:
        init_vault(app, Secret(PASSPHRASE))
        creds = {k: Secret(v) for k, v in CREDS.items()}
        service.add_connection(app, Secret(PASSPHRASE), "Race Ü", "binance", creds)
        with pytest.raises(ConflictError) as same:
            service.refuse_stored_key(app, Secret(PASSPHRASE), creds, name="race u\u0308")
        assert same.value.field == "name"
        with pytest.raises(ConflictError) as other:
            service.refuse_stored_key(app, Secret(PASSPHRASE), creds, name="Another")
        assert other.value.field == "credentials"
    finally:
        app.close()


@pytest.mark.attack("parallel create race")
def test_parallel_creates_of_names_equal_once_normalised_store_one(server: tuple[str, str, App]) -> None:
    base, token, app = server
    variants = ["Race Ü", "race ü", "RACE Ü", "Race U\u0308", "ｒａｃｅ ü", "RaCe Ü", "race Ü", "RACE ü"]
    calls = [
        ("POST", "/api/v1/connections", {"name": name, "exchange": "binance", "credentials": CREDS})
        for name in variants
    ]
    answers = in_parallel(calls, base, token)
    assert sorted(a.status_code for a in answers) == [201] + [409] * (len(variants) - 1)
    names = stored_names(app)
    assert len(names) == 1 and names[0] in variants
    with app.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Connection)) == 1


@pytest.mark.attack("parallel rotate race")
def test_ten_parallel_rotates_one_wins_the_rest_are_told(
    server: tuple[str, str, App],
    threaded_sim: ThreadedSim,  # noqa: F811 (the imported fixture)
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    base, token, app = server
    first = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    created = httpx.post(
        f"{base}/api/v1/connections",
        json={
            "name": "Rotate Race",
            "exchange": "binance",
            "endpoint": threaded_sim.url,
            "credentials": {"apiKey": first["apiKey"], "secret": first["secret"]},
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        trust_env=False,
    )
    assert created.status_code == 201, created.text
    new_keys = [sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"]) for _ in range(10)]
    # Every rotation's test takes a while, so all ten read the key version before any swaps.
    sim_admin.fault("binance", "latency", rate=1.0, ms=300)
    calls = [
        (
            "POST",
            "/api/v1/connections/Rotate%20Race/rotate",
            {"credentials": {"apiKey": key["apiKey"], "secret": key["secret"]}},
        )
        for key in new_keys
    ]
    answers = in_parallel(calls, base, token)
    sim_admin.clear_faults()
    winners = [i for i, a in enumerate(answers) if a.status_code == 200 and a.json()["rotated"] is True]
    losers = [a for a in answers if a.status_code == 409]
    assert len(winners) == 1, [(a.status_code, a.text[:200]) for a in answers]
    assert len(losers) == 9
    for loser in losers:
        error = loser.json()["error"]
        assert error["code"] == "conflict" and "changed while this rotation was under way" in error["message"]
    # The key in force is the winner's, and the version moved exactly once.
    view = service.show_connection(app, "rotate race")
    won = new_keys[winners[0]]["apiKey"]
    assert view.api_key == f"{won[:4]}…{won[-4:]}"
    with app.store.session() as session:
        assert session.scalar(select(Connection.key_version)) == 2


@pytest.mark.attack("parallel rotate race")
def test_a_rotation_whose_key_changed_underneath_changes_nothing(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings, actor="test:race")
    try:
        passphrase = Secret(PASSPHRASE)
        assert init_vault(app, passphrase)
        service.add_connection(app, passphrase, "Stale", "binance", {k: Secret(v) for k, v in CREDS.items()})
        newer = {"apiKey": Secret("AKnewer123456789"), "secret": Secret("newer-secret-0123456")}
        service.rotate_credentials(app, passphrase, "stale", newer, expected_version=1)
        stale = {"apiKey": Secret("AKstale123456789"), "secret": Secret("stale-secret-0123456")}
        with pytest.raises(ConflictError, match="changed while this rotation"):
            service.rotate_credentials(app, passphrase, "stale", stale, expected_version=1)
        assert service.show_connection(app, "stale").api_key == "AKne…6789"
    finally:
        app.close()


@pytest.mark.attack("parallel rotate race")
def test_a_cli_rotation_that_loses_the_race_exits_non_zero(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    threaded_sim: ThreadedSim,  # noqa: F811 (the imported fixture)
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    assert cli("init").code == 0
    keys = [sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"]) for _ in range(3)]
    files = []
    for i, key in enumerate(keys):
        path = tmp_path / f"key{i}.json"
        path.write_text(json.dumps({"apiKey": key["apiKey"], "secret": key["secret"]}))
        files.append(path)
    added = cli(
        "connections", "add", "Race CLI", "-e", "binance", "-c", str(files[0]), "--endpoint", threaded_sim.url
    )
    assert added.code == 0, added.stderr
    real_run_targets = checks.run_targets

    async def another_rotation_commits_meanwhile(
        targets: list[checks.Target], timeout_ms: int = 30_000
    ) -> Any:
        reports = await real_run_targets(targets, timeout_ms)
        settings = Settings(home=cli.home, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
        other = open_app(settings, actor="test:other-process")
        try:
            creds = {"apiKey": Secret(keys[1]["apiKey"]), "secret": Secret(keys[1]["secret"])}
            service.rotate_credentials(other, Secret(PASSPHRASE), "race cli", creds)
        finally:
            other.close()
        return reports

    monkeypatch.setattr(checks, "run_targets", another_rotation_commits_meanwhile)
    lost = cli("connections", "rotate", "Race CLI", "-c", str(files[2]))
    assert lost.code == 1
    assert "changed while this rotation was under way" in lost.stderr
    shown = json.loads(cli("connections", "show", "Race CLI", "--json").stdout)
    assert shown["api_key"] == f"{keys[1]['apiKey'][:4]}…{keys[1]['apiKey'][-4:]}"  # the winner's key
