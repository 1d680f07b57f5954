"""Sweep speed: settings x candles per second for a DCA grid, three ways, in one run.

    .venv/bin/python benchmarks/sweep_speed.py [--settings 1000] [--candles 1000000] [--append-results]

1. TradeWarden's sweep on a Dask LocalCluster (fast path per task, candles scattered once per worker),
   with 1 worker and then 2 workers: the scaling is printed.
2. A plain loop of reference-engine runs (Decimal, one setting after another). A full loop would take
   hours, so a subset is measured (`--reference-runs` settings on `--reference-candles` candles) and the
   rate extrapolated to the whole sweep: settings x candles per second is what is compared.
3. vectorbt's parameter broadcasting (`Portfolio.from_order_func`, one column per setting, the DCA order
   function of benchmarks/peers/vectorbt_dca.py with the swept values per column), run inside
   benchmarks/.venvs/vectorbt in batches of `--vectorbt-columns` columns (memory).

Candles: a seeded random walk of 1-minute candles. The grid: 10 add-on deviations x 10 take-profits x
10 add-on volume scales (1,000 settings; fewer with --settings, the first N of the grid), on the DCA
example of DESIGN.md otherwise. Times exclude numba compilation and cluster start (both warmed first).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
VECTORBT_PYTHON = HERE / ".venvs" / "vectorbt" / "bin" / "python"
RESULTS = HERE / "RESULTS.md"
DEVIATIONS = [f"{1 + 0.25 * i:g}" for i in range(10)]
TAKE_PROFITS = [f"{0.5 + 0.25 * i:g}" for i in range(10)]
VOLUME_SCALES = [f"{1 + 0.1 * i:g}" for i in range(10)]
BASE = {
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "3",
    "addon_step_scale": "1",
    "stop_loss_pct": "8",
    "stop_loss_from": "first",
}


def walk(n: int, seed: int = 42) -> tuple[np.ndarray, ...]:
    """Time, open, high, low, close of `n` one-minute candles (a seeded random walk)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0015, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.001, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.001, n))
    time_ms = 1_600_000_000_000 + 60_000 * np.arange(n, dtype=np.int64)
    return time_ms, open_, high, low, close


def grid(count: int) -> list[tuple[str, str, str]]:
    """The first `count` (deviation, take-profit, volume scale) triples of the 10x10x10 grid."""
    full = [(d, t, v) for d in DEVIATIONS for t in TAKE_PROFITS for v in VOLUME_SCALES]
    return full[:count]


# ---- vectorbt (runs inside its own venv: `--vectorbt-worker`) ------------------------------------


