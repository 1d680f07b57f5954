"""Indicators on price series (pure): the caller computes them and hands values to `decide`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

HUNDRED = Decimal(100)


def rsi(closes: Sequence[Decimal], period: int = 14) -> list[Decimal | None]:
    """Wilder's RSI of each close (None until `period` changes are known); 100 when there was no loss."""
    if period < 1:
        raise ValueError(f"RSI period must be at least 1, got {period}")
    out: list[Decimal | None] = [None] * len(closes)
    if len(closes) <= period:
        return out
    gains = losses = Decimal(0)
    for i in range(1, period + 1):
        change = closes[i] - closes[i - 1]
        gains += max(change, Decimal(0))
        losses += max(-change, Decimal(0))
    avg_gain, avg_loss = gains / period, losses / period
    out[period] = _value(avg_gain, avg_loss)
    for i in range(period + 1, len(closes)):
        change = closes[i] - closes[i - 1]
        avg_gain = (avg_gain * (period - 1) + max(change, Decimal(0))) / period
        avg_loss = (avg_loss * (period - 1) + max(-change, Decimal(0))) / period
        out[i] = _value(avg_gain, avg_loss)
    return out


def _value(avg_gain: Decimal, avg_loss: Decimal) -> Decimal:
    if avg_loss == 0:
        return HUNDRED if avg_gain > 0 else Decimal(50)
    return HUNDRED - HUNDRED / (1 + avg_gain / avg_loss)
