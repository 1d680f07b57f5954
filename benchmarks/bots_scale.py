"""Bots at scale: how many paper bots one process drives, at what step latency, memory and upstream load.

For each bot count N (`--bots 100,300,1000`), a fresh child process (so its memory is its own):
1. makes a home, `tradewarden init`, one connection per venue (MEXC, KuCoin, Binance) on the simulator
   (its own process, started here), and N paper bots over 20 markets, DCA and grid alternating (the
   settings of tests/integration/bots/test_many_bots.py);
2. puts the simulator on a frozen virtual clock and runs the real BotRunner: one warm-up round (every
   bot loads and places its first orders), then `--rounds` measured rounds, the clock one simulated
   minute further before each;
3. reports the step latency of each bot (BotDriver.latencies_ms: a quote in, fills applied, decide,
   orders placed, state saved; wall time, so it includes waiting on the other bots' steps that the
   round interleaves with it), the round time (the most any bot waits between two prices), the
   process's RSS before the bots loaded and after the rounds, and the hub's upstream requests per
   round, per distinct symbol.

The hub's clock is the simulator's virtual clock (its production cache lifetimes hold while the
simulated clock stands still) and its weight budgets are raised: a simulated minute passes here in
seconds, and MEXC's ccxt costs (25 a ticker) would otherwise stretch the rounds (the upstream counts
are the point, and they do not depend on the budget).

    .venv/bin/python benchmarks/bots_scale.py [--bots 100,300,1000] [--rounds 10] [--no-record]

Targets (issue 15): 1,000 bots in one process under 300 MB RSS, step p99 under 100 ms, upstream
requests proportional to distinct symbols, not bots.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")
PASSPHRASE = "Bench-Scale-Passphrase-15"
FAST_KDF = {"TRADEWARDEN_KDF_TIME_COST": "2", "TRADEWARDEN_KDF_MEMORY_KIB": str(19 * 1024)}
VENUES = ("mexc", "kucoin", "binance")
USDT = ("BTC", "ETH", "BNB", "SOL", "XRP", "DOGE", "ADA", "LTC")
MARKETS: tuple[tuple[str, str], ...] = (
    *(("mexc", f"{b}/USDT") for b in USDT),
    *(("kucoin", f"{b}/USDT") for b in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA")),
    *(("binance", f"{b}/USDT") for b in ("BTC", "ETH", "BNB", "SOL", "LTC", "ADA")),
)
DCA = {
    "base_order": "40",
    "addon_order": "30",
    "addon_count": "3",
    "addon_deviation_pct": "0.4",
    "addon_step_scale": "1",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "0.3",
    "stop_loss_pct": "4",
    "stop_loss_from": "first",
}
MINUTE_MS = 60_000
TARGET_P99_MS = 100.0
TARGET_RSS_MB = 300.0


def admin(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One simulator admin call."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    """The simulator in its own process on an ephemeral loopback port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewarden.sim", "--host", "127.0.0.1", "--port", "0", "--seed", "15"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", proc.stdout.readline())
        if found:
            return proc, found.group(1)
    proc.kill()
    raise RuntimeError("the simulator did not start")


