"""Provider-neutral values: events, attendees, persons, changes and windows.

Every value here is a frozen dataclass. Drivers translate their provider's
representation to and from :class:`Event`; the engine only ever compares
events through :meth:`Event.content_hash`.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

__all__ = [
    "Attendee",
    "AttendeeKind",
    "Change",
    "Event",
    "Link",
    "Person",
    "Response",
    "Status",
    "Transparency",
    "Visibility",
    "Window",
    "WriteOp",
    "as_utc",
]

AttendeeKind = Literal["individual", "resource", "room", "group"]
Response = Literal["needs-action", "accepted", "declined", "tentative"]
Status = Literal["confirmed", "tentative", "cancelled"]
Transparency = Literal["opaque", "transparent"]
Visibility = Literal["default", "public", "private", "confidential"]


@dataclass(frozen=True, slots=True)
class Attendee:
    """Someone (or something) invited to an event.

    ``email`` is the calendar address without ``mailto:``. ``response`` is the
    attendee's own answer; it is deliberately *not* part of an event's content
    hash, so re-pushing an event never resets anyone's answer.
    """

    email: str
    name: str = ""
    kind: AttendeeKind = "individual"
    response: Response = "needs-action"
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    """A person of the directory: the calendar address, its aliases, the sync flag."""

    name: str
    email: str
    aliases: tuple[str, ...] = ()
    sync: bool = True


@dataclass(frozen=True, slots=True)
class Event:
    """One calendar event, or one recurring series with its overridden instances.

    ``start``/``end`` are timezone-aware datetimes, or dates for all-day events
    (``end`` exclusive, as in RFC 5545). ``uid`` identifies the event within its
    calendar and is what a driver must round-trip: an event written with uid U
    reads back with uid U. A series carries its RRULE/RDATE/EXDATE lines and,
    in ``overrides``, the instances that differ from the rule, each with
    ``recurrence_id`` set to the instance's original start; an override with
    ``this_and_future`` (RFC 5545 ``RANGE=THISANDFUTURE``) changes that instance and
    every later one. An RDATE period whose length differs from the series' is an
    RDATE plus an override with that end (:mod:`syncfw.sdk.ical` writes it back as a period).

    ``extra`` holds provider-specific data and ``modified`` the time the provider
    last changed the event (``LAST-MODIFIED``, when it says); neither is part of the
    content hash. ``modified`` decides ``conflict: newest-wins`` in two-way pairs.
    """

    uid: str
    title: str
    start: datetime | date
    end: datetime | date
    description: str = ""
    location: str = ""
    status: Status = "confirmed"
    transparency: Transparency = "opaque"
    visibility: Visibility = "default"
    categories: tuple[str, ...] = ()
    organizer: Attendee | None = None
    attendees: tuple[Attendee, ...] = ()
    timezone: str | None = None
    rrule: tuple[str, ...] = ()
    rdates: tuple[datetime | date, ...] = ()
    exdates: tuple[datetime | date, ...] = ()
    recurrence_id: datetime | date | None = None
    this_and_future: bool = False
    overrides: tuple[Event, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    modified: datetime | None = field(default=None, compare=False, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) != isinstance(self.end, datetime):
            raise ValueError(f"event {self.uid!r}: start and end must both be dates or datetimes")
        if isinstance(self.start, datetime) and (
            self.start.tzinfo is None or self.end.tzinfo is None  # type: ignore[union-attr]
        ):
            raise ValueError(f"event {self.uid!r}: datetimes must be timezone-aware")
        if self.end < self.start:  # type: ignore[operator]
            raise ValueError(f"event {self.uid!r}: ends before it starts")

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def recurring(self) -> bool:
        return bool(self.rrule or self.rdates)

    def replace(self, **changes: Any) -> Event:
        return replace(self, **changes)

    def with_uid(self, uid: str) -> Event:
        """This event under another uid; a fast path (no re-validation) for the engine."""
        copy = object.__new__(Event)
        for set_slot, value in zip(_SLOT_SETTERS, _ALL_FIELDS(self), strict=True):
            set_slot(copy, value)
        _SLOT_SETTERS[0](copy, uid)
        return copy

    def content_hash(self) -> str:
        """A stable digest of what people see; equal hashes mean "nothing to push".

        Leaves out the uid (the same appointment has different uids in source and
        target), attendees' responses (re-pushing must not reset anyone's answer)
        and ``extra``. The same instant in two time zones hashes the same.
        """
        return hashlib.blake2b(repr(self._canonical()).encode(), digest_size=16).hexdigest()

    def _canonical(self) -> tuple[Any, ...]:
        # repr() of this tuple is the hashed form: only str, int, bool, None and tuples.
        return (
            self.title,
            self.description,
            self.location,
            _instant(self.start),
            _instant(self.end),
            self.status,
            self.transparency,
            self.visibility,
            tuple(sorted(self.categories)) if len(self.categories) > 1 else self.categories,
            self.organizer.email.lower() if self.organizer else None,
            tuple(sorted((a.email.lower(), a.kind, a.optional) for a in self.attendees)),
            self.rrule,
            _instants(self.rdates),
            _instants(self.exdates),
            _instant(self.recurrence_id) if self.recurrence_id is not None else None,
            *(("THISANDFUTURE",) if self.this_and_future else ()),  # absent: old hashes hold
            tuple(sorted(repr(o._canonical()) for o in self.overrides)) if self.overrides else (),
        )


def as_utc(value: datetime | date) -> datetime:
    """A moment as an aware UTC datetime; a date counts from its midnight in UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _instants(values: tuple[datetime | date, ...]) -> tuple[int | str, ...]:
    return tuple(sorted((_instant(v) for v in values), key=str)) if values else ()


