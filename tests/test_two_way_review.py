"""An independent review of the two-sided policies (two-way, open-pull-close-push).

Each test asserts what a user should see. The review's five bugs (once strict xfails) are
fixed, or - two of them - shown to be deliberate limits, documented in docs/architecture.md
("Limits of the two-sided policies") and pinned here as they behave.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import syncfw
from syncfw import hookimpl
from syncfw.config.loader import load_profile
from syncfw.drivers.memory import MemoryDriver, MemoryStore
from syncfw.errors import DriverError, SessionError
from syncfw.hooks.manager import Plugins
from syncfw.model import Attendee, Event
from syncfw.runtime.engine import Engine
from syncfw.sdk.driver import Capabilities, WriteOp
from syncfw.sdk.ical import event_to_ical

from .conftest import MakeProfile, event, read_ics_folder
from .conftest import day_at as at
from .special_drivers import ReviewDrivers
from .test_two_way import profile


def quiet(report: syncfw.RunReport) -> bool:
    p = report.pairs[0]
    return (p.error, p.created, p.updated, p.deleted, p.failed) == (None, 0, 0, 0, 0)


@pytest.fixture
def local() -> MemoryStore:
    return MemoryStore.named("local")


@pytest.fixture
def remote() -> MemoryStore:
    return MemoryStore.named("remote")


# -- deletions nobody asked for ------------------------------------------------------------


def test_a_finished_series_is_not_deleted_when_it_ages_out(
    write_profile: MakeProfile, tmp_path: Path, remote: MemoryStore
) -> None:
    """jobcal's full read leaves out a series with no instance in the window; the planner
    takes the missing key for a deletion (ends_at is FOREVER, so past() never applies)."""
    from syncfw_jobcal.store import JobCalendar

    path = write_profile(
        """
        version: 1
        calendars:
          jobs: {driver: jobcal, url: "sqlite:///jobcal.db"}
          remote: {driver: memory, name: remote}
        pairs:
          - {name: both, source: jobs, target: remote, policy: two-way,
             window: {past_days: 7, future_days: 60}}
        """
    )
    jobs = JobCalendar.open(f"sqlite:///{tmp_path / 'jobcal.db'}")
    try:
        jobs.init()
        series = jobs.add_appointment("Standup", at(1), at(1, 10), rrule="FREQ=DAILY;COUNT=3")
        jobs.add_appointment("One-off", at(1), at(1, 10))
        now = datetime.now(UTC)
        for days in (0, 30):  # a month later both have ended before the window
            with Engine(load_profile(path), now=lambda d=days: now + timedelta(days=d)) as engine:
                assert engine.run().pairs[0].error is None
        assert sorted(e.title for e in remote.events().values()) == ["One-off", "Standup"]
        assert series in remote.events()
    finally:
        jobs.close()


def test_a_remote_reschedule_beyond_the_window_keeps_the_local_event(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    path = profile(write_profile, "two-way")  # future_days: 60
    local.put(event("a", "job"))
    syncfw.run(path)
    remote.put(event("a", "job", days=75))  # rescheduled, still the same appointment
    syncfw.run(path)
    assert "a" in local.events(), "the job calendar lost the appointment"


def test_a_remote_edit_that_leaves_the_filter_keeps_the_local_event(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    path = profile(write_profile, "two-way", "    filters: [{person: [ann@x.org]}]")
    local.put(event("a", "job", attendees=(Attendee("ann@x.org"),)))
    syncfw.run(path)
    remote.put(event("a", "job", attendees=(Attendee("bob@x.org"),)))  # reassigned remotely
    syncfw.run(path)
    assert "a" in local.events(), "the remote edit deleted the local appointment"


@pytest.mark.parametrize(("policy", "phase"), [("two-way", None), ("open-pull-close-push", None)])
@pytest.mark.parametrize("emptied", ["local", "remote"])
def test_an_empty_side_is_stopped_by_the_guard(
    write_profile: MakeProfile,
    local: MemoryStore,
    remote: MemoryStore,
    policy: str,
    phase: str | None,
    emptied: str,
) -> None:
    path = profile(write_profile, policy)
    for i in range(12):
        local.put(event(f"e{i}", days=i + 1))
    syncfw.run(path)
    MemoryStore.named(emptied).clear()  # a read that comes back empty
    for _ in range(2):
        report = syncfw.run(path)
        assert report.pairs[0].stopped_by_guard
        assert len(local.events()) + len(remote.events()) == 12


# -- attendees ---------------------------------------------------------------------------

PERSONS = """
        persons:
          - {name: Ann, email: ann@x.org, aliases: [a@x.org]}
          - {name: Bob, email: bob@x.org, sync: false}
