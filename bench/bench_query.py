"""Benchmark of the run query (core/query.py) at 10,000 runs; not a test.

Owns: timing, on bench_scale.py's cached 10,000-run logdir (generated on first use), what the
run filter costs: parsing a query, and selecting the runs it keeps, for the kinds of term (a
word, a tag, a config comparison, has:, status:) against today's regex on the name. The app
works the kept set out again on every store change that moved the store's version (Board.
refresh_run_filter) from what it read before (InfoCache, per run version), looking again only
at the runs that changed; the warm figure is a whole pass over unchanged runs (a filter typed
anew, or `summary --watch`'s tick).

    python bench/bench_query.py [--runs 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import logdir_for  # noqa: E402

import tuiboard  # noqa: E402
from tuiboard.core.query import parse  # noqa: E402
from tuiboard.headless.health import SEVERITY  # noqa: E402
from tuiboard.ui.board import Board  # noqa: E402

QUERIES = {
    "regex ^sweep_03/": "^sweep_03/",
    "word (query)": "group_3 trial",
    "tag:x": "tag:baseline OR sweep_01",
    "cfg.lr>=1e-3": "cfg.lr>=1e-3",
    "has:val/acc -has:x": "has:val/acc -has:x",
    "status:stalled": "status:stalled",
}


def best_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    root = logdir_for(args.runs)
    t = time.perf_counter()
    logdir = tuiboard.open(str(root))
    runs = logdir.runs
    print(f"{len(runs)} runs opened in {time.perf_counter() - t:.1f} s ({root})")
    text = "(tag:baseline OR cfg.optimizer=adam) cfg.lr>=1e-3 -status:diverged has:val/*"
    n = 2000
    t = time.perf_counter()
    for _ in range(n):
        parse(text, statuses=SEVERITY)
    print(f"parse a 6-term query: {(time.perf_counter() - t) / n * 1e6:.0f} us")
    print("the app's run filter (Board) over every run: typed anew (cold: nothing read yet),")
    print("then a whole pass again (warm: read per run version; a status query assesses again)")
    now = time.time()
    for label, q in QUERIES.items():
        board = Board(logdir)
        t = time.perf_counter()
        assert board.set_run_filter(q, now) is None
        cold = (time.perf_counter() - t) * 1000
        kept = len(board.selection.matched or ())

        def again(board: Board = board) -> None:
            board._filter_key = None  # as if the store moved: a whole pass
            board.refresh_run_filter(now)

        warm = best_ms(again, args.repeat)
        print(
            f"  {label:<22} cold {cold:8.1f} ms ({cold * 1000 / len(runs):6.2f} us a run)"
            f"   warm {warm:6.1f} ms   {kept} kept"
        )
    board = Board(logdir)
    board.set_run_filter("tag:baseline OR has:val/acc", now)
    changed = [r.name for r in runs[:50]]

    def incremental() -> None:
        board._filter_key = (-1, board._filter_key[1])  # type: ignore[index]
        board.refresh_run_filter(now, changed)

    print(f"  50 changed runs, looked at again alone: {best_ms(incremental, args.repeat):.2f} ms")
    print(f"(best of {args.repeat}; python {sys.version.split()[0]}; 2 shared cores)")


if __name__ == "__main__":
    main()
