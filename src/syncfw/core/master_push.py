"""The master-push policy: the source is the master, the target shows what it says.

- new source items are created in the target under deterministic uids;
- changed ones are updated; deleted, filtered-out or out-of-window ones deleted;
- drift in the target (an edit, a deletion by hand) is overwritten;
- a target item the driver cannot read is reported and left alone: never updated nor
  deleted, until it reads again;
- target items that syncfw did not create are never touched;
- items that ended before the window are left alone (an item the source moved
  behind the window is updated once, so the target does not keep the old time);
- leftovers of a crashed run are adopted, or deleted once a full source read
  proves that no source item claims them (never while a source item is unreadable);
- a source item that cannot be synced - the driver could not read it, or ``normalize``
  raised :class:`~syncfw.errors.Unreadable` (a bad rule) or
  :class:`~syncfw.errors.StepFailed` (a filter's bug) - is reported, and nothing of it
  is deleted. Any other exception from ``normalize`` is a bug and fails the pair.
"""

from __future__ import annotations

from typing import Any, Literal

from syncfw.core.attendees import dump_attendees, load_attendees
from syncfw.core.policies import (
    UID_PREFIX,
    Plan,
    PlanInput,
    PlannedOp,
    Policy,
    pair_tag,
    target_uid,
)
from syncfw.core.report import Failure
from syncfw.errors import StepFailed, Unreadable
from syncfw.model import Attendee, Change, Event, Link, WriteOp, as_utc

__all__ = ["MasterPush"]


class MasterPush(Policy):
    name = "master-push"

    def plan(self, inp: PlanInput) -> Plan:
        return _Planner(inp).run()


