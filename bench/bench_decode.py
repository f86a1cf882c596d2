"""Benchmark of the tfevents decoder alone (tuiboard.core.tfevents.read_events).

Generates (once, into bench/data/, gitignored) one tensorboardX event file shaped like one run of
the medium bench logdir: 16 scalar tags x 10,000 steps + 2 histogram tags every 100 steps, then
prints events/s of read_events over the whole file and over 16 MiB chunks, the same for
TensorBoard's EventAccumulator, and the cost of reading 1,000 events appended to a 100 MB file.

    python bench/bench_decode.py [--steps N] [--repeat K] [--no-tb]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from tuiboard.core.tfevents import read_events  # noqa: E402
from tuiboard.core.types import Parsed, TagMeta  # noqa: E402

TAGS = [f"{('train', 'valid', 'optim', 'stats')[i % 4]}/metric_{i // 4:02d}" for i in range(16)]
"""The medium bench's tag names (bench/gen_logdir.py): 15 characters each."""
HIST_TAGS = ["weights/layer1", "weights/layer2"]
CHUNK = 16 * 1024 * 1024


def generate(directory: Path, steps: int) -> Path:
    """One tensorboardX file: len(TAGS) scalars every step, len(HIST_TAGS) histograms every 100."""
    from tensorboardX import SummaryWriter

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    rng = np.random.default_rng(0)
    writer = SummaryWriter(str(directory), max_queue=1000, flush_secs=3600)
    values = rng.standard_normal((steps, len(TAGS))).astype(np.float32)
    for step in range(steps):
        row = values[step].tolist()
        for tag, value in zip(TAGS, row, strict=True):
            writer.add_scalar(tag, value, step)
        if step % 100 == 0:
            for tag in HIST_TAGS:
                writer.add_histogram(tag, rng.standard_normal(1000), step)
    writer.close()
    return Path(glob.glob(str(directory / "*tfevents*"))[0])


def read_whole(data: bytes, name: str) -> Parsed:
    tags: dict[str, TagMeta] = {}
    return read_events(data, 0, name, tags).parsed


def count_events(parsed: Parsed) -> int:
    return sum(len(c) for c in parsed.scalars.values()) + len(parsed.values)


def read_chunked(path: Path) -> int:
    tags: dict[str, TagMeta] = {}
    events = 0
    offset = 0
    size = path.stat().st_size
    with path.open("rb") as fh:
        while offset < size:
            fh.seek(offset)
            data = fh.read(CHUNK)
            res = read_events(data, offset, str(path), tags, at_eof=offset + len(data) >= size)
            if res.need > len(data) - res.consumed and res.consumed < len(data):
                fh.seek(offset + res.consumed)
                data = fh.read(res.need)
                more = read_events(data, offset + res.consumed, str(path), tags, at_eof=True)
                events += count_events(more.parsed)
                offset += more.consumed
            events += count_events(res.parsed)
            offset += res.consumed
            if res.consumed == 0 and res.need == 0:
                break
    return events


def best_of(fn, repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls (and the last result)."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def best_cpu(fn, repeat: int) -> float:
    """Best CPU time of ``repeat`` calls: steadier than wall time on a shared machine."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def bench_incremental(path: Path, directory: Path) -> None:
    """Append 1,000 events to a ~100 MB file; time reading only the new bytes."""
    big = directory / "big" / "events.out.tfevents.0.bench"
    big.parent.mkdir(parents=True, exist_ok=True)
    one = path.read_bytes()
    with big.open("wb") as fh:
        written = 0
        while written < 100_000_000:
            fh.write(one)
            written += len(one)
    old_size = big.stat().st_size
    # 1,000 new scalar events as tensorboardX writes them, in a scratch dir
    from tensorboardX import SummaryWriter

    scratch = directory / "append"
    if scratch.exists():
        shutil.rmtree(scratch)
    w = SummaryWriter(str(scratch))
    for i in range(1000):
        w.add_scalar(TAGS[i % len(TAGS)], float(i), 20_000 + i // len(TAGS))
    w.close()
    new = Path(glob.glob(str(scratch / "*tfevents*"))[0]).read_bytes()
    with big.open("ab") as fh:
        fh.write(new)

    def incremental() -> int:
        with big.open("rb") as fh:
            fh.seek(old_size)
            data = fh.read()
        res = read_events(data, old_size, str(big), {}, at_eof=True)
        return count_events(res.parsed)

    t, n = best_of(incremental, 5)
    print(
        f"incremental: {n} events appended to a {old_size / 1e6:.0f} MB file,"
        f" read in {t * 1e3:.2f} ms"
    )
    big.unlink()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-tb", action="store_true", help="skip TensorBoard's EventAccumulator")
    ap.add_argument("--regen", action="store_true")
    args = ap.parse_args()
    directory = ROOT / "data" / f"decode_{args.steps}"
    files = glob.glob(str(directory / "*tfevents*"))
    if args.regen or not files:
        t0 = time.perf_counter()
        path = generate(directory, args.steps)
        print(f"generated {path} in {time.perf_counter() - t0:.1f} s")
    else:
        path = Path(files[0])
    size = path.stat().st_size
    print(f"file: {path.name}, {size / 1e6:.1f} MB")

    def whole() -> int:
        data = path.read_bytes()
        return count_events(read_whole(data, str(path)))

    t, n = best_of(whole, args.repeat)
    ours = n / t
    print(
        f"tuiboard read_events, whole file (read + decode): {n} events in {t * 1e3:.1f} ms"
        f" = {ours / 1e6:.2f} M events/s"
    )
    data = path.read_bytes()
    t2, n2 = best_of(lambda: count_events(read_whole(data, str(path))), args.repeat)
    print(
        f"tuiboard read_events, decode only: {n2} events in {t2 * 1e3:.1f} ms"
        f" = {n2 / t2 / 1e6:.2f} M events/s"
    )
    c2 = best_cpu(lambda: read_whole(data, str(path)), args.repeat)
    print(
        f"tuiboard read_events, decode only, CPU time: {c2 * 1e3:.1f} ms"
        f" = {n2 / c2 / 1e6:.2f} M events/s"
    )
    t3, n3 = best_of(lambda: read_chunked(path), args.repeat)
    print(
        f"tuiboard read_events, 16 MiB chunks: {n3} events in {t3 * 1e3:.1f} ms"
        f" = {n3 / t3 / 1e6:.2f} M events/s"
    )

    if not args.no_tb:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from tensorboard.backend.event_processing import event_accumulator as ea

        def tb() -> int:
            acc = ea.EventAccumulator(
                str(path), size_guidance={k: 0 for k in ea.DEFAULT_SIZE_GUIDANCE}
            )
            acc.Reload()
            tags = acc.Tags()
            return sum(len(acc.Scalars(t)) for t in tags["scalars"]) + sum(
                len(acc.Histograms(t)) for t in tags["histograms"]
            )

        tt, nt = best_of(tb, 1)
        theirs = nt / tt
        print(
            f"TensorBoard EventAccumulator: {nt} events in {tt:.2f} s"
            f" = {theirs / 1e3:.1f} k events/s"
        )
        print(f"ratio tuiboard / TensorBoard: {ours / theirs:.0f}x")

    bench_incremental(path, directory)


if __name__ == "__main__":
    main()
