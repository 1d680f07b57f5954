"""`tradewarden bots ...` and `tradewarden runner`: create, watch and control bots; drive them.

Bots run inside `tradewarden serve` (and `up`), or in `tradewarden runner` processes that share them
through leases on PostgreSQL. These commands change what the store says a bot should do; the runner
holding the bot acts on it within a round.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from tradewarden.adapters.market import MarketHub
from tradewarden.adapters.vault.secret import Secret
from tradewarden.cli.common import (
    JSON_OPTION,
    PASSPHRASE_FILE_OPTION,
    app_context,
    err,
    out,
    print_json,
    read_passphrase,
)
from tradewarden.domain.strategies.base import SettingsError, parse_set_args
from tradewarden.services import notifications
from tradewarden.services.app import App
from tradewarden.services.bots import control, service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.bots.streams import streams_enabled
from tradewarden.services.connections.health import HealthMonitor
from tradewarden.services.errors import InputError
from tradewarden.services.trading import order_json
from tradewarden.services.vault_session import VaultSession, market_for

T = TypeVar("T")

app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Bots: a DCA or grid strategy on a connection's pairs, in paper mode (real prices, simulated fills) "
        "or live. They run while `tradewarden serve` (or `up`, or `tradewarden runner`) runs.\n\n"
        "Examples:\n\n"
        '  tradewarden bots create dip-buyer --connection "MEXC Spot Main" --strategy dca --pair BTC/USDT '
        "--mode paper --risk balanced --margin-limit 500\n\n"
        "  tradewarden bots create btc-grid --connection kc --strategy grid --pair BTC/USDT --mode paper "
        "--set lower=45000 --set upper=55000 --set levels=10 --set order_amount=20\n\n"
        "  tradewarden bots start dip-buyer · tradewarden bots show dip-buyer --json · "
        "tradewarden bots stop dip-buyer --cancel-orders"
    ),
)


def _margin(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise InputError(
            f"margin limit {value!r} is not a number", "e.g. --margin-limit 500", "--margin-limit"
        ) from None
    if not number.is_finite() or number <= 0:
        raise InputError(
            f"margin limit {value!r} must be above 0", "e.g. --margin-limit 500", "--margin-limit"
        )
    return number


def _money(value: Any) -> str:
    return "" if value is None else str(value)


def _bots_table(views: list[service.BotView]) -> Table:
    table = Table(title="Bots")
    for column in (
        "Name",
        "Connection",
        "Strategy",
        "Pairs",
        "Mode",
        "Status",
        "P&L",
        "Margin used",
        "Recovery",
    ):
        table.add_column(column)
    for v in views:
        pnl = v.realized_pnl + v.unrealized_pnl
        mode = "[bold red]LIVE[/]" if v.mode == "live" else "paper"
        recovery = "[yellow]active[/]" if v.recovery_active else ("on" if v.recovery else "off")
        table.add_row(
            escape(v.name),
            escape(v.connection) + (" [dim](testnet)[/]" if v.connection_testnet else ""),
            v.strategy,
            escape(", ".join(v.pairs)),
            mode,
            escape(v.status),
            f"{pnl:.2f}",
            f"{v.margin_used:.2f} / {v.max_commit:.2f}",
            recovery,
        )
    return table


@app.command("create")
def create(
    name: str = typer.Argument(..., help="The bot's name (unique)."),
    connection: str = typer.Option(..., "--connection", "-c", help="An Online connection."),
    strategy: str = typer.Option(..., "--strategy", "-s", help="dca or grid."),
    pair: list[str] = typer.Option(..., "--pair", "-p", help="A market, e.g. BTC/USDT; repeat for more."),
    mode: str = typer.Option("paper", "--mode", help="paper (simulated fills on real prices) or live."),
    risk: str | None = typer.Option(None, "--risk", help="conservative, balanced or aggressive preset."),
    margin_limit: str | None = typer.Option(
        None, "--margin-limit", help="Most the bot may commit, in quote."
    ),
    recovery: bool | None = typer.Option(
        None, "--recovery/--no-recovery", help="Recovery Mode on a deep drawdown."
    ),
    settings: list[str] = typer.Option(
        [], "--set", help="KEY=VALUE strategy setting; repeat (see DESIGN keys)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm a live bot without asking."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a bot (it does not start until `bots start`).

    Every order its settings will place is checked first against the exchange's rules at the current
    price (lot step, minimum amount, minimum notional); a setting that cannot pass is refused with the
    smallest value that would. A testnet connection's market is read with its key (vault passphrase).
    """
    try:
        values = parse_set_args(settings)
    except SettingsError as exc:
        raise InputError(str(exc), "give --set KEY=VALUE, e.g. --set take_profit_pct=1", "--set") from None
    spec = service.BotSpec(
        name,
        connection,
        strategy.strip().lower(),
        tuple(pair),
        mode.strip().lower(),  # type: ignore[arg-type]
        risk.strip().lower() if risk else None,
        _margin(margin_limit),
        recovery,
        values,
    )
    spec = service.validate(spec)
    if spec.mode == "live":
        commit = service.max_commit(
            spec.strategy, spec.pairs, spec.settings or {}, spec.risk, spec.margin_limit, spec.recovery
        )
        _confirm_live(name, commit, yes)
    with app_context() as ctx:
        view = asyncio.run(
            _with_hub(lambda hub: service.create_checked(ctx, spec, hub, _vault_getter(ctx, passphrase_file)))
        )
    if as_json:
        print_json(view.to_json())
        return
    out.print(
        f"Created bot [bold]{escape(view.name)}[/] ({view.strategy}, {view.mode}) on "
        f"{escape(view.connection)}; it may commit at most {view.max_commit} in quote. "
        f"Start it: tradewarden bots start {escape(view.name)}"
    )


