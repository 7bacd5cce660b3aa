"""One exception hierarchy for everything syncfw raises on purpose.

::

    SyncfwError
    ├── ProfileError            a profile cannot be used (file, line, key, hint)
    │   └── ProfileErrors       several at once, each in .errors
    ├── BuildError              a filter or transform cannot be built (also a ValueError)
    ├── SessionError            a session's pull or push failed (.report says why)
    ├── StateError              the state store is unusable (newer schema, corrupt file)
    ├── SafetyStop              a run would do something drastic; nothing was applied
    ├── PairBusy                another run (maybe another process) is syncing the pair
    ├── Interrupted             a stop was requested; the run ended after the write in flight
    ├── Unreadable              an item cannot be read as an event (a bad RRULE, no DTSTART)
    ├── StepFailed              a filter or transform raised on an event: a bug in the step
    └── DriverError             a calendar failed (calendar, detail)
        ├── CursorExpired       the incremental token was rejected (HTTP 410); read fully
        ├── NotFound            the item is gone (404); deleting it counts as done
        ├── PreconditionFailed  the item changed since it was read (412 / etag mismatch)
        ├── RateLimited         slow down (429, rate-limit 403); retry_after in seconds
        ├── QuotaExceeded       the daily quota is spent; stop and continue next run
        └── AuthError           credentials missing, expired or refused (401/403)

Drivers map their provider's failures onto these, so the engine reacts the same
way to Google's 410 and to a CalDAV server's invalid sync token.

``Unreadable`` and ``StepFailed`` concern one event: the planners report that event and
never take it for deleted, while the rest of the pair goes on. Any other exception raised
while an event is prepared (normalized, expanded, filtered) is a bug and fails the pair.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "BuildError",
    "CursorExpired",
    "DriverError",
    "Interrupted",
    "NotFound",
    "PairBusy",
    "PreconditionFailed",
    "ProfileError",
    "ProfileErrors",
    "QuotaExceeded",
    "RateLimited",
    "SafetyStop",
    "SessionError",
    "StateError",
    "StepFailed",
    "SyncfwError",
    "Unreadable",
]


class SyncfwError(Exception):
    """Base of every error syncfw raises on purpose."""


class ProfileError(SyncfwError):
    """A profile is invalid. ``str()`` reads ``file:line: key: message (hint)``."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message, self.file, self.line, self.key, self.hint = message, file, line, key, hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{key}{self.message}{hint}"


class ProfileErrors(ProfileError):
    """Several problems at once. ``errors`` holds each; ``file``/``line``/``key``/``hint``
    are the first one's, and ``str()`` lists them all, one per line."""

    def __init__(self, errors: list[ProfileError]) -> None:
        first = errors[0]
        super().__init__(
            first.message, file=first.file, line=first.line, key=first.key, hint=first.hint
        )
        self.errors = tuple(errors)
        self.args = ("\n".join(str(e) for e in errors),)


class BuildError(SyncfwError, ValueError):
    """A filter or transform of a profile cannot be built: unknown name or bad value.

    ``name`` is the step's name as written, ``hint`` what to do (e.g. the known names).
    """

    def __init__(self, name: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.name, self.message, self.hint = name, message, hint


class SessionError(SyncfwError):
    """A session's pull or push did not complete for a pair; ``report`` (the
    :class:`~syncfw.core.report.RunReport` of that half) says which and why."""

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report


class StateError(SyncfwError):
    """The state store cannot be used."""


class SafetyStop(SyncfwError):
    """A safety guard refused the run; ``pair`` names the pair, the message says why."""

    def __init__(self, pair: str, message: str) -> None:
        self.pair = pair
        super().__init__(f"pair {pair!r}: {message}")


class PairBusy(SyncfwError):
    """The pair is locked by another run; this run skipped it."""

    def __init__(self, pair: str) -> None:
        self.pair = pair
        super().__init__(f"pair {pair!r} is being synced by another run right now; skipped")


class Interrupted(SyncfwError):
    """A stop was requested (SIGTERM, Ctrl-C); what was written so far is recorded."""


class Unreadable(SyncfwError, ValueError):
    """An item cannot be read as an event: its data is malformed (a recurrence rule that
    cannot be expanded, a VEVENT without DTSTART, a document that is not iCalendar).

    The message says what is wrong with the item. A ``ValueError`` too, so code that caught
    the ``ValueError`` these cases raised before keeps working; the planners catch only this.
    """


class StepFailed(SyncfwError):
    """A filter or transform raised on an event: a bug in that step, not in the event.

    ``kind`` is "filter" or "transform", ``name`` the step's name as profiles write it,
    ``error`` what it raised (also ``__cause__``). The event is reported and left as it is.
    """

    def __init__(self, kind: str, name: str, error: BaseException) -> None:
        self.kind, self.name, self.error = kind, name, error
        super().__init__(
            f"{kind} {name!r} failed on this event ({type(error).__name__}: {error}); the "
            f"event is left as it is: fix the {kind} or take it out of the pair"
        )


class DriverError(SyncfwError):
    """A calendar operation failed. ``calendar`` is the profile's name for it."""

    def __init__(self, message: str, *, calendar: str | None = None) -> None:
        self.calendar = calendar
        super().__init__(f"calendar {calendar!r}: {message}" if calendar else message)


class CursorExpired(DriverError):
    """The provider rejected the incremental cursor; the engine re-reads in full."""


class NotFound(DriverError):
    """The item does not exist (any more)."""

    def __init__(self, key: str, *, calendar: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key!r} not found", calendar=calendar)


class PreconditionFailed(DriverError):
    """The item changed since its etag was read."""

    def __init__(self, key: str, *, calendar: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key!r} changed concurrently (etag mismatch)", calendar=calendar)


class RateLimited(DriverError):
    """The provider asks to slow down; ``retry_after`` seconds if it said."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, calendar: str | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, calendar=calendar)


class QuotaExceeded(DriverError):
    """The provider's quota is spent; the run stops and resumes next time."""


class AuthError(DriverError):
    """Authentication failed; the message says what to run."""
