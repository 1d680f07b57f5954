# mypy: disable-error-code="no-any-return"
# (numba kernels index float arrays, which the numpy stubs type as Any)
"""Compiled helpers the reference engine uses to skip candles where nothing can happen (numba)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

NO_WAKE = np.iinfo(np.int64).max


@njit(cache=True, nogil=True)
def next_active(
    low: npt.NDArray[np.float64],
    high: npt.NDArray[np.float64],
    time: npt.NDArray[np.int64],
    start: int,
    lo: float,
    hi: float,
    wake: int,
) -> int:  # pragma: no cover - compiled; covered through the engine's tests
    """First candle index >= start whose range reaches lo or hi, or whose time reaches wake (else n)."""
    n = low.shape[0]
    for i in range(start, n):
        if low[i] <= lo or high[i] >= hi or time[i] >= wake:
            return i
    return n
