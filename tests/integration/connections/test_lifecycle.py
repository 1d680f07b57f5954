"""Issue 4: rotation gated by the test, Ed25519 keygen end to end, and the health monitor."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from tests.conftest import PASSPHRASE, Cli
from tests.integration.helpers import find_leaks, write_credentials
from tests.integration.simtools import SimAdmin
from tradewarden.sim import ThreadedSim


def _add_binance(
    cli: Cli, sim: ThreadedSim, admin: SimAdmin, tmp_path: Path, name: str = "Binance Main"
) -> dict:
    key = admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    creds = write_credentials(tmp_path / f"{name}.json", apiKey=key["apiKey"], secret=key["secret"])
    assert cli("init").code == 0
    added = cli("connections", "add", name, "-e", "binance", "--endpoint", sim.url, "-c", str(creds))
    assert added.code == 0, added.stderr
    return dict(key)


def _sealed_rows(home: Path) -> list[tuple[bytes, bytes]]:
    with sqlite3.connect(home / "tradewarden.db") as conn:
        return conn.execute("select nonce, ciphertext from sealed_credentials order by field").fetchall()


def test_rotation_to_a_bad_key_keeps_the_old_one_and_says_why(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin, tmp_path: Path
) -> None:
    _add_binance(cli, threaded_sim, sim_admin, tmp_path)
    before = _sealed_rows(cli.home)
    withdraw_key = sim_admin.key("binance", ["read", "spot_trade", "withdraw"], ["127.0.0.1"])
    bad = write_credentials(
        tmp_path / "bad.json", apiKey=withdraw_key["apiKey"], secret=withdraw_key["secret"]
    )
    result = cli("connections", "rotate", "Binance Main", "-c", str(bad), "--json")
    assert result.code == 1
    data = json.loads(result.stdout)
    assert data["rotated"] is False
    assert data["test"]["status"] == "withdraw_enabled"
    assert "Enable Withdrawals" in data["test"]["remedy"]
    assert _sealed_rows(cli.home) == before  # not one byte of the old credentials changed
    still = json.loads(cli("connections", "test", "Binance Main", "--json").stdout)
    assert still["status"] == "online"
    with sqlite3.connect(cli.home / "tradewarden.db") as conn:
        kinds = [r[0] for r in conn.execute("select kind from audit_events order by id")]
    assert "connection.rotation_refused" in kinds and "connection.rotated" not in kinds


def test_rotation_to_a_good_key_swaps_atomically(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin, tmp_path: Path
) -> None:
    old = _add_binance(cli, threaded_sim, sim_admin, tmp_path)
    new = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    good = write_credentials(tmp_path / "good.json", apiKey=new["apiKey"], secret=new["secret"])
    result = cli("connections", "rotate", "Binance Main", "-c", str(good), "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["rotated"] is True
    shown = json.loads(cli("connections", "show", "Binance Main", "--json").stdout)
    assert shown["api_key"] == f"{new['apiKey'][:4]}…{new['apiKey'][-4:]}"
    assert shown["status"] == "online"
    sim_admin.revoke(old["apiKey"])  # the old key is gone at the exchange: the connection must not care
    assert json.loads(cli("connections", "test", "Binance Main", "--json").stdout)["status"] == "online"


def test_generated_ed25519_key_passes_and_private_key_stays_in_the_vault(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin, tmp_path: Path
) -> None:
    assert cli("init").code == 0
    made = cli("connections", "keygen", "Binance Ed", "--exchange", "binance", "--endpoint", threaded_sim.url)
    assert made.code == 0, made.stderr
    public_pem = made.stdout
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert "Enable Withdrawals" in made.stderr and "connections add" in made.stderr
    pending = json.loads(cli("connections", "show", "Binance Ed", "--json").stdout)
    assert pending["status"] == "awaiting_api_key" and pending["key_type"] == "ed25519"
    key = sim_admin.key(
        "binance", ["read", "spot_trade"], ["127.0.0.1"], key_type="ed25519", public_key=public_pem
    )
    assert "secret" not in key or not key.get("secret")
    api_only = write_credentials(tmp_path / "api.json", apiKey=key["apiKey"])
    assert cli("connections", "add", "Binance Ed", "-e", "binance", "-c", str(api_only)).code == 0
    result = cli("connections", "test", "Binance Ed", "--json")
    assert json.loads(result.stdout)["status"] == "online", result.stdout
    assert result.code == 0
    # The private key: only sealed in the database, nowhere in output, logs or other files.
    from tradewarden.adapters.exchanges.client import open_credentials
    from tradewarden.adapters.vault.secret import Secret
    from tradewarden.config import Settings
    from tradewarden.services.app import open_app
    from tradewarden.services.connections.service import find
    from tradewarden.services.vault_access import unlocked

    app = open_app(Settings(home=cli.home))
    with unlocked(app, Secret(PASSPHRASE)) as (session, opened):
        private_pem = open_credentials(opened, find(session, "Binance Ed"))["secret"].reveal()
    app.close()
    assert "PRIVATE KEY" in private_pem
    body = "".join(private_pem.splitlines()[1:-1])
    files = [p.read_bytes() for p in cli.home.iterdir() if p.is_file()]
    assert find_leaks([*files, *cli.transcript], [body], width=16) == []


def test_health_monitor_retests_after_an_auth_error_and_audits_the_change(
    cli: Cli, threaded_sim: ThreadedSim, sim_admin: SimAdmin, tmp_path: Path
) -> None:
    from tradewarden.adapters.vault.secret import Secret
    from tradewarden.config import Settings
    from tradewarden.services.app import open_app
    from tradewarden.services.connections.health import HealthMonitor

    key = _add_binance(cli, threaded_sim, sim_admin, tmp_path)
    app = open_app(Settings(home=cli.home))
    changes: list[tuple[str, str | None, str]] = []

    async def scenario() -> None:
        monitor = HealthMonitor(app, Secret(PASSPHRASE), interval_s=3600, timeout_ms=5_000)
        monitor.listeners.append(lambda name, old, new: changes.append((name, old, new)))
        stop = asyncio.Event()
        task = asyncio.create_task(monitor.run(stop))
        for _ in range(100):  # the first round runs at once
            if monitor.rounds >= 1:
                break
            await asyncio.sleep(0.05)
        sim_admin.revoke(key["apiKey"])
        monitor.report_auth_error("Binance Main")  # long before the hour-long interval
        for _ in range(100):
            if monitor.rounds >= 2:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    try:
        asyncio.run(scenario())
    finally:
        app.close()
    assert changes == [("Binance Main", None, "online"), ("Binance Main", "online", "invalid_key")]
    with sqlite3.connect(cli.home / "tradewarden.db") as conn:
        rows = conn.execute(
            "select detail_json from audit_events where kind='connection.status_changed' order by id"
        ).fetchall()
    assert [json.loads(r[0])["status"] for r in rows] == ["online", "invalid_key"]
