"""Market hub vs one client per bot: 500 simulated bots on 25 symbols, the same run, the same simulator.

Each bot reads its symbol's ticker once per refresh interval (random phase), for `--seconds`:

1. hub: every bot asks the process's MarketHub (one shared client per exchange, single-flight, a ticker
   cache of one refresh interval, one weighted budget per exchange);
2. naive: every bot has its own ccxt client (its own rate limiter) and polls for itself. To be fair to
   it, the naive clients are handed the markets (no 500 market loads) and share one HTTP session.

The 25 symbols are the simulator's Binance spot and USD-M markets through ccxt's `binance` class (17)
and 8 OKX spot pairs. The simulator runs in its own process; its weights are reset
between the phases. Figures, per phase, from the simulator's request log (ground truth) and from the
hub's own instrumentation of its upstream calls:

- upstream ticker requests per symbol per refresh interval (mean, and the most any symbol made in any
  interval-long window: the target is at most 1);
- the simulator's weight peak (most weight in any window the venue meters, sliding) vs the venue's limit,
  and the 429/418 answers.

    .venv/bin/python benchmarks/market_hub.py [--seconds 60] [--bots 500] [--interval 2] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async

from tradewarden.adapters.exchanges.client import build_client
from tradewarden.adapters.exchanges.shared import http_session
from tradewarden.adapters.market import HubConfig, MarketHub

RESULTS = Path(__file__).with_name("RESULTS.md")
VENUES = {"binance": "binance", "okx": "okx"}  # ccxt id -> simulator venue
SYMBOLS = 25
START_TIMEOUT_S = 30.0
NAIVE_TIMEOUT_MS = 10_000
BINANCE_SPOT_HOST = "api.binance.com"
FAPI_WEIGHT_1M = 2400  # Binance USD-M futures: request weight per minute per IP


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    reads_ok: int = 0
    reads_failed: int = 0
    upstream_times: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    log: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    started_ms: int = 0
    cache_hits: int = 0
    coalesced: int = 0


def _admin(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    """The simulator in its own process on an ephemeral loopback port; returns it and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewarden.sim", "--host", "127.0.0.1", "--port", "0", "--seed", "13"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if found:
            return proc, found.group(1)
    proc.kill()
    raise RuntimeError("the simulator did not start")


async def symbols_of(url: str) -> list[tuple[str, str]]:
    """(ccxt id, symbol) for the 25 symbols, markets loaded through a throwaway hub."""
    hub = MarketHub(HubConfig(default_endpoint=url))
    try:
        binance = await hub.markets("binance")
        okx = await hub.markets("okx")
    finally:
        await hub.close()
    # Binance spot and USD-M (the simulator serves no COIN-M ticker), then OKX spot.
    ours = sorted(s for s, m in binance.items() if m.get("spot") or m.get("linear"))
    theirs = sorted(s for s, m in okx.items() if m.get("spot"))
    return [("binance", s) for s in ours] + [("okx", s) for s in theirs[: SYMBOLS - len(ours)]]


async def _bot(
    read: Any, exchange: str, symbol: str, interval: float, end: float, phase: Phase, rng: random.Random
) -> None:
    await asyncio.sleep(rng.random() * interval)  # bots start out of step, as real ones do
    while time.monotonic() < end:
        tick = time.monotonic()
        try:
            await read(exchange, symbol)
            phase.reads_ok += 1
        except Exception:  # a refused or failed read: the bot tries again next interval
            phase.reads_failed += 1
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - tick)))


def _instrument(client: Any, phase: Phase) -> None:
    """Record when each upstream ticker request leaves, per symbol (the simulator's log has no query)."""
    original = client.fetch_ticker

    async def fetch_ticker(symbol: str, params: dict[str, Any] | None = None) -> Any:
        phase.upstream_times[(client.id, symbol)].append(time.monotonic())
        return await original(symbol, params or {})

    client.fetch_ticker = fetch_ticker


