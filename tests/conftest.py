"""Fixtures for every test, and the rules of the parallel run (pytest-xdist, `-n 3 --dist
loadgroup` in pyproject's addopts): which tests share a worker, one BLAS thread per worker, and
the unused-snapshot check that syrupy skips under xdist."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

SNAPSHOTS = Path(__file__).parent / "ui" / "__snapshots__"
"""pytest-textual-snapshot's files (syrupy): __snapshots__/<test module>/<test id>.svg."""


@pytest.fixture(autouse=True)
def config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty config directory: the app (in-process or started in tmux,
    which inherits the environment) reads and writes its settings file there
    (core/settings.py), never in the real user's ~/.config."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("TUIBOARD_NO_SETTINGS", raising=False)
    return home


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist, a test that uses a module-scoped fixture of the tests (runs written by
    real wandb, torch or lightning once for the module: 10-30 s) runs on the worker that runs
    its module's other such tests (`--dist loadgroup`, group "module:PATH"): the fixture is
    made once per run as in a serial run, not once per worker that happens to get one of
    them. Tests that name an xdist_group themselves keep it."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group") is not None:
            continue
        for defs in info.name2fixturedefs.values():
            used = defs[-1]  # the definition that wins (conftest overrides, then the module's)
            if used.scope in ("module", "class") and used.baseid:  # "" for plugins' fixtures
                module = item.nodeid.split("::", 1)[0]
                item.add_marker(pytest.mark.xdist_group(f"module:{module}"))
                break


class UnusedSnapshots:
    """A snapshot file that no test asserts any more fails the run, in parallel runs too.

    Run serially, syrupy fails the session on such a file (a test renamed or removed, its
    snapshot left behind). Under pytest-xdist it skips that check (it cannot merge the workers'
    reports: syrupy/session.py); this plugin, in the controller, does it from the test ids the
    workers collected. A module is checked only when the run selected all of it (no -k, -m,
    --deselect, --lf, nor a `file::test` argument)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.ids: set[str] = set()
        self.unused: list[Path] = []

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self.ids.update(ids)

    def _whole_run(self) -> bool:
        opt = self.config.option
        narrowed = (
            getattr(opt, "keyword", ""),
            getattr(opt, "markexpr", ""),
            getattr(opt, "deselect", None),
            getattr(opt, "lf", False),
        )
        return not any(narrowed)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.config.pluginmanager.hasplugin("dsession") or not self.ids:
            return  # serial: syrupy checks
        if not self._whole_run() or not SNAPSHOTS.is_dir():
            return
        narrowed = {a.split("::", 1)[0] for a in self.config.args if "::" in a}
        root = self.config.rootpath
        tests: dict[str, set[str]] = {}
        for nodeid in self.ids:
            path, _, name = re.sub(r"@[^\]]*$", "", nodeid).partition("::")  # @xdist_group
            tests.setdefault(path, set()).add(name)
        for module in sorted(SNAPSHOTS.iterdir()):
            path = (SNAPSHOTS.parent / f"{module.name}.py").relative_to(root).as_posix()
            if path not in tests or any(Path(a).resolve() == root / path for a in narrowed):
                continue
            for snap in sorted(module.iterdir()):
                if snap.stem not in tests[path]:
                    self.unused.append(snap)
        if self.unused:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.unused:
            terminalreporter.section("unused snapshots", red=True)
            for snap in self.unused:
                terminalreporter.write_line(f"{snap.relative_to(self.config.rootpath)}: no test")


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""One BLAS thread in each pytest-xdist worker (the workers already take every core): numpy's
OpenBLAS otherwise starts a thread per core in every worker, and on 2 cores shared by 3 workers
its spinning threads made one PCA test (tests/core/test_embeddings.py, a 3000x3000 QR) take
37-180 s instead of 12 s."""


def pytest_configure(config: pytest.Config) -> None:
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # A suite started in the background by a non-interactive shell (`cmd &`, nohup) has
        # SIGINT ignored, and every process it starts inherits that: the tests' ctrl+c
        # (SIGINT to a `summary --watch` process) would then do nothing. A handler (unlike
        # SIG_IGN) is reset to the default in the processes the tests start.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:
        return
    config.pluginmanager.register(UnusedSnapshots(config), "tuiboard-unused-snapshots")
    if config.getoption("dist", "no") != "no" and config.getoption("tx", None):
        for name in BLAS_THREADS:  # set before the workers start: they inherit it
            os.environ.setdefault(name, "1")
