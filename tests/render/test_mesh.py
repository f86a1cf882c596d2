"""Meshes: what add_mesh writes (tensorboardX, and TensorBoard's own mesh summary with int32 faces
and uint8 colours) grouped back into meshes and compared with TensorBoard's reader; the
perspective projection against an independent 4x4-matrix camera; the wireframe and colours.

Owns: the tests of tuiboard/core/mesh.py and tuiboard/render/mesh.py. Must not import: textual.

Writers: tensorboardX's SummaryWriter.add_mesh (every component as DT_FLOAT, tags `<name>_1/2/3`)
and tensorboard's EventFileWriter with tensorboard.plugins.mesh.summary_v2.mesh_pb's exact
protos (tests/audiomesh.tb_mesh_summary: mesh_pb imports TensorFlow only for its dtypes).
Reference: EventAccumulator.Tensors() + tensor_util.make_ndarray for the arrays, the mesh
plugin's metadata.parse_plugin_metadata for names, components and config.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import tuiboard
from tests.audiomesh import CUBE, CUBE_FACES, tb_mesh_summary, write_events
from tests.reference import accumulate
from tests.render.test_audio import dots
from tuiboard.core.mesh import (
    COLORS,
    FACES,
    VERTICES,
    MeshFrame,
    mesh_frames,
    mesh_names,
    mesh_sample,
)
from tuiboard.render.mesh import (
    FIT,
    Camera,
    mesh_block,
    mesh_text,
    project,
)
from tuiboard.render.theme import default_theme

T0 = 1_700_000_000.0
PLAIN = default_theme(color=False)
_KIND = {1: VERTICES, 2: FACES, 3: COLORS}


def reference_meshes(run_dir: Path) -> dict[str, dict[str, list[tuple[int, np.ndarray]]]]:
    """TensorBoard's reading: mesh name -> component -> [(step, array)], via the plugin's
    metadata parser (as mesh_plugin._instance_tags groups them)."""
    from tensorboard.plugins.mesh import metadata
    from tensorboard.util import tensor_util

    acc = accumulate(run_dir)
    out: dict[str, dict[str, list[tuple[int, np.ndarray]]]] = {}
    for tag in acc.Tags()["tensors"]:
        content = acc.SummaryMetadata(tag).plugin_data.content
        md = metadata.parse_plugin_metadata(content)
        arrays = [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
        out.setdefault(md.name, {})[_KIND[md.content_type]] = arrays
    return out


def test_tensorboardx_add_mesh_groups_as_tensorboard_does(tmp_path: Path) -> None:
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(0)
    written = []
    with SummaryWriter(str(tmp_path / "run"), flush_secs=3600) as w:
        for step in (0, 4, 9):
            v = rng.normal(size=(2, 30, 3)).astype(np.float32)
            f = rng.integers(0, 30, (2, 40, 3)).astype(np.int32)
            c = rng.integers(0, 256, (2, 30, 3)).astype(np.uint8)
            w.add_mesh("pc/mesh", v, colors=c, faces=f, config_dict={"a": 1}, global_step=step)
            w.add_mesh("pc/points", v[:1], global_step=step)
            written.append((step, v, f, c))
    run = tuiboard.open(str(tmp_path)).run("run")
    assert run is not None
    ref = reference_meshes(tmp_path / "run")
    assert set(mesh_names(run)) == set(ref) == {"pc/mesh", "pc/points"}
    assert mesh_names(run)["pc/mesh"] == {
        VERTICES: "pc/mesh_1",
        FACES: "pc/mesh_2",
        COLORS: "pc/mesh_3",
    }
    frames = mesh_frames(run, "pc/mesh")
    assert [f.step for f in frames] == [s for s, _ in ref["pc/mesh"][VERTICES]] == [0, 4, 9]
    for frame, (step, v, f, c) in zip(frames, written, strict=True):
        for comp, ours in (
            (VERTICES, frame.vertices),
            (FACES, frame.faces),
            (COLORS, frame.colors),
        ):
            theirs = dict(ref["pc/mesh"][comp])[step]
            np.testing.assert_array_equal(ours, theirs)  # tensorboardX: every component float32
        assert frame.config == '{"a": 1}' and frame.samples == 2
        for i in range(2):
            sample = mesh_sample(frame, i)
            assert not isinstance(sample, str) and sample.problems == ()
            np.testing.assert_array_equal(sample.vertices, v[i])
            np.testing.assert_array_equal(sample.faces, f[i])  # floats back to the ints written
            np.testing.assert_array_equal(sample.colors, c[i])
    (points,) = mesh_frames(run, "pc/points")[-1:]
    assert points.faces is None and points.colors is None
    sample = mesh_sample(points, 0)
    assert not isinstance(sample, str) and sample.faces is None


def test_faces_past_65535_vertices_are_read_as_the_int32_written(tmp_path: Path) -> None:
    """TensorBoard's viewer reads faces as Uint16 and breaks past 65,535 vertices (#5329).
    Here 70,000 vertices sit in a small cluster on the left and three more, indexed only by
    the one big triangle, on the right: the triangle is drawn where those three are."""
    rng = np.random.default_rng(1)
    cluster = rng.uniform(-1.0, -0.8, (70_000, 3))
    cluster[:, 2] = 0.0
    corners = np.array([[0.2, -0.8, 0.0], [1.0, -0.8, 0.0], [0.6, 0.9, 0.0]])
    vertices = np.concatenate([cluster, corners]).astype(np.float32)[None]
    faces = np.array([[[70_000, 70_001, 70_002], [0, 1, 2], [65_535, 65_536, 69_999]]], np.int32)
    write_events(tmp_path / "tb", [(2, T0, tb_mesh_summary("big", vertices, faces=faces))])
    run = tuiboard.open(str(tmp_path)).run("tb")
    assert run is not None
    ref = reference_meshes(tmp_path / "tb")
    ((_, ref_faces),) = ref["big"][FACES]
    assert ref_faces.dtype == np.int32 and int(ref_faces.max()) == 70_002
    (frame,) = mesh_frames(run, "big")
    np.testing.assert_array_equal(frame.faces, ref_faces)
    np.testing.assert_array_equal(frame.vertices, ref["big"][VERTICES][0][1])
    sample = mesh_sample(frame, 0)
    assert not isinstance(sample, str) and sample.problems == ()
    np.testing.assert_array_equal(sample.faces, faces[0])
    cols, rows = 60, 20
    cam = Camera(yaw=0, tilt=0)
    lit = dots(mesh_text(sample, cam, cols, rows, "", PLAIN).plain)
    px, py, _, _ = project(vertices[0], cam, 2 * cols, 4 * rows)
    for a, b in ((70_000, 70_001), (70_001, 70_002), (70_002, 70_000)):
        for t in (0.25, 0.5, 0.75):  # points along the projected edge (a line stays a line)
            x, y = px[a] + t * (px[b] - px[a]), py[a] + t * (py[b] - py[a])
            near = {(round(x) + dx, round(y) + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
            assert near & lit, (a, b, t)
    # Read as Uint16, vertex 70,000 would be 4,464, inside the cluster: nothing would reach
    # the right half of the picture, where the triangle is.
    assert max(x for x, _ in lit) > 2 * cols * 0.7


def test_a_face_past_the_vertices_is_left_out_and_marked() -> None:
    frame = MeshFrame(0, T0, CUBE[None], np.array([[[0, 1, 2], [0, 1, 8], [2.5, 1, 0]]]), None)
    sample = mesh_sample(frame, 0)
    assert not isinstance(sample, str)
    assert sample.problems == ("2 of 3 faces index past the 8 vertices",)
    np.testing.assert_array_equal(sample.faces, [[0, 1, 2]])
    drawn = mesh_block(frame, 0, Camera(), 60, 8, "#ff8700", PLAIN).plain.split("\n")
    assert drawn[0].startswith("⚠ 2 of 3 faces index past the 8 vertices") and len(drawn) == 8
    bad = MeshFrame(0, T0, np.zeros((1, 4)), None, None)
    assert mesh_block(bad, 0, Camera(), 30, 8, "", PLAIN).plain.startswith("⚠ vertices of shape")
    colours = MeshFrame(0, T0, CUBE[None], None, np.zeros((1, 5, 3), np.uint8))
    sample = mesh_sample(colours, 0)
    assert not isinstance(sample, str) and sample.colors is None
    assert "colours of shape [1, 5, 3] ignored" in sample.problems[0]


def test_tb_point_cloud_with_two_samples_and_colours(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    v = rng.normal(size=(2, 50, 3)).astype(np.float32)
    c = rng.integers(0, 256, (2, 50, 3)).astype(np.uint8)
    write_events(tmp_path / "tb", [(1, T0, tb_mesh_summary("cloud", v, colors=c))])
    run = tuiboard.open(str(tmp_path)).run("tb")
    assert run is not None
    assert mesh_names(run) == {"cloud": {VERTICES: "cloud_VERTEX", COLORS: "cloud_COLOR"}}
    ref = reference_meshes(tmp_path / "tb")
    (frame,) = mesh_frames(run, "cloud")
    assert frame.samples == 2 and frame.faces is None
    np.testing.assert_array_equal(frame.colors, ref["cloud"][COLORS][0][1])
    for i in range(2):
        sample = mesh_sample(frame, i)
        assert not isinstance(sample, str)
        np.testing.assert_array_equal(sample.vertices, v[i])
        assert sample.colors is not None and sample.colors.dtype == np.uint8
        np.testing.assert_array_equal(sample.colors, c[i])


# -- projection ----------------------------------------------------------------------------------


def three_js_dots(vertices: np.ndarray, yaw: float, tilt: float, w: int, h: int) -> np.ndarray:
    """The dot of each vertex through a three.js-style pipeline of 4x4 matrices: model
    (centre, scale into the unit sphere, makeRotationX(-tilt) @ makeRotationY(yaw)), view
    (camera on +z at 1 / sin(fov/2), looking at the origin), projection (makePerspective with
    aspect 1), perspective divide, then the viewport (FIT of the smaller side)."""
    fov = math.radians(Camera().fov)
    lo, hi = vertices.min(0), vertices.max(0)
    centre = (lo + hi) / 2
    radius = np.sqrt(((vertices - centre) ** 2).sum(1)).max()
    scale = np.diag([1 / radius, 1 / radius, 1 / radius, 1.0])
    move = np.eye(4)
    move[:3, 3] = -centre
    a, b = math.radians(yaw), math.radians(-tilt)
    rot_y = np.array(
        [
            [math.cos(a), 0, math.sin(a), 0],
            [0, 1, 0, 0],
            [-math.sin(a), 0, math.cos(a), 0],
            [0, 0, 0, 1],
        ]
    )
    rot_x = np.array(
        [
            [1, 0, 0, 0],
            [0, math.cos(b), -math.sin(b), 0],
            [0, math.sin(b), math.cos(b), 0],
            [0, 0, 0, 1],
        ]
    )
    view = np.eye(4)
    view[2, 3] = -1 / math.sin(fov / 2)
    near, far = 0.01, 100.0
    f = 1 / math.tan(fov / 2)
    proj = np.array(
        [
            [f, 0, 0, 0],
            [0, f, 0, 0],
            [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
            [0, 0, -1, 0],
        ]
    )
    homo = np.concatenate([vertices, np.ones((len(vertices), 1))], 1).T
    clip = proj @ view @ rot_x @ rot_y @ scale @ move @ homo
    ndc = clip[:2] / clip[3]
    s = FIT * (min(w, h) - 1) / 2
    return np.stack([(w - 1) / 2 + ndc[0] * s, (h - 1) / 2 - ndc[1] * s], 1)


@pytest.mark.parametrize(("yaw", "tilt"), [(0, 0), (35, -25), (90, 0), (-60, 40), (180, 10)])
def test_cube_corners_project_to_the_cells_of_a_matrix_camera(yaw: float, tilt: float) -> None:
    cols, rows = 40, 16
    w, h = 2 * cols, 4 * rows
    expected = three_js_dots(CUBE.astype(np.float64), yaw, tilt, w, h)
    px, py, _, finite = project(CUBE, Camera(yaw=yaw, tilt=tilt), w, h)
    assert finite.all()
    np.testing.assert_allclose(np.stack([px, py], 1), expected, atol=1e-9)
    sample = mesh_sample(MeshFrame(0, T0, CUBE[None]), 0)  # no faces: a point per corner
    assert not isinstance(sample, str)
    lit = dots(mesh_text(sample, Camera(yaw=yaw, tilt=tilt), cols, rows, "", PLAIN).plain)
    assert lit == {(int(np.floor(x + 0.5)), int(np.floor(y + 0.5))) for x, y in expected}


def test_known_views_of_the_cube() -> None:
    """Facts checkable by hand: head-on, the front face is a square centred in the view with
    the back face a smaller concentric square; turned 45°, the nearest vertical edge is in the
    middle column; turning right moves the front right, tilting up moves it up; zoom scales."""
    w, h = 81, 81
    px, py, depth, _ = project(CUBE, Camera(yaw=0, tilt=0), w, h)
    front = CUBE[:, 2] > 0
    c = (w - 1) / 2
    for sel in (front, ~front):
        np.testing.assert_allclose(np.abs(px[sel] - c), np.abs(px[sel] - c)[0])
        np.testing.assert_allclose(np.abs(py[sel] - c), np.abs(px[sel] - c)[0])
    assert np.abs(px[front] - c)[0] > np.abs(px[~front] - c)[0]
    assert (depth[front] < depth[~front]).all()
    # The front square's half side: (1/sqrt 3) / (D - 1/sqrt 3) / tan(15°) of FIT * 40 dots.
    half = math.radians(15)
    d = 1 / math.sin(half)
    k = 1 / math.sqrt(3)
    assert abs(px[front] - c)[0] == pytest.approx(k / (d - k) / math.tan(half) * FIT * 40)
    px, py, depth, _ = project(CUBE, Camera(yaw=45, tilt=0), w, h)
    nearest = np.isclose(depth, depth.min())
    assert nearest.sum() == 2  # the vertical edge x = -1, z = +1 comes to the front
    np.testing.assert_allclose(px[nearest], c, atol=1e-9)
    points = np.array([[0, 0, 1], [0, 0, -1], [1, 0, 0], [-1, 0, 0]], dtype=np.float32)
    px, py, _, _ = project(points, Camera(yaw=30, tilt=0), w, h)
    assert px[0] > c > px[1]
    px, py, _, _ = project(points, Camera(yaw=0, tilt=30), w, h)
    assert py[0] < c < py[1]  # y grows downwards: the front went up
    px1, _, _, _ = project(points, Camera(yaw=0, tilt=0), w, h)
    px2, _, _, _ = project(points, Camera(yaw=0, tilt=0, zoom=2), w, h)
    np.testing.assert_allclose(px2 - c, 2 * (px1 - c))


def test_cube_wireframe_in_x_ray_draws_its_18_edges() -> None:
    edges = {tuple(sorted((int(f[i]), int(f[(i + 1) % 3])))) for f in CUBE_FACES for i in range(3)}
    assert len(edges) == 18  # 12 sides + a diagonal per square face
    sample = mesh_sample(MeshFrame(0, T0, CUBE[None], CUBE_FACES[None]), 0)
    assert not isinstance(sample, str)
    cols, rows = 40, 16
    cam = Camera(yaw=20, tilt=-15)
    lit = dots(mesh_text(sample, cam, cols, rows, "", PLAIN, back_faces=True).plain)
    px, py, _, _ = project(CUBE, cam, 2 * cols, 4 * rows)
    for a, b in edges:
        for t in np.linspace(0, 1, 9):
            x, y = px[a] + t * (px[b] - px[a]), py[a] + t * (py[b] - py[a])
            near = {(round(x) + dx, round(y) + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
            assert near & lit
    assert lit <= segment_dots(px, py, sorted(edges))  # and nothing else


def segment_dots(px: np.ndarray, py: np.ndarray, pairs: list[tuple[int, int]]) -> set:
    """Every dot within one of the segments between the given projected vertices."""
    out = set()
    for a, b in pairs:
        for t in np.linspace(0, 1, 200):
            x, y = px[a] + t * (px[b] - px[a]), py[a] + t * (py[b] - py[a])
            out |= {(round(x) + dx, round(y) + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    return out


def test_hidden_lines_go_as_tensorboard_hides_them() -> None:
    """Head-on, the cube shows its front square only (its diagonal 1-7 included): the sides
    face away from a camera on the axis, the back is behind. Turned 45°, two faces show."""
    sample = mesh_sample(MeshFrame(0, T0, CUBE[None], CUBE_FACES[None]), 0)
    assert not isinstance(sample, str)
    cols, rows = 40, 20
    cam = Camera(yaw=0, tilt=0)
    lit = dots(mesh_text(sample, cam, cols, rows, "", PLAIN).plain)
    px, py, _, _ = project(CUBE, cam, 2 * cols, 4 * rows)
    front = [(1, 3), (3, 7), (7, 5), (5, 1), (1, 7)]  # z = +1: vertices with bit 0 set
    assert lit <= segment_dots(px, py, front)
    for a, b in front:
        assert (round((px[a] + px[b]) / 2), round((py[a] + py[b]) / 2)) in lit
    back_corner = (round(px[4]), round(py[4]))  # (1, -1, -1): off the front's edges
    assert back_corner not in lit
    xray = dots(mesh_text(sample, cam, cols, rows, "", PLAIN, back_faces=True).plain)
    assert back_corner in xray and lit < xray
    # Turned 45° to the right: the faces z = +1 (vertices 1, 3, 5, 7) and x = -1 (0, 1, 2, 3)
    # face the camera; the edge 4-5 (bottom of the face x = +1) borders only faces turned away.
    cam = Camera(yaw=45, tilt=0)
    lit = dots(mesh_text(sample, cam, cols, rows, "", PLAIN).plain)
    px, py, _, _ = project(CUBE, cam, 2 * cols, 4 * rows)
    shown = [(1, 3), (3, 7), (7, 5), (5, 1), (1, 7), (0, 1), (1, 3), (3, 2), (2, 0), (0, 3)]
    assert lit <= segment_dots(px, py, shown)
    hidden = (round((px[4] + px[5]) / 2), round((py[4] + py[5]) / 2))
    assert hidden not in lit
    assert hidden in dots(mesh_text(sample, cam, cols, rows, "", PLAIN, back_faces=True).plain)


def test_cell_colour_is_the_nearest_vertex_colour_darkened_with_distance() -> None:
    # Two points on the line of sight through the centre: the front one (red) wins the cell.
    v = np.array([[0, 0, 1], [0, 0, -1], [1, 1, 0], [-1, -1, 0]], dtype=np.float32)
    c = np.array([[255, 0, 0], [0, 0, 255], [0, 255, 0], [0, 255, 0]], dtype=np.uint8)
    sample = mesh_sample(MeshFrame(0, T0, v[None], None, c[None]), 0)
    assert not isinstance(sample, str)
    text = mesh_text(sample, Camera(yaw=0, tilt=0), 21, 11, "#ffffff", default_theme())
    lines = text.plain.split("\n")
    centre_offset = 5 * 22 + 10  # row 5, column 10 of 21-cell lines (+ newline)
    assert lines[5][10] != " "
    styles = [s for s in text.spans if s.start <= centre_offset < s.end]
    assert len(styles) == 1
    colour = styles[0].style.color.get_truecolor()  # type: ignore[union-attr]
    assert colour.green == colour.blue == 0 and colour.red >= 200  # red, a little darkened
    # The green points, farther (z = 0, the sphere's middle): darker than the red one.
    greens = [s.style.color.get_truecolor() for s in text.spans if s.start != centre_offset]  # type: ignore[union-attr]
    assert greens and all(g.red == g.blue == 0 and 100 < g.green < colour.red for g in greens)
    plain = mesh_sample(MeshFrame(0, T0, v[None]), 0)
    assert not isinstance(plain, str)
    one = mesh_text(plain, Camera(yaw=0, tilt=0), 21, 11, "#ff8700", default_theme())
    hues = {s.style.color.get_truecolor() for s in one.spans}  # type: ignore[union-attr]
    assert hues and all(r > g > b == 0 for r, g, b in hues)
    assert not mesh_text(plain, Camera(), 21, 11, "#ff8700", PLAIN).spans


def test_nan_vertices_are_skipped_and_counted() -> None:
    v = CUBE.copy()
    v[3] = np.nan
    sample = mesh_sample(MeshFrame(0, T0, v[None], CUBE_FACES[None]), 0)
    assert not isinstance(sample, str)
    assert sample.problems == ("1 vertices with NaN or infinite coordinates skipped",)
    out = mesh_block(MeshFrame(0, T0, v[None], CUBE_FACES[None]), 0, Camera(), 30, 10, "", PLAIN)
    assert out.plain.startswith("⚠ 1 vertices") and "⠀" not in out.plain
