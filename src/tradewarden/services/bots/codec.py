"""A strategy's state as JSON and back: frozen dataclasses of Decimals, ints, strings, tuples and options.

Written by hand because the state types are the domain's own frozen dataclasses (no pydantic models in
the pure core) and the round trip must be exact: Decimals travel as strings, never as floats.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from decimal import Decimal
from functools import cache
from typing import Any


def dump(value: Any) -> Any:
    """A JSON-ready copy of a state value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def load(kind: Any, raw: Any) -> Any:
    """Rebuild a value of type `kind` from what `dump` made (ValueError on a shape that does not fit)."""
    origin = typing.get_origin(kind)
    if origin is typing.Union or origin is types.UnionType:
        options = typing.get_args(kind)
        if raw is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return load(option, raw)
            except (ValueError, TypeError, ArithmeticError):
                continue
        raise ValueError(f"{raw!r} fits none of {kind}")
    if origin is typing.Literal:
        if raw not in typing.get_args(kind):
            raise ValueError(f"{raw!r} is not one of {typing.get_args(kind)}")
        return raw
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(raw, list):
            raise ValueError(f"expected a list, got {raw!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(load(args[0], v) for v in raw)
        return tuple(load(a, v) for a, v in zip(args, raw, strict=True))
    if origin is dict:
        key_type, value_type = typing.get_args(kind)
        return {load(key_type, k): load(value_type, v) for k, v in raw.items()}
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(raw, dict):
            raise ValueError(f"expected an object for {kind.__name__}, got {raw!r}")
        hints = _hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: load(hints[k], v) for k, v in raw.items() if k in known})
    if kind is Decimal:
        if not isinstance(raw, str):
            raise ValueError(f"expected a decimal string, got {raw!r}")
        return Decimal(raw)
    if kind is bool:
        if not isinstance(raw, bool):
            raise ValueError(f"expected true/false, got {raw!r}")
        return raw
    if kind is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"expected an integer, got {raw!r}")
        return raw
    if kind is str:
        if not isinstance(raw, str):
            raise ValueError(f"expected text, got {raw!r}")
        return raw
    if kind is Any or kind is object:
        return raw
    raise TypeError(f"cannot load {kind!r}")
