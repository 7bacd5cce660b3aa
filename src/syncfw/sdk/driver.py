"""The driver contract: how the engine reads from and writes to a calendar.

A driver is a class with a ``name``, a pydantic ``Options`` model for its keys in
a profile, and ``capabilities``. The engine builds one per calendar of a profile
and calls two methods:

``read(cursor, window) -> Feed``
    The changes since ``cursor`` (everything when ``cursor`` is None), ending
    with the next cursor. A full read (``Feed.full``) lists every item, so an
    item the engine knows that is absent from it is gone. Raise
    :class:`~syncfw.errors.CursorExpired` when the provider rejects the cursor, or
    when the driver cannot use it (garbled, another driver's, another endpoint's):
    never read "nothing changed" from a cursor it does not understand. An item the
    driver cannot parse is a :class:`~syncfw.model.Change` with ``error`` set, in
    full and incremental reads alike: reported, never left out, never a tombstone.

``write(ops) -> Iterator[WriteResult]``
    Apply creates, updates and deletes, yielding one result per op, in order. The
    engine takes exactly one result per op of a batch (like ``zip()``, without
    asking for the iterator's end) and records them in one state transaction, so a
    result must stand for a write that is done when it is yielded: nothing may wait
    for the end of the iterator. Ops may be done lazily, each when its result is
    asked for, or a batch at a time where the protocol sends them together (one
    request, one file); a driver says which in its docstring.

    A create carries an event whose ``uid`` the engine chose deterministically; the
    driver must store it so that it reads back (that is how an interrupted create is
    adopted instead of duplicated). A create of a uid the calendar already has must
    not make a second item: refuse it (:class:`~syncfw.errors.PreconditionFailed`,
    as HTTP's ``If-None-Match: *``) or write over the item that has it (and return
    its key); only a provider without a unique key for it may make a second one,
    which master push finds by the uid on its next read and deletes. Updates and deletes carry the
    etag last read as their precondition. An update of an item that is gone fails
    with :class:`~syncfw.errors.NotFound` (the engine writes it anew) and never
    creates it; deleting an item that is already gone succeeds. Per-op failures
    are returned as ``WriteResult.error``; failures that make every further op
    pointless (auth, quota) are raised, after the results of the ops done before.

Third-party drivers subclass :class:`Driver` and register it through the
``syncfw_register_drivers`` hook; ``syncfw.testing`` holds the contract suite.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationInfo

from syncfw.errors import CursorExpired, DriverError, NotFound, PreconditionFailed
from syncfw.model import Change, Event, Person, Window, WriteOp

__all__ = [
    "Capabilities",
    "Driver",
    "DriverContext",
    "DriverOptions",
    "Feed",
    "PersonDirectory",
    "WriteOp",
    "WriteResult",
    "resolve_path",
]

Cursor = str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a driver can do. The engine and the loader plan around some fields; the
    contract suite (:mod:`syncfw.testing`) skips the checks of what a driver does not
    claim. Each field, and who reads it:

    ``read``
        The calendar can be read. Every calendar of a pair is read, so the loader
        refuses a pair with a calendar that cannot (file:line).
    ``write``
        :meth:`Driver.write` stores events. The loader refuses a pair whose target
        cannot (and a two-sided pair whose source cannot), and a driver without it as
        the calendar template of ``fan_out: copy`` (``attendees.calendar``).
    ``incremental``
        ``read(cursor)`` returns only what changed since the cursor. Without it the
        engine reads in full every time (the cursor it passes is always None) and
        :meth:`Driver.settle` is never asked.
    ``conditional_writes``
        An update or delete carrying an etag fails with
        :class:`~syncfw.errors.PreconditionFailed` when the item changed since (the
        engine then reads again and retries once). The engine sends the etags either
        way and does not read this flag; without it, an edit made between a run's read
        and its write is overwritten. The contract suite checks the preconditions.
    ``native_recurrence``
        A series is stored as one item with its RRULE, RDATEs, EXDATEs and overridden
        instances (``Event.overrides``). With ``recurrence: {mode: series}`` the
        engine writes a series whole only to such a target (else it writes the
        instances), and a two-way pair does not write a series with changed instances
        to a side without it (it would lose them); it reports them instead.
    ``attendees``
        Attendees (kind, optional, answer) and the organizer are stored. Nothing in
        the engine reads it; the contract suite skips the attendee round trips.
    ``batch_size``
        The most ops one ``write()`` call gets: the engine sends a pair's ops in
        batches of this size (at least 1) and records each batch's results in one
        state transaction; a stop requested mid-run ends after the batch in flight.
    ``client_ids``
        The uid the engine gives an event reads back. The engine relies on it to
        recognise its own events (and adopt a create a killed run did not record),
        so the loader refuses a pair whose target does not keep uids.
    """

    read: bool = True
    write: bool = True
    incremental: bool = False
    conditional_writes: bool = False
    native_recurrence: bool = False
    attendees: bool = True
    batch_size: int = 1
    client_ids: bool = True


