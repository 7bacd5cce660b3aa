"""RRULE <-> Graph patternedRecurrence: round trips, Graph's meaning, and what cannot map.

Two checks per rule: the rule read back from Graph has the same instances as the
original (both expanded by syncfw), and the Graph recurrence, expanded here as
Graph's reference pages describe it (:func:`graph_starts`), has them too; the
second catches a mapping that is wrong the same way in both directions.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from syncfw.core.recurrence import expand
from syncfw.model import Event, as_utc
from syncfw_outlook.recurrence import Inexpressible, from_graph, to_graph
from syncfw_outlook.zones import zone_from_graph

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEST = "W. Europe Standard Time"
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
YEARS = 6  # how far the instance lists are compared


def rfc_starts(rrule: str, start: datetime | date, years: int = YEARS) -> list[datetime | date]:
    """The series' instance starts as syncfw expands them (RFC 5545), for ``years``."""
    timed = isinstance(start, datetime)
    end = start + (timedelta(hours=1) if timed else timedelta(days=1))
    zone = getattr(start, "tzinfo", None) if timed else None
    event = Event(
        uid="s",
        title="t",
        start=start,
        end=end,
        rrule=(rrule,),
        timezone=getattr(zone, "key", None),
    )
    first = datetime.combine(start if not timed else start.date(), time(), tzinfo=UTC)  # type: ignore[arg-type]
    span = {"start": first - timedelta(days=2), "end": first + timedelta(days=366 * years)}
    return [e.start for _, e in expand("k", event, **span)]


