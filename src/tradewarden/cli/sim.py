"""`tradewarden sim ...`: run the built-in exchange simulator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys

import typer

sim_app = typer.Typer(no_args_is_help=True, help="The built-in exchange simulator (Binance and more).")


@sim_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8765, "--port", help="Port to bind; 0 picks a free one."),
    seed: int = typer.Option(0, "--seed", help="Seed: same seed and same requests give the same prices."),
) -> None:
    """Serve the simulated exchanges at http://HOST:PORT/{exchange-host}/{path} until interrupted."""
    from tradewarden.sim import SimServer

    async def _run() -> None:
        async with SimServer(host=host, port=port, seed=seed) as sim:
            typer.echo(f"Simulator listening on {sim.url} (seed {seed}); venues: {', '.join(sim.venues)}")
            typer.echo(f"Admin API: {sim.url}/_sim/ (loopback only). Ctrl-C to stop.")
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run())


@sim_app.command("key")
def key(
    venue: str = typer.Option(
        ..., "--venue", help="Simulated exchange: binance, kucoin, mexc, okx or bybit."
    ),
    permissions: str = typer.Option(
        "read,spot_trade", "--permissions", help="Comma-separated: read, spot_trade, futures_trade, withdraw."
    ),
    ip: list[str] = typer.Option(
        ["127.0.0.1"], "--ip", help="Whitelisted address (repeatable); --any-ip for none."
    ),
    any_ip: bool = typer.Option(False, "--any-ip", help="No IP whitelist (the test then warns)."),
    url: str | None = typer.Option(
        None, "--url", help="The simulator's base URL (default: the one `up` runs, else 127.0.0.1:8765)."
    ),
) -> None:
    """Mint a key on a running simulator and print it as a credentials file (ccxt field names).

    Example: tradewarden sim key --venue kucoin --permissions read,spot_trade > creds.json
    """
    from tradewarden.cli.common import app_context
    from tradewarden.services import simulator
    from tradewarden.services.errors import InputError

    wanted = simulator.parse_permissions(permissions)
    if url is None:
        with app_context(read_only=False) as ctx:
            url = simulator.recorded_url(ctx.settings.home_dir) or simulator.url_for(ctx.settings.sim_port)
    if not simulator.answers(url):
        raise InputError(
            f"no simulator answers at {url}",
            "start one with: tradewarden up (or tradewarden sim serve), or pass --url",
            field="url",
        )
    try:
        minted = simulator.mint_key(url, venue.strip().lower(), wanted, [] if any_ip else ip)
    except OSError as exc:
        raise InputError(
            f"the simulator at {url} refused the key ({getattr(exc, 'code', None) or exc})",
            "check --venue (binance, kucoin, mexc, okx, bybit) and --ip",
            field="venue",
        ) from None
    sys.stdout.write(json.dumps({k: v.reveal() for k, v in minted.items()}, indent=2) + "\n")
    typer.echo(
        f"Simulator key for {venue} ({', '.join(wanted)}). Use it with: tradewarden connections add NAME "
        f"--exchange {venue} --endpoint {url} --credentials FILE",
        err=True,
    )
