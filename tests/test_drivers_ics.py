"""The ics driver in both modes: the contract suite plus files, crashes and bad data."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest

from syncfw.drivers import ics
from syncfw.drivers.ics import IcsDriver, IcsOptions, file_name_for
from syncfw.errors import DriverError, NotFound, PreconditionFailed
from syncfw.hooks.manager import DEFAULT_PLUGINS
from syncfw.model import Change, Event, as_utc
from syncfw.sdk.driver import Driver, DriverContext, WriteOp, WriteResult
from syncfw.sdk.ical import event_to_ical
from syncfw.testing import DriverContract, fresh_window, make_event


def make_driver(path: Path, **options: object) -> IcsDriver:
    return IcsDriver(IcsOptions(path=path, **options), DriverContext("files"))  # type: ignore[arg-type]


def read(driver: Driver) -> dict[str, Change]:
    return {c.key: c for c in driver.read(None, fresh_window())}


def write(driver: Driver, *ops: WriteOp) -> list[WriteResult]:
    return list(driver.write(ops))


BAD_EVENT = """\
BEGIN:VEVENT
UID:broken-1
SUMMARY:Broken one
DTSTART:2030-garbage
END:VEVENT
"""


class _EditsTheFile:
    """Someone edits the item with a text editor (new bytes, new etag), garbles one, or
    the disk fills up."""

    def edit_behind_back(self, driver: Driver, key: str, event: Event) -> None:
        assert isinstance(driver, IcsDriver)
        file = driver.path / key if not driver.single_file else driver.path
        text = file.read_text()
        old_title = self.read_event(driver, key)[0].title
        file.write_text(text.replace(f"SUMMARY:{old_title}", f"SUMMARY:{event.title}", 1))

    def plant_unreadable(self, driver: Driver) -> str:
        assert isinstance(driver, IcsDriver)
        if driver.single_file:  # a VEVENT with a garbled DTSTART among the good ones
            text = driver.path.read_text()
            bad = BAD_EVENT.replace("\n", "\r\n")
            driver.path.write_text(text.replace("END:VCALENDAR", bad + "END:VCALENDAR"))
            return "broken-1"
        (driver.path / "broken.ics").write_text(f"BEGIN:VCALENDAR\n{BAD_EVENT}END:VCALENDAR\n")
        return "broken.ics"

    def failing_writes(self, driver: Driver, key: str) -> AbstractContextManager[object]:
        """The disk is full: writing the item's file (the calendar's, in file mode) fails."""
        assert isinstance(driver, IcsDriver)
        real = ics.atomic_write

        def full_disk(path: Path, data: bytes, **kwargs: Any) -> bool:
            if driver.single_file or path.name == key:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(path, data, **kwargs)

        return patch.object(ics, "atomic_write", full_disk)


class TestSingleFileContract(_EditsTheFile, DriverContract):
    eager_writes = "one write() rewrites the file once, with every op applied"

    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[IcsDriver]:
        with make_driver(tmp_path / "calendar.ics") as driver:
            yield driver


class TestFolderContract(_EditsTheFile, DriverContract):
    @pytest.fixture
    def driver(self, tmp_path: Path) -> Iterator[IcsDriver]:
        with make_driver(tmp_path / "calendar") as driver:
            yield driver


def test_registered_as_builtin_plugin() -> None:
    found: list[type[Driver]] = []
    ics.syncfw_register_drivers(register=found.append)
    assert found == [IcsDriver] and IcsDriver.name == "ics"
    assert "syncfw.drivers.ics" in DEFAULT_PLUGINS


def test_relative_path_counts_from_the_profile_folder(tmp_path: Path) -> None:
    options = IcsOptions.model_validate({"path": "out/x.ics"}, context={"base_dir": tmp_path})
    assert options.path == tmp_path / "out" / "x.ics"
    with pytest.raises(ValueError, match="extra"):
        IcsOptions.model_validate({"path": "x.ics", "colour": "red"})


def test_mode_follows_the_path(tmp_path: Path) -> None:
    assert make_driver(tmp_path / "a.ics").single_file
    assert not make_driver(tmp_path / "folder").single_file
    (tmp_path / "plain").write_bytes(event_to_ical([]))
    assert make_driver(tmp_path / "plain").single_file


@pytest.mark.parametrize("name", ["missing.ics", "missing-folder"])
def test_missing_path_reads_empty_and_is_created_on_write(tmp_path: Path, name: str) -> None:
    driver = make_driver(tmp_path / "deep" / name)
    assert read(driver) == {}
    assert not (tmp_path / "deep").exists(), "reading creates nothing"
    (result,) = write(driver, WriteOp("create", event=make_event(uid="u1")))
    assert result.ok
    assert (tmp_path / "deep" / name).exists()


@pytest.mark.parametrize("name", ["missing.ics", "missing-folder"])
def test_missing_path_with_create_false_is_an_error(tmp_path: Path, name: str) -> None:
    driver = make_driver(tmp_path / name, create=False)
    with pytest.raises(DriverError, match="create: false"):
        driver.read(None, fresh_window())
    with pytest.raises(DriverError, match="does not exist"):
        write(driver, WriteOp("create", event=make_event()))
    assert not (tmp_path / name).exists()


def test_folder_file_names_are_safe_for_any_uid() -> None:
    assert file_name_for("abc-123@example.com") == "abc-123@example.com.ics"
    for uid in ("a/b c@x.example", "../etc/passwd", ".hidden", "x" * 300, "ü", "a\\b", "x.tmp"):
        name = file_name_for(uid)
        assert name.endswith(".ics") and "/" not in name and "\\" not in name
        assert not name.startswith(".") and len(name) < 200
    assert file_name_for("a/b") != file_name_for("a_b")


def test_malformed_event_in_a_file_is_reported_and_the_others_read(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    good = event_to_ical([make_event(uid="good-1"), make_event(uid="good-2")]).decode()
    path.write_text(
        good.replace("END:VCALENDAR", BAD_EVENT.replace("\n", "\r\n") + "END:VCALENDAR")
    )
    changes = read(make_driver(path))
    assert set(changes) == {"good-1", "good-2", "broken-1"}
    broken = changes["broken-1"]
    assert broken.event is None and not broken.deleted
    assert "Broken one" in broken.error and "broken-1" in broken.error


def test_malformed_file_in_a_folder_is_reported_and_the_others_read(tmp_path: Path) -> None:
    driver = make_driver(tmp_path)
    write(driver, WriteOp("create", event=make_event(uid="good")))
    (tmp_path / "junk.ics").write_text("this is not a calendar\n")
    wrapped = f"BEGIN:VCALENDAR\nVERSION:2.0\n{BAD_EVENT}END:VCALENDAR\n"
    (tmp_path / "bad.ics").write_text(wrapped)
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".good.ics.123.tmp").write_text("a crashed write's leftover")
    changes = read(driver)
    assert set(changes) == {"good.ics", "junk.ics", "bad.ics"}
    assert changes["good.ics"].event.uid == "good"
    assert "not an iCalendar" in changes["junk.ics"].error
    assert "Broken one" in changes["bad.ics"].error


@pytest.mark.parametrize("text", ["hello world\n", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n"])
def test_a_single_file_that_is_not_icalendar_fails_the_read(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(text.encode())
    with pytest.raises(DriverError, match=r"cal\.ics"):
        make_driver(path).read(None, fresh_window())
    with pytest.raises(DriverError):
        write(make_driver(path), WriteOp("create", event=make_event()))
    assert path.read_bytes() == text.encode(), "a file we cannot read is never overwritten"


def test_file_mode_keeps_untouched_events_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    foreign = textwrap.dedent("""\
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//Someone else//EN
        X-WR-CALNAME:Hand made
        BEGIN:VTODO
        UID:todo-1
        SUMMARY:A task we do not sync
        END:VTODO
        BEGIN:VEVENT
        UID:keep-me
        DTSTAMP:20240101T000000Z
        DTSTART:20300101T100000Z
        DTEND:20300101T110000Z
        SUMMARY:Hand   made,  odd   spacing
        X-CUSTOM;FOO=bar:kept as is
        END:VEVENT
        BEGIN:VEVENT
        UID:change-me
        DTSTART:20300102T100000Z
        DTEND:20300102T110000Z
        SUMMARY:Old
        END:VEVENT
        END:VCALENDAR
        """)
    path.write_text(foreign)
    driver = make_driver(path)
    before = read(driver)
    etag = before["keep-me"].etag
    changed = before["change-me"].event.replace(title="New")
    results = write(
        driver,
        WriteOp("update", key="change-me", event=changed, etag=before["change-me"].etag),
        WriteOp("create", event=make_event(uid="added")),
    )
    assert all(r.ok for r in results)
    text = path.read_text()
    keep = foreign[foreign.index("BEGIN:VEVENT") : foreign.index("BEGIN:VEVENT", 300)]
    assert keep in text and "BEGIN:VTODO\nUID:todo-1" in text and "X-WR-CALNAME" in text
    assert "\r\n" not in text, "new events follow the file's line endings"
    after = read(driver)
    assert after["keep-me"].etag == etag
    assert after["change-me"].event.title == "New"
    assert set(after) == {"keep-me", "change-me", "added"}


def test_file_mode_checks_preconditions_per_op_within_one_write(tmp_path: Path) -> None:
    driver = make_driver(tmp_path / "cal.ics")
    event = make_event(uid="k")
    (created,) = write(driver, WriteOp("create", event=event))
    one = WriteOp("update", key="k", event=event.replace(title="one"), etag=created.etag)
    two = WriteOp("update", key="k", event=event.replace(title="two"), etag=created.etag)
    dup = WriteOp("create", event=event)
    gone = WriteOp("update", key="nope", event=make_event(uid="nope"))
    results = write(driver, one, two, dup, gone)
    assert results[0].ok
    assert isinstance(results[1].error, PreconditionFailed)
    assert isinstance(results[2].error, PreconditionFailed)
    assert isinstance(results[3].error, NotFound)
    assert read(driver)["k"].event.title == "one"


@pytest.mark.parametrize("name", ["cal.ics", "folder"])
def test_a_crash_before_the_rename_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    driver = make_driver(tmp_path / name)
    event = make_event(uid="k", title="old")
    (created,) = write(driver, WriteOp("create", event=event))
    target = driver.path / created.key if name == "folder" else driver.path
    before = target.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(DriverError, match="simulated crash"):
        write(driver, WriteOp("update", key=created.key, event=event.replace(title="new")))
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name], "no temp file left"


KILLER = """
import os, sys, time
from pathlib import Path
from zoneinfo import ZoneInfo
from syncfw.sdk.driver import DriverContext, WriteOp
from syncfw.drivers.ics import IcsDriver, IcsOptions
from syncfw.testing import make_event

