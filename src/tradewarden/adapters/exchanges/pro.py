"""ccxt.pro clients (WebSocket streams) with the endpoint override on REST and on stream URLs.

A connection with endpoint E sends `https://HOST/PATH` to `E/HOST/PATH` (DESIGN.md); its streams go the
same way: `wss://HOST/PATH` to `ws://E-HOST/HOST/PATH` (`wss://` when E is https). The simulator serves
each venue's streams there, so the product's stream code path is the one tests drive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tradewarden.adapters.exchanges.client import (
    DEFAULT_TIMEOUT_MS,
    client_for_connection,
    tls_context,
)
from tradewarden.adapters.exchanges.endpoint import (
    AuthEndpoint,
    apply_endpoint_override,
    basic_authorization,
    validate_endpoint,
    without_userinfo,
)
from tradewarden.adapters.store.models import Connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import UnlockedVault

_WS = re.compile(r"^wss?://(?P<rest>.+)$")


def has_pro(ccxt_id: str) -> bool:
    """True when ccxt.pro has a stream client for this exchange."""
    import ccxt.pro as ccxt_pro

    return ccxt_id in getattr(ccxt_pro, "exchanges", ()) and hasattr(ccxt_pro, ccxt_id)


def ws_url(endpoint: str, url: str, hostname: str | None = None) -> str:
    """`wss://HOST/PATH` -> `ws(s)://ENDPOINT-HOST/HOST/PATH` (the endpoint's scheme, made a ws one)."""
    if hostname and "{hostname}" in url:
        url = url.replace("{hostname}", hostname)
    match = _WS.match(url)
    if match is None:
        raise ValueError("not a ws URL")
    scheme, rest = endpoint.split("://", 1)
    return ("wss" if scheme == "https" else "ws") + "://" + rest.rstrip("/") + "/" + match.group("rest")


def _rewrite_ws(node: Any, endpoint: str, hostname: str | None) -> Any:
    if isinstance(node, str):
        return ws_url(endpoint, node, hostname) if _WS.match(node) else None
    if isinstance(node, dict):
        return {key: _rewrite_ws(value, endpoint, hostname) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_ws(value, endpoint, hostname) for value in node]
    return None


def _merge_ws(rest: Any, ws: Any) -> Any:
    """The ws rewrite wherever the original URL was a ws one, the REST rewrite everywhere else."""
    if isinstance(rest, dict) and isinstance(ws, dict):
        return {key: _merge_ws(rest[key], ws.get(key)) for key in rest}
    if isinstance(rest, list) and isinstance(ws, list):
        return [_merge_ws(r, w) for r, w in zip(rest, ws, strict=True)]
    return ws if isinstance(ws, str) else rest


def apply_stream_endpoint_override(exchange: Any, endpoint: str) -> None:
    """Point a ccxt.pro client's REST URLs (the endpoint override) and its ws URLs at `endpoint`."""
    bare = validate_endpoint(without_userinfo(str(endpoint)))
    ws_tree = _rewrite_ws(exchange.urls["api"], bare, getattr(exchange, "hostname", None))
    apply_endpoint_override(exchange, endpoint)  # before it, wss URLs would turn into http ones
    exchange.urls["api"] = _merge_ws(exchange.urls["api"], ws_tree)


def build_pro_client(
    ccxt_id: str,
    credentials: Mapping[str, Secret] | None = None,
    endpoint: str | None = None,
    options: Mapping[str, Any] | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    **config: Any,
) -> Any:
    """A ccxt.pro client (REST too) with rate limiting on, a timeout and the endpoint override applied.

    Public when `credentials` is None. Like `client.build_client`, secrets are revealed only into the
    client's config, and an endpoint's userinfo travels as a Basic `Authorization` header, on the
    WebSocket handshakes as well.
    """
    import ccxt.pro as ccxt_pro

    cfg: dict[str, Any] = {"enableRateLimit": True, "timeout": timeout_ms, **config}
    cfg["options"] = {**dict(config.get("options") or {}), **dict(options or {})}
    for field, value in (credentials or {}).items():
        cfg[field] = value.reveal()
    client = getattr(ccxt_pro, ccxt_id)(cfg)
    client.ssl_context = tls_context()
    if endpoint:
        apply_stream_endpoint_override(client, endpoint)
        if isinstance(endpoint, AuthEndpoint):
            authorization = basic_authorization(endpoint.userinfo).reveal()
            client.headers = {**(client.headers or {}), "Authorization": authorization}
            ws_options = dict(client.options.get("ws") or {})
            ws_options["headers"] = {**dict(ws_options.get("headers") or {}), "Authorization": authorization}
            client.options["ws"] = ws_options  # ccxt.pro hands options['ws'] to each ws connection
    return client


def pro_client_for_connection(
    opened: UnlockedVault,
    row: Connection,
    ccxt_id: str,
    options: Mapping[str, Any] | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> Any:
    """A private ccxt.pro client for a stored connection (user-data streams); secrets opened for it only."""
    return client_for_connection(opened, row, ccxt_id, options, timeout_ms, build=build_pro_client)


def forget_stream_auth(client: Any) -> None:
    """Drop the stream credentials ccxt.pro caches, so the next private watch asks for new ones.

    ccxt.pro keeps them until its own keep-alive fails: Binance a listenKey per account type in
    `options[type]` (re-POSTed only when `lastAuthenticatedTime` is over `listenKeyRefreshRate` + 10 s
    old, 20 min by default), MEXC `options['listenKey']`, KuCoin the negotiated token URLs in
    `options['urls']`. After a listenKey expiry each would otherwise reconnect with the dead one.
    """
    opts = client.options
    for bucket in list(opts.values()):
        if isinstance(bucket, dict) and "listenKey" in bucket:
            bucket["listenKey"] = None
            bucket["lastAuthenticatedTime"] = 0
    if "listenKey" in opts:
        opts["listenKey"] = None
        opts["listenKeyFetching"] = False
    if isinstance(opts.get("urls"), dict):
        opts["urls"] = {}
