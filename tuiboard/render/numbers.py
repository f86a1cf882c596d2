"""Number formatting and tick placement for axes and tables.

Owns: compact tick labels, table values, "nice" tick positions, and time-axis ticks/labels.
Must not import: textual, rich, tuiboard.ui.
"""

from __future__ import annotations

import math
import time

_SUFFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _trim(s: str) -> str:
    """Drop trailing zeros of a fixed-point mantissa: "1.50" -> "1.5", "2.0" -> "2"."""
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _sig(v: float, digits: int) -> str:
    """`v` (0.001 <= |v| < 1000 or 0) with `digits` significant digits, no exponent."""
    if v == 0:
        return "0"
    exp = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - exp)
    s = _trim(f"{v:.{decimals}f}")
    return "0" if s in ("-0", "") else s


def fmt_tick(v: float, precision: int = 3) -> str:
    """Compact label: 0, 1.2k, 3.4M, 3e-4, 0.25, -1.5, nan, inf.

    `precision` is the number of significant digits (raise it when neighbouring ticks collide).
    """
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    a = abs(v)
    # Round first so 999.96 becomes "1k", not "1e+03".
    r = float(f"{v:.{precision}g}")
    if math.isinf(r):  # -1.795e308 rounds past the largest float: keep the value as it is
        r = v
    a = abs(r)
    if a >= 1e18:
        return _exp(r, precision)
    for scale, suffix in _SUFFIXES:
        if a >= scale:
            return _sig(r / scale, precision) + suffix
    if a >= 0.01:
        return _sig(r, precision)
    return _exp(r, precision)


def _exp(v: float, precision: int) -> str:
    """3e-4, -2.5e-5, 1.2e+20 -> 1.2e20."""
    mant, _, exp = f"{v:.{max(precision - 1, 0)}e}".partition("e")
    return f"{_trim(mant)}e{int(exp)}"


def fmt_value(v: float) -> str:
    """Table value: 6 significant digits (0.123457, 12345.7, 1.23457e+07), nan, inf."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"


def nice_step(span: float, n: int) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about `n` intervals over `span`
    (d3's rule: the multiplier nearest the raw step on a log scale)."""
    raw = span / max(n, 1)
    if raw <= 0 or not math.isfinite(raw):
        return 0.0
    power = math.floor(math.log10(raw))
    mag = 10.0**power
    error = raw / mag
    if error >= math.sqrt(50):
        factor = 10.0
    elif error >= math.sqrt(10):
        factor = 5.0
    elif error >= math.sqrt(2):
        factor = 2.0
    else:
        factor = 1.0
    return factor * mag


def nice_ticks(lo: float, hi: float, n: int) -> list[float]:
    """About `n` round values within [lo, hi] (inclusive), ascending; [lo] when lo == hi."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or n <= 0:
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [lo]
    step = nice_step(hi - lo, n)
    if not step > 0 or not math.isfinite(step):  # near float max, the span overflows
        return [lo]
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    out = []
    for k in range(int(first), int(last) + 1):
        t = k * step
        # Kill float noise such as 0.30000000000000004 and -0.0.
        t = round(t, max(0, 12 - math.floor(math.log10(step))))
        out.append(t + 0.0)
    return out


# Time-axis steps in seconds: the units a person reads on a clock.
_TIME_STEPS = (
    1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800, 2592000, 31536000,
)  # fmt: skip


def time_step(span: float, n: int) -> float:
    """A clock-friendly step (1s, 5s, 1m, 15m, 1h, 6h, 1d, ...) nearest (on a log scale) to
    giving `n` intervals."""
    raw = span / max(n, 1)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    if raw > _TIME_STEPS[-1]:
        return nice_step(span, n)
    return float(min(_TIME_STEPS, key=lambda s: abs(math.log(s / raw))))


def time_ticks(lo: float, hi: float, n: int, offset: float = 0.0) -> list[float]:
    """Ticks for a time axis at round clock values; `offset` shifts the grid (for wall time,
    the local UTC offset so that ticks fall on local hours)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or n <= 0:
        return []
    if hi == lo:
        return [lo]
    step = time_step(hi - lo, n)
    first = math.ceil((lo + offset) / step - 1e-9)
    last = math.floor((hi + offset) / step + 1e-9)
    return [k * step - offset for k in range(int(first), int(last) + 1)]


def fmt_bytes(n: int) -> str:
    """A byte count as people read it: "812 B", "1.2 kB", "3.4 MB" (decimal units)."""
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def fmt_duration(seconds: float) -> str:
    """Relative time label: 0, 45s, 1m30s, 2h, 1h05m, 3d, 2d04h."""
    if not math.isfinite(seconds):
        return fmt_tick(seconds)
    sign = "-" if seconds < 0 else ""
    s = round(abs(seconds))
    if s < 60:
        return f"{sign}{s}s" if s else "0"
    if s < 3600:
        m, sec = divmod(s, 60)
        return f"{sign}{m}m{sec:02d}s" if sec else f"{sign}{m}m"
    if s < 86400:
        h, rest = divmod(s, 3600)
        m = rest // 60
        return f"{sign}{h}h{m:02d}m" if m else f"{sign}{h}h"
    d, rest = divmod(s, 86400)
    h = rest // 3600
    return f"{sign}{d}d{h:02d}h" if h else f"{sign}{d}d"


def fmt_wall(t: float, span: float = 3600.0) -> str:
    """Wall-clock label in local time: HH:MM, HH:MM:SS for spans under two minutes,
    MM-DD HH:MM... shortened to MM-DD for spans over three days."""
    if not math.isfinite(t):
        return fmt_tick(t)
    lt = time.localtime(t)
    if span > 3 * 86400:
        return time.strftime("%m-%d", lt)
    if span < 120:
        return time.strftime("%H:%M:%S", lt)
    return time.strftime("%H:%M", lt)


def utc_offset(t: float) -> float:
    """Local UTC offset in seconds at time `t` (so wall-time ticks land on local hours)."""
    if not math.isfinite(t):
        return 0.0
    return float(time.localtime(t).tm_gmtoff)
