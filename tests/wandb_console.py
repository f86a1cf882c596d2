"""Real console logs for the Logs pane tests: wandb 0.31 (offline, in a subprocess, everything in
a temporary directory) runs a script that prints lines, ANSI colours, an OSC title, a tab, a
backspace and a tqdm progress bar (`\\r` updates), and logs a few metrics. Two real files come
out of it: wandb's own `files/output.log` (wandb resolves `\\r` itself but keeps escapes) and
the script's raw stdout+stderr as a shell redirect would write it (`> console.txt 2>&1`, every
`\\r` state of the bar kept). The script writes what it printed, as plain text, to
`expected.json` beside them: the tests compare with that, never with our own output.
`make_long_console` runs LONG_SCRIPT: more lines than the Logs pane keeps and a tqdm bar of
thousands of states on one line (the bounds of the output records the `.wandb` file holds).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .wandb_runs import wandb_env

SCRIPT = textwrap.dedent(
    r"""
    import json, sys, time
    import wandb
    from tqdm import tqdm

    run = wandb.init(
        project="console-proj",
        name="resnet [bold]baseline[/bold]",
        config={"lr": 0.01, "arch": {"name": "resnet", "depth": 18}},
        tags=["ui", "[red]tag"],
        notes="first line\nsecond \x1b[31mline",
        dir=sys.argv[1],
    )
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch")
    expected = []

    def say(text, plain=None, err=False):
        print(text, file=sys.stderr if err else sys.stdout, flush=True)
        expected.append(text if plain is None else plain)

    say("starting training")
    say("\x1b[1;32mgreen and bold\x1b[0m then plain", "green and bold then plain")
    say("\x1b]0;window title\x07after the title", "after the title")
    say("tab\there", "tab     here")
    say("typo\bX fixed", "typX fixed")
    say("[bold]not markup[/bold] \u202eevil", "[bold]not markup[/bold] evil")
    bar = tqdm(total=40, desc="train", file=sys.stdout, ncols=60, mininterval=0,
               bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}|")
    for i in range(40):
        run.log({"loss": 1.0 / (i + 1), "train/acc": i / 40})
        bar.update(1)
    bar.close()
    expected.append("train: 40/40 |" + "\u2588" * 45 + "|")
    for epoch in range(3):
        run.log({"epoch": epoch, "val/loss": 0.5 / (epoch + 1)})
    say("warning on stderr", err=True)
    say("done")
    with open(sys.argv[2], "w") as f:
        json.dump({"lines": expected, "id": run.id}, f)
    run.finish()
    """
)


@dataclass(frozen=True)
class WandbConsole:
    run_dir: Path
    """The wandb run directory (wandb/offline-run-...)."""
    output_log: Path
    """wandb's files/output.log."""
    raw_log: Path
    """The script's stdout and stderr as a redirect writes them (every \\r state kept)."""
    lines: list[str]
    """What the script printed, as a terminal shows it (from the script itself)."""
    run_id: str


LONG_SCRIPT = textwrap.dedent(
    r"""
    import json, sys
    import wandb
    from tqdm import tqdm

    lines, states = int(sys.argv[3]), int(sys.argv[4])
    run = wandb.init(project="console-proj", name="long", dir=sys.argv[1])
    expected = []
    for i in range(lines):
        print(f"\x1b[2mline\x1b[0m {i}", flush=True)
        expected.append(f"line {i}")
    bar = tqdm(total=states, desc="long", file=sys.stdout, ncols=60, mininterval=0,
               miniters=1, bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}|")
    for i in range(states):
        bar.update(1)
    bar.close()
    width = 60 - len(f"long: {states}/{states} ||")
    expected.append(f"long: {states}/{states} |" + "\u2588" * width + "|")
    print("done", flush=True)
    expected.append("done")
    run.log({"loss": 1.0})
    with open(sys.argv[2], "w") as f:
        json.dump({"lines": expected, "id": run.id}, f)
    run.finish()
    """
)


def make_wandb_console(root: Path) -> WandbConsole:
    """Run the script under real wandb in a subprocess; the logs it leaves."""
    return _run_script(root, SCRIPT)


def make_long_console(root: Path, lines: int, states: int) -> WandbConsole:
    """LONG_SCRIPT: `lines` numbered lines (dimmed by an escape), then a tqdm bar of `states`
    updates, then "done"."""
    return _run_script(root, LONG_SCRIPT, str(lines), str(states))


def _run_script(root: Path, text: str, *args: str) -> WandbConsole:
    root.mkdir(parents=True, exist_ok=True)
    script = root / "train.py"
    script.write_text(text)
    logs = root / "logs"
    logs.mkdir()
    raw = root / "console.txt"
    expected = root / "expected.json"
    with open(raw, "wb") as out:
        subprocess.run(
            [sys.executable, str(script), str(logs), str(expected), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=wandb_env(root),
            check=True,
            timeout=180,
        )
    (run_dir,) = (logs / "wandb").glob("offline-run-*")
    facts = json.loads(expected.read_text())
    return WandbConsole(run_dir, run_dir / "files" / "output.log", raw, facts["lines"], facts["id"])
