"""CSV metric logs: Lightning's and Keras' CSVLogger files, read as runs.

Owns: which CSV files are metric logs (their header decides: sniff_csv_state), and reading their
complete rows into scalar points, resumable by byte offset (read_csv with a CsvState). It does
not know about runs, the store or the watcher.
Must not import: textual, rich, or tuiboard modules other than core.types and core.jsonl (its
step and time key lists, so both formats agree).

The rules (jsonl-runs.md "CSV logs", and what it leaves open, decided here):
- Which files: `metrics.csv` whose first line is a header (Lightning's CSVLogger, which also
  writes `hparams.yaml` beside it: core/config.py reads that); any other `*.csv` or `*.tsv` whose
  header names a step column (`step`, `_step`, `global_step`, `iteration`, `iter`, `epoch`); a
  `*.log` or `*.txt` whose header starts with `epoch` and has another column (Keras' CSVLogger:
  `training.log` in its documentation, any name the user gives). A data set in CSV has no step
  column and is left alone; a text log does not start with `epoch,`.
- The header: the first non-blank line, split at the first of `,` tab `;` `|` found in it (Keras
  lets the user choose the separator), names stripped of spaces (Ultralytics pads them), every
  name non-empty. A file rewritten with another header (Lightning rewrites metrics.csv whole
  when a new metric key appears) is read again from the start: the loader keeps the header line
  as the file's head and compares it on each refresh.
- Step: per row, the first step column (in the order above, `epoch` last) whose cell holds an
  integer (`3` or `3.0`); else the row's 0-based index among the file's good rows. The header's
  first step column is not a tag; the others are tags like any number (Lightning's `epoch`
  beside `step`: users chart it). Steps may go backwards (Keras' `append=True` over a new fit):
  points stay in file order.
- Wall time: the first of `wall_time`, `_timestamp`, `timestamp`, `time` whose cell holds a unix
  time in seconds (> 1e9) or ISO-8601 text; else unknown (NaN). A time cell that is neither is a
  metric (seconds per iteration), as in JSONL. Neither Lightning nor Keras writes one.
- Values: every other non-empty cell that Python's float() reads is a point of its column's tag:
  `0.25`, `1e-05`, `3`, and `nan`, `inf`, `-inf` as str(float) writes them through the csv
  module (Lightning and Keras both do), in any case, with `infinity` and R's `NaN`/`Inf`. An empty
  cell (Lightning: that metric was not logged on that row) and a word (Keras writes `NA` for a
  metric missing that epoch; a quoted list) are no point, and no damage.
- Rows: the csv module's quoting (`"a,b"`, `""`) is understood; a row whose field count is not
  the header's (cut, garbled, joined) is skipped and counted: one warning per file with the count
  and the first bad line number. Blank lines are skipped. A last line without its newline is
  being written: it is read once the newline arrives. `\r\n` (both loggers use the csv module's
  excel dialect) and `\n` endings are the same.

Speed (`python bench/bench_csv.py`: a 100,000-row Lightning metrics.csv, 5.7 MB, 400k points,
CPU time, this 2-core machine, loaded): 204 ms, 490k rows/s, 2.0M points/s; csv.DictReader with
float() per cell takes 413 ms. How: when a read is what Lightning writes (every row complete,
every cell a number or empty, no quote or space), the field boundaries come from numpy over the
bytes and every number from one np.fromstring over the whole read (float parsing is then ~2/3 of
the time); otherwise row by row with str.split and the csv module, a column at a time.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, compress

import numpy as np

from tuiboard.core import source
from tuiboard.core.jsonl import (
    EPOCH_KEY,
    SNIFF_BYTES,
    SNIFF_FIRST_BYTES,
    STEP_KEYS,
    TIME_KEYS,
    UNIX_TIME_MIN,
    first_line,
    sniff_head,
)
from tuiboard.core.types import Parsed, ReadWarning, ScalarColumns

LIGHTNING_METRICS = "metrics.csv"
CSV_SUFFIXES = (".csv", ".tsv")
KERAS_SUFFIXES = (".log", ".txt")
SEPARATORS = (",", "\t", ";", "|")
STEP_COLUMNS = (*STEP_KEYS, EPOCH_KEY)
MAX_HEADER_BYTES = 1 << 20
"""How much of a file's start the loader keeps to notice the header change (FileCursor.head)."""
_STEP_LIMIT = 9.2e18


