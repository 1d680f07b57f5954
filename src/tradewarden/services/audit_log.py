"""The audit log as people read it: pages of events, each with a sentence given as a code with params.

The sentence's code is `audit.<kind>`; its params are the event's own details as text (plus `actor` and
`connection`). The English text is the fallback the dashboard translates from (issue 10).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tradewarden.adapters import audit
from tradewarden.services.app import App

# Sentences by event kind; {connection} and {actor} are always there, the rest come from the details.
TEMPLATES: Mapping[str, str] = {
    "audit.connection.added": "{actor} added the connection {connection} ({exchange}, {market}).",
    "audit.connection.add_refused": "{actor} tried to add {name} ({exchange}); its key failed the test "
    "({status}) and was not stored.",
    "audit.connection.removed": "{actor} removed {connection}; its sealed credentials were shredded.",
    "audit.connection.rotated": "{actor} replaced the key of {connection}.",
    "audit.connection.rotation_refused": "{actor} tried a new key for {connection}; it failed the test "
    "({status}) and the old key stays in force.",
    "audit.connection.tested": "{actor} tested {connection}: {status}.",
    "audit.connection.status_changed": "{connection} went from {previous} to {status} ({actor}).",
    "audit.connection.shown": "{actor} viewed {connection}.",
    "audit.connection.endpoint_changed": "{actor} pointed {connection} at {endpoint} (was {previous}).",
    "audit.connection.edited": "{actor} edited {connection}: {changes}.",
    "audit.connection.renamed": "{connection} was renamed ({actor}).",
    "audit.connection.key_generated": "{actor} generated an {key_type} key pair for {connection}.",
    "audit.connection.integrity_error": "The stored key of {connection} did not decrypt ({actor}).",
    "audit.connection.balances_read": "{actor} read the balances of {connection} ({outcome}).",
    "audit.vault.created": "{actor} created the vault.",
    "audit.vault.unlock_failed": "A vault unlock failed ({actor}).",
    "audit.vault.passphrase_changed": "{actor} changed the vault passphrase.",
    "audit.token.created": "{actor} created the API token {token_name} ({scope}).",
    "audit.token.revoked": "{actor} revoked the API token {token_name}.",
    "audit.token.renamed": "An API token was renamed ({actor}).",
    "audit.auth.failed": "A request with no valid token was refused ({actor}, {reason}).",
    "audit.auth.limited": "Requests from {actor} were refused for too many failed logins.",
    "audit.auth.login": "{actor} logged in to the dashboard.",
    "audit.order.refused": "The order guard refused an order on {connection} ({actor}).",
    "audit.order.placed": "{actor} placed an order on {connection}: {side} {amount} {symbol} ({type}, "
    "{mode}).",
    "audit.order.canceled": "{actor} canceled an order on {connection}: {side} {amount} {symbol} ({type}, "
    "{mode}).",
    "audit.order.reconciled": "The orders placed by hand on {connection} were checked against the exchange "
    "({trigger}): {orders} looked up, {changed} changed, {added} added, {unreachable} unreachable.",
    "audit.order.reconcile_failed": "The orders placed by hand on {connection} could not be checked against "
    "the exchange ({error}); they stay as they were.",
    "audit.bot.created": "{actor} created the bot {bot} on {connection} ({strategy}, {mode}, {pairs}).",
    "audit.bot.started": "{actor} started the bot {bot} ({mode}).",
    "audit.bot.stopped": "{actor} stopped the bot {bot}.",
    "audit.bot.removed": "{actor} removed the bot {bot}.",
    "audit.notification.added": "{actor} added the notification channel {channel} ({channel_kind}).",
    "audit.notification.removed": "{actor} removed the notification channel {channel}.",
    "audit.notification.failed": "A notification to {channel} failed after {attempts} attempts ({error}).",
    "audit.other": "{kind} by {actor}.",
}


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "—"


def describe(
    kind: str, actor: str, connection: str | None, detail: Mapping[str, Any]
) -> tuple[str, dict[str, str]]:
    """(code, params) of the event's sentence."""
    params = {key: _text(value) for key, value in detail.items()}
    params.update(actor=actor, connection=connection or "—", kind=kind)
    if kind == "connection.balances_read":
        params["outcome"] = "ok" if detail.get("ok") else f"failed: {_text(detail.get('error'))}"
    if kind == "connection.edited" and isinstance(detail.get("changes"), dict):
        params["changes"] = ", ".join(
            f"{field} {_text(change.get('previous'))} → {_text(change.get('now'))}"
            for field, change in detail["changes"].items()
            if isinstance(change, dict)
        )
    if isinstance(detail.get("order"), dict):  # order.placed/canceled/refused: the order's own fields
        for field, value in detail["order"].items():
            params.setdefault(field, _text(value))
    code = f"audit.{kind}"
    return (code if code in TEMPLATES else "audit.other"), params


def sentence(code: str, params: Mapping[str, str]) -> str:
    """The English text of an audit sentence (missing params read as —)."""
    return TEMPLATES[code].format_map(_Defaulting(params))


@dataclass(frozen=True)
class Event:
    """One audit event with its sentence."""

    id: int
    ts: datetime
    kind: str
    actor: str
    connection_id: str | None
    connection_name: str | None
    detail: dict[str, Any]
    message: str
    message_code: str
    message_params: dict[str, str]


def page(
    app: App,
    kind: str | None,
    connection: str | None,
    since: datetime | None,
    until: datetime | None,
    page_number: int,
    page_size: int,
) -> tuple[list[Event], int]:
    """One page of events, newest first, and how many match in all."""
    stmt = audit.query(kind, connection, since, until)
    with app.store.session() as session:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = session.scalars(stmt.offset((page_number - 1) * page_size).limit(page_size)).all()
        events = []
        for row in rows:
            detail = json.loads(row.detail_json)
            code, params = describe(row.kind, row.actor, row.connection_name, detail)
            events.append(
                Event(
                    row.id,
                    row.ts,
                    row.kind,
                    row.actor,
                    row.connection_id,
                    row.connection_name,
                    detail,
                    sentence(code, params),
                    code,
                    params,
                )
            )
    return events, total


def record_server_event(app: App, kind: str, actor: str, **detail: Any) -> None:
    """Record one audit event of the server's own (logins, refused authentications) in its own transaction."""
    with app.store.session() as session:
        audit.record(session, kind, actor, **detail)
