"""examples/reflex.yaml end to end with the master calendar on Google (the emulator).

The job calendar is seeded with the demo data; the profile is the example's, with only the
``master:`` line replaced. Every test ends by comparing the emulator's live events with the
job calendar: one Google event per appointment (per instance of a series) in the window,
with the right title, times and invited persons, and nothing else of syncfw's.
The recovery tests (test_google_recovery.py) build on the helpers here.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from emulator import GoogleEmulator, build_service

import syncfw
from syncfw.core.policies import target_uid
from syncfw.core.report import PairReport
from syncfw.model import as_utc
from syncfw_google.convert import UID_PROP, event_id, is_ours
from syncfw_jobcal.store import JobCalendar
from syncfw_jobcal.testing import Summary, expected_items

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PAIR = "jobs-to-master"
MASTER = "Company master"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
Json = dict[str, Any]


def reflex_profile(root: Path, endpoint: str, **options: object) -> Path:
    """examples/reflex.yaml in ``root`` with the master on Google at ``endpoint``."""
    extra = "".join(f", {key}: {value}" for key, value in options.items())
    master = (
        f'  master: {{driver: google, calendar: "{MASTER}", endpoint: "{endpoint}", '
        f"auth: {{token: test-token}}, retries: 5, backoff: 0.01{extra}}}"
    )
    text, replaced = re.subn(r"(?m)^  master: .*$", master, (EXAMPLES / "reflex.yaml").read_text())
    assert replaced == 1, "examples/reflex.yaml no longer has one `master:` line"
    (root / "reflex-data").mkdir(parents=True, exist_ok=True)
    profile = root / "reflex.yaml"
    profile.write_text(text)
    return profile


class Reflex:
    """The reflex example on one emulator: the job calendar, runs, and the exactness check."""

    def __init__(self, root: Path, emulator: GoogleEmulator, **options: object) -> None:
        self.emulator = emulator
        self.profile = reflex_profile(root, emulator.endpoint, **options)
        self.jobs = JobCalendar.open(f"sqlite:///{root / 'reflex-data' / 'jobcal.db'}")
        self.jobs.init()
        assert self.jobs.seed_demo(date.today()) > 0

    def close(self) -> None:
        self.jobs.close()

    def run(self, *, ok: bool = True) -> PairReport:
        report = syncfw.run(self.profile)
        (pair,) = report.pairs
        if ok:
            assert pair.status == "ok", (pair.error, pair.failures)
        return pair

    @property
    def master_id(self) -> str:
        """The id of the calendar the driver resolved (or created) by name."""
        found = [
            c.id for c in self.emulator._calendars.values() if c.summary == MASTER
        ]  # the emulator has no lookup by name
        assert len(found) == 1, f"{len(found)} calendars named {MASTER!r}"
        return str(found[0])

    def live(self) -> dict[str, Json]:
        events = self.emulator.calendar(self.master_id).events
        return {k: e for k, e in events.items() if e.get("status") != "cancelled"}

    def ours(self) -> dict[str, Json]:
        return {k: e for k, e in self.live().items() if is_ours(e)}

    def google_event(self, appointment_uid: str) -> Json:
        return self.live()[event_id(target_uid(PAIR, appointment_uid))]

    def assert_exact(self) -> None:
        """Google holds exactly the job calendar: nothing missing, stale or duplicated."""
        ours = self.ours()
        uids = Counter(e["extendedProperties"]["private"][UID_PROP] for e in ours.values())
        assert [u for u, n in uids.items() if n > 1] == [], "duplicated events"
        for key, event in ours.items():
            assert key == event_id(event["extendedProperties"]["private"][UID_PROP])
        got = {e["extendedProperties"]["private"][UID_PROP]: summarize(e) for e in ours.values()}
        want = expected(self.jobs)
        assert sorted(set(got) - set(want)) == [], "events in Google that the jobs lack"
        assert sorted(set(want) - set(got)) == [], "appointments missing in Google"
        wrong = {uid: (got[uid], want[uid]) for uid in want if got[uid] != want[uid]}
        assert wrong == {}


def expected(jobs: JobCalendar) -> dict[str, Summary]:
    """What the calendar must hold, by uid: each appointment (instance) in the window."""
    return expected_items(jobs, PAIR)


def summarize(event: Json) -> Summary:
    emails = frozenset(a["email"] for a in event.get("attendees", ()))
    return event["summary"], _when(event["start"]), _when(event["end"]), emails


def _utc(value: datetime | date) -> datetime | date:
    return as_utc(value) if isinstance(value, datetime) else value


def _when(value: Json) -> datetime | date:
    if "date" in value:
        return date.fromisoformat(value["date"])
    return datetime.fromisoformat(value["dateTime"]).astimezone(UTC)


def writes(emulator: GoogleEmulator) -> int:
    """Write requests seen: inner batch parts and single requests (not the batch envelope)."""
    return sum(
        1 for r in emulator.requests if r.method in WRITES and not r.path.startswith("/batch/")
    )


def event_lists(emulator: GoogleEmulator) -> int:
    return emulator.count("GET", "/events")


def appointment(jobs: JobCalendar, *, persons: bool = False, skip: int = 0) -> str:
    """A future, single (not recurring) appointment's uid; with ``persons``: one with invitees."""
    soon = datetime.now(UTC) + timedelta(hours=2)
    found = [
        a.uid
        for a in jobs.appointments()
        if not a.rrule
        and isinstance(a.start, datetime)
        and a.start > soon
        and (not persons or any(p.person.sync for p in a.persons))
    ]
    return str(found[skip])


