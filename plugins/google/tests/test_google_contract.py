"""The driver contract suite, against the Google Calendar emulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from _google_support import google_driver
from emulator import GoogleEmulator

from syncfw.model import Event
from syncfw.sdk.driver import Driver, WriteOp
from syncfw.testing import DriverContract, make_event
from syncfw_google import GoogleDriver


class TestGoogleDriver(DriverContract):
    eager_writes = "ops go out in batch requests: a batch is sent whole before its results"
    update_revives_deleted = "Google keeps a deleted event (cancelled); an update restores it"
    not_stored = {"status=cancelled": "a cancelled Google event is a deleted one: never listed"}

    @pytest.fixture
    def driver(self, google_emulator: GoogleEmulator) -> Iterator[GoogleDriver]:
        calendar = google_emulator.add_calendar("Contract")
        self.emulator = google_emulator
        with google_driver(google_emulator, calendar.id) as driver:
            yield driver  # type: ignore[misc]

    def edit_behind_back(self, driver: Driver, key: str, event: Event) -> None:
        # A person editing in Google: the stored resource changes, the etag moves on.
        assert isinstance(driver, GoogleDriver)
        self.emulator.edit(driver.calendar_id, key, summary=event.title)

    def plant_unreadable(self, driver: Driver) -> str:
        """Another app of the same OAuth client garbles syncfw's private properties."""
        assert isinstance(driver, GoogleDriver)
        (made,) = driver.write([WriteOp("create", event=make_event(title="Garbled"))])
        garbled = {"private": {"syncfw": "1", "syncfw_categories": "[not JSON"}}
        self.emulator.edit(driver.calendar_id, made.key or "", extendedProperties=garbled)
        return made.key or ""

    @contextmanager
    def failing_writes(self, driver: Driver, key: str) -> Iterator[None]:
        """Google's daily quota runs out at the write of this event."""
        self.emulator.inject(403, reason="quotaExceeded", path=key, in_batch=True)
        yield
