"""`tradewarden serve` and `tradewarden up`: the API, the health monitor and the dashboard."""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from pathlib import Path

import typer
from rich.markup import escape

from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import header
from tradewarden.cli.common import PASSPHRASE_FILE_OPTION, app_context, err, out, read_passphrase
from tradewarden.services import demo, tokens
from tradewarden.services.app import App
from tradewarden.services.vault_access import init_vault
from tradewarden.services.vault_session import VaultSession

UP_TOKEN_NAME = "dashboard (up)"
GENERATED_PASSPHRASE_FILE = "vault-passphrase"

HOST_OPTION = typer.Option("127.0.0.1", "--host", help="Address to bind; beyond loopback needs an API token.")
PORT_OPTION = typer.Option(8000, "--port", min=0, max=65535, help="Port to bind.")
KEYFILE_OPTION = typer.Option(None, "--ssl-keyfile", help="TLS private key (PEM), passed to uvicorn.")
CERTFILE_OPTION = typer.Option(None, "--ssl-certfile", help="TLS certificate (PEM), passed to uvicorn.")
CORS_OPTION = typer.Option(
    [], "--cors-origin", help="Allow this browser origin (repeatable). Off by default."
)
MONITOR_OPTION = typer.Option(300.0, "--monitor-interval", min=5.0, help="Seconds between health re-tests.")


def _serve(ctx: App, passphrase: Secret, options: object) -> None:
    from tradewarden.api import background, server

    assert isinstance(options, server.ServeOptions)
    # The process's one Argon2id run: the data key is held from here on (preflight and requests reuse it).
    vault = VaultSession.open(ctx, passphrase)
    for warning in server.preflight(ctx, passphrase, options):
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    scheme = "https" if options.ssl_certfile else "http"
    out.print(
        f"TradeWarden on {scheme}://{escape(options.host)}:{options.port}/  (API docs: /api/v1/docs). "
        "Ctrl-C stops."
    )
    state = server.build_state(ctx, passphrase, options)
    state.vault = vault
    state.background_jobs.append(background.market_hub)
    server.run(state, options)


def serve(
    host: str = HOST_OPTION,
    port: int = PORT_OPTION,
    ssl_keyfile: str | None = KEYFILE_OPTION,
    ssl_certfile: str | None = CERTFILE_OPTION,
    cors_origin: list[str] = CORS_OPTION,
    monitor_interval: float = MONITOR_OPTION,
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
) -> None:
    """Serve the API, the health monitor and the dashboard (127.0.0.1:8000 by default).

    Example: tradewarden serve --host 0.0.0.0 --ssl-keyfile key.pem --ssl-certfile cert.pem
    """
    from tradewarden.api.server import ServeOptions

    passphrase = read_passphrase(passphrase_file)
    options = ServeOptions(host, port, ssl_keyfile, ssl_certfile, tuple(cors_origin), monitor_interval)
    with app_context() as ctx:
        _serve(ctx, passphrase, options)


def _up_passphrase(ctx: App, passphrase_file: Path | None) -> Secret:
    """The vault passphrase for `up`: given, or (first run, none given) generated and kept in the home."""
    generated = ctx.settings.home_dir / GENERATED_PASSPHRASE_FILE
    given = passphrase_file or (
        generated if generated.exists() and not os.environ.get("TRADEWARDEN_PASSPHRASE") else None
    )
    with ctx.store.session() as session:
        vault_exists = header(session) is not None
    if vault_exists or given is not None or os.environ.get("TRADEWARDEN_PASSPHRASE"):
        passphrase = read_passphrase(given)
        if not vault_exists:
            init_vault(ctx, passphrase)
        return passphrase
    passphrase = Secret(secrets.token_urlsafe(24))
    fd = os.open(generated, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(passphrase.reveal() + "\n")
    init_vault(ctx, passphrase)
    err.print(
        f"[yellow]A vault passphrase was generated and saved in {escape(str(generated))} (mode 0600).[/] "
        "Fine for a demo; "
        "for real keys move it somewhere safe and use TRADEWARDEN_PASSPHRASE or --passphrase-file."
    )
    return passphrase


def _sim_key(sim_url: str) -> dict[str, Secret]:
    body = {"venue": demo.DEMO_EXCHANGE, "permissions": ["read", "spot_trade"], "ip_whitelist": ["127.0.0.1"]}
    request = urllib.request.Request(  # noqa: S310 - our own loopback simulator
        sim_url + "/_sim/keys",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our loopback simulator
        key = json.loads(response.read())
    return {"apiKey": Secret(key["apiKey"]), "secret": Secret(key["secret"])}


def up(
    port: int = PORT_OPTION,
    monitor_interval: float = MONITOR_OPTION,
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
) -> None:
    """Start everything for a first look: the server, and with no connection yet the simulator and a demo.

    Works with no network. Prints the dashboard URL and a login token (shown once).
    """
    from tradewarden.api.server import ServeOptions
    from tradewarden.services.connections import service
    from tradewarden.sim import ThreadedSim

    with app_context() as ctx:
        passphrase = _up_passphrase(ctx, passphrase_file)
        VaultSession.open(ctx, passphrase)  # unlock once: the demo connection and the server reuse the key
        views = service.list_connections(ctx)
        sim = None
        if not views or [v.name for v in views] == [demo.DEMO_NAME]:
            sim = ThreadedSim(host="127.0.0.1", port=0, seed=1).start()
            report = demo.ensure_demo_connection(ctx, passphrase, sim.url, _sim_key(sim.url))
            out.print(
                f"Simulator on {escape(sim.url)}; connection '{demo.DEMO_NAME}': {escape(report.status)}"
            )
        for old in tokens.list_tokens(ctx):
            if old.name == UP_TOKEN_NAME:
                tokens.revoke_token(ctx, old.id)
        _view, token = tokens.create_token(ctx, UP_TOKEN_NAME, "admin")
        out.print(f"Dashboard: http://127.0.0.1:{port}/")
        out.print(f"Login token (admin, shown once): {escape(token.reveal())}")
        try:
            _serve(ctx, passphrase, ServeOptions(port=port, monitor_interval_s=monitor_interval))
        finally:
            if sim is not None:
                sim.stop()
