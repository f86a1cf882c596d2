"""Plain data shared by every layer: warnings, parsed batches and the value records.

Owns: the frozen, slotted record types that readers produce and the store hands out.
Must not import: textual, rich, or anything else from tuiboard (this is the bottom layer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The kinds of data a tag can hold. Plugins we do not know keep their own plugin name as kind.
SCALARS = "scalars"
HISTOGRAMS = "histograms"
IMAGES = "images"
AUDIO = "audio"
TEXT = "text"
PR_CURVES = "pr_curves"
HPARAMS = "hparams"
MESH = "mesh"
CUSTOM_SCALARS = "custom_scalars"
GRAPH = "graph"
EMBEDDINGS = "embeddings"

KNOWN_KINDS = (
    SCALARS,
    HISTOGRAMS,
    IMAGES,
    AUDIO,
    TEXT,
    PR_CURVES,
    HPARAMS,
    MESH,
    CUSTOM_SCALARS,
    GRAPH,
    EMBEDDINGS,
)

# SessionLog.status values (tfevents-format.md).
SESSION_START = 1
SESSION_STOP = 2
SESSION_CHECKPOINT = 3


@dataclass(frozen=True, slots=True)
class ReadWarning:
    """Something wrong with the input that the user can act on; shown, never raised."""

    file: str
    """Path of the file (or directory) concerned, as given to the reader."""
    message: str
    offset: int | None = None
    """Byte offset of the damaged record in a binary file, when known."""
    line: int | None = None
    """1-based line number in a text file, when known."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file}
        if self.offset is not None:
            out["offset"] = self.offset
        if self.line is not None:
            out["line"] = self.line
        out["message"] = self.message
        return out


@dataclass(slots=True)
class ScalarColumns:
    """The scalar points of one tag read from one chunk of one file, in file order."""

    step: np.ndarray
    """int64."""
    wall_time: np.ndarray
    """float64; NaN where the format does not say (JSONL without a time key)."""
    value: np.ndarray
    """float32 when every source value was a float32, else float64."""
    seq: np.ndarray
    """int64 position of each point's record/line within the chunk (orders it against
    SessionMarks of the same chunk); non-decreasing."""

    def __len__(self) -> int:
        return int(self.step.shape[0])


@dataclass(frozen=True, slots=True)
class TagMeta:
    """SummaryMetadata of a tag; writers often send it only with the first value."""

    plugin: str
    display_name: str = ""
    description: str = ""
    content: bytes = b""
    data_class: int = 0


@dataclass(frozen=True, slots=True)
class SessionMark:
    """A SessionLog event (START / STOP / CHECKPOINT)."""

    status: int
    step: int
    wall_time: float
    seq: int
    checkpoint_path: str = ""
    msg: str = ""


@dataclass(frozen=True, slots=True)
class HistogramValue:
    """One histogram at one step. Buckets are [left[i], right[i]) with counts[i].

    From a HistogramProto: right = bucket_limit exactly, left = [min] + bucket_limit[:-1];
    from a [k, 3] tensor: its three columns. Display code clamps infinite/huge edges to min/max.
    """

    step: int
    wall_time: float
    left: np.ndarray
    right: np.ndarray
    counts: np.ndarray
    count: float
    min: float
    max: float
    sum: float | None = None
    """None where the format has none (tensor form)."""
    sum_squares: float | None = None


@dataclass(frozen=True, slots=True)
class ImageValue:
    step: int
    wall_time: float
    width: int
    height: int
    content_type: str
    """"image/png", "image/jpeg", ... sniffed from the bytes."""
    images: tuple[bytes, ...]
    """Encoded images (the tensor form may carry several per step)."""
    captions: tuple[str, ...] = ()
    """One caption per image (W&B's and tuiboard.Image's `caption`), "" where an image has
    none; empty when no image has one (tfevents images never do)."""


@dataclass(frozen=True, slots=True)
class AudioValue:
    step: int
    wall_time: float
    sample_rate: float
    num_channels: int
    length_frames: int
    content_type: str
    clips: tuple[bytes, ...]
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextValue:
    step: int
    wall_time: float
    shape: tuple[int, ...]
    cells: tuple[str, ...]
    """Row-major cells of the string tensor (one cell for a rank-0 text)."""

    @property
    def text(self) -> str:
        return "\n".join(self.cells)


@dataclass(frozen=True, slots=True)
class PrCurveValue:
    step: int
    wall_time: float
    num_thresholds: int
    tp: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    fn: np.ndarray
    precision: np.ndarray
    recall: np.ndarray


@dataclass(frozen=True, slots=True)
class MeshValue:
    step: int
    wall_time: float
    component: str
    """"vertices", "faces" or "colors" (from MeshPluginData.content_type)."""
    shape: tuple[int, ...]
    data: np.ndarray


