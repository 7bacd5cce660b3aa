"""Persons and their attendees: the directory, normalization, answers, fan-out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import syncfw
from syncfw.core.attendees import Directory, keep_answers, merge_seen, normalize
from syncfw.core.policies import target_uid
from syncfw.model import Attendee, Event, Person
from syncfw.sdk.fs import atomic_write
from syncfw.sdk.ical import event_to_ical
from syncfw_jobcal.store import JobCalendar

from .conftest import MakeProfile, event, read_ics_folder
from .conftest import day_at as at

ADA = Person("Ada Fitter", "ada@example.com", aliases=("a.fitter@old.example",))
BO = Person("Bo Welder", "Bo@Example.com")
CY = Person("Cy Off", "cy@example.com", sync=False)


def emails(e: Event) -> list[str]:
    return [a.email for a in e.attendees]


def test_one_canonical_attendee_per_person() -> None:
    directory = Directory([ADA, BO, CY])
    raw = event("x").replace(
        attendees=(
            Attendee("MAILTO:ADA@example.com"),
            Attendee("a.fitter@OLD.example", response="accepted"),  # an alias of Ada
            Attendee("bo@example.com", optional=True),
            Attendee("cy@example.com"),  # sync off: left out
            Attendee("Guest@Outside.org", name="Guest"),
            Attendee("van-1@fleet.example", kind="resource"),
        )
    )
    result = normalize(raw, directory)
    assert emails(result) == [
        "ada@example.com",
        "Bo@Example.com",
        "guest@outside.org",
        "van-1@fleet.example",
    ]
    ada, bo = result.attendees[0], result.attendees[1]
    assert (ada.name, ada.response) == ("Ada Fitter", "accepted")
    assert bo.name == "Bo Welder" and bo.optional
    assert result.attendees[3].kind == "resource"
    assert normalize(result, directory) == result


def test_answers_from_the_target_are_kept_and_outside_guests_only_on_request() -> None:
    directory = Directory([ADA, BO])
    desired = event("x").replace(attendees=(Attendee("ada@example.com"),))
    seen = (
        Attendee("ADA@example.com", response="declined"),
        Attendee("guest@outside.org"),
        Attendee("bo@example.com"),
    )
    kept = merge_seen(desired, seen, directory, keep_external=False)
    assert [(a.email, a.response) for a in kept.attendees] == [("ada@example.com", "declined")]
    with_guests = merge_seen(desired, seen, directory, keep_external=True)
    assert emails(with_guests) == ["ada@example.com", "guest@outside.org"]  # Bo is no guest


def test_a_sync_off_person_on_both_sides_stays_on_the_target() -> None:
    """Two-sided pairs pass the source's own attendees: a sync-off person is never added,
    and not taken off a target that shows them while the source still has them."""
    directory = Directory([ADA, CY])
    desired = normalize(
        event("x").replace(attendees=(Attendee("ada@example.com"), Attendee("cy@example.com"))),
        directory,
    )
    assert emails(desired) == ["ada@example.com"]
    seen = (Attendee("ada@example.com"), Attendee("CY@example.com", response="accepted"))
    source = (Attendee("a.fitter@old.example"), Attendee("mailto:cy@example.com"))
    kept = merge_seen(desired, seen, directory, keep_external=False, source=source)
    assert [(a.email, a.response) for a in kept.attendees] == [
        ("ada@example.com", "needs-action"),
        ("CY@example.com", "accepted"),
    ]
    assert merge_seen(desired, seen, directory, keep_external=False) == desired  # one-way
    no_cy = source[:1]  # taken off in the source: gone from the target too
    assert merge_seen(desired, seen, directory, keep_external=False, source=no_cy) == desired
    assert merge_seen(desired, (), directory, keep_external=False, source=source) == desired


def test_keep_answers_matches_attendees_by_address() -> None:
    pulled = event("x").replace(attendees=(Attendee("Ada@Example.com"), Attendee("g@y.org")))
    local = (Attendee("mailto:ada@example.com", response="declined"),)
    kept = keep_answers(pulled, local)
    assert [(a.email, a.response) for a in kept.attendees] == [
        ("Ada@Example.com", "declined"),
        ("g@y.org", "needs-action"),
    ]
    assert keep_answers(pulled, ()) is pulled


# -- end to end: the job calendar, a master calendar of .ics files ---------------------------

INVITE = """
version: 1
calendars:
  jobs:   {driver: jobcal, url: "sqlite:///jobcal.db"}
  master: {driver: ics, path: master}
persons: {from: jobs}
pairs:
  - name: push
    source: jobs
    target: master
    attendees: {fan_out: invite, keep_external: KEEP}
