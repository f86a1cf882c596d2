"""One-line sparklines for tables (the tag x run overview).

Owns: `sparkline`. Must not import: textual, tuiboard.ui.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

_BARS = np.array([ord(c) for c in "▁▂▃▄▅▆▇█"], dtype=np.uint32)


def sparkline(y: np.ndarray, width: int, color: str | None = None) -> Text:
    """`y` as exactly `width` cells of ▁▂▃▄▅▆▇█ (blank where a bucket has no finite value).

    The points are split into `width` equal buckets (a short series is stretched: a point
    covers several cells). Each bucket shows its maximum, so a single spike survives, except the
    bucket(s) holding the series minimum, which show it, so a dip survives too. Levels are
    scaled from the series' finite min to max; a constant series sits mid-height.
    """
    if width <= 0:
        return Text("", no_wrap=True, overflow="crop")
    v = np.asarray(y, dtype=np.float64)
    n = v.shape[0]
    style = color or ""
    if n == 0:
        return Text(" " * width, no_wrap=True, overflow="crop")
    finite = np.isfinite(v)
    if not finite.any():
        return Text(" " * width, no_wrap=True, overflow="crop")
    lo = float(v[finite].min())
    hi = float(v[finite].max())
    # Bucket edges over point indexes; every bucket holds at least one point.
    edges = (np.arange(width + 1) * n) // width
    starts = edges[:-1]
    if n >= width:
        fin_v_hi = np.where(finite, v, -np.inf)
        fin_v_lo = np.where(finite, v, np.inf)
        bmax = np.maximum.reduceat(fin_v_hi, starts)
        bmin = np.minimum.reduceat(fin_v_lo, starts)
    else:
        idx = np.minimum(starts, n - 1)
        bmax = np.where(finite[idx], v[idx], -np.inf)
        bmin = np.where(finite[idx], v[idx], np.inf)
    has = np.isfinite(bmax)
    # A bucket that holds the series minimum shows it (dips survive as well as spikes).
    show = np.where(bmin == lo, bmin, bmax)
    if hi > lo:
        level = np.clip(((show - lo) / (hi - lo) * 7.0).round(), 0, 7).astype(np.int64)
    else:
        level = np.full(width, 3, dtype=np.int64)
    codes = np.where(has, _BARS[np.where(has, level, 0)], 0x20).astype(np.uint32)
    return Text(codes.tobytes().decode("utf-32-le"), style=style, no_wrap=True, overflow="crop")
