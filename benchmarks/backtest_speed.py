"""Benchmark: our backtest (fast path and reference engine) beside Freqtrade and vectorbt, in one run.

All four run the same DCA rules (DESIGN.md's benchmark example: buy at once; add-ons at -2/-4/-6 % of
the first entry, each 1.5x the previous; exit at +1 %; stop at -8 % of the first entry; fee 0.1 %) on
the same 1,000,000 one-minute candles, built by chaining the segments of
../shared/data/candles/btc-perp-1m-2022-01.csv (each repetition scaled to start at the previous close).
Each runs in its own process (peak memory is that process's own maximum RSS); Freqtrade and vectorbt
in their own virtual environments under benchmarks/.venvs/, installed here from the package registry
at pinned versions when missing. Freqtrade runs offline: its Binance market list comes from
../shared/data/exchange (see peers/freqtrade_dca.py).

It also checks Freqtrade agreement: `--fills freqtrade` must give Freqtrade's trade count, wins and
losses exactly, and its profit within 0.1 %, on the original file and on the 1,000,000 candles.

    .venv/bin/python benchmarks/backtest_speed.py [--candles 1000000] [--skip-freqtrade] [--no-record]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import venv
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "data"
SOURCE = SHARED / "candles" / "btc-perp-1m-2022-01.csv"
EXCHANGE_INFO = SHARED / "exchange" / "binance_btc_usdt_exchange_info.json"
CACHE = HERE / ".cache"
VENVS = HERE / ".venvs"
PEERS = {"freqtrade": "freqtrade==2026.9", "vectorbt": "vectorbt==1.2.0"}
PROFIT_TOLERANCE = 0.001  # 0.1 %


def chained_candles(count: int) -> Path:
    """The source file's segments chained to `count` one-minute candles (cached)."""
    path = CACHE / f"btc-1m-chained-{count}.csv"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    with SOURCE.open() as fh:
        rows = [[float(x) for x in row] for row in list(csv.reader(fh))[1:]]
    out: list[str] = ["timestamp,open,high,low,close,volume"]
    ts = int(rows[0][0])
    factor = 1.0
    last_close = rows[0][1]
    while len(out) <= count:
        factor = last_close / rows[0][1]
        for row in rows:
            o, h, low, c = (round(v * factor, 2) for v in row[1:5])
            out.append(f"{ts},{o},{h},{low},{c},{row[5]}")
            ts += 60_000
            last_close = c
            if len(out) > count:
                break
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(out) + "\n")
    tmp.replace(path)
    return path


