"""Master push on memory calendars: what reaches the target, what is left alone, what stops."""

from __future__ import annotations

from pathlib import Path

import syncfw
from syncfw import hookimpl
from syncfw.core.policies import target_uid
from syncfw.core.report import AppliedChange, RunReport
from syncfw.drivers.memory import MemoryStore
from syncfw.errors import PreconditionFailed
from syncfw.hooks.manager import Plugins
from syncfw.sdk.driver import WriteOp

from .conftest import MakeProfile, event


def titles(store: MemoryStore) -> dict[str, str]:
    return {e.title: e.uid for e in store.events().values()}


def sync(profile: Path, **kw: object) -> syncfw.RunReport:
    return syncfw.run(profile, **kw)  # type: ignore[arg-type]


def counts(report: RunReport) -> tuple[int, int, int, int, int]:
    p = report.pairs[0]
    return p.created, p.updated, p.deleted, p.unchanged, p.failed


def test_inserts_updates_and_deletes_reach_the_target(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    for i in range(3):
        src.put(event(f"e{i}", f"title {i}", days=i + 1))
    assert counts(sync(memory_pair)) == (3, 0, 0, 0, 0)
    assert sorted(e.title for e in dst.events().values()) == ["title 0", "title 1", "title 2"]
    assert counts(sync(memory_pair)) == (0, 0, 0, 3, 0)

    src.put(event("e1", "renamed", days=2))
    src.remove("e2")
    src.put(event("e3", "new", days=4))
    assert counts(sync(memory_pair)) == (1, 1, 1, 1, 0)
    assert sorted(e.title for e in dst.events().values()) == ["new", "renamed", "title 0"]
    moved = event("e0", "title 0", days=5)
    src.put(moved)
    sync(memory_pair)
    assert dst.events()[target_uid("push", "e0")].start == moved.start


def test_drift_in_the_target_is_overwritten(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a", "original"))
    src.put(event("b", "second"))
    sync(memory_pair)
    uid_a, uid_b = target_uid("push", "a"), target_uid("push", "b")
    dst.put(dst.events()[uid_a].replace(title="edited by hand"))
    dst.remove(uid_b)
    assert counts(sync(memory_pair))[:2] == (1, 1)
    assert dst.events()[uid_a].title == "original"
    assert dst.events()[uid_b].title == "second"
    assert counts(sync(memory_pair)) == (0, 0, 0, 2, 0)


def test_an_unreadable_target_item_is_reported_and_never_overwritten(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    for key in ("same", "changed", "deleted"):
        src.put(event(key, f"{key} at the source"))
    sync(memory_pair)
    uids = {key: target_uid("push", key) for key in ("same", "changed", "deleted")}
    for uid in uids.values():
        dst.put_unreadable(uid, "garbled by another program")
    garbled = {uid: dst.etag(uid) for uid in uids.values()}
    src.put(event("changed", "changed again"))  # an update would write over it
    src.remove("deleted")  # a delete would take it away
    for _ in range(2):  # and again: the cursors stayed where they were
        report = sync(memory_pair).pairs[0]
        assert (report.status, report.created, report.updated, report.deleted) == (
            "partial", 0, 0, 0,
        )  # fmt: skip
        assert sorted(f.key for f in report.failures) == ["changed", "deleted", "same"]
        for failure in report.failures:
            assert failure.calendar == "dst" and "garbled by another program" in failure.message
        assert {uid: dst.etag(uid) for uid in uids.values()} == garbled, "nothing written"
    dst.put(event("fixed", "fixed by hand").replace(uid=uids["changed"]))  # readable again
    report = sync(memory_pair).pairs[0]
    assert dst.events()[uids["changed"]].title == "changed again", "then drift: repaired"
    assert sorted(f.key for f in report.failures) == ["deleted", "same"]


def test_events_syncfw_did_not_create_are_never_touched(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    foreign = event("someone-elses", "lunch")
    foreign_ours_looking = event("syncfw-deadbeef-0000", "looks like ours, other pair")
    dst.put(foreign)
    dst.put(foreign_ours_looking)
    src.put(event("a"))
    sync(memory_pair)
    src.remove("a")
    sync(memory_pair)
    assert dst.events() == {foreign.uid: foreign, foreign_ours_looking.uid: foreign_ours_looking}


def test_window_limits_what_is_synced_and_the_past_is_left_alone(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("far", days=200))
    src.put(event("old", days=-30))
    src.put(event("soon", days=3))
    sync(memory_pair)
    assert set(titles(dst)) == {"event soon"}
    # Moved behind the window: the target follows once, not keeping the old time...
    src.put(event("soon", days=-20))
    assert counts(sync(memory_pair))[:3] == (0, 1, 0)
    assert dst.events()[target_uid("push", "soon")].start == event("soon", days=-20).start
    # ...and from then on the past is left alone, even when the source deletes it.
    src.remove("soon")
    assert counts(sync(memory_pair))[:3] == (0, 0, 0)
    assert set(titles(dst)) == {"event soon"}


def test_safety_guard_stops_a_run_that_would_empty_the_target(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    for i in range(20):
        src.put(event(f"e{i}", days=1 + i % 5))
    sync(memory_pair)
    for i in range(20):
        src.remove(f"e{i}")
    stopped = sync(memory_pair)
    assert stopped.exit_code == 3
    assert stopped.pairs[0].stopped_by_guard and "20 of the 20" in (stopped.pairs[0].error or "")
    assert len(dst.events()) == 20
    forced = sync(memory_pair, force=True)
    assert forced.exit_code == 0 and counts(forced)[2] == 20
    assert dst.events() == {}


def test_few_deletes_pass_the_guard(memory_pair: Path) -> None:
    src = MemoryStore.named("src")
    for i in range(5):
        src.put(event(f"e{i}"))
    sync(memory_pair)
    for i in range(5):
        src.remove(f"e{i}")
    assert sync(memory_pair).exit_code == 0


def test_expired_cursor_falls_back_to_a_full_read_without_duplicates(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a"))
    src.put(event("b"))
    sync(memory_pair)
    src.remove("a")
    src.put(event("c"))
    src.expire_cursors()
    dst.expire_cursors()
    report = sync(memory_pair)
    assert report.exit_code == 0 and report.pairs[0].full_read
    assert sorted(titles(dst)) == ["event b", "event c"]


def test_a_create_interrupted_before_it_was_recorded_is_adopted(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a", "A"))
    # What a run killed right after the write (before recording it) leaves behind:
    dst.put(event("a", "A").replace(uid=target_uid("push", "a")))
    report = sync(memory_pair)
    assert counts(report)[4] == 0
    assert list(titles(dst)) == ["A"]
    assert counts(sync(memory_pair)) == (0, 0, 0, 1, 0)


def test_a_leftover_of_a_deleted_source_item_is_removed(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("keep"))
    sync(memory_pair)
    dst.put(event("gone", "leftover").replace(uid=target_uid("push", "gone")))
    sync(memory_pair)
    assert list(titles(dst)) == ["event keep"]


def test_failed_writes_are_reported_and_retried(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("good", "good"))
    src.put(event("bad", "bad"))
    bad_uid = target_uid("push", "bad")
    dst.fail_on = lambda op: (
        PreconditionFailed(op.event.uid) if op.event and op.event.uid == bad_uid else None
    )
    report = sync(memory_pair)
    assert report.exit_code == 1 and counts(report)[0] == 1 and counts(report)[4] == 1
    assert report.pairs[0].failures[0].title == "bad"
    dst.fail_on = None
    assert counts(sync(memory_pair))[0] == 1
    assert sorted(titles(dst)) == ["bad", "good"]


def test_a_concurrent_edit_between_read_and_write_is_re_read_and_re_planned(
    memory_pair: Path,
) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a", "v1"))
    sync(memory_pair)
    uid = target_uid("push", "a")
    src.put(event("a", "v2"))
    etags: list[str | None] = []

    def edit_just_before_the_write(op: WriteOp) -> None:
        etags.append(op.etag)
        if len(etags) == 1:  # someone edits it in the target right now
            etags.append(dst.put(dst.events()[uid].replace(title="edited meanwhile")))
        return None

    dst.fail_on = edit_just_before_the_write
    report = sync(memory_pair)
    stale, seen, used = etags
    assert stale != seen and used == seen  # refused blind, then written over what it saw
    assert report.exit_code == 0 and counts(report)[:2] == (0, 1)
    assert dst.events()[uid].title == "v2"


def test_dry_run_changes_nothing(memory_pair: Path) -> None:
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a"))
    report = sync(memory_pair, dry_run=True)
    assert counts(report)[0] == 1 and report.pairs[0].planned[0]["action"] == "create"
    assert dst.events() == {}
    assert counts(sync(memory_pair))[0] == 1


def test_plugins_observe_each_applied_change_and_the_finished_run(memory_pair: Path) -> None:
    seen: list[AppliedChange] = []
    finished: list[RunReport] = []

    class Observer:
        @hookimpl
        def syncfw_change_applied(self, change: AppliedChange) -> None:
            seen.append(change)

        @hookimpl
        def syncfw_run_finished(self, report: RunReport) -> None:
            finished.append(report)

    class Broken:
        @hookimpl
        def syncfw_change_applied(self, change: AppliedChange) -> None:
            raise RuntimeError("a buggy plugin must not stop the sync")

    plugins = Plugins(extra=[Observer(), Broken()])
    src = MemoryStore.named("src")
    src.put(event("a", "A"))
    src.put(event("b", "B"))
    syncfw.run(memory_pair, plugins=plugins)
    src.put(event("a", "A2"))
    src.remove("b")
    syncfw.run(memory_pair, plugins=plugins)
    assert [(c.action, c.source_key) for c in seen] == [
        ("create", "a"),
        ("create", "b"),
        ("update", "a"),
        ("delete", "b"),
    ]
    assert seen[2].event is not None and seen[2].event.title == "A2"
    assert seen[0].pair == "push" and seen[3].event is None
    assert [r.pairs[0].created for r in finished] == [2, 0]


def test_state_survives_between_engines(memory_pair: Path) -> None:
    src = MemoryStore.named("src")
    src.put(event("a", days=1))
    assert counts(sync(memory_pair))[0] == 1
    assert counts(sync(memory_pair)) == (0, 0, 0, 1, 0)


def test_an_event_that_stops_matching_a_filter_leaves_the_target_and_can_return(
    write_profile: MakeProfile,
) -> None:
    profile = write_profile("""
        version: 1
        calendars:
          src: {driver: memory, name: src}
          dst: {driver: memory, name: dst}
        pairs:
          - {name: push, source: src, target: dst, filters: [{type: [appointment]}]}
    """)
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    src.put(event("a", "visit", categories=("appointment",)))
    src.put(event("b", "team lunch", categories=("internal",)))
    sync(profile)
    assert list(titles(dst)) == ["visit"]
    src.put(event("a", "visit", categories=("internal",)))
    assert counts(sync(profile))[2] == 1 and dst.events() == {}
    src.put(event("a", "visit", categories=("Appointment",)))
    assert counts(sync(profile))[0] == 1 and list(titles(dst)) == ["visit"]


def test_the_pairs_notify_setting_reaches_every_write(write_profile: MakeProfile) -> None:
    profile = write_profile("""
        version: 1
        calendars:
          src: {driver: memory, name: src}
          dst: {driver: memory, name: dst}
        pairs:
          - {name: push, source: src, target: dst, attendees: {notify: external}}
    """)
    src, dst = MemoryStore.named("src"), MemoryStore.named("dst")
    seen: list[WriteOp] = []
    dst.fail_on = lambda op: seen.append(op)  # type: ignore[func-returns-value]
    src.put(event("a"))
    sync(profile)
    src.put(event("a", "renamed"))
    sync(profile)
    assert [(op.action, op.notify) for op in seen] == [
        ("create", "external"),
        ("update", "external"),
    ]
