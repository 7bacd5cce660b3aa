"""The job calendar pushed to a master calendar of .ics files, as the demo and users run it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import syncfw
from syncfw.core.policies import target_uid
from syncfw.model import Event
from syncfw.sdk.fs import atomic_write
from syncfw.sdk.ical import event_to_ical
from syncfw_jobcal.store import JobCalendar

from .conftest import MakeProfile, read_ics_folder
from .conftest import day_at as at

PROFILE = """
version: 1
calendars:
  jobs:   {driver: jobcal, url: "sqlite:///jobcal.db"}
  master: {driver: ics, path: master}
persons: {from: jobs}
pairs:
  - {name: jobs-to-master, source: jobs, target: master, window: {past_days: 7, future_days: 90}}
"""


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[JobCalendar]:
    calendar = JobCalendar.open(f"sqlite:///{tmp_path / 'jobcal.db'}")
    calendar.init()
    calendar.add_person("Ada Fitter", "ada@example.com")
    calendar.add_person("Bo Welder", "bo@example.com")
    yield calendar
    calendar.close()


def master(tmp_path: Path) -> dict[str, Event]:
    return read_ics_folder(tmp_path / "master")


def counts(report: syncfw.RunReport) -> tuple[int, int, int, int]:
    p = report.pairs[0]
    return p.created, p.updated, p.deleted, p.failed


def test_add_edit_move_delete_in_the_job_calendar_reach_the_master(
    tmp_path: Path, write_profile: MakeProfile, jobs: JobCalendar
) -> None:
    profile = write_profile(PROFILE)
    boiler = jobs.add_appointment("Boiler service", at(1), at(1, 11), persons=["ada@example.com"])
    roof = jobs.add_appointment("Roof check", at(2), at(2, 10), location="Main St 1")
    assert counts(syncfw.run(profile)) == (2, 0, 0, 0)
    events = master(tmp_path)
    assert {e.title for e in events.values()} == {"Boiler service", "Roof check"}
    boiler_uid = target_uid("jobs-to-master", boiler)
    assert [a.email for a in events[boiler_uid].attendees] == ["ada@example.com"]

    jobs.edit_appointment(roof, title="Roof repair", persons=["bo@example.com"])
    jobs.move_appointment(boiler, at(3, 14))
    gutter = jobs.add_appointment("Gutter cleaning", at(4), at(4, 12))
    assert counts(syncfw.run(profile)) == (1, 2, 0, 0)
    events = master(tmp_path)
    assert events[boiler_uid].start == at(3, 14) and events[boiler_uid].end == at(3, 16)
    roof_event = events[target_uid("jobs-to-master", roof)]
    assert roof_event.title == "Roof repair"
    assert [a.email for a in roof_event.attendees] == ["bo@example.com"]

    jobs.delete_appointment(gutter)
    assert counts(syncfw.run(profile)) == (0, 0, 1, 0)
    assert target_uid("jobs-to-master", gutter) not in master(tmp_path)
    assert counts(syncfw.run(profile)) == (0, 0, 0, 0)


def test_hand_edits_in_the_master_are_put_back_and_foreign_events_stay(
    tmp_path: Path, write_profile: MakeProfile, jobs: JobCalendar
) -> None:
    profile = write_profile(PROFILE)
    uid = jobs.add_appointment("Boiler service", at(1), at(1, 11), persons=["ada@example.com"])
    syncfw.run(profile)
    synced_uid = target_uid("jobs-to-master", uid)
    file = next(p for p in (tmp_path / "master").glob("*.ics") if synced_uid in p.read_text())
    synced = master(tmp_path)[synced_uid]
    # Someone renames it and invites a guest by hand, and adds an event of their own.
    drifted = synced.replace(
        title="Boiler service (moved to Friday?)",
        attendees=(*synced.attendees, replace(synced.attendees[0], email="guest@example.org")),
    )
    atomic_write(file, event_to_ical([drifted]))
    mine = Event(uid="private-lunch", title="Lunch", start=at(1, 12), end=at(1, 13))
    atomic_write(tmp_path / "master" / "private-lunch.ics", event_to_ical([mine]))

    assert counts(syncfw.run(profile)) == (0, 1, 0, 0)
    events = master(tmp_path)
    assert events[synced_uid].title == "Boiler service"
    assert [a.email for a in events[synced_uid].attendees] == ["ada@example.com"]
    assert events["private-lunch"] == mine
    jobs.delete_appointment(uid)
    syncfw.run(profile)
    assert list(master(tmp_path)) == ["private-lunch"]
