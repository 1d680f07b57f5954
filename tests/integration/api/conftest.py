"""A real uvicorn server on an ephemeral loopback port, with a fresh home, vault and one token per scope."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Route, WebSocketRoute

from tests.conftest import PASSPHRASE
from tests.serving import serve_in_thread
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.app import create_app
from tradewarden.api.server import ServeOptions, build_state
from tradewarden.api.state import ServerState
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import App, open_app
from tradewarden.services.vault_access import init_vault

SCOPES = ("read", "trade", "admin")
HTTP_TIMEOUT_S = 60.0  # a connection test against the simulator takes well under a second


@dataclass
class Exchange:
    """One request and its answer, kept for leak scans."""

    method: str
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def blob(self) -> bytes:
        """Status line, headers and body as one byte string."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        return f"{self.status} {self.method} {self.url}\n{head}\n\n".encode() + self.body


@dataclass
class ApiServer:
    """A running server and what the tests need to drive it."""

    url: str
    home: Path
    app: App
    state: ServerState
    fastapi: FastAPI
    tokens: dict[str, str]  # scope -> token
    token_names: dict[str, str]  # scope -> token name
    transcript: list[Exchange] = field(default_factory=list)
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self, scope: str | None = "admin", token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client on the server: bearer token of `scope` (or `token`), None for no auth.

        Every response it receives is kept in `transcript`.
        """
        headers = dict(kwargs.pop("headers", {}))
        bearer = token if token is not None else (self.tokens[scope] if scope else None)
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"

        def keep(response: httpx.Response) -> None:
            response.read()
            self.transcript.append(
                Exchange(
                    response.request.method,
                    str(response.request.url),
                    response.status_code,
                    list(response.headers.multi_items()),
                    response.content,
                )
            )

        client = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=HTTP_TIMEOUT_S,
            trust_env=False,  # loopback: no proxy from the environment
            event_hooks={"response": [keep]},
            **kwargs,
        )
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        """Close every client handed out."""
        for client in self._clients:
            client.close()


def make_app(home: Path) -> App:
    """An app context on `home` with the fast (OWASP-minimum) KDF and an initialised vault."""
    settings = Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings, actor="test:api")
    assert init_vault(app, Secret(PASSPHRASE))
    return app


@contextlib.contextmanager
def running_server(home: Path) -> Iterator[ApiServer]:
    """A fresh home with a vault, one token per scope, and the real app served on loopback."""
    app = make_app(home)
    issued = {scope: tokens.create_token(app, f"{scope}-token", scope)[1].reveal() for scope in SCOPES}
    # A long monitor interval: the monitor's first round (no connections yet) is its only one.
    state = build_state(app, Secret(PASSPHRASE), ServeOptions(monitor_interval_s=3600.0))
    fastapi_app = create_app(state)
    try:
        with serve_in_thread(fastapi_app) as url:
            server = ApiServer(
                url=url,
                home=home,
                app=app,
                state=state,
                fastapi=fastapi_app,
                tokens=issued,
                token_names={scope: f"{scope}-token" for scope in SCOPES},
            )
            try:
                yield server
            finally:
                server.close_clients()
    finally:
        app.close()


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[ApiServer]:
    """A real server on a fresh home (see `running_server`)."""
    with running_server(tmp_path / "twhome") as server:
        yield server


# -- the app's routes, for tests that must cover every route (including ones added later) ----------------

PUBLIC_PATHS = {
    # Liveness for load balancers and `up`: says only "ok" and the version.
    "/api/v1/health",
    # Login takes the token in its body; it is how a token becomes a session (rate-limited, audited).
    "/api/v1/auth/login",
    # The /api fallback answers only 404 or 405 (so the dashboard mounted at "/" never answers for the API).
    "/api/v1/{path:path}",
}


@dataclass(frozen=True)
class Endpoint:
    """One method on one path of the app."""

    method: str  # "GET", ..., or "WS" for a WebSocket route
    path: str  # the template, e.g. /api/v1/connections/{connection}
    scope: str | None  # the scope its auth dependency requires, when it can be read off the route

    @property
    def label(self) -> str:
        """`GET /api/v1/...`."""
        return f"{self.method} {self.path}"

    @property
    def changes_state(self) -> bool:
        """True for methods the CSRF check covers."""
        return self.method not in ("GET", "HEAD", "OPTIONS", "WS")


def required_scope(route: Any) -> str | None:
    """The scope named by the route's `require_<scope>` dependency, searched depth-first."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        name = getattr(dep.call, "__name__", "")
        if name.startswith("require_"):
            return str(name.removeprefix("require_"))
        stack.extend(dep.dependencies)
    return None


