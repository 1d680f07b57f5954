"""Which events are worth telling, under which kind name a channel filters them.

Kinds (the names `--events` and the API take):
`fill` a bot's fill; `take_profit`, `stop_loss`; `recovery` (Recovery Mode entered or left);
`bot_paused`, `bot_stopped`, `bot_error`, `bot_started`; `bot_event` (any other strategy event: a group
opened, an add-on, kinds added later); `connection_status` (a connection's status changed); `test`
(`notifications test`, always delivered).
"""

from __future__ import annotations

from tradewarden.services.events import BotEvent, ConnectionStatus, Event, FillEvent

KINDS: tuple[str, ...] = (
    "fill",
    "take_profit",
    "stop_loss",
    "recovery",
    "bot_paused",
    "bot_stopped",
    "bot_error",
    "bot_started",
    "bot_event",
    "connection_status",
)
DEFAULT_KINDS: tuple[str, ...] = (
    "fill",
    "take_profit",
    "stop_loss",
    "recovery",
    "bot_paused",
    "bot_stopped",
    "bot_error",
    "connection_status",
)
TEST_KIND = "test"
ALL = "all"
MANUAL_BOT_PREFIX = "manual:"  # fills of orders placed by hand (`trade`) carry bot "manual:<who>"

# A bot event's detail `kind` -> our kind; the bot's `status` decides for the rest.
_DETAIL_KINDS = {
    "take_profit": "take_profit",
    "stop_loss": "stop_loss",
    "recovery_entered": "recovery",
    "recovery_left": "recovery",
    "paused": "bot_paused",
    "stopped": "bot_stopped",
    "error": "bot_error",
    "started": "bot_started",
}
_STATUS_KINDS = {
    "paused": "bot_paused",
    "stopped": "bot_stopped",
    "error": "bot_error",
    "running": "bot_started",
}


def kind_of(event: Event) -> str | None:
    """The notification kind of `event`, or None when it is not worth telling."""
    if isinstance(event, FillEvent):
        if event.bot is None or event.bot.startswith(MANUAL_BOT_PREFIX):
            return None
        return "fill"
    if isinstance(event, BotEvent):
        detail_kind = event.detail.get("kind") if isinstance(event.detail, dict) else None
        if isinstance(detail_kind, str) and detail_kind in _DETAIL_KINDS:
            return _DETAIL_KINDS[detail_kind]
        # A state change is told as such whatever its detail says (a pause for a reason not known yet).
        if event.status in ("paused", "stopped", "error"):
            return _STATUS_KINDS[event.status]
        if event.status == "running" and not detail_kind:
            return "bot_started"
        return "bot_event"
    if isinstance(event, ConnectionStatus):
        return "connection_status"
    return None


def parse_kinds(text: str | None) -> tuple[str, ...] | None:
    """`k1,k2` as known kinds (`all`: every one); None when empty; ValueError(the unknown kind)."""
    if text is None or not text.strip():
        return None
    wanted: list[str] = []
    for raw in text.split(","):
        item = raw.strip().lower()
        if not item:
            continue
        if item == ALL:
            return KINDS
        if item not in KINDS:
            raise ValueError(item)
        if item not in wanted:
            wanted.append(item)
    return tuple(wanted) or None
