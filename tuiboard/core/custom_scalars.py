"""Custom scalars layouts: the `custom_scalars__config__` tag's Layout proto, decoded and merged.

Owns: `Layout`, `Category`, `Chart`, `MarginSeries`, `decode_layout` (protobuf wire format through
core/wire.py, no protobuf package) and `merged_layout` (the layouts of every run in one, as
TensorBoard's custom_scalars plugin serves them). The charts' data is the runs' ordinary scalar
series; which tags a chart shows is decided where it is drawn (render/custom_scalars.py).
Must not import: textual, rich, or tuiboard modules other than core.{types,wire}.

Field numbers, as tensorboard/plugins/custom_scalar/layout.proto (checked against the installed
layout_pb2 descriptors):
    Layout { int32 version = 1; repeated Category category = 2; }
    Category { string title = 1; repeated Chart chart = 2; bool closed = 3; }
    Chart { string title = 1; oneof content { MultilineChartContent multiline = 2;
                                              MarginChartContent margin = 3; } }
    MultilineChartContent { repeated string tag = 1; }      (regexes)
    MarginChartContent { repeated Series series = 1; }
    Series { string value = 1; string lower = 2; string upper = 3; }   (exact tags)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tuiboard.core import wire
from tuiboard.core.types import CUSTOM_SCALARS, ReadWarning, TensorValue
from tuiboard.core.wire import DecodeError

CONFIG_TAG = "custom_scalars__config__"
"""The tag a layout is written under (tensorboard/plugins/custom_scalar/metadata.py)."""

MULTILINE = "multiline"
MARGIN = "margin"


@dataclass(frozen=True, slots=True)
class MarginSeries:
    """One value line with its band: three exact scalar tags."""

    value: str
    lower: str
    upper: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart of a layout. Equality is TensorBoard's duplicate test when layouts merge."""

    title: str
    kind: str
    """MULTILINE or MARGIN; a chart with neither content set is an empty multiline chart (the
    proto's oneof unset), as TensorBoard's frontend shows it."""
    tags: tuple[str, ...] = ()
    """MULTILINE: the regexes (Python `re.match` on each scalar tag, OR-ed)."""
    series: tuple[MarginSeries, ...] = ()
    """MARGIN: the value/lower/upper tag triples."""


@dataclass(frozen=True, slots=True)
class Category:
    """A collapsible group of charts."""

    title: str
    charts: tuple[Chart, ...]
    closed: bool = False
    """Starts collapsed."""


@dataclass(frozen=True, slots=True)
class Layout:
    version: int = 0
    categories: tuple[Category, ...] = ()


def _texts(b: bytes, number: int) -> tuple[str, ...]:
    return tuple(
        wire.text_at(b, a, c)
        for fno, wt, a, c in wire.fields(b, 0, len(b))
        if fno == number and wt == wire.LEN
    )


def _chart(b: bytes) -> Chart:
    fs = wire.message_fields(b)
    title = wire.text_field(fs, 1)
    kind = MULTILINE
    tags: tuple[str, ...] = ()
    series: tuple[MarginSeries, ...] = ()
    # A oneof: the last content field on the wire wins, as protobuf parsers do.
    for fno, wt, a, c in wire.fields(b, 0, len(b)):
        if fno == 2 and wt == wire.LEN:
            kind, tags, series = MULTILINE, _texts(b[a:c], 1), ()
        elif fno == 3 and wt == wire.LEN:
            kind, tags = MARGIN, ()
            series = tuple(
                MarginSeries(wire.text_field(s, 1), wire.text_field(s, 2), wire.text_field(s, 3))
                for s in map(wire.message_fields, wire.sub_messages(b[a:c], 1))
            )
    return Chart(title, kind, tags, series)


def decode_layout(data: bytes) -> Layout:
    """The Layout message in `data` (DecodeError when it is not one)."""
    fs = wire.message_fields(data)
    categories = []
    for cat in wire.subs(fs, 2):
        cf = wire.message_fields(cat)
        charts = tuple(_chart(c) for c in wire.subs(cf, 2))
        categories.append(Category(wire.text_field(cf, 1), charts, bool(wire.int_field(cf, 3))))
    return Layout(wire.int_field(fs, 1), tuple(categories))


@dataclass(slots=True)
class _Merging:
    title: str
    charts: list[Chart]
    closed: bool


def merge_layouts(layouts: Iterable[Layout]) -> Layout:
    """The layouts in one, in the given (run) order, as TensorBoard's `layout_impl`: the first
    layout's categories as they are; a later category whose title was seen gets its charts
    appended to that category, skipping charts equal to one it already holds; a new title is
    a new category at the end. (TensorBoard keeps merging into a category first seen in a later
    run through the source layout's object and so drops a third run's charts for it; here every
    category is merged by title alike.) The version is the first layout's."""
    merged: list[_Merging] = []
    by_title: dict[str, _Merging] = {}
    version: int | None = None
    for layout in layouts:
        first = version is None
        if first:
            version = layout.version
        for cat in layout.categories:
            known = None if first else by_title.get(cat.title)
            if known is None:
                entry = _Merging(cat.title, list(cat.charts), cat.closed)
                merged.append(entry)
                by_title[cat.title] = entry
            else:
                known.charts.extend([c for c in cat.charts if c not in known.charts])
    cats = tuple(Category(m.title, tuple(m.charts), m.closed) for m in merged)
    return Layout(version or 0, cats)


@dataclass(frozen=True, slots=True)
class RunLayouts:
    """The merged layout of some runs and what could not be read."""

    layout: Layout
    runs: tuple[str, ...] = ()
    """The runs that hold a layout, in merge order."""
    warnings: tuple[ReadWarning, ...] = field(default_factory=tuple)
    """A layout that is not a Layout message (named by run)."""


def latest_layout_bytes(values: Iterable[object]) -> bytes | None:
    """The serialized Layout of a run's `custom_scalars__config__` values: the latest one
    (TensorBoard reads that tag with downsample=1, which keeps the last point)."""
    found: bytes | None = None
    for v in values:
        if isinstance(v, TensorValue) and v.plugin == CUSTOM_SCALARS and isinstance(v.data, bytes):
            found = v.data
    return found


def layout_of(named_values: Iterable[tuple[str, Iterable[object]]]) -> RunLayouts:
    """The merged layout of runs given as (run name, its CONFIG_TAG values), sorted by run name
    as TensorBoard merges them. A run whose layout cannot be decoded is skipped with a warning."""
    layouts: list[Layout] = []
    runs: list[str] = []
    warnings: list[ReadWarning] = []
    for name, values in sorted(named_values, key=lambda nv: nv[0]):
        data = latest_layout_bytes(values)
        if data is None:
            continue
        try:
            layouts.append(decode_layout(data))
        except DecodeError as e:
            warnings.append(ReadWarning(name, f"custom scalars layout unreadable: {e}"))
            continue
        runs.append(name)
    return RunLayouts(merge_layouts(layouts), tuple(runs), tuple(warnings))
