"""The single-file calendar of the ``ics`` driver, as text that keeps untouched bytes.

A VCALENDAR is cut into segments — each VEVENT, each VTIMEZONE, the lines between them —
so that writing one event rewrites only that event: the rest of the file, including events
this program cannot read and the user's own formatting, comes back byte for byte. An
item is every VEVENT of one UID (a series and its overridden instances) and its etag is a
hash of their text, so an edit by hand is seen as a change.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache, cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from syncfw.errors import Unreadable
from syncfw.model import Change, Event
from syncfw.sdk.ical import PRODID, ParseProblem, decode, events_from_ical

__all__ = ["Document", "Item", "etag"]

_UNESCAPE = re.compile(r"\\([\\;,nN])")
_DATE_PROPERTIES = ("DTSTART", "DTEND", "RDATE", "EXDATE", "RECURRENCE-ID")


def etag(data: bytes) -> str:
    """The etag of an item: a hash of its bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class Item:
    """The VEVENTs of one UID in a single-file calendar, as text."""

    key: str
    text: str
    #: What the item may need to be parsed on its own: the calendar's X-WR-TIMEZONE, and
    #: the VTIMEZONEs it uses.
    timezones: str

    @property
    def etag(self) -> str:
        return etag(self.text.encode())

    def change(self, where: str) -> Change:
        wrapped = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{self.timezones}{self.text}END:VCALENDAR\r\n"
        try:
            found = events_from_ical(wrapped)
        except ValueError as exc:
            return Change(self.key, etag=self.etag, error=f"{where}: {exc}")
        event = one_event(found, where)
        if isinstance(event, str):
            return Change(self.key, etag=self.etag, error=event)
        return Change(self.key, event, self.etag)


def one_event(found: list[Event | ParseProblem], where: str) -> Event | str:
    """The event of one item (a UID of a file, or a folder's file), or what is wrong.

    Several instances of one UID without their series are refused alike in both modes:
    each alone would be one event, together they need the series they belong to.
    """
    if len(found) == 1:
        return found[0] if isinstance(found[0], Event) else f"{where}: {found[0]}"
    uids = sorted({e.uid for e in found if e.uid})
    if len(uids) == 1 and all(isinstance(e, Event) and e.recurrence_id for e in found):
        return f"{where}: event {uids[0]!r} has only overridden instances, not the series"
    listed = ", ".join(map(repr, uids))
    return f"{where}: holds {len(found)} events ({listed}); one event per file is expected"


@dataclass(slots=True)
class _Segment:
    """A piece of a single-file calendar: a component of a VCALENDAR (``kind`` its
    name, ``key`` a VEVENT's UID or a VTIMEZONE's TZID) or other lines (``kind`` "")."""

    kind: str
    key: str
    text: str


