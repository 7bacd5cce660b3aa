"""Times between the API (aware datetimes in a zone, or dates) and the database (UTC).

Also the recurrence checks the store needs: validating an RRULE when it is stored, and
deciding whether a series may have an instance in a window, so a full read does not list
series that ended long ago.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from .records import JobcalError

__all__ = [
    "decode_moment",
    "decode_moments",
    "encode_moment",
    "encode_moments",
    "from_storage",
    "may_occur_between",
    "normalize_rrule",
    "to_storage",
    "zone",
]

# Frequencies whose instances are too many to walk cheaply; such series are always listed.
_DENSE = ("SECONDLY", "MINUTELY", "HOURLY")


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a clear error for a typo."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise JobcalError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'"
        ) from None


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def to_storage(start: datetime | date, end: datetime | date) -> tuple[datetime, datetime, bool]:
    """UTC start and end for the database, and whether the appointment is all-day."""
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise JobcalError("start and end must both be dates (all-day) or both datetimes")
    if isinstance(start, datetime) and isinstance(end, datetime):
        if start.tzinfo is None or end.tzinfo is None:
            raise JobcalError(f"{start.isoformat()}: times must carry a time zone")
        if end < start:
            raise JobcalError(f"the end {end.isoformat()} is before the start {start.isoformat()}")
        return start.astimezone(UTC), end.astimezone(UTC), False
    if end <= start:
        raise JobcalError(f"an all-day appointment must end after it starts ({start} .. {end})")
    return _midnight_utc(start), _midnight_utc(end), True


def from_storage(
    starts_at: datetime, ends_at: datetime, all_day: bool, tz: str | None
) -> tuple[datetime | date, datetime | date]:
    """The inverse of :func:`to_storage`: dates, or datetimes in ``tz`` (UTC without one)."""
    if all_day:
        return starts_at.date(), ends_at.date()
    target = _zone_or_utc(tz)
    return starts_at.astimezone(target), ends_at.astimezone(target)


def _zone_or_utc(tz: str | None) -> tzinfo:
    if not tz:
        return UTC
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC  # a zone removed from tzdata must not make the appointment unreadable


def encode_moment(value: datetime | date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise JobcalError(f"{value.isoformat()}: times must carry a time zone")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.isoformat()


def decode_moment(text: str, tz: str | None) -> datetime | date:
    if "T" not in text:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(_zone_or_utc(tz))


def encode_moments(values: Iterable[datetime | date]) -> str | None:
    encoded = sorted(encode_moment(v) for v in values)
    return json.dumps(encoded) if encoded else None


def decode_moments(text: str | None, tz: str | None) -> tuple[datetime | date, ...]:
    if not text:
        return ()
    return tuple(decode_moment(item, tz) for item in json.loads(text))


def normalize_rrule(text: str | None, start: datetime | date) -> str | None:
    """The RRULE value without an ``RRULE:`` prefix, checked by parsing it; None for none."""
    if text is None or not text.strip():
        return None
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    try:
        rrulestr(rule, dtstart=_rule_start(start))
    except (ValueError, TypeError) as exc:
        raise JobcalError(f"invalid RRULE {rule!r}: {exc}") from None
    return rule


def _rule_start(start: datetime | date) -> datetime:
    # dateutil wants a datetime; all-day series recur on naive midnights.
    return start if isinstance(start, datetime) else datetime.combine(start, time())


def may_occur_between(
    start: datetime | date,
    end: datetime | date,
    rrule: str,
    rdates: Iterable[datetime | date],
    window_start: datetime,
    window_end: datetime,
) -> bool:
    """Whether a series may have an instance overlapping [window_start, window_end).

    Errs on the side of "yes": a rule that cannot be evaluated is listed, the engine's
    expansion decides later.
    """
    if any(freq in rrule.upper() for freq in _DENSE):
        return True
    duration = _rule_start(end) - _rule_start(start)
    if isinstance(start, datetime):
        lo, hi = window_start, window_end
    else:  # naive midnights, compared with the window in UTC like Window.overlaps does
        lo = window_start.astimezone(UTC).replace(tzinfo=None)
        hi = window_end.astimezone(UTC).replace(tzinfo=None)
    candidates: list[datetime] = [_rule_start(d) for d in rdates]
    try:
        rule = rrulestr(rrule, dtstart=_rule_start(start))
        first = rule.after(lo - duration, inc=duration == timedelta(0))
    except (ValueError, TypeError, OverflowError):
        return True
    if first is not None:
        candidates.append(first)
    try:
        return any(
            lo - duration < c < hi or (duration == timedelta(0) and c == lo) for c in candidates
        )
    except TypeError:  # an rdate of the other kind (aware vs naive): be generous
        return True
