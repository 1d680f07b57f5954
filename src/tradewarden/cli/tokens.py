"""`tradewarden tokens ...`: API tokens for scripts and the dashboard."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape
from rich.table import Table

from tradewarden.cli.common import JSON_OPTION, app_context, err, out, print_json
from tradewarden.services import tokens

app = typer.Typer(
    no_args_is_help=True, help="API tokens: scoped (read, trade, admin), stored hashed, revocable."
)


@app.command("create")
def create(
    name: str = typer.Argument(..., help='What the token is for, e.g. "grafana" or "laptop dashboard".'),
    scope: str = typer.Option(
        "read", "--scope", help="read (view), trade (bot control), admin (connections, tokens)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a token and print it once; only its hash is kept.

    Example: tradewarden tokens create laptop --scope admin
    """
    with app_context() as ctx:
        view, token = tokens.create_token(ctx, name, scope)
    if as_json:
        print_json({**view.to_json(), "token": token.reveal()})
        return
    sys.stdout.write(token.reveal() + "\n")
    err.print(
        f"Token [bold]{escape(view.name)}[/] ({escape(view.scope)}) created. "
        "It is shown this once; store it safely."
    )


@app.command("list")
def list_(
    include_revoked: bool = typer.Option(False, "--all", help="Include revoked tokens."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List tokens (never the tokens themselves)."""
    with app_context(read_only=True) as ctx:
        views = tokens.list_tokens(ctx, include_revoked)
    if as_json:
        print_json([v.to_json() for v in views])
        return
    table = Table("Name", "Scope", "Prefix", "Created", "Last used", "Revoked")
    for v in views:
        table.add_row(
            escape(v.name),
            escape(v.scope),
            escape(v.prefix) + "…",
            f"{v.created_at:%Y-%m-%d %H:%M}",
            f"{v.last_used_at:%Y-%m-%d %H:%M}" if v.last_used_at else "never",
            f"{v.revoked_at:%Y-%m-%d %H:%M}" if v.revoked_at else "",
        )
    out.print(table)


@app.command("revoke")
def revoke(name: str = typer.Argument(..., help="Token name or id.")) -> None:
    """Revoke a token; it stops working at once."""
    with app_context(read_only=True) as ctx:
        view = tokens.revoke_token(ctx, name)
    out.print(f"Revoked token [bold]{escape(view.name)}[/].")
