"""Client order ids: deterministic, ours recognisable, valid under every supported exchange's rule."""

from __future__ import annotations

import re

import pytest

from tradewarden.adapters.execution import client_ids

# Each exchange's documented rule for the client order id field.
RULES = {
    "binance newClientOrderId": re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$"),
    "okx clOrdId": re.compile(r"^[A-Za-z0-9]{1,32}$"),
    "bybit orderLinkId": re.compile(r"^[A-Za-z0-9_-]{1,36}$"),
    "kucoin clientOid": re.compile(r"^[A-Za-z0-9_-]{1,40}$"),
    "mexc externalOid / newClientOrderId": re.compile(r"^[A-Za-z0-9_-]{1,32}$"),
}


@pytest.mark.parametrize("seq", [1, 2, 999, 10**10 - 1])
def test_ids_are_valid_everywhere_and_round_trip(seq: int) -> None:
    tag = client_ids.bot_tag("DCA BTC — main ✓", "c" * 32)
    cid = client_ids.client_order_id(tag, seq)
    for name, rule in RULES.items():
        assert rule.match(cid), (name, cid)
    assert client_ids.parse(cid) == (tag, seq)
    assert cid.startswith(client_ids.prefix_of(tag))


def test_same_bot_and_sequence_same_id_other_bot_other_id() -> None:
    a = client_ids.client_order_id(client_ids.bot_tag("bot-a", "conn1"), 7)
    assert a == client_ids.client_order_id(client_ids.bot_tag("bot-a", "conn1"), 7)
    assert a != client_ids.client_order_id(client_ids.bot_tag("bot-b", "conn1"), 7)
    assert a != client_ids.client_order_id(client_ids.bot_tag("bot-a", "conn1"), 8)
    # bot-less orders are tagged by their connection
    assert client_ids.bot_tag(None, "conn1") != client_ids.bot_tag(None, "conn2")


@pytest.mark.parametrize("seq", [0, -1, 10**10])
def test_sequence_out_of_range_is_refused(seq: int) -> None:
    with pytest.raises(ValueError, match="sequence"):
        client_ids.client_order_id(client_ids.bot_tag("b", "c"), seq)


def test_other_peoples_ids_are_not_ours() -> None:
    assert client_ids.parse("x-abc123") is None
    assert client_ids.parse("tw" + "g" * 12 + "0" * 10) is None  # not hex
    assert client_ids.parse("") is None
