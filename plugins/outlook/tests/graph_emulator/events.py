"""Event resource semantics: create, validate, find, update, delete, occurrences, presentation.

Why a mixin: these rules (transactionId deduplication, If-Match and 412, all-day validation,
occurrences that become exceptions when patched and disappear when deleted, a deleted master
taking its instances with it) are what the driver is tested against, and reading them apart
from the HTTP plumbing in server.py keeps both short. GraphEmulator inherits this class.
"""

from __future__ import annotations

import copy
import re
import secrets
import urllib.parse
from datetime import UTC, datetime, timedelta

from . import recurrence
from .resources import (
    EXT,
    ApiError,
    Calendar,
    Json,
    Mailbox,
    instant,
    local_text,
    new_change_key,
    occurrence_id,
    opaque_id,
    overlaps,
    resolve_zone,
    span,
    split_occurrence_id,
    stamp,
    strip_etag,
    wall,
)

# Properties the server owns: ignored when a client sends them (event resource page).
SERVER_SET = (
    "@odata.context",
    "@odata.etag",
    "id",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "type",
    "seriesMasterId",
    "originalStart",
    "iCalUId",
    "webLink",
    "isOrganizer",
    "responseStatus",
    "bodyPreview",
    "originalStartTimeZone",
    "originalEndTimeZone",
)
DEFAULTS: Json = {
    "categories": [],
    "transactionId": None,
    "reminderMinutesBeforeStart": 15,
    "isReminderOn": True,
    "hasAttachments": False,
    "subject": "",
    "importance": "normal",
    "sensitivity": "normal",
    "isAllDay": False,
    "isCancelled": False,
    "isDraft": False,
    "allowNewTimeProposals": True,
    "hideAttendees": False,
    "responseRequested": True,
    "showAs": "busy",
    "onlineMeetingUrl": None,
    "isOnlineMeeting": False,
    "onlineMeetingProvider": "unknown",
    "body": {"contentType": "html", "content": ""},
    "location": {"displayName": "", "locationType": "default", "uniqueIdType": "unknown"},
    "locations": [],
    "recurrence": None,
    "seriesMasterId": None,
    "attendees": [],
    "onlineMeeting": None,
}
NO_RESPONSE = {"response": "none", "time": "0001-01-01T00:00:00Z"}
UID_PREFIX = "040000008200E00074C5B7101A82E008"
TAGS_RE = re.compile(r"<[^>]*>")


def present(event: Json, zone_name: str = "UTC", expand: set[str] | None = None) -> Json:
    """An event as Graph returns it: dateTimes in `zone_name` (Prefer: outlook.timezone),
    extended properties only when expanded (`expand` = lower-cased ids; empty = all)."""
    out = {k: copy.deepcopy(v) for k, v in event.items() if k != EXT}
    if out.get("transactionId") is None:
        out.pop("transactionId", None)  # only returned when a client set it
    if expand is not None:
        props = [dict(p) for p in event.get(EXT) or [] if not expand or p["id"].lower() in expand]
        if props:
            out[EXT] = props
    zone = resolve_zone(zone_name)
    for key in ("start", "end"):
        if event.get("isAllDay"):  # all-day events keep their dates in any zone
            moment = wall(event[key])
        else:
            moment = instant(event[key]).astimezone(zone).replace(tzinfo=None)
        out[key] = {"dateTime": local_text(moment), "timeZone": zone_name}
    return out


def removed(event_id: str) -> Json:
    """A delta entry for an instance that was deleted or left the window (delta query guide)."""
    return {
        "@odata.type": "#microsoft.graph.event",
        "id": event_id,
        "@removed": {"reason": "deleted"},
    }


