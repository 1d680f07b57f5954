"""Fixtures of the manual-trading tests: connections added through the real CLI on simulator keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.integration.api.conftest import ApiServer, running_server
from tests.integration.simtools import SimAdmin
from tradewarden.sim import ThreadedSim

TRADE_PERMS = ["read", "spot_trade"]
PRICE = Decimal(50000)  # BTC/USDT is pinned here on every venue a test trades


def add_connection(
    cli: Cli,
    sim: ThreadedSim,
    admin: SimAdmin,
    name: str,
    venue: str,
    permissions: list[str] | None = None,
    extra: tuple[str, ...] = (),
    **key_extra: Any,
) -> dict[str, Any]:
    """A simulator key on `venue`, added through `connections add`; returns the key."""
    key = admin.key(venue, permissions or TRADE_PERMS, ["127.0.0.1"], **key_extra)
    creds = json.dumps({k: key[k] for k in ("apiKey", "secret", "password") if k in key})
    added = cli(
        "connections",
        "add",
        name,
        "-e",
        venue,
        "--endpoint",
        sim.url,
        "-c",
        "-",
        *extra,
        stdin=creds.encode(),
    )
    assert added.code == 0, added.stderr
    return dict(key)


def pin_price(admin: SimAdmin, venue: str, symbol: str = "BTC/USDT", price: Decimal = PRICE) -> None:
    """Set the venue's price of `symbol` (the book is rebuilt around it)."""
    admin.call("POST", "/_sim/market", {"venue": venue, "symbol": symbol, "price": float(price)})


def order_requests(admin: SimAdmin, venue: str, api_key: str) -> list[dict[str, Any]]:
    """Every request the key sent that could place an order (POST/PUT to an order path)."""
    rows: list[dict[str, Any]] = admin.call("GET", f"/_sim/requests?venue={venue}&api_key={api_key}")
    return [r for r in rows if r["method"] in ("POST", "PUT") and "order" in r["path"].lower()]


def sim_orders(admin: SimAdmin, venue: str, api_key: str) -> list[dict[str, Any]]:
    """Every order the venue holds for the key."""
    rows: list[dict[str, Any]] = admin.call("GET", f"/_sim/orders?venue={venue}&api_key={api_key}")
    return rows


def cli_json(result: Any) -> Any:
    """A CLI run's --json output, asserting it succeeded."""
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def init_home(cli: Cli) -> None:
    """`tradewarden init` on the fresh home."""
    assert cli("init").code == 0


def home_of(cli: Cli) -> Path:
    """The CLI's data directory."""
    return cli.home


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[ApiServer]:
    """A real API server on a fresh home (tests/integration/api/conftest.py's `running_server`)."""
    with running_server(tmp_path / "twhome") as server:
        yield server


def api_connection(
    server: ApiServer,
    sim: ThreadedSim,
    admin: SimAdmin,
    name: str,
    venue: str,
    permissions: list[str] | None = None,
    key_testnet: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A simulator key on `venue` (a testnet key with `key_testnet`), added and tested through the API."""
    key = admin.key(
        venue, permissions or TRADE_PERMS, ["127.0.0.1"], **({"testnet": True} if key_testnet else {})
    )
    fields = {f: key[f] for f in ("apiKey", "secret", "password") if key.get(f)}
    body = {
        "name": name,
        "exchange": venue,
        "endpoint": sim.url,
        "credentials": fields,
        "test": True,
        **extra,
    }
    made = server.client("admin").post("/api/v1/connections", json=body)
    assert made.status_code == 201, made.text
    return dict(key)
