"""A real uvicorn server in a background thread, for the portfolio, metrics and stream tests.

Kept apart from conftest.py's server so these tests depend only on themselves: fresh TRADEWARDEN_HOME,
a vault with fast KDF parameters, an admin and a read token, and optionally the audit-event feed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests.conftest import PASSPHRASE
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api import background
from tradewarden.api.app import create_app
from tradewarden.api.state import ServerState
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import App, open_app
from tradewarden.services.connections import service
from tradewarden.services.connections.service import ConnectionView
from tradewarden.services.vault_access import init_vault

STARTUP_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0
HTTP_TIMEOUT_S = 60.0


@dataclass
class TwServer:
    """A running server and what a test needs to drive it."""

    url: str
    app: App
    state: ServerState
    admin_token: str
    read_token: str

    @property
    def ws_url(self) -> str:
        """The server's base URL with the WebSocket scheme."""
        return "ws" + self.url.removeprefix("http")

    def client(self, token: str | None = None) -> httpx.Client:
        """A synchronous client; bearer `token` unless None."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=HTTP_TIMEOUT_S, trust_env=False)

    def async_client(self, token: str | None = None) -> httpx.AsyncClient:
        """An asynchronous client; bearer `token` unless None."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=HTTP_TIMEOUT_S, trust_env=False)

    def add_connection(
        self, name: str, exchange: str, key: dict[str, Any], endpoint: str, market: str = "spot"
    ) -> ConnectionView:
        """Store a connection on simulator credentials (the API's own service verb, no HTTP)."""
        credentials = {f: Secret(str(v)) for f, v in key.items() if f in ("apiKey", "secret", "password")}
        return service.add_connection(
            self.app, Secret(PASSPHRASE), name, exchange, credentials, market=market, endpoint=endpoint
        )


def _settings(home: Path) -> Settings:
    # Explicit database_url: a TRADEWARDEN_DATABASE_URL in the environment must not redirect the test.
    return Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19456)


@contextlib.contextmanager
def running_server(home: Path, *, event_feed: bool = False) -> Iterator[TwServer]:
    """Serve a fresh home on an ephemeral loopback port until the block ends."""
    app = open_app(_settings(home), actor="test:fixture")
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        init_vault(app, Secret(PASSPHRASE))
        _admin, admin_token = tokens.create_token(app, "pf-admin", "admin")
        _read, read_token = tokens.create_token(app, "pf-read", "read")
        state = ServerState(app=app, passphrase=Secret(PASSPHRASE))
        if event_feed:
            state.background_jobs.append(background.audit_feed)  # no health monitor: tests call the tests
        config = uvicorn.Config(
            create_app(state), host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="auto"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="tw-test-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield TwServer(f"http://127.0.0.1:{port}", app, state, admin_token.reveal(), read_token.reveal())
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=STOP_TIMEOUT_S)
            assert not thread.is_alive(), "the test server did not stop"
        app.close()
