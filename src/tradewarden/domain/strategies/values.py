"""Parsing of single setting values: numbers, integers and choices, with errors naming key and range."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from tradewarden.domain.strategies.base import SettingsError, SettingsValues


def check_keys(values: SettingsValues, allowed: tuple[str, ...], strategy: str) -> None:
    """Refuse keys the strategy does not know, listing the ones it does."""
    for key in values:
        if key not in allowed:
            raise SettingsError(key, values[key], f"not a {strategy} setting; known: {', '.join(allowed)}")


def to_decimal(key: str, raw: object) -> Decimal:
    """A finite Decimal from a string, int, float (by its shortest repr) or Decimal."""
    if isinstance(raw, bool):
        raise SettingsError(key, raw, "not a number")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise SettingsError(key, raw, "not a number") from None
    if not value.is_finite():
        raise SettingsError(key, raw, "must be a finite number")
    return value


def decimal_in(
    values: Mapping[str, object],
    key: str,
    default: Decimal | None,
    low: Decimal,
    high: Decimal | None,
    *,
    low_open: bool = True,
    high_open: bool = False,
) -> Decimal | None:
    """Read `key` as a Decimal in the range (low, high] by default; `default` when absent."""
    raw = values.get(key)
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return default
    value = to_decimal(key, raw)
    low_ok = value > low if low_open else value >= low
    high_ok = high is None or (value < high if high_open else value <= high)
    if not (low_ok and high_ok):
        lo = f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise SettingsError(key, raw, f"must be {lo}{hi}")
    return value


def required_decimal(
    values: Mapping[str, object],
    key: str,
    default: Decimal | None,
    low: Decimal,
    high: Decimal | None,
    *,
    low_open: bool = True,
    high_open: bool = False,
) -> Decimal:
    """Like `decimal_in`, but the key must be given when there is no default."""
    value = decimal_in(values, key, default, low, high, low_open=low_open, high_open=high_open)
    if value is None:
        raise SettingsError(key, None, "is required")
    return value


def int_in(values: Mapping[str, object], key: str, default: int, low: int, high: int) -> int:
    """Read `key` as an integer in [low, high]."""
    raw = values.get(key)
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return default
    value = to_decimal(key, raw)
    if value != value.to_integral_value() or not (low <= value <= high):
        raise SettingsError(key, raw, f"must be a whole number from {low} to {high}")
    return int(value)


def choice(values: Mapping[str, object], key: str, default: str, allowed: tuple[str, ...]) -> str:
    """Read `key` as one of `allowed`."""
    raw = values.get(key)
    if raw is None:
        return default
    text = str(raw).strip().lower()
    if text not in allowed:
        raise SettingsError(key, raw, f"must be one of {' | '.join(allowed)}")
    return text


def optional_pct(
    values: Mapping[str, object], key: str, default: Decimal | None, high: Decimal
) -> Decimal | None:
    """A percentage that may be off: absent, empty, 0 or 'off' mean off (None); else in (0, high)."""
    raw = values.get(key)
    if isinstance(raw, str) and raw.strip().lower() in {"off", "none"}:
        return None
    if raw is not None and not (isinstance(raw, str) and raw.strip() == "") and to_decimal(key, raw) == 0:
        return None
    return decimal_in(values, key, default, Decimal(0), high, high_open=True)
