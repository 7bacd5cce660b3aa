"""The driver contract: what the engine relies on, as tests every driver must pass.

Subclass :class:`DriverContract` in a test module and provide a ``driver``
fixture that yields a fresh, empty, writable calendar (and closes it after)::

    from syncfw.testing import DriverContract

    class TestMyDriver(DriverContract):
        @pytest.fixture
        def driver(self, tmp_path):
            with MyDriver(MyDriver.Options(...), DriverContext("test")) as driver:
                yield driver

Tests of features a driver does not claim in its ``capabilities`` are skipped. What
else a test class may say about its calendar (:class:`~.contract_base.ContractBase`):

- ``edit_behind_back(driver, key, event)``: change an item as someone else would (the
  default is an unconditional update through the driver);
- ``plant_unreadable(driver) -> key``: put an item the driver cannot read into the
  calendar (checks that need one are skipped without it);
- ``failing_writes(driver, key)``: a context in which writing item ``key`` raises a
  :class:`~syncfw.errors.DriverError` that stops the write (refused credentials, a
  spent quota); skipped without it;
- ``not_stored``: field values the calendar cannot store, each with the reason
  (``{"visibility=public": "..."}``; see :data:`.contract_fields.FIELD_CASES`);
- ``eager_writes``: why ``write()`` performs ops before their results are asked for,
  when its protocol makes that unavoidable (one request per batch);
- ``update_revives_deleted``: why an update of a deleted item brings it back instead of
  failing with NotFound (a provider that keeps deleted items);
- ``twin_on_taken_uid``: why a create of a uid the calendar has makes a second item (a
  provider without a unique key for it; the engine finds both by the uid).

The checks live in :mod:`.contract_fields` (every field round-trips),
:mod:`.contract_writes` (missing items, taken uids, failures half way, callers that
stop asking) and :mod:`.contract_reads` (cursors it cannot use, ``settle``, unreadable
items); this module holds the basic round trips, etags, deletes and incremental reads.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from syncfw.errors import PreconditionFailed
from syncfw.model import Attendee, as_utc
from syncfw.sdk.driver import Driver, WriteOp
from syncfw.testing.contract_base import fresh_window, make_event, tomorrow
from syncfw.testing.contract_fields import FieldChecks
from syncfw.testing.contract_reads import ReadChecks
from syncfw.testing.contract_writes import WriteChecks

__all__ = ["DriverContract", "fresh_window", "make_event"]

BERLIN = ZoneInfo("Europe/Berlin")

SPECIAL_TEXTS = {
    "unicode": "Ünïcödé ßpäß — 日本語 — Ελληνικά",
    "emoji": "Party 🎉 with 👍🏽 and 👨‍👩‍👧",
    "newlines": "first line\nsecond line\n\nafter a blank line",
    "punctuation": "commas, semicolons; colons: quotes \"x\" 'y' <tag> & ampersand",
    "backslashes": "C:\\path\\to\\file and \\n is not a newline \\\\ two",
    "long": " ".join(f"word{i}" for i in range(600)),
}


class DriverContract(FieldChecks, WriteChecks, ReadChecks):
    """The contract suite; subclasses provide the ``driver`` fixture."""

    # -- the contract -----------------------------------------------------------

    def test_create_and_full_read(self, driver: Driver) -> None:
        event = make_event(description="A description", location="Room 1")
        read = self.round_trip(driver, event)
        assert (read.title, read.description, read.location) == (
            "Test event",
            "A description",
            "Room 1",
        )

    def test_update_changes_content_and_etag(self, driver: Driver) -> None:
        event = make_event()
        created = self.create(driver, event)
        changed = event.replace(title="Changed", end=event.end + timedelta(minutes=30))
        (updated,) = self.apply(
            driver,
            [WriteOp("update", key=created.key, event=changed, etag=created.etag)],
            check=True,
        )
        read, etag = self.read_event(driver, created.key or "")
        assert read.content_hash() == changed.content_hash()
        assert read.title == "Changed"
        if created.etag is not None and etag is not None:
            assert etag != created.etag, "a new version must have a new etag"
            assert updated.etag in (None, etag)

    def test_update_with_stale_etag_fails(self, driver: Driver) -> None:
        if not driver.capabilities.conditional_writes:
            pytest.skip("the driver does not honour etag preconditions")
        event = make_event()
        created = self.create(driver, event)
        self.edit_behind_back(driver, created.key or "", event.replace(title="Edited elsewhere"))
        ours = event.replace(title="Ours")
        (result,) = self.apply(
            driver, [WriteOp("update", key=created.key, event=ours, etag=created.etag)]
        )
        assert isinstance(result.error, PreconditionFailed), result
        assert self.read_event(driver, created.key or "")[0].title == "Edited elsewhere"

    def test_delete(self, driver: Driver) -> None:
        created = self.create(driver, make_event())
        self.apply(driver, [WriteOp("delete", key=created.key, etag=created.etag)], check=True)
        assert created.key not in self.read(driver)

    def test_delete_missing_is_ok(self, driver: Driver) -> None:
        created = self.create(driver, make_event())
        delete = WriteOp("delete", key=created.key)
        self.apply(driver, [delete], check=True)
        (again,) = self.apply(driver, [delete])
        assert again.ok, f"deleting what is gone must succeed: {again.error}"

    def test_delete_with_stale_etag_fails(self, driver: Driver) -> None:
        if not driver.capabilities.conditional_writes:
            pytest.skip("the driver does not honour etag preconditions")
        event = make_event()
        created = self.create(driver, event)
        self.edit_behind_back(driver, created.key or "", event.replace(title="Edited elsewhere"))
        (result,) = self.apply(driver, [WriteOp("delete", key=created.key, etag=created.etag)])
        assert isinstance(result.error, PreconditionFailed), result
        assert created.key in self.read(driver)

    @pytest.mark.parametrize("text", SPECIAL_TEXTS.values(), ids=SPECIAL_TEXTS.keys())
    def test_special_characters(self, driver: Driver, text: str) -> None:
        read = self.round_trip(driver, make_event(title=text, description=text, location=text))
        assert (read.title, read.description, read.location) == (text, text, text)

    def test_all_day_event(self, driver: Driver) -> None:
        day = tomorrow()
        read = self.round_trip(driver, make_event(start=day, end=day + timedelta(days=3)))
        assert read.all_day
        assert (read.start, read.end) == (day, day + timedelta(days=3))
        assert not isinstance(read.start, datetime)

    def test_timed_event(self, driver: Driver) -> None:
        event = make_event()
        read = self.round_trip(driver, event)
        assert isinstance(read.start, datetime) and isinstance(read.end, datetime)
        assert (as_utc(read.start), as_utc(read.end)) == (as_utc(event.start), as_utc(event.end))

    def test_event_across_dst_change_keeps_its_instant(self, driver: Driver) -> None:
        # 01:30 CET -> 03:30 CEST on the last Sunday of March: one hour, not two.
        year = tomorrow().year + 1
        sunday = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)
        start = datetime.combine(sunday, time(1, 30), tzinfo=BERLIN)
        end = datetime.combine(sunday, time(3, 30), tzinfo=BERLIN)
        event = make_event(start=start, end=end, timezone="Europe/Berlin")
        read = self.round_trip(driver, event)
        assert as_utc(read.start) == as_utc(start)
        assert as_utc(read.end) - as_utc(read.start) == timedelta(hours=1)

    def test_attendees_keep_kind_and_response(self, driver: Driver) -> None:
        if not driver.capabilities.attendees:
            pytest.skip("the driver does not store attendees")
        attendees = (
            Attendee("ada@example.com", "Ada Lovelace", "individual", "accepted"),
            Attendee("bob@example.com", "Bob, Jr.", "individual", "declined", optional=True),
            Attendee("room-1@example.com", "Room 1", "room", "tentative"),
            Attendee("beamer@example.com", "Beamer", "resource", "needs-action"),
            Attendee("team@example.com", "Team", "group", "needs-action"),
        )
        organizer = Attendee("boss@example.com", "The Boss")
        read = self.round_trip(driver, make_event(organizer=organizer, attendees=attendees))
        assert read.organizer is not None and read.organizer.email == "boss@example.com"
        got = {a.email.lower(): (a.name, a.kind, a.response, a.optional) for a in read.attendees}
        assert got == {a.email: (a.name, a.kind, a.response, a.optional) for a in attendees}

    def test_recurring_event_with_exdate_and_override(self, driver: Driver) -> None:
        if not driver.capabilities.native_recurrence:
            pytest.skip("the driver does not store recurring series")
        start = datetime.combine(tomorrow(), time(10), tzinfo=BERLIN)
        week = timedelta(weeks=1)
        moved = make_event(
            title="Moved this once",
            start=start + 2 * week + timedelta(hours=2),
            end=start + 2 * week + timedelta(hours=3),
            recurrence_id=start + 2 * week,
        )
        series = make_event(
            title="Weekly",
            start=start,
            end=start + timedelta(hours=1),
            timezone="Europe/Berlin",
            rrule=("FREQ=WEEKLY;COUNT=5",),
            exdates=(start + week,),
        )
        series = series.replace(overrides=(moved.replace(uid=series.uid),))
        read = self.round_trip(driver, series)
        assert read.rrule == ("FREQ=WEEKLY;COUNT=5",)
        assert [as_utc(d) for d in read.exdates] == [as_utc(start + week)]
        (override,) = read.overrides
        assert override.recurrence_id is not None
        assert as_utc(override.recurrence_id) == as_utc(start + 2 * week)
        assert override.title == "Moved this once"
        assert as_utc(override.start) == as_utc(start + 2 * week + timedelta(hours=2))

    def test_incremental_read_returns_just_the_changes(self, driver: Driver) -> None:
        if not driver.capabilities.incremental:
            pytest.skip("the driver only reads in full")
        first, second = make_event(title="first"), make_event(title="second")
        a, b = self.create(driver, first), self.create(driver, second)
        feed = driver.read(None, fresh_window())
        list(feed)
        assert feed.cursor is not None, "a full read must end with a cursor"
        self.apply(driver, [WriteOp("update", key=a.key, event=first.replace(title="first v2"))])
        self.apply(driver, [WriteOp("delete", key=b.key)], check=True)
        c = self.create(driver, make_event(title="third"))
        feed = driver.read(feed.cursor, fresh_window())
        changes = {change.key: change for change in feed}
        assert not feed.full
        assert set(changes) == {a.key, b.key, c.key}
        assert changes[b.key or ""].deleted, "a deleted item comes back as a tombstone"
        assert (changes[a.key or ""].event or first).title == "first v2"
        assert (changes[c.key or ""].event or first).title == "third"
        assert feed.cursor is not None
        quiet = driver.read(feed.cursor, fresh_window())
        assert list(quiet) == [], "nothing changed since the last cursor"

    def test_many_ops_in_one_write(self, driver: Driver) -> None:
        count = max(2, min(driver.capabilities.batch_size, 24))
        events = [make_event(title=f"Event {i}") for i in range(count)]
        created = self.apply(driver, [WriteOp("create", event=e) for e in events], check=True)
        items = self.read(driver)
        for result, event in zip(created, events, strict=True):
            assert result.key in items
            read = items[result.key or ""].event
            assert read is not None and read.title == event.title
        half = count // 2
        ops = [
            WriteOp("update", key=r.key, event=e.replace(title=f"{e.title}!"), etag=r.etag)
            for r, e in zip(created[:half], events[:half], strict=True)
        ] + [WriteOp("delete", key=r.key, etag=r.etag) for r in created[half:]]
        self.apply(driver, ops, check=True)
        titles = {c.event.title for c in self.read(driver).values() if c.event is not None}
        assert titles == {f"Event {i}!" for i in range(half)}

    def test_uid_with_odd_characters(self, driver: Driver) -> None:
        event = make_event(uid="a/b c@x.example")
        created = self.create(driver, event)
        read, _ = self.read_event(driver, created.key or "")
        if driver.capabilities.client_ids:
            assert read.uid == "a/b c@x.example"
        changed = event.replace(title="Renamed")
        self.apply(driver, [WriteOp("update", key=created.key, event=changed)], check=True)
        assert self.read_event(driver, created.key or "")[0].title == "Renamed"
        self.apply(driver, [WriteOp("delete", key=created.key)], check=True)
        assert created.key not in self.read(driver)
