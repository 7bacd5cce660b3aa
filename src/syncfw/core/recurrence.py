"""Expanding a recurring series into its instances within a bounded span.

A target that cannot store a series (or a pair in ``recurrence: {mode: expand}``)
gets one event per instance. :func:`expand` produces them: each instance keyed by
:func:`instance_key`, the series' key plus the instance's *original* start (its
RECURRENCE-ID), so a changed title updates instances instead of recreating them,
and an instance that leaves the set (EXDATE, a shortened rule) disappears by key.

The rule runs in wall-clock time of the event's zone (``Event.timezone``, else
the start's tzinfo): a weekly 09:00 Europe/Berlin meeting stays at 09:00 local
across a DST change, so its UTC time shifts. A local time that does not exist
(the spring-forward gap) takes the offset before the gap and one that exists
twice takes the first, as RFC 5545 says.

RFC 5545 details followed here: DTSTART is always an instance; EXDATE removes
and RDATE adds instances; UNTIL is inclusive; an override (``Event.overrides``)
replaces the instance whose original start equals its ``recurrence_id`` and is
ignored when the set has no such instance; a cancelled override removes it. An
override with ``this_and_future`` (RANGE=THISANDFUTURE) also gives every later
instance, up to the next such override, its fields, length and shift in time,
as recurring-ical-events reads it; single overrides still win for their own
instance.

Hostile input stays bounded: a rule must have a valid FREQ, INTERVAL and COUNT;
at most :data:`MAX_INSTANCES` instances are returned and at most
:data:`MAX_SCANNED` occurrences looked at, beyond which the series is
:class:`~syncfw.errors.Unreadable`, as with a malformed rule. A rule that fires nowhere
within a century of its start (``BYMONTH=2;BYMONTHDAY=30``) is treated as firing never,
because python-dateutil would otherwise search up to the year 9999 for a first occurrence.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from syncfw.errors import Unreadable
from syncfw.model import Event, as_utc

__all__ = ["MAX_INSTANCES", "MAX_SCANNED", "expand", "instance_key", "without_strays"]

MAX_INSTANCES = 10_000
"""Instances one :func:`expand` call may return; more raises Unreadable."""

MAX_SCANNED = 100_000
"""Occurrences one call may look at, also those before the span (COUNT rules)."""

# Frequencies whose periods have a fixed wall-clock length: a rule without COUNT
# can start its search close to the span instead of at DTSTART.
_FIXED_PERIODS = {
    "WEEKLY": timedelta(days=7),
    "DAILY": timedelta(days=1),
    "HOURLY": timedelta(hours=1),
    "MINUTELY": timedelta(minutes=1),
    "SECONDLY": timedelta(seconds=1),
}
_FREQS = {"YEARLY", "MONTHLY", *_FIXED_PERIODS}
_UNTIL = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")
# The Gregorian calendar repeats every 400 years; dateutil stops at year 9999.
_PROBE_LAST_START = 9999 - 100

Ident = datetime | date  # an instance's identity: its original start in UTC, or its date


class _Invalid(ValueError):
    """A problem with the series itself; :func:`expand` adds the event's name."""


def instance_key(key: str, original_start: datetime | date) -> str:
    """The key of one instance of the series ``key``: ``K#20250107T080000Z`` or ``K#20250107``.

    ``original_start`` is the instance's RECURRENCE-ID, so the key survives edits
    of the instance (moved, retitled) and of the series' other fields.
    """
    if isinstance(original_start, datetime):
        utc = original_start if original_start.tzinfo is UTC else original_start.astimezone(UTC)
        return f"{key}#{utc:%Y%m%dT%H%M%SZ}"
    return f"{key}#{original_start:%Y%m%d}"


