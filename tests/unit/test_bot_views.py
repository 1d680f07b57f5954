"""What a bot's order did, read from its strategy tag (the chart's entry / add-on / exit markers)."""

from __future__ import annotations

import pytest

from tradewarden.services.bots.views import kind_of


@pytest.mark.parametrize(
    ("tag", "side", "kind"),
    [
        ("BTC/USDT|dca-g1-base-1", "buy", "entry"),
        ("BTC/USDT|dca-g1-addon2-3", "buy", "addon"),
        ("BTC/USDT|dca-g1-close-4", "sell", "exit"),
        ("BTC/USDT:USDT|dca-g2-base-9", "sell", "entry"),  # a short opens with a sell
        ("BTC/USDT:USDT|dca-g2-close-12", "buy", "exit"),
        ("ETH/USDT|grid-init-1", "buy", "entry"),
        ("ETH/USDT|grid-b3-7", "buy", "entry"),
        ("ETH/USDT|grid-s4-8", "sell", "exit"),
        ("BTC/USDT|close-5", "sell", "exit"),  # control.close_position's market close
        ("BTC/USDT:USDT|close-2", "buy", "exit"),  # ... buying a short back
        (None, "buy", "entry"),
        ("", "sell", "exit"),
    ],
)
def test_kind_of_a_bot_order(tag: str | None, side: str, kind: str) -> None:
    assert kind_of(tag, side) == kind
