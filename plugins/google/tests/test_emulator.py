"""The emulator driven by the real google-api-python-client, one documented behaviour a test."""

from __future__ import annotations

import json
from typing import Any

import httplib2
import pytest
from emulator import GoogleEmulator, build_service, new_batch
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

START = {"dateTime": "2026-03-02T09:00:00+01:00", "timeZone": "Europe/Paris"}
END = {"dateTime": "2026-03-02T10:00:00+01:00", "timeZone": "Europe/Paris"}


def ev(event_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "summary": event_id, "start": START, "end": END, **fields}


def reason(err: HttpError) -> str:
    return str(json.loads(err.content)["error"]["errors"][0]["reason"])


@pytest.fixture
def svc(google_emulator: GoogleEmulator) -> Any:
    return build_service(google_emulator)


def list_all(svc: Any, **params: Any) -> tuple[list[dict[str, Any]], str, int]:
    """Follow every page; return items, nextSyncToken and the number of pages."""
    items: list[dict[str, Any]] = []
    pages, token = 0, None
    while True:
        resp = svc.events().list(calendarId="primary", pageToken=token, **params).execute()
        pages += 1
        items += resp["items"]
        token = resp.get("nextPageToken")
        if not token:
            assert "nextSyncToken" in resp
            return items, resp["nextSyncToken"], pages
        assert "nextSyncToken" not in resp


def test_requests_arrive_under_calendar_v3_and_need_a_bearer(
    google_emulator: GoogleEmulator,
) -> None:
    svc = build_service(google_emulator)
    svc.calendarList().list().execute()
    assert google_emulator.requests[-1].path == "/calendar/v3/users/me/calendarList"
    assert "Authorization" not in google_emulator.requests[-1].headers
    bad = build_service(google_emulator, token="wrong")
    with pytest.raises(RefreshError):  # google-auth answers a 401 by trying to refresh
        bad.calendarList().list().execute()
    url = google_emulator.endpoint + "calendar/v3/calendars/primary"
    resp, content = httplib2.Http().request(url)
    assert resp.status == 401
    assert json.loads(content)["error"]["errors"][0]["reason"] == "authError"


def test_new_batch_http_request_ignores_api_endpoint(svc: Any) -> None:
    """Why the driver must build BatchHttpRequest(batch_uri=...) itself."""
    assert svc.new_batch_http_request()._batch_uri == "https://www.googleapis.com/batch/calendar/v3"


def test_calendars_insert_get_and_paged_calendar_list(
    google_emulator: GoogleEmulator, svc: Any
) -> None:
    created = [svc.calendars().insert(body={"summary": f"C{i}"}).execute() for i in range(3)]
    assert svc.calendars().get(calendarId=created[0]["id"]).execute()["summary"] == "C0"
    first = svc.calendarList().list(maxResults=2).execute()
    second = svc.calendarList().list(maxResults=2, pageToken=first["nextPageToken"]).execute()
    names = {c["summary"] for c in first["items"] + second["items"]}
    assert names == {"C0", "C1", "C2", google_emulator.user}
    assert "nextPageToken" not in second


def test_insert_with_client_id_get_and_extended_properties(svc: Any) -> None:
    body = ev("abcdef0123", iCalUID="uid-1@x", extendedProperties={"private": {"syncfw": "p1"}})
    created = svc.events().insert(calendarId="primary", body=body, sendUpdates="none").execute()
    assert created["id"] == "abcdef0123" and created["iCalUID"] == "uid-1@x"
    assert created["etag"].startswith('"') and created["etag"].endswith('"')
    got = svc.events().get(calendarId="primary", eventId="abcdef0123").execute()
    assert got["extendedProperties"]["private"] == {"syncfw": "p1"}
    svc.events().insert(calendarId="primary", body=ev("othereventid")).execute()
    mine = svc.events().list(calendarId="primary", privateExtendedProperty="syncfw=p1").execute()
    assert [e["id"] for e in mine["items"]] == ["abcdef0123"]


@pytest.mark.parametrize("bad_id", ["abc", "ABCDEFGH", "wxyz01234", "abc_def01"])
def test_insert_rejects_ids_outside_base32hex(svc: Any, bad_id: str) -> None:
    with pytest.raises(HttpError) as info:
        svc.events().insert(calendarId="primary", body=ev(bad_id)).execute()
    assert info.value.resp.status == 400