@pytest.fixture
def reflex(tmp_path: Path, google_emulator: GoogleEmulator) -> Any:
    setup = Reflex(tmp_path, google_emulator)
    yield setup
    setup.close()


# -- the example, end to end ---------------------------------------------------------------


def test_first_run_creates_everything_then_a_quiet_run_only_lists(reflex: Reflex) -> None:
    first = reflex.run()
    assert first.created == len(expected(reflex.jobs)) > 20 and first.failed == 0
    reflex.assert_exact()
    assert {value for _, _, value in reflex.emulator.send_updates} == {"none"}  # notify: none
    marks = {
        (
            e["extendedProperties"]["private"].get("syncfw_profile"),
            e["extendedProperties"]["private"].get("syncfw_pair"),
        )
        for e in reflex.ours().values()
    }
    assert marks == {("reflex", "jobs-to-master")}  # every event names its profile and pair

    reflex.emulator.reset_log()
    quiet = reflex.run()
    assert (quiet.created, quiet.updated, quiet.deleted) == (0, 0, 0)
    assert event_lists(reflex.emulator) == 1, "one events.list for the one Google calendar"
    assert writes(reflex.emulator) == 0
    assert reflex.emulator.count("POST", "/batch/") == 0
    reflex.assert_exact()


def test_a_quiet_run_sends_exactly_one_request(reflex: Reflex) -> None:
    reflex.run()
    reflex.emulator.reset_log()
    reflex.run()
    assert [(r.method, r.path) for r in reflex.emulator.requests if "/events" not in r.path] == []


def test_updates_moves_deletes_and_new_appointments_reach_google(reflex: Reflex) -> None:
    reflex.run()
    jobs = reflex.jobs
    renamed, moved, deleted = (appointment(jobs, skip=i) for i in range(3))
    jobs.edit_appointment(renamed, title="Renamed in the job calendar", location="Hafen 1")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=5)
    jobs.move_appointment(moved, start)
    jobs.delete_appointment(deleted)
    added = jobs.add_appointment(
        "Emergency call", start, start + timedelta(hours=1), persons=["sara.klein@example.com"]
    )
    reflex.emulator.reset_log()
    report = reflex.run()
    assert (report.created, report.updated, report.deleted) == (1, 2, 1)
    assert writes(reflex.emulator) == 4
    reflex.assert_exact()
    assert reflex.google_event(renamed)["location"] == "Hafen 1"
    assert _when(reflex.google_event(moved)["start"]) == start
    assert event_id(target_uid(PAIR, deleted)) not in reflex.live()
    invited = [a["email"] for a in reflex.google_event(added)["attendees"]]
    assert invited == ["sara.klein@example.com"]
    assert reflex.run().updated == 0


