"""Issue 9.9: failed unlocks waiting in pending-audit.jsonl survive a later command that rolls back, and
join the audit table exactly once, in the transaction of a successful unlock."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE, Cli
from tradewarden.adapters.store.models import AuditEvent
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services.app import PENDING_AUDIT_FILE, open_app
from tradewarden.services.vault_access import unlocked

WRONG = {"TRADEWARDEN_PASSPHRASE": "not-the-passphrase-at-all"}


def failed_unlocks_in_store(home: Path) -> int:
    """How many vault.unlock_failed events the audit table holds."""
    app = open_app(Settings(home=home), actor="test:audit")
    try:
        with app.store.session() as session:
            stmt = select(func.count()).where(AuditEvent.kind == "vault.unlock_failed")
            return int(session.scalar(stmt) or 0)
    finally:
        app.close()


def pending_lines(home: Path) -> int:
    """Entries waiting in the pending file (0 when it is gone)."""
    path = home / PENDING_AUDIT_FILE
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.attack("pending audit lost")
def test_a_command_that_rolls_back_keeps_the_pending_entries(cli: Cli) -> None:
    assert cli("init").code == 0
    for _ in range(2):
        assert cli("connections", "keygen", "K", env=WRONG).code == 2
    assert pending_lines(cli.home) == 2
    # Unlocks with the right passphrase, then fails (no such connection): its transaction rolls back.
    failed = cli("connections", "test", "no such connection")
    assert failed.code == 1 and "no connection named" in failed.stderr
    assert pending_lines(cli.home) == 2
    assert failed_unlocks_in_store(cli.home) == 0
    assert not list(cli.home.glob(f"{PENDING_AUDIT_FILE}.*"))  # no claimed file left behind

    # A command that unlocks and commits moves them, once.
    assert cli("connections", "keygen", "K").code == 0
    assert pending_lines(cli.home) == 0
    assert failed_unlocks_in_store(cli.home) == 2
    assert cli("connections", "keygen", "K2").code == 0
    assert failed_unlocks_in_store(cli.home) == 2


@pytest.mark.attack("pending audit lost")
def test_a_failure_recorded_during_a_transaction_is_kept_for_the_next(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings, actor="test:audit")
    try:
        from tradewarden.services.vault_access import init_vault

        assert init_vault(app, Secret(PASSPHRASE))
        pending = app.pending_audit_path
        pending.write_text(
            '{"ts": "2026-12-01T00:00:00+00:00", "kind": "vault.unlock_failed", "actor": "a"}\n'
        )
        # Another process fails to unlock while this transaction holds the first entry.
        with unlocked(app, Secret(PASSPHRASE)), pending.open("a") as handle:
            handle.write('{"ts": "2026-12-01T00:00:01+00:00", "kind": "vault.unlock_failed", "actor": "b"}\n')
        assert pending_lines(settings.home_dir) == 1  # the newcomer waits; the claimed one was recorded
        with pytest.raises(RuntimeError), unlocked(app, Secret(PASSPHRASE)):
            raise RuntimeError("rolled back")
        assert pending_lines(settings.home_dir) == 1
        with unlocked(app, Secret(PASSPHRASE)) as (session, _opened):
            assert session.in_transaction()
        with app.store.session() as session:
            actors = sorted(
                e.actor
                for e in session.scalars(select(AuditEvent).where(AuditEvent.kind == "vault.unlock_failed"))
            )
        assert actors == ["a", "b"]
        assert not pending.exists()
    finally:
        app.close()
