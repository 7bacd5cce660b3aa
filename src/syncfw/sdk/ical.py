"""Event <-> iCalendar (RFC 5545), driver-neutral: the ics files and CalDAV speak it.

Writing: :func:`event_to_components` turns one :class:`~syncfw.model.Event` into
its VEVENTs (the master and one per override), :func:`event_to_ical` wraps
events in a VCALENDAR with the VTIMEZONEs they use.

Reading: :func:`events_from_ical` groups VEVENTs by UID (the master and its
RECURRENCE-ID overrides become one Event) and returns a :class:`ParseProblem`
for every event it cannot convert, so one broken event never hides the others.

Time zones: a datetime is written with ``TZID=<zoneinfo key>`` when the event
has ``timezone`` set or its tzinfo is a :class:`~zoneinfo.ZoneInfo`, in UTC
otherwise. On reading, a *floating* time (no TZID, no ``Z``) is taken as UTC,
because a sync engine needs an instant and the file does not say whose local
time it means; a TZID that is neither an IANA name nor defined by a VTIMEZONE of
the document is a :class:`ParseProblem` rather than a guess.

RRULE lines are kept as their text (``"FREQ=WEEKLY;BYDAY=MO"``): written
verbatim, read back with their parts in the document's order, so the text - and
therefore :meth:`Event.content_hash` - survives a round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import x_wr_timezone
from icalendar import Parameters, vCalAddress, vRecur
from icalendar.cal import Component

from syncfw.core.recurrence import without_strays
from syncfw.errors import Unreadable
from syncfw.model import Attendee, AttendeeKind, Event, Response, Status, Visibility, as_utc
from syncfw.sdk.zones import iana_equivalent

__all__ = [
    "PRODID",
    "ParseProblem",
    "decode",
    "event_to_components",
    "event_to_ical",
    "events_from_ical",
    "parse_calendars",
]

PRODID = "-//syncfw//syncfw//EN"

log = logging.getLogger(__name__)

# Properties this module reads; a parse error in any other property is ignored.
_READ = {
    "UID", "SUMMARY", "DESCRIPTION", "LOCATION", "DTSTART", "DTEND", "DURATION", "STATUS",
    "TRANSP", "CLASS", "CATEGORIES", "ORGANIZER", "ATTENDEE", "RRULE", "RDATE", "EXDATE",
    "RECURRENCE-ID",
}  # fmt: skip
_KINDS: dict[str, AttendeeKind] = {
    "INDIVIDUAL": "individual", "RESOURCE": "resource", "ROOM": "room", "GROUP": "group",
}  # fmt: skip
_RESPONSES: dict[str, Response] = {
    "NEEDS-ACTION": "needs-action", "ACCEPTED": "accepted", "DECLINED": "declined",
    "TENTATIVE": "tentative",
}  # fmt: skip
_STATUSES: dict[str, Status] = {
    "CONFIRMED": "confirmed", "TENTATIVE": "tentative", "CANCELLED": "cancelled",
}  # fmt: skip
_CLASSES: dict[str, Visibility] = {
    "PUBLIC": "public", "PRIVATE": "private", "CONFIDENTIAL": "confidential",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A VEVENT (or a UID's group of them) that could not become an :class:`Event`."""

    uid: str | None
    title: str | None
    message: str

    def __str__(self) -> str:
        title = f"{self.title!r}" if self.title else "untitled event"
        uid = f" (uid {self.uid!r})" if self.uid else " (no uid)"
        return f"{title}{uid}: {self.message}"


