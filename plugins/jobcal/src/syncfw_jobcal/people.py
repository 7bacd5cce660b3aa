"""The directory: persons and resources, and the rule that an address names one of them.

Functions over a connection inside the caller's transaction; :class:`~.store.JobCalendar`
wraps them and bumps the appointments a person change shows in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncfw.model import Person

from . import schema as s
from .links import directory
from .records import JobcalError, Resource

__all__ = [
    "check_email",
    "insert_person",
    "insert_resource",
    "list_persons",
    "list_resources",
    "update_person",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def list_persons(conn: Connection) -> list[Person]:
    rows = conn.execute(sa.select(s.persons).order_by(s.persons.c.name)).all()
    return [Person(r.name, r.email, tuple(json.loads(r.aliases)), bool(r.sync)) for r in rows]


def insert_person(
    conn: Connection, name: str, email: str, aliases: Iterable[str], sync: bool, now: datetime
) -> Person:
    person = Person(name, check_email(email), tuple(check_email(a) for a in aliases), sync)
    _ensure_free(conn, [person.email, *person.aliases], person_id=None)
    conn.execute(s.persons.insert().values(**_person_values(person), updated_at=now))
    return person


def update_person(
    conn: Connection,
    email: str,
    now: datetime,
    *,
    name: str | None,
    new_email: str | None,
    aliases: Iterable[str] | None,
    sync: bool | None,
) -> tuple[int, Person, Person]:
    """Change the person with ``email`` (or alias); their row id, the old and the new values."""
    row = directory(conn).get(email.strip().lower())
    if row is None:
        raise JobcalError(f"no person with email {email!r}; see `syncfw jobcal persons`")
    old = Person(row.name, row.email, tuple(json.loads(row.aliases)), bool(row.sync))
    new = Person(
        name if name is not None else old.name,
        check_email(new_email) if new_email is not None else old.email,
        tuple(check_email(a) for a in aliases) if aliases is not None else old.aliases,
        sync if sync is not None else old.sync,
    )
    if new != old:
        _ensure_free(conn, [new.email, *new.aliases], person_id=row.id)
        conn.execute(
            s.persons.update()
            .where(s.persons.c.id == row.id)
            .values(**_person_values(new), updated_at=now)
        )
    return row.id, old, new


def list_resources(conn: Connection) -> list[Resource]:
    rows = conn.execute(sa.select(s.resources).order_by(s.resources.c.name)).all()
    return [Resource(r.name, r.email) for r in rows]


def insert_resource(conn: Connection, name: str, email: str | None, now: datetime) -> Resource:
    resource = Resource(name.strip(), check_email(email) if email else None)
    if not resource.name:
        raise JobcalError("a resource needs a name")
    taken = conn.scalar(sa.select(s.resources.c.id).where(s.resources.c.name == resource.name))
    if taken is not None:
        raise JobcalError(f"there is already a resource named {resource.name!r}")
    if resource.email:
        _ensure_free(conn, [resource.email], person_id=None)
    conn.execute(
        s.resources.insert().values(
            name=resource.name,
            email=resource.email,
            email_key=resource.email.lower() if resource.email else None,
            updated_at=now,
        )
    )
    return resource


def check_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise JobcalError(f"{value!r} is not an email address")
    return value


def _person_values(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "email": person.email,
        "email_key": person.email.lower(),
        "aliases": json.dumps(list(person.aliases)),
        "sync": person.sync,
    }


def _ensure_free(conn: Connection, emails: Sequence[str], *, person_id: int | None) -> None:
    """Every email (and alias) names one person or resource at most."""
    if len({e.lower() for e in emails}) != len(emails):
        raise JobcalError(f"{', '.join(emails)}: an address is given twice")
    taken = directory(conn)
    for email in emails:
        owner = taken.get(email.lower())
        if owner is not None and owner.id != person_id:
            raise JobcalError(f"{email} already belongs to {owner.name} <{owner.email}>")
    resource = conn.scalar(
        sa.select(s.resources.c.name).where(
            s.resources.c.email_key.in_([e.lower() for e in emails])
        )
    )
    if resource is not None:
        raise JobcalError(f"{', '.join(emails)}: already the address of resource {resource!r}")
