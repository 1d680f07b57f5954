"""Deterministic client order ids: the bot and its order sequence, valid on every supported exchange.

The strictest rules decide the shape: OKX clOrdId is 1-32 case-sensitive letters and digits; MEXC's
contract externalOid and KuCoin's clientOid take 32 too; Binance newClientOrderId (<= 36,
`^[.A-Z:/a-z0-9_-]{1,36}$`) and Bybit orderLinkId (<= 36, letters, digits, `-`, `_`) are looser. So an id
is letters and digits only and at most 32 long: `tw` + 12 hex of the bot's digest + the sequence in
base 10, zero-padded to 10 digits (24 characters). The same bot and sequence always give the same id,
so a retry after a timeout, or a restart, names the same order.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "tw"
BOT_DIGITS = 12
SEQ_DIGITS = 10
MAX_LENGTH = 32
VALID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_PARSE = re.compile(rf"^{PREFIX}([0-9a-f]{{{BOT_DIGITS}}})([0-9]{{{SEQ_DIGITS}}})$")


def bot_tag(bot: str | None, connection_id: str) -> str:
    """The 12-hex tag of a bot (or of the connection's bot-less orders), stable across restarts."""
    source = f"bot:{bot}" if bot else f"connection:{connection_id}"
    return hashlib.sha256(source.encode()).hexdigest()[:BOT_DIGITS]


def client_order_id(tag: str, seq: int) -> str:
    """The client order id of order number `seq` (>= 1) of the bot tagged `tag`."""
    if not 1 <= seq < 10**SEQ_DIGITS:
        raise ValueError(f"order sequence {seq} is outside 1..{10**SEQ_DIGITS - 1}")
    value = f"{PREFIX}{tag}{seq:0{SEQ_DIGITS}d}"
    if not VALID.match(value) or len(value) > MAX_LENGTH:
        raise ValueError(f"client order id {value!r} breaks the exchanges' rules")
    return value


def prefix_of(tag: str) -> str:
    """What every client order id of the tagged bot starts with (to recognise ours on the exchange)."""
    return f"{PREFIX}{tag}"


def parse(value: str) -> tuple[str, int] | None:
    """(tag, seq) of one of our client order ids, None for anyone else's."""
    found = _PARSE.match(value or "")
    return (found.group(1), int(found.group(2))) if found else None
