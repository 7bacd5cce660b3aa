"""Series through the driver and the Graph emulator: the emulator's own expansion of what the
driver wrote is the reference for what Outlook shows.

- all 6 Graph pattern types x 3 range types, written by syncfw: Outlook's occurrences are
  syncfw's instances, and the series reads back as written;
- the same series made by a person in Outlook: syncfw reads the pattern into an RRULE whose
  instances are Outlook's occurrences;
- a series with a moved and a cancelled occurrence, both ways;
- a weekly series across the spring and autumn DST changes in Europe/Berlin;
- rules Graph has no pattern for: refused up front (the engine expands them instead).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from _outlook_support import outlook_driver
from graph_emulator import GraphEmulator

from syncfw import Engine, load_profile
from syncfw.core.recurrence import expand
from syncfw.drivers.memory import MemoryStore
from syncfw.model import Event, Window
from syncfw.sdk.driver import WriteOp
from syncfw_outlook import OutlookDriver
from syncfw_outlook.recurrence import to_graph
from syncfw_outlook.zones import parse_datetime

BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = Window(datetime(2031, 1, 1, tzinfo=UTC), datetime(2034, 1, 1, tzinfo=UTC))

#: (pattern type, rule without a range, a first start that fits the rule)
PATTERNS = [
    ("daily", "FREQ=DAILY;INTERVAL=3", datetime(2031, 3, 3, 9, tzinfo=BERLIN)),
    ("weekly", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", datetime(2031, 3, 3, 9, tzinfo=BERLIN)),
    ("absoluteMonthly", "FREQ=MONTHLY;BYMONTHDAY=15", datetime(2031, 3, 15, 9, tzinfo=BERLIN)),
    ("relativeMonthly", "FREQ=MONTHLY;BYDAY=2TU", datetime(2031, 3, 11, 9, tzinfo=BERLIN)),
    (
        "absoluteYearly",
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=20",
        datetime(2031, 3, 20, 9, tzinfo=BERLIN),
    ),
    (
        "relativeYearly",
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
        datetime(2031, 11, 27, 9, tzinfo=BERLIN),
    ),
]
RANGES = [
    ("numbered", ";COUNT=5"),
    ("endDate", ";UNTIL=20331231T225959Z"),
    ("noEnd", ""),
]


@pytest.fixture
def driver(graph_emulator: GraphEmulator) -> Iterator[OutlookDriver]:
    calendar = graph_emulator.add_calendar("Series")
    with outlook_driver(graph_emulator, calendar.id) as driver:
        yield driver


def series(rule: str, start: datetime, **fields: Any) -> Event:
    return Event(
        uid=f"syncfw-series-{abs(hash((rule, start)))}@syncfw.test",
        title="Series",
        start=start,
        end=start + timedelta(hours=1),
        timezone="Europe/Berlin",
        rrule=(rule,),
        **fields,
    )


def create(driver: OutlookDriver, event: Event) -> str:
    (result,) = driver.write([WriteOp("create", event=event)])
    assert result.ok, result.error
    return str(result.key)


def outlook_starts(emulator: GraphEmulator, key: str) -> list[datetime]:
    """Where Outlook shows the series (its own expansion), in UTC, in order."""
    found = emulator.instances(key, WINDOW.start, WINDOW.end)
    return sorted(parse_datetime(i["start"]).astimezone(UTC) for i in found)


def syncfw_starts(event: Event) -> list[datetime]:
    instances = expand("k", event, start=WINDOW.start, end=WINDOW.end)
    return sorted(i.start.astimezone(UTC) for _, i in instances)  # type: ignore[union-attr]


def read_series(driver: OutlookDriver, key: str) -> Event:
    (change,) = [c for c in driver.read(None, WINDOW) if c.key == key]
    assert change.event is not None, change.error
    return change.event


@pytest.mark.parametrize(("range_type", "ending"), RANGES, ids=[r[0] for r in RANGES])
@pytest.mark.parametrize(("pattern", "rule", "start"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_a_series_syncfw_writes_shows_its_instances_in_outlook_and_reads_back(
    driver: OutlookDriver,
    graph_emulator: GraphEmulator,
    pattern: str,
    rule: str,
    start: datetime,
    range_type: str,
    ending: str,
) -> None:
    event = series(rule + ending, start)
    graph = to_graph(rule + ending, start, "W. Europe Standard Time")
    assert (graph["pattern"]["type"], graph["range"]["type"]) == (pattern, range_type)
    key = create(driver, event)
    want = syncfw_starts(event)
    assert len(want) >= 3
    assert outlook_starts(graph_emulator, key) == want
    read = read_series(driver, key)
    assert read.rrule == event.rrule and read.content_hash() == event.content_hash()


@pytest.mark.parametrize(("range_type", "ending"), RANGES, ids=[r[0] for r in RANGES])
@pytest.mark.parametrize(("pattern", "rule", "start"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_a_series_made_in_outlook_reads_as_a_rule_with_outlooks_occurrences(
    driver: OutlookDriver,
    graph_emulator: GraphEmulator,
    pattern: str,
    rule: str,
    start: datetime,
    range_type: str,
    ending: str,
) -> None:
    local = start.replace(tzinfo=None).isoformat()
    end = (start + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    body = {
        "subject": "Made in Outlook",
        "start": {"dateTime": local, "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": end, "timeZone": "W. Europe Standard Time"},
        "recurrence": to_graph(rule + ending, start, "W. Europe Standard Time"),
    }
    made = graph_emulator.add_event(driver.calendar_id, body)
    read = read_series(driver, made["id"])
    assert read.rrule and read.timezone == "Europe/Berlin"
    assert syncfw_starts(read) == outlook_starts(graph_emulator, made["id"])


def test_a_moved_and_a_cancelled_occurrence_both_ways(
    driver: OutlookDriver, graph_emulator: GraphEmulator
) -> None:
    start = datetime(2031, 3, 3, 9, tzinfo=BERLIN)
    moved = Event(
        uid="x",
        title="Moved once",
        start=datetime(2031, 3, 11, 14, tzinfo=BERLIN),
        end=datetime(2031, 3, 11, 15, tzinfo=BERLIN),
        recurrence_id=datetime(2031, 3, 10, 9, tzinfo=BERLIN),
    )
    cancelled = datetime(2031, 3, 17, 9, tzinfo=BERLIN)
    event = series("FREQ=WEEKLY;COUNT=6", start, overrides=(moved,), exdates=(cancelled,))
    key = create(driver, event)
    shown = graph_emulator.instances(key, WINDOW.start, WINDOW.end)
    assert len(shown) == 5, "six, less the cancelled one"
    exceptions = [i for i in shown if i["type"] == "exception"]
    assert [(i["subject"], parse_datetime(i["start"])) for i in exceptions] == [
        ("Moved once", moved.start)
    ]
    read = read_series(driver, key)
    assert read.content_hash() == event.content_hash()

    # A person moves another occurrence and cancels one more, in Outlook.
    by_original = {parse_datetime(i["start"]).astimezone(BERLIN).date(): i for i in shown}
    graph_emulator.edit(by_original[date(2031, 3, 24)]["id"], subject="Moved by hand")
    graph_emulator.delete_event(by_original[date(2031, 3, 31)]["id"])
    read = read_series(driver, key)
    assert sorted(o.title for o in read.overrides) == ["Moved by hand", "Moved once"]
    assert sorted(read.exdates) == [cancelled, datetime(2031, 3, 31, 9, tzinfo=BERLIN)]  # type: ignore[type-var]
    assert len(syncfw_starts(read)) == 4 == len(graph_emulator.instances(key, *_span()))


def test_an_edited_occurrence_shows_in_an_incremental_read_as_a_changed_series(
    driver: OutlookDriver, graph_emulator: GraphEmulator
) -> None:
    key = create(driver, series("FREQ=WEEKLY;COUNT=4", datetime(2031, 3, 3, 9, tzinfo=BERLIN)))
    full = driver.read(None, WINDOW)
    before = {c.key: c for c in full}[key]
    occurrence = graph_emulator.instances(key, *_span())[1]
    graph_emulator.edit(occurrence["id"], subject="Only this one")
    changes = {c.key: c for c in driver.read(full.cursor, WINDOW)}
    assert list(changes) == [key], "the occurrence is reported as its series"
    after = changes[key]
    assert after.etag != before.etag, "an edited occurrence changes the series' etag"
    assert after.event is not None and [o.title for o in after.event.overrides] == ["Only this one"]


def test_a_weekly_series_keeps_its_wall_clock_across_dst_in_berlin(
    driver: OutlookDriver, graph_emulator: GraphEmulator
) -> None:
    start = datetime(2031, 3, 20, 9, tzinfo=BERLIN)  # clocks go forward on 30 March
    event = series("FREQ=WEEKLY;UNTIL=20311106T235959Z", start)  # and back on 26 October
    key = create(driver, event)
    shown = [parse_datetime(i["start"]) for i in graph_emulator.instances(key, *_span())]
    local = {s.astimezone(BERLIN).time().isoformat() for s in shown}
    assert local == {"09:00:00"}, "09:00 in Berlin before, between and after the changes"
    offsets = {s.astimezone(UTC).hour for s in shown}
    assert offsets == {7, 8}, "08:00 UTC in winter, 07:00 UTC in summer"
    assert sorted(s.astimezone(UTC) for s in shown) == syncfw_starts(event)
    assert read_series(driver, key).content_hash() == event.content_hash()


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("FREQ=MONTHLY;BYDAY=MO,FR;BYSETPOS=1,-1", "BYSETPOS"),
        ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "BYMONTHDAY"),
    ],
)
def test_a_rule_graph_cannot_express_is_refused_up_front(
    driver: OutlookDriver, rule: str, why: str
) -> None:
    event = series(rule, datetime(2031, 3, 3, 9, tzinfo=BERLIN))
    problem = driver.series_problem(event)
    assert problem is not None and why in problem
    (result,) = driver.write([WriteOp("create", event=event)])
    assert not result.ok and why in str(result.error)


def _span() -> tuple[datetime, datetime]:
    return WINDOW.start, WINDOW.end


def test_in_series_mode_a_rule_graph_cannot_express_is_expanded_with_a_note(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    profile = tmp_path / "series.yaml"
    profile.write_text(
        "version: 1\n"
        "calendars:\n"
        "  src: {driver: memory, name: outlook-series-src}\n"
        f'  dst: {{driver: outlook, calendar: Series, endpoint: "{graph_emulator.endpoint}",'
        " auth: {token: test-token}, backoff: 0.01}\n"
        "pairs:\n"
        "  - {name: push, source: src, target: dst, window: {past_days: 1, future_days: 60},"
        " recurrence: {mode: series, horizon_days: 60}}\n"
    )
    now = datetime(2031, 3, 2, 12, tzinfo=UTC)
    store = MemoryStore.named("outlook-series-src")
    store.put(series("FREQ=WEEKLY", datetime(2031, 3, 3, 9, tzinfo=BERLIN)).replace(uid="weekly"))
    odd = "FREQ=MONTHLY;BYDAY=MO,FR;BYSETPOS=1,-1"  # first Monday-or-Friday, and last
    store.put(series(odd, datetime(2031, 3, 3, 9, tzinfo=BERLIN)).replace(uid="odd", title="Odd"))
    with Engine(load_profile(profile), now=lambda: now) as engine:
        (pair,) = engine.run().pairs
    assert pair.status == "ok", (pair.error, pair.failures)
    assert len(pair.notes) == 1 and "'Odd' (odd)" in pair.notes[0] and "BYSETPOS" in pair.notes[0]
    events = list(graph_emulator.calendar("Series").events.values())
    masters = [e for e in events if e.get("type") == "seriesMaster"]
    assert [e["subject"] for e in masters] == ["Series"], "the weekly one stays a series"
    odd_ones = sorted(parse_datetime(e["start"]) for e in events if e["subject"] == "Odd")
    assert [d.date() for d in odd_ones] == [
        date(2031, 3, 3),
        date(2031, 3, 31),
        date(2031, 4, 4),
        date(2031, 4, 28),
    ]


def test_after_settling_past_its_own_series_a_cancelled_occurrence_is_still_seen(
    driver: OutlookDriver, graph_emulator: GraphEmulator
) -> None:
    first = driver.read(None, WINDOW)
    assert list(first) == [] and first.cursor
    start = datetime(2031, 3, 3, 9, tzinfo=BERLIN)
    moved = Event(
        uid="x",
        title="Moved once",
        start=start + timedelta(days=7, hours=2),
        end=start + timedelta(days=7, hours=3),
        recurrence_id=start + timedelta(days=7),
    )
    (result,) = driver.write(
        [WriteOp("create", event=series("FREQ=WEEKLY;COUNT=5", start, overrides=(moved,)))]
    )
    assert result.ok and result.key
    settled = driver.settle(first.cursor, {result.key: result.etag})
    assert settled is not None, "everything since the cursor is this write"
    third = [
        i for i in graph_emulator.instances(result.key, *_span()) if i["type"] == "occurrence"
    ][1]
    graph_emulator.delete_event(third["id"])  # a person cancels one occurrence in Outlook
    changes = {c.key: c for c in driver.read(settled, WINDOW)}
    assert list(changes) == [result.key], "the cancelled occurrence is its series' change"
    event = changes[result.key].event
    assert event is not None and [o.title for o in event.overrides] == ["Moved once"]
    assert event.exdates == (parse_datetime(third["start"]).astimezone(BERLIN),)
