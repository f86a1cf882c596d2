"""Benchmark of the Embeddings tab (the projector) on a 10,000 x 512 embedding written by
tensorboardX's add_embedding (tensors.tsv of ~100 MB, metadata with a header), against
TensorBoard's projector plugin reading the same files.

Measured, each in a fresh process (page cache warm, median of --repeat):
  1. tuiboard: `core.embeddings.load` (the TSV parsed in blocks into one float32 array, metadata),
     then PCA to 3 components (spherized, TensorBoard's default from 50 dimensions, and centred
     only), then the first draw (colours, fit, braille scatter of every point at 120 x 40 cells,
     rendered to a string by Rich), then a nearest-neighbour query (cosine and euclidean, k=100).
     Memory: the sequence run a second time under tracemalloc (numpy's buffers included): its
     peak against the tensor's float32 size; and the growth of the peak RSS (VmHWM, reset first
     through /proc/self/clear_refs).
  2. TensorBoard: its projector plugin on a multiplexer data provider, asked for the tensor
     through its own /tensor route (what the browser fetches: `_read_tensor_tsv_file`, float() per
     value), and /metadata; time and memory the same way. Its PCA runs in the browser (on at most
     50,000 points, randomly projected to 200 dimensions): there is no Python side to time.
  3. The memory guard: a load whose limit is half the tensor is refused (time to refuse).
  4. Worst case PCA: isotropic noise (no clear components: the subspace iteration gives up and
     numpy's eigh decides), and drawing 100,000 points.
Target: PCA + first draw under 1 s; memory under 2x the tensor. Prints figures; never a test.

Usage: python bench/bench_projector.py [--rows 10000] [--dims 512] [--repeat 3] [--skip-tb]
                                      [--blas-threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)


def generate(root: str, rows: int, dims: int) -> str:
    """The logdir (idempotent): run "emb" with one embedding of `rows` x `dims` float32 in 40
    clusters along a decaying spectrum, metadata (word, cluster, score) with a header."""
    done = os.path.join(root, ".complete")
    if os.path.exists(done):
        return root
    from tensorboardX import SummaryWriter

    rng = np.random.default_rng(0)
    clusters = rng.integers(0, 40, rows)
    basis, _ = np.linalg.qr(rng.normal(size=(dims, dims)))
    centres = rng.normal(size=(40, dims)) * (4.0 * 0.97 ** np.arange(dims))
    mat = (centres[clusters] + rng.normal(size=(rows, dims))) @ basis.T
    meta = [[f"w{i}", f"c{c}", f"{rng.random():.3f}"] for i, c in enumerate(clusters)]
    t = time.perf_counter()
    with SummaryWriter(os.path.join(root, "emb")) as w:
        w.add_embedding(
            mat.astype(np.float32),
            metadata=meta,
            metadata_header=["word", "cluster", "score"],
            tag="big",
        )
    print(f"wrote {rows:,} x {dims} with tensorboardX in {time.perf_counter() - t:.1f} s")
    open(done, "w").close()
    return root


MEMORY = r"""
def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
def reset_peak():
    # Linux: writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS.
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return status("VmRSS")
"""

CHILD_TUIBOARD = (
    MEMORY
    + r"""
import json, sys, time, tracemalloc
import numpy as np
from rich.console import Console
import tuiboard
from tuiboard.core.embeddings import load
from tuiboard.core.projection import Neighbours, pca, spherize_default
from tuiboard.render.embeddings import bounds_of, colouring, fit_dots, rotate, scatter
from tuiboard.render.theme import default_theme
run = tuiboard.open(sys.argv[1]).runs[0]
info = run.embeddings[0]
theme = default_theme()
console = Console(width=200, file=open("/dev/null", "w"), color_system="truecolor")

