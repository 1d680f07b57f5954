"""The ccxt client factory: the one place where sealed credentials are opened and handed to ccxt."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from tradewarden.adapters.exchanges.endpoint import (
    ENDPOINT_USERINFO_FIELD,
    AuthEndpoint,
    apply_endpoint_override,
    basic_authorization,
)
from tradewarden.adapters.store.models import Connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import UnlockedVault

DEFAULT_TIMEOUT_MS = 30_000


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for the process, verifying against the CA bundle ccxt itself uses.

    Loading the bundle takes ~14 ms; every ccxt client would otherwise load it again.
    """
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def build_client(
    ccxt_id: str,
    credentials: Mapping[str, Secret] | None = None,
    endpoint: str | None = None,
    options: Mapping[str, Any] | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    session: Any = None,
) -> Any:
    """An async ccxt client with rate limiting on, a timeout, and the endpoint override applied.

    With `session` (a shared aiohttp session) the client borrows it and closes without ccxt's
    250 ms drain pause, which only matters for a session the client owns.

    An endpoint with credentials (an AuthEndpoint, text masked) gets them back here and only here: as
    HTTP Basic authorization on every request to it, never inside the URLs (ccxt quotes URLs in errors).
    """
    import ccxt.async_support as ccxt_async

    config: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": timeout_ms,
        "options": dict(options or {}),
    }
    for field, value in (credentials or {}).items():
        config[field] = value.reveal()
    if session is not None:
        config["session"] = session
    client = getattr(ccxt_async, ccxt_id)(config)
    client.ssl_context = tls_context()
    if session is not None:
        client.timeout_on_exit = 0
    if endpoint:
        apply_endpoint_override(client, endpoint)
        if isinstance(endpoint, AuthEndpoint):
            authorization = basic_authorization(endpoint.userinfo)  # a Secret: redacted from logs
            client.headers = {**(client.headers or {}), "Authorization": authorization.reveal()}
    return client


def open_credentials(opened: UnlockedVault, row: Connection) -> dict[str, Secret]:
    """The connection's sealed credentials, opened (DecryptionError if any was tampered with or moved).

    The endpoint's sealed userinfo is not a ccxt credential: see `endpoint_of`.
    """
    return {
        cred.field: opened.open(cred) for cred in row.credentials if cred.field != ENDPOINT_USERINFO_FIELD
    }


def endpoint_of(opened: UnlockedVault, row: Connection) -> str | None:
    """The connection's endpoint for the client factory: the stored (masked) text, with its sealed
    userinfo attached when it has one."""
    for cred in row.credentials:
        if cred.field == ENDPOINT_USERINFO_FIELD and row.endpoint:
            return AuthEndpoint(row.endpoint, opened.open(cred))
    return row.endpoint


def client_for_connection(
    opened: UnlockedVault,
    row: Connection,
    ccxt_id: str,
    options: Mapping[str, Any] | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    build: Callable[..., Any] = build_client,
) -> Any:
    """A client for a stored connection, its secrets opened from the vault for this client only (`build`:
    the REST builder, or pro.build_pro_client for user-data streams)."""
    return build(ccxt_id, open_credentials(opened, row), endpoint_of(opened, row), options, timeout_ms)
