"""examples/outlook.yaml end to end: the job calendar pushed to a master calendar on Outlook.

The Graph emulator stands in for Microsoft 365; the profile is the example's, with only
the ``endpoint`` and ``auth`` of the master replaced. Every test ends by comparing the
emulator's events with the job calendar: one Outlook event per appointment (per instance
of a series) in the window, with the right title, times and invited persons, and nothing
else of syncfw's. The recovery tests (test_outlook_recovery.py) build on the helpers here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graph_emulator import GraphEmulator

import syncfw
from syncfw.core.policies import target_uid
from syncfw.core.report import PairReport
from syncfw_jobcal.store import JobCalendar
from syncfw_jobcal.testing import Summary, expected_items, summary
from syncfw_outlook.convert import marks
from syncfw_outlook.zones import parse_date, parse_datetime

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PAIR = "jobs-to-master"
MASTER = "Company master"
WRITES = ("POST", "PATCH", "DELETE")
Json = dict[str, Any]


def outlook_profile(root: Path, endpoint: str, calendar: str = MASTER, **options: object) -> Path:
    """examples/outlook.yaml in ``root`` with the master on the emulator at ``endpoint``."""
    extra = "".join(f", {key}: {value}" for key, value in options.items())
    master = (
        f'  master: {{driver: outlook, calendar: "{calendar}", endpoint: "{endpoint}", '
        f"auth: {{token: test-token}}, retries: 5, backoff: 0.01{extra}}}"
    )
    text, replaced = re.subn(r"(?m)^  master: .*$", master, (EXAMPLES / "outlook.yaml").read_text())
    assert replaced == 1, "examples/outlook.yaml no longer has one `master:` line"
    (root / "outlook-data").mkdir(parents=True, exist_ok=True)
    profile = root / "outlook.yaml"
    profile.write_text(text)
    return profile


class Reflex:
    """The example on one emulator: the job calendar, runs, and the exactness check."""

    def __init__(
        self, root: Path, emulator: GraphEmulator, calendar: str = MASTER, **options: object
    ) -> None:
        self.emulator = emulator
        self.profile = outlook_profile(root, emulator.endpoint, calendar, **options)
        self.jobs = JobCalendar.open(f"sqlite:///{root / 'outlook-data' / 'jobcal.db'}")
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
    def master(self) -> Any:
        return self.emulator.calendar(MASTER)

    def live(self) -> dict[str, Json]:
        return dict(self.master.events)

    def ours(self) -> dict[str, Json]:
        return {k: e for k, e in self.live().items() if marks(e).get("syncfw_uid")}

    def outlook_event(self, appointment_uid: str) -> Json:
        wanted = target_uid(PAIR, appointment_uid)
        (found,) = [e for e in self.ours().values() if marks(e)["syncfw_uid"] == wanted]
        return found

    def assert_exact(self) -> None:
        """Outlook holds exactly the job calendar: nothing missing, stale or duplicated."""
        ours = self.ours()
        uids = Counter(marks(e)["syncfw_uid"] for e in ours.values())
        assert [u for u, n in uids.items() if n > 1] == [], "duplicated events"
        got = {marks(e)["syncfw_uid"]: summarize(e) for e in ours.values()}
        want = expected_items(self.jobs, PAIR)
        assert sorted(set(got) - set(want)) == [], "events in Outlook that the jobs lack"
        assert sorted(set(want) - set(got)) == [], "appointments missing in Outlook"
        wrong = {uid: (got[uid], want[uid]) for uid in want if got[uid] != want[uid]}
        assert wrong == {}
        assert {marks(e).get("syncfw_by") for e in ours.values()} == {f"outlook:{PAIR}"}


def summarize(event: Json) -> Summary:
    invited = frozenset(a["emailAddress"]["address"] for a in event.get("attendees", ()))
    if event.get("isAllDay"):
        return summary(
            event["subject"], parse_date(event["start"]), parse_date(event["end"]), invited
        )
    start, end = parse_datetime(event["start"]), parse_datetime(event["end"])
    return summary(event["subject"], start, end, invited)


def writes(emulator: GraphEmulator) -> int:
    """Write requests seen: those inside $batch and single ones (not the $batch envelope)."""
    return sum(1 for r in emulator.requests if r.method in WRITES and not r.path.endswith("$batch"))


def deltas(emulator: GraphEmulator) -> int:
    return emulator.count("GET", "/delta")


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
def reflex(tmp_path: Path, graph_emulator: GraphEmulator) -> Iterator[Reflex]:
    setup = Reflex(tmp_path, graph_emulator)
    yield setup
    setup.close()


# -- the example, end to end ---------------------------------------------------------------


def test_first_run_creates_everything_then_a_quiet_run_sends_one_delta(reflex: Reflex) -> None:
    first = reflex.run()
    assert first.created == len(expected_items(reflex.jobs, PAIR)) > 20 and first.failed == 0
    reflex.assert_exact()
    creates = [r for r in reflex.emulator.requests if r.method == "POST" and r.in_batch]
    assert all(r.body.get("transactionId") for r in creates), "every create has a transactionId"
    assert len({r.body["transactionId"] for r in creates}) == len(creates)
    assert reflex.emulator.count("POST", "$batch", in_batch=False) <= -(-first.created // 20)

    reflex.emulator.reset_log()
    quiet = reflex.run()
    assert (quiet.created, quiet.updated, quiet.deleted) == (0, 0, 0)
    assert [(r.method, "delta" in r.path) for r in reflex.emulator.requests] == [("GET", True)]
    reflex.assert_exact()


def test_a_calendar_named_by_its_id_is_looked_up_once(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    master = graph_emulator.add_calendar(MASTER)
    reflex = Reflex(tmp_path, graph_emulator, calendar=master.id)
    try:
        reflex.run()
        graph_emulator.reset_log()
        assert reflex.run().changed == 0
        assert [r.path.rsplit("/", 1)[-1] for r in graph_emulator.requests] == ["delta"]
        reflex.assert_exact()
    finally:
        reflex.close()


def test_updates_moves_deletes_and_new_appointments_reach_outlook(reflex: Reflex) -> None:
    reflex.run()
    jobs = reflex.jobs
    renamed, moved, deleted = (appointment(jobs, skip=i) for i in range(3))
    jobs.edit_appointment(renamed, title="Renamed in the job calendar", location="Hafen 1")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=5)
    jobs.move_appointment(moved, start)
    gone = reflex.outlook_event(deleted)["id"]
    jobs.delete_appointment(deleted)
    added = jobs.add_appointment(
        "Emergency call", start, start + timedelta(hours=1), persons=["sara.klein@example.com"]
    )
    reflex.emulator.reset_log()
    report = reflex.run()
    assert (report.created, report.updated, report.deleted) == (1, 2, 1)
    assert writes(reflex.emulator) == 4
    reflex.assert_exact()
    assert reflex.outlook_event(renamed)["location"]["displayName"] == "Hafen 1"
    assert parse_datetime(reflex.outlook_event(moved)["start"]) == start
    assert gone not in reflex.live()
    invited = [a["emailAddress"]["address"] for a in reflex.outlook_event(added)["attendees"]]
    assert invited == ["sara.klein@example.com"]
    updates = [r for r in reflex.emulator.requests if r.method in ("PATCH", "DELETE")]
    assert all(r.headers.get("If-Match") for r in updates), "updates and deletes send If-Match"
    assert reflex.run().updated == 0


def test_answers_of_invited_persons_survive_a_title_change(reflex: Reflex) -> None:
    reflex.run()
    uid = appointment(reflex.jobs, persons=True)
    event = reflex.outlook_event(uid)
    people = [a for a in event["attendees"] if a.get("type") != "resource"]
    answers = {a["emailAddress"]["address"]: "accepted" for a in people}
    answers[next(iter(answers))] = "declined"
    attendees = [
        {
            **a,
            "status": {
                "response": answers[a["emailAddress"]["address"]],
                "time": "2026-01-01T00:00:00Z",
            },
        }
        if a["emailAddress"]["address"] in answers
        else a
        for a in event["attendees"]
    ]
    reflex.emulator.edit(event["id"], attendees=attendees)  # the persons answer in Outlook
    answered = reflex.run()  # the answers are the persons' own: no drift to repair
    assert (answered.updated, answered.created) == (0, 0)
    reflex.jobs.edit_appointment(uid, title="Title changed after the answers")
    assert reflex.run().updated == 1
    after = reflex.outlook_event(uid)
    assert after["subject"] == "Title changed after the answers"
    got = {
        a["emailAddress"]["address"]: a["status"]["response"]
        for a in after["attendees"]
        if a.get("type") != "resource"
    }
    assert got == answers
    reflex.assert_exact()


def test_attendees_added_by_hand_are_removed_and_drift_is_put_back(reflex: Reflex) -> None:
    reflex.run()
    uid = appointment(reflex.jobs, persons=True)
    event = reflex.outlook_event(uid)
    guest = {
        "emailAddress": {"address": "gatecrasher@example.org", "name": "G"},
        "type": "required",
    }
    reflex.emulator.edit(event["id"], attendees=[*event["attendees"], guest], subject="Hand-edited")
    report = reflex.run()
    assert report.updated == 1
    after = reflex.outlook_event(uid)
    assert "gatecrasher@example.org" not in {
        a["emailAddress"]["address"] for a in after["attendees"]
    }
    reflex.assert_exact()


def test_a_newly_planned_person_is_invited_and_one_who_left_is_uninvited(reflex: Reflex) -> None:
    reflex.run()
    uid = appointment(reflex.jobs, persons=True)
    reflex.jobs.edit_appointment(uid, persons=["sara.klein@example.com"])
    reflex.run()
    event = reflex.outlook_event(uid)
    invited = {
        a["emailAddress"]["address"] for a in event["attendees"] if a.get("type") != "resource"
    }
    assert invited == {"sara.klein@example.com"}
    reflex.assert_exact()


# -- events syncfw did not create ------------------------------------------------------------


def _foreign(emulator: GraphEmulator, calendar: str, title: str, start: datetime) -> Json:
    body = {
        "subject": title,
        "start": {
            "dateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        },
        "end": {
            "dateTime": (start + timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        },
        "attendees": [{"emailAddress": {"address": "guest@example.org"}, "type": "required"}],
    }
    created: Json = emulator.add_event(calendar, body)
    return created


def test_events_syncfw_did_not_create_are_never_modified_or_deleted(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    master = graph_emulator.add_calendar(MASTER)  # exists before the first run: found by name
    reflex = Reflex(tmp_path, graph_emulator)
    try:
        uid = appointment(reflex.jobs)
        twin = reflex.jobs.appointment(uid)  # same title and time as a job: still not ours
        assert isinstance(twin.start, datetime)
        before = [
            _foreign(graph_emulator, master.id, "Dentist (private)", twin.start),
            _foreign(graph_emulator, master.id, twin.title, twin.start),
        ]
        reflex.run()
        assert reflex.master.id == master.id
        before.append(_foreign(graph_emulator, master.id, "Added later", twin.start))
        for gone in (appointment(reflex.jobs, skip=i) for i in range(1, 4)):
            reflex.jobs.delete_appointment(gone)
        reflex.jobs.edit_appointment(uid, title="Changed job")
        reflex.run()
        reflex.run()
        live = reflex.live()
        for event in before:
            now = live.get(event["id"], {})
            assert (now.get("@odata.etag"), now.get("subject")) == (
                event["@odata.etag"],
                event["subject"],
            )
        touched = [r for r in graph_emulator.requests if r.method in WRITES]
        for event in before:
            assert not [r for r in touched if event["id"] in r.path]
        reflex.assert_exact()
    finally:
        reflex.close()