class _Planner:
    def __init__(self, inp: PlanInput) -> None:
        self.inp = inp
        self.plan = Plan()
        self.maps = inp.mappings
        self.groups: dict[str, dict[str, Link]] = {}
        for key, m in self.maps.items():
            self.groups.setdefault(m.group, {})[key] = m
        # Parsed once: a mapping's stored end (text) against the window, as times.
        self.behind = {k for k, m in self.maps.items() if m.ends <= inp.window.start}
        self.etag_now: dict[str, str | None] = {}
        self.drifted: dict[str, Change] = {}
        self.unreadable_target: dict[str, Change] = {}  # by item key
        self.gone: set[str] = set()
        self.orphans: dict[str, list[Change]] = {}
        self.unreadable = False

    def past(self, m: Link) -> bool:
        """Behind the window, as far as syncfw wrote it and the target still shows it."""
        if m.source_key not in self.behind:
            return False
        seen = self.drifted.get(m.source_key)  # moved back into the window by hand?
        return seen is None or seen.event is None or self.inp.window.ended_before(seen.event.end)

    def run(self) -> Plan:
        self.observe_target()
        self.report_unreadable_target()
        needed = {self.maps[k].group for k in (*self.drifted, *self.gone)}
        if not self.inp.source.full and not needed <= self.inp.source.changes.keys():
            self.plan.needs_full_source = True  # drift to repair in items the read skipped
            return self.plan
        groups = dict(self.inp.source.changes)
        if self.inp.source.full:  # a full listing: a mapped group not in it is gone
            for group in self.groups.keys() - groups.keys():
                groups[group] = Change(group)
        for group, change in groups.items():
            if change.error is not None:
                self.skip_group(group, change)
            else:
                self.plan_group(group, change.event)
        self.plan.synced = sum(1 for m in self.maps.values() if not self.past(m))
        self.plan.unchanged += sum(
            1
            for m in self.maps.values()
            if m.group not in groups
            and not self.past(m)
            and m.source_key not in self.unreadable_target
        )
        self.remove_orphans()
        return self.plan

    def observe_target(self) -> None:
        """Sort the target's changes: our items' drift and deletions, and leftovers."""
        by_target = {m.target_key: m for m in self.maps.values()}
        ours = UID_PREFIX + pair_tag(self.inp.pair) + "-"
        target = self.inp.target
        for key, change in target.changes.items():
            mapped = by_target.get(key)
            if mapped is None:
                if change.event is not None and change.event.uid.startswith(ours):
                    self.orphans.setdefault(change.event.uid, []).append(change)
            elif change.deleted:
                self.gone.add(mapped.source_key)
            elif change.error is not None:
                self.unreadable_target[mapped.source_key] = change
            elif change.etag != mapped.target_etag:
                self.etag_now[mapped.source_key] = change.etag
                self.drifted[mapped.source_key] = change
        if target.full:
            self.gone.update(
                m.source_key for m in self.maps.values() if m.target_key not in target.changes
            )

    def report_unreadable_target(self) -> None:
        """Our target items the driver cannot read: writing over one could destroy what a
        person put there, and what it shows is unknown. Reported every run (cursors stay
        put) until it reads again; then it is drift, and repaired."""
        target = self.inp.target.calendar
        for key, change in self.unreadable_target.items():
            m = self.maps[key]
            if self.past(m):
                continue  # the past is left alone anyway
            source = self.inp.source.changes.get(m.group)
            title = source.event.title if source and source.event else key
            message = (
                f"{change.error}; syncfw leaves this item in '{target}' alone until it can be "
                f"read: fix or delete it there"
            )
            self.plan.failures.append(Failure(key, title, target, message))

    def skip_group(self, group: str, change: Change) -> None:
        """An item that cannot be synced this run: reported, and nothing of it deleted."""
        title = change.event.title if change.event else group
        self.plan.failures.append(
            Failure(group, title, self.inp.source.calendar, str(change.error))
        )
        self.orphans.pop(target_uid(self.inp.pair, group), None)
        self.unreadable = True  # its instances' leftovers cannot be told apart: keep all

    def plan_group(self, group: str, source: Event | None) -> None:
        window = self.inp.window
        try:
            items = dict(self.inp.normalize(group, source)) if source is not None else {}
        except (Unreadable, StepFailed) as exc:  # a malformed RRULE, a filter's bug
            self.skip_group(group, Change(group, source, error=str(exc)))
            return
        for key, m in self.groups.get(group, {}).items():
            item = items.get(key)
            if item is not None and window.overlaps(item):
                continue  # planned below
            if self.past(m):
                if item is None:
                    self.plan.forget.append(key)  # gone from the source and long past
                continue  # the past is left alone
            if m.source_key in self.gone:
                self.plan.forget.append(key)  # already gone from the target too
            elif key in self.unreadable_target:
                continue  # reported; never deleted unseen
            elif item is not None and window.ended_before(item.end):
                self.plan_item(group, key, item, m)  # moved behind the window: follow once
            else:
                etag = self.etag_now.get(key, m.target_etag)
                op = WriteOp("delete", key=m.target_key, etag=etag, notify=self.inp.notify)
                self.plan.ops.append(PlannedOp(op, key, group, source.title if source else key))
        for key, item in items.items():
            if window.overlaps(item):
                self.plan_item(group, key, item, self.maps.get(key))

    def plan_item(self, group: str, key: str, event: Event, mapped: Link | None) -> None:
        plan, inp = self.plan, self.inp
        if key in self.unreadable_target:
            return  # reported; never written over unseen
        # The uid is not part of the hash, so the source event's digest is the target's.
        digest = event.content_hash()
        ends = as_utc(event.end).isoformat(timespec="seconds")
        uid = mapped.target_uid if mapped else target_uid(inp.pair, key)
        seen = self.drifted.get(key)
        if mapped is not None and key not in self.gone and mapped.source_hash == digest:
            if seen is None:
                plan.unchanged += 1
                return

        def remember(target: Change) -> None:  # no write: record what the target shows
            shown = target.event.attendees if target.event else ()
            plan.records.append(
                Link(key, target.key, uid, digest, target.etag, ends, group, dump_attendees(shown))
            )
            plan.unchanged += 1

        def write(
            action: Literal["create", "update"],
            shown: tuple[Attendee, ...],
            adopted: bool = False,
            **target: Any,
        ) -> None:
            final = inp.finish(event, shown).with_uid(uid)
            op = WriteOp(action, event=final, notify=inp.notify, pair=inp.pair, **target)
            plan.ops.append(PlannedOp(op, key, group, event.title, digest, ends, adopted))

        def shows_it(target: Change) -> bool:  # the target already shows what we would write
            if target.event is None:
                return False
            return (
                inp.finish(event, target.event.attendees).content_hash()
                == target.event.content_hash()
            )

        if mapped is None or key in self.gone:
            found = self.orphans.pop(uid, [])
            for extra in found[1:]:  # two of ours for one item: keep one, like a leftover
                op = WriteOp("delete", key=extra.key, etag=extra.etag)
                plan.ops.append(PlannedOp(op, extra.key, "", event.title))
            if not found:
                plan.recreates += mapped is not None
                write("create", load_attendees(mapped.attendees) if mapped else ())
            elif shows_it(found[0]):
                remember(found[0])
            else:
                shown = found[0].event.attendees if found[0].event else ()
                write("update", shown, mapped is None, key=found[0].key, etag=found[0].etag)
            return
        if seen is not None and mapped.source_hash == digest and shows_it(seen):
            remember(seen)  # only the target's etag moved: an answer, or a change undone
            return
        shown = seen.event.attendees if seen and seen.event else load_attendees(mapped.attendees)
        etag = self.etag_now.get(key, mapped.target_etag)
        write("update", shown, key=mapped.target_key, etag=etag)

    def remove_orphans(self) -> None:
        """Our items that no source item claimed: leftovers of a crashed run."""
        if not self.orphans or self.unreadable:
            return
        if not self.inp.source.full:  # only a full source read proves them unclaimed
            self.plan.needs_full_source = True
            return
        for change in (c for changes in self.orphans.values() for c in changes):
            op = WriteOp("delete", key=change.key, etag=change.etag)
            title = change.event.title if change.event else change.key
            self.plan.ops.append(PlannedOp(op, change.key, "", title))
