"""One ``appointments`` row <-> one :class:`~.records.Appointment` (without assignments).

The only place that knows how fields are encoded in columns: UTC times, JSON lists of
dates, the organizer in two columns.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Row

from syncfw.model import Attendee

from .records import Appointment, Assignee, Resource
from .timing import (
    decode_moment,
    decode_moments,
    encode_moment,
    encode_moments,
    from_storage,
    normalize_rrule,
    to_storage,
    zone,
)

__all__ = ["appointment_from_row", "row_values"]


def row_values(appt: Appointment) -> dict[str, Any]:
    """The column values for ``appt``, validated (times, zone, RRULE)."""
    starts_at, ends_at, all_day = to_storage(appt.start, appt.end)
    if appt.timezone:
        zone(appt.timezone)
    organizer = appt.organizer
    return {
        "title": appt.title,
        "description": appt.description,
        "location": appt.location,
        "type": appt.type,
        "categories": json.dumps(list(appt.categories)) if appt.categories else None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "all_day": all_day,
        "timezone": appt.timezone,
        "rrule": normalize_rrule(appt.rrule, appt.start),
        "exdates": encode_moments(appt.exdates),
        "rdates": encode_moments(appt.rdates),
        "recurrence_id": encode_moment(appt.recurrence_id) if appt.recurrence_id else None,
        "status": appt.status,
        "transparency": appt.transparency,
        "visibility": appt.visibility,
        "organizer_email": organizer.email if organizer else None,
        "organizer_name": organizer.name if organizer else None,
    }


def appointment_from_row(
    row: Row[Any], people: list[Assignee], things: list[Resource], guests: list[Attendee]
) -> Appointment:
    start, end = from_storage(row.starts_at, row.ends_at, bool(row.all_day), row.timezone)
    organizer = (
        Attendee(row.organizer_email, row.organizer_name or "") if row.organizer_email else None
    )
    return Appointment(
        uid=row.uid,
        title=row.title,
        start=start,
        end=end,
        type=row.type,
        description=row.description,
        location=row.location,
        timezone=row.timezone,
        rrule=row.rrule,
        exdates=decode_moments(row.exdates, row.timezone),
        rdates=decode_moments(row.rdates, row.timezone),
        recurrence_id=decode_moment(row.recurrence_id, row.timezone) if row.recurrence_id else None,
        categories=tuple(json.loads(row.categories)) if row.categories else (),
        status=row.status,
        transparency=row.transparency,
        visibility=row.visibility,
        organizer=organizer,
        persons=tuple(people),
        resources=tuple(things),
        guests=tuple(guests),
        updated_at=row.updated_at,
        version=row.version,
        deleted=bool(row.deleted),
    )
