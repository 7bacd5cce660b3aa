"""The job calendar pushed to a calendar on a real Radicale, as a user runs it (master push).

Each test gets its own user and calendar on the session's Radicale, a jobcal SQLite
database and a profile pairing the two. The server is checked independently of
syncfw's driver: plain HTTP REPORTs parsed with ``icalendar``. HTTP requests are
counted by the server itself (its request log, see radicale_server.py).
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote, unquote, urlsplit
from urllib.request import Request, urlopen

import icalendar
import pytest
from radicale_server import RadicaleServer

import syncfw
from syncfw import Plugins, hookimpl
from syncfw.core.policies import target_uid
from syncfw.core.report import PairReport
from syncfw.model import as_utc
from syncfw.sdk.driver import WriteOp, WriteResult
from syncfw_caldav import CaldavDriver
from syncfw_jobcal.store import JobCalendar
from syncfw_jobcal.testing import Summary, expected_items

PAIR = "jobs-to-dav"
MASTER = "Company master"  # the calendar's display name
PROFILE = """\
version: 1
calendars:
  jobs: {{driver: jobcal, url: "sqlite:///{db}"}}
  dav: {{driver: {driver}, url: "{url}", calendar: "{calendar}",
        username: "{user}", password: secret}}
persons: {{from: jobs}}
pairs:
  - {{name: {pair}, source: jobs, target: dav, policy: master-push,
     window: {{past_days: 7, future_days: 90}}}}
"""
WRITES = ("PUT", "DELETE")

# Loaded through SYNCFW_PLUGINS by the run that is killed: the caldav driver, but the
# process kills itself once the driver returned its CRASH_AT-th write result — the write
# is on the server, syncfw has not recorded it (it records a batch after the driver).
CRASH_PLUGIN = """
import os, signal
from syncfw import hookimpl
from syncfw_caldav import CaldavDriver

AT = int(os.environ.get("CRASH_AT", "0"))
seen = 0

class CrashyCaldav(CaldavDriver):
    name = "crashy-caldav"

    def write(self, ops):
        global seen
        for result in super().write(ops):
            seen += 1
            if seen == AT:
                os.kill(os.getpid(), signal.SIGKILL)
            yield result

@hookimpl
def syncfw_register_drivers(register):
    register(CrashyCaldav)
