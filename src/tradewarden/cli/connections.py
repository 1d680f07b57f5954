"""`tradewarden connections ...`: add, list, show, rotate, remove."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from tradewarden.cli.common import (
    JSON_OPTION,
    PASSPHRASE_FILE_OPTION,
    app_context,
    err,
    out,
    print_json,
    read_credentials,
    read_passphrase,
)
from tradewarden.services.connections import checks, service, validation
from tradewarden.services.connections.service import ConnectionView
from tradewarden.services.connections.tester import ConnectionReport
from tradewarden.services.errors import InputError

app = typer.Typer(
    no_args_is_help=True,
    help="Exchange connections: one named API key each, its secret sealed in the vault.",
)

CREDENTIALS_HELP = (
    'JSON file with ccxt field names {"apiKey", "secret", "password"}, or - to read it from stdin. '
    "Left out in a terminal, you are asked with hidden input."
)


def _funds(view: ConnectionView) -> str:
    if view.testnet:
        return "testnet (the exchange's test environment; not counted in the portfolio total)"
    return "simulated (the built-in simulator)" if view.simulated else "real (the exchange)"


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
        ("Funds", _funds(view)),
        ("Last tested", view.status_checked_at.isoformat() if view.status_checked_at else "never"),
        ("Endpoint", view.endpoint or "the exchange itself"),
        ("Added", view.created_at.isoformat()),
    ):
        table.add_row(f"[bold]{label}[/]", escape(value))
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
    no_test: bool = typer.Option(False, "--no-test", help="Store the key without testing it (untested)."),
    keep_untested: bool = typer.Option(
        False, "--keep-untested", help="Keep the connection even when its key fails the test."
    ),
    testnet: bool = typer.Option(
        False,
        "--testnet",
        help="The exchange's testnet/demo account (Binance, Bybit, OKX demo; see tradewarden exchanges). "
        "Its balances never count in the portfolio total; bots on it trade paper or testnet only.",
    ),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a connection: the key is tested first and kept only if it passes (unless told otherwise).

    The secret is sealed before it is stored and never shown again. Supported exchanges: tradewarden
    exchanges. Example: tradewarden connections add "MEXC Spot Main" --exchange mexc --credentials mexc.json
    """
    # Cheap checks first, so a typo fails before any prompt.
    validation.validate_name(name)
    exchange = validation.validate_supported_exchange(exchange)
    validation.validate_market(market)
    validation.validate_endpoint_option(endpoint)
    service.validate_testnet(exchange, testnet)
    creds, stdin_used = read_credentials(credentials, exchange)
    passphrase = read_passphrase(passphrase_file, stdin_taken=stdin_used)
    with app_context() as ctx:
        view, report = checks.add_tested(
            ctx,
            passphrase,
            name,
            exchange,
            creds,
            market=market,
            endpoint=endpoint,
            test=not no_test,
            keep_untested=keep_untested,
            testnet=testnet,
        )
    if as_json:
        shown = view.to_json() if view is not None else {"name": name.strip(), "exchange": exchange}
        print_json({**shown, "added": view is not None, "test": report.to_json() if report else None})
    elif report is not None:
        _print_report(report)
    if view is None:
        status = report.status if report is not None else "failed"
        err.print(
            f"Not added: the key failed the test ({escape(status)}); nothing was stored. Fix the key and "
            "add it again, or keep it anyway with --keep-untested."
        )
        raise typer.Exit(1)
    if as_json:
        return
    out.print(
        f"Added [bold]{escape(view.name)}[/] ({escape(view.exchange)}, {escape(view.market)}), "
        f"API key {escape(view.api_key)}."
    )
    out.print("The secret is sealed in the vault and will not be shown again.")
    if report is None:
        out.print(f"Not tested yet: tradewarden connections test {escape(shlex.quote(view.name))}")
    elif not report.ok:
        err.print("[yellow]Kept although its test failed (--keep-untested): bots will not run on it.[/]")


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List connections with their masked API key, status and the last test's warnings."""
    with app_context(read_only=True) as ctx:
        views = service.list_connections(ctx)
        warnings = checks.latest_warnings(ctx)
    if as_json:
        print_json([{**view.to_json(), "warnings": warnings.get(view.id, [])} for view in views])
        return
    if not views:
        out.print("No connections yet. Add one with: tradewarden connections add NAME --exchange ID")
        return
    table = Table("Name", "Exchange", "Market", "API key", "Status", "Funds", "Last tested", "Warnings")
    for view in views:
        tested = view.status_checked_at.strftime("%Y-%m-%d %H:%M") if view.status_checked_at else "never"
        table.add_row(
            *(escape(cell) for cell in (view.name, view.exchange, view.market, view.api_key, view.status)),
            "testnet" if view.testnet else "simulated" if view.simulated else "real",
            tested,
            escape(", ".join(warnings.get(view.id, []))),
        )
    out.print(table)


