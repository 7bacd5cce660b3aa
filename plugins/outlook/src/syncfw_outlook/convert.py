"""Graph event resources <-> syncfw :class:`~syncfw.model.Event`.

syncfw's uid travels in a single-value extended property of syncfw's own GUID
namespace (:data:`UID_PROP`), next to the profile and pair that wrote it
(:data:`BY_PROP`) and what Graph has no field for (:data:`EXTRA_PROP`: the organizer
syncfw was given — Graph makes the mailbox owner the organizer — and attendee kinds
other than resource); Graph's ``iCalUId`` is the uid of events syncfw did not write.
Extended properties only come back when asked for with ``$expand`` (:data:`EXPAND`).

Field mapping: subject/title, body (text)/description, location.displayName,
start/end (``dateTimeTimeZone``; all-day as midnight to midnight), attendees
(required/optional/resource with their ``status.response``), organizer,
showAs <-> transparency and tentative status, sensitivity <-> visibility,
categories, isCancelled; ``isReminderOn``, ``showAs``, ``importance`` are kept
in ``Event.extra``. Recurrence goes through :mod:`.recurrence`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from syncfw.model import Attendee, Event

from . import recurrence, zones

__all__ = [
    "BY_PROP",
    "EXPAND",
    "UID_PROP",
    "from_graph",
    "marks",
    "original_start",
    "series_problem",
    "to_graph",
    "transaction_id",
]

#: syncfw's GUID namespace for its extended properties (fixed for good: it finds old events).
NAMESPACE = "{3f0c6a52-8d7e-4b1f-9a35-5c2e7d9b1a64}"
UID_PROP = f"String {NAMESPACE} Name syncfw_uid"
BY_PROP = f"String {NAMESPACE} Name syncfw_by"
EXTRA_PROP = f"String {NAMESPACE} Name syncfw_extra"
_PROPS = (UID_PROP, BY_PROP, EXTRA_PROP)
EXPAND = (
    "singleValueExtendedProperties($filter=" + " or ".join(f"id eq '{p}'" for p in _PROPS) + ")"
)
_PROP_IDS = frozenset(p.lower() for p in _PROPS)
_TRANSACTIONS = uuid.UUID(NAMESPACE.strip("{}"))

_RESPONSES: dict[str, Any] = {
    "accepted": "accepted",
    "declined": "declined",
    "tentativelyAccepted": "tentative",
    "organizer": "accepted",
}
_TO_RESPONSE = {
    "needs-action": "none",
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentativelyAccepted",
}
_NO_TIME = "0001-01-01T00:00:00Z"
_SENSITIVITY = {"private": "private", "confidential": "confidential", "personal": "private"}
_TO_SENSITIVITY = {"default": "normal", "public": "normal", "private": "private"}


def marks(item: Mapping[str, Any]) -> dict[str, str]:
    """The extended properties of ``item`` by short name (``syncfw_uid``, ``syncfw_by``)."""
    found: dict[str, str] = {}
    for prop in item.get("singleValueExtendedProperties") or ():
        prop_id = str(prop.get("id", ""))
        if prop_id.lower() in _PROP_IDS:
            found[prop_id.rsplit(" ", 1)[-1]] = str(prop.get("value", ""))
    return found


def transaction_id(event: Event, nonce: str = "") -> str:
    """The create's ``transactionId``: the same for a retried POST of the same event by the
    same writer (``nonce``), so Graph answers it with the event it already made instead of
    a second one. A new ``nonce`` per run keeps Graph from taking a create of an event a
    person deleted for a retry of the first create; a create lost by a killed run is found
    by syncfw's uid mark instead."""
    return str(uuid.uuid5(_TRANSACTIONS, f"{event.uid}|{event.content_hash()}|{nonce}"))


# -- to Graph -----------------------------------------------------------------------


