"""Appointment <-> :class:`syncfw.model.Event`, both ways, losing as little as possible.

What an event carries beyond the job calendar's own fields (more categories, status,
organizer, guests, RDATEs) is stored too, so that an event written through the driver
reads back with the same :meth:`~syncfw.model.Event.content_hash` — otherwise every run
would see "drift" and rewrite it. Two things do not round-trip: overridden instances of a
series (``native_recurrence`` is False, the engine expands such series) and more than one
RRULE line (rejected with a message).
"""

from __future__ import annotations

from typing import Any, cast

from syncfw.model import Attendee, Event

from .records import Appointment, JobcalError
from .timing import zone

__all__ = ["to_appointment", "to_event"]


def to_event(appt: Appointment) -> Event:
    """The event other calendars see: persons, resources with a mailbox, then guests."""
    attendees = [
        Attendee(a.person.email, a.person.name, "individual", cast(Any, a.response), a.optional)
        for a in appt.persons
    ]
    attendees += [Attendee(r.email, r.name, "resource") for r in appt.resources if r.email]
    attendees += appt.guests
    return Event(
        uid=appt.uid,
        title=appt.title,
        start=appt.start,
        end=appt.end,
        description=appt.description,
        location=appt.location,
        status=cast(Any, appt.status),
        transparency=cast(Any, appt.transparency),
        visibility=cast(Any, appt.visibility),
        categories=((appt.type,) if appt.type else ()) + appt.categories,
        organizer=appt.organizer,
        attendees=tuple(attendees),
        timezone=appt.timezone,
        rrule=(appt.rrule,) if appt.rrule else (),
        rdates=appt.rdates,
        exdates=appt.exdates,
        recurrence_id=appt.recurrence_id,
        extra={"jobcal": {"version": appt.version, "updated_at": appt.updated_at}},
        modified=appt.updated_at,
    )


def to_appointment(event: Event, uid: str) -> tuple[Appointment, tuple[Attendee, ...]]:
    """The appointment to store for ``event`` under ``uid``, and its attendees to resolve.

    The first category is the appointment type; an event without categories gets none,
    so that it reads back unchanged.
    """
    if len(event.rrule) > 1:
        raise JobcalError(
            f"event {event.uid!r} has {len(event.rrule)} RRULE lines; the job calendar "
            "stores one per appointment"
        )
    appt = Appointment(
        uid=uid,
        title=event.title,
        start=event.start,
        end=event.end,
        type=event.categories[0] if event.categories else None,
        categories=event.categories[1:],
        description=event.description,
        location=event.location,
        timezone=_timezone(event),
        rrule=event.rrule[0] if event.rrule else None,
        exdates=event.exdates,
        rdates=event.rdates,
        recurrence_id=event.recurrence_id,
        status=event.status,
        transparency=event.transparency,
        visibility=event.visibility,
        organizer=event.organizer,
    )
    return appt, event.attendees


def _timezone(event: Event) -> str | None:
    """The event's IANA zone; a zone the database could not name (a Windows name from
    Outlook, say) falls back to the start's zone, then to none (times stay exact)."""
    candidates = [event.timezone, getattr(getattr(event.start, "tzinfo", None), "key", None)]
    for name in candidates:
        if not name:
            continue
        try:
            zone(name)
        except JobcalError:
            continue
        return name
    return None
