"""Event <-> Google event JSON, without a server: what goes on the wire and what comes back."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from syncfw.model import Attendee, Event
from syncfw_google.convert import event_id, from_google, instance_id, is_ours, to_google
from syncfw_google.options import GoogleOptions, OAuthAuth, ServiceAccountAuth, TokenAuth

BERLIN = ZoneInfo("Europe/Berlin")
BASE32HEX = re.compile(r"^[0-9a-v]{5,1024}$")


def _round_trip(event: Event) -> Event:
    # JSON on the way, as on the wire.
    return from_google(json.loads(json.dumps(to_google(event))))


def test_event_id_is_deterministic_base32hex() -> None:
    uid = "syncfw-0123abcd-" + "f" * 32
    assert event_id(uid) == event_id(uid)
    assert event_id(uid) != event_id(uid + "x")
    assert BASE32HEX.match(event_id(uid))
    assert BASE32HEX.match(event_id("a/b c@x.example"))


def test_instance_id_uses_utc_basic_format() -> None:
    start = datetime(2026, 3, 29, 10, tzinfo=BERLIN)
    assert instance_id("abc", start) == "abc_20260329T080000Z"
    assert instance_id("abc", date(2026, 3, 29)) == "abc_20260329"


def test_timed_event_is_written_in_its_zone_and_round_trips() -> None:
    start = datetime(2026, 6, 1, 10, tzinfo=BERLIN)
    event = Event("u1", "Timed", start, start + timedelta(hours=1), timezone="Europe/Berlin")
    body = to_google(event)
    assert body["start"] == {"dateTime": "2026-06-01T10:00:00+02:00", "timeZone": "Europe/Berlin"}
    assert body["id"] == event_id("u1") and body["iCalUID"] == "u1"
    assert body["extendedProperties"]["private"] == {"syncfw": "1", "syncfw_uid": "u1"}
    back = _round_trip(event)
    assert back.uid == "u1" and back.start == start and back.timezone == "Europe/Berlin"
    assert back.content_hash() == event.content_hash()


def test_utc_event_without_zone_name_is_written_as_utc() -> None:
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    body = to_google(Event("u", "x", start, start + timedelta(hours=1)))
    assert body["start"] == {"dateTime": "2026-06-01T08:00:00+00:00", "timeZone": "UTC"}


def test_all_day_event_uses_date() -> None:
    event = Event("u2", "Holiday", date(2026, 6, 1), date(2026, 6, 4))
    body = to_google(event)
    assert body["start"] == {"date": "2026-06-01"} and body["end"] == {"date": "2026-06-04"}
    back = _round_trip(event)
    assert (back.start, back.end, back.all_day) == (date(2026, 6, 1), date(2026, 6, 4), True)


def test_attendees_keep_response_kind_and_optional() -> None:
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    attendees = (
        Attendee("ada@example.com", "Ada", "individual", "accepted"),
        Attendee("bob@example.com", "Bob", "individual", "declined", optional=True),
        Attendee("room@example.com", "Room", "room", "tentative"),
        Attendee("beamer@example.com", "Beamer", "resource"),
        Attendee("team@example.com", "Team", "group"),
    )
    organizer = Attendee("boss@example.com", "Boss")
    event = Event("u3", "Meet", start, start + timedelta(hours=1), attendees=attendees,
                  organizer=organizer)  # fmt: skip
    body = to_google(event)
    wire = {a["email"]: a for a in body["attendees"]}
    assert wire["ada@example.com"]["responseStatus"] == "accepted"
    assert wire["beamer@example.com"]["responseStatus"] == "needsAction"
    assert wire["room@example.com"]["resource"] is True
    assert wire["bob@example.com"]["optional"] is True
    back = _round_trip(event)
    assert back.attendees == attendees
    assert back.organizer == organizer


def test_google_organizer_of_our_event_is_ignored() -> None:
    # Google names the calendar's owner as organizer; we wrote none, so none reads back.
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    body = to_google(Event("u", "x", start, start + timedelta(hours=1)))
    body["organizer"] = {"email": "owner@example.com", "self": True}
    assert from_google(body).organizer is None
    del body["extendedProperties"]
    assert from_google(body).organizer == Attendee("owner@example.com")


def test_series_lines_and_exdates_round_trip() -> None:
    start = datetime(2026, 6, 1, 10, tzinfo=BERLIN)
    event = Event(
        "u4", "Weekly", start, start + timedelta(hours=1), timezone="Europe/Berlin",
        rrule=("FREQ=WEEKLY;COUNT=5",), exdates=(start + timedelta(weeks=1),),
        rdates=(start + timedelta(days=3),),
    )  # fmt: skip
    body = to_google(event)
    assert body["recurrence"] == [
        "RRULE:FREQ=WEEKLY;COUNT=5",
        "RDATE:20260604T080000Z",
        "EXDATE:20260608T080000Z",
    ]
    back = _round_trip(event)
    assert back.rrule == event.rrule
    assert back.content_hash() == event.content_hash()


def test_exdate_with_tzid_and_all_day_exdate_parse() -> None:
    body = {
        "id": "x", "summary": "s", "start": {"dateTime": "2026-06-01T10:00:00+02:00",
        "timeZone": "Europe/Berlin"}, "end": {"dateTime": "2026-06-01T11:00:00+02:00"},
        "recurrence": [
            "RRULE:FREQ=DAILY", "EXDATE;TZID=Europe/Berlin:20260602T100000,20260603T100000"
        ],
    }  # fmt: skip
    event = from_google(body)
    assert event.exdates == (
        datetime(2026, 6, 2, 10, tzinfo=BERLIN),
        datetime(2026, 6, 3, 10, tzinfo=BERLIN),
    )
    day = {"id": "y", "start": {"date": "2026-06-01"}, "end": {"date": "2026-06-02"},
           "recurrence": ["RRULE:FREQ=DAILY", "EXDATE;VALUE=DATE:20260603"]}  # fmt: skip
    assert from_google(day).exdates == (date(2026, 6, 3),)


def test_cancelled_instances_become_exdates_without_duplicates() -> None:
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    event = Event("u", "d", start, start + timedelta(hours=1), rrule=("FREQ=DAILY",),
                  exdates=(start + timedelta(days=1),))  # fmt: skip
    back = from_google(to_google(event), exdates=[start + timedelta(days=1), start])
    assert sorted(back.exdates) == [start, start + timedelta(days=1)]  # type: ignore[type-var]


def test_status_visibility_transparency_categories_and_text() -> None:
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    event = Event(
        "u5", "Ünïcödé 🎉", start, start + timedelta(hours=1), description="a\nb \\n",
        location="Room; 1", status="tentative", transparency="transparent",
        visibility="private", categories=("appointment", "Kunde"),
    )  # fmt: skip
    body = to_google(event)
    assert (body["status"], body["transparency"], body["visibility"]) == (
        "tentative",
        "transparent",
        "private",
    )
    back = _round_trip(event)
    assert back.categories == ("appointment", "Kunde")
    assert back.content_hash() == event.content_hash()


def test_foreign_event_reads_with_ical_uid_and_is_not_ours() -> None:
    body = {"id": "abc", "iCalUID": "foreign@google.com", "summary": "Theirs",
            "start": {"date": "2026-06-01"}, "end": {"date": "2026-06-02"}}  # fmt: skip
    assert from_google(body).uid == "foreign@google.com"
    assert not is_ours(body)
    assert is_ours(to_google(Event("u", "x", date(2026, 6, 1), date(2026, 6, 2))))


def test_instance_reads_recurrence_id() -> None:
    body = {"id": "s_20260602T080000Z", "recurringEventId": "s", "summary": "moved",
            "start": {"dateTime": "2026-06-02T10:00:00Z"},
            "end": {"dateTime": "2026-06-02T11:00:00Z"},
            "originalStartTime": {"dateTime": "2026-06-02T08:00:00Z"}}  # fmt: skip
    event = from_google(body)
    assert event.recurrence_id == datetime(2026, 6, 2, 8, tzinfo=UTC)


def test_auth_forms_are_told_apart_and_secrets_hidden(tmp_path: object) -> None:
    token = GoogleOptions.model_validate({"auth": {"token": "s3cret"}})
    assert isinstance(token.auth, TokenAuth)
    assert "s3cret" not in repr(token) and "s3cret" not in str(token)
    oauth = GoogleOptions.model_validate(
        {"auth": {"client_secrets": "c.json", "token_file": "t.json"}},
        context={"base_dir": "/profiles"},
    )
    assert isinstance(oauth.auth, OAuthAuth)
    assert str(oauth.auth.token_file) == "/profiles/t.json"
    sa = GoogleOptions.model_validate({"auth": {"service_account": "sa.json", "subject": "a@b"}})
    assert isinstance(sa.auth, ServiceAccountAuth) and sa.auth.subject == "a@b"
    assert sa.batch_size == 50 and sa.calendar == "primary"
    with pytest.raises(ValueError):
        GoogleOptions.model_validate({"auth": {"token": "x", "subject": "y"}})
