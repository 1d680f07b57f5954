"""A simulator in a background thread, and a small synchronous admin client for it."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


class SimAdmin:
    """Synchronous calls to the simulator's /_sim/ admin API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One admin call; raises on a non-2xx answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def key(
        self, venue: str, permissions: list[str], ip_whitelist: list[str] | None = None, **extra: Any
    ) -> Any:
        """Create a key on `venue`."""
        body = {"venue": venue, "permissions": permissions, "ip_whitelist": ip_whitelist or [], **extra}
        return self.call("POST", "/_sim/keys", body)

    def revoke(self, api_key: str) -> None:
        """Revoke a key."""
        self.call("DELETE", f"/_sim/keys/{api_key}")

    def venue(self, venue: str, down: bool = False, clock_skew_ms: int = 0) -> None:
        """Set a venue down/up and its clock skew."""
        self.call("POST", "/_sim/venue", {"venue": venue, "down": down, "clock_skew_ms": clock_skew_ms})

    def fault(self, venue: str, kind: str, rate: float = 1.0, **extra: Any) -> None:
        """Inject a fault."""
        self.call("POST", "/_sim/faults", {"venue": venue, "kind": kind, "rate": rate, **extra})

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.call("DELETE", "/_sim/faults")

    def requests(self, venue: str) -> list[dict[str, Any]]:
        """The request log of a venue."""
        rows: list[dict[str, Any]] = self.call("GET", f"/_sim/requests?venue={venue}")
        return rows
