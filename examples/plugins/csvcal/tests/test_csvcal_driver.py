"""The csvcal driver on files people edit, and in a sync: registered by SYNCFW_PLUGINS."""

from __future__ import annotations

import csv
import textwrap
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import syncfw
from syncfw.drivers.memory import MemoryStore
from syncfw.errors import CursorExpired
from syncfw.model import Attendee, as_utc
from syncfw.runtime.state import State
from syncfw.sdk import Driver, DriverContext, WriteOp
from syncfw.testing import fresh_window, make_event
from syncfw_csvcal import CsvDriver, CsvOptions, plugin

HERE = Path(__file__).resolve().parents[1]


def make_driver(path: Path) -> CsvDriver:
    return CsvDriver(CsvOptions(path=path), DriverContext("csv", base_dir=path.parent))


def test_the_entry_point_registers_the_driver() -> None:
    project = tomllib.loads((HERE / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["syncfw"] == {"csvcal": "syncfw_csvcal.plugin"}
    found: list[type[Driver]] = []
    plugin.syncfw_register_drivers(register=found.append)
    assert found == [CsvDriver] and CsvDriver.name == "csvcal"
    assert (HERE / "src" / "syncfw_csvcal" / "py.typed").is_file()


def test_a_file_written_by_hand_is_read_and_its_bad_rows_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "cal.csv"
    rows = [
        "uid,start,end,title,room,attendees,all_day",  # another order, one column of its own
        'a,2026-03-01T09:00:00+01:00[Europe/Berlin],2026-03-01T09:00:00Z,"Stand-up, daily",'
        '3.14,"Ada <ada@example.com> (accepted, optional); bob@example.com",false',
        "b,2026-03-02,2026-03-03,Holiday,,,true",
        "c,2026-03-02T09:00:00,2026-03-02T10:00:00,No offset,,,false",
        ",2026-03-02,2026-03-03,No uid,,,true",
        "a,2026-03-02,2026-03-03,The uid again,,,true",
    ]
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode())
    driver = make_driver(path)
    changes = {c.key: c for c in driver.read(None, fresh_window())}
    assert sorted(changes) == ["a", "b", "c", "row 4", "row 5"]
    a, b = changes["a"].event, changes["b"].event
    assert a is not None and b is not None
    assert a.start == datetime(2026, 3, 1, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert a.timezone == "Europe/Berlin" and as_utc(a.end) - as_utc(a.start) == timedelta(hours=1)
    assert a.title == "Stand-up, daily"
    assert a.attendees == (
        Attendee("ada@example.com", "Ada", response="accepted", optional=True),
        Attendee("bob@example.com"),
    )
    assert (b.start, b.end, b.all_day) == (date(2026, 3, 2), date(2026, 3, 3), True)
    assert "no UTC offset" in (changes["c"].error or "")
    assert "no uid" in (changes["row 4"].error or "") and changes["row 5"].error

    event = make_event(title="Added")
    (result,) = driver.write([WriteOp("create", event=event)])
    assert result.ok
    with path.open(newline="", encoding="utf-8") as file:
        written = list(csv.DictReader(file))
    assert [r["uid"] for r in written] == ["a", "b", "c", "", "a", event.uid]
    assert written[0]["room"] == "3.14", "a column of the user's own is kept"
    assert driver.read(None, fresh_window())  # and still reads


def test_a_cursor_that_is_no_snapshot_expires(tmp_path: Path) -> None:
    with pytest.raises(CursorExpired, match="'csv'"):
        make_driver(tmp_path / "cal.csv").read("not-a-cursor", fresh_window())


def test_a_series_is_refused_with_a_reason(tmp_path: Path) -> None:
    series = make_event(rrule=("FREQ=DAILY;COUNT=3",))
    (result,) = make_driver(tmp_path / "cal.csv").write([WriteOp("create", event=series)])
    assert result.error is not None and "recurring series" in str(result.error)
    assert not (tmp_path / "cal.csv").exists(), "nothing written, no empty file"


def test_syncfw_plugins_names_the_plugin_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCFW_PLUGINS", "syncfw_csvcal.plugin")
    assert syncfw.Plugins(autoload=False).drivers()["csvcal"].cls is CsvDriver


def test_a_sync_writes_the_file_and_a_quiet_run_reads_nothing_back(
    tmp_path: Path, memory_store: MemoryStore
) -> None:
    # Entry points off: where syncfw-csvcal is installed, it would be registered twice.
    plugins = syncfw.Plugins(autoload=False, extra=[plugin])
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        textwrap.dedent(
            f"""
            version: 1
            calendars:
              jobs: {{driver: memory, name: {memory_store.name}}}
              sheet: {{driver: csvcal, path: out/calendar.csv}}
            pairs:
              - {{name: push, source: jobs, target: sheet}}
            """
        )
    )
    for i in range(3):
        memory_store.put(make_event(title=f"Job {i}"))
    first = syncfw.run(profile, plugins=plugins)
    assert (first.exit_code, first.pairs[0].created) == (0, 3)
    path = tmp_path / "out" / "calendar.csv"  # relative to the profile's folder
    with path.open(newline="", encoding="utf-8") as file:
        assert sorted(row["title"] for row in csv.DictReader(file)) == ["Job 0", "Job 1", "Job 2"]
    loaded = syncfw.load_profile(profile, plugins)
    with State(loaded.state_path) as state:
        cursor, _ = state.cursor("push", "sheet")
    assert cursor is not None, "settled past the run's own writes"
    assert list(make_driver(path).read(cursor, fresh_window())) == []
    again = syncfw.run(profile, plugins=plugins)
    assert (again.pairs[0].created, again.pairs[0].updated, again.pairs[0].unchanged) == (0, 0, 3)
