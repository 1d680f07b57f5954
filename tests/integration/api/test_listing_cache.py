"""The cached connection list is never stale: any commit, from this server or another process, shows."""

from __future__ import annotations

import sqlite3

from tests.conftest import PASSPHRASE
from tests.integration.api.conftest import ApiServer
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services.app import open_app
from tradewarden.services.connections import service

KEY = {"apiKey": Secret("AKcache0123456789"), "secret": Secret("cache-secret-0123456789")}


def _names(api_server: ApiServer) -> list[str]:
    response = api_server.client("read").get("/api/v1/connections")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return [c["name"] for c in response.json()]


def test_list_reflects_changes_made_by_another_process(api_server: ApiServer) -> None:
    assert _names(api_server) == []
    assert _names(api_server) == []  # served from the cache now
    assert api_server.state.listing_cache is not None
    # "Another process": a separate app context with its own engine and connections, like the CLI.
    other = open_app(Settings(home=api_server.home, kdf_time_cost=2, kdf_memory_kib=19 * 1024))
    try:
        service.add_connection(other, Secret(PASSPHRASE), "Cache One", "binance", dict(KEY))
        assert _names(api_server) == ["Cache One"]
        service.remove_connection(other, "Cache One")
        assert _names(api_server) == []
    finally:
        other.close()
    # A raw write by any SQLite client counts too (status changed behind the server's back).
    service.add_connection(api_server.app, Secret(PASSPHRASE), "Cache Two", "binance", dict(KEY))
    assert _names(api_server) == ["Cache Two"]
    with sqlite3.connect(api_server.home / "tradewarden.db") as conn:
        conn.execute("update connections set status='online' where name='Cache Two'")
    listing = api_server.client("read").get("/api/v1/connections").json()
    assert listing[0]["status"] == "online"