def test_insert_duplicate_id_is_409_even_when_deleted(svc: Any) -> None:
    svc.events().insert(calendarId="primary", body=ev("dup00001")).execute()
    for deleted in (False, True):
        if deleted:
            svc.events().delete(calendarId="primary", eventId="dup00001").execute()
        with pytest.raises(HttpError) as info:
            svc.events().insert(calendarId="primary", body=ev("dup00001")).execute()
        assert info.value.resp.status == 409 and reason(info.value) == "duplicate"


def test_delete_twice_is_410_and_unknown_is_404(svc: Any) -> None:
    svc.events().insert(calendarId="primary", body=ev("gone0001")).execute()
    svc.events().delete(calendarId="primary", eventId="gone0001").execute()
    with pytest.raises(HttpError) as info:
        svc.events().delete(calendarId="primary", eventId="gone0001").execute()
    assert info.value.resp.status == 410 and reason(info.value) == "deleted"
    with pytest.raises(HttpError) as info:
        svc.events().delete(calendarId="primary", eventId="never0001").execute()
    assert info.value.resp.status == 404
    got = svc.events().get(calendarId="primary", eventId="gone0001").execute()
    assert got["status"] == "cancelled"


def test_etags_if_match_412_and_if_none_match_304(
    google_emulator: GoogleEmulator, svc: Any
) -> None:
    created = svc.events().insert(calendarId="primary", body=ev("etag0001")).execute()
    google_emulator.edit("primary", "etag0001", summary="edited in Google")
    stale = svc.events().update(calendarId="primary", eventId="etag0001", body=ev("etag0001"))
    stale.headers["If-Match"] = created["etag"]
    with pytest.raises(HttpError) as info:
        stale.execute()
    assert info.value.resp.status == 412 and reason(info.value) == "conditionNotMet"
    current = svc.events().get(calendarId="primary", eventId="etag0001").execute()
    assert current["summary"] == "edited in Google" and current["etag"] != created["etag"]
    patch = svc.events().patch(calendarId="primary", eventId="etag0001", body={"summary": "ok"})
    patch.headers["If-Match"] = current["etag"]
    patched = patch.execute()
    assert patched["summary"] == "ok" and patched["etag"] != current["etag"]
    assert patched["start"] == START  # patch keeps the fields it did not name
    get = svc.events().get(calendarId="primary", eventId="etag0001")
    get.headers["If-None-Match"] = patched["etag"]
    resp, _ = svc._http.request(get.uri, headers=get.headers)
    assert resp.status == 304


def test_paging_with_short_and_empty_pages(google_emulator: GoogleEmulator, svc: Any) -> None:
    for i in range(7):
        svc.events().insert(calendarId="primary", body=ev(f"page{i:04d}")).execute()
    google_emulator.page_size = 3
    google_emulator.inject_empty_page()
    items, _, pages = list_all(svc)
    assert sorted(e["id"] for e in items) == [f"page{i:04d}" for i in range(7)]
    assert pages == 4  # one empty page, then 3 + 3 + 1
    google_emulator.page_size = None
    items, _, pages = list_all(svc, maxResults=5)
    assert len(items) == 7 and pages == 2


def test_sync_token_returns_only_changes_and_deletions(
    google_emulator: GoogleEmulator, svc: Any
) -> None:
    for name in ("keep0001", "edit0001", "drop0001"):
        svc.events().insert(calendarId="primary", body=ev(name)).execute()
    _, token, _ = list_all(svc)
    google_emulator.edit("primary", "edit0001", summary="changed")
    svc.events().delete(calendarId="primary", eventId="drop0001").execute()
    changes, token2, _ = list_all(svc, syncToken=token)
    by_id = {e["id"]: e for e in changes}
    assert set(by_id) == {"edit0001", "drop0001"}
    assert by_id["drop0001"]["status"] == "cancelled" and by_id["edit0001"]["summary"] == "changed"
    assert list_all(svc, syncToken=token2)[0] == []
    full, _, _ = list_all(svc)
    assert {e["id"] for e in full} == {"keep0001", "edit0001"}
    assert {e["id"] for e in list_all(svc, showDeleted=True)[0]} == {
        "keep0001",
        "edit0001",
        "drop0001",
    }


@pytest.mark.parametrize(
    "param",
    [
        {"timeMin": "2026-01-01T00:00:00Z"},
        {"q": "x"},
        {"orderBy": "updated"},
        {"privateExtendedProperty": "a=b"},
        {"iCalUID": "u"},
        {"updatedMin": "2026-01-01T00:00:00Z"},
    ],
)
def test_params_forbidden_with_sync_token_are_400(svc: Any, param: dict[str, str]) -> None:
    _, token, _ = list_all(svc)
    with pytest.raises(HttpError) as info:
        svc.events().list(calendarId="primary", syncToken=token, **param).execute()
    assert info.value.resp.status == 400


