"""The jobcal driver: incremental reads, the cursor overlap, mapping, options and secrets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from conftest import Clock
from syncfw.errors import CursorExpired, DriverError
from syncfw.hooks.manager import Plugins
from syncfw.model import Attendee, Window
from syncfw.sdk.driver import DriverContext, WriteOp
from syncfw.testing import make_event
from syncfw_jobcal import JobcalDriver, JobCalendar, JobcalOptions

BERLIN = ZoneInfo("Europe/Berlin")
NINE = datetime(2026, 11, 24, 9, tzinfo=BERLIN)
WINDOW = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))


def read(driver: JobcalDriver, cursor: str | None) -> tuple[dict[str, bool], str]:
    """Keys read (True for a tombstone) and the next cursor."""
    feed = driver.read(cursor, WINDOW)
    keys = {change.key: change.deleted for change in feed}
    assert feed.cursor is not None
    return keys, feed.cursor


@pytest.fixture
def seeded(cal: JobCalendar) -> dict[str, str]:
    cal.add_person("Ada Lovelace", "ada@example.com", aliases=["countess@example.com"])
    cal.add_person("Bob Builder", "bob@example.com", sync=False)
    cal.add_resource("Room 1", email="room1@example.com")
    cal.add_resource("Van")
    hour = timedelta(hours=1)
    return {
        "ada": cal.add_appointment("Ada's", NINE, NINE + hour, persons=["ada@example.com"]),
        "bob": cal.add_appointment("Bob's", NINE, NINE + hour, persons=["bob@example.com"]),
        "room": cal.add_appointment("Room", NINE, NINE + hour, resources=["Room 1"]),
        "quiet": cal.add_appointment("Quiet", NINE, NINE + hour),
    }


def test_each_kind_of_change_appears_once_in_the_next_incremental_read(
    jobs: JobcalDriver, cal: JobCalendar, clock: Clock, seeded: dict[str, str]
) -> None:
    keys, cursor = read(jobs, None)
    assert set(keys) == set(seeded.values())
    changes = [  # what changes, which appointment must come back, as a tombstone or not
        (lambda: cal.edit_appointment(seeded["room"], location="Upstairs"), "room", False),
        (lambda: cal.assign(seeded["ada"], resources=["Van"]), "ada", False),
        (lambda: cal.edit_person("bob@example.com", new_email="bob@builder.example"), "bob", False),
        (lambda: cal.edit_person("countess@example.com", name="Ada King"), "ada", False),
        (lambda: cal.delete_appointment(seeded["room"]), "room", True),
    ]
    for change, name, tombstone in changes:
        clock.tick()
        change()
        keys, cursor = read(jobs, cursor)
        assert keys == {seeded[name]: tombstone}
        quiet, same = read(jobs, cursor)
        assert quiet == {} and same == cursor, "a quiet calendar reads as empty"


def test_tombstones_and_no_window_in_incremental_reads(
    jobs: JobcalDriver, cal: JobCalendar, clock: Clock
) -> None:
    far = datetime(2030, 1, 1, 9, tzinfo=UTC)
    _, cursor = read(jobs, None)
    clock.tick()
    away = cal.add_appointment("Far away", far, far + timedelta(hours=1))
    gone = cal.add_appointment("Gone", NINE, NINE)
    cal.delete_appointment(gone)
    keys, _ = read(jobs, cursor)
    assert keys == {away: False, gone: True}
    full, _ = read(jobs, None)
    assert full == {}, "a full read lists live appointments in the window only"


def test_late_commit_inside_the_overlap_is_still_read(
    jobs: JobcalDriver, cal: JobCalendar, clock: Clock, seeded: dict[str, str]
) -> None:
    _, cursor = read(jobs, None)
    clock.tick(10)
    cal.edit_appointment(seeded["ada"], title="Read first")
    keys, cursor = read(jobs, cursor)
    assert set(keys) == {seeded["ada"]}
    # A writer that stamped its change 1.5 s earlier but committed only now.
    clock.now -= timedelta(seconds=1.5)
    cal.edit_appointment(seeded["quiet"], title="Committed late")
    keys, cursor = read(jobs, cursor)
    assert set(keys) == {seeded["quiet"]}
    # Older than the overlap: such a writer would be lost; the overlap bounds the promise.
    clock.now -= timedelta(seconds=5)
    cal.edit_appointment(seeded["bob"], title="Too late")
    assert read(jobs, cursor)[0] == {}


def test_cursors_are_stable_and_checked(jobs: JobcalDriver, cal: JobCalendar) -> None:
    _, empty = read(jobs, None)
    assert empty.startswith("1970-01-01"), "an empty calendar's cursor reads everything next"
    uid = cal.add_appointment("A", NINE, NINE)
    keys, cursor = read(jobs, empty)
    assert keys == {uid: False}
    assert datetime.fromisoformat(cursor.split("|")[0]) == cal.appointment(uid).updated_at
    for bad in ("yesterday", "2026-11-23T07:00:00", "2026-11-23T07:00:00+00:00|nothex"):
        with pytest.raises(CursorExpired):
            jobs.read(bad, WINDOW)


def test_appointment_as_event(jobs: JobcalDriver, cal: JobCalendar, seeded: dict[str, str]) -> None:
    uid = cal.add_appointment(
        "Team meeting",
        NINE,
        NINE + timedelta(hours=1),
        type="internal",
        rrule="RRULE:FREQ=WEEKLY;BYDAY=TU",
        exdates=[NINE + timedelta(weeks=1)],
        persons=["ada@example.com", "bob@example.com"],
        resources=["Room 1", "Van"],
    )
    change = {c.key: c for c in jobs.read(None, WINDOW)}[uid]
    event = change.event
    assert event is not None and change.etag == "1"
    assert (event.uid, event.title, event.categories) == (uid, "Team meeting", ("internal",))
    assert event.start == NINE and event.timezone == "Europe/Berlin"
    assert event.rrule == ("FREQ=WEEKLY;BYDAY=TU",)
    assert event.exdates == (NINE + timedelta(weeks=1),)
    assert event.attendees == (  # Bob has sync off and is still listed; the van has no mailbox
        Attendee("ada@example.com", "Ada Lovelace", "individual"),
        Attendee("bob@example.com", "Bob Builder", "individual"),
        Attendee("room1@example.com", "Room 1", "resource"),
    )
    assert [(p.email, p.sync) for p in jobs.persons()] == [
        ("ada@example.com", True),
        ("bob@example.com", False),
    ]


def test_written_attendees_find_persons_resources_and_guests(
    jobs: JobcalDriver, cal: JobCalendar, seeded: dict[str, str]
) -> None:
    event = make_event(
        start=date(2026, 12, 2),
        end=date(2026, 12, 3),
        attendees=(
            Attendee("COUNTESS@example.com", "Ada", response="accepted"),  # an alias
            Attendee("room1@example.com", "Room", "resource"),
            Attendee("eve@else.example", "Eve", response="tentative"),
        ),
    )
    (result,) = jobs.write([WriteOp("create", event=event)])
    assert result.ok and result.key == event.uid and result.etag == "1"
    appt = cal.appointment(event.uid)
    assert appt.all_day and appt.type is None  # no categories: none invented
    assert [(a.person.name, a.response) for a in appt.persons] == [("Ada Lovelace", "accepted")]
    assert [r.name for r in appt.resources] == ["Room 1"]
    assert [g.email for g in appt.guests] == ["eve@else.example"]
    cal.assign(event.uid, resources=["Van"])
    update = WriteOp("update", key=event.uid, event=event.replace(title="New"), etag="2")
    (result,) = jobs.write([update])
    assert result.ok and result.etag == "3"
    assert [r.name for r in cal.appointment(event.uid).resources] == ["Room 1", "Van"]


def test_write_errors_are_per_op(jobs: JobcalDriver, seeded: dict[str, str]) -> None:
    two = make_event(rrule=("FREQ=DAILY", "FREQ=WEEKLY"))
    bad_rule = make_event(rrule=("FREQ=SOMETIMES",))
    fine = make_event()
    ops = [
        WriteOp("create", event=two),
        WriteOp("create", event=bad_rule),
        WriteOp("update", key="missing", event=fine),
        WriteOp("update", key=seeded["ada"], event=fine, etag="not-ours"),
        WriteOp("create", event=fine),
        WriteOp("create", event=fine),
    ]
    results = list(jobs.write(ops))
    errors = [type(r.error).__name__ if r.error else None for r in results]
    assert errors == [
        "DriverError",
        "DriverError",
        "NotFound",
        "PreconditionFailed",
        None,
        "PreconditionFailed",
    ]
    assert "RRULE lines" in str(results[0].error) and "jobs" in str(results[0].error)


def test_a_deleted_uid_created_again_is_revived(jobs: JobcalDriver, cal: JobCalendar) -> None:
    event = make_event()
    jobs.write([WriteOp("create", event=event)]).__next__()
    jobs.write([WriteOp("delete", key=event.uid)]).__next__()
    (again,) = jobs.write([WriteOp("create", event=event.replace(title="Back"))])
    assert again.ok and again.etag == "3"
    assert len(cal.appointments(include_deleted=True)) == 1


def test_relative_sqlite_urls_count_from_the_profile(tmp_path: Path) -> None:
    ctx = {"base_dir": tmp_path}
    options = JobcalOptions.model_validate({"url": "sqlite:///data/jobcal.db"}, context=ctx)
    assert options.url == f"sqlite:///{tmp_path}/data/jobcal.db"
    absolute = JobcalOptions.model_validate({"url": "sqlite:////srv/jobcal.db"}, context=ctx)
    assert absolute.url == "sqlite:////srv/jobcal.db"
    default = JobcalOptions.model_validate({}, context=ctx)
    assert default.url == f"sqlite:///{tmp_path}/jobcal.db" and default.create
    pg = "postgresql+psycopg://u:pw@db.example/jobs"
    assert JobcalOptions.model_validate({"url": pg}, context=ctx).url == pg


def test_create_false_refuses_an_empty_database(tmp_path: Path) -> None:
    options = JobcalOptions(url=f"sqlite:///{tmp_path}/empty.db", create=False)
    driver = JobcalDriver(options, DriverContext("jobs"))
    with pytest.raises(DriverError, match=r"calendar 'jobs'.*run `syncfw jobcal --url URL init`"):
        driver.read(None, WINDOW)


SECRET = "s3cr3t-pa55"


@pytest.mark.parametrize(
    "url",
    [
        f"nosuchdb://user:{SECRET}@db.example/jobs",  # no such dialect
        f"sqlite://user:{SECRET}@/nonexistent/folder/jobcal.db",  # cannot open the file
        f"postgresql+nosuchdriver://user:{SECRET}@127.0.0.1:1/jobs",
    ],
)
def test_a_password_never_shows(url: str) -> None:
    options = JobcalOptions(url=url, create=False)
    driver = JobcalDriver(options, DriverContext("jobs"))
    assert SECRET not in repr(options) and SECRET not in repr(driver)
    with pytest.raises(DriverError) as caught:
        driver.read(None, WINDOW)
    assert "***" in str(caught.value)
    error: BaseException | None = caught.value
    while error is not None:  # nor anywhere in the chain a traceback would print
        assert SECRET not in str(error)
        error = error.__cause__ or error.__context__


def test_a_password_never_shows_in_validation_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        JobcalOptions.model_validate({"url": f"not a url:{SECRET}"})
    assert SECRET not in str(caught.value) and "not an SQLAlchemy URL" in str(caught.value)


def test_the_plugin_registers_the_driver() -> None:
    info = Plugins(autoload=True).drivers()["jobcal"]
    assert info.cls is JobcalDriver and info.origin.startswith("syncfw-jobcal")
