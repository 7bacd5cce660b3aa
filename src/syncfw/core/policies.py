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
from typing import ClassVar, Literal, Protocol

from syncfw.core.report import Failure
from syncfw.model import Attendee, Change, Event, Link, Window, WriteOp

__all__ = ["Plan", "PlanInput", "PlannedOp", "Policy", "Side", "SideRead", "target_uid"]

UID_PREFIX = "syncfw-"

#: Turns one source event into the target items it stands for: (item key, event) pairs.
Normalize = Callable[[str, Event], Iterable[tuple[str, Event]]]


class Finish(Protocol):
    """Prepares an item for writing over a side that shows ``seen`` attendees (their answers).

    ``source``, given by two-sided policies: the attendees the item's own side shows, before
    the pair normalized them (so persons it leaves out, sync off, that both sides show stay).
    """

    def __call__(
        self, event: Event, seen: tuple[Attendee, ...], /, *, source: tuple[Attendee, ...] = ()
    ) -> Event: ...


#: Prepares a target event for writing into the source, so the pair's filters keep it.
Admit = Callable[[Event], Event]

Side = Literal["source", "target"]
Phase = Literal["open", "close"]
Conflict = Literal["source-wins", "target-wins", "newest-wins", "fail"]


def as_is(
    event: Event, seen: tuple[Attendee, ...], /, *, source: tuple[Attendee, ...] = ()
) -> Event:
    return event


def admit_as_is(event: Event) -> Event:
    return event


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


@dataclass(frozen=True, kw_only=True)
class PlanInput:
    """Everything a policy plans from: values, and the pair's steps as functions.

    Keyword-only, so a call reads as what it hands over and a new field cannot shift
    the others.
    """

    pair: str
    source: SideRead
    target: SideRead
    mappings: Mapping[str, Link]  # by item key
    window: Window
    normalize: Normalize
    finish: Finish = as_is
    notify: Literal["none", "all", "external"] = "none"
    conflict: Conflict = "source-wins"
    phase: Phase | None = None  # open-pull-close-push: which half of the session; None = both
    admit: Admit = admit_as_is
    keeps_overrides: frozenset[Side] = frozenset(("source", "target"))  # native recurrence


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
    side: Side = "target"  # the side written to
    link: Link | None = None  # two-way: the mapping once written (side's key/etag added)


@dataclass
class Plan:
    ops: list[PlannedOp] = field(default_factory=list)
    records: list[Link] = field(default_factory=list)  # state-only fixes, no write
    forget: list[str] = field(default_factory=list)  # item keys whose mapping goes
    failures: list[Failure] = field(default_factory=list)
    needs_full_source: bool = False
    needs_full_target: bool = False
    hold_cursors: frozenset[Side] = frozenset()  # sides whose changes are left for a later run
    unchanged: int = 0  # synced items that need no write
    synced: int = 0  # mappings of items not behind the window (what the guard protects)
    recreates: int = 0  # synced items the target lost, to be written again

    def count(self, action: str) -> int:
        return sum(1 for p in self.ops if p.op.action == action)


class Policy:
    """Base of direction policies. ``name`` is the profile's ``policy:`` value.

    A policy that writes to both sides sets ``two_sided``: it then sees whole
    events (a series stays one item; no transforms, which could not be undone on
    the way back) and its ops name the side they write to.
    """

    name: ClassVar[str]
    two_sided: ClassVar[bool] = False
    #: A policy run in phases (open, close) plans one at a time: ``PlanInput.phase``.
    phases: ClassVar[tuple[Phase, ...]] = ()

    def plan(self, inp: PlanInput) -> Plan:
        raise NotImplementedError
