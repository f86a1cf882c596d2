"""Meshes as TensorBoard's mesh plugin shows them: the up to three tags one `add_mesh` writes
(vertices, faces, colours) grouped back into one mesh per (run, name, step), with B samples.

Owns: `MeshFrame` (one step of one mesh), `MeshSample` (one sample, checked and ready to draw),
`mesh_names`, `mesh_frames`, `mesh_sample`, `unit_sphere` and `mesh_version`.
Must not import: textual, rich, tuiboard.render or tuiboard.ui.

Rules (TensorBoard's plugins/mesh: summary_v2.py, metadata.py, mesh_plugin.py):
- Each component is its own tag: `<name>_VERTEX`, `<name>_FACE`, `<name>_COLOR` from
  TensorBoard's summary (float32, int32, uint8), `<name>_1`, `_2`, `_3` from tensorboardX's
  add_mesh (everything float32). The tag's MeshPluginData says which mesh (field 2, `name`) and
  which component (field 3, `content_type`); a tag without it falls back to its suffix.
- Every component is `[B, N, 3]`; B is the number of samples (one card each). A step's mesh is
  the components written at exactly that step (TensorBoard's /data route filters by step); the
  steps are those of the vertices. Faces missing at a step: a point cloud, as TensorBoard.
- Faces are read as integers of any width: TensorBoard's WebGL code reads them as Uint16 and
  breaks past 65,535 vertices (#5329); here an index is whatever the writer stored (int32, or
  float32 holding integers exactly up to 2**24 from tensorboardX). A face indexing outside
  [0, N) is left out and counted, never drawn to a wrong vertex.
- Colours are RGB 0-255 per vertex; floats (tensorboardX) are rounded and clipped to 0-255.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuiboard.core import wire
from tuiboard.core.types import MESH, MeshValue
from tuiboard.core.wire import DecodeError

if TYPE_CHECKING:
    from tuiboard.core.logdir import Run

VERTICES = "vertices"
FACES = "faces"
COLORS = "colors"
_SUFFIXES = {
    "_VERTEX": VERTICES,
    "_FACE": FACES,
    "_COLOR": COLORS,
    "_1": VERTICES,
    "_2": FACES,
    "_3": COLORS,
}
_CONTENT_TYPES = {1: VERTICES, 2: FACES, 3: COLORS}


@dataclass(frozen=True, slots=True)
class MeshTag:
    """What a mesh component tag's MeshPluginData says."""

    name: str
    """The mesh's name (the `add_mesh` tag)."""
    component: str
    """VERTICES, FACES, COLORS, or "" when it says neither."""
    config: str = ""
    """The json_config as written (config_dict: camera, lights, material)."""


def mesh_tag(tag: str, content: bytes) -> MeshTag:
    """The mesh and component of a tag, from its plugin content, else from its suffix."""
    name = ""
    component = ""
    config = ""
    if content:
        try:
            fs = wire.message_fields(content)
            name = wire.text_field(fs, 2)
            component = _CONTENT_TYPES.get(wire.int_field(fs, 3), "")
            config = wire.text_field(fs, 5)
        except (DecodeError, ValueError, IndexError):
            name = component = config = ""
    if not name or not component:
        for suffix, comp in _SUFFIXES.items():
            if tag.endswith(suffix):
                return MeshTag(name or tag[: -len(suffix)], component or comp, config)
        return MeshTag(name or tag, component, config)
    return MeshTag(name, component, config)


def mesh_names(run: Run) -> dict[str, dict[str, str]]:
    """Mesh name -> {component: its tag} of one run, names sorted."""
    out: dict[str, dict[str, str]] = {}
    for tag in run.tags(MESH):
        meta = run.metadata(tag)
        info = mesh_tag(tag, meta.content if meta is not None else b"")
        if info.component:
            out.setdefault(info.name, {})[info.component] = tag
    return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class MeshFrame:
    """One mesh at one step: its components as stored (each [B, N, 3], any dtype)."""

    step: int
    wall_time: float
    vertices: np.ndarray
    faces: np.ndarray | None = None
    colors: np.ndarray | None = None
    config: str = ""

    @property
    def samples(self) -> int:
        """B, the number of meshes written at this step (1 when the shape is not [B, N, 3])."""
        return int(self.vertices.shape[0]) if self.vertices.ndim == 3 else 1