@dataclass(slots=True)
class CsvState:
    """What the reader remembers about one file between reads. CsvState() is a fresh file."""

    names: tuple[str, ...] | None = None
    """The header's column names; None until the header line is complete."""
    sep: str = ","
    lines: int = 0
    """Complete lines consumed so far (header, rows, blank and bad): line numbers continue."""
    good: int = 0
    """Rows read so far: the next row's index is its step when it has no step cell."""
    bad: int = 0
    first_bad: int | None = None
    """1-based line number of the first damaged row."""


def is_csv_candidate(name: str) -> bool:
    """Whether a file name may be a CSV metric log (its header then decides: sniff)."""
    base = os.path.basename(name)
    return base.endswith(CSV_SUFFIXES) or base.endswith(KERAS_SUFFIXES)


def parse_header(line: str) -> tuple[tuple[str, ...], str] | None:
    """(column names, separator) of a header line, or None when it is not one."""
    line = line.rstrip("\r\n")
    sep = next((s for s in SEPARATORS if s in line), ",")
    fields = _split_quoted(line, sep) if '"' in line else line.split(sep)
    if fields is None:
        return None
    names = tuple(field.strip() for field in fields)
    if not all(names):
        return None
    return names, sep


def is_metrics_header(names: tuple[str, ...], base: str) -> bool:
    """The module docstring's rule for which files are metric logs, given a parsed header."""
    if base == LIGHTNING_METRICS:
        return True
    if base.endswith(CSV_SUFFIXES):
        return any(name in STEP_COLUMNS for name in names)
    if base.endswith(KERAS_SUFFIXES):
        return names[0] == EPOCH_KEY and len(names) > 1
    return False


def _split_quoted(line: str, sep: str) -> list[str] | None:
    """One line through the csv module (quotes); None when its quoting is broken."""
    try:
        return next(csv.reader([line], delimiter=sep, strict=True))
    except (csv.Error, StopIteration):
        return None


def read_csv(
    data: bytes | memoryview, offset: int, file: str, state: CsvState
) -> tuple[int, Parsed]:
    """Read the complete lines of `data` (the file's bytes from absolute `offset` on).

    Returns (bytes consumed, what they held). A last line without its newline is left for the
    next call; `state` carries the header, line numbers, the row index and damage counts."""
    parsed = Parsed()
    raw = data if isinstance(data, bytes) else bytes(data)
    end = raw.rfind(b"\n") + 1
    if end == 0:
        return 0, parsed
    lines_read = raw.count(b"\n", 0, end)
    base_line = state.lines
    state.lines += lines_read
    parsed.records = lines_read
    body = 0  # where the rows start in raw
    first = 0  # their first line's index in this read
    if state.names is None:
        if offset == 0 and raw.startswith(b"\xef\xbb\xbf"):
            body = 3
        while True:
            stop = raw.index(b"\n", body)
            line = raw[body:stop]
            body = stop + 1
            if line.strip():
                break
            first += 1
            if body == end:
                state.lines -= lines_read  # blank lines only, so far: the header is to come
                parsed.records = 0
                return 0, parsed
        header = parse_header(line.decode("utf-8", "replace"))
        first += 1
        if header is None:
            # Not a header after all (the file was replaced by something else): nothing in it
            # is read, once, and it says so.
            state.names, state.sep = (), ","
            parsed.warnings.append(
                ReadWarning(file, "no CSV header on the first line, not read", line=first)
            )
        else:
            state.names, state.sep = header
    if not state.names or body == end:
        return end, parsed
    width = len(state.names)
    rows = raw[body:end]
    table = _fast_table(rows, state.sep, width)
    if table is None:
        table = _slow_table(rows, state, width, base_line + first)
        if state.bad and table.bad:
            parsed.warnings.append(bad_rows_warning(file, state))
    if table.count:
        parsed.scalars = _columns(state, table, first)
    state.good += table.count
    return end, parsed


def bad_rows_warning(file: str, state: CsvState) -> ReadWarning:
    """The one warning a file's damaged rows get, with the running count."""
    plural = "row" if state.bad == 1 else "rows"
    width = len(state.names or ())
    return ReadWarning(
        file=file,
        message=(
            f"{state.bad} malformed {plural} skipped (not {width} fields); "
            f"first at line {state.first_bad}"
        ),
        line=state.first_bad,
    )


