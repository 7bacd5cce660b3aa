"""Resources, errors and pure helpers of the Graph calendar emulator (no I/O here)."""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

Json = dict[str, Any]
Reply = tuple[int, dict[str, str], bytes]

EXT = "singleValueExtendedProperties"
JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
# Windows zone names (what Outlook stores) to IANA, matched case-insensitively; from CLDR.
WINDOWS_ZONES = {name.lower(): iana for name, iana in WINDOWS_TO_OLSON.items()}
# The error code an injected or raised status carries when none is named (throttling guide,
# Graph errors page).
DEFAULT_CODE = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "ErrorAccessDenied",
    404: "ErrorItemNotFound",
    405: "ErrorInvalidRequest",
    409: "ErrorFolderExists",
    410: "SyncStateNotFound",
    412: "ErrorIrresolvableConflict",
    424: "FailedDependency",
    429: "TooManyRequests",
    500: "generalException",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
DEFAULT_MESSAGE = {
    401: "Access token validation failure.",
    404: "The specified object was not found in the store.",
    410: "The sync state generation is not found. The delta token is expired and data must be "
    "synchronized again.",
    412: "The change key passed in the request does not match the current change key for the item.",
    424: "The dependent request failed.",
    429: "Application is over its MailboxConcurrency limit.",
    500: "General exception while processing.",
    503: "The service is temporarily unavailable.",
    504: "The request timed out.",
}


class ApiError(Exception):
    """An error reply in Graph's format {"error": {"code", "message", "innerError"}}."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None) -> None:
        self.status = status
        self.code = code or DEFAULT_CODE.get(status, "generalException")
        self.message = message or DEFAULT_MESSAGE.get(status, self.code)
        super().__init__(f"{status} {self.code}: {self.message}")

    def body(self) -> Json:
        inner = {"date": stamp()[:19], "request-id": str(uuid.uuid4())}
        return {"error": {"code": self.code, "message": self.message, "innerError": inner}}


@dataclass
class Request:
    """One logged request: an outer HTTP request or one request inside a $batch."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    in_batch: bool = False


@dataclass
class Fault:
    status: int
    code: str | None
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
    """A calendar's stored state.

    `events` holds series masters, single instances and exceptions (type "exception", keyed by
    the occurrence id they replace); `cancelled` maps a deleted occurrence's id to its master.
    """

    id: str
    name: str
    owner: Json
    is_default: bool = False
    color: str = "auto"
    change_key: str = field(default_factory=lambda: new_change_key())
    events: dict[str, Json] = field(default_factory=dict)
    cancelled: dict[str, str] = field(default_factory=dict)

    def resource(self) -> Json:
        return {
            "id": self.id,
            "name": self.name,
            "color": self.color,
            "hexColor": "",
            "isDefaultCalendar": self.is_default,
            "changeKey": self.change_key,
            "canShare": True,
            "canViewPrivateItems": True,
            "canEdit": True,
            "isRemovable": not self.is_default,
            "isTallyingResponses": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "owner": dict(self.owner),
        }


@dataclass
class Mailbox:
    """One user's mailbox: addressable as /users/{address} or /users/{id}."""

    address: str
    id: str
    name: str
    calendars: dict[str, Calendar] = field(default_factory=dict)

    @property
    def default(self) -> Calendar:
        return next(c for c in self.calendars.values() if c.is_default)


# ----------------------------------------------------------------- ids and stamps
def opaque_id(kind: int, payload: bytes | None = None) -> str:
    """A base64 id shaped like Exchange's ("AAMk..."); `kind` keeps id spaces apart."""
    raw = b"\x00\x03\x24" + bytes([kind]) + (payload or secrets.token_bytes(44))
    return base64.urlsafe_b64encode(raw).decode()


def occurrence_id(master_id: str, original: datetime) -> str:
    """A stable occurrence id derived from its master and original start (decodable)."""
    text = f"{master_id}|{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return opaque_id(1, text.encode())


