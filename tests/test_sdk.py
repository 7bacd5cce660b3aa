"""The SDK's helpers for small drivers: snapshot cursors, Feed.of, writes with preconditions,
times and attendees as text, the error constructors, the exported types, py.typed."""

from __future__ import annotations

import base64
import tomllib
import typing
import zlib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import syncfw.sdk as sdk
from syncfw import model
from syncfw.errors import CursorExpired, DriverError, NotFound, PreconditionFailed
from syncfw.model import Attendee, Change, Event, WriteOp
from syncfw.sdk import (
    Driver,
    DriverContext,
    Feed,
    Snapshot,
    apply_writes,
    attendees_from_text,
    attendees_to_text,
    precondition,
    settle_snapshot,
    snapshot_feed,
    when_from_text,
    when_to_text,
    zone_name,
)
from syncfw.testing import make_event

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")


def listing(**etags: str | None) -> list[Change]:
    """A full listing: an event per key with that etag (None: the item cannot be read)."""
    return [
        Change(key, make_event(uid=key), etag)
        if etag is not None
        else Change(key, etag="x", error="broken")
        for key, etag in etags.items()
    ]


def read(feed: Feed) -> tuple[list[tuple[str, str]], str | None]:
    """What a feed reports, as (key, what) pairs, and its cursor."""
    shown = [(c.key, "gone" if c.deleted else c.error or c.etag or "") for c in feed]
    return shown, feed.cursor


# -- the snapshot cursor -------------------------------------------------------------


def test_without_a_cursor_the_feed_is_a_full_read_ending_with_a_snapshot() -> None:
    feed = snapshot_feed(listing(a="1", b="2"), None)
    shown, cursor = read(feed)
    assert feed.full and shown == [("a", "1"), ("b", "2")]
    assert cursor is not None and Snapshot.parse(cursor).etags == {"a": "1", "b": "2"}


def test_with_a_cursor_only_created_updated_and_deleted_items_come() -> None:
    cursor = snapshot_feed(listing(a="1", b="2", c="3"), None)
    list(cursor)
    assert cursor.cursor is not None
    feed = snapshot_feed(listing(a="1", b="2b", d="4"), cursor.cursor)
    shown, after = read(feed)
    assert not feed.full
    assert shown == [("b", "2b"), ("d", "4"), ("c", "gone")]
    quiet = snapshot_feed(listing(a="1", b="2b", d="4"), after)
    assert read(quiet)[0] == [] and not quiet.full


def test_an_unreadable_item_comes_again_until_fixed_and_its_deletion_too() -> None:
    first = snapshot_feed(listing(a="1", bad=None), None)
    list(first)
    assert first.cursor is not None and Snapshot.parse(first.cursor).etags["bad"] is None
    again = snapshot_feed(listing(a="1", bad=None), first.cursor)
    assert read(again)[0] == [("bad", "broken")]
    assert again.cursor is not None
    fixed = snapshot_feed(listing(a="1", bad="2"), again.cursor)
    assert read(fixed)[0] == [("bad", "2")]
    assert again.cursor is not None
    gone = snapshot_feed(listing(a="1"), again.cursor)
    assert read(gone)[0] == [("bad", "gone")]


def test_an_item_without_etag_is_always_reported() -> None:
    items = [Change("a", make_event(uid="a"))]
    first = snapshot_feed(items, None)
    list(first)
    assert first.cursor is not None
    assert [c.key for c in snapshot_feed(items, first.cursor)] == ["a"]


@pytest.mark.parametrize(
    "cursor",
    ["", "42", "snapshot1:", "snapshot1:!!!", "snapshot1:" + base64.b64encode(b"no zlib").decode()],
)
def test_a_cursor_that_is_no_snapshot_expires_before_anything_is_read(cursor: str) -> None:
    def never() -> typing.Iterator[Change]:
        raise AssertionError("listed although the cursor is bad")
        yield  # pragma: no cover

    with pytest.raises(CursorExpired, match="calendar 'sheet'"):
        snapshot_feed(never(), cursor, calendar="sheet")


def test_a_snapshot_of_something_else_than_etags_expires() -> None:
    packed = base64.urlsafe_b64encode(zlib.compress(b'{"a": 1}')).decode()
    with pytest.raises(CursorExpired, match="not a map"):
        Snapshot.parse("snapshot1:" + packed)


def test_keys_and_etags_with_any_characters_survive_the_cursor() -> None:
    etags: dict[str, str | None] = {"a/b c@x": "é\n\"'", "日本": None, "": "0"}
    assert Snapshot.parse(Snapshot(etags).cursor()).etags == etags


def test_settle_moves_past_our_own_writes_only() -> None:
    before = snapshot_feed(listing(a="1", b="2", c="3"), None)
    list(before)
    cursor = before.cursor
    assert cursor is not None
    now = listing(a="1b", c="3", d="4")  # a updated, b deleted, d created
    ours: dict[str, str | None] = {"a": "1b", "b": None, "d": "4"}
    settled = settle_snapshot(cursor, now, ours)
    assert settled is not None and Snapshot.parse(settled).etags == {"a": "1b", "c": "3", "d": "4"}
    assert settle_snapshot(cursor, now, {"a": "1b", "b": None}) is None, "d is someone else's"
    assert settle_snapshot(cursor, now, {**ours, "a": "other"}) is None, "a was edited again"
    assert settle_snapshot(cursor, listing(a="1b", c="3", d="4", bad=None), ours) is None
    assert settle_snapshot("not a snapshot", now, ours) is None


