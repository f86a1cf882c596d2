"""Pilot tests of run groups: `g`, the group list's Enter, the full-screen chart's table and
Enter. Expected numbers come from TensorBoard's EventAccumulator, TensorBoard's smoothing loop
and the reference aggregation loop (tests/group_runs.py), never from tuiboard itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

import tuiboard
from tests.group_runs import RUNS, ema_loop, reference, write_ui_seeds
from tests.reference import accumulate
from tests.ui.conftest import make_app, started
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.groups import GROUP_KEY
from tuiboard.ui.screens.chart import ChartScreen
from tuiboard.ui.screens.prompt import PromptScreen
from tuiboard.ui.widgets.group_list import GroupList
from tuiboard.ui.widgets.scalar_chart import ChartSource, ScalarChart

SIZE = (140, 40)
pytestmark = pytest.mark.anyio


@pytest.fixture
def seeds_root(tmp_path: Path) -> Path:
    return write_ui_seeds(tmp_path / "seeds")


def tb(root: Path, run: str) -> tuple[list[float], list[float]]:
    events = accumulate(root / run).Scalars("loss")
    return [float(e.step) for e in events], [float(e.value) for e in events]


async def group_by(pilot, app: TuiboardApp, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("g")
    await pilot.pause()
    assert isinstance(app.screen, PromptScreen)
    await pilot.press(*text, "enter")
    await pilot.pause()


def lines(app: TuiboardApp) -> list[str]:
    return [line.key for line in ChartSource("loss").lines(app.board)]


async def test_g_groups_runs_and_the_group_list_expands_them(seeds_root: Path) -> None:
    async with make_app(tuiboard.open(str(seeds_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        group_list = app.query_one(GroupList)
        assert not group_list.display
        await group_by(pilot, app, r"seed=\d+")
        assert lines(app) == [GROUP_KEY + "lr=0.01_*", GROUP_KEY + "lr=0.1_*"]
        assert group_list.display
        assert group_list.names == ["lr=0.01_*", "lr=0.1_*"]
        # The chart draws two lines, each with a band.
        chart = next(c for c in app.query(ScalarChart) if c.tag == "loss")
        drawn = [line.series for line in chart.source.lines(app.board)]
        assert [s.label for s in drawn] == ["lr=0.01_* (2 runs)", "lr=0.1_* (3 runs)"]
        assert all(s.lower is not None and s.upper is not None for s in drawn)
        # Enter on the second group in the run panel's list: drawn as its runs.
        group_list.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.board.grouping.expanded == {"lr=0.1_*"}
        assert lines(app) == [
            GROUP_KEY + "lr=0.01_*",
            "lr=0.1_seed=0",
            "lr=0.1_seed=1",
            "lr=0.1_seed=2",
        ]
        await pilot.press("enter")
        await pilot.pause()
        assert app.board.grouping.expanded == frozenset()
        # An empty answer stops grouping.
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", "enter")
        await pilot.pause()
        assert not app.board.grouping.active
        assert not group_list.display
        assert lines(app) == sorted(RUNS)


async def test_group_by_config_keys_and_a_bad_regex(seeds_root: Path) -> None:
    async with make_app(tuiboard.open(str(seeds_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("g")
        await pilot.press(*"(", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)  # refused, the prompt says why
        await pilot.press("backspace", *"cfg:optimizer", "enter")
        await pilot.pause()
        assert lines(app) == [GROUP_KEY + "optimizer=sgd", GROUP_KEY + "optimizer=adam"]


async def test_cursor_table_shows_group_value_band_and_count(seeds_root: Path) -> None:
    names = sorted(RUNS)
    expected_groups = {
        "lr=0.01_*": [n for n in names if n.startswith("lr=0.01_")],
        "lr=0.1_*": [n for n in names if n.startswith("lr=0.1_")],
    }
    async with make_app(tuiboard.open(str(seeds_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await group_by(pilot, app, r"seed=\d+")
        chart = next(c for c in app.query(ScalarChart) if c.tag == "loss")
        chart.focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        table = screen.query_one(DataTable)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers[:7] == ["run", "step", "value", "smoothed", "lo", "hi", "runs"]
        aggregated = app.board.grouping.aggregated
        for back in (0, 5, 17):
            await pilot.press("end", *["left"] * back)
            await pilot.pause()
            rows = {r.key: r for r in screen.cursor_rows()}
            for group, runs in expected_groups.items():
                raw = [tb(seeds_root, r) for r in runs]
                smooth = [(s, ema_loop(v, 0.6)) for s, v in raw]
                union, ref = reference(smooth, "mean", "minmax")
                _, ref_raw = reference(raw, "mean", "minmax")
                row = rows[GROUP_KEY + group]
                i = union.index(row.step)
                centre, lo, hi, count = ref[i]
                assert row.columns[1] == pytest.approx(centre, rel=1e-9)
                assert row.columns[2] == pytest.approx(lo, rel=1e-9)
                assert row.columns[3] == pytest.approx(hi, rel=1e-9)
                assert row.columns[4] == count
                assert row.columns[0] == pytest.approx(ref_raw[i][0], rel=1e-9)
            cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            assert [c[0][2:] for c in cells] == ["lr=0.01_* (2 runs)", "lr=0.1_* (3 runs)"]
        assert app.board.grouping.aggregated == aggregated  # cursor moves aggregate nothing
        # Enter on the highlighted (first) group: its runs appear in the table.
        await pilot.press("enter")
        await pilot.pause()
        cells = [str(table.get_row_at(i)[0])[2:] for i in range(table.row_count)]
        assert cells == ["lr=0.01_seed=0", "lr=0.01_seed=1", "lr=0.1_* (3 runs)"]
        # Enter on one of those runs collapses its group again.
        await pilot.press("enter")
        await pilot.pause()
        cells = [str(table.get_row_at(i)[0])[2:] for i in range(table.row_count)]
        assert cells == ["lr=0.01_* (2 runs)", "lr=0.1_* (3 runs)"]
        # down + Enter: the second group.
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.board.grouping.expanded == {"lr=0.1_*"}


async def test_palette_commands_change_centre_and_band(seeds_root: Path) -> None:
    async with make_app(tuiboard.open(str(seeds_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Group runs…" in titles and "Group band: min-max" not in titles
        await group_by(pilot, app, r"seed=\d+")
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Group line: median"].callback()
        commands["Group band: 25-75th pct"].callback()
        await pilot.pause()
        spec = app.board.grouping.spec
        assert spec is not None and (spec.centre, spec.band) == ("median", "iqr")
        runs = [n for n in sorted(RUNS) if n.startswith("lr=0.1_")]
        smooth = [(s, ema_loop(v, 0.6)) for s, v in (tb(seeds_root, r) for r in runs)]
        union, ref = reference(smooth, "median", "iqr")
        line = next(x for x in ChartSource("loss").lines(app.board) if x.key.endswith("0.1_*"))
        assert line.series.x.tolist() == union
        assert line.series.y.tolist() == pytest.approx([r[0] for r in ref], rel=1e-9)
        assert line.series.lower.tolist() == pytest.approx([r[1] for r in ref], rel=1e-9)
        commands["Ungroup runs"].callback()
        await pilot.pause()
        assert not app.board.grouping.active


async def test_runs_outside_groups_are_capped_and_said_so(
    seeds_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuiboard.ui.widgets import scalar_chart

    monkeypatch.setattr(scalar_chart, "MAX_RUNS_DRAWN", 2)
    async with make_app(tuiboard.open(str(seeds_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await group_by(pilot, app, r"0\.01_seed=\d+")
        assert lines(app) == [GROUP_KEY + "lr=*", "lr=0.1_seed=0", "lr=0.1_seed=1"]
        chart = next(c for c in app.query(ScalarChart) if c.tag == "loss")
        text = chart.draw(80, 20).plain
        assert "first 2 runs outside groups drawn, 1 left out" in text


async def test_status_line_says_runs_are_grouped(seeds_root: Path) -> None:
    """With groups on, the status line says so (how many, by what); ungrouped, it doesn't."""
    from tuiboard.ui.widgets.status_bar import StatusBar

    async with make_app(tuiboard.open(str(seeds_root))).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        bar = app.query_one(StatusBar)
        assert "group" not in str(bar.render())
        await group_by(pilot, app, r"seed=\d+")
        assert "2 groups by seed=\\d+" in str(bar.render())
        # The run panel's group list heads with the line and band (a narrow panel cuts the end).
        head = app.query_one(GroupList).get_option_at_index(0).prompt
        assert str(head).startswith("groups mean, band min-max · seed=")
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", "enter")
        await pilot.pause()
        assert "group" not in str(bar.render())
