"""The job calendar's tables (SQLAlchemy Core) and the one place that creates or migrates them.

The schema is versioned in ``jobcal_meta`` (key ``schema_version``) so that an older
syncfw-jobcal refuses a database written by a newer one instead of corrupting it, and a newer
one can migrate an older database in :func:`init_schema`.

Times are stored as naive UTC in portable ``DATETIME`` columns (microsecond precision, also on
MySQL) and come back as aware UTC datetimes: :class:`UTCDateTime` does both directions, so no
code above this module ever sees a naive datetime. All-day appointments store midnight UTC of
their dates; ``all_day`` says how to read them back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeEngine

from .records import StoreUnavailable

__all__ = [
    "SCHEMA_VERSION",
    "SchemaMismatch",
    "UTCDateTime",
    "appointment_guests",
    "appointment_persons",
    "appointment_resources",
    "appointments",
    "init_schema",
    "meta",
    "metadata",
    "persons",
    "resources",
    "schema_version",
]

SCHEMA_VERSION = 1


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out; naive UTC in the database."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):  # default DATETIME drops microseconds
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; times must be aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = sa.MetaData()

meta = sa.Table(
    "jobcal_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

persons = sa.Table(
    "persons",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    # Lower-cased email: a portable case-insensitive unique key (no functional index needed).
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("aliases", sa.Text, nullable=False, server_default="[]"),  # JSON list of emails
    sa.Column("sync", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=True),  # a room / equipment mailbox, if any
    sa.Column("email_key", sa.String(320), nullable=True, unique=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(255), nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("location", sa.Text, nullable=False, server_default=""),
    sa.Column("type", sa.String(64), nullable=True),  # "appointment", "internal", "absence"...
    sa.Column("categories", sa.Text, nullable=True),  # JSON: categories beyond the type
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("all_day", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("timezone", sa.String(64), nullable=True),  # IANA name
    sa.Column("rrule", sa.Text, nullable=True),  # "FREQ=WEEKLY;BYDAY=MO", no "RRULE:" prefix
    sa.Column("exdates", sa.Text, nullable=True),  # JSON list of ISO dates / UTC datetimes
    sa.Column("rdates", sa.Text, nullable=True),  # same
    sa.Column("recurrence_id", sa.Text, nullable=True),  # ISO; set on a detached instance
    sa.Column("status", sa.String(16), nullable=False, server_default="confirmed"),
    sa.Column("transparency", sa.String(16), nullable=False, server_default="opaque"),
    sa.Column("visibility", sa.String(16), nullable=False, server_default="default"),
    sa.Column("organizer_email", sa.String(320), nullable=True),
    sa.Column("organizer_name", sa.Text, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False, index=True),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Index("ix_appointments_window", "deleted", "starts_at"),
)


def _appointment_fk() -> sa.ForeignKey:
    return sa.ForeignKey("appointments.id", ondelete="CASCADE")


appointment_persons = sa.Table(
    "appointment_persons",
    metadata,
    sa.Column("appointment_id", sa.Integer, _appointment_fk(), primary_key=True),
    sa.Column(
        "person_id",
        sa.Integer,
        sa.ForeignKey("persons.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("response", sa.String(16), nullable=False, server_default="needs-action"),
    sa.Column("optional", sa.Boolean, nullable=False, server_default=sa.false()),
)

appointment_resources = sa.Table(
    "appointment_resources",
    metadata,
    sa.Column("appointment_id", sa.Integer, _appointment_fk(), primary_key=True),
    sa.Column(
        "resource_id",
        sa.Integer,
        sa.ForeignKey("resources.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

# Attendees written back from other calendars that are neither persons nor resources,
# kept so that attendee lists round-trip.
appointment_guests = sa.Table(
    "appointment_guests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("appointment_id", sa.Integer, _appointment_fk(), nullable=False, index=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.String(16), nullable=False, server_default="individual"),
    sa.Column("response", sa.String(16), nullable=False, server_default="needs-action"),
    sa.Column("optional", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("appointment_id", "email"),
)


class SchemaMismatch(StoreUnavailable):
    """The database holds something this version cannot use; the message says what to do."""


# from_version -> step that brings a database from that version to the next one.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def schema_version(conn: Connection) -> int | None:
    """The stored schema version, or None when the database has no job calendar yet."""
    if not sa.inspect(conn).has_table(meta.name):
        return None
    value = conn.scalar(sa.select(meta.c.value).where(meta.c.key == "schema_version"))
    if value is None or not value.isdigit():
        raise SchemaMismatch(f"jobcal_meta.schema_version is {value!r}, not a number")
    return int(value)


def init_schema(conn: Connection) -> str:
    """Create the tables, or migrate them to :data:`SCHEMA_VERSION`; say what was done."""
    version = schema_version(conn)
    if version is None:
        existing = set(sa.inspect(conn).get_table_names()) & set(metadata.tables)
        if existing:
            # Someone else's tables with our names: never guess their layout.
            raise SchemaMismatch(
                f"the database already has table(s) {', '.join(sorted(existing))} that the job "
                "calendar did not create; use an empty database or another schema"
            )
        metadata.create_all(conn)
        conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return f"created schema v{SCHEMA_VERSION}"
    if version > SCHEMA_VERSION:
        raise SchemaMismatch(
            f"the database has schema v{version}, newer than this syncfw-jobcal "
            f"(v{SCHEMA_VERSION}); upgrade syncfw-jobcal"
        )
    if version == SCHEMA_VERSION:
        return f"schema v{version} is up to date"
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](conn)
    conn.execute(
        meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
    )
    return f"migrated schema v{version} -> v{SCHEMA_VERSION}"
