"""The simulator `up` runs: its address recorded in the home, which connections point at it, its keys."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.errors import InputError

RECORD_FILE = "simulator.json"
SIM_HOST = "127.0.0.1"
PERMISSIONS = ("read", "spot_trade", "futures_trade", "withdraw")


def record_path(home: Path) -> Path:
    """Where the home records the simulator `up` runs."""
    return home / RECORD_FILE


def recorded_port(home: Path) -> int | None:
    """The port recorded by an earlier `up`, or None."""
    try:
        data = json.loads(record_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    port = data.get("port") if isinstance(data, dict) else None
    return port if isinstance(port, int) and 0 < port < 65536 else None


def url_for(port: int) -> str:
    """The base URL of the simulator on `port` (loopback)."""
    return f"http://{SIM_HOST}:{port}"


def recorded_url(home: Path) -> str | None:
    """The simulator's base URL recorded in the home, or None when `up` never started one."""
    port = recorded_port(home)
    return url_for(port) if port is not None else None


def record(home: Path, port: int) -> None:
    """Remember the simulator's port in the home (0600), so the next `up` starts it there again."""
    path = record_path(home)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"port": port, "url": url_for(port)}, handle)


def _base(endpoint: str | None) -> str:
    return (endpoint or "").rstrip("/")


def is_simulated(endpoint: str | None, sim_url: str | None) -> bool:
    """True when a connection's endpoint is the recorded simulator."""
    return bool(sim_url) and _base(endpoint) == _base(sim_url)


def simulated_names(views: Iterable[tuple[str, str | None]], sim_url: str | None) -> list[str]:
    """The names among (name, endpoint) pairs whose endpoint is the simulator."""
    return [name for name, endpoint in views if is_simulated(endpoint, sim_url)]


def parse_permissions(text: str) -> list[str]:
    """`read,spot_trade` -> ["read", "spot_trade"]; InputError naming the allowed ones otherwise."""
    wanted = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in PERMISSIONS]
    if not wanted or unknown:
        raise InputError(
            f"{', '.join(unknown) or 'nothing'} is not a simulator key permission",
            f"give a comma-separated list of {', '.join(PERMISSIONS)}",
            field="permissions",
        )
    return wanted


def mint_key(
    sim_url: str, venue: str, permissions: Sequence[str], ip_whitelist: Sequence[str]
) -> dict[str, Secret]:
    """A new key from the simulator's admin API, in ccxt's field names."""
    body = {"venue": venue, "permissions": list(permissions), "ip_whitelist": list(ip_whitelist)}
    request = urllib.request.Request(  # noqa: S310 - our own loopback simulator
        sim_url.rstrip("/") + "/_sim/keys",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback simulator
        key = json.loads(response.read())
    return {field: Secret(key[field]) for field in ("apiKey", "secret", "password") if key.get(field)}


def register_key(
    sim_url: str,
    venue: str,
    permissions: Sequence[str],
    ip_whitelist: Sequence[str],
    credentials: dict[str, Secret],
) -> None:
    """Register a key a connection already holds with a (restarted) simulator."""
    body = {
        "venue": venue,
        "permissions": list(permissions),
        "ip_whitelist": list(ip_whitelist),
        **{
            field: value.reveal()
            for field, value in credentials.items()
            if field in ("apiKey", "secret", "password")
        },
    }
    request = urllib.request.Request(  # noqa: S310 - our own loopback simulator
        sim_url.rstrip("/") + "/_sim/keys",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback simulator
        pass


def answers(sim_url: str, timeout_s: float = 2.0) -> bool:
    """True when a simulator answers its admin health route at `sim_url`."""
    try:
        with urllib.request.urlopen(sim_url.rstrip("/") + "/_sim/health", timeout=timeout_s):  # noqa: S310
            return True
    except OSError:
        return False
