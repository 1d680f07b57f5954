"""Notification channels: list (read), create / test / remove (admin, like connections and tokens).

The webhook URL and the Telegram bot token are write-only (sealed in the vault); a webhook's signing key
appears once, in the create response.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.auth import AdminPrincipal, ReadPrincipal, StateDep
from tradewarden.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from tradewarden.services.errors import InputError
from tradewarden.services.notifications import channels, send_probe
from tradewarden.services.notifications.channels import ChannelView
from tradewarden.services.vault_access import unlocked

router = APIRouter(prefix="/notifications", tags=["notifications"], responses=ERROR_RESPONSES)


class NotificationCreateIn(BaseModel):
    """A new channel: a webhook (`url`) or a Telegram chat (`chat_id`, `bot_token`, `api_base`?)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "ops", "kind": "webhook", "url": "https://hooks.example.com/tw", "events": ["fill"]},
                {"name": "phone", "kind": "telegram", "chat_id": "123456789", "bot_token": "123:ABC..."},
            ]
        },
    )
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["webhook", "telegram"]
    url: SecretStr | None = Field(default=None, max_length=2048, description="Webhook URL (write-only)")
    chat_id: str | None = Field(default=None, max_length=64)
    bot_token: SecretStr | None = Field(default=None, max_length=256, description="Telegram (write-only)")
    api_base: str | None = Field(default=None, max_length=512, description="Telegram Bot API base URL")
    events: list[str] | None = Field(default=None, max_length=32, description="Event kinds; default set")


class DeliveryOut(BaseModel):
    """How one notification's delivery ended."""

    ts: datetime
    event_kind: str
    ok: bool
    attempts: int
    status_code: int | None
    error: str | None


class NotificationOut(BaseModel):
    """A channel as listed: never its URL's path, signing key or bot token."""

    id: str
    name: str
    kind: str
    target: str
    events: list[str]
    enabled: bool
    created_at: datetime
    last_delivery: DeliveryOut | None


class NotificationCreatedOut(NotificationOut):
    """A new channel; a webhook's `signing_key` appears here only."""

    signing_key: str | None = None


class ProbeOut(BaseModel):
    """The test message's outcome."""

    name: str
    ok: bool
    attempts: int
    status_code: int | None
    error: str | None


class DeliveryItemOut(DeliveryOut):
    """One recent delivery, with its channel's name."""

    channel: str


def _out(view: ChannelView, signing_key: Secret | None = None) -> NotificationCreatedOut:
    body = view.to_json()
    if signing_key is not None:
        body["signing_key"] = signing_key.reveal()
    return NotificationCreatedOut.model_validate(body)


@router.get("", response_model=list[NotificationOut], summary="List notification channels")
def list_notifications(_: ReadPrincipal, state: StateDep) -> list[NotificationOut]:
    """Every channel with its event kinds and last delivery."""
    return [NotificationOut.model_validate(v.to_json()) for v in channels.list_channels(state.app)]


@router.get(
    "/deliveries",
    response_model=list[DeliveryItemOut],
    summary="Recent notification deliveries",
    responses=NOT_FOUND,
)
def list_deliveries(
    _: ReadPrincipal,
    state: StateDep,
    channel: str | None = Query(default=None, max_length=64, description="Only this channel's"),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[DeliveryItemOut]:
    """Outcomes of recent deliveries, newest first."""
    return [
        DeliveryItemOut.model_validate({**view.to_json(), "channel": name})
        for name, view in channels.deliveries(state.app, channel, limit)
    ]


@router.post(
    "",
    response_model=NotificationCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a notification channel",
    responses=CONFLICT,
)
def create_notification(
    body: NotificationCreateIn, principal: AdminPrincipal, state: StateDep
) -> NotificationCreatedOut:
    """A webhook (its signing key in this response only) or a Telegram chat (token sealed)."""
    app = state.app_for(principal.actor)
    if body.kind == "webhook":
        if body.url is None:
            raise InputError("a webhook needs its URL", "send url: https://host/path", "url")
        if body.chat_id is not None or body.bot_token is not None or body.api_base is not None:
            raise InputError("chat_id, bot_token and api_base are for telegram only", "drop them", "kind")
        view, key = channels.add_webhook(
            app, state.passphrase, body.name, body.url.get_secret_value(), body.events
        )
        return _out(view, key)
    if body.url is not None:
        raise InputError("url is for webhooks only", "send chat_id and bot_token for telegram", "url")
    if body.chat_id is None:
        raise InputError("a Telegram channel needs chat_id", "send the chat's numeric id or @name", "chat_id")
    if body.bot_token is None:
        raise InputError("a Telegram channel needs bot_token", "send the token BotFather gave", "bot_token")
    view = channels.add_telegram(
        app,
        state.passphrase,
        body.name,
        body.chat_id,
        Secret(body.bot_token.get_secret_value()),
        body.events,
        body.api_base,
    )
    return _out(view)


@router.post(
    "/{notification:path}/test", response_model=ProbeOut, summary="Send a test message", responses=NOT_FOUND
)
def test_notification(notification: str, principal: AdminPrincipal, state: StateDep) -> ProbeOut:
    """Send the test message now; `ok` false with `error` when it did not arrive."""
    app = state.app_for(principal.actor)
    with unlocked(app, state.passphrase) as (_session, opened):
        pass  # the transaction ends here: the outcome is written by another one
    # A worker thread (sync route): its own event loop for the one message.
    name, outcome = asyncio.run(send_probe(app, opened, notification))
    return ProbeOut(
        name=name,
        ok=outcome.ok,
        attempts=outcome.attempts,
        status_code=outcome.status_code,
        error=outcome.error,
    )


@router.delete(
    "/{notification:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a notification channel",
    responses=NOT_FOUND,
)
def remove_notification(notification: str, principal: AdminPrincipal, state: StateDep) -> None:
    """Delete the channel, its sealed secrets and its delivery history."""
    channels.remove_channel(state.app_for(principal.actor), notification)
