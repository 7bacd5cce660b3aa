"""What real-world calendar files say, read as they mean it (issue 10, one test per point).

Each case is the shape the corpus test (tests/test_corpus.py) found in icalendar's and
recurring-ical-events' test calendars, cut down to the lines that matter; every expected
instance list is what recurring-ical-events gives for the same text.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from syncfw import Engine, load_profile
from syncfw.core.recurrence import expand
from syncfw.drivers.ics import IcsDriver, IcsOptions
from syncfw.model import Event
from syncfw.sdk.driver import Driver, DriverContext
from syncfw.sdk.ical import event_to_ical, events_from_ical

BERLIN = ZoneInfo("Europe/Berlin")
SPAN = {"start": datetime(2020, 1, 1, tzinfo=UTC), "end": datetime(2031, 1, 1, tzinfo=UTC)}


def wrap(*vevents: str, head: str = "") -> str:
    body = "".join(vevents)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{head}{body}END:VCALENDAR\r\n"


def vevent(*lines: str) -> str:
    return "BEGIN:VEVENT\r\n" + "".join(f"{line}\r\n" for line in lines) + "END:VEVENT\r\n"


def one(data: str | bytes) -> Event:
    (event,) = events_from_ical(data)
    assert isinstance(event, Event), event
    return event


def instances(event: Event) -> list[tuple[datetime | date, datetime | date, str]]:
    return [(i.start, i.end, i.title) for _, i in expand("k", event, **SPAN)]


def reference(text: str) -> list[tuple[datetime | date, datetime | date, str]]:
    """recurring-ical-events' instances of the same text, as UTC instants or dates."""
    calendar = icalendar.Calendar.from_ical(text)
    found = recurring_ical_events.of(calendar).between(SPAN["start"], SPAN["end"])

    def moment(value: datetime | date) -> datetime | date:
        return value.astimezone(UTC) if isinstance(value, datetime) else value

    return sorted(
        (moment(e["DTSTART"].dt), moment(e["DTEND"].dt), str(e["SUMMARY"])) for e in found
    )


def utc(found: list[tuple[datetime | date, datetime | date, str]]) -> list[tuple]:
    return sorted(
        tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in row) for row in found
    )


def round_trip(event: Event) -> Event:
    return one(event_to_ical([event]))


def default_problem(event: Event) -> str | None:
    """What a driver that keeps the default :meth:`Driver.series_problem` says."""
    return Driver.series_problem(None, event)  # type: ignore[arg-type]  # self is not used


def ics(path: Path) -> IcsDriver:
    return IcsDriver(IcsOptions(path=path, create=False), DriverContext("files"))  # type: ignore[call-arg]


# ------------------------------------------------------------ 1. RDATE;VALUE=PERIOD

PERIODS = wrap(
    vevent(
        "UID:p",
        "SUMMARY:Period",
        "DTSTART:20260105T120000Z",
        "DTEND:20260105T140000Z",
        "RDATE;VALUE=PERIOD:20260110T120000Z/20260110T150000Z,20260120T090000Z/PT30M",
        "RDATE:20260125T120000Z",
    )
)


def test_an_rdate_period_keeps_its_own_end_when_expanded() -> None:
    event = one(PERIODS)
    hour = timedelta(hours=1)
    assert [(s, e - s) for s, e, _ in utc(instances(event))] == [
        (datetime(2026, 1, 5, 12, tzinfo=UTC), 2 * hour),
        (datetime(2026, 1, 10, 12, tzinfo=UTC), 3 * hour),  # 12:00-15:00, not 12:00-14:00
        (datetime(2026, 1, 20, 9, tzinfo=UTC), hour / 2),
        (datetime(2026, 1, 25, 12, tzinfo=UTC), 2 * hour),  # a plain RDATE: the series' length
    ]
    assert utc(instances(event)) == reference(PERIODS)