"""


def at(days: int, hour: int = 9) -> datetime:
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


@dataclass(frozen=True)
class Resource:
    """One calendar resource on the server, read by hand."""

    name: str  # inside the collection
    etag: str
    data: str
    uid: str
    summary: Summary


class Dav:
    """The calendar over plain HTTP, as another client (a person, a phone) sees it."""

    def __init__(self, url: str, user: str) -> None:
        self.url = url
        login = base64.b64encode(f"{user}:secret".encode()).decode()
        self.auth = {"Authorization": f"Basic {login}"}

    def send(
        self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, Any, bytes]:
        request = Request(url, body or None, {**self.auth, **(headers or {})}, method=method)
        try:
            with urlopen(request, timeout=10) as answer:
                return answer.status, answer.headers, answer.read()
        except HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def resources(self) -> list[Resource]:
        """Every resource, by one calendar-query REPORT (a resource with two events fails)."""
        body = (
            b'<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" '
            b'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/>'
            b'</D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
        )
        status, _, raw = self.send("REPORT", self.url, body, {"Depth": "1"})
        assert status == 207, raw
        base = unquote(urlsplit(self.url).path)
        found = []
        for response in ET.fromstring(raw).iter("{DAV:}response"):
            href = unquote(response.findtext("{DAV:}href") or "")
            data = response.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data")
            if data is None:
                continue
            (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
            found.append(
                Resource(
                    href.removeprefix(base),
                    response.findtext(".//{DAV:}getetag") or "",
                    data,
                    str(event["UID"]),
                    summarize(event),
                )
            )
        return found

    def by_uid(self) -> dict[str, Resource]:
        resources = self.resources()
        twice = [u for u, n in Counter(r.uid for r in resources).items() if n > 1]
        assert twice == [], f"duplicated events on the server: {twice}"
        return {r.uid: r for r in resources}

    def put(self, name: str, data: bytes, headers: dict[str, str]) -> int:
        headers = {"Content-Type": "text/calendar; charset=utf-8", **headers}
        return self.send("PUT", self.url + quote(name), data, headers)[0]

    def edit(self, resource: Resource, **props: object) -> None:
        """Change properties of ``resource`` by hand (unconditionally, like a careless client)."""
        cal = icalendar.Calendar.from_ical(resource.data)
        (event,) = cal.walk("VEVENT")
        for prop, value in props.items():
            event.pop(prop, None)
            for item in value if isinstance(value, list) else [value]:
                event.add(prop, item)
        assert self.put(resource.name, cal.to_ical(), {}) in (200, 201, 204)


def summarize(event: Any) -> Summary:
    attendees = event.get("ATTENDEE", [])
    attendees = attendees if isinstance(attendees, list) else [attendees]
    emails = frozenset(str(a).lower().removeprefix("mailto:") for a in attendees)
    return (
        str(event["SUMMARY"]),
        _utc(event.decoded("DTSTART")),
        _utc(event.decoded("DTEND")),
        emails,
    )


def _utc(value: datetime | date) -> datetime | date:
    return as_utc(value) if isinstance(value, datetime) else value


def expected(jobs: JobCalendar) -> dict[str, Summary]:
    """What the calendar must hold, by uid: each appointment (instance) in the window."""
    return expected_items(jobs, PAIR)


class Setup:
    """One test's world: a jobcal database, a calendar on Radicale, a profile joining them."""

    def __init__(self, root: Path, server: RadicaleServer, *, by_name: bool = False) -> None:
        self.root, self.server = root, server
        self.user = f"e2e-{uuid.uuid4().hex[:10]}"
        self.calendar = server.make_calendar(self.user, "jobs", display_name=MASTER)
        self.by_name = by_name  # the profile names the calendar (found by discovery)
        self.dav = Dav(self.calendar, self.user)
        self.jobs = JobCalendar.open(f"sqlite:///{root / 'jobcal.db'}")
        self.jobs.init()
        self.jobs.add_person("Ada Fitter", "ada@example.com")
        self.jobs.add_person("Bo Welder", "bo@example.com")
        self.jobs.add_person("Cy Office", "cy@example.com", sync=False)
        self.profile = self.write_profile("caldav")
        self.foreign: dict[str, Resource] = {}  # events added on the server by hand
        self.seen: int | None = None

    def write_profile(self, driver: str) -> Path:
        path = self.root / f"{driver}.yaml"
        db = self.root / "jobcal.db"
        url, calendar = (self.server.url, MASTER) if self.by_name else (self.calendar,) * 2
        text = PROFILE.format(
            db=db, driver=driver, url=url, calendar=calendar, user=self.user, pair=PAIR
        )
        path.write_text(text)
        return path

    def add_appointments(self) -> dict[str, str]:
        """A small job calendar: attendees, a series, one all-day, two outside the window."""
        add = self.jobs.add_appointment
        return {
            "boiler": add("Boiler service", at(1), at(1, 11), persons=["ada@example.com"]),
            "roof": add("Roof check", at(2), at(2, 10), location="Main St 1"),
            "team": add(
                "Team job", at(3), at(3, 12), persons=["ada@example.com", "bo@example.com"]
            ),
            "office": add("Paperwork", at(4), at(4, 10), persons=["cy@example.com"]),
            "weekly": add("Weekly check", at(5), at(5, 10), rrule="FREQ=WEEKLY;COUNT=3"),
            "fair": add("Trade fair", (at(6)).date(), (at(8)).date()),
            "yesterday": add("Yesterday's job", at(-1), at(-1, 10)),
            "gutter": add("Gutter cleaning", at(9), at(9, 12), persons=["bo@example.com"]),
            "past": add("Long ago", at(-30), at(-30, 10)),
            "far": add("Next year", at(200), at(200, 10)),
        }

    def run(self, plugins: Plugins | None = None, *, force: bool = False) -> PairReport:
        """One run in this process; records the HTTP requests the server saw meanwhile."""
        mark = self.server.mark()
        (pair,) = syncfw.run(self.profile, plugins=plugins, force=force).pairs
        self.seen = mark
        assert pair.status == "ok", (pair.error, pair.failures)
        return pair

    def requests(self) -> list[tuple[str, str, int | None]]:
        """The requests of the last :meth:`run`: (method, path, status)."""
        assert self.seen is not None
        return [(r.method, r.path, r.status) for r in self.server.requests(self.seen)]

    def assert_exact(self) -> None:
        """The calendar holds the job calendar exactly, plus the hand-added events untouched."""
        on_server = self.dav.by_uid()
        for uid, resource in self.foreign.items():
            assert on_server.pop(uid) == resource, "a hand-added event was changed"
        want = expected(self.jobs)
        got = {uid: r.summary for uid, r in on_server.items()}
        assert sorted(set(got) - set(want)) == [], "events on the server the jobs lack"
        assert sorted(set(want) - set(got)) == [], "appointments missing on the server"
        assert {uid: got[uid] for uid in want if got[uid] != want[uid]} == {}


