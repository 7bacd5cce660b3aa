"""Edge cases of the sync core found in review: each was a bug once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import syncfw
from syncfw.config.loader import load_profile
from syncfw.core.policies import target_uid
from syncfw.core.report import RunReport
from syncfw.drivers.memory import MemoryStore
from syncfw.hooks.manager import Plugins
from syncfw.model import Event
from syncfw.runtime.engine import Engine
from syncfw.runtime.state import State

from . import special_drivers as _drivers
from .conftest import event
from .special_drivers import ReviewDrivers

MakeProfile = Callable[..., Path]
T0 = datetime(2031, 3, 10, 8, 0, tzinfo=UTC)


def at(when: datetime, uid: str, title: str | None = None, *, hours: int = 1) -> Event:
    return Event(
        uid=uid, title=title or f"event {uid}", start=when, end=when + timedelta(hours=hours)
    )


def run_at(profile: Path, now: datetime, *, force: bool = False) -> RunReport:
    with Engine(load_profile(profile), now=lambda: now) as engine:
        return engine.run(force=force)


def counts(report: RunReport) -> tuple[int, int, int, int, int]:
    p = report.pairs[0]
    return p.created, p.updated, p.deleted, p.unchanged, p.failed


def profile_with(write_profile: MakeProfile, src: str, dst: str) -> Path:
    return write_profile(
        f"""
        version: 1
        calendars:
          src: {{driver: {src}, name: src}}
          dst: {{driver: {dst}, name: dst}}
        pairs:
          - name: push
            source: src
            target: dst
            window: {{past_days: 7, future_days: 60}}
        """
    )


# -- 1. counts --------------------------------------------------------------------------


def test_unchanged_counts_items_that_were_rewritten(memory_pair: Path) -> None:
    """Hand edit of a, hand delete of b: both are rewritten, nothing is unchanged."""
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a", "A"))
    src.put(event("b", "B"))
    syncfw.run(memory_pair)
    dst.put(dst.events()[target_uid("push", "a")].replace(title="edited"))
    dst.remove(target_uid("push", "b"))
    report = syncfw.run(memory_pair)
    assert counts(report) == (1, 1, 0, 0, 0)


# -- 2. an event moved behind the window leaves a phantom in the window ------------------


def test_event_moved_into_the_past_does_not_stay_at_its_old_time(
    memory_pair: Path,
) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("job", "Job", days=3))
    syncfw.run(memory_pair)
    moved = event("job", "Job", days=-20)
    src.put(moved)
    assert syncfw.run(memory_pair).exit_code == 0
    copy = dst.events().get(target_uid("push", "job"))
    # The source has nothing at +3 days any more; the master must not show it there.
    assert copy is None or copy.start == moved.start, f"target still shows it at {copy.start}"


# -- 3. the mass-delete guard is diluted by mappings of past events ----------------------


def test_guard_is_not_diluted_by_mappings_of_past_events(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    for i in range(20):
        src.put(at(T0 + timedelta(days=1 + i % 5), f"old{i}"))
    assert counts(run_at(memory_pair, T0))[0] == 20
    later = T0 + timedelta(days=30)  # the 20 are now behind the window, their mappings stay
    for i in range(10):
        src.put(at(later + timedelta(days=1 + i), f"new{i}"))
    assert counts(run_at(memory_pair, later))[0] == 10
    src.clear()  # the source read comes back empty (and its cursor is gone)
    stopped = run_at(memory_pair, later)
    live = [e for e in dst.events().values() if e.start > later]
    assert stopped.exit_code == 3, f"deleted {counts(stopped)[2]} of 10 live events"
    assert len(live) == 10


# -- 4. the window moves in whole days, and a moved window is read in full -------------


def test_event_entering_the_window_is_synced_the_day_it_enters(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    midnight = T0.replace(hour=0)
    edge = midnight + timedelta(days=61, hours=1)  # just beyond today's window (61 whole days)
    src.put(at(edge, "edge"))
    assert counts(run_at(memory_pair, T0))[0] == 0
    assert counts(run_at(memory_pair, T0 + timedelta(hours=15)))[0] == 0  # same day, same window
    assert counts(run_at(memory_pair, T0 + timedelta(days=1)))[0] == 1  # the window moved
    assert target_uid("push", "edge") in dst.events()


# -- 5. an orphan is deleted because its source item could not be read -------------------


@pytest.fixture
def review_plugins() -> Plugins:
    _drivers.BROKEN.clear()
    return Plugins(extra=[ReviewDrivers()])


def test_orphan_of_an_unreadable_source_item_is_not_deleted(
    write_profile: MakeProfile, review_plugins: Plugins
) -> None:
    profile = profile_with(write_profile, "flaky-memory", "memory")
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a", "A"))
    # A run was killed right after creating a's copy (not recorded) ...
    dst.put(event("a", "A").replace(uid=target_uid("push", "a")))
    # ... and before the next run the source item became unreadable.
    _drivers.BROKEN.add("a")
    report = syncfw.run(profile, plugins=review_plugins)
    assert counts(report)[4] == 1  # reported, fine
    assert target_uid("push", "a") in dst.events(), "deleted because a read failed"


def test_mapped_item_of_an_unreadable_source_item_is_kept(
    write_profile: MakeProfile, review_plugins: Plugins
) -> None:
    """Control for the test above: the mapped case is handled right."""
    profile = profile_with(write_profile, "flaky-memory", "memory")
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a", "A"))
    syncfw.run(profile, plugins=review_plugins)
    _drivers.BROKEN.add("a")
    src.expire_cursors()  # force a full source read
    syncfw.run(profile, plugins=review_plugins)
    assert target_uid("push", "a") in dst.events()


# -- 6. "two of ours for one item: keep one" forgets the one it keeps ---------------------


def test_duplicate_cleanup_keeps_the_mapping_of_the_kept_item(
    write_profile: MakeProfile, review_plugins: Plugins
) -> None:
    """Two overlapping runs (cron) created a's copy twice on a server-id calendar."""
    profile = profile_with(write_profile, "memory", "server-ids")
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a", "A"))
    copy = event("a", "A").replace(uid=target_uid("push", "a"))
    with dst._lock:
        dst._store("srv-x", copy)
        dst._store("srv-y", copy)
    first = syncfw.run(profile, plugins=review_plugins)
    assert first.exit_code == 0 and len(dst.events()) == 1
    mapped = State(load_profile(profile, review_plugins).state_path)
    try:
        state_path_mappings = mapped.mappings("push")
    finally:
        mapped.close()
    src.put(event("a", "A renamed"))
    syncfw.run(profile, plugins=review_plugins)
    ours = sorted(e.title for e in dst.events().values())
    assert ours == ["A renamed"], (
        f"target holds {ours}; mappings after run 1: {state_path_mappings}"
    )
