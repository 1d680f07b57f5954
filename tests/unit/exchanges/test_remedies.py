"""Messages and remedies speak to a person and name the exchange's own setting for each status."""

from __future__ import annotations

import pytest

from tradewarden.adapters.exchanges.errors import STATUSES, Status
from tradewarden.adapters.exchanges.registry import REGISTRY, SETTING_KEYS, ExchangeInfo
from tradewarden.adapters.exchanges.remedies import (
    WARNINGS,
    basic_info,
    explain,
    explain_basic,
    integrity,
    unverified,
    warning_text,
)

ENTRIES = [pytest.param(REGISTRY[i], id=i) for i in REGISTRY]

# The setting each status's remedy must name, in the exchange's own words.
SETTING_FOR: dict[Status, str | None] = {
    "online": "withdraw",
    "invalid_key": "api_management",
    "no_trade_permission": "spot_trade",
    "no_futures_permission": "futures_trade",
    "ip_not_allowed": "ip_whitelist",
    "withdraw_enabled": "withdraw",
    "clock_skew": None,
    "rate_limited": None,
    "exchange_unavailable": None,
    "expired": "ip_whitelist",
    "integrity_error": None,  # nothing to change on the exchange: the stored copy is damaged
}


def test_every_status_has_an_expected_setting() -> None:
    assert set(SETTING_FOR) == set(STATUSES)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("info", ENTRIES)
def test_explain_names_the_exchange_and_its_setting(info: ExchangeInfo, status: Status) -> None:
    message, remedy = explain(info, status, [])
    assert message.strip() and remedy.strip()
    assert info.name in message + remedy
    setting = SETTING_FOR[status]
    if setting is not None:
        assert info.setting_names[setting] in remedy
    for text in (message, remedy):
        assert "None" not in text and "{" not in text  # no unfilled template pieces


@pytest.mark.parametrize("info", ENTRIES)
def test_withdraw_enabled_says_refused_until_switched_off(info: ExchangeInfo) -> None:
    message, remedy = explain(info, "withdraw_enabled", [])
    assert "refused" in message and "withdrawals are switched off" in message
    assert info.setting_names["withdraw"] in remedy and "switch off" in remedy


@pytest.mark.parametrize("info", ENTRIES)
def test_invalid_key_mentions_passphrase_only_where_one_exists(info: ExchangeInfo) -> None:
    _, remedy = explain(info, "invalid_key", [])
    assert ("passphrase" in remedy) == ("password" in info.credentials)
    assert info.setting_names["read"] in remedy


def test_binance_invalid_key_covers_ip_and_permission() -> None:
    # Binance's -2015 does not say which of key, IP or permission failed, so the text must cover all three.
    message, remedy = explain(REGISTRY["binance"], "invalid_key", [])
    assert "IP" in message and "permission" in message
    assert "Restrict access to trusted IPs only" in remedy


def test_binance_no_futures_mentions_futures_account() -> None:
    _, remedy = explain(REGISTRY["binance"], "no_futures_permission", [])
    assert "Enable Futures" in remedy and "futures account" in remedy


@pytest.mark.parametrize("info", ENTRIES)
def test_ip_unrestricted_warning_names_the_whitelist_setting(info: ExchangeInfo) -> None:
    text = warning_text(info, "ip_unrestricted")
    assert info.setting_names["ip_whitelist"] in text and info.name in text


@pytest.mark.parametrize(
    ("exchange_id", "fragment"),
    [
        ("binance", "30 days"),
        ("bybit", "three months"),
        ("okx", "14 days"),
        ("bingx", "14 days"),
        ("mexc", "90 days"),
        ("gate", "90 days"),
        ("htx", "90 days"),
    ],
)
def test_ip_unrestricted_warning_states_the_exchange_rule(exchange_id: str, fragment: str) -> None:
    assert fragment in warning_text(REGISTRY[exchange_id], "ip_unrestricted")


@pytest.mark.parametrize("exchange_id", ["kucoin", "bitget", "coinbase"])
def test_no_lifetime_rule_claimed_where_none_is_documented(exchange_id: str) -> None:
    assert "Note:" not in warning_text(REGISTRY[exchange_id], "ip_unrestricted")


@pytest.mark.parametrize("info", ENTRIES)
def test_permissions_unknown_warning_names_withdraw_setting(info: ExchangeInfo) -> None:
    text = warning_text(info, "permissions_unknown")
    assert info.setting_names["withdraw"] in text


def test_unknown_warning_is_still_readable() -> None:
    assert "balance_unreadable" in warning_text(REGISTRY["okx"], "balance_unreadable")


@pytest.mark.parametrize("info", ENTRIES)
def test_explain_appends_warnings_to_the_remedy(info: ExchangeInfo) -> None:
    _, plain = explain(info, "online", [])
    _, warned = explain(info, "online", list(WARNINGS))
    assert warned.startswith(plain)
    for warning in WARNINGS:
        assert warning_text(info, warning) in warned


@pytest.mark.parametrize("status", STATUSES)
def test_explain_basic_for_a_ccxt_only_exchange(status: Status) -> None:
    message, remedy = explain_basic("kraken", status, ["permissions_unknown"])
    assert "Kraken" in message + remedy
    assert "could not read this key's permissions" in remedy
    if status == "withdraw_enabled":
        assert "'withdrawals'" in remedy


def test_explain_basic_uses_the_registry_when_it_can() -> None:
    assert explain_basic("bybit", "ip_not_allowed") == explain(REGISTRY["bybit"], "ip_not_allowed")


def test_basic_info_has_every_setting() -> None:
    info = basic_info("kraken")
    assert set(info.setting_names) == set(SETTING_KEYS) and info.permission_endpoint is None


@pytest.mark.parametrize("info", ENTRIES)
def test_unverified_permissions_say_not_online_and_retried(info: ExchangeInfo) -> None:
    message, remedy = unverified(info)
    assert "could not verify this key's permissions" in message
    assert "not Online" in message and "retried" in message
    assert info.setting_names["withdraw"] in message + remedy


def test_integrity_names_the_connection_and_the_rotation() -> None:
    message, remedy = integrity("MEXC Main", REGISTRY["mexc"])
    assert message == "The stored key for MEXC Main cannot be decrypted: it was altered or moved."
    assert 'connections rotate "MEXC Main"' in remedy