# -- Feed.of -------------------------------------------------------------------------


def test_feed_of_a_list_ends_with_its_cursor() -> None:
    feed = Feed.of([Change("a"), Change("b")], full=False, cursor="next")
    assert feed.cursor is None, "a cursor is only valid once the feed was read"
    assert [c.key for c in feed] == ["a", "b"] and feed.cursor == "next" and not feed.full
    with pytest.raises(RuntimeError):
        list(feed)
    assert Feed.of([], full=True).cursor is None


# -- writes with preconditions -----------------------------------------------------


def op(action: typing.Literal["create", "update", "delete"], **fields: typing.Any) -> WriteOp:
    return WriteOp(action, **fields)


@pytest.mark.parametrize(
    ("write", "current", "expected"),
    [
        (op("create", event=make_event(uid="k")), None, "go"),
        (op("create", event=make_event(uid="k")), "1", PreconditionFailed),
        (op("update", key="k", event=make_event(uid="k")), None, NotFound),
        (op("update", key="k", event=make_event(uid="k")), "1", "go"),
        (op("update", key="k", event=make_event(uid="k"), etag="1"), "1", "go"),
        (op("update", key="k", event=make_event(uid="k"), etag="0"), "1", PreconditionFailed),
        (op("delete", key="k"), None, "done"),
        (op("delete", key="k", etag="1"), None, "done"),
        (op("delete", key="k", etag="0"), "1", PreconditionFailed),
        (op("delete", key="k"), "1", "go"),
    ],
)
def test_precondition(write: WriteOp, current: str | None, expected: object) -> None:
    result = precondition(write, "k", current, calendar="sheet")
    if expected == "go":
        assert result is None
    elif expected == "done":
        assert result is not None and result.ok and result.key == "k"
    else:
        assert result is not None and type(result.error) is expected
        assert result.error.calendar == "sheet" and result.key == "k"  # type: ignore[union-attr]


def encode(event: Event) -> str:
    if event.title == "bad":
        raise ValueError("cannot hold this")
    return f"{event.uid}:{event.title}"


def test_apply_writes_runs_each_op_in_order_on_the_items() -> None:
    items = {"a": "a:one", "b": "b:two"}
    ops = [
        op("create", event=make_event(uid="c", title="three")),
        op("create", event=make_event(uid="a", title="again")),
        op("update", key="a", event=make_event(uid="other", title="uno"), etag="A:ONE"),
        op("update", key="b", event=make_event(uid="b", title="zwei"), etag="stale"),
        op("update", key="x", event=make_event(uid="x")),
        op("update", key="b", event=make_event(uid="b", title="bad")),
        op("update", key="b"),
        op("delete", key="c", etag="C:THREE"),
        op("delete", key="c"),
    ]
    results = apply_writes(ops, items, encode=encode, etag=str.upper, calendar="sheet")
    assert [r.op for r in results] == ops
    shown = [(r.key, r.etag, type(r.error).__name__ if r.error else None) for r in results]
    assert shown == [
        ("c", "C:THREE", None),
        ("a", None, "PreconditionFailed"),
        ("a", "A:UNO", None),  # the update keeps its key as the uid
        ("b", None, "PreconditionFailed"),
        ("x", None, "NotFound"),
        ("b", None, "DriverError"),
        ("b", None, "DriverError"),
        ("c", None, None),
        ("c", None, None),
    ]
    assert "cannot hold this" in str(results[5].error) and "'sheet'" in str(results[5].error)
    assert items == {"a": "a:uno", "b": "b:two"}


# -- times and attendees as text -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "2026-03-01T09:30:00Z"),
        (datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("UTC")), "2026-03-01T09:30:00Z"),
        (datetime(2026, 3, 1, 9, 30, tzinfo=BERLIN), "2026-03-01T09:30:00+01:00[Europe/Berlin]"),
        (datetime(2026, 7, 1, 9, 30, tzinfo=BERLIN), "2026-07-01T09:30:00+02:00[Europe/Berlin]"),
        (
            datetime(2026, 3, 1, 9, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
            "2026-03-01T09:30:00.000005-05:00",
        ),
    ],
)
def test_times_as_text_round_trip(value: date | datetime, text: str) -> None:
    assert when_to_text(value) == text
    back = when_from_text(text)
    assert back == value and type(back) is type(value)
    if isinstance(value, datetime):
        assert isinstance(back, datetime) and back.utcoffset() == value.utcoffset()
        assert zone_name(back) == zone_name(value)


