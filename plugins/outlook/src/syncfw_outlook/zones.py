"""Microsoft Graph's ``dateTimeTimeZone`` values and time-zone names.

Graph writes a moment as wall-clock text plus a zone name::

    {"dateTime": "2026-12-01T09:00:00.0000000", "timeZone": "W. Europe Standard Time"}

The name is usually a Windows zone ("Pacific Standard Time", "UTC"), sometimes
an IANA one from the calendar API's list of additional zones ("Europe/Berlin"),
and ``tzone://Microsoft/Utc`` in a few older payloads. syncfw works with IANA
zones (``Event.timezone``), so names are translated here with O365's
IANA -> Windows table (``O365.utils.windows_tz``). Its reverse table cannot be
used as it is: it is built "last one wins", which makes "W. Europe Standard
Time" ``MET`` and "Pacific Standard Time" ``US/Pacific-New``, a name current
tzdata no longer has. A Windows name therefore reads as the zone CLDR names for
it (the table icalendar ships, the one Windows and ICU use), else as the first
of O365's candidates that loads.

Writes name the Windows zone of an IANA zone, so Outlook shows the meeting in
the zone it was planned in and a series keeps its wall-clock time across DST.
What has no Windows name (fixed offsets, unknown names, None) is written as
"UTC": the moment is then converted to UTC, which is exact for a single event;
:func:`graph_datetime` does both steps. A *series* in such a zone would keep
its UTC time instead of its local one, which :mod:`.recurrence` refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from O365.utils.windows_tz import IANA_TO_WIN

__all__ = [
    "format_date",
    "format_datetime",
    "graph_datetime",
    "parse_date",
    "parse_datetime",
    "same_clock",
    "zone_from_graph",
    "zone_to_graph",
]

try:  # icalendar >= 6 (syncfw's own dependency) ships CLDR's windowsZones table
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON as _CLDR
except ImportError:  # pragma: no cover - an icalendar that moved or dropped it
    _CLDR = {}

# Names Graph uses for UTC besides the Windows "UTC".
_UTC_NAMES = frozenset({"utc", "tzone://microsoft/utc", "coordinated universal time", "etc/utc"})
# "2026-12-01T09:00:00.0000000", optionally with Z or an offset some payloads carry.
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)


def _loads(key: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _windows_to_iana() -> dict[str, ZoneInfo]:
    """Windows name (lower-cased) -> the IANA zone it reads as (see the module docstring)."""
    candidates: dict[str, list[str]] = {}
    for iana, windows in IANA_TO_WIN.items():
        candidates.setdefault(windows, []).append(iana)
    found: dict[str, ZoneInfo] = {}
    for windows in {*candidates, *_CLDR}:
        # CLDR's choice first; then area/city names before legacy ones (US/..., Etc/...).
        others = sorted(
            candidates.get(windows, ()), key=lambda k: ("/" not in k, k.startswith(("Etc/", "US/")))
        )
        keys = [_CLDR.get(windows, ""), *others]
        zone = next((z for z in map(_loads, filter(None, keys)) if z is not None), None)
        if zone is not None:
            found[windows.lower()] = zone
    return found


_WINDOWS_TO_IANA = _windows_to_iana()
_WINDOWS_NAMES: dict[str, str] = {name.lower(): name for name in {*IANA_TO_WIN.values(), *_CLDR}}
# IANA -> Windows: O365's table; for the zones CLDR names, CLDR's newer choice (O365 still
# has America/Whitehorse on "Pacific Standard Time", which Yukon left in 2020).
_IANA_TO_WINDOWS: dict[str, str] = {**IANA_TO_WIN, **{iana: win for win, iana in _CLDR.items()}}


def zone_from_graph(name: str) -> ZoneInfo:
    """The zone a Graph ``timeZone`` value names: Windows, IANA or a UTC alias.

    Raises ValueError naming the zone when it is none of these (Graph's
    "tzone://Microsoft/Custom" for a zone its owner made up, for instance).
    """
    text = name.strip()
    if text.lower() in _UTC_NAMES:
        return ZoneInfo("UTC")
    zone = _WINDOWS_TO_IANA.get(text.lower())
    if zone is None and not text.lower().startswith("tzone:"):
        zone = _loads(text)
    if zone is None:
        raise ValueError(
            f"unknown time zone {name!r}: neither a Windows nor an IANA time zone name"
        )
    return zone


def zone_to_graph(zone: tzinfo | str | None) -> str:
    """A ``timeZone`` name Graph accepts for writes, for an IANA zone (name or tzinfo).

    The Windows name where the zone has one ("Europe/Berlin" -> "W. Europe
    Standard Time"); a Windows name is returned in its canonical spelling.
    Anything else (None, UTC, a fixed offset, a name neither table knows) gives
    "UTC", and the caller must then write the moment converted to UTC, which
    :func:`format_datetime` does when handed this name. A repeating series
    written that way would follow UTC instead of its local clock.
    """
    if zone is None:
        return "UTC"
    if isinstance(zone, str):
        key = zone.strip()
        if key.lower() in _WINDOWS_NAMES:
            return _WINDOWS_NAMES[key.lower()]
    else:
        key = str(getattr(zone, "key", None) or getattr(zone, "zone", None) or "")
    return _IANA_TO_WINDOWS.get(key, "UTC")


def parse_datetime(value: Mapping[str, str]) -> datetime:
    """A Graph ``{"dateTime", "timeZone"}`` as an aware datetime in that zone.

    Graph sends seven fractional digits (100 ns); Python keeps six, so the last
    is dropped. A wall-clock time that occurs twice (the fall-back hour) reads
    as the first one, as RFC 5545 does for such times.
    """
    try:
        text, name = str(value["dateTime"]), str(value["timeZone"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a Graph dateTimeTimeZone: {value!r}") from exc
    zone = zone_from_graph(name)
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"cannot read the Graph dateTime {text!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro
    )
    if offset:  # an explicit offset wins over the zone's rules
        return datetime.fromisoformat(f"{moment.isoformat()}{_offset(offset)}").astimezone(zone)
    return moment.replace(tzinfo=zone)


def _offset(text: str) -> str:
    if text == "Z":
        return "+00:00"
    return text if ":" in text else f"{text[:3]}:{text[3:]}"


def format_datetime(moment: datetime, zone_name: str) -> dict[str, str]:
    """``moment`` as wall-clock time in the zone ``zone_name`` names, for Graph.

    Whole seconds only: Graph's calendar shows minutes, and syncfw's content
    hash compares whole seconds too. Raises ValueError for a naive datetime.
    """
    if moment.tzinfo is None:
        raise ValueError(f"format_datetime(): {moment!r} has no time zone")
    local = moment.astimezone(zone_from_graph(zone_name))
    return {"dateTime": f"{local:%Y-%m-%dT%H:%M:%S}", "timeZone": zone_name}


def graph_datetime(moment: datetime, zone: tzinfo | str | None) -> dict[str, str]:
    """``moment`` for Graph in the Windows zone of ``zone``, or in UTC where it has none.

    Also UTC when the wall-clock time would not name ``moment`` exactly: the
    second 02:30 of a fall-back night reads back as the first.
    """
    name = zone_to_graph(zone)
    value = format_datetime(moment, name)
    # Compared as instants: datetimes of one zone compare by wall clock, ignoring fold.
    if name != "UTC" and parse_datetime(value).timestamp() != int(moment.timestamp()):
        return format_datetime(moment, "UTC")
    return value


def parse_date(value: Mapping[str, str]) -> date:
    """The date of an all-day event's start or end: midnight in its zone.

    Raises ValueError for any other time, which means the event is not the
    whole day Graph claims (a corrupt item, or a zone conversion gone wrong).
    """
    moment = parse_datetime(value)
    if moment.time() != time():
        raise ValueError(
            f"an all-day time must be midnight, not {value.get('dateTime')!r} "
            f"({value.get('timeZone')!r})"
        )
    return moment.date()


def format_date(day: date, zone_name: str) -> dict[str, str]:
    """An all-day event's start or end date: midnight of ``day`` in ``zone_name``."""
    if isinstance(day, datetime):
        raise ValueError(f"format_date(): {day!r} is a datetime, not a date")
    return {"dateTime": f"{day:%Y-%m-%d}T00:00:00", "timeZone": zone_name}


def same_clock(a: tzinfo, b: tzinfo, start: datetime, days: int = 800) -> bool:
    """Whether zones ``a`` and ``b`` show the same wall clock for ``days`` from ``start``.

    Used to check that the zone a series is written in stands for the zone it was
    planned in (a Windows zone for its IANA one, not "UTC" for Europe/Berlin).
    Sampled daily: DST rules that differ by a week are told apart too.
    """
    moment = start.astimezone(UTC)
    for _ in range(days):
        if moment.astimezone(a).utcoffset() != moment.astimezone(b).utcoffset():
            return False
        moment += timedelta(days=1)
    return True
