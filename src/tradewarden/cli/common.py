"""What every command shares: consoles, the app context, passphrase sources, credential input."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from tradewarden.adapters.store.db import DatabaseFileError
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import SettingsError, load_settings
from tradewarden.logs import configure_logging
from tradewarden.services.app import App, open_app
from tradewarden.services.connections import validation
from tradewarden.services.errors import InputError, PassphraseError, StorageError

# Markup is ours only: every user- or exchange-supplied string is passed through `escape` (a name like
# "oops [/]" would otherwise crash the print, and "[white on white]x[/]" would hide itself). No emoji codes:
# ":warning:" in a name stays as typed.
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

PASSPHRASE_FILE_OPTION = typer.Option(
    None,
    "--passphrase-file",
    help="File holding the vault passphrase (else TRADEWARDEN_PASSPHRASE, else a hidden prompt).",
    exists=False,
    dir_okay=False,
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
MAX_READ = 1024 * 1024 + 1  # read a little past the limit so oversized input is refused, not truncated


@contextmanager
def app_context() -> Iterator[App]:
    """Open the app (data dir, database, migrations), print permission warnings, close at the end."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise InputError(exc.message, exc.fix) from None
    home = settings.home_dir
    try:
        app = open_app(settings)
    except DatabaseFileError as exc:
        raise StorageError(exc.message, exc.fix) from None
    except OSError as exc:
        where = exc.filename or home
        raise StorageError(
            f"cannot use the data directory {home}: {exc.strerror or exc} ({where})",
            "set TRADEWARDEN_HOME to a directory you can write (default ~/.tradewarden)",
        ) from None
    configure_logging(home)
    for warning in app.warnings:
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    try:
        yield app
    finally:
        app.close()


def _read_secret_file(path: Path, what: str) -> Secret:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PassphraseError(
            f"cannot read {what} file {str(path)!r} ({exc.strerror})", "check the path and its permissions"
        ) from None
    except UnicodeDecodeError:
        raise PassphraseError(
            f"{what} file {str(path)!r} is not UTF-8 text", "write the passphrase as text"
        ) from None
    return Secret(text.rstrip("\r\n"))


def read_passphrase(
    passphrase_file: Path | None,
    *,
    stdin_taken: bool = False,
    confirm: bool = False,
    env_var: str = "TRADEWARDEN_PASSPHRASE",
    what: str = "vault passphrase",
) -> Secret:
    """The passphrase from --passphrase-file, else the environment, else a hidden prompt; never argv."""
    if passphrase_file is not None:
        return _read_secret_file(passphrase_file, what)
    from_env = os.environ.get(env_var)
    if from_env:
        return Secret(from_env)
    if stdin_taken or not sys.stdin.isatty():
        raise PassphraseError(
            f"no {what} given and no terminal to ask for it",
            f"set {env_var} or pass --passphrase-file FILE",
        )
    value: str = typer.prompt(what.capitalize(), hide_input=True, confirmation_prompt=confirm)
    return Secret(value)


def read_credentials(source: str | None, exchange_id: str) -> tuple[dict[str, Secret], bool]:
    """Credentials from a JSON file, `-` (stdin) or hidden prompts, and whether stdin was used."""
    if source == "-":
        raw = sys.stdin.buffer.read(MAX_READ)
        return validation.parse_credentials(raw), True
    if source is not None:
        path = Path(source)
        if not path.is_file():
            raise InputError(
                f"file {source!r} does not exist",
                "give the path of a JSON credentials file, or - for stdin",
                field="credentials",
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_READ)
        return validation.parse_credentials(raw), False
    if not sys.stdin.isatty():
        raise InputError(
            "were not given",
            "pass --credentials FILE, or --credentials - to read JSON from stdin",
            field="credentials",
        )
    from tradewarden.adapters.exchanges.catalog import required_credentials

    creds: dict[str, Secret] = {}
    wanted = ["apiKey", "secret", *sorted(required_credentials(exchange_id) - {"apiKey", "secret"})]
    for name in wanted:
        label = "Passphrase (exchange API passphrase)" if name == "password" else name
        creds[name] = Secret(typer.prompt(label, hide_input=True))
    return creds, False


def print_json(data: Any) -> None:
    """Print JSON to stdout, plain (no Rich markup)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()
