"""Endpoint override: send every request ccxt would send to https://HOST/PATH to E/HOST/PATH instead.

This keeps ccxt's production code path (URL building, signing) intact while pointing it at the
simulator or a proxy. The exchange's `hostname` is left as it is, so exchanges that sign the host
(HTX, for one) still sign the real one, as a transparent proxy would forward it.
"""

from __future__ import annotations

import base64
import hmac
import re
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from tradewarden.adapters.vault.secret import Secret

_URL = re.compile(r"^(?P<scheme>https?|wss?)://(?P<rest>.+)$")
USERINFO_MASK = "***"
# The sealed field holding an endpoint's `user:password`; never handed to ccxt as a credential.
ENDPOINT_USERINFO_FIELD = "endpoint_userinfo"


def split_userinfo(endpoint: str) -> tuple[str, Secret | None]:
    """(the endpoint with any `user:password@` replaced by `***@`, that userinfo as a Secret or None)."""
    parts = urlsplit(endpoint)
    if "@" not in parts.netloc:
        return endpoint, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{USERINFO_MASK}@{host}")), Secret(userinfo)


def without_userinfo(endpoint: str) -> str:
    """The endpoint with no userinfo at all (what requests are actually addressed to)."""
    parts = urlsplit(endpoint)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


class AuthEndpoint(str):
    """An endpoint whose text is masked (`http://***@proxy`) carrying its real userinfo as a Secret.

    Anything may print, log or key a dict by it; only the client factory reads `userinfo`. Two
    endpoints with the same masked text but different credentials are different (shared clients).
    """

    userinfo: Secret

    def __new__(cls, masked: str, userinfo: Secret) -> AuthEndpoint:
        """The masked text, with the userinfo attached."""
        endpoint = super().__new__(cls, masked)
        endpoint.userinfo = userinfo
        return endpoint

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str) or not str.__eq__(self, other):
            return False
        theirs = getattr(other, "userinfo", None)
        return isinstance(theirs, Secret) and hmac.compare_digest(
            self.userinfo.reveal().encode(), theirs.reveal().encode()
        )

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((str(self), self.userinfo.reveal()))


def basic_authorization(userinfo: Secret) -> Secret:
    """The HTTP Basic `Authorization` value for a URL's (percent-encoded) `user:password`."""
    user, _, password = userinfo.reveal().partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    return Secret(f"Basic {token}")


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
    # The value is not repeated: it may carry a password (http://user:pw@proxy).
    if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", endpoint):
        raise ValueError("the endpoint is not an http(s) URL; give one like http://127.0.0.1:8765")
    if urlsplit(endpoint).netloc.rsplit("@", 1)[0] == USERINFO_MASK:
        raise ValueError("the endpoint's credentials are masked (***); give the real user:password, or none")
    return endpoint.rstrip("/")


def apply_endpoint_override(exchange: Any, endpoint: str) -> None:
    """Point every REST URL of a ccxt exchange instance (nested `urls['api']` too) at `endpoint`."""
    # Requests are addressed to the bare host; credentials travel as a header (see client.build_client).
    endpoint = validate_endpoint(without_userinfo(str(endpoint)))
    hostname = getattr(exchange, "hostname", None)
    exchange.urls = dict(exchange.urls)
    exchange.urls["api"] = _rewrite_tree(exchange.urls["api"], endpoint, hostname)
