"""Review 3: persons, attendees, fan-out and recurrence wiring (suspected bugs).

Each test states the behaviour the issue asks for; a failing one is a bug report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncfw import Engine, RunReport, hookimpl, load_profile
from syncfw.drivers.memory import MemoryDriver, MemoryStore
from syncfw.errors import DriverError, ProfileError
from syncfw.hooks.manager import Plugins
from syncfw.model import Attendee, Event, Person
from syncfw.sdk.driver import WriteOp

from .conftest import MakeProfile

NOW = datetime(2031, 3, 3, 7, 0, tzinfo=UTC)  # a Monday

PERSONS = """
persons:
  - {name: Ada, email: ada@example.com, aliases: [a.fitter@old.example]}
  - {name: Bo, email: bo@example.com, sync: BO_SYNC}
  - {name: Cy, email: cy@example.com, sync: false}
"""

MEMORY = (
    """
version: 1
calendars:
  src: {driver: memory, name: src}
  dst: {driver: memory, name: dst}
"""
    + PERSONS
    + """
pairs:
  - name: push
    source: src
    target: dst
    window: {past_days: 7, future_days: 60}
    recurrence: {mode: MODE, horizon_days: 28}
"""
)


def run(profile: Path, now: datetime = NOW, plugins: Plugins | None = None) -> RunReport:
    with Engine(load_profile(profile, plugins), plugins=plugins, now=lambda: now) as engine:
        return engine.run()


def ok(report: RunReport) -> RunReport:
    assert report.exit_code == 0, [(p.name, p.error, p.failures) for p in report.pairs]
    return report


def single(uid: str, day: int, who: Sequence[str], title: str = "job") -> Event:
    start = NOW.replace(hour=9) + timedelta(days=day)
    return Event(
        uid=uid,
        title=title,
        start=start,
        end=start + timedelta(hours=1),
        attendees=tuple(Attendee(e) for e in who),
    )


def weekly_with_override(who: Sequence[str], override_who: Sequence[str]) -> Event:
    start = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
    moved = start + timedelta(days=7)
    override = Event(
        uid="series",
        title="moved",
        start=moved + timedelta(hours=2),
        end=moved + timedelta(hours=3),
        recurrence_id=moved,
        attendees=tuple(Attendee(e) for e in override_who),
    )
    return Event(
        uid="series",
        title="weekly",
        start=start,
        end=start + timedelta(hours=1),
        rrule=("FREQ=WEEKLY;COUNT=3",),
        attendees=tuple(Attendee(e) for e in who),
        overrides=(override,),
    )


def emails(e: Event) -> list[str]:
    return sorted(a.email for a in e.attendees)


# -- 1. overridden instances skip attendee normalization ---------------------------------------


def test_overridden_instance_attendees_are_normalized_too(write_profile: MakeProfile) -> None:
    profile = write_profile(MEMORY.replace("MODE", "expand").replace("BO_SYNC", "true"))
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    # The moved instance lists Ada under her alias, and Cy whose sync flag is off.
    src.put(weekly_with_override(["ada@example.com"], ["A.Fitter@OLD.example", "cy@example.com"]))
    ok(run(profile))
    moved = [e for e in dst.events().values() if e.title == "moved"]
    assert len(moved) == 1
    assert emails(moved[0]) == ["ada@example.com"]  # alias mapped, sync-off person left out


def test_series_mode_overrides_are_normalized_too(write_profile: MakeProfile) -> None:
    profile = write_profile(MEMORY.replace("MODE", "series").replace("BO_SYNC", "true"))
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(weekly_with_override(["ada@example.com"], ["A.Fitter@OLD.example", "cy@example.com"]))
    ok(run(profile))
    (series,) = dst.events().values()
    assert [emails(o) for o in series.overrides] == [["ada@example.com"]]


# -- 2. a changed person directory reaches events that did not change -------------------------


def test_turning_a_profile_persons_sync_flag_off_reaches_unchanged_events(
    write_profile: MakeProfile,
) -> None:
    """The issue: turning a person's sync flag off removes them everywhere on the next run.
    With an incremental source (memory, or any calendar other than the job calendar) the
    event itself did not change, so the incremental read never reports it."""
    profile = write_profile(MEMORY.replace("MODE", "expand").replace("BO_SYNC", "true"))
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(single("job", 1, ["ada@example.com", "bo@example.com"]))
    ok(run(profile))
    (shown,) = dst.events().values()
    assert emails(shown) == ["ada@example.com", "bo@example.com"]
    write_profile(MEMORY.replace("MODE", "expand").replace("BO_SYNC", "false"))
    ok(run(profile))
    (shown,) = dst.events().values()
    assert emails(shown) == ["ada@example.com"]


def test_a_new_filter_brings_back_events_an_old_filter_dropped(
    write_profile: MakeProfile,
) -> None:
    text = MEMORY.replace("MODE", "expand").replace("BO_SYNC", "true")
    profile = write_profile(text + "    filters: [{title: '^keep'}]\n")
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(single("a", 1, [], title="keep me"))
    src.put(single("b", 2, [], title="other"))
    ok(run(profile))
    assert sorted(e.title for e in dst.events().values()) == ["keep me"]
    write_profile(text)  # the filter is removed from the profile
    ok(run(profile))
    assert sorted(e.title for e in dst.events().values()) == ["keep me", "other"]


# -- 3. copy fan-out -----------------------------------------------------------------------------

COPY = (
    """
