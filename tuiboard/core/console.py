"""Console output as a terminal would show it: `\\r` progress bars as their last state, `\\b` and
tabs applied, every escape sequence and control character removed.

Owns: `ConsoleText` (a stream of decoded console text -> display lines, fed in pieces of any size:
the result does not depend on where the pieces are cut) and `console_lines` (the same in one
call). Pure: no files, no clock. `core/console_tail.py` feeds it from files on a worker thread.
Must not import: textual, rich, tuiboard.ui, tuiboard.render.

What is emulated, per line: `\\r` (back to column 0: later text overwrites, as tqdm expects),
`\\b` (one column back), `\\t` (to the next multiple of 8), CSI `K` (erase in line), CSI `C`/`D`
(cursor right/left) and CSI `G` (to a column). Everything else that is not text is dropped: SGR
colours, cursor movement to other lines (a line already ended stays as it was), OSC titles and
hyperlinks, DCS/SOS/PM/APC strings, other escapes, C0/C1 controls, DEL, and the Unicode
bidirectional overrides (which could reorder what is shown). `\\n` ends a line and also ends any
escape sequence left open. Columns count characters, not cells (a wide character overwritten by
`\\r` is off by one cell; logs rarely mix the two).
"""

from __future__ import annotations

import re
from collections import deque

MAX_LINES = 5000
"""Lines kept by default (the oldest are dropped): a bound on memory whatever the log's size."""
MAX_LINE_CHARS = 4096
"""A line is cut at this many characters (text written past it is dropped; the cursor still
moves, so a `\\r` afterwards still overwrites from column 0)."""
TAB = 8
MAX_PENDING = 64
"""An unfinished CSI or escape longer than this is dropped instead of held for the next piece."""

