"""/api/v1/notifications on a real server, and the server's own notifier sending what its bus carries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.api.conftest import ApiServer, running_server
from tests.integration.notifications.conftest import TELEGRAM_TOKEN, Receiver
from tradewarden.services import events
from tradewarden.services.events import BotEvent
from tradewarden.services.notifications import verify


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    """A real server (build_state: health monitor, audit feed and the notifier running)."""
    with running_server(tmp_path / "twhome") as api:
        yield api


def test_create_list_test_and_remove_over_the_api(server: ApiServer, receiver: Receiver) -> None:
    admin, reader = server.client("admin"), server.client("read")
    created = admin.post(
        "/api/v1/notifications",
        json={"name": "ops", "kind": "webhook", "url": receiver.url + "/hook/cap-path", "events": ["fill"]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    key = body["signing_key"]
    assert key.startswith("twsk_")
    assert body["target"] == receiver.url + "/…" and body["events"] == ["fill"]
    listed = reader.get("/api/v1/notifications")
    assert listed.status_code == 200
    [channel] = listed.json()
    assert "signing_key" not in channel and channel["name"] == "ops" and channel["last_delivery"] is None

    tested = admin.post("/api/v1/notifications/ops/test")
    assert tested.status_code == 200, tested.text
    assert tested.json() == {"name": "ops", "ok": True, "attempts": 1, "status_code": 200, "error": None}
    [request] = receiver.wait_for(1, "/hook/cap-path")
    assert verify(key, request.body, request.headers["x-tradewarden-signature"])
    deliveries = reader.get("/api/v1/notifications/deliveries", params={"channel": "ops"})
    assert deliveries.status_code == 200
    [delivery] = deliveries.json()
    assert delivery["channel"] == "ops" and delivery["event_kind"] == "test" and delivery["ok"] is True

    receiver.always_status = 503
    failed = admin.post("/api/v1/notifications/ops/test")
    assert failed.status_code == 200 and failed.json()["ok"] is False
    assert failed.json()["error"] == "HTTP 503"

    assert admin.delete("/api/v1/notifications/ops").status_code == 204
    assert reader.get("/api/v1/notifications").json() == []
    gone = admin.delete("/api/v1/notifications/ops")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    # The key appeared in the create response only; the URL's path never.
    later = [e for e in server.transcript if e.method != "POST" or not e.url.endswith("/notifications")]
    for exchange in later:
        assert key.encode() not in exchange.blob() and b"cap-path" not in exchange.blob()


def test_telegram_over_the_api_keeps_the_token_write_only(server: ApiServer, receiver: Receiver) -> None:
    admin = server.client("admin")
    created = admin.post(
        "/api/v1/notifications",
        json={
            "name": "phone",
            "kind": "telegram",
            "chat_id": "123456789",
            "bot_token": TELEGRAM_TOKEN,
            "api_base": receiver.url + "/tg",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["signing_key"] is None
    assert admin.post("/api/v1/notifications/phone/test").json()["ok"] is True
    receiver.wait_for(1, f"/tg/bot{TELEGRAM_TOKEN}/sendMessage")
    admin.get("/api/v1/notifications")
    for exchange in server.transcript:
        assert TELEGRAM_TOKEN.split(":")[1].encode() not in exchange.blob()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "x", "kind": "webhook", "url": "ftp://example.com/"}, 422, "url"),
        ({"name": "x", "kind": "webhook", "url": "https://u:p@example.com/"}, 422, "url"),
        ({"name": "x", "kind": "webhook"}, 422, "url"),
        ({"name": "x", "kind": "webhook", "url": "https://example.com/", "events": ["nope"]}, 422, "events"),
        ({"name": "x", "kind": "telegram", "chat_id": "1"}, 422, "bot_token"),
        ({"name": "x", "kind": "telegram", "chat_id": "1", "bot_token": "short"}, 422, "token"),
        ({"name": "x", "kind": "pigeon"}, 422, None),
    ],
)
def test_bad_input_is_422_and_writes_nothing(
    server: ApiServer, body: dict[str, object], status: int, field: str | None
) -> None:
    admin = server.client("admin")
    response = admin.post("/api/v1/notifications", json=body)
    assert response.status_code == status, response.text
    if field is not None:
        assert response.json()["error"]["field"] == field
    assert admin.get("/api/v1/notifications").json() == []


def test_scopes_duplicates_and_unknown_names(server: ApiServer) -> None:
    body = {"name": "ops", "kind": "webhook", "url": "https://example.com/x"}
    for scope in ("read", "trade"):
        refused = server.client(scope).post("/api/v1/notifications", json=body)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    admin = server.client("admin")
    assert admin.post("/api/v1/notifications", json=body).status_code == 201
    duplicate = admin.post("/api/v1/notifications", json={**body, "name": "OPS"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["field"] == "name"
    assert admin.post("/api/v1/notifications/nope/test").status_code == 404
    assert server.client("read").delete("/api/v1/notifications/ops").status_code == 403


def test_the_server_sends_notifications_for_its_bus(server: ApiServer, receiver: Receiver) -> None:
    """`tradewarden serve` runs the notifier: a bot event published in the server reaches the receiver."""
    admin = server.client("admin")
    created = admin.post(
        "/api/v1/notifications", json={"name": "ops", "kind": "webhook", "url": receiver.url + "/hook"}
    )
    assert created.status_code == 201
    bus = events.bus_for(server.app.store)
    deadline = time.monotonic() + 15
    while bus.subscribers < 1:  # the notifier (and only it: no stream is open) has subscribed
        assert time.monotonic() < deadline, "the server's notifier never subscribed"
        time.sleep(0.02)
    bus.publish(BotEvent(bot="dca-1", status="stopped", detail={"kind": "stopped", "reason": "by the user"}))
    [request] = receiver.wait_for(1, "/hook")
    assert request.json()["kind"] == "bot_stopped"
    assert request.json()["text"] == "Bot dca-1 stopped: by the user."
    assert verify(created.json()["signing_key"], request.body, request.headers["x-tradewarden-signature"])