def _by_step(run: Run, tag: str | None) -> dict[int, MeshValue]:
    if tag is None:
        return {}
    return {v.step: v for v in run.values(MESH, tag) if isinstance(v, MeshValue)}


def mesh_frames(run: Run, name: str) -> tuple[MeshFrame, ...]:
    """Every step of mesh `name` in `run`, in step order (the vertices' steps)."""
    tags = mesh_names(run).get(name)
    if not tags or VERTICES not in tags:
        return ()
    faces = _by_step(run, tags.get(FACES))
    colors = _by_step(run, tags.get(COLORS))
    meta = run.metadata(tags[VERTICES])
    config = mesh_tag(tags[VERTICES], meta.content if meta is not None else b"").config
    out = []
    for v in run.values(MESH, tags[VERTICES]):
        if not isinstance(v, MeshValue):
            continue
        f = faces.get(v.step)
        c = colors.get(v.step)
        out.append(
            MeshFrame(
                v.step,
                v.wall_time,
                v.data,
                None if f is None else f.data,
                None if c is None else c.data,
                config,
            )
        )
    return tuple(out)


def mesh_version(run: Run, name: str) -> int:
    """Changes whenever one of the mesh's component series does."""
    tags = mesh_names(run).get(name, {})
    return sum(run.series_version(MESH, t) + 1 for t in tags.values())


@dataclass(frozen=True, slots=True)
class MeshSample:
    """One sample of a MeshFrame, checked: what the renderer draws."""

    vertices: np.ndarray
    """float64 [N, 3]; rows with a NaN or infinite coordinate are kept (the renderer skips
    them) so that face indexes stay valid."""
    faces: np.ndarray | None
    """int64 [F, 3], every index in [0, N); None: a point cloud."""
    colors: np.ndarray | None
    """uint8 [N, 3]; None: the run's colour."""
    problems: tuple[str, ...] = ()
    """What was wrong and left out (shown as a mark on the card)."""
    unit: np.ndarray | None = None
    """float64 [3, N], C-contiguous: x, y and z of the vertices moved to their bounding box's
    centre and scaled into the unit sphere (vertices that are not finite: zeros), computed once
    for every view of it (by axis, so that turning it is nine whole-row multiply-adds)."""
    finite: np.ndarray | None = None
    """bool [N]: which vertices have three finite coordinates."""