driver = IcsDriver(IcsOptions(path=Path(sys.argv[1])), DriverContext("k"))
events = [make_event(uid=f"e{i}", title="old", description="x" * 2000) for i in range(300)]
list(driver.write([WriteOp("create", event=e) for e in events]))
calls, real_fsync = 0, os.fsync

def fsync_then_hang(fd):
    global calls
    real_fsync(fd)
    calls += 1
    if calls == int(sys.argv[2]):
        print("killing me now", flush=True)
        time.sleep(60)

os.fsync = fsync_then_hang
list(driver.write([WriteOp("update", key=e.uid, event=e.replace(title="new")) for e in events]))
"""


@pytest.mark.parametrize(
    ("fsync_call", "expected"),
    [(1, "old"), (2, "new")],
    ids=["after-temp-file-before-rename", "after-rename-before-folder-fsync"],
)
def test_sigkill_in_the_middle_of_a_write_leaves_a_whole_file(
    tmp_path: Path, fsync_call: int, expected: str
) -> None:
    path = tmp_path / "cal.ics"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    args = [sys.executable, "-c", KILLER, str(path), str(fsync_call)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "killing me now\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    changes = read(make_driver(path))
    assert len(changes) == 300
    assert {c.event.title for c in changes.values() if c.event} == {expected}


CUSTOM_ZONE = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:Microsoft Exchange Server 2010
BEGIN:VTIMEZONE
TZID:Customized Time Zone
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:outlook-1
SUMMARY:Custom zone
DTSTART;TZID=Customized Time Zone:20300701T100000
DTEND;TZID=Customized Time Zone:20300701T110000
END:VEVENT
END:VCALENDAR
"""


