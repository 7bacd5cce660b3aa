"""Two-way and open-pull/close-push on memory calendars: the three-way comparison."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import syncfw
from syncfw.core.report import RunReport
from syncfw.drivers.memory import MemoryStore
from syncfw.hooks.manager import Plugins

from .conftest import MakeProfile, event


def profile(write_profile: MakeProfile, policy: str, extra: str = "") -> Path:
    return write_profile(
        f"""
        version: 1
        calendars:
          local: {{driver: memory, name: local}}
          remote: {{driver: memory, name: remote}}
        pairs:
          - name: both
            source: local
            target: remote
            policy: {policy}
            window: {{past_days: 7, future_days: 60}}
        {extra}
        """
    )


def titles(store: MemoryStore) -> dict[str, str]:
    return {uid: e.title for uid, e in store.events().items()}


def counts(report: RunReport) -> tuple[int, int, int, int, int]:
    p = report.pairs[0]
    assert p.error is None, p.error
    return p.created, p.updated, p.deleted, p.unchanged, p.failed


@pytest.fixture
def sides() -> tuple[MemoryStore, MemoryStore]:
    return MemoryStore.named("local"), MemoryStore.named("remote")


def test_two_way_copies_each_sides_changes_and_settles(write_profile, sides) -> None:
    local, remote = sides
    path = profile(write_profile, "two-way")
    local.put(event("a", "from local"))
    remote.put(event("b", "from remote"))
    assert counts(syncfw.run(path)) == (2, 0, 0, 0, 0)
    assert titles(local) == titles(remote) == {"a": "from local", "b": "from remote"}
    assert counts(syncfw.run(path)) == (0, 0, 0, 2, 0)  # what syncfw wrote is not a change

    local.put(event("a", "edited locally"))
    remote.put(event("b", "edited remotely"))
    remote.put(event("c", "new remotely"))
    assert counts(syncfw.run(path)) == (1, 2, 0, 0, 0)
    assert titles(local) == titles(remote)
    assert titles(local) == {"a": "edited locally", "b": "edited remotely", "c": "new remotely"}

    local.remove("a")
    remote.remove("c")
    assert counts(syncfw.run(path))[:3] == (0, 0, 2)
    assert titles(local) == titles(remote) == {"b": "edited remotely"}
    assert counts(syncfw.run(path)) == (0, 0, 0, 1, 0)


def test_an_edit_against_a_deletion_keeps_the_edit(write_profile, sides) -> None:
    local, remote = sides
    path = profile(write_profile, "two-way")
    local.put(event("a", "a"))
    local.put(event("b", "b"))
    syncfw.run(path)
    local.put(event("a", "a edited"))
    remote.remove("a")
    local.remove("b")
    remote.put(event("b", "b edited"))
    assert counts(syncfw.run(path))[:3] == (2, 0, 0)
    assert titles(local) == titles(remote) == {"a": "a edited", "b": "b edited"}
    assert counts(syncfw.run(path)) == (0, 0, 0, 2, 0)


def both_edited(write_profile, sides, conflict: str, **times: datetime) -> RunReport:
    local, remote = sides
    path = profile(write_profile, "two-way", f"    conflict: {conflict}")
    local.put(event("a", "original"))
    syncfw.run(path)
    local.put(event("a", "local edit", modified=times.get("local")))
    remote.put(event("a", "remote edit", modified=times.get("remote")))
    return syncfw.run(path)


@pytest.mark.parametrize(
    ("conflict", "winner"), [("source-wins", "local edit"), ("target-wins", "remote edit")]
)
def test_a_conflict_is_settled_by_the_pairs_rule(write_profile, sides, conflict, winner) -> None:
    assert counts(both_edited(write_profile, sides, conflict)) == (0, 1, 0, 0, 0)
    assert titles(sides[0]) == titles(sides[1]) == {"a": winner}


@pytest.mark.parametrize("newer", ["local", "remote"])
def test_newest_wins_by_last_modified(write_profile, sides, newer) -> None:
    now = datetime.now(UTC)
    older = "remote" if newer == "local" else "local"
    times = {newer: now, older: now - timedelta(minutes=5)}
    assert counts(both_edited(write_profile, sides, "newest-wins", **times))[:2] == (0, 1)
    assert titles(sides[0]) == titles(sides[1]) == {"a": f"{newer} edit"}


def test_fail_reports_and_leaves_both_sides(write_profile, sides) -> None:
    local, remote = sides
    report = both_edited(write_profile, sides, "fail")
    assert counts(report) == (0, 0, 0, 0, 1)
    assert report.exit_code == 1
    assert "changed in both 'local' and 'remote'" in report.pairs[0].failures[0].message
    assert (titles(local), titles(remote)) == ({"a": "local edit"}, {"a": "remote edit"})
    path = profile(write_profile, "two-way", "    conflict: fail")
    assert counts(syncfw.run(path))[4] == 1  # still a conflict on the next run
    local.put(event("a", "remote edit"))  # settled by hand: the two agree
    assert counts(syncfw.run(path)) == (0, 0, 0, 1, 0)
    assert counts(syncfw.run(path)) == (0, 0, 0, 1, 0)


def test_the_same_uid_on_both_sides_is_one_event(write_profile, sides) -> None:
    local, remote = sides
    local.put(event("x", "same"))
    remote.put(event("x", "same"))
    path = profile(write_profile, "two-way")
    assert counts(syncfw.run(path)) == (0, 0, 0, 1, 0)
    assert titles(local) == titles(remote) == {"x": "same"}
    (path.parent / ".syncfw" / "profile.db").unlink()  # state lost: nothing duplicated
    assert counts(syncfw.run(path)) == (0, 0, 0, 1, 0)
    assert len(local.events()) == len(remote.events()) == 1


def test_open_pulls_with_the_remote_winning_and_close_pushes(write_profile, sides) -> None:
    local, remote = sides
    path = profile(write_profile, "open-pull-close-push")
    remote.put(event("r1", "remote one"))
    remote.put(event("r2", "remote two"))
    local.put(event("l1", "local one"))
    assert counts(syncfw.run(path, phase="open")) == (2, 0, 0, 0, 0)
    assert titles(local) == {"r1": "remote one", "r2": "remote two", "l1": "local one"}
    assert titles(remote) == {"r1": "remote one", "r2": "remote two"}  # close not run yet

    assert counts(syncfw.run(path, phase="close")) == (1, 0, 0, 2, 0)
    assert titles(remote) == titles(local)

    # Local edits wait for close, however many opens come first; the remote wins on open.
    local.put(event("r1", "r1 edited locally"))
    local.put(event("l1", "l1 edited locally"))
    remote.put(event("l1", "l1 edited remotely"))
    remote.remove("r2")
    assert counts(syncfw.run(path, phase="open"))[:3] == (0, 1, 1)
    assert titles(local) == {"r1": "r1 edited locally", "l1": "l1 edited remotely"}
    assert counts(syncfw.run(path, phase="open"))[:3] == (0, 0, 0)
    assert counts(syncfw.run(path, phase="close"))[:3] == (0, 1, 0)
    assert (
        titles(remote) == titles(local) == {"r1": "r1 edited locally", "l1": "l1 edited remotely"}
    )

    local.remove("r1")  # a local deletion is pushed on close
    assert counts(syncfw.run(path, phase="close"))[:3] == (0, 0, 1)
    assert titles(remote) == {"l1": "l1 edited remotely"}
    assert counts(syncfw.run(path)) == (0, 0, 0, 1, 0)  # no phase: open, then close


def test_a_session_pulls_on_enter_and_pushes_on_exit_even_on_errors(write_profile, sides) -> None:
    local, remote = sides
    path = profile(write_profile, "open-pull-close-push")
    remote.put(event("r", "remote"))
    with syncfw.session(path) as agenda:
        assert agenda.opened.pairs[0].created == 1
        assert titles(local) == {"r": "remote"}
        local.put(event("l", "written in the agenda"))
    assert agenda.closed is not None and agenda.closed.pairs[0].created == 1
    assert titles(remote) == {"r": "remote", "l": "written in the agenda"}

    with pytest.raises(RuntimeError, match="agenda crashed"), syncfw.session(path):
        local.put(event("l", "edited before a crash"))
        raise RuntimeError("agenda crashed")
    assert remote.events()["l"].title == "edited before a crash"


def test_a_filtered_pair_admits_remote_events_with_its_type(write_profile, sides) -> None:
    local, remote = sides
    path = profile(write_profile, "two-way", "    filters: [{type: [appointment]}]")
    local.put(event("job", "a job", categories=("appointment",)))
    local.put(event("internal", "internal", categories=("internal",)))
    remote.put(event("ext", "booked remotely"))
    assert counts(syncfw.run(path))[:3] == (2, 0, 0)
    assert set(remote.events()) == {"job", "ext"}  # the internal entry stays local
    assert local.events()["ext"].categories == ("appointment",)
    assert counts(syncfw.run(path)) == (0, 0, 0, 2, 0)


class _Picky:
    """A filter plugin that cannot judge events titled "broken" (raises ValueError)."""

    @syncfw.hookimpl
    def syncfw_register_filters(self, register) -> None:
        def build(value):
            def keep(event):
                if event.title == "broken":
                    raise ValueError("cannot judge this event")
                return True

            return keep

        register("picky", build)


def test_an_event_the_pipeline_cannot_take_is_reported_not_deleted(write_profile, sides) -> None:
    local, remote = sides
    path = profile(write_profile, "two-way", "    filters: [{picky: on}]")
    plugins = Plugins(extra=[_Picky()])
    local.put(event("a", "fine"))
    syncfw.run(path, plugins=plugins)
    local.put(event("a", "broken"))
    remote.put(event("b", "broken"))
    report = syncfw.run(path, plugins=plugins)
    assert counts(report)[:4] == (0, 0, 0, 0) and report.pairs[0].failed == 2
    assert titles(remote) == {"a": "fine", "b": "broken"}  # nothing deleted, nothing pulled
    assert titles(local) == {"a": "broken"}
