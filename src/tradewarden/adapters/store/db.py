"""Engine and sessions of the store; migrations are applied on open."""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
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


SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_HEADER_SIZE = 100


class DatabaseFileError(Exception):
    """The database file exists but is not a usable database; it is never re-initialised silently."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def corrupt_database_fix(path: Path) -> str:
    """What to do about a broken database file: restore it, or move it aside and start again."""
    return (
        f"restore {path} from a backup; or move it aside (mv {path} {path}.broken) and run "
        "tradewarden init to start a new vault (keys sealed in the old one are then lost: revoke them "
        "on the exchanges)"
    )


_OPEN_FILES: dict[str, int] = {}  # SQLite files this process holds Stores on (real path -> how many)


def _real(path: Path | str) -> str:
    return os.path.realpath(path)


def _sqlite_file(engine: Engine) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return _real(database)


def check_sqlite_file(path: Path) -> None:
    """Refuse an existing SQLite file that is empty, not SQLite, or shorter than its header says.

    SQLite treats a zero-length file as a new database; for a file we created and migrated earlier that
    means it was truncated, and carrying on would silently start a new, empty vault.
    """
    if _OPEN_FILES.get(_real(path)):
        # This process has the file open in a Store (checked when it opened). Reading the header would
        # open and close a descriptor of the file, and closing any descriptor drops every POSIX lock
        # the process holds on it, SQLite's included: another process could then remove the WAL.
        return
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(SQLITE_HEADER_SIZE)
    except OSError as exc:
        raise DatabaseFileError(
            f"cannot read the database {path} ({exc.strerror})", "check the file's owner and permissions"
        ) from None
    if size == 0:
        raise DatabaseFileError(
            f"the database {path} is empty (0 bytes): it was truncated", corrupt_database_fix(path)
        )
    if len(head) < SQLITE_HEADER_SIZE or not head.startswith(SQLITE_MAGIC):
        raise DatabaseFileError(
            f"{path} is not a SQLite database (it is damaged or was overwritten)", corrupt_database_fix(path)
        )
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(head[28:32], "big")
    header_count_valid = head[24:28] == head[92:96]  # SQLite's own rule for trusting the page count
    # A checkpoint cut short (disk full, a kill) can leave page 1 written and the file not yet grown;
    # the WAL still holds the missing pages and SQLite reads them from there: not a truncation.
    wal = Path(f"{path}-wal")
    wal_pages = (wal.stat().st_size - 32) // (24 + page_size) if page_size >= 512 and wal.exists() else 0
    if page_size < 512 or (
        header_count_valid and size + max(wal_pages, 0) * page_size < page_count * page_size
    ):
        raise DatabaseFileError(
            f"the database {path} is shorter than its header says: it was truncated",
            corrupt_database_fix(path),
        )


def create_sqlite_database(path: Path) -> None:
    """Create a migrated SQLite database at `path` (0600) atomically: built aside, then linked in.

    Nobody ever sees a half-made file at `path`, so an empty file there can only mean damage; when two
    processes create it at once, the first link wins and the other's copy is discarded.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    building = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.new")
    os.close(os.open(building, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        store = Store(f"sqlite:///{building}")
        try:
            migrate(store.engine)
        finally:
            store.dispose()  # the last connection's close checkpoints the WAL into the file
        try:
            os.link(building, path)
        except FileExistsError:
            pass  # another process finished first: its database stands
        except OSError:  # a filesystem without hard links
            if not path.exists():
                os.replace(building, path)
    finally:
        for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            leftover.unlink(missing_ok=True)


class Store:
    """The database: an engine plus a session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._version_conn: sqlite3.Connection | None = None
        self._version_lock = threading.Lock()
        self._file = _sqlite_file(self.engine)
        if self._file is not None:
            _OPEN_FILES[self._file] = _OPEN_FILES.get(self._file, 0) + 1

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
        if self._file is not None and _OPEN_FILES.get(self._file, 0) > 0:
            _OPEN_FILES[self._file] -= 1
            if not _OPEN_FILES[self._file]:
                del _OPEN_FILES[self._file]
            self._file = None
