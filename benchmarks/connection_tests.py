"""Benchmark: the connection test on 50 connections at once versus one (target: < 3x the time of one).

The simulator runs in its own process on its own core; the connection tests run here, all on one
event loop, each with its own ccxt client, exactly as `tradewarden connections test --all` does.

    .venv/bin/python benchmarks/connection_tests.py [--connections 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.simtools import SimAdmin

from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.connections.checks import Target, run_targets

VENUES = ("binance", "kucoin", "mexc", "okx", "bybit")


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sim(port: int) -> subprocess.Popen[bytes]:
    """The simulator in a child process, pinned to the last core when the machine has two or more."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewarden.sim", "--port", str(port), "--seed", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # the "listening" line
    cores = os.cpu_count() or 1
    if cores >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(proc.pid, {cores - 1})
        os.sched_setaffinity(0, set(range(cores - 1)))
    return proc


def make_targets(admin: SimAdmin, url: str, count: int) -> list[Target]:
    """`count` healthy connections spread over the five simulated venues."""
    targets = []
    for i in range(count):
        venue = VENUES[i % len(VENUES)]
        key = admin.key(venue, ["read", "spot_trade"], ["127.0.0.1"])
        creds = {f: Secret(key[f]) for f in ("apiKey", "secret", "password") if key.get(f)}
        targets.append(Target(f"id{i}", f"{venue}-{i}", venue, "spot", url, creds))
    return targets


async def timed(targets: list[Target]) -> float:
    """Seconds to test `targets` concurrently (all must come out online)."""
    started = time.perf_counter()
    reports = await run_targets(targets, timeout_ms=30_000)
    elapsed = time.perf_counter() - started
    bad = [(r.exchange, r.status) for r in reports if not r.ok]
    if bad:
        raise SystemExit(f"unexpected statuses: {bad}")
    return elapsed


def main() -> None:
    """Run the benchmark and append the result to benchmarks/RESULTS.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    singles, batches = [], []
    for round_no in range(args.rounds + 1):
        # A fresh simulator each round: all tests share one client IP, and the venues' per-IP weight
        # budgets (Binance: 1,200 a minute) would otherwise rate-limit later rounds, as real ones would.
        port = free_port()
        sim = start_sim(port)
        url = f"http://127.0.0.1:{port}"
        try:
            many = make_targets(SimAdmin(url), url, args.connections)
            # One connection of each venue on its own, then all of them at once.
            ones = [asyncio.run(timed([target])) for target in many[: len(VENUES)]]
            batch = asyncio.run(timed(many))
        finally:
            sim.terminate()
            sim.wait(timeout=10)
        if round_no > 0:  # round 0 warms up imports and the first client of each exchange class
            singles.append(ones)
            batches.append(batch)
    per_venue = {venue: statistics.median(r[i] for r in singles) for i, venue in enumerate(VENUES)}
    one = statistics.mean(per_venue.values())  # "testing one": a connection on a typical venue
    fifty = statistics.median(batches)
    ratio = fifty / one
    verdict = "meets" if ratio < 3 else "MISSES"
    venues = ", ".join(f"{v} {t * 1000:.0f}" for v, t in per_venue.items())
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d} | connection test, one vs {args.connections} concurrent "
        f"(spread over 5 venues), median of {args.rounds} rounds | "
        f"one (mean over venues): {one * 1000:.0f} ms "
        f"[{venues} ms]; {args.connections} at once: {fifty * 1000:.0f} ms; ratio {ratio:.2f} ({verdict} "
        f"target < 3) | `.venv/bin/python benchmarks/connection_tests.py` | "
        f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} |"
    )
    print(line)
    results = Path(__file__).with_name("RESULTS.md")
    if not results.exists():
        results.write_text(
            "# Benchmark results\n\n"
            "| date | benchmark | result | command | machine |\n|---|---|---|---|---|\n"
            "| date | benchmark | result | command | machine |\n|---|---|---|---|---|\n"
        )
    with results.open("a") as handle:
        handle.write(line + "\n")


if __name__ == "__main__":
    main()