def _instant(value: datetime | date) -> int | str:
    # A datetime is its POSIX second (zone-independent); a date stays a date.
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value.isoformat()


_EVENT_FIELDS = tuple(f.name for f in fields(Event))
assert _EVENT_FIELDS[0] == "uid"
_ALL_FIELDS = operator.attrgetter(*_EVENT_FIELDS)
# Slot descriptors set a frozen instance's fields without the frozen __setattr__ check.
_SLOT_SETTERS = tuple(vars(Event)[name].__set__ for name in _EVENT_FIELDS)


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a driver's feed.

    - ``event`` set: the event as it is now (created or updated).
    - ``event`` None and ``error`` None: a tombstone, the item is gone.
    - ``error`` set: the item exists but could not be read (malformed); the
      engine reports it and, importantly, does not take it for deleted.

    ``key`` is the driver's own id for the item (a file name, a provider id);
    ``etag`` its version, used as the precondition of the next write.
    """

    key: str
    event: Event | None = None
    etag: str | None = None
    error: str | None = None

    @property
    def deleted(self) -> bool:
        return self.event is None and self.error is None


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One write the engine wants: create, update or delete.

    ``key`` is the driver's key of the item (None for a create), ``etag`` the
    precondition (None: unconditional), ``event`` the content (None for a delete).
    """

    action: Literal["create", "update", "delete"]
    key: str | None = None
    event: Event | None = None
    etag: str | None = None
    #: Whom the provider should e-mail about the change, where it sends invitations
    #: (Google's sendUpdates, Graph): "none", "all", or "external" attendees only.
    notify: Literal["none", "all", "external"] = "none"
    #: The pair the write is for, so drivers can mark items as syncfw's (e.g. Google's
    #: private extended properties) with the profile (``DriverContext.profile``) and pair.
    pair: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """A source item and the target item syncfw wrote for it (kept in the state)."""

    source_key: str
    target_key: str
    target_uid: str
    source_hash: str
    target_etag: str | None
    ends_at: str  # ISO UTC end of the event, as the state keeps it; compare :attr:`ends`
    group: str  # the source item it came from (a series, for expanded instances)
    attendees: str | None = None  # JSON of the attendees the target last showed
    # Two-way pairs (both sides written): each side's version and content as last synced,
    # and the attendees the source last showed (their answers).
    source_etag: str | None = None
    target_hash: str | None = None
    source_attendees: str | None = None

    @property
    def ends(self) -> datetime:
        """:attr:`ends_at` as an aware datetime: times compare as times, not as text
        (a stored value without an offset counts as UTC)."""
        moment = datetime.fromisoformat(self.ends_at)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """The span of time a pair syncs: [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime, *, past_days: int, future_days: int) -> Window:
        """Whole UTC days: from ``past_days`` before today to the end of today + ``future_days``.

        Whole days make the window move once a day, exactly when its :attr:`tag`
        changes, so the engine knows when events may have entered it.
        """
        today = as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(today - timedelta(days=past_days), today + timedelta(days=future_days + 1))

    @property
    def tag(self) -> str:
        return f"{self.start:%Y-%m-%d}/{self.end:%Y-%m-%d}"

    def overlaps(self, event: Event) -> bool:
        """Whether the event (or, for a series, possibly one of its instances) falls in."""
        start, end = as_utc(event.start), as_utc(event.end)
        if event.recurring:
            return start < self.end  # a series may run on; expansion decides later
        if end == start:
            return self.start <= start < self.end
        return start < self.end and end > self.start

    def ended_before(self, event_end: datetime | date) -> bool:
        return as_utc(event_end) <= self.start
