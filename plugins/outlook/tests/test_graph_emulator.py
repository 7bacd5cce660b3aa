"""The Graph emulator driven over real HTTP with requests, one documented behaviour a test."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from graph_emulator import GraphEmulator

ZONE = "W. Europe Standard Time"
PROP = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name syncfw_uid"
WINDOW = {"startDateTime": "2026-03-01T00:00:00Z", "endDateTime": "2026-05-01T00:00:00Z"}
EXPAND = f"singleValueExtendedProperties($filter=id eq '{PROP}')"


class Client:
    """requests against {endpoint}v1.0 with a bearer token; absolute URLs pass through."""

    def __init__(self, emu: GraphEmulator, token: str | None = "test-token") -> None:
        self.base = emu.endpoint + "v1.0"
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kw: Any) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        return self.session.request(method, url, timeout=10, **kw)


@pytest.fixture
def api(graph_emulator: GraphEmulator) -> Client:
    return Client(graph_emulator)


def ev(subject: str = "meeting", day: str = "2026-03-02", **fields: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{day}T09:00:00", "timeZone": ZONE},
        "end": {"dateTime": f"{day}T10:00:00", "timeZone": ZONE},
        **fields,
    }


def weekly(count: int = 4, **fields: Any) -> dict[str, Any]:
    rec = {
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": count},
    }
    return ev("series", recurrence=rec, **fields)


def code(resp: requests.Response) -> str:
    return str(resp.json()["error"]["code"])


def delta_round(api: Client, first: str, **kw: Any) -> tuple[list[dict[str, Any]], str, int]:
    """Follow nextLinks to the deltaLink; return items, the deltaLink and the page count."""
    items: list[dict[str, Any]] = []
    url, pages = first, 0
    while True:
        resp = api("GET", url, **kw)
        assert resp.status_code == 200, resp.text
        body, pages = resp.json(), pages + 1
        items += body["value"]
        assert ("@odata.nextLink" in body) != ("@odata.deltaLink" in body)
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"], pages
        assert "$skiptoken=" in body["@odata.nextLink"]
        url, kw = body["@odata.nextLink"], {k: v for k, v in kw.items() if k != "params"}


def start_round(api: Client, **kw: Any) -> tuple[list[dict[str, Any]], str, int]:
    return delta_round(api, "/me/calendarView/delta", params=WINDOW, **kw)


# ----------------------------------------------------------------- auth, mailboxes, calendars
def test_bearer_token_required_and_never_logged(graph_emulator: GraphEmulator) -> None:
    for token in (None, "wrong"):
        resp = Client(graph_emulator, token)("GET", "/me/calendars")
        assert resp.status_code == 401 and code(resp) == "InvalidAuthenticationToken"
    assert Client(graph_emulator)("GET", "/me/calendars").status_code == 200
    assert all("Authorization" not in r.headers for r in graph_emulator.requests)
    assert graph_emulator.requests[-1].path == "/v1.0/me/calendars"
    graph_emulator.token = None  # any bearer is accepted
    assert Client(graph_emulator, "anything")("GET", "/me/calendar").status_code == 200


def test_mailboxes_by_me_upn_encoded_at_and_id(graph_emulator: GraphEmulator, api: Client) -> None:
    me = api("GET", "/me/calendar").json()
    assert me["name"] == "Calendar" and me["isDefaultCalendar"] and me["canEdit"]
    assert me["owner"]["address"] == "user@example.com" and me["changeKey"]
    other = api("GET", "/users/someone%40example.com/calendar").json()
    assert other["owner"]["address"] == "someone@example.com" and other["id"] != me["id"]
    mailbox_id = graph_emulator._mailbox("someone@example.com").id
    assert api("GET", f"/users/{mailbox_id}/calendar").json()["id"] == other["id"]
    assert api("GET", "/users/user@example.com/calendars").json()["value"][0]["id"] == me["id"]
    resp = api("GET", "/users/nobody@example.com/calendars")
    assert resp.status_code == 404 and code(resp) == "ResourceNotFound"


def test_calendars_create_409_filter_and_paging(graph_emulator: GraphEmulator, api: Client) -> None:
    created = api("POST", "/me/calendars", json={"name": "Work"})
    assert created.status_code == 201 and created.json()["name"] == "Work"
    dup = api("POST", "/me/calendars", json={"name": "work"})
    assert dup.status_code == 409 and code(dup) == "ErrorFolderExists"
    graph_emulator.add_calendar("Home")
    found = api("GET", "/me/calendars", params={"$filter": "name eq 'Work'"}).json()["value"]
    assert [c["id"] for c in found] == [created.json()["id"]]
    page = api("GET", "/me/calendars", params={"$top": "2"}).json()
    rest = api("GET", page["@odata.nextLink"]).json()
    names = [c["name"] for c in page["value"] + rest["value"]]
    assert names == ["Calendar", "Work", "Home"] and "@odata.nextLink" not in rest
    assert api("GET", f"/me/calendars/{created.json()['id']}").json()["name"] == "Work"
    assert graph_emulator.calendar("work").id == created.json()["id"]
    with pytest.raises(KeyError):
        graph_emulator.calendar("nope")


# ----------------------------------------------------------------- events CRUD
def test_create_sets_server_fields_and_defaults(graph_emulator: GraphEmulator, api: Client) -> None:
    body = ev(attendees=[{"emailAddress": {"address": "a@x.org", "name": "A"}, "type": "optional"}])
    resp = api("POST", "/me/events", json=body)
    assert resp.status_code == 201
    event = resp.json()
    assert re.fullmatch(r"AAMk[A-Za-z0-9_=-]{40,}", event["id"])
    assert event["@odata.etag"] == f'W/"{event["changeKey"]}"'
    assert event["type"] == "singleInstance" and event["seriesMasterId"] is None
    assert event["createdDateTime"].endswith("Z") and event["lastModifiedDateTime"]
    assert event["iCalUId"].startswith("040000008200E00074C5B7101A82E008")
    assert event["organizer"]["emailAddress"]["address"] == "user@example.com"
    assert event["isOrganizer"] and event["responseStatus"]["response"] == "organizer"
    assert event["attendees"][0]["status"] == {"response": "none", "time": "0001-01-01T00:00:00Z"}
    assert event["originalStartTimeZone"] == ZONE and "transactionId" not in event
    assert event["start"] == {"dateTime": "2026-03-02T08:00:00.0000000", "timeZone": "UTC"}
    assert "webLink" in event and "singleValueExtendedProperties" not in event
    assert api("GET", f"/me/events/{event['id']}").json() == event
    assert list(graph_emulator.calendar("Calendar").events) == [event["id"]]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"end": None}, "ErrorInvalidRequest"),
        ({"start": {"dateTime": "2026-03-02T09:00:00"}}, "TimeZoneNotSupportedException"),
        ({"start": {"dateTime": "2026-03-02T09:00:00", "timeZone": "Mars Standard Time"}},
         "TimeZoneNotSupportedException"),
        ({"end": {"dateTime": "2026-03-02T08:00:00", "timeZone": ZONE}}, "ErrorInvalidRequest"),
        ({"isAllDay": True}, "ErrorInvalidRequest"),
        ({"recurrence": {"pattern": {"type": "weekly"}, "range": {"type": "noEnd"}}},
         "ErrorInvalidRequest"),
    ],
)  # fmt: skip
def test_invalid_events_are_400(api: Client, change: dict[str, Any], expected: str) -> None:
    body = {k: v for k, v in {**ev(), **change}.items() if v is not None}
    resp = api("POST", "/me/events", json=body)
    assert resp.status_code == 400 and code(resp) == expected


def test_all_day_and_zone_names(api: Client) -> None:
    day = {"dateTime": "2026-03-02T00:00:00", "timeZone": "Pacific Standard Time"}
    nxt = {"dateTime": "2026-03-03T00:00:00", "timeZone": "Pacific Standard Time"}
    all_day = api("POST", "/me/events", json=ev(isAllDay=True, start=day, end=nxt))
    assert all_day.status_code == 201
    assert all_day.json()["start"]["dateTime"] == "2026-03-02T00:00:00.0000000"  # dates kept
    iana = ev(start={"dateTime": "2026-03-02T09:00:00", "timeZone": "Europe/Berlin"})
    iana["end"] = {"dateTime": "2026-03-02T10:00:00", "timeZone": "Europe/Berlin"}
    a = api("POST", "/me/events", json=iana).json()
    b = api("POST", "/me/events", json=ev()).json()
    assert a["start"] == b["start"] and a["originalStartTimeZone"] == "Europe/Berlin"


def test_transaction_id_makes_a_retried_post_idempotent(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    first = api("POST", "/me/events", json=ev(transactionId="tx-1"))
    again = api("POST", "/me/events", json=ev("retried", transactionId="tx-1"))
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["subject"] == "meeting"
    assert again.json()["transactionId"] == "tx-1"
    assert len(graph_emulator.calendar("Calendar").events) == 1
    api("DELETE", f"/me/events/{first.json()['id']}")
    after = api("POST", "/me/events", json=ev(transactionId="tx-1"))
    assert after.json()["id"] != first.json()["id"]  # a deleted event does not count


def test_patch_merges_and_if_match_conflicts_are_412(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    created = api("POST", "/me/events", json=ev(categories=["a"])).json()
    graph_emulator.edit(created["id"], subject="edited in Outlook")
    stale = {"If-Match": created["@odata.etag"]}
    for method in ("PATCH", "DELETE"):
        resp = api(method, f"/me/events/{created['id']}", json={"subject": "x"}, headers=stale)
        assert resp.status_code == 412 and code(resp) == "ErrorIrresolvableConflict"
    current = api("GET", f"/me/events/{created['id']}").json()
    assert (
        current["subject"] == "edited in Outlook" and current["changeKey"] != created["changeKey"]
    )
    patched = api(
        "PATCH",
        f"/me/calendars/{graph_emulator.calendar('Calendar').id}/events/{created['id']}",
        json={"location": {"displayName": "Room 1"}},
        headers={"If-Match": current["@odata.etag"]},
    ).json()
    assert patched["location"]["displayName"] == "Room 1" and patched["categories"] == ["a"]
    assert patched["subject"] == "edited in Outlook" and patched["start"] == created["start"]
    assert patched["lastModifiedDateTime"] >= current["lastModifiedDateTime"]


def test_delete_is_204_and_unknown_ids_are_404(graph_emulator: GraphEmulator, api: Client) -> None:
    created = api("POST", "/me/events", json=ev()).json()
    other = graph_emulator.add_calendar("Other")
    wrong_calendar = api("GET", f"/me/calendars/{other.id}/events/{created['id']}")
    assert wrong_calendar.status_code == 404
    assert api("DELETE", f"/me/events/{created['id']}").status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        resp = api(method, f"/me/events/{created['id']}", json={})
        assert resp.status_code == 404 and code(resp) == "ErrorItemNotFound"


def test_extended_properties_only_when_expanded(api: Client) -> None:
    prop = [{"id": PROP, "value": "uid-1"}]
    created = api("POST", "/me/events", json=ev(singleValueExtendedProperties=prop)).json()
    api("POST", "/me/events", json=ev("other"))
    assert "singleValueExtendedProperties" not in created
    path = f"/me/events/{created['id']}"
    assert "singleValueExtendedProperties" not in api("GET", path).json()
    shouted = EXPAND.replace(PROP, PROP.upper())  # property ids are case-insensitive
    got = api("GET", path, params={"$expand": shouted}).json()
    assert got["singleValueExtendedProperties"] == prop
    filt = f"singleValueExtendedProperties/Any(ep: ep/id eq '{PROP}' and ep/value eq 'uid-1')"
    found = api("GET", "/me/events", params={"$filter": filt, "$expand": EXPAND}).json()["value"]
    assert [e["id"] for e in found] == [created["id"]]
    assert found[0]["singleValueExtendedProperties"] == prop
    late = api("GET", "/me/events", params={"$filter": "start/dateTime ge '2026-03-02T08:00:00'"})
    assert len(late.json()["value"]) == 2
    none = {"$filter": "subject eq 'other' and end/dateTime lt '2026-03-02T09:00:00Z'"}
    assert api("GET", "/me/events", params=none).json()["value"] == []
    assert api("GET", "/me/events", params={"$filter": "contains(subject,'x')"}).status_code == 400
    api("PATCH", path, json={"singleValueExtendedProperties": [{"id": PROP, "value": "uid-2"}]})
    got = api("GET", path, params={"$expand": EXPAND}).json()
    assert got["singleValueExtendedProperties"] == [{"id": PROP, "value": "uid-2"}]


# ----------------------------------------------------------------- lists, views, time zones
def test_events_list_pages_with_top_skip_and_page_size(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    for i in range(12):
        graph_emulator.add_event("Calendar", ev(f"e{i:02d}"))
    first = api("GET", "/me/events").json()
    assert len(first["value"]) == 10 and "$skip=10" in first["@odata.nextLink"]  # default 10
    second = api("GET", first["@odata.nextLink"]).json()
    assert len(second["value"]) == 2 and "@odata.nextLink" not in second
    graph_emulator.page_size = 5
    pages = [api("GET", "/me/events", params={"$top": "50"}).json()]
    while "@odata.nextLink" in pages[-1]:
        pages.append(api("GET", pages[-1]["@odata.nextLink"]).json())
    assert [len(p["value"]) for p in pages] == [5, 5, 2]
    subjects = [e["subject"] for p in pages for e in p["value"]]
    assert subjects == [f"e{i:02d}" for i in range(12)]


def test_events_list_has_masters_calendar_view_has_instances(api: Client) -> None:
    master = api("POST", "/me/events", json=weekly(3)).json()
    single = api("POST", "/me/events", json=ev("single", "2026-03-04")).json()
    listed = api("GET", "/me/events").json()["value"]
    assert {e["id"] for e in listed} == {master["id"], single["id"]}
    view = api("GET", "/me/calendarView", params=WINDOW).json()["value"]
    assert [e["type"] for e in view] == ["occurrence", "singleInstance", "occurrence", "occurrence"]
    assert all(e.get("seriesMasterId") == master["id"] for e in view if e["type"] == "occurrence")
    narrow = {"startDateTime": "2026-03-03T00:00:00", "endDateTime": "2026-03-05T00:00:00"}
    in_range = api("GET", "/me/calendar/calendarView", params=narrow).json()["value"]
    assert [e["id"] for e in in_range] == [single["id"]]
    for params in ({}, {"startDateTime": WINDOW["startDateTime"]}):
        assert api("GET", "/me/calendarView", params=params).status_code == 400


def test_prefer_outlook_timezone_applies_to_every_read(api: Client) -> None:
    created = api("POST", "/me/events", json=ev()).json()
    pacific = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}
    resp = api("GET", f"/me/events/{created['id']}", headers=pacific)
    assert resp.headers["Preference-Applied"] == 'outlook.timezone="Pacific Standard Time"'
    start = {"dateTime": "2026-03-02T00:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert resp.json()["start"] == start
    berlin = {"Prefer": 'outlook.timezone="Europe/Berlin"'}
    for path, params in (("/me/events", {}), ("/me/calendarView", WINDOW)):
        value = api("GET", path, params=params, headers=berlin).json()["value"]
        assert value[0]["start"]["dateTime"] == "2026-03-02T09:00:00.0000000"
    assert api("GET", "/me/events").json()["value"][0]["start"]["timeZone"] == "UTC"


# ----------------------------------------------------------------- delta
def test_delta_round_pages_by_maxpagesize_then_delta_link(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    for i in range(5):
        graph_emulator.add_event("Calendar", ev(f"d{i}", f"2026-03-0{i + 2}"))
    items, link, pages = start_round(api, headers={"Prefer": "odata.maxpagesize=2"})
    assert pages == 3 and [e["subject"] for e in items] == [f"d{i}" for i in range(5)]
    assert "$deltatoken=" in link and "startDateTime" not in link
    default, _, pages = start_round(api)
    assert len(default) == 5 and pages == 1  # default page size is 10
    graph_emulator.page_size = 1
    _, _, pages = start_round(api, headers={"Prefer": "odata.maxpagesize=3"})
    assert pages == 5


def test_delta_incremental_changes_and_removals(graph_emulator: GraphEmulator, api: Client) -> None:
    keep = graph_emulator.add_event("Calendar", ev("keep"))
    edit = graph_emulator.add_event("Calendar", ev("edit", "2026-03-03"))
    drop = graph_emulator.add_event("Calendar", ev("drop", "2026-03-04"))
    move = graph_emulator.add_event("Calendar", ev("move", "2026-03-05"))
    _, link, _ = start_round(api)
    graph_emulator.edit(edit["id"], subject="edited")
    api("DELETE", f"/me/events/{drop['id']}")
    later = {"dateTime": "2026-06-01T09:00:00", "timeZone": ZONE}
    api("PATCH", f"/me/events/{move['id']}", json={"start": later, "end": later})
    new = api("POST", "/me/events", json=ev("new", "2026-03-06")).json()
    changes, link2, _ = delta_round(api, link)
    by_id = {e["id"]: e for e in changes}
    assert set(by_id) == {edit["id"], drop["id"], move["id"], new["id"]}
    assert keep["id"] not in by_id and by_id[edit["id"]]["subject"] == "edited"
    for gone in (drop["id"], move["id"]):  # deleted, and moved out of the window
        assert by_id[gone] == {
            "@odata.type": "#microsoft.graph.event",
            "id": gone,
            "@removed": {"reason": "deleted"},
        }
    assert delta_round(api, link2)[0] == []  # unchanged: empty value, a new deltaLink


@pytest.mark.parametrize("option", ["$expand", "$select", "$filter", "$orderby", "$search"])
def test_delta_rejects_query_options_it_does_not_support(api: Client, option: str) -> None:
    resp = api("GET", "/me/calendarView/delta", params={**WINDOW, option: "subject"})
    assert resp.status_code == 400


def test_delta_needs_a_window_then_tokens_carry_it(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    cal = graph_emulator.add_calendar("Work")
    resp = api("GET", f"/me/calendars/{cal.id}/calendarView/delta")
    assert resp.status_code == 400
    graph_emulator.add_event("Work", ev("work"))
    graph_emulator.add_event("Calendar", ev("elsewhere"))
    items, link, _ = delta_round(api, f"/me/calendars/{cal.id}/calendarView/delta", params=WINDOW)
    assert [e["subject"] for e in items] == ["work"] and f"/calendars/{cal.id}/" in link
    graph_emulator.add_event("Work", ev("outside", "2026-07-01"))
    assert delta_round(api, link)[0] == []  # outside the window the token remembers


@pytest.mark.parametrize("flag", ["SyncStateNotFound", "resyncRequired"])
def test_delta_expired_or_unknown_tokens_are_410(flag: str) -> None:
    with GraphEmulator(delta_expired_code=flag) as emu:
        api = Client(emu)
        for i in range(3):
            emu.add_event("Calendar", ev(f"x{i}"))
        first = api(
            "GET",
            "/me/calendarView/delta",
            params=WINDOW,
            headers={"Prefer": "odata.maxpagesize=1"},
        )
        _, link, _ = start_round(api)
        emu.expire_delta_tokens()
        for url in (
            link,
            first.json()["@odata.nextLink"],
            f"{api.base}/me/calendarView/delta?$deltatoken=junk",
        ):
            resp = api("GET", url)
            assert resp.status_code == 410 and code(resp) == flag
        assert len(start_round(api)[0]) == 3  # the documented recovery: a full round again


def test_delta_series_items_and_master_patch(graph_emulator: GraphEmulator, api: Client) -> None:
    master = api("POST", "/me/events", json=weekly(3, singleValueExtendedProperties=[
        {"id": PROP, "value": "series-uid"}
    ])).json()  # fmt: skip
    items, link, _ = start_round(api)
    assert [e["type"] for e in items] == ["occurrence"] * 3
    assert all(e["seriesMasterId"] == master["id"] and "originalStart" in e for e in items)
    assert all("singleValueExtendedProperties" not in e for e in items)
    api("PATCH", f"/me/events/{master['id']}", json={"subject": "renamed"})
    changes, link, _ = delta_round(api, link)
    assert [e["subject"] for e in changes] == ["renamed"] * 3  # every occurrence changed
    api("DELETE", f"/me/events/{items[1]['id']}")
    changes, link, _ = delta_round(api, link)
    assert changes == [{"@odata.type": "#microsoft.graph.event", "id": items[1]["id"],
                        "@removed": {"reason": "deleted"}}]  # fmt: skip
    graph_emulator.delete_event(master["id"])
    changes, _, _ = delta_round(api, link)
    assert {e["id"] for e in changes} == {items[0]["id"], items[2]["id"]}
    assert all("@removed" in e for e in changes)


# ----------------------------------------------------------------- recurrence
def test_weekly_series_keeps_wall_clock_across_dst(graph_emulator: GraphEmulator) -> None:
    master = graph_emulator.add_event("Calendar", weekly(6))
    occ = graph_emulator.instances(master["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    utc = [o["start"]["dateTime"][11:16] for o in occ]
    assert utc == ["08:00"] * 4 + ["07:00"] * 2  # Europe/Berlin moves to CEST on 2026-03-29
    api = Client(graph_emulator)
    berlin = {"Prefer": 'outlook.timezone="W. Europe Standard Time"'}
    view = api("GET", "/me/calendarView", params=WINDOW, headers=berlin).json()["value"]
    assert [v["start"]["dateTime"][11:16] for v in view] == ["09:00"] * 6
    assert occ[4]["originalStart"] == "2026-03-30T07:00:00Z"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"type": "daily", "interval": 2}, ["2026-01-01", "2026-01-03", "2026-01-05"]),
        ({"type": "weekly", "interval": 2, "daysOfWeek": ["monday", "wednesday"],
          "firstDayOfWeek": "sunday"}, ["2026-01-12", "2026-01-14", "2026-01-26"]),  # weeks
        # count from the start date's week (Sun 2025-12-28), so the week of Jan 4 is skipped
        ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15},
         ["2026-01-15", "2026-02-15", "2026-03-15"]),
        ({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
         ["2026-01-30", "2026-02-27", "2026-03-27"]),
        ({"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 2},
         ["2026-03-02", "2027-03-02", "2028-03-02"]),
        ({"type": "relativeYearly", "interval": 1, "month": 11, "daysOfWeek": ["thursday"],
          "index": "fourth"}, ["2026-11-26", "2027-11-25", "2028-11-23"]),
    ],
)  # fmt: skip
def test_all_six_pattern_types(
    graph_emulator: GraphEmulator, pattern: dict[str, Any], expected: list[str]
) -> None:
    rng = {"type": "numbered", "startDate": "2026-01-01", "numberOfOccurrences": 3}
    body = ev("p", "2026-01-01", recurrence={"pattern": pattern, "range": rng})
    master = graph_emulator.add_event("Calendar", body)
    occ = graph_emulator.instances(master["id"], "2025-12-01T00:00:00Z", "2030-01-01T00:00:00Z")
    assert [o["start"]["dateTime"][:10] for o in occ] == expected


def test_range_types_end_date_no_end_numbered(graph_emulator: GraphEmulator) -> None:
    daily = {"type": "daily", "interval": 1}
    ranges = {
        "endDate": {"type": "endDate", "startDate": "2026-03-02", "endDate": "2026-03-04"},
        "noEnd": {"type": "noEnd", "startDate": "2026-03-02"},
        "numbered": {"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": 2},
    }
    counts = {}
    for name, rng in ranges.items():
        master = graph_emulator.add_event(
            "Calendar", ev(name, recurrence={"pattern": daily, "range": rng})
        )
        counts[name] = len(graph_emulator.instances(master["id"], "2026-03-01", "2026-04-01"))
    assert counts == {"endDate": 3, "noEnd": 30, "numbered": 2}  # endDate is inclusive


def test_occurrence_patch_makes_exception_and_delete_cancels(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    master = api("POST", "/me/events", json=weekly(4)).json()
    path = f"/me/events/{master['id']}/instances"
    occ = api("GET", path, params=WINDOW).json()["value"]
    again = api("GET", path, params=WINDOW).json()["value"]
    assert [o["id"] for o in occ] == [o["id"] for o in again]  # stable ids
    assert api("GET", f"/me/events/{occ[0]['id']}").json()["type"] == "occurrence"
    moved = api("PATCH", f"/me/events/{occ[1]['id']}", json={"subject": "moved"}).json()
    assert moved["id"] == occ[1]["id"] and moved["type"] == "exception"
    assert (
        moved["seriesMasterId"] == master["id"]
        and moved["originalStart"] == occ[1]["originalStart"]
    )
    assert api("DELETE", f"/me/events/{occ[2]['id']}").status_code == 204
    now = api("GET", path, params=WINDOW).json()["value"]
    assert [(o["id"], o["type"], o["subject"]) for o in now] == [
        (occ[0]["id"], "occurrence", "series"),
        (occ[1]["id"], "exception", "moved"),
        (occ[3]["id"], "occurrence", "series"),
    ]
    assert api("GET", f"/me/events/{occ[2]['id']}").status_code == 404
    graph_emulator.edit(occ[3]["id"], subject="by a person")
    assert graph_emulator.calendar("Calendar").events[occ[3]["id"]]["type"] == "exception"


def test_deleting_a_master_deletes_its_instances(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    master = api("POST", "/me/events", json=weekly(3)).json()
    occ = api("GET", f"/me/events/{master['id']}/instances", params=WINDOW).json()["value"]
    api("PATCH", f"/me/events/{occ[0]['id']}", json={"subject": "exception"})
    assert api("DELETE", f"/me/events/{master['id']}").status_code == 204
    assert api("GET", "/me/calendarView", params=WINDOW).json()["value"] == []
    for o in occ:
        assert api("GET", f"/me/events/{o['id']}").status_code == 404
    assert graph_emulator.calendar("Calendar").events == {}


def test_instances_need_a_window_and_all_day_series_keep_dates(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    day = {"dateTime": "2026-03-28T00:00:00", "timeZone": "Europe/Berlin"}
    nxt = {"dateTime": "2026-03-29T00:00:00", "timeZone": "Europe/Berlin"}
    rng = {"type": "numbered", "startDate": "2026-03-28", "numberOfOccurrences": 3}
    rec = {"pattern": {"type": "daily", "interval": 1}, "range": rng}
    master = graph_emulator.add_event(
        "Calendar", ev("all day", isAllDay=True, start=day, end=nxt, recurrence=rec)
    )
    path = f"/me/events/{master['id']}/instances"
    assert api("GET", path).status_code == 400
    tokyo = {"Prefer": 'outlook.timezone="Tokyo Standard Time"'}
    occ = api("GET", path, params=WINDOW, headers=tokyo).json()["value"]
    assert [o["start"]["dateTime"] for o in occ] == [
        f"2026-03-{d}T00:00:00.0000000" for d in (28, 29, 30)
    ]  # across Berlin's DST change, and in any requested zone
    assert [o["end"]["dateTime"][:10] for o in occ] == ["2026-03-29", "2026-03-30", "2026-03-31"]


def test_each_user_has_a_separate_mailbox(graph_emulator: GraphEmulator, api: Client) -> None:
    other = "someone@example.com"
    shared = graph_emulator.add_calendar("Shared", user=other)
    created = api("POST", f"/users/{other}/calendars/{shared.id}/events", json=ev("theirs"))
    assert created.status_code == 201
    event = created.json()
    assert event["organizer"]["emailAddress"]["address"] == other
    assert api("GET", f"/me/events/{event['id']}").status_code == 404
    assert api("GET", f"/users/{other}/events/{event['id']}").json()["subject"] == "theirs"
    assert graph_emulator.edit(event["id"], user=other, subject="edited")["subject"] == "edited"
    with pytest.raises(KeyError):
        graph_emulator.edit(event["id"], subject="not in my mailbox")
    assert api("GET", "/me/calendars/" + shared.id).status_code == 404


# ----------------------------------------------------------------- $batch
def test_batch_runs_inner_requests_with_depends_on_and_424(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    graph_emulator.reset_log()
    json_type = {"Content-Type": "application/json"}
    batch = {"requests": [
        {"id": "1", "method": "POST", "url": "/me/events", "body": ev("b1"), "headers": json_type},
        {"id": "2", "method": "GET", "url": "me/events/missing"},
        {"id": "3", "method": "GET", "url": "/me/calendar", "dependsOn": ["2"]},
        {"id": "4", "method": "GET", "url": "/me/events?$top=1", "dependsOn": ["1"]},
        {"id": "5", "method": "POST", "url": "/me/events", "body": ev("no type")},
    ]}  # fmt: skip
    resp = api("POST", "/$batch", json=batch)
    assert resp.status_code == 200
    by_id = {r["id"]: r for r in resp.json()["responses"]}
    assert {k: r["status"] for k, r in by_id.items()} == {
        "1": 201, "2": 404, "3": 424, "4": 200, "5": 400
    }  # fmt: skip
    assert by_id["1"]["body"]["subject"] == "b1"
    assert by_id["4"]["body"]["value"][0]["id"] == by_id["1"]["body"]["id"]
    assert graph_emulator.count(path_contains="/$batch", in_batch=False) == 1
    assert graph_emulator.count(in_batch=True) == 4  # the 424 request never ran
    assert graph_emulator.count("POST", "/v1.0/me/events", in_batch=True) == 2


def test_batch_over_the_limit_is_400_and_runs_nothing(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    reqs = [{"id": str(i), "method": "GET", "url": "/me/calendar"} for i in range(21)]
    resp = api("POST", "/$batch", json={"requests": reqs})
    assert resp.status_code == 400 and graph_emulator.count(in_batch=True) == 0
    assert api("POST", "/$batch", json={"requests": reqs[:20]}).status_code == 200
    graph_emulator.batch_limit = 2
    assert api("POST", "/$batch", json={"requests": reqs[:3]}).status_code == 400


def test_inner_throttling_answers_inside_the_batch(
    graph_emulator: GraphEmulator, api: Client
) -> None:
    graph_emulator.inject(
        429, retry_after=7, in_batch=True, path="/calendar", code="ApplicationThrottled"
    )
    reqs = [
        {"id": "a", "method": "GET", "url": "/me/calendar"},
        {"id": "b", "method": "GET", "url": "/me/calendar"},
    ]
    resp = api("POST", "/$batch", json={"requests": reqs})
    assert resp.status_code == 200 and "Retry-After" not in resp.headers
    by_id = {r["id"]: r for r in resp.json()["responses"]}
    assert by_id["a"]["status"] == 429 and by_id["a"]["headers"]["Retry-After"] == "7"
    assert by_id["a"]["body"]["error"]["code"] == "ApplicationThrottled"
    assert by_id["b"]["status"] == 200
    assert api("GET", "/me/calendar").status_code == 200  # outer requests are unaffected


# ----------------------------------------------------------------- faults
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, "TooManyRequests"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeout"),
        (401, "InvalidAuthenticationToken"),
        (500, "generalException"),
    ],
)
def test_injected_faults_carry_graph_codes(
    graph_emulator: GraphEmulator, api: Client, status: int, expected: str
) -> None:
    graph_emulator.inject(
        status, retry_after=3 if status == 429 else None, count=2, path="/events", method="GET"
    )
    assert api("GET", "/me/calendar").status_code == 200  # other paths pass
    assert api("POST", "/me/events", json=ev()).status_code == 201  # other methods pass
    for _ in range(2):
        resp = api("GET", "/me/events")
        assert resp.status_code == status and code(resp) == expected
        assert resp.headers.get("Retry-After") == ("3" if status == 429 else None)
    assert api("GET", "/me/events").status_code == 200


def test_dropped_connections(graph_emulator: GraphEmulator, api: Client) -> None:
    graph_emulator.inject(drop=True, path="/me/calendars")
    with pytest.raises(requests.ConnectionError):
        api("GET", "/me/calendars")
    assert api("GET", "/me/calendars").status_code == 200
    graph_emulator.inject(drop=True, in_batch=True, path="/me/calendar")
    json_type = {"Content-Type": "application/json"}
    reqs = [
        {"id": "1", "method": "POST", "url": "/me/events", "body": ev(), "headers": json_type},
        {"id": "2", "method": "GET", "url": "/me/calendar", "dependsOn": ["1"]},
    ]
    with pytest.raises(requests.ConnectionError):
        api("POST", "/$batch", json={"requests": reqs})
    assert len(graph_emulator.calendar("Calendar").events) == 1  # the work before it was done


def test_a_day_of_month_past_the_months_end_falls_on_its_last_day(
    graph_emulator: GraphEmulator,
) -> None:
    body = {
        "subject": "Month end",
        "start": {"dateTime": "2031-01-31T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2031-01-31T10:00:00", "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
            "range": {"type": "numbered", "startDate": "2031-01-31", "numberOfOccurrences": 4},
        },
    }
    made = graph_emulator.add_event("Calendar", body)
    found = graph_emulator.instances(made["id"], "2031-01-01T00:00:00Z", "2032-01-01T00:00:00Z")
    days = sorted(i["start"]["dateTime"][:10] for i in found)
    assert days == ["2031-01-31", "2031-02-28", "2031-03-31", "2031-04-30"]
