"""Domain tests run under Python's default decimal context.

ccxt sets the process-wide decimal rounding to ROUND_HALF_UP whenever it formats a number, so a test that
ran ccxt earlier in the same process changes the domain's last-digit rounding (a margin of 448.60 came
out 448.6000000000000000000000001 against its limit). The domain does not yet pin its own context: that
is a known issue to fix in the domain (its arithmetic under a local context) before bots share a process
with ccxt; until then these tests state the context they assume instead of inheriting another test's.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def default_decimal_context() -> Iterator[None]:
    """Each domain test starts from Python's default decimal context."""
    with decimal.localcontext(decimal.Context()):
        yield
