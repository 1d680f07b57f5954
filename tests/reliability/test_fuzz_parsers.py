"""Issue 17, fuzzing: the credential parser and every exchange-response parser, each example counted.

The exchange-response properties are those of tests/unit/exchanges/test_reply_shapes.py, reused (their
strategies and their checks, `.hypothesis.inner_test`), not copied; here they run with more examples in
the long configuration and every example lands in the reliability table. The credential parser
(services.connections.validation.parse_credentials + validate_credentials) is fuzzed here: any bytes
give Secrets or an InputError whose message quotes none of the input's secret-looking values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.counters import COUNTERS
from tests.reliability.settings import scaled
from tests.unit.exchanges import test_reply_shapes as shapes
from tradewarden.adapters.exchanges import probes
from tradewarden.adapters.exchanges.permissions import PARSERS
from tradewarden.services.connections import validation
from tradewarden.services.errors import UserError

CATEGORY = "fuzz: credential and exchange-reply parsers"
FUZZ = settings(
    max_examples=scaled(60, 1500), deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def inner(test: Callable[..., Any]) -> Callable[..., Any]:
    """The body of a @given test, without its hypothesis driver."""
    body: Callable[..., Any] = getattr(test, "hypothesis").inner_test  # noqa: B009 - set by @given
    return body


def _counted() -> None:
    COUNTERS.count(CATEGORY, "fuzzed")


@FUZZ
@given(exchange_id=st.sampled_from(sorted(PARSERS)), reply=shapes.replies)
def test_permission_parsers(exchange_id: str, reply: Any) -> None:
    _counted()
    inner(shapes.test_permission_parsers_are_total)(exchange_id=exchange_id, reply=reply)


@FUZZ
@given(ccxt_id=st.sampled_from(sorted(probes.PROBES)), reply=shapes.replies)
def test_server_time_probes(ccxt_id: str, reply: Any) -> None:
    _counted()
    inner(shapes.test_server_time_is_a_positive_int_or_unreadable)(ccxt_id=ccxt_id, reply=reply)


@FUZZ
@given(balance=shapes.replies, tickers=shapes.replies)
def test_portfolio_parsers(balance: Any, tickers: Any) -> None:
    _counted()
    inner(shapes.test_portfolio_parsers_are_total)(balance=balance, tickers=tickers)


@FUZZ
@given(value=shapes.json_values)
def test_shape_helpers(value: Any) -> None:
    _counted()
    inner(shapes.test_shape_and_number_helpers_are_total)(value=value)


SECRETISH = st.text(
    alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", min_size=12, max_size=64
)
FIELD = st.sampled_from(["apiKey", "secret", "password", "apikey", "privateKey", "uid", ""]) | st.text(
    max_size=12
)
VALUE = (
    SECRETISH
    | st.integers()
    | st.none()
    | st.booleans()
    | st.lists(SECRETISH, max_size=2)
    | st.text(max_size=30)
)
OBJECTS = st.dictionaries(FIELD, VALUE, max_size=5).map(lambda d: json.dumps(d).encode())
RAW = (
    OBJECTS | st.binary(max_size=300) | st.text(max_size=200).map(str.encode) | OBJECTS.map(lambda b: b[:-3])
)


def _secret_values(raw: bytes) -> list[str]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    values = data.values() if isinstance(data, dict) else []
    return [v for v in values if isinstance(v, str) and len(v) >= 12]


def _echoed(raw: bytes, exchange: str, value: str) -> bool:
    """Whether a refusal quoting the start of `value` quoted the input, not its own words.

    Hypothesis draws strings from the code's own constants, so a value may begin with "credenti" and
    match the message's "credentials". With the value swapped for another of the same length, the
    message still holding those letters means they are the message's; any other outcome counts as an echo.
    """
    other = raw.replace(json.dumps(value)[1:-1].encode(), b"Q" * len(value))
    try:
        validation.validate_credentials(exchange, validation.parse_credentials(other))
    except UserError as refusal:
        return value[:8] not in str(refusal)
    return True


@FUZZ
@given(raw=RAW, exchange=st.sampled_from(["binance", "kucoin", "okx", "mexc", "bybit"]))
def test_credential_parser(raw: bytes, exchange: str) -> None:
    _counted()
    try:
        parsed = validation.validate_credentials(exchange, validation.parse_credentials(raw))
    except UserError as refusal:
        said = str(refusal)
        leaked = [v for v in _secret_values(raw) if v[:8] in said and _echoed(raw, exchange, v)]
        COUNTERS.count(CATEGORY, "secrets_leaked", len(leaked), why=f"credential parser echoed {said[:80]!r}")
        assert leaked == [], said
        return
    assert {"apiKey", "secret"} <= set(parsed)
    assert all("*" in repr(v) or "Secret" in repr(v) for v in parsed.values())
