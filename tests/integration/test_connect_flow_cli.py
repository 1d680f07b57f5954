"""Issue 10a, the connect flow from a terminal, against the real simulator: each test fails on the old code.

`exchanges` lists what is supported and `add` refuses the rest; `add` tests the key and does not keep one
that fails (unless --keep-untested); one API key cannot live under two names; the verdict names the exact
cause (withdrawals, the KuCoin passphrase, this server's IP); key fields are corrected in place; human
check names; `remove` without a terminal names --yes; read-only commands leave an uninitialised home
alone; the passphrase `up` generated is found; `sim key` mints credentials; audit actors and statuses.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.conftest import sim_admin, threaded_sim  # noqa: F401  (fixtures)
from tests.integration.helpers import write_credentials
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.exchanges.registry import REGISTRY
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services import public_ip
from tradewarden.services.app import open_app
from tradewarden.services.connections.health import HealthMonitor
from tradewarden.sim import ThreadedSim


def _creds(tmp_path: Path, key: dict[str, Any], name: str = "c.json", **override: str) -> str:
    fields = {f: key[f] for f in ("apiKey", "secret", "password") if key.get(f)}
    return str(write_credentials(tmp_path / name, **{**fields, **override}))


def _add(cli: Cli, name: str, exchange: str, creds: str, url: str, *extra: str, **kwargs: Any) -> Any:
    return cli("connections", "add", name, "-e", exchange, "--endpoint", url, "-c", creds, *extra, **kwargs)


def _audit(cli: Cli) -> list[dict[str, Any]]:
    app = open_app(Settings(home=cli.home))
    try:
        from tradewarden.services import audit_log

        events, _total = audit_log.page(app, None, None, None, None, 1, 500)
        return [{"kind": e.kind, "actor": e.actor, "detail": e.detail, "message": e.message} for e in events]
    finally:
        app.close()


def test_exchanges_lists_the_supported_ones_and_what_each_needs(cli: Cli) -> None:
    listed = cli("exchanges", "--json")
    assert listed.code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert sorted(r["id"] for r in rows) == sorted(REGISTRY)
    kucoin = next(r for r in rows if r["id"] == "kucoin")
    assert kucoin["credentials"] == ["apiKey", "secret", "password"] and "passphrase" in kucoin["needs"]
    table = cli("exchanges")
    assert table.code == 0 and "KuCoin" in table.stdout and "Permission check" in table.stdout
    assert not cli.home.exists()  # listing exchanges needs no home


def test_add_refuses_an_exchange_outside_the_list_and_names_the_command(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").code == 0
    creds = str(write_credentials(tmp_path / "k.json", apiKey="AKgood0123456789", secret="s" * 24))
    refused = cli("connections", "add", "Kraken Main", "-e", "kraken", "--no-test", "-c", creds)
    assert refused.code != 0
    assert (
        "tradewarden exchanges" in refused.stderr and "not an exchange TradeWarden supports" in refused.stderr
    )
    assert json.loads(cli("connections", "list", "--json").stdout) == []


def test_a_withdraw_key_fails_on_permissions_and_is_not_kept(
    cli: Cli,
    tmp_path: Path,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    assert cli("init").code == 0
    key = sim_admin.key("binance", ["read", "spot_trade", "withdraw"], ["127.0.0.1"])
    refused = _add(cli, "Binance W", "binance", _creds(tmp_path, key), threaded_sim.url, "--json")
    assert refused.code == 1
    body = json.loads(refused.stdout)
    assert body["added"] is False and body["test"]["status"] == "withdraw_enabled"
    checks = {c["name"]: c for c in body["test"]["checks"]}
    # The failing check is the one marked failed, with the exact cause.
    assert checks["key_permissions"]["ok"] is False
    assert checks["key_permissions"]["detail"].startswith("withdrawals are enabled")
    assert checks["key_permissions"]["detail_code"] == "check.withdraw_enabled"
    assert body["test"]["message_code"] == "status.withdraw_enabled.message"
    assert "withdraw" in body["test"]["message"]
    assert json.loads(cli("connections", "list", "--json").stdout) == []
    assert "connection.add_refused" in [e["kind"] for e in _audit(cli)]
    # Kept on request, with the failed test's status (and then a rotation to a good key).
    kept = _add(cli, "Binance W", "binance", _creds(tmp_path, key), threaded_sim.url, "--keep-untested")
    assert kept.code == 0, kept.stderr
    assert "Permissions" in kept.stdout and "withdrawals are enabled" in kept.stdout
    [row] = json.loads(cli("connections", "list", "--json").stdout)
    assert row["status"] == "withdraw_enabled"
    good = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    rotated = cli("connections", "rotate", "Binance W", "-c", _creds(tmp_path, good, "g.json"))
    assert rotated.code == 0, rotated.stderr
    changes = [e for e in _audit(cli) if e["kind"] == "connection.status_changed"]
    assert changes[0]["detail"] == {"previous": "withdraw_enabled", "status": "online"}, changes


def test_one_api_key_cannot_be_stored_under_two_names(
    cli: Cli,
    tmp_path: Path,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    assert cli("init").code == 0
    key = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    first = _add(cli, "Binance One", "binance", _creds(tmp_path, key), threaded_sim.url)
    assert first.code == 0, first.stderr
    for extra in ((), ("--no-test",)):
        again = _add(cli, "Binance Two", "binance", _creds(tmp_path, key), threaded_sim.url, *extra)
        assert again.code == 1
        assert "already stored as the connection 'Binance One'" in again.stderr, again.stderr
    assert [r["name"] for r in json.loads(cli("connections", "list", "--json").stdout)] == ["Binance One"]
    # The hash is keyed: the plaintext API key is nowhere in the database file.
    assert key["apiKey"].encode() not in (cli.home / "tradewarden.db").read_bytes()


def test_kucoin_wrong_passphrase_is_the_headline_and_is_corrected_in_place(
    cli: Cli,
    tmp_path: Path,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    assert cli("init").code == 0
    key = sim_admin.key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
    wrong = _creds(tmp_path, key, password="not-the-passphrase")
    refused = _add(cli, "KuCoin Main", "kucoin", wrong, threaded_sim.url, "--json")
    assert refused.code == 1
    test = json.loads(refused.stdout)["test"]
    assert test["status"] == "invalid_key" and "passphrase" in test["message"], test["message"]
    assert test["message_code"] == "status.invalid_key.passphrase.message"
    assert test["remedy_code"] == "status.invalid_key.passphrase.remedy"
    kept = _add(cli, "KuCoin Main", "kucoin", wrong, threaded_sim.url, "--keep-untested")
    assert kept.code == 0, kept.stderr
    # Fix the typo without a full rotate: only the passphrase, tested before it is kept.
    bad_fix = str(write_credentials(tmp_path / "bad.json", password="still-wrong"))
    assert cli("connections", "edit", "KuCoin Main", "-c", bad_fix).code == 1
    fix = str(write_credentials(tmp_path / "fix.json", password=key["password"]))
    fixed = cli("connections", "edit", "KuCoin Main", "-c", fix, "--json")
    assert fixed.code == 0, fixed.stderr
    body = json.loads(fixed.stdout)
    assert body["rotated"] is True and body["status"] == "online" and body["test"]["ok"] is True


def test_edit_renames_and_changes_market_and_endpoint(
    cli: Cli,
    tmp_path: Path,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    assert cli("init").code == 0
    key = sim_admin.key("binance", ["read", "spot_trade", "futures_trade"], ["127.0.0.1"])
    assert _add(cli, "Binance A", "binance", _creds(tmp_path, key), threaded_sim.url).code == 0
    renamed = cli("connections", "edit", "Binance A", "--name", "Binance Spot Main", "--market", "both")
    assert renamed.code == 0, renamed.stderr
    shown = json.loads(cli("connections", "show", "binance spot main", "--json").stdout)
    assert shown["market"] == "both" and shown["status"] == "untested"  # a new market is tested anew
    elsewhere = threaded_sim.url.replace("127.0.0.1", "localhost")
    moved = cli("connections", "edit", "Binance Spot Main", "--endpoint", elsewhere, "--json")
    assert moved.code == 0 and json.loads(moved.stdout)["endpoint"] == elsewhere
    assert cli("connections", "edit", "Binance Spot Main", "--market", "options").code != 0
    assert cli("connections", "edit", "Nobody", "--name", "X").code != 0
    kinds = [e["kind"] for e in _audit(cli)]
    assert "connection.edited" in kinds and "connection.endpoint_changed" in kinds


def test_check_names_are_for_people_and_raw_in_json(
    cli: Cli,
    tmp_path: Path,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    assert cli("init").code == 0
    key = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    assert _add(cli, "Binance", "binance", _creds(tmp_path, key), threaded_sim.url).code == 0
    text = cli("connections", "test", "Binance")
    assert text.code == 0
    for label in ("Clock", "Key and signature", "Permissions", "IP restriction", "Market access"):
        assert label in text.stdout, text.stdout
    assert "server_time" not in text.stdout and "authenticated_read" not in text.stdout
    raw = json.loads(cli("connections", "test", "Binance", "--json").stdout)
    assert [c["name"] for c in raw["checks"]][:2] == ["server_time", "authenticated_read"]
    assert raw["checks"][0]["label"] == "Clock" and raw["checks"][0]["detail_code"] == "check.clock_offset"


def test_remove_without_a_terminal_says_to_use_yes(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").code == 0
    creds = str(write_credentials(tmp_path / "k.json", apiKey="AKgood0123456789", secret="s" * 24))
    assert cli("connections", "add", "Keep", "-e", "binance", "--no-test", "-c", creds).code == 0
    refused = cli("connections", "remove", "Keep")
    assert refused.code == 1 and "--yes" in refused.stderr and "Aborted" not in refused.stderr
    assert [r["name"] for r in json.loads(cli("connections", "list", "--json").stdout)] == ["Keep"]


@pytest.mark.parametrize(
    "argv",
    [
        ("connections", "list"),
        ("connections", "show", "X"),
        ("connections", "history", "X"),
        ("connections", "test", "--all"),
        ("tokens", "list"),
    ],
)
def test_read_only_commands_on_an_uninitialised_home_say_init_and_create_nothing(
    cli: Cli, argv: tuple[str, ...]
) -> None:
    result = cli(*argv)
    assert result.code != 0
    assert "tradewarden init" in result.stderr, result.stderr
    assert not cli.home.exists()


def test_the_passphrase_up_generated_is_used_and_named(cli: Cli) -> None:
    assert cli("init").code == 0
    generated = cli.home / "vault-passphrase"
    generated.write_text(PASSPHRASE + "\n")
    generated.chmod(0o600)
    result = cli("connections", "test", "--all", env={"TRADEWARDEN_PASSPHRASE": ""})
    assert result.code == 0, result.stderr
    assert str(generated) in result.stderr


def test_sim_key_prints_a_credentials_file_that_adds_online(
    cli: Cli,
    tmp_path: Path,
    threaded_sim: ThreadedSim,  # noqa: F811
) -> None:
    minted = cli(
        "sim", "key", "--venue", "kucoin", "--permissions", "read,spot_trade", "--url", threaded_sim.url
    )
    assert minted.code == 0, minted.stderr
    creds = json.loads(minted.stdout)
    assert set(creds) == {"apiKey", "secret", "password"}
    path = tmp_path / "sim.json"
    path.write_text(minted.stdout)
    assert cli("init").code == 0
    added = _add(cli, "KuCoin Sim", "kucoin", str(path), threaded_sim.url, "--json")
    assert added.code == 0, added.stderr
    assert json.loads(added.stdout)["test"]["status"] == "online"
    bad = cli("sim", "key", "--venue", "binance", "--permissions", "read,fly", "--url", threaded_sim.url)
    assert bad.code != 0 and "spot_trade" in bad.stderr
    nobody = cli("sim", "key", "--venue", "binance", "--url", "http://127.0.0.1:9")
    assert nobody.code != 0 and "no simulator answers" in nobody.stderr


@pytest.fixture
def ip_lookup() -> Iterator[str]:
    """A loopback stand-in for the public-IP lookup service, answering 203.0.113.7."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"203.0.113.7\n")

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    public_ip.forget()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        public_ip.forget()


