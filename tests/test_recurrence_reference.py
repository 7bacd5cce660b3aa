"""syncfw's expansion gives recurring-ical-events' instances, on random series (issue 10, point 8).

syncfw expands series with its own code on python-dateutil, because planning a year of a
thousand series must take well under a second and recurring-ical-events needs about five
times as long (docs/recurrence.md). That is only sound while both give the same instances
(but for one difference, where syncfw follows RFC 5545: see crosses_a_clock_change):
the corpus test checks it on real-world files, this test on random ones - rules, zones
across DST, all-day and timed, EXDATEs, RDATEs, periods, single and THISANDFUTURE overrides.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncfw.core.recurrence import expand
from syncfw.model import Event
from syncfw.sdk.ical import event_to_ical, events_from_ical

ZONES = [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney")]
SPAN_START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_END = datetime(2027, 7, 1, tzinfo=UTC)
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn, first: date) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    if freq == "WEEKLY" and draw(st.booleans()):
        days = draw(st.sets(st.sampled_from(DAYS), min_size=1, max_size=3))
        parts.append("BYDAY=" + ",".join(d for d in DAYS if d in days | {DAYS[first.weekday()]}))
    if freq == "MONTHLY" and draw(st.booleans()):
        parts.append(f"BYMONTHDAY={first.day}")
    end = draw(st.sampled_from(["count", "until", "none"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 40))}")
    elif end == "until":
        parts.append(f"UNTIL={first + timedelta(days=draw(st.integers(0, 300))):%Y%m%d}T235959Z")
    return ";".join(parts)


@st.composite
def series(draw: st.DrawFn) -> Event:
    first = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 200)))
    all_day = draw(st.booleans())
    zone = draw(st.sampled_from(ZONES))
    if all_day:
        start: datetime | date = first
        end: datetime | date = first + timedelta(days=draw(st.integers(1, 3)))
    else:
        start = datetime.combine(first, time(draw(st.integers(0, 23)), 30), tzinfo=zone)
        end = start + timedelta(minutes=draw(st.sampled_from([0, 30, 60, 150])))
    event = Event(
        uid="s",
        title="Series",
        start=start,
        end=end,
        rrule=(draw(rules(first)),),
        timezone=getattr(zone, "key", None) if not all_day and zone is not UTC else None,
    )
    found = [i for _, i in expand("s", event, start=SPAN_START, end=SPAN_END)]
    if not found:
        return event
    pick = st.sampled_from([i.recurrence_id for i in found])
    shift = timedelta(days=1) if all_day else timedelta(hours=draw(st.integers(-5, 5)))
    overrides = []
    for rid in sorted(set(draw(st.lists(pick, max_size=3))), key=str):
        moved = rid + shift  # type: ignore[operator]
        overrides.append(
            event.replace(
                title=f"Moved {rid}",
                start=moved,
                end=moved + (end - start),  # type: ignore[operator]
                rrule=(),
                recurrence_id=rid,
                this_and_future=draw(st.booleans()),
            )
        )
    exdates = tuple(draw(st.lists(pick, max_size=2, unique=True)))
    extra = start + timedelta(days=draw(st.integers(1, 400)))  # type: ignore[operator]
    return event.replace(overrides=tuple(overrides), exdates=exdates, rdates=(extra,))


def moment(value: datetime | date) -> str:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value.isoformat()


@settings(
    max_examples=int(__import__("os").environ.get("HX", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(series())
def test_expansion_equals_recurring_ical_events(event: Event) -> None:
    text = event_to_ical([event])
    (read,) = events_from_ical(text)
    assert isinstance(read, Event)
    ours = sorted(
        (moment(i.start), moment(i.end), i.title)
        for _, i in expand("s", read, start=SPAN_START, end=SPAN_END)
    )
    calendar = icalendar.Calendar.from_ical(text)
    theirs = sorted(
        (moment(c["DTSTART"].dt), moment(c["DTEND"].dt), str(c["SUMMARY"]))
        for c in recurring_ical_events.of(calendar).between(SPAN_START, SPAN_END)
    )
    assert [(s, t) for s, _, t in ours] == [(s, t) for s, _, t in theirs], text.decode()
    for mine, reference in zip(ours, theirs, strict=True):
        if mine[1] != reference[1]:
            assert crosses_a_clock_change(mine, reference), (mine, reference, text.decode())


def crosses_a_clock_change(mine: tuple[str, str, str], reference: tuple[str, str, str]) -> bool:
    """The one way the ends may differ: an instance whose span holds a clock change.

    RFC 5545 (3.8.5.3) gives every instance the *exact* duration of DTSTART..DTEND, which
    syncfw keeps; recurring-ical-events adds it as wall-clock time, so across a change its
    end is an hour off (and for a start the clocks skip, even before the start).
    """
    start, end, theirs = (datetime.fromisoformat(v) for v in (mine[0], mine[1], reference[1]))
    if not isinstance(start, datetime) or "T" not in mine[0]:
        return False  # all-day instances are whole days in both
    before = start - timedelta(hours=1)  # a start in a gap: the change is just before it
    offsets = {before.astimezone(z).utcoffset() != end.astimezone(z).utcoffset() for z in ZONES}
    return abs(end - theirs) == timedelta(hours=1) and True in offsets
