"""What a driver author needs, in one import: ``from syncfw.sdk import Driver, Feed, ...``.

The driver protocol (:mod:`syncfw.sdk.driver`), the values it speaks (:mod:`syncfw.model`),
the errors it raises (:mod:`syncfw.errors`), the hook marker it registers with, and the
helpers a backend of files or a provider's API needs: the iCalendar codec, atomic file
writes, token stores and recurrence expansion. A plugin imports from here, from
:mod:`syncfw.model`, :mod:`syncfw.errors`, :mod:`syncfw.markers`, :mod:`syncfw.testing`
and, for its own commands, :mod:`syncfw.commands` - never from syncfw's engine
(docs/architecture.md, "Layers"; checked by import-linter in ``make test``).
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
    "Status",
    "SyncfwError",
    "Transparency",
    "Visibility",
    "Window",
    "WriteOp",
    "WriteResult",
    "as_utc",
    "atomic_write",
    "decode",
    "event_to_components",
    "event_to_ical",
    "events_from_ical",
    "expand",
    "file_name_for",
    "hookimpl",
    "instance_key",
    "read_all",
    "resolve_path",
]