async def run_hub(
    url: str, pairs: Sequence[tuple[str, str]], bots: int, interval: float, seconds: float
) -> Phase:
    """Every bot reads through one MarketHub."""
    phase = Phase("hub")
    hub = MarketHub(HubConfig(default_endpoint=url, ttl_s={"ticker": interval, "markets": 3600.0}))
    try:
        for exchange in VENUES:
            await hub.markets(exchange)
            _instrument(hub.client(exchange), phase)
        rng = random.Random(1)
        phase.started_ms = int(time.time() * 1000)
        end = time.monotonic() + seconds
        await asyncio.gather(
            *(_bot(hub.ticker, *pairs[i % len(pairs)], interval, end, phase, rng) for i in range(bots))
        )
        tickers = [k for k in hub.snapshot().kinds if k.kind == "ticker"]
        phase.cache_hits = sum(k.cache_hits for k in tickers)
        phase.coalesced = sum(k.coalesced for k in tickers)
    finally:
        await hub.close()
    return phase


async def run_naive(
    url: str, pairs: Sequence[tuple[str, str]], bots: int, interval: float, seconds: float
) -> Phase:
    """Every bot has its own ccxt client and rate limiter."""
    phase = Phase("naive")
    session: aiohttp.ClientSession = http_session()
    clients: list[Any] = []
    try:
        markets: dict[str, Any] = {}
        for exchange in VENUES:
            loader = build_client(exchange, None, url, None, NAIVE_TIMEOUT_MS, session=session)
            markets[exchange] = await loader.load_markets()
            clients.append(loader)
        readers: list[tuple[Any, str, str]] = []
        for i in range(bots):
            exchange, symbol = pairs[i % len(pairs)]
            # the product's own factory: rate limiting on (its own limiter), the shared TLS context
            client = build_client(exchange, None, url, None, NAIVE_TIMEOUT_MS, session=session)
            client.set_markets(markets[exchange])
            _instrument(client, phase)
            clients.append(client)
            readers.append((client, exchange, symbol))
        rng = random.Random(1)
        phase.started_ms = int(time.time() * 1000)
        end = time.monotonic() + seconds

        def reader(client: Any) -> Any:
            return lambda _exchange, symbol: client.fetch_ticker(symbol)

        await asyncio.gather(*(_bot(reader(c), ex, sym, interval, end, phase, rng) for c, ex, sym in readers))
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        await session.close()
    return phase


def most_in_window(times: Sequence[float], window: float) -> int:
    """The most events in any half-open window of `window` seconds (sliding)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def weight_peak(rows: Sequence[dict[str, Any]], window_s: float) -> int:
    """The most weight the venue counted in any `window_s` (sliding over its log, so >= its fixed-window
    meter); requests refused during a ban (418) are not counted by the venue, nor here."""
    ordered = sorted((r for r in rows if r["status"] != 418), key=lambda r: r["ts"])
    best = total = start = 0
    for row in ordered:
        total += int(row["weight"])
        while ordered[start]["ts"] <= row["ts"] - window_s * 1000:
            total -= int(ordered[start]["weight"])
            start += 1
        best = max(best, total)
    return best


def in_pool(row_host: str, host: str | None) -> bool:
    """Whether a request to `row_host` counts in the pool of `host` (None: every host; "!H": all but H)."""
    if host is None:
        return True
    if host.startswith("!"):
        return row_host != host[1:]
    return row_host == host


def pools(states: dict[str, Any]) -> list[tuple[str, str, str | None, int | None]]:
    """The venues' weight pools: (label, venue, host filter, limit). The simulator's Binance meters spot
    (api host) and futures (fapi/dapi hosts) apart, 6,000 and 2,400 a minute, as Binance documents."""
    binance = states["binance"]
    fapi = int(binance["limits"].get("fapi_weight", FAPI_WEIGHT_1M))
    return [
        ("binance spot", "binance", BINANCE_SPOT_HOST, binance["weight_limit"]),
        ("binance futures", "binance", "!" + BINANCE_SPOT_HOST, fapi),
        ("okx", "okx", None, states["okx"]["weight_limit"]),
    ]


def summarize(
    phase: Phase, pairs: Sequence[tuple[str, str]], interval: float, seconds: float, states: dict[str, Any]
) -> dict[str, Any]:
    """The phase's figures."""
    intervals = seconds / interval
    ticker_calls = sum(len(v) for v in phase.upstream_times.values())
    worst = max((most_in_window(v, interval) for v in phase.upstream_times.values()), default=0)
    venues: dict[str, Any] = {}
    for label, venue, host, limit in pools(states):
        rows = [r for r in phase.log.get(venue, []) if in_pool(r["host"], host)]
        window = float(states[venue]["weight_window_s"])
        venues[label] = {
            "requests": len(rows),
            "weight_peak": weight_peak(rows, window),
            "weight_limit": limit,
            "window_s": window,
            "429": sum(1 for r in rows if r["status"] == 429),
            "418": sum(1 for r in rows if r["status"] == 418),
        }
    return {
        "phase": phase.name,
        "reads_ok": phase.reads_ok,
        "reads_failed": phase.reads_failed,
        "cache_hits": phase.cache_hits,
        "coalesced": phase.coalesced,
        "ticker_requests": ticker_calls,
        "per_symbol_per_interval": ticker_calls / (len(pairs) * intervals),
        "max_per_symbol_in_any_interval": worst,
        "venues": venues,
    }