def to_graph(
    event: Event, *, by: str = "", create: bool = False, nonce: str = ""
) -> dict[str, Any]:
    """The resource to POST or PATCH for ``event`` (a PATCH body sends every field, so a
    field emptied in syncfw is emptied in Outlook too).

    Raises :class:`~.recurrence.Inexpressible` for a series Graph cannot store.
    """
    zone_name = _zone_name(event)
    body: dict[str, Any] = {
        "subject": event.title,
        "body": {"contentType": "text", "content": event.description},
        "location": {"displayName": event.location},
        "isAllDay": event.all_day,
        **_times(event, zone_name),
        "showAs": _show_as(event),
        "sensitivity": _TO_SENSITIVITY.get(event.visibility, event.visibility),
        "categories": list(event.categories),
        "attendees": [_attendee(a) for a in event.attendees],
    }
    if event.recurring:
        body["recurrence"] = _recurrence(event, zone_name)
    props = [{"id": UID_PROP, "value": event.uid}]
    if by:
        props.append({"id": BY_PROP, "value": by})
    extra = _extra(event)
    if extra or not create:  # an update clears what an earlier write kept there
        props.append({"id": EXTRA_PROP, "value": json.dumps(extra, ensure_ascii=False)})
    body["singleValueExtendedProperties"] = props
    if create:
        body["transactionId"] = transaction_id(event, nonce)
    return body


def series_problem(event: Event) -> str | None:
    """Why Graph cannot store ``event`` as a series (None: it can)."""
    try:
        _recurrence(event, _zone_name(event))
    except recurrence.Inexpressible as err:
        return f"Outlook cannot store this recurrence ({err})"
    return None


def _recurrence(event: Event, zone_name: str) -> dict[str, Any]:
    if event.rdates or len(event.rrule) != 1:
        why = "RDATE" if event.rdates else f"{len(event.rrule)} RRULE lines"
        raise recurrence.Inexpressible(f"Graph has no place for {why}")
    return recurrence.to_graph(event.rrule[0], _local_start(event), zone_name)


def override_body(override: Event) -> dict[str, Any]:
    """What to PATCH onto one occurrence to make it the override (no recurrence, no marks)."""
    body = to_graph(override.replace(rrule=(), rdates=(), exdates=(), overrides=()))
    for key in ("recurrence", "singleValueExtendedProperties"):
        body.pop(key, None)
    return body


def _times(event: Event, zone_name: str) -> dict[str, Any]:
    if event.all_day:
        assert isinstance(event.start, date) and isinstance(event.end, date)
        end = event.end if event.end > event.start else event.start + timedelta(days=1)
        return {
            "start": zones.format_date(event.start, zone_name),
            "end": zones.format_date(end, zone_name),
        }
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    return {
        "start": zones.format_datetime(event.start, zone_name),
        "end": zones.format_datetime(event.end, zone_name),
    }


def _zone_name(event: Event) -> str:
    """The Graph zone to write ``event`` in: its own, else its start's, else UTC."""
    zone = event.timezone or (event.start.tzinfo if isinstance(event.start, datetime) else None)
    return zones.zone_to_graph(zone)


def _local_start(event: Event) -> datetime | date:
    if isinstance(event.start, datetime) and event.timezone:
        return event.start.astimezone(_zone(event.timezone))
    return event.start


def _extra(event: Event) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if event.organizer is not None:
        extra["organizer"] = [event.organizer.email, event.organizer.name]
    kinds = {a.email: a.kind for a in event.attendees if a.kind not in ("individual", "resource")}
    if kinds:
        extra["kinds"] = kinds
    if len(event.rrule) == 1:  # read back as written while Graph still holds that pattern
        extra["rrule"] = event.rrule[0]
    return extra


def _show_as(event: Event) -> str:
    if event.transparency == "transparent":
        return "free"
    return "tentative" if event.status == "tentative" else "busy"


def _attendee(attendee: Attendee) -> dict[str, Any]:
    kind = "resource" if attendee.kind in ("resource", "room") else None
    return {
        "emailAddress": {"address": attendee.email, "name": attendee.name or attendee.email},
        "type": kind or ("optional" if attendee.optional else "required"),
        # The answer as syncfw last saw it (the target's own, merged in by the engine), so
        # replacing the attendee list on an update does not reset anyone's answer.
        "status": {"response": _TO_RESPONSE[attendee.response], "time": _NO_TIME},
    }


# -- from Graph ---------------------------------------------------------------------


