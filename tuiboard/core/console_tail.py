"""Tail a run's console logs (W&B's `files/output.log`, ...) as display lines, reading only what
changed: for a worker thread, never the UI thread.

Owns: `ConsoleTail` (the files of one run, polled), `RecordsTail` (the console lines a run file
holds, RunMeta.console_records, rendered the same way), `ConsoleSnapshot` (what a poll shows: an
immutable tuple of lines) and the bounds: TAIL_BYTES (a log larger than this is read from its
last TAIL_BYTES, whole lines only) and the line limit of core/console.py (5,000).
Must not import: textual, rich, tuiboard.ui.

wandb rewrites the end of `output.log` in place while a run lives (it runs its own terminal
emulator and writes a line again when a `\\r` progress bar moves: measured on 0.31.0, the size
stays and the bytes change). So a poll compares the last CHECK_BYTES it read with the file; when
they still match, only the appended bytes are read and fed; when they differ, the lines from the
first changed byte on are dropped and read again. A file that shrinks or is replaced, or grows by
more than TAIL_BYTES between two polls, is read again from its tail.
"""

from __future__ import annotations

import codecs
import os
from collections import deque
from dataclasses import dataclass, field
from typing import BinaryIO

from tuiboard.core.console import MAX_LINES, ConsoleText

TAIL_BYTES = 4 << 20
"""Opening a log reads at most its last 4 MiB (whole lines): ample for MAX_LINES lines."""
CHECK_BYTES = 4096
"""Bytes before the read offset compared on each poll to notice an in-place rewrite."""


@dataclass(frozen=True, slots=True)
class ConsoleSnapshot:
    """The lines to show for a run's console logs, at one poll."""

    lines: tuple[str, ...] = ()
    """Display lines, oldest first (clean: no control character, no escape sequence)."""
    headers: frozenset[int] = frozenset()
    """Indices of lines that name a file (several console logs: one header before each)."""
    skipped_bytes: int = 0
    """Bytes at the start of the logs not read (each log read from its last TAIL_BYTES)."""
    dropped_lines: int = 0
    """Lines read but no longer kept (past the line limit)."""
    problems: tuple[str, ...] = ()
    """Why a log could not be read (its path and the OS error), for the user."""
    version: int = 0
    """Grows on every change (a widget redraws when it moved)."""


