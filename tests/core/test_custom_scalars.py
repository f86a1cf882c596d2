"""Custom scalars layouts: decoded from what tensorboardX and TensorBoard's own protos write,
compared field by field with TensorBoard's parsing (layout_pb2), and merged across runs as
TensorBoard's custom_scalars plugin merges them (its own layout_impl is the reference)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

import tuiboard
from tests.core.writers import write_tb_layout
from tests.reference import accumulate
from tests.ui.conftest import CS_LAYOUTS, CS_RUNS, write_custom_scalars_runs
from tuiboard.core.custom_scalars import (
    CONFIG_TAG,
    MARGIN,
    MULTILINE,
    Category,
    Chart,
    Layout,
    MarginSeries,
    decode_layout,
    latest_layout_bytes,
    layout_of,
    merge_layouts,
)
from tuiboard.core.types import CUSTOM_SCALARS
from tuiboard.core.wire import DecodeError


def assert_same_layout(ours: Layout, theirs: layout_pb2.Layout) -> None:
    """Every field of TensorBoard's parsed Layout equals ours."""
    assert ours.version == theirs.version
    assert len(ours.categories) == len(theirs.category)
    for cat, tcat in zip(ours.categories, theirs.category, strict=True):
        assert (cat.title, cat.closed) == (tcat.title, tcat.closed)
        assert len(cat.charts) == len(tcat.chart)
        for chart, tchart in zip(cat.charts, tcat.chart, strict=True):
            assert chart.title == tchart.title
            content = tchart.WhichOneof("content")
            if content == "margin":
                assert chart.kind == MARGIN and chart.tags == ()
                assert [(s.value, s.lower, s.upper) for s in chart.series] == [
                    (s.value, s.lower, s.upper) for s in tchart.margin.series
                ]
            else:  # "multiline", or no content (an empty multiline chart)
                assert chart.kind == MULTILINE and chart.series == ()
                assert list(chart.tags) == list(tchart.multiline.tag)


def tb_layout(run_dir: Path) -> layout_pb2.Layout:
    """The layout as TensorBoard reads it: EventAccumulator's tensor, parsed by layout_pb2."""
    events = accumulate(run_dir).Tensors(CONFIG_TAG)
    return layout_pb2.Layout.FromString(events[-1].tensor_proto.string_val[0])


def our_layout(logdir_path: Path, run: str) -> Layout:
    r = tuiboard.open(str(logdir_path)).run(run)
    assert r is not None
    data = latest_layout_bytes(r.values(CUSTOM_SCALARS, CONFIG_TAG))
    assert data is not None
    return decode_layout(data)


def tb_merged_layout(logdir_path: Path) -> layout_pb2.Layout:
    """TensorBoard's custom_scalars plugin's own merge (layout_impl) over the logdir."""
    from google.protobuf import json_format
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.custom_scalar import custom_scalars_plugin

    multiplexer = pem.EventMultiplexer(size_guidance={"tensors": 0})
    multiplexer.AddRunsFromDirectory(str(logdir_path))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir_path))
    ctx = base_plugin.TBContext(
        logdir=str(logdir_path),
        data_provider=provider,
        multiplexer=multiplexer,
        plugin_name_to_instance={},
    )
    plugin = custom_scalars_plugin.CustomScalarsPlugin(ctx)
    body: Any = plugin.layout_impl(context.RequestContext(), "")
    text = body if isinstance(body, str) else json.dumps(body)
    return json_format.Parse(text, layout_pb2.Layout())


@pytest.fixture(scope="module")
def cs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("custom")
    write_custom_scalars_runs(root)
    return root


