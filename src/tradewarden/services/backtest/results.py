"""Backtest results: the fill records both engines produce and the figures computed from them.

Both the reference engine and the fast path hand over the same thing: a `Fills` table (one row per fill,
numpy arrays) plus the Recovery Mode spans. `summarize` turns that and the candles into the contract
object of `backtest run --json` (DESIGN.md), so the two engines can only differ in their fills, which the
differential test compares.

Definitions (the same for every strategy and fill convention):
- trades: closed round trips, as the domain counts them (Snapshot.trades). DCA: a group from its base
  order to its exit; grid: each sell. The Freqtrade convention also counts the trade it force-closes at
  the end, as Freqtrade does.
- wins / losses: trades whose profit after fees is above zero / the others (the domain's rule, also
  used for the Freqtrade convention, where Freqtrade's own report would call a zero-profit trade a draw).
- groups: DCA groups opened; grid: 1 (one ladder) once it has traded.
- addons_max: the most add-ons any DCA group used.
- profit: equity at the last close minus the budget: realised profit after fees plus what is still
  held valued at the last close (before exit fees).
- profit_pct: profit as a percentage of the capital the settings may commit (the margin budget).
- max_drawdown_pct: the deepest fall of equity (budget + realised + open profit, at candle closes) from
  its previous peak, as a percentage of that peak.
- max_margin_used: the largest cost basis held at once (after each fill), divided by the leverage.
- recovery_time_pct: share of the candles during which a DCA group was in Recovery Mode.
- sharpe: annualised Sharpe ratio of daily equity returns (per-candle returns when under 3 days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from tradewarden.services.backtest.candles import Candles

# Fill kinds, shared by both engines (stored as int8 in Fills.kind).
BASE, ADDON, TAKE_PROFIT, STOP_LOSS, END, GRID_BUY, GRID_SELL, INVENTORY = range(8)
KIND_NAMES = ("base", "addon", "take_profit", "stop_loss", "end", "grid_buy", "grid_sell", "inventory")
EXIT_KINDS = (TAKE_PROFIT, STOP_LOSS, END)

DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS


@dataclass
class Fills:
    """One row per fill: candle index, kind, side (+1 buy, -1 sell), price, base quantity, fee, group.

    `pnl` is the realised profit a fill closes (exits and grid sells; 0 elsewhere), after both fees.
    """

    candle: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int8]
    side: npt.NDArray[np.int8]
    price: npt.NDArray[np.float64]
    qty: npt.NDArray[np.float64]
    fee: npt.NDArray[np.float64]
    group: npt.NDArray[np.int64]
    pnl: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.candle.shape[0])

    @staticmethod
    def from_rows(rows: list[tuple[int, int, int, float, float, float, int, float]]) -> Fills:
        """Fills from Python rows (the reference engine collects them one by one)."""
        if not rows:
            cols: list[list[Any]] = [[] for _ in range(8)]
        else:
            cols = [list(c) for c in zip(*rows, strict=True)]
        return Fills(
            np.asarray(cols[0], dtype=np.int64),
            np.asarray(cols[1], dtype=np.int8),
            np.asarray(cols[2], dtype=np.int8),
            np.asarray(cols[3], dtype=np.float64),
            np.asarray(cols[4], dtype=np.float64),
            np.asarray(cols[5], dtype=np.float64),
            np.asarray(cols[6], dtype=np.int64),
            np.asarray(cols[7], dtype=np.float64),
        )

    def rows(self) -> list[dict[str, Any]]:
        """The fills as dictionaries (for reports and readable test failures)."""
        return [
            {
                "candle": int(self.candle[i]),
                "kind": KIND_NAMES[int(self.kind[i])],
                "side": "buy" if self.side[i] > 0 else "sell",
                "price": float(self.price[i]),
                "qty": float(self.qty[i]),
                "fee": float(self.fee[i]),
                "group": int(self.group[i]),
                "pnl": float(self.pnl[i]),
            }
            for i in range(len(self))
        ]


@dataclass
class BacktestResult:
    """What one backtest produced: the contract figures, the fills and the equity curve."""

    strategy: str
    fills_convention: str
    engine: str
    candles: int
    start_ms: int
    end_ms: int
    trades: int
    wins: int
    losses: int
    groups: int
    addons_max: int
    profit: float
    profit_pct: float
    fees: float
    max_drawdown_pct: float
    max_margin_used: float
    recovery_time_pct: float
    sharpe: float
    annualised_return_pct: float
    capital: float
    seconds: float
    fills: Fills
    equity: npt.NDArray[np.float64] = field(repr=False)

    @property
    def candles_per_s(self) -> float:
        """Candles replayed per second of engine time (loading the file not counted)."""
        return self.candles / self.seconds if self.seconds > 0 else float("inf")

    def to_json(self) -> dict[str, Any]:
        """Exactly the `backtest run --json` object of DESIGN.md."""
        return {
            "strategy": self.strategy,
            "fills": self.fills_convention,
            "candles": self.candles,
            "from": _iso(self.start_ms),
            "to": _iso(self.end_ms),
            "trades": self.trades,
            "wins": self.wins,
            "losses": self.losses,
            "groups": self.groups,
            "addons_max": self.addons_max,
            "profit": round(self.profit, 8),
            "profit_pct": round(self.profit_pct, 6),
            "fees": round(self.fees, 8),
            "max_drawdown_pct": round(self.max_drawdown_pct, 6),
            "max_margin_used": round(self.max_margin_used, 8),
            "recovery_time_pct": round(self.recovery_time_pct, 6),
            "sharpe": round(self.sharpe, 6) if math.isfinite(self.sharpe) else None,
            "candles_per_s": round(self.candles_per_s, 1) if math.isfinite(self.candles_per_s) else None,
        }


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def equity_curve(candles: Candles, fills: Fills, capital: float) -> npt.NDArray[np.float64]:
    """Equity at each candle's close: budget + cash flows of the fills so far + position at the close."""
    n = len(candles)
    cash = np.zeros(n, dtype=np.float64)
    pos = np.zeros(n, dtype=np.float64)
    if len(fills):
        signed_qty = fills.side.astype(np.float64) * fills.qty
        np.add.at(cash, fills.candle, -signed_qty * fills.price - fills.fee)
        np.add.at(pos, fills.candle, signed_qty)
    return np.asarray(capital + np.cumsum(cash) + np.cumsum(pos) * candles.close, dtype=np.float64)


