"""Keeping a Logdir current from a background thread: inotify (watchfiles) or polling.

Owns: Watcher, the single writer of a Logdir while it runs. It calls `on_change(Changes)` from its
own thread, at most every `min_interval` seconds, with everything merged since the last call, so a
busy logdir never floods a viewer. Must not import: textual, rich.

inotify sees nothing that other hosts write on NFS, Lustre or GPFS: `poll=SECONDS` re-reads the
logdir's metadata on a timer instead (a no-change refresh of 1,000 runs costs a few tens of ms).
A remote root whose listing fails (Logdir.store_errors) is polled less often while it fails:
the poll interval, then twice it, four times... at most 5 min (source.retry_delay); the first
listing that succeeds brings the interval back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tuiboard.core.discovery import RunFiles
from tuiboard.core.logdir import Changes, Logdir
from tuiboard.core.source import retry_delay
from tuiboard.core.walk_ahead import fork_discover

LISTING_HOLD = 0.1
"""Seconds the first load's listing of runs waits for the first run read, to be handed over
with it (a first run slower to read than this: the listing goes alone)."""

OnChange = Callable[[Changes], None]
OnProgress = Callable[[int, int], None]
Discovered = Callable[[], dict[str, RunFiles]]
"""A first walk begun before (discover_ahead): called once, it waits for the walk's result."""


def discover_ahead(logdir: Logdir) -> Discovered:
    """Start `logdir.discover()` on a thread now; the returned callable waits for its result
    (or raises what it raised). A viewer that starts its watcher once its screen is up begins
    the walk first: the walk's system calls run while the viewer builds its screen (10,111
    directories: about half the walk's time is in the kernel, without the GIL). Where it is
    safe (this thread the only one, a local logdir: walk_ahead.can_fork), the walk runs in a
    forked child process instead, on another core, and sends its listing back."""
    forked = fork_discover(logdir)
    if forked is not None:
        return forked
    done = threading.Event()
    out: list[dict[str, RunFiles]] = []
    errors: list[BaseException] = []

    def walk() -> None:
        try:
            out.append(logdir.discover())
        except BaseException as e:  # handed to the caller of result()
            errors.append(e)
        finally:
            done.set()

    threading.Thread(target=walk, name="tuiboard-discovery", daemon=True).start()

    def result() -> dict[str, RunFiles]:
        done.wait()
        if errors:
            raise errors[0]
        return out[0]

    return result


