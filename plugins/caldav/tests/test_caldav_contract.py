"""The driver contract suite against a real Radicale, plus CalDAV-specific cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import make_driver
from syncfw.errors import CursorExpired, PreconditionFailed
from syncfw.sdk.driver import WriteOp
from syncfw.testing import DriverContract, fresh_window, make_event
from syncfw_caldav import CaldavDriver


class TestCaldavContract(DriverContract):
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
