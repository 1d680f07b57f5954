"""Issue 9.12 (part): credentials inside an endpoint URL are sealed in the vault like a secret, shown and
stored masked (`http://***@host`), and re-inserted only by the exchange client factory."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api.conftest import ApiServer, running_server
from tradewarden.adapters.exchanges.client import client_for_connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services.app import open_app
from tradewarden.services.connections import checks, service
from tradewarden.services.vault_access import unlocked

CREDS = {"apiKey": "AKendp0123456789", "secret": "endp-secret-0123456789"}
PROXY_USER = "proxyuser"
PROXY_PASSWORD = "Pr0xy-Pa55w0rd-9"


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with `{}` and keeps (path, Authorization header)."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def _answer(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        body = json.dumps({"serverTime": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextlib.contextmanager
def recording_proxy() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    """A loopback HTTP server recording what reaches it: (base URL, records)."""
    seen: list[tuple[str, str | None]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def with_userinfo(base: str) -> str:
    """`base` with the proxy's user:password in its authority."""
    return base.replace("http://", f"http://{PROXY_USER}:{PROXY_PASSWORD}@")


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[ApiServer]:
    """A real server on a fresh home."""
    with running_server(tmp_path / "twhome") as server:
        yield server


@pytest.mark.attack("credentials in endpoint URL")
def test_cli_stores_and_shows_the_endpoint_masked(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").code == 0
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps(CREDS))
    endpoint = with_userinfo("http://127.0.0.1:9")
    added = cli(
        "connections",
        "add",
        "--no-test",
        "Proxied",
        "-e",
        "binance",
        "-c",
        str(creds),
        "--endpoint",
        endpoint,
    )
    assert added.code == 0, added.stderr
    shown = json.loads(cli("connections", "show", "Proxied", "--json").stdout)
    assert shown["endpoint"] == "http://***@127.0.0.1:9"
    assert shown["credential_fields"] == ["apiKey", "secret"]  # the key's fields; the endpoint's are ***
    listed = cli("connections", "list", "--json")
    assert json.loads(listed.stdout)[0]["endpoint"] == "http://***@127.0.0.1:9"
    assert cli("connections", "show", "Proxied").code == 0
    assert cli("connections", "test", "Proxied").code == 1  # nothing listens on port 9
    assert cli("connections", "history", "Proxied").code == 0
    for text in cli.transcript:
        assert PROXY_PASSWORD not in text
    # Not in the database (sealed), nor in the log.
    for path in cli.home.iterdir():
        if path.is_file():
            assert PROXY_PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.attack("credentials in endpoint URL")
def test_the_client_factory_sends_the_credentials_to_the_endpoint_only_as_authorization(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "h", kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings, actor="test:endpoint")
    passphrase = Secret(PASSPHRASE)
    try:
        from tradewarden.services.vault_access import init_vault

        assert init_vault(app, passphrase)
        with recording_proxy() as (base, seen):
            creds = {k: Secret(v) for k, v in CREDS.items()}
            view = service.add_connection(
                app, passphrase, "Proxied", "binance", creds, endpoint=with_userinfo(base)
            )
            assert view.endpoint == base.replace("http://", "http://***@")

            async def fetch_time() -> int:
                with unlocked(app, passphrase) as (session, opened):
                    client = client_for_connection(opened, service.find(session, "proxied"), "binance")
                try:
                    return int(await client.fetch_time())
                finally:
                    await client.close()

            assert asyncio.run(fetch_time()) == 1
            # A rotation keeps the sealed endpoint credentials (they are not part of the key).
            newer = {"apiKey": Secret("AKnewer123456789"), "secret": Secret("newer-secret-0123456")}
            service.rotate_credentials(app, passphrase, "proxied", newer)
            assert asyncio.run(fetch_time()) == 1
            # The connection test's clients, the shared public ones included, carry them too.
            [report] = checks.check_connections(app, passphrase, ["proxied"], timeout_ms=5_000)
            assert not report.ok  # the recorder is no exchange
            assert PROXY_PASSWORD not in json.dumps(report.to_json())
        expected = "Basic " + base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
        assert len(seen) > 2
        for path, authorization in seen:
            assert path.startswith("/api.binance.com/") and PROXY_PASSWORD not in path
            assert authorization == expected
    finally:
        app.close()


@pytest.mark.attack("credentials in endpoint URL")
def test_the_api_never_returns_the_endpoint_credentials(api_server: ApiServer) -> None:
    admin = api_server.client("admin")
    body = {
        "name": "Proxied",
        "exchange": "binance",
        "endpoint": with_userinfo("http://127.0.0.1:9"),
        "credentials": CREDS,
    }
    created = admin.post("/api/v1/connections", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["endpoint"] == "http://***@127.0.0.1:9"
    assert admin.get("/api/v1/connections/proxied").json()["endpoint"] == "http://***@127.0.0.1:9"
    assert admin.get("/api/v1/connections").status_code == 200
    assert admin.get("/api/v1/audit").status_code == 200
    for exchange in api_server.transcript:
        assert PROXY_PASSWORD.encode() not in exchange.blob()
    # A masked endpoint handed back is refused: it would seal "***" as the credentials.
    again = admin.post(
        "/api/v1/connections", json={**body, "name": "Again", "endpoint": "http://***@127.0.0.1:9"}
    )
    assert again.status_code == 422 and again.json()["error"]["field"] == "endpoint"
