"""The `Secret` type: a value whose repr and str never show it, registered for log redaction."""

from __future__ import annotations

import hmac
import threading
from typing import NoReturn

MASK = "****"
_MIN_REDACTED_LENGTH = 4  # shorter values would redact ordinary words; credentials are never this short

_registry_lock = threading.Lock()
_live_values: set[str] = set()


def live_secret_values() -> frozenset[str]:
    """Every secret value opened in this process, for the log redaction filter."""
    with _registry_lock:
        return frozenset(_live_values)


def register_secret_value(value: str) -> None:
    """Make the redaction filter remove `value` from every log record from now on."""
    if len(value) >= _MIN_REDACTED_LENGTH:
        with _registry_lock:
            _live_values.add(value)


class Secret:
    """A secret string: masked in repr/str/format, not picklable, compared in constant time."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret_value(value)

    def reveal(self) -> str:
        """The plaintext; call only where the value is handed to the exchange client or sealed."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")