def rss_mb() -> float:
    """This process's resident memory (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cli(env: dict[str, str], *args: str, stdin: str = "") -> None:
    """Run `tradewarden ARGS` (the real console entry) and fail loudly."""
    done = subprocess.run(
        [sys.executable, "-m", "tradewarden", *args],
        input=stdin.encode(),
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tradewarden {args[0]} {args[1] if len(args) > 1 else ''} failed")


def grid(i: int, price: Decimal) -> dict[str, str]:
    """A grid around `price` (the test's shapes)."""
    width = Decimal("0.006") * (1 + i % 3)
    return {
        "lower": str((price * (1 - width)).quantize(Decimal("1e-6"))),
        "upper": str((price * (1 + width)).quantize(Decimal("1e-6"))),
        "levels": str(6 + 2 * (i % 4)),
        "spacing": "geometric" if i % 2 else "arithmetic",
        "order_amount": str(12 + 3 * (i % 5)),
        "trailing": "on" if i % 3 == 0 else "off",
    }


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


async def drive(url: str, home: Path, bots: int, rounds: int, concurrency: int) -> dict[str, Any]:
    """The child's work: bots created, warm-up round, measured rounds; the figures."""
    from tradewarden.adapters.market import HubConfig, MarketHub
    from tradewarden.adapters.market.budget import BudgetLimits
    from tradewarden.config import Settings
    from tradewarden.services.app import open_app
    from tradewarden.services.bots import service
    from tradewarden.services.bots.runner import BotRunner, RunnerConfig

    now = {
        "ms": int(
            admin(
                url, "POST", "/_sim/clock", {"mode": "virtual", "start": int(time.time() * 1000), "speed": 0}
            )["now"]
        )
    }
    limits = {v: BudgetLimits(limit=1_000_000) for v in VENUES}
    hub = MarketHub(HubConfig(default_endpoint=url, limits=limits), clock=lambda: now["ms"] / 1000)
    app = open_app(Settings(home=home))
    try:
        prices = {}
        for venue, pair in MARKETS:
            prices[(venue, pair)] = Decimal(str((await hub.ticker(venue, pair))["last"]))
        for i in range(bots):
            venue, pair = MARKETS[i % len(MARKETS)]
            strategy = "dca" if i % 2 == 0 else "grid"
            settings = DCA if strategy == "dca" else grid(i, prices[(venue, pair)])
            name = f"b{i:05d}"
            service.create(app, service.BotSpec(name, venue, strategy, (pair,), "paper", settings=settings))
            service.start(app, name)
        runner = BotRunner(app, hub, None, RunnerConfig(concurrency=concurrency))
        base_rss = rss_mb()
        started = time.perf_counter()
        await runner.round()
        warmup_s = time.perf_counter() - started
        for item in runner.loaded.values():
            item.driver.latencies_ms.clear()
        before = {(k.exchange, k.kind): k.upstream for k in hub.snapshot().kinds}
        round_s: list[float] = []
        measured = time.perf_counter()
        for _ in range(rounds):
            now["ms"] = int(admin(url, "POST", "/_sim/clock", {"advance_ms": MINUTE_MS})["now"])
            stats = await runner.round()
            round_s.append(stats.seconds)
        wall = time.perf_counter() - measured
        after = {(k.exchange, k.kind): k.upstream for k in hub.snapshot().kinds}
        upstream: dict[str, int] = {}
        for (exchange, kind), n in after.items():
            upstream[kind] = upstream.get(kind, 0) + n - before.get((exchange, kind), 0)
        latencies = runner.latencies_ms()
        return {
            "bots": bots,
            "held": runner.last.held,
            "errors": dict(runner.config.errors),
            "rounds": rounds,
            "warmup_s": round(warmup_s, 1),
            "round_s_p50": round(percentile(round_s, 0.5), 2),
            "round_s_max": round(max(round_s), 2),
            "steps": len(latencies),
            "step_p50_ms": round(percentile(latencies, 0.5), 1),
            "step_p99_ms": round(percentile(latencies, 0.99), 1),
            "rss_base_mb": round(base_rss, 1),
            "rss_mb": round(rss_mb(), 1),
            "upstream_per_round": {k: round(v / rounds, 1) for k, v in sorted(upstream.items())},
            "upstream_per_wall_min": round(sum(upstream.values()) / wall * 60),
            "symbols": len(MARKETS),
            "concurrency": concurrency,
        }
    finally:
        await hub.close()
        app.close()
        admin(url, "POST", "/_sim/clock", {"mode": "real"})


def child(url: str, bots: int, rounds: int, concurrency: int) -> None:
    """One bot count in this process: home, connections, then `drive`; prints its figures as JSON."""
    with tempfile.TemporaryDirectory(prefix="tw-bots-scale-") as tmp:
        home = Path(tmp) / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWARDEN_")}
        env.update(
            TRADEWARDEN_HOME=str(home),
            TRADEWARDEN_PASSPHRASE=PASSPHRASE,
            TRADEWARDEN_PUBLIC_IP_LOOKUP="off",
            **FAST_KDF,
        )
        cli(env, "init")
        for venue in VENUES:
            key = admin(
                url,
                "POST",
                "/_sim/keys",
                {"venue": venue, "permissions": ["read", "spot_trade"], "ip_whitelist": ["127.0.0.1"]},
            )
            creds = json.dumps({k: key[k] for k in ("apiKey", "secret", "password") if k in key})
            cli(env, "connections", "add", venue, "-e", venue, "--endpoint", url, "-c", "-", stdin=creds)
        os.environ.update(env)
        print(json.dumps(asyncio.run(drive(url, home, bots, rounds, concurrency))))


def machine() -> str:
    """The machine line of RESULTS.md."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = (
                    line.split(":", 1)[1].strip().split(" ")[0]
                    + " "
                    + line.split(":", 1)[1].strip().split(" ")[1]
                )
                break
    load = os.getloadavg()[0]
    return (
        f"vm, {platform.system()} {platform.release()} {platform.machine()}, {model}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {load:.1f} at the start"
    )


def summary(results: list[dict[str, Any]]) -> str:
    """One RESULTS.md cell."""
    parts = []
    sustained = 0
    for r in results:
        per_bot_kb = (r["rss_mb"] - r["rss_base_mb"]) * 1024 / r["bots"]
        per_symbol = sum(r["upstream_per_round"].values()) / r["symbols"]
        ok = r["step_p99_ms"] < TARGET_P99_MS and not r["errors"] and r["held"] == r["bots"]
        sustained = r["bots"] if ok else sustained
        parts.append(
            f"{r['bots']} bots (stepped {r['concurrency']} at once): step p50 {r['step_p50_ms']} ms, "
            f"p99 {r['step_p99_ms']} ms "
            f"over {r['steps']} steps; round p50 {r['round_s_p50']} s (max {r['round_s_max']} s), "
            f"warm-up round {r['warmup_s']} s; RSS {r['rss_base_mb']} MB before the bots, "
            f"{r['rss_mb']} MB after ({per_bot_kb:.0f} KB a bot); upstream a round (one simulated "
            f"minute) {r['upstream_per_round']} = {per_symbol:.1f} per symbol "
            f"({r['upstream_per_wall_min']} a wall minute); runner errors {r['errors'] or 'none'}"
        )
    big = results[-1]
    verdict = (
        f"most bots with step p99 < {TARGET_P99_MS:.0f} ms: {sustained or 'none of the counts tried'}; "
        f"{big['bots']} bots RSS {big['rss_mb']} MB "
        f"({'meets' if big['rss_mb'] < TARGET_RSS_MB else 'MISSES'} < {TARGET_RSS_MB:.0f} MB)"
    )
    return "; ".join(parts) + f" ({verdict})"


def main() -> None:
    """Parse, run each bot count in a child process, print and record."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bots", default="100,300,1000")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="bots stepped at once (RunnerConfig.concurrency)"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)  # url bots rounds concurrency
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]), int(args.child[3]))
        return
    machine_line = machine()
    sim, url = start_simulator()
    results: list[dict[str, Any]] = []
    try:
        for count in (int(x) for x in args.bots.split(",")):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    url,
                    str(count),
                    str(args.rounds),
                    str(args.concurrency),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"the run with {count} bots failed")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(result))
            results.append(result)
    finally:
        sim.terminate()
        sim.wait(10)
    cell = summary(results)
    print(cell)
    if not args.no_record:
        command = (
            "`.venv/bin/python benchmarks/bots_scale.py"
            + (f" --bots {args.bots}" if args.bots != "100,300,1000" else "")
            + (f" --rounds {args.rounds}" if args.rounds != 10 else "")
            + (f" --concurrency {args.concurrency}" if args.concurrency != 32 else "")
            + "`"
        )
        today = dt.date.today().isoformat()
        row = f"| {today} | bots at scale, paper, one process | {cell} | {command} | {machine_line} |\n"
        with RESULTS.open("a") as fh:
            fh.write(row)


if __name__ == "__main__":
    main()
