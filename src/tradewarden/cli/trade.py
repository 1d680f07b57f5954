"""`tradewarden trade ...`: one order by hand on a connection, paper or live, through the order guard."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

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
    read_passphrase,
)
from tradewarden.services import reconcile as reconciling
from tradewarden.services import trading
from tradewarden.services.app import App
from tradewarden.services.errors import InputError
from tradewarden.services.vault_session import VaultSession

app = typer.Typer(
    no_args_is_help=True,
    help="Manual orders on a connection (paper or live), checked by the same order guard as bots.",
)
T = TypeVar("T")

EXAMPLES = (
    "Examples:\n\n"
    '  tradewarden trade buy "MEXC Spot Main" BTC/USDT 0.001 --type limit --price 50000\n\n'
    '  tradewarden trade sell "KuCoin Main" BTC/USDT 20 --quote --paper\n\n'
    '  tradewarden trade orders "MEXC Spot Main" --open\n\n'
    '  tradewarden trade cancel "MEXC Spot Main" tw1a2b3c4d5e6f0000000001\n\n'
    '  tradewarden trade reconcile "MEXC Spot Main" --json'
)


def _run(passphrase_file: Path | None, name: str, work: Callable[[trading.Trader], Awaitable[T]]) -> T:
    passphrase = read_passphrase(passphrase_file)
    with app_context() as ctx:
        vault = VaultSession.open(ctx, passphrase)
        return asyncio.run(_with_trader(ctx, vault, name, work))


async def _with_trader(
    ctx: App, vault: VaultSession, name: str, work: Callable[[trading.Trader], Awaitable[T]]
) -> T:
    async with trading.trader(ctx, vault, name) as trader:
        try:
            return await work(trader)
        finally:
            await trader.hub.private.close(trader.spec.id)


def _refused(refusal: trading.OrderRefused, as_json: bool) -> None:
    if as_json:
        print_json({"ok": False, "refused": True, "reason": refusal.reason, "message": refusal.message})
    err.print(
        f"[red]Refused ({escape(refusal.reason)}):[/] {escape(refusal.message)}. "
        "Nothing was sent to the exchange."
    )
    raise typer.Exit(1)


def _print_order(order: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    for key in (
        "id",
        "mode",
        "symbol",
        "side",
        "type",
        "amount",
        "price",
        "status",
        "filled",
        "average",
        "fee",
    ):
        value = order.get(key)
        table.add_row(f"[bold]{key}[/]", escape("" if value is None else str(value)))
    if order.get("error"):
        table.add_row("[bold]error[/]", escape(str(order["error"])))
    out.print(table)


def _place(
    side: Literal["buy", "sell"],
    connection: str,
    pair: str,
    amount: str,
    price: str | None,
    order_type: str,
    reduce_only: bool,
    paper: bool,
    quote: bool,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    if order_type not in ("market", "limit"):
        raise InputError(f"order type {order_type!r} is not market or limit", "use --type market|limit")
    if price is not None and order_type == "market":
        order_type = "limit"  # a price given means a limit order
    ticket = trading.OrderTicket(
        pair.strip(),
        side,
        trading.parse_decimal(amount, "amount"),
        "limit" if order_type == "limit" else "market",
        trading.parse_decimal(price, "price") if price is not None else None,
        reduce_only,
        paper,
        quote,
    )
    try:
        view, mode = _run(passphrase_file, connection, lambda t: t.place(ticket))
    except trading.OrderRefused as refusal:
        _refused(refusal, as_json)
        return
    order = trading.order_json(view, mode)
    if as_json:
        print_json(order)
    else:
        _print_order(order)
    if view.status == "rejected":
        err.print(
            f"[red]The exchange rejected the order:[/] {escape(view.error or view.outcome or 'no reason')}"
        )
        raise typer.Exit(1)


AMOUNT_HELP = "Amount in the base currency (contracts on perpetuals); with --quote, in the quote currency."


@app.command("buy", epilog=EXAMPLES)
def buy(
    connection: str = typer.Argument(..., help="Connection name or id."),
    pair: str = typer.Argument(..., help="Unified symbol, e.g. BTC/USDT or BTC/USDT:USDT."),
    amount: str = typer.Argument(..., help=AMOUNT_HELP),
    price: str | None = typer.Option(None, "--price", help="Limit price (implies --type limit)."),
    order_type: str = typer.Option("market", "--type", help="market or limit."),
    reduce_only: bool = typer.Option(False, "--reduce-only", help="Only reduce a position (perpetuals)."),
    paper: bool = typer.Option(
        False, "--paper", help="Simulate on the live book; nothing reaches the exchange."
    ),
    quote: bool = typer.Option(False, "--quote", help="AMOUNT is in the quote currency (e.g. 20 USDT)."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Buy by hand: the order guard and the exchange's filters check it before it is sent."""
    _place(
        "buy",
        connection,
        pair,
        amount,
        price,
        order_type,
        reduce_only,
        paper,
        quote,
        passphrase_file,
        as_json,
    )


