"""Issue 9 (part A): a key that can withdraw is never Online because its permission read failed.

A loopback proxy forwards everything to the simulator but breaks only the key-permission endpoint
(503, HTML with 200, garbage, no answer, dropped connection). The key can withdraw; without the fault the
test says so (withdraw_enabled). With the fault, the test must fail closed: not online, ok false, exit 1,
a message that the permissions could not be verified, and `rotate` to that key must be refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST_KDF_ENV, PASSPHRASE, SRC, Cli
from tests.integration.conftest import threaded_sim  # noqa: F401  (session fixture: one simulator)
from tests.integration.simtools import SimAdmin
from tests.security.faultproxy import FaultProxy
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services.app import App, open_app
from tradewarden.services.connections import checks, service
from tradewarden.sim import ThreadedSim

VENUES = ("binance", "kucoin", "mexc", "okx", "bybit")
CLI_FAULTS = ("http_503", "html_200", "garbage", "reset")
UNVERIFIED = "could not verify this key's permissions"
SHORT_TIMEOUT_MS = 1_000  # the "timeout" fault holds the request; the client gives up after this


@pytest.fixture(scope="module")
def proxy(threaded_sim: ThreadedSim) -> Iterator[FaultProxy]:  # noqa: F811
    """The fault proxy in front of the session's simulator."""
    fault_proxy = FaultProxy(threaded_sim.url).start()
    try:
        yield fault_proxy
    finally:
        fault_proxy.stop()


@dataclass
class Venue:
    """One venue's home: a good connection "Main" and a withdraw-enabled one "Bad", both via the proxy."""

    name: str
    cli: Cli
    app: App
    proxy: FaultProxy
    withdraw_key: dict[str, Secret]
    withdraw_file: Path


def _secrets(key: dict[str, Any]) -> dict[str, Secret]:
    return {f: Secret(str(key[f])) for f in ("apiKey", "secret", "password") if key.get(f)}


def _cli(home: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWARDEN_")}
    env.update(
        TRADEWARDEN_HOME=str(home),
        TRADEWARDEN_PASSPHRASE=PASSPHRASE,
        PYTHONPATH=str(SRC),
        COLUMNS="200",
        TERM="dumb",
        **FAST_KDF_ENV,
    )
    return Cli(home=home, env=env)


@pytest.fixture(scope="module", params=VENUES)
def venue(
    request: pytest.FixtureRequest,
    proxy: FaultProxy,
    threaded_sim: ThreadedSim,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Venue]:
    """A home per venue (set up once for all its faults)."""
    name = str(request.param)
    home = tmp_path_factory.mktemp(f"fail-closed-{name}") / "twhome"
    cli = _cli(home)
    assert cli("init").code == 0
    admin = SimAdmin(threaded_sim.url)
    good = admin.key(name, ["read", "spot_trade"], ["127.0.0.1"])
    withdraw = admin.key(name, ["read", "spot_trade", "withdraw"], ["127.0.0.1"])
    # The key Main is rotated to: withdraw-enabled too, but its own (one API key lives under one name).
    rotation = admin.key(name, ["read", "spot_trade", "withdraw"], ["127.0.0.1"])
    withdraw_file = home.parent / "withdraw.json"
    withdraw_file.write_text(json.dumps({f: v.reveal() for f, v in _secrets(rotation).items()}))
    app = open_app(Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024))
    try:
        for conn, key in (("Main", good), ("Bad", withdraw)):
            service.add_connection(app, Secret(PASSPHRASE), conn, name, _secrets(key), endpoint=proxy.url)
        yield Venue(name, cli, app, proxy, _secrets(rotation), withdraw_file)
    finally:
        app.close()


def _main_key(v: Venue) -> tuple[str, str]:
    """Main's masked key and last change (read without the CLI: nothing here needs the vault)."""
    [main] = [view for view in service.list_connections(v.app) if view.name == "Main"]
    return main.api_key, main.updated_at.isoformat()


def _assert_unverified(report: dict[str, Any]) -> None:
    assert report["status"] == "exchange_unavailable", report
    assert report["ok"] is False
    assert UNVERIFIED in report["message"] and "retried" in report["message"], report["message"]
    [perm_check] = [c for c in report["checks"] if c["name"] == "key_permissions"]
    assert perm_check["ok"] is False
    assert "could not be verified" in perm_check["detail"], perm_check
    assert "permissions_unknown" not in report["warnings"]


def test_withdraw_key_is_refused_when_the_proxy_is_clean(venue: Venue) -> None:
    """The control: through the same proxy, unbroken, the key's withdraw permission is read and refused."""
    venue.proxy.fault = None
    [report] = checks.check_connections(venue.app, Secret(PASSPHRASE), ["Bad"])
    assert report.status == "withdraw_enabled", report.to_json()
    assert report.permissions.withdraw is True


@pytest.mark.attack("permission endpoint fails while the rest works: withdraw key passes as online")
@pytest.mark.parametrize("fault", CLI_FAULTS)
def test_failed_permission_read_fails_closed(venue: Venue, fault: str) -> None:
    before_key = _main_key(venue)
    intercepted = len(venue.proxy.intercepted)
    venue.proxy.fault = fault
    try:
        tested = venue.cli("connections", "test", "Bad", "--json")
        rotated = venue.cli("connections", "rotate", "Main", "-c", str(venue.withdraw_file), "--json")
    finally:
        venue.proxy.fault = None
    assert len(venue.proxy.intercepted) >= intercepted + 2, "the proxy never saw the permission read"
    assert tested.code == 1, (tested.code, tested.stderr)
    _assert_unverified(json.loads(tested.stdout))
    assert "Traceback" not in tested.stderr + rotated.stderr
    assert rotated.code == 1, (rotated.code, rotated.stderr)
    answer = json.loads(rotated.stdout)
    assert answer["rotated"] is False
    _assert_unverified(answer["test"])
    assert _main_key(venue) == before_key  # the old key stays in force


@pytest.mark.attack("permission endpoint fails while the rest works: withdraw key passes as online")
def test_permission_read_timeout_fails_closed(venue: Venue) -> None:
    before_key = _main_key(venue)
    venue.proxy.fault = "timeout"
    try:
        [report] = checks.check_connections(
            venue.app, Secret(PASSPHRASE), ["Bad"], timeout_ms=SHORT_TIMEOUT_MS
        )
        rotation, swapped = checks.rotate_tested(
            venue.app, Secret(PASSPHRASE), "Main", dict(venue.withdraw_key), timeout_ms=SHORT_TIMEOUT_MS
        )
    finally:
        venue.proxy.fault = None
    _assert_unverified(report.to_json())
    assert swapped is False
    _assert_unverified(rotation.to_json())
    assert _main_key(venue) == before_key
    listing = json.loads(venue.cli("connections", "list", "--json").stdout)
    assert {row["name"]: row["status"] for row in listing}["Bad"] == "exchange_unavailable"
    with venue.app.store.session() as session:
        row = service.find(session, "Bad")
        assert checks.permissions_verified(session, row) is False