class _Table:
    """The good rows of one read: per column, which rows hold a number and those numbers."""

    __slots__ = ("bad", "cells", "count", "numbers", "present", "seqs", "values", "width")

    def __init__(self, seqs: np.ndarray, width: int, bad: int = 0) -> None:
        self.seqs = seqs
        """Each good row's line index among the rows of the read."""
        self.count = len(seqs)
        self.width = width
        self.bad = bad
        self.present: np.ndarray | None = None
        """Fast path: (rows, width) bool, the cells holding a number."""
        self.values: np.ndarray | None = None
        """Fast path: (rows, width) float64, NaN where no number."""
        self.cells: list[str] = []
        """Slow path: the good rows' cells, row after row."""
        self.numbers: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def number(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(which rows hold a number, those numbers) for column j."""
        got = self.numbers.get(j)
        if got is None:
            if self.present is not None and self.values is not None:
                present = self.present[:, j]
                got = (present, self.values[:, j][present])
            else:
                got = _numbers(self.cells[j :: self.width])
            self.numbers[j] = got
        return got

    def words(self, j: int) -> list[tuple[int, str]]:
        """(row, text) of column j's non-empty cells that are not numbers (slow path only:
        the fast path is taken only when every cell is a number or empty)."""
        if self.present is not None:
            return []
        present = self.number(j)[0]
        column = self.cells[j :: self.width]
        return [(i, cell) for i, cell in enumerate(column) if cell and not present[i]]


_SPACES = frozenset(b" \t")


def _fast_table(rows: bytes, sep: str, width: int) -> _Table | None:
    """The rows as numpy matrices in one pass, when the read is what Lightning writes: every
    row `width` fields, every cell a number or empty, no quotes or spaces (a space inside a cell
    would split it for np.fromstring). None otherwise: the slow path decides cell by cell."""
    if len(sep) != 1 or b'"' in rows or any(c in rows for c in _SPACES if c != ord(sep)):
        return None
    buffer = np.frombuffer(rows, dtype=np.uint8)
    newline = buffer == 10
    ends = np.flatnonzero(newline | (buffer == ord(sep)))
    count = int(np.count_nonzero(newline))
    if len(ends) != count * width:
        return None  # some row has another number of fields
    fields = ends.reshape(count, width)
    if not bool(newline[fields[:, -1]].all()) or bool(newline[fields[:, :-1]].any()):
        return None
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts
    carriage = buffer[np.maximum(ends - 1, 0)] == 13
    lengths -= carriage & newline[ends] & (lengths > 0)  # `\r\n`: the `\r` is no content
    present = (lengths > 0).reshape(count, width)
    if not bool(present.any()):
        numbers = np.empty(0)  # (np.fromstring of blanks alone gives [-1.0])
    else:
        try:
            numbers = np.fromstring(rows.translate(_BLANKS[sep]), dtype=np.float64, sep=" ")
        except ValueError:
            return None  # a word among the numbers
    if numbers.size != int(np.count_nonzero(present)):
        return None
    values = np.full((count, width), np.nan)
    values[present] = numbers
    table = _Table(np.arange(count, dtype=np.int64), width)
    table.present = present
    table.values = values
    return table


_BLANKS = {sep: bytes.maketrans(f"{sep}\r\n".encode(), b"   ") for sep in SEPARATORS if sep}


def _slow_table(rows_bytes: bytes, state: CsvState, width: int, line0: int) -> _Table:
    """Row by row: quotes, words, damaged rows (counted in `state`, the first one's line kept;
    `line0` is the 0-based line number of the first row)."""
    text = rows_bytes.decode("utf-8", "replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    rows = text.split("\n")
    rows.pop()  # the empty string after the final newline
    sep = state.sep
    seqs: list[int] = []
    parts: list[list[str]] = []
    bad = 0
    for index, line in enumerate(rows):
        fields = line.split(sep)
        if len(fields) != width or '"' in line:
            if not line.strip():
                continue  # blank
            quoted = _split_quoted(line, sep) if '"' in line else None
            if quoted is None or len(quoted) != width:
                bad += 1
                if state.first_bad is None:
                    state.first_bad = line0 + index + 1
                continue
            fields = quoted
        elif width == 1 and not line.strip():
            continue  # blank (a one-column file's blank line splits into one empty cell)
        seqs.append(index)
        parts.append(fields)
    state.bad += bad
    table = _Table(np.asarray(seqs, dtype=np.int64), width, bad)
    table.cells = list(chain.from_iterable(parts))
    return table


def _numbers(column: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(which rows hold a number, those numbers as float64) for one column's cells."""
    present = np.fromiter(map(len, column), dtype=np.int64, count=len(column)) > 0
    cells = column if bool(present.all()) else list(compress(column, present))
    try:
        return present, np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
    except ValueError:
        pass
    # Words among the numbers (Keras' NA, a quoted list): cell by cell.
    values: list[float] = []
    ok: list[bool] = []
    for cell in cells:
        try:
            values.append(float(cell))
            ok.append(True)
        except ValueError:
            ok.append(False)
    present[present] = ok
    return present, np.array(values, dtype=np.float64)


