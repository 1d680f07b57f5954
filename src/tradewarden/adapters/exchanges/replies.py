"""Reading an exchange's reply defensively: any shape that is not the documented one is UnreadableReply.

A proxy, an outage page or a truncated body can put anything where JSON was promised (ccxt hands back the
raw text when the body does not parse). The connection test turns UnreadableReply into that connection's
`exchange_unavailable`, with the cause. Causes name the shape, never the content (it may echo a request).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class UnreadableReply(Exception):
    """A reply whose shape is not the one the exchange documents; `cause` says what was wrong with it."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause

    @property
    def detail(self) -> str:
        """The cause as a check detail for a person."""
        return f"the exchange's reply could not be read: {self.cause}"


def shape_of(value: Any) -> str:
    """What kind of value this is, in words (never the value itself)."""
    if value is None or value == "":
        return "empty"
    if isinstance(value, str):
        return "text, not JSON (an HTML page or a truncated body)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "not JSON"


def require_json(value: Any) -> dict[str, Any] | list[Any]:
    """`value` when it is a JSON object or list, else UnreadableReply naming what came instead."""
    if isinstance(value, dict | list):
        return value
    raise UnreadableReply(f"it is {shape_of(value)}")


def require_object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else UnreadableReply."""
    if isinstance(value, dict):
        return value
    raise UnreadableReply(f"it is {shape_of(value)}, not an object")


def whole_number(value: Any) -> int | None:
    """A finite number, or a string of one, as int; anything else (bool, inf, NaN, junk) is None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return int(number)