def everything(times):
    t0 = time.perf_counter()
    loaded = load(info)
    t1 = time.perf_counter()
    x = loaded.tensor
    result = pca(x, 3, spherize=spherize_default(x.shape[1]))
    t2 = time.perf_counter()
    colours = colouring(loaded.metadata, 1, x.shape[0], "#ff8700", theme)
    coords = result.coords.astype(np.float64)
    xy, depth = rotate(coords, 30.0, 20.0)
    dots = fit_dots(xy, 120, 40, bounds_of(coords, sphere=True))
    console.print(scatter(dots, colours, 120, 40, theme, order=np.argsort(depth, kind="stable")))
    t3 = time.perf_counter()
    index = Neighbours(x)
    index.query(0, 100, "cosine")
    t4 = time.perf_counter()
    index.query(1, 100, "euclidean")
    t5 = time.perf_counter()
    times.update(load=t1 - t0, pca=t2 - t1, draw=t3 - t2, knn_cos=t4 - t3, knn_euc=t5 - t4)
    times["variance"] = [float(v) for v in result.variance]
    times["tensor"] = x.nbytes
    return x

times = {}
x = everything(times)  # timed, nothing watching
t6 = time.perf_counter()
pca(x, 3, spherize=False)
times["pca_centred"] = time.perf_counter() - t6
del x
rss0 = reset_peak()
tracemalloc.start()
everything({})  # again, for memory only (tracemalloc slows allocations)
times["peak"] = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
times["rss"] = status("VmHWM") - rss0
print(json.dumps(times))
"""
)

CHILD_TB = (
    MEMORY
    + r"""
import json, logging, sys, time, tracemalloc
logging.disable(logging.WARNING)
import numpy as np
sys.path.insert(0, sys.argv[2])
from tests.reference import Projector

def everything(times):
    t0 = time.perf_counter()
    ref = Projector(sys.argv[1])  # reads the config and (for its shape) the tensor
    run = ref.runs()[0]
    t1 = time.perf_counter()
    emb = ref.embeddings(run)[0]
    tensor = ref.tensor(run, emb.tensor_name, emb.tensor_shape[1])
    t2 = time.perf_counter()
    ref.metadata(run, emb.tensor_name)
    t3 = time.perf_counter()
    times.update(config=t1 - t0, tensor=t2 - t1, metadata=t3 - t2, nbytes=int(tensor.nbytes))

