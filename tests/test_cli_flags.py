"""TensorBoard's hands (`--logdir`, `--logdir_spec`) and `--tab`, through the real parser and
the real commands on files tensorboardX wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter

from tuiboard.cli import logdirs_from_flags, main
from tuiboard.dashboards import DASHBOARDS, tab_names


@pytest.fixture
def two_roots(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "exp_a", tmp_path / "exp_b"
    for root, value in ((a, 1.5), (b, 2.5)):
        with SummaryWriter(str(root / "run")) as w:
            w.add_scalar("loss", value, 3)
    return a, b


def ls_runs(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[str]:
    assert main(argv) == 0
    return sorted(r["name"] for r in json.loads(capsys.readouterr().out)["runs"])


def test_logdir_flag_reads_like_a_positional(
    two_roots: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = two_roots
    assert ls_runs(capsys, ["ls", "--json", "--logdir", str(a)]) == ["run"]
    assert ls_runs(capsys, ["ls", f"--logdir={a}", "--json"]) == ["run"]


def test_logdir_spec_names_each_root(
    two_roots: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_roots
    names = ls_runs(capsys, ["ls", "--json", "--logdir_spec", f"A:{a},B:{b}"])
    assert names == ["A/run", "B/run"]


def test_logdir_flags_reach_every_subcommand(
    two_roots: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_roots
    assert main(["export", "--logdir_spec", f"A:{a},B:{b}", "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["run"], r["value"]) for r in rows} == {("A/run", 1.5), ("B/run", 2.5)}
    assert main(["plot", "--logdir", str(a), "--width", "40"]) == 0
    assert "loss" in capsys.readouterr().out


def test_flag_rewriting_keeps_other_arguments() -> None:
    assert logdirs_from_flags(["--logdir", "x", "--poll", "1"]) == ["x", "--poll", "1"]
    assert logdirs_from_flags(["summary", "--json", "--logdir=x"]) == ["summary", "x", "--json"]
    assert logdirs_from_flags(["--logdir_spec", "a:/p,b:/q"]) == ["a:/p", "b:/q"]
    assert logdirs_from_flags(["--logdir"]) == ["--logdir"]  # argparse reports it


def test_unknown_tab_is_a_usage_error_listing_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--tab", "nope", "."])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    for name in ("scalars", "images", "text", "pr_curves", "hparams"):
        assert name in err


def test_tab_names_are_the_kinds_of_ls_json() -> None:
    assert tab_names()[:7] == [
        "scalars",
        "histograms",
        "overview",
        "images",
        "text",
        "pr_curves",
        "hparams",
    ]
    # Every dashboard's view and plot renderer resolve (no dangling registry entry).
    for dash in DASHBOARDS:
        assert dash.load_view() is not None
        if dash.plot is not None:
            assert callable(dash.load_plot())