def _flat_routes(app: FastAPI) -> Iterator[tuple[str, BaseRoute]]:
    """(full path, route) of every route, looking inside included routers (FastAPI >= 0.13x keeps them
    lazily as `_IncludedRouter` entries of `app.routes`)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        for route in app.routes:
            yield str(getattr(route, "path", "")), route
        return
    for context in iter_route_contexts(app.routes):
        yield str(context.path), context.original_route


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every HTTP method and WebSocket route the app serves (mounts such as the dashboard excluded)."""
    found: list[Endpoint] = []
    for path, route in _flat_routes(app):
        if isinstance(route, WebSocketRoute):
            found.append(Endpoint("WS", path, required_scope(route)))
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method not in ("HEAD", "OPTIONS"):
                    found.append(Endpoint(method, path, required_scope(route)))
    assert found, "no routes found: has FastAPI changed how it stores them?"
    # Destructive calls last, so the resources they remove serve every other endpoint first.
    return sorted(found, key=lambda e: (e.method == "DELETE", e.path, e.method))


def fill_path(template: str, values: dict[str, str]) -> str:
    """Substitute `{param}` placeholders: a known value by parameter name, else one guessed from it."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name in values:
            return values[name]
        for hint, known in values.items():
            if hint in name or name in hint:
                return known
        return "x"

    return re.sub(r"\{([^}]+)\}", value, template)


# -- the real CLI as a long-running process (serve, up) ----------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it; a tiny race with other processes remains)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class CliProcess:
    """A `tradewarden ...` subprocess whose output goes to files (no pipe to fill up)."""

    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def stdout(self) -> str:
        """Everything printed to stdout so far."""
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        """Everything printed to stderr so far."""
        return self.stderr_path.read_text(errors="replace")

    def describe(self) -> str:
        """Exit code and output, for assertion messages."""
        return f"exit={self.proc.poll()}\n--- stdout\n{self.stdout()}\n--- stderr\n{self.stderr()}"

    def wait_for_output(self, pattern: str, timeout_s: float) -> re.Match[str]:
        """The first match of `pattern` in stdout+stderr, waiting up to `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            match = re.search(pattern, self.stdout() + self.stderr())
            if match:
                return match
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in the output\n{self.describe()}")
            time.sleep(0.1)

    def wait_for_health(self, base_url: str, timeout_s: float) -> None:
        """Wait until GET /api/v1/health answers 200."""
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/api/v1/health", timeout=2, trust_env=False).status_code == 200:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{base_url} never became healthy\n{self.describe()}")
            time.sleep(0.1)

    def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM, then SIGKILL if it does not exit within `timeout_s`; the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError(
                    f"did not exit within {timeout_s} s of SIGTERM\n{self.describe()}"
                ) from None
        return self.proc.returncode


@contextlib.contextmanager
def cli_process(args: list[str], env: dict[str, str], workdir: Path, label: str) -> Iterator[CliProcess]:
    """Run `tradewarden *args` (stdin closed) until the block ends, then stop it."""
    stdout_path, stderr_path = workdir / f"{label}.out", workdir / f"{label}.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tradewarden", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
        )
    process = CliProcess(proc, stdout_path, stderr_path)
    try:
        yield process
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
