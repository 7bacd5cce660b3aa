"""The driver contract suite against a real Radicale, plus CalDAV-specific cases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any
from unittest.mock import patch

import pytest

from conftest import make_driver
from syncfw.errors import CursorExpired, PreconditionFailed
from syncfw.sdk.driver import Driver, WriteOp
from syncfw.testing import DriverContract, fresh_window, make_event
from syncfw_caldav import CaldavDriver
from syncfw_caldav._http import Reply

#: Radicale takes it (it is iCalendar), syncfw cannot: it ends before it starts.
BACKWARDS = """\
BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//someone else//EN\r
BEGIN:VEVENT\r
UID:backwards@example.com\r
DTSTAMP:20250101T000000Z\r
DTSTART:20300101T120000Z\r
DTEND:20300101T110000Z\r
SUMMARY:Ends before it starts\r
END:VEVENT\r
END:VCALENDAR\r
"""


class CaldavContract(DriverContract):
    """What the contract needs to know of a CalDAV calendar (on Radicale)."""

    eager_writes = "one write() sends its ops over up to max_connections requests at once"

    def plant_unreadable(self, driver: Driver) -> str:
        assert isinstance(driver, CaldavDriver)
        key = "backwards.ics"
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        reply = driver._http.request("planting", "PUT", driver._url(key), BACKWARDS, headers)
        assert reply.status in (201, 204), reply
        return key

    def failing_writes(self, driver: Driver, key: str) -> AbstractContextManager[object]:
        """The server forbids writing this item (a bare 403): every further op would fail."""
        assert isinstance(driver, CaldavDriver)
        real = driver._http.request

        def forbidding(what: str, method: str, url: str, *args: Any, **kwargs: Any) -> Reply:
            if method == "PUT" and url == driver._url(key):
                return Reply(403)
            return real(what, method, url, *args, **kwargs)

        return patch.object(driver._http, "request", forbidding)


class TestCaldavContract(CaldavContract):
    @pytest.fixture
    def driver(self, caldav_driver: CaldavDriver) -> Iterator[CaldavDriver]:
        yield caldav_driver


def test_concurrent_edit_gives_412(radicale: str, calendar_name: str, user: str) -> None:
    with (
        make_driver(radicale, calendar_name, user) as ours,
        make_driver(radicale, calendar_name, user) as theirs,
    ):
        event = make_event(title="v1")
        (created,) = ours.write([WriteOp("create", event=event)])
        assert created.ok and created.etag
        (edit,) = theirs.write(
            [WriteOp("update", key=created.key, event=event.replace(title="theirs"))]
        )
        assert edit.ok and edit.etag != created.etag
        stale = WriteOp(
            "update", key=created.key, event=event.replace(title="ours"), etag=created.etag
        )
        (result,) = ours.write([stale])
        assert isinstance(result.error, PreconditionFailed)
        (again,) = ours.write([WriteOp("create", event=event)])
        assert isinstance(again.error, PreconditionFailed), "a create never overwrites"
        titles = [c.event.title for c in ours.read(None, fresh_window()) if c.event]
        assert titles == ["theirs"]


def test_invalid_sync_token_raises_cursor_expired(caldav_driver: CaldavDriver) -> None:
    feed = caldav_driver.read(None, fresh_window())
    assert list(feed) == []
    assert feed.cursor and feed.cursor.startswith("http")
    bogus = feed.cursor[:-8] + "deadbeef"
    with pytest.raises(CursorExpired):
        list(caldav_driver.read(bogus, fresh_window()))


def test_calendar_by_name_is_found_again_and_by_url(
    radicale: str, calendar_name: str, user: str
) -> None:
    with make_driver(radicale, calendar_name, user) as first:
        (created,) = first.write([WriteOp("create", event=make_event(title="kept"))])
        url = first._calendar_url()
    with (
        make_driver(radicale, calendar_name, user) as by_name,
        make_driver(radicale, url, user) as by_url,
    ):
        for driver in (by_name, by_url):
            keys = [c.key for c in driver.read(None, fresh_window())]
            assert keys == [created.key]


def test_password_stays_secret(radicale: str) -> None:
    driver = make_driver(radicale, "x")
    assert "secret" not in repr(driver) and "secret" not in repr(driver.options)
