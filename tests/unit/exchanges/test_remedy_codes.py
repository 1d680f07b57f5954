"""Issue 10a: every message and remedy is a code with params, and the English text is that code's template
filled with those params (so a translation by code says the same thing); the exact cause picks the code."""

from __future__ import annotations

import string

import pytest

from tradewarden.adapters.exchanges.errors import STATUSES, Status
from tradewarden.adapters.exchanges.registry import REGISTRY
from tradewarden.adapters.exchanges.remedies import TEMPLATES, WARNINGS, Phrase, explanation
from tradewarden.services.connections.tester import CHECK_LABELS, DETAIL_TEMPLATES, Check


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("exchange_id", sorted(REGISTRY))
def test_each_phrase_is_its_template_filled_with_its_params(exchange_id: str, status: Status) -> None:
    for ip in (None, "203.0.113.7"):
        found = explanation(REGISTRY[exchange_id], status, list(WARNINGS), ip=ip)
        for phrase in (found.message, found.remedy, *(p for _, p in found.notes)):
            assert phrase.code in TEMPLATES
            assert _fields(TEMPLATES[phrase.code]) <= set(phrase.params), phrase
            assert all(isinstance(v, str) for v in phrase.params.values())
            assert phrase.text == TEMPLATES[phrase.code].format(**phrase.params)


@pytest.mark.parametrize(("exchange_id", "code"), [("kucoin", "400004"), ("okx", "50105")])
def test_a_wrong_passphrase_is_the_headline(exchange_id: str, code: str) -> None:
    found = explanation(REGISTRY[exchange_id], "invalid_key", code=code)
    assert found.message.code == "status.invalid_key.passphrase.message"
    assert "passphrase" in found.message.text and "API key." not in found.message.text
    other = explanation(REGISTRY[exchange_id], "invalid_key", code="999")
    assert other.message.code == "status.invalid_key.message"


def test_the_ip_remedy_names_the_address_or_says_how_to_find_it() -> None:
    known = explanation(REGISTRY["kucoin"], "ip_not_allowed", ip="203.0.113.7")
    assert known.remedy.code == "status.ip_not_allowed.remedy_ip" and "203.0.113.7" in known.remedy.text
    unknown = explanation(REGISTRY["kucoin"], "ip_not_allowed")
    assert "could not be determined" in unknown.remedy.text and "what-is-my-IP" in unknown.remedy.text


def test_check_details_and_labels() -> None:
    check = Check.of("key_permissions", False, 1.0, "check.withdraw_enabled", permissions="read, withdraw")
    assert check.detail == "withdrawals are enabled (granted: read, withdraw)"
    assert (
        check.to_json()["label"] == "Permissions"
        and check.to_json()["detail_code"] == "check.withdraw_enabled"
    )
    assert {
        CHECK_LABELS[n] for n in ("server_time", "authenticated_read", "ip_restriction", "spot_market")
    } == {
        "Clock",
        "Key and signature",
        "IP restriction",
        "Market access",
    }
    assert all(
        _fields(t)
        <= {
            "reason",
            "status",
            "code",
            "offset_ms",
            "offset_s",
            "permissions",
            "expires_at",
            "ips",
            "ip",
            "error",
        }
        for t in DETAIL_TEMPLATES.values()
    )
    assert Phrase("warning.other", {"warning": "x"}).text == "Warning from the connection test: x."
