"""`tradewarden serve`: beyond loopback only with a token, and then with a warning when there is no TLS."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api.conftest import cli_process, free_port
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.server import ExposedWithoutTokens, ServeOptions, preflight
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import open_app


def test_serve_beyond_loopback_without_a_token_refuses(cli: Cli) -> None:
    assert cli("init").code == 0
    port = free_port("0.0.0.0")
    result = cli("serve", "--host", "0.0.0.0", "--port", str(port), subprocess_=True)
    assert result.code != 0, result.stdout
    assert "tradewarden tokens create" in result.stderr, result.stderr
    assert "0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr
    # A revoked token does not count either.
    assert cli("tokens", "create", "old", "--scope", "admin").code == 0
    assert cli("tokens", "revoke", "old").code == 0
    result = cli("serve", "--host", "0.0.0.0", "--port", str(port), subprocess_=True)
    assert result.code != 0 and "tokens create" in result.stderr, result.stderr


def test_preflight_rules(cli: Cli) -> None:
    """Loopback needs no token; anything else does (checked without binding)."""
    assert cli("init").code == 0
    settings = Settings(home=cli.home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings, actor="test")
    try:
        passphrase = Secret(PASSPHRASE)
        for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
            assert preflight(app, passphrase, ServeOptions(host=host)) == []
        for host in ("0.0.0.0", "::", "192.0.2.10"):
            try:
                preflight(app, passphrase, ServeOptions(host=host))
            except ExposedWithoutTokens as refused:
                assert refused.field == "host"
            else:
                raise AssertionError(f"{host} was allowed without a token")
        tokens.create_token(app, "ops", "admin")
        warnings = preflight(app, passphrase, ServeOptions(host="0.0.0.0"))
        assert len(warnings) == 1 and "without TLS" in warnings[0]
        assert (
            preflight(app, passphrase, ServeOptions(host="0.0.0.0", ssl_keyfile="k", ssl_certfile="c")) == []
        )
    finally:
        app.close()


def test_serve_beyond_loopback_with_a_token_starts_and_warns_about_tls(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").code == 0
    created = cli("tokens", "create", "ops", "--scope", "admin")
    assert created.code == 0
    token = created.stdout.strip()
    port = free_port("0.0.0.0")
    args = ["serve", "--host", "0.0.0.0", "--port", str(port), "--monitor-interval", "3600"]
    with cli_process(args, cli.env, tmp_path, "serve") as server:
        base = f"http://127.0.0.1:{port}"
        server.wait_for_health(base, timeout_s=30)
        server.wait_for_output(r"without TLS", timeout_s=5)
        assert "Warning:" in server.stderr() and "--ssl-keyfile" in server.stderr()
        assert httpx.get(f"{base}/api/v1/connections", timeout=10, trust_env=False).status_code == 401
        headers = {"Authorization": f"Bearer {token}"}
        assert (
            httpx.get(f"{base}/api/v1/connections", headers=headers, timeout=10, trust_env=False).status_code
            == 200
        )
        # The banner does not show the token.
        assert token not in server.stdout() + server.stderr()
        assert server.stop() in (0, -signal.SIGTERM), server.describe()