def graph_starts(
    recurrence: dict[str, Any], start: datetime | date, years: int = YEARS
) -> list[datetime | date]:
    """Graph's occurrences per its reference pages: every date from range.startDate that
    fits the pattern (interval counted from startDate's day, week, month or year), up to
    endDate inclusive or numberOfOccurrences, at the start's wall clock in recurrenceTimeZone."""
    p, r = recurrence["pattern"], recurrence["range"]
    first = date.fromisoformat(r["startDate"])
    last = first + timedelta(days=366 * years)
    if r["type"] == "endDate":
        last = min(last, date.fromisoformat(r["endDate"]))
    count = r["numberOfOccurrences"] if r["type"] == "numbered" else None
    days = {DAYS.index(d) for d in p.get("daysOfWeek", [])}
    interval, kind = p["interval"], p["type"]

    def fits(d: date) -> bool:
        if kind == "daily":
            return (d - first).days % interval == 0
        if kind == "weekly":
            week0 = first - timedelta(days=(first.weekday() - DAYS.index(p["firstDayOfWeek"])) % 7)
            return d.weekday() in days and ((d - week0).days // 7) % interval == 0
        months = (d.year - first.year) * 12 + d.month - first.month
        if kind.endswith("Monthly") and months % interval:
            return False
        if kind.endswith("Yearly") and ((d.year - first.year) % interval or d.month != p["month"]):
            return False
        length = calendar.monthrange(d.year, d.month)[1]
        if kind.startswith("absolute"):  # past the month's end: its last day (EWS DayOfMonth)
            return d.day == min(p["dayOfMonth"], length)
        matching = [n for n in range(1, length + 1) if date(d.year, d.month, n).weekday() in days]
        index = INDEX[p.get("index", "first")]
        return d.day == matching[index - 1 if index > 0 else -1]

    found: list[date] = []
    day = first
    while day <= last and (count is None or len(found) < count):
        if fits(day):
            found.append(day)
        day += timedelta(days=1)
    if not isinstance(start, datetime):
        return list(found)
    zone = zone_from_graph(r["recurrenceTimeZone"])
    clock = start.astimezone(zone).time().replace(tzinfo=None)
    return [datetime.combine(d, clock, tzinfo=zone) for d in found]


def utc(values: list[datetime | date], years: int = YEARS) -> list[datetime | date]:
    """The values in UTC, those of the first ``years`` years only (each expander above
    looks a few days further, so that both lists end at the same point)."""
    if not values:
        return []
    cutoff = as_utc(values[0]) + timedelta(days=365 * years)
    return [
        v.astimezone(UTC) if isinstance(v, datetime) else v for v in values if as_utc(v) < cutoff
    ]


PATTERN_KEYS = {
    "daily": {"type", "interval"},
    "weekly": {"type", "interval", "daysOfWeek", "firstDayOfWeek"},
    "absoluteMonthly": {"type", "interval", "dayOfMonth"},
    "relativeMonthly": {"type", "interval", "daysOfWeek", "index"},
    "absoluteYearly": {"type", "interval", "dayOfMonth", "month"},
    "relativeYearly": {"type", "interval", "daysOfWeek", "month", "index"},
}
RANGE_KEYS = {
    "noEnd": {"type", "startDate", "recurrenceTimeZone"},
    "endDate": {"type", "startDate", "endDate", "recurrenceTimeZone"},
    "numbered": {"type", "startDate", "numberOfOccurrences", "recurrenceTimeZone"},
}


def assert_graph_shape(recurrence: dict[str, Any]) -> None:
    """The documented properties for each type, only those, with their documented types."""
    assert set(recurrence) == {"pattern", "range"}
    p, r = recurrence["pattern"], recurrence["range"]
    assert set(p) == PATTERN_KEYS[p["type"]]
    assert set(r) == RANGE_KEYS[r["type"]]
    assert type(p["interval"]) is int and p["interval"] >= 1
    if "daysOfWeek" in p:
        assert p["daysOfWeek"] and all(d in DAYS for d in p["daysOfWeek"])
    assert p.get("firstDayOfWeek", "sunday") in DAYS
    assert p.get("index", "first") in INDEX
    assert type(p.get("dayOfMonth", 1)) is int and 1 <= p.get("dayOfMonth", 1) <= 31
    assert type(p.get("month", 1)) is int and 1 <= p.get("month", 1) <= 12
    date.fromisoformat(r["startDate"])
    if "endDate" in r:
        assert date.fromisoformat(r["endDate"]) >= date.fromisoformat(r["startDate"])
    assert type(r.get("numberOfOccurrences", 1)) is int and r.get("numberOfOccurrences", 1) >= 1
    assert isinstance(r["recurrenceTimeZone"], str)


def round_trip(rrule: str, start: datetime | date, zone_name: str = WEST) -> tuple[dict, str]:
    """to_graph, from_graph, and every check that both mean what ``rrule`` means."""
    recurrence = to_graph(rrule, start, zone_name)
    assert_graph_shape(recurrence)
    back = from_graph(recurrence, start)
    original = utc(rfc_starts(rrule, start))
    assert original[0] == utc([start])[0], "DTSTART is the first instance"
    assert original, rrule
    assert utc(rfc_starts(back, start)) == original, (rrule, back)
    assert utc(graph_starts(recurrence, start)) == original, (rrule, recurrence)
    assert to_graph(back, start, zone_name) == recurrence  # stable: reads write back the same
    assert from_graph(recurrence, start, written=rrule) == rrule
    return recurrence, back


# ------------------------------------------------ six patterns x three ranges

PATTERNS = {  # RRULE, a fitting DTSTART in Berlin, the Graph pattern type
    "daily": ("FREQ=DAILY;INTERVAL=3", datetime(2026, 3, 20, 9, tzinfo=BERLIN)),
    "weekly": (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,SU;WKST=SU",
        datetime(2026, 3, 16, 9, tzinfo=BERLIN),
    ),
    "absoluteMonthly": (
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15",
        datetime(2026, 1, 15, 18, 30, tzinfo=BERLIN),
    ),
    "relativeMonthly": (
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR",
        datetime(2026, 1, 30, 9, tzinfo=BERLIN),
    ),
    "absoluteYearly": (
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYMONTHDAY=29",  # 29 March: a DST change in Berlin
        datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN),  # ...at a time that does not exist
    ),
    "relativeYearly": (
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=11;BYDAY=4TH",
        datetime(2026, 11, 26, 12, tzinfo=BERLIN),
    ),
}
RANGES = {"noEnd": "", "numbered": ";COUNT=3", "endDate": ";UNTIL=20300101T000000Z"}