class Watcher:
    """Reads the logdir once (in batches of runs, reporting progress), then follows it."""

    def __init__(
        self,
        logdir: Logdir,
        on_change: OnChange,
        *,
        poll: float | None = None,
        min_interval: float = 0.25,
        on_progress: OnProgress | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        first_paint_wait: float = 0.0,
        discovered: Discovered | None = None,
    ) -> None:
        """`first_paint_wait`: after the first runs read are handed over, wait up to this many
        seconds for the viewer's `drawn()` before reading on (a viewer whose first paint shares
        the interpreter with this thread draws sooner when the reading waits: the GIL).
        `discovered`: the result of a discover() begun before (discover_ahead), for the first
        load to start from."""
        self.discovered = discovered
        self.logdir = logdir
        self.on_change = on_change
        self.on_progress = on_progress
        self.on_error = on_error
        self.poll = poll
        self.min_interval = min_interval
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._pending: Changes | None = None
        self._pending_lock = threading.Lock()
        """Guards _pending and _last_emit: resume() flushes from the caller's thread."""
        self._last_emit = 0.0
        self._thread: threading.Thread | None = None
        self.next_poll: float | None = None
        """time.time() of the next refresh while polling (the status line's "retrying in")."""
        self.first_paint_wait = first_paint_wait
        self._drawn = threading.Event()

    # -- control ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tuiboard-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._drawn.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def pause(self) -> None:
        """Hold back notifications (reading goes on); resume() delivers them merged."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()
        self._flush(force=True)

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def drawn(self) -> None:
        """The viewer drew the first runs handed over: the first load reads on (any thread)."""
        self._drawn.set()

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.initial_load()
            if self.poll is not None:
                self._poll_loop(self.poll)
            else:
                self._watch_loop()
        except Exception as e:  # a bug in a reader must not kill the viewer silently
            if self.on_error is not None:
                self.on_error(e)
            else:
                raise

    def initial_load(self) -> None:
        found = self.discovered() if self.discovered is not None else self.logdir.discover()
        self.discovered = None
        total = len(found)
        done = 0
        if self.on_progress is not None:
            self.on_progress(0, total)
        listing: threading.Timer | None = None
        first_data = True
        for ch in self.logdir.refresh_iter(found=found):
            done += len(ch.runs)
            if first_data and ch.new_runs and not ch.runs and listing is None:
                # The listing waits (LISTING_HOLD at most) for the first run read, to go out
                # with it: one change for the viewer to apply and draw, not two.
                with self._pending_lock:
                    self._pending = ch if self._pending is None else self._pending.merge(ch)
                listing = threading.Timer(LISTING_HOLD, self._flush, kwargs={"force": True})
                listing.daemon = True
                listing.start()
            else:
                first = first_data and bool(ch.runs)
                if first and listing is not None:
                    listing.cancel()
                self._offer(ch)
                if first:
                    first_data = False
                    self._deliver_now()  # the first runs read go out now (min_interval apart)
                if self.on_progress is not None:
                    self.on_progress(min(done, total), total)
                # the rest waits for the viewer to draw the first runs (first_paint_wait)
                if first and self.first_paint_wait > 0 and not self._paused.is_set():
                    self._drawn.wait(self.first_paint_wait)
            if self._stop.is_set():
                return
        if listing is not None:
            listing.cancel()
        # Deliver the rest of the first load now, yet never two notifications within
        # min_interval (a poll interval may be long).
        self._deliver_now()

    def _deliver_now(self) -> None:
        """Hand over what is pending as soon as min_interval allows."""
        with self._pending_lock:
            if self._pending is None:
                return
            remaining = self.min_interval - (time.monotonic() - self._last_emit)
        if remaining > 0:
            self._stop.wait(remaining)
        self._flush(force=True)

    def _poll_loop(self, interval: float) -> None:
        while not self._stop.wait(self._next_wait(interval)):
            self._offer(self.logdir.refresh())
            self._flush()

    def _next_wait(self, interval: float) -> float:
        """`interval`, or the backoff of the store that failed most times in a row."""
        failures = max((e.failures for e in self.logdir.store_errors), default=0)
        wait = retry_delay(interval, failures)
        self.next_poll = time.time() + wait
        return wait

    def _watch_loop(self) -> None:
        import watchfiles

        roots = [path for _, path in self.logdir.roots]
        caught_up = False
        try:
            for batch in watchfiles.watch(
                *roots,
                stop_event=self._stop,
                debounce=150,
                step=50,
                rust_timeout=int(self.min_interval * 1000),
                yield_on_timeout=True,
                raise_interrupt=False,
                ignore_permission_denied=True,
            ):
                if not caught_up:
                    # inotify watches exist from the first iteration on: one full refresh
                    # catches what was written between the first load and then.
                    caught_up = True
                    self._offer(self.logdir.refresh())
                elif batch:
                    self._offer(self.logdir.refresh({p for _, p in batch}))
                self._flush()
        except (OSError, RuntimeError):
            # No inotify here (or a root vanished): fall back to polling.
            self._poll_loop(max(self.min_interval, 1.0))

    def _offer(self, ch: Changes) -> None:
        if not ch:
            return
        with self._pending_lock:
            self._pending = ch if self._pending is None else self._pending.merge(ch)
        self._flush()

    def _flush(self, force: bool = False) -> None:
        with self._pending_lock:
            if self._pending is None or self._paused.is_set():
                return
            now = time.monotonic()
            if not force and now - self._last_emit < self.min_interval:
                return
            ch, self._pending = self._pending, None
            self._last_emit = now
        self.on_change(ch)
