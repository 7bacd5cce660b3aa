"""The writes of the two-sided planners: make one side of a linked event show the other.

:mod:`syncfw.core.two_way` decides which side wins; a :class:`Writer` turns that into
ops, each carrying the link to record once written. What each write keeps:

- answers: the written side's answers win for everyone who stays on the event (answers
  are not content). A side the read did not report counts as showing the attendees the
  link recorded of it (``Link.attendees`` for the target, ``source_attendees``).
- sync-off persons: the pair leaves them out, so a push never adds one; one the target
  shows stays there while the source shows them too.
- uids: an event keeps its uid on both sides, except on a link master push made before the
  pair turned two-way: its target item has syncfw's uid, and a pull keeps the source's own
  (a source the read did not report is read in full for it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from syncfw.core.attendees import dump_attendees, keep_answers, load_attendees
from syncfw.core.policies import UID_PREFIX, Plan, PlanInput, PlannedOp, Side, pair_tag
from syncfw.core.report import Failure
from syncfw.model import Attendee, Change, Event, Link, WriteOp, as_utc

__all__ = ["FOREVER", "Seen", "Standing", "Writer", "ends"]

#: How one side of a linked event stands against the state. ``left``: the target's event
#: no longer passes the pair's filters (reassigned, say): the link goes, nothing is written.
Standing = Literal["same", "moved", "edited", "deleted", "left", "unreadable"]

FOREVER = "9999-12-31T00:00:00+00:00"  # a series' stored end: never past


@dataclass(frozen=True, slots=True)
class Seen:
    """One side of a linked event: how it stands, and the event it shows."""

    standing: Standing
    change: Change | None = None  # as read, when the read reported it
    shape: Event | None = None  # the event in the source's form (filters, attendees)
    digest: str | None = None  # content hash of the side's own event
    inside: bool = False  # the event shows in the window (a series: one of its instances)


class Writer:
    """Adds a pair's writes (and state-only records) to ``plan``."""

    def __init__(self, inp: PlanInput, plan: Plan) -> None:
        self.inp, self.plan = inp, plan
        self.ours = f"{UID_PREFIX}{pair_tag(inp.pair)}-"  # the uids master push writes

    def to_target(self, m: Link | None, s: Seen, t: Seen) -> None:
        """Make the target show the source: update, create (again), or delete."""
        inp = self.inp
        if s.shape is None:  # the source deleted it
            assert m is not None
            op = WriteOp(
                "delete", key=m.target_key, etag=_etag(t, m.target_etag), notify=inp.notify
            )
            self.add(op, m, "target", m.target_uid)
            return
        assert s.change is not None and s.change.event is not None
        shown = t.change.event if t.change is not None else None
        if shown is not None and shown.overrides and "source" not in inp.keeps_overrides:
            # The target's changed instances never reached the source: writing over them
            # would lose them. Left for a hand to settle, and said so every run.
            self.plan.failures.append(
                Failure(
                    s.change.key,
                    s.shape.title,
                    inp.target.calendar,
                    f"the series has changed instances in '{inp.target.calendar}' that "
                    f"'{inp.source.calendar}' cannot store; not overwritten. Edit the series "
                    f"in '{inp.target.calendar}', or remove its changed instances there.",
                )
            )
            return
        uid = m.target_uid if m else s.change.event.uid
        own = s.change.event.attendees
        seen = _attendees(t, m.attendees if m else None)
        final = inp.finish(s.shape, seen, source=own).with_uid(uid)
        link = Link(
            s.change.key,
            "",
            uid,
            s.shape.content_hash(),
            None,
            ends(s.shape),
            s.change.key,
            attendees=dump_attendees(final.attendees),
            source_etag=s.change.etag,
            target_hash=final.content_hash(),
            source_attendees=dump_attendees(own),
        )
        if m is not None and _holds(t):
            op = WriteOp(
                "update", m.target_key, final, _etag(t, m.target_etag), inp.notify, inp.pair
            )
        else:
            op = WriteOp("create", event=final, notify=inp.notify, pair=inp.pair)
        self.add(op, m, "target", uid, link)

    def to_source(self, m: Link | None, s: Seen, t: Seen) -> None:
        """Make the source show the target: update, create (again), or delete."""
        if t.shape is None:  # the target deleted it
            assert m is not None
            op = WriteOp("delete", key=m.source_key, etag=_etag(s, m.source_etag))
            self.add(op, m, "source", m.target_uid)
            return
        assert t.change is not None and t.change.event is not None
        uid = m.target_uid if m else t.change.event.uid
        own = uid  # the source event's uid
        if m is not None and uid.startswith(self.ours):  # a link master push made
            if s.change is None:
                self.plan.needs_full_source = True  # the source's own uid is in its read
                return
            own = s.change.event.uid if s.change.event is not None else uid
        answers = _attendees(s, m.source_attendees if m else None)
        final = keep_answers(self.inp.admit(t.change.event), answers).with_uid(own)
        link = Link(
            "",
            t.change.key,
            uid,
            t.shape.content_hash(),
            t.change.etag,
            ends(t.shape),
            "",
            attendees=dump_attendees(t.change.event.attendees),
            target_hash=t.digest,
            source_attendees=dump_attendees(final.attendees),
        )
        if m is not None and _holds(s):
            op = WriteOp("update", m.source_key, final, _etag(s, m.source_etag), pair=self.inp.pair)
        else:
            op = WriteOp("create", event=final, pair=self.inp.pair)
        self.add(op, m, "source", uid, link)

    def add(
        self, op: WriteOp, m: Link | None, side: Side, uid: str, link: Link | None = None
    ) -> None:
        if op.event is not None and op.event.overrides and side not in self.inp.keeps_overrides:
            calendar = self.inp.source.calendar if side == "source" else self.inp.target.calendar
            self.plan.failures.append(
                Failure(
                    m.source_key if m else uid,
                    op.event.title,
                    calendar,
                    f"the series has changed instances, which '{calendar}' cannot store; "
                    "it is left out (writing it would lose them)",
                )
            )
            return
        title = op.event.title if op.event else uid
        key = m.source_key if m else ""
        self.plan.ops.append(PlannedOp(op, key, key, title, side=side, link=link, adopted=False))

    def remember(
        self, m: Link, s: Seen, t: Seen, *, source: bool = True, target: bool = True
    ) -> None:
        """No write: record the versions the sides show now (those not left for later)."""
        if source and s.change is not None and s.change.event is not None and s.shape:
            shown = dump_attendees(s.change.event.attendees)
            m = replace(
                m,
                source_hash=s.shape.content_hash(),
                source_etag=s.change.etag,
                source_attendees=shown,
            )
        if target and t.change is not None:
            shown = dump_attendees(t.change.event.attendees) if t.change.event else None
            m = replace(m, target_etag=t.change.etag, target_hash=t.digest, attendees=shown)
        self.plan.records.append(m)
        self.plan.unchanged += 1


def ends(event: Event) -> str:
    """A link's stored end: a series never ends (its instances decide what shows)."""
    if event.recurring:
        return FOREVER
    return as_utc(event.end).isoformat(timespec="seconds")


def _holds(seen: Seen) -> bool:
    """Whether the side still has the item (maybe moved out of the pair): update, not create."""
    return seen.standing != "deleted" or (seen.change is not None and seen.change.event is not None)


def _attendees(seen: Seen, stored: str | None) -> tuple[Attendee, ...]:
    """The attendees (their answers) a side shows: as read, or as the link last recorded."""
    if seen.change is None:
        return load_attendees(stored)
    return seen.change.event.attendees if seen.change.event is not None else ()


def _etag(seen: Seen, stored: str | None) -> str | None:
    return seen.change.etag if seen.change is not None else stored
