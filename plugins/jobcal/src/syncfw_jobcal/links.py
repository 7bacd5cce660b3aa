"""Who is on an appointment: loading assignments, and resolving names and emails to them.

Two ways in. The CLI and the library API name persons by email and resources by name and
want an error for a typo (:func:`resolve_strict`). The driver gets attendees from another
calendar and must keep every one of them (:func:`resolve_lenient`): a person by email or
alias, else a resource by email, else a guest.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from syncfw.model import Attendee, Person

from . import schema as s
from .records import Appointment, Assignee, JobcalError, Resource
from .rows import appointment_from_row

__all__ = ["Links", "directory", "load_appointments", "resolve_lenient", "resolve_strict"]


@dataclass
class Links:
    """The assignments to write for one appointment (they replace the old ones)."""

    persons: dict[int, tuple[str, bool]] = field(default_factory=dict)  # id -> response, optional
    resources: list[int] = field(default_factory=list)
    guests: dict[str, Attendee] = field(default_factory=dict)  # by lower-cased email

    def write(self, conn: Connection, appointment_id: int) -> None:
        for table in (s.appointment_persons, s.appointment_resources, s.appointment_guests):
            conn.execute(table.delete().where(table.c.appointment_id == appointment_id))
        if self.persons:
            conn.execute(
                s.appointment_persons.insert(),
                [
                    {
                        "appointment_id": appointment_id,
                        "person_id": pid,
                        "response": r,
                        "optional": o,
                    }
                    for pid, (r, o) in self.persons.items()
                ],
            )
        if self.resources:
            conn.execute(
                s.appointment_resources.insert(),
                [{"appointment_id": appointment_id, "resource_id": rid} for rid in self.resources],
            )
        if self.guests:
            conn.execute(
                s.appointment_guests.insert(),
                [
                    {
                        "appointment_id": appointment_id,
                        "email": g.email,
                        "name": g.name,
                        "kind": g.kind,
                        "response": g.response,
                        "optional": g.optional,
                    }
                    for g in self.guests.values()
                ],
            )


def directory(conn: Connection) -> dict[str, Row[Any]]:
    """Person rows by lower-cased email and by lower-cased alias."""
    found: dict[str, Row[Any]] = {}
    for row in conn.execute(sa.select(s.persons)):
        found[row.email_key] = row
        for alias in json.loads(row.aliases):
            found.setdefault(alias.lower(), row)
    return found


def resolve_strict(
    conn: Connection, persons: Iterable[str], resources: Iterable[str], current: Appointment | None
) -> Links:
    """Persons by email or alias and resources by name; unknown ones are errors.

    Answers of persons who stay on the appointment, and its guests, are kept.
    """
    known = directory(conn)
    answers = {
        a.person.email.lower(): (a.response, a.optional)
        for a in (current.persons if current else ())
    }
    links = Links(guests={g.email.lower(): g for g in (current.guests if current else ())})
    for email in persons:
        row = known.get(email.strip().lower())
        if row is None:
            raise JobcalError(
                f"no person with email {email!r}; add one with `syncfw jobcal persons add`"
            )
        links.persons[row.id] = answers.get(row.email_key, ("needs-action", False))
    by_name = {r.name.lower(): r.id for r in conn.execute(sa.select(s.resources))}
    for name in resources:
        rid = by_name.get(name.strip().lower())
        if rid is None:
            raise JobcalError(f"no resource named {name!r}; see `syncfw jobcal resources`")
        if rid not in links.resources:
            links.resources.append(rid)
    return links


def resolve_lenient(conn: Connection, attendees: Sequence[Attendee], keep_for: str | None) -> Links:
    """Attendees of an event as persons, resources by email, or guests.

    ``keep_for`` names the appointment being replaced: its resources without an email
    cannot be in any event, so they stay assigned.
    """
    known = directory(conn)
    r = s.resources
    by_email = {
        row.email_key: row.id
        for row in conn.execute(sa.select(r).where(r.c.email_key.is_not(None)))
    }
    links = Links()
    if keep_for is not None:
        ar, a = s.appointment_resources, s.appointments
        kept = (
            sa.select(ar.c.resource_id)
            .join(a)
            .join(r)
            .where(a.c.uid == keep_for, r.c.email.is_(None))
        )
        links.resources.extend(conn.scalars(kept))
    for attendee in attendees:
        key = attendee.email.strip().lower()
        if key in known:
            links.persons[known[key].id] = (attendee.response, attendee.optional)
        elif key in by_email:
            if by_email[key] not in links.resources:
                links.resources.append(by_email[key])
        elif key:
            links.guests[key] = attendee
    return links


def load_appointments(conn: Connection, where: sa.ColumnElement[bool]) -> list[Appointment]:
    """The appointments matching ``where`` with all their assignments, in start order."""
    a = s.appointments
    rows = conn.execute(sa.select(a).where(where).order_by(a.c.starts_at, a.c.id)).all()
    if not rows:
        return []
    ids = sa.select(a.c.id).where(where).scalar_subquery()
    ap, p = s.appointment_persons, s.persons
    people: dict[int, list[Assignee]] = defaultdict(list)
    for row in conn.execute(
        sa.select(ap.c.appointment_id, ap.c.response, ap.c.optional, p)
        .join(p, p.c.id == ap.c.person_id)
        .where(ap.c.appointment_id.in_(ids))
        .order_by(p.c.name)
    ):
        person = Person(row.name, row.email, tuple(json.loads(row.aliases)), bool(row.sync))
        people[row.appointment_id].append(Assignee(person, row.response, bool(row.optional)))
    ar, r = s.appointment_resources, s.resources
    things: dict[int, list[Resource]] = defaultdict(list)
    for row in conn.execute(
        sa.select(ar.c.appointment_id, r.c.name, r.c.email)
        .join(r, r.c.id == ar.c.resource_id)
        .where(ar.c.appointment_id.in_(ids))
        .order_by(r.c.name)
    ):
        things[row.appointment_id].append(Resource(row.name, row.email))
    g = s.appointment_guests
    guests: dict[int, list[Attendee]] = defaultdict(list)
    for row in conn.execute(sa.select(g).where(g.c.appointment_id.in_(ids)).order_by(g.c.id)):
        guests[row.appointment_id].append(
            Attendee(row.email, row.name, row.kind, row.response, bool(row.optional))
        )
    return [
        appointment_from_row(row, people[row.id], things[row.id], guests[row.id]) for row in rows
    ]
