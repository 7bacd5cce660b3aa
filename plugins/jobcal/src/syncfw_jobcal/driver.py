"""The ``jobcal`` driver: the job calendar as a syncfw calendar.

Incremental reads use ``appointments.updated_at``: the cursor is the newest ``updated_at``
seen (ISO 8601), and the next read asks for everything changed since, with an overlap of
a few seconds for writers that commit late (see :mod:`.cursor`). Soft-deleted
appointments come back as tombstones; incremental reads are not limited to the window.

Writes are conditional on the appointment's version counter (the etag), each op in its own
transaction. Series are stored with their RRULE, RDATEs and EXDATEs but without overridden
instances (``native_recurrence`` is False), so the engine expands series that have them.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syncfw.errors import CursorExpired, DriverError, NotFound, PreconditionFailed
from syncfw.model import Change, Person, Window
from syncfw.sdk.driver import (
    Capabilities,
    Cursor,
    Driver,
    DriverContext,
    DriverOptions,
    Feed,
    WriteOp,
    WriteResult,
)

from .convert import to_appointment, to_event
from .cursor import EPOCH, OVERLAP, ChangeCursor
from .database import safe_url, sqlite_file
from .records import AlreadyExists, Appointment, JobcalError, StoreUnavailable
from .store import JobCalendar

__all__ = ["OVERLAP", "JobcalDriver", "JobcalOptions"]


def resolve_url(value: str, info: ValidationInfo) -> str:
    """A relative SQLite path counts from the profile's folder, like every path in a profile.

    Error messages never repeat the URL: it may carry a password.
    """
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError(
            "not an SQLAlchemy URL; e.g. sqlite:///jobcal.db or "
            "postgresql+psycopg://user:${DB_PASSWORD}@host/db"
        ) from None
    path = sqlite_file(url)
    base = (info.context or {}).get("base_dir")
    if path is None or path.is_absolute() or base is None:
        return value
    path = Path(base) / path
    return url.set(database=str(path)).render_as_string(hide_password=False)


class JobcalOptions(DriverOptions):
    """``url``: an SQLAlchemy URL (default ``sqlite:///jobcal.db`` beside the profile);
    ``create``: create the schema when the database is empty."""

    # The URL may hold a password: keep it out of reprs and validation errors.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: Annotated[str, AfterValidator(resolve_url)] = Field(
        default="sqlite:///jobcal.db", repr=False, validate_default=True
    )
    create: bool = True

    @property
    def display_url(self) -> str:
        return safe_url(self.url)


class JobcalDriver(Driver):
    """Appointments of the job calendar; key == appointment uid, etag == its version."""

    name = "jobcal"
    Options = JobcalOptions

    @classmethod
    def location(cls, options: JobcalOptions) -> str:
        path = sqlite_file(make_url(options.url))  # the URL is already resolved
        return f"file:{path.resolve()}" if path is not None else safe_url(options.url)

    capabilities = Capabilities(
        incremental=True,
        conditional_writes=True,
        native_recurrence=False,  # RRULE/RDATE/EXDATE are stored, overridden instances not
        client_ids=True,
        batch_size=200,
    )

    def __init__(self, options: JobcalOptions, context: DriverContext) -> None:
        super().__init__(options, context)
        self._store: JobCalendar | None = None

    @property
    def store(self) -> JobCalendar:
        """The job calendar, opened (and its schema checked) on first use."""
        if self._store is None:
            try:
                store = JobCalendar.open(self.options.url)
            except JobcalError as exc:
                raise self._error(exc) from None
            try:
                store.check_schema(create=self.options.create)
            except JobcalError as exc:
                store.close()
                raise self._error(exc) from None
            self._store = store
        return self._store

    def __repr__(self) -> str:
        return f"<JobcalDriver {self.context.calendar!r} {self.options.display_url}>"

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def persons(self) -> list[Person]:
        """The person directory (name, email, aliases, sync flag) for ``persons: {from: ...}``."""
        try:
            return self.store.persons()
        except JobcalError as exc:
            raise self._error(exc) from None

    # -- reading -------------------------------------------------------------------------

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        # Query now, so that CursorExpired and connection errors come from read() itself.
        try:
            if cursor is None:
                # The cursor before the listing: what changes meanwhile comes next time.
                newest = self.store.last_change()
                edge = self.store.changed_since(newest - OVERLAP) if newest else []
                after = ChangeCursor(EPOCH).advance(edge)
                items = self.store.overlapping(window.start, window.end)
                return Feed(self._changes(items, str(after)), full=True)
            before = ChangeCursor.parse(cursor)
            if before is None:
                raise CursorExpired(
                    f"cursor {cursor!r} is not a job calendar cursor; reading in full",
                    calendar=self.context.calendar,
                )
            items = self.store.changed_since(before.query_from)
        except JobcalError as exc:
            raise self._error(exc) from None
        after = before.advance(items)
        next_cursor = str(after) if after != before else cursor
        return Feed(self._changes(before.unseen(items), next_cursor), full=False)

    def _changes(self, items: list[Appointment], cursor: Cursor) -> Generator[Change, None, Cursor]:
        for appt in items:
            if appt.deleted:
                yield Change(appt.uid)
                continue
            try:
                event = to_event(appt)
            except ValueError as exc:  # a row another program wrote badly: say so, do not drop
                yield Change(appt.uid, error=f"appointment {appt.uid}: {exc}")
                continue
            yield Change(appt.uid, event, str(appt.version))
        return cursor

    # -- writing -------------------------------------------------------------------------

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        for op in ops:
            yield self._apply(op)

    def _apply(self, op: WriteOp) -> WriteResult:
        key = op.key or (op.event.uid if op.event else None)
        if key is None:
            return WriteResult(op, error=DriverError(f"{op.action} without a key or event"))
        calendar = self.context.calendar
        try:
            version = self._version(op.etag)
            if op.action == "delete":
                self.store.delete_appointment(key, if_version=version)
                return WriteResult(op, key=key)
            if op.event is None:
                raise JobcalError(f"{op.action} of {key!r} carries no event")
            appt, attendees = to_appointment(op.event, key)
            stored = self.store.put(
                appt, attendees, create=op.action == "create", if_version=version
            )
            return WriteResult(op, key=key, etag=str(stored.version))
        except NotFound:
            return WriteResult(op, key=key, error=NotFound(key, calendar=calendar))
        except (PreconditionFailed, AlreadyExists):
            return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
        except StoreUnavailable as exc:
            raise self._error(exc) from None  # every further op would fail the same way
        except JobcalError as exc:
            return WriteResult(op, key=key, error=self._error(exc))

    def _version(self, etag: str | None) -> int | None:
        if etag is None:
            return None
        if not etag.isdigit():
            return -1  # not one of ours: no version matches, the write fails its precondition
        return int(etag)

    def _error(self, exc: Exception) -> DriverError:
        return DriverError(str(exc), calendar=self.context.calendar)
