"""Wilder's RSI on hand-computed series."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewarden.domain.indicators import rsi


def test_rsi_hand_computed_period_2() -> None:
    closes = [D(x) for x in (1, 2, 3, 2, 3, 4)]
    # changes +1 +1 -1 +1 +1; first averages 1/0 -> 100; then Wilder smoothing over 2:
    # gain .5 loss .5 -> 50; gain .75 loss .25 -> 75; gain .875 loss .125 -> 87.5
    assert rsi(closes, 2) == [None, None, D(100), D(50), D(75), D("87.5")]


def test_rsi_flat_falling_and_short_series() -> None:
    assert rsi([D(5)] * 4, 2)[-1] == D(50)
    assert rsi([D(4), D(3), D(2)], 2)[-1] == D(0)
    assert rsi([D(1), D(2)], 14) == [None, None]
    with pytest.raises(ValueError, match="at least 1"):
        rsi([D(1)], 0)