class _RawValue:
    """A property value written exactly as given (the RRULE text)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.params = Parameters()

    def to_ical(self) -> bytes:
        return self.text.encode()


# ---------------------------------------------------------------- writing


def event_to_components(event: Event) -> list[icalendar.Event]:
    """The VEVENTs of one event: the master first, then one per override.

    Raises ValueError when the event cannot be expressed (an unknown time zone
    name, an override without ``recurrence_id``, an RRULE that is not one).
    """
    zone = _zone(event, None)
    periods = _periods(event)
    components = [_component(event, event.uid, zone, periods)]
    for override in event.overrides:
        if override.recurrence_id is None:
            raise ValueError(f"event {event.uid!r}: an override has no recurrence_id")
        if override.recurrence_id not in periods:
            components.append(_component(override, event.uid, _zone(override, zone)))
    return components


def _periods(event: Event) -> dict[datetime | date, datetime | date]:
    """RDATE start -> end, for the overrides that only give an RDATE instance another end:
    written back as the ``RDATE;VALUE=PERIOD`` they were read from."""
    if not event.rdates or not event.overrides:
        return {}
    rdates = set(event.rdates)
    plain = event.replace(rrule=(), rdates=(), exdates=(), overrides=())
    return {
        o.start: o.end
        for o in event.overrides
        if o.recurrence_id in rdates
        and o.start == o.recurrence_id
        and not o.this_and_future
        and o.replace(start=event.start, end=event.end, recurrence_id=None) == plain
    }


def event_to_ical(events: Iterable[Event]) -> bytes:
    """A complete VCALENDAR holding the events and the VTIMEZONEs they use."""
    calendar = new_calendar()
    days: list[date] = []
    for event in events:
        for component in event_to_components(event):
            calendar.add_component(component)
        days += _days(event)
    # The VTIMEZONEs cover every date the events name (icalendar's default stops in 2038,
    # and a parser using the embedded zone would read a later event an hour off).
    first = min([icalendar.Timezone.DEFAULT_FIRST_DATE, *days])
    last = max([icalendar.Timezone.DEFAULT_LAST_DATE, *(d + timedelta(days=366) for d in days)])
    calendar.add_missing_timezones(first_date=first, last_date=last)
    data: bytes = calendar.to_ical()
    return data


def _days(event: Event) -> list[date]:
    """The dates an event (and its overrides, RDATEs, EXDATEs) names."""
    moments = [event.start, event.end, *event.rdates, *event.exdates]
    if event.recurrence_id is not None:
        moments.append(event.recurrence_id)
    days = [m.date() if isinstance(m, datetime) else m for m in moments]
    for override in event.overrides:
        days += _days(override)
    return days


def new_calendar() -> icalendar.Calendar:
    """An empty VCALENDAR with syncfw's PRODID and VERSION 2.0."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    return calendar


def _zone(event: Event, default: tzinfo | None) -> tzinfo | None:
    if event.timezone:
        try:
            return ZoneInfo(event.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"event {event.uid!r}: unknown time zone {event.timezone!r} "
                "(use an IANA name such as 'Europe/Berlin')"
            ) from exc
    tz = event.start.tzinfo if isinstance(event.start, datetime) else None
    if isinstance(tz, ZoneInfo) and tz.key not in ("UTC", "Etc/UTC"):
        return tz
    if tz is not None and not isinstance(tz, ZoneInfo | timezone):
        return tz  # a zone the source defined, with no IANA twin: written with its definition
    return default


def _moment(value: datetime | date, zone: tzinfo | None) -> datetime | date:
    if isinstance(value, datetime):
        return value.astimezone(zone or UTC)
    return value


def _component(
    event: Event,
    uid: str,
    zone: tzinfo | None,
    periods: dict[datetime | date, datetime | date] | None = None,
) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("UID", uid)
    vevent.add("DTSTAMP", datetime.now(UTC).replace(microsecond=0))
    if event.modified is not None:  # kept, so `conflict: newest-wins` compares real edits
        vevent.add("LAST-MODIFIED", event.modified.astimezone(UTC).replace(microsecond=0))
    if event.recurrence_id is not None:
        params = {"RANGE": "THISANDFUTURE"} if event.this_and_future else {}
        vevent.add("RECURRENCE-ID", _moment(event.recurrence_id, zone), parameters=params)
    vevent.add("SUMMARY", event.title)
    if event.description:
        vevent.add("DESCRIPTION", event.description)
    if event.location:
        vevent.add("LOCATION", event.location)
    vevent.add("DTSTART", _moment(event.start, zone))
    vevent.add("DTEND", _moment(event.end, zone))
    vevent.add("STATUS", event.status.upper())
    vevent.add("TRANSP", event.transparency.upper())
    if event.visibility != "default":
        vevent.add("CLASS", event.visibility.upper())
    if event.categories:
        vevent.add("CATEGORIES", list(event.categories))
    if event.organizer is not None:
        vevent.add("ORGANIZER", _address(event.organizer, organizer=True))
    for attendee in event.attendees:
        vevent.add("ATTENDEE", _address(attendee, organizer=False))
    for rule in event.rrule:
        vevent.add("RRULE", _checked_rule(event.uid, rule), encode=False)
    for value in event.rdates:
        if periods and value in periods:
            period = (_moment(value, zone), _moment(periods[value], zone))
            vevent.add("RDATE", [period], parameters={"VALUE": "PERIOD"})
        else:
            vevent.add("RDATE", _moment(value, zone))
    for value in event.exdates:
        vevent.add("EXDATE", _moment(value, zone))
    return vevent