def test_ip_not_allowed_names_the_address_to_whitelist(
    cli: Cli,
    tmp_path: Path,
    ip_lookup: str,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    assert cli("init").code == 0
    key = sim_admin.key("kucoin", ["read", "spot_trade"], ["10.9.9.9"])
    env = {"TRADEWARDEN_PUBLIC_IP_LOOKUP": ip_lookup}
    found = _add(cli, "KuCoin IP", "kucoin", _creds(tmp_path, key), threaded_sim.url, "--json", env=env)
    test = json.loads(found.stdout)["test"]
    assert test["status"] == "ip_not_allowed", test
    assert "203.0.113.7" in test["remedy"] and test["remedy_params"]["ip"] == "203.0.113.7"
    ip_check = next(c for c in test["checks"] if c["name"] == "ip_restriction")
    assert ip_check["ok"] is False and "203.0.113.7" in ip_check["detail"]
    off = _add(cli, "KuCoin IP", "kucoin", _creds(tmp_path, key), threaded_sim.url, "--json")
    remedy = json.loads(off.stdout)["test"]["remedy"]
    assert "could not be determined" in remedy and "what-is-my-IP" in remedy


def test_monitor_retests_are_audited_as_the_monitor(
    cli: Cli,
    tmp_path: Path,
    threaded_sim: ThreadedSim,  # noqa: F811
    sim_admin: SimAdmin,  # noqa: F811
) -> None:
    assert cli("init").code == 0
    key = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    assert _add(cli, "Binance", "binance", _creds(tmp_path, key), threaded_sim.url).code == 0
    app = open_app(Settings(home=cli.home, kdf_time_cost=2, kdf_memory_kib=19 * 1024))
    try:
        asyncio.run(HealthMonitor(app, Secret(PASSPHRASE)).run_once())
    finally:
        app.close()
    tested = [e for e in _audit(cli) if e["kind"] == "connection.tested"]
    assert tested[0]["actor"] == "monitor"  # newest first
    assert all(e["actor"] == "monitor" or e["actor"].startswith("cli:") for e in tested)
    assert all("@" not in e["actor"] for e in tested)
    assert tested[0]["message"] == "monitor tested Binance: online."


def test_up_says_which_port_the_simulator_needs_when_it_is_taken(cli: Cli) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("up", "--port", "9", "--sim-port", str(port))
    assert result.code == 1
    assert f"cannot start the simulator on http://127.0.0.1:{port}" in result.stderr
    assert "--sim-port" in result.stderr
