"""Endpoint override: send every request ccxt would send to https://HOST/PATH to E/HOST/PATH instead.

This keeps ccxt's production code path (URL building, signing) intact while pointing it at the
simulator or a proxy. The exchange's `hostname` is left as it is, so exchanges that sign the host
(HTX, for one) still sign the real one, as a transparent proxy would forward it.
"""

from __future__ import annotations

import re
from typing import Any

_URL = re.compile(r"^(?P<scheme>https?|wss?)://(?P<rest>.+)$")


def rewrite_url(url: str, endpoint: str, hostname: str | None = None) -> str:
    """Rewrite one absolute URL to go through `endpoint`, filling a `{hostname}` template first."""
    if hostname and "{hostname}" in url:
        url = url.replace("{hostname}", hostname)
    match = _URL.match(url)
    if match is None:
        return url
    return endpoint.rstrip("/") + "/" + match.group("rest")


def _rewrite_tree(node: Any, endpoint: str, hostname: str | None) -> Any:
    if isinstance(node, str):
        return rewrite_url(node, endpoint, hostname)
    if isinstance(node, dict):
        return {key: _rewrite_tree(value, endpoint, hostname) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_tree(value, endpoint, hostname) for value in node]
    return node


def validate_endpoint(endpoint: str) -> str:
    """Return the endpoint without a trailing slash, or raise ValueError naming what is wrong."""
    if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", endpoint):
        raise ValueError(f"endpoint {endpoint!r} is not an http(s) URL; give one like http://127.0.0.1:8765")
    return endpoint.rstrip("/")


def apply_endpoint_override(exchange: Any, endpoint: str) -> None:
    """Point every REST URL of a ccxt exchange instance (nested `urls['api']` too) at `endpoint`."""
    endpoint = validate_endpoint(endpoint)
    hostname = getattr(exchange, "hostname", None)
    exchange.urls = dict(exchange.urls)
    exchange.urls["api"] = _rewrite_tree(exchange.urls["api"], endpoint, hostname)