class DriverOptions(BaseModel):
    """Base of every driver's ``Options``: unknown keys are profile errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    """A pydantic after-validator: a relative path counts from the profile's folder.

    Use as ``Annotated[Path, AfterValidator(resolve_path)]``.
    """
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    return value if value.is_absolute() or base is None else Path(base) / value


@dataclass(frozen=True, slots=True)
class DriverContext:
    """Where a driver instance lives: its name in the profile and useful folders."""

    calendar: str
    base_dir: Path = field(default_factory=Path.cwd)
    profile: str = ""  # the profile's file name without .yaml, for markers
    #: Where a driver may keep small files of its own (the engine: beside the state file);
    #: None when it runs without one, e.g. in a library call or a test.
    state_dir: Path | None = None


class Feed:
    """The changes of one read, then the cursor to read from next time.

    Wraps a generator that yields :class:`Change` and *returns* the next cursor::

        def read(self, cursor, window):
            return Feed(self._changes(cursor), full=cursor is None)

        def _changes(self, cursor):
            for item in pages:
                yield Change(...)
            return new_token

    ``cursor`` is only valid once the feed has been iterated to its end. Changes already
    in a list: ``Feed.of(changes, full=..., cursor=...)``.
    """

    def __init__(
        self, changes: Generator[Change, None, Cursor | None] | Iterable[Change], *, full: bool
    ) -> None:
        self._changes = changes
        self.full = full
        self.cursor: Cursor | None = None
        self._consumed = False

    @classmethod
    def of(cls, changes: Iterable[Change], *, full: bool, cursor: Cursor | None = None) -> Feed:
        """A feed of changes already at hand (a list), ending with ``cursor``."""

        def replay() -> Generator[Change, None, Cursor | None]:
            yield from changes
            return cursor

        return cls(replay(), full=full)

    def __iter__(self) -> Iterator[Change]:
        if self._consumed:
            raise RuntimeError("a Feed can be iterated once")
        self._consumed = True
        if isinstance(self._changes, Generator):
            self.cursor = yield from self._changes
        else:
            yield from self._changes


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What became of one :class:`WriteOp`: the item's key and etag, or the error."""

    op: WriteOp
    key: str | None = None
    etag: str | None = None
    error: DriverError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class PersonDirectory(Protocol):
    """A driver that also knows people (the job calendar): ``persons: {from: NAME}``."""

    def persons(self) -> list[Person]: ...


class Driver:
    """Base class of every driver. Subclasses set the class attributes and implement
    :meth:`read` and :meth:`write`; see the module docstring for the contract."""

    name: ClassVar[str]
    Options: ClassVar[type[DriverOptions]] = DriverOptions
    #: What the driver can do; an instance may refine it from its options (batch size).
    capabilities: Capabilities = Capabilities()

    def __init__(self, options: Any, context: DriverContext) -> None:
        self.options = options
        self.context = context

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        raise NotImplementedError

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        raise NotImplementedError

    @classmethod
    def location(cls, options: Any) -> str | None:
        """Where a calendar with these options keeps its events, or None when unknown.

        Two calendars of a profile are the same store exactly when their locations are
        equal; a ``file:`` location also holds every ``file:`` location below it (a folder
        of .ics files holds each file). syncfw refuses profiles whose pairs would copy a
        calendar into itself, run twice, or share a target. Drivers return a string such
        as ``file:/abs/path``, ``memory:NAME`` or the service URL with the calendar.
        """
        return None

    def series_problem(self, event: Event) -> str | None:
        """Why this calendar cannot store ``event`` as a series, or ``None`` when it can.

        Asked only of drivers with ``native_recurrence``, for series a pair keeps whole
        (``recurrence: {mode: series}``). A reason (e.g. "Graph has no BYSETPOS lists")
        makes the engine write that series as single events up to the horizon instead,
        and say so in the pair's report. The default stores every series but those only
        iCalendar can say: a RANGE=THISANDFUTURE override, a zone without an IANA name
        (drivers that write iCalendar return None for these; see the ics driver).
        """
        if any(o.this_and_future for o in event.overrides):
            return "it has a RANGE=THISANDFUTURE override, which this calendar cannot store"
        zone = event.start.tzinfo if isinstance(event.start, datetime) else None
        if (
            event.timezone is None
            and zone is not None
            and not isinstance(zone, ZoneInfo | timezone)
        ):
            return "its time zone is defined by its calendar and has no IANA name"
        return None

    def settle(self, cursor: Cursor, ours: Mapping[str, str | None]) -> Cursor | None:
        """A cursor past this run's own writes, or ``None`` to keep ``cursor``.

        Called after a run wrote to this calendar, with the cursor its read ended on and
        the keys its writes left, each with the etag the write returned (``None`` for a
        delete). A driver that can list what changed since ``cursor`` cheaply returns
        a newer cursor when *every* change is one of these writes, so the next run does
        not read its own writes back; anything else (a change by someone else, an etag
        it cannot compare) must return ``None``. The default returns ``None``.
        """
        return None

    def close(self) -> None:
        """Release connections and files. Called once the engine is done."""

    # -- errors of this calendar: ``raise self.error(...)``, ``WriteResult(error=...)`` --

    def error(self, message: str) -> DriverError:
        """A :class:`DriverError` naming this calendar."""
        return DriverError(message, calendar=self.context.calendar)

    def not_found(self, key: str) -> NotFound:
        """Item ``key`` of this calendar does not exist (an update of a missing item)."""
        return NotFound(key, calendar=self.context.calendar)

    def precondition_failed(self, key: str) -> PreconditionFailed:
        """Item ``key`` changed since its etag was read, or a create found it there."""
        return PreconditionFailed(key, calendar=self.context.calendar)

    def cursor_expired(self, message: str) -> CursorExpired:
        """This calendar rejects the cursor (malformed, too old): the engine reads in full."""
        return CursorExpired(message, calendar=self.context.calendar)

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.context.calendar!r}>"


def read_all(driver: Driver, window: Window) -> dict[str, Change]:
    """Every live item of a calendar by key (a full read); handy in tests and tools."""
    return {c.key: c for c in driver.read(None, window) if c.event is not None}
