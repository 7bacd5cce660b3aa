"""What a driver author needs, in one import: ``from syncfw.sdk import Driver, Feed, ...``.

The driver protocol (:mod:`syncfw.sdk.driver`), the values it speaks (:mod:`syncfw.model`),
the errors it raises (:mod:`syncfw.errors`), the hook marker it registers with, and the
helpers a backend of files or a provider's API needs: the iCalendar codec, times and
attendees as text (:mod:`~syncfw.sdk.text`), atomic file writes, the snapshot cursor of a
calendar without a change log (:mod:`~syncfw.sdk.snapshot`), writes with preconditions
for items held in memory (:mod:`~syncfw.sdk.writes`), token stores and recurrence
expansion; docs/writing-a-driver.md walks through a driver built from them. A plugin
imports from here, from :mod:`syncfw.model`, :mod:`syncfw.errors`, :mod:`syncfw.markers`,
:mod:`syncfw.testing` and, for its own commands, :mod:`syncfw.commands` - never from
syncfw's engine (docs/architecture.md, "Layers"; checked by import-linter in ``make test``).
"""

from __future__ import annotations

from syncfw.core.recurrence import expand, instance_key
from syncfw.errors import (
    AuthError,
    CursorExpired,
    DriverError,
    NotFound,
    PreconditionFailed,
    QuotaExceeded,
    RateLimited,
    SyncfwError,
)
from syncfw.markers import hookimpl
from syncfw.model import (
    Attendee,
    AttendeeKind,
    Change,
    Event,
    Person,
    Response,
    Status,
    Transparency,
    Visibility,
    Window,
    WriteOp,
    as_utc,
)
from syncfw.sdk.driver import (
    Capabilities,
    Cursor,
    Driver,
    DriverContext,
    DriverOptions,
    Feed,
    PersonDirectory,
    WriteResult,
    read_all,
    resolve_path,
)
from syncfw.sdk.fs import Remembered, atomic_write, file_name_for
from syncfw.sdk.ical import (
    ParseProblem,
    decode,
    event_to_components,
    event_to_ical,
    events_from_ical,
)
from syncfw.sdk.snapshot import Snapshot, settle_snapshot, snapshot_feed
from syncfw.sdk.text import (
    attendees_from_text,
    attendees_to_text,
    when_from_text,
    when_to_text,
    zone_name,
)
from syncfw.sdk.writes import apply_writes, precondition

__all__ = [
    "Attendee",
    "AttendeeKind",
    "AuthError",
    "Capabilities",
    "Change",
    "Cursor",
    "CursorExpired",
    "Driver",
    "DriverContext",
    "DriverError",
    "DriverOptions",
    "Event",
    "Feed",
    "NotFound",
    "ParseProblem",
    "Person",
    "PersonDirectory",
    "PreconditionFailed",
    "QuotaExceeded",
    "RateLimited",
    "Remembered",
    "Response",
    "Snapshot",
    "Status",
    "SyncfwError",
    "Transparency",
    "Visibility",
    "Window",
    "WriteOp",
    "WriteResult",
    "apply_writes",
    "as_utc",
    "atomic_write",
    "attendees_from_text",
    "attendees_to_text",
    "decode",
    "event_to_components",
    "event_to_ical",
    "events_from_ical",
    "expand",
    "file_name_for",
    "hookimpl",
    "instance_key",
    "precondition",
    "read_all",
    "resolve_path",
    "settle_snapshot",
    "snapshot_feed",
    "when_from_text",
    "when_to_text",
    "zone_name",
]