@dataclass(slots=True)
class _FileTail:
    """One log file: its lines so far and where reading resumes."""

    path: str
    max_lines: int
    text: ConsoleText = field(init=False)
    starts: deque[int] = field(init=False)
    """File offset of the start of each line in `text.lines` (same length, same order)."""
    line_start: int = 0
    """File offset where the current (unended) line starts."""
    offset: int = 0
    """Bytes read so far (everything before it is in `text`)."""
    check: bytes = b""
    """The bytes just before `offset` (at most CHECK_BYTES) as read."""
    stat_key: tuple[int, int, int] | None = None
    """(inode, size, mtime) at the last read: a poll that finds the same reads nothing."""
    opened: bool = False
    skipped: int = 0
    problem: str = ""
    decoder: codecs.IncrementalDecoder = field(init=False)

    def __post_init__(self) -> None:
        self._reset(0)

    def _reset(self, start: int) -> None:
        self.text = ConsoleText(self.max_lines)
        self.starts = deque(maxlen=self.max_lines)
        self.line_start = self.offset = start
        self.check = b""
        self.skipped = start
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def poll(self) -> bool:
        """Read what changed since the last poll. True when the lines changed."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # not written yet (wandb creates output.log at the first print)
        except OSError as e:
            return self._fail(e)
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if key == self.stat_key:
            return False
        self.stat_key = key
        try:
            with open(self.path, "rb") as f:
                return self._read(f, st.st_size)
        except OSError as e:
            return self._fail(e)

    def _fail(self, e: OSError) -> bool:
        problem = f"{self.path}: {e.strerror or e}"
        changed = problem != self.problem
        self.problem = problem
        return changed

    def _read(self, f: BinaryIO, size: int) -> bool:
        self.problem = ""
        if not self.opened or size < self.offset or size - self.offset > TAIL_BYTES:
            return self._reload(f, size)
        base = self.offset - len(self.check)
        f.seek(base)
        data = f.read()
        head = data[: len(self.check)]
        if head == self.check:
            new = data[len(self.check) :]
            if not new:
                return False
            self._feed(new, self.check)
            return True
        # Rewritten in place: read again from the start of the line holding the first change.
        p = base + _first_difference(head, self.check)
        start = self._roll_back(p)
        if start is None:
            return self._reload(f, size)
        if start >= base:  # the bytes before `start` matched: they stay the check's start
            self._feed(data[start - base :], self.check[: start - base])
        else:
            f.seek(start)
            self._feed(f.read(), b"")
        return True

    def _reload(self, f: BinaryIO, size: int) -> bool:
        start = max(0, size - TAIL_BYTES)
        f.seek(start)
        data = f.read()
        # Begin at a whole line, and at most max_lines lines before the end: older lines would
        # only be dropped again (a 4 MiB tail of short lines holds ~50,000).
        cut = len(data)
        for _ in range(self.max_lines + 1):
            cut = data.rfind(b"\n", 0, cut)
            if cut < 0:
                break
        if cut >= 0 or start > 0:
            cut = len(data) if cut < 0 else cut + 1
            data, start = data[cut:], start + cut
        self._reset(start)
        self.opened = True
        if data:
            self._feed(data, b"")
        return True

    def _roll_back(self, p: int) -> int | None:
        """Drop the lines from the one holding byte `p` on; the offset to read again from
        (None: that line is no longer kept)."""
        if p >= self.line_start:
            self.text.reset_line()
            self.offset = self.line_start
            self.decoder.reset()
            return self.line_start
        if not self.starts or p < self.starts[0] or len(self.starts) != len(self.text.lines):
            return None
        while self.starts and self.starts[-1] > p:
            self.starts.pop()
            self.text.lines.pop()
        start = self.starts.pop()
        self.text.lines.pop()
        self.text.reset_line()
        self.line_start = self.offset = start
        self.decoder.reset()
        return start

    def _feed(self, data: bytes, before: bytes) -> None:
        """Feed bytes read at `offset`. `before`: bytes just before them, as read (any length:
        the check is the last CHECK_BYTES of both, or fewer when fewer are known)."""
        pos = self.offset
        i = data.find(b"\n")
        while i >= 0:
            self.starts.append(self.line_start)
            self.line_start = pos + i + 1
            i = data.find(b"\n", i + 1)
        self.text.feed(self.decoder.decode(data))
        self.offset = pos + len(data)
        short = len(data) < CHECK_BYTES
        self.check = (before + data)[-CHECK_BYTES:] if short else data[-CHECK_BYTES:]


def _first_difference(a: bytes, b: bytes) -> int:
    """Index of the first byte where `a` and `b` differ (the shorter length if one is a prefix)."""
    n = min(len(a), len(b))
    lo, hi = 0, n
    if a[:n] == b[:n]:
        return n
    while hi - lo > 1:  # the first half that differs holds the first difference
        mid = (lo + hi) // 2
        if a[lo:mid] != b[lo:mid]:
            hi = mid
        else:
            lo = mid
    return lo


class ConsoleTail:
    """The console logs of one run (oldest first), polled from a worker thread.

    Invariant: `snapshot()` returns an immutable object, safe to hand to the UI thread; the tail
    itself is used by one thread only."""

    def __init__(self, paths: tuple[str, ...], max_lines: int = MAX_LINES) -> None:
        self.paths = paths
        self._files = [_FileTail(p, max_lines) for p in paths]
        self._max_lines = max_lines
        self._version = 0
        self._snapshot = ConsoleSnapshot()

    def poll(self) -> bool:
        """Read every file's news. True when the lines changed (take a new snapshot)."""
        changed = False
        for f in self._files:
            changed = f.poll() or changed
        if changed:
            self._version += 1
            self._snapshot = self._take()
        return changed

    def snapshot(self) -> ConsoleSnapshot:
        return self._snapshot

    def _take(self) -> ConsoleSnapshot:
        lines: list[str] = []
        headers: set[int] = set()
        several = len(self._files) > 1
        for f in self._files:
            if several:
                headers.add(len(lines))
                lines.append(f"── {f.path} ──")
            lines.extend(f.text.display())
        if len(lines) > self._max_lines:
            cut = len(lines) - self._max_lines
            lines = lines[cut:]
            headers = {h - cut for h in headers if h >= cut}
        return ConsoleSnapshot(
            lines=tuple(lines),
            headers=frozenset(headers),
            skipped_bytes=sum(f.skipped for f in self._files),
            dropped_lines=sum(f.text.dropped for f in self._files),
            problems=tuple(f.problem for f in self._files if f.problem),
            version=self._version,
        )


class RecordsTail:
    """The console lines a run file holds (RunMeta.console_records: raw, newline-ended, bounded
    by the reader), rendered by core/console.py on a worker thread: the same `poll`/`snapshot`
    contract as ConsoleTail. The owner hands it each new tuple with `update` (from the same
    thread); `poll` renders the lines again when they changed (at most MAX_LINES: cheap)."""

    def __init__(
        self, records: tuple[str, ...], dropped: int = 0, max_lines: int = MAX_LINES
    ) -> None:
        self._records = records
        self._dropped = dropped
        self._shown: tuple[str, ...] | None = None
        self._max_lines = max_lines
        self._version = 0
        self._snapshot = ConsoleSnapshot()

    def update(self, records: tuple[str, ...], dropped: int) -> None:
        """The reader read more: the lines as they are now, and how many fell off the front."""
        self._records, self._dropped = records, dropped

    def poll(self) -> bool:
        """Render the lines if they changed since the last poll. True when they did."""
        if self._shown is not None and self._shown == self._records:
            return False
        self._shown = self._records
        text = ConsoleText(self._max_lines)
        for piece in self._records:
            text.feed(piece)
        self._version += 1
        self._snapshot = ConsoleSnapshot(
            lines=tuple(text.display()),
            dropped_lines=self._dropped + text.dropped,
            version=self._version,
        )
        return True

    def snapshot(self) -> ConsoleSnapshot:
        return self._snapshot