def expand(key: str, event: Event, *, start: datetime, end: datetime) -> list[tuple[str, Event]]:
    """The instances of ``event`` whose span overlaps [start, end), in start order.

    A non-recurring event comes back unchanged as ``[(key, event)]``, wherever it
    lies. An instance is the series (or its override) without recurrence fields,
    with ``recurrence_id`` set to its original start and the series' uid.
    Raises :class:`~syncfw.errors.Unreadable` naming the event when its rule is malformed
    or it has too many instances: the series is what cannot be read, so it is reported
    and skipped like any unreadable item. (python-dateutil signals a hostile rule with
    any of ValueError, TypeError, KeyError, IndexError or OverflowError, hence the broad
    net.) Bounds that are not aware datetimes are the caller's mistake: ValueError.
    """
    if not event.recurring:
        return [(key, event)]
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("expand(): start and end must be timezone-aware")
    try:
        instances = _Series(event).instances(start.astimezone(UTC), end.astimezone(UTC))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise Unreadable(
            f"recurring event {event.title!r} (uid {event.uid!r}): {exc}; "
            "fix the event's recurrence in its calendar"
        ) from exc
    return [(instance_key(key, ident), instance) for ident, instance in instances]


def without_strays(event: Event) -> Event:
    """The series without the overrides whose ``recurrence_id`` is none of its instances.

    Such an override (left behind when the rule was shortened) is never shown by
    :func:`expand`; dropping it keeps a series written whole from showing it either,
    as recurring-ical-events reads both. THISANDFUTURE overrides are kept, and a series
    whose rule cannot be checked is returned as it is (:func:`expand` reports it).
    """
    if not event.overrides or not event.recurring:
        return event
    try:
        series = _Series(event)
        kept = tuple(
            o for ident, o in series.overrides.items() if o.this_and_future or series.occurs(ident)
        )
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return event
    return event if len(kept) == len(event.overrides) else event.replace(overrides=kept)


