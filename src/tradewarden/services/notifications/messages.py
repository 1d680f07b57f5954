"""What a notification says: a title, one line of text and the event's plain fields — never a secret.

Only named fields of each event are copied (identifiers, amounts, statuses); a bot event's `detail` keeps
its scalar values only. As a last line of defence every string is passed through the vault's redaction
(any secret value this process has opened becomes `****`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradewarden.adapters.vault.redaction import redact_text
from tradewarden.services.events import BotEvent, ConnectionStatus, Event, FillEvent
from tradewarden.services.notifications.kinds import TEST_KIND

MAX_DETAIL_TEXT = 300  # characters of one detail value
_TITLES = {
    "fill": "Fill",
    "take_profit": "Take profit",
    "stop_loss": "Stop loss",
    "recovery": "Recovery Mode",
    "bot_paused": "Bot paused",
    "bot_stopped": "Bot stopped",
    "bot_error": "Bot error",
    "bot_started": "Bot started",
    "bot_event": "Bot event",
    "connection_status": "Connection status",
    TEST_KIND: "Test",
}


@dataclass(frozen=True)
class Message:
    """One notification, the same for every channel (`id` stays the same across retries)."""

    kind: str
    title: str
    text: str
    data: dict[str, Any]
    ts: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def webhook_body(self) -> bytes:
        """The JSON body a webhook receives (compact, UTF-8)."""
        payload = {
            "id": self.id,
            "kind": self.kind,
            "ts": self.ts.isoformat(),
            "title": self.title,
            "text": self.text,
            "data": self.data,
        }
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def telegram_text(self) -> str:
        """Plain text for Telegram (no parse mode: names cannot inject markup)."""
        return f"TradeWarden · {self.title}\n{self.text}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _amount(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return redact_text(value)[:MAX_DETAIL_TEXT]
    if value is None or isinstance(value, bool | int | float):
        return value
    return None


def _scalars(detail: Mapping[str, Any]) -> dict[str, Any]:
    # Only flat values: a nested object could carry anything the publisher put there.
    return {
        str(k)[:64]: _plain(v)
        for k, v in detail.items()
        if v is None or isinstance(v, str | bool | int | float | Decimal)
    }


def _amount(value: Decimal) -> str:
    # Exact, without exponent or trailing zeros: 0.00100 -> "0.001", 5E+4 -> "50000".
    return format(value.normalize(), "f")


def _fill(event: FillEvent, connection: str | None) -> Message:
    verb = "bought" if event.side == "buy" else "sold"
    base, _, quote = event.symbol.partition("/")
    quote = quote.split(":")[0] if quote else ""
    fee = f", fee {_amount(event.fee)} {event.fee_currency or ''}".rstrip() if event.fee else ""
    mode = "paper" if event.paper else "live"
    where = f" on {connection}" if connection else ""
    text = (
        f"Bot {event.bot} {verb} {_amount(event.amount)} {base} at {_amount(event.price)} {quote}".rstrip()
        + f"{fee} ({mode}{where})."
    )
    data = {
        "bot": event.bot,
        "connection": connection,
        "connection_id": event.connection_id,
        "symbol": event.symbol,
        "side": event.side,
        "amount": _plain(event.amount),
        "price": _plain(event.price),
        "fee": _plain(event.fee),
        "fee_currency": event.fee_currency,
        "mode": mode,
        "client_order_id": event.client_order_id,
        "event_ts": event.ts.isoformat(),
    }
    return Message("fill", _TITLES["fill"], redact_text(text), data)


_BOT_SENTENCES = {
    "take_profit": "took profit",
    "stop_loss": "hit its stop loss",
    "bot_paused": "was paused",
    "bot_stopped": "stopped",
    "bot_error": "stopped on an error",
    "bot_started": "is running",
}


def _bot(event: BotEvent, kind: str) -> Message:
    detail = _scalars(event.detail if isinstance(event.detail, Mapping) else {})
    detail_kind = str(detail.get("kind") or "")
    if kind == "recovery":
        sentence = "left Recovery Mode" if detail_kind == "recovery_left" else "entered Recovery Mode"
    else:
        sentence = _BOT_SENTENCES.get(kind) or (detail_kind.replace("_", " ") or event.status)
    pair = f" on {detail['pair']}" if detail.get("pair") else ""
    mode = f" ({detail['mode']})" if detail.get("mode") else ""
    reason = f": {detail['reason']}" if detail.get("reason") else ""
    text = f"Bot {event.bot} {sentence}{pair}{mode}{reason}."
    data = {"bot": event.bot, "status": event.status, "detail": detail, "event_ts": event.ts.isoformat()}
    return Message(kind, _TITLES.get(kind, "Bot event"), redact_text(text), data)


def _connection(event: ConnectionStatus) -> Message:
    previous = _plain(event.detail.get("previous"))
    status = _plain(event.detail.get("status"))
    name = event.connection_name or event.connection_id or "a connection"
    text = f"Connection {name} went from {previous or 'unknown'} to {status or 'unknown'}."
    data = {
        "connection": event.connection_name,
        "connection_id": event.connection_id,
        "previous": previous,
        "status": status,
        "event_ts": event.ts.isoformat(),
    }
    return Message("connection_status", _TITLES["connection_status"], redact_text(text), data)


def message_for(event: Event, kind: str, connection_names: Mapping[str, str] | None = None) -> Message:
    """The message telling `event` (classified as `kind`); connection names looked up by id."""
    if isinstance(event, FillEvent):
        return _fill(event, (connection_names or {}).get(event.connection_id))
    if isinstance(event, BotEvent):
        return _bot(event, kind)
    if isinstance(event, ConnectionStatus):
        return _connection(event)
    return Message(kind, _TITLES.get(kind, kind), redact_text(f"{event.type} event."), {})


def probe_message(channel_name: str) -> Message:
    """What `notifications test` sends."""
    text = f"Test message for the channel {channel_name}: notifications from TradeWarden arrive here."
    return Message(TEST_KIND, _TITLES[TEST_KIND], redact_text(text), {"channel": channel_name})
