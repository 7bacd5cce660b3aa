"""Graph's dateTimeTimeZone values and zone names: Windows, IANA, UTC aliases, all-day dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from syncfw_outlook.zones import (
    format_date,
    format_datetime,
    graph_datetime,
    parse_date,
    parse_datetime,
    same_clock,
    zone_from_graph,
    zone_to_graph,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("W. Europe Standard Time", "Europe/Berlin"),  # CLDR's zone, not O365's last-wins "MET"
        ("Pacific Standard Time", "America/Los_Angeles"),  # O365's reverse map: US/Pacific-New
        ("Eastern Standard Time", "America/New_York"),
        ("GMT Standard Time", "Europe/London"),  # not UTC: it has summer time
        ("Greenwich Standard Time", "Atlantic/Reykjavik"),
        ("UTC-08", "Etc/GMT+8"),
        ("w. europe standard time", "Europe/Berlin"),
        ("UTC", "UTC"),
        ("tzone://Microsoft/Utc", "UTC"),
        ("Coordinated Universal Time", "UTC"),
        ("Europe/Berlin", "Europe/Berlin"),  # an IANA name from Graph's additional zones
        ("America/Santa_Isabel", "America/Santa_Isabel"),
    ],
)
def test_zone_from_graph_reads_windows_iana_and_utc_names(name: str, key: str) -> None:
    assert zone_from_graph(name).key == key


@pytest.mark.parametrize(
    "name", ["tzone://Microsoft/Custom", "Customized Time Zone", "Mars/Olympus"]
)
def test_an_unknown_zone_is_an_error_naming_it(name: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone") as info:
        zone_from_graph(name)
    assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    ("zone", "name"),
    [
        ("Europe/Berlin", "W. Europe Standard Time"),
        (ZoneInfo("Europe/Amsterdam"), "W. Europe Standard Time"),
        ("America/New_York", "Eastern Standard Time"),
        ("America/Whitehorse", "Yukon Standard Time"),  # CLDR's newer answer wins over O365's
        ("Etc/GMT+8", "UTC-08"),
        ("W. Europe standard time", "W. Europe Standard Time"),  # already Windows: canonical
        (ZoneInfo("UTC"), "UTC"),
        (UTC, "UTC"),
        (timezone(timedelta(hours=2)), "UTC"),  # a fixed offset has no Windows name
        (None, "UTC"),
        ("Nowhere/Special", "UTC"),
    ],
)
def test_zone_to_graph_names_the_windows_zone_or_utc(zone: object, name: str) -> None:
    assert zone_to_graph(zone) == name  # type: ignore[arg-type]


def test_every_windows_name_read_is_written_back_the_same() -> None:
    for name in ["W. Europe Standard Time", "Pacific Standard Time", "Tokyo Standard Time"]:
        assert zone_to_graph(zone_from_graph(name)) == name


def test_seven_fractional_digits_are_read() -> None:
    value = {"dateTime": "2026-12-01T09:00:00.1234567", "timeZone": "UTC"}
    assert parse_datetime(value) == datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
    moment = parse_datetime({"dateTime": "2026-12-01T09:00:00.0000000", "timeZone": "UTC"})
    assert moment == datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert moment.tzinfo == ZoneInfo("UTC")


def test_parse_datetime_is_wall_clock_in_the_named_zone() -> None:
    value = {"dateTime": "2026-07-01T09:00:00.0000000", "timeZone": "W. Europe Standard Time"}
    moment = parse_datetime(value)
    assert moment.tzinfo == BERLIN and moment.hour == 9
    assert moment.astimezone(UTC) == datetime(2026, 7, 1, 7, tzinfo=UTC)


def test_an_explicit_offset_in_the_text_wins() -> None:
    value = {"dateTime": "2026-07-01T09:00:00Z", "timeZone": "W. Europe Standard Time"}
    assert parse_datetime(value) == datetime(2026, 7, 1, 9, tzinfo=UTC)
    assert parse_datetime(value).tzinfo == BERLIN


@pytest.mark.parametrize(
    "value",
    [{"dateTime": "tomorrow", "timeZone": "UTC"}, {"timeZone": "UTC"}, {"dateTime": "x"}],
)
def test_unreadable_values_are_errors(value: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)


def test_format_datetime_writes_wall_clock_seconds() -> None:
    moment = datetime(2026, 12, 1, 8, 0, 30, 999, tzinfo=UTC)
    assert format_datetime(moment, "W. Europe Standard Time") == {
        "dateTime": "2026-12-01T09:00:30",
        "timeZone": "W. Europe Standard Time",
    }
    assert format_datetime(moment, "UTC")["dateTime"] == "2026-12-01T08:00:30"
    with pytest.raises(ValueError, match="no time zone"):
        format_datetime(datetime(2026, 12, 1, 9), "UTC")


@pytest.mark.parametrize(
    ("name", "days"),
    [("W. Europe Standard Time", (88, 300)), ("Eastern Standard Time", (66, 305))],
)
def test_format_parse_round_trip_across_dst(name: str, days: tuple[int, int]) -> None:
    zone = zone_from_graph(name)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minutes in range(0, 60 * 24 * 400, 30):  # every half hour through both changes
        moment = start + timedelta(minutes=minutes)
        value = format_datetime(moment, name)
        assert value["dateTime"] == f"{moment.astimezone(zone):%Y-%m-%dT%H:%M:%S}"
        # Exact in all but the doubled fall-back hour, which graph_datetime writes in UTC.
        assert parse_datetime(graph_datetime(moment, zone)).timestamp() == moment.timestamp()
    # The same wall clock on either side of a change is a different UTC time.
    winter, summer = (datetime(2026, 1, 1, 9, tzinfo=zone) + timedelta(days=d) for d in days)
    assert winter.utcoffset() != summer.utcoffset()


def test_graph_datetime_picks_the_windows_zone_or_utc() -> None:
    moment = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    assert graph_datetime(moment, "Europe/Berlin") == {
        "dateTime": "2026-12-01T09:00:00",
        "timeZone": "W. Europe Standard Time",
    }
    nuuk = datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("America/Nuuk"))
    assert graph_datetime(nuuk, "America/Nuuk") == {
        "dateTime": "2026-12-01T11:00:00",
        "timeZone": "UTC",
    }


def test_graph_datetime_writes_a_doubled_wall_clock_time_in_utc() -> None:
    # 02:30 happens twice on 2026-10-25 in Berlin; the second one cannot be named locally.
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)
    value = graph_datetime(second, BERLIN)
    assert value == {"dateTime": "2026-10-25T01:30:00", "timeZone": "UTC"}
    assert parse_datetime(value).timestamp() == second.timestamp()  # PEP 495: fold=1 != anything
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)
    assert graph_datetime(first, BERLIN)["timeZone"] == "W. Europe Standard Time"


def test_all_day_dates_are_midnight_in_their_zone() -> None:
    assert format_date(date(2026, 12, 24), "W. Europe Standard Time") == {
        "dateTime": "2026-12-24T00:00:00",
        "timeZone": "W. Europe Standard Time",
    }
    value = {"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert parse_date(value) == date(2026, 12, 24)
    assert parse_date(format_date(date(2026, 3, 29), "W. Europe Standard Time")) == date(
        2026, 3, 29
    )


def test_an_all_day_time_that_is_not_midnight_is_refused() -> None:
    with pytest.raises(ValueError, match="midnight"):
        parse_date({"dateTime": "2026-12-24T01:00:00.0000000", "timeZone": "UTC"})
    with pytest.raises(ValueError, match="not a date"):
        format_date(datetime(2026, 12, 24, tzinfo=UTC), "UTC")


def test_same_clock_tells_zones_apart_by_their_dst_rules() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert same_clock(BERLIN, ZoneInfo("Europe/Amsterdam"), start)
    assert not same_clock(BERLIN, ZoneInfo("UTC"), start)
    assert not same_clock(ZoneInfo("Europe/London"), ZoneInfo("Atlantic/Reykjavik"), start)
    assert same_clock(ZoneInfo("America/New_York"), ZoneInfo("America/Toronto"), start)