@dataclass(frozen=True, slots=True)
class GraphValue:
    step: int
    wall_time: float
    node_count: int
    data: bytes
    """The serialized GraphDef (or meta graph / run metadata), kept as bytes."""
    source: str = "graph_def"


@dataclass(frozen=True, slots=True)
class HParamsValue:
    step: int
    wall_time: float
    kind: str
    """"experiment", "session_start" or "session_end"."""
    hparams: dict[str, Any] = field(default_factory=dict)
    """session_start: name -> number | str | bool | None."""
    status: int | None = None
    """session_end: the status enum (1 success, 2 failure, 3 running, 4 unknown...)."""
    metrics: tuple[str, ...] = ()
    """experiment: the metric tags it declares."""
    extra: dict[str, Any] = field(default_factory=dict)
    """The other fields of the message (group_name, start_time_secs, ...)."""


@dataclass(frozen=True, slots=True)
class TensorValue:
    """A value of a plugin we don't model (and custom_scalars' layout, kept as its content)."""

    step: int
    wall_time: float
    plugin: str
    dtype: str
    shape: tuple[int, ...]
    data: Any
    """numpy array for numeric tensors, tuple[bytes, ...] for strings, bytes for layouts."""


@dataclass(frozen=True, slots=True)
class EmbeddingInfo:
    """One `embeddings { ... }` entry of a projector_config.pbtxt, with what was found on disk."""

    tensor_name: str
    tensor_path: str
    metadata_path: str
    shape: tuple[int, ...]
    """(rows, dims) of tensors.tsv when it could be read, else ()."""
    metadata_rows: int = 0
    sprite_path: str = ""
    sprite_dim: tuple[int, ...] = ()
    """The sprite's `single_image_dim`: (width, height) of one thumbnail, as written."""


ValueRecord = (
    HistogramValue
    | ImageValue
    | AudioValue
    | TextValue
    | PrCurveValue
    | MeshValue
    | GraphValue
    | HParamsValue
    | TensorValue
)


@dataclass(frozen=True, slots=True)
class RunMeta:
    """What a run says about itself beyond its series: W&B's RunRecord, exit record, summary and
    define_metric records (wandb-format.md), our own logging API's run file. Formats without
    such records leave the defaults. The loader replaces it whole (it is frozen)."""

    display_name: str = ""
    """The name the user gave the run (W&B's display name), shown beside the run's path name."""
    run_id: str = ""
    project: str = ""
    group: str = ""
    job_type: str = ""
    tags: tuple[str, ...] = ()
    notes: str = ""
    host: str = ""
    start_time: float | None = None
    """Unix seconds."""
    resumed: bool = False
    exit_code: int | None = None
    """The exit record's code; None while there is none (a live or crashed run)."""
    runtime: float | None = None
    """Seconds, from the exit record."""
    summary: dict[str, Any] = field(default_factory=dict)
    """Flat key ("a/b" for nested keys) -> value, as the writer's summary says (for W&B a
    define_metric summary is a dict such as {"max": 0.9}). Internal keys (leading "_") dropped."""
    step_metrics: dict[str, str] = field(default_factory=dict)
    """Tag -> the tag to use as its x axis (W&B's define_metric(step_metric=...)); glob
    patterns are resolved by the reader when it can, else kept as given."""
    console: tuple[str, ...] = ()
    """Paths of the run's console logs (W&B's files/output.log), oldest first."""
    console_records: tuple[str, ...] = ()
    """The console the run file itself holds (W&B's output records), oldest first, as raw
    lines each ending with "\\n" (the last one may be unended: the line being written), escapes
    and `\\r` states as written (a long line: as it displays): render them with core.console.
    Bounded (the last core.console.MAX_LINES lines). Empty when the file holds none, and when
    the run has a console file (`console`): that file is the whole console, so the records are
    not kept (memory: hundreds of chatty runs)."""
    console_dropped: int = 0
    """Ended lines of `console_records` no longer kept (they fell off the front)."""


@dataclass(slots=True)
class Parsed:
    """Everything one read of one file yielded, in file order. Readers fill it; the loader
    applies it to the store. `seq` numbers order scalars, values and session marks."""

    scalars: dict[str, ScalarColumns] = field(default_factory=dict)
    values: list[tuple[str, str, int, ValueRecord]] = field(default_factory=list)
    """(kind, tag, seq, record) in file order."""
    metadata: dict[str, TagMeta] = field(default_factory=dict)
    """Metadata first seen in this chunk, by tag."""
    sessions: list[SessionMark] = field(default_factory=list)
    warnings: list[ReadWarning] = field(default_factory=list)
    file_version: str | None = None
    records: int = 0
    """How many records/lines were read (for progress and rate figures)."""
