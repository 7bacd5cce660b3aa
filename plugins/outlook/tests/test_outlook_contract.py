"""The driver contract suite, against the Microsoft Graph emulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from _outlook_support import outlook_driver
from graph_emulator import GraphEmulator

from syncfw.model import Event
from syncfw.sdk.driver import Driver, WriteOp
from syncfw.testing import DriverContract, make_event
from syncfw_outlook import OutlookDriver
from syncfw_outlook.convert import EXTRA_PROP


class _OutlookContract(DriverContract):
    """What the contract needs to know of Outlook, for the calendar of ``user`` (None: me)."""

    eager_writes = "ops go out in $batch requests of up to 20, each sent whole"
    twin_on_taken_uid = (
        "Graph has no unique key for syncfw's uid mark, and looking each create up first "
        "would double the requests of every create batch"
    )
    not_stored = {
        "status=cancelled": "Graph's isCancelled is read-only: only cancelling a meeting sets it",
        "visibility=public": "Graph's sensitivity has no 'public': it and default are 'normal'",
    }
    emulator: GraphEmulator
    user: str | None = None

    def edit_behind_back(self, driver: Driver, key: str, event: Event) -> None:
        # A person editing in Outlook: the stored event changes, its etag moves on.
        self.emulator.edit(key, user=self.user, subject=event.title)

    def plant_unreadable(self, driver: Driver) -> str:
        """Another program garbles what syncfw keeps in its extended property."""
        assert isinstance(driver, OutlookDriver)
        (made,) = driver.write([WriteOp("create", event=make_event(title="Garbled"))])
        garbled = [{"id": EXTRA_PROP, "value": "{not JSON"}]
        self.emulator.edit(made.key or "", user=self.user, singleValueExtendedProperties=garbled)
        return made.key or ""

    @contextmanager
    def failing_writes(self, driver: Driver, key: str) -> Iterator[None]:
        """The token is revoked just before the write of this event."""
        self.emulator.inject(401, code="InvalidAuthenticationToken", path=key, in_batch=True)
        yield


class TestOutlookDriver(_OutlookContract):
    @pytest.fixture
    def driver(self, graph_emulator: GraphEmulator) -> Iterator[OutlookDriver]:
        calendar = graph_emulator.add_calendar("Contract")
        self.emulator = graph_emulator
        with outlook_driver(graph_emulator, calendar.id) as driver:
            yield driver  # type: ignore[misc]


class TestOutlookDriverInAnotherMailbox(_OutlookContract):
    """The same contract for a calendar in another user's mailbox (``user:``)."""

    user = "someone@example.com"

    @pytest.fixture
    def driver(self, graph_emulator: GraphEmulator) -> Iterator[OutlookDriver]:
        self.emulator = graph_emulator
        with outlook_driver(graph_emulator, "Planning", user=self.user) as driver:
            yield driver  # type: ignore[misc]
