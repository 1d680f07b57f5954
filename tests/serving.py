"""A real uvicorn server in a background thread, for tests that need the API over HTTP."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0


@contextlib.contextmanager
def serve_in_thread(asgi: Any, name: str = "tradewarden-test-server") -> Iterator[str]:
    """Serve `asgi` on 127.0.0.1 (ephemeral port) in a thread; yield its base URL; stop it after."""
    config = uvicorn.Config(
        asgi, host="127.0.0.1", port=0, log_level="warning", lifespan="on", server_header=False, ws="auto"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=5)
            raise RuntimeError("the API server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_S)
        assert not thread.is_alive(), "the API server did not stop"