@pytest.mark.parametrize("range_type", RANGES)
@pytest.mark.parametrize("kind", PATTERNS)
def test_every_pattern_and_range_round_trips(kind: str, range_type: str) -> None:
    rrule, start = PATTERNS[kind]
    recurrence, _ = round_trip(rrule + RANGES[range_type], start)
    assert recurrence["pattern"]["type"] == kind
    assert recurrence["range"]["type"] == range_type
    assert recurrence["pattern"]["interval"] > 1
    assert recurrence["range"]["startDate"] == start.date().isoformat()
    assert recurrence["range"]["recurrenceTimeZone"] == WEST


def test_the_graph_values_of_each_pattern() -> None:
    def pattern(kind: str) -> dict[str, Any]:
        rrule, start = PATTERNS[kind]
        return dict(to_graph(rrule, start, WEST)["pattern"])

    assert pattern("daily") == {"type": "daily", "interval": 3}
    assert pattern("weekly") == {
        "type": "weekly",
        "interval": 2,
        "daysOfWeek": ["monday", "wednesday", "sunday"],
        "firstDayOfWeek": "sunday",
    }
    assert pattern("absoluteMonthly") == {
        "type": "absoluteMonthly",
        "interval": 2,
        "dayOfMonth": 15,
    }
    assert pattern("relativeMonthly") == {
        "type": "relativeMonthly",
        "interval": 3,
        "daysOfWeek": ["friday"],
        "index": "last",
    }
    assert pattern("absoluteYearly") == {
        "type": "absoluteYearly",
        "interval": 2,
        "dayOfMonth": 29,
        "month": 3,
    }
    assert pattern("relativeYearly") == {
        "type": "relativeYearly",
        "interval": 2,
        "daysOfWeek": ["thursday"],
        "month": 11,
        "index": "fourth",
    }


@pytest.mark.parametrize(
    ("rrule", "start"),
    [
        ("FREQ=DAILY", datetime(2026, 1, 5, 9, tzinfo=BERLIN)),
        ("FREQ=WEEKLY", datetime(2026, 1, 5, 9, tzinfo=BERLIN)),  # BYDAY from DTSTART
        ("FREQ=MONTHLY", datetime(2026, 1, 5, 9, tzinfo=BERLIN)),  # BYMONTHDAY from DTSTART
        ("FREQ=YEARLY", datetime(2026, 1, 5, 9, tzinfo=BERLIN)),  # month and day from DTSTART
        ("FREQ=YEARLY;BYMONTH=1", datetime(2026, 1, 5, 9, tzinfo=BERLIN)),
        ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", datetime(2026, 1, 5, 9, tzinfo=BERLIN)),
        ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2", datetime(2026, 1, 13, 9, tzinfo=BERLIN)),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", datetime(2026, 1, 30, 9, tzinfo=BERLIN)),
        ("FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=2", datetime(2026, 1, 4, 9, tzinfo=BERLIN)),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1", datetime(2026, 2, 2, 9, tzinfo=BERLIN)),
        ("FREQ=YEARLY;BYMONTH=5;BYDAY=MO,TU;BYSETPOS=3", datetime(2026, 5, 11, 9, tzinfo=BERLIN)),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", datetime(2026, 1, 31, 9, tzinfo=BERLIN)),
        ("FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1", datetime(2026, 1, 30, 9, tzinfo=BERLIN)),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1", datetime(2028, 2, 29, 9, tzinfo=BERLIN)),
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31;COUNT=4", datetime(2026, 12, 31, 9, tzinfo=BERLIN)),
        ("FREQ=WEEKLY;INTERVAL=3;BYDAY=SA;COUNT=10", datetime(2026, 1, 3, 9, tzinfo=BERLIN)),
        ("RRULE:FREQ=WEEKLY;X-NAME=1;BYDAY=MO", datetime(2026, 1, 5, 9, tzinfo=BERLIN)),
    ],
)
def test_more_forms_round_trip(rrule: str, start: datetime) -> None:
    round_trip(rrule, start)


def test_several_days_at_a_position_are_one_day_a_month() -> None:
    # "The second weekend day": BYDAY=SA,SU;BYSETPOS=2, one date a month (MS-OXOCAL MonthNth).
    start = datetime(2026, 1, 4, 9, tzinfo=BERLIN)  # Jan: Sat 3, Sun 4; Feb and Mar: Sun 1, Sat 7
    recurrence = to_graph("FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=2", start, WEST)
    assert recurrence["pattern"]["daysOfWeek"] == ["saturday", "sunday"]
    assert recurrence["pattern"]["index"] == "second"
    dates = [d.date() for d in rfc_starts("FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=2", start, 1)]
    assert dates[:3] == [date(2026, 1, 4), date(2026, 2, 7), date(2026, 3, 7)]


