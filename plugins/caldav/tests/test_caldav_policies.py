"""The two-sided policies against a real Radicale: open/close phases, session(), two-way.

The local side is a job calendar (SQLite); the remote side a Radicale calendar that
"another client" (the caldav library, used directly) edits between runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import caldav
import icalendar
import pytest

import syncfw
from syncfw_jobcal.store import JobCalendar

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def at(days: int, hour: int = 9) -> datetime:
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


class Remote:
    """The CalDAV calendar as another client sees and edits it."""

    def __init__(self, url: str, user: str, name: str) -> None:
        # Basic up front: Radicale delays every 401 by a second, against password guessing.
        self.client = caldav.DAVClient(url=url, username=user, password="secret", auth_type="basic")
        self.url, self.user, self.name = url, user, name

    @property
    def calendar(self) -> Any:
        principal = self.client.principal()
        for calendar in principal.calendars():
            if calendar.get_display_name() == self.name:
                return calendar
        return principal.make_calendar(name=self.name)  # syncfw finds it by this name

    def events(self) -> dict[str, icalendar.Event]:
        found: dict[str, icalendar.Event] = {}
        for item in self.calendar.events():
            vevent = item.icalendar_component
            uid = str(vevent["UID"])
            assert uid not in found, f"uid {uid} twice on the server"
            found[uid] = vevent
        return found

    def titles(self) -> dict[str, str]:
        return {uid: str(v["SUMMARY"]) for uid, v in self.events().items()}

    def add(self, title: str, start: datetime, uid: str | None = None) -> str:
        uid = uid or f"{uuid.uuid4()}@other-client"
        self.calendar.save_event(
            dtstart=start, dtend=start + timedelta(hours=1), summary=title, uid=uid
        )
        return uid

    def edit(self, uid: str, title: str, modified: datetime | None = None) -> None:
        item = self.calendar.event_by_uid(uid)
        vevent = item.icalendar_component
        vevent["SUMMARY"] = title
        vevent.pop("LAST-MODIFIED", None)
        vevent.add("LAST-MODIFIED", (modified or datetime.now(UTC)).replace(microsecond=0))
        item.save()

    def delete(self, uid: str) -> None:
        self.calendar.event_by_uid(uid).delete()


@pytest.fixture
def remote(radicale: str, user: str, calendar_name: str) -> Remote:
    return Remote(radicale, user, calendar_name)


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
            driver: caldav
            url: "{remote.url}"
            calendar: "{remote.name}"
            username: {remote.user}
            password: secret
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
    wrong = subprocess.run([*command, "later"], capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "'later' is not one of 'open', 'close'" in wrong.stderr


def test_a_session_pulls_on_enter_and_pushes_on_exit(
    tmp_path: Path, remote: Remote, agenda: JobCalendar
) -> None:
    path = write_profile(tmp_path, remote, "open-pull-close-push")
    kept = agenda.add_appointment("Gutter cleaning", at(4), at(4, 12))
    gone = agenda.add_appointment("Window fitting", at(5), at(5, 12))
    syncfw.run(path)
    remote.delete(gone)
    with syncfw.session(path) as session:
        assert gone not in local_titles(agenda)  # the remote deletion, pulled on enter
        agenda.edit_appointment(kept, title="Gutter cleaning and repair")
        assert session.calendar("agenda").name == "jobcal"
    assert remote.titles() == {kept: "Gutter cleaning and repair"}

    with pytest.raises(KeyError), syncfw.session(path):
        agenda.edit_appointment(kept, title="Saved before the crash")
        raise KeyError("the agenda crashed")
    assert remote.titles() == {kept: "Saved before the crash"}


@pytest.mark.parametrize(
    ("conflict", "winner"),
    [
        ("source-wins", "local edit"),
        ("target-wins", "remote edit"),
        ("newest-wins", "remote edit"),  # the remote edit is the later one
        ("fail", None),
    ],
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
    remote.edit(uid, "remote edit", modified=datetime.now(UTC) + timedelta(minutes=1))
    report = syncfw.run(path)
    if winner is None:
        assert counts(report) == (0, 0, 0, 1)
        assert "changed in both" in report.pairs[0].failures[0].message
        assert (agenda.appointment(uid).title, remote.titles()[uid]) == (
            "local edit",
            "remote edit",
        )
        return
    assert counts(report) == (0, 1, 0, 0)
    assert agenda.appointment(uid).title == remote.titles()[uid] == winner
    assert counts(syncfw.run(path)) == (0, 0, 0, 0)  # no ping-pong

    remote.delete(uid)  # a deletion against an edit keeps the edit
    agenda.edit_appointment(booked, title="booked, confirmed")
    assert counts(syncfw.run(path))[:3] == (0, 1, 1)
    assert remote.titles() == local_titles(agenda) == {booked: "booked, confirmed"}


def test_the_gestan_example_runs_against_caldav(
    tmp_path: Path, remote: Remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = tmp_path / "gestan.yaml"
    shutil.copy(EXAMPLES / "gestan.yaml", profile)
    monkeypatch.setenv("GESTAN_CALDAV_URL", remote.url)
    monkeypatch.setenv("GESTAN_CALDAV_CALENDAR", remote.name)
    monkeypatch.setenv("GESTAN_CALDAV_USER", remote.user)
    monkeypatch.setenv("GESTAN_CALDAV_PASSWORD", "secret")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "syncfw", *args]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert cli("jobcal", "--profile", str(profile), "init", "--demo").returncode == 0
    first = cli("run", str(profile))
    assert first.returncode == 0, first.stderr
    events = remote.events()
    assert events and {str(c) for v in events.values() for c in v["CATEGORIES"].cats} == {
        "appointment"
    }
    remote.add("Booked online", at(2))
    opened = cli("run", str(profile), "--phase", "open")
    assert opened.returncode == 0, opened.stderr
    agenda = JobCalendar.open(f"sqlite:///{tmp_path / 'gestan-data' / 'agenda.db'}")
    try:
        assert [a.type for a in agenda.appointments() if a.title == "Booked online"] == [
            "appointment"
        ]
    finally:
        agenda.close()
    again = cli("run", str(profile), "--json")
    assert again.returncode == 0, again.stderr
    assert '"created": 0, "updated": 0, "deleted": 0' in again.stdout