class EventOps:
    """Event operations on one mailbox; callers hold the emulator lock."""

    def _touch(self, event: Json) -> None:
        key = new_change_key()
        event["changeKey"] = key
        event["@odata.etag"] = f'W/"{key}"'
        event["lastModifiedDateTime"] = stamp()

    def _check_etag(self, event: Json, if_match: str | None) -> None:
        if if_match and if_match.strip() != "*":
            if strip_etag(if_match) != event["changeKey"]:
                raise ApiError(412, "ErrorIrresolvableConflict")

    def _normalize(self, mb: Mailbox, event: Json) -> None:
        """Validate start/end/recurrence (400 as Graph does) and derive the server fields."""
        for key in ("start", "end"):
            value = event.get(key)
            if not isinstance(value, dict) or not value.get("dateTime"):
                raise ApiError(400, "ErrorInvalidRequest", f"The '{key}' property is required.")
            if not value.get("timeZone"):
                raise ApiError(
                    400,
                    "TimeZoneNotSupportedException",
                    "A valid TimeZone value must be specified.",
                )
            event[key] = {"dateTime": local_text(wall(value)), "timeZone": value["timeZone"]}
        start, end = span(event)
        if end < start:
            raise ApiError(400, "ErrorInvalidRequest", "The end time is before the start time.")
        if event.get("isAllDay"):
            s, e = wall(event["start"]), wall(event["end"])
            if s.time() != datetime.min.time() or e.time() != datetime.min.time() or s == e:
                raise ApiError(
                    400,
                    "ErrorInvalidRequest",
                    "An all-day event must start and end at midnight and last whole days.",
                )
            if resolve_zone(event["start"]["timeZone"]) != resolve_zone(event["end"]["timeZone"]):
                raise ApiError(
                    400,
                    "ErrorInvalidRequest",
                    "An all-day event's start and end must share a zone.",
                )
        if event.get("type") != "exception":
            if event.get("recurrence"):
                recurrence.validate(event["recurrence"])
            event["type"] = "seriesMaster" if event.get("recurrence") else "singleInstance"
        owner = {"name": mb.name, "address": mb.address}
        organizer = event.get("organizer") or {"emailAddress": owner}
        event["organizer"] = organizer
        mine = str(organizer.get("emailAddress", {}).get("address", "")).lower() == mb.address
        event["isOrganizer"] = mine
        event.setdefault("responseStatus", dict(NO_RESPONSE))
        if mine:
            event["responseStatus"] = {"response": "organizer", "time": NO_RESPONSE["time"]}
        for attendee in event.get("attendees") or []:
            attendee.setdefault("type", "required")
            attendee.setdefault("status", dict(NO_RESPONSE))
        event["originalStartTimeZone"] = event["start"]["timeZone"]
        event["originalEndTimeZone"] = event["end"]["timeZone"]
        text = TAGS_RE.sub("", str((event.get("body") or {}).get("content") or ""))
        event["bodyPreview"] = " ".join(text.split())[:255]
        event["webLink"] = (
            "https://outlook.office365.com/owa/?itemid="
            f"{urllib.parse.quote(event['id'], safe='')}&exvsurl=1&path=/calendar/item"
        )

    def _create(self, mb: Mailbox, cal: Calendar, body: Json) -> Json:
        """Create (or, for a known transactionId, return the existing) stored event."""
        tid = body.get("transactionId")
        if tid:
            for other in self._stored_events(mb):
                if other.get("transactionId") == tid and other["type"] != "exception":
                    return other
        event = {**copy.deepcopy(DEFAULTS)}
        event.update({k: copy.deepcopy(v) for k, v in body.items() if k not in SERVER_SET})
        event["id"] = opaque_id(0)
        event["createdDateTime"] = stamp()
        event["iCalUId"] = f"{UID_PREFIX}00000000{'0' * 16}10000000{secrets.token_hex(16).upper()}"
        self._normalize(mb, event)
        self._touch(event)
        cal.events[event["id"]] = event
        return event

    def _stored_events(self, mb: Mailbox) -> list[Json]:
        return [e for c in mb.calendars.values() for e in c.events.values()]

    def _occurrence(self, master: Json, original: datetime) -> Json:
        """The (unmodified) occurrence of `master` that originally starts at `original`."""
        occ = {k: copy.deepcopy(v) for k, v in master.items() if k != "recurrence"}
        zone_name = master["start"]["timeZone"]
        if master.get("isAllDay"):  # all-day dates are wall-clock in the series zone
            local = original.replace(tzinfo=None)
        else:
            local = original.astimezone(resolve_zone(zone_name)).replace(tzinfo=None)
        length = recurrence.duration_of(master)
        occ["id"] = occurrence_id(master["id"], original)
        occ["type"] = "occurrence"
        occ["seriesMasterId"] = master["id"]
        occ["originalStart"] = f"{original.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        occ["recurrence"] = None
        occ["start"] = {"dateTime": local_text(local), "timeZone": zone_name}
        occ["end"] = {"dateTime": local_text(local + length), "timeZone": zone_name}
        occ["iCalUId"] = f"{UID_PREFIX}{local:%Y}{local:%m}{local:%d}"[:40] + master["iCalUId"][40:]
        occ["webLink"] = master["webLink"].replace(
            urllib.parse.quote(master["id"], safe=""), urllib.parse.quote(occ["id"], safe="")
        )
        return occ

    def _virtual(self, cal: Calendar, event_id: str) -> Json | None:
        """An occurrence addressed by its id that has no stored exception, if it exists."""
        parts = split_occurrence_id(event_id)
        if parts is None or event_id in cal.cancelled:
            return None
        master = cal.events.get(parts[0])
        if master is None or master["type"] != "seriesMaster":
            return None
        for original in recurrence.original_starts(master, parts[1] + timedelta(seconds=1)):
            if original == parts[1]:
                return self._occurrence(master, original)
        return None

    def _find(
        self, mb: Mailbox, event_id: str, cal: Calendar | None = None
    ) -> tuple[Calendar, Json]:
        """The calendar and (stored or virtual occurrence) resource of `event_id`, else 404."""
        for candidate in [cal] if cal else list(mb.calendars.values()):
            event = candidate.events.get(event_id) or self._virtual(candidate, event_id)
            if event is not None:
                return candidate, event
        raise ApiError(404, "ErrorItemNotFound")

    def _instances(self, cal: Calendar, master: Json, lo: datetime, hi: datetime) -> list[Json]:
        """Occurrences and exceptions of a series overlapping [lo, hi), cancelled ones left out."""
        out: list[Json] = []
        for original in recurrence.original_starts(master, hi):
            occ_id = occurrence_id(master["id"], original)
            if occ_id in cal.cancelled or occ_id in cal.events:
                continue
            occ = self._occurrence(master, original)
            if overlaps(occ, lo, hi):
                out.append(occ)
        out += [
            e
            for e in cal.events.values()
            if e.get("seriesMasterId") == master["id"] and overlaps(e, lo, hi)
        ]
        out.sort(key=lambda e: span(e)[0])
        return out

    def _view(self, cal: Calendar, lo: datetime, hi: datetime) -> list[Json]:
        """calendarView: single instances, occurrences and exceptions overlapping [lo, hi)."""
        out: list[Json] = []
        for event in list(cal.events.values()):
            if event["type"] == "seriesMaster":
                out += self._instances(cal, event, lo, hi)
            elif event["type"] == "singleInstance" and overlaps(event, lo, hi):
                out.append(event)
        out.sort(key=lambda e: span(e)[0])
        return out

    def _update(
        self,
        mb: Mailbox,
        event_id: str,
        body: Json,
        cal: Calendar | None = None,
        if_match: str | None = None,
    ) -> Json:
        """PATCH: merge top-level properties (extended properties upserted by id)."""
        cal, event = self._find(mb, event_id, cal)
        self._check_etag(event, if_match)
        merged = copy.deepcopy(event)
        for key, value in body.items():
            if key in SERVER_SET or key == "transactionId":
                continue  # transactionId cannot change after creation (event resource page)
            if key == EXT:
                props = {p["id"].lower(): p for p in merged.get(EXT) or []}
                props.update({p["id"].lower(): dict(p) for p in value or []})
                merged[EXT] = list(props.values())
            else:
                merged[key] = copy.deepcopy(value)
        if event["type"] == "occurrence":
            merged["type"] = "exception"  # editing one occurrence makes an exception
        if merged["type"] == "exception":
            merged["recurrence"] = None
        self._normalize(mb, merged)
        if event["type"] == "seriesMaster" and any(
            merged.get(k) != event.get(k) for k in ("start", "end", "recurrence")
        ):
            self._drop_exceptions(cal, event_id)  # as Outlook warns: exceptions are lost
        self._touch(merged)
        event.clear()
        event.update(merged)
        cal.events[event_id] = event
        return event

    def _drop_exceptions(self, cal: Calendar, master_id: str) -> None:
        for key in [k for k, e in cal.events.items() if e.get("seriesMasterId") == master_id]:
            del cal.events[key]
        for key in [k for k, m in cal.cancelled.items() if m == master_id]:
            del cal.cancelled[key]

    def _remove(
        self, mb: Mailbox, event_id: str, cal: Calendar | None = None, if_match: str | None = None
    ) -> None:
        """DELETE: a master takes its instances along; an occurrence is cancelled."""
        cal, event = self._find(mb, event_id, cal)
        self._check_etag(event, if_match)
        cal.events.pop(event_id, None)
        if event["type"] == "seriesMaster":
            self._drop_exceptions(cal, event_id)
        elif event["type"] in ("occurrence", "exception"):
            cal.cancelled[event_id] = event["seriesMasterId"]
        cal.change_key = new_change_key()