def test_last_day_of_the_month_forms() -> None:
    start = datetime(2026, 1, 31, 9, tzinfo=BERLIN)
    recurrence = to_graph("FREQ=MONTHLY;BYMONTHDAY=-1", start, WEST)
    assert recurrence["pattern"]["dayOfMonth"] == 31  # Outlook: the last day of shorter months
    assert from_graph(recurrence, start) == "FREQ=MONTHLY;BYMONTHDAY=-1"
    thirtieth = {
        "pattern": {**recurrence["pattern"], "dayOfMonth": 30},
        "range": {**recurrence["range"], "startDate": "2026-01-30"},
    }
    start30 = datetime(2026, 1, 30, 9, tzinfo=BERLIN)
    assert from_graph(thirtieth, start30) == "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1"
    feb = datetime(2028, 2, 29, 9, tzinfo=BERLIN)
    leap = {
        "pattern": {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 29, "month": 2},
        "range": {"type": "noEnd", "startDate": "2028-02-29", "recurrenceTimeZone": WEST},
    }
    rule = from_graph(leap, feb)
    assert rule == "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1"
    leap_days = [d.date() for d in rfc_starts(rule, feb, 4)]  # type: ignore[union-attr]
    assert leap_days[:5] == [date(2028 + n, 2, 29 if n in (0, 4) else 28) for n in range(5)]


# ------------------------------------------------ week start, DST, all-day, UNTIL


def test_wkst_is_first_day_of_week() -> None:
    start = datetime(2026, 1, 4, 9, tzinfo=BERLIN)  # a Sunday
    monday = to_graph("FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO", start, WEST)
    sunday = to_graph("FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=SU", start, WEST)
    assert monday["pattern"]["firstDayOfWeek"] == "monday"  # RFC 5545's default
    assert sunday["pattern"]["firstDayOfWeek"] == "sunday"
    # With an interval and two days the week start moves dates: both must come through.
    assert rfc_starts("FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO", start) != rfc_starts(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=SU", start
    )
    assert from_graph(monday, start) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU"
    assert from_graph(sunday, start) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=SU"
    round_trip("FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO", start)
    round_trip("FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=SU", start)


def test_a_missing_first_day_of_week_is_graphs_default_sunday() -> None:
    start = datetime(2026, 1, 4, 9, tzinfo=BERLIN)
    recurrence = {
        "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["sunday", "monday"]},
        "range": {"type": "noEnd", "startDate": "2026-01-04"},
    }
    assert from_graph(recurrence, start) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=SU"


@pytest.mark.parametrize(("zone", "name"), [(BERLIN, WEST), (NEW_YORK, "Eastern Standard Time")])
def test_a_weekly_series_keeps_its_wall_clock_across_dst(zone: ZoneInfo, name: str) -> None:
    start = datetime(2026, 2, 2, 9, tzinfo=zone)
    recurrence, _ = round_trip("FREQ=WEEKLY;BYDAY=MO;COUNT=40", start, name)
    instances = graph_starts(recurrence, start)
    assert len(instances) == 40
    assert {i.astimezone(zone).time() for i in instances} == {time(9)}  # type: ignore[union-attr]
    assert len({i.astimezone(UTC).time() for i in instances}) == 2  # type: ignore[union-attr]


def test_all_day_series() -> None:
    start = date(2026, 12, 24)
    recurrence, back = round_trip("FREQ=YEARLY;UNTIL=20301224", start, "UTC")
    assert recurrence["range"]["endDate"] == "2030-12-24"
    assert back == "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24;UNTIL=20301224"
    round_trip("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH,FR;COUNT=9", date(2026, 12, 24), "UTC")
    round_trip("FREQ=MONTHLY;BYDAY=-1TH", date(2026, 12, 31), WEST)
    # An instant UNTIL of an all-day series counts in the series' zone: 23:30 UTC is the
    # next day in Berlin.
    late = to_graph("FREQ=DAILY;UNTIL=20261230T233000Z", start, WEST)
    assert late["range"]["endDate"] == "2026-12-31"


