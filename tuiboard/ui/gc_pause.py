"""Pausing Python's cyclic garbage collector while the app starts.

Owns: `pause_gc`. The start of a big logdir makes ~150,000 small objects in a second (10,000
runs: their files, loaders, data, views and run-panel rows); each few hundred allocations run a
young collection and every few thousand a full one over the whole heap (Textual's objects
included): ~0.35 s of the ~1.1 s of CPU until the first chart (bench/bench_scale.py, 10,000
runs). Reference counting still frees everything that is not a cycle; cycles made meanwhile
wait for the first collection after the pause. The pause is short and bounded: the caller
ends it (the first paint, the first load's end, the app's exit), and a timer ends it after
`limit` seconds whatever happens (an app made and never run). Pauses nest (two apps in one
process): the collector runs again when the last one ends, if it ran before the first.
Must not import: textual, rich, tuiboard.core.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

_lock = threading.Lock()
_holders = 0
"""Pauses not ended yet."""
_was_enabled = False
"""Whether the collector ran before the first of them."""


def pause_gc(limit: float) -> Callable[[], None]:
    """Stop the cyclic collector now; the returned callable (idempotent, any thread) ends
    this pause, which ends by itself after `limit` seconds."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    ended = False
    timer: threading.Timer | None = None

    def resume() -> None:
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
                gc.enable()

    timer = threading.Timer(limit, resume)
    timer.daemon = True
    timer.start()
    return resume
