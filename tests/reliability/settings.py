"""Short (default, inside `make test`) or long (`make reliability`, TW_RELIABILITY=long) configuration."""

from __future__ import annotations

import os

MODE = os.environ.get("TW_RELIABILITY", "short").strip().lower() or "short"
if MODE not in ("short", "long"):
    raise RuntimeError(f"TW_RELIABILITY={MODE!r}: use short (the default) or long")
LONG = MODE == "long"


def scaled(short: int, long: int) -> int:
    """`long` in the long configuration, else `short`."""
    return long if LONG else short
