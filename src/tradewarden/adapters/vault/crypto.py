"""Key derivation and authenticated encryption used by the vault (no I/O).

Argon2id turns the passphrase into a key-encryption key; AES-256-GCM wraps the data key and seals
every secret field, with associated data that binds each ciphertext to where it belongs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16
DATA_KEY_AAD = b"tradewarden/v1/data-key"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters, stored in the vault header beside the salt."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1

    # OWASP's password storage cheat sheet: Argon2id with at least 19 MiB, 2 iterations, 1 lane.
    MIN_TIME_COST = 2
    MIN_MEMORY_KIB = 19 * 1024

    def check(self) -> None:
        """Refuse parameters below the OWASP minimum (a tampered header must not weaken the vault)."""
        if (
            self.time_cost < self.MIN_TIME_COST
            or self.memory_kib < self.MIN_MEMORY_KIB
            or self.parallelism < 1
        ):
            raise ValueError(
                f"Argon2id parameters t={self.time_cost}, m={self.memory_kib} KiB, p={self.parallelism} are "
                f"below the minimum t={self.MIN_TIME_COST}, m={self.MIN_MEMORY_KIB} KiB, p=1"
            )


class DecryptionError(Exception):
    """A ciphertext did not open: wrong key, tampered data, or data moved from elsewhere."""


def derive_kek(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    """Derive the 256-bit key-encryption key from the passphrase with Argon2id."""
    params.check()
    return hash_secret_raw(
        secret=passphrase.encode("utf-8"),
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def new_salt() -> bytes:
    """A fresh random salt for the KDF."""
    return os.urandom(SALT_BYTES)


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """Encrypt with AES-256-GCM under a random 96-bit nonce; return (nonce, ciphertext with tag)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """Decrypt and authenticate; raise DecryptionError when anything does not match."""
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("sealed value failed authentication") from exc


def wrap_data_key(kek: bytes, data_key: bytes) -> bytes:
    """Wrap the data key under the key-encryption key: nonce || ciphertext."""
    nonce, ciphertext = seal(kek, data_key, DATA_KEY_AAD)
    return nonce + ciphertext


def unwrap_data_key(kek: bytes, wrapped: bytes) -> bytes:
    """Unwrap the data key; DecryptionError means the passphrase is wrong (or the header was altered)."""
    return open_sealed(kek, wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], DATA_KEY_AAD)


def field_aad(connection_id: str, field: str) -> bytes:
    """Associated data binding a sealed value to its connection and field."""
    return f"tradewarden/v1/credential/{connection_id}/{field}".encode()
