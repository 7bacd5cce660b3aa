"""Event resource semantics: insert/import, get, update, patch, delete, etags, instances.

Why a mixin: these rules (client-chosen ids and 409, If-Match and 412, 410 on a second delete,
materialising an exception of a recurring series) are the heart of what the driver is tested
against, and reading them apart from the HTTP plumbing in server.py keeps both short.
GoogleEmulator inherits this class and owns the state it declares.
"""

from __future__ import annotations

import secrets

from .resources import ID_RE, ApiError, Calendar, Json, Reply, first, now, occurrences, ok, wire


class EventOps:
    """Write and single-event operations on one calendar; callers hold the emulator lock."""

    user: str
    send_updates: list[tuple[str, str, str | None]]
    _seq: int

    def _touch(self, cal: Calendar, event: Json) -> None:
        self._seq += 1
        cal.seqs[event["id"]] = self._seq
        event["etag"] = f'"{self._seq:016d}"'
        event["updated"] = now()

    def _stored(self, cal: Calendar, event_id: str) -> Json:
        event = cal.events.get(event_id)
        if event is None:
            raise ApiError(404, "notFound")
        return event

    def _instance(self, cal: Calendar, event_id: str) -> Json | None:
        """A not-yet-materialised instance of a recurring event, addressed by its instance id."""
        base = event_id.rpartition("_")[0]
        master = cal.events.get(base)
        if not master or not master.get("recurrence") or master.get("status") == "cancelled":
            return None
        for inst in occurrences(master, None, None):
            if inst["id"] == event_id:
                return inst
        return None

    def _insert(self, cal: Calendar, query: dict[str, list[str]], body: Json) -> Reply:
        event_id = body.get("id") or secrets.token_hex(13)
        if not ID_RE.match(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in cal.events:
            raise ApiError(409, "duplicate")
        if "start" not in body or "end" not in body:
            raise ApiError(400, "required", "Missing start or end time.")
        event = self._build(cal, {**body, "id": event_id}, None)
        event["created"] = now()
        cal.events[event_id] = event
        self._touch(cal, event)
        self.send_updates.append(("insert", event_id, first(query, "sendUpdates")))
        return ok(wire(event))

    def _build(self, cal: Calendar, body: Json, old: Json | None) -> Json:
        event = {k: v for k, v in body.items() if k not in ("etag", "kind", "updated")}
        event["kind"] = "calendar#event"
        event.setdefault("status", "confirmed")
        event.setdefault("iCalUID", (old or {}).get("iCalUID") or f"{event['id']}@google.com")
        event.setdefault("sequence", (old or {}).get("sequence", 0))
        event["organizer"] = event.get("organizer") or {"email": cal.id, "self": True}
        event["creator"] = (old or {}).get("creator") or {"email": self.user, "self": True}
        event["created"] = (old or {}).get("created") or now()
        event["htmlLink"] = f"https://www.google.com/calendar/event?eid={event['id']}"
        for attendee in event.get("attendees", []):
            attendee.setdefault("responseStatus", "needsAction")
        return event

    def _event_op(
        self,
        cal: Calendar,
        method: str,
        event_id: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Json,
    ) -> Reply:
        event = cal.events.get(event_id)
        if event is None:
            inst = self._instance(cal, event_id)
            if inst is None:
                raise ApiError(404, "notFound")
            if method == "GET":
                return ok(inst)
            event = self._build(cal, inst, None)  # materialise an exception of the series
            cal.events[event_id] = event
        if_match = headers.get("if-match")
        if method == "GET":
            if headers.get("if-none-match") == event["etag"]:
                return 304, {"ETag": event["etag"]}, b""
            return ok(wire(event))
        if if_match and if_match not in ("*", event.get("etag")):
            raise ApiError(412, "conditionNotMet")
        self.send_updates.append((method.lower(), event_id, first(query, "sendUpdates")))
        if method == "DELETE":
            if event.get("status") == "cancelled":
                raise ApiError(410, "deleted")
            self._delete(cal, event_id)
            return 204, {}, b""
        if method in ("PUT", "PATCH"):
            merged = {**event, **body} if method == "PATCH" else {**body}
            for key in ("recurringEventId", "originalStartTime"):
                if key in event:
                    merged[key] = event[key]
            new = self._build(cal, {**merged, "id": event_id}, event)
            if method == "PUT" and "status" not in body:
                new["status"] = "confirmed"
            event.clear()
            event.update(new)
            self._touch(cal, event)
            return ok(wire(event))
        raise ApiError(404, "notFound", f"no route for {method} on an event")

    def _delete(self, cal: Calendar, event_id: str) -> None:
        event = cal.events.get(event_id)
        if event is None:
            inst = self._instance(cal, event_id)
            if inst is None:
                raise KeyError(event_id)
            event = cal.events[event_id] = self._build(cal, inst, None)
        event["status"] = "cancelled"
        self._touch(cal, event)
        if event.get("recurrence"):
            for other in cal.events.values():
                if other.get("recurringEventId") == event_id and other["status"] != "cancelled":
                    other["status"] = "cancelled"
                    self._touch(cal, other)
