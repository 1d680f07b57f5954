"""This server's public IP address, the one an exchange sees and whitelists: asked of a configurable
lookup service (TRADEWARDEN_PUBLIC_IP_LOOKUP, or "off"), cached, never blocking for long."""

from __future__ import annotations

import ipaddress
import threading
import time
import urllib.request
from dataclasses import dataclass

from tradewarden.config import Settings

TIMEOUT_S = 3.0
CACHE_S = 600.0  # an answer (or a failure) is reused for ten minutes
OFF = ("", "off", "none", "false", "0")
HOW_TO_FIND = (
    "Open a what-is-my-IP page in a browser on this server (or the machine it sends its traffic through), "
    "or ask your network administrator for the server's outbound address."
)

_lock = threading.Lock()
_cache: dict[str, tuple[float, str | None]] = {}


@dataclass(frozen=True)
class PublicAddress:
    """The address, or None with the reason and how to find it by hand."""

    address: str | None
    source: str  # "lookup" | "off" | "failed"
    note: str


def _ask(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - configured URL
            text = response.read(64).decode("ascii", "replace").strip()
        return str(ipaddress.ip_address(text))
    except (OSError, ValueError):
        return None


def public_address(settings: Settings) -> PublicAddress:
    """This server's public address when the lookup is on and answers, else the way to find it."""
    url = settings.public_ip_lookup.strip()
    if url.lower() in OFF:
        return PublicAddress(None, "off", "Could not determine it (the lookup is off). " + HOW_TO_FIND)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(url)
    if cached is None or cached[0] < now - CACHE_S:
        cached = (now, _ask(url))
        with _lock:
            _cache[url] = cached
    if cached[1] is None:
        return PublicAddress(
            None, "failed", "Could not determine it (no answer from the lookup). " + HOW_TO_FIND
        )
    return PublicAddress(cached[1], "lookup", "The address the internet sees for this server.")


def forget() -> None:
    """Drop cached answers (tests, and after a network change)."""
    with _lock:
        _cache.clear()
