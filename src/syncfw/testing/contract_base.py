"""What the checks of the driver contract share: the event factory, the window, the hooks a
driver's test class overrides, and helpers that check what every write and read must do.

See :mod:`syncfw.testing.contract` for how to use the suite.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

import pytest

from syncfw.model import Change, Event, Window
from syncfw.sdk.driver import Driver, WriteOp, WriteResult

__all__ = ["ContractBase", "fresh_window", "make_event", "tomorrow"]


def make_event(**fields: Any) -> Event:
    """An event with sensible defaults: tomorrow 10:00-11:00 UTC, a unique uid.

    Any :class:`~syncfw.model.Event` field can be given to override a default.
    """
    start = datetime.combine(tomorrow(), time(10), tzinfo=UTC)
    defaults: dict[str, Any] = {
        "uid": f"syncfw-test-{uuid.uuid4().hex}@syncfw.test",
        "title": "Test event",
        "start": start,
        "end": start + timedelta(hours=1),
    }
    return Event(**(defaults | fields))


def fresh_window(now: datetime | None = None) -> Window:
    """A window wide enough for every event the contract suite creates (-1 y .. +2 y)."""
    return Window.around(now or datetime.now(UTC), past_days=366, future_days=2 * 366)


def tomorrow() -> date:
    return datetime.now(UTC).date() + timedelta(days=1)


class ContractBase:
    """The ``driver`` fixture, the hooks a driver's test class may override, and helpers."""

    #: Field values the calendar cannot store, each with the reason, e.g.
    #: ``{"status=cancelled": "Graph's isCancelled is read-only"}``; their round trips are
    #: skipped with that reason. The keys are those of ``contract_fields.FIELD_CASES``.
    not_stored: ClassVar[Mapping[str, str]] = {}

    @pytest.fixture
    def driver(self) -> Iterator[Driver]:
        pytest.fail(f"{type(self).__name__} must provide a 'driver' fixture")
        yield  # pragma: no cover

    # -- hooks a driver's test class overrides ----------------------------------------

    def edit_behind_back(self, driver: Driver, key: str, event: Event) -> None:
        """Change item ``key`` as someone else would, so that its etag changes.

        The default is an unconditional update through the driver; override it when the
        provider can be edited by other means (its emulator, the file).
        """
        self.apply(driver, [WriteOp("update", key=key, event=event)], check=True)

    def plant_unreadable(self, driver: Driver) -> str:
        """Put an item into the calendar that the driver cannot read (as a person or
        another program could: a garbled file, a row with impossible times); its key.

        The default skips the checks that need one.
        """
        pytest.skip(f"{type(self).__name__} does not override plant_unreadable()")

    def failing_writes(self, driver: Driver, key: str) -> AbstractContextManager[object]:
        """A context in which a write of item ``key`` fails so that every further op is
        pointless: the driver raises a :class:`~syncfw.errors.DriverError` (refused
        credentials, a spent quota, an unreachable store) instead of returning a result.

        The default skips the check that needs it.
        """
        pytest.skip(f"{type(self).__name__} does not override failing_writes()")

    # -- helpers ----------------------------------------------------------------------

    def apply(
        self, driver: Driver, ops: Sequence[WriteOp], *, check: bool = False
    ) -> list[WriteResult]:
        results = list(driver.write(ops))
        assert [r.op for r in results] == list(ops), "one result per op, in order"
        if check:
            for result in results:
                assert result.ok, f"{result.op.action} failed: {result.error}"
        return results

    def create(self, driver: Driver, event: Event) -> WriteResult:
        (result,) = self.apply(driver, [WriteOp("create", event=event)], check=True)
        assert result.key, "a create must report the new item's key"
        return result

    def read(self, driver: Driver) -> dict[str, Change]:
        feed = driver.read(None, fresh_window())
        changes = list(feed)
        assert feed.full, "read(None) must be a full read"
        keys = [c.key for c in changes]
        assert len(keys) == len(set(keys)), "a full read lists every key once"
        return {c.key: c for c in changes}

    def read_event(self, driver: Driver, key: str) -> tuple[Event, str | None]:
        change = self.read(driver).get(key)
        assert change is not None, f"{key!r} is missing from a full read"
        assert change.event is not None, f"{key!r} cannot be read: {change.error}"
        return change.event, change.etag

    def cursor(self, driver: Driver) -> str:
        """The cursor a full read ends with (incremental drivers)."""
        feed = driver.read(None, fresh_window())
        list(feed)
        assert feed.cursor is not None, "a full read must end with a cursor"
        return feed.cursor

    def round_trip(self, driver: Driver, event: Event) -> Event:
        """Create ``event``, read it back, check what every test needs; the event read."""
        result = self.create(driver, event)
        read, etag = self.read_event(driver, result.key or "")
        if driver.capabilities.client_ids:
            assert read.uid == event.uid
        if result.etag is not None:
            assert etag == result.etag, "the etag of a write must be the one reads report"
        assert read.content_hash() == event.content_hash(), f"{read}\n!=\n{event}"
        return read
