"""Errors the services raise for people: each names the problem and the fix, and carries an exit code."""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can fix; `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, fix: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.field = field

    def __str__(self) -> str:
        prefix = f"{self.field}: " if self.field else ""
        return f"{prefix}{self.message}" + (f"; {self.fix}" if self.fix else "")


class InputError(UserError):
    """Bad input: a field is missing, malformed or out of range."""


class NotFoundError(UserError):
    """The named thing does not exist."""


class ConflictError(UserError):
    """The request clashes with what exists (a duplicate name, say)."""


class PassphraseError(UserError):
    """The vault passphrase is wrong, missing or unusable."""

    exit_code = 2


class VaultStateError(UserError):
    """The vault is missing or already exists."""


class StorageError(UserError):
    """The data directory or database cannot be used (unwritable, damaged, truncated)."""


class ExchangeUnavailableError(UserError):
    """The exchange did not answer a request made before any order was sent (down, timing out, erroring)."""
