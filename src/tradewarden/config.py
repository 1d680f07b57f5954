"""Settings, paths and defaults (environment variables prefixed TRADEWARDEN_)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

HOME_MODE = 0o700
DB_FILE_MODE = 0o600
DEFAULT_DB_NAME = "tradewarden.db"


class Settings(BaseSettings):
    """Process settings; every field may come from a TRADEWARDEN_* environment variable."""

    model_config = SettingsConfigDict(env_prefix="TRADEWARDEN_", extra="ignore")

    home: Path = Path("~/.tradewarden")
    database_url: str | None = None
    passphrase: SecretStr | None = None
    # Argon2id cost for a new vault or a passphrase change (never below OWASP's minimum, checked on use).
    kdf_time_cost: int = 3
    kdf_memory_kib: int = 64 * 1024
    # The API server refuses (413) a request body larger than this, while it streams in.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The port `up` runs the simulator on when it starts one (recorded in the home: later runs reuse it).
    sim_port: int = Field(default=8765, ge=1, le=65535)
    # Where to ask for this server's public IP (the address an exchange whitelists): a URL answering the
    # address as plain text, or "off". Asked only when a page or a remedy needs it; cached; never in tests.
    public_ip_lookup: str = "https://api.ipify.org"

    @property
    def home_dir(self) -> Path:
        """The data directory, with `~` expanded."""
        return self.home.expanduser()

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file the store uses, or None when the store is another database."""
        if self.database_url is None:
            return self.home_dir / DEFAULT_DB_NAME
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :]).expanduser()
        return None

    @property
    def effective_database_url(self) -> str:
        """The SQLAlchemy URL of the store."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{self.home_dir / DEFAULT_DB_NAME}"


# What each setting must look like, for the error that names a bad one.
SETTING_FIXES = {
    "kdf_time_cost": "a whole number of Argon2id passes, at least 2 (e.g. 3)",
    "kdf_memory_kib": "a whole number of KiB, at least 19456 (e.g. 65536)",
    "max_body_bytes": "a whole number of bytes, at least 1024 (default 1048576)",
    "sim_port": "a port number from 1 to 65535 (default 8765)",
    "public_ip_lookup": "an https URL that answers this machine's public IP as text, or off",
    "home": "a directory path",
    "database_url": "a SQLAlchemy URL such as sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
}


class SettingsError(ValueError):
    """A TRADEWARDEN_* variable holds a value the settings cannot take; names the variable and the fix."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def load_settings() -> Settings:
    """The settings from the environment; SettingsError (never a traceback) when a value is unusable.

    The value itself is not repeated: a variable set by mistake may hold something private.
    """
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else ""
        variable = f"TRADEWARDEN_{field.upper()}"
        wanted = SETTING_FIXES.get(field, "a valid value")
        raise SettingsError(
            f"{variable} is not valid ({first.get('msg', 'invalid value')})",
            f"set {variable} to {wanted}, or unset it to use the default",
        ) from None


def ensure_home(path: Path) -> list[str]:
    """Create the data directory 0700 if missing; return warnings when it is looser than that."""
    if not path.exists():
        path.mkdir(parents=True, mode=HOME_MODE)
        os.chmod(path, HOME_MODE)  # mkdir's mode is masked by the umask
    return permission_warnings(path, HOME_MODE)


def ensure_private_file(path: Path) -> list[str]:
    """Create `path` 0600 if missing (before SQLite opens it); return warnings when it is looser."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=HOME_MODE)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, DB_FILE_MODE)
        os.close(fd)
        os.chmod(path, DB_FILE_MODE)
    return permission_warnings(path, DB_FILE_MODE)


def permission_warnings(path: Path, wanted: int) -> list[str]:
    """Warn when group or others have any access to `path` that `wanted` does not give them."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~wanted & 0o077:
        return [f"{path} has mode {mode:04o}, looser than {wanted:04o}; fix it with: chmod {wanted:o} {path}"]
    return []
