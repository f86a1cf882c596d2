"""Benchmark of the Images dashboard against issue 8's targets, headless (not a test).

Targets (issue 8): 200 image cards (28x28 to 1024x1024) on screen: first paint under 300 ms after
the tab opens, moving the step slider under 50 ms, memory held under 2x the encoded bytes of all
images.

Owns: generating the logdir (tensorboardX `SummaryWriter.add_image`, 2 processes: 20 runs x 10
tags = 200 (run, tag) cards, each 5 steps; the size of a card cycles 28, 64, 256, 512, 1024
pixels square over run + tag, so every row of the grid mixes them; smooth colour gradients plus
3 bits of grey noise, which PNG compresses to about 0.4 of the raw pixels), and measuring, each
in a fresh process (Linux: RSS and its peak from /proc/self/status):
  1. loading: `tuiboard.open` time, the store's memory (tracemalloc: Python allocations held
     after a gc, and RSS above the interpreter with everything imported) against the encoded
     bytes of all images; TensorBoard's `EventAccumulator` (every value of every kind kept,
     as tests/reference.py `accumulate()`) on the same runs, time and memory, with ratios;
  2. one card's cost by image size: decode + fit (cold) and the half-block drawing of cached
     frames (warm), `render.images.image_card` at the card's size;
  3. the app (`TuiboardApp(logdir, watch=False)`, `run_test(size=...)`, once per --size):
     first paint = `action_show_tab("images")` until every card on screen (partly shown ones
     too) has rendered its image (Card.render is wrapped to stamp each render; the view has no
     decode pending); then every card decoded (each card's render() called, as scrolling
     through them would); the step slider: focus a card, press `[`, until that card renders
     the previous step's image (median over cards of every size; `]` back is a cache hit);
     the process's RSS above the same app on an empty logdir after the first paint, at the
     end (every card drawn) and at its peak, and the drawing caches (the view's Rich Text per
     card; render/images.py's fitted frames). At 160x50, 9 cards are on screen; 400x200
     shows 130, 400x330 all 200.
`--profile` adds cProfile of the UI thread during the first paint and the slider presses, and
of the decode of one image of each size (the worker threads are not profiled by cProfile).

Polling uses asyncio.sleep, not pilot.pause (which messages every one of the ~400 widgets and
forces a screen update each time): the app's own timers paint, as in a terminal. Keys are sent
with `app.simulate_key`.

Usage: python bench/bench_images.py [--out DIR] [--size 160x50 --size 400x200 ...]
                                    [--skip-tb] [--profile] [--runs 20] [--tags 10] [--steps 5]
                                    [--sizes 28,64,256,512,1024]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

SIZES = (28, 64, 256, 512, 1024)
NOISE = 8
"""Grey noise levels added to the gradients (3 bits): PNG keeps ~0.4 byte per channel."""
TARGET_PAINT_S = 0.300
TARGET_STEP_S = 0.050
TARGET_MEMORY = 2.0
RESULT = "RESULT "


# -- data -----------------------------------------------------------------------------------------


def picture(n: int, seed: int, step: int) -> np.ndarray:
    """An n x n RGB uint8 image: colour gradients that move with the step, plus grey noise."""
    rng = np.random.default_rng(seed * 1000 + step)
    y, x = np.mgrid[0:n, 0:n] / n
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi, 3)
    base = np.stack(
        [
            0.5 + 0.5 * np.sin(6 * x * (c + 1) + phase[c] + 0.3 * step) * np.cos(4 * y + phase[c])
            for c in range(3)
        ],
        axis=-1,
    )
    noise = rng.integers(0, NOISE, (n, n, 1), dtype=np.int16)
    return np.clip((base * (255 - NOISE)).astype(np.int16) + noise, 0, 255).astype(np.uint8)


def write_run(args: tuple[str, int, int, int, tuple[int, ...]]) -> None:
    """Write run `run` into root/.tmp-run_XX and rename it to root/run_XX when complete; the
    image of tag t is sizes[(run + t) % len(sizes)] pixels square."""
    from tensorboardX import SummaryWriter

    root, run, tags, steps, sizes = args
    final = os.path.join(root, f"run_{run:02d}")
    if os.path.isdir(final):
        return
    tmp = os.path.join(root, f".tmp-run_{run:02d}")
    shutil.rmtree(tmp, ignore_errors=True)
    with SummaryWriter(tmp, flush_secs=3600) as writer:
        for step in range(steps):
            for tag in range(tags):
                img = picture(sizes[(run + tag) % len(sizes)], run * 100 + tag, step)
                writer.add_image(
                    f"samples/tag_{tag:02d}", img, step * 100, walltime=1.7e9 + step,
                    dataformats="HWC",
                )  # fmt: skip
    os.rename(tmp, final)


def generate(
    root: str, runs: int, tags: int, steps: int, sizes: tuple[int, ...] = SIZES, jobs: int = 2
) -> float:
    """The logdir under root (idempotent: finished runs are kept); seconds spent."""
    t = time.perf_counter()
    os.makedirs(root, exist_ok=True)
    todo = [(root, r, tags, steps, sizes) for r in range(runs)]
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        pool.map(write_run, todo, chunksize=1)
    return time.perf_counter() - t


# -- measuring helpers --------------------------------------------------------------------------


def proc_status() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024
    return out


def rss() -> int:
    gc.collect()
    return proc_status()["VmRSS"]


def encoded_bytes(ld: Any) -> tuple[int, int, int]:
    """(bytes, images, values) of every image the store holds."""
    from tuiboard.core.types import IMAGES

    total = count = values = 0
    for run in ld.runs:
        for tag in run.tags(IMAGES):
            for v in run.values(IMAGES, tag):
                values += 1
                for b in v.images:
                    total += len(b)
                    count += 1
    return total, count, values


def emit(result: dict[str, Any]) -> None:
    print(RESULT + json.dumps(result), flush=True)


def child(mode: str, *extra: str) -> dict[str, Any]:
    """Run this script as `--child mode ...` in a fresh process; its RESULT line, parsed."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT)]
    if proc.returncode or not lines:
        sys.exit(f"child {mode} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    for ln in proc.stdout.splitlines():  # profiles and notes the child printed
        if not ln.startswith(RESULT):
            print(ln)
    return dict(json.loads(lines[-1][len(RESULT) :]))


# -- children: loading ----------------------------------------------------------------------------


def child_load(root: str) -> None:
    import tuiboard

    base = rss()
    t = time.perf_counter()
    ld = tuiboard.open(root)
    seconds = time.perf_counter() - t
    held = rss() - base
    peak = proc_status()["VmHWM"] - base
    total, count, values = encoded_bytes(ld)
    kinds = {type(b).__name__ for r in ld.runs for t_ in r.tags("images")
             for v in r.values("images", t_) for b in getattr(v, "images", ())}  # fmt: skip
    emit({"seconds": seconds, "held": held, "peak": peak, "encoded": total, "images": count,
          "values": values, "runs": len(ld.runs), "types": sorted(kinds)})  # fmt: skip


def child_tracemalloc(root: str) -> None:
    import tracemalloc

    import tuiboard

    gc.collect()
    tracemalloc.start()
    ld = tuiboard.open(root)
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    emit({"held": held, "peak": peak, "encoded": encoded_bytes(ld)[0]})


def child_tb(root: str) -> None:
    from tensorboard.backend.event_processing import event_accumulator as ea

    base = rss()
    t = time.perf_counter()
    accs = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name.startswith(".") or not os.path.isdir(path):
            continue
        # tests/reference.py accumulate(): every value of every kind kept (images=0).
        acc = ea.EventAccumulator(path, size_guidance={k: 0 for k in ea.DEFAULT_SIZE_GUIDANCE})
        acc.Reload()
        accs.append(acc)
    seconds = time.perf_counter() - t
    held = rss() - base
    peak = proc_status()["VmHWM"] - base
    total = count = 0
    for acc in accs:
        for tag in acc.Tags()["images"]:
            for ev in acc.Images(tag):
                total += len(ev.encoded_image_string)
                count += 1
    emit({"seconds": seconds, "held": held, "peak": peak, "encoded": total, "images": count})


# -- children: one card's cost by size ----------------------------------------------------------


def child_cards(root: str, width: int, height: int, profile: bool) -> None:
    """Per image size: decode alone, decode + fit (image_card cold) and image_card warm."""
    import tuiboard
    from tuiboard.core.types import IMAGES, ImageValue
    from tuiboard.render import images as imgs
    from tuiboard.render.theme import default_theme

    ld = tuiboard.open(root)
    theme = default_theme(True)
    by_size: dict[int, list[ImageValue]] = {}
    for run in ld.runs:
        for tag in run.tags(IMAGES):
            for v in run.values(IMAGES, tag):
                assert isinstance(v, ImageValue)
                by_size.setdefault(v.width, []).append(v)
    out: dict[str, dict[str, float]] = {}
    for size in sorted(by_size):
        values = by_size[size][:8]
        dec, cold, warm = [], [], []
        for v in values:
            t = time.perf_counter()
            imgs.decode(v.images[0])
            dec.append(time.perf_counter() - t)
            imgs._CARDS.clear()
            t = time.perf_counter()
            imgs.image_card(v, 0, width, height, theme, truecolor=True)
            cold.append(time.perf_counter() - t)
            t = time.perf_counter()
            text = imgs.image_card(v, 0, width, height, theme, truecolor=True)
            warm.append(time.perf_counter() - t)
        out[str(size)] = {
            "decode": statistics.median(dec),
            "cold": statistics.median(cold),
            "warm": statistics.median(warm),
            "spans": float(len(text.spans)),
            "bytes": float(statistics.median(len(v.images[0]) for v in values)),
        }
    if profile:
        import cProfile
        import pstats

        imgs._CARDS.clear()
        prof = cProfile.Profile()
        prof.enable()
        for size in sorted(by_size):
            for v in by_size[size][:4]:
                imgs.image_card(v, 0, width, height, theme, truecolor=True)
        prof.disable()
        print(f"\n--- cProfile: image_card cold, 4 images of each size at {width}x{height} cells")
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    emit(out)


# -- children: the app ----------------------------------------------------------------------------


RENDERS: dict[Any, list[tuple[float, int | None, bool]]] = {}
"""card -> (time, step shown, image drawn) of each Card.render call (instrumented below)."""
BODIES: list[tuple[float, float, Any, int, int]] = []
"""(start, end, card key, width, height) of each ImagesView.draw_body (a worker thread)."""
UPDATES: list[float] = []
"""Seconds of each Textual screen update (Compositor.render_partial_update) while recorded."""
RECORD_UPDATES = False


def instrument() -> None:
    from rich.console import Group
    from rich.text import Text

    from tuiboard.ui.widgets.cards import Card

    original = Card.render

    def has_image(out: Any) -> bool:
        if not isinstance(out, Group) or not out.renderables:
            return False
        last = out.renderables[-1]
        return not (isinstance(last, Text) and last.plain.startswith("decoding"))

    def timed_render(self: Card) -> Any:
        out = original(self)
        cur = self.current()
        step = None if cur is None else cur[2].step
        RENDERS.setdefault(self, []).append((time.perf_counter(), step, has_image(out)))
        return out

    Card.render = timed_render  # type: ignore[method-assign]

    from textual._compositor import Compositor

    from tuiboard.ui.widgets.images_view import ImagesView

    draw_body = ImagesView.draw_body

    def timed_draw_body(self: Any, card: Any, value: Any, width: int, height: int) -> Any:
        t = time.perf_counter()
        out = draw_body(self, card, value, width, height)
        BODIES.append((t, time.perf_counter(), card.key, width, height))
        return out

    ImagesView.draw_body = timed_draw_body  # type: ignore[method-assign]
    partial = Compositor.render_partial_update

    def timed_partial(self: Any) -> Any:
        t = time.perf_counter()
        out = partial(self)
        if RECORD_UPDATES and out is not None:
            UPDATES.append(time.perf_counter() - t)
        return out

    Compositor.render_partial_update = timed_partial  # type: ignore[method-assign]


def undrawable(out: Any) -> bool:
    """A card that shows "⚠ cannot decode: ..." instead of its image."""
    from rich.console import Group
    from rich.text import Text

    while isinstance(out, Group) and out.renderables:
        out = out.renderables[-1]
    return isinstance(out, Text) and out.plain.lstrip().startswith("⚠")


async def wait_until(pilot: Any, predicate: Callable[[], bool], timeout: float = 120.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if predicate():
            return time.perf_counter()
        # Not pilot.pause: that posts a message to every widget (400 here) on each poll and
        # forces a screen update; the app's own timers update the screen, as in a terminal.
        await asyncio.sleep(0.002)
    raise TimeoutError("condition not reached")


def deep_size(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes of a Rich renderable and what it holds (shared styles and colours counted once)."""
    from rich.console import Group
    from rich.text import Span, Text

    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, Group):
        size += sys.getsizeof(obj._renderables)
        size += sum(deep_size(r, seen) for r in obj._renderables)
    elif isinstance(obj, Text):
        size += sum(sys.getsizeof(s) for s in obj._text) + sys.getsizeof(obj._text)
        size += sys.getsizeof(obj._spans)
        size += sum(deep_size(s, seen) for s in obj._spans)
    elif isinstance(obj, Span):
        size += deep_size(obj.style, seen) if not isinstance(obj.style, str) else 0
    elif hasattr(obj, "_color"):  # a rich Style
        for color in (obj._color, obj._bgcolor):
            if color is not None and id(color) not in seen:
                seen.add(id(color))
                size += sys.getsizeof(color) + sys.getsizeof(color.name)
    return size


async def run_app(root: str | None, size: tuple[int, int], profile: bool) -> dict[str, Any]:
    import cProfile
    import pstats

    import tuiboard
    from tuiboard.core.types import ImageValue
    from tuiboard.render import images as imgs
    from tuiboard.ui.app import TuiboardApp

    fig: dict[str, Any] = {}
    base = rss()
    if root is None:  # the baseline: the same app on an empty logdir
        empty = tempfile.mkdtemp(prefix="tuiboard-bench-empty-")
        ld = tuiboard.open(empty)
    else:
        ld = tuiboard.open(root)
    fig["rss_loaded"] = rss() - base
    fig["encoded"] = encoded_bytes(ld)[0]
    app = TuiboardApp(ld, watch=False)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.applied >= 1)
        await pilot.pause(0.3)
        if root is None:
            fig["rss_held"] = rss() - base
            fig["rss_peak"] = proc_status()["VmHWM"] - base
            return fig
        view: Any = app.view("images")

        def visible() -> list[Any]:
            shown = app.screen._compositor.visible_widgets
            return [c for c in view.cards() if c in shown]

        def drawn(card: Any, since: float, step: int | None = None) -> float | None:
            """When `card` first rendered an image (of `step`) after `since`."""
            for t, s, ok in RENDERS.get(card, ()):
                if t >= since and ok and (step is None or s == step):
                    return t
            return None

        # -- first paint --
        RENDERS.clear()
        prof = cProfile.Profile() if profile else None
        t0 = time.perf_counter()
        if prof:
            prof.enable()
        app.action_show_tab("images")

        def painted() -> bool:
            cards = visible()
            return bool(cards) and not view._pending and all(drawn(c, t0) for c in cards)

        seen = await wait_until(pilot, painted)
        if prof:
            prof.disable()
        on_screen = visible()
        first_render = min(t for rs in RENDERS.values() for t, _, _ in rs)
        fig["cards"] = len(view.cards())
        fig["on_screen"] = len(on_screen)
        fig["on_screen_sizes"] = sorted(
            int(c.current()[2].width) for c in on_screen if c.current() is not None
        )
        fig["card_cells"] = [on_screen[0].content_size.width, on_screen[0].content_size.height]
        fig["first_render"] = first_render - t0
        fig["first_paint"] = max(drawn(c, t0) or seen for c in on_screen) - t0
        fig["first_paint_seen"] = seen - t0
        bodies = [b for b in BODIES if b[0] >= t0]
        final = {(c.key, c.content_size.width, c.content_size.height - 2) for c in on_screen}
        fig["paint_bodies"] = len(bodies)
        fig["paint_bodies_wasted"] = sum(1 for b in bodies if (b[2], b[3], b[4]) not in final)
        fig["paint_bodies_seconds"] = sum(b[1] - b[0] for b in bodies)
        if prof:
            print(f"\n--- cProfile (UI thread): show_tab -> first paint, {size[0]}x{size[1]}")
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        await asyncio.sleep(0.3)
        fig["on_screen_after"] = len(visible())
        fig["rss_paint"] = rss() - base

        # -- every card decoded (as scrolling through all of them would) --
        t1 = time.perf_counter()
        cards = view.cards()
        while True:
            for c in cards:
                c.render()
            await wait_until(pilot, lambda: not view._pending)
            if all(drawn(c, t1) for c in cards):
                break
        fig["all_decoded"] = time.perf_counter() - t1
        fig["all_decoded_since_tab"] = time.perf_counter() - t0
        fig["errors"] = sum(1 for c in cards if undrawable(c.render()))

        # -- step slider --
        def settled(card: Any) -> Callable[[], bool]:
            return lambda: card in visible() and not view._pending

        def shows(card: Any, since: float, step: int) -> Callable[[], bool]:
            return lambda: drawn(card, since, step) is not None and not view._pending

        global RECORD_UPDATES
        RECORD_UPDATES = True
        UPDATES.clear()
        by_size: dict[int, list[Any]] = {}
        for c in cards:
            cur = c.current()
            if cur is not None and isinstance(cur[2], ImageValue):
                by_size.setdefault(cur[2].width, []).append(c)
        presses: dict[str, list[float]] = {}
        cached: list[float] = []
        placeholder: list[float] = []
        prof = cProfile.Profile() if profile else None
        for px, group in sorted(by_size.items()):
            for card in group[:2]:
                card.scroll_visible(animate=False, immediate=True)
                card.focus()
                await pilot.pause(0.05)
                await wait_until(pilot, settled(card))
                await pilot.pause(0.05)
                for _ in range(2):
                    i = card.current()[0]
                    want = card.values()[max(0, i - 1)].step
                    mark = time.perf_counter()
                    if prof:
                        prof.enable()
                    app.simulate_key("left_square_bracket")
                    done = await wait_until(pilot, shows(card, mark, want))
                    if prof:
                        prof.disable()
                    presses.setdefault(str(px), []).append((drawn(card, mark, want) or done) - mark)
                    first = next((t for t, _, _ in RENDERS[card] if t >= mark), None)
                    if first is not None:
                        placeholder.append(first - mark)
                # back one step: that image was drawn a moment ago (cache hit)
                i, n, _ = card.current()
                want = card.values()[min(n - 1, i + 1)].step
                mark = time.perf_counter()
                app.simulate_key("right_square_bracket")
                done = await wait_until(pilot, shows(card, mark, want))
                cached.append((drawn(card, mark, want) or done) - mark)
        RECORD_UPDATES = False
        fig["screen_updates"] = list(UPDATES)
        fig["step"] = presses
        fig["step_cached"] = cached
        fig["step_first_render"] = placeholder
        if prof:
            print(f"\n--- cProfile (UI thread): the `[` presses, {size[0]}x{size[1]}")
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)

        # -- memory --
        await pilot.pause(0.5)
        fig["rss_held"] = rss() - base
        fig["rss_peak"] = proc_status()["VmHWM"] - base
        seen_ids: set[int] = set()
        fig["view_cache_items"] = len(view._cache)
        fig["view_cache_bytes"] = sum(deep_size(v, seen_ids) for v in view._cache.values())
        fig["frames_cache_items"] = len(imgs._CARDS._items)
        fig["frames_cache_bytes"] = imgs._CARDS._total
    return fig


def child_app(root: str | None, size: tuple[int, int], profile: bool) -> None:
    import tuiboard.ui.app  # noqa: F401  (imported before the baseline RSS)

    instrument()
    emit(asyncio.run(run_app(root, size, profile)))


# -- report ---------------------------------------------------------------------------------------


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} kB"


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="where to write the logdir (default: a temporary directory)")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--tags", type=int, default=10)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="image sizes, pixels")
    ap.add_argument("--size", action="append", help="terminal WxH (repeatable)")
    ap.add_argument("--skip-tb", action="store_true", help="don't load with TensorBoard")
    ap.add_argument("--profile", action="store_true", help="print cProfile hot spots")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--logdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sizes = args.size or ["160x50", "400x200"]

    if args.child:
        w, h = (int(v) for v in (sizes[0]).split("x"))
        {
            "load": lambda: child_load(args.logdir),
            "tracemalloc": lambda: child_tracemalloc(args.logdir),
            "tb": lambda: child_tb(args.logdir),
            "cards": lambda: child_cards(args.logdir, w, h, args.profile),
            "app": lambda: child_app(args.logdir, (w, h), args.profile),
            "app-empty": lambda: child_app(None, (w, h), False),
        }[args.child]()
        return

    root = args.out or tempfile.mkdtemp(prefix="tuiboard-bench-images-")
    try:
        sizes_px = tuple(int(v) for v in args.sizes.split(","))
        spent = generate(root, args.runs, args.tags, args.steps, sizes_px)
        on_disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
        print(f"logdir: {args.runs} runs x {args.tags} image tags x {args.steps} steps, sizes "
              f"{', '.join(f'{s}x{s}' for s in sizes_px)} ({spent:.1f} s to write), "
              f"{mb(on_disk)} on disk: {root}")  # fmt: skip
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        rows: list[tuple[str, str, str, str]] = []

        def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
            rows.append((name, value, target, "" if ok is None else verdict(ok)))

        load = child("load", "--logdir", root)
        enc = load["encoded"]
        kinds = ", ".join(load["types"])
        print(f"encoded bytes of all images: {enc:,} ({mb(enc)}), {load['images']} images in "
              f"{load['values']} values; the store holds {kinds} objects")  # fmt: skip
        tm = child("tracemalloc", "--logdir", root)
        row("tuiboard.open", f"{load['seconds']:.2f} s")
        row("store held (tracemalloc) / encoded", f"{tm['held'] / enc:.2f}x ({mb(tm['held'])})",
            "< 2x", tm["held"] < TARGET_MEMORY * enc)  # fmt: skip
        row("store held (RSS above imports) / encoded",
            f"{load['held'] / enc:.2f}x ({mb(load['held'])})", "< 2x",
            load["held"] < TARGET_MEMORY * enc)  # fmt: skip
        row("load peak (RSS above imports) / encoded",
            f"{load['peak'] / enc:.2f}x ({mb(load['peak'])})")  # fmt: skip
        tb = None
        if not args.skip_tb:
            tb = child("tb", "--logdir", root)
            row("TensorBoard EventAccumulator load", f"{tb['seconds']:.2f} s "
                f"({tb['seconds'] / load['seconds']:.1f}x tuiboard's)")  # fmt: skip
            row("TensorBoard held (RSS above imports) / encoded",
                f"{tb['held'] / enc:.2f}x ({mb(tb['held'])}; "
                f"{tb['held'] / max(load['held'], 1):.1f}x tuiboard's)")  # fmt: skip
            row("TensorBoard peak (RSS above imports) / encoded",
                f"{tb['peak'] / enc:.2f}x ({mb(tb['peak'])})")  # fmt: skip
            if tb["encoded"] != enc or tb["images"] != load["images"]:
                print(f"!! TensorBoard sees {tb['images']} images, {tb['encoded']:,} bytes")

        apps = {}
        for spec in sizes:
            w, h = (int(v) for v in spec.split("x"))
            extra = ["--logdir", root, "--size", spec] + (["--profile"] if args.profile else [])
            fig = child("app", *extra)
            empty = child("app-empty", "--size", spec)
            apps[spec] = fig
            cw, ch = fig["card_cells"]
            mix = {s: fig["on_screen_sizes"].count(s) for s in sorted(set(fig["on_screen_sizes"]))}
            print(f"{spec}: {fig['cards']} cards, {fig['on_screen']} on screen at first paint "
                  f"({fig['on_screen_after']} after it settled), {cw}x{ch} cells each; on screen "
                  f"by size: {mix}")  # fmt: skip
            row(f"[{spec}] first paint ({fig['on_screen']} cards on screen)",
                f"{fig['first_paint'] * 1e3:.0f} ms (first card frame "
                f"{fig['first_render'] * 1e3:.0f} ms)", "< 300 ms",
                fig["first_paint"] < TARGET_PAINT_S)  # fmt: skip
            row(f"[{spec}]   worker draws during it",
                f"{fig['paint_bodies']} for {fig['on_screen']} cards "
                f"({fig['paint_bodies_wasted']} at a size no longer shown), "
                f"{fig['paint_bodies_seconds'] * 1e3:.0f} ms summed")  # fmt: skip
            row(f"[{spec}] all {fig['cards']} cards decoded (forced)",
                f"{fig['all_decoded'] * 1e3:.0f} ms more ({fig['all_decoded_since_tab']:.2f} s "
                "since the tab opened)")  # fmt: skip
            every = [s for v in fig["step"].values() for s in v]
            per = ", ".join(f"{k}: {statistics.median(v) * 1e3:.0f}" for k, v in
                            sorted(fig["step"].items(), key=lambda kv: int(kv[0])))  # fmt: skip
            row(f"[{spec}] step slider `[` (n={len(every)})",
                f"median {statistics.median(every) * 1e3:.0f} ms, max {max(every) * 1e3:.0f} ms",
                "< 50 ms", statistics.median(every) < TARGET_STEP_S)  # fmt: skip
            big = fig["step"].get("1024", [])
            if big:
                row(f"[{spec}] step slider, 1024x1024 cards (n={len(big)})",
                    f"median {statistics.median(big) * 1e3:.0f} ms", "< 50 ms",
                    statistics.median(big) < TARGET_STEP_S)  # fmt: skip
            row(f"[{spec}] step slider by size (ms, median)", per)
            row(f"[{spec}] step back, cached (n={len(fig['step_cached'])})",
                f"median {statistics.median(fig['step_cached']) * 1e3:.0f} ms", "< 50 ms",
                statistics.median(fig["step_cached"]) < TARGET_STEP_S)  # fmt: skip
            row(f"[{spec}]   `[` -> first frame (\"decoding…\")",
                f"median {statistics.median(fig['step_first_render']) * 1e3:.0f} ms")  # fmt: skip
            row(f"[{spec}]   one screen update (one card changed)",
                f"median {statistics.median(fig['screen_updates']) * 1e3:.1f} ms "
                f"(n={len(fig['screen_updates'])})")  # fmt: skip
            net_paint = fig["rss_paint"] - empty["rss_held"]
            row(f"[{spec}] app after first paint (RSS above empty app) / encoded",
                f"{net_paint / enc:.2f}x ({mb(net_paint)})", "< 2x",
                net_paint < TARGET_MEMORY * enc)  # fmt: skip
            net_held = fig["rss_held"] - empty["rss_held"]
            net_peak = fig["rss_peak"] - empty["rss_peak"]
            row(f"[{spec}] app held, every card drawn (RSS above empty app) / encoded",
                f"{net_held / enc:.2f}x ({mb(net_held)})", "< 2x",
                net_held < TARGET_MEMORY * enc)  # fmt: skip
            row(f"[{spec}] app peak (RSS above empty app) / encoded",
                f"{net_peak / enc:.2f}x ({mb(net_peak)})")  # fmt: skip
            row(f"[{spec}] drawing caches",
                f"view._cache {fig['view_cache_items']} Texts {mb(fig['view_cache_bytes'])}; "
                f"images._CARDS {fig['frames_cache_items']} cards "
                f"{mb(fig['frames_cache_bytes'])}")  # fmt: skip

        spec = sizes[0]
        cw, ch = apps[spec]["card_cells"]
        body = (cw, max(1, ch - 2))  # the title and the slider take 2 lines
        cards = child("cards", "--logdir", root, "--size", f"{body[0]}x{body[1]}",
                      *(["--profile"] if args.profile else []))  # fmt: skip
        for px, c in sorted(cards.items(), key=lambda kv: int(kv[0])):
            row(f"one {px}x{px} card at {body[0]}x{body[1]} ({mb(c['bytes'])} PNG)",
                f"decode {c['decode'] * 1e3:.1f} ms, decode+fit+draw {c['cold'] * 1e3:.1f} ms, "
                f"draw cached {c['warm'] * 1e3:.2f} ms ({int(c['spans'])} spans)")  # fmt: skip

        print()
        wn = max(len(r[0]) for r in rows)
        wv = max(len(r[1]) for r in rows)
        wt = max(len(r[2]) for r in rows)
        for name, value, target, ok in rows:
            print(f"{name:{wn}s}  {value:{wv}s}  {target:{wt}s}  {ok}")
        print(
            f"\nload average at the end: {os.getloadavg()[0]:.1f} (others' work skews every figure)"
        )
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
