"""What `tuiboard plot --kind K` asks a dashboard's renderer for: the one argument every
`render/K.py:plot_blocks` takes, so the registry can call any of them alike.

Owns: `PlotRequest`, `value_at_step` and `block_head`.
Must not import: textual (render/ is pure; Rich only through Text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from rich.text import Text

from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run


@dataclass(frozen=True, slots=True)
class PlotRequest:
    runs: Sequence[Run]
    """The runs whose names matched --runs, in the logdir's (sorted) order."""
    tag_re: re.Pattern[str] | None
    """--tags (None: every tag); searched, not matched, as everywhere in tuiboard."""
    step: int | None
    """--step: show the value at this step (the last one at or before it); None = latest."""
    width: int
    """Cells each printed block may use; every line of a block is exactly this wide."""
    height: int
    """Lines a chart-like block may use (--height)."""
    theme: Theme
    """theme.color is False when piped without --color: then no style at all."""
    colours: Mapping[str, str]
    """Run name -> its colour, as the app assigns them (run i of the logdir: run_color(i))."""
    truecolor: bool = False
    """The terminal said it takes 24-bit colour (COLORTERM); else images use 256 colours."""
    as_json: bool = False
    """--json: JSON lines instead of drawings, where the kind has a tabular form."""
    depth: int = 2
    """--depth: levels of a graph's scope tree printed (graph)."""
    smoothing: float = 0.6
    """--smoothing: the EMA weight of line charts (custom scalars' multiline charts)."""
    x_mode: str = "step"
    """--x: step, relative or wall."""
    log_y: bool = False
    ignore_outliers: bool = False
    raw: bool = False
    """--raw: every scalar point as written (no restart handling)."""
    all_runs: Sequence[Run] = ()
    """Every run of the logdir, whatever --runs (custom scalars' layouts come from all runs);
    () means `runs`."""

    def tag_ok(self, tag: str) -> bool:
        return self.tag_re is None or self.tag_re.search(tag) is not None

    def value(self, run: Run, kind: str, tag: str, cls: type[_V]) -> _V | None:
        """The run's `cls` value of `tag` shown at --step (value_at_step over its values)."""
        return value_at_step((v for v in run.values(kind, tag) if isinstance(v, cls)), self.step)


class _HasStep(Protocol):
    @property
    def step(self) -> int: ...


_V = TypeVar("_V", bound=_HasStep)


def value_at_step(values: Iterable[_V], step: int | None) -> _V | None:
    """The value shown at `step`: the last one with the largest step <= `step` (None: the
    latest), or None when every value is later. Every dashboard's `--step` and slider agree."""
    best: _V | None = None
    for v in values:
        if step is not None and v.step > step:
            continue
        if best is None or v.step >= best.step:
            best = v
    return best


def block_head(theme: Theme, name: str, run: str, colour: str, step: int) -> Text:
    """The head line of a printed block, "name · run · step N" (name bold, run in its colour
    when the theme has colour); callers append their own facts and fit it to the width."""
    head = Text(clean(name), style=f"bold {theme.text}" if theme.color else "")
    head.append(" · ")
    head.append(clean(run), style=colour if theme.color else "")
    head.append(f" · step {step}")
    return head