@pytest.mark.parametrize(
    ("until", "end_date"),
    [
        ("20261208T080000Z", "2026-12-08"),  # exactly the 09:00 Berlin instance: inclusive
        ("20261208T075959Z", "2026-12-01"),  # a second earlier than that day's start time
        ("20261208T085959", "2026-12-01"),  # floating: Berlin wall clock, before 09:00
        ("20261208T090000", "2026-12-08"),
        ("20261208", "2026-12-08"),  # a DATE: the whole day counts
        ("20261210T000000Z", "2026-12-08"),  # between occurrences: the last one before
        ("20261201T080000Z", "2026-12-01"),  # only the first instance
    ],
)
def test_until_becomes_the_last_date_it_allows(until: str, end_date: str) -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=BERLIN)  # a Tuesday
    recurrence, _ = round_trip(f"FREQ=WEEKLY;BYDAY=TU;UNTIL={until}", start)
    assert recurrence["range"]["endDate"] == end_date


def test_a_date_until_of_a_utc_series_keeps_only_the_start_of_that_day() -> None:
    # As syncfw's expansion and recurring-ical-events read it (issue 10): no 00:30 instance
    # on the UNTIL day itself, and Outlook's endDate is the day before.
    start = datetime(2024, 1, 1, 0, 30, tzinfo=UTC)  # a Monday
    recurrence, _ = round_trip("FREQ=WEEKLY;BYDAY=MO,TU;WKST=MO;UNTIL=20240102", start, "UTC")
    assert recurrence["range"]["endDate"] == "2024-01-01"
    midnight = datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    recurrence, _ = round_trip("FREQ=DAILY;UNTIL=20240103", midnight, "UTC")
    assert recurrence["range"]["endDate"] == "2024-01-03"  # 00:00 on that day is inside


def test_end_date_reads_as_the_end_of_that_day_in_the_series_zone() -> None:
    start = datetime(2026, 7, 7, 9, tzinfo=BERLIN)
    recurrence = to_graph("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260721T070000Z", start, WEST)
    assert recurrence["range"]["endDate"] == "2026-07-21"
    assert from_graph(recurrence, start) == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260721T215959Z"


def test_an_until_before_the_start_is_inexpressible() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    with pytest.raises(Inexpressible, match="UNTIL is before its start"):
        to_graph("FREQ=DAILY;UNTIL=20261201T075959Z", start, WEST)


# ------------------------------------------------ what Graph cannot hold