async def _with_hub(work: Callable[[MarketHub], Awaitable[T]]) -> T:
    """Run `work` with a market hub of its own, closed after it."""
    hub = MarketHub()
    try:
        return await work(hub)
    finally:
        await hub.close()


def _vault_getter(ctx: App, passphrase_file: Path | None) -> Callable[[], Awaitable[VaultSession | None]]:
    """Opens the vault when the size check needs it (a testnet connection's market is read with its key)."""

    async def get() -> VaultSession | None:
        return VaultSession.open(ctx, read_passphrase(passphrase_file))

    return get


def _confirm_live(name: str, commit: Decimal, yes: bool) -> None:
    message = f"Bot {name} will trade LIVE with real funds and may commit up to {commit} (quote currency)."
    if yes:
        err.print(escape(message))
        return
    import sys

    if not sys.stdin.isatty():
        raise InputError(message + " Not confirmed", "add --yes to confirm a live bot")
    if not typer.confirm(message + " Continue?", default=False):
        raise typer.Exit(1)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every bot: status, pairs, mode, P&L, margin used, Recovery Mode."""
    with app_context(read_only=True) as ctx:
        views = service.list_bots(ctx)
    if as_json:
        print_json([v.to_json() for v in views])
        return
    if not views:
        out.print("No bots yet. Create one: tradewarden bots create --help")
        return
    out.print(_bots_table(views))


@app.command("show")
def show(name: str, as_json: bool = JSON_OPTION) -> None:
    """One bot: group, average price, zones, add-ons used, margin used, P&L, Recovery Mode, history."""
    with app_context(read_only=True) as ctx:
        view = service.get(ctx, name)
        history = service.history(ctx, name, limit=20)
    if as_json:
        print_json({**view.to_json(), "history": history})
        return
    out.print(_bots_table([view]))
    if view.status_reason:
        out.print(f"Status: {escape(view.status)} — {escape(view.status_reason)}")
    for pair, fig in view.pair_states.items():
        t = fig.get("triggers", {})
        out.print(
            f"[bold]{escape(pair)}[/]: price {fig.get('price')}, position {fig.get('position')}, "
            f"average {fig.get('average_price') or '-'}, groups {fig.get('groups')}, "
            f"add-ons {fig.get('addons_used')} (most {fig.get('addons_max')}), "
            f"next below {t.get('low') or '-'}, next above {t.get('high') or '-'}, "
            f"Recovery Mode {'ACTIVE' if fig.get('recovery') else 'off'}"
        )
    out.print(
        f"Margin used {view.margin_used} (most {view.margin_used_max}) of {view.max_commit}; realised "
        f"{view.realized_pnl}, unrealised {view.unrealized_pnl}, fees {view.fees}"
    )
    for event in history[:10]:
        out.print(
            f"  {event['ts'][:19]} {escape(event['kind'])} {escape(event['pair'] or '')} "
            f"{escape(event['reason'])}"
        )


@app.command("start")
def start(
    name: str,
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm a live bot."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Start (or resume) a bot; the running server or runner picks it up within a round.

    Its orders are checked against the exchange's rules at the current price first, as on create.
    """
    with app_context() as ctx:
        current = service.get(ctx, name)
        if current.mode == "live" and current.status != "running":
            _confirm_live(current.name, current.max_commit, yes)
        view = asyncio.run(
            _with_hub(lambda hub: service.start_checked(ctx, name, hub, _vault_getter(ctx, passphrase_file)))
        )
    if as_json:
        print_json(view.to_json())
        return
    out.print(
        f"Bot [bold]{escape(view.name)}[/] is running ({view.mode}). It trades while `tradewarden serve`, "
        "`up` or `tradewarden runner` runs."
    )


