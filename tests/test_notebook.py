"""`%tuiboard` and `tuiboard.show` through IPython's real shells: InteractiveShell (a terminal's
shell, display output captured from its display publisher) and ipykernel's InProcessKernel (a
real kernel: live views update their display through update_display_data messages)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_port
from tuiboard import notebook, notebook_board
from tuiboard.notebook_app import running_servers
from tuiboard.writer import EventWriter, JsonlWriter

IPython = pytest.importorskip("IPython")
from IPython.core.displaypub import DisplayPublisher  # noqa: E402
from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402
from traitlets.config import Config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ("<script>alert(1)</script>", "[bold]x[/bold]")
"""Run names that would run or restyle if the HTML or Rich markup took them literally."""


def _write_runs(root: Path, steps: int = 10) -> None:
    for name in ("a", *HOSTILE):
        w = EventWriter(str(root / name))
        for i in range(steps):
            w.add_scalar("loss", 1.0 / (i + 1), i)
            w.add_scalar("acc", i / steps, i)
        w.close()
    with JsonlWriter(str(root / "jsonl-run")) as j:
        for i in range(steps):
            j.log(i, {"loss": 2.0 / (i + 1)})


def _plain(html_text: str) -> str:
    """What a reader sees: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def _row_step(plain: str, run: str) -> int | None:
    """The STEP column of `run`'s table row."""
    m = re.search(rf"^{re.escape(run)}\s+\w+\s+(\d+)\s", plain, re.M)
    return int(m.group(1)) if m else None


def _private_ipython(monkeypatch: pytest.MonkeyPatch, factory: pytest.TempPathFactory) -> Config:
    """IPython's profile in the test's own directory and its history in memory: nothing is
    written to the user's ~/.ipython (shared by every test process of a parallel run), and no
    HistorySavingThread is started, which would outlive the shell: a thread left running in
    the test process changes what later tests see (the loader forks workers only when its
    thread is the only one: core/logdir._parallel_groups)."""
    monkeypatch.setenv("IPYTHONDIR", str(factory.mktemp("ipython")))  # not in the logdir
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    return config


@pytest.fixture
def shell(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InteractiveShell]:
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(config=_private_ipython(monkeypatch, tmp_path_factory))
    sh.run_line_magic("load_ext", "tuiboard")
    yield sh
    notebook.stop()
    sh.run_line_magic("unload_ext", "tuiboard")
    InteractiveShell.clear_instance()