def test_expired_or_invalid_sync_token_is_410_full_sync_required(
    google_emulator: GoogleEmulator, svc: Any
) -> None:
    svc.events().insert(calendarId="primary", body=ev("full0001")).execute()
    _, token, _ = list_all(svc)
    google_emulator.expire_sync_tokens()
    for bad in (token, "garbage"):
        with pytest.raises(HttpError) as info:
            svc.events().list(calendarId="primary", syncToken=bad).execute()
        assert info.value.resp.status == 410 and reason(info.value) == "fullSyncRequired"
    items, fresh, _ = list_all(svc)  # the documented recovery: a full sync, then a new token
    assert [e["id"] for e in items] == ["full0001"]
    assert list_all(svc, syncToken=fresh)[0] == []


def test_time_window_filters_events(svc: Any) -> None:
    svc.events().insert(calendarId="primary", body=ev("inside01")).execute()
    later = {"dateTime": "2026-05-01T09:00:00Z"}
    svc.events().insert(calendarId="primary", body=ev("outside1", start=later, end=later)).execute()
    items, _, _ = list_all(svc, timeMin="2026-03-01T00:00:00Z", timeMax="2026-04-01T00:00:00Z")
    assert [e["id"] for e in items] == ["inside01"]


def test_single_events_instances_and_cancelled_exception(svc: Any) -> None:
    series = ev("series01", recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"])
    svc.events().insert(calendarId="primary", body=series).execute()
    window = {"timeMin": "2026-01-01T00:00:00Z", "timeMax": "2027-01-01T00:00:00Z"}
    items, _, _ = list_all(svc, singleEvents=True, orderBy="startTime", **window)
    assert [e["id"] for e in items] == [
        "series01_20260302T080000Z",
        "series01_20260309T080000Z",
        "series01_20260316T080000Z",
        "series01_20260323T080000Z",
    ]
    assert all(e["recurringEventId"] == "series01" for e in items)
    assert items[1]["originalStartTime"]["dateTime"] == "2026-03-09T09:00:00+01:00"
    insts = svc.events().instances(calendarId="primary", eventId="series01").execute()["items"]
    assert [e["id"] for e in insts] == [e["id"] for e in items]
    _, token, _ = list_all(svc)
    svc.events().delete(calendarId="primary", eventId="series01_20260309T080000Z").execute()
    changes, _, _ = list_all(svc, syncToken=token)
    assert changes == [
        {
            "kind": "calendar#event",
            "etag": changes[0]["etag"],
            "id": "series01_20260309T080000Z",
            "status": "cancelled",
            "updated": changes[0]["updated"],
            "recurringEventId": "series01",
            "originalStartTime": items[1]["originalStartTime"],
        }
    ]
    expanded, _, _ = list_all(svc, singleEvents=True, **window)
    assert len(expanded) == 3
    svc.events().patch(
        calendarId="primary", eventId="series01_20260316T080000Z", body={"summary": "moved"}
    ).execute()
    insts = svc.events().instances(calendarId="primary", eventId="series01").execute()["items"]
    assert [e.get("summary") for e in insts] == ["series01", "moved", "series01"]
    plain, _, _ = list_all(svc)  # singleEvents and showDeleted false: the cancelled instance shows
    assert {(e["id"], e["status"]) for e in plain} == {
        ("series01", "confirmed"),
        ("series01_20260309T080000Z", "cancelled"),
        ("series01_20260316T080000Z", "confirmed"),
    }


def test_attendees_organizer_and_send_updates(google_emulator: GoogleEmulator, svc: Any) -> None:
    body = ev(
        "meet0001",
        attendees=[{"email": "a@x.org"}, {"email": "b@x.org", "responseStatus": "accepted"}],
    )
    created = svc.events().insert(calendarId="primary", body=body, sendUpdates="all").execute()
    assert [a["responseStatus"] for a in created["attendees"]] == ["needsAction", "accepted"]
    assert created["organizer"]["email"] == google_emulator.user
    svc.events().patch(calendarId="primary", eventId="meet0001", body={"summary": "x"}).execute()
    assert google_emulator.send_updates == [
        ("insert", "meet0001", "all"),
        ("patch", "meet0001", None),
    ]


def test_batch_through_the_client_library(google_emulator: GoogleEmulator, svc: Any) -> None:
    svc.events().insert(calendarId="primary", body=ev("present1")).execute()
    google_emulator.reset_log()
    results: dict[str, Any] = {}

    def callback(request_id: str, response: Any, exception: HttpError | None) -> None:
        results[request_id] = exception.resp.status if exception else (response or {}).get("id")

    batch = new_batch(google_emulator, callback)
    for i in range(3):
        batch.add(
            svc.events().insert(calendarId="primary", body=ev(f"batch{i:03d}")), request_id=str(i)
        )
    batch.add(svc.events().insert(calendarId="primary", body=ev("present1")), request_id="dup")
    batch.add(svc.events().delete(calendarId="primary", eventId="present1"), request_id="del")
    batch.execute()
    assert results == {"0": "batch000", "1": "batch001", "2": "batch002", "dup": 409, "del": None}
    assert google_emulator.count(path_contains="/batch/calendar/v3") == 1
    assert google_emulator.count(in_batch=True) == 5 and len(google_emulator.requests) == 6
    assert google_emulator.count("POST", "/calendar/v3/calendars/", in_batch=True) == 4


def test_batch_over_the_limit_is_400(google_emulator: GoogleEmulator, svc: Any) -> None:
    google_emulator.batch_limit = 2
    batch = new_batch(google_emulator)
    for i in range(3):
        batch.add(svc.events().insert(calendarId="primary", body=ev(f"over{i:04d}")))
    with pytest.raises(HttpError) as info:
        batch.execute()
    assert info.value.resp.status == 400
    assert google_emulator.calendar("primary").events == {}


def test_injected_429_with_retry_after_then_success(
    google_emulator: GoogleEmulator, svc: Any
) -> None:
    google_emulator.inject(429, retry_after=2, count=2, path="/events")
    for _ in range(2):
        with pytest.raises(HttpError) as info:
            svc.events().list(calendarId="primary").execute()
        assert info.value.resp.status == 429 and info.value.resp["retry-after"] == "2"
        assert reason(info.value) == "rateLimitExceeded"
    svc.calendarList().list().execute()  # a path the fault does not match
    assert svc.events().list(calendarId="primary").execute()["items"] == []


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (403, "rateLimitExceeded"),
        (403, "userRateLimitExceeded"),
        (403, "quotaExceeded"),
        (403, "dailyLimitExceeded"),
        (500, "backendError"),
        (503, "backendError"),
    ],
)
def test_injected_errors_carry_google_reasons(
    google_emulator: GoogleEmulator, svc: Any, status: int, why: str
) -> None:
    google_emulator.inject(status, reason=None if status >= 500 else why)
    with pytest.raises(HttpError) as info:
        svc.calendarList().list().execute()
    assert info.value.resp.status == status and reason(info.value) == why