class Document:
    """A single-file calendar as text segments, so that untouched events keep their bytes.

    Ops edit segments in place (a removed one is blanked); new events and the
    VTIMEZONEs they need are placed by :meth:`render`, so each op costs O(1).
    """

    def __init__(self) -> None:
        self.newline = "\r\n"
        self.segments = [
            _Segment("", "", f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\n"),
            _Segment("", "", "END:VCALENDAR\r\n"),
        ]
        self._new: list[_Segment] = []
        self._tzids: set[str] = set()  # used by the events put

    @classmethod
    def parse(cls, data: bytes, where: str) -> Document:
        """The file's components; :class:`Unreadable` when it is no calendar (truncated)."""
        text = decode(data, where)
        doc = cls()
        if not text.strip():
            return doc
        lines = text.splitlines(keepends=True)
        doc.newline = "\r\n" if lines[0].endswith("\r\n") else "\n"
        doc.segments = segments = []
        parts: list[str] = []  # the lines of the component being read
        depth, seen = 0, False
        for number, line in enumerate(lines, 1):
            upper = line.rstrip("\r\n").upper()
            if depth == 0 and upper.startswith("BEGIN:") and upper != "BEGIN:VCALENDAR":
                raise Unreadable(f"line {number} is outside BEGIN:VCALENDAR: {line[:60]!r}")
            # Other lines outside (a comment after END:VCALENDAR) are kept as they are.
            if depth >= 1 and upper.startswith("BEGIN:"):
                depth += 1
                parts.append(line)
            elif depth >= 2 and upper.startswith("END:"):
                depth -= 1
                parts.append(line)
                if depth == 1:
                    kind = parts[0].rstrip("\r\n").upper()[6:]
                    segments.append(_Segment(kind, _key(kind, parts, number), "".join(parts)))
                    parts = []
            elif depth >= 2:
                parts.append(line)
            else:  # calendar-level lines: BEGIN/END:VCALENDAR, properties, blank lines
                segments.append(_Segment("", "", line))
                if upper == "BEGIN:VCALENDAR":
                    depth, seen = 1, True
                elif upper.startswith("END:"):
                    depth -= 1
        if not seen or depth != 0:
            raise Unreadable("no complete BEGIN:VCALENDAR ... END:VCALENDAR (truncated?)")
        return doc

    @cached_property
    def _events(self) -> dict[str, list[_Segment]]:
        found: dict[str, list[_Segment]] = {}
        for segment in self.segments:
            if segment.kind == "VEVENT":
                found.setdefault(segment.key, []).append(segment)
        return found

    @cached_property
    def etags(self) -> dict[str, str]:
        """The etag of every item by key, kept current by :meth:`put` and :meth:`remove`."""
        return {k: etag("".join(s.text for s in v).encode()) for k, v in self._events.items()}

    def items(self) -> list[Item]:
        zones = {s.key: s.text for s in self.segments if s.kind == "VTIMEZONE" and s.key}
        # The calendar's X-WR-TIMEZONE decides what its floating times mean (ical.py).
        wr_zone = "".join(
            s.text
            for s in self.segments
            if not s.kind and s.text.upper().startswith("X-WR-TIMEZONE")
        )
        items = []
        for key, segments in self._events.items():
            text = "".join(s.text for s in segments)
            # An IANA TZID needs no VTIMEZONE to be read; parsing one per item is slow.
            needed = "".join(z for tzid, z in zones.items() if tzid in text and not _iana(tzid))
            items.append(Item(key, text, wr_zone + needed))
        return items

    def remove(self, key: str) -> None:
        for segment in self._events.pop(key, []):
            segment.kind, segment.key, segment.text = "", "", ""
        self.etags.pop(key, None)

    def put(self, key: str, components: list[icalendar.Event]) -> str:
        """Write ``key``'s VEVENTs where the old ones were (or at the end); the new etag."""
        text = "".join(_text(c, self.newline) for c in components)
        old = self._events.get(key, [])
        self.remove(key)
        if old:
            segment = old[0]
            segment.kind, segment.key, segment.text = "VEVENT", key, text
        else:
            segment = _Segment("VEVENT", key, text)
            self._new.append(segment)
        self._events[key] = [segment]
        self._tzids.update(_tzids(components))
        self.etags[key] = etag(text.encode())
        return self.etags[key]

    def render(self) -> bytes:
        segments = list(self.segments)
        if self._new:
            end = max(i for i, s in enumerate(segments) if s.text.upper().startswith("END:VCAL"))
            segments[end:end] = self._new
            have = {s.key for s in segments if s.kind == "VTIMEZONE"}
            used = sorted(self._tzids - have)
            zones = [_Segment("VTIMEZONE", t, _timezone(t, self.newline)) for t in used]
            first = next(i for i, s in enumerate(segments) if s.kind not in ("", "VTIMEZONE"))
            segments[first:first] = zones
        return "".join(s.text for s in segments).encode()


# As icalendar unfolds: blank lines between a line and its continuation are skipped.
_UNFOLD = re.compile(r"\r?\n(?:\r?\n)*[ \t]")


def _key(kind: str, lines: list[str], number: int) -> str:
    """The key of a component: a VEVENT's UID, a VTIMEZONE's TZID (else "")."""
    wanted = {"VEVENT": "UID", "VTIMEZONE": "TZID"}.get(kind)
    if wanted is None:
        return ""
    unfolded = _UNFOLD.sub("", "".join(lines))
    depth = 0
    for line in unfolded.splitlines():
        name, _, value = line.partition(":")
        name = name.split(";")[0].strip().upper()
        if name in ("BEGIN", "END"):
            depth += 1 if name == "BEGIN" else -1
        elif depth == 1 and name == wanted:  # not a nested VALARM's UID
            return _UNESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], value.strip())
    return f"(no {wanted}, ends on line {number})" if wanted == "UID" else ""


def _tzids(components: list[icalendar.Event]) -> set[str]:
    found = set()
    for component in components:
        for name in _DATE_PROPERTIES:
            values = component.get(name)
            for value in values if isinstance(values, list) else [values]:
                tzid = getattr(value, "params", {}).get("TZID")
                if tzid:
                    found.add(str(tzid))
    return found


def _text(component: icalendar.Event, newline: str) -> str:
    text: str = component.to_ical().decode()
    return text if newline == "\r\n" else text.replace("\r\n", newline)


@cache
def _iana(tzid: str) -> bool:
    try:
        ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _timezone(tzid: str, newline: str) -> str:
    # Only IANA names reach here: ical.py writes TZIDs from ZoneInfo keys.
    text: str = icalendar.Timezone.from_tzid(tzid).to_ical().decode()
    return text.replace("\r\n", newline)