"""


def test_a_local_edit_keeps_the_remote_events_other_attendees(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    path = profile(write_profile, "two-way", PERSONS)
    remote.put(event("a", "meet", attendees=(Attendee("ann@x.org"), Attendee("bob@x.org"))))
    syncfw.run(path)  # pulled: local shows Ann and Bob
    local.put(local.events()["a"].replace(title="meet, new room"))
    syncfw.run(path)
    assert {a.email for a in remote.events()["a"].attendees} == {"ann@x.org", "bob@x.org"}


def test_a_pull_keeps_an_answer_given_locally(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    path = profile(write_profile, "two-way")
    local.put(event("a", "job", attendees=(Attendee("ann@x.org", response="accepted"),)))
    syncfw.run(path)
    local.put(event("a", "job", attendees=(Attendee("ann@x.org", response="declined"),)))
    syncfw.run(path)  # only recorded: answers are not content
    remote.put(remote.events()["a"].replace(title="job, new title"))
    syncfw.run(path)
    assert local.events()["a"].title == "job, new title"
    assert local.events()["a"].attendees[0].response == "declined"


def test_a_push_keeps_an_answer_given_remotely_when_the_remote_was_not_read(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    path = profile(write_profile, "two-way")
    local.put(event("a", "job", attendees=(Attendee("ann@x.org"),)))
    syncfw.run(path)
    accepted = (Attendee("ann@x.org", response="accepted"),)
    remote.put(remote.events()["a"].replace(attendees=accepted))
    assert quiet(syncfw.run(path))  # only recorded: answers are not content
    local.put(local.events()["a"].replace(title="job, new title"))
    syncfw.run(path)  # the remote has no change to report: its recorded answers count
    assert remote.events()["a"].title == "job, new title"
    assert remote.events()["a"].attendees == accepted


# -- series --------------------------------------------------------------------------------


class NoRecurrence(MemoryDriver):
    """A memory calendar that, like jobcal, cannot store a series' changed instances."""

    name = "memory-no-overrides"
    capabilities = Capabilities(
        incremental=True,
        conditional_writes=True,
        native_recurrence=False,
        client_ids=True,
        batch_size=500,
    )


class _NoRecurrencePlugin:
    @hookimpl
    def syncfw_register_drivers(self, register: object) -> None:
        register(NoRecurrence)  # type: ignore[operator]


