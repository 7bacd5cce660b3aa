"""What a calendar synced from the job calendar must hold: for drivers' end-to-end tests.

A driver's tests push the job calendar to their provider (or its emulator) and then
compare what the provider holds with :func:`expected_items`: one item per appointment,
or per instance of a recurring one, in the pair's window, under the uid syncfw gives it,
with its title, its times in UTC and everyone invited (persons whose sync flag is on and
resources with a mailbox).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from syncfw.model import Window, as_utc
from syncfw.sdk import expand
from syncfw.testing import target_uid

from .convert import to_event
from .store import JobCalendar

__all__ = ["Summary", "expected_items", "summary"]

#: (title, start, end, invited addresses): starts and ends in UTC, or dates when all-day.
Summary = tuple[str, datetime | date, datetime | date, frozenset[str]]


def summary(
    title: str, start: datetime | date, end: datetime | date, invited: frozenset[str]
) -> Summary:
    """A :data:`Summary` with times taken to UTC (dates stay dates)."""
    return title, _utc(start), _utc(end), invited


def expected_items(
    jobs: JobCalendar, pair: str, window: Window | None = None
) -> dict[str, Summary]:
    """By target uid, what the target of ``pair`` must hold for the job calendar ``jobs``.

    ``window`` defaults to the examples' (7 days back, 90 ahead, from now).
    """
    window = window or Window.around(datetime.now(UTC), past_days=7, future_days=90)
    found: dict[str, Summary] = {}
    for appt in jobs.appointments():
        event = to_event(appt)
        if event.rrule:
            items = expand(appt.uid, event, start=window.start, end=window.end)
        else:
            items = [(appt.uid, event)] if window.overlaps(event) else []
        invited = {a.person.email for a in appt.persons if a.person.sync}
        invited |= {r.email for r in appt.resources if r.email}
        for key, item in items:
            found[target_uid(pair, key)] = summary(
                item.title, item.start, item.end, frozenset(invited)
            )
    return found


def _utc(value: datetime | date) -> datetime | date:
    return as_utc(value) if isinstance(value, datetime) else value