MONDAY = datetime(2026, 1, 5, 9, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("rrule", "start", "message"),
    [
        ("FREQ=HOURLY", MONDAY, "FREQ=HOURLY"),
        ("FREQ=MINUTELY;INTERVAL=15", MONDAY, "FREQ=MINUTELY"),
        ("FREQ=SECONDLY", MONDAY, "FREQ=SECONDLY"),
        ("FREQ=DAILY;BYHOUR=9,17", MONDAY, "BYHOUR"),
        ("FREQ=DAILY;BYMINUTE=0,30", MONDAY, "BYMINUTE"),
        ("FREQ=DAILY;BYSECOND=0", MONDAY, "BYSECOND"),
        ("FREQ=YEARLY;BYWEEKNO=2", MONDAY, "BYWEEKNO"),
        ("FREQ=YEARLY;BYYEARDAY=5", MONDAY, "BYYEARDAY"),
        ("FREQ=YEARLY;RSCALE=HEBREW", MONDAY, "RSCALE"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1,-1", MONDAY, "BYSETPOS with several values"),
        ("FREQ=MONTHLY;BYDAY=1MO;BYSETPOS=1", MONDAY, "BYSETPOS with numbered weekdays"),
        ("FREQ=MONTHLY;BYMONTHDAY=5,6;BYSETPOS=1", MONDAY, "BYSETPOS with BYMONTHDAY"),
        ("FREQ=MONTHLY;BYMONTHDAY=5,19", MONDAY, "several BYMONTHDAY values"),
        ("FREQ=MONTHLY;BYMONTHDAY=-2", MONDAY, "BYMONTHDAY=-2"),
        ("FREQ=MONTHLY;BYMONTHDAY=31", datetime(2026, 1, 31, 9, tzinfo=BERLIN), "day 31"),
        ("FREQ=MONTHLY", datetime(2026, 1, 30, 9, tzinfo=BERLIN), "day 30"),
        ("FREQ=YEARLY", datetime(2028, 2, 29, 9, tzinfo=BERLIN), "day 29 of February"),
        ("FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31", MONDAY, "April has no day 31"),
        ("FREQ=YEARLY;BYMONTH=1,7", MONDAY, "several BYMONTH values"),
        ("FREQ=MONTHLY;BYMONTH=1,7", MONDAY, "BYMONTH in a monthly rule"),
        ("FREQ=WEEKLY;BYMONTH=1", MONDAY, "BYMONTH in a weekly rule"),
        ("FREQ=DAILY;BYMONTHDAY=5", MONDAY, "BYMONTHDAY in a daily rule"),
        ("FREQ=YEARLY;BYDAY=1MO", MONDAY, "no BYMONTH"),
        ("FREQ=WEEKLY;BYDAY=2TU", MONDAY, "numbered weekday (like 2TU) in a weekly rule"),
        ("FREQ=DAILY;INTERVAL=2;BYDAY=MO,TU", MONDAY, "FREQ=DAILY with BYDAY and an INTERVAL"),
        ("FREQ=MONTHLY;BYDAY=5MO", datetime(2026, 3, 30, 9, tzinfo=BERLIN), "fifth weekday"),
        ("FREQ=MONTHLY;BYDAY=-2MO", MONDAY, "position -2"),
        ("FREQ=MONTHLY;BYDAY=MO", MONDAY, "every such weekday of the month"),
        ("FREQ=MONTHLY;BYDAY=1MO,3MO", MONDAY, "several numbered weekdays"),
        ("FREQ=MONTHLY;BYDAY=2TH,2FR", MONDAY, "several numbered weekdays"),
        ("FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=5", MONDAY, "BYDAY together with BYMONTHDAY"),
        ("FREQ=WEEKLY;BYDAY=TU", MONDAY, "not one of the rule's dates"),  # DTSTART is extra
        ("FREQ=MONTHLY;BYDAY=2MO", MONDAY, "not one of the rule's dates"),
    ],
)
def test_inexpressible_rules_say_why(rrule: str, start: datetime, message: str) -> None:
    with pytest.raises(Inexpressible) as info:
        to_graph(rrule, start, WEST)
    assert message in str(info.value)


def test_a_zone_without_an_outlook_clock_is_inexpressible() -> None:
    # No Windows name: the driver writes "UTC", where a series would move at DST.
    with pytest.raises(Inexpressible, match="no Outlook equivalent"):
        to_graph("FREQ=WEEKLY", datetime(2026, 1, 5, 9, tzinfo=BERLIN), "UTC")
    # ...while a start merely given in another zone with the same clock is fine.
    amsterdam = datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert to_graph("FREQ=WEEKLY", amsterdam, WEST)["pattern"]["daysOfWeek"] == ["monday"]


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=FORTNIGHTLY",
        "BYDAY=MO",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;COUNT=2;UNTIL=20270101",
        "FREQ=DAILY;INTERVAL=x",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=DAILY;UNTIL=2027",
        "FREQ=DAILY;FREQ=DAILY",
        "FREQ=WEEKLY;WKST=XY",
        "FREQ=MONTHLY;BYMONTHDAY=32",
        "FREQ=DAILY;=1",
    ],
)
def test_malformed_rules_are_plain_value_errors(rrule: str) -> None:
    with pytest.raises(ValueError) as info:
        to_graph(rrule, MONDAY, WEST)
    assert not isinstance(info.value, Inexpressible)


# ------------------------------------------------ reading what Graph sends


def graph_response(**pattern: Any) -> dict[str, Any]:
    """A recurrence as Graph returns it: every property present, unused ones zeroed."""
    return {
        "pattern": {
            "type": "weekly",
            "interval": 1,
            "month": 0,
            "dayOfMonth": 0,
            "daysOfWeek": ["monday"],
            "firstDayOfWeek": "monday",
            "index": "first",
            **pattern,
        },
        "range": {
            "type": "noEnd",
            "startDate": "2026-01-05",
            "endDate": "0001-01-01",
            "recurrenceTimeZone": WEST,
            "numberOfOccurrences": 0,
        },
    }