def test_a_local_series_edit_keeps_the_remotes_moved_instance(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    path = write_profile(
        """
        version: 1
        calendars:
          local: {driver: memory-no-overrides, name: local}
          remote: {driver: memory, name: remote}
        pairs:
          - {name: both, source: local, target: remote, policy: two-way,
             window: {past_days: 7, future_days: 60}}
        """
    )
    plugins = Plugins(extra=[_NoRecurrencePlugin()])
    series = event("s", "weekly", rrule=("FREQ=WEEKLY;COUNT=5",))
    local.put(series)
    syncfw.run(path, plugins=plugins)
    moved = event("s", "weekly, moved", days=9, recurrence_id=series.start + timedelta(days=7))
    remote.put(remote.events()["s"].replace(overrides=(moved,)))
    report = syncfw.run(path, plugins=plugins)  # reported: local cannot store it
    assert report.pairs[0].failed == 1
    local.put(local.events()["s"].replace(title="weekly, renamed"))
    syncfw.run(path, plugins=plugins)
    assert remote.events()["s"].overrides, "the remote's moved instance was dropped"


# -- switching a master-push pair to two-way (state v2 -> v3) -----------------------------


def test_a_migrated_expanded_series_becomes_one_series_and_an_instance_edit_no_duplicate(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    """A deliberate limit: two-way keeps a series whole, so the first two-way run replaces
    master push's expanded copies by the series (not quiet: the guard counts the deletes).
    From then on an edited instance is the series' override, on both sides."""
    local.put(event("s", "weekly", rrule=("FREQ=WEEKLY;COUNT=4",)))
    syncfw.run(profile(write_profile, "master-push"))  # four expanded copies
    assert len(remote.events()) == 4
    path = profile(write_profile, "two-way")
    switched = syncfw.run(path).pairs[0]
    assert (switched.created, switched.deleted, switched.failed) == (1, 4, 0)
    assert list(remote.events()) == ["s"] and remote.events()["s"].rrule
    assert quiet(syncfw.run(path))
    series = remote.events()["s"]
    second = series.start + timedelta(days=7)
    edited = event("s", "one instance edited", days=8, recurrence_id=second)
    remote.put(series.replace(overrides=(edited,)))
    syncfw.run(path)
    assert list(local.events()) == ["s"], "the edited instance came in as another event"
    assert [o.title for o in local.events()["s"].overrides] == ["one instance edited"]
    assert quiet(syncfw.run(path))


def test_a_migrated_pair_keeps_the_local_events_uid(
    write_profile: MakeProfile, tmp_path: Path, remote: MemoryStore
) -> None:
    (tmp_path / "agenda").mkdir()
    (tmp_path / "agenda" / "a.ics").write_bytes(event_to_ical([event("a-uid", "job")]))

    def pair(policy: str) -> Path:
        return write_profile(
            f"""
            version: 1
            calendars:
              local: {{driver: ics, path: agenda}}
              remote: {{driver: memory, name: remote}}
            pairs:
              - {{name: both, source: local, target: remote, policy: {policy},
                 window: {{past_days: 7, future_days: 60}}}}
            """
        )

    syncfw.run(pair("master-push"))
    path = pair("two-way")
    assert quiet(syncfw.run(path))
    (key,) = remote.events()
    remote.put(remote.events()[key].replace(title="edited remotely"))
    syncfw.run(path)
    assert set(read_ics_folder(tmp_path / "agenda")) == {"a-uid"}


def test_a_migrated_plain_event_stays_quiet_and_syncs_both_ways(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    local.put(event("a", "job"))
    syncfw.run(profile(write_profile, "master-push"))
    path = profile(write_profile, "two-way")
    assert quiet(syncfw.run(path))
    (key,) = remote.events()
    remote.put(remote.events()[key].replace(title="edited remotely"))
    syncfw.run(path)
    assert local.events()["a"].title == "edited remotely"
    assert quiet(syncfw.run(path))


# -- dry run -------------------------------------------------------------------------------


def test_the_dry_run_of_a_session_plans_each_phase_on_the_same_read(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    """A deliberate limit: without ``--phase`` a dry run plans open and close on one read, so
    for an event changed on both sides it lists the open's pull and the close's push; the
    run writes once (after the open's pull the close finds the sides agree). A dry run of
    one phase is exact."""
    path = profile(write_profile, "open-pull-close-push")
    local.put(event("a", "original"))
    syncfw.run(path)
    local.put(event("a", "local edit"))
    remote.put(event("a", "remote edit"))
    planned = syncfw.run(path, dry_run=True).pairs[0].planned
    assert [(p["side"], p["title"]) for p in planned] == [
        ("source", "remote edit"),
        ("target", "local edit"),
    ]
    opening = syncfw.run(path, dry_run=True, phase="open").pairs[0].planned
    assert [(p["side"], p["title"]) for p in opening] == [("source", "remote edit")]
    done = syncfw.run(path).pairs[0]
    assert remote.events()["a"].title == local.events()["a"].title == "remote edit"
    assert (done.updated, done.created, done.deleted) == (1, 0, 0)


# -- round trips that must stay quiet ------------------------------------------------------


@pytest.mark.parametrize("policy", ["two-way", "open-pull-close-push"])
def test_all_day_zoned_and_aliased_events_round_trip_quietly(
    write_profile: MakeProfile, tmp_path: Path, policy: str
) -> None:
    path = write_profile(
        f"""
        version: 1
        calendars:
          local: {{driver: ics, path: agenda.ics}}
          remote: {{driver: ics, path: remote}}
        {PERSONS}
        pairs:
          - {{name: both, source: local, target: remote, policy: {policy},
             window: {{past_days: 7, future_days: 60}}}}
        """
    )
    day = date.today() + timedelta(days=3)
    start = at(2).replace(hour=8)
    (tmp_path / "remote").mkdir()
    (tmp_path / "remote" / "x.ics").write_bytes(
        event_to_ical([Event(uid="day", title="holiday", start=day, end=day + timedelta(days=1))])
    )
    guests = (
        Attendee("A@X.org", "Ann", response="accepted"),  # an alias, in capitals
        Attendee("mailto:bob@x.org"),  # a sync-off person
        Attendee("guest@y.org"),
    )
    zoned = Event(
        uid="tz",
        title="berlin",
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Berlin",
        attendees=guests,
        organizer=Attendee("a@x.org"),
        rrule=("FREQ=DAILY;COUNT=3",),
    )
    (tmp_path / "remote" / "y.ics").write_bytes(event_to_ical([zoned]))
    first = syncfw.run(path).pairs[0]
    assert (first.created, first.failed) == (2, 0)
    for _ in range(2):
        assert quiet(syncfw.run(path))


def test_server_keys_and_a_lost_state_make_no_duplicates(write_profile: MakeProfile) -> None:
    path = write_profile(
        """
        version: 1
        calendars:
          local: {driver: memory, name: local}
          remote: {driver: server-ids, name: remote}
        pairs:
          - {name: both, source: local, target: remote, policy: two-way,
             window: {past_days: 7, future_days: 60}}
        """
    )
    plugins = Plugins(extra=[ReviewDrivers()])
    local, remote = MemoryStore.named("local"), MemoryStore.named("remote")
    local.put(event("a", "job"))
    syncfw.run(path, plugins=plugins)
    (path.parent / ".syncfw" / "profile.db").unlink()
    assert quiet(syncfw.run(path, plugins=plugins))
    assert len(local.events()) == len(remote.events()) == 1


# -- session -------------------------------------------------------------------------------


def _broken(op: WriteOp) -> DriverError:
    raise DriverError("the remote refused the login", calendar="remote")


def test_a_session_whose_push_fails_says_so(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    path = profile(write_profile, "open-pull-close-push")
    with (
        pytest.raises(SessionError, match=r"push failed.*refused the login"),
        syncfw.session(path),
    ):
        local.put(event("l", "written in the agenda"))
        remote.fail_on = _broken
    remote.fail_on = None
    assert "l" not in remote.events()
    with syncfw.session(path) as agenda:  # the next session pushes what the last could not
        pass
    assert agenda.closed is not None and agenda.closed.pairs[0].created == 1


def test_a_failing_push_after_a_crash_keeps_the_blocks_exception(
    write_profile: MakeProfile, local: MemoryStore, remote: MemoryStore
) -> None:
    path = profile(write_profile, "open-pull-close-push")
    with pytest.raises(RuntimeError, match="agenda crashed"), syncfw.session(path):
        local.put(event("l", "written in the agenda"))
        remote.fail_on = _broken
        raise RuntimeError("agenda crashed")
