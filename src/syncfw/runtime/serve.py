"""``syncfw serve``: sync every pair of a profile on its own interval, until stopped.

One thread runs one pair at a time: the pairs of a profile share one state file,
and a sync spends its time waiting on calendars, not on the CPU. A pair is due at
start, then ``interval_minutes`` after its previous run *started*; a run that
overran its interval is followed by the next as soon as it ends, never by a second
one beside it. Among the due pairs the one due longest runs first (on a tie, the
one that ran least recently), so a slow pair delays the others by one of its runs
at most, and never shuts them out.

Across processes the engine's per-pair lock (:class:`syncfw.runtime.locks.PairLock`)
keeps a pair to one run at a time: when another process (a second ``serve``, a
``syncfw run`` from cron) holds it, the run is logged as ``skipped: busy`` and
the pair is tried again at its next interval.

:meth:`Scheduler.stop` ends the loop after the write batch in flight: the engine
records that batch and the run's log entry, and the next start continues where
it stopped. It is safe to call from a signal handler. Nothing is reloaded while
serving: after editing the profile, restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol, cast

if TYPE_CHECKING:
    from syncfw.config.models import Profile
    from syncfw.core.report import PairReport, RunReport

__all__ = ["PairRun", "Scheduler", "SyncEngine"]

log = logging.getLogger(__name__)

#: A partial run logs this many of its failed events, then a count of the rest.
_SHOWN_FAILURES = 10

Status = Literal["ok", "partial", "busy", "guard", "interrupted", "error"]


class SyncEngine(Protocol):
    """What the scheduler needs of an engine; :class:`syncfw.Engine` is one."""

    def run(self, pairs: Sequence[str] | None = None) -> RunReport: ...

    def request_stop(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PairRun:
    """One scheduled run of one pair: what the log lines say.

    ``reports`` holds the pair's report, then one per person's calendar when the
    pair fans out copies (``attendees.fan_out: copy``); it is empty when the
    engine could not be started, and ``error`` says why. ``status`` is the worst
    of the reports' (busy < partial < interrupted < error < guard).
    """

    pair: str
    status: Status
    started: float  # on the scheduler's clock
    seconds: float
    reports: tuple[PairReport, ...] = ()
    error: str | None = None


class Scheduler:
    """Runs the pairs of ``profile`` (or only ``pairs``) each on its interval.

    ``engine_factory`` makes a fresh engine for every run, so a long-lived process
    holds no calendar connection or state handle between runs. ``clock`` (seconds,
    monotonic) and ``wait`` (block up to that many seconds, return early once
    :meth:`stop` was called) are there for tests; the defaults are real time.
    """

    def __init__(
        self,
        profile: Profile,
        engine_factory: Callable[[], SyncEngine],
        *,
        pairs: Sequence[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        configs = [profile.pair(name) for name in pairs] if pairs else profile.pairs
        self.profile = profile
        self.intervals = {c.name: c.interval_minutes * 60.0 for c in configs}
        self.last: dict[str, PairRun] = {}  # the latest run of each pair
        self._factory = engine_factory
        self._clock = clock
        self._wake = threading.Event()
        self._wait = wait or self._wake.wait
        self._due = dict.fromkeys(self.intervals, 0.0)
        self._order = dict.fromkeys(self.intervals, 0)  # run sequence, for ties
        self._runs = 0
        self._engine: SyncEngine | None = None
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        """End the loop after the write batch in flight. Safe from a signal handler."""
        self._stopping = True
        engine = self._engine
        if engine is not None:
            engine.request_stop()
        # Event.set() takes a lock that Event.wait() holds for an instant; a signal
        # handler interrupting that instant in the same thread would deadlock on it.
        threading.Thread(target=self._wake.set, name="syncfw-stop", daemon=True).start()

    def due_in(self) -> dict[str, float]:
        """Seconds until each pair is due (0 or less: due now)."""
        now = self._clock()
        return {name: due - now for name, due in self._due.items()}

    # -- running ------------------------------------------------------------------

    def serve(self) -> None:
        """Run due pairs until :meth:`stop`; every pair is due at start."""
        now = self._clock()
        self._due = dict.fromkeys(self.intervals, now)
        every = ", ".join(f"{name} every {_span(s)}" for name, s in self.intervals.items())
        log.info(
            "serving %s of %s: %s; all due now. Stop with Ctrl-C or SIGTERM.",
            _count(len(self.intervals), "pair"),
            self.profile.path,
            every,
        )
        while not self._stopping:
            name = min(self._due, key=lambda n: (self._due[n], self._order[n]))
            delay = self._due[name] - self._clock()
            if delay > 0:
                self._wait(delay)
                continue
            self._run(name, once=False)
        log.info("stopped")

    def run_once(self) -> list[PairRun]:
        """Run every pair once, in profile order (stops early on :meth:`stop`)."""
        runs = []
        for name in self.intervals:
            if self._stopping:
                log.info("stopped")
                break
            runs.append(self._run(name, once=True))
        return runs

    def _run(self, name: str, *, once: bool) -> PairRun:
        started = self._clock()
        self._due[name] = started + self.intervals[name]
        self._runs += 1
        self._order[name] = self._runs
        run = self._sync(name, started)
        self.last[name] = run
        next_in = None if once else max(0.0, self._due[name] - self._clock())
        _log_run(run, next_in, self._stopping)
        return run

    def _sync(self, name: str, started: float) -> PairRun:
        def failed(error: str) -> PairRun:
            return PairRun(name, "error", started, self._clock() - started, error=error)

        try:
            engine = self._factory()
        except Exception as exc:  # e.g. the state file cannot be opened: try again later
            log.debug("starting the engine for %s failed", name, exc_info=True)
            return failed(f"{type(exc).__name__}: {exc}")
        self._engine = engine
        try:
            if self._stopping:  # a stop that arrived while the engine was made
                engine.request_stop()
            reports = tuple(engine.run([name]).pairs)
        except Exception as exc:  # the engine reports pair errors; this is a bug or worse
            log.debug("running %s failed", name, exc_info=True)
            return failed(f"{type(exc).__name__}: {exc}")
        finally:
            self._engine = None
            try:
                engine.close()
            except Exception:  # closing must not end the loop
                log.exception("closing the engine after %s failed", name)
        status = max((_status(r, self._stopping) for r in reports), key=_SEVERITY.index)
        return PairRun(name, status, started, self._clock() - started, reports)


_SEVERITY: tuple[Status, ...] = ("ok", "busy", "partial", "interrupted", "error", "guard")


def _status(report: PairReport, stopping: bool) -> Status:
    if report.status == "error" and stopping:
        return "interrupted"  # a driver failing while we were being stopped
    return cast(Status, report.status)


def _log_run(run: PairRun, next_in: float | None, stopping: bool) -> None:
    """One line for the run (its wall time, when it runs next), then one per fan-out copy."""
    then = ""
    if next_in is not None:
        at = (datetime.now().astimezone() + timedelta(seconds=next_in)).strftime("%H:%M:%S")
        then = f"; next run in {_span(next_in)} ({at})"
    took = f"{run.seconds:.2f} s"
    if not run.reports:
        log.error("%s: error after %s: %s%s", run.pair, took, run.error, then)
    for n, report in enumerate(run.reports):
        first = n == 0
        _log_report(
            report, _status(report, stopping), took if first else None, then if first else ""
        )


def _log_report(report: PairReport, status: Status, took: str | None, then: str) -> None:
    name = report.name
    if status == "busy":
        log.info("%s: skipped: busy, another syncfw process is syncing it%s", name, then)
        return
    if status in ("error", "interrupted", "guard"):
        label = {"guard": "stopped by the safety guard"}.get(status, status)
        after = f" after {took}" if took else ""
        level = logging.INFO if status == "interrupted" else logging.ERROR
        log.log(level, "%s: %s%s: %s%s", name, label, after, report.error, then)
        return
    counts = (
        f"{report.created} created, {report.updated} updated, {report.deleted} deleted, "
        f"{report.unchanged} unchanged, {report.failed} failed"
    )
    level = logging.WARNING if status == "partial" else logging.INFO
    log.log(level, "%s: %s, %s%s%s", name, status, counts, f" in {took}" if took else "", then)
    for failure in report.failures[:_SHOWN_FAILURES]:
        log.warning(
            "%s: failed: %s: %s: %s", name, failure.calendar, failure.title, failure.message
        )
    if len(report.failures) > _SHOWN_FAILURES:
        more = len(report.failures) - _SHOWN_FAILURES
        log.warning("%s: and %d more failed; 'syncfw plan PROFILE' lists them", name, more)


def _span(seconds: float) -> str:
    seconds = round(seconds, 1)
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.4g} min"
    return f"{seconds / 3600:.4g} h"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
