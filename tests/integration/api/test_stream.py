"""WebSocket /api/v1/stream on a real server: hello, live audit and status events, refusals by close code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.integration.api._serverfixture import TwServer, running_server
from tests.integration.simtools import SimAdmin
from tradewarden import __version__
from tradewarden.api.routes import stream as stream_route
from tradewarden.sim import ThreadedSim

STEP_TIMEOUT_S = 20.0  # the audit feed polls every 0.5 s; a connection test on the simulator takes < 1 s


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TwServer]:
    """A fresh server publishing audit events to the stream."""
    with running_server(tmp_path / "home", event_feed=True) as running:
        yield running


def _open(server: TwServer, headers: dict[str, str] | None = None, query: str = "") -> Any:
    # proxy=None: loopback only, whatever the environment's proxy settings say.
    return connect(
        f"{server.ws_url}/api/v1/stream{query}",
        additional_headers=headers or {},
        proxy=None,
        open_timeout=STEP_TIMEOUT_S,
        close_timeout=5,
    )


async def _next(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(STEP_TIMEOUT_S):
        message = json.loads(await ws.recv())
    assert isinstance(message, dict)
    return message


async def _close_code(ws: ClientConnection) -> int | None:
    """The code the server closes with; fails if it sends anything first."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(STEP_TIMEOUT_S):
            await ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def _subscribers(server: TwServer) -> float:
    async with server.async_client(server.read_token) as client:
        text = (await client.get("/metrics")).text
    [line] = [ln for ln in text.splitlines() if ln.startswith("tradewarden_websocket_subscribers ")]
    return float(line.split()[1])


async def test_stream_hello_then_connection_test_events(
    server: TwServer, sim_admin: SimAdmin, threaded_sim: ThreadedSim
) -> None:
    """Bearer auth: hello first, then the audit events of a connection test and its status change."""
    key = sim_admin.key("binance", ["read", "spot_trade"], ip_whitelist=["127.0.0.1"])
    view = server.add_connection("Stream Binance", "binance", key, threaded_sim.url)
    received: list[dict[str, Any]] = []
    async with _open(server, {"Authorization": f"Bearer {server.read_token}"}) as ws:
        hello = await _next(ws)
        assert hello == {"type": "hello", "server_version": __version__, "scope": "read"}
        assert await _subscribers(server) == 1.0

        async with server.async_client(server.admin_token) as client:
            response = await client.post(f"/api/v1/connections/{view.id}/test")
        assert response.status_code == 200 and response.json()["status"] == "online", response.text

        while not any(m["type"] == "connection.status" for m in received):
            received.append(await _next(ws))
    tested = [m for m in received if m["type"] == "audit" and m["kind"] == "connection.tested"]
    [status] = [m for m in received if m["type"] == "connection.status"]
    assert tested and tested[0]["connection_id"] == view.id and tested[0]["detail"]["status"] == "online"
    assert status["kind"] == "connection.status_changed" and status["connection_name"] == "Stream Binance"
    assert status["detail"] == {"previous": "untested", "status": "online"}
    assert status["actor"] == "token:pf-admin" and isinstance(status["id"], int) and status["ts"]
    text = json.dumps(received)
    assert key["apiKey"] not in text and key["secret"] not in text

    async with asyncio.timeout(STEP_TIMEOUT_S):  # the gauge drops once the server sees the close
        while await _subscribers(server) != 0.0:
            await asyncio.sleep(0.05)


async def test_stream_refuses_unauthenticated(server: TwServer) -> None:
    """No credentials, an unknown token, or a token in the URL: accepted, then closed 4401 with no data."""
    for headers, query in (
        ({}, ""),
        ({"Authorization": "Bearer tw_unknown-token"}, ""),
        ({}, f"?token={server.read_token}"),
        ({}, f"?access_token={server.read_token}"),
    ):
        async with _open(server, headers, query) as ws:
            assert await _close_code(ws) == stream_route.CLOSE_UNAUTHENTICATED
    assert await _subscribers(server) == 0.0


async def test_stream_session_cookie_same_site_only(server: TwServer) -> None:
    """The dashboard cookie opens the stream from our own origin; from another site it is closed 4403."""
    async with server.async_client() as client:
        login = await client.post("/api/v1/auth/login", json={"token": server.read_token})
    assert login.status_code == 200, login.text
    cookie = f"tw_session={login.cookies['tw_session']}"
    async with _open(server, {"Cookie": cookie, "Origin": server.url}) as ws:
        assert (await _next(ws))["type"] == "hello"
    async with _open(server, {"Cookie": cookie, "Origin": "https://evil.example"}) as ws:
        assert await _close_code(ws) == stream_route.CLOSE_FORBIDDEN


async def test_stream_closes_when_token_revoked(server: TwServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token revoked while its stream is open loses the stream at the next re-check (4401)."""
    monkeypatch.setattr(stream_route, "RECHECK_S", 0.2)  # the server runs in this process
    async with server.async_client(server.admin_token) as client:
        created = await client.post("/api/v1/tokens", json={"name": "short-lived", "scope": "read"})
    token = created.json()["token"]
    async with _open(server, {"Authorization": f"Bearer {token}"}) as ws:
        assert (await _next(ws))["type"] == "hello"
        async with server.async_client(server.admin_token) as client:
            assert (await client.delete("/api/v1/tokens/short-lived")).status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(STEP_TIMEOUT_S):
                while True:
                    await ws.recv()  # audit events of the revocation may come first
        assert closed.value.rcvd is not None and closed.value.rcvd.code == stream_route.CLOSE_UNAUTHENTICATED