"""


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[JobCalendar]:
    calendar = JobCalendar.open(f"sqlite:///{tmp_path / 'jobcal.db'}")
    calendar.init()
    for person in (ADA, BO, CY):
        calendar.add_person(person.name, person.email, aliases=person.aliases, sync=person.sync)
    yield calendar
    calendar.close()


def hand_edit(folder: Path, uid: str, change: dict[str, object]) -> None:
    path = next(p for p in folder.glob("*.ics") if uid in p.read_text())
    edited = read_ics_folder(folder)[uid].replace(**change)
    atomic_write(path, event_to_ical([edited]))


def ok(report: syncfw.RunReport) -> syncfw.RunReport:
    assert report.exit_code == 0, [p.error or p.failures for p in report.pairs]
    return report


def test_invited_persons_follow_the_directory_and_keep_their_answers(
    tmp_path: Path, write_profile: MakeProfile, jobs: JobCalendar
) -> None:
    profile = write_profile(INVITE.replace("KEEP", "false"))
    key = jobs.add_appointment(
        "Boiler service", at(1), at(1, 11), persons=[ADA.email, BO.email, CY.email]
    )
    ok(syncfw.run(profile))
    uid = target_uid("push", key)
    master = tmp_path / "master"
    assert emails(read_ics_folder(master)[uid]) == ["ada@example.com", "Bo@Example.com"]

    # Ada accepts in her calendar (the master shows it), someone invites a guest by hand.
    shown = read_ics_folder(master)[uid]
    hand_edit(
        master,
        uid,
        {
            "attendees": (
                replace(shown.attendees[0], response="accepted"),
                shown.attendees[1],
                Attendee("guest@outside.org"),
            )
        },
    )
    jobs.edit_appointment(key, title="Boiler service and check")
    ok(syncfw.run(profile))
    now = read_ics_folder(master)[uid]
    assert now.title == "Boiler service and check"
    assert [(a.email, a.response) for a in now.attendees] == [
        ("ada@example.com", "accepted"),
        ("Bo@Example.com", "needs-action"),
    ]

    # Bo stops syncing, Ada gets a new calendar address: the next run follows.
    jobs.edit_person(BO.email, sync=False)
    jobs.edit_person(ADA.email, new_email="ada@new.example")
    ok(syncfw.run(profile))
    assert emails(read_ics_folder(master)[uid]) == ["ada@new.example"]


def test_keep_external_keeps_guests_invited_in_the_target(
    tmp_path: Path, write_profile: MakeProfile, jobs: JobCalendar
) -> None:
    profile = write_profile(INVITE.replace("KEEP", "true"))
    key = jobs.add_appointment("Roof check", at(2), at(2, 10), persons=[ADA.email])
    ok(syncfw.run(profile))
    uid, master = target_uid("push", key), tmp_path / "master"
    shown = read_ics_folder(master)[uid]
    hand_edit(master, uid, {"attendees": (*shown.attendees, Attendee("guest@outside.org"))})
    jobs.edit_appointment(key, title="Roof repair")
    ok(syncfw.run(profile))
    assert emails(read_ics_folder(master)[uid]) == ["ada@example.com", "guest@outside.org"]
    assert ok(syncfw.run(profile)).pairs[0].updated == 0


COPY = """
version: 1
calendars:
  jobs:   {driver: jobcal, url: "sqlite:///jobcal.db"}
  master: {driver: ics, path: master}
persons: {from: jobs}
pairs:
  - name: push
    source: jobs
    target: master
    attendees:
      fan_out: copy
      calendar: {driver: ics, path: "people/{email}"}
"""


def test_copy_fan_out_fills_each_persons_calendar_and_follows_changes(
    tmp_path: Path, write_profile: MakeProfile, jobs: JobCalendar
) -> None:
    profile = write_profile(COPY)
    jobs.add_appointment("Ada alone", at(1), at(1, 10), persons=[ADA.email])
    jobs.add_appointment("Bo alone", at(2), at(2, 10), persons=[BO.email])
    jobs.add_appointment("Both", at(3), at(3, 10), persons=[ADA.email, BO.email, CY.email])
    report = ok(syncfw.run(profile))
    assert [p.name for p in report.pairs] == ["push", "push>ada@example.com", "push>bo@example.com"]
    people = tmp_path / "people"

    def titles(email: str) -> list[str]:
        return sorted(e.title for e in read_ics_folder(people / email).values())

    assert titles("ada@example.com") == ["Ada alone", "Both"]
    assert titles("bo@example.com") == ["Bo alone", "Both"]
    assert not (people / "cy@example.com").exists()  # sync off: no calendar
    assert all(p.changed == 0 for p in ok(syncfw.run(profile)).pairs)

    jobs.edit_person(BO.email, sync=False)
    jobs.edit_person(ADA.email, new_email="ada@new.example")
    ok(syncfw.run(profile))
    assert titles("bo@example.com") == []
    assert titles("ada@example.com") == []
    assert titles("ada@new.example") == ["Ada alone", "Both"]
    names = [p.name for p in ok(syncfw.run(profile)).pairs]
    assert names == ["push", "push>ada@new.example"]  # the retired pairs are gone