def peer_python(name: str) -> Path:
    """The peer's own interpreter, installing it at its pinned version when missing."""
    python = VENVS / name / "bin" / "python"
    if not python.exists():
        print(f"installing {PEERS[name]} into {VENVS / name} ...", flush=True)
        venv.create(VENVS / name, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", PEERS[name]], check=True)
    return python


def run_child(argv: list[str], timeout: float) -> tuple[dict[str, object], float]:
    """Run one child; return its RESULT json and its own peak RSS in MB."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=CACHE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    # RUSAGE_CHILDREN is a maximum over all children, so each child reports its own peak RSS in its
    # RESULT line (the WRAPPER below adds it).
    lines = [line for line in out.decode().splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{argv[1]} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    result = json.loads(lines[-1][len("RESULT ") :])
    return result, float(result.get("peak_mb", 0.0))  # type: ignore[arg-type]


def with_peak(script: Path) -> list[str]:
    """A wrapper that runs `script` and appends the process's peak RSS to its RESULT line."""
    return ["-c", WRAPPER, str(script)]


# Runs a peer script in-process, then prints its RESULT again with the peak RSS of this process added.
WRAPPER = """
import io, json, resource, runpy, sys, contextlib
script = sys.argv[1]; sys.argv = sys.argv[1:]
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    runpy.run_path(script, run_name="__main__")
line = [l for l in buf.getvalue().splitlines() if l.startswith("RESULT ")][-1]
res = json.loads(line[7:]); res["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps(res))
"""


def ours(candles: Path, mode: str) -> tuple[dict[str, object], float]:
    """Our engine in its own process: mode fast | reference | freqtrade-fills."""
    return run_child(
        [sys.executable, *with_peak(HERE / "peers" / "ours_dca.py"), str(candles), mode, str(EXCHANGE_INFO)],
        timeout=3600,
    )


def freqtrade(candles: Path, tag: str) -> tuple[dict[str, object], float]:
    """Freqtrade's backtester on the candles."""
    work = CACHE / f"freqtrade-{tag}"
    return run_child(
        [
            str(peer_python("freqtrade")),
            *with_peak(HERE / "peers" / "freqtrade_dca.py"),
            str(candles),
            str(EXCHANGE_INFO),
            str(work),
        ],
        timeout=7200,
    )


def vectorbt(candles: Path) -> tuple[dict[str, object], float]:
    """vectorbt's from_order_func on the candles (first call compiles; the warm call is timed)."""
    script = HERE / "peers" / "vectorbt_dca.py"
    return run_child([str(peer_python("vectorbt")), *with_peak(script), str(candles)], 3600)


def agreement(ft: dict[str, object], mine: dict[str, object]) -> tuple[bool, str]:
    """Trade count, wins and losses equal; profit within 0.1 %."""
    same = all(ft[k] == mine[k] for k in ("trades", "wins", "losses"))
    ft_profit, my_profit = float(ft["profit"]), float(mine["profit"])  # type: ignore[arg-type]
    rel = abs(my_profit - ft_profit) / max(abs(ft_profit), 1e-12)
    ok = same and rel <= PROFIT_TOLERANCE
    text = (
        f"freqtrade {ft['trades']}/{ft['wins']}/{ft['losses']} profit {ft_profit:.4f}; "
        f"ours {mine['trades']}/{mine['wins']}/{mine['losses']} profit {my_profit:.4f} "
        f"(diff {rel * 100:.4f} %) -> {'AGREE' if ok else 'DISAGREE'}"
    )
    return ok, text


def machine() -> str:
    """One line naming the machine."""
    python = platform.python_version()
    return f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores, Python {python}"


def main() -> None:
    """Run everything, print the table, append it to RESULTS.md."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--skip-freqtrade", action="store_true", help="leave out the slow Freqtrade runs")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    big = chained_candles(args.candles)
    rows: list[tuple[str, float, float]] = []
    notes: list[str] = []
    disagreements = 0

    fast, fast_mb = ours(big, "fast")
    rows.append(("ours fast path (warm)", float(fast["candles_per_s"]), fast_mb))  # type: ignore[arg-type]
    notes.append(f"fast path first call {float(fast['first_seconds']):.2f} s")  # type: ignore[arg-type]
    ref, ref_mb = ours(big, "reference")
    ref_speed = float(ref["candles_per_s"])  # type: ignore[arg-type]
    rows.append(("ours reference engine (Decimal)", ref_speed, ref_mb))
    vb, vb_mb = vectorbt(big)
    rows.append(("vectorbt 1.2 from_order_func (warm)", vb["candles"] / vb["seconds"], vb_mb))  # type: ignore[operator]
    if not args.skip_freqtrade:
        for tag, path in (("file", SOURCE), ("chained", big)):
            ft, ft_mb = freqtrade(path, tag)
            mine, _ = ours(path, "freqtrade-fills")
            ok, text = agreement(ft, mine)
            disagreements += not ok
            notes.append(f"agreement on {path.name}: {text}")
            if tag == "chained":
                rows.append(("freqtrade 2026.9", ft["candles"] / ft["seconds"], ft_mb))  # type: ignore[operator]
    print(f"\n{'engine':40} {'candles/s':>14} {'peak MB':>9}")
    for name, speed, mb in rows:
        print(f"{name:40} {speed:14,.0f} {mb:9.0f}")
    by = {name.split(" (")[0]: speed for name, speed, _ in rows}
    fast_speed = rows[0][1]
    ratios = [f"fast/vectorbt {fast_speed / rows[2][1]:,.0f}x"]
    if "freqtrade 2026.9" in by:
        ratios.append(f"fast/freqtrade {fast_speed / by['freqtrade 2026.9']:,.0f}x")
    print("; ".join(ratios))
    for note in notes:
        print(note)
    if args.no_record:
        if disagreements:
            raise SystemExit(f"{disagreements} Freqtrade agreement check(s) failed")
        return
    result = "; ".join(f"{n}: {s:,.0f} candles/s, {m:.0f} MB" for n, s, m in rows)
    result += "; " + "; ".join(ratios) + "; " + "; ".join(notes)
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d} | backtest speed, DCA example rules, {args.candles:,} 1m candles "
        f"| {result} | `.venv/bin/python benchmarks/backtest_speed.py` | {machine()} |\n"
    )
    with (HERE / "RESULTS.md").open("a") as fh:
        fh.write(line)
    if disagreements:
        raise SystemExit(f"{disagreements} Freqtrade agreement check(s) failed")


if __name__ == "__main__":
    main()
