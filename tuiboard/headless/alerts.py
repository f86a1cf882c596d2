"""`--on-alert CMD`: which status changes are alerts, and running the user's command for each.

Owns: Alert, AlertTracker (successive healths -> one alert each time a run *enters* an unhealthy
status; never twice for the same transition) and AlertRunner (runs the shell command in a worker
thread, in order, with the alert in environment variables; a failing, missing or hanging command
is reported on stderr and never stops the watch). Must not import: textual, rich.

Environment of the command (all strings; empty when unknown):
  TUIBOARD_RUN     run name            TUIBOARD_STATUS  stalled | diverged | failed | damaged
  TUIBOARD_TAG     the tag concerned   TUIBOARD_STEP    its step
  TUIBOARD_VALUE   its value (Python float repr: 0.25, nan, inf)
  TUIBOARD_REASON  the one-phrase explanation
For `diverged` the tag/step/value are the first non-finite point; otherwise the run's main tag
(first loss-like, else the most written) and its last point.
The command's own output goes to our stderr, so stdout stays the summary.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from tuiboard.headless.health import DIVERGED, UNHEALTHY, Health, RunFacts

COMMAND_TIMEOUT = 60.0
"""Seconds an alert command may run before it is killed (and reported)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """A run entered an unhealthy status."""

    run: str
    status: str
    """One of UNHEALTHY."""
    tag: str | None
    """The first non-finite tag for diverged, else the run's main tag (None: no scalars)."""
    step: int | None
    value: float | None
    reason: str
    """The status's one phrase (may quote a tag: untrusted text, passed only in the env)."""

    def env(self) -> dict[str, str]:
        def s(x: object) -> str:
            return "" if x is None else str(x).replace("\x00", "")

        return {
            "TUIBOARD_RUN": s(self.run),
            "TUIBOARD_STATUS": self.status,
            "TUIBOARD_TAG": s(self.tag),
            "TUIBOARD_STEP": s(self.step),
            "TUIBOARD_VALUE": "" if self.value is None else repr(float(self.value)),
            "TUIBOARD_REASON": s(self.reason),
        }


def alert_for(status: str, facts: RunFacts, health: Health) -> Alert:
    """The alert for a run entering `status` (one of UNHEALTHY)."""
    tag: str | None
    step: int | None
    value: float | None
    if status == DIVERGED and facts.divergence is not None:
        d = facts.divergence
        tag, step, value = d.tag, d.step, d.value
    else:
        tag, step, value = facts.main_tag, facts.main_step, facts.main_value
    reason = health.reasons[health.statuses.index(status)]
    return Alert(facts.name, status, tag, step, value, reason)


class AlertTracker:
    """Remembers each run's unhealthy statuses and reports the ones it enters.

    The first `update` is the baseline: a watch started on an already-stalled logdir does not
    fire for every old run (they are shown in the summary). Runs that appear later start healthy,
    so a new run that is born damaged does fire. A run that recovers and fails again fires again.
    """

    def __init__(self, baseline: bool = True) -> None:
        self._seen: dict[str, frozenset[str]] = {}
        self._baseline = baseline

    def update(self, states: Iterable[tuple[RunFacts, Health]]) -> list[Alert]:
        alerts: list[Alert] = []
        current: dict[str, frozenset[str]] = {}
        for facts, health in states:
            bad = frozenset(health.statuses) & UNHEALTHY
            current[facts.name] = bad
            if self._baseline:
                continue
            entered = bad - self._seen.get(facts.name, frozenset())
            for status in (s for s in health.statuses if s in entered):
                alerts.append(alert_for(status, facts, health))
        self._seen = current
        self._baseline = False
        return alerts


class AlertRunner:
    """Runs `command` through the shell once per alert, in order, off the caller's thread."""

    def __init__(
        self, command: str, *, stderr: TextIO | None = None, timeout: float = COMMAND_TIMEOUT
    ) -> None:
        self.command = command
        self.stderr = stderr
        self.timeout = timeout
        self.failures = 0
        self.runs = 0
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="tuiboard-alerts", daemon=True)
        self._thread.start()

    def fire(self, alert: Alert) -> None:
        self._queue.put(alert)

    def close(self, timeout: float | None = None) -> None:
        """Run what is queued, then stop (waits at most `timeout` seconds)."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _report(self, text: str) -> None:
        out = self.stderr if self.stderr is not None else sys.stderr
        try:
            out.write(text if text.endswith("\n") else text + "\n")
            out.flush()
        except (OSError, ValueError):
            pass  # stderr closed: nowhere left to report to

    def _work(self) -> None:
        while True:
            alert = self._queue.get()
            if alert is None:
                return
            self.run_one(alert)

    def run_one(self, alert: Alert) -> bool:
        """Run the command for one alert; True if it exited 0. Never raises."""
        self.runs += 1
        env = dict(os.environ)
        env.update(alert.env())
        what = f"--on-alert command for {alert.run!r} ({alert.status})"
        try:
            proc = subprocess.run(
                self.command,
                shell=True,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.failures += 1
            self._report(f"tuiboard: {what} killed after {self.timeout:g}s")
            return False
        except OSError as e:
            self.failures += 1
            self._report(f"tuiboard: {what} could not start: {e}")
            return False
        if proc.stdout:
            self._report(proc.stdout.decode("utf-8", "replace"))
        if proc.returncode != 0:
            self.failures += 1
            self._report(f"tuiboard: {what} failed with exit status {proc.returncode}")
            return False
        return True
