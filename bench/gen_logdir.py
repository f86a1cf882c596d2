"""Generate the benchmark logdirs with tensorboardX (a real writer, as users have it).

Owns: the bench data sets and their manifests (``<out>.json``: sizes and record counts).
Must not import: tuiboard (the data must not depend on the code under test).

Sizes:
  medium    8 runs x 16 scalar tags x 10,000 steps (1.28M scalar events) + 2 histogram tags
            every 100 steps
  large     8 runs x 32 scalar tags x 50,000 steps (12.8M scalar events) + 2 histogram tags
            every 1,000 steps
  restarts  8 runs x 16 tags x 10,000 steps, each run written as three files, the second and
            third restarting from a checkpoint (steps go back to 4,000 and 7,000)
  many      1,000 small runs (4 tags x 50 steps) nested two deep, for refresh timing
  append    one run, one ~100 MB file (16 tags x 115,000 steps), for incremental refresh timing

Generation is idempotent: each run is written into ``<out>.tmp/`` and renamed into place when
complete, finished runs are skipped on a second call, and the manifest is written last.
Usage: python bench/gen_logdir.py medium [--out bench/data/medium] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import struct
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
START_TIME = 1_700_000_000.0
"""Fixed wall-time origin: scalar and histogram events carry deterministic times."""


@dataclass(frozen=True)
class FileSpec:
    """One event file: steps [first, stop) of every tag."""

    first: int
    stop: int


@dataclass(frozen=True)
class RunSpec:
    name: str
    tags: int
    files: tuple[FileSpec, ...]
    hist_tags: int
    hist_every: int
    seed: int


def _tag_names(n: int) -> list[str]:
    # 15-character tags ("train/metric_00"), the lengths the reading notes were measured on.
    groups = ("train", "valid", "optim", "stats")
    return [f"{groups[i % len(groups)]}/metric_{i // len(groups):02d}" for i in range(n)]


def plan(size: str) -> list[RunSpec]:
    """The runs of a size, in a fixed order."""
    if size in ("medium", "large"):
        tags, steps, every = (16, 10_000, 100) if size == "medium" else (32, 50_000, 1_000)
        return [RunSpec(f"run_{r:02d}", tags, (FileSpec(0, steps),), 2, every, r) for r in range(8)]
    if size == "restarts":
        files = (FileSpec(0, 6_000), FileSpec(4_000, 8_500), FileSpec(7_000, 10_000))
        return [RunSpec(f"run_{r:02d}", 16, files, 2, 100, r) for r in range(8)]
    if size == "many":
        return [
            RunSpec(f"sweep_{r // 50:02d}/trial_{r:04d}", 4, (FileSpec(0, 50),), 0, 0, r)
            for r in range(1_000)
        ]
    if size == "append":
        return [RunSpec("run_00", 16, (FileSpec(0, 115_000),), 0, 0, 0)]
    raise ValueError(f"unknown size {size!r}")


def _curves(spec: RunSpec, steps: np.ndarray) -> np.ndarray:
    """(tags, steps) float values: decaying losses, rising accuracies, noise."""
    rng = np.random.default_rng(spec.seed)
    t = steps.astype(np.float64) / max(1, int(steps[-1]) if steps.size else 1)
    out = np.empty((spec.tags, steps.size), np.float64)
    for i in range(spec.tags):
        scale = 0.5 + rng.random()
        base = scale * np.exp(-3.0 * t * (1 + i % 3)) + 0.05 * i
        out[i] = base + 0.02 * rng.standard_normal(steps.size)
    return out


def write_run(spec: RunSpec, out: str) -> int:
    """Write one run into ``<out>.tmp/<name>`` and rename it to ``<out>/<name>``; returns the
    number of records written (0 when the run was already there)."""
    from tensorboardX import SummaryWriter  # here: workers import it, the parent needs not

    final = os.path.join(out, spec.name)
    if os.path.isdir(final):
        return 0
    tmp = os.path.join(out + ".tmp", spec.name)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    tag_names = _tag_names(spec.tags)
    all_steps = np.arange(0, max(f.stop for f in spec.files), dtype=np.int64)
    values = _curves(spec, all_steps).tolist()
    rng = np.random.default_rng(1000 + spec.seed)
    records = 0
    for k, fspec in enumerate(spec.files):
        staging = os.path.join(tmp, f".file{k}")
        w = SummaryWriter(staging, max_queue=100_000, flush_secs=3600)
        for step in range(fspec.first, fspec.stop):
            # A restarted job writes slightly different values at the steps it repeats.
            wall = START_TIME + k * 5_000 + step * 0.1
            bump = 0.01 * k
            for i, tag in enumerate(tag_names):
                w.add_scalar(tag, values[i][step] + bump, step, walltime=wall)
            records += spec.tags
            if spec.hist_tags and step % spec.hist_every == 0:
                for h in range(spec.hist_tags):
                    sample = rng.normal(loc=step / 10_000 * (h + 1), scale=1.0 + h, size=1_000)
                    w.add_histogram(f"weights/layer_{h}", sample, step, walltime=wall)
                records += spec.hist_tags
        w.close()
        (name,) = os.listdir(staging)
        # Fixed, name-sorted file names: restart files must sort after the file they continue.
        os.rename(
            os.path.join(staging, name),
            os.path.join(tmp, f"events.out.tfevents.{int(START_TIME) + k}.bench.{k}"),
        )
        os.rmdir(staging)
        records += 1  # file_version
    os.makedirs(os.path.dirname(final), exist_ok=True)
    os.rename(tmp, final)
    return records


def _worker(args: tuple[RunSpec, str]) -> int:
    os.nice(10)  # others share these two cores
    return write_run(*args)


def count_records(path: str) -> tuple[int, int]:
    """(records, bytes) of every event file under path, by walking the framing."""
    records = 0
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            if "tfevents" not in f:
                continue
            with open(os.path.join(dirpath, f), "rb") as fh:
                data = fh.read()
            total += len(data)
            off = 0
            while off + 12 <= len(data):
                (length,) = struct.unpack_from("<Q", data, off)
                off += length + 16
                records += 1
    return records, total


@dataclass
class Manifest:
    size: str
    path: str
    runs: int
    files: int
    records: int
    scalar_points_raw: int
    """Scalar events as written (restarts included)."""
    scalar_points_clean: int
    """Scalar points left after restart handling (RustBoard's rule)."""
    bytes: int
    seconds: float


def manifest_path(out: str) -> str:
    return out.rstrip("/") + ".json"


def generate(size: str, out: str, jobs: int = 2) -> Manifest:
    mpath = manifest_path(out)
    if os.path.exists(mpath):
        with open(mpath) as fh:
            return Manifest(**json.load(fh))
    specs = plan(size)
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    todo = [(s, out) for s in specs if not os.path.isdir(os.path.join(out, s.name))]
    if todo:
        print(f"writing {len(todo)} runs of {size} into {out} with {jobs} processes", flush=True)
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            for n, _ in enumerate(pool.imap_unordered(_worker, todo, chunksize=1), 1):
                if n % max(1, len(todo) // 20) == 0 or n == len(todo):
                    print(f"  {n}/{len(todo)} runs", flush=True)
    shutil.rmtree(out + ".tmp", ignore_errors=True)
    records, nbytes = count_records(out)
    raw = sum(s.tags * sum(f.stop - f.first for f in s.files) for s in specs)
    clean = sum(s.tags * max(f.stop for f in s.files) for s in specs)
    m = Manifest(
        size=size,
        path=os.path.abspath(out),
        runs=len(specs),
        files=sum(len(s.files) for s in specs),
        records=records,
        scalar_points_raw=raw,
        scalar_points_clean=clean,
        bytes=nbytes,
        seconds=round(time.perf_counter() - t0, 1),
    )
    with open(mpath + ".part", "w") as fh:
        json.dump(asdict(m), fh, indent=1)
    os.replace(mpath + ".part", mpath)
    return m


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("size", choices=["medium", "large", "restarts", "many", "append"])
    p.add_argument("--out", help="output directory (default bench/data/<size>)")
    p.add_argument("--jobs", type=int, default=2, help="writer processes (default 2)")
    a = p.parse_args(argv)
    out = a.out or os.path.join(HERE, "data", a.size)
    m = generate(a.size, out, a.jobs)
    print(json.dumps(asdict(m), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
