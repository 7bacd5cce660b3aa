"""The engine: for each pair, read -> plan -> guard -> apply -> record.

Reading is incremental where the driver can (a stored cursor per side), with a
full read when there is no cursor, when the window moved to a new day (new
events may have entered it), when the provider rejects the cursor, or when the
policy needs the whole source (to repair drift in items whose source did not
change). Cursors advance only after a run with no failures, so nothing a run
could not apply is forgotten.

Applying sends the policy's ops to the target in batches of the driver's
``batch_size`` and records each batch's results in one state transaction, as
soon as the driver reports them. A run killed anywhere loses at most the batch
in flight; its creates carry deterministic uids, so the next run adopts them.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from syncfw.core.attendees import Directory
from syncfw.core.policies import Phase, PlanInput, Policy, Side, SideRead
from syncfw.core.report import PairReport, RunReport
from syncfw.errors import (
    CursorExpired,
    Interrupted,
    PairBusy,
    ProfileError,
    SafetyStop,
    SyncfwError,
)
from syncfw.hooks.manager import Plugins, default_plugins
from syncfw.model import Window
from syncfw.runtime import fanout, pipeline
from syncfw.runtime.apply import Applier, check_guard
from syncfw.runtime.fanout import NOTHING, Nothing
from syncfw.runtime.locks import PairLock
from syncfw.runtime.state import State
from syncfw.sdk.driver import Driver, DriverContext, PersonDirectory

if TYPE_CHECKING:
    from syncfw.config.models import CalendarConfig, PairConfig, Profile

__all__ = ["Engine", "Progress"]

log = logging.getLogger(__name__)

#: Called as (pair, done, total) while a pair's writes are applied.
Progress = Callable[[str, int, int], None]


@dataclass
class _PairRun:
    """Everything one pair's sync needs, resolved from the profile."""

    config: PairConfig
    source: Driver
    target: Driver
    window: Window