version: 1
calendars:
  src: {driver: memory, name: src}
  dst: {driver: memory, name: dst}
"""
    + PERSONS
    + """
pairs:
  - name: push
    source: src
    target: dst
    window: {past_days: 7, future_days: 60}
    attendees:
      fan_out: copy
      notify: NOTIFY
      calendar: {driver: memory, name: "p-{email}"}
"""
)


def titles(store: str) -> list[str]:
    return sorted(e.title for e in MemoryStore.named(store).events().values())


def test_turning_off_the_last_syncing_person_empties_their_calendar(
    write_profile: MakeProfile,
) -> None:
    """All persons with sync on -> off: the directory is not empty (it lists them, sync
    off), so this is not a failed read; yet nobody's calendar is emptied."""
    text = COPY.replace("NOTIFY", "none")
    profile = write_profile(text.replace("BO_SYNC", "true"))
    MemoryStore.named("src").put(single("a", 1, ["ada@example.com"], title="Ada job"))
    MemoryStore.named("src").put(single("b", 2, ["bo@example.com"], title="Bo job"))
    ok(run(profile))
    assert titles("p-ada@example.com") == ["Ada job"]
    assert titles("p-bo@example.com") == ["Bo job"]
    # Ada and Bo both stop syncing (Cy never did): the directory still has three persons.
    write_profile(
        text.replace("BO_SYNC", "false").replace(
            "aliases: [a.fitter@old.example]}", "aliases: [a.fitter@old.example], sync: false}"
        )
    )
    run(profile)
    assert titles("p-ada@example.com") == []
    assert titles("p-bo@example.com") == []


def test_copy_fan_out_follows_a_reassigned_instance_of_a_series(
    write_profile: MakeProfile,
) -> None:
    """Each person's calendar holds exactly the events they attend, also when one
    instance of a series is given to someone else."""
    profile = write_profile(COPY.replace("NOTIFY", "none").replace("BO_SYNC", "true"))
    MemoryStore.named("src").put(weekly_with_override(["ada@example.com"], ["bo@example.com"]))
    ok(run(profile))
    assert titles("p-ada@example.com") == ["weekly", "weekly"]
    assert titles("p-bo@example.com") == ["moved"]


class Recorder:
    """Records the notify of every write a memory store receives."""

    def __init__(self, *stores: str) -> None:
        self.seen: list[tuple[str, str, str]] = []
        for name in stores:
            MemoryStore.named(name).fail_on = self._hook(name)

    def _hook(self, name: str) -> Callable[[WriteOp], DriverError | None]:
        def record(op: WriteOp) -> DriverError | None:
            self.seen.append((name, op.action, op.notify))
            return None

        return record


def test_notify_reaches_deletes(write_profile: MakeProfile) -> None:
    """Deleting an invitation must tell the attendees too (Google sendUpdates on delete)."""
    text = MEMORY.replace("MODE", "expand").replace("BO_SYNC", "true")
    profile = write_profile(text + "    attendees: {notify: all}\n")
    src = MemoryStore.named("src")
    src.put(single("a", 1, ["ada@example.com"]))
    ok(run(profile))
    recorder = Recorder("dst")
    src.remove("a")
    ok(run(profile))
    assert recorder.seen == [("dst", "delete", "all")]


