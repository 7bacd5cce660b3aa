"""RFC 5545 RRULE values <-> Microsoft Graph's ``patternedRecurrence``.

Graph describes a series as a pattern (which dates) plus a range (from when,
until when); the time of day is the event's start, in ``recurrenceTimeZone``
(the event's zone), so a 09:00 Europe/Berlin series stays at 09:00 local across
DST just as syncfw's expansion does. Only rules that mean exactly the same in
Graph are mapped; anything else raises :class:`Inexpressible` and the driver has
syncfw expand the series into single events instead.

==========================================  ======================================
RRULE (value, without ``RRULE:``)           Graph pattern
==========================================  ======================================
DAILY                                       daily
DAILY;BYDAY=MO,WE (INTERVAL=1 only)         weekly (the same dates)
WEEKLY[;BYDAY=MO,WE][;WKST=SU]              weekly, daysOfWeek, firstDayOfWeek
MONTHLY[;BYMONTHDAY=d], d <= 28             absoluteMonthly, dayOfMonth d
MONTHLY;BYMONTHDAY=-1                       absoluteMonthly, dayOfMonth 31
MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1     absoluteMonthly, dayOfMonth 30 (29 alike)
MONTHLY;BYDAY=2TU | BYDAY=TU;BYSETPOS=2     relativeMonthly, index second
MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1    relativeMonthly, several days, last
YEARLY[;BYMONTH=m;BYMONTHDAY=d|-1]          absoluteYearly, month, dayOfMonth
YEARLY;BYMONTH=11;BYDAY=4TH (or BYSETPOS)   relativeYearly, month, index
COUNT=n / UNTIL=... / neither               numbered / endDate / noEnd
==========================================  ======================================

Where the two differ (Microsoft's documentation, and RFC 5545):

- A ``dayOfMonth`` past a month's end means its last day (EWS ``DayOfMonth``;
  Outlook puts a yearly February 29 on the 28th); RFC 5545 skips such months.
  Days 29-31 therefore map only in the "last day" forms above.
- Several ``daysOfWeek`` in a relative pattern are one day a month, the index-th
  of all those weekdays in it (MS-OXOCAL MonthNth): BYDAY=...;BYSETPOS=n, not
  BYDAY=2TH,2FR, which is two dates a month.
- WKST defaults to MO, ``firstDayOfWeek`` to sunday: a rule without WKST is
  written as monday, and a week not starting on Monday reads with WKST.
- UNTIL is an inclusive instant, ``endDate`` an inclusive date in the series'
  zone: the date of the last instance UNTIL allows (one earlier in the day than
  the start time excludes that day). Read back, UNTIL is the end of ``endDate``
  in that zone, in UTC (a date for an all-day series). A DATE UNTIL is the whole
  day, but for a timed series in UTC only its first instant, as syncfw expands it.
- RFC 5545 always counts DTSTART; Graph starts on the first date on or after
  ``startDate`` that fits the pattern. They agree when DTSTART fits, so a start
  that does not fit is Inexpressible (writing) or a ValueError (reading).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from dateutil.rrule import rrulestr

from .zones import same_clock, zone_from_graph

__all__ = ["Inexpressible", "from_graph", "to_graph"]


class Inexpressible(ValueError):
    """The rule cannot be written as a Graph pattern; the message says why, for a user."""


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RFC_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # both indexed by date.weekday()
_INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_INDEX_NAMES = {n: name for name, n in _INDEX.items()}
_KINDS = (
    "daily",
    "weekly",
    *(f"{a}{b}" for a in ("absolute", "relative") for b in ("Monthly", "Yearly")),
)
_RANGES = {"enddate": "endDate", "noend": "noEnd", "numbered": "numbered"}
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UTC_KEYS = ("UTC", "Etc/UTC")
_UNTIL = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")
_WHY_NOT = {
    **dict.fromkeys(("BYHOUR", "BYMINUTE", "BYSECOND"), "Outlook repeats at the start time only"),
    "BYWEEKNO": "Outlook has no week numbers",
    "BYYEARDAY": "Outlook has no days of the year",
    **dict.fromkeys(("RSCALE", "SKIP"), "Outlook knows the Gregorian calendar only"),
}


@dataclass(frozen=True)
class _Pattern:
    """A Graph pattern and the end of its range; what both directions compare."""

    kind: str
    interval: int
    days: frozenset[int] = frozenset()  # weekdays, 0 = Monday
    day_of_month: int = 0
    month: int = 0
    index: int = 0  # 1..4, or -1 for last
    week_start: int = 0  # weekly only
    end: date | None = None
    count: int | None = None


# -- RRULE -> Graph -----------------------------------------------------------------


def to_graph(rrule: str, start: datetime | date, zone_name: str) -> dict[str, Any]:
    """The Graph ``recurrence`` ({"pattern", "range"}) for ``rrule`` starting at ``start``.

    ``start`` is DTSTART: an aware datetime, or a date for an all-day series.
    ``zone_name`` is the Graph zone the event is written in; the series runs in
    its wall clock, so it must show the same time as ``start``'s zone (a zone
    without a Windows name written as "UTC" would move at DST: Inexpressible).
    Raises Inexpressible for a rule Graph cannot store, ValueError for one that
    is malformed.
    """
    zone = zone_from_graph(zone_name)
    if isinstance(start, datetime):
        if start.tzinfo is None:
            raise ValueError(f"to_graph(): the start {start!r} has no time zone")
        if start.tzinfo is not zone and not same_clock(start.tzinfo, zone, start):
            raise Inexpressible(
                f"its time zone ({start.tzname()}) has no Outlook equivalent: written as "
                f"{zone_name}, its time of day would move at daylight-saving changes"
            )
        local: datetime | date = start.astimezone(zone)
    else:
        local = start
    first = local.date() if isinstance(local, datetime) else local
    pattern = _read_rule(rrule, local, zone)
    if not _fits(pattern, first):
        raise Inexpressible(
            f"the series starts on {first:%a %Y-%m-%d}, which is not one of the rule's "
            "dates: RFC 5545 counts the start anyway, Outlook would leave it out"
        )
    if pattern.end is not None and pattern.end < first:
        raise Inexpressible("its UNTIL is before its start")
    return _graph_dict(pattern, first, zone_name)


def _read_rule(text: str, local: datetime | date, zone: tzinfo) -> _Pattern:
    pattern = _read_parts(_parts(text), local, zone, text)
    if pattern.end is None:
        return pattern
    # endDate: the date of the last instance UNTIL allows (any date before the next one would
    # do, this one is what a user expects). The rule fits Graph, so dateutil on wall-clock
    # time lists the same dates; a century or more of them is left as it is.
    first = local.date() if isinstance(local, datetime) else local
    naive = datetime.combine(first, local.time() if isinstance(local, datetime) else time())
    if (pattern.end - first).days > 36_500:
        return pattern
    body = ";".join(f"{k}={v}" for k, v in _parts(text).items() if k != "UNTIL")
    last = rrulestr(body, dtstart=naive).before(datetime.combine(pattern.end, naive.time()), True)
    return replace(pattern, end=last.date() if last is not None else date.min)


def _read_parts(parts: dict[str, str], local: datetime | date, zone: tzinfo, text: str) -> _Pattern:
    first = local.date() if isinstance(local, datetime) else local
    freq = parts.pop("FREQ", "")
    if freq in ("HOURLY", "MINUTELY", "SECONDLY"):
        raise Inexpressible(f"FREQ={freq}: Outlook repeats a series at most daily")
    if freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        raise ValueError(f"invalid RRULE {text!r}: FREQ must be DAILY, WEEKLY, MONTHLY, ...")
    interval = _int(parts.pop("INTERVAL", "1"), "INTERVAL", text, 1, 10**6)
    end, count = _read_end(parts.pop("UNTIL", None), parts.pop("COUNT", None), local, zone, text)
    wkst = parts.pop("WKST", "MO")
    if wkst not in _RFC_DAYS:
        raise ValueError(f"invalid RRULE {text!r}: WKST={wkst}")
    for name in parts:
        if name not in ("BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"):
            raise Inexpressible(f"{name}: {_WHY_NOT.get(name, 'Outlook has no such rule')}")
    by_day = [_by_day(v, text) for v in _list(parts, "BYDAY")]
    month_days = [_int(v, "BYMONTHDAY", text, -1, 31) for v in _list(parts, "BYMONTHDAY")]
    months = [_int(v, "BYMONTH", text, 1, 12) for v in _list(parts, "BYMONTH")]
    set_pos = [_int(v, "BYSETPOS", text, -1, 366) for v in _list(parts, "BYSETPOS")]
    base = _Pattern("daily", interval, end=end, count=count)

    if freq in ("DAILY", "WEEKLY"):
        named = {"BYMONTH": months, "BYMONTHDAY": month_days, "BYSETPOS": set_pos}
        for name in (name for name, values in named.items() if values):
            raise Inexpressible(f"{name} in a {freq.lower()} rule: Outlook cannot skip dates")
        if any(n is not None for n, _ in by_day):
            raise Inexpressible(f"a numbered weekday (like 2TU) in a {freq.lower()} rule")
        if freq == "DAILY" and not by_day:
            return base
        if freq == "DAILY" and interval > 1:
            raise Inexpressible("FREQ=DAILY with BYDAY and an INTERVAL: Outlook has no such rule")
        days = frozenset(d for _, d in by_day) or frozenset({first.weekday()})
        return replace(base, kind="weekly", days=days, week_start=_RFC_DAYS.index(wkst))

    if freq == "MONTHLY":
        if months:
            raise Inexpressible("BYMONTH in a monthly rule: Outlook cannot skip months")
        month = 0
    else:
        if len(months) > 1:
            raise Inexpressible("several BYMONTH values: Outlook repeats in one month a year")
        if not months and (by_day or month_days or set_pos):
            raise Inexpressible("a yearly rule with BYDAY or BYMONTHDAY but no BYMONTH")
        month = months[0] if months else first.month
    kind = "Monthly" if freq == "MONTHLY" else "Yearly"
    if by_day:
        if month_days:
            raise Inexpressible("BYDAY together with BYMONTHDAY")
        days, index = _relative(by_day, set_pos)
        return replace(base, kind=f"relative{kind}", days=days, index=index, month=month)
    if not month_days and set_pos:
        raise Inexpressible("BYSETPOS without BYDAY")
    day = _day_of_month(month_days or [first.day], set_pos, month)
    return replace(base, kind=f"absolute{kind}", day_of_month=day, month=month)


def _relative(
    by_day: list[tuple[int | None, int]], set_pos: list[int]
) -> tuple[frozenset[int], int]:
    """(weekdays, index) of a relative pattern: BYDAY=2TU, or BYDAY=MO,TU;BYSETPOS=2."""
    numbered = [n for n, _ in by_day if n is not None]
    days = frozenset(d for _, d in by_day)
    if set_pos:
        if len(set_pos) > 1:
            raise Inexpressible("BYSETPOS with several values: Outlook picks one day a month")
        if numbered:
            raise Inexpressible("BYSETPOS with numbered weekdays (like 2TU)")
        return days, _index(set_pos[0])
    if len(numbered) < len(by_day):
        raise Inexpressible(
            "every such weekday of the month (BYDAY without a number): "
            "Outlook picks one weekday a month (first to fourth, or last)"
        )
    if len(by_day) > 1:
        raise Inexpressible("several numbered weekdays (like 1MO,3MO): Outlook has one")
    return days, _index(numbered[0])


def _index(n: int) -> int:
    if n in _INDEX_NAMES:
        return n
    if n == 5:
        raise Inexpressible("the fifth weekday of a month: Outlook has first to fourth, and last")
    raise Inexpressible(f"position {n} in the month: Outlook has first to fourth, and last (-1)")


def _day_of_month(month_days: list[int], set_pos: list[int], month: int) -> int:
    """dayOfMonth for BYMONTHDAY (month 0: any month). Outlook moves a day past a
    month's end to its last day, so -1 maps to the longest length, and a day only
    some months have maps only as BYMONTHDAY=28,29,30;BYSETPOS=-1 ("the 30th or the last")."""
    shortest, longest = _month_lengths(month)
    if set_pos:
        last = max(month_days)
        if set_pos == [-1] and shortest < last < longest:
            if sorted(month_days) == [*range(shortest, last + 1)]:
                return last
        raise Inexpressible("BYSETPOS with BYMONTHDAY")
    if len(month_days) > 1:
        raise Inexpressible("several BYMONTHDAY values: Outlook has one day of the month")
    day = month_days[0]
    if day == -1:
        return longest
    if day < 0:
        raise Inexpressible(
            f"BYMONTHDAY={day}: of the days counted from a month's end, Outlook has -1"
        )
    if day > longest:
        raise Inexpressible(f"{calendar.month_name[month]} has no day {day}")
    if day > shortest:
        raise Inexpressible(
            f"day {day} of {calendar.month_name[month] or 'the month'}: the rule skips "
            f"{'years' if month else 'months'} without it, Outlook would move it to the last day"
        )
    return day


def _read_end(
    until: str | None, count: str | None, local: datetime | date, zone: tzinfo, text: str
) -> tuple[date | None, int | None]:
    """(endDate, numberOfOccurrences) from UNTIL / COUNT."""
    if until is not None and count is not None:
        raise ValueError(f"invalid RRULE {text!r}: UNTIL and COUNT together")
    if count is not None:
        return None, _int(count, "COUNT", text, 1, 10**6)
    if until is None:
        return None, None
    match = _UNTIL.fullmatch(until)
    if match is None:
        raise ValueError(f"invalid RRULE {text!r}: UNTIL={until}")
    day, clock, utc = match.groups()
    if clock is None:  # a date: the whole day, but for a series in UTC only its start, as
        # syncfw's expansion (and recurring-ical-events) read it
        in_utc = zone is UTC or getattr(zone, "key", None) in _UTC_KEYS
        clock = "000000" if in_utc and isinstance(local, datetime) else "235959"
    last = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    if clock and utc:  # an instant: its wall-clock time in the series' zone
        last = last.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
    if isinstance(local, datetime) and last.time() < local.time().replace(tzinfo=None):
        return last.date() - timedelta(days=1), None  # too early for that day's instance
    return last.date(), None


def _graph_dict(pattern: _Pattern, first: date, zone_name: str) -> dict[str, Any]:
    # Only the properties each type needs: Graph rejects unsupported values in others.
    body: dict[str, Any] = {"type": pattern.kind, "interval": pattern.interval}
    if pattern.days:
        body["daysOfWeek"] = [_DAYS[d] for d in sorted(pattern.days)]
    if pattern.kind == "weekly":
        body["firstDayOfWeek"] = _DAYS[pattern.week_start]
    if pattern.day_of_month:
        body["dayOfMonth"] = pattern.day_of_month
    if pattern.kind.endswith("Yearly"):
        body["month"] = pattern.month
    if pattern.kind.startswith("relative"):
        body["index"] = _INDEX_NAMES[pattern.index]
    span: dict[str, Any] = {"type": "noEnd", "startDate": first.isoformat()}
    if pattern.end is not None:
        span.update(type="endDate", endDate=pattern.end.isoformat())
    elif pattern.count is not None:
        span.update(type="numbered", numberOfOccurrences=pattern.count)
    span["recurrenceTimeZone"] = zone_name
    return {"pattern": body, "range": span}


# -- Graph -> RRULE -----------------------------------------------------------------


def from_graph(
    recurrence: Mapping[str, Any], start: datetime | date, *, written: str | None = None
) -> str:
    """The RRULE value for a Graph ``recurrence`` whose series starts at ``start``.

    ``start`` is the series master's start: an aware datetime (in the series'
    zone, the one ``recurrenceTimeZone`` names if given) or a date when all-day.
    ``written``, the RRULE syncfw wrote for this event if the driver kept it, is
    returned unchanged when it still means this recurrence, so a series keeps
    its exact text (and content hash) through Outlook. Raises ValueError for a
    recurrence it cannot read or whose start is not one of its dates.
    """
    pattern, start_date, zone_name = _read_graph(recurrence)
    zone: tzinfo = UTC
    if isinstance(start, datetime):
        if start.tzinfo is None:
            raise ValueError(f"from_graph(): the start {start!r} has no time zone")
        zone = zone_from_graph(zone_name) if zone_name else start.tzinfo
        if start.tzinfo is not zone and not same_clock(start.tzinfo, zone, start):
            raise ValueError(
                f"the series repeats in {zone_name} but its start is given in "
                f"{start.tzname()}; read the start in the series' own zone"
            )
        first = start.astimezone(zone).date()
    else:
        first = start
    _check_first(pattern, start_date, first)
    if written is not None:
        try:
            local = start.astimezone(zone) if isinstance(start, datetime) else start
            if _same(_read_rule(written, local, zone), pattern):
                return written
        except ValueError:
            pass  # not a rule Graph can hold: it is not what Graph holds
    return _format_rule(pattern, zone, all_day=not isinstance(start, datetime))


def _read_graph(recurrence: Mapping[str, Any]) -> tuple[_Pattern, date, str]:
    """The pattern, range.startDate and recurrenceTimeZone of a Graph recurrence.

    Graph's responses carry every property, the unused ones zeroed ("month": 0,
    "endDate": "0001-01-01"), so only those the type uses are read.
    """
    body, span = recurrence.get("pattern"), recurrence.get("range")
    if not isinstance(body, Mapping) or not isinstance(span, Mapping):
        raise ValueError(f"a recurrence without pattern and range: {dict(recurrence)!r}")
    kind = str(body.get("type"))
    if kind not in _KINDS:
        raise ValueError(f"unknown recurrence pattern type {body.get('type')!r}")
    pattern = _Pattern(kind, _graph_int(body, "interval", 1, 999))
    if kind == "weekly" or kind.startswith("relative"):
        names = body.get("daysOfWeek")
        if not isinstance(names, list) or not names:
            raise ValueError(f"a {kind} recurrence without daysOfWeek")
        pattern = replace(pattern, days=frozenset(_day_name(n) for n in names))
    if kind == "weekly":
        pattern = replace(pattern, week_start=_day_name(body.get("firstDayOfWeek") or "sunday"))
    if kind.startswith("relative"):
        index = str(body.get("index") or "first").lower()
        if index not in _INDEX:
            raise ValueError(f"unknown recurrence index {body.get('index')!r}")
        pattern = replace(pattern, index=_INDEX[index])
    if kind.startswith("absolute"):
        pattern = replace(pattern, day_of_month=_graph_int(body, "dayOfMonth", 1, 31))
    if kind.endswith("Yearly"):
        pattern = replace(pattern, month=_graph_int(body, "month", 1, 12))

    range_type = _RANGES.get(str(span.get("type", "")).lower())
    if range_type is None:
        raise ValueError(f"unknown recurrence range type {span.get('type')!r}")
    start_date = _graph_date(span, "startDate")
    if range_type == "endDate":
        end = _graph_date(span, "endDate")
        if end < start_date:
            raise ValueError(f"a recurrence that ends ({end}) before it starts ({start_date})")
        pattern = replace(pattern, end=end)
    elif range_type == "numbered":
        pattern = replace(pattern, count=_graph_int(span, "numberOfOccurrences", 1, 2**31 - 1))
    return pattern, start_date, str(span.get("recurrenceTimeZone") or "")


def _check_first(pattern: _Pattern, start_date: date, first: date) -> None:
    """The series' start must be Graph's first occurrence: the first fit from startDate."""
    if start_date > first:
        raise ValueError(f"the recurrence starts on {start_date}, after its event ({first})")
    if not _fits(pattern, first):
        raise ValueError(f"the series starts on {first}, which its {pattern.kind} pattern skips")
    if (first - start_date).days > 400 or any(
        _fits(pattern, start_date + timedelta(days=n)) for n in range((first - start_date).days)
    ):
        raise ValueError(f"the recurrence has dates from {start_date}, before its event ({first})")


def _format_rule(pattern: _Pattern, zone: tzinfo, *, all_day: bool) -> str:
    kind = pattern.kind
    freq = next(f for f in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY") if kind.upper().endswith(f))
    parts = [f"FREQ={freq}"]
    if pattern.interval > 1:
        parts.append(f"INTERVAL={pattern.interval}")
    if pattern.month:
        parts.append(f"BYMONTH={pattern.month}")
    if kind.startswith("absolute"):  # a day past a month's end means its last day
        day, (shortest, longest) = pattern.day_of_month, _month_lengths(pattern.month)
        if day >= longest:
            parts.append("BYMONTHDAY=-1")
        elif day > shortest:
            parts.append(f"BYMONTHDAY={','.join(map(str, range(shortest, day + 1)))};BYSETPOS=-1")
        else:
            parts.append(f"BYMONTHDAY={day}")
    days = ",".join(_RFC_DAYS[d] for d in sorted(pattern.days))
    if kind == "weekly":
        parts.append(f"BYDAY={days}")
        if pattern.week_start:
            parts.append(f"WKST={_RFC_DAYS[pattern.week_start]}")
    elif kind.startswith("relative"):
        if len(pattern.days) == 1:
            parts.append(f"BYDAY={pattern.index}{days}")
        else:
            parts.append(f"BYDAY={days};BYSETPOS={pattern.index}")
    if pattern.count is not None:
        parts.append(f"COUNT={pattern.count}")
    elif pattern.end is not None and all_day:
        parts.append(f"UNTIL={pattern.end:%Y%m%d}")
    elif pattern.end is not None:
        last = datetime.combine(pattern.end, time(23, 59, 59), tzinfo=zone).astimezone(UTC)
        parts.append(f"UNTIL={last:%Y%m%dT%H%M%SZ}")
    return ";".join(parts)


# -- shared -------------------------------------------------------------------------


def _fits(pattern: _Pattern, day: date) -> bool:
    """Whether ``day`` is one of the pattern's dates (leaving its interval aside)."""
    kind = pattern.kind
    if kind.endswith("Yearly") and day.month != pattern.month:
        return False
    if kind == "weekly":
        return day.weekday() in pattern.days
    if kind.startswith("absolute"):
        return day.day == min(pattern.day_of_month, calendar.monthrange(day.year, day.month)[1])
    if kind.startswith("relative"):
        length = calendar.monthrange(day.year, day.month)[1]
        first = date(day.year, day.month, 1).weekday()
        matching = [n for n in range(1, length + 1) if (first + n - 1) % 7 in pattern.days]
        return day.day == matching[pattern.index - 1 if pattern.index > 0 else -1]
    return True


