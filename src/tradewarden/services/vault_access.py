"""Creating, unlocking and re-keying the vault, with the audit trail each needs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session

from tradewarden.adapters import audit
from tradewarden.adapters.store.models import utcnow
from tradewarden.adapters.vault import vault
from tradewarden.adapters.vault.crypto import KdfParams
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.app import App
from tradewarden.services.errors import InputError, PassphraseError, VaultStateError

MIN_PASSPHRASE_LENGTH = 10
WRONG_PASSPHRASE = PassphraseError(
    "wrong vault passphrase; nothing was changed",
    "check TRADEWARDEN_PASSPHRASE or the file given to --passphrase-file",
)


def check_new_passphrase(passphrase: Secret) -> None:
    """Refuse a new passphrase that is too short to protect the vault."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise InputError(
            f"the new passphrase is shorter than {MIN_PASSPHRASE_LENGTH} characters",
            "choose a longer one (a few random words work well)",
            field="passphrase",
        )


def kdf_params(app: App) -> KdfParams:
    """The Argon2id parameters the settings ask for, refused when below the minimum."""
    params = KdfParams(time_cost=app.settings.kdf_time_cost, memory_kib=app.settings.kdf_memory_kib)
    try:
        params.check()
    except ValueError as exc:
        raise InputError(
            str(exc), "raise TRADEWARDEN_KDF_TIME_COST / TRADEWARDEN_KDF_MEMORY_KIB", field="kdf"
        ) from None
    return params


def init_vault(app: App, passphrase: Secret) -> bool:
    """Create the vault; return False (and change nothing) when it already exists."""
    with app.store.session() as session:
        if vault.header(session) is not None:
            return False
        check_new_passphrase(passphrase)
        vault.create(session, passphrase, kdf_params(app))
        audit.record(session, "vault.created", app.actor)
    return True


def _record_unlock_failure(app: App) -> None:
    # A failed unlock must leave the database byte-for-byte unchanged, so the event waits in a
    # private side file and joins the audit table at the next successful unlock.
    line = json.dumps({"ts": utcnow().isoformat(), "kind": "vault.unlock_failed", "actor": app.actor})
    fd = os.open(app.pending_audit_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _flush_pending_audit(app: App, session: Session) -> None:
    path = app.pending_audit_path
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
            audit.record(session, event["kind"], event["actor"], ts=datetime.fromisoformat(event["ts"]))
        except (ValueError, KeyError, TypeError):
            audit.record(session, "vault.unlock_failed", "unknown", note="unreadable pending entry")
    session.flush()
    path.unlink()


@contextmanager
def unlocked(app: App, passphrase: Secret) -> Iterator[tuple[Session, vault.UnlockedVault]]:
    """A transaction with the vault open; a wrong passphrase raises before anything is written."""
    with app.store.session() as session:
        try:
            opened = vault.unlock(session, passphrase)
        except vault.VaultNotInitialisedError:
            raise VaultStateError("the vault does not exist yet", "run: tradewarden init") from None
        except vault.WrongPassphraseError:
            _record_unlock_failure(app)
            raise WRONG_PASSPHRASE from None
        _flush_pending_audit(app, session)
        yield session, opened


def change_passphrase(app: App, old: Secret, new: Secret) -> None:
    """Rewrap the data key under `new` in one transaction; any failure leaves `old` in force."""
    check_new_passphrase(new)
    params = kdf_params(app)
    with unlocked(app, old) as (session, opened):
        vault.rewrap(session, opened, new, params)
        audit.record(session, "vault.passphrase_changed", app.actor)
