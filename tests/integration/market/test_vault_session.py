"""A server process unlocks the vault once; private clients are made once per connection and closed when
their key is rotated; no secret reaches logs, /metrics or events. Real server, real ccxt, the simulator."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.conftest import PASSPHRASE
from tests.integration.simtools import SimAdmin
from tests.serving import serve_in_thread
from tradewarden.adapters.vault import crypto
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api import background, server
from tradewarden.api.app import create_app
from tradewarden.api.state import ServerState
from tradewarden.config import Settings
from tradewarden.logs import LOG_FILE, configure_logging
from tradewarden.services import events, tokens
from tradewarden.services.app import open_app
from tradewarden.services.connections import service
from tradewarden.services.vault_access import init_vault, release_data_key
from tradewarden.services.vault_session import VaultSession
from tradewarden.sim import ThreadedSim

T = TypeVar("T")
STEP_S = 30.0
NAME = "Hub Binance"


def _on_loop(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the server's loop (where the hub and its clients live) and wait for it."""
    return asyncio.run_coroutine_threadsafe(coro, loop).result(STEP_S)


def _wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + STEP_S
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_one_kdf_run_per_server_process_and_private_clients_per_connection(
    tmp_path: Path,
    threaded_sim: ThreadedSim,
    sim_admin: SimAdmin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, kdf_time_cost=2, kdf_memory_kib=19456)
    app = open_app(settings, actor="test:vault-session")
    root_level = logging.getLogger().level
    configure_logging(settings.home_dir, logging.DEBUG)  # the product's log file, at its most talkative
    old = sim_admin.key("binance", ["read", "spot_trade"], ip_whitelist=["127.0.0.1"])
    new = sim_admin.key("binance", ["read", "spot_trade"], ip_whitelist=["127.0.0.1"])
    secrets = [old["apiKey"], old["secret"], new["apiKey"], new["secret"], PASSPHRASE]
    try:
        init_vault(app, Secret(PASSPHRASE))
        creds = {"apiKey": Secret(old["apiKey"]), "secret": Secret(old["secret"])}
        view = service.add_connection(
            app, Secret(PASSPHRASE), NAME, "binance", creds, endpoint=threaded_sim.url
        )
        _admin, admin_token = tokens.create_token(app, "vs-admin", "admin")
        _read, read_token = tokens.create_token(app, "vs-read", "read")
        release_data_key(app)  # the setup above is not the server: the server process starts here

        kdf_runs: list[int] = []
        real_derive = crypto.derive_kek

        def counting_derive(*args: Any, **kwargs: Any) -> bytes:
            kdf_runs.append(threading.get_ident())
            return real_derive(*args, **kwargs)

        monkeypatch.setattr(crypto, "derive_kek", counting_derive)

        # What `tradewarden serve` does (cli/serve.py _serve), then the server itself.
        vault = VaultSession.open(app, Secret(PASSPHRASE))
        options = server.ServeOptions(monitor_interval_s=3600.0)
        assert server.preflight(app, Secret(PASSPHRASE), options) == []
        state: ServerState = server.build_state(app, Secret(PASSPHRASE), options)
        state.vault = vault
        loops: list[asyncio.AbstractEventLoop] = []

        async def grab_loop(_state: ServerState, stop: asyncio.Event) -> None:
            loops.append(asyncio.get_running_loop())
            await stop.wait()

        state.background_jobs += [background.market_hub, grab_loop]
        published: list[dict[str, Any]] = []
        with (
            events.bus_for(app.store).listening(lambda e: published.append(e.as_message())),
            serve_in_thread(create_app(state)) as url,
        ):
            _wait_until(lambda: bool(loops) and state.market is not None)
            loop, hub = loops[0], state.market
            admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_token.reveal()}"})
            with admin:
                tested = admin.post(f"/api/v1/connections/{view.id}/test", timeout=STEP_S)
                assert tested.status_code == 200 and tested.json()["status"] == "online", tested.text

                first = _on_loop(loop, vault.private_client(hub, NAME))
                assert _on_loop(loop, vault.private_client(hub, NAME)) is first  # one per connection
                balance = _on_loop(loop, first.fetch_balance())
                assert isinstance(balance.get("total"), dict) and vault.clients_made == 1

                body = {"credentials": {"apiKey": new["apiKey"], "secret": new["secret"]}}
                rotated = admin.post(f"/api/v1/connections/{view.id}/rotate", json=body, timeout=STEP_S)
                assert rotated.status_code == 200 and rotated.json()["rotated"] is True, rotated.text
                _wait_until(lambda: view.id not in hub.private.connections())  # closed on rotate

                second = _on_loop(loop, vault.private_client(hub, NAME))
                assert second is not first and vault.clients_made == 2
                _on_loop(loop, second.fetch_balance())
                _on_loop(loop, hub.set_endpoint("binance", threaded_sim.url))  # public data: the simulator
                _on_loop(loop, hub.ticker("binance", "BTC/USDT"))

            reader = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {read_token.reveal()}"})
            with reader:
                metrics = reader.get("/metrics").text
        used_keys = {r["api_key"] for r in sim_admin.requests("binance") if r["path"] == "/api/v3/account"}
        assert {old["apiKey"], new["apiKey"]} <= used_keys  # the rotated client signs with the new key
        assert 'tradewarden_market_upstream_requests_total{exchange="binance",kind="ticker"}' in metrics
        private_budget = f'{{budget="binance:{view.id}",scope="private"}}'
        assert f"tradewarden_market_budget_requests_total{private_budget}" in metrics
        assert "tradewarden_market_weight_limit" in metrics

        assert len(kdf_runs) == 1  # one Argon2id run for the whole server process
        kinds = [m.get("kind") for m in published]
        assert "connection.rotated" in kinds and "connection.tested" in kinds
        log_text = (settings.home_dir / LOG_FILE).read_text()
        assert "/api/v3/account" in log_text  # ccxt's request log was written (and redacted)
        text = "\n".join([metrics, json.dumps(published, default=str), log_text, repr(vault), repr(hub)])
        leaked = [s for s in secrets if s in text]
        assert leaked == []
    finally:
        configure_logging(None, root_level)
        release_data_key(app)
        app.close()
