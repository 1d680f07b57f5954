"""Issue 2: the vault and `connections` on the command line, through the real CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.helpers import find_leaks, row_counts, snapshot, write_credentials

API_KEY = "AKtestkey0123456789abcdefLAST"
SECRET = "Zq8v1s-Secret-Value-7f2b9c4d1e6a"
KC_PASSWORD = "Kc7-Rt5w-Yu1i"


@pytest.fixture
def ready(cli: Cli, tmp_path: Path) -> Cli:
    """An initialised home with one Binance and one KuCoin connection."""
    assert cli("init").code == 0
    creds = write_credentials(tmp_path / "b.json", apiKey=API_KEY, secret=SECRET)
    assert (
        cli("connections", "add", "Binance Main", "--exchange", "binance", "--credentials", str(creds)).code
        == 0
    )
    kc = json.dumps(
        {"apiKey": "kcapikey-000111222", "secret": "kc-secret-aaabbbccc", "password": KC_PASSWORD}
    )
    assert cli("connections", "add", "KuCoin Futures", "-e", "kucoin", "-c", "-", stdin=kc.encode()).code == 0
    return cli


def test_no_secret_or_passphrase_anywhere_on_disk_in_logs_or_output(ready: Cli, tmp_path: Path) -> None:
    cli = ready
    rotated = write_credentials(
        tmp_path / "r.json", apiKey="AKrotated99887766554433", secret="Rotated-Secret-Value-4242xyz"
    )
    outputs = [
        cli("connections", "list", subprocess_=True),
        cli("connections", "list", "--json"),
        cli("connections", "show", "Binance Main", subprocess_=True),
        cli("connections", "show", "Binance Main", "--json"),
        cli(
            "connections",
            "rotate",
            "KuCoin Futures",
            "-c",
            str(
                write_credentials(
                    tmp_path / "k.json",
                    apiKey="kcapikey-000111222",
                    secret="kc-secret-rotated-777",
                    password=KC_PASSWORD,
                )
            ),
        ),
        cli("connections", "rotate", "Binance Main", "-c", str(rotated), subprocess_=True),
        cli("vault", "change-passphrase", env={"TRADEWARDEN_NEW_PASSPHRASE": "Nw5-Hj8k-Pq3z-Vb6y"}),
        cli(
            "connections",
            "remove",
            "KuCoin Futures",
            "--yes",
            env={"TRADEWARDEN_PASSPHRASE": "Nw5-Hj8k-Pq3z-Vb6y"},
        ),
    ]
    assert [r.code for r in outputs] == [0] * len(outputs), [r.stderr for r in outputs]
    needles = [
        SECRET,
        PASSPHRASE,
        KC_PASSWORD,
        "kc-secret-aaabbbccc",
        "kc-secret-rotated-777",
        "Rotated-Secret-Value-4242xyz",
        "Nw5-Hj8k-Pq3z-Vb6y",
    ]
    haystacks: list[bytes | str] = [p.read_bytes() for p in cli.home.iterdir() if p.is_file()]
    haystacks += cli.transcript
    assert any((cli.home / "tradewarden.log").read_bytes() or [b"x"])
    assert find_leaks(haystacks, needles) == []
    # The API key: absent in full from disk and output, present masked in list/show.
    assert find_leaks(haystacks, [API_KEY, "AKrotated99887766554433"], width=12) == []
    assert "AKte…LAST" in outputs[0].stdout and "AKte…LAST" in outputs[2].stdout
    assert json.loads(outputs[1].stdout)[0]["api_key"] == "AKte…LAST"


def test_list_and_show_json_shapes(ready: Cli) -> None:
    listing = json.loads(ready("connections", "list", "--json").stdout)
    assert [c["name"] for c in listing] == ["Binance Main", "KuCoin Futures"]
    shown = json.loads(ready("connections", "show", "kucoin futures", "--json").stdout)
    assert shown["exchange"] == "kucoin"
    assert shown["credential_fields"] == ["apiKey", "password", "secret"]
    assert shown["status"] == "untested"
    assert "secret" not in json.dumps(shown).replace('"secret"]', "")


def test_wrong_passphrase_exits_2_and_changes_nothing(ready: Cli, tmp_path: Path) -> None:
    creds = write_credentials(
        tmp_path / "c.json", apiKey="AKanother0123456789", secret="another-secret-123456"
    )
    before = snapshot(ready.home)
    bad = {"TRADEWARDEN_PASSPHRASE": "not-the-passphrase"}
    for args in (
        ("connections", "add", "Other", "-e", "binance", "-c", str(creds)),
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
    assert ready("connections", "add", "Other", "-e", "binance", "-c", str(creds)).code == 0
    with sqlite3.connect(ready.home / "tradewarden.db") as conn:
        failures = conn.execute(
            "select count(*) from audit_events where kind='vault.unlock_failed'"
        ).fetchone()[0]
    assert failures == 3
    assert not (ready.home / "pending-audit.jsonl").exists()


def test_sealed_value_copied_to_another_connection_fails_to_open(ready: Cli) -> None:
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
            "(select id from connections where name='KuCoin Futures')",
            src,
        )
    os.environ["TRADEWARDEN_HOME"] = str(ready.home)
    try:
        app = open_app()
        with unlocked(app, Secret(PASSPHRASE)) as (session, opened):
            assert open_credentials(opened, find(session, "Binance Main"))["secret"].reveal() == SECRET
            with pytest.raises(DecryptionError):
                open_credentials(opened, find(session, "KuCoin Futures"))
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


def test_passphrase_change_keeps_every_secret_and_retires_the_old(ready: Cli) -> None:
    from tradewarden.services.errors import PassphraseError

    before = _open_all(ready.home, PASSPHRASE)
    assert before["Binance Main/secret"] == SECRET
    assert (
        ready("vault", "change-passphrase", env={"TRADEWARDEN_NEW_PASSPHRASE": "brand-new-passphrase-1"}).code
        == 0
    )
    assert _open_all(ready.home, "brand-new-passphrase-1") == before
    with pytest.raises(PassphraseError):
        _open_all(ready.home, PASSPHRASE)


def test_interrupted_passphrase_change_leaves_old_passphrase_in_force(
    ready: Cli, monkeypatch: pytest.MonkeyPatch
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


def test_remove_shreds_the_sealed_rows_and_is_audited(ready: Cli) -> None:
    assert ready("connections", "remove", "KuCoin Futures", "--yes").code == 0
    with sqlite3.connect(ready.home / "tradewarden.db") as conn:
        assert conn.execute("select count(*) from connections where name='KuCoin Futures'").fetchone()[0] == 0
        assert conn.execute("select count(*) from sealed_credentials").fetchone()[0] == 2  # Binance's two
        kinds = [r[0] for r in conn.execute("select kind from audit_events order by id")]
    assert kinds[-1] == "connection.removed"
    assert {"vault.created", "connection.added"} <= set(kinds)
    assert ready("connections", "show", "KuCoin Futures").code == 1


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
