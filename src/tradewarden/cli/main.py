"""Entry point of the `tradewarden` command."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer
from rich.markup import escape

from tradewarden import __version__
from tradewarden.cli import connections, serve, tokens, vault
from tradewarden.cli.common import PASSPHRASE_FILE_OPTION, app_context, err, out, read_passphrase
from tradewarden.cli.sim import sim_app
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
app.add_typer(sim_app, name="sim")


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
            out.print(f"Vault already initialised in {ctx.settings.home_dir}; nothing changed.")
            return
        passphrase = read_passphrase(passphrase_file, confirm=True, what="new vault passphrase")
        vault_access.init_vault(ctx, passphrase)
        out.print(
            f"Initialised TradeWarden in {ctx.settings.home_dir}. Keep the passphrase safe: "
            "without it the sealed keys cannot be opened."
        )


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code: user errors become one line, never a traceback."""
    os.umask(0o077)  # everything we create is private to the user
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
        logging.getLogger("tradewarden").exception("unexpected error")
        err.print(
            f"[red]Internal error:[/] {type(exc).__name__}. Details are in the log in TRADEWARDEN_HOME."
        )
        return 70
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