def test_a_custom_vtimezone_of_the_file_is_used(tmp_path: Path) -> None:
    path = tmp_path / "outlook.ics"
    path.write_text(CUSTOM_ZONE)
    (change,) = read(make_driver(path)).values()
    assert change.event is not None
    assert as_utc(change.event.start) == datetime(2030, 7, 1, 8, tzinfo=UTC)  # +02:00 in July


def test_file_mode_writes_each_vtimezone_once(tmp_path: Path) -> None:
    driver = make_driver(tmp_path / "cal.ics")
    for i in range(3):
        start = datetime(2030, 1, 1 + i, 10, tzinfo=ZoneInfo("Europe/Berlin"))
        event = make_event(start=start, end=start + timedelta(hours=1))
        (result,) = write(driver, WriteOp("create", event=event))
        assert result.ok
    text = driver.path.read_text()
    assert text.count("TZID:Europe/Berlin") == 1
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")
    assert len(read(driver)) == 3


def test_folder_mode_refuses_a_second_create_and_a_file_with_two_events(tmp_path: Path) -> None:
    driver = make_driver(tmp_path)
    event = make_event(uid="same")
    assert write(driver, WriteOp("create", event=event))[0].ok
    (again,) = write(driver, WriteOp("create", event=event.replace(title="dup")))
    assert isinstance(again.error, PreconditionFailed)
    (tmp_path / "two.ics").write_bytes(event_to_ical([make_event(uid="x"), make_event(uid="y")]))
    changes = read(driver)
    assert changes["same.ics"].event is not None and changes["same.ics"].event.title == "Test event"
    assert "one event per file" in (changes["two.ics"].error or "")


