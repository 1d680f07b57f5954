"""Creating, unlocking and re-keying the vault, with the audit trail each needs."""

from __future__ import annotations

import hmac
import json
import os
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from tradewarden.adapters import audit
from tradewarden.adapters.store.db import Store
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


def _claim_pending_audit(app: App) -> Path | None:
    """Take the pending entries for this transaction: the file is renamed (atomic), so a concurrent
    unlock cannot take the same entries and a failure appended meanwhile starts a new file."""
    path = app.pending_audit_path
    claimed = path.with_name(f"{path.name}.{uuid.uuid4().hex}.claimed")
    try:
        path.rename(claimed)
    except FileNotFoundError:
        return None
    return claimed


def _record_pending_audit(session: Session, claimed: Path) -> None:
    for line in claimed.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
            audit.record(session, event["kind"], event["actor"], ts=datetime.fromisoformat(event["ts"]))
        except (ValueError, KeyError, TypeError):
            audit.record(session, "vault.unlock_failed", "unknown", note="unreadable pending entry")
    session.flush()


def _return_pending_audit(app: App, claimed: Path) -> None:
    # The transaction that was to record them rolled back: the entries go back to wait for the next one.
    text = claimed.read_text(encoding="utf-8")
    fd = os.open(app.pending_audit_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(text)
    claimed.unlink()


@contextmanager
def unlocked(app: App, passphrase: Secret) -> Iterator[tuple[Session, vault.UnlockedVault]]:
    """A transaction with the vault open; a wrong passphrase raises before anything is written.

    Failed unlocks recorded in the pending file join the audit table in this same transaction; the
    file's entries are dropped only once it has committed, and put back when it rolls back.
    """
    claimed: Path | None = None
    try:
        with app.store.session() as session:
            try:
                opened = _held_key(app, passphrase) or vault.unlock(session, passphrase)
            except vault.VaultNotInitialisedError:
                raise VaultStateError("the vault does not exist yet", "run: tradewarden init") from None
            except vault.WrongPassphraseError:
                _record_unlock_failure(app)
                raise WRONG_PASSPHRASE from None
            claimed = _claim_pending_audit(app)
            if claimed is not None:
                _record_pending_audit(session, claimed)
            yield session, opened
    except BaseException:
        if claimed is not None:
            _return_pending_audit(app, claimed)
        raise
    if claimed is not None:
        claimed.unlink()  # committed: the entries are in the audit table now


def change_passphrase(app: App, old: Secret, new: Secret) -> None:
    """Rewrap the data key under `new` in one transaction; any failure leaves `old` in force."""
    check_new_passphrase(new)
    params = kdf_params(app)
    with unlocked(app, old) as (session, opened):
        vault.rewrap(session, opened, new, params)
        audit.record(session, "vault.passphrase_changed", app.actor)


# A long-running process (the API server) unlocks once and holds the data key, per store. The data key
# never changes (a passphrase change only rewraps it), so such a server keeps working when the passphrase
# is changed from the CLI, instead of failing every request and health round until restarted; and it
# skips the Argon2id derivation each unlock would cost. Other processes still need the current passphrase.
_held_keys: weakref.WeakKeyDictionary[Store, tuple[Secret, vault.UnlockedVault]] = weakref.WeakKeyDictionary()
_held_lock = threading.Lock()


def hold_data_key(app: App, passphrase: Secret) -> vault.UnlockedVault:
    """Unlock now (PassphraseError if wrong) and keep the data key for this app's store in this process.

    Holding again with the same passphrase reuses the held key: Argon2id runs once per process.
    """
    with unlocked(app, passphrase) as (_session, opened):
        pass
    with _held_lock:
        _held_keys[app.store] = (passphrase, opened)
    return opened


def release_data_key(app: App) -> None:
    """Forget the data key held for this app's store."""
    with _held_lock:
        _held_keys.pop(app.store, None)


def _held_key(app: App, passphrase: Secret) -> vault.UnlockedVault | None:
    """The data key held for this store, when `passphrase` is the one it was unlocked with."""
    with _held_lock:
        held = _held_keys.get(app.store)
    if held is None or not hmac.compare_digest(held[0].reveal().encode(), passphrase.reveal().encode()):
        return None
    return held[1]
