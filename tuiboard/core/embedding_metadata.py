"""An embedding's metadata.tsv, read by the rules of TensorBoard's projector frontend.

Owns: `Column`, `Metadata`, `read_metadata`, `parse_metadata` and `js_number`.
Must not import: textual, rich, tuiboard.render, tuiboard.ui.

TensorBoard's rules (`data-provider.ts` `parseMetadata` / `analyzeMetadata`): blank lines are
skipped; the first line is a header exactly when it has a tab, else the one column is "label";
an empty field is missing. A column is numeric when every present value is a JavaScript number
(`Number(v)` not NaN); it has "too many unique values" past 50 (NUM_COLORS_COLOR_MAP), and is then
coloured by a gradient when numeric and not coloured at all otherwise. Unique values keep
JavaScript's `Object.keys` order (integer-like keys ascending, then first appearance): that order
picks the colours. The label column is the first non-numeric one (else the first). A trailing
carriage return is dropped (TensorBoard keeps it in the last column's values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tuiboard.core import source
from tuiboard.core.types import ReadWarning

MAX_METADATA_BYTES = 256 * 1024 * 1024
MAX_UNIQUE = 50
"""Past this many unique values a column is not categorical (NUM_COLORS_COLOR_MAP)."""


@dataclass(frozen=True, slots=True, eq=False)
class Column:
    """One metadata column, with what TensorBoard's `analyzeMetadata` finds in it."""

    name: str
    values: tuple[str | None, ...]
    """One per metadata row; None = missing (an empty field)."""
    numeric: bool
    """Every present value is a JavaScript number."""
    numbers: np.ndarray
    """float64 per row: the value as a number, NaN when missing or not numeric."""
    too_many: bool
    """More than MAX_UNIQUE unique values."""
    categories: tuple[str, ...]
    """The unique values in TensorBoard's order (empty when too_many)."""
    codes: np.ndarray
    """int32 per row: index into categories, -1 when missing (or too_many)."""
    lo: float = float("nan")
    hi: float = float("nan")
    """The numeric range (NaN when not numeric)."""

    @property
    def colourable(self) -> bool:
        """TensorBoard offers it under "Color by": categorical, or numeric (a gradient)."""
        return not self.too_many or self.numeric


@dataclass(frozen=True, slots=True, eq=False)
class Metadata:
    columns: tuple[Column, ...]
    rows: int
    header: bool
    """The first line named the columns."""

    def label_column(self) -> int:
        """TensorBoard's default "Label by": the first non-numeric column, else the first."""
        for i, col in enumerate(self.columns):
            if not col.numeric:
                return i
        return 0

    def value(self, column: int, row: int) -> str | None:
        values = self.columns[column].values
        return values[row] if 0 <= row < len(values) else None


_JS_SPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
"""What JavaScript's Number() trims: WhiteSpace and LineTerminator."""
_JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Infinity)")
_JS_RADIX = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def js_number(s: str) -> float | None:
    """JavaScript's `Number(s)`, None where it gives NaN (TensorBoard's numeric test)."""
    t = s.strip(_JS_SPACE)
    if not t:
        return 0.0
    if _JS_RADIX.fullmatch(t):
        return float(int(t, 0))
    if _JS_DECIMAL.fullmatch(t):
        return float(t.replace("Infinity", "inf"))
    return None


def _js_key_order(keys: list[str]) -> list[str]:
    """JavaScript's Object.keys order: array-index keys ascending, then insertion order."""
    index = [k for k in keys if _ARRAY_INDEX.fullmatch(k) and int(k) < 2**32 - 1]
    taken = set(index)
    return sorted(index, key=int) + [k for k in keys if k not in taken]


def read_metadata(path: str, warnings: list[ReadWarning]) -> Metadata | None:
    """metadata.tsv by TensorBoard's frontend rules (module docstring)."""
    try:
        size = source.stat(path).st_size
        if size > MAX_METADATA_BYTES:
            warnings.append(ReadWarning(file=path, message=f"{size:,} bytes: too large, not read"))
            return None
        with source.open_binary(path) as fh:
            raw = fh.read()
    except OSError as e:
        warnings.append(ReadWarning(file=path, message=f"cannot read: {e.strerror or e}"))
        return None
    return parse_metadata(raw.decode("utf-8", "replace"))


def parse_metadata(text: str) -> Metadata:
    names = ["label"]
    header = False
    rows: list[list[str]] = []
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        if not rows and not header and "\t" in line:
            header = True
            names = line.split("\t")
            continue
        rows.append(line.split("\t"))
    columns = tuple(_column(name, i, rows) for i, name in enumerate(names))
    return Metadata(columns, len(rows), header)


def _column(name: str, index: int, rows: list[list[str]]) -> Column:
    values: list[str | None] = [(r[index] or None) if index < len(r) else None for r in rows]
    numbers = np.full(len(values), np.nan)
    numeric = True
    seen: dict[str, int] = {}
    too_many = False
    for i, v in enumerate(values):
        if v is None:
            continue
        if not too_many and v not in seen:
            seen[v] = len(seen)
            too_many = len(seen) > MAX_UNIQUE
        if numeric:
            number = js_number(v)
            if number is None:
                numeric = False
            else:
                numbers[i] = number
    if not numeric:
        numbers[:] = np.nan
    codes = np.full(len(values), -1, dtype=np.int32)
    categories: tuple[str, ...] = ()
    if not too_many:
        categories = tuple(_js_key_order(list(seen)))
        where = {c: k for k, c in enumerate(categories)}
        for i, v in enumerate(values):
            if v is not None:
                codes[i] = where[v]
    present = numbers[~np.isnan(numbers)]
    lo = float(present.min()) if numeric and present.shape[0] else float("nan")
    hi = float(present.max()) if numeric and present.shape[0] else float("nan")
    return Column(name, tuple(values), numeric, numbers, too_many, categories, codes, lo, hi)
