"""A real uvicorn server in a background thread, for the portfolio, metrics and stream tests.

Kept apart from conftest.py's server so these tests depend only on themselves: fresh TRADEWARDEN_HOME,
a vault with fast KDF parameters, an admin and a read token, and optionally the audit-event feed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import PASSPHRASE
from tests.serving import serve_in_thread
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
    try:
        init_vault(app, Secret(PASSPHRASE))
        _admin, admin_token = tokens.create_token(app, "pf-admin", "admin")
        _read, read_token = tokens.create_token(app, "pf-read", "read")
        state = ServerState(app=app, passphrase=Secret(PASSPHRASE))
        if event_feed:
            state.background_jobs.append(background.audit_feed)  # no health monitor: tests call the tests
        with serve_in_thread(create_app(state)) as url:
            yield TwServer(url, app, state, admin_token.reveal(), read_token.reveal())
    finally:
        app.close()
