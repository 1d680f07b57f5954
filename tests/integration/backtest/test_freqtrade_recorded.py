"""`--fills freqtrade` against a recorded run of Freqtrade 2026.9 itself (tests/data/freqtrade/*.json).

The record is what Freqtrade's backtester printed for the DESIGN.md DCA rules (its strategy is in
benchmarks/peers/freqtrade_dca.py) on btc-perp-1m-2022-01.csv, with Binance BTC/USDT precision (tick
0.01, lot 0.00001) and fee 0.1 %. Both of our engines must give the same trades: open and close times,
exit prices and amounts, reasons, and profit per trade to Freqtrade's 8 decimals.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tradewarden.domain.fills import Fees, MarketRules
from tradewarden.domain.strategies.base import Context
from tradewarden.domain.strategies.dca import DESIGN_EXAMPLE
from tradewarden.services.backtest import runner
from tradewarden.services.backtest.candles import load_candles
from tradewarden.services.backtest.results import BacktestResult

# The first test in a fresh checkout may compile the numba kernels: allow more than the default 120 s.
pytestmark = pytest.mark.timeout(900)

DATA = Path(__file__).resolve().parents[2] / "data"
RECORD = json.loads((DATA / "freqtrade" / "btc-perp-1m-2022-01.json").read_text())
EXAMPLE = dict(DESIGN_EXAMPLE)
BINANCE_BTC_USDT = Context(
    fees=Fees(maker=Decimal("0.001"), taker=Decimal("0.001")),
    rules=MarketRules(tick_size=Decimal("0.01"), lot_size=Decimal("0.00001")),
)
REASONS = {"roi": "take_profit", "stop_loss": "stop_loss", "force_exit": "end"}


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_same_trades_as_freqtrade(engine: str) -> None:
    candles = load_candles(DATA / "candles" / "btc-perp-1m-2022-01.csv")
    run = runner.run_reference if engine == "reference" else runner.run_fast
    result: BacktestResult = run(candles, "dca", EXAMPLE, "freqtrade", context=BINANCE_BTC_USDT)
    assert (result.trades, result.wins, result.losses) == (RECORD["trades"], RECORD["wins"], RECORD["losses"])
    rows = result.fills.rows()
    entries = [r for r in rows if r["side"] == "buy" and r["kind"] == "base"]
    exits = [r for r in rows if r["side"] == "sell"]
    assert len(exits) == len(RECORD["exits"])
    for mine_in, mine_out, theirs in zip(entries, exits, RECORD["exits"], strict=True):
        assert int(candles.time[mine_in["candle"]]) == _ms(theirs["open"])
        assert int(candles.time[mine_out["candle"]]) == _ms(theirs["close"])
        assert mine_out["kind"] == REASONS[theirs["exit_reason"]]
        assert mine_out["price"] == pytest.approx(theirs["close_rate"], rel=1e-12)
        assert mine_out["qty"] == pytest.approx(theirs["amount"], rel=1e-12)
        assert mine_out["pnl"] == pytest.approx(theirs["profit_abs"], abs=1e-8)
    assert result.profit == pytest.approx(RECORD["profit"], rel=1e-6)