def _max_drawdown_pct(equity: npt.NDArray[np.float64]) -> float:
    if equity.size == 0:
        return 0.0
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (peak - equity) / peak, 0.0)
    return float(dd.max()) * 100.0


def _sharpe(candles: Candles, equity: npt.NDArray[np.float64]) -> float:
    if equity.size < 3:
        return 0.0
    span = int(candles.time[-1] - candles.time[0])
    if span >= 3 * DAY_MS and candles.timeframe_ms <= DAY_MS:
        day = candles.time // DAY_MS
        last_of_day = np.flatnonzero(np.diff(day)) if day.size > 1 else np.array([], dtype=np.int64)
        points = np.append(equity[last_of_day], equity[-1])
        periods_per_year = 365.0
    else:
        points = equity
        periods_per_year = YEAR_MS / candles.timeframe_ms
    if points.size < 3 or (points <= 0).any():
        return 0.0
    returns = np.diff(points) / points[:-1]
    sd = float(returns.std(ddof=1))
    if sd == 0.0 or not math.isfinite(sd):
        return 0.0
    return float(returns.mean()) / sd * math.sqrt(periods_per_year)


def _annualised_pct(growth: float, span_ms: int) -> float:
    """Compound yearly return of `growth` over `span_ms`; very short spans overflow to +-inf."""
    if span_ms <= 0:
        return 0.0
    if growth <= 0:
        return -100.0
    try:
        return (math.exp(math.log(growth) * YEAR_MS / span_ms) - 1.0) * 100.0
    except OverflowError:
        return math.inf


def summarize(
    *,
    strategy: str,
    fills_convention: str,
    engine: str,
    candles: Candles,
    fills: Fills,
    counts: tuple[int, int, int, int, int],
    recovery_candles: int,
    capital: float,
    max_margin_used: float,
    seconds: float,
) -> BacktestResult:
    """The contract figures from the fills and the engine's counts (trades, wins, losses, groups,
    addons_max); both engines call this, so they can only differ in what they hand over."""
    n = len(candles)
    trades, wins, losses, groups, addons_max = counts
    equity = equity_curve(candles, fills, capital)
    profit = float(equity[-1] - capital) if n else 0.0
    span_ms = int(candles.time[-1] - candles.time[0]) + candles.timeframe_ms if n else 0
    growth = 1.0 + profit / capital if capital > 0 else 1.0
    annual = _annualised_pct(growth, span_ms)
    return BacktestResult(
        strategy=strategy,
        fills_convention=fills_convention,
        engine=engine,
        candles=n,
        start_ms=int(candles.time[0]) if n else 0,
        end_ms=int(candles.time[-1]) if n else 0,
        trades=trades,
        wins=wins,
        losses=losses,
        groups=groups,
        addons_max=addons_max,
        profit=profit,
        profit_pct=profit / capital * 100.0 if capital > 0 else 0.0,
        fees=float(fills.fee.sum()),
        max_drawdown_pct=_max_drawdown_pct(equity),
        max_margin_used=max_margin_used,
        recovery_time_pct=recovery_candles / n * 100.0 if n else 0.0,
        sharpe=_sharpe(candles, equity),
        annualised_return_pct=annual,
        capital=capital,
        seconds=seconds,
        fills=fills,
        equity=equity,
    )