def _parse_iso(text: str) -> float:
    text = text.strip()
    if len(text) < 10 or not text[:4].isdigit() or text[4:5] != "-":
        return np.nan
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, OverflowError, OSError):
        return np.nan


def _columns(state: CsvState, table: _Table, first: int) -> dict[str, ScalarColumns]:
    """The points of the good rows, a ScalarColumns per tag."""
    names = state.names or ()
    count = table.count
    seq = table.seqs + first
    where: dict[str, int] = {}
    for j, name in enumerate(names):
        where.setdefault(name, j)  # a repeated name: its first column
    steps = np.arange(state.good, state.good + count, dtype=np.int64)
    have = np.zeros(count, dtype=bool)
    step_names = [name for name in STEP_COLUMNS if name in where]
    for name in step_names:
        present, values = table.number(where[name])
        rows = np.flatnonzero(present)
        integral = (values == np.floor(values)) & (np.abs(values) < _STEP_LIMIT)
        take = ~have[rows] & integral
        steps[rows[take]] = values[take].astype(np.int64)
        have[rows[take]] = True
    walls = np.full(count, np.nan)
    used: dict[int, np.ndarray] = {}
    """Per time column, the rows whose cell is their wall time (not a point)."""
    for name in TIME_KEYS:
        if name not in where:
            continue
        j = where[name]
        present, values = table.number(j)
        rows = np.flatnonzero(present)
        unix = (values > UNIX_TIME_MIN) & (values < np.inf)
        wall = np.full(count, np.nan)
        wall[rows[unix]] = values[unix]
        for i, text in table.words(j):
            wall[i] = _parse_iso(text)
        fill = np.isnan(walls) & ~np.isnan(wall)
        walls[fill] = wall[fill]
        used[j] = fill
    out: dict[str, ScalarColumns] = {}
    primary = where[step_names[0]] if step_names else -1
    for name, j in where.items():
        if j == primary:
            continue
        present, values = table.number(j)
        if j in used:
            keep = ~used[j][present]
            present = present & ~used[j]
            values = values[keep]
        rows = np.flatnonzero(present)
        if rows.size:
            out[name] = ScalarColumns(
                step=steps[rows], wall_time=walls[rows], value=values, seq=seq[rows]
            )
    return out


def _sniff_bytes(head: bytes, base: str) -> bool | None:
    """Decide from the first bytes of a file; None when no complete line is there yet."""
    line = first_line(head)
    if not isinstance(line, bytes):
        return line
    if b"\0" in line:
        return False  # binary
    header = parse_header(line.decode("utf-8", "replace"))
    return header is not None and is_metrics_header(header[0], base)


def sniff_csv_state(path: str) -> bool | None:
    """Whether the file's header makes it a CSV metric log; None for "cannot tell yet" (no
    complete line, unreadable): a caller that caches answers must not cache None."""
    return sniff_head(path, _sniff_bytes)


def read_header_line(path: str) -> bytes:
    """The file's bytes up to and including its first line break (the loader's FileCursor.head
    for a CSV file: a rewrite that changes the header changes them); what there is, if none."""
    try:
        with source.open_binary(path) as handle:
            head = handle.read(SNIFF_FIRST_BYTES)
            while b"\n" not in head and len(head) < MAX_HEADER_BYTES:
                more = handle.read(SNIFF_BYTES)
                if not more:
                    break
                head += more
    except OSError:
        return b""
    stop = head.find(b"\n")
    return head[: stop + 1] if stop >= 0 else head
