"""A loopback HTTP proxy in front of the simulator that breaks only the key-permission endpoints.

A connection whose endpoint override points here has every request forwarded to the simulator unchanged
(same method, raw path and query, headers and body, so signatures still verify), except requests to a
permission endpoint while a fault is set: those get a 503, an HTML page with status 200, garbage bytes,
no answer (held until the client gives up), or a dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Any

import aiohttp
import yarl
from aiohttp import web

FAULTS = ("http_503", "html_200", "garbage", "timeout", "reset")
# The key-permission endpoint of each simulated exchange (DESIGN.md), lower-cased path suffixes.
PERMISSION_PATHS = (
    "/sapi/v1/account/apirestrictions",  # binance
    "/api/v1/user/api-key",  # kucoin
    "/api/v3/apikeyinfo",  # mexc
    "/api/v5/account/config",  # okx
    "/v5/user/query-api",  # bybit
)
HOLD_S = 20.0  # how long a "timeout" request is held at most (released at once when the proxy stops)
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class FaultProxy:
    """The proxy in its own thread and event loop; `fault` may be changed between requests."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.fault: str | None = None
        self.intercepted: list[str] = []  # paths answered with a fault
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._stopping: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> FaultProxy:
        """Listen on an ephemeral loopback port; return once it accepts connections."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def stop(self) -> None:
        """Release held requests, close the listener and the upstream session, join the thread."""
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        future.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._startup())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _startup(self) -> None:
        self._stopping = asyncio.Event()
        self._session = aiohttp.ClientSession(trust_env=False)  # decompresses: Content-Encoding is dropped
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _shutdown(self) -> None:
        assert self._stopping is not None and self._runner is not None and self._session is not None
        self._stopping.set()
        await self._runner.cleanup()
        await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        fault = self.fault
        if fault is not None and request.path.lower().endswith(PERMISSION_PATHS):
            self.intercepted.append(request.path)
            return await self._break(fault, request)
        return await self._forward(request)

    async def _break(self, fault: str, request: web.Request) -> web.StreamResponse:
        if fault == "http_503":
            return web.Response(status=503, text="Service Temporarily Unavailable")
        if fault == "html_200":
            page = "<!doctype html><html><body><h1>Scheduled maintenance</h1></body></html>"
            return web.Response(status=200, text=page, content_type="text/html")
        if fault == "garbage":
            body = b'{"enableWithdrawals": fal\x00\xff\xfe garbage'
            return web.Response(status=200, body=body, content_type="application/json")
        if fault == "timeout":
            assert self._stopping is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), HOLD_S)
            return web.Response(status=504, text="held")
        if fault == "reset":
            transport = request.transport
            if transport is not None:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            return web.Response(status=499)
        raise AssertionError(f"unknown fault {fault}")

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        headers: dict[str, Any] = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        url = yarl.URL(self.upstream + request.raw_path, encoded=True)
        body = await request.read()
        async with self._session.request(
            request.method, url, headers=headers, data=body or None, allow_redirects=False
        ) as upstream:
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
            out.pop("Content-Encoding", None)
            return web.Response(status=upstream.status, body=payload, headers=out)
