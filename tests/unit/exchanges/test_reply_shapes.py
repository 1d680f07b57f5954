"""Every parser of an exchange reply takes any shape: it answers, or raises UnreadableReply, nothing else.

Hypothesis throws arbitrary JSON (Python's json also yields NaN and ±Infinity), text, and near-miss
envelopes that carry the documented field names with wrong values at the parsers. UnreadableReply is the
one designated error; errors.classify maps it to exchange_unavailable with its cause.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import ccxt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewarden.adapters.exchanges import probes
from tradewarden.adapters.exchanges.errors import STATUSES, classify
from tradewarden.adapters.exchanges.permissions import (
    PARSERS,
    PERMISSION_METHODS,
    KeyPermissions,
    fetch_permissions,
    parse_htx,
    parse_mexc,
)
from tradewarden.adapters.exchanges.registry import get_exchange
from tradewarden.adapters.exchanges.replies import UnreadableReply, require_json, shape_of, whole_number
from tradewarden.services.connections.tester import Clients, run_test
from tradewarden.services.portfolio import holdings_of, spot_prices

# Field names the parsers look for: near misses carry them with values of any type.
FIELDS = [
    "code", "data", "retCode", "result", "permission", "permissions", "ipWhitelist", "ipWhiteList",
    "ipAddresses", "ips", "ip", "perm", "readOnly", "expiredAt", "enableReading", "enableWithdrawals",
    "enableSpotAndMarginTrading", "enableFutures", "ipRestrict", "tradingAuthorityExpirationTime",
    "remainingValidity", "status", "validDays", "authorities", "detail", "main_keys", "key", "perms",
    "name", "read_only", "ip_whitelist", "can_view", "can_trade", "can_transfer", "serverTime", "time",
    "ts", "Spot", "Wallet", "ContractTrade", "Derivatives", "free", "used", "total", "last", "price",
]  # fmt: skip
SUCCESS_CODES = ["0", 0, "200000", "00000", 200, "200"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["", "true", "false", "1e400", "-1", "NaN", "SpotTrade", "Withdraw", "*", "VALID"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=12,
)
envelopes = st.builds(
    lambda code, key, payload: {"code": code, "retCode": code, key: payload},
    st.sampled_from(SUCCESS_CODES),
    st.sampled_from(["data", "result"]),
    json_values,
)
replies = json_values | envelopes | st.text(max_size=60).map(lambda t: "<html>" + t)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("exchange_id", sorted(PARSERS))
@SETTINGS
@given(reply=replies)
def test_permission_parsers_are_total(exchange_id: str, reply: Any) -> None:
    result = PARSERS[exchange_id](reply)
    assert isinstance(result, KeyPermissions)
    for value in (result.read, result.spot_trade, result.futures_trade, result.withdraw):
        assert value is None or isinstance(value, bool)
    assert result.expires_at is None or result.expires_at.tzinfo is not None


# Replies that raised OverflowError, OSError or TypeError out of the parsers before they were made total.
NASTY = [
    ("bingx", {"code": 0, "data": {"permissions": [float("inf"), 1]}}),
    ("bitget", {"code": "00000", "data": {"authorities": 5}}),
    ("mexc", {"permissions": "SPOT_DEAL_WRITE", "remainingValidity": float("inf"), "ipWhiteList": ""}),
    ("htx", {"code": 200, "data": [{"permission": "trade", "validDays": 10**12}]}),
    ("binance", {"enableWithdrawals": False, "tradingAuthorityExpirationTime": 10**20}),
    ("gate", {"detail": {}, "main_keys": [{"key": "k", "perms": 7}], "key": "k"}),
    ("bybit", {"retCode": 0, "result": {"permissions": {}, "expiredAt": "0001-01-01T00:00:00+05:00"}}),
]


@pytest.mark.parametrize(("exchange_id", "reply"), NASTY, ids=[f"{e}-{i}" for i, (e, _) in enumerate(NASTY)])
def test_replies_that_used_to_crash_a_parser(exchange_id: str, reply: Any) -> None:
    assert isinstance(PARSERS[exchange_id](reply), KeyPermissions)


@SETTINGS
@given(reply=replies, now=st.datetimes(timezones=st.just(UTC)))
def test_parsers_with_a_clock_are_total_at_any_time(reply: Any, now: datetime) -> None:
    for parser in (parse_mexc, parse_htx):
        assert isinstance(parser(reply, now), KeyPermissions)


@pytest.mark.parametrize("ccxt_id", sorted(probes.PROBES))
@SETTINGS
@given(reply=replies)
def test_server_time_is_a_positive_int_or_unreadable(ccxt_id: str, reply: Any) -> None:
    try:
        ms = probes.PROBES[ccxt_id].server_ms(reply)
    except UnreadableReply as exc:
        assert exc.cause
        return
    assert isinstance(ms, int) and ms > 0


class AnyReply:
    """A ccxt-like client whose every implicit method answers `reply` (or raises it)."""

    apiKey = "test-access-key"

    def __init__(self, reply: Any) -> None:
        self.reply = reply

    def __getattr__(self, name: str) -> Any:
        async def call(params: dict[str, Any] | None = None) -> Any:
            if isinstance(self.reply, BaseException):
                raise self.reply
            return self.reply

        return call


@pytest.mark.parametrize("exchange_id", sorted(PERMISSION_METHODS))
@SETTINGS
@given(reply=replies)
async def test_fetch_permissions_knows_withdraw_or_raises_unreadable(exchange_id: str, reply: Any) -> None:
    try:
        result = await fetch_permissions(exchange_id, AnyReply(reply))
    except UnreadableReply as exc:
        assert classify(exchange_id, 200, None, exc).status == "exchange_unavailable"
        return
    assert isinstance(result.withdraw, bool)  # fail closed: an answer always says whether it withdraws


@pytest.mark.parametrize(
    "reply", ["<html><body>Maintenance</body></html>", '{"truncated": [1, 2', "", None, 42, True]
)
@pytest.mark.parametrize("exchange_id", sorted(PERMISSION_METHODS))
async def test_non_json_permission_reply_is_unreadable(exchange_id: str, reply: Any) -> None:
    with pytest.raises(UnreadableReply):
        await fetch_permissions(exchange_id, AnyReply(reply))


async def test_gate_refused_main_keys_is_unreadable_not_unknown() -> None:
    class Gate(AnyReply):
        async def private_account_get_main_keys(self) -> Any:
            raise ccxt.PermissionDenied("gate")

    with pytest.raises(UnreadableReply, match="withdraw"):
        await fetch_permissions("gate", Gate({"ip_whitelist": ["203.0.113.7"]}))


@pytest.mark.parametrize(
    "reply", ["<!doctype html><p>502</p>", '{"truncated": [1, 2', "", None, 3.5, "garbage\x00"]
)
async def test_probe_calls_refuse_non_json(reply: Any) -> None:
    with pytest.raises(UnreadableReply):
        await probes.BINANCE_SPOT.balance(AnyReply(reply))


def test_unreadable_reply_classifies_as_exchange_unavailable_with_cause() -> None:
    exc = UnreadableReply("it is text, not JSON")
    for exchange_id in ("binance", "okx", "kraken"):
        classified = classify(exchange_id, 200, "<html>", exc)
        assert classified.status == "exchange_unavailable"
        assert "could not be read: it is text, not JSON" in classified.detail


def test_the_bad_json_fault_shape_names_its_cause() -> None:
    # What ccxt hands back for the simulator's bad_json fault: the raw, truncated text.
    with pytest.raises(UnreadableReply) as caught:
        probes.BINANCE_SPOT.server_ms('{"truncated": [1, 2')
    assert "server time" in caught.value.cause
    with pytest.raises(UnreadableReply, match="text, not JSON"):
        require_json('{"truncated": [1, 2')


@SETTINGS
@given(value=json_values)
def test_shape_and_number_helpers_are_total(value: Any) -> None:
    assert shape_of(value)
    number = whole_number(value)
    assert number is None or isinstance(number, int)


@SETTINGS
@given(balance=replies, tickers=replies)
def test_portfolio_parsers_are_total(balance: Any, tickers: Any) -> None:
    for holding in holdings_of(balance):
        assert holding.total.is_finite()
    for symbol, price in spot_prices(tickers).items():
        assert "/" in symbol and price > 0


# The whole connection test over a client that answers every call with the same arbitrary reply.
TESTED = {"binance": "binance", "kucoin": "kucoin", "mexc": "mexc", "okx": "okx", "bybit": "bybit"}


@pytest.mark.parametrize("exchange_id", sorted(TESTED))
@SETTINGS
@given(reply=replies | st.just(ccxt.ExchangeError("boom")) | st.just(AttributeError("x")))
async def test_connection_test_never_raises_and_online_means_withdraw_off(
    exchange_id: str, reply: Any
) -> None:
    client = AnyReply(reply)
    client.on_rest_response = lambda *args, **kwargs: args[5]  # type: ignore[attr-defined]
    clients = Clients(exchange_id, "spot", client, TESTED[exchange_id])
    report = await run_test("any", get_exchange(exchange_id), clients)
    assert report.status in STATUSES
    if report.ok:
        assert report.permissions.withdraw is False
    else:
        assert report.message and report.remedy