def _checked_rule(uid: str, rule: str) -> _RawValue:
    text = rule.removeprefix("RRULE:").strip()
    try:
        parsed = vRecur.from_ical(text)
    except ValueError as exc:
        raise ValueError(f"event {uid!r}: invalid RRULE {rule!r}: {exc}") from exc
    if "FREQ" not in parsed:
        raise ValueError(f"event {uid!r}: invalid RRULE {rule!r}: FREQ is missing")
    return _RawValue(text)


def _address(person: Attendee, *, organizer: bool) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = person.name
    if not organizer:
        address.params["CUTYPE"] = person.kind.upper()
        address.params["ROLE"] = "OPT-PARTICIPANT" if person.optional else "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = person.response.upper()
    return address


# ---------------------------------------------------------------- reading


def decode(data: bytes, where: str) -> str:
    """A calendar file's text: UTF-8 (RFC 5545), a line that is not read as Windows-1252.

    Exports from older Windows programs carry Windows-1252 bytes (``\xe9`` for "é").
    Such a line is decoded as Windows-1252 (undefined bytes as Latin-1), never dropped
    or replaced by U+FFFD, and a warning names ``where`` and the line, so one bad byte
    never blocks the rest of the calendar.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = []
    for number, line in enumerate(data.removeprefix(b"\xef\xbb\xbf").splitlines(True), 1):
        try:
            text.append(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            log.warning(
                "%s:%d: not UTF-8 (byte 0x%02x), read as Windows-1252; save the file as UTF-8",
                where,
                number,
                line[exc.start],
            )
            text.append(_windows_1252(line))
    return "".join(text)


def _windows_1252(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d: undefined there
        return line.decode("latin-1")


def parse_calendars(data: bytes | str) -> list[icalendar.Calendar]:
    """Every VCALENDAR of a document; :class:`Unreadable` when it is not iCalendar at all."""
    try:
        components = icalendar.Calendar.from_ical(data, multiple=True)
    except ValueError as exc:
        raise Unreadable(f"not an iCalendar document: {exc}") from exc
    calendars = [c for c in components if c.name == "VCALENDAR"]
    if not calendars:
        raise Unreadable("not an iCalendar document: no complete BEGIN:VCALENDAR ... END:VCALENDAR")
    return [_standard(c) for c in calendars]


def _standard(calendar: icalendar.Calendar) -> icalendar.Calendar:
    """``calendar`` with an ``X-WR-TIMEZONE`` (Google's exports) made RFC 5545: its floating
    times are in that zone, as Google and recurring-ical-events take them, not in UTC."""
    if "X-WR-TIMEZONE" not in calendar:
        return calendar
    try:
        standard: icalendar.Calendar = x_wr_timezone.to_standard(calendar)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return calendar  # an unknown zone name: the times stay as they are written
    return standard


def events_from_ical(data: bytes | str) -> list[Event | ParseProblem]:
    """The events of a document, one per UID, in document order.

    A VEVENT that cannot be read is returned as a :class:`ParseProblem` in place
    of its event; a document that is not iCalendar at all raises :class:`Unreadable`.
    """
    groups: dict[str, list[Component]] = {}
    order: list[str | ParseProblem] = []  # UIDs and problems, in document order
    for calendar in parse_calendars(data):
        for vevent in calendar.walk("VEVENT"):
            uid = str(vevent.get("UID", "")).strip()
            if not uid:
                order.append(ParseProblem(None, _title(vevent), "the VEVENT has no UID"))
            elif uid in groups:
                groups[uid].append(vevent)
            else:
                groups[uid] = [vevent]
                order.append(uid)
    out: list[Event | ParseProblem] = []
    for item in order:
        out.extend(_group(item, groups[item]) if isinstance(item, str) else [item])
    return out


def _group(uid: str, vevents: list[Component]) -> list[Event | ParseProblem]:
    masters = [v for v in vevents if "RECURRENCE-ID" not in v]
    title = _title(masters[0] if masters else vevents[0])
    try:
        if len(masters) > 1:
            raise Unreadable(f"{len(masters)} VEVENTs share this UID without RECURRENCE-ID")
        # An instance's own RRULE/RDATE/EXDATE mean nothing (recurring-ical-events too).
        instances = [
            _event(uid, v)[0].replace(rrule=(), rdates=(), exdates=())
            for v in vevents
            if "RECURRENCE-ID" in v
        ]
        if not masters:  # instances of a series whose master is not in the data
            instances.sort(key=lambda e: as_utc(e.recurrence_id))  # type: ignore[arg-type]
            return list(instances)
        return [_with_overrides(*_event(uid, masters[0]), instances)]
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        return [ParseProblem(uid, title, str(exc) or type(exc).__name__)]


def _with_overrides(master: Event, periods: _Periods, overrides: list[Event]) -> Event:
    """The series with its overrides, and those its RDATE periods imply."""
    if master.all_day:  # Outlook's RECURRENCE-ID;TZID=...:20240101T000000 on a DATE series
        overrides = [
            o.replace(recurrence_id=o.recurrence_id.date())
            if isinstance(o.recurrence_id, datetime)
            else o
            for o in overrides
        ]
    explicit = {o.recurrence_id for o in overrides}
    plain = master.replace(rrule=(), rdates=(), exdates=())
    for start, end in periods.items():
        if start not in explicit and end - start != master.end - master.start:  # type: ignore[operator]
            overrides.append(plain.replace(start=start, end=end, recurrence_id=start))
    overrides.sort(key=lambda e: as_utc(e.recurrence_id))  # type: ignore[arg-type]
    return without_strays(master.replace(overrides=tuple(overrides)))


def _title(vevent: Component) -> str | None:
    title = vevent.get("SUMMARY")
    return str(title) if title is not None else None


def _event(uid: str, vevent: Component) -> tuple[Event, _Periods]:
    """The VEVENT as an Event, and the ends of its RDATEs given as periods."""
    for name, message in vevent.errors:
        if name is None or name.upper() in _READ:
            raise Unreadable(f"{name or 'a line'} cannot be parsed: {message}")
    if "DTSTART" not in vevent:
        raise Unreadable("the VEVENT has no DTSTART")
    start = _when(vevent["DTSTART"], "DTSTART")
    if "DTEND" in vevent:
        end = _when(vevent["DTEND"], "DTEND")
    elif "DURATION" in vevent:
        duration = vevent.decoded("DURATION")
        if not isinstance(duration, timedelta):
            raise Unreadable(f"DURATION is not a duration: {duration!r}")
        if not isinstance(start, datetime) and duration % timedelta(days=1):
            raise Unreadable(
                f"DTSTART is a date but DURATION ({duration}) is not whole days; "
                "give DTSTART a time of day, or the duration in days"
            )
        end = start + duration
    else:  # RFC 5545 3.6.1: a date lasts the day, a date-time lasts no time
        end = start if isinstance(start, datetime) else start + timedelta(days=1)
    organizer = vevent.get("ORGANIZER")
    rdates, periods = _rdates(vevent, start)
    exdates = [_when(v, "EXDATE") for p in _all(vevent, "EXDATE") for v in p.dts]
    rid = vevent.get("RECURRENCE-ID")
    recurrence_id = _when(rid, "RECURRENCE-ID") if rid is not None else None
    tz = start.tzinfo if isinstance(start, datetime) else None
    if tz is not None and not isinstance(tz, ZoneInfo | timezone):  # the calendar's own zone
        key = _equivalent(tz, str(vevent["DTSTART"].params.get("TZID", "")), start.year)
        if key is not None:  # the same instants in the IANA twin, so targets know the rule
            tz = ZoneInfo(key)
            start, end = _in(start, tz), _in(end, tz)
            rdates, exdates = [_in(v, tz) for v in rdates], [_in(v, tz) for v in exdates]
            periods = {_in(k, tz): _in(v, tz) for k, v in periods.items()}
            recurrence_id = _in(recurrence_id, tz) if recurrence_id is not None else None
    event = Event(
        uid=uid,
        title=str(vevent.get("SUMMARY", "")),
        description=str(vevent.get("DESCRIPTION", "")),
        location=str(vevent.get("LOCATION", "")),
        start=start,
        end=end,
        status=_STATUSES.get(str(vevent.get("STATUS", "")).upper(), "confirmed"),
        transparency="transparent"
        if str(vevent.get("TRANSP", "")).upper() == "TRANSPARENT"
        else "opaque",
        visibility=_visibility(vevent.get("CLASS")),
        categories=tuple(str(c) for p in _all(vevent, "CATEGORIES") for c in p.cats),
        organizer=_attendee(organizer) if organizer is not None else None,
        attendees=tuple(_attendee(a) for a in _all(vevent, "ATTENDEE")),
        timezone=tz.key if isinstance(tz, ZoneInfo) and tz.key not in ("UTC", "Etc/UTC") else None,
        # an empty RRULE line repeats nothing: a single event, as recurring-ical-events has it
        rrule=tuple(text for text in map(_rule_text, _all(vevent, "RRULE")) if text),
        rdates=tuple(rdates),
        exdates=tuple(exdates),
        recurrence_id=recurrence_id,
        this_and_future=rid is not None
        and str(rid.params.get("RANGE", "")).upper() == "THISANDFUTURE",
        modified=_modified(vevent),
    )
    return event, periods


_Periods = dict[datetime | date, datetime | date]  # RDATE start -> the end its period gives


def _rdates(vevent: Component, start: datetime | date) -> tuple[list[datetime | date], _Periods]:
    """RDATE values in DTSTART's type, and the ends of those given as periods."""
    values: list[datetime | date] = []
    periods: _Periods = {}
    for prop in _all(vevent, "RDATE"):
        for value in prop.dts:
            first = _like(_when(value, "RDATE"), start)
            values.append(first)
            if isinstance(value.dt, tuple):  # a period: (start, end) or (start, duration)
                last = value.dt[1]
                if isinstance(last, timedelta):
                    periods[first] = first + last
                else:
                    periods[first] = _like(_when(_Dated(last, value.params), "RDATE"), start)
    return values, periods


class _Dated:
    """A period's end with the parameters of its RDATE value, for :func:`_when`."""

    def __init__(self, dt: datetime | date, params: Any) -> None:
        self.dt, self.params = dt, params


def _like(value: datetime | date, start: datetime | date) -> datetime | date:
    """An RDATE value in DTSTART's type: a date in a timed series is its midnight in the
    series' zone (as recurring-ical-events takes it), a date-time in a DATE series its date."""
    if isinstance(start, datetime) and not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=start.tzinfo)
    if not isinstance(start, datetime) and isinstance(value, datetime):
        return value.date()
    return value


