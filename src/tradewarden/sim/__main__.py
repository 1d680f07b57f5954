"""`python -m tradewarden.sim [--host H] [--port P] [--seed N]`: run the simulator in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .server import SimServer


async def serve(host: str, port: int, seed: int) -> None:
    """Run until cancelled (Ctrl-C)."""
    async with SimServer(host=host, port=port, seed=seed) as sim:
        print(
            f"tradewarden simulator listening on {sim.url} (seed {seed}); venues: {', '.join(sim.venues)}",
            flush=True,
        )
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve."""
    p = argparse.ArgumentParser(prog="python -m tradewarden.sim")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(a.host, a.port, a.seed))


if __name__ == "__main__":
    main()