def vectorbt_worker(npz: str, params_json: str, columns: int) -> None:
    """Time vectorbt's broadcasted DCA sweep; print one RESULT line."""
    import vectorbt as vbt  # type: ignore[import-not-found]
    from numba import njit
    from vectorbt.portfolio import nb  # type: ignore[import-not-found]
    from vectorbt.portfolio.enums import Direction, SizeType  # type: ignore[import-not-found]

    fee = 0.001

    @njit
    def order_nb(c, open_, high, low, state, dev, tp, vol):  # type: ignore[no-untyped-def]
        i, col = c.i, c.col
        s = state[col]
        if c.position_now == 0.0:
            s[0] = open_[i]
            s[1] = 0.0
            s[2] = 0.0
            s[3] = 0.0
            return nb.order_nb(
                100.0, open_[i], size_type=SizeType.Value, direction=Direction.LongOnly, fees=fee
            )
        first = s[0]
        stop = first * 0.92
        if low[i] <= stop:
            price = open_[i] if open_[i] < stop else stop
            return nb.order_nb(-np.inf, price, direction=Direction.LongOnly, fees=fee)
        average = s[2] / s[3] if s[3] > 0.0 else first
        target = average * (1.0 + tp[col] / 100.0 + fee) / (1.0 - fee)
        if high[i] >= target:
            price = open_[i] if open_[i] > target else target
            return nb.order_nb(-np.inf, price, direction=Direction.LongOnly, fees=fee)
        used = s[1]
        if used < 3 and open_[i] <= first * (1.0 - dev[col] / 100.0 * (used + 1)):
            s[1] = used + 1
            return nb.order_nb(
                150.0 * vol[col] ** used,
                open_[i],
                size_type=SizeType.Value,
                direction=Direction.LongOnly,
                fees=fee,
            )
        return nb.order_nothing_nb()

    @njit
    def post_nb(c, state):  # type: ignore[no-untyped-def]
        s = state[c.col]
        if c.order_result.status == 0:
            if c.order_result.side == 0:
                s[2] += c.order_result.size * c.order_result.price
                s[3] += c.order_result.size
            else:
                s[2] = 0.0
                s[3] = 0.0

    data = np.load(npz)
    open_, high, low, close = data["open"], data["high"], data["low"], data["close"]
    params = np.asarray(json.loads(params_json), dtype=np.float64)

    def run(block: np.ndarray, n: int) -> float:
        k = block.shape[0]
        state = np.zeros((k, 4))
        pf = vbt.Portfolio.from_order_func(
            np.broadcast_to(close[:n, None], (n, k)),
            order_nb,
            open_[:n],
            high[:n],
            low[:n],
            state,
            np.ascontiguousarray(block[:, 0]),
            np.ascontiguousarray(block[:, 1]),
            np.ascontiguousarray(block[:, 2]),
            post_order_func_nb=post_nb,
            post_order_args=(state,),
            init_cash=1_000_000.0,
            max_orders=n,  # per column: one order per candle at most
        )
        return float(np.asarray(pf.total_profit()).sum())

    run(params[:2], 1000)  # compile
    started = time.perf_counter()
    total = 0.0
    for start in range(0, params.shape[0], columns):
        total += run(params[start : start + columns], close.shape[0])
    seconds = time.perf_counter() - started
    print("RESULT " + json.dumps({"seconds": seconds, "settings": int(params.shape[0]), "profit_sum": total}))


