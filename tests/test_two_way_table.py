"""Two-way's decision table: how both sides stand, the phase and the conflict rule -> the plan.

One event, the planners called as functions: phase ``-`` is ``TwoWay``, ``open``/``close``
are ``OpenPullClosePush``'s phases. Conflict ``-``: the row holds under every rule (each
is tried). Words: see ``tests/planning.py``; reads are full unless a side is *quiet*.
"""

from __future__ import annotations

from typing import get_args

import pytest

from syncfw.core.policies import Conflict, Phase, Plan, PlanInput, SideRead, target_uid
from syncfw.core.two_way import OpenPullClosePush, TwoWay
from syncfw.model import Change, Event, Link, as_utc

from .planning import EVENT, PAST, WINDOW, edited, normalize, outcome, shown

# fmt: off
TABLE = [
    # source         target           phase    conflict       -> plan
    ("new",         "absent",        "-",     "-",           "create target"),
    ("absent",      "new",           "-",     "-",           "create source"),
    ("new",         "new",           "-",     "-",           "create target, create source"),
    ("new",         "new alike",     "-",     "-",           "record"),         # one uid: linked
    ("new",         "new, same uid", "-",     "source-wins", "update target"),
    ("new",         "new, same uid", "-",     "target-wins", "update source"),
    ("new",         "new, same uid", "-",     "newest-wins", "update source"),  # source: no time
    ("new",         "new, same uid", "-",     "fail",        "fail"),
    ("new",         "quiet",         "-",     "-",           "read target"),    # there already?
    ("quiet",       "new",           "-",     "-",           "read source"),
    ("new",         "unreadable",    "-",     "-",           "fail"),           # might be it
    ("unchanged",   "unchanged",     "-",     "-",           "nothing"),
    ("quiet",       "quiet",         "-",     "-",           "nothing"),
    ("answered",    "unchanged",     "-",     "-",           "record"),         # etag only
    ("unchanged",   "answered",      "-",     "-",           "record"),
    ("edited",      "unchanged",     "-",     "-",           "update target"),
    ("unchanged",   "edited",        "-",     "-",           "update source"),
    ("edited",      "answered",      "-",     "-",           "update target"),
    ("edited",      "edited",        "-",     "source-wins", "update target"),
    ("edited",      "edited",        "-",     "target-wins", "update source"),
    ("edited",      "edited",        "-",     "newest-wins", "update source"),  # target at 11
    ("edited last", "edited",        "-",     "newest-wins", "update target"),  # source at 12
    ("edited",      "edited",        "-",     "fail",        "fail"),           # both kept
    ("deleted",     "unchanged",     "-",     "-",           "delete target"),
    ("unchanged",   "deleted",       "-",     "-",           "delete source"),
    ("deleted",     "deleted",       "-",     "-",           "forget"),
    ("edited",      "deleted",       "-",     "-",           "create target"),  # edit kept
    ("deleted",     "edited",        "-",     "-",           "create source"),
    ("left out",    "unchanged",     "-",     "-",           "delete target"),  # type changed
    ("unchanged",   "left out",      "-",     "-",           "forget"),         # reassigned
    ("moved out",   "unchanged",     "-",     "-",           "update target"),  # moved along
    ("unchanged",   "moved out",     "-",     "-",           "update source"),
    ("deleted",     "moved out",     "-",     "-",           "forget"),         # aged out
    ("unreadable",  "unchanged",     "-",     "-",           "fail"),
    ("unchanged",   "unreadable",    "-",     "-",           "fail"),
    ("unreadable",  "edited",        "-",     "-",           "fail"),           # decided later
    ("bad rule",    "unchanged",     "-",     "-",           "fail"),           # Unreadable
    ("filter bug",  "unchanged",     "-",     "-",           "fail"),           # StepFailed
    ("past",        "past",          "-",     "-",           "nothing"),        # left alone
    ("deleted",     "past",          "-",     "-",           "forget"),
    ("past",        "deleted",       "-",     "-",           "forget"),
    ("new",         "absent",        "open",  "-",           "nothing"),        # waits for close
    ("absent",      "new",           "open",  "-",           "create source"),
    ("edited",      "unchanged",     "open",  "-",           "nothing"),
    ("unchanged",   "edited",        "open",  "-",           "update source"),
    ("edited",      "edited",        "open",  "-",           "update source"),  # remote wins
    ("edited",      "answered",      "open",  "-",           "record"),         # target's etag
    ("deleted",     "unchanged",     "open",  "-",           "nothing"),
    ("unchanged",   "deleted",       "open",  "-",           "delete source"),
    ("edited",      "deleted",       "open",  "-",           "delete source"),
    ("deleted",     "edited",        "open",  "-",           "create source"),
    ("new",         "absent",        "close", "-",           "create target"),
    ("absent",      "new",           "close", "-",           "nothing"),        # waits for open
    ("edited",      "unchanged",     "close", "-",           "update target"),
    ("unchanged",   "edited",        "close", "-",           "nothing"),
    ("edited",      "edited",        "close", "-",           "update target"),  # local wins
    ("answered",    "edited",        "close", "-",           "record"),         # source's etag
    ("unchanged",   "deleted",       "close", "-",           "nothing"),
    ("deleted",     "unchanged",     "close", "-",           "delete target"),
    ("edited",      "deleted",       "close", "-",           "create target"),
    ("deleted",     "edited",        "close", "-",           "delete target"),
]
# fmt: on

