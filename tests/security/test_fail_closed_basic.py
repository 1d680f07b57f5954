"""Issue 9 (part A): only an exchange with no permission endpoint may pass unverified, and never silently.

binanceusdm is not in the registry, so it is a "basic" ccxt exchange: the test cannot read key
permissions there. It may be Online, but `permissions_unknown` shows in `test`, `list`, `show` (text and
JSON) and the API, and `permissions_verified` (what bots will require) is false. A registry exchange
whose permissions were read is verified.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api._serverfixture import running_server
from tests.integration.conftest import sim_admin, threaded_sim  # noqa: F401  (fixtures)
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services.app import open_app
from tradewarden.services.connections import checks, service
from tradewarden.sim import ThreadedSim

BASIC = "USDM Basic"
VERIFIED = "Binance Spot"


@pytest.mark.attack("exchange without a permission endpoint: a withdraw key passes silently")
def test_basic_exchange_passes_only_with_a_visible_warning(
    cli: Cli,
    sim_admin: SimAdmin,  # noqa: F811
    threaded_sim: ThreadedSim,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert cli("init").code == 0
    key = sim_admin.key("binance", ["read", "spot_trade", "futures_trade", "withdraw"], ["127.0.0.1"])
    good = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    app = open_app(Settings(home=cli.home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024))
    try:
        for name, exchange, k in ((BASIC, "binanceusdm", key), (VERIFIED, "binance", good)):
            creds = {f: Secret(k[f]) for f in ("apiKey", "secret")}
            service.add_connection(app, Secret(PASSPHRASE), name, exchange, creds, endpoint=threaded_sim.url)

        tested = cli("connections", "test", BASIC, "--json")
        assert tested.code == 0, tested.stderr
        report = json.loads(tested.stdout)
        assert report["status"] == "online" and "permissions_unknown" in report["warnings"]
        assert report["permissions"]["withdraw"] is None
        assert "permissions_unknown" in cli("connections", "test", BASIC).stdout
        assert cli("connections", "test", VERIFIED, "--json").code == 0

        listing = {row["name"]: row for row in json.loads(cli("connections", "list", "--json").stdout)}
        assert listing[BASIC]["warnings"] == ["permissions_unknown"]
        assert "permissions_unknown" not in listing[VERIFIED]["warnings"]
        assert "permissions_unknown" in cli("connections", "list").stdout
        shown = json.loads(cli("connections", "show", BASIC, "--json").stdout)
        assert shown["warnings"] == ["permissions_unknown"]
        assert "permissions_unknown" in cli("connections", "show", BASIC).stdout

        with app.store.session() as session:
            assert checks.permissions_verified(session, service.find(session, BASIC)) is False
            assert checks.permissions_verified(session, service.find(session, VERIFIED)) is True
    finally:
        app.close()

    with running_server(tmp_path / "api") as server:
        view = server.add_connection(BASIC, "binanceusdm", key, threaded_sim.url)
        with server.client(server.admin_token) as client:
            answer = client.post(f"/api/v1/connections/{view.id}/test").json()
            history = client.get(f"/api/v1/connections/{view.id}/history").json()
    assert answer["status"] == "online" and "permissions_unknown" in answer["warnings"]
    assert "permissions_unknown" in history[0]["warnings"]  # what the dashboard's card shows
