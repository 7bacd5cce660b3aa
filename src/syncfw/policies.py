"""Direction policies: given what both sides reported and what the state knows, plan the writes.

A policy is pure: it reads :class:`PlanInput` and returns a :class:`Plan`; the
engine does all reading, guarding, applying and recording. Policies register
through the ``syncfw_register_policies`` hook; the builtins are registered by
this module the same way.

Vocabulary: a *group* is one item of the source feed (its key); it becomes one
or more target *items* (a recurring series expanded to instances gives many),
each with its own item key. Mappings are per item and remember their group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Literal

from .driver import WriteOp
from .hookspecs import hookimpl
from .model import Change, Event, Window, as_utc
from .report import Failure
from .state import Mapping as StateMapping

__all__ = ["MasterPush", "Plan", "PlanInput", "PlannedOp", "Policy", "SideRead", "target_uid"]

UID_PREFIX = "syncfw-"

#: Turns one source event into the target items it stands for: (item key, event) pairs.
Normalize = Callable[[str, Event], Iterable[tuple[str, Event]]]


def pair_tag(pair: str) -> str:
    return hashlib.blake2b(pair.encode(), digest_size=4).hexdigest()


def target_uid(pair: str, item_key: str) -> str:
    """The deterministic uid of the target item for a source item.

    Derived from the pair and the item key only, so a create that is retried
    after a crash carries the same uid and is adopted instead of duplicated.
    The pair tag lets syncfw recognise its own items in a target.
    """
    digest = hashlib.blake2b(item_key.encode(), digest_size=16).hexdigest()
    return f"{UID_PREFIX}{pair_tag(pair)}-{digest}"


@dataclass
class SideRead:
    """One side's feed, collected: the latest change per key, and whether it was a full read."""

    calendar: str
    changes: dict[str, Change]
    full: bool
    cursor: str | None = None


@dataclass(frozen=True)
class PlanInput:
    pair: str
    source: SideRead
    target: SideRead
    mappings: Mapping[str, StateMapping]  # by item key
    window: Window
    normalize: Normalize


@dataclass(frozen=True, slots=True)
class PlannedOp:
    """A write plus what to record once it succeeded."""

    op: WriteOp
    item_key: str
    group: str
    title: str
    source_hash: str | None = None
    ends_at: str | None = None
    adopted: bool = False  # the item exists already: an update that counts as a create


@dataclass
class Plan:
    ops: list[PlannedOp] = field(default_factory=list)
    records: list[StateMapping] = field(default_factory=list)  # state-only fixes, no write
    forget: list[str] = field(default_factory=list)  # item keys whose mapping goes
    failures: list[Failure] = field(default_factory=list)
    needs_full_source: bool = False

    def count(self, action: str) -> int:
        return sum(1 for p in self.ops if p.op.action == action)


class Policy:
    """Base of direction policies. ``name`` is the profile's ``policy:`` value."""

    name: ClassVar[str]

    def plan(self, inp: PlanInput) -> Plan:
        raise NotImplementedError


