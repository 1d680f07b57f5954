"""Cost of the simulator's perpetual-futures risk loop (sim/perps.PerpRisk).

Every venue request runs `PerpRisk.update()` (charge crossed funding times, check liquidations), so
its cost is a per-request tax on the simulator's throughput. This measures, on Binance USD-M:
- update() per request with 0, 20 and 100 open positions (10 accounts, BTC and ETH, isolated and cross);
- a 30-day jump of the shared clock with those positions open (90 funding times charged);
- a funding-rate-history query of 100 rows, cold and warm.
Target: issue 11 keeps the simulator at 1,500 signed requests per server CPU-second (~670 us a
request, benchmarks/sim_throughput.py, which holds no position); the loop must not eat that budget:
with no open position it stays under 1 % of it (6.7 us). With positions open the cost grows by
about the figure reported per position (marks are computed once per symbol and request).

Run: .venv/bin/python benchmarks/sim_perps.py [--append-results]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tradewarden.sim import SimServer
from tradewarden.sim.matching import OrdType, Side
from tradewarden.sim.venues.binance import BinanceVenue

BUDGET_US = 1_000_000 / 1500  # one request at the throughput target
DAY_MS = 86_400_000


def per_call_us(fn: Callable[[], None], calls: int) -> float:
    """Mean wall time of `calls` calls of fn(), in microseconds."""
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1e6


def binance(sim: SimServer) -> BinanceVenue:
    """The simulator's Binance venue."""
    venue = sim.venues["binance"]
    assert isinstance(venue, BinanceVenue)
    return venue


def one_request(venue: BinanceVenue) -> Callable[[], None]:
    """What the server does around each venue request, as far as perpetuals go."""

    def run() -> None:
        venue.market.advance()
        venue.risk.update()

    return run


def open_positions(sim: SimServer, accounts: int, per_account: int) -> int:
    """Open `per_account` positions (alternating BTC long isolated / ETH short cross) per account."""
    venue = binance(sim)
    opened = 0
    symbols = [
        ("BTCUSDT", Side.BUY, Decimal("0.01"), "isolated"),
        ("ETHUSDT", Side.SELL, Decimal("0.1"), "cross"),
    ]
    for i in range(accounts):
        for sym, side, qty, mode in symbols[:per_account]:
            account = f"bench{opened}-{i}"
            venue.perps.set_margin_mode(account, sym, mode)
            venue.futures.new_order(account, sym, side, OrdType.MARKET, qty=qty)
            opened += 1
    return opened


async def run() -> dict[str, float]:
    """All measurements, one fresh simulator each."""
    out: dict[str, float] = {}
    for label, accounts, per in (("0", 0, 0), ("20", 10, 2), ("100", 50, 2)):
        async with SimServer(port=0, seed=7) as sim:
            n = open_positions(sim, accounts, per)
            out[f"update_us_{label}"] = per_call_us(one_request(binance(sim)), 3000 if n < 50 else 500)
    async with SimServer(port=0, seed=7) as sim:
        venue = binance(sim)
        open_positions(sim, 10, 2)
        clock = sim.ctx.clock
        clock.set_virtual(clock.now_ms(), 0)
        clock.advance(30 * DAY_MS)
        t0 = time.perf_counter()
        venue.risk.update()
        out["jump_30d_s"] = time.perf_counter() - t0
        out["fundings_charged"] = float(len(venue.risk.applied))
        t0 = time.perf_counter()
        venue.risk.history("SOLUSDT", None, None, 100)
        out["history_cold_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        venue.risk.history("SOLUSDT", None, None, 100)
        out["history_warm_ms"] = (time.perf_counter() - t0) * 1000
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--append-results", action="store_true", help="append a row to benchmarks/RESULTS.md")
    args = parser.parse_args()
    r = asyncio.run(run())
    share = r["update_us_0"] / BUDGET_US * 100
    verdict = "meets" if share < 1 else "MISSES"
    per_position = (r["update_us_100"] - r["update_us_0"]) / 100
    result = (
        f"PerpRisk.update() per request: {r['update_us_0']:.1f} us with no position, "
        f"{r['update_us_20']:.1f} us with 20 open (10 accounts), {r['update_us_100']:.1f} us with 100 "
        f"(50 accounts), about {per_position:.0f} us per open position; "
        f"30-day clock jump with 20 open: {r['jump_30d_s']:.2f} s "
        f"({int(r['fundings_charged'])} symbol-fundings charged); funding history 100 rows: "
        f"{r['history_cold_ms']:.0f} ms cold, {r['history_warm_ms']:.1f} ms warm "
        f"({verdict} target: no-position overhead < 1 % of a 1,500/s request budget, here {share:.2f} %)"
    )
    print(result)
    if args.append_results:
        machine = (
            f"vm, {platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}"
        )
        row = (
            f"| {dt.date.today().isoformat()} | simulator perpetuals risk loop | {result} | "
            f"`.venv/bin/python benchmarks/sim_perps.py --append-results` | {machine} |\n"
        )
        with (Path(__file__).parent / "RESULTS.md").open("a") as fh:
            fh.write(row)
    return 0 if share < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