@pytest.mark.parametrize("run", sorted(CS_LAYOUTS))
def test_tensorboardx_layout_decodes_as_tensorboard_parses_it(cs_root: Path, run: str) -> None:
    ours = our_layout(cs_root, run)
    assert_same_layout(ours, tb_layout(cs_root / run))
    # And it is what was asked of tensorboardX, in its dict order.
    assert [c.title for c in ours.categories] == list(CS_LAYOUTS[run])
    for cat in ours.categories:
        asked = CS_LAYOUTS[run][cat.title]
        assert [c.title for c in cat.charts] == list(asked)
        for chart in cat.charts:
            kind, tags = asked[chart.title]
            if kind == "Multiline":
                assert chart.kind == MULTILINE and list(chart.tags) == tags
            else:
                assert chart.kind == MARGIN
                assert [[s.value, s.lower, s.upper] for s in chart.series] == [tags]


def rich_layout() -> layout_pb2.Layout:
    """Every field tensorboardX cannot write: version, closed, a chart without content, several
    margin series, non-ASCII titles and tags."""
    layout = layout_pb2.Layout(version=1)
    cat = layout.category.add(title="Pérdidas ✓", closed=True)
    cat.chart.add(title="all", multiline=layout_pb2.MultilineChartContent(tag=["loss/", r"\d+$"]))
    cat.chart.add(title="empty")  # the oneof unset
    margin = layout_pb2.MarginChartContent()
    margin.series.add(value="acc", lower="acc/lo", upper="acc/hi")
    margin.series.add(value="f1", lower="f1/lo", upper="f1/hi")
    layout.category.add(title="").chart.add(title="", margin=margin)
    return layout


def test_tensorboard_protos_layout_every_field(tmp_path: Path) -> None:
    write_tb_layout(tmp_path / "run", [rich_layout()])
    ours = our_layout(tmp_path, "run")
    theirs = tb_layout(tmp_path / "run")
    assert_same_layout(ours, theirs)
    assert ours.version == 1 and ours.categories[0].closed
    assert ours.categories[0].charts[1] == Chart("empty", MULTILINE)
    assert len(ours.categories[1].charts[0].series) == 2


def test_the_latest_layout_of_a_run_wins(tmp_path: Path) -> None:
    first = layout_pb2.Layout()
    first.category.add(title="old").chart.add(title="x")
    write_tb_layout(tmp_path / "run", [first, rich_layout()])
    ours = our_layout(tmp_path, "run")
    assert_same_layout(ours, rich_layout())
    # TensorBoard's plugin reads the tag with downsample=1: the last point, the same one.
    assert_same_layout(layout_of_logdir(tmp_path), tb_merged_layout(tmp_path))


def layout_of_logdir(path: Path) -> Layout:
    runs = tuiboard.open(str(path)).runs
    return layout_of((r.name, r.values(CUSTOM_SCALARS, CONFIG_TAG)) for r in runs).layout


def test_merged_layout_equals_tensorboards_plugin(cs_root: Path) -> None:
    ours = layout_of_logdir(cs_root)
    assert_same_layout(ours, tb_merged_layout(cs_root))
    # Merged by category title: "Losses" once, its shared chart once, sgd's chart appended.
    assert [c.title for c in ours.categories] == ["Losses", "Accuracy", "Schedule"]
    assert [c.title for c in ours.categories[0].charts] == [
        "all losses",
        "train only",
        "validation",
    ]
    assert set(CS_RUNS) - set(CS_LAYOUTS) == {"baseline"}  # a run without a layout adds none


def test_merge_in_run_order_skipping_duplicates(tmp_path: Path) -> None:
    """Three runs; runs merge in sorted name order, as TensorBoard's plugin does."""
    a, b, c = layout_pb2.Layout(), layout_pb2.Layout(), layout_pb2.Layout()
    a.category.add(title="T").chart.add(title="one", multiline={"tag": ["x"]})
    b_cat = b.category.add(title="T")
    b_cat.chart.add(title="one", multiline={"tag": ["x"]})  # a duplicate: skipped
    b_cat.chart.add(title="one", multiline={"tag": ["y"]})  # same title, other content: kept
    b.category.add(title="U").chart.add(title="u1")
    c.category.add(title="T").chart.add(title="three")
    for name, layout in (("c", c), ("a", a), ("b", b)):
        write_tb_layout(tmp_path / name, [layout])
    ours = layout_of_logdir(tmp_path)
    assert [cat.title for cat in ours.categories] == ["T", "U"]
    assert [(ch.title, ch.tags) for ch in ours.categories[0].charts] == [
        ("one", ("x",)),
        ("one", ("y",)),
        ("three", ()),
    ]
    assert_same_layout(ours, tb_merged_layout(tmp_path))


