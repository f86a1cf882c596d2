"""The projector's data: an embedding's tensor, metadata and sprite sheet, its PCA and the
nearest neighbours of a point.

Owns: `load` (an `EmbeddingInfo` -> `Loaded`: the tensor as float32, its metadata, the sprite
file's bytes, and warnings), the memory guard (`memory_limit`, `tensor_estimate`), `pca`,
`Neighbours`, `search` and `sprite_cell`. Everything here is numpy over whole arrays or blocks of
rows; nothing holds more than the tensor plus a few MB of blocks (PCA never copies the tensor).
Must not import: textual, rich, tuiboard.render, tuiboard.ui.

TensorBoard's rules, followed:
- tensors.tsv: one row a line, fields split on tabs, each read as a float (`float()`), lines
  empty once their newline is cut skipped (`projector_plugin._read_tensor_tsv_file`); a file that
  is not UTF-8 is raw float32 of the declared `tensor_shape` (`_read_tensor_binary_file`).
- metadata.tsv (the frontend's `parseMetadata`): blank lines skipped; the first line is a header
  exactly when it has a tab, else the one column is "label"; an empty field is missing. A column
  is numeric when every present value is a JavaScript number (`Number(v)` not NaN); it has "too
  many unique values" past 50 (NUM_COLORS_COLOR_MAP), and is then coloured by a gradient when
  numeric and not coloured at all otherwise. Unique values keep JavaScript's `Object.keys` order
  (integer-like keys ascending, then first appearance): that order picks the colours.
- The label column is the first non-numeric one (else the first).
Where tuiboard differs, deliberately:
- PCA is exact: every point and every dimension (TensorBoard samples 50,000 points and randomly
  projects past 200 dimensions), and always on centred data; "spherize" (TensorBoard's Spherize
  data: centre, then scale each row to unit length) is an option, TensorBoard's default being on
  from 50 dimensions (`spherize_default`). TensorBoard without spherize does not centre.
- Nearest neighbours are in the original space (never the spherized one), cosine distance
  1 - cos or euclidean, ties by row order.
- A metadata file whose row count differs from the tensor's is still used for the rows both
  have (TensorBoard refuses it), with TensorBoard's message as a warning.
- tensors.tsv is parsed in blocks of about a MB with numpy (`np.fromstring` after checking each
  line's field count); a block numpy cannot read is read again line by line with `float()` to
  name the line at fault.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from tuiboard.core.types import EmbeddingInfo, ReadWarning

CHUNK = 1 << 20
"""Bytes of tensors.tsv parsed at a time (the parse's own memory is a few times this)."""
BLOCK_ROWS = 1024
"""Rows of the tensor turned into float64 at a time by PCA and the neighbour search."""
MEMORY_SHARE = 0.5
"""A tensor may take at most this share of the memory available when it is loaded."""
MAX_METADATA_BYTES = 256 * 1024 * 1024
MAX_SPRITE_BYTES = 256 * 1024 * 1024
MAX_SPRITE_PX = 8192
"""TensorBoard's limit on each side of a sprite sheet (MAX_SPRITE_IMAGE_SIZE_PX)."""
MAX_UNIQUE = 50
"""Past this many unique values a column is not categorical (NUM_COLORS_COLOR_MAP)."""
SPHERIZE_DIMS = 50
"""TensorBoard turns "Spherize data" on by default from this many dimensions."""
METRICS = ("cosine", "euclidean")


# -- memory guard ---------------------------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes the system says it can still give (Linux MemAvailable), None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit() -> int | None:
    """The largest tensor (bytes of float32) tuiboard reads: MEMORY_SHARE of what is available
    (None: unknown, no limit)."""
    free = available_memory()
    return None if free is None else int(free * MEMORY_SHARE)


def fmt_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"  # pragma: no cover - the loop always returns


def tensor_estimate(info: EmbeddingInfo) -> tuple[int, int, bool] | None:
    """(rows, dims, exact) of the tensor: the shape counted or declared, else an estimate from
    the file's size and its first line with something on it (rows = size / that line's bytes).
    None: nothing in the file's first block. OSError: no file."""
    if len(info.shape) == 2:
        return int(info.shape[0]), int(info.shape[1]), True
    try:
        size = os.path.getsize(info.tensor_path)
        with open(info.tensor_path, "rb") as fh:
            head = fh.read(CHUNK)
    except OSError:
        return None
    first = next((line for line in head.split(b"\n") if line.strip()), b"")
    if not first:
        return None
    dims = first.count(b"\t") + 1
    return max(1, round(size / (len(first) + 1))), dims, False


# -- records --------------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True, eq=False)
class Loaded:
    """What `load` read for one embedding."""

    info: EmbeddingInfo
    tensor: np.ndarray | None
    """(rows, dims) float32, read-only; None when refused or unreadable (see warnings)."""
    metadata: Metadata | None = None
    sprite: bytes | None = None
    """The sprite sheet file's bytes (decoded by the renderer), None when absent or refused."""
    warnings: tuple[ReadWarning, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Pca:
    coords: np.ndarray
    """(rows, k) float32: each point on the first k principal components."""
    variance: np.ndarray
    """(k,) float64: the share of the total variance each component explains."""
    components: np.ndarray
    """(dims, k) float64: unit vectors; each one's largest entry (by magnitude) is positive."""
    mean: np.ndarray
    """(dims,) float64: what was subtracted."""
    spherized: bool
    left_out: int = 0
    """Rows left out for holding a NaN or an infinity (their coords are NaN)."""


def spherize_default(dims: int) -> bool:
    """TensorBoard's default for "Spherize data": on from SPHERIZE_DIMS dimensions."""
    return dims >= SPHERIZE_DIMS


# -- loading --------------------------------------------------------------------------------------


def load(
    info: EmbeddingInfo,
    *,
    limit: int | None = -1,
    progress: Callable[[float], None] | None = None,
) -> Loaded:
    """Read an embedding's tensor, metadata and sprite. `limit`: the most bytes the float32
    tensor may take (-1: `memory_limit()`, None: no limit); a larger tensor is refused, with a
    warning naming its size, before anything of it is read. `progress(fraction)` is called as
    the tensor is parsed. Never raises on bad input."""
    warnings: list[ReadWarning] = []
    if limit == -1:
        limit = memory_limit()
    tensor = _read_tensor(info, limit, warnings, progress)
    metadata = None
    if info.metadata_path:
        metadata = read_metadata(info.metadata_path, warnings)
        if metadata is not None and tensor is not None and metadata.rows != tensor.shape[0]:
            message = (
                f"Number of tensors ({tensor.shape[0]}) do not match the number of lines in "
                f"metadata ({metadata.rows})"
            )
            if len(metadata.columns) == 1 and metadata.rows == tensor.shape[0] + 1:
                message += "; single column metadata should not have a header row"
            warnings.append(
                ReadWarning(
                    file=info.metadata_path, message=message + ": shown for the rows both have"
                )
            )
    sprite = None
    if info.sprite_path:
        sprite = _read_sprite(info, warnings)
    return Loaded(info, tensor, metadata, sprite, tuple(warnings))


def _read_tensor(
    info: EmbeddingInfo,
    limit: int | None,
    warnings: list[ReadWarning],
    progress: Callable[[float], None] | None,
) -> np.ndarray | None:
    path = info.tensor_path
    if not path:
        warnings.append(
            ReadWarning(
                file=info.tensor_name or "projector_config.pbtxt",
                message="no tensor file (tensors in a checkpoint are not read)",
            )
        )
        return None
    try:
        shape = tensor_estimate(info)
        if shape is None:
            size = os.path.getsize(path)
            why = "empty tensor file" if size == 0 else "no tensor in its first line"
            warnings.append(ReadWarning(file=path, message=why))
            return None
        rows, dims, exact = shape
        if _refused(path, rows, dims, exact, limit, warnings):
            return None
        if not exact:
            rows = _count_rows(path)
            if _refused(path, rows, dims, True, limit, warnings):
                return None
        if _is_binary(path, info.shape):
            tensor = np.fromfile(path, dtype=np.float32, count=rows * dims).reshape(rows, dims)
        else:
            parsed = _read_tsv(path, rows, dims, warnings, progress)
            if parsed is None:
                return None
            tensor = parsed
    except OSError as e:
        warnings.append(ReadWarning(file=path, message=f"cannot read: {e.strerror or e}"))
        return None
    if tensor.shape[0] == 0:
        warnings.append(ReadWarning(file=path, message="no rows in the tensor file"))
        return None
    tensor.flags.writeable = False
    return tensor


def _refused(
    path: str, rows: int, dims: int, exact: bool, limit: int | None, warnings: list[ReadWarning]
) -> bool:
    need = rows * dims * 4
    if limit is None or need <= limit:
        return False
    about = "" if exact else "about "
    message = (
        f"{about}{rows:,} x {dims:,} float32 = {fmt_bytes(need)}: more than the "
        f"{fmt_bytes(limit)} tuiboard lets a tensor take (half the memory available); not read"
    )
    warnings.append(ReadWarning(file=path, message=message))
    return True


def _count_rows(path: str) -> int:
    """Lines with something on them (the shape was not counted when the config was read)."""
    rows = 0
    for block, _ in _lines(path):
        u = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(u == 10)
        if not block.endswith(b"\n"):
            ends = np.append(ends, len(block))
        starts = np.concatenate(([0], ends[:-1] + 1))
        rows += int(np.count_nonzero(ends > starts))
    return rows


def _is_binary(path: str, declared: tuple[int, ...]) -> bool:
    """TensorBoard reads a tensor file as raw float32 of the declared shape when it is not
    UTF-8 text; we look at its first block and its size."""
    if len(declared) != 2:
        return False
    try:
        if os.path.getsize(path) != declared[0] * declared[1] * 4:
            return False
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(head) - 3  # not a character cut at the block's end
    return False


def _lines(path: str) -> Iterator[tuple[bytes, bool]]:
    """Blocks of whole lines (ending in a newline, but maybe the file's last), and whether the
    block is the last."""
    with open(path, "rb") as fh:
        rest = b""
        while True:
            block = fh.read(CHUNK)
            if not block:
                if rest:
                    yield rest, True
                return
            data = rest + block if rest else block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data  # a line longer than CHUNK: read on
                continue
            rest = data[cut:]
            yield data[:cut], False


def _read_tsv(
    path: str,
    rows: int,
    dims: int,
    warnings: list[ReadWarning],
    progress: Callable[[float], None] | None,
) -> np.ndarray | None:
    """tensors.tsv into a preallocated (rows, dims) float32 array, block by block (OSError:
    the caller says so)."""
    out = np.empty((rows, dims), dtype=np.float32)
    done = 0
    line_no = 0  # lines before this block
    size = max(1, os.path.getsize(path))
    read = 0
    for block, _ in _lines(path):
        read += len(block)
        values, n_lines, problem = _parse_block(block, dims, line_no)
        if problem is not None:
            warnings.append(ReadWarning(file=path, message=problem[1], line=problem[0]))
            return None
        assert values is not None
        got = values.shape[0]
        if done + got > rows:
            out[done:] = values[: rows - done]
            done = rows
            message = (
                f"more rows than the {rows:,} counted (the file grew): the first {rows:,} shown"
            )
            warnings.append(ReadWarning(file=path, message=message))
            break
        out[done : done + got] = values
        done += got
        line_no += n_lines
        if progress is not None:
            progress(read / size)
    return out if done == rows else out[:done]


def _parse_block(
    block: bytes, dims: int, first_line: int
) -> tuple[np.ndarray | None, int, tuple[int, str] | None]:
    """(values (rows, dims), lines in the block, problem (line number, message) or None)."""
    u = np.frombuffer(block, dtype=np.uint8)
    newlines = np.flatnonzero(u == 10)
    n_lines = newlines.shape[0] + (0 if block.endswith(b"\n") else 1)
    ends = newlines if block.endswith(b"\n") else np.append(newlines, len(block))
    starts = np.concatenate(([0], ends[:-1] + 1))
    tabs = np.flatnonzero(u == 9)
    per_line = np.diff(np.searchsorted(tabs, ends), prepend=0)
    empty = ends == starts
    if np.all(per_line[~empty] == dims - 1):
        n_rows = int(np.count_nonzero(~empty))
        try:
            values = np.fromstring(block, dtype=np.float32, sep=" ")  # any whitespace separates
        except ValueError:
            values = None
        if values is not None and values.shape[0] == n_rows * dims:
            return values.reshape(n_rows, dims), n_lines, None
    return _parse_block_slowly(block, dims, first_line, n_lines)


def _parse_block_slowly(
    block: bytes, dims: int, first_line: int, n_lines: int
) -> tuple[np.ndarray | None, int, tuple[int, str] | None]:
    """TensorBoard's own way, line by line with float(): names the line at fault."""
    rows: list[list[float]] = []
    for k, line in enumerate(block.split(b"\n")[:n_lines]):
        if not line.strip():
            continue
        fields = line.split(b"\t")
        if len(fields) != dims:
            message = f"{len(fields)} fields where the first line has {dims}"
            return None, n_lines, (first_line + k + 1, message)
        try:
            rows.append([float(f) for f in fields])
        except ValueError:
            bad = next(f for f in fields if not _is_float(f))
            text = bad[:40].decode("utf-8", "replace")
            return None, n_lines, (first_line + k + 1, f"not a number: {text!r}")
    values = np.array(rows, dtype=np.float32).reshape(len(rows), dims)
    return values, n_lines, None


def _is_float(b: bytes) -> bool:
    try:
        float(b)
    except ValueError:
        return False
    return True


# -- metadata -------------------------------------------------------------------------------------

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
        size = os.path.getsize(path)
        if size > MAX_METADATA_BYTES:
            warnings.append(
                ReadWarning(file=path, message=f"{fmt_bytes(size)}: too large, not read")
            )
            return None
        with open(path, "rb") as fh:
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


# -- sprites --------------------------------------------------------------------------------------


def _read_sprite(info: EmbeddingInfo, warnings: list[ReadWarning]) -> bytes | None:
    path = info.sprite_path
    if len(info.sprite_dim) != 2 or min(info.sprite_dim) <= 0:
        warnings.append(
            ReadWarning(file=path, message="sprite without single_image_dim [width, height]")
        )
        return None
    try:
        size = os.path.getsize(path)
        if size > MAX_SPRITE_BYTES:
            warnings.append(
                ReadWarning(file=path, message=f"{fmt_bytes(size)}: sprite too large, not read")
            )
            return None
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as e:
        warnings.append(ReadWarning(file=path, message=f"cannot read: {e.strerror or e}"))
        return None


def sprite_cell(sheet: np.ndarray, dim: tuple[int, ...], index: int) -> np.ndarray | None:
    """Point `index`'s thumbnail in a sprite sheet ((h, w, 3) array): the sheet holds
    single_image_dim = (width, height) images row-major, as many per row as fit its width.
    None when the sheet has no such cell."""
    if len(dim) != 2 or index < 0:
        return None
    w, h = int(dim[0]), int(dim[1])
    if w <= 0 or h <= 0:
        return None
    per_row = sheet.shape[1] // w
    if per_row == 0:
        return None
    r, c = divmod(index, per_row)
    if (r + 1) * h > sheet.shape[0]:
        return None
    return sheet[r * h : (r + 1) * h, c * w : (c + 1) * w]


# -- PCA ------------------------------------------------------------------------------------------


def _blocks(
    tensor: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray | None,
    ok: np.ndarray | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(start row, float64 block of centred (and scaled) rows); rows not `ok` are zeros."""
    for start in range(0, tensor.shape[0], BLOCK_ROWS):
        block = tensor[start : start + BLOCK_ROWS].astype(np.float64)
        block -= mean
        if scale is not None:
            block *= scale[start : start + BLOCK_ROWS, None]
        if ok is not None:
            block[~ok[start : start + BLOCK_ROWS]] = 0.0
        yield start, block


def finite_rows(tensor: np.ndarray) -> np.ndarray:
    """bool per row: every value finite (a NaN or inf row cannot be projected)."""
    ok = np.empty(tensor.shape[0], dtype=bool)
    for start in range(0, tensor.shape[0], BLOCK_ROWS):
        ok[start : start + BLOCK_ROWS] = np.isfinite(tensor[start : start + BLOCK_ROWS]).all(1)
    return ok


def pca(tensor: np.ndarray, k: int = 3, *, spherize: bool = False) -> Pca:
    """The first k principal components of the rows of `tensor` (centred; spherized: each
    centred row scaled to unit length, as TensorBoard's "Spherize data"), the share of variance
    each explains, and every row's coordinates on them.

    The covariance is accumulated in float64 blocks of rows (the tensor is never copied whole);
    its top eigenvectors come from subspace iteration checked by its residual, else from
    numpy's eigh. Past a covariance larger than the tensor itself (far more dimensions than
    rows), the iteration runs on the rows directly. Rows holding a NaN or an infinity are left
    out (their coordinates are NaN; `left_out` counts them)."""
    rows, d = tensor.shape
    k = max(0, min(k, d))
    finite = finite_rows(tensor)
    n = int(np.count_nonzero(finite))
    ok = None if n == rows else finite
    if ok is None:
        mean = tensor.mean(axis=0, dtype=np.float64)
    else:
        total_rows = np.zeros(d)
        for start in range(0, rows, BLOCK_ROWS):
            part = tensor[start : start + BLOCK_ROWS]
            total_rows += part[finite[start : start + BLOCK_ROWS]].sum(axis=0, dtype=np.float64)
        mean = total_rows / max(n, 1)
    n = max(n, 1)
    scale: np.ndarray | None = None
    if spherize:
        sq = np.empty(rows)
        for start, block in _blocks(tensor, mean, None, ok):
            sq[start : start + block.shape[0]] = np.einsum("ij,ij->i", block, block)
        norms = np.sqrt(sq)
        scale = np.divide(1.0, norms, out=np.zeros(rows), where=norms > 0)

    if d * d * 8 <= max(tensor.nbytes, 64 << 20):
        cov = np.zeros((d, d))
        for _, block in _blocks(tensor, mean, scale, ok):
            cov += block.T @ block
        cov /= n

        def apply(v: np.ndarray) -> np.ndarray:
            return np.asarray(cov @ v)

        total = float(np.trace(cov))
        values, vectors = _top_eigen(apply, d, k, exact=lambda: np.linalg.eigh(cov))
    else:

        def apply(v: np.ndarray) -> np.ndarray:
            out = np.zeros((d, v.shape[1]))
            for _, block in _blocks(tensor, mean, scale, ok):
                out += block.T @ (block @ v)
            return out / n

        total = 0.0
        for _, block in _blocks(tensor, mean, scale, ok):
            total += float(np.einsum("ij,ij->", block, block))
        total /= n
        values, vectors = _top_eigen(apply, d, k, exact=None)

    # A deterministic sign: each component's largest entry is positive.
    if k:
        big = vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)]
        vectors = vectors * np.where(big < 0, -1.0, 1.0)
    coords = np.empty((rows, k), dtype=np.float32)
    for start, block in _blocks(tensor, mean, scale, ok):
        coords[start : start + block.shape[0]] = block @ vectors
    if ok is not None:
        coords[~ok] = np.nan
    variance = values / total if total > 0 else np.zeros(k)
    return Pca(coords, variance, vectors, mean, spherize, rows - int(np.count_nonzero(finite)))


def _top_eigen(
    apply: Callable[[np.ndarray], np.ndarray],
    d: int,
    k: int,
    exact: Callable[[], tuple[np.ndarray, np.ndarray]] | None,
    iterations: int = 80,
) -> tuple[np.ndarray, np.ndarray]:
    """The k largest eigenvalues (descending) and unit eigenvectors of a symmetric PSD matrix
    given as `apply(V) = C @ V`: subspace iteration with k + 8 vectors and Rayleigh-Ritz,
    stopping when every residual |Cv - lv| is below 1e-9 of the largest eigenvalue; `exact()`
    (numpy's eigh) when it has not converged, or when d is small enough for eigh to be cheap."""
    if k == 0:
        return np.zeros(0), np.zeros((d, 0))
    if exact is not None and d <= 64:
        w, v = exact()
        return w[::-1][:k].copy(), v[:, ::-1][:, :k].copy()
    p = min(d, k + 8)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((d, p)))
    values = np.zeros(k)
    vectors = q[:, :k]
    for it in range(iterations):
        z = apply(q)
        if it % 4 == 3 or it == iterations - 1:
            t = q.T @ z
            w, u = np.linalg.eigh((t + t.T) / 2)
            order = np.argsort(w)[::-1][:k]
            values = w[order]
            vectors = q @ u[:, order]
            residual = np.linalg.norm(apply(vectors) - vectors * values, axis=0)
            scale = max(float(values[0]), 1e-300)
            if np.all(residual <= 1e-9 * scale):
                return values, vectors
        q, _ = np.linalg.qr(z)
    if exact is not None:
        w, v = exact()
        return w[::-1][:k].copy(), v[:, ::-1][:, :k].copy()
    return values, vectors


# -- neighbours and search ------------------------------------------------------------------------


@dataclass(slots=True)
class Neighbours:
    """The k nearest rows of a row of `tensor`, in the tensor's own space."""

    tensor: np.ndarray
    _norms: np.ndarray | None = field(default=None, repr=False)
    _finite: np.ndarray | None = field(default=None, repr=False)

    def norms(self) -> np.ndarray:
        if self._norms is None:
            zero = np.zeros(self.tensor.shape[1])
            sq = np.empty(self.tensor.shape[0])
            for start, block in _blocks(self.tensor, zero, None):
                sq[start : start + block.shape[0]] = np.einsum("ij,ij->i", block, block)
            self._norms = np.sqrt(sq)
        return self._norms

    def distances(self, index: int, metric: str = "cosine") -> np.ndarray:
        """float64 distance of every row to row `index`: cosine 1 - cos (1 where either vector
        is all zeros), or euclidean."""
        tensor = self.tensor
        x = tensor[index].astype(np.float64)
        out = np.empty(tensor.shape[0])
        zero = np.zeros(tensor.shape[1])
        if metric == "cosine":
            norms = self.norms()
            xn = float(norms[index])
            for start, block in _blocks(tensor, zero, None):
                out[start : start + block.shape[0]] = block @ x
            denom = norms * xn
            cos = np.divide(out, denom, out=np.zeros_like(out), where=denom > 0)
            return 1.0 - np.clip(cos, -1.0, 1.0)
        for start, block in _blocks(tensor, x, None):
            out[start : start + block.shape[0]] = np.sqrt(np.einsum("ij,ij->i", block, block))
        return out

    def query(self, index: int, k: int, metric: str = "cosine") -> tuple[np.ndarray, np.ndarray]:
        """(rows, distances) of the k nearest rows other than `index`, nearest first (ties by
        row order); rows holding NaN or inf come last, at an infinite distance."""
        dist = self.distances(index, metric)
        if self._finite is None:
            self._finite = finite_rows(self.tensor)
        dist[~self._finite | np.isnan(dist)] = np.inf  # a row holding NaN or inf: nobody's
        dist[index] = np.inf
        k = max(0, min(k, dist.shape[0] - 1))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        part = np.argpartition(dist, k - 1)[:k]
        # Rows tied with the k-th distance but left out of the partition would make the order
        # depend on numpy: take every row within it, then sort by (distance, row).
        cut = dist[part].max()
        part = np.flatnonzero(dist <= cut)
        order = np.lexsort((part, dist[part]))[:k]
        rows = part[order]
        return rows.astype(np.int64), dist[rows]


def search(values: tuple[str | None, ...] | list[str], query: str) -> np.ndarray:
    """Rows whose value matches `query`: a case-insensitive regex searched in it (a query that
    is not a valid regex is searched for literally)."""
    try:
        pattern = re.compile(query, re.IGNORECASE)
    except re.error:
        pattern = re.compile(re.escape(query), re.IGNORECASE)
    found = [i for i, v in enumerate(values) if v is not None and pattern.search(v)]
    return np.asarray(found, dtype=np.int64)
