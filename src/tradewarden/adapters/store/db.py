"""Engine and sessions of the store; migrations are applied on open."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, so removed sealed credentials leave no trace in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and secure delete on every connection."""
    engine = create_engine(url, future=True, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the packaged migrations (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def needs_migration(engine: Engine) -> bool:
    """True when the database is not at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current != head


def migrate(engine: Engine) -> bool:
    """Upgrade the database to the newest migration; return True when anything ran.

    Checking first keeps an up-to-date database untouched (read-only commands write nothing).
    """
    if not needs_migration(engine):
        return False
    command.upgrade(alembic_config(engine), "head")
    return True


class Store:
    """The database: an engine plus a session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._version_conn: sqlite3.Connection | None = None
        self._version_lock = threading.Lock()

    def data_version(self) -> int | None:
        """A number that changes whenever anyone (any process) commits to the database; None if unknown.

        SQLite's `PRAGMA data_version` changes when *another* connection commits, so it is read on a
        private connection that never writes. Other databases return None: callers must not cache.
        """
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        with self._version_lock:
            if self._version_conn is None:
                self._version_conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
            row = self._version_conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        with self._version_lock:
            if self._version_conn is not None:
                self._version_conn.close()
                self._version_conn = None
        self.engine.dispose()