def test_answers_of_invited_persons_survive_a_title_change(reflex: Reflex) -> None:
    reflex.run()
    uid = appointment(reflex.jobs, persons=True)
    event = reflex.google_event(uid)
    answers = {a["email"]: "accepted" for a in event["attendees"] if not a.get("resource")}
    first = next(iter(answers))
    answers[first] = "declined"
    attendees = [
        {**a, "responseStatus": answers.get(a["email"], a["responseStatus"])}
        for a in event["attendees"]
    ]
    reflex.emulator.edit(reflex.master_id, event["id"], attendees=attendees)
    answered = reflex.run()  # the answers are the persons' own: no drift to repair
    assert (answered.updated, answered.created) == (0, 0)
    reflex.jobs.edit_appointment(uid, title="Title changed after the answers")
    assert reflex.run().updated == 1
    after = reflex.google_event(uid)
    assert after["summary"] == "Title changed after the answers"
    got = {a["email"]: a["responseStatus"] for a in after["attendees"] if not a.get("resource")}
    assert got == answers
    reflex.assert_exact()


def test_a_newly_planned_person_is_invited_and_one_who_left_is_uninvited(
    reflex: Reflex,
) -> None:
    reflex.run()
    uid = appointment(reflex.jobs, persons=True)
    reflex.jobs.edit_appointment(uid, persons=["sara.klein@example.com"])
    reflex.run()
    invited = {a["email"] for a in reflex.google_event(uid)["attendees"] if not a.get("resource")}
    assert invited == {"sara.klein@example.com"}
    reflex.assert_exact()


# -- events syncfw did not create ------------------------------------------------------------


def _foreign(emulator: GoogleEmulator, calendar: str, title: str, start: datetime) -> Json:
    body = {
        "summary": title,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "attendees": [{"email": "guest@example.org"}],
    }
    created: Json = (
        build_service(emulator).events().insert(calendarId=calendar, body=body).execute()
    )
    return created


def test_events_syncfw_did_not_create_are_never_modified_or_deleted(
    tmp_path: Path, google_emulator: GoogleEmulator
) -> None:
    master = google_emulator.add_calendar(MASTER)  # exists before the first run: found by name
    reflex = Reflex(tmp_path, google_emulator)
    try:
        uid = appointment(reflex.jobs)
        twin = reflex.jobs.appointment(uid)  # same title and time as a job: still not ours
        assert isinstance(twin.start, datetime)
        before = [
            _foreign(google_emulator, master.id, "Dentist (private)", twin.start),
            _foreign(google_emulator, master.id, twin.title, twin.start),
        ]
        reflex.run()
        assert reflex.master_id == master.id
        before.append(_foreign(google_emulator, master.id, "Added later", twin.start))
        for gone in (appointment(reflex.jobs, skip=i) for i in range(1, 4)):
            reflex.jobs.delete_appointment(gone)
        reflex.jobs.edit_appointment(uid, title="Changed job")
        reflex.run()
        reflex.run()
        live = reflex.live()
        for event in before:
            now = live.get(event["id"], {})
            assert (now.get("etag"), now.get("summary")) == (event["etag"], event["summary"])
        touched = [r for r in google_emulator.requests if r.method in WRITES]
        for event in before:
            assert not [r for r in touched if event["id"] in r.path]
        reflex.assert_exact()
    finally:
        reflex.close()