def collect_log(url: str, phase: Phase) -> None:
    """The simulator's request log since the phase started, per venue."""
    for venue in VENUES.values():
        rows = _admin(url, "GET", f"/_sim/requests?venue={venue}&since={phase.started_ms}")
        phase.log[venue] = rows


def machine() -> str:
    """The machine line RESULTS.md uses."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"vm, {platform.system()} {platform.release()} {platform.machine()}, {model}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, ccxt {ccxt_async.__version__}"
    )


def _venue_text(fig: dict[str, Any]) -> str:
    parts = []
    for venue, v in fig["venues"].items():
        parts.append(
            f"{venue} weight peak {v['weight_peak']}/{v['weight_limit']} per {v['window_s']:g} s, "
            f"{v['429']}x429 {v['418']}x418"
        )
    return "; ".join(parts)


def line_of(fig: dict[str, Any]) -> str:
    """One phase as text."""
    return (
        f"{fig['phase']}: {fig['ticker_requests']} upstream ticker requests = "
        f"{fig['per_symbol_per_interval']:.2f} per symbol per interval "
        f"(max {fig['max_per_symbol_in_any_interval']} in any interval), "
        f"bot reads {fig['reads_ok']} ok / {fig['reads_failed']} failed"
        + (
            f" ({fig['cache_hits']} from cache, {fig['coalesced']} coalesced)"
            if fig["phase"] == "hub"
            else ""
        )
        + f"; {_venue_text(fig)}"
    )


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    proc, url = start_simulator()
    try:
        pairs = await symbols_of(url)
        assert len(pairs) == 25, pairs
        states = _admin(url, "GET", "/_sim/venue")
        figures = []
        for runner in (run_hub, run_naive):
            for venue in VENUES.values():
                _admin(url, "POST", "/_sim/venue", {"venue": venue, "reset_weights": True})
            phase = await runner(url, pairs, args.bots, args.interval, args.seconds)
            collect_log(url, phase)
            figures.append(summarize(phase, pairs, args.interval, args.seconds, states))
            print(line_of(figures[-1]), flush=True)
        return figures
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> None:
    """Run both phases and (unless --no-record) append the figures to RESULTS.md."""
    parser = argparse.ArgumentParser(prog="benchmarks/market_hub.py")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--bots", type=int, default=500)
    parser.add_argument("--interval", type=float, default=2.0, help="each bot's refresh interval (s)")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args))
    hub, naive = figures
    target = (
        "meets target"
        if hub["max_per_symbol_in_any_interval"] <= 1
        and all(v["weight_peak"] < (v["weight_limit"] or 0) and not v["429"] for v in hub["venues"].values())
        else "MISSES target"
    )
    result = (
        f"{args.bots} bots on 25 symbols, refresh {args.interval:g} s, {args.seconds:g} s per phase. "
        f"{line_of(hub)}. {line_of(naive)}. ({target}: at most 1 upstream request per symbol per interval, "
        "weight below the limit, no 429)"
    )
    print(result)
    if not args.no_record:
        command = "`.venv/bin/python benchmarks/market_hub.py" + (
            "`" if argv is None and len(sys.argv) == 1 else " " + " ".join(sys.argv[1:]) + "`"
        )
        today = dt.date.today().isoformat()
        row = f"| {today} | market hub vs one client per bot | {result} | {command} | {machine()} |\n"
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(row)


if __name__ == "__main__":
    main()
