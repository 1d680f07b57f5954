"""Run the benchmark's DCA rules through our backtest engines; print one JSON line.

Started by benchmarks/backtest_speed.py with the project's interpreter, one process per mode:

    python ours_dca.py CANDLES.csv fast|reference|freqtrade-fills EXCHANGE_INFO.json

`fast` times a first call (the numba compile cache warm on disk, as a user's second run) and the best
of five warm calls; `reference` one Decimal run; `freqtrade-fills` the fast path under Freqtrade's
backtesting conventions, for the agreement check. Lot and tick size come from Binance's recorded
BTCUSDT exchangeInfo, the fee is 0.1 % (as Freqtrade's run is given).
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from tradewarden.domain.fills import Fees, MarketRules
from tradewarden.domain.strategies.base import Context
from tradewarden.domain.strategies.dca import DESIGN_EXAMPLE
from tradewarden.services.backtest import load_candles, run_fast, run_reference

EXAMPLE = dict(DESIGN_EXAMPLE)


def binance_rules(exchange_info: Path) -> MarketRules:
    """Tick and lot size of BTCUSDT from the recorded exchangeInfo."""
    symbol = json.loads(exchange_info.read_text())["symbols"][0]
    filters = {f["filterType"]: f for f in symbol["filters"]}
    return MarketRules(
        tick_size=Decimal(filters["PRICE_FILTER"]["tickSize"]).normalize(),
        lot_size=Decimal(filters["LOT_SIZE"]["stepSize"]).normalize(),
    )


def main() -> None:
    """Run one mode and print its figures."""
    path, mode, exchange_info = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    context = Context(fees=Fees(taker=Decimal("0.001")), rules=binance_rules(exchange_info))
    candles = load_candles(path, timeframe="1m")
    out: dict[str, object] = {}
    if mode == "fast":
        started = time.perf_counter()
        result = run_fast(candles, "dca", EXAMPLE, "ours", context=context)
        out["first_seconds"] = time.perf_counter() - started
        best = min(run_fast(candles, "dca", EXAMPLE, "ours", context=context).seconds for _ in range(5))
        out["seconds"] = best
    elif mode == "reference":
        result = run_reference(candles, "dca", EXAMPLE, "ours", context=context)
        out["seconds"] = result.seconds
    elif mode == "freqtrade-fills":
        result = run_fast(candles, "dca", EXAMPLE, "freqtrade", context=context)
        out["seconds"] = result.seconds
    else:
        raise SystemExit(f"unknown mode {mode!r}: use fast, reference or freqtrade-fills")
    figures = result.to_json()
    out.update({k: figures[k] for k in ("candles", "trades", "wins", "losses", "profit")})
    out["candles_per_s"] = figures["candles"] / float(out["seconds"])  # type: ignore[operator,arg-type]
    print("RESULT " + json.dumps(out, default=str))


if __name__ == "__main__":
    main()