def _same(a: _Pattern, b: _Pattern) -> bool:
    """Equal patterns; the first day of the week counts only where it moves dates."""
    if a.kind == b.kind == "weekly" and (a.interval == 1 or len(a.days) == 1):
        b = replace(b, week_start=a.week_start)
    return a == b


def _month_lengths(month: int) -> tuple[int, int]:
    """(shortest, longest) length of ``month`` over the years; of any month for 0."""
    if month == 0:
        return 28, 31
    if month == 2:
        return 28, 29
    length = calendar.monthrange(2001, month)[1]
    return length, length


def _parts(text: str) -> dict[str, str]:
    body = text.strip()
    body = body[6:] if body.upper().startswith("RRULE:") else body
    parts: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in body.split(";"))):
        name, sep, value = (s.strip().upper() for s in part.partition("="))
        if not sep or not name or not value:
            raise ValueError(f"invalid RRULE {text!r}: cannot read {part!r}")
        if name.startswith("X-"):
            continue  # extensions nobody else reads
        if name in parts:
            raise ValueError(f"invalid RRULE {text!r}: {name} given twice")
        parts[name] = value
    return parts


def _list(parts: dict[str, str], name: str) -> list[str]:
    return [v for v in parts.get(name, "").split(",") if v]


def _by_day(value: str, text: str) -> tuple[int | None, int]:
    match = _BYDAY.fullmatch(value)
    if match is None or match.group(1) in ("0", "+0", "-0"):
        raise ValueError(f"invalid RRULE {text!r}: BYDAY value {value!r}")
    number, day = match.groups()
    return (int(number) if number else None), _RFC_DAYS.index(day)


def _int(value: str, name: str, text: str, low: int, high: int) -> int:
    """A whole number within [-high, -low] or [low, high] (the negative side only for low < 0)."""
    number = int(value) if re.fullmatch(r"[+-]?\d{1,9}", value) else 0
    if not (abs(low) <= abs(number) <= high and (number > 0 or low < 0)):
        raise ValueError(f"invalid RRULE {text!r}: {name}={value}")
    return number


def _day_name(name: Any) -> int:
    if not isinstance(name, str) or name.lower() not in _DAYS:
        raise ValueError(f"unknown day of the week {name!r}")
    return _DAYS.index(name.lower())


def _graph_int(body: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = body.get(name)
    if type(value) is not int or not low <= value <= high:  # bool is no number here
        raise ValueError(f"recurrence {name} must be a whole number from {low}, not {value!r}")
    return value


def _graph_date(span: Mapping[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(span[name])[:10])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"recurrence range without a valid {name}: {span.get(name)!r}") from exc
