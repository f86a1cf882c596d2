"""An embedding's files: its tensor, metadata and sprite sheet, read with a memory guard.

Owns: `load` (an `EmbeddingInfo` -> `Loaded`: the tensor as float32, its metadata, the sprite
file's bytes, and warnings), the memory guard (`memory_limit`, `tensor_estimate`) and
`sprite_cell`. The tensor is parsed in blocks straight into one float32 array: nothing holds
more than the tensor plus a few MB. PCA and neighbours: core/projection.py; the metadata's
rules: core/embedding_metadata.py.
Must not import: textual, rich, tuiboard.render, tuiboard.ui.

TensorBoard's rules, followed (projector_plugin's `_read_tensor_tsv_file` and
`_read_tensor_binary_file`): tensors.tsv has one row a line, fields split on tabs, each read as a
float (`float()`), lines empty once their newline is cut skipped; a file that is not UTF-8 is raw
float32 of the declared `tensor_shape`. Where tuiboard differs, deliberately:
- tensors.tsv is parsed in blocks of about a MB with numpy (`np.fromstring`, after checking each
  line's field count); a block numpy cannot read is read again line by line with `float()` (so
  Python-only forms such as 1_0 read as TensorBoard reads them), naming the line at fault.
- A tensor over MEMORY_SHARE of the memory available is refused before it is read (TensorBoard
  reads it, at about ten times its float32 size).
- Whitespace-only lines are skipped (TensorBoard fails on them).
- A metadata file whose row count differs from the tensor's is still used for the rows both
  have (TensorBoard refuses it), with TensorBoard's message as a warning.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from tuiboard.core import source
from tuiboard.core.embedding_metadata import Metadata, read_metadata
from tuiboard.core.types import EmbeddingInfo, ReadWarning

CHUNK = 1 << 20
"""Bytes of tensors.tsv parsed at a time (the parse's own memory is a few times this)."""
MEMORY_SHARE = 0.5
"""A tensor may take at most this share of the memory available when it is loaded."""
MAX_SPRITE_BYTES = 256 * 1024 * 1024
MAX_SPRITE_PX = 8192
"""TensorBoard's limit on each side of a sprite sheet (MAX_SPRITE_IMAGE_SIZE_PX)."""


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
        size = source.stat(info.tensor_path).st_size
        with source.open_binary(info.tensor_path) as fh:
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
class Loaded:
    """What `load` read for one embedding."""

    info: EmbeddingInfo
    tensor: np.ndarray | None
    """(rows, dims) float32, read-only; None when refused or unreadable (see warnings)."""
    metadata: Metadata | None = None
    sprite: bytes | None = None
    """The sprite sheet file's bytes (decoded by the renderer), None when absent or refused."""
    warnings: tuple[ReadWarning, ...] = ()


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
            size = source.stat(path).st_size
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
            tensor = _read_binary(path, rows * dims).reshape(rows, dims)
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


def _read_binary(path: str, count: int) -> np.ndarray:
    """`count` float32 from the file's start (np.fromfile for a local file; one ranged read
    of a remote logdir's object)."""
    if not source.is_url(path):
        return np.fromfile(path, dtype=np.float32, count=count)
    return np.frombuffer(source.read_range(path, 0, count * 4), dtype=np.float32)


def _is_binary(path: str, declared: tuple[int, ...]) -> bool:
    """TensorBoard reads a tensor file as raw float32 of the declared shape when it is not
    UTF-8 text; we look at its first block and its size."""
    if len(declared) != 2:
        return False
    try:
        if source.stat(path).st_size != declared[0] * declared[1] * 4:
            return False
        with source.open_binary(path) as fh:
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
    with source.open_binary(path) as fh:
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
    size = max(1, source.stat(path).st_size)
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


# -- sprites --------------------------------------------------------------------------------------


def _read_sprite(info: EmbeddingInfo, warnings: list[ReadWarning]) -> bytes | None:
    path = info.sprite_path
    if len(info.sprite_dim) != 2 or min(info.sprite_dim) <= 0:
        warnings.append(
            ReadWarning(file=path, message="sprite without single_image_dim [width, height]")
        )
        return None
    try:
        size = source.stat(path).st_size
        if size > MAX_SPRITE_BYTES:
            warnings.append(
                ReadWarning(file=path, message=f"{fmt_bytes(size)}: sprite too large, not read")
            )
            return None
        with source.open_binary(path) as fh:
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