def unit_sphere(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices [N, 3] moved to their bounding box's centre and scaled into the unit sphere, and
    the mask of finite rows (rows that are not finite come out as zeros)."""
    v = np.asarray(vertices, dtype=np.float64)
    fin = np.isfinite(v)
    finite = fin[:, 0] & fin[:, 1] & fin[:, 2]  # (faster than .all(axis=1) on a short axis)
    if not finite.any():
        return np.zeros_like(v), finite
    good = v[finite] if not finite.all() else v
    centre = (good.min(axis=0) + good.max(axis=0)) / 2.0
    p = v - centre
    if not finite.all():
        p[~finite] = 0.0
    radius = float(np.sqrt(np.einsum("ij,ij->i", p, p).max()))
    if radius > 0 and np.isfinite(radius):
        p /= radius
    return p, finite


def _sample_of(a: np.ndarray, i: int) -> np.ndarray:
    """Sample i of a [B, N, 3] array (a component written with B = 1 serves every sample)."""
    return a[min(i, a.shape[0] - 1)]


_SAMPLE_CACHE_ITEMS = 32
_sample_lock = threading.Lock()
_sample_cache: OrderedDict[tuple[int, int, int, int], tuple[MeshFrame, MeshSample | str]] = (
    OrderedDict()
)
"""(ids of the frame's three arrays, index) -> (the frame, its sample). The store hands out the
same arrays each time, so turning a mesh checks it once; holding the frame keeps the ids from
being reused."""


def mesh_sample(frame: MeshFrame, index: int) -> MeshSample | str:
    """Sample `index` of `frame`, or why it cannot be drawn at all (cached: the same arrays
    give the same MeshSample object, whose faces array the renderer caches edges for)."""
    key = (id(frame.vertices), id(frame.faces), id(frame.colors), index)
    with _sample_lock:
        hit = _sample_cache.get(key)
        if hit is not None and _same_arrays(hit[0], frame):
            _sample_cache.move_to_end(key)
            return hit[1]
    out = _check_sample(frame, index)
    with _sample_lock:
        _sample_cache[key] = (frame, out)
        while len(_sample_cache) > _SAMPLE_CACHE_ITEMS:
            _sample_cache.popitem(last=False)
    return out


def _same_arrays(a: MeshFrame, b: MeshFrame) -> bool:
    return a.vertices is b.vertices and a.faces is b.faces and a.colors is b.colors


def _check_sample(frame: MeshFrame, index: int) -> MeshSample | str:
    v = frame.vertices
    if v.ndim != 3 or v.shape[2] != 3:
        return f"vertices of shape {list(v.shape)}, not [B, N, 3]"
    if not 0 <= index < v.shape[0]:
        return f"no sample {index + 1} (this step has {v.shape[0]})"
    if not np.issubdtype(v.dtype, np.number):
        return f"vertices of type {v.dtype}"
    verts = np.asarray(v[index], dtype=np.float64)
    n = verts.shape[0]
    problems: list[str] = []
    faces: np.ndarray | None = None
    f = frame.faces
    if f is not None:
        if (
            f.ndim != 3
            or f.shape[2] != 3
            or f.shape[0] == 0
            or not np.issubdtype(f.dtype, np.number)
        ):
            problems.append(f"faces of shape {list(f.shape)} ignored")
        else:
            raw = _sample_of(f, index)
            if np.issubdtype(raw.dtype, np.integer):
                idx = raw.astype(np.int64)
                whole = np.ones(idx.shape[0], dtype=bool)
            else:
                fl = raw.astype(np.float64)
                integral = np.isfinite(fl) & (np.floor(fl) == fl)
                whole = integral[:, 0] & integral[:, 1] & integral[:, 2]
                idx = np.where(np.isfinite(fl), fl, -1).astype(np.int64)
            if idx.size and whole.all() and idx.min() >= 0 and idx.max() < n:
                ok = whole  # the usual case, checked without a per-face pass
            else:
                inside = (idx >= 0) & (idx < n)
                ok = whole & inside[:, 0] & inside[:, 1] & inside[:, 2]
            bad = int(idx.shape[0] - np.count_nonzero(ok))
            if bad:
                problems.append(f"{bad} of {idx.shape[0]} faces index past the {n} vertices")
            faces = idx[ok] if bad else idx
    colors: np.ndarray | None = None
    c = frame.colors
    if c is not None:
        if c.ndim != 3 or c.shape[2] != 3 or c.shape[1] != n or c.shape[0] == 0:
            problems.append(f"colours of shape {list(c.shape)} ignored (vertices {list(v.shape)})")
        else:
            raw_c = _sample_of(c, index)
            if raw_c.dtype == np.uint8:
                colors = raw_c
            else:
                fc = np.nan_to_num(raw_c.astype(np.float64), nan=0.0)
                colors = np.clip(np.rint(fc), 0, 255).astype(np.uint8)
    unit, finite = unit_sphere(verts)
    unit = np.ascontiguousarray(unit.T)
    bad_v = int(n - np.count_nonzero(finite))
    if bad_v:
        problems.append(f"{bad_v} vertices with NaN or infinite coordinates skipped")
    return MeshSample(verts, faces, colors, tuple(problems), unit, finite)
