"""Text summaries written by tensorboardX and TF2-style tensors, read back and rendered; cells
checked against TensorBoard's own reader."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console
from tensorboard.compat.proto import event_pb2
from tensorboard.plugins.text import summary_v2 as text_v2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util
from tensorboardX import SummaryWriter

import tuiboard
from tests.reference import accumulate
from tuiboard.core.logdir import Logdir
from tuiboard.core.types import TEXT, TextValue
from tuiboard.render.plot_request import PlotRequest, value_at_step
from tuiboard.render.text import (
    WARNING_MARK,
    plot_blocks,
    text_lines,
    text_renderable,
)
from tuiboard.render.theme import default_theme, run_color

MARKDOWN = """# Results heading

- first item
- second item

```python
print("code block")
```

| name | score |
|------|-------|
| ant  | 0.5   |
| bee  | 0.75  |
"""
EVIL = "[bold]x[/bold] \x1b[31mred\x1b]0;title\x07 bell\x07 c1\x9b2J &#x202e;rtl [site](http://evil.example/)"
RANK1 = ["alpha **one**", "beta two", "gamma three"]
RANK2 = [["a1", "b1", "c1"], ["a2", "b2", "c2"]]
RANK3 = [[["p00", "p01"], ["p10", "p11"]], [["q00", "q01"], ["q10", "q11"]]]
WIDE = 60


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("text")
    w = SummaryWriter(str(root / "tbx"))
    w.add_text("md", MARKDOWN, 0)
    w.add_text("md", "later **text**", 5)
    w.add_text("evil", EVIL, 1)
    w.close()
    ew = EventFileWriter(str(root / "tf2"))
    for tag, data in (("r1", RANK1), ("r2", RANK2), ("r3", RANK3)):
        ev = event_pb2.Event(step=2, wall_time=1.7e9)
        ev.summary.value.extend(text_v2.text_pb(tag, np.array(data)).value)
        ew.add_event(ev)
    ew.close()
    return root


@pytest.fixture(scope="module")
def logdir(root: Path) -> Logdir:
    return tuiboard.open(str(root))


def value(logdir: Logdir, run: str, tag: str) -> TextValue:
    r = logdir.run(run)
    assert r is not None
    v = r.values(TEXT, tag)[-1]
    assert isinstance(v, TextValue)
    return v


def plain(v: TextValue, markdown: bool = True, width: int = WIDE) -> list[str]:
    lines = text_lines(v, width, markdown=markdown, theme=default_theme(False))
    assert all(cell_len(line.plain) == width for line in lines)
    return [line.plain for line in lines]


def test_cells_match_tensorboard(root: Path, logdir: Logdir) -> None:
    for run, tags in (
        ("tbx", ("md/text_summary", "evil/text_summary")),
        ("tf2", ("r1", "r2", "r3")),
    ):
        acc = accumulate(root / run)
        for tag in tags:
            want = tensor_util.make_ndarray(acc.Tensors(tag)[-1].tensor_proto)
            got = value(logdir, run, tag)
            assert got.shape == want.shape
            assert got.cells == tuple(c.decode() for c in want.reshape(-1))


def test_markdown_is_rendered(logdir: Logdir) -> None:
    v = value_at_step(logdir.run("tbx").values(TEXT, "md/text_summary"), 0)  # type: ignore[union-attr]
    assert isinstance(v, TextValue) and v.step == 0
    out = "\n".join(plain(v))
    assert "Results heading" in out and "# Results" not in out
    assert "• first item" in out and "• second item" in out
    assert 'print("code block")' in out and "```" not in out
    assert "|" not in out and re.search(r"ant\s+0\.5", out) and re.search(r"bee\s+0\.75", out)
    raw = "\n".join(plain(v, markdown=False))
    assert "# Results heading" in raw and "```python" in raw and "| ant  | 0.5   |" in raw
    # Raw keeps the line breaks: one source line per output line.
    assert [line.rstrip() for line in raw.split("\n")[:4]] == MARKDOWN.split("\n")[:4]


@pytest.mark.parametrize("markdown", [True, False])
def test_untrusted_text_is_literal_and_inert(logdir: Logdir, markdown: bool) -> None:
    v = value(logdir, "tbx", "evil/text_summary")
    out = "\n".join(plain(v, markdown))
    assert "[bold]x[/bold]" in out and "red" in out and "bell" in out
    assert "title" not in out  # the OSC payload is part of the escape, not text
    for bad in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert bad not in out
    if markdown:
        assert "site (http://evil.example/)" in out
    # Through real consoles: no escape from the content without colour; with colour only
    # Rich's own SGR sequences (no OSC title, no OSC 8 hyperlink, no BEL).
    for system in (None, "truecolor"):
        buf = io.StringIO()
        console = Console(file=buf, width=WIDE, color_system=system, force_terminal=True)
        console.print(text_renderable(v, WIDE, markdown=markdown))
        printed = buf.getvalue()
        assert "[bold]x[/bold]" in printed
        if system is None:
            assert "\x1b" not in printed
        assert "\x1b]" not in printed and "\x07" not in printed and "\u202e" not in printed
        assert not re.search("\x1b\\[[0-9;]*[^0-9;m]", printed)  # SGR only: no cursor moves


def test_rank1_is_blocks_between_rules(logdir: Logdir) -> None:
    lines = plain(value(logdir, "tf2", "r1"))
    rules = [i for i, line in enumerate(lines) if set(line) == {"─"}]
    assert len(rules) == 2
    texts = [i for i, line in enumerate(lines) if line.strip() and i not in rules]
    assert [lines[i].strip() for i in texts] == ["alpha one", "beta two", "gamma three"]
    assert texts[0] < rules[0] < texts[1] < rules[1] < texts[2]


def test_rank2_is_a_table_without_header_in_order(logdir: Logdir) -> None:
    for markdown in (True, False):
        lines = plain(value(logdir, "tf2", "r2"), markdown)
        rows = [line for line in lines if "1" in line or "2" in line]
        assert len(rows) == 2
        assert re.search(r"│ a1\s+│ b1\s+│ c1\s+│", rows[0])
        assert re.search(r"│ a2\s+│ b2\s+│ c2\s+│", rows[1])
        assert lines[0].startswith("┌") and lines[-1].rstrip().endswith("┘")
        assert WARNING_MARK not in "".join(lines)


def test_rank3_shows_the_first_slice_with_a_warning(logdir: Logdir) -> None:
    lines = plain(value(logdir, "tf2", "r3"))
    out = "\n".join(lines)
    assert lines[0].startswith(f"{WARNING_MARK} rank-3") and "[0, :, :]" in out
    assert re.search(r"│ p00\s+│ p01\s+│", out) and re.search(r"│ p10\s+│ p11\s+│", out)
    assert "q00" not in out and "q11" not in out


def test_rank0_and_malformed_shapes() -> None:
    v = TextValue(0, 0.0, (), ("just **one**",))
    assert [s.strip() for s in plain(v) if s.strip()] == ["just one"]
    assert "(empty)" in "".join(plain(TextValue(0, 0.0, (0, 3), ())))
    # A shape that does not match the cells shows every cell, as rank 1.
    odd = plain(TextValue(0, 0.0, (2, 2), ("a", "b", "c")), markdown=False)
    assert [s.strip() for s in odd if s.strip() and "─" not in s] == ["a", "b", "c"]


def request(
    logdir: Logdir, color: bool, step: int | None = None, tags: str | None = None
) -> PlotRequest:
    theme = default_theme(color)
    colours = {r.name: run_color(theme, i) for i, r in enumerate(logdir.runs)}
    tag_re = re.compile(tags) if tags else None
    return PlotRequest(logdir.runs, tag_re, step, 72, 20, theme, colours)


def test_plot_blocks(logdir: Logdir) -> None:
    blocks = plot_blocks(request(logdir, False))
    heads = [b.plain.split("\n")[0].rstrip() for b in blocks]
    assert heads == [
        "evil/text_summary · tbx · step 1",
        "md/text_summary · tbx · step 5",
        "r1 · tf2 · step 2",
        "r2 · tf2 · step 2",
        "r3 · tf2 · step 2",
    ]
    for b in blocks:
        assert all(cell_len(line) == 72 for line in b.plain.split("\n"))
        assert not b.spans and not b.style
        buf = io.StringIO()
        Console(file=buf, width=72, color_system="truecolor", force_terminal=True).print(b)
        assert "\x1b" not in buf.getvalue()
    (md,) = plot_blocks(request(logdir, False, step=4, tags="^md"))
    assert md.plain.startswith("md/text_summary · tbx · step 0") and "Results heading" in md.plain
    assert plot_blocks(request(logdir, False, step=-1)) == []
    coloured = plot_blocks(request(logdir, True, tags="^md"))[0]
    assert any(str(s.style) == run_color(default_theme(), 0) for s in coloured.spans)
