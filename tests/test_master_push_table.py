"""Master push's decision table: how the source and the target stand -> what the plan does.

One event, the planner called as a function (``MasterPush().plan(PlanInput)``). Master push
has no phases, and the source always wins: no ``conflict:`` rule changes a row, which
:func:`test_no_conflict_rule_changes_a_row` checks. Words: see ``tests/planning.py``;
reads are full unless a side is *quiet* (an incremental read that does not report it).
"""

from __future__ import annotations

from typing import get_args

import pytest

from syncfw.core.master_push import MasterPush
from syncfw.core.policies import Conflict, Plan, PlanInput, SideRead, target_uid
from syncfw.model import Change, Event, Link, as_utc

from .planning import EVENT, PAST, WINDOW, normalize, outcome, shown

# fmt: off
TABLE = [
    # source           target             -> plan
    ("new",           "absent",          "create target"),          # copied under its uid
    ("new",           "leftover",        "record"),                 # a crash's write: adopted
    ("new",           "leftover, other", "update target (adopt)"),  # adopted and corrected
    ("new",           "quiet",           "create target"),
    ("unchanged",     "unchanged",       "nothing"),
    ("unchanged",     "quiet",           "nothing"),
    ("quiet",         "quiet",           "nothing"),
    ("unchanged",     "answered",        "record"),                 # only the etag moved
    ("unchanged",     "drifted",         "update target"),          # drift is overwritten
    ("quiet",         "drifted",         "read source"),            # to repair it, read it
    ("unchanged",     "deleted",         "create target"),          # deleted by hand: again
    ("unchanged",     "missing",         "create target"),          # gone from a full read
    ("unchanged",     "unreadable",      "fail"),                   # left alone until it reads
    ("edited",        "unreadable",      "fail"),                   # not written over either
    ("deleted",       "unreadable",      "fail"),                   # nor deleted
    ("edited",        "unchanged",       "update target"),
    ("edited",        "quiet",           "update target"),
    ("edited",        "drifted",         "update target"),          # the source wins
    ("edited",        "deleted",         "create target"),
    ("deleted",       "unchanged",       "delete target"),
    ("deleted",       "drifted",         "delete target"),          # with the drifted etag
    ("deleted",       "deleted",         "forget"),                 # gone on both
    ("gone",          "unchanged",       "delete target"),          # a full read lacks it
    ("left out",      "unchanged",       "delete target"),          # the filters drop it
    ("moved out",     "unchanged",       "delete target"),          # beyond the window
    ("moved behind",  "unchanged",       "update target"),          # follows once, then past
    ("past",          "unchanged",       "nothing"),                # the past is left alone
    ("past",          "drifted",         "nothing"),
    ("past",          "moved in",        "update target"),          # dragged back by hand
    ("past, deleted", "unchanged",       "forget"),                 # never deleted for time
    ("unreadable",    "unchanged",       "fail"),                   # reported, kept
    ("unreadable",    "deleted",         "fail"),
    ("bad rule",      "unchanged",       "fail"),                   # Unreadable
    ("filter bug",    "unchanged",       "fail"),                   # StepFailed
    ("absent",        "leftover",        "delete target"),          # no source item claims it
    ("quiet",         "leftover",        "read source"),            # only a full read proves it
    ("absent",        "foreign",         "nothing"),                # not ours: never touched
]
# fmt: on

UID = target_uid("p", "a")
TARGET = EVENT.with_uid(UID)


def _ends(event: Event) -> str:
    return as_utc(event.end).isoformat(timespec="seconds")


#: Source standings of a past link, as the source's read shows the (past) event.
PAST_READS = {"past": "unchanged", "past, deleted": "deleted"}


def _read(key: str, change: Change | None) -> dict[str, Change]:
    return {key: change} if change is not None else {}


def plan_for(source: str, target: str, conflict: Conflict = "source-wins") -> Plan:
    base = PAST if source in PAST_READS else EVENT  # the event as last synced
    link = Link("a", "A", UID, base.content_hash(), "t1", _ends(base), "a")
    if source == "new":  # in the source, not yet synced
        src = _read("a", Change("a", EVENT, "s1"))
    else:
        src = _read("a", shown(PAST_READS.get(source, source), "a", base, "s", "source"))
    if target == "leftover":  # a crashed run's write: our uid, no mapping
        dst = _read("X", Change("X", TARGET, "x1"))
    elif target == "leftover, other":
        dst = _read("X", Change("X", TARGET.replace(title="by hand"), "x1"))
    elif target == "foreign":  # an item syncfw did not write
        dst = _read("F", Change("F", EVENT.with_uid("someone-elses"), "f1"))
    else:
        dst = _read("A", shown(target, "A", base.with_uid(UID), "t", "target"))
    return MasterPush().plan(
        PlanInput(
            pair="p",
            source=SideRead("src", src, full=source != "quiet"),
            target=SideRead("dst", dst, full=target != "quiet"),
            mappings={} if source in ("new", "absent") else {"a": link},
            window=WINDOW,
            normalize=normalize,
            conflict=conflict,
        )
    )


@pytest.mark.parametrize(("source", "target", "expected"), TABLE, ids=lambda v: v)
def test_master_push_decides(source: str, target: str, expected: str) -> None:
    assert outcome(plan_for(source, target)) == expected


@pytest.mark.parametrize("conflict", get_args(Conflict))
def test_no_conflict_rule_changes_a_row(conflict: Conflict) -> None:
    assert [outcome(plan_for(s, t, conflict)) for s, t, _ in TABLE] == [e for _, _, e in TABLE]
