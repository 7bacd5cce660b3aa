"""Resources, errors and pure helpers of the Google Calendar emulator (no I/O here)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

Json = dict[str, Any]
Reply = tuple[int, dict[str, str], bytes]

ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
# events.list parameters that the events.list reference forbids together with syncToken.
FORBIDDEN_WITH_SYNC = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
# (domain, message) per reason, as printed in the Calendar API errors guide.
REASONS: dict[str, tuple[str, str]] = {
    "authError": ("global", "Invalid Credentials"),
    "badRequest": ("global", "Bad Request"),
    "invalid": ("global", "Invalid Value"),
    "required": ("global", "Required"),
    "notFound": ("global", "Not Found"),
    "duplicate": ("global", "The requested identifier already exists."),
    "deleted": ("global", "Resource has been deleted"),
    "fullSyncRequired": ("calendar", "Sync token is no longer valid, a full sync is required."),
    "conditionNotMet": ("global", "Precondition Failed"),
    "rateLimitExceeded": ("usageLimits", "Rate Limit Exceeded"),
    "userRateLimitExceeded": ("usageLimits", "User Rate Limit Exceeded"),
    "quotaExceeded": ("usageLimits", "Calendar usage limits exceeded."),
    "dailyLimitExceeded": ("usageLimits", "Daily Limit Exceeded"),
    "backendError": ("global", "Backend Error"),
}
DEFAULT_REASON = {
    400: "badRequest",
    401: "authError",
    403: "rateLimitExceeded",
    404: "notFound",
    409: "duplicate",
    410: "deleted",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
}


class ApiError(Exception):
    """An error reply in Google's JSON error format."""

    def __init__(self, code: int, reason: str | None = None, message: str | None = None) -> None:
        self.code = code
        self.reason = reason or DEFAULT_REASON.get(code, "backendError")
        domain, default_message = REASONS.get(self.reason, ("global", self.reason))
        self.domain = domain
        self.message = message or default_message
        super().__init__(f"{code} {self.reason}: {self.message}")

    def body(self) -> Json:
        err = {"domain": self.domain, "reason": self.reason, "message": self.message}
        return {"error": {"errors": [err], "code": self.code, "message": self.message}}


@dataclass
class Request:
    """One logged request: an outer HTTP request or an inner part of a batch."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    in_batch: bool = False


@dataclass
class Fault:
    status: int
    reason: str | None
    retry_after: float | None
    count: int
    path: str | None
    method: str | None
    drop: bool
    in_batch: bool

    def matches(self, method: str, path: str, in_batch: bool) -> bool:
        return (
            self.count > 0
            and self.in_batch == in_batch
            and (self.path is None or self.path in path)
            and (self.method is None or self.method.upper() == method)
        )


@dataclass
class Calendar:
    """A calendar's stored state. `events` holds every stored resource, cancelled included."""

    id: str
    summary: str
    time_zone: str = "UTC"
    primary: bool = False
    events: dict[str, Json] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)  # event id -> change sequence

    def resource(self) -> Json:
        return {
            "kind": "calendar#calendar",
            "etag": f'"{self.id}"',
            "id": self.id,
            "summary": self.summary,
            "timeZone": self.time_zone,
        }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 timestamp (or a date) to an aware UTC datetime."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def bounds(event: Json) -> tuple[datetime, datetime]:
    start, end = event.get("start", {}), event.get("end", {})
    s = parse_time(start.get("dateTime") or start.get("date"))
    e = parse_time(end.get("dateTime") or end.get("date")) if end else s
    return s, e


def first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def flag(query: dict[str, list[str]], name: str) -> bool:
    return (first(query, name) or "false").lower() == "true"