@app.command("stop")
def stop(
    name: str,
    cancel_orders: bool = typer.Option(
        False, "--cancel-orders", help="Cancel the bot's open orders (default: leave them)."
    ),
    close_position: bool = typer.Option(
        False, "--close-position", help="Then sell/close what it holds at market."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm closing the position."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop a bot, leaving its orders (default) or canceling them; optionally close its position at market."""
    with app_context() as ctx:
        current = service.get(ctx, name)
        needs_vault = (cancel_orders or close_position) and (
            current.mode == "live" or current.connection_testnet
        )
        vault = VaultSession.open(ctx, read_passphrase(passphrase_file)) if needs_vault else None
        if close_position and not yes:
            import sys

            if not sys.stdin.isatty():
                raise InputError(
                    "closing the position sells at market: not confirmed", "add --yes to confirm"
                )
            if not typer.confirm(f"Close {name}'s position at market?", default=False):
                raise typer.Exit(1)
        view, canceled, closed = asyncio.run(_stop(ctx, name, cancel_orders, close_position, vault))
    if as_json:
        print_json(
            {
                **view.to_json(),
                "canceled": [order_json(o, view.mode) for o in canceled],
                "closed": [order_json(o, view.mode) for o in closed],
            }
        )
        return
    out.print(f"Bot [bold]{escape(view.name)}[/] stopped; {escape(view.status_reason or '')}.")
    for order in canceled:
        out.print(f"  canceled {order.client_order_id}: {order.status}")
    for order in closed:
        out.print(f"  closed at market {order.symbol} {order.side} {order.amount}: {order.status}")


async def _stop(
    ctx: App, name: str, cancel_orders: bool, close_position: bool, vault: VaultSession | None
) -> tuple[service.BotView, list[Any], list[Any]]:
    from tradewarden.adapters.market import MarketHub

    hub = MarketHub()
    try:
        view, canceled = await control.stop(ctx, name, cancel_orders, hub, vault)
        closed = await control.close_position(ctx, name, hub, vault) if close_position else []
        return service.get(ctx, name) if closed else view, canceled, closed
    finally:
        await hub.close()


@app.command("remove")
def remove(name: str) -> None:
    """Remove a stopped bot (its orders stay in the connection's history)."""
    with app_context() as ctx:
        service.remove(ctx, name)
    out.print(f"Removed bot {escape(name)}.")


@app.command("orders")
def orders(
    name: str,
    open_only: bool = typer.Option(False, "--open", help="Only open orders."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The bot's orders, newest first."""
    with app_context(read_only=True) as ctx:
        found = service.orders(ctx, name, open_only)
    if as_json:
        print_json([{**order_json(v, mode), "tag": v.tag} for v, mode in found])
        return
    table = Table(title=f"Orders of {escape(name)}")
    for column in ("Id", "Mode", "Pair", "Side", "Type", "Amount", "Price", "Status", "Filled", "Average"):
        table.add_column(column)
    for v, mode in found:
        table.add_row(
            v.client_order_id,
            mode,
            escape(v.symbol),
            v.side,
            v.type,
            str(v.amount),
            _money(v.price),
            v.status,
            str(v.filled),
            _money(v.average),
        )
    out.print(table)


def runner_command(
    interval: float = typer.Option(2.0, "--interval", min=0.05, help="Seconds between rounds."),
    lease: float = typer.Option(
        15.0, "--lease", min=1.0, help="Seconds a bot's lease lasts without renewal."
    ),
    monitor_interval: float = typer.Option(
        300.0, "--monitor-interval", min=5.0, help="Seconds between re-tests of the bots' connections."
    ),
    streams: bool = typer.Option(
        True,
        "--streams/--no-streams",
        help="Ticker and order streams over WebSocket, REST as the fallback "
        "(TRADEWARDEN_BOT_STREAMS=0 also turns them off).",
    ),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
) -> None:
    """Run bots without the API: share them with other runners through leases (PostgreSQL), until Ctrl-C.

    Example: TRADEWARDEN_DATABASE_URL=postgresql+psycopg://tw@db/tw tradewarden runner --lease 15
    """
    with app_context() as ctx:
        passphrase = read_passphrase(passphrase_file)
        vault = VaultSession.open(ctx, passphrase)
        err.print(f"Bot runner started (round every {interval}s, leases {lease}s). Ctrl-C stops.")
        asyncio.run(
            _run_forever(
                ctx,
                vault,
                passphrase,
                RunnerConfig(
                    interval_s=interval,
                    lease_s=lease,
                    monitor_interval_s=monitor_interval,
                    streams=streams and streams_enabled(),
                ),
            )
        )


async def _run_forever(ctx: App, vault: VaultSession, passphrase: Secret, config: RunnerConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with market_for(vault) as hub:
        # this process's bots publish their events here: its own notifier sends them (one driver per bot,
        # so no event is sent twice by two processes)
        # A runner process watches its bots' connections too (a deployment may run no server at all).
        monitor = HealthMonitor(ctx, passphrase, interval_s=config.monitor_interval_s)
        runner = BotRunner(ctx, hub, vault, config, monitor.report_auth_error)
        await asyncio.gather(
            runner.run(stop), monitor.run(stop), notifications.run_until(ctx, passphrase, stop, vault)
        )
