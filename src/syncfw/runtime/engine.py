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

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from syncfw.core.attendees import Directory
from syncfw.core.policies import Phase, Plan, PlanInput, Policy, SideRead
from syncfw.core.report import PairReport, RunReport
from syncfw.errors import (
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
from syncfw.runtime.locks import PairLock
from syncfw.runtime.reading import (
    PairRun,
    Read,
    Stopwatch,
    keeping_overrides,
    no_gc_pauses,
    read_side,
    scope_tag,
    settle,
    settle_held,
)
from syncfw.runtime.state import State
from syncfw.sdk.driver import Driver, DriverContext, PersonDirectory

if TYPE_CHECKING:
    from syncfw.config.models import CalendarConfig, PairConfig, Profile

__all__ = ["Engine", "Progress"]

log = logging.getLogger(__name__)

#: Called as (pair, done, total) while a pair's writes are applied.
Progress = Callable[[str, int, int], None]


def _report_planned(report: PairReport, plan: Plan) -> None:
    """A dry run's report: what the plan would do, op by op."""
    report.created = plan.count("create") + sum(p.adopted for p in plan.ops)
    report.updated = plan.count("update") - sum(p.adopted for p in plan.ops)
    report.deleted = plan.count("delete")
    report.planned = [
        {"action": p.op.action, "title": p.title, "key": p.item_key, "side": p.side}
        for p in plan.ops
    ]


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
                self._sync_pair(
                    config, dry_run=dry_run, force=force, progress=progress, phase=phase
                )
            )
            if config.attendees.fan_out == "copy" and report.pairs[-1].status != "error":
                report.pairs.extend(
                    self._fan_out(config, dry_run=dry_run, force=force, progress=progress)
                )
        report.finished_at = self._now()
        if not dry_run:
            self.plugins.run_finished(report)
        return report

    def _fan_out(
        self, config: PairConfig, *, dry_run: bool, force: bool, progress: Progress | None
    ) -> list[PairReport]:
        """The pairs to each person's own calendar (``fan_out: copy``), then the retiring
        of those who left."""
        try:
            directory = self.directory()
            current = fanout.person_pairs(self.profile, config, directory)
        except Exception as exc:  # a broken person source fails the fan-out, not the run
            message = str(exc) if isinstance(exc, SyncfwError) else f"{type(exc).__name__}: {exc}"
            log.error("%s: persons: %s", config.name, message)
            name = f"{config.name}{fanout.SEPARATOR}*"
            return [PairReport(name, error=message, status="error")]
        reports = []
        for person in current:
            self._calendars[person.calendar.name] = person.calendar
            if not dry_run:
                self.state.set_pair_person(
                    person.config.name, person.person.name, person.person.email
                )
            reports.append(
                self._sync_pair(person.config, dry_run=dry_run, force=force, progress=progress)
            )
        stale = fanout.stale_pairs(config, current, self.state.generated_pairs())
        if stale and not len(directory):
            return [*reports, fanout.empty_directory(config, len(stale))]
        for name in stale:  # persons who left: empty their calendars, forget them
            person = fanout.retiring_pair(self.profile, config, name, self.state.pair_person(name))
            self._calendars[person.calendar.name] = person.calendar
            report = self._sync_pair(
                person.config, dry_run=dry_run, force=True, progress=progress, retiring=True
            )
            if not (dry_run or report.error or report.failed):
                self.state.forget_pair(name)
            reports.append(report)
        return reports

    def _sync_pair(
        self,
        config: PairConfig,
        *,
        dry_run: bool = False,
        force: bool = False,
        progress: Progress | None = None,
        phase: Phase | None = None,
        retiring: bool = False,
    ) -> PairReport:
        report = PairReport(config.name, dry_run=dry_run)
        run_id = None if dry_run else self.state.start_run(config.name)
        status = "ok"
        try:
            pair = PairRun(
                config,
                None if retiring else self.driver(config.source),
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
        pair: PairRun,
        report: PairReport,
        policy: Policy,
        phase: Phase | None,
        *,
        dry_run: bool,
        force: bool,
        progress: Progress | None,
    ) -> None:
        """One pass of a pair: read, plan (and guard), apply, record."""
        clock = Stopwatch(report.seconds)
        with clock("read"):
            read = self._read_sides(pair)
        plan, read = self._plan(pair, policy, phase, read, report, clock)
        check_guard(pair.config, plan, force)
        if dry_run:
            _report_planned(report, plan)
            return
        with clock("apply"):
            written = self._apply(pair, plan, report, progress)
        if not report.failed:  # cursors advance only past a run that applied everything
            self._record(pair, plan, read, written, clock)

    def _read_sides(self, pair: PairRun) -> Read:
        """Both sides' feeds, incremental where the stored cursors are still good."""
        name = pair.config.name
        directory = self.directory()
        # Cursors are good for the window and settings they were read with; when either
        # changed (a new day, a person's flag, a filter), events may be in scope that no
        # cursor reports, so that side is read in full.
        tag = scope_tag(pair, directory)
        target = read_side(self.state, name, pair.target, pair.window, tag, full=False)
        if pair.source is None:  # a retiring pair: nothing to copy, so everything goes
            source = SideRead(pair.config.source, {}, full=True)
        else:
            source = read_side(self.state, name, pair.source, pair.window, tag, full=False)
        return Read(source, target, tag, directory, self.state.mappings(name))

    def _plan(
        self,
        pair: PairRun,
        policy: Policy,
        phase: Phase | None,
        read: Read,
        report: PairReport,
        clock: Stopwatch,
    ) -> tuple[Plan, Read]:
        """The policy's plan, reading a side in full when the plan needs it (and planning
        again); the failures, notes and counts go into ``report``."""
        config, name = pair.config, pair.config.name
        notes: set[str] = set()  # series the target cannot store, written as instances
        if policy.two_sided:
            normalize = pipeline.whole_events(
                config, directory=read.directory, plugins=self.plugins
            )
        else:
            normalize = pipeline.normalizer(
                config,
                directory=read.directory,
                plugins=self.plugins,
                target=pair.target.capabilities,
                window=pair.window,
                now=self._now(),
                series_problem=pair.target.series_problem,
                notes=notes,
            )
        inp = PlanInput(
            pair=name,
            source=read.source,
            target=read.target,
            mappings=read.mappings,
            window=pair.window,
            normalize=normalize,
            finish=pipeline.finisher(config, read.directory),
            notify=config.attendees.notify,
            conflict=config.conflict,
            phase=phase,
            admit=pipeline.admitter(config),
            keeps_overrides=keeping_overrides(pair),
        )
        with clock("plan"), no_gc_pauses():
            plan = policy.plan(inp)
        # A plan may need a side in full; the plan on the fuller read may need the other.
        while (plan.needs_full_source and not read.source.full) or (
            plan.needs_full_target and not read.target.full
        ):
            with clock("read"):
                if plan.needs_full_source and not read.source.full and pair.source is not None:
                    source = read_side(
                        self.state, name, pair.source, pair.window, read.tag, full=True
                    )
                    read = replace(read, source=source)
                if plan.needs_full_target and not read.target.full:
                    target = read_side(
                        self.state, name, pair.target, pair.window, read.tag, full=True
                    )
                    read = replace(read, target=target)
            with clock("plan"), no_gc_pauses():
                plan = policy.plan(replace(inp, source=read.source, target=read.target))
        report.full_read = read.source.full
        report.unchanged = plan.unchanged
        report.notes = sorted(notes)
        report.failures.extend(plan.failures)
        report.failed = len(plan.failures)
        return plan, read

    def _apply(
        self, pair: PairRun, plan: Plan, report: PairReport, progress: Progress | None
    ) -> dict[str, dict[str, str | None]]:
        """The plan's state-only records, then its writes to each side; what each side's
        writes left (key -> etag, None for a delete)."""
        name = pair.config.name
        with self.state.transaction():
            self.state.put_mappings(name, plan.records)
            self.state.delete_mappings(name, plan.forget)
        written: dict[str, dict[str, str | None]] = {}
        for side, driver in (("source", pair.source), ("target", pair.target)):
            ops = [p for p in plan.ops if p.side == side]
            if ops and driver is not None:
                written[side] = self._applier.apply(name, driver, ops, report, progress)
        return written

    def _record(
        self,
        pair: PairRun,
        plan: Plan,
        read: Read,
        written: dict[str, dict[str, str | None]],
        clock: Stopwatch,
    ) -> None:
        """Each side's cursor, past this run's own writes where the driver can tell."""
        name = pair.config.name
        sides = (("source", pair.source, read.source), ("target", pair.target, read.target))
        for side, driver, side_read in sides:
            if driver is None:
                continue
            if side in plan.hold_cursors:
                settle_held(self.state, name, driver, side_read, read.tag, written.get(side), clock)
                continue
            cursor = side_read.cursor
            if cursor is not None and written.get(side):
                cursor = settle(driver, cursor, written[side], clock)
            self.state.set_cursor(name, side_read.calendar, cursor, read.tag)

    def _lock(self, pair: str, dry_run: bool) -> AbstractContextManager[object]:
        if dry_run or self.state.path is None:
            return nullcontext()
        return PairLock(self.state.path, pair)