def _in(value: datetime | date, zone: ZoneInfo) -> datetime | date:
    return value.astimezone(zone) if isinstance(value, datetime) else value


@lru_cache(maxsize=64)
def _equivalent(zone: tzinfo, tzid: str, year: int) -> str | None:
    return iana_equivalent(zone, tzid=tzid, around=datetime(year, 1, 1, tzinfo=UTC))


def _modified(vevent: Component) -> datetime | None:
    """LAST-MODIFIED as an aware datetime; a malformed one is as good as none."""
    try:
        value = vevent.decoded("LAST-MODIFIED")
    except (KeyError, ValueError):
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _all(vevent: Component, name: str) -> list[Any]:
    value = vevent.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _when(prop: Any, name: str) -> datetime | date:
    value = getattr(prop, "dt", None)
    if isinstance(value, tuple):  # an RDATE period: its start is the instance
        value = value[0]
    if not isinstance(value, date):
        raise Unreadable(f"{name} is not a date or date-time: {prop!r}")
    if isinstance(value, datetime) and value.tzinfo is None:
        tzid = prop.params.get("TZID")
        if tzid:
            raise Unreadable(
                f"{name} uses the unknown time zone {tzid!r} "
                "(neither an IANA name nor defined by a VTIMEZONE in the calendar)"
            )
        return value.replace(tzinfo=UTC)  # floating time: taken as UTC
    return value


def _visibility(value: Any) -> Visibility:
    if value is None:
        return "default"
    # RFC 5545 3.8.1.3: an unknown classification is to be treated as PRIVATE.
    return _CLASSES.get(str(value).upper(), "private")


def _attendee(address: Any) -> Attendee:
    params = getattr(address, "params", {})
    email = str(address)
    if email.lower().startswith("mailto:"):
        email = email[len("mailto:") :]
    return Attendee(
        email=email,
        name=str(params.get("CN", "")),
        kind=_KINDS.get(str(params.get("CUTYPE", "")).upper(), "individual"),
        response=_RESPONSES.get(str(params.get("PARTSTAT", "")).upper(), "needs-action"),
        optional=str(params.get("ROLE", "")).upper() == "OPT-PARTICIPANT",
    )


def _rule_text(rule: Any) -> str:
    if not isinstance(rule, vRecur):
        raise Unreadable(f"RRULE cannot be parsed: {rule!r}")
    # vRecur.to_ical() reorders the parts; render them in the document's order.
    parts = (vRecur({k: v}).to_ical() for k, v in rule.items())  # type: ignore[no-untyped-call]
    return ";".join(p.decode() for p in parts)