UNLINKED = ("new", "new alike", "new, same uid", "absent")


def _read(key: str, change: Change | None) -> dict[str, Change]:
    return {key: change} if change is not None else {}


def _target(standing: str, base: Event) -> dict[str, Change]:
    if standing == "new":  # another event, booked in the target
        return _read("B", Change("B", EVENT.replace(uid="b", title="booked there"), "b1"))
    if standing == "new alike":  # the source's new event, there under its uid already
        return _read("A", Change("A", EVENT, "t1"))
    if standing == "new, same uid":
        return _read("A", Change("A", edited(EVENT, "target", 11), "t1"))
    return _read("A", shown(standing, "A", base, "t", "target"))


def plan_for(source: str, target: str, phase: str, conflict: Conflict) -> Plan:
    base = PAST if "past" in (source, target) else EVENT  # the event as last synced
    ends = as_utc(base.end).isoformat(timespec="seconds")
    link = Link("a", "A", "a", base.content_hash(), "t1", ends, "a", source_etag="s1",
                target_hash=base.content_hash())  # fmt: skip
    new = Change("a", EVENT, "s1")
    src = _read("a", new if source == "new" else shown(source, "a", base, "s", "source"))
    linked = source not in UNLINKED and target not in UNLINKED
    policy = TwoWay() if phase == "-" else OpenPullClosePush()
    return policy.plan(
        PlanInput(
            pair="p",
            source=SideRead("src", src, full=source != "quiet"),
            target=SideRead("dst", _target(target, base), full=target != "quiet"),
            mappings={"a": link} if linked else {},
            window=WINDOW,
            normalize=normalize,
            conflict=conflict,
            phase=None if phase == "-" else phase,  # type: ignore[arg-type]
        )
    )


def _rules(conflict: str) -> tuple[Conflict, ...]:
    return get_args(Conflict) if conflict == "-" else (conflict,)  # type: ignore[return-value]


@pytest.mark.parametrize(("source", "target", "phase", "conflict", "expected"), TABLE, ids=str)
def test_two_sided_policies_decide(
    source: str, target: str, phase: str, conflict: str, expected: str
) -> None:
    got = {rule: outcome(plan_for(source, target, phase, rule)) for rule in _rules(conflict)}
    assert got == dict.fromkeys(_rules(conflict), expected)


@pytest.mark.parametrize("phase", [None, *get_args(Phase)])
def test_a_phase_holds_the_cursor_of_the_side_it_leaves_for_the_other(phase: Phase | None) -> None:
    held = {None: frozenset(), "open": {"source"}, "close": {"target"}}[phase]
    policy = TwoWay() if phase is None else OpenPullClosePush()
    empty = SideRead("x", {}, full=True)
    plan = policy.plan(
        PlanInput(
            pair="p",
            source=empty,
            target=empty,
            mappings={},
            window=WINDOW,
            normalize=normalize,
            phase=phase,
        )
    )
    assert plan.hold_cursors == held


@pytest.mark.parametrize(
    ("source", "expected"), [("quiet", "read source"), ("unchanged", "update source")]
)
def test_a_pull_over_a_link_master_push_made_keeps_the_source_events_uid(
    source: str, expected: str
) -> None:
    """Master push gave the target item syncfw's uid; the source's event has its own."""
    uid = target_uid("p", "a")
    ends = as_utc(EVENT.end).isoformat(timespec="seconds")
    link = Link("a", "A", uid, EVENT.content_hash(), "t1", ends, "a")  # as master push left it
    src = _read("a", shown(source, "a", EVENT.with_uid("a-uid"), "s", "source"))
    dst = _read("A", shown("edited", "A", EVENT.with_uid(uid), "t", "target"))
    plan = TwoWay().plan(
        PlanInput(
            pair="p",
            source=SideRead("src", src, full=source != "quiet"),
            target=SideRead("dst", dst, full=False),
            mappings={"a": link},
            window=WINDOW,
            normalize=normalize,
        )
    )
    assert outcome(plan) == expected
    if plan.ops:
        (write,) = plan.ops
        assert write.op.event is not None and write.op.event.uid == "a-uid"
        assert write.link is not None and write.link.target_uid == uid  # the target item's
