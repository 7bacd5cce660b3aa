"""Values to drive the planners as functions: PlanInput in, Plan out; no engine, state or driver.

One event, ``a`` in the source and ``A`` in the target, in a fixed window. A side's
*standing* says how that side's read shows it against the last sync (the link):

- ``new``: there, never synced (no link); ``absent``: not there, no link
- ``unchanged``: read with the etag and content last synced; ``quiet``: not reported by an
  incremental read; ``answered``: another etag over the same content (an attendee's answer)
- ``edited`` / ``drifted``: another etag and other content (drifted: the target of master
  push); ``edited last``: an edit modified after the other side's
- ``deleted``: a tombstone; ``gone`` / ``missing``: left out of a full read
- ``left out``: the pair's filters drop it; ``moved out``: moved after the window;
  ``moved behind``: moved before it; ``moved in``: a past event moved back into it
- ``past``: synced when it ended before the window, and shown so
- ``unreadable``: the driver reports it as an error; ``bad rule``: the pipeline finds it
  :class:`Unreadable`; ``filter bug``: a filter raises on it (:class:`StepFailed`)

:func:`outcome` renders a plan in the tables' words: ``create|update|delete source|target``
(``(adopt)``: the item existed already), ``record`` (a state-only fix), ``forget`` (a link
goes), ``fail`` (reported), ``read source|target`` (asks for a full read first), ``nothing``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from syncfw.core.policies import Plan
from syncfw.errors import StepFailed, Unreadable
from syncfw.model import Attendee, Change, Event, Window

WINDOW = Window(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 3, 1, tzinfo=UTC))
START = datetime(2030, 1, 10, 9, tzinfo=UTC)
#: The event as last synced: what both sides showed then.
EVENT = Event("a", "meeting", START, START + timedelta(hours=1), attendees=(Attendee("ann@x.org"),))


def shifted(event: Event, days: int) -> Event:
    return event.replace(start=event.start + timedelta(days), end=event.end + timedelta(days))


#: The same event, ended before the window (a link to it is *past*).
PAST = shifted(EVENT, -21)
#: An answer is not content: another etag, the same content hash.
ANSWERED = EVENT.replace(attendees=(Attendee("ann@x.org", response="accepted"),))


def modified(hour: int) -> datetime:
    return datetime(2030, 1, 5, hour, tzinfo=UTC)


def edited(event: Event, side: str, hour: int) -> Event:
    """An edit on one side, last modified at ``hour`` (the target's at 11, later: newer)."""
    return event.replace(title=f"edited in {side}", modified=modified(hour))


def normalize(key: str, event: Event) -> Iterable[tuple[str, Event]]:
    """The pair's steps, as a function: an event titled "left out" is filtered out, one
    titled "bad rule" cannot be read, on one titled "filter bug" a filter raises."""
    if event.title == "bad rule":
        raise Unreadable(f"recurring event {event.title!r}: invalid RRULE 'FREQ=SOMETIMES'")
    if event.title == "filter bug":
        raise StepFailed("filter", "picky", KeyError("attendees"))
    return () if event.title == "left out" else [(key, event)]


def shown(standing: str, key: str, event: Event, etag: str, side: str) -> Change | None:
    """How a linked side's read reports the event; None: not reported (or not there)."""
    hour = 10 if side == "source" else 11
    return {
        "unchanged": Change(key, event, etag + "1"),
        "answered": Change(key, ANSWERED.with_uid(event.uid), etag + "2"),
        "edited": Change(key, edited(event, side, hour), etag + "2"),
        "edited last": Change(key, edited(event, side, 12), etag + "2"),
        "drifted": Change(key, edited(event, side, hour), etag + "2"),
        "moved out": Change(key, shifted(event, 90), etag + "2"),  # after the window
        "moved behind": Change(key, PAST.with_uid(event.uid), etag + "2"),
        "moved in": Change(key, EVENT.with_uid(event.uid), etag + "2"),  # back into the window
        "deleted": Change(key),
        "left out": Change(key, event.replace(title="left out"), etag + "2"),
        "bad rule": Change(key, event.replace(title="bad rule"), etag + "2"),
        "filter bug": Change(key, event.replace(title="filter bug"), etag + "2"),
        "unreadable": Change(key, None, etag + "2", error="line 3: DTSTART cannot be parsed"),
        "past": Change(key, PAST.with_uid(event.uid), etag + "1"),
    }.get(standing)  # fmt: skip


def outcome(plan: Plan) -> str:
    """The plan in the tables' words: its writes, state-only fixes, reports and re-reads."""
    words = [f"{p.op.action} {p.side}" + (" (adopt)" if p.adopted else "") for p in plan.ops]
    words += ["record"] * bool(plan.records) + ["forget"] * bool(plan.forget)
    words += ["fail"] * bool(plan.failures)
    words += ["read source"] * plan.needs_full_source + ["read target"] * plan.needs_full_target
    return ", ".join(words) or "nothing"
