"""Pausing Python's cyclic garbage collector while a first load makes its objects.

Owns: `pause_gc` (the app's start) and `collector_paused` (a one-shot `summary` or `check`).
The start of a big logdir makes ~150,000 small objects in a second (10,000
runs: their files, loaders, data, views and run-panel rows); each few hundred allocations run a
young collection and every few thousand a full one over the whole heap (Textual's objects
included): ~0.35 s of the ~1.1 s of CPU until the first chart (bench/bench_scale.py, 10,000
runs). Reference counting still frees everything that is not a cycle; cycles made meanwhile
wait for the first collection after the pause. The pause is bounded: the caller ends it (the
first load's end, the app's exit), and a timer ends it after `limit` seconds whatever happens
(an app made and never run, a first load slower than that). The app's pause lasts the whole
first load, not only until the first paint, and ends by freezing what was made: when it ended
at the first paint, the 10,000 runs' ~450,000 objects met 2-3 full passes of ~0.2 s each
while the rest was read, and one on the UI thread held a key for 160 ms (bench_scale's
slowest key); a collection at the load's end frees ~130 objects, so next to nothing is kept
by freezing (objects frozen then and freed later in a cycle are never collected: a bounded
few). Pauses nest (two apps in one
process): the collector runs again when the last one ends, if it ran before the first.
A one-shot `summary` at 10,000 runs spends ~10 % of its time in the collector's passes over a
store that lives until the command ends and holds next to no cycles: it reads and prints with
the collector paused (no timer: the block ends it), and what it made is frozen afterwards
(gc.freeze: left out of later passes; otherwise the first pass after it goes over all of it,
~0.2 s at 10,000 runs). So that no garbage of what ran before is frozen with it (a process that
runs many commands: tests, a notebook), the block begins with a collection (~7 ms after the
CLI's imports).
Must not import: textual, rich, other tuiboard modules.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator

_lock = threading.Lock()
_holders = 0
"""Pauses not ended yet."""
_was_enabled = False
"""Whether the collector ran before the first of them."""


def pause_gc(limit: float | None) -> Callable[..., None]:
    """Stop the cyclic collector now; the returned callable (idempotent, any thread) ends
    this pause, which ends by itself after `limit` seconds (None: only when called)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    ended = False
    timer: threading.Timer | None = None

    def resume(freeze: bool = False) -> None:
        """`freeze`: if this ends the last pause, what the process made is first frozen
        (gc.freeze: left out of later passes) instead of met by the next full pass."""
        nonlocal ended
        global _holders
        with _lock:
            if ended:
                return
            ended = True
            if timer is not None:
                timer.cancel()
            _holders -= 1
            if _holders == 0 and _was_enabled:
                if freeze:
                    gc.freeze()
                gc.enable()

    if limit is not None:
        timer = threading.Timer(limit, resume)
        timer.daemon = True
        timer.start()
    return resume


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The collector paused for the block (a one-shot read and print: summary, check), what
    it made frozen at its end."""
    collecting = gc.isenabled()
    if collecting:
        gc.collect()
    resume = pause_gc(None)
    try:
        yield
    finally:
        if collecting:
            gc.freeze()
        resume()
