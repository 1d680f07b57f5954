"""Venue registry: add one line to VENUE_MODULES for a new `sim/venues/<name>.py` defining `VENUE`."""

from __future__ import annotations

import importlib

from ..venue import Venue

# One entry per venue module in this package; each module defines `VENUE = <Venue subclass>`.
VENUE_MODULES: list[str] = [
    "mexc",
    "binance",
    "kucoin",
    "okx",
    "bybit",
]


def load_venues() -> list[type[Venue]]:
    """Import every registered venue module and return its Venue class."""
    out: list[type[Venue]] = []
    for name in VENUE_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        cls = module.VENUE
        if not (isinstance(cls, type) and issubclass(cls, Venue)):
            raise TypeError(f"{name}.VENUE is not a Venue subclass")
        out.append(cls)
    return out
