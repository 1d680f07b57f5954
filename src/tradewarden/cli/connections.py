"""`tradewarden connections ...`: add, list, show, rotate, remove."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tradewarden.cli.common import (
    JSON_OPTION,
    PASSPHRASE_FILE_OPTION,
    app_context,
    out,
    print_json,
    read_credentials,
    read_passphrase,
)
from tradewarden.services.connections import service, validation
from tradewarden.services.connections.service import ConnectionView

app = typer.Typer(
    no_args_is_help=True,
    help="Exchange connections: one named API key each, its secret sealed in the vault.",
)

CREDENTIALS_HELP = (
    'JSON file with ccxt field names {"apiKey", "secret", "password"}, or - to read it from stdin. '
    "Left out in a terminal, you are asked with hidden input."
)


def _describe(view: ConnectionView) -> None:
    table = Table(show_header=False, box=None)
    for label, value in (
        ("Name", view.name),
        ("Exchange", view.exchange),
        ("Market", view.market),
        ("API key", view.api_key),
        ("Key type", view.key_type),
        ("Sealed fields", ", ".join(view.credential_fields)),
        ("Status", view.status),
        ("Last tested", view.status_checked_at.isoformat() if view.status_checked_at else "never"),
        ("Endpoint", view.endpoint or "the exchange itself"),
        ("Added", view.created_at.isoformat()),
    ):
        table.add_row(f"[bold]{label}[/]", value)
    out.print(table)


@app.command("add")
def add(
    name: str = typer.Argument(..., help='A clear name, e.g. "MEXC Spot Main".'),
    exchange: str = typer.Option(
        ..., "--exchange", "-e", help="ccxt exchange id, e.g. mexc, kucoin, binance."
    ),
    market: str = typer.Option("spot", "--market", help="spot, futures or both."),
    credentials: str | None = typer.Option(None, "--credentials", "-c", help=CREDENTIALS_HELP),
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="Send requests via this base URL (simulator/proxy)."
    ),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a connection; the secret is sealed before it is stored and never shown again.

    Example: tradewarden connections add "MEXC Spot Main" --exchange mexc --credentials mexc.json
    """
    # Cheap checks first, so a typo fails before any prompt.
    validation.validate_name(name)
    exchange = validation.validate_exchange(exchange)
    validation.validate_market(market)
    validation.validate_endpoint_option(endpoint)
    creds, stdin_used = read_credentials(credentials, exchange)
    passphrase = read_passphrase(passphrase_file, stdin_taken=stdin_used)
    with app_context() as ctx:
        view = service.add_connection(
            ctx, passphrase, name, exchange, creds, market=market, endpoint=endpoint
        )
    if as_json:
        print_json(view.to_json())
        return
    out.print(f"Added [bold]{view.name}[/] ({view.exchange}, {view.market}), API key {view.api_key}.")
    out.print("The secret is sealed in the vault and will not be shown again.")


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List connections with their masked API key and status."""
    with app_context() as ctx:
        views = service.list_connections(ctx)
    if as_json:
        print_json([view.to_json() for view in views])
        return
    if not views:
        out.print("No connections yet. Add one with: tradewarden connections add NAME --exchange ID")
        return
    table = Table("Name", "Exchange", "Market", "API key", "Status", "Last tested")
    for view in views:
        tested = view.status_checked_at.strftime("%Y-%m-%d %H:%M") if view.status_checked_at else "never"
        table.add_row(view.name, view.exchange, view.market, view.api_key, view.status, tested)
    out.print(table)


@app.command("show")
def show(name: str = typer.Argument(..., help="Connection name."), as_json: bool = JSON_OPTION) -> None:
    """Show one connection (never its secret)."""
    with app_context() as ctx:
        view = service.show_connection(ctx, name)
    if as_json:
        print_json(view.to_json())
    else:
        _describe(view)


@app.command("rotate")
def rotate(
    name: str = typer.Argument(..., help="Connection name."),
    credentials: str | None = typer.Option(None, "--credentials", "-c", help=CREDENTIALS_HELP),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace a connection's credentials in one step; the old ones are shredded.

    Example: tradewarden connections rotate "MEXC Spot Main" --credentials new-key.json
    """
    with app_context() as ctx:
        exchange = service.list_exchange_of(ctx, name)
    creds, stdin_used = read_credentials(credentials, exchange)
    passphrase = read_passphrase(passphrase_file, stdin_taken=stdin_used)
    with app_context() as ctx:
        view = service.rotate_credentials(ctx, passphrase, name, creds)
    if as_json:
        print_json(view.to_json())
        return
    out.print(f"Rotated [bold]{view.name}[/]: new API key {view.api_key}; the old credentials are shredded.")


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="Connection name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Remove a connection and shred its sealed credentials (the audit log keeps the removal)."""
    if not yes and not typer.confirm(f"Remove {name!r} and shred its credentials?", default=False):
        raise typer.Exit(1)
    with app_context() as ctx:
        view = service.remove_connection(ctx, name)
    out.print(
        f"Removed [bold]{view.name}[/]; its credentials are shredded. Revoke the key on {view.exchange} too."
    )