def counts(pair: PairReport) -> tuple[int, int, int, int]:
    return pair.created, pair.updated, pair.deleted, pair.failed


@pytest.fixture
def setup(
    request: pytest.FixtureRequest, tmp_path: Path, radicale_server: RadicaleServer
) -> Iterator[Setup]:
    """The world; parametrized indirectly with True, the profile names the calendar."""
    world = Setup(tmp_path, radicale_server, by_name=getattr(request, "param", False))
    yield world
    world.jobs.close()


# -- runs in this process ------------------------------------------------------------------


@pytest.mark.parametrize("setup", [False, True], ids=["calendar-url", "by-name"], indirect=True)
def test_initial_push_puts_each_appointment_once_then_a_quiet_run_sends_one_request(
    setup: Setup,
) -> None:
    uids = setup.add_appointments()
    want = expected(setup.jobs)
    assert len(want) == 10  # 8 appointments in the window, the series with 3 instances
    first = setup.run()
    assert counts(first) == (10, 0, 0, 0)
    setup.assert_exact()
    team = setup.dav.by_uid()[target_uid(PAIR, uids["team"])].summary
    assert team[3] == {"ada@example.com", "bo@example.com"}  # Cy is not synced: not invited
    puts = [r for r in setup.requests() if r[0] in WRITES]
    assert len(puts) == 10 and {(m, s) for m, _, s in puts} == {("PUT", 201)}  # created

    path = urlsplit(setup.calendar).path
    for _ in range(2):  # right after the push (which the server sends back), and again
        quiet = setup.run()
        assert counts(quiet) == (0, 0, 0, 0) and quiet.unchanged == 10
        # The target: one request for the one CalDAV calendar (the jobcal side is SQL).
        assert [(m, p) for m, p, _ in setup.requests()] == [("REPORT", path)]
    setup.assert_exact()