def test_injected_fault_inside_a_batch(google_emulator: GoogleEmulator, svc: Any) -> None:
    google_emulator.inject(503, in_batch=True, method="POST")
    statuses: list[int | None] = []
    batch = new_batch(
        google_emulator, lambda _id, _r, exc: statuses.append(exc.resp.status if exc else None)
    )
    batch.add(svc.events().insert(calendarId="primary", body=ev("inbatch1")))
    batch.add(svc.events().insert(calendarId="primary", body=ev("inbatch2")))
    batch.execute()
    assert statuses == [503, None]
    assert list(google_emulator.calendar("primary").events) == ["inbatch2"]


def test_dropped_connection(google_emulator: GoogleEmulator) -> None:
    google_emulator.inject(drop=True, count=5)
    http = httplib2.Http()
    with pytest.raises((httplib2.HttpLib2Error, ConnectionError, OSError)):
        http.request(
            google_emulator.endpoint + "calendar/v3/users/me/calendarList",
            headers={"Authorization": "Bearer test-token"},
        )
    assert google_emulator.count() >= 1


def test_user_edit_and_delete_are_seen_by_sync(google_emulator: GoogleEmulator, svc: Any) -> None:
    svc.events().insert(calendarId="primary", body=ev("user0001")).execute()
    _, token, _ = list_all(svc)
    google_emulator.delete_event("primary", "user0001")
    changes, _, _ = list_all(svc, syncToken=token)
    assert [(e["id"], e["status"]) for e in changes] == [("user0001", "cancelled")]
    assert google_emulator.calendar("primary").events["user0001"]["status"] == "cancelled"
