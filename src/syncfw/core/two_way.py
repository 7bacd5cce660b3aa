"""The policies that write to both sides: two-way, and open-pull / close-push.

Both compare each linked event three ways: the source now, the target now, and
what the state remembers of each side from the last sync (its etag and content
hash). A side *changed* when it shows another etag and other content than that;
an etag that moved over the same content (an answer, a server's own rewrite) is
only recorded. So the events syncfw wrote itself are recognised by the etag the
write returned, and a pair never ping-pongs.

Events are whole here (a series is one item) and keep their uid on both sides:
an unlinked event on one side and one with the same uid on the other are the
same event (a write whose record was lost in a crash, or a state file that was
deleted), never a duplicate.

- ``two-way``: a change on one side is copied to the other; a change on both
  sides is a conflict, settled by the pair's ``conflict:`` (``source-wins``,
  ``target-wins``, ``newest-wins`` by the events' last-modified time, or
  ``fail``: reported, both sides left as they are). An edit against a deletion
  keeps the edit: the deleted side gets the event back.
- Scope: an event moved out of the window on one side is moved on the other too (an
  edit); one missing from a side while the other shows it outside the window (a read
  limited to the window, a series that ended) is left alone and unlinked. A source event
  the filters no longer keep (its type changed) is deleted from the target; a target event
  they no longer keep (reassigned) only loses its link: nothing is deleted from the source.
- ``open-pull-close-push``: phase ``open`` applies the target's (remote's)
  creates, edits and deletions to the source (local), the remote winning over
  local edits; phase ``close`` pushes the source's creates, edits and deletions
  of linked events to the target. Each phase leaves the other side's changes,
  and that side's cursor, for the other phase. No phase given: open, then close.

The writes - what each keeps of the side it writes over (answers, sync-off persons, the
source's uid on a link master push made) - are :mod:`syncfw.core.two_sided`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from syncfw.core.policies import Phase, Plan, PlanInput, Policy, Side
from syncfw.core.recurrence import expand
from syncfw.core.report import Failure
from syncfw.core.two_sided import Seen, Writer, ends
from syncfw.errors import StepFailed, Unreadable
from syncfw.model import Change, Event, Link, as_utc

__all__ = ["OpenPullClosePush", "TwoWay"]


class TwoWay(Policy):
    name = "two-way"
    two_sided = True

    def plan(self, inp: PlanInput) -> Plan:
        return _Planner(inp, pull=True, push=True).run()


class OpenPullClosePush(Policy):
    name = "open-pull-close-push"
    two_sided = True
    phases: ClassVar[tuple[Phase, ...]] = ("open", "close")

    def plan(self, inp: PlanInput) -> Plan:
        if inp.phase is None:
            raise ValueError("open-pull-close-push plans one phase at a time")
        opening = inp.phase == "open"
        return _Planner(inp, pull=opening, push=not opening).run()


class _Planner:
    def __init__(self, inp: PlanInput, *, pull: bool, push: bool) -> None:
        self.inp, self.pull, self.push = inp, pull, push
        self.both = pull and push
        self.plan = Plan()
        held: list[Side] = [] if push else ["source"]
        self.plan.hold_cursors = frozenset(held if pull else ["target"])
        self.unreadable: set[Side] = set()
        self.write = Writer(inp, self.plan)

    # -- reading both sides ---------------------------------------------------------

    def shape_source(self, key: str, event: Event) -> Event | None:
        """The source event as the pair sees it: ``None`` when filtered out.

        Raises Unreadable or StepFailed for an event the pipeline cannot take (reported,
        never taken for deleted: see :meth:`standing` and :meth:`new`).
        """
        items = list(self.inp.normalize(key, event))
        return items[0][1] if items else None

    def shape_target(self, event: Event) -> Event | None:
        """A target event in the source's form: admitted (given what the filters ask), shaped."""
        return self.shape_source(event.uid, self.inp.admit(event))

    def inside(self, event: Event) -> bool:
        """Whether the event shows in the window; a series, whether an instance does."""
        window = self.inp.window
        if not window.overlaps(event):
            return False
        if not event.recurring:
            return True
        try:
            return bool(expand(event.uid, event, start=window.start, end=window.end))
        except Unreadable:
            return True  # a rule we cannot read: never taken for gone

    def new(self, side: Side, change: Change) -> Event | None:
        """An unlinked event takes part when it passes the filters and shows in the window."""
        try:
            shape = self.present(side, change)
        except (Unreadable, StepFailed) as exc:
            self.unreadable_event(side, change, str(exc))
            return None
        return shape if shape is not None and self.inside(shape) else None

    def unreadable_event(self, side: Side, change: Change, message: str) -> None:
        """Reported; and no creates into that side this run (one of its unreadable
        items might be the very event a create would duplicate)."""
        calendar = self.inp.source.calendar if side == "source" else self.inp.target.calendar
        title = change.event.title if change.event else change.key
        self.plan.failures.append(Failure(change.key, title, calendar, message))
        self.unreadable.add(side)

    def present(self, side: Side, change: Change) -> Event | None:
        assert change.event is not None
        if side == "source":
            return self.shape_source(change.key, change.event)
        return self.shape_target(change.event)

    def run(self) -> Plan:
        inp = self.inp
        maps = inp.mappings
        by_target = {m.target_key: m for m in maps.values()}
        source = self.side_view("source", inp.source.changes, maps.keys(), inp.source.full)
        target = self.side_view("target", inp.target.changes, by_target.keys(), inp.target.full)
        new_source = {
            k: (c, self.new("source", c))
            for k, c in source.items()
            if k not in maps and c.event is not None
        }
        new_target = {
            k: (c, self.new("target", c))
            for k, c in target.items()
            if k not in by_target and c.event is not None
        }
        # Copying a new event needs the whole other side, where it may be already (same uid).
        if self.push and not inp.target.full and _any_shaped(new_source):
            self.plan.needs_full_target = True
        if self.pull and not inp.source.full and _any_shaped(new_target):
            self.plan.needs_full_source = True
        if self.plan.needs_full_source or self.plan.needs_full_target:
            return self.plan
        for m in maps.values():
            s = self.standing("source", m, source.get(m.source_key))
            t = self.standing("target", m, target.get(m.target_key))
            if not self.past(m, s, t):
                self.plan.synced += 1
                self.linked(m, s, t)
        self.unlinked(new_source, new_target)
        return self.plan

    def side_view(
        self, side: Side, changes: dict[str, Change], mapped: Iterable[str], full: bool
    ) -> dict[str, Change]:
        """The side's reported changes, plus tombstones for linked keys a full read missed;
        items the driver could not read are reported once here."""
        view = dict(changes)
        for change in changes.values():
            if change.error is not None:
                self.unreadable_event(side, change, str(change.error))
        if full:
            for key in mapped:
                view.setdefault(key, Change(key))
        return view

    def standing(self, side: Side, m: Link, change: Change | None) -> Seen:
        """Same, moved (another etag, same content), edited, deleted, or unreadable."""
        if change is None:
            return Seen("same")
        if change.error is not None:
            return Seen("unreadable", change)
        if change.event is None:
            return Seen("deleted", change)
        try:
            shape = self.present(side, change)
        except (Unreadable, StepFailed) as exc:
            self.unreadable_event(side, change, str(exc))
            return Seen("unreadable", change)
        if shape is None:  # filtered out: a job no longer of the type deletes its copy;
            return Seen("deleted" if side == "source" else "left", change)  # not the reverse
        own, inside = change.event.content_hash(), self.inside(shape)
        etag = m.source_etag if side == "source" else m.target_etag
        if change.etag is not None and change.etag == etag:
            return Seen("same", change, shape, own, inside)
        if side == "source" or m.target_hash is None:  # (None: linked by master push before)
            same = shape.content_hash() == m.source_hash
        else:
            same = own == m.target_hash
        return Seen("moved" if same else "edited", change, shape, own, inside)

    def past(self, m: Link, s: Seen, t: Seen) -> bool:
        """Ended before the window and not shown in it on either side: left alone."""
        if m.ends > self.inp.window.start or s.inside or t.inside:
            return False
        if s.standing == "deleted" or t.standing == "deleted":
            self.plan.forget.append(m.source_key)
        return True

    # -- deciding -------------------------------------------------------------------

    def linked(self, m: Link, s: Seen, t: Seen) -> None:
        if "unreadable" in (s.standing, t.standing):
            return  # reported; decided once it reads again
        s_edit, t_edit = s.standing == "edited", t.standing == "edited"
        s_gone, t_gone = s.standing == "deleted", t.standing == "deleted"
        if "left" in (s.standing, t.standing) or _aged_out(s, t) or _aged_out(t, s):
            self.plan.forget.append(m.source_key)  # both sides stay as they are
        elif s_gone and t_gone:
            self.plan.forget.append(m.source_key)
        elif s_edit and t_edit:
            self.both_edited(m, s, t)
        elif (s_edit or s_gone) and (t_edit or t_gone):  # an edit against a deletion
            winner = self.edit_against_delete(s_gone)
            if winner == "source":
                self.write.to_target(m, s, t)
            elif winner == "target":
                self.write.to_source(m, s, t)
        elif s_edit or s_gone:
            if self.push:
                self.write.to_target(m, s, t)
            elif t.standing == "moved":
                self.write.remember(m, s, t, source=False)  # the source's change waits for close
        elif t_edit or t_gone:
            if self.pull:
                self.write.to_source(m, s, t)
            elif s.standing == "moved":
                self.write.remember(m, s, t, target=False)  # the target's change waits for open
        elif "moved" in (s.standing, t.standing):
            self.write.remember(m, s, t)
        else:
            self.plan.unchanged += 1

    def edit_against_delete(self, source_deleted: bool) -> Side | None:
        """Two-way keeps the edit; a phase lets its own side win."""
        if self.both:
            return "target" if source_deleted else "source"
        return "target" if self.pull else "source"

    def both_edited(self, m: Link, s: Seen, t: Seen) -> None:
        assert s.shape is not None and t.shape is not None
        if s.shape.content_hash() == t.shape.content_hash():
            self.write.remember(m, s, t)  # the same edit on both sides
            return
        winner = self.settle(s, t)
        if winner == "source":
            self.write.to_target(m, s, t)
        elif winner == "target":
            self.write.to_source(m, s, t)

    def settle(self, s: Seen, t: Seen) -> Side | None:
        if not self.both:
            return "target" if self.pull else "source"
        rule = self.inp.conflict
        if rule == "newest-wins":
            s_time = s.change.event.modified if s.change and s.change.event else None
            t_time = t.change.event.modified if t.change and t.change.event else None
            if s_time is not None and t_time is not None and t_time != s_time:
                return "target" if as_utc(t_time) > as_utc(s_time) else "source"
            return "target" if s_time is None and t_time is not None else "source"
        if rule == "fail":
            assert s.shape is not None
            self.plan.failures.append(
                Failure(
                    s.change.key if s.change else "",
                    s.shape.title,
                    self.inp.source.calendar,
                    f"changed in both '{self.inp.source.calendar}' and "
                    f"'{self.inp.target.calendar}' since the last sync; both left as they "
                    f"are (conflict: fail). Make them agree, or set another conflict rule.",
                )
            )
            return None
        return "target" if rule == "target-wins" else "source"

    def unlinked(self, new_source: dict[str, _New], new_target: dict[str, _New]) -> None:
        """Events only one side knows: the same uid on both is one event; others are copied.

        A uid whose event on the other side is outside the pair (before the window,
        filtered out) is left alone on both: a copy would clash with it.
        """
        by_uid: dict[str, tuple[str, Change, Event | None]] = {}
        for key, (change, shape) in new_target.items():
            assert change.event is not None
            if shape is None or not self.duplicate(by_uid, change):
                by_uid.setdefault(change.event.uid, (key, change, shape))
        outside: set[str] = set()
        for key, (change, shape) in new_source.items():
            assert change.event is not None
            match = by_uid.pop(change.event.uid, None)
            if shape is None:
                outside.add(change.event.uid)
                continue
            s = Seen("edited", change, shape, change.event.content_hash())
            if match is not None and match[2] is not None:
                t = Seen("edited", match[1], match[2], match[1].event.content_hash())  # type: ignore[union-attr]
                self.both_edited(_link(key, match[0], change.event), s, t)
            elif match is None and self.push and "target" not in self.unreadable:
                self.write.to_target(None, s, Seen("deleted"))
        if self.pull and "source" not in self.unreadable:
            for uid, (_, change, shape) in by_uid.items():
                if shape is None or uid in outside:
                    continue
                digest = change.event.content_hash()  # type: ignore[union-attr]
                self.write.to_source(None, Seen("deleted"), Seen("edited", change, shape, digest))

    def duplicate(
        self, by_uid: dict[str, tuple[str, Change, Event | None]], change: Change
    ) -> bool:
        assert change.event is not None
        if change.event.uid not in by_uid:
            return False
        calendar = self.inp.target.calendar
        self.plan.failures.append(
            Failure(
                change.key,
                change.event.title,
                calendar,
                f"uid {change.event.uid!r} is used by two events in '{calendar}'; "
                "only the first is synced",
            )
        )
        return True


#: A new (unlinked) event: as read, and in the source's form (None: outside the pair).
_New = tuple[Change, Event | None]


def _any_shaped(new: dict[str, _New]) -> bool:
    return any(shape is not None for _, shape in new.values())


def _link(source_key: str, target_key: str, event: Event) -> Link:
    """A link for two unlinked events of one uid: no known versions, so both count as edited."""
    return Link(source_key, target_key, event.uid, "", None, ends(event), source_key)


def _aged_out(gone: Seen, other: Seen) -> bool:
    """Missing on one side while the other shows it outside the window: a read limited to
    the window (a series that ended, say) is no deletion to copy."""
    event = other.change.event if other.change is not None else None
    return (
        gone.standing == "deleted"
        and gone.change is not None
        and event is not None
        and (not other.inside)
    )
