"""The vault: one data key, wrapped by a passphrase-derived key, sealing every secret field."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewarden.adapters.store.models import SealedCredential, VaultHeader, utcnow
from tradewarden.adapters.vault import crypto
from tradewarden.adapters.vault.crypto import DecryptionError, KdfParams
from tradewarden.adapters.vault.secret import Secret

HEADER_ID = 1


class VaultError(Exception):
    """Base of the vault's errors."""


class VaultNotInitialisedError(VaultError):
    """No vault header exists yet."""


class VaultExistsError(VaultError):
    """`init` was asked for a vault that already exists."""


class WrongPassphraseError(VaultError):
    """The passphrase does not unwrap the data key."""


class UnlockedVault:
    """The opened data key: seals and opens secret fields bound to their connection and field."""

    def __init__(self, data_key: bytes) -> None:
        self._data_key = data_key

    @property
    def data_key(self) -> bytes:
        """The raw data key, for rewrapping only."""
        return self._data_key

    def fingerprint(self, purpose: str, value: Secret) -> str:
        """A keyed hash of `value` (hex HMAC-SHA256 under a key derived from the data key for `purpose`):
        equal values compare equal, and without the vault the hash says nothing about the value."""
        import hashlib
        import hmac

        label = b"tradewarden fingerprint:" + purpose.encode()
        key = hmac.new(self._data_key, label, hashlib.sha256).digest()
        return hmac.new(key, value.reveal().encode("utf-8"), hashlib.sha256).hexdigest()

    def seal(self, connection_id: str, field: str, value: Secret) -> SealedCredential:
        """A new sealed-credential row for `value` (not yet added to a session)."""
        nonce, ciphertext = crypto.seal(
            self._data_key, value.reveal().encode("utf-8"), crypto.field_aad(connection_id, field)
        )
        return SealedCredential(connection_id=connection_id, field=field, nonce=nonce, ciphertext=ciphertext)

    def open(self, row: SealedCredential) -> Secret:
        """Open a sealed row; DecryptionError if it was tampered with or moved to another row."""
        plaintext = crypto.open_sealed(
            self._data_key, row.nonce, row.ciphertext, crypto.field_aad(row.connection_id, row.field)
        )
        return Secret(plaintext.decode("utf-8"))


def header(session: Session) -> VaultHeader | None:
    """The vault header row, or None before `init`."""
    return session.get(VaultHeader, HEADER_ID)


def _params(row: VaultHeader) -> KdfParams:
    return KdfParams(row.kdf_time_cost, row.kdf_memory_kib, row.kdf_parallelism)


def create(session: Session, passphrase: Secret, params: KdfParams | None = None) -> UnlockedVault:
    """Create the vault header with a fresh data key wrapped by `passphrase`."""
    if header(session) is not None:
        raise VaultExistsError("the vault already exists")
    params = params or KdfParams()
    salt = crypto.new_salt()
    data_key = crypto.new_data_key()
    kek = crypto.derive_kek(passphrase.reveal(), salt, params)
    session.add(
        VaultHeader(
            id=HEADER_ID,
            kdf="argon2id",
            kdf_time_cost=params.time_cost,
            kdf_memory_kib=params.memory_kib,
            kdf_parallelism=params.parallelism,
            salt=salt,
            wrapped_data_key=crypto.wrap_data_key(kek, data_key),
        )
    )
    return UnlockedVault(data_key)


def unlock(session: Session, passphrase: Secret) -> UnlockedVault:
    """Unwrap the data key; writes nothing whether it succeeds or not."""
    row = header(session)
    if row is None:
        raise VaultNotInitialisedError("the vault does not exist yet")
    kek = crypto.derive_kek(passphrase.reveal(), row.salt, _params(row))
    try:
        return UnlockedVault(crypto.unwrap_data_key(kek, row.wrapped_data_key))
    except DecryptionError as exc:
        raise WrongPassphraseError("wrong passphrase") from exc


def rewrap(session: Session, opened: UnlockedVault, new: Secret, params: KdfParams | None = None) -> None:
    """Rewrap the opened data key under `new` in the caller's transaction; sealed fields stay as they are."""
    row = header(session)
    if row is None:
        raise VaultNotInitialisedError("the vault does not exist yet")
    params = params or _params(row)
    salt = crypto.new_salt()
    kek = crypto.derive_kek(new.reveal(), salt, params)
    row.salt = salt
    row.kdf_time_cost, row.kdf_memory_kib, row.kdf_parallelism = (
        params.time_cost,
        params.memory_kib,
        params.parallelism,
    )
    row.wrapped_data_key = crypto.wrap_data_key(kek, opened.data_key)
    row.rewrapped_at = utcnow()
    session.flush()


def sealed_rows(session: Session, connection_id: str) -> list[SealedCredential]:
    """Every sealed field of a connection."""
    return list(
        session.scalars(select(SealedCredential).where(SealedCredential.connection_id == connection_id))
    )
