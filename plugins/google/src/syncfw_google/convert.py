"""Event <-> Google Calendar event resource (JSON), both ways, without I/O.

What Google cannot hold natively rides in *private* extended properties, which
only this OAuth client's calendar sees: ``syncfw`` = "1" marks an event as ours,
``syncfw_uid`` is the engine's uid (so reads return the uid that was written),
and the few fields Google has no place for (attendee kinds beyond "resource",
categories, the organizer we were given — Google sets its own) are kept as JSON.

Event ids are chosen by the client: a hex digest of the uid. Hex digits are a
subset of base32hex, the alphabet Google requires, so a retried insert carries
the same id and Google answers 409 instead of creating a twin.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncfw.model import Attendee, AttendeeKind, Event, Response, as_utc

__all__ = [
    "MARK",
    "UID_PROP",
    "event_id",
    "from_google",
    "instance_id",
    "is_ours",
    "parse_when",
    "private_props",
    "to_google",
]

MARK = "syncfw"
UID_PROP = "syncfw_uid"
_KINDS_PROP = "syncfw_kinds"
_CATEGORIES_PROP = "syncfw_categories"
_ORGANIZER_PROP = "syncfw_organizer"

_RESPONSE_TO_GOOGLE: dict[str, str] = {
    "needs-action": "needsAction",
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
}
_RESPONSE_FROM_GOOGLE = {v: k for k, v in _RESPONSE_TO_GOOGLE.items()}


def event_id(uid: str) -> str:
    """The Google event id for an engine uid: 32 lowercase hex digits (valid base32hex)."""
    return hashlib.blake2b(uid.encode(), digest_size=16).hexdigest()


def instance_id(series_id: str, original_start: datetime | date) -> str:
    """The id Google gives one instance of a series: ``{series}_{start in UTC, basic format}``."""
    if isinstance(original_start, datetime):
        return f"{series_id}_{as_utc(original_start):%Y%m%dT%H%M%SZ}"
    return f"{series_id}_{original_start:%Y%m%d}"


def private_props(item: Mapping[str, Any]) -> dict[str, str]:
    props = (item.get("extendedProperties") or {}).get("private") or {}
    return dict(props)


def is_ours(item: Mapping[str, Any]) -> bool:
    return private_props(item).get(MARK) == "1"


# -- Event -> Google --------------------------------------------------------------


def to_google(
    event: Event, *, with_id: bool = True, marks: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The event resource for an insert or update (a whole resource: update replaces).

    ``marks`` (e.g. ``syncfw_profile``, ``syncfw_pair``) join the private properties.
    """
    body: dict[str, Any] = {
        "summary": event.title,
        "description": event.description,
        "location": event.location,
        "start": _when(event.start, event.timezone),
        "end": _when(event.end, event.timezone),
        "status": event.status,
        "transparency": event.transparency,
        "visibility": event.visibility,
        "attendees": [_attendee(a) for a in event.attendees],
        "extendedProperties": {"private": {**_props(event), **(marks or {})}},
    }
    if with_id:
        body["id"] = event_id(event.uid)
        body["iCalUID"] = event.uid
    if event.organizer is not None:
        body["organizer"] = {"email": event.organizer.email, "displayName": event.organizer.name}
    recurrence = _recurrence_lines(event)
    if recurrence:
        body["recurrence"] = recurrence
    return body


def override_body(series: Event, override: Event, series_id: str) -> dict[str, Any]:
    """The resource of one overridden instance of ``series`` (``override.recurrence_id`` set)."""
    assert override.recurrence_id is not None
    body = to_google(override.replace(uid=series.uid, rrule=(), rdates=(), exdates=()))
    body["id"] = instance_id(series_id, override.recurrence_id)
    body["recurringEventId"] = series_id
    body["originalStartTime"] = _when(override.recurrence_id, series.timezone)
    body.pop("recurrence", None)
    return body


def _props(event: Event) -> dict[str, str]:
    props = {MARK: "1", UID_PROP: event.uid}
    kinds = {a.email: a.kind for a in event.attendees if a.kind not in ("individual", "resource")}
    if kinds:
        props[_KINDS_PROP] = json.dumps(kinds, separators=(",", ":"))
    if event.categories:
        props[_CATEGORIES_PROP] = json.dumps(list(event.categories), ensure_ascii=False)
    if event.organizer is not None:
        props[_ORGANIZER_PROP] = json.dumps(
            [event.organizer.email, event.organizer.name], ensure_ascii=False
        )
    return props


def _attendee(attendee: Attendee) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": attendee.email,
        "responseStatus": _RESPONSE_TO_GOOGLE[attendee.response],
    }
    if attendee.name:
        body["displayName"] = attendee.name
    if attendee.optional:
        body["optional"] = True
    if attendee.kind in ("resource", "room"):
        body["resource"] = True
    return body


def _when(value: datetime | date, timezone: str | None) -> dict[str, str]:
    if not isinstance(value, datetime):
        return {"date": value.isoformat()}
    zone = _zone_name(value, timezone)
    local = value.astimezone(ZoneInfo(zone)) if zone != "UTC" else value.astimezone(UTC)
    return {"dateTime": local.isoformat(), "timeZone": zone}


def _zone_name(value: datetime, timezone: str | None) -> str:
    for name in (timezone, getattr(value.tzinfo, "key", None)):
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return str(name)
    return "UTC"


