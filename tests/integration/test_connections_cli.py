"""Issue 2: the vault and `connections` on the command line, through the real CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.helpers import find_leaks, row_counts, snapshot, write_credentials
from tests.integration.simtools import SimAdmin
from tradewarden.sim import ThreadedSim


@dataclass
class Ready:
    """An initialised home with a Binance and a KuCoin connection on simulator keys."""

    cli: Cli
    sim: ThreadedSim
    admin: SimAdmin
    binance: dict[str, str]
    kucoin: dict[str, str]

    def __call__(self, *args: str, **kwargs: Any) -> Any:
        return self.cli(*args, **kwargs)

    @property
    def home(self) -> Path:
        return self.cli.home


@pytest.fixture
def ready(cli: Cli, tmp_path: Path, threaded_sim: ThreadedSim, sim_admin: SimAdmin) -> Ready:
    """Two connections added through the CLI, their keys issued by the simulator."""
    assert cli("init").code == 0
    binance = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    creds = write_credentials(tmp_path / "b.json", apiKey=binance["apiKey"], secret=binance["secret"])
    added = cli(
        "connections",
        "add",
        "Binance Main",
        "-e",
        "binance",
        "--endpoint",
        threaded_sim.url,
        "--credentials",
        str(creds),
    )
    assert added.code == 0, added.stderr
    kucoin = sim_admin.key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
    kc = json.dumps({k: kucoin[k] for k in ("apiKey", "secret", "password")})
    added = cli(
        "connections",
        "add",
        "KuCoin Main",
        "-e",
        "kucoin",
        "--endpoint",
        threaded_sim.url,
        "-c",
        "-",
        stdin=kc.encode(),
    )
    assert added.code == 0, added.stderr
    return Ready(cli, threaded_sim, sim_admin, binance, kucoin)


def _masked(api_key: str) -> str:
    return f"{api_key[:4]}…{api_key[-4:]}"


def test_no_secret_or_passphrase_anywhere_on_disk_in_logs_or_output(ready: Ready, tmp_path: Path) -> None:
    new_kc = ready.admin.key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
    new_bn = ready.admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    kc_file = write_credentials(
        tmp_path / "k.json", **{k: new_kc[k] for k in ("apiKey", "secret", "password")}
    )
    bn_file = write_credentials(tmp_path / "r.json", apiKey=new_bn["apiKey"], secret=new_bn["secret"])
    new_passphrase = "Nw5-Hj8k-Pq3z-Vb6y"
    outputs = [
        ready("connections", "list", subprocess_=True),
        ready("connections", "list", "--json"),
        ready("connections", "show", "Binance Main", subprocess_=True),
        ready("connections", "show", "Binance Main", "--json"),
        ready("connections", "test", "Binance Main"),
        ready("connections", "test", "KuCoin Main", "--json", subprocess_=True),
        ready("connections", "rotate", "KuCoin Main", "-c", str(kc_file)),
        ready("connections", "rotate", "Binance Main", "-c", str(bn_file), subprocess_=True),
        ready("connections", "history", "Binance Main", "--json"),
        ready("vault", "change-passphrase", env={"TRADEWARDEN_NEW_PASSPHRASE": new_passphrase}),
        ready(
            "connections", "remove", "KuCoin Main", "--yes", env={"TRADEWARDEN_PASSPHRASE": new_passphrase}
        ),
    ]
    assert [r.code for r in outputs] == [0] * len(outputs), [r.stderr for r in outputs]
    needles = [PASSPHRASE, new_passphrase]
    for key in (ready.binance, ready.kucoin, new_kc, new_bn):
        needles += [key["secret"], *([key["password"]] if key.get("password") else [])]
    log_file = ready.home / "tradewarden.log"
    assert log_file.exists()
    haystacks: list[bytes | str] = [p.read_bytes() for p in ready.home.iterdir() if p.is_file()]
    haystacks += ready.cli.transcript
    assert find_leaks(haystacks, needles) == []
    # API keys: never in full on disk or in output; masked in list/show.
    api_keys = [k["apiKey"] for k in (ready.binance, ready.kucoin, new_kc, new_bn)]
    assert find_leaks(haystacks, api_keys, width=12) == []
    assert _masked(ready.binance["apiKey"]) in outputs[0].stdout
    assert _masked(ready.binance["apiKey"]) in outputs[2].stdout
    assert json.loads(outputs[1].stdout)[0]["api_key"] == _masked(ready.binance["apiKey"])


def test_list_and_show_json_shapes(ready: Ready) -> None:
    listing = json.loads(ready("connections", "list", "--json").stdout)
    assert [c["name"] for c in listing] == ["Binance Main", "KuCoin Main"]
    shown = json.loads(ready("connections", "show", "kucoin main", "--json").stdout)
    assert shown["exchange"] == "kucoin"
    assert shown["credential_fields"] == ["apiKey", "password", "secret"]
    assert shown["status"] == "online"  # `add` tests the key first (issue 10)
    assert shown["simulated"] is False  # a simulator `up` did not start
    assert "secret" not in json.dumps(shown).replace('"secret"]', "")


def test_wrong_passphrase_exits_2_and_changes_nothing(ready: Ready, tmp_path: Path) -> None:
    creds = write_credentials(
        tmp_path / "c.json", apiKey="AKanother0123456789", secret="another-secret-123456"
    )
    before = snapshot(ready.home)
    bad = {"TRADEWARDEN_PASSPHRASE": "not-the-passphrase"}
    for args in (
        ("connections", "add", "--no-test", "Other", "-e", "binance", "-c", str(creds)),
        ("connections", "rotate", "Binance Main", "-c", str(creds)),
    ):
        result = ready(*args, env=bad, subprocess_=True)
        assert result.code == 2
        assert "wrong vault passphrase" in result.stderr
        assert snapshot(ready.home) == before
    changed = ready(
        "vault", "change-passphrase", env={**bad, "TRADEWARDEN_NEW_PASSPHRASE": "whatever-new-123"}
    )
    assert changed.code == 2
    assert snapshot(ready.home) == before
    # The failures are audited once the vault is next opened with the right passphrase.
    assert ready("connections", "add", "--no-test", "Other", "-e", "binance", "-c", str(creds)).code == 0
    with sqlite3.connect(ready.home / "tradewarden.db") as conn:
        failures = conn.execute(
            "select count(*) from audit_events where kind='vault.unlock_failed'"
        ).fetchone()[0]
    assert failures == 3
    assert not (ready.home / "pending-audit.jsonl").exists()


def test_sealed_value_copied_to_another_connection_fails_to_open(ready: Ready) -> None:
    from tradewarden.adapters.exchanges.client import open_credentials
    from tradewarden.adapters.vault.crypto import DecryptionError
    from tradewarden.adapters.vault.secret import Secret
    from tradewarden.services.app import open_app
    from tradewarden.services.connections.service import find
    from tradewarden.services.vault_access import unlocked

    db = ready.home / "tradewarden.db"
    with sqlite3.connect(db) as conn:
        src = conn.execute(
            "select s.nonce, s.ciphertext from sealed_credentials s join connections c "
            "on c.id = s.connection_id where c.name='Binance Main' and s.field='secret'"
        ).fetchone()
        conn.execute(
            "update sealed_credentials set nonce=?, ciphertext=? where field='secret' and connection_id="
            "(select id from connections where name='KuCoin Main')",
            src,
        )
    os.environ["TRADEWARDEN_HOME"] = str(ready.home)
    try:
        app = open_app()
        with unlocked(app, Secret(PASSPHRASE)) as (session, opened):
            assert (
                open_credentials(opened, find(session, "Binance Main"))["secret"].reveal()
                == ready.binance["secret"]
            )
            with pytest.raises(DecryptionError):
                open_credentials(opened, find(session, "KuCoin Main"))
        app.close()
    finally:
        del os.environ["TRADEWARDEN_HOME"]


def _open_all(home: Path, passphrase: str) -> dict[str, str]:
    from tradewarden.adapters.exchanges.client import open_credentials
    from tradewarden.adapters.store.models import Connection
    from tradewarden.adapters.vault.secret import Secret
    from tradewarden.config import Settings
    from tradewarden.services.app import open_app
    from tradewarden.services.vault_access import unlocked

    app = open_app(Settings(home=home))
    try:
        with unlocked(app, Secret(passphrase)) as (session, opened):
            return {
                f"{row.name}/{field}": value.reveal()
                for row in session.query(Connection).all()
                for field, value in open_credentials(opened, row).items()
            }
    finally:
        app.close()


def test_passphrase_change_keeps_every_secret_and_retires_the_old(ready: Ready) -> None:
    from tradewarden.services.errors import PassphraseError

    before = _open_all(ready.home, PASSPHRASE)
    assert before["Binance Main/secret"] == ready.binance["secret"]
    assert (
        ready("vault", "change-passphrase", env={"TRADEWARDEN_NEW_PASSPHRASE": "brand-new-passphrase-1"}).code
        == 0
    )
    assert _open_all(ready.home, "brand-new-passphrase-1") == before
    with pytest.raises(PassphraseError):
        _open_all(ready.home, PASSPHRASE)


def test_interrupted_passphrase_change_leaves_old_passphrase_in_force(
    ready: Ready, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradewarden.adapters.vault.secret import Secret
    from tradewarden.config import Settings
    from tradewarden.services import vault_access
    from tradewarden.services.app import open_app
    from tradewarden.services.errors import PassphraseError

    before = _open_all(ready.home, PASSPHRASE)
    real_record = vault_access.audit.record

    def crash_after_rewrap(session, kind, *args, **kwargs):  # type: ignore[no-untyped-def]
        if kind == "vault.passphrase_changed":
            session.flush()
            raise OSError("power cut mid-change")
        return real_record(session, kind, *args, **kwargs)

    monkeypatch.setattr(vault_access.audit, "record", crash_after_rewrap)
    app = open_app(Settings(home=ready.home, kdf_time_cost=2, kdf_memory_kib=19 * 1024))
    with pytest.raises(OSError, match="power cut"):
        vault_access.change_passphrase(app, Secret(PASSPHRASE), Secret("never-applied-pass-1"))
    app.close()
    monkeypatch.undo()
    assert _open_all(ready.home, PASSPHRASE) == before
    with pytest.raises(PassphraseError):
        _open_all(ready.home, "never-applied-pass-1")


def test_remove_shreds_the_sealed_rows_and_is_audited(ready: Ready) -> None:
    assert ready("connections", "remove", "KuCoin Main", "--yes").code == 0
    with sqlite3.connect(ready.home / "tradewarden.db") as conn:
        assert conn.execute("select count(*) from connections where name='KuCoin Main'").fetchone()[0] == 0
        assert conn.execute("select count(*) from sealed_credentials").fetchone()[0] == 2  # Binance's two
        kinds = [r[0] for r in conn.execute("select kind from audit_events order by id")]
    assert kinds[-1] == "connection.removed"
    assert {"vault.created", "connection.added"} <= set(kinds)
    assert ready("connections", "show", "KuCoin Main").code == 1


def test_data_dir_0700_db_0600_and_warning_when_looser(cli: Cli) -> None:
    assert cli("init").code == 0
    assert stat.S_IMODE(cli.home.stat().st_mode) == 0o700
    assert stat.S_IMODE((cli.home / "tradewarden.db").stat().st_mode) == 0o600
    quiet = cli("connections", "list")
    assert "Warning" not in quiet.stderr
    os.chmod(cli.home, 0o755)
    os.chmod(cli.home / "tradewarden.db", 0o644)
    loud = cli("connections", "list")
    assert loud.code == 0
    assert "chmod 700" in loud.stderr and "chmod 600" in loud.stderr


def test_init_is_idempotent_and_needs_a_passphrase_without_a_terminal(cli: Cli) -> None:
    no_pass = cli("init", env={"TRADEWARDEN_PASSPHRASE": ""})
    assert no_pass.code == 2
    assert "TRADEWARDEN_PASSPHRASE" in no_pass.stderr
    assert cli("init").code == 0
    again = cli("init")
    assert again.code == 0 and "already initialised" in again.stdout


def test_passphrase_file_is_read_and_too_short_new_passphrase_refused(cli: Cli, tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("abc\n")
    result = cli("init", "--passphrase-file", str(short), env={"TRADEWARDEN_PASSPHRASE": ""})
    assert result.code == 1 and "passphrase" in result.stderr and "shorter than" in result.stderr
    good = tmp_path / "good"
    good.write_text(PASSPHRASE + "\n")
    assert cli("init", "--passphrase-file", str(good), env={"TRADEWARDEN_PASSPHRASE": ""}).code == 0
    assert row_counts(cli.home)["vault_header"] == 1
