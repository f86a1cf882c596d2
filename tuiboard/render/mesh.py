"""Meshes and point clouds in braille: every vertex projected in perspective at once, edges
rasterised by vectorised line sampling, the nearest dot of each cell giving its colour.

Owns: `Camera` (turn, tilt, zoom, field of view), `project`, `front_facing`, `mesh_text` (a
mesh sample + camera + size -> Text), `mesh_info`, `mesh_block` and `plot_blocks`
(`plot --kind mesh`).
Must not import: textual, tuiboard.ui.

Choices, stated once:
- Axes as three.js (TensorBoard's viewer): x right, y up, z towards the viewer. The mesh is
  centred on the middle of its bounding box and scaled into the unit sphere; the camera looks
  at the centre from the distance where that sphere fills 95 % of the view (TensorBoard's
  "Display all points" fits the bounding box the same way, with a 1.25 margin). The field of
  view is 30°, not TensorBoard's 75°: a mesh turned so that a corner comes near a 75° camera
  is too distorted to read in braille. (add_mesh's config_dict, three.js camera, lights and
  material settings, has nothing a wireframe can use and is not read.)
- The camera turns the mesh, as dragging it does: `yaw` turns it about the vertical axis (its
  front goes right for yaw > 0), then `tilt` about the horizontal screen axis (its front goes
  up for tilt > 0). The default (yaw 35°, tilt -25°) shows it from the front right, a little
  from above. `zoom` scales the picture (the camera does not move, so nothing ever gets behind
  it).
- Braille dots are about square (a cell is 2 x 4 dots and about twice as tall as wide), so one
  scale serves both axes: the unit sphere's outline fits the smaller of width and height.
- Faces draw as a wireframe with hidden lines removed the way TensorBoard's viewer hides them
  (three.js draws the front side of a face only, counter-clockwise as seen): the faces turned
  away are left out, with the vertices only they use. `back_faces` shows every face (x-ray).
  No faces: one dot per vertex.
- A cell's colour is that of its dot nearest the camera: the vertex colour (interpolated along
  an edge) where colours are given, else the run's colour; both faded toward the theme's
  background with distance (a depth cue, 8 levels: the far side of the sphere at 45 % of its
  colour; darkened on a dark background, lightened on a light one), since a wireframe shows
  front and back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from rich.color import Color, ColorParseError, ColorTriplet, ColorType
from rich.style import Style
from rich.text import Span, Text

from tuiboard.core.mesh import (
    MeshFrame,
    MeshSample,
    mesh_frames,
    mesh_names,
    mesh_sample,
    unit_sphere,
)
from tuiboard.render.canvas import fit_text, join_lines
from tuiboard.render.plot_request import block_head, value_at_step
from tuiboard.render.raster import BRAILLE_BASE, braille_bits, rasterize_segments
from tuiboard.render.sanitize import clean
from tuiboard.render.theme import Theme

if TYPE_CHECKING:
    from tuiboard.render.plot_request import PlotRequest

DEFAULT_FOV = 30.0
"""Vertical field of view, degrees (see above)."""
FIT = 0.95
"""Share of the view's smaller side the unit sphere fills at zoom 1."""
_SHADES = 8
_FAR_SHADE = 0.45
_MARK = "⚠"


@dataclass(frozen=True, slots=True)
class Camera:
    yaw: float = 35.0
    """Degrees the mesh is turned about the vertical axis (its front to the right when > 0)."""
    tilt: float = -25.0
    """Degrees it is then tilted about the horizontal screen axis (its front up when > 0)."""
    zoom: float = 1.0
    """Picture scale; 1 = the bounding sphere just fits."""
    fov: float = DEFAULT_FOV
    """Vertical field of view in degrees, in (0, 180)."""

    def turned(self, d_yaw: float, d_tilt: float) -> Camera:
        return replace(
            self,
            yaw=(self.yaw + d_yaw + 180) % 360 - 180,
            tilt=(self.tilt + d_tilt + 180) % 360 - 180,
        )

    def zoomed(self, factor: float) -> Camera:
        return replace(self, zoom=min(64.0, max(1 / 16, self.zoom * factor)))