def _recurrence_lines(event: Event) -> list[str]:
    lines = [line if ":" in line else f"RRULE:{line}" for line in event.rrule]
    lines += [_date_line("RDATE", d) for d in event.rdates]
    lines += [_date_line("EXDATE", d) for d in event.exdates]
    return lines


def _date_line(name: str, value: datetime | date) -> str:
    if isinstance(value, datetime):
        return f"{name}:{as_utc(value):%Y%m%dT%H%M%SZ}"
    return f"{name};VALUE=DATE:{value:%Y%m%d}"


# -- Google -> Event --------------------------------------------------------------


def from_google(
    item: Mapping[str, Any],
    *,
    overrides: Iterable[Event] = (),
    exdates: Iterable[datetime | date] = (),
) -> Event:
    """The Event for a Google event resource (a single event or a series' master).

    ``overrides`` and ``exdates`` come from the series' exception instances
    (modified and cancelled ones), which Google lists as separate items.
    """
    props = private_props(item)
    uid = props.get(UID_PROP) or item.get("iCalUID") or item["id"]
    start, start_zone = parse_when(item["start"])
    end, _ = parse_when(item.get("end") or item["start"])
    rrule, rdates, own_exdates = _parse_recurrence(item.get("recurrence") or (), start_zone)
    all_exdates = _unique(tuple(own_exdates) + tuple(exdates))
    kinds = cast(dict[str, str], json.loads(props.get(_KINDS_PROP, "{}")))
    original = item.get("originalStartTime")
    return Event(
        uid=uid,
        title=item.get("summary", ""),
        start=start,
        end=end,
        description=item.get("description", ""),
        location=item.get("location", ""),
        status=item.get("status", "confirmed"),
        transparency=item.get("transparency", "opaque"),
        visibility=item.get("visibility", "default"),
        categories=tuple(json.loads(props.get(_CATEGORIES_PROP, "[]"))),
        organizer=_organizer(item, props),
        attendees=tuple(_read_attendee(a, kinds) for a in item.get("attendees") or ()),
        timezone=start_zone if isinstance(start, datetime) else None,
        rrule=rrule,
        rdates=rdates,
        exdates=all_exdates,
        recurrence_id=parse_when(original)[0] if original else None,
        overrides=tuple(overrides),
        extra={"google_id": item.get("id"), "html_link": item.get("htmlLink")},
        modified=_updated(item),
    )


def _updated(item: Mapping[str, Any]) -> datetime | None:
    """The resource's ``updated`` time (RFC 3339), for ``conflict: newest-wins``."""
    try:
        return datetime.fromisoformat(str(item["updated"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


def parse_when(when: Mapping[str, Any]) -> tuple[datetime | date, str | None]:
    """A Google start/end/originalStartTime: a date, or an aware datetime in its zone."""
    if "date" in when and "dateTime" not in when:
        return date.fromisoformat(when["date"]), None
    moment = datetime.fromisoformat(when["dateTime"].replace("Z", "+00:00"))
    zone = when.get("timeZone")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    if zone:
        try:
            moment = moment.astimezone(ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
    return moment, zone


def _organizer(item: Mapping[str, Any], props: Mapping[str, str]) -> Attendee | None:
    if _ORGANIZER_PROP in props:
        email, name = json.loads(props[_ORGANIZER_PROP])
        return Attendee(email, name)
    if props.get(MARK) == "1":
        return None  # Google names the calendar's owner; we wrote no organizer
    organizer = item.get("organizer")
    if not organizer or not organizer.get("email"):
        return None
    return Attendee(organizer["email"], organizer.get("displayName", ""))


def _read_attendee(body: Mapping[str, Any], kinds: Mapping[str, str]) -> Attendee:
    email = body.get("email", "")
    kind = kinds.get(email) or ("resource" if body.get("resource") else "individual")
    response = _RESPONSE_FROM_GOOGLE.get(body.get("responseStatus", ""), "needs-action")
    return Attendee(
        email=email,
        name=body.get("displayName", ""),
        kind=cast(AttendeeKind, kind),
        response=cast(Response, response),
        optional=bool(body.get("optional", False)),
    )


def _parse_recurrence(
    lines: Iterable[str], zone: str | None
) -> tuple[tuple[str, ...], tuple[datetime | date, ...], tuple[datetime | date, ...]]:
    rrule: list[str] = []
    rdates: list[datetime | date] = []
    exdates: list[datetime | date] = []
    for line in lines:
        head, _, value = line.partition(":")
        name, *params = head.split(";")
        name = name.upper()
        if name == "RRULE":
            rrule.append(value)
        elif name in ("RDATE", "EXDATE"):
            values = [_parse_ical_date(v, params, zone) for v in value.split(",") if v]
            (rdates if name == "RDATE" else exdates).extend(values)
    return tuple(rrule), tuple(rdates), tuple(exdates)


def _parse_ical_date(value: str, params: list[str], zone: str | None) -> datetime | date:
    if "VALUE=DATE" in (p.upper() for p in params) or len(value) == 8:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    moment = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    if value.endswith("Z"):
        return moment.replace(tzinfo=UTC)
    tzid = next((p[5:] for p in params if p.upper().startswith("TZID=")), None) or zone
    return moment.replace(tzinfo=ZoneInfo(tzid) if tzid else UTC)


def _unique(values: tuple[datetime | date, ...]) -> tuple[datetime | date, ...]:
    seen: dict[object, datetime | date] = {}
    for value in values:
        key = as_utc(value) if isinstance(value, datetime) else value
        seen.setdefault(key, value)
    return tuple(seen.values())