def test_a_zone_name_wins_over_a_wrong_offset_but_keeps_the_instant() -> None:
    read = when_from_text("2026-07-01T09:30:00+01:00[Europe/Berlin]")
    assert read == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert isinstance(read, datetime) and zone_name(read) == "Europe/Berlin"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03-01T09:30:00", "no UTC offset"),
        ("2026-03-01 09:30", "no UTC offset"),
        ("2026-03-01T09:30:00+01:00[Mars/Olympus]", "unknown time zone"),
        ("2026-03-01[Europe/Berlin]", "no UTC offset"),  # a date has no zone
        ("yesterday", "Invalid isoformat"),
        ("", "Invalid isoformat"),
    ],
)
def test_times_that_cannot_be_read(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        when_from_text(text)


def test_a_naive_time_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        when_to_text(datetime(2026, 3, 1, 9, 30))


def test_zone_name() -> None:
    assert zone_name(datetime(2026, 3, 1, tzinfo=BERLIN)) == "Europe/Berlin"
    assert zone_name(datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC"))) is None
    assert zone_name(datetime(2026, 3, 1, tzinfo=UTC)) is None
    assert zone_name(date(2026, 3, 1)) is None


ATTENDEES = (
    Attendee("ada@example.com", "Ada Lovelace", "individual", "accepted"),
    Attendee("bob@example.com", "Bob, Jr.", "individual", "declined", optional=True),
    Attendee("room-1@example.com", "Room 1", "room", "tentative"),
    Attendee("beamer@example.com", "", "resource"),
    Attendee("odd@example.com", 'Odd; "name" (with) <all> \\ of it '),
    Attendee("team@example.com", "Team", "group"),
)


def test_attendees_as_text_round_trip() -> None:
    organizer = Attendee("boss@example.com", "The Boss")
    text = attendees_to_text(ATTENDEES, organizer)
    assert text.startswith("The Boss <boss@example.com> (organizer); Ada Lovelace")
    assert "Bob, Jr. <bob@example.com> (declined, optional)" in text
    assert "<beamer@example.com> (resource)" in text
    assert attendees_from_text(text) == (ATTENDEES, organizer)
    assert attendees_from_text(attendees_to_text(ATTENDEES)) == (ATTENDEES, None)
    assert attendees_from_text("") == ((), None) == attendees_from_text("  ")


def test_attendees_typed_by_hand() -> None:
    text = "ada@example.com;  Bob <bob@example.com>(ACCEPTED , Optional) ;carol@x.org (room);"
    attendees, organizer = attendees_from_text(text)
    assert organizer is None
    assert attendees == (
        Attendee("ada@example.com"),
        Attendee("bob@example.com", "Bob", response="accepted", optional=True),
        Attendee("carol@x.org", kind="room"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Ada Lovelace", "cannot read the attendees"),
        ("Ada <ada@example.com> (chair)", "unknown mark 'chair'"),
        ("<>", "without address"),
        ("a <a@x> (organizer); b <b@x> (organizer)", "two organizers"),
        ('"unterminated <a@x>', "cannot read the attendees"),
    ],
)
def test_attendees_that_cannot_be_read(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        attendees_from_text(text)


def test_an_address_text_cannot_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot write the address"):
        attendees_to_text([Attendee("a>b@example.com")])


# -- errors of the driver's calendar ------------------------------------------------


def test_the_error_constructors_name_the_calendar() -> None:
    driver = Driver(None, DriverContext("sheet"))
    made = [
        driver.error("the file is locked"),
        driver.not_found("k"),
        driver.precondition_failed("k"),
        driver.cursor_expired("too old"),
    ]
    assert [type(e) for e in made] == [DriverError, NotFound, PreconditionFailed, CursorExpired]
    assert all(e.calendar == "sheet" and str(e).startswith("calendar 'sheet': ") for e in made)
    assert str(made[0]) == "calendar 'sheet': the file is locked"
    assert made[1].key == made[2].key == "k"  # type: ignore[attr-defined]


# -- what the SDK exports, and what the distributions ship -----------------------------


def test_the_sdk_exports_the_literal_types_of_the_model() -> None:
    for name in ("Status", "Transparency", "Visibility", "Response", "AttendeeKind"):
        assert name in sdk.__all__ and name in model.__all__
        assert getattr(sdk, name) is getattr(model, name)
        assert typing.get_origin(getattr(sdk, name)) is typing.Literal
    assert typing.get_args(sdk.Status) == ("confirmed", "tentative", "cancelled")


def test_every_name_the_sdk_exports_exists() -> None:
    assert [name for name in sdk.__all__ if not hasattr(sdk, name)] == []


def distributions() -> list[Path]:
    found = [ROOT, *sorted(ROOT.glob("plugins/*")), *sorted(ROOT.glob("examples/plugins/*"))]
    return [d for d in found if (d / "pyproject.toml").is_file()]


@pytest.mark.parametrize("dist", distributions(), ids=lambda d: str(d.relative_to(ROOT)) or ".")
def test_every_distribution_ships_py_typed(dist: Path) -> None:
    config = tomllib.loads((dist / "pyproject.toml").read_text())
    packages = config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert packages, "hatch builds the package folder, with every file in it"
    for package in packages:
        assert (dist / package / "py.typed").is_file(), f"{dist.name}: {package}/py.typed"
