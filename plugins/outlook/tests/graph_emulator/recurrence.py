"""Expansion of Graph's patternedRecurrence into original start times (no I/O here).

Written from the recurrencePattern and recurrenceRange reference pages, not from the driver:
six pattern types (daily, weekly, absoluteMonthly, relativeMonthly, absoluteYearly,
relativeYearly) and three range types (endDate, noEnd, numbered). Expansion runs on naive
wall-clock times in the series' zone (range.recurrenceTimeZone, else the start's zone) and
localises each result, so a 09:00 Europe/Berlin series stays 09:00 local across DST changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

from .resources import ApiError, Json, instant, resolve_zone, wall

DAYS = {
    "monday": rrule.MO,
    "tuesday": rrule.TU,
    "wednesday": rrule.WE,
    "thursday": rrule.TH,
    "friday": rrule.FR,
    "saturday": rrule.SA,
    "sunday": rrule.SU,
}
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
PATTERNS = (
    "daily",
    "weekly",
    "absoluteMonthly",
    "relativeMonthly",
    "absoluteYearly",
    "relativeYearly",
)
RANGES = ("endDate", "noEnd", "numbered")
MAX_OCCURRENCES = 20000  # a guard, far above anything a test expands


def invalid(message: str) -> ApiError:
    return ApiError(400, "ErrorInvalidRequest", f"Invalid recurrence: {message}")


def _date(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise invalid(f"{what} must be a date (YYYY-MM-DD), got {value!r}.") from None


def _days(pattern: Json) -> list[rrule.weekday]:
    days = pattern.get("daysOfWeek") or []
    try:
        return [DAYS[str(d).lower()] for d in days]
    except KeyError:
        raise invalid(f"unknown day in daysOfWeek {days!r}.") from None


def validate(recurrence: Json) -> None:
    """400 for what the reference pages mark as required per pattern and range type."""
    pattern, rng = recurrence.get("pattern"), recurrence.get("range")
    if not isinstance(pattern, dict) or not isinstance(rng, dict):
        raise invalid("pattern and range are required.")
    kind = pattern.get("type")
    if kind not in PATTERNS:
        raise invalid(f"pattern.type must be one of {', '.join(PATTERNS)}; got {kind!r}.")
    if int(pattern.get("interval") or 1) < 1:
        raise invalid("pattern.interval must be at least 1.")
    needs_days = kind in ("weekly", "relativeMonthly", "relativeYearly")
    if needs_days and not _days(pattern):
        raise invalid(f"a {kind} pattern requires daysOfWeek.")
    if kind in ("absoluteMonthly", "absoluteYearly") and not 1 <= int(
        pattern.get("dayOfMonth") or 0
    ) <= (29 if kind == "absoluteYearly" and pattern.get("month") == 2 else 31):
        raise invalid(f"a {kind} pattern requires a valid dayOfMonth.")
    if (
        kind in ("absoluteYearly", "relativeYearly")
        and not 1 <= int(pattern.get("month") or 0) <= 12
    ):
        raise invalid(f"a {kind} pattern requires month (1-12).")
    if str(pattern.get("index") or "first").lower() not in INDEX:
        raise invalid(f"pattern.index must be one of {', '.join(INDEX)}.")
    if str(pattern.get("firstDayOfWeek") or "sunday").lower() not in DAYS:
        raise invalid("pattern.firstDayOfWeek must be a day of the week.")
    if rng.get("type") not in RANGES:
        raise invalid(f"range.type must be one of {', '.join(RANGES)}.")
    start = _date(rng.get("startDate"), "range.startDate")
    if rng["type"] == "endDate" and _date(rng.get("endDate"), "range.endDate") < start:
        raise invalid("range.endDate is before range.startDate.")
    if rng["type"] == "numbered" and int(rng.get("numberOfOccurrences") or 0) < 1:
        raise invalid("a numbered range requires numberOfOccurrences of at least 1.")
    if rng.get("recurrenceTimeZone"):
        resolve_zone(rng["recurrenceTimeZone"])


def series_zone(master: Json) -> ZoneInfo:
    rng = master["recurrence"]["range"]
    return resolve_zone(rng.get("recurrenceTimeZone") or master["start"]["timeZone"])


def _rule(master: Json, zone: ZoneInfo) -> rrule.rrule:
    pattern, rng = master["recurrence"]["pattern"], master["recurrence"]["range"]
    if master.get("isAllDay"):
        clock = time(0, 0)
    else:
        clock = instant(master["start"]).astimezone(zone).time().replace(tzinfo=None)
    kw: dict[str, Any] = {
        "dtstart": datetime.combine(_date(rng["startDate"], "range.startDate"), clock),
        "interval": int(pattern.get("interval") or 1),
    }
    kind = pattern["type"]
    days = _days(pattern)
    index = INDEX[str(pattern.get("index") or "first").lower()]
    if rng["type"] == "numbered":
        kw["count"] = int(rng["numberOfOccurrences"])
    elif rng["type"] == "endDate":
        kw["until"] = datetime.combine(_date(rng["endDate"], "range.endDate"), time.max)
    if kind == "daily":
        return rrule.rrule(rrule.DAILY, **kw)
    if kind == "weekly":
        wkst = DAYS[str(pattern.get("firstDayOfWeek") or "sunday").lower()]
        return rrule.rrule(rrule.WEEKLY, byweekday=days, wkst=wkst, **kw)
    if kind == "absoluteMonthly":
        return rrule.rrule(rrule.MONTHLY, **_day_of_month(int(pattern["dayOfMonth"])), **kw)
    if kind == "relativeMonthly":  # "the {index} {day or any of the days} of the month"
        return rrule.rrule(rrule.MONTHLY, byweekday=days, bysetpos=index, **kw)
    month = int(pattern["month"])
    if kind == "absoluteYearly":
        return rrule.rrule(
            rrule.YEARLY, bymonth=month, **_day_of_month(int(pattern["dayOfMonth"])), **kw
        )
    return rrule.rrule(rrule.YEARLY, bymonth=month, byweekday=days, bysetpos=index, **kw)


def _day_of_month(day: int) -> dict[str, Any]:
    """A day past a month's end falls on its last day, as Outlook says when such a series is
    made ("Some months have fewer than 31 days. For these months, the occurrence will fall
    on the last day of the month.")."""
    if day <= 28:
        return {"bymonthday": day}
    return {"bymonthday": tuple(range(28, day + 1)), "bysetpos": -1}


def original_starts(master: Json, until: datetime) -> Iterator[datetime]:
    """The series' original start times (aware, in the series zone) before `until`."""
    zone = series_zone(master)
    for n, local in enumerate(_rule(master, zone)):
        moment = local.replace(tzinfo=zone)
        if n >= MAX_OCCURRENCES or moment >= until:
            return
        yield moment


def duration_of(master: Json) -> Any:
    """The length of every occurrence: wall-clock for all-day series, absolute otherwise."""
    if master.get("isAllDay"):
        return wall(master["end"]) - wall(master["start"])
    return instant(master["end"]) - instant(master["start"])
