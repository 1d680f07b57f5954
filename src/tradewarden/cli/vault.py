"""`tradewarden vault ...`: passphrase change."""

from __future__ import annotations

from pathlib import Path

import typer

from tradewarden.cli.common import PASSPHRASE_FILE_OPTION, app_context, out, read_passphrase
from tradewarden.services import vault_access

app = typer.Typer(no_args_is_help=True, help="The key vault that seals every exchange secret.")

NEW_PASSPHRASE_FILE_OPTION = typer.Option(
    None,
    "--new-passphrase-file",
    dir_okay=False,
    help="File holding the new passphrase (else TRADEWARDEN_NEW_PASSPHRASE, else a hidden prompt).",
)


@app.command("change-passphrase")
def change_passphrase(
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    new_passphrase_file: Path | None = NEW_PASSPHRASE_FILE_OPTION,
) -> None:
    """Rewrap the vault's data key under a new passphrase, in one transaction.

    Example: TRADEWARDEN_PASSPHRASE=... TRADEWARDEN_NEW_PASSPHRASE=... tradewarden vault change-passphrase
    """
    old = read_passphrase(passphrase_file)
    new = read_passphrase(
        new_passphrase_file, confirm=True, env_var="TRADEWARDEN_NEW_PASSPHRASE", what="new vault passphrase"
    )
    vault_access.check_new_passphrase(new)
    with app_context() as ctx:
        vault_access.change_passphrase(ctx, old, new)
    out.print("Vault passphrase changed. Every secret now opens with the new passphrase only.")