@app.command("show")
def show(name: str = typer.Argument(..., help="Connection name."), as_json: bool = JSON_OPTION) -> None:
    """Show one connection (never its secret)."""
    with app_context(read_only=True) as ctx:
        view = service.show_connection(ctx, name)
        warnings = checks.latest_warnings(ctx, [view.id]).get(view.id, [])
    if as_json:
        print_json({**view.to_json(), "warnings": warnings})
    else:
        _describe(view)
        for warning in warnings:  # from the last test, e.g. permissions_unknown
            out.print(f"[yellow]Warning:[/] {escape(warning)}")


@app.command("rotate")
def rotate(
    name: str = typer.Argument(..., help="Connection name."),
    credentials: str | None = typer.Option(None, "--credentials", "-c", help=CREDENTIALS_HELP),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Test new credentials, then swap them in only if the test passes; the old ones are shredded.

    Example: tradewarden connections rotate "MEXC Spot Main" --credentials new-key.json
    """
    with app_context(read_only=True) as ctx:
        exchange = service.list_exchange_of(ctx, name)
    creds, stdin_used = read_credentials(credentials, exchange)
    passphrase = read_passphrase(passphrase_file, stdin_taken=stdin_used)
    with app_context() as ctx:
        report, swapped = checks.rotate_tested(ctx, passphrase, name, creds)
    if as_json:
        print_json({"rotated": swapped, "test": report.to_json()})
    elif swapped:
        out.print(
            f"Rotated [bold]{escape(report.name)}[/]: the new key passed the test; "
            "the old credentials are shredded."
        )
    else:
        _print_report(report)
        err.print(
            f"Not rotated: the new key failed the test ({escape(report.status)}). The old key stays in force."
        )
    if not swapped:
        raise typer.Exit(1)


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="Connection name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Remove a connection and shred its sealed credentials (the audit log keeps the removal)."""
    if not yes and not sys.stdin.isatty():
        raise InputError(
            f"removing {name!r} needs a confirmation, and there is no terminal to ask",
            f"add --yes: tradewarden connections remove {shlex.quote(name)} --yes",
        )
    if not yes and not typer.confirm(f"Remove {name!r} and shred its credentials?", default=False):
        err.print("Not removed. (Use --yes to remove without being asked.)")
        raise typer.Exit(1)
    with app_context(read_only=True) as ctx:
        view = service.remove_connection(ctx, name)
    out.print(
        f"Removed [bold]{escape(view.name)}[/]; its credentials are shredded. "
        f"Revoke the key on {escape(view.exchange)} too."
    )


@app.command("edit")
def edit(
    name: str = typer.Argument(..., help="Connection name."),
    new_name: str | None = typer.Option(None, "--name", help="A new name."),
    market: str | None = typer.Option(None, "--market", help="spot, futures or both."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="Send requests via this base URL."),
    no_endpoint: bool = typer.Option(False, "--no-endpoint", help="Talk to the exchange itself again."),
    credentials: str | None = typer.Option(
        None,
        "--credentials",
        "-c",
        help="Correct key fields in place: a JSON file (or -) with only the fields to change, e.g. "
        '{"password": "..."}; tested first like rotate, kept only if the test passes.',
    ),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Rename a connection, change its market or endpoint, or correct its key fields (test-gated).

    Example: tradewarden connections edit "KuCoin Main" --credentials fix.json   (fix.json: {"password": ...})
    """
    if new_name is not None:
        validation.validate_name(new_name)
    if market is not None:
        validation.validate_market(market)
    if endpoint is not None and no_endpoint:
        raise InputError("--endpoint and --no-endpoint contradict each other", "give one of them")
    validation.validate_endpoint_option(endpoint)
    with app_context(read_only=True) as ctx:
        view = service.show_view(ctx, name)
    report = None
    passphrase = None
    if credentials is not None:
        creds, stdin_used = read_credentials(credentials, view.exchange)
        passphrase = read_passphrase(passphrase_file, stdin_taken=stdin_used)
        with app_context() as ctx:
            report, swapped = checks.correct_tested(ctx, passphrase, view.id, creds)
        if not swapped:
            if as_json:
                print_json({"edited": False, "rotated": False, "test": report.to_json()})
            else:
                _print_report(report)
                err.print(
                    f"Not changed: the corrected key failed the test ({escape(report.status)}). "
                    "The stored key stays in force."
                )
            raise typer.Exit(1)
    if endpoint is not None and "@" in endpoint and passphrase is None:
        passphrase = read_passphrase(passphrase_file)  # the endpoint's credentials are sealed
    with app_context() as ctx:
        if new_name is not None or market is not None or endpoint is not None or no_endpoint:
            view = service.edit_connection(
                ctx,
                view.id,
                new_name=new_name,
                market=market,
                endpoint=endpoint,
                clear_endpoint=no_endpoint,
                passphrase=passphrase,
            )
        else:
            view = service.show_view(ctx, view.id)
    if as_json:
        print_json(
            {
                **view.to_json(),
                "edited": True,
                "rotated": report is not None,
                "test": report.to_json() if report else None,
            }
        )
        return
    if report is not None:
        out.print(f"Corrected the key of [bold]{escape(view.name)}[/]: it passed the test.")
    out.print(
        f"[bold]{escape(view.name)}[/]: {escape(view.exchange)}, {escape(view.market)}, endpoint "
        f"{escape(view.endpoint or 'the exchange itself')}, status {escape(view.status)}."
    )


STATUS_STYLE = {"online": "green", "withdraw_enabled": "bold red"}


def _print_report(report: ConnectionReport) -> None:
    table = Table("Check", "Result", "ms", "Detail")
    for check in report.checks:
        # Details can quote the exchange's reply: escaped like every other outside string.
        table.add_row(
            escape(check.label),
            "[green]ok[/]" if check.ok else "[red]failed[/]",
            f"{check.ms:.0f}",
            escape(check.detail),
        )
    out.print(table)
    style = STATUS_STYLE.get(report.status, "yellow")
    out.print(
        f"[bold]{escape(report.name)}[/] ({escape(report.exchange)}): [{style}]{escape(report.status)}[/]"
    )
    out.print(escape(report.message))
    if report.remedy:
        out.print(f"[bold]What to do:[/] {escape(report.remedy)}")
    for warning in report.warnings:
        out.print(f"[yellow]Warning:[/] {escape(warning)}")


@app.command("test")
def test(
    name: str | None = typer.Argument(None, help="Connection name (leave out with --all)."),
    all_: bool = typer.Option(False, "--all", help="Test every connection, concurrently."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check the key, signature, clock, permissions, IP restriction and market access; exit 0 only if Online.

    Example: tradewarden connections test "MEXC Spot Main" --json
    """
    if (name is None) == (not all_):
        raise InputError(
            "give one connection name, or --all",
            'e.g. tradewarden connections test "MEXC Spot Main"',
            field="name",
        )
    with app_context(read_only=True):
        pass  # an uninitialised home is refused before the passphrase is asked for
    passphrase = read_passphrase(passphrase_file)
    with app_context() as ctx:
        reports = checks.check_connections(ctx, passphrase, None if all_ else [name or ""])
    if as_json:
        print_json(reports[0].to_json() if name else [r.to_json() for r in reports])
    else:
        for report in reports:
            _print_report(report)
    if not all(report.ok for report in reports):
        raise typer.Exit(1)


@app.command("history")
def history(
    name: str = typer.Argument(..., help="Connection name."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="How many results."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Past connection tests, newest first."""
    with app_context(read_only=True) as ctx:
        rows = checks.history(ctx, name, limit)
    if as_json:
        print_json(rows)
        return
    table = Table("When", "Status", "Message")
    for row in rows:
        table.add_row(*(escape(str(row[key])) for key in ("checked_at", "status", "message")))
    out.print(table)


@app.command("keygen")
def keygen(
    name: str = typer.Argument(..., help='Name of the new connection, e.g. "Binance Spot Main".'),
    exchange: str = typer.Option(
        "binance", "--exchange", "-e", help="Only binance accepts self-generated keys."
    ),
    market: str = typer.Option("spot", "--market", help="spot, futures or both."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="Send requests via this base URL."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
) -> None:
    """Generate an Ed25519 key pair; the private key is sealed here and only the public key is printed.

    Then register the public key on Binance and finish with:
    tradewarden connections add NAME --exchange binance --credentials FILE   (FILE holds just {"apiKey": ...})
    """
    exchange = validation.validate_exchange(exchange)
    if exchange not in ("binance", "binanceusdm"):
        raise InputError(
            f"{exchange} does not take self-generated keys here", "use --exchange binance", field="exchange"
        )
    passphrase = read_passphrase(passphrase_file)
    with app_context() as ctx:
        view, public_pem = service.generate_ed25519_key(ctx, passphrase, name, exchange, market, endpoint)
    sys.stdout.write(public_pem)
    err.print(
        f"\nThe private key of [bold]{escape(view.name)}[/] is sealed in the vault and never leaves it. "
        "Next:\n"
        "  1. Binance → Account → API Management → Create API → Self-generated (Ed25519).\n"
        "  2. Paste the public key above; tick Enable Reading and Enable Spot & Margin Trading"
        " (Enable Futures only if needed);\n"
        "     leave Enable Withdrawals off; restrict access to this server's IP.\n"
        f'  3. Put the API key Binance shows in a file as {{"apiKey": "..."}} and run:\n'
        f"     tradewarden connections add {escape(shlex.quote(view.name))} --exchange binance"
        " --credentials FILE"
    )
