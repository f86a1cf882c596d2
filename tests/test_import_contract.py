"""The core runs with no terminal: importing and using it loads neither textual nor rich."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tensorboardX import SummaryWriter


def test_core_does_not_import_textual_or_rich(tmp_path: Path) -> None:
    w = SummaryWriter(str(tmp_path / "run"))
    w.add_scalar("loss", 1.0, 0)
    w.close()
    code = f"""
import sys, io
import tuiboard
from tuiboard.export import export_scalars, write_ls
from tuiboard.core.watch import Watcher
ld = tuiboard.open({str(tmp_path)!r})
assert [r.name for r in ld.runs] == ["run"], ld.runs
export_scalars(ld, io.StringIO())
export_scalars(ld, io.StringIO(), runs_query="has:loss status:live OR cfg.lr>1")
from tuiboard.core.run_filter import compile_filter
assert compile_filter("run -tag:x").select(ld.runs) == ld.runs
write_ls(ld, io.StringIO(), as_json=True)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
print(",".join(bad))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"