class Recorder(DisplayPublisher):
    """Every publish (first displays and updates), from any thread."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.lock = threading.Lock()
        self.calls: list[tuple[dict[str, Any], bool, str | None]] = []

    def publish(  # type: ignore[override]
        self,
        data: dict[str, Any],
        metadata: Any = None,
        source: Any = None,
        *,
        transient: dict[str, Any] | None = None,
        update: bool = False,
        **kw: Any,
    ) -> None:
        with self.lock:
            self.calls.append((data, update, (transient or {}).get("display_id")))

    def updates(self) -> list[dict[str, Any]]:
        with self.lock:
            return [d for d, update, _ in self.calls if update]


def _wait_for(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_the_magic_shows_each_run_and_chart_as_escaped_html(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    _write_runs(tmp_path)
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", f"--logdir {tmp_path} --columns 1")
    assert len(cap.outputs) == 1
    page = cap.outputs[0].data["text/html"]
    plain = _plain(page)
    for run in ("a", "jsonl-run", *HOSTILE):
        assert _row_step(plain, run) == 9, f"{run!r} row missing:\n{plain}"
    # One chart per tag: its title alone on a line, then braille, an x axis and the legend.
    lines = [line.rstrip() for line in plain.splitlines()]
    assert "acc" in lines and "loss" in lines
    assert sum(1 for line in lines if line.lstrip().startswith("└┬")) == 2
    assert re.search("[\u2801-\u28ff]", plain)
    legend = [line for line in lines if line.startswith("━━")]
    assert len(legend) == 2 and all(HOSTILE[0] in line for line in legend)
    assert "jsonl-run" in legend[1]  # loss: the JSONL run too
    # Untrusted names are text: escaped in HTML, Rich markup shown literally.
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "[bold]x[/bold]" in plain
    assert 'style="color: #' in page  # the runs' colours


def test_each_braille_character_is_one_monospace_cell(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    """The <pre>'s fonts have no braille (DejaVu Sans Mono, Menlo, Consolas), so the browser
    draws it from a wider font (DejaVu Sans: 1500 units a glyph, the mono cell is 1233); each
    braille character must be boxed to one `1ch` cell or a chart's rows run past its axis.
    The text itself is unchanged."""
    _write_runs(tmp_path)
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", f"{tmp_path} --columns 2")
    page = cap.outputs[0].data["text/html"]
    assert "font-family:" in page and "monospace" in page
    cell = re.compile('<span style="display:inline-block;width:1ch">([\u2800-\u28ff])</span>')
    boxed = cell.findall(page)
    assert boxed, "no braille drawn"
    assert not re.search("[\u2800-\u28ff]", cell.sub("", page)), "a braille character unboxed"
    plain = _plain(page)
    assert len(re.findall("[\u2800-\u28ff]", plain)) == len(boxed)


def test_a_wide_table_keeps_every_name_and_readable_colours(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    """The page scrolls sideways: a table of many long tag columns keeps its natural width
    (at the board's 100 cells Rich cut run names and squeezed columns to "…"), and the status
    colours are a dark terminal's (Rich's default export "blue" is #000080 on #1c1c1c)."""
    tags = [f"metrics/{name}_accuracy" for name in ("train", "val", "test", "holdout", "ood")]
    run = "a_rather_long_run_name/lr=0.001_seed=1"
    w = EventWriter(str(tmp_path / run))
    for i in range(5):
        for tag in tags:
            w.add_scalar(tag, i / 10, i)
    w.close()
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", f"{tmp_path} --tags accuracy --width 100")
    page = cap.outputs[0].data["text/html"]
    plain = _plain(page)
    head = next(line for line in plain.splitlines() if line.startswith("RUN"))
    assert all(tag in head for tag in tags) and "…" not in head
    assert _row_step(plain, run) == 4
    assert "#000080" not in page


def test_tags_choose_the_charts_and_columns(shell: InteractiveShell, tmp_path: Path) -> None:
    _write_runs(tmp_path)
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", f"{tmp_path} --tags loss")
    plain = _plain(cap.outputs[0].data["text/html"])
    assert "loss" in plain and "acc" not in plain


def test_bad_arguments_are_usage_errors(shell: InteractiveShell, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="regex"):
        shell.run_line_magic("tuiboard", f"{tmp_path} --tags '('")
    with pytest.raises(UsageError, match="smoothing"):
        shell.run_line_magic("tuiboard", f"{tmp_path} --smoothing 1.5")
    with pytest.raises(UsageError):
        shell.run_line_magic("tuiboard", "--no-such-flag")
    with pytest.raises(UsageError, match=r"query"):  # the same --runs as summary's
        shell.run_line_magic("tuiboard", f"{tmp_path} --runs 'cfg.lr>=  OR'")


def test_runs_takes_a_query_as_summary_does(shell: InteractiveShell, tmp_path: Path) -> None:
    _write_runs(tmp_path)
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", f"{tmp_path} --runs 'has:acc -name:bold'")
    plain = _plain(cap.outputs[0].data["text/html"])
    assert _row_step(plain, "a") == 9 and _row_step(plain, HOSTILE[0]) == 9
    assert _row_step(plain, HOSTILE[1]) is None  # its name holds "bold"
    assert _row_step(plain, "jsonl-run") is None  # no acc
    legends = [line for line in plain.splitlines() if line.startswith("━━")]
    assert legends and all("a" in line and HOSTILE[1] not in line for line in legends)


def test_a_terminal_shell_prints_once_as_text(shell: InteractiveShell, tmp_path: Path) -> None:
    _write_runs(tmp_path)
    recorder = Recorder(shell=shell)
    shell.display_pub = recorder
    shell.run_line_magic("tuiboard", f"{tmp_path} --interval 0.1")
    time.sleep(0.5)
    assert len(recorder.calls) == 1 and not recorder.updates()
    assert notebook.live_views() == []
    text = recorder.calls[0][0]["text/plain"]  # a terminal shows this: the whole board
    assert _row_step(text, "a") == 9 and "└┬" in text


def test_a_live_view_shows_appended_points_until_stop(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    recorder = Recorder(shell=shell)
    shell.display_pub = recorder
    run = tmp_path / "run"
    w = EventWriter(str(run))
    for i in range(10):
        w.add_scalar("loss", 1.0 / (i + 1), i)
    w.flush()
    shell.run_line_magic("tuiboard", f"{tmp_path} --live --interval 0.2")
    assert len(recorder.calls) == 1
    first, _, display_id = recorder.calls[0]
    assert display_id is not None
    assert _row_step(_plain(first["text/html"]), "run") == 9
    for i in range(10, 50):  # training goes on; a second run starts
        w.add_scalar("loss", 1.0 / (i + 1), i)
    w.flush()
    late = EventWriter(str(tmp_path / "late"))
    late.add_scalar("loss", 3.0, 0)
    late.flush()

    def seen() -> bool:
        ups = recorder.updates()
        return bool(ups) and _row_step(_plain(ups[-1]["text/html"]), "late") == 0

    assert _wait_for(seen), [(_plain(u["text/html"])[:400]) for u in recorder.updates()]
    last = _plain(recorder.updates()[-1]["text/html"])
    assert _row_step(last, "run") == 49
    assert all(did == display_id for _, up, did in recorder.calls if up)  # the same output
    assert len(notebook.live_views()) == 1
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", "--stop")
    assert "stopped 1 live view" in cap.stdout
    assert notebook.live_views() == []
    n = len(recorder.calls)
    w.add_scalar("loss", 0.0, 50)
    w.close()
    late.close()
    time.sleep(1.0)
    assert len(recorder.calls) == n


def test_show_from_plain_python_prints_once_without_ipython(tmp_path: Path) -> None:
    _write_runs(tmp_path)
    code = (
        "import sys, tuiboard\n"
        f"r = tuiboard.show({str(tmp_path)!r}, tags='loss', width=90)\n"
        "assert r is None\n"
        "print('IPYTHON' if 'IPython' in sys.modules else 'NO-IPYTHON')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("NO-IPYTHON")
    assert _row_step(out.stdout, "a") == 9
    assert "loss" in out.stdout and "acc" not in out.stdout
    assert HOSTILE[1] in out.stdout


def test_app_embeds_a_served_app_as_an_iframe(shell: InteractiveShell, tmp_path: Path) -> None:
    pytest.importorskip("textual_serve")
    _write_runs(tmp_path)
    port = free_port()
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", f"--app {tmp_path} --port {port}")
        shell.run_line_magic("tuiboard", f"--app {tmp_path} --port {port}")  # reused
    assert len(cap.outputs) == 2
    frame = cap.outputs[1].data["text/html"]
    url = f"http://localhost:{port}/"
    assert "<iframe" in frame and f'src="{url}"' in frame
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200 and "data-session-websocket-url" in r.read().decode()
    servers = running_servers()
    assert len(servers) == 1
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", "--stop")
    assert "1 server" in cap.stdout
    assert servers[0].proc.poll() is not None and running_servers() == []


# --- a real kernel ------------------------------------------------------------------------------


@pytest.fixture
def kernel(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    manager = pytest.importorskip("ipykernel.inprocess.manager")
    from ipykernel.inprocess.ipkernel import InProcessInteractiveShell

    InteractiveShell.clear_instance()
    km = manager.InProcessKernelManager(config=_private_ipython(monkeypatch, tmp_path_factory))
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    yield kc
    notebook.stop()
    kc.stop_channels()
    km.shutdown_kernel()
    InProcessInteractiveShell.clear_instance()
    InteractiveShell.clear_instance()


def _execute(kc: Any, code: str, cell_id: str) -> None:
    """Run a cell as Jupyter sends it (its id in the request's metadata)."""
    content = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }
    msg = kc.session.msg("execute_request", content, metadata={"cellId": cell_id})
    kc._dispatch_to_kernel(msg)  # what kc.execute does, which sends no metadata


def _iopub(kc: Any) -> dict[str, list[dict[str, Any]]]:
    """The kernel's output messages since the last call, by type."""
    out: dict[str, list[dict[str, Any]]] = {}
    for m in kc.iopub_channel.get_msgs():
        out.setdefault(m["msg_type"], []).append(m["content"])
    return out


def test_in_a_kernel_the_output_updates_and_a_rerun_cell_replaces_its_view(
    kernel: Any, tmp_path: Path
) -> None:
    w = EventWriter(str(tmp_path / "run"))
    w.add_scalar("loss", 1.0, 0)
    w.flush()
    _execute(kernel, "%load_ext tuiboard", "c0")
    cell = f"%tuiboard --logdir {tmp_path} --interval 0.2"
    _execute(kernel, cell, "c1")
    sent = _iopub(kernel)
    assert "error" not in sent, sent["error"]
    [shown] = [c for c in sent["display_data"] if "text/html" in c["data"]]
    display_id = shown["transient"]["display_id"]
    assert _row_step(_plain(shown["data"]["text/html"]), "run") == 0
    [view] = notebook.live_views()  # a kernel: live without being asked
    for i in range(1, 30):
        w.add_scalar("loss", 1.0 / (i + 1), i)
    w.flush()
    updates: list[dict[str, Any]] = []

    def updated() -> bool:
        updates.extend(_iopub(kernel).get("update_display_data", []))
        return any(_row_step(_plain(u["data"]["text/html"]), "run") == 29 for u in updates)

    assert _wait_for(updated)
    assert {u["transient"]["display_id"] for u in updates} == {display_id}
    _execute(kernel, cell, "c1")  # the same cell again: its new view replaces the old one
    [again] = notebook.live_views()
    assert again is not view and not view.running
    _execute(kernel, cell, "c2")  # another cell: a view of its own
    assert len(notebook.live_views()) == 2
    _execute(kernel, "%tuiboard --stop", "c3")
    assert notebook.live_views() == []
    w.close()


def test_many_tags_are_capped_and_a_missing_logdir_is_said(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    w = EventWriter(str(tmp_path / "logs" / "run"))
    n = notebook_board.MAX_CHARTS + 4
    for t in range(n):
        w.add_scalar(f"m/{t:03d}", float(t), 0)
        w.add_scalar(f"m/{t:03d}", float(t + 1), 1)
    w.close()
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", f"{tmp_path / 'logs'} --columns 1 --once")
        shell.run_line_magic("tuiboard", f"{tmp_path / 'not-yet'} --once")
    many = _plain(cap.outputs[0].data["text/html"])
    assert sum(1 for line in many.splitlines() if line.lstrip().startswith("└┬")) == n - 4
    assert f"m/{n - 5:03d}" in many and f"m/{n - 4:03d}" not in many.split("RUN", 1)[1][400:]
    assert "and 4 more tags" in many
    missing = _plain(cap.outputs[1].data["text/html"])
    assert "does not exist" in missing and "no runs found" in missing


def test_many_runs_are_aligned_lines_with_every_run(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    n = notebook_board.TABLE_ROWS + 2
    for i in range(n):
        w = EventWriter(str(tmp_path / f"trial_{i:02d}"))
        w.add_scalar("loss", float(i), i)
        w.close()
    w = EventWriter(str(tmp_path / HOSTILE[0]))
    w.add_scalar("loss", 1.0, 3)
    w.close()
    with capture_output() as cap:
        shell.run_line_magic("tuiboard", f"{tmp_path} --once")
    page = cap.outputs[0].data["text/html"]
    plain = _plain(page)
    assert [_row_step(plain, f"trial_{i:02d}") for i in range(n)] == list(range(n))
    assert _row_step(plain, HOSTILE[0]) == 3 and "<script>" not in page


def test_app_on_a_busy_port_says_so(shell: InteractiveShell, tmp_path: Path) -> None:
    pytest.importorskip("textual_serve")
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match="in use"):
            shell.run_line_magic("tuiboard", f"--app {tmp_path} --port {port}")
    assert running_servers() == []
