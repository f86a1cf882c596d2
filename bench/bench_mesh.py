"""Benchmark of the mesh renderer (not a test): how long a 100k-vertex mesh takes to draw.

A torus of 100,000 vertices and 200,000 triangles with vertex colours, and the same vertices as
a point cloud, drawn by render/mesh.py at a card's size (40x16 cells), a full screen (156x40) and
a large one (300x80): the first drawing of a mesh (checking it and deduplicating its 300,000
edges, then projecting and rasterising) and a redraw after a turn (what an arrow key costs).
Median and best of several repetitions, wall and process CPU time (CPU is steadier on a busy
machine). Then reading that mesh from its event file, tensorboardX add_mesh's, with tuiboard
(`tuiboard.open` + `mesh_frames`) and with TensorBoard's EventAccumulator + `make_ndarray` for
its three tags (TensorBoard's viewer then draws in WebGL: nothing to compare the drawing with).

    python bench/bench_mesh.py [--u 400] [--v 250] [--reps 7] [--skip-tb]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tuiboard.core.mesh import MeshFrame, mesh_frames, mesh_sample
from tuiboard.render.mesh import Camera, mesh_text
from tuiboard.render.theme import default_theme


def torus(nu: int, nv: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """nu x nv vertices on a torus, two triangles per grid square, colours from the position."""
    u = np.linspace(0, 2 * np.pi, nu, endpoint=False)
    v = np.linspace(0, 2 * np.pi, nv, endpoint=False)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    x = (1 + 0.4 * np.cos(vv)) * np.cos(uu)
    y = 0.4 * np.sin(vv)
    z = (1 + 0.4 * np.cos(vv)) * np.sin(uu)
    verts = np.stack([x, y, z], -1).reshape(-1, 3).astype(np.float32)
    i, j = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
    a = i * nv + j
    b = ((i + 1) % nu) * nv + j
    c = ((i + 1) % nu) * nv + (j + 1) % nv
    d = i * nv + (j + 1) % nv
    faces = np.concatenate(
        [np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)]
    ).astype(np.int32)
    colours = ((verts - verts.min(0)) / np.ptp(verts, 0) * 255).astype(np.uint8)
    return verts, faces, colours


def timed(fn: Callable[[], object], reps: int) -> list[tuple[float, float]]:
    """(wall ms, process CPU ms) of each repetition."""
    out = []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        out.append(((time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3))
    return out


def summary(times: list[tuple[float, float]]) -> str:
    wall = [t[0] for t in times]
    cpu = [t[1] for t in times]
    return (
        f"median {statistics.median(wall):6.1f} ms (best {min(wall):6.1f}, "
        f"CPU median {statistics.median(cpu):6.1f})"
    )


def fresh_frames(frame: MeshFrame, count: int) -> list[MeshFrame]:
    """Copies of `frame` with arrays of their own: nothing cached about them yet."""
    faces, colors = frame.faces, frame.colors
    return [
        MeshFrame(
            0,
            0.0,
            frame.vertices.copy(),
            None if faces is None else faces.copy(),
            None if colors is None else colors.copy(),
        )
        for _ in range(count)
    ]


def first_drawing(frames: list[MeshFrame], cols: int, rows: int, theme: object) -> None:
    """The first drawing of a mesh never seen: checking the sample, finding its edges and the
    faces they border, projecting and rasterising."""
    sample = mesh_sample(frames.pop(), 0)
    assert not isinstance(sample, str)
    mesh_text(sample, Camera(), cols, rows, "#ff8700", theme)  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--u", type=int, default=400)
    ap.add_argument("--v", type=int, default=250)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--skip-tb", action="store_true")
    args = ap.parse_args()
    verts, faces, colours = torus(args.u, args.v)
    print(
        f"mesh: {len(verts):,} vertices, {len(faces):,} faces; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    theme = default_theme()
    mesh = MeshFrame(0, 0.0, verts[None], faces[None], colours[None])
    cloud = MeshFrame(0, 0.0, verts[None], None, colours[None])
    for cols, rows in ((40, 16), (156, 40), (300, 80)):
        print(f"\n{cols}x{rows} cells")
        pool = fresh_frames(mesh, args.reps)
        first = timed(lambda p=pool, c=cols, r=rows: first_drawing(p, c, r, theme), args.reps)
        print(f"  wireframe, first drawing  {summary(first)}")
        yaw = iter(range(0, 100_000, 15))
        for label, frame in (
            ("wireframe, turned        ", mesh),
            ("point cloud, turned      ", cloud),
        ):
            sample = mesh_sample(frame, 0)
            assert not isinstance(sample, str)

            def turn(s: object = sample, c: int = cols, r: int = rows, k: object = yaw) -> None:
                cam = Camera(yaw=next(k))  # type: ignore[call-overload]
                mesh_text(s, cam, c, r, "#ff8700", theme)  # type: ignore[arg-type]

            turn()
            print(f"  {label} {summary(timed(turn, args.reps))}")
    if args.skip_tb:
        return
    from tensorboardX import SummaryWriter

    import tuiboard

    with tempfile.TemporaryDirectory(prefix="bench-mesh-") as tmp:
        with SummaryWriter(os.path.join(tmp, "run")) as w:
            w.add_mesh("torus", verts[None], colors=colours[None], faces=faces[None], global_step=1)
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*tfevents*"))
        print(f"\nreading the event file tensorboardX wrote ({size / 1e6:.1f} MB)")

        def ours() -> None:
            run = tuiboard.open(tmp).run("run")
            assert run is not None
            (frame,) = mesh_frames(run, "torus")
            assert frame.vertices.shape == (1, len(verts), 3)

        def tensorboard() -> None:
            from tensorboard.backend.event_processing import event_accumulator as ea
            from tensorboard.util import tensor_util

            acc = ea.EventAccumulator(os.path.join(tmp, "run"), size_guidance={ea.TENSORS: 0})
            acc.Reload()
            for tag in ("torus_1", "torus_2", "torus_3"):
                tensor_util.make_ndarray(acc.Tensors(tag)[0].tensor_proto)

        a = timed(ours, 3)
        b = timed(tensorboard, 3)
        print(f"  tuiboard     {summary(a)}")
        print(f"  TensorBoard  {summary(b)}")
        ratio = statistics.median(t[0] for t in b) / statistics.median(t[0] for t in a)
        print(f"  TensorBoard / tuiboard: {ratio:.1f}x")


if __name__ == "__main__":
    main()