def run_vectorbt(npz: Path, triples: list[tuple[str, str, str]], columns: int) -> dict[str, Any] | None:
    """vectorbt's sweep in its venv; None (and why, printed) when the venv is missing or fails."""
    if not VECTORBT_PYTHON.exists():
        print(f"vectorbt: no venv at {VECTORBT_PYTHON}; skipped")
        return None
    params = json.dumps([[float(d), float(t), float(v)] for d, t, v in triples])
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(params)
    try:
        proc = subprocess.run(
            [str(VECTORBT_PYTHON), __file__, "--vectorbt-worker", str(npz), handle.name, str(columns)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            body: dict[str, Any] = json.loads(line[7:])
            return body
    print("vectorbt failed:", proc.stderr[-2000:])
    return None


# ---- ours ----------------------------------------------------------------------------------------


def warm_worker() -> None:
    """One tiny fast-path backtest, so a worker has numba's kernels loaded (runs in each worker)."""
    from tradewarden.services.backtest.candles import from_arrays
    from tradewarden.services.backtest.runner import run_fast

    time_ms, open_, high, low, close = walk(2000)
    small = from_arrays(time_ms, open_, high, low, close, timeframe_ms=60_000)
    run_fast(
        small,
        "dca",
        {**BASE, "addon_deviation_pct": "2", "take_profit_pct": "1", "addon_volume_scale": "1.5"},
    )


def run_ours(candles: Any, triples: list[tuple[str, str, str]], workers: int) -> tuple[float, int]:
    """Seconds for the sweep on a LocalCluster of `workers` (started and warmed before timing)."""
    from tradewarden.services.backtest.sweep import Axis, SweepRequest, cluster_client, run_sweep

    combos = [Axis("addon_deviation_pct", tuple(dict.fromkeys(d for d, _, _ in triples)))]
    combos.append(Axis("take_profit_pct", tuple(dict.fromkeys(t for _, t, _ in triples))))
    combos.append(Axis("addon_volume_scale", tuple(dict.fromkeys(v for _, _, v in triples))))
    request = SweepRequest(strategy="dca", base=BASE, axes=combos, workers=workers)
    with cluster_client(None, workers) as client:
        client.run(warm_worker)  # every worker loads numba's cached kernels before the clock starts
        started = time.perf_counter()
        result = run_sweep(candles, request, client=client)
        seconds = time.perf_counter() - started
    return seconds, len(result.results) + len(result.failed)


def run_reference_subset(candles: Any, triples: list[tuple[str, str, str]], runs: int, n: int) -> float:
    """Seconds per (setting x candle) of plain reference-engine runs, measured on a subset."""
    from tradewarden.services.backtest.runner import run_reference

    part = candles.slice(0, n)
    started = time.perf_counter()
    for d, t, v in triples[:runs]:
        run_reference(
            part, "dca", {**BASE, "addon_deviation_pct": d, "take_profit_pct": t, "addon_volume_scale": v}
        )
    return (time.perf_counter() - started) / (runs * n)


def machine() -> str:
    """The machine line of RESULTS.md."""
    load = os.getloadavg()[0]
    system = f"{platform.system()} {platform.release()} {platform.machine()}"
    return (
        f"vm, {system}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load:.1f} at the start"
    )


def main() -> None:
    """Parse arguments, run the three sweeps, print and optionally append to RESULTS.md."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--settings", type=int, default=1000)
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--reference-runs", type=int, default=2)
    parser.add_argument("--reference-candles", type=int, default=20_000)
    parser.add_argument("--vectorbt-columns", type=int, default=50)
    parser.add_argument("--append-results", action="store_true")
    parser.add_argument("--vectorbt-worker", nargs=3, metavar=("NPZ", "PARAMS", "COLUMNS"))
    args = parser.parse_args()
    if args.vectorbt_worker:
        npz, params, columns = args.vectorbt_worker
        vectorbt_worker(npz, Path(params).read_text(), int(columns))
        return

    from tradewarden.services.backtest.candles import from_arrays

    where = machine()
    time_ms, open_, high, low, close = walk(args.candles)
    candles = from_arrays(time_ms, open_, high, low, close, timeframe_ms=60_000, source="walk")
    triples = grid(args.settings)
    work = len(triples) * len(candles)
    print(f"{len(triples)} settings x {len(candles):,} candles = {work:,} setting-candles; {where}")

    ours: dict[int, float] = {}
    for workers in (1, 2):
        seconds, done = run_ours(candles, triples, workers)
        assert done == len(triples)
        ours[workers] = seconds
        print(
            f"ours, Dask LocalCluster {workers} worker(s): {seconds:.1f} s = "
            f"{work / seconds:,.0f} setting-candles/s"
        )
    print(f"scaling 1 -> 2 workers: {ours[1] / ours[2]:.2f}x")

    per = run_reference_subset(
        candles, triples, args.reference_runs, min(args.reference_candles, len(candles))
    )
    print(
        f"reference loop: {1 / per:,.0f} setting-candles/s measured on {args.reference_runs} settings x "
        f"{args.reference_candles:,} candles; the full loop extrapolates to {per * work / 3600:.1f} h"
    )

    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "candles.npz"
        np.savez(npz, open=open_, high=high, low=low, close=close)
        vbt = run_vectorbt(npz, triples, args.vectorbt_columns)
    vbt_line = "vectorbt: not run"
    if vbt is not None:
        vbt_line = (
            f"vectorbt broadcasting ({args.vectorbt_columns} columns a batch, 1 process): "
            f"{vbt['seconds']:.1f} s = "
            f"{work / vbt['seconds']:,.0f} setting-candles/s"
        )
    print(vbt_line)
    if not args.append_results:
        return
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    result = (
        f"{len(triples)} DCA settings x {len(candles):,} 1m candles: ours on Dask 1 worker {ours[1]:.1f} s "
        f"({work / ours[1]:,.0f} setting-candles/s), 2 workers {ours[2]:.1f} s ({work / ours[2]:,.0f}/s), "
        f"scaling {ours[1] / ours[2]:.2f}x; plain reference-engine loop {1 / per:,.0f}/s (measured on "
        f"{args.reference_runs} settings x {args.reference_candles:,} candles, extrapolated: "
        f"{per * work / 3600:.1f} h for the sweep); {vbt_line}"
    )
    command = " ".join(["`.venv/bin/python benchmarks/sweep_speed.py", *sys.argv[1:]]) + "`"
    row = f"| {today} | backtest sweep speed | {result} | {command} | {where} |\n"
    with RESULTS.open("a") as handle:
        handle.write(row)
    print("appended to", RESULTS)


if __name__ == "__main__":
    main()