def test_titles_times_and_deletes_in_the_job_calendar_reach_the_server(setup: Setup) -> None:
    uids = setup.add_appointments()
    setup.run()
    setup.jobs.edit_appointment(uids["roof"], title="Roof repair", persons=["bo@example.com"])
    setup.jobs.move_appointment(uids["boiler"], at(3, 14))
    setup.jobs.delete_appointment(uids["gutter"])
    setup.jobs.add_appointment("Emergency call", at(2, 15), at(2, 16))
    assert counts(setup.run()) == (1, 2, 1, 0)
    setup.assert_exact()
    boiler = setup.dav.by_uid()[target_uid(PAIR, uids["boiler"])].summary
    assert boiler[1:3] == (at(3, 14), at(3, 16))
    assert target_uid(PAIR, uids["gutter"]) not in setup.dav.by_uid()
    writes = sorted((m, (s or 0) // 100) for m, _, s in setup.requests() if m in WRITES)
    assert writes == [("DELETE", 2), ("PUT", 2), ("PUT", 2), ("PUT", 2)]
    assert counts(setup.run()) == (0, 0, 0, 0)


def test_hand_edits_on_the_server_are_put_back_and_hand_added_events_stay(
    setup: Setup,
) -> None:
    uids = setup.add_appointments()
    setup.run()
    synced = setup.dav.by_uid()[target_uid(PAIR, uids["boiler"])]
    setup.dav.edit(
        synced,
        SUMMARY="Boiler service (Friday?)",
        DTSTART=at(5, 7),
        DTEND=at(5, 8),
        ATTENDEE=["mailto:ada@example.com", "mailto:guest@example.org"],
    )
    lunch = icalendar.Calendar.from_ical(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hand//EN\r\nBEGIN:VEVENT\r\n"
        "UID:private-lunch\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:Lunch\r\n"
        f"DTSTART:{at(1, 12):%Y%m%dT%H%M%SZ}\r\nDTEND:{at(1, 13):%Y%m%dT%H%M%SZ}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert setup.dav.put("private-lunch.ics", lunch.to_ical(), {"If-None-Match": "*"}) == 201
    setup.foreign = {"private-lunch": setup.dav.by_uid()["private-lunch"]}

    assert counts(setup.run()) == (0, 1, 0, 0)
    setup.assert_exact()  # the drift is gone (title, time, guest), the lunch untouched
    for uid in uids.values():
        setup.jobs.delete_appointment(uid)
    assert setup.run(force=True).deleted == 10  # every one (past the deletion guard)
    assert list(setup.dav.by_uid()) == ["private-lunch"]
    setup.assert_exact()


def test_an_edit_between_read_and_write_is_overwritten_without_duplicates(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone edits the events syncfw is about to update/delete, after its read: 412s,
    and the same run reads again and still ends with the job calendar's version."""
    uids = setup.add_appointments()
    setup.run()
    setup.jobs.edit_appointment(uids["roof"], title="Roof repair")
    setup.jobs.delete_appointment(uids["gutter"])
    raced: list[str] = []
    write = CaldavDriver.write

    def racing_write(self: CaldavDriver, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        if not raced:
            on_server = {r.name: r for r in setup.dav.resources()}
            for op in ops:
                if op.key in on_server:
                    setup.dav.edit(on_server[op.key], SUMMARY="Changed by someone else")
                    raced.append(op.key)
        results: Iterator[WriteResult] = write(self, ops)
        return results

    monkeypatch.setattr(CaldavDriver, "write", racing_write)
    report = setup.run()
    assert len(raced) == 2, "the race did not happen: nothing to update and delete"
    answers = Counter((m, s) for m, _, s in setup.requests() if m in WRITES)
    assert answers[("PUT", 412)] == 1 and answers[("DELETE", 412)] == 1, answers
    assert (report.updated, report.deleted, report.failed) == (1, 1, 0)
    setup.assert_exact()
    monkeypatch.setattr(CaldavDriver, "write", write)
    assert counts(setup.run()) == (0, 0, 0, 0)


# -- a run killed with SIGKILL, then a normal run ------------------------------------------


class _SameDriverUnderTheCrashName:
    """The normal run after a crash uses the crash profile's driver name, without the kill."""

    @hookimpl
    def syncfw_register_drivers(self, register: Any) -> None:
        register(type("CaldavUnderAnotherName", (CaldavDriver,), {"name": "crashy-caldav"}))


def killed_run(setup: Setup, crash_at: int) -> None:
    """`syncfw run` in a child process with the crash plugin, which must kill it."""
    (setup.root / "crashplug.py").write_text(CRASH_PLUGIN)
    env = {
        **os.environ,
        "SYNCFW_PLUGINS": "crashplug",
        "CRASH_AT": str(crash_at),
        "PYTHONPATH": os.pathsep.join([str(setup.root), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "syncfw", "run", str(setup.profile), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL, (crash_at, proc.stdout, proc.stderr)


def normal_run(setup: Setup) -> PairReport:
    return setup.run(plugins=Plugins(extra=[_SameDriverUnderTheCrashName()]))


@pytest.mark.parametrize("crash_at", [1, 5, 9])
def test_initial_push_killed_at_the_kth_write(setup: Setup, crash_at: int) -> None:
    setup.add_appointments()
    setup.profile = setup.write_profile("crashy-caldav")
    killed_run(setup, crash_at)
    assert crash_at <= len(setup.dav.resources()) <= 10  # written, but never recorded
    report = normal_run(setup)
    assert report.failed == 0 and report.created + report.unchanged == 10
    setup.assert_exact()
    assert counts(normal_run(setup)) == (0, 0, 0, 0)


@pytest.mark.parametrize("crash_at", [2, 5])
def test_changes_killed_at_the_kth_write(setup: Setup, crash_at: int) -> None:
    uids = setup.add_appointments()
    setup.profile = setup.write_profile("crashy-caldav")
    normal_run(setup)
    setup.jobs.delete_appointment(uids["gutter"])
    setup.jobs.delete_appointment(uids["yesterday"])
    setup.jobs.edit_appointment(uids["roof"], title="Roof repair")
    setup.jobs.move_appointment(uids["boiler"], at(3, 14))
    setup.jobs.add_appointment("Emergency call", at(2, 15), at(2, 16))
    setup.jobs.add_appointment("Follow-up", at(10), at(10, 10), persons=["ada@example.com"])
    killed_run(setup, crash_at)
    assert normal_run(setup).failed == 0
    setup.assert_exact()
    assert counts(normal_run(setup)) == (0, 0, 0, 0)
