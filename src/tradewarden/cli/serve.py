"""`tradewarden serve` and `tradewarden up`: the API, the health monitor and the dashboard."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import header
from tradewarden.cli.common import (
    GENERATED_PASSPHRASE_FILE,
    PASSPHRASE_FILE_OPTION,
    app_context,
    err,
    out,
    read_passphrase,
)
from tradewarden.services import demo, simulator, tokens
from tradewarden.services.app import App
from tradewarden.services.errors import InputError
from tradewarden.services.vault_access import init_vault
from tradewarden.services.vault_session import VaultSession

if TYPE_CHECKING:
    from tradewarden.sim import ThreadedSim

UP_TOKEN_NAME = "dashboard (up)"

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
    state.background_jobs += [
        background.market_hub,
        background.bot_runner,
        background.reconcile_manual_orders,
    ]
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


SIM_PORT_OPTION = typer.Option(
    None,
    "--sim-port",
    min=1,
    max=65535,
    help="Port of the simulator `up` runs (default: the one recorded in the home, else TRADEWARDEN_SIM_PORT, "
    "else 8765).",
)


def _start_simulator(port: int) -> ThreadedSim:
    from tradewarden.sim import ThreadedSim

    try:
        return ThreadedSim(host=simulator.SIM_HOST, port=port, seed=1).start()
    except (OSError, RuntimeError) as exc:
        cause = exc.__cause__ or exc  # ThreadedSim wraps the bind error
        reason = getattr(cause, "strerror", None) or str(cause)
        raise InputError(
            f"cannot start the simulator on {simulator.url_for(port)} ({reason})",
            "stop whatever uses that port (another `tradewarden up`?), or pass --sim-port PORT",
            field="sim-port",
        ) from None


def _run_simulator(ctx: App, passphrase: Secret, sim_port: int | None) -> ThreadedSim | None:
    """Start the simulator when there is no connection yet, or while any connection points at it; keep
    it on its recorded port, re-register the keys of its connections and test them."""
    from tradewarden.services.connections import checks, service

    home = ctx.settings.home_dir
    old_url = simulator.recorded_url(home)
    views = service.list_connections(ctx)
    if views and not demo.on_simulator(ctx, old_url):
        return None
    port = sim_port or simulator.recorded_port(home) or ctx.settings.sim_port
    sim = _start_simulator(port)
    simulator.record(home, port)
    names = demo.restore_simulated(ctx, passphrase, old_url, sim.url)
    if not views:
        key = simulator.mint_key(sim.url, demo.DEMO_EXCHANGE, demo.DEMO_PERMISSIONS, demo.LOOPBACK_WHITELIST)
        demo.ensure_demo_connection(ctx, passphrase, sim.url, key)
        names = [demo.DEMO_NAME]
    else:
        checks.check_connections(ctx, passphrase, names)
    out.print(f"Simulator on {escape(sim.url)} (simulated funds, not real).")
    for view in service.list_connections(ctx):
        if view.name in names:
            out.print(f"  connection '{escape(view.name)}': {escape(view.status)}")
    return sim


def up(
    port: int = PORT_OPTION,
    monitor_interval: float = MONITOR_OPTION,
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    sim_port: int | None = SIM_PORT_OPTION,
) -> None:
    """Start everything for a first look: the server, and the simulator with a demo connection.

    The simulator runs on a fixed port (recorded in the home) whenever any connection points at it, and
    its connections keep their keys across restarts. Works with no network. Prints the dashboard URL and a
    login token (shown once).
    """
    from tradewarden.api.server import ServeOptions

    with app_context() as ctx:
        passphrase = _up_passphrase(ctx, passphrase_file)
        VaultSession.open(ctx, passphrase)  # unlock once: the demo connection and the server reuse the key
        sim = _run_simulator(ctx, passphrase, sim_port)
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
