"""Event <-> iCalendar: round trips, time zones, all-day, attendees, and what cannot be read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from syncfw.model import Attendee, Event, as_utc
from syncfw.sdk.ical import (
    PRODID,
    ParseProblem,
    event_to_components,
    event_to_ical,
    events_from_ical,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(day: int, hour: int, tz: ZoneInfo | timezone = BERLIN) -> datetime:
    return datetime(2030, 1, day, hour, tzinfo=tz)


def series() -> Event:
    start = at(7, 10)
    moved = Event(
        uid="series-1",
        title="Moved",
        start=at(21, 14),
        end=at(21, 15),
        recurrence_id=at(21, 10),
        location="Elsewhere",
    )
    return Event(
        uid="series-1",
        title="Weekly sync, team; all\\hands",
        description="Line one\nLine two",
        location="Room 1",
        start=start,
        end=start + timedelta(hours=1),
        status="tentative",
        transparency="transparent",
        visibility="confidential",
        categories=("appointment", "a,b"),
        organizer=Attendee("boss@example.com", "The Boss"),
        attendees=(
            Attendee("ada@example.com", "Ada", "individual", "accepted"),
            Attendee("bob@example.com", "Bob", "individual", "declined", optional=True),
            Attendee("room@example.com", "Room 1", "room", "tentative"),
            Attendee("beamer@example.com", "", "resource"),
            Attendee("team@example.com", "Team", "group"),
        ),
        rrule=("FREQ=WEEKLY;BYDAY=MO;COUNT=6",),
        rdates=(at(30, 10),),
        exdates=(at(14, 10),),
        overrides=(moved,),
    )


def one(data: bytes | str) -> Event:
    (event,) = events_from_ical(data)
    assert isinstance(event, Event), event
    return event


def wrap(*vevents: str) -> str:
    body = "".join(vevents)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{body}END:VCALENDAR\r\n"


def vevent(*lines: str) -> str:
    return "BEGIN:VEVENT\r\n" + "".join(f"{line}\r\n" for line in lines) + "END:VEVENT\r\n"


def test_round_trip_keeps_content_hash_overrides_and_responses() -> None:
    original = series()
    read = one(event_to_ical([original]))
    assert read == original.replace(timezone="Europe/Berlin", overrides=read.overrides)
    assert read.content_hash() == original.content_hash()
    assert [a.response for a in read.attendees] == [a.response for a in original.attendees]
    (override,) = read.overrides
    assert override.uid == "series-1" and override.recurrence_id == at(21, 10)
    assert (override.title, override.location, override.start) == ("Moved", "Elsewhere", at(21, 14))


def test_components_master_first_then_overrides() -> None:
    master, override = event_to_components(series())
    assert "RECURRENCE-ID" not in master and "DTSTAMP" in master
    assert override["UID"] == "series-1" and "RECURRENCE-ID" in override
    assert override.get("RRULE") is None


def test_calendar_has_prodid_version_and_the_timezones_used() -> None:
    ny = Event(uid="ny", title="NY", start=at(2, 9, NEW_YORK), end=at(2, 10, NEW_YORK))
    calendar = icalendar.Calendar.from_ical(event_to_ical([series(), ny]))
    assert str(calendar["PRODID"]) == PRODID and str(calendar["VERSION"]) == "2.0"
    tzids = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert tzids == {"Europe/Berlin", "America/New_York"}


def test_tzid_comes_from_the_timezone_field_or_a_zoneinfo() -> None:
    utc_start = datetime(2030, 6, 1, 8, tzinfo=UTC)
    by_field = Event(
        uid="f",
        title="",
        start=utc_start,
        end=utc_start + timedelta(hours=1),
        timezone="Asia/Tokyo",
    )
    text = event_to_ical([by_field]).decode()
    assert "DTSTART;TZID=Asia/Tokyo:20300601T170000" in text
    read = one(text)
    assert read.timezone == "Asia/Tokyo" and read.start == utc_start

    fixed = timezone(timedelta(hours=2))
    offset = Event(uid="o", title="", start=at(3, 12, fixed), end=at(3, 13, fixed))
    text = event_to_ical([offset]).decode()
    assert "DTSTART:20300103T100000Z" in text, "a bare offset is written in UTC"
    assert one(text).timezone is None and as_utc(one(text).start) == as_utc(offset.start)


def test_unknown_timezone_name_cannot_be_written() -> None:
    event = Event(uid="x", title="", start=at(1, 1), end=at(1, 2), timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        event_to_components(event)


def test_all_day_is_written_as_date_and_read_back_as_date() -> None:
    day = date(2030, 5, 1)
    event = Event(uid="d", title="Holiday", start=day, end=day + timedelta(days=2))
    text = event_to_ical([event]).decode()
    assert "DTSTART;VALUE=DATE:20300501" in text and "DTEND;VALUE=DATE:20300503" in text
    read = one(text)
    assert (read.start, read.end, read.all_day) == (day, day + timedelta(days=2), True)


def test_dtend_may_be_a_duration_or_missing() -> None:
    read = one(wrap(vevent("UID:a", "DTSTART:20300101T100000Z", "DURATION:PT90M")))
    assert read.end - read.start == timedelta(minutes=90)  # type: ignore[operator]
    read = one(wrap(vevent("UID:b", "DTSTART;VALUE=DATE:20300101")))
    assert read.end == date(2030, 1, 2), "a date without DTEND lasts the day"
    read = one(wrap(vevent("UID:c", "DTSTART:20300101T100000Z")))
    assert read.end == read.start


def test_floating_time_is_read_as_utc() -> None:
    read = one(wrap(vevent("UID:f", "DTSTART:20300101T100000", "DTEND:20300101T110000")))
    assert read.start == datetime(2030, 1, 1, 10, tzinfo=UTC)


def test_dst_change_keeps_the_instant() -> None:
    start, end = (
        datetime(2030, 3, 31, 1, 30, tzinfo=BERLIN),
        datetime(2030, 3, 31, 3, 30, tzinfo=BERLIN),
    )
    read = one(event_to_ical([Event(uid="dst", title="", start=start, end=end)]))
    assert as_utc(read.end) - as_utc(read.start) == timedelta(hours=1)


def test_rrule_text_is_kept_in_its_own_order() -> None:
    event = Event(
        uid="r",
        title="",
        start=at(1, 9),
        end=at(1, 10),
        rrule=("BYDAY=MO,WE;FREQ=WEEKLY;INTERVAL=2",),
    )
    assert one(event_to_ical([event])).rrule == ("BYDAY=MO,WE;FREQ=WEEKLY;INTERVAL=2",)
    with pytest.raises(ValueError, match="RRULE"):
        event_to_components(event.replace(rrule=("FREQ=SOMETIMES",)))


def test_attendee_details_are_read() -> None:
    read = one(
        wrap(
            vevent(
                "UID:att",
                "DTSTART:20300101T100000Z",
                "ORGANIZER;CN=Org:MAILTO:org@example.com",
                'ATTENDEE;CN="Doe, Jane";CUTYPE=ROOM;PARTSTAT=ACCEPTED:MAILTO:room@example.com',
                "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=DELEGATED;CUTYPE=X-ROBOT:mailto:x@example.com",
                "CLASS:X-SECRET",
                "STATUS:CANCELLED",
                "CATEGORIES:one,two\\,three",
                "CATEGORIES:four",
            )
        )
    )
    assert read.organizer == Attendee("org@example.com", "Org")
    assert read.attendees == (
        Attendee("room@example.com", "Doe, Jane", "room", "accepted"),
        Attendee("x@example.com", "", "individual", "needs-action", optional=True),
    )
    assert (read.visibility, read.status) == ("private", "cancelled")
    assert read.categories == ("one", "two,three", "four")


def test_overrides_join_their_master_whatever_the_order() -> None:
    data = wrap(
        vevent("UID:s", "RECURRENCE-ID:20300115T100000Z", "DTSTART:20300115T120000Z", "SUMMARY:B"),
        vevent("UID:other", "DTSTART:20300101T100000Z", "SUMMARY:Other"),
        vevent("UID:s", "DTSTART:20300101T100000Z", "RRULE:FREQ=WEEKLY", "SUMMARY:Series"),
        vevent("UID:s", "RECURRENCE-ID:20300108T100000Z", "DTSTART:20300108T110000Z", "SUMMARY:A"),
    )
    found = events_from_ical(data)
    assert [e.uid for e in found] == ["s", "other"]
    master = found[0]
    assert isinstance(master, Event) and master.title == "Series"
    assert [o.title for o in master.overrides] == ["A", "B"], "sorted by recurrence id"


def test_instances_without_their_master_are_events_of_their_own() -> None:
    data = wrap(vevent("UID:s", "RECURRENCE-ID:20300108T100000Z", "DTSTART:20300108T110000Z"))
    read = one(data)
    assert read.recurrence_id == datetime(2030, 1, 8, 10, tzinfo=UTC)


def test_bad_vevents_become_problems_and_the_others_still_parse() -> None:
    data = wrap(
        vevent("UID:good-1", "SUMMARY:Good", "DTSTART:20300101T100000Z"),
        vevent("UID:no-start", "SUMMARY:No start"),
        vevent("UID:bad-date", "SUMMARY:Bad date", "DTSTART:2030-01-01 10:00"),
        vevent(
            "UID:backwards",
            "SUMMARY:Backwards",
            "DTSTART:20300102T100000Z",
            "DTEND:20300101T100000Z",
        ),
        vevent("UID:mixed", "DTSTART;VALUE=DATE:20300101", "DTEND:20300102T100000Z"),
        vevent("UID:nowhere", "DTSTART;TZID=Nowhere/Land:20300101T100000"),
        vevent("UID:junk", "DTSTART:20300101T100000Z", "this line is junk"),
        vevent("SUMMARY:No uid", "DTSTART:20300101T100000Z"),
        vevent("UID:twice", "DTSTART:20300101T100000Z"),
        vevent("UID:twice", "DTSTART:20300102T100000Z"),
        vevent("UID:good-2", "SUMMARY:Also good", "DTSTART:20300101T100000Z"),
    )
    found = events_from_ical(data)
    events = [e.uid for e in found if isinstance(e, Event)]
    problems = {p.uid: p for p in found if isinstance(p, ParseProblem)}
    assert events == ["good-1", "good-2"]
    assert set(problems) == {
        "no-start", "bad-date", "backwards", "mixed", "nowhere", "junk", None, "twice"
    }  # fmt: skip
    assert problems["no-start"].title == "No start" and "DTSTART" in problems["no-start"].message
    assert "ends before it starts" in problems["backwards"].message
    assert "Nowhere/Land" in problems["nowhere"].message
    assert "no UID" in problems[None].message and problems[None].title == "No uid"
    assert str(problems["bad-date"]).startswith("'Bad date' (uid 'bad-date'): ")


@pytest.mark.parametrize(
    "data",
    ["", "just some text", "BEGIN:VCARD\r\nFN:Someone\r\nEND:VCARD\r\n", "BEGIN:VCALENDAR\r\n"],
)
def test_a_document_that_is_not_icalendar_raises(data: str) -> None:
    with pytest.raises(ValueError, match="not an iCalendar document"):
        events_from_ical(data)


def test_an_empty_calendar_has_no_events() -> None:
    assert events_from_ical(event_to_ical([])) == []


GOOGLE_EXPORT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
X-WR-CALNAME:Shop
X-WR-TIMEZONE:{zone}
BEGIN:VEVENT
UID:floating@example.com
DTSTART:20310303T090000
DTEND:20310303T100000
SUMMARY:Floating, in the calendar's zone
END:VEVENT
BEGIN:VEVENT
UID:utc@example.com
DTSTART:20310303T090000Z
DTEND:20310303T100000Z
SUMMARY:In UTC
END:VEVENT
END:VCALENDAR
"""


