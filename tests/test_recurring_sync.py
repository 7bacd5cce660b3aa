"""Recurring appointments through the engine: expanded to a horizon, or kept as a series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncfw import Engine, RunReport, load_profile
from syncfw.drivers.memory import MemoryDriver, MemoryStore
from syncfw.model import Event

from .conftest import MakeProfile

NOW = datetime(2031, 3, 3, 7, 0, tzinfo=UTC)  # a Monday
PROFILE = """
version: 1
calendars:
  src: {driver: memory, name: src}
  dst: {driver: memory, name: dst}
pairs:
  - name: push
    source: src
    target: dst
    window: {past_days: 7, future_days: 60}
    recurrence: {mode: MODE, horizon_days: 28}
"""


def weekly(title: str, rule: str = "FREQ=WEEKLY", **kw: object) -> Event:
    start = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
    return Event(
        uid="standup",
        title=title,
        start=start,
        end=start + timedelta(minutes=30),
        rrule=(rule,),
        **kw,
    )  # type: ignore[arg-type]


def run(profile: Path, now: datetime = NOW) -> tuple[int, int, int, int]:
    with Engine(load_profile(profile), now=lambda: now) as engine:
        report: RunReport = engine.run()
    p = report.pairs[0]
    assert report.exit_code == 0, p.error or p.failures
    return p.created, p.updated, p.deleted, p.failed


def starts(store: MemoryStore) -> list[datetime]:
    return sorted(e.start for e in store.events().values())  # type: ignore[misc]


def test_a_series_is_expanded_to_the_horizon_and_its_instances_keep_their_identity(
    write_profile: MakeProfile,
) -> None:
    profile = write_profile(PROFILE.replace("MODE", "expand"))
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(weekly("Stand-up"))
    assert run(profile) == (5, 0, 0, 0)  # Mar 3 .. Mar 31: the 28-day horizon, not 60 days
    first = dict(dst.events())
    assert all(not e.recurring for e in first.values())

    src.put(weekly("Daily stand-up"))
    assert run(profile) == (0, 5, 0, 0)  # renamed in place, not recreated
    assert set(dst.events()) == set(first)

    src.put(weekly("Daily stand-up", "FREQ=WEEKLY;COUNT=3"))
    assert run(profile) == (0, 0, 2, 0)  # a shortened series loses its last instances
    assert len(dst.events()) == 3

    src.put(weekly("Daily stand-up", exdates=(datetime(2031, 3, 10, 9, tzinfo=UTC),)))
    assert run(profile) == (2, 0, 1, 0)  # unbounded again, one week skipped


def test_time_adds_instances_at_the_horizon_and_leaves_the_past_alone(
    write_profile: MakeProfile,
) -> None:
    profile = write_profile(PROFILE.replace("MODE", "expand"))
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(weekly("Stand-up"))
    run(profile)
    before = set(dst.events())
    three_weeks_later = NOW + timedelta(days=21)
    # Two weeks fell behind the window (kept as they are), three new ones at the horizon.
    assert run(profile, three_weeks_later) == (3, 0, 0, 0)
    assert before < set(dst.events()) and len(dst.events()) == 8


def test_series_mode_keeps_a_native_series_with_its_exceptions(write_profile: MakeProfile) -> None:
    profile = write_profile(PROFILE.replace("MODE", "series"))
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    moved = Event(
        uid="standup",
        title="Stand-up (moved)",
        start=datetime(2031, 3, 11, 10, tzinfo=UTC),
        end=datetime(2031, 3, 11, 10, 30, tzinfo=UTC),
        recurrence_id=datetime(2031, 3, 10, 9, tzinfo=UTC),
    )
    src.put(weekly("Stand-up").replace(overrides=(moved,)))
    assert run(profile) == (1, 0, 0, 0)
    (series,) = dst.events().values()
    assert series.rrule == ("FREQ=WEEKLY",) and series.overrides[0].title == "Stand-up (moved)"


def test_a_malformed_rule_is_reported_and_nothing_is_deleted(write_profile: MakeProfile) -> None:
    profile = write_profile(PROFILE.replace("MODE", "expand"))
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(weekly("Stand-up"))
    run(profile)
    src.put(weekly("Stand-up", "FREQ=SOMETIMES"))
    with Engine(load_profile(profile), now=lambda: NOW) as engine:
        report = engine.run()
    assert report.exit_code == 1
    assert "Stand-up" in report.pairs[0].failures[0].message
    assert len(dst.events()) == 5


def test_a_series_the_target_cannot_store_is_written_as_single_events_with_a_note(
    write_profile: MakeProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    def series_problem(self: MemoryDriver, event: Event) -> str | None:
        return "no BYSETPOS here" if any("BYSETPOS" in r for r in event.rrule) else None

    monkeypatch.setattr(MemoryDriver, "series_problem", series_problem)
    profile = write_profile(PROFILE.replace("MODE", "series"))
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(weekly("Stand-up"))
    src.put(weekly("Last Friday", "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1").replace(uid="lastfri"))
    with Engine(load_profile(profile), now=lambda: NOW) as engine:
        report = engine.run()
    (pair,) = report.pairs
    assert report.exit_code == 0 and pair.created == 3  # the series, DTSTART, 28 March
    assert pair.notes == ["'Last Friday' (lastfri) written as single events: no BYSETPOS here"]
    events = list(dst.events().values())
    assert [e.rrule for e in events if e.title == "Stand-up"] == [("FREQ=WEEKLY",)]
    last_fridays = [e for e in events if e.title == "Last Friday"]
    assert sorted((e.start, e.rrule) for e in last_fridays) == [
        (datetime(2031, 3, 3, 9, tzinfo=UTC), ()),  # DTSTART counts (RFC 5545)
        (datetime(2031, 3, 28, 9, tzinfo=UTC), ()),
    ]
    assert report.as_dict()["pairs"][0]["notes"] == pair.notes
