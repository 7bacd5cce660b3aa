"""The library API: persons, resources, appointments, versions, the schema, the demo data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from conftest import Clock
from syncfw.errors import NotFound, PreconditionFailed
from syncfw_jobcal import JobCalendar, JobcalError, StoreUnavailable
from syncfw_jobcal import schema as s

BERLIN = ZoneInfo("Europe/Berlin")
NINE = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)


def people(cal: JobCalendar) -> None:
    cal.add_person("Ada Lovelace", "Ada@Example.com", aliases=["countess@example.com"])
    cal.add_person("Bob Builder", "bob@example.com", sync=False)
    cal.add_resource("Van", email=None)
    cal.add_resource("Room 1", email="room1@example.com")


def test_person_emails_are_unique_ignoring_case_and_aliases(cal: JobCalendar) -> None:
    people(cal)
    with pytest.raises(JobcalError, match="already belongs to Ada Lovelace"):
        cal.add_person("Other", "ada@EXAMPLE.com")
    with pytest.raises(JobcalError, match="already belongs to Ada Lovelace"):
        cal.add_person("Other", "Countess@example.com")
    with pytest.raises(JobcalError, match="resource 'Room 1'"):
        cal.add_person("Other", "room1@example.com")
    with pytest.raises(JobcalError, match="not an email address"):
        cal.add_person("Other", "no-at-sign")
    assert [(p.name, p.email, p.aliases, p.sync) for p in cal.persons()] == [
        ("Ada Lovelace", "Ada@Example.com", ("countess@example.com",), True),
        ("Bob Builder", "bob@example.com", (), False),
    ]
    assert [(r.name, r.email) for r in cal.resources()] == [
        ("Room 1", "room1@example.com"),
        ("Van", None),
    ]


def test_add_appointment_round_trips_times_zone_and_assignments(cal: JobCalendar) -> None:
    people(cal)
    uid = cal.add_appointment(
        "Boiler repair",
        NINE,
        NINE + timedelta(hours=2),
        description="Bring the spare valve",
        location="Elm Street 12",
        persons=["countess@example.com", "bob@example.com"],  # an alias finds Ada
        resources=["van"],
    )
    appt = cal.appointment(uid)
    assert appt.start == NINE and appt.start.tzinfo == BERLIN  # type: ignore[union-attr]
    assert appt.timezone == "Europe/Berlin" and appt.type == "appointment"
    assert [a.person.name for a in appt.persons] == ["Ada Lovelace", "Bob Builder"]
    assert [r.name for r in appt.resources] == ["Van"]
    assert (appt.version, appt.description, appt.location) == (
        1,
        "Bring the spare valve",
        "Elm Street 12",
    )
    with cal.transaction() as conn:  # stored as UTC
        stored = conn.execute(sa.select(s.appointments.c.starts_at)).scalar_one()
    assert stored == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_all_day_appointments_are_dates(cal: JobCalendar) -> None:
    uid = cal.add_appointment(
        "Company outing", date(2026, 12, 4), date(2026, 12, 5), type="internal"
    )
    appt = cal.appointment(uid)
    assert (appt.start, appt.end, appt.all_day) == (date(2026, 12, 4), date(2026, 12, 5), True)
    timed = cal.add_appointment("Fair", NINE, NINE + timedelta(hours=8), all_day=True)
    assert cal.appointment(timed).start == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(2026, 12, 1, 9), datetime(2026, 12, 1, 10), "time zone"),
        (NINE, NINE - timedelta(hours=1), "before the start"),
        (date(2026, 12, 1), NINE, "both be dates"),
        (date(2026, 12, 1), date(2026, 12, 1), "end after it starts"),
    ],
)
def test_bad_times_are_refused(cal: JobCalendar, start: object, end: object, message: str) -> None:
    with pytest.raises(JobcalError, match=message):
        cal.add_appointment("x", start, end)  # type: ignore[arg-type]
    assert cal.appointments() == []


def test_unknown_names_and_bad_rules_are_refused(cal: JobCalendar) -> None:
    people(cal)
    with pytest.raises(JobcalError, match=r"no person with email 'nobody@example\.com'"):
        cal.add_appointment("x", NINE, NINE, persons=["nobody@example.com"])
    with pytest.raises(JobcalError, match="no resource named 'Truck'"):
        cal.add_appointment("x", NINE, NINE, resources=["Truck"])
    with pytest.raises(JobcalError, match="invalid RRULE"):
        cal.add_appointment("x", NINE, NINE, rrule="FREQ=SOMETIMES")
    with pytest.raises(JobcalError, match="unknown time zone"):
        cal.add_appointment("x", NINE, NINE, timezone="Mars/Olympus")
    assert cal.appointments() == []


def test_every_change_bumps_version_and_updated_at(cal: JobCalendar, clock: Clock) -> None:
    people(cal)
    uid = cal.add_appointment("Visit", NINE, NINE + timedelta(hours=1))
    steps = [
        lambda: cal.edit_appointment(uid, title="Visit (customer)"),
        lambda: cal.move_appointment(uid, NINE + timedelta(days=1)),
        lambda: cal.assign(uid, persons=["ada@example.com"]),
        lambda: cal.assign(uid, resources=["Room 1"]),
        lambda: cal.unassign(uid, persons=["countess@example.com"]),
        lambda: cal.edit_person("bob@example.com", sync=True),  # Bob is not on it: no bump
    ]
    seen = [(cal.appointment(uid).version, cal.appointment(uid).updated_at)]
    for step in steps:
        clock.tick()
        step()
        appt = cal.appointment(uid)
        seen.append((appt.version, appt.updated_at))
    versions = [v for v, _ in seen]
    assert versions == [1, 2, 3, 4, 5, 6, 6]
    assert seen[-1][1] == seen[-2][1]
    moved = cal.appointment(uid)
    assert moved.end - moved.start == timedelta(hours=1)  # type: ignore[operator]
    assert moved.start == NINE + timedelta(days=1)
    assert [r.name for r in moved.resources] == ["Room 1"] and moved.persons == ()


def test_a_person_change_bumps_their_appointments_only(cal: JobCalendar, clock: Clock) -> None:
    people(cal)
    ada = cal.add_appointment("A", NINE, NINE, persons=["ada@example.com"])
    other = cal.add_appointment("B", NINE, NINE, persons=["bob@example.com"])
    clock.tick()
    cal.edit_person("ada@example.com", new_email="ada@lovelace.example")
    assert cal.appointment(ada).version == 2 and cal.appointment(ada).updated_at == clock.now
    assert cal.appointment(other).version == 1
    assert cal.appointment(ada).persons[0].person.email == "ada@lovelace.example"
    clock.tick()
    cal.edit_person("ada@lovelace.example", aliases=["a@example.com"])  # not in any event
    assert cal.appointment(ada).version == 2
    clock.tick()
    cal.edit_person("a@example.com", sync=False)
    assert cal.appointment(ada).version == 3


def test_editing_keeps_answers_and_guests(cal: JobCalendar) -> None:
    from syncfw.model import Attendee

    people(cal)
    uid = cal.add_appointment("A", NINE, NINE, persons=["ada@example.com"])
    appt = cal.appointment(uid)
    guest = Attendee("guest@else.example", "Guest", response="accepted")
    cal.put(appt, [Attendee("ada@example.com", response="declined"), guest], create=False)
    done = cal.assign(uid, persons=["bob@example.com"])
    assert {(a.person.name, a.response) for a in done.persons} == {
        ("Ada Lovelace", "declined"),
        ("Bob Builder", "needs-action"),
    }
    assert done.guests == (guest,)


def test_soft_delete_and_preconditions(cal: JobCalendar) -> None:
    uid = cal.add_appointment("A", NINE, NINE)
    with pytest.raises(PreconditionFailed):
        cal.edit_appointment(uid, title="B", if_version=7)
    with pytest.raises(PreconditionFailed):
        cal.delete_appointment(uid, if_version=7)
    assert cal.delete_appointment(uid) is True
    assert cal.delete_appointment(uid) is False
    assert cal.appointments() == []
    (gone,) = cal.appointments(include_deleted=True)
    assert gone.deleted and gone.version == 2
    with pytest.raises(NotFound):
        cal.edit_appointment(uid, title="B")
    with pytest.raises(JobcalError, match="cannot edit color"):
        cal.edit_appointment(uid, color="red")


def test_overlapping_lists_series_only_while_they_run(cal: JobCalendar) -> None:
    monday = datetime(2026, 11, 2, 8, tzinfo=BERLIN)
    hour = timedelta(hours=1)
    cal.add_appointment("weekly", monday, monday + hour, rrule="FREQ=WEEKLY")
    cal.add_appointment("ended", monday, monday + hour, rrule="FREQ=WEEKLY;COUNT=2")
    cal.add_appointment("until", monday, monday + hour, rrule="FREQ=DAILY;UNTIL=20261130T000000Z")
    cal.add_appointment("single", monday, monday + hour)
    cal.add_appointment("later", NINE, NINE + hour)
    week = (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
    assert [a.title for a in cal.overlapping(*week)] == ["weekly", "later"]
    early = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    assert [a.title for a in cal.overlapping(*early)] == ["weekly", "ended", "until", "single"]


def test_schema_is_versioned(cal: JobCalendar, db_url: str) -> None:
    assert cal.init() == "schema v1 is up to date"
    assert cal.schema_version() == s.SCHEMA_VERSION
    with cal.transaction() as conn:
        conn.execute(s.meta.update().values(value="99"))
    with pytest.raises(StoreUnavailable, match="newer than this syncfw-jobcal"):
        cal.init()
    with pytest.raises(StoreUnavailable, match="run `syncfw jobcal --url URL init`"):
        cal.check_schema(create=True)


def test_a_foreign_database_is_not_touched(tmp_path: object, db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE appointments (id INTEGER, what TEXT)"))
    engine.dispose()
    with pytest.raises(StoreUnavailable, match="did not create"):
        JobCalendar.open(db_url).init()


def test_init_creates_the_folder_of_a_sqlite_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "deep" / "er" / "jobcal.db"
    assert JobCalendar.open(f"sqlite:///{path}").init().startswith("created")
    assert path.exists()


def test_seed_demo_is_deterministic_and_idempotent(cal: JobCalendar, tmp_path: object) -> None:
    today = date(2026, 11, 25)  # a Wednesday
    added = cal.seed_demo(today)
    assert cal.seed_demo(today) == 0
    appts = cal.appointments()
    assert len(appts) == added >= 15
    persons = cal.persons()
    assert len(persons) == 5 and [p.name for p in persons if not p.sync] == ["Tom Richter"]
    assert len(cal.resources()) == 2
    assert {a.type for a in appts} == {"appointment", "internal"}
    assert [a.title for a in appts if a.rrule] == ["Team meeting"]
    assert [a.title for a in appts if a.all_day] == ["Company outing"]
    assert all(today <= _day(a.start) < today + timedelta(days=21) for a in appts)
    assert all(a.persons for a in appts)

    other = JobCalendar.open(f"sqlite:///{tmp_path}/other.db")
    other.init()
    other.seed_demo(today)
    assert [(a.uid, a.title, a.start) for a in other.appointments()] == [
        (a.uid, a.title, a.start) for a in appts
    ]


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value
