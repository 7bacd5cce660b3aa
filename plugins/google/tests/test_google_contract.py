"""The driver contract suite, against the Google Calendar emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _google_support import google_driver
from emulator import GoogleEmulator

from syncfw.model import Event
from syncfw.sdk.driver import Driver
from syncfw.testing import DriverContract
from syncfw_google import GoogleDriver


class TestGoogleDriver(DriverContract):
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
