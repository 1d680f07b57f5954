"""A local receiver on 127.0.0.1 (webhook and a fake Telegram Bot API) and an app with a vault."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.conftest import PASSPHRASE
from tests.serving import serve_in_thread
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services.app import App, open_app
from tradewarden.services.vault_access import init_vault

HANG_LIMIT_S = 30.0  # a hanging handler lets go by itself after this, so no test can wedge the server
TELEGRAM_TOKEN = "4242424242:AAHfakeTokenForTheLocalTelegramFake_x1"


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the receiver does and what it saw (set from the test thread, read by the server's)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    fail_first: int = 0  # answer `fail_status` to this many requests first
    fail_status: int = 503
    always_status: int | None = None  # answer this to every request (after fail_first)
    hang_paths: set[str] = field(default_factory=set)  # requests to these paths wait for `release`
    release: threading.Event = field(default_factory=threading.Event)
    telegram_answer: dict[str, Any] | None = None  # what the fake Bot API answers (default ok)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str) -> list[Received]:
        """Requests that arrived on `path`."""
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, count: int, path: str = "/hook", timeout_s: float = 15.0) -> list[Received]:
        """Block until `count` requests arrived on `path` (bounded)."""
        deadline = time.monotonic() + timeout_s
        while len(self.on(path)) < count:
            assert time.monotonic() < deadline, f"only {len(self.on(path))} of {count} on {path}"
            time.sleep(0.02)
        return self.on(path)

    async def await_for(self, count: int, path: str = "/hook", timeout_s: float = 15.0) -> list[Received]:
        """`wait_for` without blocking the running loop."""
        deadline = time.monotonic() + timeout_s
        while len(self.on(path)) < count:
            assert time.monotonic() < deadline, f"only {len(self.on(path))} of {count} on {path}"
            await asyncio.sleep(0.02)
        return self.on(path)

    def _answer_status(self) -> int:
        with self.lock:
            seen = len(self.received)
        if seen <= self.fail_first:
            return self.fail_status
        return self.always_status or 200

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        with self.lock:
            self.received.append(Received(path, dict(request.headers), body, time.monotonic()))
        if path in self.hang_paths:
            deadline = time.monotonic() + HANG_LIMIT_S
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        status = self._answer_status()
        if path.startswith("/tg/bot"):
            if status != 200:
                failed = {"ok": False, "error_code": status, "description": "Too Many Requests: retry later"}
                return JSONResponse(failed, status_code=status)
            answer = self.telegram_answer or {"ok": True, "result": {"message_id": 1}}
            return JSONResponse(answer, status_code=200 if answer.get("ok") else 400)
        return Response(b"ok" if status == 200 else b"no", status_code=status)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on an ephemeral loopback port: POST /hook (webhook), /tg/bot<token>/sendMessage."""
    state = Receiver()
    asgi = Starlette(routes=[Route("/{path:path}", state.handle, methods=["POST"])])
    with serve_in_thread(asgi, name="notification-receiver") as url:
        state.url = url
        try:
            yield state
        finally:
            state.release.set()  # let a hanging handler finish so the server can stop


def make_app(home: Path) -> App:
    """An app on `home` with the fast KDF and a vault."""
    settings = Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings, actor="test:notifications")
    assert init_vault(app, Secret(PASSPHRASE))
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """A fresh app with a vault."""
    app = make_app(tmp_path / "twhome")
    try:
        yield app
    finally:
        app.close()
