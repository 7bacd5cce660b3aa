"""What the job calendar store hands out: appointments, resources, assignments.

Frozen values, like :mod:`syncfw.model`; persons are :class:`syncfw.model.Person` and guests
are :class:`syncfw.model.Attendee`, so the driver converts without a third vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from syncfw.errors import SyncfwError
from syncfw.model import Attendee, Person

__all__ = [
    "AlreadyExists",
    "Appointment",
    "Assignee",
    "JobcalError",
    "Resource",
    "StoreUnavailable",
]


class JobcalError(SyncfwError):
    """Input the job calendar cannot accept (unknown person, duplicate email, bad time...).

    The message names the value and says what to do instead.
    """


class AlreadyExists(JobcalError):
    """An appointment with this uid exists (and is not deleted)."""


class StoreUnavailable(JobcalError):
    """The database cannot be used: unreachable, no or a foreign schema, a failed statement.

    Messages name the database by its URL with the password hidden, never the raw URL.
    """


@dataclass(frozen=True, slots=True)
class Resource:
    """A room or a piece of equipment; ``email`` is its calendar mailbox, if it has one."""

    name: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Assignee:
    """A person assigned to an appointment, with the answer they gave in their calendar."""

    person: Person
    response: str = "needs-action"
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Appointment:
    """One appointment (or recurring series) as stored.

    ``start``/``end`` are aware datetimes in ``timezone`` (UTC when there is none), or dates
    for all-day appointments (``end`` exclusive). ``version`` counts every change to the
    appointment or its assignments; it is the driver's etag.
    """

    uid: str
    title: str
    start: datetime | date
    end: datetime | date
    type: str | None = "appointment"
    description: str = ""
    location: str = ""
    timezone: str | None = None
    rrule: str | None = None
    exdates: tuple[datetime | date, ...] = ()
    rdates: tuple[datetime | date, ...] = ()
    recurrence_id: datetime | date | None = None
    categories: tuple[str, ...] = ()  # beyond ``type``
    status: str = "confirmed"
    transparency: str = "opaque"
    visibility: str = "default"
    organizer: Attendee | None = None
    persons: tuple[Assignee, ...] = ()
    resources: tuple[Resource, ...] = ()
    guests: tuple[Attendee, ...] = ()
    updated_at: datetime | None = None
    version: int = 1
    deleted: bool = False

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)