def test_copy_pairs_do_not_send_invitations_again(write_profile: MakeProfile) -> None:
    """With notify: all on the master, the persons' copies must not invite everyone again
    from each person's own calendar (one invitation per person per attendee)."""
    profile = write_profile(COPY.replace("NOTIFY", "all").replace("BO_SYNC", "true"))
    MemoryStore.named("src").put(single("a", 1, ["ada@example.com", "bo@example.com"]))
    recorder = Recorder("dst", "p-ada@example.com", "p-bo@example.com")
    ok(run(profile))
    copies = [n for store, _, n in recorder.seen if store != "dst"]
    assert copies == ["none", "none"]


def test_a_user_pair_cannot_be_named_like_a_generated_one(write_profile: MakeProfile) -> None:
    """'>' is kept for generated pairs, so a user's pair is never taken for one."""
    text = COPY.replace("NOTIFY", "none").replace("BO_SYNC", "true") + (
        "  - name: push>archive\n    source: src\n    target: archive\n"
    )
    text = text.replace(
        "  dst: {driver: memory, name: dst}\n",
        "  dst: {driver: memory, name: dst}\n  archive: {driver: memory, name: archive}\n",
    )
    with pytest.raises(ProfileError, match="contains '>'"):
        load_profile(write_profile(text))


# -- 4. a directory read that fails ---------------------------------------------------------------


class BrokenDirectory(MemoryDriver):
    """A calendar that also lists persons, but the listing fails like a lost DB connection."""

    name = "broken-directory"

    def persons(self) -> list[Person]:
        raise OSError("connection reset by peer")


class BrokenPlugin:
    @hookimpl
    def syncfw_register_drivers(self, register: Any) -> None:
        register(BrokenDirectory)


def test_a_failing_directory_read_fails_the_pairs_not_the_whole_run(
    write_profile: MakeProfile,
) -> None:
    text = """
version: 1
calendars:
  jobs: {driver: broken-directory, name: jobs}
  dst:  {driver: memory, name: dst}
  other_src: {driver: memory, name: other_src}
  other_dst: {driver: memory, name: other_dst}
persons: {from: jobs}
pairs:
  - name: push
    source: jobs
    target: dst
    attendees: {fan_out: copy, calendar: {driver: memory, name: "p-{email}"}}
  - name: other
    source: other_src
    target: other_dst
"""
    profile = write_profile(text)
    plugins = Plugins(extra=[BrokenPlugin()])
    report = run(profile, plugins=plugins)  # must not raise
    assert report.exit_code != 0
    assert any(p.name == "other" for p in report.pairs)


def test_copy_fan_out_in_series_mode_follows_a_reassigned_instance(
    write_profile: MakeProfile,
) -> None:
    """Same as above with ``recurrence: series`` (memory keeps series natively): the person
    filter sees only the series' attendees, so Bo misses his instance and Ada gets it."""
    text = COPY.replace("NOTIFY", "none").replace("BO_SYNC", "true")
    profile = write_profile(text + "    recurrence: {mode: series}\n")
    MemoryStore.named("src").put(weekly_with_override(["ada@example.com"], ["bo@example.com"]))
    ok(run(profile))
    bo = list(MemoryStore.named("p-bo@example.com").events().values())
    ada = list(MemoryStore.named("p-ada@example.com").events().values())
    assert [e.title for e in bo] == ["moved"] or [o.title for e in bo for o in e.overrides] == [
        "moved"
    ]
    assert all(o.title != "moved" for e in ada for o in e.overrides)


def test_two_copy_pairs_from_one_master_write_to_their_own_person_calendars(
    write_profile: MakeProfile,
) -> None:
    """Generated calendars are named '<target>><email>' and drivers are cached by calendar
    name, so a second copy pair from the same master reuses the first pair's driver."""
    text = """
version: 1
calendars:
  src: {driver: memory, name: src}
  dst: {driver: memory, name: dst}
  src2: {driver: memory, name: src2}
persons:
  - {name: Ada, email: ada@example.com}
pairs:
  - name: push
    source: src
    target: dst
    attendees: {fan_out: copy, calendar: {driver: memory, name: "work-{email}"}}
  - name: second
    source: src2
    target: dst
    attendees: {fan_out: copy, calendar: {driver: memory, name: "busy-{email}"}}
"""
    profile = write_profile(text)
    MemoryStore.named("src").put(single("a", 1, ["ada@example.com"], title="job"))
    ok(run(profile))
    # dst holds one event; each pair copies it into its own calendar for Ada.
    assert len(MemoryStore.named("work-ada@example.com").events()) == 1
    assert len(MemoryStore.named("busy-ada@example.com").events()) == 1
