"""The notifier on PostgreSQL: no data_version there, so channels are re-read every `reload_s`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.integration.notifications.conftest import Receiver
from tests.pg import pg_available, pg_schema_url
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services import events
from tradewarden.services.app import App, open_app
from tradewarden.services.events import FillEvent
from tradewarden.services.notifications import RetryPolicy, notifier_for
from tradewarden.services.notifications import channels as store
from tradewarden.services.vault_access import init_vault, unlocked


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[App]:
    if not pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (trust auth, database test): SQLite only")
    with pg_schema_url() as url:
        settings = Settings(
            home=tmp_path / "twhome", database_url=url, kdf_time_cost=2, kdf_memory_kib=19 * 1024
        )
        app = open_app(settings, actor="test:notifications-pg")
        try:
            assert init_vault(app, Secret(PASSPHRASE))
            yield app
        finally:
            app.close()


def _fill(amount: int) -> FillEvent:
    return FillEvent(
        connection_id="c0", bot="grid-1", symbol="ETH/USDT", side="sell", amount=Decimal(amount),
        price=Decimal(3000), fee=Decimal(0),
    )  # fmt: skip


async def test_channels_deliveries_and_reloads_on_postgresql(pg_app: App, receiver: Receiver) -> None:
    assert pg_app.store.data_version() is None  # the path this test is about
    store.add_webhook(pg_app, Secret(PASSPHRASE), "first", receiver.url + "/hook")
    with unlocked(pg_app, Secret(PASSPHRASE)) as (_session, opened):
        pass
    policy = RetryPolicy(attempts=2, base_s=0.05, cap_s=0.1, timeout_s=5.0)
    async with notifier_for(pg_app, opened, policy=policy, reload_s=0.2, keep_deliveries=2):
        for amount in (1, 2, 3, 4):
            events.publish(pg_app.store, _fill(amount))
        await receiver.await_for(4, "/hook")
        store.add_webhook(pg_app, Secret(PASSPHRASE), "second", receiver.url + "/second")
        await asyncio.sleep(0.3)  # past reload_s: the next event re-reads the channels
        events.publish(pg_app.store, _fill(5))
        [got] = await receiver.await_for(1, "/second")
        deadline = time.monotonic() + 10
        while len(store.deliveries(pg_app, "second")) < 1 or len(store.deliveries(pg_app, "first")) < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
    assert got.json()["data"]["amount"] == "5"
    kept = store.deliveries(pg_app, "first")
    assert len(kept) == 2 and all(view.ok for _name, view in kept)  # only the last `keep` are kept
    store.remove_channel(pg_app, "first")
    assert [v.name for v in store.list_channels(pg_app)] == ["second"]
