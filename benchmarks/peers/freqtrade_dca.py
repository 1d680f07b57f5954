"""Run the benchmark's DCA rules in Freqtrade's own backtester, offline; print one JSON line.

Runs inside Freqtrade's virtual environment (benchmarks/.venvs/freqtrade), started by
benchmarks/backtest_speed.py:

    python freqtrade_dca.py CANDLES.csv EXCHANGE_INFO.json WORKDIR

The machine reaches no exchange, so ccxt's market list for Binance is answered from the recorded
`exchangeInfo` file (the same precision our engine rounds to); nothing else of Freqtrade is changed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

DCA_STRATEGY = '''
from freqtrade.strategy import IStrategy


class DcaBench(IStrategy):
    """Buy at once; add-ons at -2/-4/-6 % of the first entry, each 1.5x the previous; exit +1 %; stop -8 %."""

    INTERFACE_VERSION = 3
    timeframe = "1m"
    minimal_roi = {"0": 0.01}
    stoploss = -0.08
    position_adjustment_enable = True
    max_entry_position_adjustment = 3
    use_exit_signal = False
    startup_candle_count = 0

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe["exit_long"] = 0
        return dataframe

    def adjust_trade_position(self, trade, current_time, current_rate, current_profit, min_stake,
                              max_stake, current_entry_rate, current_exit_rate, current_entry_profit,
                              current_exit_profit, **kwargs):
        entries = trade.select_filled_orders(trade.entry_side)
        filled = len(entries)
        if filled > 3:
            return None
        first = entries[0].safe_price
        if current_rate <= first * (1 - 0.02 * filled):
            return 150 * 1.5 ** (filled - 1)
        return None
'''


def offline_binance_markets(exchange_info_path: Path) -> None:
    """Answer ccxt's Binance market list from the recorded exchangeInfo (sync and async clients)."""
    import ccxt
    import ccxt.async_support as ccxt_async

    symbols = json.loads(exchange_info_path.read_text())["symbols"]

    def markets(self: object) -> list[dict[str, object]]:
        # fetch_markets normally fills these from margin endpoints first; spot only needs them empty.
        self.options.setdefault("crossMarginPairsData", [])  # type: ignore[attr-defined]
        self.options.setdefault("isolatedMarginPairsData", [])  # type: ignore[attr-defined]
        return [self.parse_market(s) for s in symbols]  # type: ignore[attr-defined]

    async def markets_async(self: object, params: object = None) -> list[dict[str, object]]:
        return markets(self)

    async def no_currencies(self: object, params: object = None) -> dict[str, object]:
        return {}

    ccxt.binance.fetch_markets = lambda self, params=None: markets(self)
    ccxt.binance.fetch_currencies = lambda self, params=None: {}
    ccxt_async.binance.fetch_markets = markets_async
    ccxt_async.binance.fetch_currencies = no_currencies


def write_data(candles_csv: Path, datadir: Path) -> int:
    """Freqtrade's feather data file for BTC/USDT 1m from our CSV; returns the row count."""
    import pandas as pd

    frame = pd.read_csv(candles_csv)
    frame["date"] = pd.to_datetime(frame["timestamp"], unit="ms", utc=True)
    frame = frame[["date", "open", "high", "low", "close", "volume"]]
    (datadir / "binance").mkdir(parents=True, exist_ok=True)
    frame.to_feather(datadir / "binance" / "BTC_USDT-1m.feather")
    return len(frame)


def main() -> None:
    """Run the backtest and print {candles, seconds, trades, wins, losses, profit, fees, trade list}."""
    candles_csv, exchange_info, workdir = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    workdir.mkdir(parents=True, exist_ok=True)
    offline_binance_markets(exchange_info)
    datadir = workdir / "data"
    rows = write_data(candles_csv, datadir)
    (workdir / "strategies").mkdir(exist_ok=True)
    (workdir / "strategies" / "dca_bench.py").write_text(DCA_STRATEGY)

    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode
    from freqtrade.optimize.backtesting import Backtesting

    config_file = workdir / "config.json"
    config_file.write_text(
        json.dumps(
            {
                "trading_mode": "spot",
                "max_open_trades": 1,
                "stake_currency": "USDT",
                "stake_amount": 100,
                "dry_run": True,
                "dry_run_wallet": 1_000_000,
                "timeframe": "1m",
                "fee": 0.001,
                "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": ["BTC/USDT"]},
                "pairlists": [{"method": "StaticPairList"}],
                "entry_pricing": {"price_side": "same"},
                "exit_pricing": {"price_side": "same"},
                "dataformat_ohlcv": "feather",
                "user_data_dir": str(workdir),
                "datadir": str(datadir / "binance"),
                "strategy": "DcaBench",
                "strategy_path": str(workdir / "strategies"),
                "export": "none",
                "internals": {},
            }
        )
    )
    args = {"config": [str(config_file)], "strategy": "DcaBench", "export": "none"}
    config = Configuration(args, RunMode.BACKTEST).get_config()
    started = time.perf_counter()
    backtesting = Backtesting(config)
    backtesting.start()
    seconds = time.perf_counter() - started
    result = backtesting.results["strategy"]["DcaBench"]
    trades = result["trades"]
    out = {
        "candles": rows,
        "seconds": seconds,
        "trades": len(trades),
        "wins": sum(1 for t in trades if t["profit_abs"] > 0),
        "losses": sum(1 for t in trades if t["profit_abs"] <= 0),
        "profit": sum(t["profit_abs"] for t in trades),
        "fees": sum(t["fee_open"] * t["stake_amount"] for t in trades),
        "exits": [
            {
                "open": t["open_date"],
                "close": t["close_date"],
                "open_rate": t["open_rate"],
                "close_rate": t["close_rate"],
                "amount": t["amount"],
                "profit_abs": t["profit_abs"],
                "entries": t.get("nr_of_successful_entries"),
                "exit_reason": t["exit_reason"],
            }
            for t in trades
        ],
    }
    print("RESULT " + json.dumps(out, default=str))


if __name__ == "__main__":
    main()
