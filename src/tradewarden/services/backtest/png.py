"""A tiny PNG writer for one line chart (numpy raster + zlib), so `--png` needs no plotting library.

matplotlib would add tens of megabytes and a pinned dependency for a single curve; a line on a light
grid is a few dozen lines of numpy. The file is a valid 8-bit RGB PNG (signature, IHDR, IDAT, IEND).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

BACKGROUND = (255, 255, 255)
GRID = (226, 232, 240)
LINE = (37, 99, 235)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(pixels: npt.NDArray[np.uint8]) -> bytes:
    """PNG bytes of an (height, width, 3) uint8 RGB image."""
    height, width, _ = pixels.shape
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), pixels.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + _chunk(b"IEND", b"")
    )


def line_chart_png(values: npt.NDArray[np.float64], width: int = 900, height: int = 300) -> bytes:
    """A line chart of `values` (left to right) on a light grid, 2 px wide, margins of 10 px."""
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    margin = 10
    for k in range(5):  # horizontal grid lines
        img[margin + k * (height - 2 * margin) // 4, margin : width - margin] = GRID
    vals = np.asarray(values, dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return encode_png(img)
    lo, hi = float(vals.min()), float(vals.max())
    span = hi - lo or 1.0
    xs = np.linspace(margin, width - margin - 1, max(vals.size, 2))
    ys = (height - margin - 1) - (vals - lo) / span * (height - 2 * margin - 1)
    if vals.size == 1:
        ys = np.array([ys[0], ys[0]])
    # each segment: sample it densely enough to leave no gap, then stamp a 2x2 dot per sample
    for (x0, y0), (x1, y1) in zip(
        zip(xs[:-1], ys[:-1], strict=True), zip(xs[1:], ys[1:], strict=True), strict=True
    ):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 2
        px = np.linspace(x0, x1, steps).round().astype(np.int64)
        py = np.linspace(y0, y1, steps).round().astype(np.int64)
        for dx in (0, 1):
            for dy in (0, 1):
                img[np.clip(py + dy, 0, height - 1), np.clip(px + dx, 0, width - 1)] = LINE
    return encode_png(img)
