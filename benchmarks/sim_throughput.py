"""Signed requests per second the exchange simulator sustains on one core.

The simulator runs in its own process pinned to one CPU (os.sched_setaffinity); the clients are real
ccxt async Binance clients in this process, pinned to the other CPUs, doing fetch_balance and
create/cancel limit orders (every request HMAC-signed and verified). Besides the achieved rate, the
server's own CPU time is read from /proc, so "requests per server CPU-second" shows the server's
capacity even when the clients are the bottleneck.

    .venv/bin/python benchmarks/sim_throughput.py [--seconds 10] [--clients 16] [--no-record]

Appends one line to benchmarks/RESULTS.md unless --no-record.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async

from tradewarden.adapters.exchanges.endpoint import apply_endpoint_override

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\n| date | benchmark | result | command | machine |\n|---|---|---|---|---|\n"


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def proc_cpu_seconds(pid: int) -> float:
    """User+system CPU seconds used so far by a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def start_server(core: int | None) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m tradewarden.sim --port 0` (pinned to `core`) and return it with its URL."""

    def pin() -> None:
        if core is not None:
            os.sched_setaffinity(0, {core})

    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewarden.sim", "--port", "0", "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=pin,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "http://" in line:
            return proc, "http://" + line.split("http://", 1)[1].split()[0]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("simulator did not start")


def make_key(url: str) -> dict[str, Any]:
    """A key with a large balance so order placement never runs dry."""
    body = json.dumps(
        {
            "venue": "binance",
            "permissions": ["read", "spot_trade"],
            "balances": {"USDT": "100000000", "BTC": "1000"},
        }
    ).encode()
    req = urllib.request.Request(url + "/_sim/keys", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return dict(json.load(r))


def raise_weight_limit(url: str) -> None:
    """The benchmark measures throughput, not the weight limit nor Binance's order-count limits."""
    limits = {"orders_10s": 10**9, "orders_1d": 10**9}
    body = json.dumps({"venue": "binance", "weight_limit": None, "limits": limits}).encode()
    req = urllib.request.Request(url + "/_sim/venue", data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).close()


async def worker(ex: Any, kind: str, stop_at: float, counts: dict[str, int]) -> None:
    """Loop one kind of signed call until the deadline, counting signed requests."""
    while time.monotonic() < stop_at:
        if kind == "balance":
            await ex.fetch_balance()
            counts["signed"] += 1
        else:
            order = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 20000)
            await ex.cancel_order(order["id"], "BTC/USDT")
            counts["signed"] += 2


async def run(url: str, seconds: float, clients: int, server_pid: int) -> dict[str, float]:
    """Warm up, then drive `clients` concurrent ccxt clients for `seconds`."""
    exchanges = []
    for i in range(clients):
        key = make_key(url)
        ex = ccxt_async.binance(
            {"apiKey": key["apiKey"], "secret": key["secret"], "enableRateLimit": False, "timeout": 30_000}
        )
        apply_endpoint_override(ex, url)
        exchanges.append((ex, "balance" if i % 2 == 0 else "orders"))
    markets = await exchanges[0][0].load_markets()
    for ex, _ in exchanges[1:]:
        ex.set_markets(markets)
    counts = {"signed": 0}
    await asyncio.gather(*(worker(ex, kind, time.monotonic() + 1.0, {"signed": 0}) for ex, kind in exchanges))
    cpu0, t0 = proc_cpu_seconds(server_pid), time.monotonic()
    await asyncio.gather(*(worker(ex, kind, t0 + seconds, counts) for ex, kind in exchanges))
    elapsed, cpu = time.monotonic() - t0, proc_cpu_seconds(server_pid) - cpu0
    await asyncio.gather(*(ex.close() for ex, _ in exchanges))
    return {
        "requests": counts["signed"],
        "seconds": elapsed,
        "rps": counts["signed"] / elapsed,
        "server_cpu": cpu,
        "per_cpu_second": counts["signed"] / cpu if cpu else 0.0,
    }


def main() -> None:
    """Run the benchmark and record it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    server_core = cpus[0] if len(cpus) > 1 else None
    if server_core is not None:
        os.sched_setaffinity(0, set(cpus[1:]))  # clients stay off the server's core
    proc, url = start_server(server_core)
    try:
        raise_weight_limit(url)
        result = asyncio.run(run(url, args.seconds, args.clients, proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    pinned = f"server pinned to CPU {server_core}" if server_core is not None else "server not pinned (1 CPU)"
    command = (
        f"`.venv/bin/python benchmarks/sim_throughput.py --seconds {args.seconds:g} --clients {args.clients}`"
    )
    figures = (
        f"{result['rps']:.0f} signed req/s achieved ({int(result['requests'])} in {result['seconds']:.1f} s, "
        f"ccxt fetch_balance + create/cancel order, {args.clients} clients, {pinned}); server CPU "
        f"{result['server_cpu']:.1f} s = {result['per_cpu_second']:.0f} signed req per server CPU-second "
        f"(target >= 1500 per server CPU-second: {'met' if result['per_cpu_second'] >= 1500 else 'MISSED'})"
    )
    machine = (
        f"{platform.node()}, {platform.system()} {platform.release()} {platform.machine()}, {cpu_model()}, "
        f"{len(cpus)} CPUs, Python {platform.python_version()}, ccxt {ccxt_async.__version__}"
    )
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    row = f"| {date} | simulator signed throughput | {figures} | {command} | {machine} |"
    print(row)
    if not args.no_record:
        if not RESULTS.exists():
            RESULTS.write_text(HEADER)
        with RESULTS.open("a") as fh:
            fh.write(row + "\n")


if __name__ == "__main__":
    main()