def test_writes_keep_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    driver = make_driver(path)
    write(driver, WriteOp("create", event=make_event(uid="a")))
    path.chmod(0o640)
    write(driver, WriteOp("create", event=make_event(uid="b")))
    assert path.stat().st_mode & 0o777 == 0o640


def _age(path: Path, minutes: float) -> None:
    then = datetime.now().timestamp() - minutes * 60
    os.utime(path, (then, then))


FOLDER_KILLER = """
import os, sys, time
from pathlib import Path
from syncfw.sdk.driver import DriverContext, WriteOp
from syncfw.drivers.ics import IcsDriver, IcsOptions
from syncfw.testing import make_event

driver = IcsDriver(IcsOptions(path=Path(sys.argv[1])), DriverContext("k"))
events = [make_event(uid=f"e{i}", title="old") for i in range(3)]
list(driver.write([WriteOp("create", event=e) for e in events]))

def hang(fd):  # the temp file is written, not yet renamed
    print("killing me now", flush=True)
    time.sleep(60)

os.fsync = hang
updates = [WriteOp("update", key=f"{e.uid}.ics", event=e.replace(title="new")) for e in events]
list(driver.write(updates))
"""


def test_folder_mode_writes_remove_temp_files_a_killed_writer_left(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    args = [sys.executable, "-c", FOLDER_KILLER, str(folder)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "killing me now\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    (leftover,) = folder.glob(".*.tmp")
    assert leftover.name.startswith(".e0.ics.")
    young = folder / ".e1.ics.0123456789ab.tmp"  # another writer, mid-write
    young.write_bytes(b"partial")
    others = [folder / ".notes", folder / "keep.tmp", folder / ".x.ics.notrandom.tmp"]
    for path in others:
        path.write_bytes(b"not ours")
        _age(path, 60)
    _age(leftover, 11)
    _age(young, 9)
    driver = make_driver(folder)
    assert len(read(driver)) == 3, "temp files are never read as events"
    assert leftover.exists(), "reading removes nothing"

    (result,) = write(driver, WriteOp("create", event=make_event(uid="new")))
    assert result.ok
    assert not leftover.exists()
    assert young.exists() and all(p.exists() for p in others)
    _age(young, 11)
    write(driver, WriteOp("delete", key="new.ics"))
    assert not young.exists()
    assert sorted(p.name for p in folder.glob(".*")) == [".notes", ".x.ics.notrandom.tmp"]


@pytest.mark.parametrize("mode", ["file", "folder"])
def test_an_x_wr_timezone_calendar_reads_its_floating_times_in_that_zone(
    tmp_path: Path, mode: str
) -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-WR-TIMEZONE:Europe/Brussels\r\n"
        "BEGIN:VEVENT\r\nUID:match@example.com\r\nDTSTART:20310916T210000\r\n"
        "DTEND:20310916T224500\r\nSUMMARY:Match\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    path = tmp_path / "cal.ics" if mode == "file" else tmp_path / "cal"
    target = path if mode == "file" else path / "match.ics"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    window = fresh_window(datetime(2031, 9, 1, tzinfo=UTC))
    (change,) = make_driver(path).read(None, window)
    assert change.event is not None
    assert as_utc(change.event.start) == datetime(2031, 9, 16, 19, tzinfo=UTC)  # 21:00 CEST
