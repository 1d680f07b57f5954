"""The application context: settings, the store (migrated on open), the acting user."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

from tradewarden.adapters.store.db import Store, check_sqlite_file, create_sqlite_database, migrate
from tradewarden.config import Settings, ensure_home, ensure_private_file, permission_warnings

PENDING_AUDIT_FILE = "pending-audit.jsonl"


def default_actor() -> str:
    """`cli:USER`, the actor of commands run from this terminal (the server's jobs name themselves)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a bare container)
        user = "unknown"
    return f"cli:{user}"


@dataclass
class App:
    """What every service verb needs."""

    settings: Settings
    store: Store
    actor: str
    warnings: list[str] = field(default_factory=list)

    @property
    def pending_audit_path(self) -> Path:
        """Where audit events wait when the database must not change (failed unlocks)."""
        return self.settings.home_dir / PENDING_AUDIT_FILE

    def close(self) -> None:
        """Release the database."""
        self.store.dispose()


def open_app(settings: Settings | None = None, actor: str | None = None) -> App:
    """Create the data dir and database when missing (0700/0600), migrate, and return the context."""
    settings = settings or Settings()
    warnings = ensure_home(settings.home_dir)
    sqlite_path = settings.sqlite_path
    if sqlite_path is not None:
        # An existing file must already be a database: an empty or damaged one is an error, not new.
        if sqlite_path.exists():
            check_sqlite_file(sqlite_path)
        else:
            create_sqlite_database(sqlite_path)
        warnings += ensure_private_file(sqlite_path)
        for sidecar in (Path(f"{sqlite_path}-wal"), Path(f"{sqlite_path}-shm")):
            if sidecar.exists():
                warnings += permission_warnings(sidecar, 0o600)
    store = Store(settings.effective_database_url)
    migrate(store.engine)
    return App(settings=settings, store=store, actor=actor or default_actor(), warnings=warnings)
