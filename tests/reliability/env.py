"""Shared pieces of the reliability tests: a simulator, an app with a vault, connections on sim keys."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import PASSPHRASE
from tests.integration.api.conftest import make_app
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.app import App
from tradewarden.services.connections import checks

TRADE_PERMS = ["read", "spot_trade"]
RICH = {"USDT": "10000000", "BTC": "100"}  # enough that no order of a run is refused for funds


def now_ms() -> int:
    """Wall-clock milliseconds (the simulator's request log uses the same clock)."""
    return int(time.time() * 1000)


def fund(admin: SimAdmin, api_key: str) -> None:
    """Give the key's account RICH balances."""
    admin.call("POST", "/_sim/balances", {"apiKey": api_key, "balances": RICH})


def sim_key(admin: SimAdmin, venue: str) -> dict[str, Any]:
    """A funded trading key restricted to 127.0.0.1."""
    key: dict[str, Any] = admin.key(venue, TRADE_PERMS, ["127.0.0.1"])
    fund(admin, key["apiKey"])
    return key


def add_online(app: App, name: str, venue: str, key: dict[str, Any], endpoint: str) -> str:
    """Add and test a connection (the service verb `connections add` runs); its id. Must test online."""
    creds = {f: Secret(str(key[f])) for f in ("apiKey", "secret", "password") if key.get(f)}
    view, report = checks.add_tested(app, Secret(PASSPHRASE), name, venue, creds, endpoint=endpoint)
    assert view is not None and report is not None and report.status == "online", report
    return view.id


def sim_orders(admin: SimAdmin, venue: str, api_key: str) -> list[dict[str, Any]]:
    """Every order the venue holds for the key (revoked keys included)."""
    rows: list[dict[str, Any]] = admin.call("GET", f"/_sim/orders?venue={venue}&api_key={api_key}")
    return rows


def requests_since(admin: SimAdmin, venue: str, since_ms: int) -> list[dict[str, Any]]:
    """The venue's request log from `since_ms` on."""
    rows: list[dict[str, Any]] = admin.call("GET", f"/_sim/requests?venue={venue}&since={since_ms}")
    return rows


def app_on(home: Path) -> Iterator[App]:
    """An app with a vault on `home` (fast KDF), closed after."""
    app = make_app(home)
    try:
        yield app
    finally:
        app.close()


def dumps(value: Any) -> str:
    """JSON for evidence lines."""
    return json.dumps(value, default=str, sort_keys=True)