def occurrences(master: Json, lo: datetime | None, hi: datetime | None) -> Iterator[Json]:
    """Expand a recurring master into instance resources (RFC 5545 rules via dateutil)."""
    start = master["start"]
    all_day = "date" in start
    tz = ZoneInfo(start.get("timeZone") or "UTC")
    s, e = bounds(master)
    duration = e - s
    if all_day:
        dtstart = datetime.fromisoformat(start["date"])
    else:
        dtstart = datetime.fromisoformat(start["dateTime"].replace("Z", "+00:00")).astimezone(tz)
    lines = "\n".join(master.get("recurrence", []))
    try:
        rules = rrule.rrulestr(lines, dtstart=dtstart, forceset=True)
    except (ValueError, TypeError):  # naive UNTIL with an aware start, etc.
        rules = rrule.rrulestr(lines, dtstart=dtstart.replace(tzinfo=None), forceset=True)
    horizon = hi or (s + timedelta(days=5 * 366))
    for n, occ in enumerate(rules):
        if n >= 5000:
            return
        occ_utc = occ if occ.tzinfo else occ.replace(tzinfo=tz if not all_day else UTC)
        occ_utc = occ_utc.astimezone(UTC)
        if occ_utc >= horizon:
            return
        if lo is not None and occ_utc + duration <= lo:
            continue
        inst = {k: v for k, v in master.items() if k not in ("recurrence", "id")}
        if all_day:
            day = occ.date()
            inst["id"] = f"{master['id']}_{day:%Y%m%d}"
            inst["start"] = {"date": day.isoformat()}
            inst["end"] = {"date": (day + duration).isoformat()}
            inst["originalStartTime"] = {"date": day.isoformat()}
        else:
            local = occ_utc.astimezone(tz)
            inst["id"] = f"{master['id']}_{occ_utc:%Y%m%dT%H%M%SZ}"
            tzname = {"timeZone": start["timeZone"]} if "timeZone" in start else {}
            inst["start"] = {"dateTime": local.isoformat(), **tzname}
            inst["end"] = {"dateTime": (local + duration).isoformat(), **tzname}
            inst["originalStartTime"] = {"dateTime": local.isoformat(), **tzname}
        inst["recurringEventId"] = master["id"]
        yield inst


def wire(event: Json) -> Json:
    """What the API returns: deleted events carry only their identity fields (events resource)."""
    if event.get("status") != "cancelled":
        return dict(event)
    keep = ("kind", "etag", "id", "status", "updated", "recurringEventId", "originalStartTime")
    return {k: event[k] for k in keep if k in event}


def parse_inner(text: str) -> tuple[str, str, dict[str, str], bytes]:
    """Split one application/http part into method, target, headers and body."""
    pieces = re.split(r"\r?\n\r?\n", text.lstrip(), maxsplit=1)
    head, body = pieces[0], pieces[1] if len(pieces) > 1 else ""
    lines = re.split(r"\r?\n", head.strip())
    method, target = lines[0].split()[:2]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip()] = value.strip()
    data = body.encode()
    length = next((v for k, v in headers.items() if k.lower() == "content-length"), None)
    if length is not None:
        data = data[: int(length)]
    return method, target, headers, data.strip() if length is None else data


def matches(event: Json, query: dict[str, list[str]]) -> bool:
    """The full-listing filters of events.list: q, iCalUID, updatedMin, extended properties."""
    if (uid := first(query, "iCalUID")) and event.get("iCalUID") != uid:
        return False
    if (since := first(query, "updatedMin")) and parse_time(event["updated"]) < parse_time(since):
        return False
    if text := first(query, "q"):
        hay = " ".join(str(event.get(k, "")) for k in ("summary", "description", "location"))
        if text.lower() not in hay.lower():
            return False
    props = event.get("extendedProperties", {})
    for param, scope in (
        ("privateExtendedProperty", "private"),
        ("sharedExtendedProperty", "shared"),
    ):
        for pair in query.get(param, []):
            key, _, value = pair.partition("=")
            if props.get(scope, {}).get(key) != value:
                return False
    return True


def ok(body: Json) -> Reply:
    return 200, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(body).encode()


def error(err: ApiError, extra: dict[str, str] | None = None) -> Reply:
    headers = {"Content-Type": "application/json; charset=UTF-8", **(extra or {})}
    return err.code, headers, json.dumps(err.body()).encode()
