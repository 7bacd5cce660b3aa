"""The two-sided policies between a job calendar and Outlook (the Graph emulator):
open-pull/close-push phases, session(), and two-way with each conflict rule.

The local side is a job calendar (SQLite); the remote side a calendar in the emulator that
a person edits in Outlook between runs. Events keep one uid on both sides: syncfw's mark
on the events it wrote, Outlook's iCalUId on the ones people made there.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graph_emulator import GraphEmulator

import syncfw
from syncfw_jobcal.store import JobCalendar
from syncfw_outlook.convert import marks

CALENDAR = "Agenda"


def at(days: int, hour: int = 9) -> datetime:
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def _when(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


class Remote:
    """The Outlook calendar as a person sees and edits it."""

    def __init__(self, emulator: GraphEmulator) -> None:
        self.emulator = emulator

    @property
    def events(self) -> dict[str, dict[str, Any]]:
        """By uid (syncfw's mark, else Outlook's iCalUId), each event once."""
        try:
            calendar = self.emulator.calendar(CALENDAR)
        except KeyError:
            return {}
        found: dict[str, dict[str, Any]] = {}
        for event in calendar.events.values():
            uid = marks(event).get("syncfw_uid") or event["iCalUId"]
            assert uid not in found, f"uid {uid} twice in Outlook"
            found[uid] = event
        return found

    def titles(self) -> dict[str, str]:
        return {uid: e["subject"] for uid, e in self.events.items()}

    def add(self, title: str, start: datetime) -> str:
        try:
            calendar = self.emulator.calendar(CALENDAR)
        except KeyError:
            calendar = self.emulator.add_calendar(CALENDAR)
        body = {"subject": title, "start": _when(start), "end": _when(start + timedelta(hours=1))}
        return str(self.emulator.add_event(calendar.id, body)["iCalUId"])

    def edit(self, uid: str, title: str) -> None:
        self.emulator.edit(self.events[uid]["id"], subject=title)

    def delete(self, uid: str) -> None:
        self.emulator.delete_event(self.events[uid]["id"])


@pytest.fixture
def remote(graph_emulator: GraphEmulator) -> Remote:
    return Remote(graph_emulator)


@pytest.fixture
def agenda(tmp_path: Path) -> Iterator[JobCalendar]:
    calendar = JobCalendar.open(f"sqlite:///{tmp_path / 'agenda.db'}")
    calendar.init()
    calendar.add_person("Ada Fitter", "ada@example.com")
    yield calendar
    calendar.close()


def write_profile(tmp_path: Path, remote: Remote, policy: str, extra: str = "") -> Path:
    path = tmp_path / "profile.yaml"
    text = f"""
        version: 1
        calendars:
          agenda: {{driver: jobcal, url: "sqlite:///agenda.db"}}
          remote:
            driver: outlook
            calendar: {CALENDAR}
            endpoint: "{remote.emulator.endpoint}"
            auth: {{token: test-token}}
            backoff: 0.01
        persons: {{from: agenda}}
        pairs:
          - name: agenda-remote
            source: agenda
            target: remote
            policy: {policy}
            filters: [{{type: [appointment]}}]
            window: {{past_days: 7, future_days: 90}}
        """
    path.write_text(textwrap.dedent(text) + extra)
    return path


def counts(report: syncfw.RunReport) -> tuple[int, int, int, int]:
    pair = report.pairs[0]
    assert pair.error is None, pair.error
    return pair.created, pair.updated, pair.deleted, pair.failed


def local_titles(agenda: JobCalendar) -> dict[str, str]:
    return {a.uid: a.title for a in agenda.appointments()}


def test_open_pulls_remote_changes_and_close_pushes_local_ones(
    tmp_path: Path, remote: Remote, agenda: JobCalendar
) -> None:
    path = write_profile(tmp_path, remote, "open-pull-close-push")
    boiler = agenda.add_appointment("Boiler service", at(1), at(1, 11))
    agenda.add_appointment("Team meeting", at(1, 13), at(1, 14), type="internal")
    assert counts(syncfw.run(path, phase="close")) == (1, 0, 0, 0)
    assert remote.titles() == {boiler: "Boiler service"}  # only the appointment

    booked = remote.add("Booked online", at(2))
    remote.edit(boiler, "Boiler service (moved by phone)")
    assert counts(syncfw.run(path, phase="open")) == (1, 1, 0, 0)
    pulled = agenda.appointment(booked)
    assert (pulled.title, pulled.type, pulled.start) == ("Booked online", "appointment", at(2))
    assert agenda.appointment(boiler).title == "Boiler service (moved by phone)"

    remote.delete(booked)  # a remote deletion is applied on open
    agenda.edit_appointment(boiler, title="Boiler service, bring parts")  # pushed on close
    assert counts(syncfw.run(path, phase="open")) == (0, 0, 1, 0)
    assert booked not in local_titles(agenda)
    assert remote.titles() == {boiler: "Boiler service (moved by phone)"}  # not yet
    assert counts(syncfw.run(path, phase="close")) == (0, 1, 0, 0)
    assert remote.titles() == {boiler: "Boiler service, bring parts"}
    assert counts(syncfw.run(path)) == (0, 0, 0, 0)  # open then close: nothing to do


def test_the_cli_runs_one_phase(tmp_path: Path, remote: Remote, agenda: JobCalendar) -> None:
    path = write_profile(tmp_path, remote, "open-pull-close-push")
    uid = agenda.add_appointment("Roof check", at(3), at(3, 10))
    command = [sys.executable, "-m", "syncfw", "run", str(path), "--phase"]
    opened = subprocess.run([*command, "open"], capture_output=True, text=True, timeout=120)
    assert opened.returncode == 0, opened.stderr
    assert remote.titles() == {}  # open only pulls
    closed = subprocess.run([*command, "close"], capture_output=True, text=True, timeout=120)
    assert closed.returncode == 0, closed.stderr
    assert remote.titles() == {uid: "Roof check"}


def test_a_session_pulls_on_enter_and_pushes_on_exit(
    tmp_path: Path, remote: Remote, agenda: JobCalendar
) -> None:
    path = write_profile(tmp_path, remote, "open-pull-close-push")
    kept = agenda.add_appointment("Gutter cleaning", at(4), at(4, 12))
    gone = agenda.add_appointment("Window fitting", at(5), at(5, 12))
    syncfw.run(path)
    remote.delete(gone)
    with syncfw.session(path):
        assert gone not in local_titles(agenda)  # the remote deletion, pulled on enter
        agenda.edit_appointment(kept, title="Gutter cleaning and repair")
    assert remote.titles() == {kept: "Gutter cleaning and repair"}


@pytest.mark.parametrize(
    ("conflict", "winner"),
    [("source-wins", "local edit"), ("target-wins", "remote edit"), ("fail", None)],
)
def test_two_way_settles_conflicts_by_the_pairs_rule(
    tmp_path: Path, remote: Remote, agenda: JobCalendar, conflict: str, winner: str | None
) -> None:
    path = write_profile(tmp_path, remote, "two-way", f"    conflict: {conflict}\n")
    uid = agenda.add_appointment("original", at(6), at(6, 10))
    booked = remote.add("booked remotely", at(7))
    assert counts(syncfw.run(path)) == (2, 0, 0, 0)
    assert remote.titles() == local_titles(agenda) == {uid: "original", booked: "booked remotely"}

    agenda.edit_appointment(uid, title="local edit")
    remote.edit(uid, "remote edit")
    report = syncfw.run(path)
    if winner is None:
        assert counts(report) == (0, 0, 0, 1)
        assert "changed in both" in report.pairs[0].failures[0].message
        return
    assert counts(report) == (0, 1, 0, 0)
    assert agenda.appointment(uid).title == remote.titles()[uid] == winner
    assert counts(syncfw.run(path)) == (0, 0, 0, 0)  # no ping-pong

    remote.delete(uid)  # a deletion against an edit keeps the edit
    agenda.edit_appointment(booked, title="booked, confirmed")
    assert counts(syncfw.run(path))[:3] == (0, 1, 1)
    assert remote.titles() == local_titles(agenda) == {booked: "booked, confirmed"}