class MasterPush(Policy):
    """One-way: the source is the master; the target shows exactly what it says.

    - new source items are created in the target with deterministic uids;
    - changed ones are updated, deleted or out-of-scope ones deleted;
    - drift in the target (an edit, a deletion by hand) is overwritten;
    - items of the target that syncfw did not create are never touched;
    - items that ended before the window are left alone.
    """

    name = "master-push"

    def plan(self, inp: PlanInput) -> Plan:
        plan = Plan()
        maps = inp.mappings
        by_target = {m.target_key: m for m in maps.values()}
        groups: dict[str, dict[str, StateMapping]] = {}
        for key, m in maps.items():
            groups.setdefault(m.group, {})[key] = m

        # What the target says about our items: current etags, drift, deletions.
        etag_now: dict[str, str | None] = {}
        drifted: dict[str, Change] = {}
        gone: set[str] = set()
        ours = UID_PREFIX + pair_tag(inp.pair) + "-"
        orphans: dict[str, list[Change]] = {}
        for key, change in inp.target.changes.items():
            mapped = by_target.get(key)
            if mapped is None:
                if change.event is not None and change.event.uid.startswith(ours):
                    orphans.setdefault(change.event.uid, []).append(change)
                continue
            if change.deleted:
                gone.add(mapped.source_key)
            elif change.etag != mapped.target_etag or change.error:
                etag_now[mapped.source_key] = change.etag
                drifted[mapped.source_key] = change
        if inp.target.full:
            gone.update(
                m.source_key for m in maps.values() if m.target_key not in inp.target.changes
            )

        needs_source = {maps[k].group for k in (*drifted, *gone)}
        if not inp.source.full and not needs_source <= inp.source.changes.keys():
            plan.needs_full_source = True
            return plan

        def current_etag(m: StateMapping) -> str | None:
            return etag_now.get(m.source_key, m.target_etag)

        def delete(m: StateMapping, title: str, source_end: datetime | date | None) -> None:
            if m.source_key in gone:
                plan.forget.append(m.source_key)
                return
            past = inp.window.ended_before(datetime.fromisoformat(m.ends_at))
            if past or (source_end is not None and inp.window.ended_before(source_end)):
                return  # what dropped behind the window is left alone
            op = WriteOp("delete", key=m.target_key, etag=current_etag(m))
            plan.ops.append(PlannedOp(op, m.source_key, m.group, title))

        source_groups = dict(inp.source.changes)
        if inp.source.full:  # a full listing: a mapped group not in it is gone
            for group in groups.keys() - source_groups.keys():
                source_groups[group] = Change(group)

        for group, change in source_groups.items():
            existing = groups.get(group, {})
            if change.error is not None:
                title = change.event.title if change.event else group
                plan.failures.append(Failure(group, title, inp.source.calendar, change.error))
                continue
            desired: dict[str, Event] = {}
            if change.event is not None:
                desired = {
                    key: event
                    for key, event in inp.normalize(group, change.event)
                    if inp.window.overlaps(event)
                }
            source = change.event
            for key, m in existing.items():
                if key not in desired:
                    delete(m, source.title if source else key, source.end if source else None)
            for key, event in desired.items():
                self._plan_item(
                    inp,
                    plan,
                    group,
                    key,
                    event,
                    maps.get(key),
                    current_etag,
                    drifted,
                    gone,
                    orphans,
                )

        # Our items that no source item claimed: leftovers of a crashed run. Only a
        # full source read proves that nothing claims them.
        if orphans and not inp.source.full:
            plan.needs_full_source = True
            return plan
        for change in (c for changes in orphans.values() for c in changes):
            op = WriteOp("delete", key=change.key, etag=change.etag)
            title = change.event.title if change.event else change.key
            plan.ops.append(PlannedOp(op, change.key, "", title))
        return plan

    def _plan_item(
        self,
        inp: PlanInput,
        plan: Plan,
        group: str,
        key: str,
        event: Event,
        mapped: StateMapping | None,
        current_etag: Callable[[StateMapping], str | None],
        drifted: dict[str, Change],
        gone: set[str],
        orphans: dict[str, list[Change]],
    ) -> None:
        # The uid is not part of the hash, so the source event's digest is the target's.
        digest = event.content_hash()
        ends = as_utc(event.end).isoformat()
        uid = mapped.target_uid if mapped else target_uid(inp.pair, key)

        def planned(op: WriteOp, adopted: bool = False) -> PlannedOp:
            return PlannedOp(op, key, group, event.title, digest, ends, adopted)

        def write(action: Literal["create", "update"], **target: Any) -> WriteOp:
            return WriteOp(action, event=event.with_uid(uid), **target)

        if mapped is None:
            found = orphans.pop(uid, [])
            for extra in found[1:]:  # two of ours for one item: keep one
                plan.ops.append(planned(WriteOp("delete", key=extra.key, etag=extra.etag)))
            if not found:
                plan.ops.append(planned(write("create")))
                return
            target = found[0]
            adopted = StateMapping(key, target.key, uid, digest, target.etag, ends, group)
            if target.event is not None and target.event.content_hash() == digest:
                plan.records.append(adopted)
            else:
                op = write("update", key=target.key, etag=target.etag)
                plan.ops.append(planned(op, adopted=True))
            return
        if key in gone:
            plan.ops.append(planned(write("create")))
            return
        seen = drifted.get(key)
        if mapped.source_hash == digest and seen is None:
            return
        if mapped.source_hash == digest and seen is not None and seen.event is not None:
            if seen.event.content_hash() == digest:
                # Only the target's etag moved (or someone changed it back): remember it.
                plan.records.append(
                    StateMapping(
                        key, mapped.target_key, mapped.target_uid, digest, seen.etag, ends, group
                    )
                )
                return
        op = write("update", key=mapped.target_key, etag=current_etag(mapped))
        plan.ops.append(planned(op))


@hookimpl
def syncfw_register_policies(register: Callable[[Policy], None]) -> None:
    register(MasterPush())