def test_a_full_graph_response_reads_by_its_type() -> None:
    assert from_graph(graph_response(), MONDAY) == "FREQ=WEEKLY;BYDAY=MO"
    assert from_graph(graph_response(type="daily", interval=2), MONDAY) == "FREQ=DAILY;INTERVAL=2"
    monthly = graph_response(type="absoluteMonthly", dayOfMonth=5)
    assert from_graph(monthly, MONDAY) == "FREQ=MONTHLY;BYMONTHDAY=5"
    relative = graph_response(type="relativeYearly", month=1, index="first")
    assert from_graph(relative, MONDAY) == "FREQ=YEARLY;BYMONTH=1;BYDAY=1MO"


def test_a_start_in_utc_is_read_in_the_recurrence_zone() -> None:
    # 00:30 Berlin on a Tuesday is still Monday in UTC: the pattern's dates are Berlin's.
    start = datetime(2026, 1, 6, 0, 30, tzinfo=BERLIN)
    recurrence = to_graph("FREQ=WEEKLY;BYDAY=TU;COUNT=3", start, WEST)
    assert from_graph(recurrence, start.astimezone(ZoneInfo("Europe/Paris"))).endswith("COUNT=3")
    with pytest.raises(ValueError, match="read the start in the series' own zone"):
        from_graph(recurrence, start.astimezone(ZoneInfo("UTC")))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pattern": {"type": "hourly", "interval": 1}}, "unknown recurrence pattern type"),
        ({"pattern": {"type": "weekly", "interval": 1}}, "without daysOfWeek"),
        ({"pattern": {"type": "daily"}}, "interval"),
        ({"pattern": {"type": "daily", "interval": True}}, "interval"),
        ({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["funday"]}}, "funday"),
        ({"pattern": {"type": "absoluteMonthly", "interval": 1}}, "dayOfMonth"),
        ({"pattern": {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 5}}, "month"),
        (
            {
                "pattern": {
                    "type": "relativeMonthly",
                    "interval": 1,
                    "daysOfWeek": ["monday"],
                    "index": "fifth",
                }
            },
            "index",
        ),
        ({"range": {"type": "sometimes", "startDate": "2026-01-05"}}, "range type"),
        ({"range": {"type": "noEnd"}}, "startDate"),
        ({"range": {"type": "endDate", "startDate": "2026-01-05"}}, "endDate"),
        (
            {"range": {"type": "endDate", "startDate": "2026-01-05", "endDate": "2025-01-01"}},
            "before it starts",
        ),
        (
            {"range": {"type": "numbered", "startDate": "2026-01-05", "numberOfOccurrences": 0}},
            "numberOfOccurrences",
        ),
        (
            {
                "range": {
                    "type": "noEnd",
                    "startDate": "2026-01-05",
                    "recurrenceTimeZone": "tzone://Microsoft/Custom",
                }
            },
            "unknown time zone",
        ),
        ({"range": {"type": "noEnd", "startDate": "2026-01-06"}}, "after its event"),
        ({"range": {"type": "noEnd", "startDate": "2025-12-29"}}, "before its event"),
        ({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]}}, "skips"),
        ({"pattern": None}, "without pattern and range"),
    ],
)
def test_unreadable_recurrences_are_value_errors(change: dict[str, Any], message: str) -> None:
    recurrence = {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "noEnd", "startDate": "2026-01-05"},
        **change,
    }
    with pytest.raises(ValueError, match=message):
        from_graph(recurrence, MONDAY)