@app.command("sell", epilog=EXAMPLES)
def sell(
    connection: str = typer.Argument(..., help="Connection name or id."),
    pair: str = typer.Argument(..., help="Unified symbol, e.g. BTC/USDT or BTC/USDT:USDT."),
    amount: str = typer.Argument(..., help=AMOUNT_HELP),
    price: str | None = typer.Option(None, "--price", help="Limit price (implies --type limit)."),
    order_type: str = typer.Option("market", "--type", help="market or limit."),
    reduce_only: bool = typer.Option(False, "--reduce-only", help="Only reduce a position (perpetuals)."),
    paper: bool = typer.Option(
        False, "--paper", help="Simulate on the live book; nothing reaches the exchange."
    ),
    quote: bool = typer.Option(False, "--quote", help="AMOUNT is in the quote currency (e.g. 20 USDT)."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Sell by hand: the order guard and the exchange's filters check it before it is sent."""
    _place(
        "sell",
        connection,
        pair,
        amount,
        price,
        order_type,
        reduce_only,
        paper,
        quote,
        passphrase_file,
        as_json,
    )


@app.command("orders", epilog=EXAMPLES)
def orders(
    connection: str = typer.Argument(..., help="Connection name or id."),
    open_only: bool = typer.Option(False, "--open", help="Only orders still open."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The connection's orders, manual and bots', paper and live (live ones refreshed from the exchange)."""
    found = _run(passphrase_file, connection, lambda t: t.orders(open_only))
    rows = [trading.order_json(view, mode) for view, mode in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("No orders." if not open_only else "No open orders.")
        return
    table = Table("id", "mode", "symbol", "side", "type", "amount", "price", "filled", "status")
    for row in rows:
        table.add_row(*(escape("" if row[k] is None else str(row[k])) for k in table_keys()))
    out.print(table)


def table_keys() -> tuple[str, ...]:
    """The columns of the orders table."""
    return ("id", "mode", "symbol", "side", "type", "amount", "price", "filled", "status")


@app.command("cancel", epilog=EXAMPLES)
def cancel(
    connection: str = typer.Argument(..., help="Connection name or id."),
    order_id: str = typer.Argument(..., help="The order's id (client order id, or the exchange's id)."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Cancel an open order."""
    view, mode = _run(passphrase_file, connection, lambda t: t.cancel(order_id.strip()))
    order = trading.order_json(view, mode)
    if as_json:
        print_json(order)
        return
    _print_order(order)
    if view.status != "canceled":
        err.print(f"The order is {escape(view.status)}, not canceled.")
        raise typer.Exit(1)


@app.command("reconcile", epilog=EXAMPLES)
def reconcile(
    connection: str = typer.Argument(..., help="Connection name or id."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Bring the connection's manual live orders up to date with the exchange (as the server does when it
    starts): pending/unknown ones it never received become rejected, the rest take the exchange's state.

    Exit code 0 only when every order could be looked up; the others stay as they were.
    """
    passphrase = read_passphrase(passphrase_file)
    with app_context() as ctx:
        vault = VaultSession.open(ctx, passphrase)
        result = asyncio.run(reconciling.reconcile_connection(ctx, vault, connection))
    if as_json:
        print_json(result.to_json())
    else:
        out.print(
            f"{escape(result.connection)}: {result.orders} manual live orders looked up; "
            f"{result.updated} updated, {result.never_placed} never placed (now rejected), "
            f"{result.added} added from the exchange, {result.fills} fills recorded, "
            f"{result.changed} changed."
        )
    if not result.ok:
        err.print(
            f"[yellow]{result.unreachable} orders could not be looked up[/] and stay as they were; "
            "run this again when the exchange answers."
        )
        raise typer.Exit(1)
