"""Running the API server: checks before binding, the state, uvicorn."""

from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass

import uvicorn

from tradewarden.adapters.vault.secret import Secret
from tradewarden.api import background
from tradewarden.api.app import create_app
from tradewarden.api.auth import is_loopback
from tradewarden.api.state import ServerState
from tradewarden.services import tokens
from tradewarden.services.app import App
from tradewarden.services.errors import UserError, VaultStateError
from tradewarden.services.vault_access import hold_data_key, unlocked

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
WS_MAX_MESSAGE_BYTES = 64 * 1024  # the stream only sends; a client's messages are read and dropped


class ExposedWithoutTokens(UserError):
    """Refusal to listen beyond loopback with no token to protect the API."""


@dataclass(frozen=True)
class ServeOptions:
    """How to serve."""

    host: str = "127.0.0.1"
    port: int = 8000
    ssl_keyfile: str | None = None
    ssl_certfile: str | None = None
    cors_origins: tuple[str, ...] = ()
    monitor_interval_s: float = 300.0


def binds_beyond_loopback(host: str) -> bool:
    """True unless `host` is a loopback name or address."""
    return host not in LOOPBACK_NAMES and not is_loopback(host)


def preflight(app: App, passphrase: Secret, options: ServeOptions) -> list[str]:
    """Refuse unsafe or broken setups before binding; return warnings to show."""
    with unlocked(app, passphrase):  # a wrong passphrase fails here (exit 2), not at the first request
        pass
    warnings: list[str] = []
    if binds_beyond_loopback(options.host):
        if not tokens.has_active_tokens(app):
            raise ExposedWithoutTokens(
                f"refusing to listen on {options.host}: no API token exists, so anyone who can reach it "
                "could use your exchange keys",
                "create one first with: tradewarden tokens create NAME --scope admin",
                field="host",
            )
        if not (options.ssl_keyfile and options.ssl_certfile):
            warnings.append(
                f"listening on {options.host} without TLS: tokens and session cookies would cross the "
                "network in clear. Pass --ssl-keyfile/--ssl-certfile, or put a TLS reverse proxy in front."
            )
    return warnings


def build_state(app: App, passphrase: Secret, options: ServeOptions) -> ServerState:
    """The server state with the standard background jobs; the vault's data key held from now on."""
    # Held, not re-derived per request: a passphrase change from the CLI leaves this server working.
    # Without a vault yet there is nothing to hold (routes needing it answer 503 with the remedy).
    with contextlib.suppress(VaultStateError):
        hold_data_key(app, passphrase)
    state = ServerState(
        app=app,
        passphrase=passphrase,
        cors_origins=list(options.cors_origins),
        secure_cookies=bool(options.ssl_keyfile and options.ssl_certfile),
        monitor_interval_s=options.monitor_interval_s,
    )
    state.background_jobs += [background.health_monitor, background.audit_feed, background.notifications]
    return state


def run(state: ServerState, options: ServeOptions) -> None:
    """Serve until interrupted."""
    app = create_app(state)
    # What is loaded by now (ccxt alone is ~250k objects) lives as long as the process: keep it out of
    # the cyclic GC, whose full passes over it stalled every request for ~90 ms.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=options.host,
        port=options.port,
        ssl_keyfile=options.ssl_keyfile,
        ssl_certfile=options.ssl_certfile,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        ws_max_size=WS_MAX_MESSAGE_BYTES,
    )