def original_start(item: Mapping[str, Any]) -> datetime:
    """An occurrence's or exception's ``originalStart`` (an ISO 8601 offset time)."""
    value = str(item["originalStart"])
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def from_graph(
    item: Mapping[str, Any],
    *,
    props: Mapping[str, str] | None = None,
    overrides: Iterable[Event] = (),
    exdates: Iterable[datetime | date] = (),
) -> Event:
    """The Event for a Graph event (a single instance, a series master or an exception);
    ``props`` are syncfw's extended properties of the event (see :func:`marks`), when read.

    Raises ValueError (or KeyError/TypeError) for a resource it cannot read.
    """
    props = props or {}
    uid = props.get("syncfw_uid")
    extra = json.loads(props["syncfw_extra"]) if props.get("syncfw_extra") else {}
    kinds: Mapping[str, str] = extra.get("kinds") or {}
    zone = _item_zone(item)
    start, end = _read_times(item, zone)
    show_as = str(item.get("showAs") or "busy")
    status = "cancelled" if item.get("isCancelled") else "confirmed"
    if show_as == "tentative" and status == "confirmed":
        status = "tentative"
    if "organizer" in extra:
        organizer: tuple[str, str] | None = tuple(extra["organizer"])  # type: ignore[assignment]
    elif uid:
        organizer = None  # Graph names the mailbox owner; syncfw wrote no organizer
    else:
        organizer = _address(item.get("organizer"))
    rrule: tuple[str, ...] = ()
    if item.get("recurrence"):
        written = extra.get("rrule")  # kept as written while it still means the same
        rrule = (recurrence.from_graph(item["recurrence"], start, written=written),)
    all_day = not isinstance(start, datetime)
    recurrence_id: datetime | date | None = None
    if item.get("type") in ("exception", "occurrence") and item.get("originalStart"):
        original = original_start(item).astimezone(zone)
        recurrence_id = original.date() if all_day else original
    return Event(
        uid=uid or str(item.get("iCalUId") or item["id"]),
        title=str(item.get("subject") or ""),
        start=start,
        end=end,
        description=_text((item.get("body") or {}).get("content")),
        location=str((item.get("location") or {}).get("displayName") or ""),
        status=status,  # type: ignore[arg-type]
        transparency="transparent" if show_as == "free" else "opaque",
        visibility=_SENSITIVITY.get(str(item.get("sensitivity") or ""), "default"),  # type: ignore[arg-type]
        categories=tuple(item.get("categories") or ()),
        organizer=Attendee(organizer[0], organizer[1]) if organizer else None,
        attendees=tuple(_read_attendee(a, kinds) for a in item.get("attendees") or ()),
        timezone=None if all_day else getattr(zone, "key", None),
        rrule=rrule,
        exdates=tuple(sorted(exdates, key=str)),
        recurrence_id=recurrence_id,
        overrides=tuple(overrides),
        extra={k: item[k] for k in ("isReminderOn", "showAs", "importance") if k in item},
        modified=_modified(item.get("lastModifiedDateTime")),
    )


def _item_zone(item: Mapping[str, Any]) -> tzinfo:
    """The zone the event was planned in (its wall clock for a series), UTC if unknown."""
    name = item.get("originalStartTimeZone") or (item.get("start") or {}).get("timeZone")
    try:
        return zones.zone_from_graph(str(name)) if name else UTC
    except ValueError:
        return UTC


def _read_times(item: Mapping[str, Any], zone: tzinfo) -> tuple[datetime | date, datetime | date]:
    if item.get("isAllDay"):
        start_day = zones.parse_date(item["start"])
        end_day = zones.parse_date(item["end"])
        return start_day, max(end_day, start_day)
    start = zones.parse_datetime(item["start"]).astimezone(zone)
    end = zones.parse_datetime(item["end"]).astimezone(zone)
    return start, max(end, start)


def _read_attendee(item: Mapping[str, Any], kinds: Mapping[str, str]) -> Attendee:
    address, name = _address(item) or ("", "")
    if not address:
        raise ValueError("an attendee without an e-mail address")
    kind = kinds.get(address) or ("resource" if item.get("type") == "resource" else "individual")
    response = _RESPONSES.get(str((item.get("status") or {}).get("response")), "needs-action")
    return Attendee(address, name, kind, response, optional=item.get("type") == "optional")  # type: ignore[arg-type]


def _address(item: Any) -> tuple[str, str] | None:
    email = (item or {}).get("emailAddress") or {}
    address = str(email.get("address") or "")
    if not address:
        return None
    name = str(email.get("name") or "")
    return address, "" if name == address else name


def _text(content: Any) -> str:
    # Graph stores text bodies with CRLF line ends; syncfw keeps LF.
    return str(content or "").replace("\r\n", "\n")


def _modified(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return zones.zone_from_graph(name)