def test_the_written_rule_comes_back_verbatim_while_it_means_the_same() -> None:
    written = "FREQ=WEEKLY;UNTIL=20270101T000000Z;BYDAY=MO"  # another order, another UNTIL
    recurrence = to_graph(written, MONDAY, WEST)
    assert from_graph(recurrence, MONDAY) == "FREQ=WEEKLY;BYDAY=MO;UNTIL=20261228T225959Z"
    assert from_graph(recurrence, MONDAY, written=written) == written
    # Outlook may answer with its own week start; for one day a week it moves nothing.
    sunday_week = {**recurrence, "pattern": {**recurrence["pattern"], "firstDayOfWeek": "sunday"}}
    assert from_graph(sunday_week, MONDAY, written=written) == written
    # Edited in Outlook: the written rule no longer applies.
    edited = {**recurrence, "range": {**recurrence["range"], "endDate": "2027-06-28"}}
    assert (
        from_graph(edited, MONDAY, written=written) == "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270628T215959Z"
    )
    assert from_graph(recurrence, MONDAY, written="FREQ=HOURLY") != "FREQ=HOURLY"
    assert from_graph(recurrence, MONDAY, written="garbage") != "garbage"


# ------------------------------------------------ property: random expressible rules


@st.composite
def expressible(draw: st.DrawFn) -> tuple[str, datetime | date]:
    """A random rule Graph can hold, with a DTSTART that fits it."""
    all_day = draw(st.booleans())
    day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)))
    start: datetime | date = day
    if not all_day:
        zone = draw(st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("UTC")]))
        start = datetime.combine(
            day,
            draw(st.sampled_from([time(0, 30), time(2, 30), time(9), time(23, 45)])),
            tzinfo=zone,
        )
    weekday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day.weekday()]
    length = calendar.monthrange(day.year, day.month)[1]
    kind = draw(st.sampled_from(list(PATTERN_KEYS)))
    interval = draw(st.integers(1, 4))
    freq = next(f for f in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY") if kind.upper().endswith(f))
    parts = [f"FREQ={freq}"]
    if interval > 1 or draw(st.booleans()):
        parts.append(f"INTERVAL={interval}")
    if kind.endswith("Yearly"):
        parts.append(f"BYMONTH={day.month}")
    if kind == "weekly":
        others = draw(st.sets(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])))
        parts.append("BYDAY=" + ",".join(sorted({weekday, *others})))
        parts.append("WKST=" + draw(st.sampled_from(["MO", "SU", "WE"])))
    elif kind.startswith("absolute"):
        # Days only some months (years) have map as "the last day": -1.
        shortest = 28 if kind == "absoluteMonthly" or day.month == 2 else length
        assume(day.day <= shortest or day.day == length)
        last = day.day == length and draw(st.booleans())
        parts.append(f"BYMONTHDAY={-1 if day.day > shortest or last else day.day}")
    elif kind.startswith("relative"):
        names = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        chosen = sorted({weekday, *draw(st.sets(st.sampled_from(names), max_size=3))})
        matching = [
            n
            for n in range(1, length + 1)
            if names[date(day.year, day.month, n).weekday()] in chosen
        ]
        position = matching.index(day.day) + 1
        index = -1 if day.day == matching[-1] else position
        assume(index in (1, 2, 3, 4, -1))
        if len(chosen) == 1 and draw(st.booleans()):
            parts.append(f"BYDAY={index}{weekday}")
        else:
            parts.append(f"BYDAY={','.join(chosen)};BYSETPOS={index}")
    end = draw(st.sampled_from(["none", "count", "until"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 12 if 'Yearly' in kind else 40))}")
    elif end == "until":
        until = datetime.combine(day, time(), tzinfo=UTC) + timedelta(
            minutes=draw(st.integers(0, 60 * 24 * 365 * (4 if "Yearly" in kind else 2)))
        )
        stamp = f"{until:%Y%m%d}" if all_day or draw(st.booleans()) else f"{until:%Y%m%dT%H%M%SZ}"
        assume(stamp[:8] >= f"{day:%Y%m%d}")
        parts.append(f"UNTIL={stamp}")
    return ";".join(parts), start


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(expressible())
def test_random_expressible_rules_keep_their_instances(case: tuple[str, datetime | date]) -> None:
    rrule, start = case
    name = (
        "UTC"
        if not isinstance(start, datetime)
        else {"Europe/Berlin": WEST, "America/New_York": "Eastern Standard Time", "UTC": "UTC"}[
            start.tzinfo.key
        ]
    )  # type: ignore[union-attr]
    try:
        round_trip(rrule, start, name)
    except Inexpressible as exc:  # only an UNTIL before the start time of the first day
        assert "UNTIL is before its start" in str(exc), (rrule, start)