def _rotation(camera: Camera) -> np.ndarray:
    """Turn about y (front (0, 0, 1) to (sin a, 0, cos a)), then tilt about x (front to
    (0, sin b, cos b)): the matrix applied to column vectors."""
    a = math.radians(camera.yaw)
    b = math.radians(camera.tilt)
    turn = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    tilt = np.array([[1, 0, 0], [0, math.cos(b), math.sin(b)], [0, -math.sin(b), math.cos(b)]])
    return tilt @ turn


def _half_fov(camera: Camera) -> float:
    return math.radians(min(max(camera.fov, 1.0), 170.0)) / 2


def _view(
    unit: np.ndarray, camera: Camera, w: int, h: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit-sphere vertices by axis ([3, N]) to dots: (x right, y down, distance from the
    camera). Element-wise, not a matrix product: BLAS threads cost more than they save here."""
    m = _rotation(camera)
    x, y, z = unit[0], unit[1], unit[2]
    half = _half_fov(camera)
    depth = 1.0 / math.sin(half) - (m[2, 0] * x + m[2, 1] * y + m[2, 2] * z)
    scale = camera.zoom * FIT * (min(w, h) - 1) / 2.0 / math.tan(half)
    k = scale / depth
    px = (w - 1) / 2.0 + (m[0, 0] * x + m[0, 1] * y + m[0, 2] * z) * k
    py = (h - 1) / 2.0 - (m[1, 0] * x + m[1, 1] * y + m[1, 2] * z) * k
    return px, py, depth


def project(
    vertices: np.ndarray, camera: Camera, w: int, h: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, distance, finite) of every vertex on a `w` x `h` dot grid: x right and y down in
    dots (float; the centre of the view is ((w-1)/2, (h-1)/2)), the distance from the camera
    in units of the bounding sphere's radius (between D-1 and D+1, D = 1 / sin(fov / 2)), and
    which vertices had finite coordinates."""
    unit, finite = unit_sphere(vertices)
    px, py, depth = _view(np.ascontiguousarray(unit.T), camera, w, h)
    return px, py, depth, finite


# -- hidden lines ------------------------------------------------------------------------------


def _signed_area(fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """Twice the signed area of each projected triangle (rows of fx, fy: its corners' dots)."""
    return (fx[:, 1] - fx[:, 0]) * (fy[:, 2] - fy[:, 0]) - (fy[:, 1] - fy[:, 0]) * (
        fx[:, 2] - fx[:, 0]
    )


def front_facing(faces: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Which triangles face the camera: counter-clockwise as seen (three.js's front side; on
    the dot grid, whose y grows downwards, that is a negative signed area). Edge-on ones
    (area 0) count as facing it."""
    return np.asarray(_signed_area(px[faces], py[faces]) <= 0, dtype=bool)


def _long_sides(
    faces: np.ndarray, px: np.ndarray, py: np.ndarray, cull: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(a, b, span, used) of the sides of the faces shown (those facing the camera when
    `cull`) whose ends do not touch on the dot grid: their ends' vertex indexes, the ceiling
    of their longer axis in dots (>= 2), and which vertices the shown faces use (None: all).
    A side two shown faces share comes twice: finding the distinct edges (a sort of 3F pairs)
    costs more than sampling the few long ones twice."""
    fx = px[faces]
    fy = py[faces]
    used = None
    if cull:
        keep = _signed_area(fx, fy) <= 0
        faces, fx, fy = faces[keep], fx[keep], fy[keep]
        used = np.zeros(px.shape[0], dtype=bool)
        used[faces.reshape(-1)] = True
    nxt = [1, 2, 0]
    span = np.ceil(np.maximum(np.abs(fx[:, nxt] - fx), np.abs(fy[:, nxt] - fy)))
    face, side = np.nonzero(span >= 2.0)  # NaN ends compare False: never drawn
    a = faces[face, side]
    b = faces[face, (side + 1) % 3]
    return a, b, span[face, side].astype(np.int64), used


# -- drawing -------------------------------------------------------------------------------------


def _rgb_of(colour: str) -> int:
    try:
        triplet = Color.parse(colour).get_truecolor()
    except ColorParseError:
        return 0xC0C0C0
    return (triplet.red << 16) | (triplet.green << 8) | triplet.blue


def _shade(rgb: np.ndarray, depth: np.ndarray, near: float, fade_to: int = 0) -> np.ndarray:
    """rgb (k, 3) faded toward `fade_to` (0xRRGGBB, the theme's background: black on a dark
    one, so darkened) by distance: 100 % itself at the sphere's front, _FAR_SHADE at its back,
    in _SHADES steps; each channel rounded to a multiple of 8 (255 stays 255); packed as
    0xRRGGBB ints."""
    t = np.clip((depth - near) / 2.0, 0.0, 1.0)
    level = np.minimum((t * _SHADES).astype(np.int64), _SHADES - 1)
    factor = (1.0 - (1.0 - _FAR_SHADE) * level / (_SHADES - 1))[:, None]
    back = np.array([fade_to >> 16, (fade_to >> 8) & 255, fade_to & 255], dtype=np.float64)
    c = np.clip(np.rint(rgb * factor + back * (1.0 - factor)), 0, 255).astype(np.int64)
    # To 32 levels a channel (steps of 8, invisible in a braille dot): colours interpolated
    # along edges then repeat, so neighbouring cells share spans and styles are reused.
    c = np.minimum(((c + 4) >> 3) << 3, 255)
    return (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]


_STYLES: dict[int, Style] = {}
"""0xRRGGBB -> its Style, kept across drawings (turning a mesh reuses its colours). Touched
from worker threads: only single dict reads and writes, atomic in CPython."""
_MAX_STYLES = 1 << 16


def _cells_text(bits: np.ndarray, keys: np.ndarray, color: bool) -> Text:
    """Braille cells (rows x cols bit masks) as Text, one span per run of one colour in a row
    (keys: 0xRRGGBB per cell, -1 for none)."""
    rows, cols = bits.shape
    grid = np.full((rows, cols + 1), 0x20, dtype=np.uint32)
    grid[:, :cols] = np.where(bits != 0, BRAILLE_BASE + bits.astype(np.uint32), 0x20)
    grid[:, cols] = 0x0A
    plain = grid.tobytes().decode("utf-32-le")[:-1] if rows else ""
    if not color or rows == 0 or cols == 0:
        return Text(plain, no_wrap=True, overflow="crop")
    k = np.where(bits != 0, keys, -1)
    new_run = np.ones((rows, cols), dtype=bool)
    new_run[:, 1:] = k[:, 1:] != k[:, :-1]
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], rows * cols)  # every row starts a run: none crosses a line end
    run_keys = k.reshape(-1)[starts]
    keep = run_keys >= 0
    starts, ends, run_keys = starts[keep], ends[keep], run_keys[keep]
    offsets = (starts // cols) * (cols + 1) + starts % cols
    styles = _STYLES
    if len(styles) > _MAX_STYLES:
        styles.clear()
    spans = []
    for a, n, key in zip(
        offsets.tolist(), (ends - starts).tolist(), run_keys.tolist(), strict=True
    ):
        style = styles.get(key)
        if style is None:
            rgb = ColorTriplet(key >> 16, (key >> 8) & 255, key & 255)
            fg = Color(f"#{key:06x}", ColorType.TRUECOLOR, None, rgb)  # positional: fast
            style = styles[key] = Style.from_color(fg)
        spans.append(Span(a, a + n, style))
    return Text(plain, spans=spans, no_wrap=True, overflow="crop")


def _interiors(
    px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray, span: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dots strictly between the ends of segments a[k] -> b[k], both ends in view, `span`
    the ceiling of each one's longer side in dots: at t = i / span for i = 1 .. span - 1, so
    consecutive dots (ends included) are at most one dot apart on either axis. Returns
    (columns, rows, segment index of each dot)."""
    m = np.maximum(span - 1, 0)
    total = int(m.sum())
    seg = np.repeat(np.arange(a.shape[0]), m)
    i = np.arange(1, total + 1) - np.repeat(np.cumsum(m) - m, m)
    t = i / span[seg]
    ea, eb = a[seg], b[seg]
    xi = np.rint(px[ea] + t * (px[eb] - px[ea])).astype(np.int64)
    yi = np.rint(py[ea] + t * (py[eb] - py[ea])).astype(np.int64)
    return xi, yi, seg


def mesh_text(
    sample: MeshSample,
    camera: Camera,
    cols: int,
    rows: int,
    colour: str,
    theme: Theme,
    *,
    back_faces: bool = False,
) -> Text:
    """`sample` seen through `camera` in exactly `cols` x `rows` braille cells: a wireframe of
    its faces, or its vertices as dots; coloured (when `theme.color`) by vertex colour, else
    `colour`, faded toward the theme's background with distance.

    Hidden lines go as TensorBoard's viewer hides them (three.js draws a mesh's front side
    only): the sides of the faces turned to the camera are drawn, and the vertices they use;
    `back_faces` draws every face and vertex (x-ray).
    Every vertex shown is a dot; an edge adds the dots between its ends only when they do not
    touch already (a dense mesh's edges mostly do), sampled along it (`_interiors`), or, when
    an end is out of view, by `rasterize_segments`, which clips it to the view first."""
    cols, rows = max(0, cols), max(0, rows)
    w, h = cols * 2, rows * 4
    n = sample.vertices.shape[0]
    if w == 0 or h == 0 or n == 0:
        return _cells_text(np.zeros((rows, cols), np.uint8), np.full((rows, cols), -1), False)
    if sample.unit is None or sample.finite is None:
        unit, finite = unit_sphere(sample.vertices)
        unit = np.ascontiguousarray(unit.T)
    else:
        unit, finite = sample.unit, sample.finite
    px, py, depth = _view(unit, camera, w, h)
    inside = finite & (px > -0.5) & (px < w - 0.5) & (py > -0.5) & (py < h - 0.5)
    edges = np.zeros((0, 2), dtype=np.int64)
    a = b = span = np.zeros(0, dtype=np.int64)
    if sample.faces is not None and sample.faces.shape[0]:
        # Hidden lines: the faces turned away are not drawn at all, nor the vertices only
        # they use.
        a, b, span, used = _long_sides(sample.faces, px, py, cull=not back_faces)
        if used is not None:
            inside &= used
        edges = np.stack((a, b), axis=1)
    vid = np.flatnonzero(inside)
    xs = [np.rint(px[vid]).astype(np.int64)]
    ys = [np.rint(py[vid]).astype(np.int64)]
    ds = [depth[vid]]
    srcs = [vid]
    if a.shape[0]:
        both_in = inside[a] & inside[b]
        ids = np.flatnonzero(both_in)
        xi, yi, seg = _interiors(px, py, a[ids], b[ids], span[ids])
        clipped = np.flatnonzero(~both_in & finite[a] & finite[b])
        if clipped.shape[0]:  # an end out of view (zoomed in): clip it to the view first
            cx, cy, cseg = rasterize_segments(px, py, a[clipped], b[clipped], w, h)
            xi, yi = np.concatenate((xi, cx)), np.concatenate((yi, cy))
            seg = np.concatenate((ids[seg], clipped[cseg]))
        else:
            seg = ids[seg]
        xs.append(xi)
        ys.append(yi)
        ds.append((depth[a[seg]] + depth[b[seg]]) / 2.0)
        srcs.append(n + seg)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    bits = braille_bits(x, y, cols, rows)
    keys = np.full(rows * cols, -1, dtype=np.int64)
    if theme.color and x.shape[0]:
        d = np.concatenate(ds)
        src = np.concatenate(srcs)
        cell = (y >> 2) * cols + (x >> 1)
        zbuf = np.full(rows * cols, np.inf)
        np.minimum.at(zbuf, cell, d)
        win = np.flatnonzero(d <= zbuf[cell])
        keys[cell[win]] = _winner_colours(
            sample,
            edges,
            src[win],
            x[win],
            y[win],
            px,
            py,
            depth,
            colour,
            camera,
            _rgb_of(theme.background),
        )
    return _cells_text(bits, keys.reshape(rows, cols), theme.color)


def _winner_colours(
    sample: MeshSample,
    edges: np.ndarray,
    src: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    depth: np.ndarray,
    colour: str,
    camera: Camera,
    fade_to: int = 0,
) -> np.ndarray:
    """0xRRGGBB of the dots that won their cells: a vertex's own colour and distance, or, on an
    edge, both interpolated at the dot's place along it. `src` < N names a vertex, N + e edge e."""
    n = sample.vertices.shape[0]
    on_edge = src >= n
    a = np.where(on_edge, edges[np.where(on_edge, src - n, 0), 0] if edges.shape[0] else 0, src)
    b = np.where(on_edge, edges[np.where(on_edge, src - n, 0), 1] if edges.shape[0] else 0, src)
    dx = px[b] - px[a]
    dy = py[b] - py[a]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((x - px[a]) * dx + (y - py[a]) * dy) / (dx * dx + dy * dy)
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)
    d = depth[a] + t * (depth[b] - depth[a])
    if sample.colors is not None:
        ca = sample.colors[a].astype(np.float64)
        rgb = ca + t[:, None] * (sample.colors[b].astype(np.float64) - ca)
    else:
        one = _rgb_of(colour)
        rgb = np.broadcast_to(
            np.array([one >> 16, (one >> 8) & 255, one & 255], dtype=np.float64), (x.shape[0], 3)
        )
    return _shade(rgb, d, 1.0 / math.sin(_half_fov(camera)) - 1.0, fade_to)


def mesh_info(sample: MeshSample) -> str:
    """ "8 vertices · 12 faces" (or "· point cloud"), and "· colours" when it has them."""
    n = sample.vertices.shape[0]
    out = f"{n:,} vertices · "
    out += f"{sample.faces.shape[0]:,} faces" if sample.faces is not None else "point cloud"
    if sample.colors is not None:
        out += " · colours"
    return out


def mark(message: str, width: int, theme: Theme) -> Text:
    """A one-line "⚠ message" (what is wrong with a mesh), exactly `width` cells."""
    return fit_text(
        Text(f"{_MARK} {clean(message)}", style=theme.nan if theme.color else ""), width
    )


def mesh_block(
    frame: MeshFrame,
    index: int,
    camera: Camera,
    width: int,
    height: int,
    colour: str,
    theme: Theme,
    *,
    back_faces: bool = False,
) -> Text:
    """Sample `index` of `frame` in `width` x `height` cells: the drawing, and its problems as
    a "⚠" line at the top (the drawing then one line shorter); one "⚠" line when it cannot be
    drawn at all. `back_faces`: every edge, hidden or not."""
    sample = mesh_sample(frame, index)
    if isinstance(sample, str):
        return mark(sample, width, theme)
    lines = [mark("; ".join(sample.problems), width, theme)] if sample.problems else []
    body = mesh_text(
        sample, camera, width, max(1, height - len(lines)), colour, theme, back_faces=back_faces
    )
    return join_lines([*lines, body]) if lines else body


# -- plot --mesh ---------------------------------------------------------------------------------


def plot_blocks(req: PlotRequest) -> list[Text]:
    """One block per run x mesh x sample: a head line "name · run · step N · sample i/B ·
    8 vertices · 12 faces" and the mesh from the default camera in `req.width` x `req.height`
    cells."""
    theme = req.theme
    blocks: list[Text] = []
    for run in req.runs:
        colour = req.colours.get(run.name, theme.text)
        for name in mesh_names(run):
            if not req.tag_ok(name):
                continue
            frame = value_at_step(mesh_frames(run, name), req.step)
            if frame is None:
                continue
            camera = Camera()
            for i in range(frame.samples):
                head = block_head(theme, name, run.name, colour, frame.step)
                head.append(f" · sample {i + 1}/{frame.samples}")
                sample = mesh_sample(frame, i)
                if not isinstance(sample, str):
                    head.append(" · " + mesh_info(sample))
                body = mesh_block(frame, i, camera, req.width, req.height, colour, theme)
                blocks.append(join_lines([fit_text(head, req.width), body]))
    return blocks
