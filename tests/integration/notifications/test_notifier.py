"""The notifier against a local receiver: signatures, payloads, filters, retries, Telegram, never blocking."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.integration.notifications.conftest import TELEGRAM_TOKEN, Receiver
from tradewarden.adapters.store.models import AuditEvent, NotificationChannel, NotificationSecret
from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import UnlockedVault
from tradewarden.services import events
from tradewarden.services.app import App
from tradewarden.services.events import AuditRecorded, BotEvent, ConnectionStatus, FillEvent, OrderEvent
from tradewarden.services.notifications import Notifier, RetryPolicy, notifier_for, run_until, verify
from tradewarden.services.notifications import channels as store
from tradewarden.services.notifications.kinds import kind_of
from tradewarden.services.vault_access import unlocked
from tradewarden.services.vault_session import VaultSession

FAST = RetryPolicy(attempts=5, base_s=0.05, cap_s=0.2, timeout_s=5.0)
WAIT_S = 15.0


def _opened(app: App) -> UnlockedVault:
    with unlocked(app, Secret(PASSPHRASE)) as (_session, opened):
        return opened


def _webhook(app: App, receiver: Receiver, name: str = "hook", path: str = "/hook", **kw: object) -> Secret:
    _view, key = store.add_webhook(app, Secret(PASSPHRASE), name, receiver.url + path, **kw)  # type: ignore[arg-type]
    return key


def _fill(bot: str | None = "dca-1", amount: str = "0.001", connection_id: str = "c0") -> FillEvent:
    return FillEvent(
        connection_id=connection_id,
        bot=bot,
        symbol="BTC/USDT",
        side="buy",
        amount=Decimal(amount),
        price=Decimal("50000.00"),
        fee=Decimal("0.05"),
        fee_currency="USDT",
        client_order_id="tw-1-1",
        paper=True,
    )


def _bot(status: str, kind: str | None, **detail: object) -> BotEvent:
    body = {"kind": kind, "pair": "BTC/USDT", "mode": "paper", **detail} if kind else dict(detail)
    return BotEvent(bot="dca-1", status=status, detail=body)


async def _until(check: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def _last(app: App, name: str) -> store.DeliveryView | None:
    [view] = [v for v in store.list_channels(app) if v.name == name]
    return view.last_delivery


def _signature_parts(header: str) -> tuple[int, str]:
    fields = dict(item.split("=", 1) for item in header.split(","))
    return int(fields["t"]), fields["v1"]


async def test_webhook_messages_are_signed_with_the_key_shown_once_and_shaped(
    app: App, receiver: Receiver
) -> None:
    key = _webhook(app, receiver)
    async with notifier_for(app, _opened(app), policy=FAST):
        events.publish(app.store, _fill())
        events.publish(app.store, _bot("event", "take_profit", reason="price reached 50500"))
        got = await receiver.await_for(2)
        await _until(lambda: _last(app, "hook") is not None, "the outcome to be recorded")
    for request in got:
        header = request.headers["x-tradewarden-signature"]
        timestamp, v1 = _signature_parts(header)
        # What the README tells a receiver to compute, written out independently of our verify().
        expected = hmac.new(key.reveal().encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
        assert hmac.compare_digest(v1, expected.hexdigest())
        assert abs(time.time() - timestamp) < 60
        assert verify(key.reveal(), request.body, header)
        assert not verify(key.reveal(), request.body.replace(b"dca-1", b"dca-2"), header)  # tampered body
        assert not verify("twsk_another-key", request.body, header)
        assert not verify(key.reveal(), request.body, header, now=timestamp + 3600)  # replayed later
        body = request.json()
        assert set(body) == {"id", "kind", "ts", "title", "text", "data"}
        assert request.headers["x-tradewarden-event"] == body["kind"]
        assert request.headers["x-tradewarden-delivery"] == body["id"]
        assert request.headers["content-type"] == "application/json"
    fill, take_profit = (r.json() for r in got)
    assert fill["kind"] == "fill" and fill["title"] == "Fill"
    assert fill["text"] == "Bot dca-1 bought 0.001 BTC at 50000 USDT, fee 0.05 USDT (paper)."
    assert fill["data"]["amount"] == "0.001" and fill["data"]["price"] == "50000"
    assert fill["data"]["symbol"] == "BTC/USDT" and fill["data"]["mode"] == "paper"
    assert take_profit["kind"] == "take_profit"
    assert take_profit["text"] == "Bot dca-1 took profit on BTC/USDT (paper): price reached 50500."
    assert take_profit["data"]["detail"] == {
        "kind": "take_profit",
        "pair": "BTC/USDT",
        "mode": "paper",
        "reason": "price reached 50500",
    }
    view = _last(app, "hook")
    assert view is not None and view.ok and view.attempts == 1 and view.status_code == 200


async def test_only_events_worth_telling_reach_a_channel_and_each_channel_filters(
    app: App, receiver: Receiver
) -> None:
    _webhook(app, receiver, "all-defaults")
    _webhook(app, receiver, "stops-only", path="/stops", events="stop_loss")
    async with notifier_for(app, _opened(app), policy=FAST):
        for ignored in (
            _fill(bot=None),  # an order without a bot
            _fill(bot="manual:cli:alice"),  # a trade by hand
            OrderEvent(
                connection_id="c0",
                bot="dca-1",
                symbol="BTC/USDT",
                side="buy",
                order_type="limit",
                amount=Decimal(1),
                price=Decimal(1),
                status="open",
            ),
            AuditRecorded(id=1, kind="token.created", actor="cli:x"),
            _bot("event", "group_opened"),  # a bot_event: not in the default kinds
        ):
            events.publish(app.store, ignored)
        events.publish(app.store, _bot("stopped", "stop_loss", reason="price fell 8 %"))
        events.publish(app.store, _fill(amount="0.002"))
        events.publish(app.store, _bot("stopped", "stop_loss", reason="again"))
        defaults = await receiver.await_for(3, "/hook")
        stops = await receiver.await_for(2, "/stops")
    # Per channel, messages keep publication order: had an ignored event been sent, it would come first.
    assert [r.json()["kind"] for r in defaults] == ["stop_loss", "fill", "stop_loss"]
    assert [r.json()["kind"] for r in stops] == ["stop_loss", "stop_loss"]
    assert defaults[1].json()["data"]["amount"] == "0.002"


def test_event_kinds_of_bot_events_including_ones_not_known_yet() -> None:
    assert kind_of(_bot("event", "take_profit")) == "take_profit"
    assert kind_of(_bot("event", "recovery_entered")) == "recovery"
    assert kind_of(_bot("event", "recovery_left")) == "recovery"
    assert kind_of(_bot("paused", "paused", reason="connection ip_not_allowed")) == "bot_paused"
    assert kind_of(_bot("paused", "connection_went_bad")) == "bot_paused"  # a pause for a new reason
    assert kind_of(_bot("stopped", "stopped")) == "bot_stopped"
    assert kind_of(_bot("error", "crashed")) == "bot_error"
    assert kind_of(_bot("running", "started")) == "bot_started"
    assert kind_of(_bot("running", None)) == "bot_started"
    assert kind_of(_bot("event", "addon")) == "bot_event"
    assert kind_of(_bot("event", "brand_new_kind")) == "bot_event"
    assert kind_of(_bot("created", "created")) == "bot_event"
    status = ConnectionStatus(id=1, kind="connection.status_changed", actor="x", detail={"status": "online"})
    assert kind_of(status) == "connection_status"
    assert kind_of(_fill(bot="manual:cli")) is None and kind_of(_fill(bot=None)) is None


async def test_an_unknown_strategy_event_is_told_generically(app: App, receiver: Receiver) -> None:
    _webhook(app, receiver, events="all")
    async with notifier_for(app, _opened(app), policy=FAST):
        events.publish(app.store, _bot("event", "grid_rebalanced", reason="range moved", nested={"x": 1}))
        [got] = await receiver.await_for(1)
    body = got.json()
    assert body["kind"] == "bot_event" and body["title"] == "Bot event"
    assert body["text"] == "Bot dca-1 grid rebalanced on BTC/USDT (paper): range moved."
    assert "nested" not in body["data"]["detail"]  # only flat values are passed on


async def test_a_failing_receiver_is_retried_with_growing_waits_until_it_answers(
    app: App, receiver: Receiver
) -> None:
    receiver.fail_first = 2  # 503, 503, then 200
    policy = RetryPolicy(attempts=5, base_s=0.1, cap_s=0.4, timeout_s=5.0)
    _webhook(app, receiver)
    async with notifier_for(app, _opened(app), policy=policy):
        events.publish(app.store, _fill())
        got = await receiver.await_for(3)
        await _until(lambda: _last(app, "hook") is not None, "the outcome to be recorded")
    assert len({r.json()["id"] for r in got}) == 1  # one message, tried three times
    # Jittered waits are at least half the exponential step: >= 0.05 s, then >= 0.1 s (network slack 20 ms).
    assert got[1].at - got[0].at >= 0.05 - 0.02
    assert got[2].at - got[1].at >= 0.10 - 0.02
    view = _last(app, "hook")
    assert view is not None and view.ok and view.attempts == 3 and view.status_code == 200
    assert len(receiver.received) == 3


def test_backoff_is_exponential_jittered_and_capped() -> None:
    policy = RetryPolicy(attempts=8, base_s=0.5, cap_s=4.0)
    rng = random.Random(7)
    for attempt in range(1, 10):
        step = min(4.0, 0.5 * 2 ** (attempt - 1))
        draws = [policy.delay(attempt, rng=rng) for _ in range(200)]
        assert all(step * 0.5 <= d <= step for d in draws)
        assert len({round(d, 6) for d in draws}) > 100  # jittered, not one fixed wait
    assert all(policy.delay(1, retry_after_s=3600, rng=rng) <= 4.0 for _ in range(50))  # Retry-After capped
    assert policy.longest_total_wait_s() == 0.5 + 1 + 2 + 4 + 4 + 4 + 4


async def test_after_the_last_try_the_failure_is_kept_and_audited(app: App, receiver: Receiver) -> None:
    receiver.always_status = 500
    policy = RetryPolicy(attempts=3, base_s=0.02, cap_s=0.05, timeout_s=5.0)
    _webhook(app, receiver, path="/hook/private-path-token")
    async with notifier_for(app, _opened(app), policy=policy) as notifier:
        events.publish(app.store, _fill())
        await _until(lambda: _last(app, "hook") is not None, "the failure to be recorded")
        got = receiver.on("/hook/private-path-token")
        assert notifier.stats["hook"].failed == 1
    view = _last(app, "hook")
    assert view is not None and not view.ok and view.attempts == 3 and view.error == "HTTP 500"
    assert len(got) == 3
    # The bounded policy bounds the whole: three tries never take longer than their waits plus slack.
    assert got[-1].at - got[0].at < policy.longest_total_wait_s() + 5.0
    with app.store.session() as session:
        [audit] = session.scalars(select(AuditEvent).where(AuditEvent.kind == "notification.failed")).all()
    assert '"channel": "hook"' in audit.detail_json and '"attempts": 3' in audit.detail_json
    assert "private-path-token" not in audit.detail_json and "127.0.0.1" not in audit.detail_json


async def test_a_client_error_is_not_retried(app: App, receiver: Receiver) -> None:
    receiver.always_status = 404
    _webhook(app, receiver)
    async with notifier_for(app, _opened(app), policy=FAST):
        events.publish(app.store, _fill())
        await _until(lambda: _last(app, "hook") is not None, "the failure to be recorded")
    view = _last(app, "hook")
    assert view is not None and not view.ok and view.attempts == 1 and view.status_code == 404
    assert len(receiver.received) == 1


async def test_telegram_gets_send_message_on_its_bot_path_with_the_chat_id(
    app: App, receiver: Receiver
) -> None:
    store.add_telegram(
        app,
        Secret(PASSPHRASE),
        "phone",
        "-1001234567890",
        Secret(TELEGRAM_TOKEN),
        api_base=receiver.url + "/tg",
    )
    path = f"/tg/bot{TELEGRAM_TOKEN}/sendMessage"
    async with notifier_for(app, _opened(app), policy=FAST):
        events.publish(app.store, _bot("paused", "paused", reason="connection went ip_not_allowed"))
        [got] = await receiver.await_for(1, path)
        await _until(lambda: _last(app, "phone") is not None, "the outcome to be recorded")
    body = got.json()
    assert body["chat_id"] == "-1001234567890"
    assert body["text"] == (
        "TradeWarden · Bot paused\nBot dca-1 was paused on BTC/USDT (paper): connection went ip_not_allowed."
    )
    assert "parse_mode" not in body  # plain text: names cannot inject markup
    assert "x-tradewarden-signature" not in got.headers
    view = _last(app, "phone")
    assert view is not None and view.ok


async def test_a_telegram_refusal_is_reported_in_its_words_without_the_token(
    app: App, receiver: Receiver
) -> None:
    receiver.telegram_answer = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    store.add_telegram(
        app, Secret(PASSPHRASE), "phone", "42", Secret(TELEGRAM_TOKEN), api_base=receiver.url + "/tg"
    )
    async with notifier_for(app, _opened(app), policy=FAST):
        events.publish(app.store, _fill())
        await _until(lambda: _last(app, "phone") is not None, "the failure to be recorded")
    view = _last(app, "phone")
    assert view is not None and not view.ok and view.attempts == 1  # a 400 is final
    assert view.error == "HTTP 400: Bad Request: chat not found"
    with app.store.session() as session:
        audits = " ".join(session.scalars(select(AuditEvent.detail_json)).all())
    assert TELEGRAM_TOKEN not in audits and TELEGRAM_TOKEN.split(":")[1] not in audits


async def test_a_hanging_receiver_never_slows_the_publisher_nor_the_other_channels(
    app: App, receiver: Receiver
) -> None:
    receiver.hang_paths = {"/slow"}
    _webhook(app, receiver, "slow", path="/slow")
    _webhook(app, receiver, "fast", path="/hook")
    queue_size, published = 10, 200
    ticks = 0
    stop_ticking = asyncio.Event()

    async def heartbeat() -> None:  # the loop the notifier (and a bot) runs on stays responsive
        nonlocal ticks
        while not stop_ticking.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    def publish_burst() -> None:  # as a bot's worker thread would
        for i in range(published):
            events.publish(app.store, _fill(amount=str(i + 1)))

    notifier = notifier_for(app, _opened(app), policy=FAST, queue_size=queue_size)
    await notifier.start()
    beating = asyncio.create_task(heartbeat())
    try:
        events.publish(app.store, _fill(amount="0.5"))  # the slow receiver now hangs on this one
        await receiver.await_for(1, "/slow")
        ticks_before = ticks
        # The whole burst is handed over while the receiver hangs (bounded: fails rather than wedging).
        await asyncio.wait_for(asyncio.to_thread(publish_burst), timeout=WAIT_S)
        last_amount = str(published)
        await _until(
            lambda: any(r.json()["data"]["amount"] == last_amount for r in receiver.on("/hook")),
            "the fast channel to get the newest message",
        )
        assert len(receiver.on("/slow")) == 1  # still hanging on its first message
        assert ticks > ticks_before  # the loop kept running
        slow = notifier.stats["slow"]
        assert published - queue_size - 1 <= slow.dropped <= published - queue_size + 1  # bounded queue
        receiver.release.set()
        await receiver.await_for(1 + queue_size, "/slow")
        newest = receiver.on("/slow")[-1].json()["data"]["amount"]
        assert newest == last_amount  # the oldest were dropped, the newest kept
    finally:
        stop_ticking.set()
        await beating
        await notifier.stop()
    assert not notifier.running


async def test_channels_added_while_running_are_picked_up(app: App, receiver: Receiver) -> None:
    async with notifier_for(app, _opened(app), policy=FAST) as notifier:
        events.publish(app.store, _fill())
        await _until(lambda: notifier.handled == 1, "the first event to be handled")
        assert receiver.received == []
        _webhook(app, receiver)  # as the CLI would, from another process
        events.publish(app.store, _fill(amount="0.003"))
        [got] = await receiver.await_for(1)
    assert got.json()["data"]["amount"] == "0.003"


@pytest.mark.attack("open a notification secret as another channel's, or read it from the database")
async def test_sealed_channel_secrets_are_bound_to_their_channel(app: App, receiver: Receiver) -> None:
    key_a = _webhook(app, receiver, "a", path="/hook/capability-a")
    _webhook(app, receiver, "b", path="/hook/capability-b")
    database = app.settings.sqlite_path
    assert database is not None
    raw = database.read_bytes()
    for plaintext in (b"capability-a", b"capability-b", key_a.reveal().encode()):
        assert plaintext not in raw
    with app.store.session() as session:
        ids = {row.name: row.id for row in session.scalars(select(NotificationChannel))}
        # Swap the sealed URLs of the two channels: each ciphertext now sits under the other's id.
        sealed = {
            row.channel_id: row
            for row in session.scalars(select(NotificationSecret).where(NotificationSecret.field == "url"))
        }
        first, second = sealed[ids["a"]], sealed[ids["b"]]
        first.nonce, second.nonce = second.nonce, first.nonce
        first.ciphertext, second.ciphertext = second.ciphertext, first.ciphertext
    notifier: Notifier = notifier_for(app, _opened(app), policy=FAST)
    async with notifier:
        events.publish(app.store, _fill())
        await _until(lambda: notifier.handled == 1, "the event to be handled")
        await asyncio.sleep(0.3)  # time for a (wrong) delivery to arrive, were one made
        assert notifier.stats == {}  # neither channel opened: both skipped
    assert receiver.received == []


async def test_run_until_with_a_vault_session_sends_until_stopped(app: App, receiver: Receiver) -> None:
    """What `serve` runs (and the bot runner can): built from an App and the process's VaultSession."""
    _webhook(app, receiver)
    bus = events.bus_for(app.store)
    stop = asyncio.Event()
    job = asyncio.create_task(run_until(app, Secret(PASSPHRASE), stop, vault=VaultSession(app, _opened(app))))
    await _until(lambda: bus.subscribers == 1, "the notifier to subscribe")
    events.publish(app.store, _bot("stopped", "stopped", reason="by the user"))
    [got] = await receiver.await_for(1)
    assert got.json()["kind"] == "bot_stopped"
    stop.set()
    await asyncio.wait_for(job, timeout=WAIT_S)
    assert bus.subscribers == 0


async def test_odd_events_do_not_stop_notifications(app: App, receiver: Receiver) -> None:
    _webhook(app, receiver, events="all")
    async with notifier_for(app, _opened(app), policy=FAST):
        events.publish(app.store, BotEvent(bot="dca-1", status="event", detail=["not", "a", "dict"]))  # type: ignore[arg-type]
        events.publish(app.store, BotEvent(bot="dca-1", status="event", detail={"kind": 7, "pair": None}))
        events.publish(app.store, _fill())
        got = await receiver.await_for(3)
    assert [r.json()["kind"] for r in got] == ["bot_event", "bot_event", "fill"]
    assert got[0].json()["data"]["detail"] == {}
