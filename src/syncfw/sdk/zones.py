"""IANA names for the time zones calendars define themselves.

A calendar may define its own VTIMEZONE under any TZID (``/Europe/CUSTOM``, an
Outlook name, a copy of a real zone). icalendar turns such a definition into a
tzinfo that only that document knows. A series in it must keep its wall-clock rule
(09:00 stays 09:00 across a clock change), and a target can only be told that rule
in a zone it knows: :func:`iana_equivalent` finds the IANA zone whose offsets are the
same as the definition's around the event, so the event can name that zone instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

__all__ = ["iana_equivalent"]

_SPAN = timedelta(days=2 * 366)  # two years from the event on: both changes of each year
_COARSE = timedelta(days=15)
_FINE = timedelta(hours=1)


def iana_equivalent(zone: tzinfo, *, tzid: str, around: datetime) -> str | None:
    """The IANA name of a zone with ``zone``'s UTC offsets for two years from ``around``.

    Offsets are compared every hour of that span, so two zones that change their clocks
    on different days or hours differ. Among equal zones, one in the region ``tzid``
    names (``/Europe/CUSTOM`` -> a ``Europe/`` zone) is preferred, then the first by
    name; ``None`` when no IANA zone has these offsets.
    """
    if isinstance(zone, ZoneInfo):
        return zone.key
    start = around.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    coarse = _offsets(zone, start, _COARSE)
    region = tzid.strip("/").partition("/")[0] + "/"
    candidates = [
        name
        for name, candidate in _zones()
        if _offsets(candidate, start, _COARSE) == coarse  # cheap first; hourly below
    ]
    candidates.sort(key=lambda name: (not name.startswith(region), "/" not in name, name))
    fine = _offsets(zone, start, _FINE)
    return next((n for n in candidates if _offsets(ZoneInfo(n), start, _FINE) == fine), None)


def _offsets(zone: tzinfo, start: datetime, step: timedelta) -> tuple[timedelta | None, ...]:
    count = int(_SPAN / step)
    return tuple((start + step * i).astimezone(zone).utcoffset() for i in range(count))


@cache
def _zones() -> tuple[tuple[str, ZoneInfo], ...]:
    names = sorted(n for n in available_timezones() if not n.startswith(("Etc/", "SystemV/")))
    return tuple((name, ZoneInfo(name)) for name in names)
