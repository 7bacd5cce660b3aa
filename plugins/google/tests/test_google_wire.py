"""The driver against the emulator: sync tokens, preconditions, adoption, faults, batching."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from _google_support import google_driver
from emulator import GoogleEmulator

from syncfw.errors import AuthError, CursorExpired, PreconditionFailed, QuotaExceeded
from syncfw.sdk.driver import WriteOp
from syncfw.testing import fresh_window, make_event
from syncfw_google import GoogleDriver
from syncfw_google.convert import event_id


@pytest.fixture
def driver(google_emulator: GoogleEmulator) -> Iterator[GoogleDriver]:
    calendar = google_emulator.add_calendar("Wire")
    with google_driver(google_emulator, calendar.id) as driver:
        yield driver


def _create(driver: GoogleDriver, count: int = 1, **fields: object) -> list[tuple[str, str]]:
    ops = [WriteOp("create", event=make_event(title=f"E{i}", **fields)) for i in range(count)]
    results = list(driver.write(ops))
    assert all(r.ok for r in results), [r.error for r in results]
    return [(r.key or "", r.etag or "") for r in results]


def _live(emulator: GoogleEmulator, driver: GoogleDriver) -> dict[str, dict[str, object]]:
    events = emulator.calendar(driver.calendar_id).events
    return {k: e for k, e in events.items() if e.get("status") != "cancelled"}


def test_every_page_is_read_and_the_token_comes_from_the_last() -> None:
    with GoogleEmulator(page_size=2) as emulator:
        calendar = emulator.add_calendar("Paged")
        with google_driver(emulator, calendar.id) as driver:
            _create(driver, 5)
            emulator.inject_empty_page(1)
            emulator.reset_log()
            feed = driver.read(None, fresh_window())
            assert len(list(feed)) == 5 and feed.cursor
            lists = [r for r in emulator.requests if r.method == "GET"]
            assert len(lists) >= 4  # 3 pages of 2 + the injected empty page
            first = lists[0].query
            assert first["showDeleted"] == ["false"] and first["singleEvents"] == ["false"]
            emulator.reset_log()
            assert list(driver.read(feed.cursor, fresh_window())) == []
            (quiet,) = emulator.requests  # a no-op incremental read: one request
            assert "syncToken" in quiet.query
            assert not {"timeMin", "timeMax", "showDeleted", "orderBy"} & set(quiet.query)


def test_expired_sync_token_raises_cursor_expired_then_full_read_works(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    (key, _), (gone, _) = _create(driver, 2)
    feed = driver.read(None, fresh_window())
    list(feed)
    google_emulator.delete_event(driver.calendar_id, gone)
    google_emulator.expire_sync_tokens()
    with pytest.raises(CursorExpired):
        driver.read(feed.cursor, fresh_window())
    full = driver.read(None, fresh_window())
    assert {c.key for c in full if c.event} == {key}
    assert full.full and full.cursor


def test_deleted_event_is_a_tombstone_in_an_incremental_read(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    ((key, _),) = _create(driver)
    feed = driver.read(None, fresh_window())
    list(feed)
    google_emulator.delete_event(driver.calendar_id, key)
    (change,) = list(driver.read(feed.cursor, fresh_window()))
    assert change.key == key and change.deleted


def test_cancelled_instance_of_a_live_series_is_an_exdate(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    event = make_event(rrule=("FREQ=DAILY;COUNT=5",))
    ((key, _),) = list((r.key, r.etag) for r in driver.write([WriteOp("create", event=event)]))
    assert key is not None
    feed = driver.read(None, fresh_window())
    list(feed)
    second = event.start + timedelta(days=1)
    google_emulator.delete_event(driver.calendar_id, f"{key}_{second:%Y%m%dT%H%M%SZ}")
    changes = list(driver.read(feed.cursor, fresh_window()))
    assert [c.key for c in changes] == [key], "the series changes, nothing is deleted"
    series = changes[0].event
    assert series is not None and list(series.exdates) == [second]


def test_stale_etag_update_is_precondition_failed_and_sends_if_match(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    event = make_event()
    ((key, etag),) = _create(driver)
    google_emulator.edit(driver.calendar_id, key, summary="Edited in Google")
    (result,) = driver.write([WriteOp("update", key=key, event=event, etag=etag)])
    assert isinstance(result.error, PreconditionFailed)
    assert google_emulator.requests[-1].headers.get("if-match") == etag
    assert _live(google_emulator, driver)[key]["summary"] == "Edited in Google"


def test_retried_create_adopts_our_event_instead_of_duplicating(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    op = WriteOp("create", event=make_event(title="Once"))
    (first,) = driver.write([op])
    (again,) = driver.write([op.__class__("create", event=op.event.replace(title="Twice"))])  # type: ignore[union-attr]
    assert again.ok and again.key == first.key == event_id(op.event.uid)  # type: ignore[union-attr]
    live = _live(google_emulator, driver)
    assert len(live) == 1 and live[first.key or ""]["summary"] == "Twice"
    assert again.etag == live[first.key or ""]["etag"]


def test_create_revives_our_cancelled_event(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    op = WriteOp("create", event=make_event())
    (first,) = driver.write([op])
    google_emulator.delete_event(driver.calendar_id, first.key or "")
    (again,) = driver.write([op])
    assert again.ok
    assert google_emulator.calendar(driver.calendar_id).events[first.key or ""]["status"] == (
        "confirmed"
    )


def test_create_never_adopts_an_event_syncfw_did_not_write(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    op = WriteOp("create", event=make_event(title="Ours"))
    (first,) = driver.write([op])
    google_emulator.edit(driver.calendar_id, first.key or "", extendedProperties={}, summary="Hers")
    (again,) = driver.write([op])
    assert again.error is not None and "did not write" in str(again.error)
    assert _live(google_emulator, driver)[first.key or ""]["summary"] == "Hers"


def test_429_with_retry_after_is_waited_out(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    _create(driver)
    google_emulator.inject(429, retry_after=0.05, path="/events", method="GET")
    assert len(list(driver.read(None, fresh_window()))) == 1
    assert driver.retrier.slept and driver.retrier.slept[0] >= 0.05


def test_transient_faults_inside_a_batch_retry_only_those_parts(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    google_emulator.inject(503, in_batch=True, count=2)
    google_emulator.inject(403, reason="userRateLimitExceeded", in_batch=True, count=1)
    keys = _create(driver, 6)
    assert len(_live(google_emulator, driver)) == 6 == len({k for k, _ in keys})
    assert google_emulator.count("POST", "batch", in_batch=False) == 2
    assert google_emulator.count("POST", "/events", in_batch=True) == 9


def test_5xx_burst_and_a_dropped_connection_on_reads(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    _create(driver, 2)
    google_emulator.inject(500, count=2, method="GET")
    google_emulator.inject(drop=True, count=1, method="GET")
    assert len(list(driver.read(None, fresh_window()))) == 2


def test_quota_exceeded_stops_the_run(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    google_emulator.inject(403, reason="quotaExceeded", method="GET")
    with pytest.raises(QuotaExceeded, match="next run"):
        driver.read(None, fresh_window())
    done = _create(driver)  # later, the quota is back
    google_emulator.inject(403, reason="dailyLimitExceeded", in_batch=True, count=1)
    ops = [WriteOp("create", event=make_event()) for _ in range(3)]
    results = []
    with pytest.raises(QuotaExceeded):
        for result in driver.write(ops):
            results.append(result)
    assert results == [], "the first op failed, so no result can be reported before it"
    assert done


def test_unauthorised_token_says_what_to_run(google_emulator: GoogleEmulator) -> None:
    calendar = google_emulator.add_calendar("Auth")
    driver = google_driver(google_emulator, calendar.id, auth={"token": "wrong-s3cret"})
    with pytest.raises(AuthError) as caught:
        driver.read(None, fresh_window())
    assert "syncfw auth google" in str(caught.value)
    assert "wrong-s3cret" not in str(caught.value) + repr(driver)


def test_writes_are_batched(driver: GoogleDriver, google_emulator: GoogleEmulator) -> None:
    google_emulator.reset_log()
    keys = _create(driver, 120)
    assert len(keys) == 120
    assert google_emulator.count("POST", "batch", in_batch=False) == 3  # 50 + 50 + 20
    assert google_emulator.count(in_batch=False) == 3


def test_send_updates_follows_notify(driver: GoogleDriver, google_emulator: GoogleEmulator) -> None:
    for notify in ("none", "all", "external"):
        op = WriteOp("create", event=make_event(), notify=notify)  # type: ignore[arg-type]
        assert all(r.ok for r in driver.write([op]))
    assert [value for _, _, value in google_emulator.send_updates] == [
        "none",
        "all",
        "externalOnly",
    ]


def test_calendar_by_name_is_found_or_created(google_emulator: GoogleEmulator) -> None:
    existing = google_emulator.add_calendar("Team")
    assert google_driver(google_emulator, "Team").calendar_id == existing.id
    created = google_driver(google_emulator, "Company master")
    new_id = created.calendar_id
    assert google_emulator.calendar(new_id).summary == "Company master"
    assert google_driver(google_emulator, "Company master").calendar_id == new_id


def test_incremental_read_of_a_series_keeps_every_override(
    driver: GoogleDriver, google_emulator: GoogleEmulator
) -> None:
    event = make_event(rrule=("FREQ=DAILY;COUNT=5",))
    moved = [
        make_event(
            uid=event.uid,
            title=f"moved {n}",
            start=event.start + timedelta(days=n, hours=2),
            end=event.end + timedelta(days=n, hours=2),
            recurrence_id=event.start + timedelta(days=n),
        )
        for n in (1, 2)
    ]
    (created,) = driver.write([WriteOp("create", event=event.replace(overrides=tuple(moved)))])
    assert created.ok
    feed = driver.read(None, fresh_window())
    (full,) = list(feed)
    assert full.event is not None and len(full.event.overrides) == 2
    third = f"{created.key}_{event.start + timedelta(days=3):%Y%m%dT%H%M%SZ}"
    google_emulator.delete_event(driver.calendar_id, third)  # one more exception, in Google
    (change,) = list(driver.read(feed.cursor, fresh_window()))
    assert change.event is not None
    assert sorted(o.title for o in change.event.overrides) == ["moved 1", "moved 2"]
    assert list(change.event.exdates) == [event.start + timedelta(days=3)]
