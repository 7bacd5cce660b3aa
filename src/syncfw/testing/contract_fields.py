"""The contract's field checks: every :class:`~syncfw.model.Event` field a person sees
comes back as it was written.

The engine compares events by :meth:`~syncfw.model.Event.content_hash`; a value that
does not survive a round trip makes every run see "drift" and write the event again. The
hash leaves out what must still come back (the zone an event was planned in, attendees'
names and answers, the organizer's name), so those are compared one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syncfw.model import Attendee, Event, as_utc
from syncfw.sdk.driver import Driver
from syncfw.testing.contract_base import ContractBase, make_event, tomorrow

__all__ = ["FIELD_CASES", "FieldChecks"]

NEW_YORK = ZoneInfo("America/New_York")


def _in_new_york() -> dict[str, Any]:
    start = datetime.combine(tomorrow(), time(9, 30), tzinfo=NEW_YORK)
    return {"start": start, "end": start + timedelta(minutes=45), "timezone": "America/New_York"}


def _one_day() -> dict[str, Any]:
    return {"start": tomorrow(), "end": tomorrow() + timedelta(days=1)}


#: One round trip per case: the event's fields (or a function making them), by case name.
#: ``ContractBase.not_stored`` names the cases a calendar cannot store.
FIELD_CASES: dict[str, dict[str, Any] | Callable[[], dict[str, Any]]] = {
    "status=tentative": {"status": "tentative"},
    "status=cancelled": {"status": "cancelled"},
    "transparency=transparent": {"transparency": "transparent"},
    "visibility=public": {"visibility": "public"},
    "visibility=private": {"visibility": "private"},
    "visibility=confidential": {"visibility": "confidential"},
    "categories": {"categories": ("Work", "Ünïcode category", "Travel")},
    "description+location": {"description": "Line 1\nLine 2", "location": "Room 1, 2nd floor"},
    "organizer": {"organizer": Attendee("boss@example.com", "The Boss")},
    "all-day, one day": _one_day,
    "time zone": _in_new_york,
}


def _zone_name(event: Event) -> str | None:
    """The zone an event was planned in: its ``timezone``, else its start's IANA key."""
    if event.timezone:
        return event.timezone
    return getattr(getattr(event.start, "tzinfo", None), "key", None)


class FieldChecks(ContractBase):
    @pytest.mark.parametrize("case", FIELD_CASES)
    def test_field_round_trips(self, driver: Driver, case: str) -> None:
        unknown = set(self.not_stored) - set(FIELD_CASES)
        assert not unknown, f"not_stored names unknown cases: {sorted(unknown)}"
        if case in self.not_stored:
            pytest.skip(self.not_stored[case])
        if case == "organizer" and not driver.capabilities.attendees:
            pytest.skip("the driver does not store attendees")
        fields = FIELD_CASES[case]
        event = make_event(**(fields() if callable(fields) else fields))
        read = self.round_trip(driver, event)  # the content hash: every field people see
        for name in ("status", "transparency", "visibility", "description", "location"):
            assert getattr(read, name) == getattr(event, name), name
        assert sorted(read.categories) == sorted(event.categories)
        assert read.all_day == event.all_day
        if event.all_day:
            assert (read.start, read.end) == (event.start, event.end)
        else:
            assert as_utc(read.start) == as_utc(event.start)
            assert as_utc(read.end) == as_utc(event.end)
        if event.timezone:
            assert _zone_name(read) == event.timezone, "the zone it was planned in comes back"
        if event.organizer is not None:
            assert read.organizer is not None
            assert (read.organizer.email.lower(), read.organizer.name) == (
                event.organizer.email,
                event.organizer.name,
            )
