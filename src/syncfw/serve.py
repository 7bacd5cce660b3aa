"""``syncfw serve``: sync every pair of a profile on its own interval, until stopped.

One thread runs one pair at a time: the pairs of a profile share one state file,
and a sync spends its time waiting on calendars, not on the CPU. A pair is due at
start, then ``interval_minutes`` after its previous run *started*; a run that
overran its interval is followed by the next as soon as it ends, never by a second
one beside it. Among the due pairs the one due longest runs first (on a tie, the
one that ran least recently), so a slow pair delays the others by one of its runs
at most, and never shuts them out.

Across processes the engine's per-pair lock (:class:`syncfw.locks.PairLock`)
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
from typing import TYPE_CHECKING, Literal, Protocol

from .errors import PairBusy

if TYPE_CHECKING:
    from .profile import Profile
    from .report import PairReport, RunReport

__all__ = ["PairRun", "Scheduler", "SyncEngine"]

log = logging.getLogger(__name__)

Status = Literal["ok", "partial", "busy", "guard", "interrupted", "error"]


class SyncEngine(Protocol):
    """What the scheduler needs of an engine; :class:`syncfw.Engine` is one."""

    def run(self, pairs: Sequence[str] | None = None) -> RunReport: ...

    def request_stop(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PairRun:
    """One scheduled run of one pair: what the log line says."""

    pair: str
    status: Status
    started: float  # on the scheduler's clock
    seconds: float
    report: PairReport | None  # None when the engine could not be started at all
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
        _log_run(run, None if once else max(0.0, self._due[name] - self._clock()))
        return run

    def _sync(self, name: str, started: float) -> PairRun:
        def failed(error: str) -> PairRun:
            return PairRun(name, "error", started, self._clock() - started, None, error)

        try:
            engine = self._factory()
        except Exception as exc:  # e.g. the state file cannot be opened: try again later
            log.debug("starting the engine for %s failed", name, exc_info=True)
            return failed(f"{type(exc).__name__}: {exc}")
        self._engine = engine
        try:
            if self._stopping:  # a stop that arrived while the engine was made
                engine.request_stop()
            report = engine.run([name]).pairs[0]
        except Exception as exc:  # the engine reports pair errors; this is a bug or worse
            log.debug("running %s failed", name, exc_info=True)
            return failed(f"{type(exc).__name__}: {exc}")
        finally:
            self._engine = None
            try:
                engine.close()
            except Exception:  # closing must not end the loop
                log.exception("closing the engine after %s failed", name)
        status = _status(report, stopping=self._stopping)
        return PairRun(name, status, started, self._clock() - started, report, report.error)


def _status(report: PairReport, *, stopping: bool) -> Status:
    # The engine knows the status (it writes it to the run log) but PairReport does
    # not carry it yet; read it back from what the report does say.
    if report.error is None:
        return "partial" if report.failed else "ok"
    if report.stopped_by_guard:
        return "guard"
    if report.error == str(PairBusy(report.name)):
        return "busy"
    return "interrupted" if stopping else "error"


def _log_run(run: PairRun, next_in: float | None) -> None:
    then = ""
    if next_in is not None:
        at = (datetime.now().astimezone() + timedelta(seconds=next_in)).strftime("%H:%M:%S")
        then = f"; next {'try' if run.status == 'busy' else 'run'} in {_span(next_in)} ({at})"
    took = f"{run.seconds:.2f} s"
    if run.status == "busy":
        log.info("%s: skipped: busy, another syncfw process is syncing it%s", run.pair, then)
        return
    if run.report is None or run.status in ("error", "interrupted", "guard"):
        what = {"guard": "stopped by the safety guard", "interrupted": "interrupted"}
        label = what.get(run.status, "error")
        level = logging.INFO if run.status == "interrupted" else logging.ERROR
        log.log(level, "%s: %s after %s: %s%s", run.pair, label, took, run.error, then)
        return
    r = run.report
    counts = (
        f"{r.created} created, {r.updated} updated, {r.deleted} deleted, "
        f"{r.unchanged} unchanged, {r.failed} failed"
    )
    level = logging.WARNING if run.status == "partial" else logging.INFO
    log.log(level, "%s: %s, %s in %s%s", run.pair, run.status, counts, took, then)


def _span(seconds: float) -> str:
    seconds = round(seconds, 1)
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.4g} min"
    return f"{seconds / 3600:.4g} h"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