times = {}
everything(times)
rss0 = reset_peak()
tracemalloc.start()
everything({})
times["peak"] = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
times["rss"] = status("VmHWM") - rss0
print(json.dumps(times))
"""
)

CHILD_WORST = r"""
import json, sys, time
import numpy as np
from rich.console import Console
from tuiboard.core.projection import pca
from tuiboard.render.embeddings import Colouring, bounds_of, fit_dots, scatter
from tuiboard.render.theme import default_theme
rows, dims = int(sys.argv[1]), int(sys.argv[2])
x = np.random.default_rng(1).normal(size=(rows, dims)).astype(np.float32)
t0 = time.perf_counter(); pca(x, 3); t1 = time.perf_counter()
pts = np.random.default_rng(2).normal(size=(100_000, 2))
ids = (np.arange(100_000) % 10 + 1).astype(np.int32)
colours = Colouring("c", "categorical", tuple(f"color({i})" for i in range(11)), ids)
console = Console(width=200, file=open("/dev/null", "w"), color_system="truecolor")
t2 = time.perf_counter()
text = scatter(fit_dots(pts, 120, 40, bounds_of(pts)), colours, 120, 40, default_theme())
console.print(text)
t3 = time.perf_counter()
print(json.dumps({"pca_noise": t1 - t0, "draw_100k": t3 - t2}))
"""


BLAS_THREADS: str | None = None
"""--blas-threads: OPENBLAS_NUM_THREADS (and OMP_NUM_THREADS) of the measured processes."""


def child(code: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": ROOT}
    if BLAS_THREADS is not None:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = BLAS_THREADS
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--dims", type=int, default=512)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-tb", action="store_true")
    p.add_argument(
        "--blas-threads",
        metavar="N",
        help="OPENBLAS_NUM_THREADS for the measured processes (default: OpenBLAS's own choice; "
        "1 is faster on a machine whose cores are busy)",
    )
    p.add_argument("--out", default=os.path.join(HERE, "data"))
    args = p.parse_args()
    global BLAS_THREADS
    BLAS_THREADS = args.blas_threads
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    root = generate(
        os.path.join(args.out, f"projector_{args.rows}x{args.dims}"), args.rows, args.dims
    )
    tsv = next(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f == "tensors.tsv")
    print(f"tensors.tsv: {mb(os.path.getsize(tsv))} ({args.rows:,} x {args.dims})")

    # Interleaved (ours, TensorBoard's, ours, ...): on a shared machine both see the same load.
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for _ in range(args.repeat):
        ours.append(child(CHILD_TUIBOARD, root))
        if not args.skip_tb:
            theirs.append(child(CHILD_TB, root, ROOT))
    load_s, pca_s, draw_s = (median(ours, k) for k in ("load", "pca", "draw"))
    tensor = ours[0]["tensor"]
    peak = max(r["peak"] for r in ours)
    fastest = min(r["load"] for r in ours)
    print(f"\ntuiboard (median of {args.repeat} fresh processes; fastest load {fastest:.3f} s)")
    print(f"  load (tensor + metadata)   {load_s:7.3f} s")
    print(
        f"  PCA, 3 components          {pca_s:7.3f} s   (spherized; centred only: "
        f"{median(ours, 'pca_centred'):.3f} s)"
    )
    print(f"  first draw 120x40, 3D      {draw_s:7.3f} s")
    print(f"  PCA + first draw           {pca_s + draw_s:7.3f} s   (target < 1 s)")
    print(
        f"  kNN k=100 cosine/euclid    {median(ours, 'knn_cos'):7.3f} / "
        f"{median(ours, 'knn_euc'):.3f} s"
    )
    print(
        f"  memory peak (tracemalloc)  {mb(peak)} = {peak / tensor:.2f}x the float32 tensor "
        f"({mb(tensor)}; target < 2x)"
    )
    print(f"  peak RSS growth            {mb(median(ours, 'rss'))}")
    variance = ours[0]["variance"]
    print("  variance explained         " + "  ".join(f"{100 * v:.1f}%" for v in variance))

    if not args.skip_tb:
        tb_tensor = median(theirs, "tensor")
        tb_peak = max(r["peak"] for r in theirs)
        print("\nTensorBoard projector plugin (its /tensor and /metadata routes)")
        print(f"  config + /tensor           {median(theirs, 'config') + tb_tensor:7.3f} s")
        print(f"  /metadata                  {median(theirs, 'metadata'):7.3f} s")
        print(f"  memory peak (tracemalloc)  {mb(tb_peak)} = {tb_peak / tensor:.2f}x the tensor")
        print(f"  peak RSS growth            {mb(median(theirs, 'rss'))}")
        print("  PCA                        in the browser (no Python side)")
        print("\nratios (TensorBoard / tuiboard)")
        tb_total = median(theirs, "config") + tb_tensor + median(theirs, "metadata")
        print(f"  reading tensor + metadata  {tb_total / load_s:5.2f}x time")
        print(f"  memory peak                {tb_peak / peak:5.2f}x")

    from tuiboard.core.embeddings import load
    from tuiboard.core.types import EmbeddingInfo

    info = EmbeddingInfo("big", tsv, "", (args.rows, args.dims))
    t = time.perf_counter()
    refused = load(info, limit=int(tensor) // 2)
    took = time.perf_counter() - t
    assert refused.tensor is None
    print(f"\nmemory guard: refused in {took * 1000:.2f} ms: {refused.warnings[0].message}")

    worst = child(CHILD_WORST, str(args.rows), str(args.dims))
    print(
        f"worst case: PCA of {args.rows:,} x {args.dims} isotropic noise "
        f"{worst['pca_noise']:.3f} s; drawing 100,000 points at 120x40 {worst['draw_100k']:.3f} s"
    )


if __name__ == "__main__":
    main()
