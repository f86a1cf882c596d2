"""`plot --group` and `summary --group` on runs written by tensorboardX: the expected numbers
come from TensorBoard's EventAccumulator and numpy (or the reference loop), not from our own
aggregation."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tensorboardX import SummaryWriter

import tuiboard
from tests.group_runs import ema_loop, reference, write_seeds
from tests.reference import accumulate
from tuiboard.cli import main
from tuiboard.core.grouping import GroupSpec
from tuiboard.headless.commands import GroupView, Monitor
from tuiboard.headless.summary import Summarizer
from tuiboard.render.chart import ChartOptions, ChartSeries, render_chart
from tuiboard.render.theme import default_theme


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seeds")
    write_seeds(root)
    return root


def tb_loss(root: Path, run: str) -> tuple[list[float], list[float]]:
    events = accumulate(root / run).Scalars("loss")
    return [float(e.step) for e in events], [float(e.value) for e in events]


def groups_by_seed(root: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in sorted(p.name for p in root.iterdir()):
        lr = d.split("_seed=")[0]
        out.setdefault(f"{lr}_*", []).append(d)
    return out


@pytest.mark.parametrize(("centre", "band"), [("mean", "minmax"), ("median", "iqr")])
def test_summary_group_json_matches_event_accumulator(
    seeds: Path, capsys: pytest.CaptureFixture[str], centre: str, band: str
) -> None:
    args = ["summary", str(seeds), "--group", r"seed=\d+", "--json"]
    assert main([*args, "--centre", centre, "--band", band]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = groups_by_seed(seeds)
    assert {r["group"]: r["runs"] for r in rows} == expected
    for row in rows:
        lasts = np.array([tb_loss(seeds, run)[1][-1] for run in row["runs"]])
        bests = np.array([min(tb_loss(seeds, run)[1]) for run in row["runs"]])
        steps = [tb_loss(seeds, run)[0][-1] for run in row["runs"]]
        assert row["last_step"] == max(steps)
        assert row["centre"] == centre and row["band"] == band
        for key, values in (("last", lasts), ("best", bests)):
            got = row["tags"]["loss"][key]
            mid = np.mean(values) if centre == "mean" else np.median(values)
            lo, hi = (
                (values.min(), values.max())
                if band == "minmax"
                else np.percentile(values, [25, 75])
            )
            assert got["count"] == len(values)
            assert got["centre"] == pytest.approx(mid, rel=1e-12)
            assert got["lo"] == pytest.approx(lo, rel=1e-12)
            assert got["hi"] == pytest.approx(hi, rel=1e-12)


def test_summary_group_by_config_plain(seeds: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(seeds), "--group-by", "optimizer", "--band", "std"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["GROUP", "RUNS", "STATUS", "STEP"]
    assert "loss mean [±1 std]" in lines[0]
    body = {line.split()[0]: line for line in lines[1:]}
    assert set(body) == {"optimizer=adam", "optimizer=sgd"}
    for name, lr in (("optimizer=adam", "0.1"), ("optimizer=sgd", "0.01")):
        runs = [r for r in groups_by_seed(seeds)[f"lr={lr}_*"]]
        lasts = np.array([tb_loss(seeds, run)[1][-1] for run in runs])
        mean, std = lasts.mean(), lasts.std()
        assert body[name].split()[1] == str(len(runs))
        assert f"{mean:.6g} [{mean - std:.6g}, {mean + std:.6g}]" in body[name]


def reference_groups(root: Path, smoothing: float, band: bool) -> list[ChartSeries]:
    """Each `seed=\\d+` group's line (and min-max band when `band`) computed here from
    EventAccumulator's values (TensorBoard's smoothing loop, the reference aggregation loop)."""
    series = []
    for name, runs in groups_by_seed(root).items():
        per_run = []
        for run in runs:
            steps, values = tb_loss(root, run)
            per_run.append((steps, ema_loop(values, smoothing) if smoothing else values))
        union, rows = reference(per_run, "mean", "minmax")
        x, y = np.array(union), np.array([r[0] for r in rows])
        if not band:
            series.append(ChartSeries(name, "", x, y))
            continue
        lower, upper = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
        label = f"{name} ({len(runs)} runs)"
        series.append(ChartSeries(label=label, color="", x=x, y=y, lower=lower, upper=upper))
    return series


def expected_chart(root: Path, smoothing: float, width: int, height: int) -> list[str]:
    """The chart `plot --group 'seed=\\d+'` must print: the reference groups drawn by the
    same renderer, no colour."""
    series = reference_groups(root, smoothing, band=True)
    chart = render_chart(series, ChartOptions(title="loss"), width, height, default_theme(False))
    return chart.plain.split("\n")


@pytest.mark.parametrize("smoothing", [0.0, 0.6])
def test_plot_group_draws_the_groups_from_event_accumulator_values(
    seeds: Path, capsys: pytest.CaptureFixture[str], smoothing: float
) -> None:
    args = ["plot", str(seeds), "--group", r"seed=\d+", "--smoothing", str(smoothing)]
    assert main([*args, "--width", "80", "--height", "16", "--no-color"]) == 0
    out = capsys.readouterr().out.rstrip("\n").split("\n")
    want = expected_chart(seeds, smoothing, 80, 16)
    assert out[:16] == want
    assert out[16].rstrip() == "━━ lr=0.01_* (4 runs)  ━━ lr=0.1_* (4 runs)"
    assert out[17].strip() == "groups: mean, band min-max"
    # The band is drawn: the grouped chart has dots the lines alone do not.
    assert sum(c not in " ⠀" for c in "".join(out[1:14])) > sum(
        c not in " ⠀" for c in "".join(expected_lines_only(seeds, smoothing))
    )


def expected_lines_only(root: Path, smoothing: float) -> list[str]:
    series = reference_groups(root, smoothing, band=False)
    chart = render_chart(series, ChartOptions(title="loss"), 80, 16, default_theme(False))
    return chart.plain.split("\n")[1:14]


def test_group_usage_errors(seeds: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(seeds), "--group", "("]) == 2
    assert main(["plot", str(seeds), "--group", "x", "--kind", "histograms"]) == 2
    assert main(["summary", str(seeds), "--group-by", " , "]) == 2
    assert main(["summary", str(seeds), "--group", "x", "--watch", "-1"]) == 2
    with pytest.raises(SystemExit):
        main(["plot", str(seeds), "--group", "x", "--group-by", "lr"])
    with pytest.raises(SystemExit):
        main(["summary", str(seeds), "--group", "x", "--band", "ci"])
    capsys.readouterr()


def test_summary_group_watch_piped_prints_a_block_when_a_group_changed(tmp_path: Path) -> None:
    """A new block only when a group's row changed (a new point in one run), as `--watch`
    does for runs."""
    write_seeds(tmp_path, seeds=2)
    ld = tuiboard.open(str(tmp_path))
    mon = Monitor(ld, Summarizer())
    out = io.StringIO()
    view = GroupView(out, "name", ld, GroupSpec(pattern=r"seed=\d+"))
    for now in (1.0, 2.0, 3.0):
        rows, tags, _ = mon.tick(now)
        view.show(rows, tags, now)
    assert out.getvalue().count("# ") == 1
    with SummaryWriter(str(tmp_path / "lr=0.1_seed=0"), filename_suffix=".more") as w:
        w.add_scalar("loss", 123.0, 5000)
    ld.refresh()
    rows, tags, _ = mon.tick(4.0)
    view.show(rows, tags, 4.0)
    blocks = [b.splitlines() for b in out.getvalue().split("\n\n") if b]
    assert len(blocks) == 2
    assert [line.split()[0] for line in blocks[1][1:]] == ["GROUP", "lr=0.01_*", "lr=0.1_*"]
    others = [tb_loss(tmp_path, "lr=0.1_seed=1")[1][-1], 123.0]
    new = next(line for line in blocks[1] if line.startswith("lr=0.1_*"))
    assert " 5000 " in new  # STEP: the largest last step
    assert f"{np.mean(others):.6g} [{min(others):.6g}, {max(others):.6g}]" in new


def test_summary_group_watch_json_process(tmp_path: Path) -> None:
    """`tuiboard summary --group --watch --json` as a real process: a line per group, then the
    line of the group whose run got a new point (only that one), and ctrl+c ends it (130)."""
    write_seeds(tmp_path / "logs", seeds=2)
    first_step = max(tb_loss(tmp_path / "logs", f"lr=0.01_seed={s}")[0][-1] for s in (0, 1))
    cmd = [sys.executable, "-m", "tuiboard", "summary", str(tmp_path / "logs")]
    cmd += ["--group", r"seed=\d+", "--json", "--watch", "0.2", "--poll", "0.1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()

    def wait_lines(n: int) -> None:
        deadline = time.monotonic() + 30
        while len(lines) < n and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert len(lines) >= n, proc.stderr.read() if proc.poll() is not None else lines  # type: ignore[union-attr]

    try:
        wait_lines(2)
        with SummaryWriter(str(tmp_path / "logs" / "lr=0.01_seed=1"), filename_suffix=".x") as w:
            w.add_scalar("loss", 7.5, 9000)
        wait_lines(3)
        time.sleep(1.0)  # more ticks: nothing else changed, nothing more is printed
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        reader.join(timeout=10)
    assert code == 130
    rows = [json.loads(line) for line in lines]
    assert [r["group"] for r in rows] == ["lr=0.01_*", "lr=0.1_*", "lr=0.01_*"]
    assert rows[0]["last_step"] == first_step
    assert rows[2]["last_step"] == 9000
    lasts = [tb_loss(tmp_path / "logs", "lr=0.01_seed=0")[1][-1], 7.5]
    got = rows[2]["tags"]["loss"]["last"]
    assert (got["centre"], got["lo"], got["hi"]) == pytest.approx(
        (np.mean(lasts), min(lasts), max(lasts)), rel=1e-12
    )
