"""Issue 9 (part A): one bad reply or one bad row never stops the other connections.

- An exchange answering malformed JSON (`bad_json` fault) is that connection's exchange_unavailable with
  the cause; `test --all` reports every connection (exit 1, no traceback, not 70), the API's test route
  answers a report, the health monitor's round completes.
- A sealed secret altered or moved in the SQLite file is that connection's integrity_error, audited; the
  others are tested, the health monitor and the portfolio carry on for them.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api._serverfixture import running_server
from tests.integration.conftest import sim_admin, threaded_sim  # noqa: F401  (fixtures)
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services import portfolio
from tradewarden.services.app import App, open_app
from tradewarden.services.connections import service
from tradewarden.services.connections.health import HealthMonitor
from tradewarden.sim import ThreadedSim

NAMES = {
    "binance": "Binance Main",
    "kucoin": "KuCoin Main",
    "mexc": "MEXC Main",
    "okx": "OKX Main",
    "bybit": "Bybit Main",
}
BROKEN_VENUE = "okx"
INTEGRITY = "cannot be decrypted: it was altered or moved"


def _open(home: Path) -> App:
    return open_app(Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024))


def _add(app: App, name: str, venue: str, admin: SimAdmin, url: str) -> None:
    key = admin.key(venue, ["read", "spot_trade"], ["127.0.0.1"])
    creds = {f: Secret(str(key[f])) for f in ("apiKey", "secret", "password") if key.get(f)}
    service.add_connection(app, Secret(PASSPHRASE), name, venue, creds, endpoint=url)


def _connections(cli: Cli, admin: SimAdmin, url: str, names: dict[str, str]) -> None:
    assert cli("init").code == 0
    app = _open(cli.home)
    try:
        for venue, name in names.items():
            _add(app, name, venue, admin, url)
    finally:
        app.close()


def _round(app: App) -> tuple[HealthMonitor, dict[str, str]]:
    monitor = HealthMonitor(app, Secret(PASSPHRASE), timeout_ms=10_000)
    reports = asyncio.run(monitor.run_once())
    return monitor, {report.name: report.status for report in reports}


# ------------------------------------------------------------------------------------- malformed reply


@pytest.mark.attack("one exchange answers malformed JSON: every connection's test fails")
def test_bad_json_is_that_connections_problem_in_test_all(
    cli: Cli,
    sim_admin: SimAdmin,  # noqa: F811
    threaded_sim: ThreadedSim,  # noqa: F811
) -> None:
    _connections(cli, sim_admin, threaded_sim.url, NAMES)
    sim_admin.fault(BROKEN_VENUE, "bad_json", rate=1.0)
    result = cli("connections", "test", "--all", "--json")
    assert result.code == 1, (result.code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    reports = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(reports) == set(NAMES.values())
    broken = reports[NAMES[BROKEN_VENUE]]
    assert broken["status"] == "exchange_unavailable" and broken["ok"] is False
    first = broken["checks"][0]
    assert first["ok"] is False and "could not be read" in first["detail"], first
    for venue, name in NAMES.items():
        if venue != BROKEN_VENUE:
            assert reports[name]["status"] == "online", reports[name]
    human = cli("connections", "test", "--all")
    assert human.code == 1 and "Traceback" not in human.stdout + human.stderr
    for name in NAMES.values():
        assert name in human.stdout


@pytest.mark.attack("one exchange answers malformed JSON: every connection's test fails")
def test_bad_json_health_round_completes_for_the_others(
    cli: Cli,
    sim_admin: SimAdmin,  # noqa: F811
    threaded_sim: ThreadedSim,  # noqa: F811
) -> None:
    names = {v: NAMES[v] for v in ("binance", "kucoin", BROKEN_VENUE)}
    _connections(cli, sim_admin, threaded_sim.url, names)
    sim_admin.fault(BROKEN_VENUE, "bad_json", rate=1.0)
    app = _open(cli.home)
    try:
        monitor, statuses = _round(app)
    finally:
        app.close()
    assert monitor.rounds == 1
    assert statuses == {
        NAMES["binance"]: "online",
        NAMES["kucoin"]: "online",
        NAMES[BROKEN_VENUE]: "exchange_unavailable",
    }


@pytest.mark.attack("one exchange answers malformed JSON: the API answers a bare 500")
def test_bad_json_api_test_route_answers_a_report(
    tmp_path: Path,
    sim_admin: SimAdmin,  # noqa: F811
    threaded_sim: ThreadedSim,  # noqa: F811
) -> None:
    with running_server(tmp_path / "api") as server:
        key = sim_admin.key(BROKEN_VENUE, ["read", "spot_trade"], ["127.0.0.1"])
        view = server.add_connection("okx-main", BROKEN_VENUE, key, threaded_sim.url)
        sim_admin.fault(BROKEN_VENUE, "bad_json", rate=1.0)
        with server.client(server.admin_token) as client:
            response = client.post(f"/api/v1/connections/{view.id}/test")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "exchange_unavailable" and report["ok"] is False
    assert "could not be read" in report["checks"][0]["detail"]


# ----------------------------------------------------------------------------------- tampered sealed row

TAMPER_NAMES = {"binance": "Binance Main", "kucoin": "KuCoin Main"}
VICTIM = "Binance Two"


def _tamper(home: Path, how: str) -> None:
    """Flip one bit of the victim's sealed secret, or move another connection's sealed secret onto it."""
    with sqlite3.connect(home / "tradewarden.db") as db:
        ids = dict(db.execute("select name, id from connections").fetchall())
        where = "where connection_id = ? and field = 'secret'"
        query = f"select nonce, ciphertext from sealed_credentials {where}"
        if how == "flip":
            nonce, ciphertext = db.execute(query, (ids[VICTIM],)).fetchone()
            altered = bytearray(ciphertext)
            altered[len(altered) // 2] ^= 0x01
            ciphertext = bytes(altered)
        else:  # a valid ciphertext, sealed for another connection: bound to it, it must not open here
            nonce, ciphertext = db.execute(query, (ids["Binance Main"],)).fetchone()
        updated = db.execute(
            f"update sealed_credentials set nonce = ?, ciphertext = ? {where}",
            (nonce, ciphertext, ids[VICTIM]),
        )
        assert updated.rowcount == 1


def _integrity_events(home: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(home / "tradewarden.db") as db:
        rows = db.execute(
            "select connection_name, detail_json from audit_events where kind = 'connection.integrity_error'"
        ).fetchall()
    return [{"connection": name, **json.loads(detail)} for name, detail in rows]


@pytest.mark.attack("one sealed row altered or moved: every connection's test fails")
@pytest.mark.parametrize("how", ["flip", "move"])
def test_tampered_row_is_that_connections_integrity_error(
    cli: Cli,
    sim_admin: SimAdmin,  # noqa: F811
    threaded_sim: ThreadedSim,  # noqa: F811
    how: str,
) -> None:
    _connections(cli, sim_admin, threaded_sim.url, TAMPER_NAMES)
    app = _open(cli.home)
    try:
        _add(app, VICTIM, "binance", sim_admin, threaded_sim.url)
    finally:
        app.close()
    _tamper(cli.home, how)

    # The portfolio (all still untested, so all fetched): the victim's part says why, the others count.
    app = _open(cli.home)
    try:
        folio = asyncio.run(portfolio.get_portfolio(app, Secret(PASSPHRASE), "USDT", {}))
    finally:
        app.close()
    parts = {part.name: part for part in folio.connections}
    assert INTEGRITY in (parts[VICTIM].error or ""), parts[VICTIM]
    for name in TAMPER_NAMES.values():
        assert parts[name].error is None and parts[name].total is not None, parts[name]

    result = cli("connections", "test", "--all", "--json")
    assert result.code == 1, (result.code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    reports = {r["name"]: r for r in json.loads(result.stdout)}
    victim = reports[VICTIM]
    assert victim["status"] == "integrity_error" and victim["ok"] is False
    assert victim["message"] == f"The stored key for {VICTIM} {INTEGRITY}."
    assert f'connections rotate "{VICTIM}"' in victim["remedy"]
    for name in TAMPER_NAMES.values():
        assert reports[name]["status"] == "online", reports[name]
    events = _integrity_events(cli.home)
    assert events and {e["connection"] for e in events} == {VICTIM}
    assert all(e["fields"] == ["apiKey", "secret"] for e in events)

    app = _open(cli.home)
    try:
        monitor, statuses = _round(app)
    finally:
        app.close()
    assert monitor.rounds == 1
    assert statuses == {**{n: "online" for n in TAMPER_NAMES.values()}, VICTIM: "integrity_error"}
