"""`tradewarden sim ...`: run the built-in exchange simulator."""

from __future__ import annotations

import asyncio
import contextlib

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
