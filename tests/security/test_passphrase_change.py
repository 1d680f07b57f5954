"""A passphrase change from the CLI (another process) under a running server: the server keeps working
with the data key it holds (a change only rewraps that key), records no unlock failures, and the old
passphrase opens nothing anywhere else. Real uvicorn on 127.0.0.1, real CLI subprocess, the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api.conftest import ApiServer, running_server
from tests.integration.conftest import sim_admin, threaded_sim  # noqa: F401  (fixtures)
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services.app import open_app
from tradewarden.services.errors import PassphraseError
from tradewarden.services.vault_access import unlocked
from tradewarden.sim import ThreadedSim

NEW_PASSPHRASE = "Nw5-Hq8r-Pz3t-Ky6m"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    """A fresh real server built the way `tradewarden serve` builds it."""
    with running_server(tmp_path / "home") as running:
        yield running


def _credentials(admin: SimAdmin) -> dict[str, str]:
    key = admin.key("binance", ["read", "spot_trade"], ip_whitelist=["127.0.0.1"])
    return {f: str(v) for f, v in key.items() if f in ("apiKey", "secret", "password")}


@pytest.mark.attack("passphrase changed under a running server")
def test_the_server_keeps_working_after_a_cli_passphrase_change(
    server: ApiServer,
    cli: Cli,
    sim_admin: SimAdmin,  # noqa: F811
    threaded_sim: ThreadedSim,  # noqa: F811
) -> None:
    """Create, test and rotate still work after `vault change-passphrase`; no unlock failure is recorded."""
    admin = server.client("admin")
    body = {"name": "Before Change", "exchange": "binance", "endpoint": threaded_sim.url}
    created = admin.post("/api/v1/connections", json={**body, "credentials": _credentials(sim_admin)})
    assert created.status_code == 201, created.text

    changed = cli(
        "vault",
        "change-passphrase",
        subprocess_=True,
        env={"TRADEWARDEN_HOME": str(server.home), "TRADEWARDEN_NEW_PASSPHRASE": NEW_PASSPHRASE},
    )
    assert changed.code == 0, changed.stderr

    tested = admin.post("/api/v1/connections/Before Change/test")
    assert tested.status_code == 200 and tested.json()["status"] == "online", tested.text
    body = {"name": "After Change", "exchange": "binance", "endpoint": threaded_sim.url}
    added = admin.post("/api/v1/connections", json={**body, "credentials": _credentials(sim_admin)})
    assert added.status_code == 201, added.text
    rotated = admin.post(
        "/api/v1/connections/After Change/rotate", json={"credentials": _credentials(sim_admin)}
    )
    assert rotated.status_code == 200 and rotated.json()["rotated"] is True, rotated.text
    assert admin.get("/api/v1/health").status_code == 200
    # The server never failed an unlock: nothing waits in the pending audit file.
    assert not server.app.pending_audit_path.exists()

    # Elsewhere the old passphrase is refused and the new one works: holding the key weakened nothing.
    settings = Settings(home=server.home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    other = open_app(settings, actor="test:other-process")
    try:
        with pytest.raises(PassphraseError), unlocked(other, Secret(PASSPHRASE)):
            pass
        with unlocked(other, Secret(NEW_PASSPHRASE)) as (_session, opened):
            assert opened.data_key
    finally:
        other.close()
