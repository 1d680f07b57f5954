"""A live stream ends when its token is revoked: through the API at once, through the CLI (another process)
at the stream's next store re-check. A real uvicorn server on 127.0.0.1 with the audit-event feed on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import Cli
from tests.integration.api._serverfixture import TwServer, running_server
from tradewarden.api.routes.stream import CLOSE_UNAUTHENTICATED

STEP_TIMEOUT_S = 20.0  # bounds each wait; the feed publishes within 0.5 s
# Events a stream may still deliver after another process revoked its token, while one is produced every
# EVENT_PACE_S: the stream re-checks the store every 0.5 s, so it must close within a few events (before:
# 30 s, ~300 events at this pace). Pacing keeps the bound independent of how fast events can be made.
EVENT_PACE_S = 0.1
MAX_EVENTS_AFTER_CLI_REVOCATION = 20
READ_TOKEN_NAME = "pf-read"  # the fixture's read token


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TwServer]:
    """A fresh server publishing audit events to the stream."""
    with running_server(tmp_path / "home", event_feed=True) as running:
        yield running


def _open(server: TwServer, token: str) -> Any:
    return connect(
        f"{server.ws_url}/api/v1/stream",
        additional_headers={"Authorization": f"Bearer {token}"},
        proxy=None,
        open_timeout=STEP_TIMEOUT_S,
        close_timeout=5,
    )


async def _hello(ws: ClientConnection) -> None:
    async with asyncio.timeout(STEP_TIMEOUT_S):
        assert json.loads(await ws.recv())["type"] == "hello"


@pytest.mark.attack("stream outlives revocation")
async def test_api_revocation_closes_the_stream_before_any_later_event(server: TwServer) -> None:
    """Revoked through the API: the next frame is the close (4401), not the audit events that follow."""
    async with _open(server, server.read_token) as ws:
        await _hello(ws)
        async with server.async_client(server.admin_token) as admin:
            assert (await admin.delete(f"/api/v1/tokens/{READ_TOKEN_NAME}")).status_code == 204
            for i in range(3):  # events published after the revocation must not reach the revoked stream
                created = await admin.post("/api/v1/tokens", json={"name": f"after-{i}", "scope": "read"})
                assert created.status_code == 201, created.text
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(STEP_TIMEOUT_S):
                message = await ws.recv()
                pytest.fail(f"the revoked stream delivered {message!r}")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_UNAUTHENTICATED


@pytest.mark.attack("stream outlives revocation")
async def test_cli_revocation_closes_the_stream_at_its_next_recheck(server: TwServer, cli: Cli) -> None:
    """Revoked by `tokens revoke` in another process: closed (4401) after only a few more events."""
    home = str(server.app.settings.home_dir)
    async with _open(server, server.read_token) as ws:
        await _hello(ws)
        revoked = await asyncio.to_thread(
            cli, "tokens", "revoke", READ_TOKEN_NAME, subprocess_=True, env={"TRADEWARDEN_HOME": home}
        )
        assert revoked.code == 0, revoked.stderr
        delivered = 0
        async with server.async_client(server.admin_token) as admin:
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    assert delivered <= MAX_EVENTS_AFTER_CLI_REVOCATION, "the revoked stream stays open"
                    name = f"during-{delivered}"
                    created = await admin.post("/api/v1/tokens", json={"name": name, "scope": "read"})
                    assert created.status_code == 201, created.text
                    async with asyncio.timeout(STEP_TIMEOUT_S):
                        await ws.recv()
                    delivered += 1
                    await asyncio.sleep(EVENT_PACE_S)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_UNAUTHENTICATED
