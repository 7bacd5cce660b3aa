"""Turning what people type on the command line into times, dates and durations.

Times are ISO 8601 ("2026-12-01T09:00", "2026-12-01 09:00+01:00"); without an offset they
are read in ``--tz``, or else the local zone, by IANA name where it can be found so that a
weekly series keeps its wall-clock time across DST changes.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from dateutil import tz as dateutil_tz

__all__ = ["InputError", "local_zone", "parse_duration", "parse_moment", "pick_zone"]

_DURATION = re.compile(r"^(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?$")


class InputError(click.ClickException):
    """Bad input: printed as ``Error: ...`` and exit code 2, like click's usage errors."""

    exit_code = 2


def local_zone() -> tuple[tzinfo, str | None]:
    """The local zone and its IANA name (None if the system does not reveal one)."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in filter(None, candidates):
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return dateutil_tz.tzlocal(), None


def pick_zone(name: str | None) -> tuple[tzinfo, str | None]:
    """``--tz NAME``, or the local zone."""
    if not name:
        return local_zone()
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--tz: unknown time zone {name!r}; use e.g. Europe/Berlin") from None


def parse_moment(text: str, option: str, zone: tzinfo, *, all_day: bool) -> datetime | date:
    """A date (all-day) or an aware datetime; naive times are read in ``zone``."""
    text = text.strip()
    if all_day:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{option}: {text!r} is not a date like 2026-12-01") from None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{option}: {text!r} is not an ISO 8601 time like 2026-12-01T09:00"
        ) from None
    if len(text) <= len("2026-12-01"):
        raise InputError(f"{option}: {text!r} has no time of day; add one, or use --all-day")
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def parse_duration(text: str, *, all_day: bool) -> timedelta:
    """ "90m", "1h30m", "2h", "3d"; all-day appointments last whole days."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise InputError(f"--duration: {text!r} is not a duration like 90m, 1h30m or 2d")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes)
    if value <= timedelta(0):
        raise InputError("--duration must be longer than nothing")
    if all_day and (hours or minutes):
        raise InputError("--duration of an all-day appointment is in days, e.g. 2d")
    return value
