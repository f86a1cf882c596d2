"""A fixed-size character grid with a style per cell, turned into one rich Text.

Owns: `Canvas` (numpy arrays of code points and style ids) and `fit_text` (cell-exact title
lines). Must not import: textual, tuiboard.ui.

Renderers write braille codes, box-drawing characters and ASCII labels into the grid; only
single-cell characters go through it (untrusted text goes through `fit_text`, which measures
cells). `to_text` encodes each row with one `bytes.decode` and makes one Span per run of equal
style, so the cost does not grow with the number of points drawn.
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Span, Text

BLANK = 0x20


class Canvas:
    """`height` x `width` cells of code points (uint32) and style ids (0 = unstyled)."""

    __slots__ = ("codes", "height", "style_ids", "styles", "width")

    def __init__(self, width: int, height: int) -> None:
        self.width = max(0, width)
        self.height = max(0, height)
        self.codes = np.full((self.height, self.width), BLANK, dtype=np.uint32)
        """Unicode code points, every one a single-cell character."""
        self.style_ids = np.zeros((self.height, self.width), dtype=np.int32)
        """Index into `styles`; 0 means no style."""
        self.styles: list[str] = [""]
        """Rich style strings by id; entry 0 is the empty style."""

    def style(self, style: str) -> int:
        """The id of `style` (interned)."""
        if not style:
            return 0
        try:
            return self.styles.index(style)
        except ValueError:
            self.styles.append(style)
            return len(self.styles) - 1

    def put(self, row: int, col: int, s: str, style_id: int = 0) -> None:
        """Write single-cell characters `s` at (row, col), clipped to the grid."""
        if row < 0 or row >= self.height or not s:
            return
        codes = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32)
        start = max(col, 0)
        end = min(col + codes.shape[0], self.width)
        if end <= start:
            return
        self.codes[row, start:end] = codes[start - col : end - col]
        self.style_ids[row, start:end] = style_id

    def to_text(self, color: bool = True) -> Text:
        """The grid as Text: rows joined by "\\n", styles only when `color`."""
        rows = [r.tobytes().decode("utf-32-le") for r in self.codes]
        plain = "\n".join(rows)
        if not color or len(self.styles) == 1:
            return Text(plain, no_wrap=True, overflow="crop")
        w = self.width + 1
        ids = np.zeros((self.height, w), dtype=np.int32)
        ids[:, : self.width] = self.style_ids
        flat = ids.reshape(-1)[:-1] if self.height else ids.reshape(-1)
        change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [flat.shape[0]]))
        run_ids = flat[starts]
        keep = run_ids != 0
        parsed = [Style.parse(s) if s else Style() for s in self.styles]
        spans = [
            Span(int(a), int(b), parsed[int(i)])
            for a, b, i in zip(starts[keep], ends[keep], run_ids[keep], strict=True)
        ]
        return Text(plain, spans=spans, no_wrap=True, overflow="crop")


def fit_text(text: Text, width: int) -> Text:
    """`text` cut (with an ellipsis) or padded with spaces to exactly `width` cells, one line."""
    out = text.copy()
    if "\n" in out.plain:
        out = out.split("\n")[0]
    if cell_len(out.plain) > width:
        out.truncate(width, overflow="ellipsis")
    out.truncate(width, pad=True)
    # truncate() pads with spaces but a wide character cut at the edge can leave it 1 cell short.
    missing = width - cell_len(out.plain)
    if missing > 0:
        out.append(" " * missing)
    return out


def join_lines(lines: list[Text]) -> Text:
    """Lines joined with newlines into one Text (no trailing newline)."""
    out = Text(no_wrap=True, overflow="crop")
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        out.append_text(line)
    return out
