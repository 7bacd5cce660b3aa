"""An event's times and attendees as text a person can read and edit.

For calendars that keep an event as strings (a CSV file, a spreadsheet, text columns):

- :func:`when_to_text` / :func:`when_from_text`: ``2026-03-01`` for a date (all-day),
  ``2026-03-01T09:30:00+01:00[Europe/Berlin]`` for a time: ISO 8601 with its UTC offset
  and, when it has one, the IANA zone in brackets (RFC 9557), so the zone survives;
  ``2026-03-01T08:30:00Z`` in UTC.
- :func:`attendees_to_text` / :func:`attendees_from_text`: entries separated by ``;``,
  each ``Name <email>`` or a bare address, then in parentheses what is not the default:
  the kind (individual), the response (needs-action), ``optional``, and ``organizer``
  for the organizer: ``Ada <ada@example.com> (accepted); "Bob; Jr." <bob@example.com>
  (declined, optional); Room 1 <room@example.com> (room)``. A name with one of ``;<>()"``
  is quoted, ``\\`` escaping ``"`` and ``\\`` inside.

Each ``..._from_text`` raises ``ValueError`` with a message for the user; a driver turns
it into a ``Change`` with ``error``, so the engine reports the item instead of losing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncfw.model import Attendee, AttendeeKind, Response

__all__ = [
    "attendees_from_text",
    "attendees_to_text",
    "when_from_text",
    "when_to_text",
    "zone_name",
]

_KINDS: tuple[str, ...] = get_args(AttendeeKind)
_RESPONSES: tuple[str, ...] = get_args(Response)
_DEFAULTS = ("individual", "needs-action")  # not written
_SPECIAL = re.compile(r'[;<>()"\\]|^\s|\s$')
_ENTRY = re.compile(
    r"""\s*(?:
        (?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<name>[^";<>()]*?))\s*<(?P<email>[^<>;]*)>
        |(?P<bare>[^\s";<>()@]+@[^\s";<>()]+)
    )\s*(?:\((?P<flags>[^()]*)\))?\s*(?:;|\Z)""",
    re.VERBOSE | re.DOTALL,
)


def zone_name(value: date | datetime) -> str | None:
    """The IANA name of a time's zone (for ``Event.timezone``); None for a date, UTC or a
    bare offset."""
    zone = value.tzinfo if isinstance(value, datetime) else None
    if isinstance(zone, ZoneInfo) and zone.key and zone.key not in ("UTC", "Etc/UTC"):
        return zone.key
    return None


def when_to_text(value: date | datetime) -> str:
    """A date as ``YYYY-MM-DD``; an aware time in ISO 8601 with offset and ``[zone]``."""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no time zone")
    zone = zone_name(value)
    if zone is not None:
        return f"{value.isoformat()}[{zone}]"
    if value.utcoffset() == timedelta(0):
        return value.replace(tzinfo=None).isoformat() + "Z"
    return value.isoformat()


def when_from_text(text: str) -> date | datetime:
    """The date or aware time :func:`when_to_text` writes (the instant of a time counts
    over its zone's name). A time without offset is refused: its zone would be a guess."""
    text, zone = text.strip(), None
    if text.endswith("]") and "[" in text:
        text, _, name = text[:-1].partition("[")
        try:
            zone = ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"unknown time zone {name!r}") from None
    if "T" not in text.upper() and " " not in text and zone is None:
        return date.fromisoformat(text)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset: add one (+01:00, or Z for UTC)")
    return value.astimezone(zone) if zone is not None else value


def attendees_to_text(attendees: Iterable[Attendee], organizer: Attendee | None = None) -> str:
    """The organizer (flagged ``organizer``) and the attendees as one line of text."""
    entries = [_entry(organizer, "organizer")] if organizer is not None else []
    return "; ".join(entries + [_entry(attendee) for attendee in attendees])


def attendees_from_text(text: str) -> tuple[tuple[Attendee, ...], Attendee | None]:
    """The attendees and the organizer (or None) that :func:`attendees_to_text` wrote."""
    attendees: list[Attendee] = []
    organizer: Attendee | None = None
    position = 0
    while text[position:].strip():
        match = _ENTRY.match(text, position)
        if match is None:
            raise ValueError(f"cannot read the attendees from {text[position:][:40]!r}")
        position = match.end()
        attendee, is_organizer = _attendee(match)
        if not is_organizer:
            attendees.append(attendee)
        elif organizer is None:
            organizer = attendee
        else:
            raise ValueError(f"two organizers: {organizer.email} and {attendee.email}")
    return tuple(attendees), organizer


def _entry(attendee: Attendee, *marks: str) -> str:
    if not attendee.email or re.search(r"[\s<>;()\"]", attendee.email):
        raise ValueError(f"cannot write the address {attendee.email!r} as text")
    flags = [*marks, *(f for f in (attendee.kind, attendee.response) if f not in _DEFAULTS)]
    flags += ["optional"] if attendee.optional else []
    name = attendee.name
    if _SPECIAL.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    text = f"{name} <{attendee.email}>" if name else f"<{attendee.email}>"
    return f"{text} ({', '.join(flags)})" if flags else text


def _attendee(match: re.Match[str]) -> tuple[Attendee, bool]:
    if match["quoted"] is not None:
        name = re.sub(r"\\(.)", r"\1", match["quoted"], flags=re.DOTALL)
    else:
        name = (match["name"] or "").strip()
    email = (match["email"] if match["bare"] is None else match["bare"]).strip()
    if not email:
        raise ValueError(f"an attendee without address: {match[0].strip()!r}")
    kind: AttendeeKind = "individual"
    response: Response = "needs-action"
    optional = is_organizer = False
    for flag in filter(None, (f.strip().lower() for f in (match["flags"] or "").split(","))):
        if flag in _KINDS:
            kind = flag  # type: ignore[assignment]
        elif flag in _RESPONSES:
            response = flag  # type: ignore[assignment]
        elif flag == "optional":
            optional = True
        elif flag == "organizer":
            is_organizer = True
        else:
            known = ", ".join((*_KINDS, *_RESPONSES, "optional", "organizer"))
            raise ValueError(f"{email}: unknown mark {flag!r} (known: {known})")
    return Attendee(email, name, kind, response, optional), is_organizer