def test_an_rdate_period_is_written_back_as_a_period() -> None:
    event = one(PERIODS)
    written = event_to_ical([event]).decode()
    assert "RDATE;VALUE=PERIOD:20260110T120000Z/20260110T150000Z" in written
    assert "RECURRENCE-ID" not in written  # not an override the source never had
    back = one(written)
    assert back.content_hash() == event.content_hash()
    assert utc(instances(back)) == reference(PERIODS)


def test_a_date_period_in_a_timed_series_is_that_whole_day() -> None:
    text = wrap(
        vevent(
            "UID:d", "SUMMARY:D", "DTSTART:19970101T180000Z", "RDATE;VALUE=PERIOD:19970101/19970102"
        )
    )
    event = one(text)
    start, end = datetime(1997, 1, 1, tzinfo=UTC), datetime(1997, 1, 2, tzinfo=UTC)
    found = [(i.start, i.end) for _, i in expand("k", event, start=start, end=end)]
    assert (start, end) in found


# ------------------------------------------------------------ 2. RANGE=THISANDFUTURE

FUTURE = wrap(
    vevent(
        "UID:f",
        "SUMMARY:Original",
        "DTSTART:20260901T120000Z",
        "DTEND:20260901T140000Z",
        "RRULE:FREQ=DAILY;INTERVAL=2;COUNT=12",
    ),
    vevent(
        "UID:f",
        "RECURRENCE-ID;RANGE=THISANDFUTURE:20260907T120000Z",
        "SUMMARY:Moved on",
        "DTSTART:20260907T090000Z",
        "DTEND:20260907T160000Z",
    ),
    vevent(
        "UID:f",
        "RECURRENCE-ID:20260911T120000Z",
        "SUMMARY:Once",
        "DTSTART:20260911T170000Z",
        "DTEND:20260911T180000Z",
    ),
    vevent(
        "UID:f",
        "RECURRENCE-ID;RANGE=THISANDFUTURE:20260915T120000Z",
        "SUMMARY:Later",
        "DTSTART:20260916T120000Z",
        "DTEND:20260916T130000Z",
    ),
)


def test_thisandfuture_changes_that_instance_and_every_later_one() -> None:
    event = one(FUTURE)
    titles = [(s.day, t) for s, _, t in utc(instances(event))]
    assert titles == [
        (1, "Original"), (3, "Original"), (5, "Original"),
        (7, "Moved on"), (9, "Moved on"),  # -3 h, 7 h long
        (11, "Once"),  # a single override still wins for its instance
        (13, "Moved on"),
        (16, "Later"), (18, "Later"), (20, "Later"), (22, "Later"), (24, "Later"),  # +1 day
    ]  # fmt: skip
    assert utc(instances(event)) == reference(FUTURE)


def test_thisandfuture_is_written_back_and_counts_in_the_content_hash() -> None:
    event = one(FUTURE)
    assert "RECURRENCE-ID;RANGE=THISANDFUTURE:20260907T120000Z" in event_to_ical([event]).decode()
    assert round_trip(event).content_hash() == event.content_hash()
    single = event.replace(
        overrides=tuple(o.replace(this_and_future=False) for o in event.overrides)
    )
    assert single.content_hash() != event.content_hash()


def test_a_calendar_that_cannot_say_thisandfuture_gets_the_series_expanded() -> None:
    event = one(FUTURE)
    assert "THISANDFUTURE" in (default_problem(event) or "")  # Google, Outlook, jobcal
    assert ics(Path("x.ics")).series_problem(event) is None  # iCalendar can say it


# ------------------------------------------------------------ 3. zoned RECURRENCE-ID, DATE series

OUTLOOK_ALL_DAY = wrap(
    vevent(
        "UID:a",
        "SUMMARY:Weekly",
        "DTSTART;VALUE=DATE:20260105",
        "DTEND;VALUE=DATE:20260106",
        "RRULE:FREQ=WEEKLY;COUNT=4",
    ),
    vevent(
        "UID:a",
        "RECURRENCE-ID;TZID=Europe/London:20260112T000000",
        "SUMMARY:Moved",
        "DTSTART;VALUE=DATE:20260114",
        "DTEND;VALUE=DATE:20260115",
    ),
)


