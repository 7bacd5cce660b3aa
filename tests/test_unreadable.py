"""An event that cannot be read, and a filter that fails on one, are told apart.

Both leave the event alone (reported, never taken for deleted), but the report says which:
a malformed event is the calendar's to fix, a failing filter or transform is a bug in it.
Any other exception while an event is prepared is a bug of syncfw and fails the pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

import syncfw
from syncfw.core.master_push import MasterPush
from syncfw.core.policies import PlanInput, Policy, SideRead, target_uid
from syncfw.core.recurrence import expand
from syncfw.core.two_way import TwoWay
from syncfw.drivers.memory import MemoryStore
from syncfw.errors import StepFailed, SyncfwError, Unreadable
from syncfw.hooks.filters import build_filter, build_transform
from syncfw.hooks.manager import Plugins
from syncfw.model import Change, Event, Link, Window
from syncfw.sdk.ical import parse_calendars

from .conftest import MakeProfile, event

START = datetime(2030, 1, 10, 9, tzinfo=UTC)
WINDOW = Window(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 3, 1, tzinfo=UTC))
EVENT = Event("a", "meeting", START, START + timedelta(hours=1))


def _raises(error: Exception):
    def build(value: object):
        def step(event: Event):
            raise error

        return step

    return build


# -- the types -----------------------------------------------------------------------------


def test_a_step_that_raises_becomes_step_failed_naming_it() -> None:
    bug = KeyError("attendees")
    keep = build_filter({"picky": True}, {"picky": _raises(bug)})
    with pytest.raises(StepFailed) as info:
        keep(EVENT)
    assert (info.value.kind, info.value.name, info.value.error) == ("filter", "picky", bug)
    assert info.value.__cause__ is bug
    assert "filter 'picky' failed on this event (KeyError: 'attendees')" in str(info.value)
    shout = build_transform("shout", {"shout": _raises(TypeError("no"))})
    with pytest.raises(StepFailed, match="transform 'shout' failed"):
        shout(EVENT)


def test_a_step_that_finds_the_event_unreadable_says_so_unwrapped() -> None:
    keep = build_filter({"series": 1}, {"series": _raises(Unreadable("RRULE without FREQ"))})
    with pytest.raises(Unreadable, match="RRULE without FREQ"):
        keep(EVENT)


def test_a_bad_rule_is_unreadable_and_still_a_value_error() -> None:
    series = EVENT.replace(rrule=("FREQ=SOMETIMES",))
    with pytest.raises(Unreadable, match="recurring event 'meeting'") as info:
        expand("a", series, start=WINDOW.start, end=WINDOW.end)
    assert isinstance(info.value, ValueError) and isinstance(info.value, SyncfwError)
    with pytest.raises(ValueError, match="timezone-aware") as naive:  # the caller's mistake
        expand("a", series, start=datetime(2030, 1, 1), end=datetime(2030, 2, 1))
    assert not isinstance(naive.value, Unreadable)


def test_a_document_that_is_no_calendar_is_unreadable() -> None:
    with pytest.raises(Unreadable, match="not an iCalendar document"):
        parse_calendars("hello")


# -- the planners, as functions -------------------------------------------------------------


def _normalize(error: Exception):
    def normalize(key: str, event: Event) -> Iterable[tuple[str, Event]]:
        if event.title == "broken":
            raise error
        return [(key, event)]

    return normalize


def _plan(policy: Policy, error: Exception):
    """A linked event, edited in the source into one the pipeline fails on."""
    two_way = policy.two_sided
    uid = "a" if two_way else target_uid("p", "a")
    link = Link(
        "a", "A", uid, EVENT.content_hash(), "t1", "2030-01-10T10:00:00+00:00", "a",
        source_etag="s1" if two_way else None,
        target_hash=EVENT.content_hash() if two_way else None,
    )  # fmt: skip
    broken = Change("a", EVENT.replace(title="broken"), "s2")
    return policy.plan(
        PlanInput(
            pair="p",
            source=SideRead("src", {"a": broken}, full=True),
            target=SideRead("dst", {"A": Change("A", EVENT.with_uid(uid), "t1")}, full=True),
            mappings={"a": link},
            window=WINDOW,
            normalize=_normalize(error),
        )
    )


@pytest.mark.parametrize("policy", [MasterPush(), TwoWay()], ids=lambda p: p.name)
@pytest.mark.parametrize(
    ("error", "says"),
    [
        (StepFailed("filter", "picky", RuntimeError("oops")), "filter 'picky' failed"),
        (Unreadable("invalid RRULE 'FREQ=SOMETIMES'"), "invalid RRULE"),
    ],
    ids=["filter bug", "unreadable"],
)
def test_the_planners_report_the_event_and_delete_nothing(
    policy: Policy, error: Exception, says: str
) -> None:
    plan = _plan(policy, error)
    assert (plan.ops, plan.forget) == ([], [])
    (failure,) = plan.failures
    assert (failure.key, failure.calendar) == ("a", "src") and says in failure.message


@pytest.mark.parametrize("policy", [MasterPush(), TwoWay()], ids=lambda p: p.name)
def test_any_other_exception_of_the_pipeline_is_a_bug_and_not_reported_as_an_event(
    policy: Policy,
) -> None:
    with pytest.raises(KeyError, match="oops"):
        _plan(policy, KeyError("oops"))
    with pytest.raises(ValueError, match="a plain ValueError"):
        _plan(policy, ValueError("a plain ValueError"))


# -- in a run ------------------------------------------------------------------------------


class _Buggy:
    """A filter plugin with a bug: events titled "broken" make it raise AttributeError."""

    @syncfw.hookimpl
    def syncfw_register_filters(self, register) -> None:
        def build(value):
            def keep(event):
                if event.title == "broken":
                    return event.no_such_field
                return True

            return keep

        register("buggy", build)


@pytest.mark.parametrize("policy", ["master-push", "two-way"])
def test_a_failing_filter_is_reported_by_name_and_a_bad_rule_as_unreadable(
    write_profile: MakeProfile, policy: str
) -> None:
    path = write_profile(
        f"""
        version: 1
        calendars:
          src: {{driver: memory, name: src}}
          dst: {{driver: memory, name: dst}}
        pairs:
          - {{name: p, source: src, target: dst, policy: {policy},
             window: {{past_days: 7, future_days: 60}}, filters: [{{buggy: on}}]}}
        """
    )
    plugins = Plugins(extra=[_Buggy()])
    source, target = MemoryStore.named("src"), MemoryStore.named("dst")
    source.put(event("a", "fine"))
    assert syncfw.run(path, plugins=plugins).pairs[0].created == 1
    source.put(event("a", "broken"))
    expands = policy == "master-push"  # two-way keeps a series whole: it reads no rule
    if expands:
        source.put(event("s", "series", rrule=("FREQ=SOMETIMES",)))
    report = syncfw.run(path, plugins=plugins).pairs[0]
    assert report.error is None and report.failed == 1 + expands
    messages = {f.title: f.message for f in report.failures}
    assert "filter 'buggy' failed on this event (AttributeError:" in messages["broken"]
    if expands:
        assert "invalid RRULE" in messages["series"] and "filter" not in messages["series"]
    assert [e.title for e in target.events().values()] == ["fine"]  # nothing deleted
