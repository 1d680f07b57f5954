"""No message carries a secret: connections on simulator keys, a real status change, fills, bot events."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from tests.conftest import PASSPHRASE
from tests.integration.notifications.conftest import TELEGRAM_TOKEN, Receiver
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services import events
from tradewarden.services.app import App
from tradewarden.services.connections import checks, service
from tradewarden.services.events import BotEvent, FillEvent
from tradewarden.services.notifications import RetryPolicy, notifier_for
from tradewarden.services.notifications import channels as store
from tradewarden.services.vault_access import unlocked
from tradewarden.sim import ThreadedSim

FAST = RetryPolicy(attempts=3, base_s=0.05, cap_s=0.2, timeout_s=5.0)


@pytest.mark.attack("read exchange keys out of notifications")
async def test_no_key_secret_or_passphrase_in_any_delivered_message(
    app: App, receiver: Receiver, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    binance = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    kucoin = sim_admin.key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
    views = {}
    for name, exchange, key in (("Sim Binance", "binance", binance), ("Sim KuCoin", "kucoin", kucoin)):
        credentials = {f: Secret(str(v)) for f, v in key.items() if f in ("apiKey", "secret", "password")}
        views[exchange] = service.add_connection(
            app, Secret(PASSPHRASE), name, exchange, credentials, endpoint=threaded_sim.url
        )
    _view, signing_key = store.add_webhook(app, Secret(PASSPHRASE), "hook", receiver.url + "/hook", "all")
    store.add_telegram(
        app, Secret(PASSPHRASE), "phone", "42", Secret(TELEGRAM_TOKEN), "all", receiver.url + "/tg"
    )
    with unlocked(app, Secret(PASSPHRASE)) as (_session, opened):
        pass
    telegram_path = f"/tg/bot{TELEGRAM_TOKEN}/sendMessage"
    async with notifier_for(app, opened, policy=FAST):
        # A real status change (untested -> online) for each connection, through the connection test.
        reports = await asyncio.to_thread(checks.check_connections, app, Secret(PASSPHRASE), None)
        assert {r.status for r in reports} == {"online"}
        for exchange, view in views.items():
            events.publish(
                app.store,
                FillEvent(
                    connection_id=view.id,
                    bot=f"dca-{exchange}",
                    symbol="BTC/USDT",
                    side="sell",
                    amount=Decimal("0.01"),
                    price=Decimal(50000),
                    fee=Decimal("0.5"),
                    fee_currency="USDT",
                ),
            )
        # A careless publisher: a secret inside a bot event's reason is masked, never passed on.
        events.publish(
            app.store,
            BotEvent(
                bot="dca-binance",
                status="paused",
                detail={"kind": "paused", "reason": f"key {binance['apiKey']} refused {binance['secret']}"},
            ),
        )
        expected = 2 + 2 + 1  # two status changes, two fills, one bot event
        webhook = await receiver.await_for(expected, "/hook")
        telegram = await receiver.await_for(expected, telegram_path)
    kinds = sorted(r.json()["kind"] for r in webhook)
    assert kinds == ["bot_paused", "connection_status", "connection_status", "fill", "fill"]
    texts = " ".join(r.json()["text"] for r in webhook)
    assert "Sim Binance went from untested to online" in texts
    assert "on Sim KuCoin" in texts  # fills name their connection
    paused = next(r.json() for r in webhook if r.json()["kind"] == "bot_paused")
    assert "****" in paused["text"]
    forbidden = [PASSPHRASE, signing_key.reveal(), TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1]]
    for key in (binance, kucoin):
        forbidden += [str(key[f]) for f in ("apiKey", "secret", "password") if key.get(f)]
    assert len(forbidden) >= 8
    for request in [*webhook, *telegram]:
        blob = request.body.decode() + " ".join(f"{k}: {v}" for k, v in request.headers.items())
        for value in forbidden:
            assert value not in blob, f"a secret reached {request.path}"
    deadline = time.monotonic() + 10
    while any(v.last_delivery is None for v in store.list_channels(app)):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    for view in store.list_channels(app):  # what is listed holds no secret either
        shown = str(view.to_json())
        assert all(value not in shown for value in forbidden)
        assert "/hook" not in shown and TELEGRAM_TOKEN not in shown
