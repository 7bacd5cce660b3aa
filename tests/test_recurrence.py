"""Expanding recurring series: rules, exceptions, time zones, identity, bounds."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncfw.core.recurrence import MAX_INSTANCES, MAX_SCANNED, expand, instance_key
from syncfw.model import Attendee, Event

BERLIN = ZoneInfo("Europe/Berlin")
YEAR_2025 = {"start": datetime(2025, 1, 1, tzinfo=UTC), "end": datetime(2026, 1, 1, tzinfo=UTC)}


def weekly(*rules: str, **changes: object) -> Event:
    """A Monday 09:00-10:00 Berlin meeting from 2025-01-06, with the given RRULE lines."""
    event = Event(
        uid="series-1",
        title="Planning",
        start=datetime(2025, 1, 6, 9, tzinfo=BERLIN),
        end=datetime(2025, 1, 6, 10, tzinfo=BERLIN),
        location="Room 4",
        attendees=(Attendee("ana@example.com", "Ana"),),
        rrule=rules,
    )
    return event.replace(**changes)


def starts(pairs: list[tuple[str, Event]]) -> list[datetime | date]:
    return [e.start for _, e in pairs]


def mondays(*days: int) -> list[datetime]:
    return [datetime(2025, 1, d, 9, tzinfo=BERLIN) for d in days]


# ---------------------------------------------------------------- basics


def test_a_single_event_comes_back_unchanged_wherever_it_lies() -> None:
    event = weekly()
    assert expand("K", event, **YEAR_2025) == [("K", event)]
    far = {"start": datetime(2030, 1, 1, tzinfo=UTC), "end": datetime(2030, 2, 1, tzinfo=UTC)}
    assert expand("K", event, **far) == [("K", event)]


def test_weekly_with_count() -> None:
    series = weekly("FREQ=WEEKLY;COUNT=4")
    pairs = expand("jobs/7", series, **YEAR_2025)

    assert starts(pairs) == mondays(6, 13, 20, 27)
    key, first = pairs[1]
    assert key == "jobs/7#20250113T080000Z" == instance_key("jobs/7", first.start)
    assert first.end == datetime(2025, 1, 13, 10, tzinfo=BERLIN)
    assert first.recurrence_id == first.start
    assert (first.rrule, first.rdates, first.exdates, first.overrides) == ((), (), (), ())
    assert (first.uid, first.title, first.location) == ("series-1", "Planning", "Room 4")
    assert first.attendees == series.attendees
    assert not first.recurring


def test_weekly_with_until_is_inclusive_in_every_form() -> None:
    for until in ("20250120T080000Z", "20250120", "20250120T090000"):
        pairs = expand("K", weekly(f"FREQ=WEEKLY;UNTIL={until}"), **YEAR_2025)
        assert starts(pairs) == mondays(6, 13, 20), until
    early = expand("K", weekly("FREQ=WEEKLY;UNTIL=20250120T075959Z"), **YEAR_2025)
    assert starts(early) == mondays(6, 13)


def test_a_date_until_of_a_series_in_utc_ends_before_that_day() -> None:
    # DTSTART in UTC with UNTIL as a DATE (converters write these): recurring-ical-events
    # and dateutil take UNTIL as the start of that day, so the 20th has no occurrence.
    start = datetime(2025, 1, 6, 8, tzinfo=UTC)
    utc = weekly("FREQ=WEEKLY;UNTIL=20250120").replace(
        start=start, end=start + timedelta(hours=1), timezone=None
    )
    assert starts(expand("K", utc, **YEAR_2025)) == [start, start + timedelta(days=7)]


def test_a_rule_without_end_stops_at_the_span_end() -> None:
    span = {"start": datetime(2025, 1, 1, tzinfo=UTC), "end": datetime(2025, 2, 1, tzinfo=UTC)}
    pairs = expand("K", weekly("FREQ=WEEKLY"), **span)
    assert starts(pairs) == mondays(6, 13, 20, 27)


def test_exdate_removes_and_rdate_adds_instances() -> None:
    series = weekly(
        "FREQ=WEEKLY;COUNT=4",
        exdates=(datetime(2025, 1, 13, 8, tzinfo=UTC),),  # the same instant as 09:00 Berlin
        rdates=(datetime(2025, 1, 15, 14, tzinfo=BERLIN),),
    )
    pairs = expand("K", series, **YEAR_2025)
    extra = datetime(2025, 1, 15, 14, tzinfo=BERLIN)
    assert starts(pairs) == [*mondays(6), extra, *mondays(20, 27)]
    assert pairs[1][1].end - pairs[1][1].start == timedelta(hours=1)  # the series' duration
    assert pairs[1][0] == "K#20250115T130000Z"


def test_several_rules_merge_without_duplicates() -> None:
    series = weekly("FREQ=WEEKLY;COUNT=3", "FREQ=WEEKLY;INTERVAL=2;COUNT=3")
    pairs = expand("K", series, **YEAR_2025)
    assert starts(pairs) == [*mondays(6, 13, 20), datetime(2025, 2, 3, 9, tzinfo=BERLIN)]
    assert len({k for k, _ in pairs}) == len(pairs)


# ---------------------------------------------------------------- overrides


def override(original_day: int, **changes: object) -> Event:
    original = datetime(2025, 1, original_day, 9, tzinfo=BERLIN)
    base = Event(
        uid="series-1",
        title="Planning (moved)",
        start=original,
        end=original + timedelta(hours=1),
        recurrence_id=original,
    )
    return base.replace(**changes)


def test_an_override_replaces_its_instance_and_keeps_its_key() -> None:
    moved = override(13, start=datetime(2025, 1, 14, 15, tzinfo=BERLIN),
                     end=datetime(2025, 1, 14, 16, tzinfo=BERLIN))  # fmt: skip
    pairs = expand("K", weekly("FREQ=WEEKLY;COUNT=3", overrides=(moved,)), **YEAR_2025)

    key, instance = pairs[1]
    assert key == "K#20250113T080000Z"  # the original start, not the new one
    assert instance.start == datetime(2025, 1, 14, 15, tzinfo=BERLIN)
    assert instance.title == "Planning (moved)"
    assert instance.recurrence_id == datetime(2025, 1, 13, 9, tzinfo=BERLIN)
    assert instance.uid == "series-1"
    assert instance.location == ""  # an override carries all its own fields


def test_an_override_moved_into_the_span_counts_and_one_moved_out_does_not() -> None:
    span = {"start": datetime(2025, 1, 10, tzinfo=UTC), "end": datetime(2025, 1, 25, tzinfo=UTC)}
    moved_in = override(6, start=datetime(2025, 1, 11, 9, tzinfo=BERLIN),
                        end=datetime(2025, 1, 11, 10, tzinfo=BERLIN))  # fmt: skip
    moved_out = override(20, start=datetime(2025, 2, 1, 9, tzinfo=BERLIN),
                         end=datetime(2025, 2, 1, 10, tzinfo=BERLIN))  # fmt: skip
    series = weekly("FREQ=WEEKLY;COUNT=5", overrides=(moved_in, moved_out))

    pairs = expand("K", series, **span)
    assert [k for k, _ in pairs] == ["K#20250106T080000Z", "K#20250113T080000Z"]
    assert pairs[0][1].start == datetime(2025, 1, 11, 9, tzinfo=BERLIN)


def test_a_cancelled_override_removes_its_instance() -> None:
    series = weekly("FREQ=WEEKLY;COUNT=3", overrides=(override(13, status="cancelled"),))
    assert starts(expand("K", series, **YEAR_2025)) == mondays(6, 20)


def test_an_override_of_an_instance_the_rule_does_not_have_is_ignored() -> None:
    stray = override(8)  # a Wednesday; the rule only has Mondays
    series = weekly("FREQ=WEEKLY;COUNT=2", overrides=(stray,))
    assert starts(expand("K", series, **YEAR_2025)) == mondays(6, 13)


# ---------------------------------------------------------------- time zones and dates


def test_a_berlin_meeting_stays_at_nine_local_across_the_dst_change() -> None:
    series = weekly("FREQ=WEEKLY", start=datetime(2025, 3, 17, 9, tzinfo=BERLIN),
                    end=datetime(2025, 3, 17, 10, tzinfo=BERLIN))  # fmt: skip
    span = {"start": datetime(2025, 3, 17, tzinfo=UTC), "end": datetime(2025, 4, 8, tzinfo=UTC)}
    pairs = expand("K", series, **span)

    assert [e.start.astimezone(BERLIN).hour for _, e in pairs] == [9, 9, 9, 9]
    assert [e.start.astimezone(UTC).hour for _, e in pairs] == [8, 8, 7, 7]
    assert [k[-7:] for k, _ in pairs] == ["080000Z", "080000Z", "070000Z", "070000Z"]
    assert all(e.end - e.start == timedelta(hours=1) for _, e in pairs)


def test_the_zone_comes_from_the_timezone_field_when_the_start_is_utc() -> None:
    series = weekly("FREQ=WEEKLY;COUNT=3", start=datetime(2025, 3, 24, 8, tzinfo=UTC),
                    end=datetime(2025, 3, 24, 9, tzinfo=UTC), timezone="Europe/Berlin")  # fmt: skip
    utc_hours = [e.start.astimezone(UTC).hour for _, e in expand("K", series, **YEAR_2025)]
    assert utc_hours == [8, 7, 7]
    without_zone = series.replace(timezone=None)
    utc_hours = [e.start.astimezone(UTC).hour for _, e in expand("K", without_zone, **YEAR_2025)]
    assert utc_hours == [8, 8, 8]


def test_a_time_skipped_by_dst_takes_the_offset_before_the_gap() -> None:
    series = weekly("FREQ=DAILY;COUNT=3", start=datetime(2025, 3, 29, 2, 30, tzinfo=BERLIN),
                    end=datetime(2025, 3, 29, 3, tzinfo=BERLIN))  # fmt: skip
    pairs = expand("K", series, **YEAR_2025)
    assert [k[-7:] for k, _ in pairs] == ["013000Z", "013000Z", "003000Z"]


def test_a_doubled_time_takes_the_first_of_the_two() -> None:
    series = weekly("FREQ=DAILY", start=datetime(2025, 10, 25, 2, 30, tzinfo=BERLIN),
                    end=datetime(2025, 10, 25, 2, 40, tzinfo=BERLIN))  # fmt: skip
    # The span ends at 02:10 of the second pass through 02:00-03:00 (CET), after the
    # instance at 02:30 of the first pass (CEST): the wall clock runs backwards here.
    span = {
        "start": datetime(2025, 10, 26, tzinfo=UTC),
        "end": datetime(2025, 10, 26, 1, 10, tzinfo=UTC),
    }
    assert [k for k, _ in expand("K", series, **span)] == ["K#20251026T003000Z"]


def test_all_day_yearly_and_monthly_series_expand_to_dates() -> None:
    birthday = Event(uid="b", title="Birthday", start=date(2020, 3, 15), end=date(2020, 3, 16),
                     rrule=("FREQ=YEARLY",))  # fmt: skip
    span = {"start": datetime(2024, 6, 1, tzinfo=UTC), "end": datetime(2027, 1, 1, tzinfo=UTC)}
    pairs = expand("K", birthday, **span)
    assert pairs == [
        ("K#20250315", birthday.replace(start=date(2025, 3, 15), end=date(2025, 3, 16),
                                        recurrence_id=date(2025, 3, 15), rrule=())),
        ("K#20260315", birthday.replace(start=date(2026, 3, 15), end=date(2026, 3, 16),
                                        recurrence_id=date(2026, 3, 15), rrule=())),
    ]  # fmt: skip

    month_end = Event(uid="m", title="Close books", start=date(2025, 1, 31), end=date(2025, 2, 1),
                      rrule=("FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20250731",),
                      exdates=(date(2025, 3, 31),))  # fmt: skip
    days = starts(expand("K", month_end, **YEAR_2025))
    assert days == [date(2025, 1, 31), date(2025, 5, 31), date(2025, 7, 31)]


def test_an_instance_that_started_before_the_span_but_ends_inside_counts() -> None:
    series = weekly("FREQ=DAILY;COUNT=3", end=datetime(2025, 1, 6, 21, tzinfo=BERLIN))
    inside = {
        "start": datetime(2025, 1, 7, 19, tzinfo=UTC),
        "end": datetime(2025, 1, 8, tzinfo=UTC),
    }
    assert [k for k, _ in expand("K", series, **inside)] == ["K#20250107T080000Z"]
    # An instance that ends exactly where the span starts does not.
    touching = {
        "start": datetime(2025, 1, 7, 20, tzinfo=UTC),
        "end": datetime(2025, 1, 8, tzinfo=UTC),
    }
    assert expand("K", series, **touching) == []


# ---------------------------------------------------------------- identity


def test_keys_survive_a_changed_title_and_a_moving_horizon() -> None:
    series = weekly("FREQ=WEEKLY")
    jan = {"start": datetime(2025, 1, 1, tzinfo=UTC), "end": datetime(2025, 2, 1, tzinfo=UTC)}
    before = expand("K", series, **jan)
    renamed = expand("K", series.replace(title="Planning v2"), **jan)
    assert [k for k, _ in renamed] == [k for k, _ in before]
    assert {e.title for _, e in renamed} == {"Planning v2"}

    later = {"start": datetime(2025, 1, 15, tzinfo=UTC), "end": datetime(2025, 2, 15, tzinfo=UTC)}
    moved = expand("K", series, **later)
    assert [k for k, _ in moved][:2] == [k for k, _ in before][2:]
    assert [k for k, _ in moved][2:] == ["K#20250203T080000Z", "K#20250210T080000Z"]


# ---------------------------------------------------------------- bad input and bounds


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=FORTNIGHTLY",
        "INTERVAL=2",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;COUNT=-1",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=DAILY;UNTIL=tomorrow",
        "FREQ=DAILY;FREQ=WEEKLY",
        "FREQ=DAILY;BYHOUR=25",
        "FREQ=DAILY\nRRULE:FREQ=WEEKLY",
        "not a rule",
    ],
)
def test_a_malformed_rule_raises_naming_the_event(rule: str) -> None:
    with pytest.raises(ValueError, match=r"'Planning' \(uid 'series-1'\).*") as info:
        expand("K", weekly(rule), **YEAR_2025)
    assert "invalid RRULE" in str(info.value) or "invalid UNTIL" in str(info.value)


def test_too_many_instances_raise_instead_of_flooding_the_target() -> None:
    with pytest.raises(ValueError, match=f"more than {MAX_INSTANCES} instances"):
        expand("K", weekly("FREQ=MINUTELY"), **YEAR_2025)


def test_a_count_rule_far_before_the_span_is_bounded() -> None:
    series = weekly("FREQ=MINUTELY;COUNT=100000000", start=datetime(2024, 1, 1, tzinfo=UTC),
                    end=datetime(2024, 1, 1, 0, 1, tzinfo=UTC))  # fmt: skip
    with pytest.raises(ValueError, match=f"more than {MAX_SCANNED} occurrences"):
        expand("K", series, **YEAR_2025)


def test_a_rule_that_never_fires_leaves_only_dtstart_and_is_quick() -> None:
    series = weekly("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
    began = time.perf_counter()
    assert starts(expand("K", series, **YEAR_2025)) == mondays(6)
    assert time.perf_counter() - began < 2


def test_an_unknown_time_zone_raises_naming_the_event() -> None:
    with pytest.raises(ValueError, match=r"'Planning'.*unknown time zone 'Mars/Olympus'"):
        expand("K", weekly("FREQ=DAILY", timezone="Mars/Olympus"), **YEAR_2025)


def test_a_year_of_a_daily_series_expands_fast() -> None:
    series = weekly("FREQ=DAILY", start=datetime(2015, 1, 1, 9, tzinfo=BERLIN),
                    end=datetime(2015, 1, 1, 10, tzinfo=BERLIN))  # fmt: skip
    expand("K", series, **YEAR_2025)  # warm-up: imports, zone data
    began = time.perf_counter()
    assert len(expand("K", series, **YEAR_2025)) == 365
    assert time.perf_counter() - began < 0.05  # ~5 ms here; generous for slow CI machines


# ---------------------------------------------------------------- property


def _hours(hours: int) -> datetime:
    return datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=hours)


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from(["DAILY", "WEEKLY"]),
    interval=st.integers(1, 3),
    limit=st.sampled_from(["", ";COUNT=7", ";COUNT=40", ";UNTIL=20250401T000000Z"]),
    byday=st.sampled_from(["", ";BYDAY=MO", ";BYDAY=TU,FR,SU"]),
    zone=st.sampled_from([BERLIN, UTC, ZoneInfo("America/New_York")]),
    first_hour=st.integers(0, 24 * 90),
    minutes=st.integers(0, 60 * 30),
    cuts=st.lists(st.integers(0, 24 * 200), min_size=3, max_size=3, unique=True),
)
def test_expansion_is_consistent_across_split_spans(
    freq: str,
    interval: int,
    limit: str,
    byday: str,
    zone: ZoneInfo,
    first_hour: int,
    minutes: int,
    cuts: list[int],
) -> None:
    first = _hours(first_hour).astimezone(zone).replace(minute=15)
    series = Event(uid="p", title="P", start=first, end=first + timedelta(minutes=minutes),
                   rrule=(f"FREQ={freq};INTERVAL={interval}{limit}{byday}",))  # fmt: skip
    a, b, c = (_hours(h) for h in sorted(cuts))

    whole = dict(expand("K", series, start=a, end=c))
    left = dict(expand("K", series, start=a, end=b))
    right = dict(expand("K", series, start=b, end=c))

    assert len(whole) == len(expand("K", series, start=a, end=c))  # keys are unique
    for key, instance in whole.items():
        s, e = instance.start, instance.end
        assert isinstance(s, datetime) and isinstance(e, datetime)
        assert (s < c and e > a) or (s == e and a <= s < c)
        assert key == instance_key("K", instance.recurrence_id)
        # Wall-clock time of the zone stays; a time skipped by DST takes the offset before it.
        wall = datetime.combine(s.astimezone(zone).date(), first.time()).replace(tzinfo=zone)
        assert s.astimezone(UTC) == wall.astimezone(UTC)
    assert whole == left | right
    for key in left.keys() & right.keys():  # only instances running across b are in both
        assert whole[key].start < b < whole[key].end