def test_floating_times_of_an_x_wr_timezone_calendar_are_in_that_zone() -> None:
    events = {e.uid: e for e in events_from_ical(GOOGLE_EXPORT.format(zone="Europe/Berlin"))}
    floating, utc = events["floating@example.com"], events["utc@example.com"]
    assert isinstance(floating, Event) and isinstance(utc, Event)
    assert as_utc(floating.start) == datetime(2031, 3, 3, 8, tzinfo=UTC)  # 09:00 in Berlin
    assert as_utc(utc.start) == datetime(2031, 3, 3, 9, tzinfo=UTC)  # the same instant


def test_an_unknown_x_wr_timezone_leaves_the_times_as_written() -> None:
    events = {e.uid: e for e in events_from_ical(GOOGLE_EXPORT.format(zone="Mars/Olympus"))}
    floating = events["floating@example.com"]
    assert isinstance(floating, Event)
    assert as_utc(floating.start) == datetime(2031, 3, 3, 9, tzinfo=UTC)


def test_an_empty_rrule_line_is_a_single_event() -> None:
    text = GOOGLE_EXPORT.format(zone="UTC").replace(
        "DTEND:20310303T100000Z\n", "DTEND:20310303T100000Z\nRRULE:\n"
    )
    events = {e.uid: e for e in events_from_ical(text)}
    event = events["utc@example.com"]
    assert isinstance(event, Event) and event.rrule == () and not event.recurring


def test_written_vtimezones_cover_the_events_own_dates() -> None:
    far = Event(
        uid="far@example.com",
        title="In 2040",
        start=datetime(2040, 7, 2, 9, tzinfo=BERLIN),
        end=datetime(2040, 7, 2, 10, tzinfo=BERLIN),
        timezone="Europe/Berlin",
    )
    calendar = icalendar.Calendar.from_ical(event_to_ical([far]))
    (zone,) = calendar.walk("VTIMEZONE")
    # A parser that uses only the embedded zone must still see the 2040 change to summer
    # time (icalendar's default definition stops in 2038).
    (summer,) = zone.walk("DAYLIGHT")
    rdates = summer["RDATE"] if isinstance(summer["RDATE"], list) else [summer["RDATE"]]
    changes = {d.dt.date() for rdate in rdates for d in rdate.dts}
    assert date(2040, 3, 25) in changes
