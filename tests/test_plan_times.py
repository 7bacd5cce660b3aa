"""The planners compare times as times: ``Link.ends_at`` is text in the state, parsed to compare."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncfw.core.master_push import MasterPush
from syncfw.core.policies import PlanInput, Policy, SideRead
from syncfw.core.two_way import TwoWay
from syncfw.model import Link

from .planning import WINDOW, normalize

ENDS = {
    # 01:00+02:00 is 23:00 UTC the day before: past, though its text sorts after the start
    "a": "2030-01-01T01:00:00+02:00",
    "b": "2029-12-31",  # a date alone counts as midnight UTC: ended before the window
    "c": (WINDOW.start + timedelta(seconds=1)).isoformat(),  # one second in: not past
    "d": datetime(2029, 12, 31, 23, 59, tzinfo=UTC).isoformat(timespec="minutes"),
    "e": "2030-01-01T00:00:00Z",  # ends as the window starts: past
}


def test_a_link_parses_its_stored_end() -> None:
    link = Link("a", "A", "u", "h", None, ENDS["a"], "a")
    assert link.ends == datetime(2029, 12, 31, 23, tzinfo=UTC)
    assert Link("b", "B", "u", "h", None, ENDS["b"], "b").ends == datetime(2029, 12, 31, tzinfo=UTC)


@pytest.mark.parametrize("policy", [MasterPush(), TwoWay()], ids=lambda p: p.name)
def test_links_that_ended_before_the_window_are_left_alone_by_time(policy: Policy) -> None:
    """Every item was deleted in the source: only the one not past is deleted in the target."""
    maps = {k: Link(k, k.upper(), f"u{k}", "h", "t1", ends, k, source_etag="s1", target_hash="h")
            for k, ends in ENDS.items()}  # fmt: skip
    plan = policy.plan(
        PlanInput(
            pair="p",
            source=SideRead("src", {}, full=True),
            target=SideRead("dst", {}, full=False),  # the target did not change
            mappings=maps,
            window=WINDOW,
            normalize=normalize,
        )
    )
    assert [(p.op.action, p.item_key) for p in plan.ops] == [("delete", "c")]
    assert sorted(plan.forget) == ["a", "b", "d", "e"]  # past: never deleted for time
    assert plan.synced == 1  # what the guard protects