@pytest.mark.parametrize("written", [False, True], ids=["expand", "series"])
def test_a_zoned_recurrence_id_on_an_all_day_series_matches_its_instance(written: bool) -> None:
    event = one(OUTLOOK_ALL_DAY)
    if written:
        event = round_trip(event)
    assert [o.recurrence_id for o in event.overrides] == [date(2026, 1, 12)]
    assert [(s, t) for s, _, t in instances(event)] == [
        (date(2026, 1, 5), "Weekly"),
        (date(2026, 1, 14), "Moved"),  # not also on the 12th
        (date(2026, 1, 19), "Weekly"),
        (date(2026, 1, 26), "Weekly"),
    ]


# ------------------------------------------------------------ 4. a calendar's own VTIMEZONE

CUSTOM_ZONE = """BEGIN:VTIMEZONE\r
TZID:/Europe/CUSTOM\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""


def test_a_custom_vtimezone_becomes_its_iana_twin_and_keeps_the_wall_clock() -> None:
    text = wrap(
        vevent(
            "UID:c",
            "SUMMARY:Chat",
            "DTSTART;TZID=/Europe/CUSTOM:20261016T200000",
            "DTEND;TZID=/Europe/CUSTOM:20261016T210000",
            "RRULE:FREQ=WEEKLY;COUNT=4",
        ),
        head=CUSTOM_ZONE,
    )
    event = one(text)
    assert event.timezone is not None and event.timezone.startswith("Europe/")
    written = event_to_ical([event]).decode()
    assert f"DTSTART;TZID={event.timezone}:20261016T200000" in written  # not a UTC rule
    local = [s.astimezone(BERLIN).hour for s, _, _ in instances(round_trip(event))]
    assert local == [20, 20, 20, 20]  # across the change of 25 October
    assert utc(instances(round_trip(event))) == reference(text)


def test_a_zone_without_an_iana_twin_is_written_with_its_definition() -> None:
    zone = CUSTOM_ZONE.replace("/Europe/CUSTOM", "Mars/Olympus").replace("+0100", "+0115")
    text = wrap(
        vevent(
            "UID:m",
            "SUMMARY:Odd",
            "DTSTART;TZID=Mars/Olympus:20261016T200000",
            "DTEND;TZID=Mars/Olympus:20261016T210000",
            "RRULE:FREQ=WEEKLY;COUNT=4",
        ),
        head=zone,
    )
    event = one(text)
    assert event.timezone is None
    written = event_to_ical([event]).decode()
    assert "TZID:Mars/Olympus" in written and "DTSTART;TZID=Mars/Olympus:20261016T200000" in written
    assert utc(instances(one(written))) == reference(text) == utc(instances(event))
    assert "IANA" in (default_problem(event) or "")  # so Google, Outlook get instances


# ------------------------------------------------------------ 6. the smaller ones


def test_a_date_start_with_a_duration_of_hours_is_refused_with_the_reason() -> None:
    (problem,) = events_from_ical(
        wrap(vevent("UID:h", "SUMMARY:Ten hours", "DTSTART;VALUE=DATE:20260105", "DURATION:PT10H"))
    )
    assert not isinstance(problem, Event)
    assert "Ten hours" in str(problem) and "not whole days" in str(problem)
    assert one(wrap(vevent("UID:d", "DTSTART;VALUE=DATE:20260105", "DURATION:P2D"))).end == date(
        2026, 1, 7
    )


def test_an_instance_without_its_series_is_that_one_instance() -> None:
    text = wrap(
        vevent(
            "UID:o",
            "SUMMARY:Orphan",
            "RECURRENCE-ID;RANGE=THISANDFUTURE:20261101T150000Z",
            "DTSTART:20261101T160000Z",
            "DTEND:20261101T163000Z",
            "RDATE;VALUE=PERIOD:20261206T160000Z/20261206T163000Z",
        )
    )
    event = one(text)
    assert not event.recurring
    assert utc(instances(event)) == reference(text)


def test_an_override_of_no_instance_is_dropped_in_both_modes() -> None:
    text = wrap(
        vevent(
            "UID:s",
            "SUMMARY:Stray",
            "RECURRENCE-ID;VALUE=DATE:20260803",
            "DTSTART;VALUE=DATE:20260803",
            "DTEND;VALUE=DATE:20260804",
            "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        ),
        vevent(
            "UID:s",
            "SUMMARY:Series",
            "DTSTART;VALUE=DATE:20260706",
            "DTEND;VALUE=DATE:20260707",
            "RRULE:FREQ=WEEKLY;UNTIL=20260725;INTERVAL=2;BYDAY=MO",
        ),
    )
    event = one(text)
    assert event.overrides == ()
    assert [s for s, _, _ in instances(round_trip(event))] == [date(2026, 7, 6), date(2026, 7, 20)]
    # What is written reads the same elsewhere. (recurring-ical-events shows a stray
    # override of the source as one more instance unless it is older than its series, as in
    # its issue 253; syncfw drops it in both modes, so both show the same.)
    assert utc(instances(event)) == reference(event_to_ical([event]).decode())


def test_a_blank_line_inside_a_folded_property_is_skipped_as_icalendar_does(
    tmp_path: Path,
) -> None:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:shared\r\n\r\n -{n}\r\nSUMMARY:E{n}\r\nDTSTART:2026010{n}T100000Z\r\n"
        "END:VEVENT\r\n"
        for n in (1, 2)
    )
    source = tmp_path / "in.ics"
    source.write_text(wrap(events))
    report = sync(tmp_path, source, "expand")
    assert report.created == 2 and report.failed == 0, report
    assert {c.event.uid for c in ics(source).read(None, None) if c.event} == {
        "shared-1",
        "shared-2",
    }  # type: ignore[arg-type]


def test_instances_without_their_series_are_refused_alike_in_file_and_folder(
    tmp_path: Path,
) -> None:
    orphans = "".join(
        vevent("UID:lost", f"RECURRENCE-ID:2026010{n}T100000Z", f"DTSTART:2026010{n}T110000Z")
        for n in (1, 2)
    )
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "lost.ics").write_text(wrap(orphans))
    file = tmp_path / "file.ics"
    file.write_text(wrap(orphans + vevent("UID:fine", "DTSTART:20260103T100000Z")))
    messages = []
    for source in (folder, file):
        feed = ics(source).read(None, None)  # type: ignore[arg-type]
        messages += [c.error.split(": ", 1)[1] for c in feed if c.error]
    assert messages == ["event 'lost' has only overridden instances, not the series"] * 2


def test_a_byte_that_is_not_utf8_is_read_as_windows_1252_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "in.ics"
    text = wrap(vevent("UID:u", "SUMMARY:Caf\x00", "DTSTART:20260105T100000Z"))
    source.write_bytes(text.encode().replace(b"\x00", b"\xe9"))  # Latin-1/cp1252 "é"
    with caplog.at_level(logging.WARNING):
        report = sync(tmp_path, source, "expand")
    assert report.created == 1 and report.failed == 0
    assert f"{source}:6: not UTF-8 (byte 0xe9), read as Windows-1252" in caplog.text
    (event,) = events_from_ical((tmp_path / "out.ics").read_bytes())
    assert event.title == "Café"  # type: ignore[union-attr]


def sync(tmp_path: Path, source: Path, mode: str):  # type: ignore[no-untyped-def]
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "version: 1\ncalendars:\n"
        f"  src: {{driver: ics, path: '{source}', create: false}}\n"
        f"  dst: {{driver: ics, path: '{tmp_path / 'out.ics'}'}}\n"
        "pairs:\n  - {name: p, source: src, target: dst, "
        f"window: {{past_days: 400, future_days: 400}}, recurrence: {{mode: {mode}}}}}\n"
    )
    with Engine(load_profile(profile)) as engine:
        return engine.run().pairs[0]
