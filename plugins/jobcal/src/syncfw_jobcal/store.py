"""The job calendar library API: persons, resources and appointments in SQL.

:class:`JobCalendar` is what the CLI, the driver and a business application use alike.
Every change to an appointment or its assignments bumps the appointment's ``updated_at``
and ``version``; a change to a person that shows in events (name, email, sync flag) bumps
the person's appointments too, because their attendee lists changed. That is what makes
``updated_at`` a complete change feed for the driver.

Each public method runs in its own transaction, or in the caller's one inside
``with cal.transaction():``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from syncfw.errors import NotFound, PreconditionFailed
from syncfw.model import Attendee, Person

from . import schema as s
from .database import make_sqlite_folder, open_engine, scrub
from .links import Links, directory, load_appointments, resolve_lenient, resolve_strict
from .people import insert_person, insert_resource, list_persons, list_resources, update_person
from .records import AlreadyExists, Appointment, JobcalError, Resource, StoreUnavailable
from .rows import row_values
from .timing import may_occur_between, to_storage, zone

__all__ = ["JobCalendar"]

_EDITABLE = frozenset(
    {"title", "description", "location", "type", "start", "end", "timezone", "rrule"}
    | {"exdates", "rdates", "categories", "status", "transparency", "visibility"}
)


class JobCalendar:
    """A job calendar in the database behind ``engine``; ``clock`` is injectable for tests."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self._local = threading.local()

    @classmethod
    def open(cls, url: str | URL, *, clock: Callable[[], datetime] | None = None) -> JobCalendar:
        """Connect lazily to the database at an SQLAlchemy ``url``."""
        return cls(open_engine(url), clock=clock)

    @property
    def url(self) -> str:
        """The database URL with its password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"<JobCalendar {self.url}>"

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions and schema -------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for everything inside; nested uses join the outer one."""
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        try:
            with self.engine.begin() as conn:
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None
        except DBAPIError as exc:
            detail = scrub(str(exc.orig), self.engine.url)
            raise StoreUnavailable(f"database {self.url}: {detail}") from None

    def schema_version(self) -> int | None:
        with self.transaction() as conn:
            return s.schema_version(conn)

    def init(self) -> str:
        """Create or migrate the schema; returns what was done, for the user to read."""
        make_sqlite_folder(self.engine.url)
        with self.transaction() as conn:
            return s.init_schema(conn)

    def check_schema(self, *, create: bool) -> None:
        """Make sure the schema is current: create it in an empty database if ``create``."""
        version = self.schema_version()
        if version == s.SCHEMA_VERSION:
            return
        if version is None and create:
            self.init()
            return
        action = "create" if version is None else f"migrate (it has v{version})"
        raise StoreUnavailable(
            f"database {self.url} has no current job calendar schema; "
            f"run `syncfw jobcal --url URL init` to {action} it"
        )

    # -- persons and resources ---------------------------------------------------------

    def persons(self) -> list[Person]:
        with self.transaction() as conn:
            return list_persons(conn)

    def add_person(
        self, name: str, email: str, *, aliases: Iterable[str] = (), sync: bool = True
    ) -> Person:
        with self.transaction() as conn:
            return insert_person(conn, name, email, aliases, sync, self._now())

    def edit_person(
        self,
        email: str,
        *,
        name: str | None = None,
        new_email: str | None = None,
        aliases: Iterable[str] | None = None,
        sync: bool | None = None,
    ) -> Person:
        """Change a person found by email or alias; their appointments change with them."""
        now = self._now()
        with self.transaction() as conn:
            pid, old, new = update_person(
                conn, email, now, name=name, new_email=new_email, aliases=aliases, sync=sync
            )
            if (new.name, new.email, new.sync) != (old.name, old.email, old.sync):
                ap = s.appointment_persons
                mine = sa.select(ap.c.appointment_id).where(ap.c.person_id == pid)
                self._touch(conn, s.appointments.c.id.in_(mine), now)
        return new

    def resources(self) -> list[Resource]:
        with self.transaction() as conn:
            return list_resources(conn)

    def add_resource(self, name: str, *, email: str | None = None) -> Resource:
        with self.transaction() as conn:
            return insert_resource(conn, name, email, self._now())

    # -- appointments: reading ---------------------------------------------------------

    def appointments(self, include_deleted: bool = False) -> list[Appointment]:
        where = sa.true() if include_deleted else s.appointments.c.deleted == sa.false()
        with self.transaction() as conn:
            return load_appointments(conn, where)

    def appointment(self, uid: str, *, include_deleted: bool = False) -> Appointment:
        with self.transaction() as conn:
            found = load_appointments(conn, s.appointments.c.uid == uid)
        if not found or (found[0].deleted and not include_deleted):
            raise NotFound(uid)
        return found[0]

    def changed_since(self, since: datetime) -> list[Appointment]:
        """Every appointment changed at or after ``since``, soft-deleted ones included."""
        with self.transaction() as conn:
            return load_appointments(conn, s.appointments.c.updated_at >= since)

    def overlapping(self, start: datetime, end: datetime) -> list[Appointment]:
        """Live appointments in [start, end); a series when it may have an instance there."""
        a = s.appointments.c
        where = sa.and_(
            a.deleted == sa.false(),
            a.starts_at < end,
            sa.or_(a.rrule.is_not(None), a.ends_at > start, a.ends_at == a.starts_at),
        )
        with self.transaction() as conn:
            found = load_appointments(conn, where)
        return [x for x in found if _in_window(x, start, end)]

    def last_change(self) -> datetime | None:
        with self.transaction() as conn:
            newest: datetime | None = conn.scalar(
                sa.select(sa.func.max(s.appointments.c.updated_at))
            )
            return newest

    # -- appointments: writing ---------------------------------------------------------

    def add_appointment(
        self,
        title: str,
        start: datetime | date,
        end: datetime | date,
        *,
        all_day: bool | None = None,
        timezone: str | None = None,
        type: str | None = "appointment",
        description: str = "",
        location: str = "",
        rrule: str | None = None,
        exdates: Sequence[datetime | date] = (),
        persons: Sequence[str] = (),
        resources: Sequence[str] = (),
        uid: str | None = None,
    ) -> str:
        """Create an appointment for known persons (emails) and resources (names)."""
        start, end = _span(start, end, all_day, timezone)
        appt = Appointment(
            uid=uid or str(uuid4()),
            title=title,
            start=start,
            end=end,
            type=type,
            description=description,
            location=location,
            timezone=timezone or _zone_key(start),
            rrule=rrule,
            exdates=tuple(exdates),
        )
        with self.transaction() as conn:
            self._create(conn, appt, resolve_strict(conn, persons, resources, None))
        return appt.uid

    def edit_appointment(
        self, uid: str, *, if_version: int | None = None, **fields: Any
    ) -> Appointment:
        """Change fields (see ``_EDITABLE``), or ``persons``/``resources`` (replacing them)."""
        persons, resources = fields.pop("persons", None), fields.pop("resources", None)
        all_day = fields.pop("all_day", None)
        unknown = set(fields) - _EDITABLE
        if unknown:
            raise JobcalError(f"cannot edit {', '.join(sorted(unknown))} of an appointment")
        with self.transaction() as conn:
            current = self.appointment(uid)
            new = replace(current, **fields)
            start, end = _span(new.start, new.end, all_day, new.timezone)
            new = replace(new, start=start, end=end)
            links = None
            if persons is not None or resources is not None:
                links = resolve_strict(
                    conn,
                    [a.person.email for a in current.persons] if persons is None else persons,
                    [r.name for r in current.resources] if resources is None else resources,
                    current,
                )
            self._update(conn, new, links, if_version or current.version)
        return self.appointment(uid)

    def move_appointment(
        self, uid: str, start: datetime | date, end: datetime | date | None = None
    ) -> Appointment:
        """Move to ``start``; without ``end`` the duration stays the same."""
        current = self.appointment(uid)
        if isinstance(start, datetime) != isinstance(current.start, datetime):
            kind = "a date" if current.all_day else "a time"
            raise JobcalError(
                f"appointment {uid} is {'all-day' if current.all_day else 'timed'}; "
                f"move it to {kind}"
            )
        if end is None:
            end = start + (current.end - current.start)  # type: ignore[operator]
        return self.edit_appointment(uid, start=start, end=end, if_version=current.version)

    def delete_appointment(self, uid: str, *, if_version: int | None = None) -> bool:
        """Soft-delete; False when there was nothing (left) to delete."""
        a = s.appointments.c
        where = (
            a.uid == uid if if_version is None else sa.and_(a.uid == uid, a.version == if_version)
        )
        with self.transaction() as conn:
            if self._touch(conn, where, self._now(), deleted=True):
                return True
            if if_version is not None and conn.scalar(
                sa.select(a.id).where(a.uid == uid, a.deleted == sa.false())
            ):
                raise PreconditionFailed(uid)
            return False

    def assign(
        self, uid: str, *, persons: Sequence[str] = (), resources: Sequence[str] = ()
    ) -> Appointment:
        """Add persons (emails) and resources (names); those already assigned stay as they are."""
        current = self.appointment(uid)
        return self.edit_appointment(
            uid,
            persons=[*(a.person.email for a in current.persons), *persons],
            resources=[*(r.name for r in current.resources), *resources],
            if_version=current.version,
        )

    def unassign(
        self, uid: str, *, persons: Sequence[str] = (), resources: Sequence[str] = ()
    ) -> Appointment:
        """Remove persons (by email or alias) and resources (by name) from an appointment."""
        with self.transaction() as conn:
            current = self.appointment(uid)
            known = directory(conn)
            gone = set()
            for email in persons:
                row = known.get(email.strip().lower())
                if row is None:
                    raise JobcalError(f"no person with email {email!r}")
                gone.add(row.email_key)
            names = {n.strip().lower() for n in resources}
            return self.edit_appointment(
                uid,
                persons=[
                    a.person.email for a in current.persons if a.person.email.lower() not in gone
                ],
                resources=[r.name for r in current.resources if r.name.lower() not in names],
                if_version=current.version,
            )

    def put(
        self,
        appt: Appointment,
        attendees: Sequence[Attendee],
        *,
        create: bool,
        if_version: int | None = None,
    ) -> Appointment:
        """The driver's write: create ``appt.uid``, or replace it (if at ``if_version``).

        Attendees become persons (by email or alias), resources (by email) or guests.
        Resources without an email cannot appear in an event, so a replace keeps them.
        """
        with self.transaction() as conn:
            if create:
                self._create(conn, appt, resolve_lenient(conn, attendees, keep_for=None))
            else:
                links = resolve_lenient(conn, attendees, keep_for=appt.uid)
                self._update(conn, appt, links, if_version)
            return self.appointment(appt.uid)

    def seed_demo(self, today: date) -> int:
        """Fill an empty calendar with demo data; returns how many appointments were added."""
        from .demo import seed

        with self.transaction() as conn:
            if conn.scalar(sa.select(sa.func.count()).select_from(s.appointments)):
                return 0
            return seed(self, today)

    # -- internals ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def _create(self, conn: Connection, appt: Appointment, links: Links) -> None:
        a = s.appointments
        row = conn.execute(sa.select(a.c.id, a.c.deleted).where(a.c.uid == appt.uid)).first()
        if row is not None and not row.deleted:
            raise AlreadyExists(f"an appointment with uid {appt.uid!r} already exists")
        values = row_values(appt) | {"updated_at": self._now(), "deleted": False}
        if row is None:
            inserted = conn.execute(a.insert().values(**values, uid=appt.uid, version=1))
            key = inserted.inserted_primary_key
            assert key is not None
            links.write(conn, key[0])
        else:  # a deterministic uid coming back after a delete: revive, do not duplicate
            conn.execute(
                a.update().where(a.c.id == row.id).values(**values, version=a.c.version + 1)
            )
            links.write(conn, row.id)

    def _update(
        self, conn: Connection, appt: Appointment, links: Links | None, if_version: int | None
    ) -> None:
        a = s.appointments
        live = sa.and_(a.c.uid == appt.uid, a.c.deleted == sa.false())
        row = conn.execute(sa.select(a.c.id, a.c.version).where(live)).first()
        if row is None:
            raise NotFound(appt.uid)
        values = row_values(appt) | {"updated_at": self._now(), "version": a.c.version + 1}
        if if_version is not None:
            live = sa.and_(live, a.c.version == if_version)
        done = conn.execute(a.update().where(live).values(values))
        if done.rowcount == 0:
            raise PreconditionFailed(appt.uid)
        if links is not None:
            links.write(conn, row.id)

    def _touch(
        self, conn: Connection, where: sa.ColumnElement[bool], now: datetime, deleted: bool = False
    ) -> int:
        a = s.appointments
        values: dict[str, Any] = {"updated_at": now, "version": a.c.version + 1}
        if deleted:
            values["deleted"] = True
        return conn.execute(
            a.update().where(where, a.c.deleted == sa.false()).values(values)
        ).rowcount


def _in_window(appt: Appointment, start: datetime, end: datetime) -> bool:
    if appt.rrule is None:
        return True  # the SQL condition was exact
    return may_occur_between(appt.start, appt.end, appt.rrule, appt.rdates, start, end)


def _span(
    start: datetime | date, end: datetime | date, all_day: bool | None, tz: str | None
) -> tuple[datetime | date, datetime | date]:
    """Start and end as the caller meant them: ``all_day=True`` turns times into days."""
    if all_day and isinstance(start, datetime) and isinstance(end, datetime):
        local = zone(tz) if tz else start.tzinfo
        first, last = start.astimezone(local).date(), end.astimezone(local).date()
        return first, max(last, date.fromordinal(first.toordinal() + 1))
    if all_day is False and not isinstance(start, datetime):
        raise JobcalError("a timed appointment needs times, not dates")
    to_storage(start, end)  # validates order and awareness
    return start, end


def _zone_key(value: datetime | date) -> str | None:
    return getattr(value.tzinfo, "key", None) if isinstance(value, datetime) else None