def split_occurrence_id(event_id: str) -> tuple[str, datetime] | None:
    try:
        raw = base64.urlsafe_b64decode(event_id.encode())
    except ValueError:
        return None
    if not raw.startswith(b"\x00\x03\x24\x01"):
        return None
    master_id, _, when = raw[4:].decode(errors="replace").partition("|")
    try:
        return master_id, datetime.strptime(when, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def new_change_key() -> str:
    return base64.b64encode(b"\x10\x00\x00\x00" + secrets.token_bytes(12)).decode()


def stamp(moment: datetime | None = None) -> str:
    """A Graph DateTimeOffset in UTC with seven fractional digits."""
    return f"{(moment or datetime.now(UTC)).astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}0Z"


# ----------------------------------------------------------------- time zones and dateTimes
def resolve_zone(name: Any) -> ZoneInfo:
    """A Windows or IANA zone name to a ZoneInfo; 400 TimeZoneNotSupportedException otherwise."""
    key = name.strip() if isinstance(name, str) else ""
    iana = WINDOWS_ZONES.get(key.lower()) or ("Etc/UTC" if key.lower() in ("utc", "z") else key)
    try:
        return ZoneInfo(iana)
    except (KeyError, ValueError):
        raise ApiError(
            400,
            "TimeZoneNotSupportedException",
            f"A valid TimeZone value must be specified. The following TimeZone value is not "
            f"supported: '{name}'.",
        ) from None


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ApiError(400, "BadRequest", f"Cannot convert {value!r} to a DateTime.")
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        message = f"Cannot convert the literal '{value}' to a DateTime."
        raise ApiError(400, "BadRequest", message) from None


def local_text(moment: datetime) -> str:
    """A dateTimeTimeZone.dateTime: wall-clock time, seven fractional digits, no offset."""
    return f"{moment:%Y-%m-%dT%H:%M:%S.%f}0"


def wall(value: Json) -> datetime:
    """A dateTimeTimeZone as naive wall-clock time in its own zone."""
    zone = resolve_zone(value.get("timeZone"))
    moment = parse_datetime(value.get("dateTime"))
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def instant(value: Json) -> datetime:
    """A dateTimeTimeZone as an aware UTC datetime."""
    zone = resolve_zone(value.get("timeZone"))
    moment = parse_datetime(value.get("dateTime"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def span(event: Json) -> tuple[datetime, datetime]:
    return instant(event["start"]), instant(event["end"])


def overlaps(event: Json, lo: datetime, hi: datetime) -> bool:
    """calendarView membership: any overlap with [lo, hi); zero-length events at their start."""
    start, end = span(event)
    return start < hi and (end > lo or (start == end and start >= lo))


def query_time(query: dict[str, list[str]], name: str) -> datetime:
    value = first(query, name)
    if not value:
        raise ApiError(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
        )
    moment = parse_datetime(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


# ----------------------------------------------------------------- query strings and headers
def first(query: dict[str, list[str]], name: str) -> str | None:
    """A query parameter, its name matched case-insensitively (Graph accepts $skipToken)."""
    for key, values in query.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def has(query: dict[str, list[str]], name: str) -> bool:
    return any(key.lower() == name.lower() for key in query)


PREFER_RE = re.compile(r'([\w.-]+)\s*=\s*(?:"([^"]*)"|([^,;\s]+))')


def prefer(headers: dict[str, str]) -> dict[str, str]:
    """The Prefer header as {name: value}: odata.maxpagesize, outlook.timezone, ..."""
    found = PREFER_RE.findall(headers.get("prefer", ""))
    return {name.lower(): quoted or bare for name, quoted, bare in found}


def strip_etag(value: str) -> str:
    value = value.strip()
    value = value[2:] if value.startswith("W/") else value
    return value.strip('"')


def ok(body: Json | None, status: int = 200, extra: dict[str, str] | None = None) -> Reply:
    if body is None:
        return status, dict(extra or {}), b""
    return status, {"Content-Type": JSON_TYPE, **(extra or {})}, json.dumps(body).encode()


def error(err: ApiError, extra: dict[str, str] | None = None) -> Reply:
    headers = {"Content-Type": JSON_TYPE, **(extra or {})}
    if err.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="", error="invalid_token"')
    return err.status, headers, json.dumps(err.body()).encode()
