"""Regenerate the README screenshots: the real app on the demo logdir, saved as SVG.

    python screenshots/make_screenshots.py [--out screenshots] [--size 160x45]

Writes the demo logdir (seed 0) to a temporary directory, opens the app headless at the given
size with a fixed clock, and saves scalars.svg, chart.svg, histograms.svg, overview.svg,
images.svg, text.svg, pr_curves.svg, hparams.svg, graph.svg, embeddings.svg, audio.svg, mesh.svg
and custom_scalars.svg; then, when wandb is installed (a test dependency), wandb.svg: a W&B run
written by real wandb offline (tqdm bar, printed lines, define_metric) beside a tfevents run, with
the Logs pane under the charts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path

import tuiboard
from tuiboard.demo import write_demo
from tuiboard.ui.app import TuiboardApp
from tuiboard.ui.widgets.graph_view import GraphView
from tuiboard.ui.widgets.histograms_view import HistogramsView
from tuiboard.ui.widgets.scalar_chart import ScalarChart
from tuiboard.ui.widgets.scalars_view import ScalarsView

FIXED_TIME = 1_795_700_000.0


async def _settle(app: TuiboardApp, pilot: object) -> None:
    for _ in range(50):
        await pilot.pause()  # type: ignore[attr-defined]
        if app.applied:
            break
    await pilot.pause()  # type: ignore[attr-defined]


async def _shoot(logdir_path: str, out: Path, size: tuple[int, int]) -> list[Path]:
    logdir = tuiboard.open(logdir_path)
    app = TuiboardApp(logdir, watch=False, clock=lambda: FIXED_TIME + 30)
    saved: list[Path] = []

    def save(name: str) -> None:
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
        saved.append(path)

    async with app.run_test(size=size) as pilot:
        await _settle(app, pilot)
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []

        async def scalars() -> None:
            # The demo's training runs (the JSONL runs' many one-tag groups come first).
            app.query_one(ScalarsView).set_filter_text("^(loss|metrics|grad|lr)")
            await pilot.pause()
            await pilot.press("1")

        async def chart() -> None:
            target = next(c for c in app.query(ScalarChart) if c.tag == "loss/train")
            target.focus()
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press(*["left"] * 12)

        async def histograms() -> None:
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            app.query_one(HistogramsView).select("weights/layer1", "resnet/lr=0.1")
            await pilot.pause()
            await pilot.press("left", "left", "left")

        async def overview() -> None:
            await pilot.press("3")

        async def tab(name: str) -> None:
            app.set_tag_filter("")
            app.action_show_tab(name)
            for _ in range(20):  # image cards decode on worker threads
                await asyncio.sleep(0.05)
                await pilot.pause()

        async def images() -> None:
            await tab("images")

        async def image_full() -> None:
            await pilot.press("enter")
            await tab("images")
            await pilot.press("escape")

        async def text() -> None:
            await tab("text")

        async def pr_curves() -> None:
            await tab("pr_curves")
            await pilot.press("right", "right", "right")

        async def hparams() -> None:
            await tab("hparams")
            await pilot.press("v")

        async def graph() -> None:
            await tab("graph")
            view = app.query_one(GraphView)
            while view.loaded is None:  # read on a worker thread
                await asyncio.sleep(0.05)
                await pilot.pause()
            names = view.loaded.graph.names
            conv = "ResNet/Sequential[layer1]/Bottleneck[0]/Conv2d[conv2]/input."
            view.follow(next(i for i, n in enumerate(names) if n.startswith(conv)))
            await pilot.press("t")

        async def audio() -> None:
            await tab("audio")

        async def mesh() -> None:
            await tab("mesh")
            await pilot.press("left", "up")  # turned by hand, as a user would
            await tab("mesh")

        async def embeddings() -> None:
            await tab("embeddings")
            view = app.view("embeddings")
            for _ in range(100):  # the tensor is read and projected on a worker thread
                if getattr(view, "loads", 0):
                    break
                await asyncio.sleep(0.05)
                await pilot.pause()
            await pilot.press("d", "right", "slash", *"bird", "enter")
            for _ in range(40):  # the neighbours too
                await asyncio.sleep(0.05)
                await pilot.pause()

        async def custom_scalars() -> None:
            await pilot.press("escape")  # leave the hparams view's focus
            await tab("custom_scalars")
            await pilot.press("down", "down")  # "Validation": the accuracy over its interval

        steps = [
            ("scalars", scalars),
            ("chart", chart),
            ("histograms", histograms),
            ("overview", overview),
            ("images", images),
            ("text", text),
            ("pr_curves", pr_curves),
            ("hparams", hparams),
            ("graph", graph),
            ("audio", audio),
            ("mesh", mesh),
            ("embeddings", embeddings),
            ("custom_scalars", custom_scalars),
        ]
        for name, step in steps:
            await step()
            await pilot.pause()
            await pilot.pause()
            save(name)
    return saved


WANDB_SCRIPT = textwrap.dedent(
    """
    import math, random, sys, time
    import numpy as np, wandb
    from tqdm import tqdm
    random.seed(0)
    run = wandb.init(project="cifar", name="resnet18-cosine", tags=["baseline"],
                     notes="cosine schedule", config={"lr": 3e-4, "batch": 128})
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch", summary="max")
    step = 0
    for epoch in range(4):
        print(f"Epoch {epoch}: lr {3e-4 * (0.5 + 0.5 * math.cos(epoch / 4 * math.pi)):.2e}")
        for _ in tqdm(range(50), desc=f"epoch {epoch}", file=sys.stdout, mininterval=0):
            step += 1
            loss = 2.5 * math.exp(-step / 60) + random.random() * 0.1
            wandb.log({"train/loss": loss, "train/grad_norm": 1 + random.random()})
        acc = 0.5 + 0.1 * epoch + random.random() * 0.02
        wandb.log({"val/acc": acc, "epoch": epoch})
        print(f"\\x1b[32mvalidation\\x1b[0m epoch {epoch}: acc {acc:.4f}")
    wandb.finish()
    """
)


def _write_wandb(root: str) -> bool:
    """A real wandb run (offline, everything inside `root`) plus a tfevents run beside it;
    False when wandb is not installed."""
    env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true", HOME=root)
    env.update({k: root for k in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR")})
    env["WANDB_DATA_DIR"] = root
    script = os.path.join(root, "train.py")
    with open(script, "w") as fh:
        fh.write(WANDB_SCRIPT)
    done = subprocess.run(
        [sys.executable, script], cwd=root, env=env, capture_output=True, timeout=300
    )
    if done.returncode != 0:
        print("wandb.svg skipped: the wandb script failed (is wandb installed?)", file=sys.stderr)
        return False
    os.remove(script)
    from tuiboard.writer import EventWriter

    with EventWriter(os.path.join(root, "tb", "resnet50")) as w:
        for s in range(0, 201, 2):
            w.add_scalar("train/loss", 2.2 * 2.718 ** (-s / 70), s, wall_time=FIXED_TIME + s)
    return True


async def _shoot_wandb(root: str, out: Path, size: tuple[int, int]) -> Path:
    logdir = tuiboard.open(root)
    app = TuiboardApp(logdir, watch=False, clock=lambda: FIXED_TIME + 30)
    async with app.run_test(size=size) as pilot:
        await _settle(app, pilot)
        from tuiboard.ui.widgets.logs_pane import LogsPane

        pane = app.query_one(LogsPane)
        for _ in range(100):
            if pane.updates:
                break
            await pilot.pause(0.05)
        await pilot.pause()
        app.save_screenshot(filename="wandb.svg", path=str(out))
    return out / "wandb.svg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--size", default="160x45")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tuiboard-demo-") as tmp:
        write_demo(tmp, live=False, seed=0)
        for dirpath, _, files in os.walk(tmp):
            for name in files:
                os.utime(os.path.join(dirpath, name), (FIXED_TIME, FIXED_TIME))
        for path in asyncio.run(_shoot(tmp, out, (width, height))):
            print(path)
    with tempfile.TemporaryDirectory(prefix="tuiboard-wandb-") as tmp:
        if _write_wandb(tmp):
            for dirpath, _, files in os.walk(tmp):
                for name in files:
                    os.utime(os.path.join(dirpath, name), (FIXED_TIME, FIXED_TIME))
            print(asyncio.run(_shoot_wandb(tmp, out, (width, height))))


if __name__ == "__main__":
    main()