class _Series:
    """One series prepared for expansion: its zone, duration and occurrence sources.

    Occurrences are handled as naive wall-clock datetimes of ``zone`` (all-day:
    midnight of the date) and identified by :meth:`ident`.
    """

    def __init__(self, event: Event) -> None:
        self.event = event
        self.all_day = event.all_day
        self.zone = _zone(event)
        self.duration: timedelta = event.end - event.start  # type: ignore[operator]
        self.dtstart = self.local(event.start)
        self.exdates = {self.ident_of(v) for v in event.exdates}
        self.overrides: dict[Ident, Event] = {}
        for override in event.overrides:
            if override.recurrence_id is None:
                raise _Invalid("an overridden instance has no recurrence_id")
            self.overrides[self.ident_of(override.recurrence_id)] = override
        # RANGE=THISANDFUTURE: each changes the instances after it, up to the next one.
        self.futures = sorted((i, o) for i, o in self.overrides.items() if o.this_and_future)

    # --------------------------------------------------------- time handling

    def local(self, value: datetime | date) -> datetime:
        """A value as naive wall-clock time of the series' zone."""
        if isinstance(value, datetime):
            if self.all_day:
                return datetime.combine(value.astimezone(self.zone).date(), time())
            return value.astimezone(self.zone).replace(tzinfo=None)
        return datetime.combine(value, time() if self.all_day else self.dtstart.time())

    def ident(self, naive: datetime) -> Ident:
        if self.all_day:
            return naive.date()
        # fold=0: a skipped time takes the offset before the gap, a doubled one the first.
        return naive.replace(tzinfo=self.zone).astimezone(UTC)

    def ident_of(self, value: datetime | date) -> Ident:
        if isinstance(value, datetime) and not self.all_day:
            return value.astimezone(UTC)  # exact, also for the second 02:30 of a fall-back night
        return self.ident(self.local(value))

    def moment(self, ident: Ident) -> datetime | date:
        return ident.astimezone(self.zone) if isinstance(ident, datetime) else ident

    # --------------------------------------------------------------- expansion

    def instances(self, start: datetime, end: datetime) -> list[tuple[Ident, Event]]:
        """(original start, instance) of every instance overlapping [start, end), in order."""
        moved_in = [
            self.local(self.moment(ident))
            for ident, o in self.overrides.items()
            if o.status != "cancelled" and _overlaps(o.start, o.end, start, end)
        ]
        # Occurrences outside [lo, hi] cannot overlap: skipped without a look.
        cushion = timedelta(days=1) if self.all_day else timedelta(hours=3)  # DST, dates
        cushion += max(  # a THISANDFUTURE override moves later instances in from afar
            (abs(o.start - o.recurrence_id) + abs(o.end - o.start) for _, o in self.futures),  # type: ignore[operator]
            default=timedelta(),
        )
        lo = min([self.local(start - self.duration), *moved_in]) - cushion
        hi = max([self.local(end), *moved_in]) + cushion

        extra = sorted({self.dtstart, *(self.local(v) for v in self.event.rdates)})
        streams: list[Iterable[datetime]] = [extra]
        streams += [self._occurrences(text, lo) for text in self.event.rrule]
        found: list[tuple[Ident, Event]] = []
        seen: set[Ident] = set()
        for scanned, naive in enumerate(heapq.merge(*streams), start=1):
            if naive > hi:
                break
            if scanned > MAX_SCANNED:
                raise _Invalid(f"more than {MAX_SCANNED} occurrences up to {end:%Y-%m-%d}")
            if naive < lo:
                continue
            ident = self.ident(naive)
            if ident in seen or ident in self.exdates:
                continue
            seen.add(ident)
            instance = self._instance(ident, start, end)
            if instance is not None:
                found.append((ident, instance))
                if len(found) > MAX_INSTANCES:
                    raise _Invalid(
                        f"more than {MAX_INSTANCES} instances between {start:%Y-%m-%d} and "
                        f"{end:%Y-%m-%d}; shorten the sync window or the recurrence horizon"
                    )
        if self.overrides or len(self.event.rrule) > 1:  # otherwise already in order
            found.sort(key=lambda pair: as_utc(pair[1].start))
        return found

    def occurs(self, ident: Ident) -> bool:
        """Whether DTSTART, an RDATE or a rule gives an occurrence originally at ``ident``
        (EXDATE aside); True when finding out would take more than MAX_SCANNED steps."""
        naive = self.local(self.moment(ident))
        if naive == self.dtstart or any(self.local(v) == naive for v in self.event.rdates):
            return True
        for text in self.event.rrule:
            for scanned, found in enumerate(self._occurrences(text, naive), start=1):
                if found == naive or scanned > MAX_SCANNED:
                    return True
                if found > naive:
                    break
        return False

    def _instance(self, ident: Ident, span_start: datetime, span_end: datetime) -> Event | None:
        """The instance originally at ``ident`` if it lies in the span, else None."""
        override = self.overrides.get(ident)
        original = self.moment(ident)
        if override is not None:
            if override.status == "cancelled":
                return None
            base, start, end = override, override.start, override.end
            if not _overlaps(start, end, span_start, span_end):
                return None
        elif self.futures and self.futures[0][0] < ident:
            # After a THISANDFUTURE override: its fields, moved as it moved its own instance.
            future = next(o for i, o in reversed(self.futures) if i < ident)
            base = future
            start = original + (future.start - future.recurrence_id)  # type: ignore[operator]
            end = start + (future.end - future.start)  # type: ignore[operator]
            if base.status == "cancelled" or not _overlaps(start, end, span_start, span_end):
                return None
        else:
            end_ident = ident + self.duration
            if not _overlaps(ident, end_ident, span_start, span_end):
                return None
            base, start = self.event, original
            end = self.moment(end_ident)  # the exact duration, shown in the zone's offset
        # A copy with seven fields set, not Event.replace(): the values were validated
        # with the series, and a year of a daily series must expand in a few ms.
        instance = base.with_uid(self.event.uid)
        for name, value in (
            ("start", start),
            ("end", end),
            ("recurrence_id", original),
            ("this_and_future", False),
            ("rrule", ()),
            ("rdates", ()),
            ("exdates", ()),
            ("overrides", ()),
        ):
            object.__setattr__(instance, name, value)
        return instance

    def _occurrences(self, text: str, lo: datetime) -> Iterator[datetime]:
        """The rule's occurrences in wall-clock time, from about ``lo`` on, up to UNTIL."""
        parts = _parse_rule(text)
        until = _until_limit(parts.pop("UNTIL", None), self)
        try:
            rule = rrulestr(";".join(f"{k}={v}" for k, v in parts.items()), dtstart=self.dtstart)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise _Invalid(f"invalid RRULE {text!r}: {exc}") from exc
        if not isinstance(rule, rrule):
            raise _Invalid(f"invalid RRULE {text!r}: not a single rule")
        if not _fires_at_all(rule, self.dtstart):
            return
        period = _FIXED_PERIODS.get(parts["FREQ"])
        if period is not None and "COUNT" not in parts and lo > self.dtstart:
            # Whole periods after DTSTART the rule's pattern is the same; skip ahead.
            step = period * int(parts.get("INTERVAL", "1"))
            rule = rule.replace(dtstart=self.dtstart + step * ((lo - self.dtstart) // step))
        for naive in rule:
            if until is not None and naive > until:
                return
            yield naive


def _zone(event: Event) -> tzinfo:
    if event.timezone:
        try:
            return ZoneInfo(event.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise _Invalid(f"unknown time zone {event.timezone!r}") from exc
    if isinstance(event.start, datetime) and event.start.tzinfo is not None:
        return event.start.tzinfo
    return UTC


def _overlaps(
    start: datetime | date, end: datetime | date, span_start: datetime, span_end: datetime
) -> bool:
    # The same rule as Window.overlaps: a zero-length instance counts where it starts.
    s = start if type(start) is datetime and start.tzinfo is UTC else as_utc(start)
    e = end if type(end) is datetime and end.tzinfo is UTC else as_utc(end)
    if s == e:
        return span_start <= s < span_end
    return s < span_end and e > span_start


def _parse_rule(text: str) -> dict[str, str]:
    """An RRULE's parts, checked where dateutil is lenient or would loop forever."""
    body = text.strip().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for part in body.split(";"):
        name, sep, value = part.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not sep or not name or not value or not re.fullmatch(r"[A-Z0-9,+\-]+", value):
            raise _Invalid(f"invalid RRULE {text!r}: cannot read {part!r}")
        if name.startswith("X-"):
            continue  # RFC 5545 x-name parts: extensions dateutil does not know
        if name in parts:
            raise _Invalid(f"invalid RRULE {text!r}: {name} given twice")
        parts[name] = value
    if parts.get("FREQ") not in _FREQS:
        raise _Invalid(f"invalid RRULE {text!r}: FREQ must be one of {', '.join(sorted(_FREQS))}")
    for name in ("INTERVAL", "COUNT"):
        if name in parts and not (parts[name].isdigit() and int(parts[name]) >= 1):
            raise _Invalid(f"invalid RRULE {text!r}: {name} must be a whole number of at least 1")
    return parts


def _until_limit(value: str | None, series: _Series) -> datetime | None:
    """UNTIL as the last wall-clock time an occurrence may have (UNTIL is inclusive)."""
    if value is None:
        return None
    match = _UNTIL.fullmatch(value)
    if match is None:
        raise _Invalid(f"invalid UNTIL {value!r}: expected YYYYMMDD or YYYYMMDDTHHMMSSZ")
    day, clock, utc = match.groups()
    if clock is None:
        until_day = datetime.strptime(day, "%Y%m%d").date()
        if series.all_day or not _in_utc(series.zone):
            return datetime.combine(until_day, time.max)  # the whole day counts
        # A date for a series in UTC (RFC 5545 wants the type of DTSTART; such files come
        # from converters): the start of that day, as recurring-ical-events reads it.
        return datetime.combine(until_day, time.min)
    moment = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    if utc:
        moment = moment.replace(tzinfo=UTC).astimezone(series.zone).replace(tzinfo=None)
    return datetime.combine(moment.date(), time.max) if series.all_day else moment


def _in_utc(zone: tzinfo) -> bool:
    return zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC")


def _fires_at_all(rule: rrule, dtstart: datetime) -> bool:
    """Whether the rule has an occurrence within 100+ years of its start.

    Runs the rule from a year that has the same calendar as DTSTART's (a multiple
    of 400 years later) close to 9999, where dateutil gives up, so a rule that
    never fires costs a bounded search instead of one through eight millennia.
    """
    if dtstart.year >= _PROBE_LAST_START:
        return True
    year = dtstart.year + 400 * ((_PROBE_LAST_START - dtstart.year) // 400)
    probe = rule.replace(dtstart=dtstart.replace(year=year), count=1)
    return next(iter(probe), None) is not None
