"""The driver contract suite, against the Microsoft Graph emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _outlook_support import outlook_driver
from graph_emulator import GraphEmulator

from syncfw.model import Event
from syncfw.sdk.driver import Driver
from syncfw.testing import DriverContract
from syncfw_outlook import OutlookDriver


class TestOutlookDriver(DriverContract):
    @pytest.fixture
    def driver(self, graph_emulator: GraphEmulator) -> Iterator[OutlookDriver]:
        calendar = graph_emulator.add_calendar("Contract")
        self.emulator = graph_emulator
        with outlook_driver(graph_emulator, calendar.id) as driver:
            yield driver  # type: ignore[misc]

    def edit_behind_back(self, driver: Driver, key: str, event: Event) -> None:
        # A person editing in Outlook: the stored event changes, its etag moves on.
        self.emulator.edit(key, subject=event.title)


class TestOutlookDriverInAnotherMailbox(DriverContract):
    """The same contract for a calendar in another user's mailbox (``user:``)."""

    @pytest.fixture
    def driver(self, graph_emulator: GraphEmulator) -> Iterator[OutlookDriver]:
        self.emulator = graph_emulator
        with outlook_driver(graph_emulator, "Planning", user="someone@example.com") as driver:
            yield driver  # type: ignore[misc]

    def edit_behind_back(self, driver: Driver, key: str, event: Event) -> None:
        self.emulator.edit(key, user="someone@example.com", subject=event.title)