_SPECIAL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Anything that is not plain text: C0, DEL, C1, bidi overrides and isolates."""
_CSI = re.compile(r"(?:\x1b\[|\x9b)([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])?")
"""A CSI: parameters, intermediates and (when it arrived) the final byte."""
_STRING_START = re.compile(r"\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f]")
"""OSC, DCS, SOS, PM, APC: their text runs up to BEL, ESC \\ or ST (0x9c)."""
_STRING_END = re.compile(r"\x07|\x1b\\|\x9c")
_ESC = re.compile(r"\x1b([\x20-\x2f]*)([\x30-\x7e])?")
"""Other escapes (ESC 7, ESC ( B, ...): intermediates and a final byte."""


class ConsoleText:
    """Display lines of a console stream. Feed decoded text with `feed`; read `lines` (ended
    lines, oldest first, at most `max_lines`) and `current` (the line being written: a progress
    bar without its newline yet)."""

    __slots__ = ("_cursor", "_in_string", "_line", "_pending", "_skip", "dropped", "lines")

    def __init__(self, max_lines: int = MAX_LINES) -> None:
        self.lines: deque[str] = deque(maxlen=max_lines)
        """Ended lines, as a terminal shows them; the oldest fall off past `max_lines`."""
        self.dropped = 0
        """How many ended lines fell off the front (line numbers stay meaningful)."""
        self._line = ""
        """The current line's characters (no controls; at most MAX_LINE_CHARS)."""
        self._cursor = 0
        self._pending = ""
        """The start of an escape sequence cut by the end of the last piece."""
        self._in_string = False
        """Inside an OSC/DCS/... string: text is swallowed up to its terminator."""
        self._skip = ""
        """Inside a sequence too long to hold ("csi_params", "csi_inter", "esc_inter"): its
        remaining bytes are swallowed, and it does nothing (as when it arrives whole)."""

    @property
    def current(self) -> str:
        """The line being written (without its newline yet)."""
        return self._line

    @property
    def idle(self) -> bool:
        """No escape sequence or string is open: the next character is read afresh (a `\\r`
        fed now goes back to column 0)."""
        return not (self._pending or self._in_string or self._skip)

    def display(self) -> list[str]:
        """Every line to show: the ended ones, then the current one when it holds anything."""
        out = list(self.lines)
        if self._line:
            out.append(self._line)
        return out

    def feed(self, text: str) -> None:
        """Add console text (a piece of any size: escapes cut in two are joined)."""
        parts = text.split("\n")
        for part in parts[:-1]:
            self._segment(part)
            self.end_line()
        self._segment(parts[-1])

    def end_line(self) -> None:
        """A newline: the current line is done (an open escape sequence is dropped)."""
        if len(self.lines) == self.lines.maxlen:
            self.dropped += 1
        self.lines.append(self._line)
        self._line = ""
        self._cursor = 0
        self._pending = ""
        self._in_string = False
        self._skip = ""

    def reset_line(self) -> None:
        """Forget the current line (its bytes are about to be read again)."""
        self._line = ""
        self._cursor = 0
        self._pending = ""
        self._in_string = False
        self._skip = ""

    # -- one line's worth of text ----------------------------------------------------------------

    def _segment(self, s: str) -> None:
        if self._pending:
            s, self._pending = self._pending + s, ""
        pos, n = 0, len(s)
        if self._skip:
            pos = self._skip_rest(s)
        elif not self._in_string and s.isprintable():
            self._write(s)
            return
        elif not self._in_string and "\r" in s and s.replace("\r", "").isprintable():
            self._overwrites(s.split("\r"))
            return
        while pos < n:
            if self._in_string:
                end = _STRING_END.search(s, pos)
                if end is None:
                    if s.endswith("\x1b"):  # maybe the first half of ESC \
                        self._pending = "\x1b"
                    return
                self._in_string = False
                pos = end.end()
                continue
            m = _SPECIAL.search(s, pos)
            if m is None:
                self._write(s[pos:])
                return
            if m.start() > pos:
                self._write(s[pos : m.start()])
            pos = self._control(s, m.start())

    def _overwrites(self, parts: list[str]) -> None:
        """Text separated by `\r` alone (a tqdm bar's states): the first part at the cursor, each
        next one from column 0. Only a part longer than every later one can show, so only those
        are written (a bar of 10,000 states costs a few writes)."""
        self._write(parts[0])
        shown: list[str] = []
        longest = -1
        for part in reversed(parts[1:]):
            if len(part) > longest:
                shown.append(part)
                longest = len(part)
        for part in reversed(shown):  # the last part is written last: the cursor ends after it
            self._cursor = 0
            self._write(part)

    def _control(self, s: str, i: int) -> int:
        """Apply the control character or escape sequence at `s[i]`; return where text resumes."""
        c = s[i]
        if c == "\r":
            self._cursor = 0
        elif c == "\b":
            self._cursor = max(0, self._cursor - 1)
        elif c == "\t":
            self._cursor = (self._cursor // TAB + 1) * TAB
        elif c == "\x1b" or c in "\x9b\x9d\x90\x98\x9e\x9f":
            return self._escape(s, i)
        return i + 1  # any other control: dropped

    def _escape(self, s: str, i: int) -> int:
        string = _STRING_START.match(s, i)
        if string is not None:
            self._in_string = True
            return string.end()
        csi = _CSI.match(s, i)
        if csi is not None:
            if csi.group(3) is None:
                if csi.end() == len(s):  # cut by the end of the piece: wait for the rest
                    self._hold(s[i:], "csi_inter" if csi.group(2) else "csi_params")
                return csi.end()  # else broken off by a control character: dropped
            if csi.end() - i <= MAX_PENDING:  # a longer one is no terminal's: ignored
                self._csi(csi.group(1), csi.group(2), csi.group(3))
            return csi.end()
        if i + 1 == len(s):
            self._hold(s[i:], "esc_inter")  # a lone ESC at the end: wait for the next piece
            return len(s)
        esc = _ESC.match(s, i)
        assert esc is not None  # "\x1b" always matches
        if esc.group(2) is None and esc.end() == len(s):
            self._hold(s[i:], "esc_inter")
        return esc.end()

    def _hold(self, rest: str, phase: str) -> None:
        """Keep an escape cut by the end of the piece for the next one; one too long to keep
        is swallowed to its end instead (`phase`: where in the sequence the cut fell)."""
        if len(rest) <= MAX_PENDING:
            self._pending = rest
        else:
            self._skip = phase

    def _skip_rest(self, s: str) -> int:
        """Swallow the rest of a sequence too long to hold; where the text resumes."""
        pos, n = 0, len(s)
        if self._skip == "csi_params":
            while pos < n and "\x30" <= s[pos] <= "\x3f":
                pos += 1
            if pos == n:
                return n
            self._skip = "csi_inter"
        if self._skip == "csi_inter":
            while pos < n and "\x20" <= s[pos] <= "\x2f":
                pos += 1
            if pos == n:
                return n
            self._skip = ""
            return pos + 1 if "\x40" <= s[pos] <= "\x7e" else pos
        while pos < n and "\x20" <= s[pos] <= "\x2f":  # esc_inter
            pos += 1
        if pos == n:
            return n
        self._skip = ""
        return pos + 1 if "\x30" <= s[pos] <= "\x7e" else pos

    def _csi(self, params: str, inter: str, final: str) -> None:
        if inter or (params and params[0] in "<=>?"):
            return  # private or intermediate forms: nothing that edits this line
        first = params.split(";", 1)[0]
        n = int(first) if first.isdigit() and len(first) < 6 else 0
        if final == "K":
            if n == 0:
                self._line = self._line[: self._cursor]
            elif n == 1:
                keep = self._line[self._cursor + 1 :]
                self._line = " " * min(len(self._line), self._cursor + 1) + keep
            elif n == 2:
                self._line = ""
        elif final == "C":
            self._cursor = min(self._cursor + max(n, 1), MAX_LINE_CHARS)
        elif final == "D":
            self._cursor = max(0, self._cursor - max(n, 1))
        elif final in "G`":
            self._cursor = min(max(n, 1) - 1, MAX_LINE_CHARS)

    def _write(self, t: str) -> None:
        """Printable text at the cursor, overwriting (a terminal in replace mode)."""
        if not t:
            return
        cur = self._cursor
        self._cursor = cur + len(t)
        if cur >= MAX_LINE_CHARS:
            return
        t = t[: MAX_LINE_CHARS - cur]
        line = self._line
        if cur == len(line):
            self._line = line + t
        elif cur > len(line):
            self._line = line + " " * (cur - len(line)) + t
        else:
            self._line = line[:cur] + t + line[cur + len(t) :]


def console_lines(text: str, max_lines: int = MAX_LINES) -> list[str]:
    """The lines a terminal would show for `text` (the last `max_lines`; a last line without its
    newline is included when it holds anything)."""
    console = ConsoleText(max_lines)
    console.feed(text)
    out = console.display()
    return out[-max_lines:]