def test_a_category_first_seen_in_a_later_run_keeps_merging() -> None:
    """TensorBoard merges a third run's charts into a category first seen in the second run
    through the second run's own proto, so they never reach the merged layout; every category
    merges by title here (dashboards.md: "layouts from all runs merged by category title")."""
    mk = lambda t, *charts: Layout(0, (Category(t, tuple(Chart(c, MULTILINE) for c in charts)),))  # noqa: E731
    merged = merge_layouts([mk("A", "a"), mk("B", "b1"), mk("B", "b2", "b1")])
    assert [(c.title, [ch.title for ch in c.charts]) for c in merged.categories] == [
        ("A", ["a"]),
        ("B", ["b1", "b2"]),
    ]


def test_an_unreadable_layout_is_a_warning(tmp_path: Path) -> None:
    good = layout_pb2.Layout()
    good.category.add(title="fine").chart.add(title="c", multiline={"tag": ["x"]})
    write_tb_layout(tmp_path / "good", [good])
    bad = tmp_path / "bad"
    w = EventFileWriter(str(bad))
    v = summary_pb2.Summary.Value(tag=CONFIG_TAG)
    v.tensor.CopyFrom(tensor_util.make_tensor_proto(b"\x12\x05\x0a\x09cut"))  # length past end
    v.metadata.plugin_data.plugin_name = "custom_scalars"
    ev = event_pb2.Event(step=0, wall_time=1.7e9)
    ev.summary.value.append(v)
    w.add_event(ev)
    w.close()
    runs = tuiboard.open(str(tmp_path)).runs
    got = layout_of((r.name, r.values(CUSTOM_SCALARS, CONFIG_TAG)) for r in runs)
    assert got.runs == ("good",)
    assert [c.title for c in got.layout.categories] == ["fine"]
    assert len(got.warnings) == 1 and got.warnings[0].file == "bad"
    assert "layout unreadable" in got.warnings[0].message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_never_raises_anything_but_decode_error(data: bytes) -> None:
    try:
        layout = decode_layout(data)
    except DecodeError:
        return
    assert isinstance(layout, Layout)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=8),
            st.booleans(),
            st.lists(
                st.one_of(
                    st.tuples(st.just("m"), st.text(max_size=6), st.lists(st.text(max_size=6))),
                    st.tuples(
                        st.just("g"),
                        st.text(max_size=6),
                        st.lists(st.tuples(st.text(), st.text(), st.text()), max_size=3),
                    ),
                ),
                max_size=4,
            ),
        ),
        max_size=4,
    ),
    st.integers(min_value=-5, max_value=5),
)
def test_any_layout_proto_decodes_field_by_field(cats: list[Any], version: int) -> None:
    layout = layout_pb2.Layout(version=version)
    for title, closed, charts in cats:
        cat = layout.category.add(title=title, closed=closed)
        for kind, chart_title, content in charts:
            if kind == "m":
                cat.chart.add(title=chart_title, multiline={"tag": content})
            else:
                m = layout_pb2.MarginChartContent()
                for value, lower, upper in content:
                    m.series.add(value=value, lower=lower, upper=upper)
                cat.chart.add(title=chart_title, margin=m)
    assert_same_layout(decode_layout(layout.SerializeToString()), layout)


def test_margin_series_equality_is_field_wise() -> None:
    assert MarginSeries("a", "b", "c") == MarginSeries("a", "b", "c")
    assert Chart("t", MARGIN, (), (MarginSeries("a", "b", "c"),)) != Chart("t", MULTILINE)