class Engine:
    """Runs the pairs of one profile against one state store.

    ``Engine(profile)`` opens the state file the profile names; pass ``state``
    to use another (``State(":memory:")`` in tests). Close it when done, or use
    it as a context manager.
    """

    def __init__(
        self,
        profile: Profile,
        *,
        plugins: Plugins | None = None,
        state: State | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.profile = profile
        self.plugins = plugins or default_plugins()
        self.state = state or State(profile.state_path)
        self._now = now or (lambda: datetime.now(UTC))
        self._drivers: dict[str, Driver] = {}
        self._calendars: dict[str, CalendarConfig] = {}  # generated: persons' own calendars
        self._directory: Directory | None = None
        self._stop = threading.Event()
        self._applier = Applier(self.state, self.plugins, self._stop)

    def request_stop(self) -> None:
        """Ask a running sync to end after the write batch in flight (thread/signal safe)."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for driver in self._drivers.values():
            try:
                driver.close()
            except Exception:  # closing must not hide the run's own outcome
                log.exception("closing %r failed", driver)
        self._drivers.clear()
        self.state.close()

    def driver(self, calendar: str) -> Driver:
        """The driver instance for one of the profile's calendars (opened once)."""
        if calendar == NOTHING:
            return Nothing(None, DriverContext(calendar=NOTHING))
        if calendar not in self._drivers:
            config = self.profile.calendars.get(calendar) or self._calendars[calendar]
            info = self.plugins.drivers().get(config.driver)
            if info is None:
                known = ", ".join(self.plugins.drivers())
                raise ProfileError(
                    f"unknown driver {config.driver!r}",
                    key=f"calendars.{calendar}.driver",
                    file=str(self.profile.path),
                    line=config.line,
                    hint=f"installed: {known}",
                )
            context = DriverContext(
                calendar=calendar,
                profile=self.profile.path.stem,
                base_dir=self.profile.base_dir,
                state_dir=self.profile.state_path.parent,
            )
            self._drivers[calendar] = info.cls(config.options, context)
        return self._drivers[calendar]

    def add_calendar(self, config: CalendarConfig) -> None:
        """A calendar the profile does not list (a person's own, for fan-out by copy)."""
        self._calendars[config.name] = config

    def directory(self) -> Directory:
        """The persons: from the calendar ``persons: {from: ...}`` names, or the profile's list."""
        if self._directory is None:
            persons = self.profile.persons
            if persons.source is None:
                self._directory = Directory(persons.persons)
            else:
                driver = self.driver(persons.source)
                if not isinstance(driver, PersonDirectory):
                    raise ProfileError(
                        f"calendar {persons.source!r} (driver {driver.name!r}) cannot list persons",
                        key="persons.from",
                        file=str(self.profile.path),
                        line=self.profile.line_of("persons", "from"),
                        hint="name a job calendar, or give persons as a list",
                    )
                self._directory = Directory(driver.persons())
        return self._directory

    # -- running ----------------------------------------------------------------

    def run(
        self,
        pairs: Sequence[str] | None = None,
        *,
        dry_run: bool = False,
        force: bool = False,
        progress: Progress | None = None,
        phase: Phase | None = None,
    ) -> RunReport:
        """Sync the named pairs (all by default) and report what happened.

        ``phase`` (``open`` or ``close``) runs that half of the open-pull-close-push
        pairs; without it they run both, open first. Other pairs ignore it.
        """
        configs = [self.profile.pair(name) for name in pairs] if pairs else self.profile.pairs
        report = RunReport(started_at=self._now(), dry_run=dry_run)
        self._directory = None  # read the persons afresh for every run
        for config in configs:
            if self._stop.is_set():  # asked to stop: the pairs not begun are not run
                report.pairs.append(
                    PairReport(
                        config.name, status="interrupted", error="not run: a stop was requested"
                    )
                )
                continue
            report.pairs.append(
                self.sync_pair(config, dry_run=dry_run, force=force, progress=progress, phase=phase)
            )
            if config.attendees.fan_out == "copy" and report.pairs[-1].status != "error":
                report.pairs.extend(
                    fanout.run(self, config, dry_run=dry_run, force=force, progress=progress)
                )
        report.finished_at = self._now()
        if not dry_run:
            self.plugins.run_finished(report)
        return report

    def sync_pair(
        self,
        config: PairConfig,
        *,
        dry_run: bool = False,
        force: bool = False,
        progress: Progress | None = None,
        phase: Phase | None = None,
    ) -> PairReport:
        report = PairReport(config.name, dry_run=dry_run)
        run_id = None if dry_run else self.state.start_run(config.name)
        status = "ok"
        try:
            pair = _PairRun(
                config,
                self.driver(config.source),
                self.driver(config.target),
                Window.around(
                    self._now(),
                    past_days=config.window.past_days,
                    future_days=config.window.future_days,
                ),
            )
            policy = self.plugins.policies().get(config.policy)
            if policy is None:
                raise ProfileError(f"unknown policy {config.policy!r}", key=f"pair {config.name}")
            phases: Sequence[Phase | None] = [None]
            if policy.phases:  # open-pull-close-push: the phase asked for, or all in order
                phases = [phase] if phase else policy.phases
            with self._lock(config.name, dry_run):
                for step, current in enumerate(phases):
                    part = PairReport(config.name, dry_run=dry_run) if step else report
                    self._sync(
                        pair, part, policy, current, dry_run=dry_run, force=force, progress=progress
                    )
                    if not dry_run and any(f.conflict for f in part.failures):
                        # Someone changed items between our read and our write: read again
                        # (the cursors did not advance), plan again, and retry once.
                        again = PairReport(config.name)
                        self._sync(
                            pair, again, policy, current, dry_run=False, force=force,
                            progress=progress,
                        )  # fmt: skip
                        part.absorb(again, retry=True)
                    if step:
                        report.absorb(part)
        except SafetyStop as exc:
            report.error, report.stopped_by_guard, status = str(exc), True, "guard"
        except PairBusy as exc:
            report.error, status = str(exc), "busy"
        except Interrupted as exc:
            report.error, status = str(exc), "interrupted"
        except SyncfwError as exc:
            report.error, status = str(exc), "error"
        except Exception as exc:  # a driver bug must not take the other pairs down
            log.debug("pair %s failed", config.name, exc_info=True)
            report.error, status = f"{type(exc).__name__}: {exc}", "error"
        if status == "ok" and report.failed:
            status = "partial"
        report.status = status
        if report.error:
            log.log(logging.INFO if status == "busy" else logging.ERROR, "%s", report.error)
        if run_id is not None:
            self.state.finish_run(
                run_id,
                status=status,
                created=report.created,
                updated=report.updated,
                deleted=report.deleted,
                unchanged=report.unchanged,
                failed=report.failed,
                message=report.error,
            )
        return report

    def _sync(
        self,
        pair: _PairRun,
        report: PairReport,
        policy: Policy,
        phase: Phase | None,
        *,
        dry_run: bool,
        force: bool,
        progress: Progress | None,
    ) -> None:
        name = pair.config.name
        clock = _Stopwatch(report.seconds)
        with clock("read"):
            mappings = self.state.mappings(name)
            directory = self.directory()
            # Cursors are good for the window and settings they were read with; when either
            # changed (a new day, a person's flag, a filter), events may be in scope that no
            # cursor reports, so that side is read in full.
            tag = _scope_tag(pair, directory)
            target = self._read(name, pair.target, pair.window, tag, full=False)
            source = self._read(name, pair.source, pair.window, tag, full=False)
        notes: set[str] = set()  # series the target cannot store, written as instances
        if policy.two_sided:
            normalize = pipeline.whole_events(
                pair.config, directory=directory, plugins=self.plugins
            )
        else:
            normalize = pipeline.normalizer(
                pair.config,
                directory=directory,
                plugins=self.plugins,
                target=pair.target.capabilities,
                window=pair.window,
                now=self._now(),
                series_problem=pair.target.series_problem,
                notes=notes,
            )
        inp = PlanInput(
            pair=name,
            source=source,
            target=target,
            mappings=mappings,
            window=pair.window,
            normalize=normalize,
            finish=pipeline.finisher(pair.config, directory),
            notify=pair.config.attendees.notify,
            conflict=pair.config.conflict,
            phase=phase,
            admit=pipeline.admitter(pair.config),
            keeps_overrides=_keeping_overrides(pair),
        )
        with clock("plan"), _no_gc_pauses():
            plan = policy.plan(inp)
        # A plan may need a side in full; the plan on the fuller read may need the other.
        while (plan.needs_full_source and not source.full) or (
            plan.needs_full_target and not target.full
        ):
            with clock("read"):
                if plan.needs_full_source and not source.full:
                    source = self._read(name, pair.source, pair.window, tag, full=True)
                if plan.needs_full_target and not target.full:
                    target = self._read(name, pair.target, pair.window, tag, full=True)
            with clock("plan"), _no_gc_pauses():
                plan = policy.plan(replace(inp, source=source, target=target))
        report.full_read = source.full
        report.unchanged = plan.unchanged
        report.notes = sorted(notes)
        report.failures.extend(plan.failures)
        report.failed = len(plan.failures)
        check_guard(pair.config, plan, force)
        if dry_run:
            report.created = plan.count("create") + sum(p.adopted for p in plan.ops)
            report.updated = plan.count("update") - sum(p.adopted for p in plan.ops)
            report.deleted = plan.count("delete")
            report.planned = [
                {"action": p.op.action, "title": p.title, "key": p.item_key, "side": p.side}
                for p in plan.ops
            ]
            return
        with self.state.transaction():
            self.state.put_mappings(name, plan.records)
            self.state.delete_mappings(name, plan.forget)
        sides = (("source", pair.source, source), ("target", pair.target, target))
        written: dict[str, dict[str, str | None]] = {}
        with clock("apply"):
            for side, driver, _ in sides:
                ops = [p for p in plan.ops if p.side == side]
                if ops:
                    written[side] = self._applier.apply(name, driver, ops, report, progress)
        if report.failed:
            return
        for side, driver, read in sides:
            if side in plan.hold_cursors:
                self._settle_held(name, driver, read.calendar, tag, written.get(side), clock)
                continue
            cursor = read.cursor
            if cursor is not None and written.get(side):
                cursor = self._settle(driver, cursor, written[side], clock)
            self.state.set_cursor(name, read.calendar, cursor, tag)

    def _settle_held(
        self,
        pair: str,
        driver: Driver,
        calendar: str,
        tag: str,
        ours: dict[str, str | None] | None,
        clock: _Stopwatch,
    ) -> None:
        """A held cursor (a phase leaves that side's changes to the other phase) still moves
        past this run's own writes when they are all that changed since it: otherwise a
        feed that omits items made and removed after its cursor (Graph's delta) would never
        report the removal of an event this run made."""
        stored, stored_tag = self.state.cursor(pair, calendar)
        if not ours or stored is None or stored_tag != tag:
            return
        settled = self._settle(driver, stored, ours, clock)
        if settled != stored:
            self.state.set_cursor(pair, calendar, settled, tag)

    def _settle(
        self, driver: Driver, cursor: str, ours: dict[str, str | None], clock: _Stopwatch
    ) -> str:
        """The driver's cursor past this run's own writes, if it has one; else ``cursor``."""
        try:
            with clock("read"):
                return driver.settle(cursor, ours) or cursor
        except Exception as exc:  # only an optimisation: the next run reads the writes back
            log.debug("%s: settling the cursor failed: %s", driver.context.calendar, exc)
            return cursor

    def _lock(self, pair: str, dry_run: bool) -> AbstractContextManager[object]:
        if dry_run or self.state.path is None:
            return nullcontext()
        return PairLock(self.state.path, pair)

    def _read(self, pair: str, driver: Driver, window: Window, tag: str, *, full: bool) -> SideRead:
        calendar = driver.context.calendar
        cursor, stored_tag = self.state.cursor(pair, calendar)
        if full or not driver.capabilities.incremental or stored_tag != tag:
            cursor = None
        try:
            return _collect(calendar, driver, cursor, window)
        except CursorExpired as exc:
            if cursor is None:
                raise
            log.warning("%s; reading %s in full", exc, calendar)
            return _collect(calendar, driver, None, window)


def _keeping_overrides(pair: _PairRun) -> frozenset[Side]:
    """The sides that store a series' changed instances (two-sided pairs write both)."""
    sides: list[Side] = []
    if pair.source.capabilities.native_recurrence:
        sides.append("source")
    if pair.target.capabilities.native_recurrence:
        sides.append("target")
    return frozenset(sides)


def _scope_tag(pair: _PairRun, directory: Directory) -> str:
    """What decides which events are in scope: the window, the persons, the pair's steps."""
    c = pair.config
    scope = (
        c.policy,  # another policy compares differently: read both sides afresh
        sorted((p.email.lower(), p.name, p.sync, sorted(p.aliases)) for p in directory),
        c.filters,
        c.transforms,
        c.recurrence.model_dump(),
        c.attendees.model_dump(),
    )
    digest = hashlib.blake2b(repr(scope).encode(), digest_size=8).hexdigest()
    return f"{pair.window.tag}|{digest}"


def _collect(calendar: str, driver: Driver, cursor: str | None, window: Window) -> SideRead:
    feed = driver.read(cursor, window)
    changes = {change.key: change for change in feed}
    return SideRead(calendar, changes, feed.full, feed.cursor)


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    # Planning allocates many small objects and no cycles; the cyclic collector would
    # only rescan them over and over (a third of the planning time at 100k events).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Stopwatch:
    """Adds the wall time of each phase to a dict: ``with clock("read"): ...``."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - began
            self.into[phase] = round(self.into.get(phase, 0.0) + elapsed, 6)
