"""Entry point of the `tradewarden` command."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer
from rich.markup import escape

from tradewarden import __version__
from tradewarden.cli import (
    backtest,
    bots,
    connections,
    data,
    exchanges,
    notifications,
    serve,
    tokens,
    trade,
    vault,
)
from tradewarden.cli.common import PASSPHRASE_FILE_OPTION, app_context, err, out, read_passphrase
from tradewarden.cli.sim import sim_app
from tradewarden.logs import write_crash_log
from tradewarden.services import vault_access
from tradewarden.services.errors import UserError

# Tracebacks with local variables would print secrets: Typer's pretty exceptions stay off.
app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="TradeWarden: trading bots on least-privilege exchange keys, secrets sealed in a local vault.",
)
app.add_typer(connections.app, name="connections")
app.add_typer(vault.app, name="vault")
app.add_typer(tokens.app, name="tokens")
app.command("serve")(serve.serve)
app.command("up")(serve.up)
app.command("exchanges")(exchanges.exchanges)
app.add_typer(sim_app, name="sim")
app.add_typer(backtest.app, name="backtest")
app.add_typer(data.app, name="data")
app.add_typer(trade.app, name="trade")
app.add_typer(bots.app, name="bots")
app.command("runner")(bots.runner_command)
app.add_typer(notifications.app, name="notifications")


def _version(value: bool) -> None:
    if value:
        out.print(f"tradewarden {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """TradeWarden command line. Data lives in TRADEWARDEN_HOME (default ~/.tradewarden)."""


@app.command("init")
def init(passphrase_file: Path | None = PASSPHRASE_FILE_OPTION) -> None:
    """Create the data directory, the database and the vault (asks for a new passphrase).

    Safe to run again: an existing vault is left as it is.
    """
    with app_context() as ctx:
        from tradewarden.adapters.vault.vault import header

        with ctx.store.session() as session:
            exists = header(session) is not None
        if exists:
            out.print(f"Vault already initialised in {escape(str(ctx.settings.home_dir))}; nothing changed.")
            return
        passphrase = read_passphrase(passphrase_file, confirm=True, what="new vault passphrase")
        vault_access.init_vault(ctx, passphrase)
        out.print(
            f"Initialised TradeWarden in {escape(str(ctx.settings.home_dir))}. Keep the passphrase safe: "
            "without it the sealed keys cannot be opened."
        )


DAMAGED_DATABASE_SIGNS = ("file is not a database", "malformed", "database disk image")


def _home_from_env() -> Path | None:
    # Read directly: the settings themselves may be what failed.
    try:
        return Path(os.environ.get("TRADEWARDEN_HOME") or "~/.tradewarden").expanduser()
    except RuntimeError:  # no home directory to expand ~ into
        return None


def _damaged_database(exc: BaseException) -> bool:
    from sqlalchemy.exc import DatabaseError

    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, DatabaseError) and any(sign in text for sign in DAMAGED_DATABASE_SIGNS)


DISK_FULL_SIGNS = ("database or disk is full", "disk i/o error")


def _disk_full(exc: BaseException) -> bool:
    """A write refused for room: SQLite's full-disk or I/O error, or ENOSPC / EFBIG / EDQUOT."""
    import errno

    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, OperationalError) and any(sign in text for sign in DISK_FULL_SIGNS)


def _internal_error(exc: Exception) -> int:
    """One line on the terminal; the traceback (redacted) in a log file that is named, since it exists."""
    log = write_crash_log(exc, _home_from_env())
    where = f"the details are in {log}" if log is not None else "no log file could be written"
    if _disk_full(exc):
        # SQLite rolled the unfinished transaction back: what was stored before is whole.
        err.print(
            "[red]Error:[/] the data directory could not be written (disk full, file size limit or an "
            "I/O error); the write that failed was rolled back and what was stored before is intact. "
            f"Free some space and run the command again ({escape(where)})"
        )
        return 1
    if _damaged_database(exc):
        from tradewarden.adapters.store.db import corrupt_database_fix
        from tradewarden.config import DEFAULT_DB_NAME

        url = os.environ.get("TRADEWARDEN_DATABASE_URL")
        if url and not url.startswith("sqlite:///"):  # never print a URL: it may hold a password
            fix = "restore the database TRADEWARDEN_DATABASE_URL names from a backup"
        else:
            db = Path(url[len("sqlite:///") :]) if url else (_home_from_env() or Path()) / DEFAULT_DB_NAME
            fix = corrupt_database_fix(db)
        err.print(f"[red]Error:[/] the database is damaged; {escape(fix)} ({escape(where)})")
        return 1
    err.print(f"[red]Internal error:[/] {type(exc).__name__}; {escape(where)}. Please report it.")
    return 70


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code: user errors become one line, never a traceback."""
    os.umask(0o077)  # everything we create is private to the user
    root = logging.getLogger()
    if not root.handlers:
        # Until the home's log is set up, records go nowhere rather than to logging's last-resort
        # handler, which prints tracebacks on the terminal.
        root.addHandler(logging.NullHandler())
    try:
        app(args=argv, prog_name="tradewarden")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except UserError as exc:
        err.print(f"[red]Error:[/] {escape(str(exc))}")
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("Interrupted; nothing was changed.")
        return 130
    except Exception as exc:  # an unexpected failure: log it redacted, show no locals, no values
        return _internal_error(exc)
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
