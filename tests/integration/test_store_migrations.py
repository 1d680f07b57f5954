"""Issue 2: the same migrations build the schema on SQLite and PostgreSQL, and the vault works on both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import PASSPHRASE
from tests.pg import pg_available, pg_schema_url
from tradewarden.adapters.store.db import Store, migrate
from tradewarden.adapters.store.models import Base

RAN: list[str] = []


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    if not pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (trust auth, database test): SQLite only")
    with pg_schema_url() as url:
        yield url


def test_migrations_build_exactly_the_models_and_rerun_is_a_no_op(store_url: str) -> None:
    store = Store(store_url)
    try:
        assert migrate(store.engine) is True
        assert migrate(store.engine) is False
        tables = set(inspect(store.engine).get_table_names())
        assert {
            "vault_header",
            "connections",
            "sealed_credentials",
            "connection_checks",
            "audit_events",
        } <= tables
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        RAN.append(store.engine.dialect.name)
    finally:
        store.dispose()


def test_vault_and_connections_work_on_each_database(store_url: str) -> None:
    from tradewarden.adapters.exchanges.client import open_credentials
    from tradewarden.adapters.vault.secret import Secret
    from tradewarden.config import Settings
    from tradewarden.services.app import App
    from tradewarden.services.connections import service
    from tradewarden.services.vault_access import init_vault, unlocked

    store = Store(store_url)
    migrate(store.engine)
    app = App(settings=Settings(kdf_time_cost=2, kdf_memory_kib=19 * 1024), store=store, actor="test")
    try:
        assert init_vault(app, Secret(PASSPHRASE))
        creds = {
            "apiKey": Secret("AKpg0123456789"),
            "secret": Secret("pg-secret-0123456789"),
            "password": Secret("pgpass-77"),
        }
        view = service.add_connection(app, Secret(PASSPHRASE), "OKX Main", "okx", creds)
        assert view.api_key == "AKpg…6789"
        with unlocked(app, Secret(PASSPHRASE)) as (session, opened):
            opened_creds = open_credentials(opened, service.find(session, "okx main"))
        assert {k: v.reveal() for k, v in opened_creds.items()} == {k: v.reveal() for k, v in creds.items()}
        service.remove_connection(app, "OKX Main")
        assert service.list_connections(app) == []
    finally:
        store.dispose()


def test_report_which_databases_ran(capsys: pytest.CaptureFixture[str]) -> None:
    # Runs last in this module: says plainly which databases the migrations were checked on.
    with capsys.disabled():
        print(f"\n[store] migrations checked on: {', '.join(sorted(set(RAN))) or 'none'}")
    assert "sqlite" in RAN
