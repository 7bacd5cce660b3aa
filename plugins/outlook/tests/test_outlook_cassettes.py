"""The Outlook driver's wire tests, replayed from cassettes recorded with pytest-recording.

Why cassettes as well as the emulator: a cassette is a record of what went over the
wire, so the same test can be recorded once against a real Microsoft 365 tenant and
then replayed anywhere, with no emulator, no network and no credentials.

Three ways to run (chosen by ``--record-mode`` and the environment, see README.md):

- replay (the default, ``record_mode == "none"``): every request is answered from
  ``cassettes/test_outlook_cassettes/<test>.yaml``; a request the driver did not send
  when the cassette was made fails the test;
- record against the emulator (``--record-mode=rewrite``, no ``SYNCFW_OUTLOOK_TEST_*``);
- record against Microsoft Graph (``--record-mode=rewrite`` with
  ``SYNCFW_OUTLOOK_TEST_CALENDAR`` and credentials in the environment).

Requests match on method, path (``/users/{anyone}`` counting as ``/me``), query,
If-Match and the body's meaning (parsed JSON; for a ``$batch``, each inner request's
method, url, If-Match and body by its id), never on host or port, so a recording
against graph.microsoft.com replays like one against the emulator. Whatever is
recorded is scrubbed first (:data:`SCRUBBER`, rules in :mod:`syncfw.testing.cassettes`),
and the emulator's address is written as ``https://graph.microsoft.com/``, so the
links in recorded responses are ones the driver follows in replay.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graph_emulator import GraphEmulator
from vcr.request import Request as VcrRequest

from syncfw.errors import CursorExpired, PreconditionFailed
from syncfw.model import Event, Window
from syncfw.sdk.driver import DriverContext, WriteOp
from syncfw.testing.cassettes import LEAKS, Scrubber, cassette_leaks, exchanges, sent_requests
from syncfw_outlook import OutlookDriver, OutlookOptions
from syncfw_outlook.convert import UID_PROP
from syncfw_outlook.cursor import DeltaCursor

CASSETTES = Path(__file__).parent / "cassettes"
GRAPH = "https://graph.microsoft.com/"  # the endpoint of the replay, and of every recording
CALENDAR = "AAMk-syncfw-wire-calendar"  # what the recorded calendar's id is replaced by
WINDOW = Window(datetime(2031, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
ENV = "SYNCFW_OUTLOOK_TEST_"

SCRUBBER = Scrubber(
    env_prefix=ENV,
    calendar=CALENDAR,
    secret_vars=("TOKEN", "CLIENT_SECRET", "CLIENT_ID", "USER"),
    token_hosts=frozenset(
        {"login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "login.live.com"}
    ),
)

# -- matching ------------------------------------------------------------------------

_OTHER_MAILBOX = re.compile(r"^(/v1\.0)?/users/[^/?]+", re.IGNORECASE)


def graph_path(path: str) -> str:
    """``path`` decoded, with ``/users/{upn or id}`` as ``/me``: a recording for another
    mailbox (``SYNCFW_OUTLOOK_TEST_USER``) replays with the replay's ``/me``."""
    return _OTHER_MAILBOX.sub(lambda m: (m.group(1) or "") + "/me", urllib.parse.unquote(path))


def _json_or_text(raw: bytes | str | None) -> Any:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw or ""
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return text.strip()


def normalised_body(request: Any) -> Any:
    """What a body means: parsed JSON; for a ``$batch``, each inner request's method,
    url, If-Match and body by its id. (syncfw_outlook.transport numbers the inner
    requests by their place in the driver's list, and a retry keeps the numbers, so the
    ids are stable; only the order of the list is not compared.)"""
    body = _json_or_text(request.body)
    if not (request.path.endswith("/$batch") and isinstance(body, dict)):
        return _without_transaction_id(body)
    parts: dict[str, Any] = {}
    for part in body.get("requests") or ():
        headers = {str(k).lower(): v for k, v in (part.get("headers") or {}).items()}
        parts[str(part.get("id"))] = (
            part.get("method"),
            graph_path(str(part.get("url", ""))),
            headers.get("if-match"),
            _without_transaction_id(part.get("body")),
        )
    return parts


def _without_transaction_id(body: Any) -> Any:
    """A create's body, its transactionId compared for presence only: it is unique per
    driver instance (syncfw_outlook.convert.transaction_id)."""
    if isinstance(body, dict) and "transactionId" in body:
        return {**body, "transactionId": bool(body["transactionId"])}
    return body


def _path_matcher(r1: Any, r2: Any) -> None:
    assert graph_path(r1.path) == graph_path(r2.path), "the paths differ"


def _if_match_matcher(r1: Any, r2: Any) -> None:
    assert r1.headers.get("If-Match") == r2.headers.get("If-Match"), "If-Match differs"


def _body_matcher(r1: Any, r2: Any) -> None:
    assert normalised_body(r1) == normalised_body(r2), "the bodies differ"


class _Matchers:
    """A pytest plugin adding our matchers to each VCR (a test module cannot hold hooks)."""

    @staticmethod
    def pytest_recording_configure(config: Any, vcr: Any) -> None:
        vcr.register_matcher("graph_path", _path_matcher)
        vcr.register_matcher("graph_if_match", _if_match_matcher)
        vcr.register_matcher("graph_body", _body_matcher)


# -- where the test talks to ---------------------------------------------------------


@dataclass
class Backend:
    """What the tests run against: ``replay``, ``emulator`` or ``graph`` (a real tenant)."""

    mode: str
    endpoint: str
    auth: dict[str, str]
    calendar: str  # the calendar's id
    user: str | None = None
    emulator: GraphEmulator | None = None
    #: What a recording replaces besides the environment's values: (value, placeholder).
    values: tuple[tuple[str, str], ...] = ()

    def expire_delta_tokens(self) -> None:
        """Make Graph answer 410 to the delta tokens issued so far (the emulator can)."""
        if self.emulator is not None:
            self.emulator.expire_delta_tokens()

    def throttle_next_batched_post(self, retry_after: float) -> None:
        """Answer the next POST inside a ``$batch`` 429 with Retry-After (the emulator can)."""
        if self.emulator is not None:
            self.emulator.inject(429, retry_after=retry_after, in_batch=True, method="POST")


def _tenant_auth(user: str | None) -> dict[str, str]:
    env = {name: os.environ.get(ENV + name, "") for name in ("TOKEN", "CLIENT_ID", "TENANT")}
    if env["TOKEN"]:
        return {"token": env["TOKEN"]}
    secret, token_file = os.environ.get(ENV + "CLIENT_SECRET"), os.environ.get(ENV + "TOKEN_FILE")
    if secret and env["CLIENT_ID"] and env["TENANT"]:
        if not user:
            raise pytest.UsageError(f"application access has no /me: set {ENV}USER as well")
        return {"client_id": env["CLIENT_ID"], "tenant": env["TENANT"], "client_secret": secret}
    if token_file and env["CLIENT_ID"]:
        return {
            "client_id": env["CLIENT_ID"],
            "tenant": env["TENANT"] or "common",
            "token_file": token_file,
        }
    raise pytest.UsageError(
        f"{ENV}CALENDAR is set but no credentials: set {ENV}TOKEN, or {ENV}CLIENT_ID, "
        f"{ENV}TENANT and {ENV}CLIENT_SECRET (with {ENV}USER), or {ENV}CLIENT_ID and "
        f"{ENV}TOKEN_FILE; see tests/README.md"
    )


def _token_file_accounts(token_file: str | None) -> list[str]:
    """The signed-in accounts' names in an MSAL token cache, to scrub them by name."""
    try:
        cache = json.loads(Path(token_file).read_text()) if token_file else {}
    except (OSError, ValueError):
        return []
    accounts = cache.get("Account") if isinstance(cache, dict) else None
    return [
        str(account["username"])
        for account in (accounts or {}).values()
        if isinstance(account, dict) and account.get("username")
    ]


_TENANT_CALENDARS: dict[tuple[str, str, str], str] = {}


def _tenant_backend() -> Backend:
    """A real tenant; the calendar's id is looked up once per run, outside any cassette
    (a lookup lists every calendar of the mailbox, which no cassette should hold)."""
    endpoint = os.environ.get("SYNCFW_OUTLOOK_ENDPOINT", GRAPH)
    user = os.environ.get(ENV + "USER") or None
    auth = _tenant_auth(user)
    wanted = os.environ[ENV + "CALENDAR"]
    key = (endpoint, user or "me", wanted)
    if key not in _TENANT_CALENDARS:
        options = _options(endpoint, auth, wanted, user)
        with OutlookDriver(options, DriverContext("outlook")) as lookup:
            _TENANT_CALENDARS[key] = lookup.calendar_id
    calendar = _TENANT_CALENDARS[key]
    values = [(calendar, CALENDAR), (endpoint, GRAPH)]
    values += [
        (name, "recorder@example.com") for name in _token_file_accounts(auth.get("token_file"))
    ]
    return Backend("graph", endpoint, auth, calendar, user, values=tuple(values))


@pytest.fixture
def backend(record_mode: str) -> Iterator[Backend]:
    if record_mode == "none":
        yield Backend("replay", GRAPH, {"token": "replay-token"}, CALENDAR)
    elif os.environ.get(ENV + "CALENDAR"):
        yield _tenant_backend()
    else:
        with GraphEmulator() as emulator:
            calendar = emulator.add_calendar("syncfw wire tests").id
            values = ((calendar, CALENDAR), (emulator.endpoint, GRAPH))
            auth = {"token": "test-token"}
            yield Backend("emulator", emulator.endpoint, auth, calendar, None, emulator, values)


@pytest.fixture
def vcr_config(pytestconfig: pytest.Config, backend: Backend) -> dict[str, Any]:
    if not pytestconfig.pluginmanager.has_plugin("syncfw-outlook-matchers"):
        pytestconfig.pluginmanager.register(_Matchers(), "syncfw-outlook-matchers")
    scrubber = replace(SCRUBBER, values=backend.values)
    return scrubber.vcr_config(["method", "graph_path", "query", "graph_if_match", "graph_body"])


def _options(
    endpoint: str, auth: dict[str, str], calendar: str, user: str | None, **more: Any
) -> OutlookOptions:
    settings: dict[str, Any] = {
        "calendar": calendar,
        "user": user,
        "endpoint": endpoint,
        "auth": auth,
        "backoff": 0.001,
        "max_backoff": 0.01,
        "timeout": 30,
    }
    return OutlookOptions.model_validate(settings | more)


@pytest.fixture
def make_driver(backend: Backend) -> Iterator[Callable[..., OutlookDriver]]:
    """Drivers on the backend's calendar, with these options besides the usual ones."""
    made: list[OutlookDriver] = []

    def make(**options: Any) -> OutlookDriver:
        opts = _options(backend.endpoint, backend.auth, backend.calendar, backend.user, **options)
        driver = OutlookDriver(opts, DriverContext("outlook"))
        # The driver lists the mailbox's calendars even when given an id; the id is known
        # here, so the cassettes hold no list of the tenant's calendars.
        driver._calendar_id = backend.calendar
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


@pytest.fixture
def driver(make_driver: Callable[..., OutlookDriver]) -> OutlookDriver:
    return make_driver()


# -- helpers -------------------------------------------------------------------------


def _event(test: str, n: int, title: str | None = None) -> Event:
    """A fixed event (fixed uid and time), so a replayed request equals the recorded one."""
    start = datetime(2031, 3, 3, 9, tzinfo=UTC) + timedelta(days=n)
    return Event(
        uid=f"syncfw-wire-{test}-{n}@syncfw.test",
        title=title or f"{test} {n}",
        start=start,
        end=start + timedelta(hours=1),
    )


def _write(driver: OutlookDriver, ops: list[WriteOp]) -> list[tuple[str, str]]:
    results = list(driver.write(ops))
    assert all(r.ok for r in results), [r.error for r in results]
    return [(r.key or "", r.etag or "") for r in results]


def _delete(driver: OutlookDriver, keys: list[str]) -> None:
    """Leave the calendar as it was, so a recording against a tenant can be repeated."""
    _write(driver, [WriteOp("delete", key=key) for key in keys])


def _query(url_or_request: Any) -> dict[str, str]:
    if isinstance(url_or_request, str):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url_or_request).query))
    return dict(url_or_request.query)


def _json(response: dict[str, Any]) -> Any:
    return _json_or_text(response["body"]["string"])


def _deltas(cassette: Any) -> list[tuple[Any, Any]]:
    """The delta requests of this test with their parsed answers."""
    return [
        (request, _json(response))
        for request, response in exchanges(cassette)
        if request.method == "GET" and request.path.endswith("/calendarView/delta")
    ]


def _batches(cassette: Any) -> list[tuple[Any, Any]]:
    """The ``$batch`` requests of this test, with their answers' inner responses by id."""
    return [
        (request, {str(r["id"]): r for r in _json(response)["responses"]})
        for request, response in exchanges(cassette)
        if request.method == "POST" and request.path.endswith("/$batch")
    ]


def _parts(request: Any) -> dict[str, Any]:
    return {str(p["id"]): p for p in _json_or_text(request.body)["requests"]}


# -- the wire tests ------------------------------------------------------------------


@pytest.mark.vcr
def test_full_read_follows_every_page(make_driver: Callable[..., OutlookDriver], vcr: Any) -> None:
    driver = make_driver(page_size=2)
    ops = [WriteOp("create", event=_event("paging", n)) for n in range(5)]
    keys = [key for key, _ in _write(driver, ops)]
    feed = driver.read(None, WINDOW)
    assert sorted(c.key for c in feed if c.event) == sorted(keys)
    assert feed.full and feed.cursor
    pages = _deltas(vcr)
    assert len(pages) >= 3, "5 events in pages of at most 2"
    assert [len(body["value"]) <= 2 for _, body in pages] == [True] * len(pages)
    first = _query(pages[0][0])
    assert first == {"startDateTime": "2031-01-01T00:00:00Z", "endDateTime": "2032-01-01T00:00:00Z"}
    for (_, body), (after, _) in itertools.pairwise(pages):
        assert "@odata.deltaLink" not in body, "the deltaLink comes with the last page only"
        assert _query(after) == _query(body["@odata.nextLink"]), "each nextLink is followed"
        assert "$skiptoken" in _query(after) and "startDateTime" not in _query(after)
    last = pages[-1][1]
    assert "@odata.nextLink" not in last
    assert _query(_link(feed.cursor)) == _query(last["@odata.deltaLink"]), "the cursor"
    for request, _ in pages:
        prefer = request.headers["Prefer"]
        assert "odata.maxpagesize=2" in prefer and 'outlook.timezone="UTC"' in prefer
    _delete(driver, keys)


@pytest.mark.vcr
def test_incremental_read_from_the_delta_link(driver: OutlookDriver, vcr: Any) -> None:
    events = [_event("incremental", n) for n in range(2)]
    (kept, kept_etag), (gone, _) = _write(driver, [WriteOp("create", event=e) for e in events])
    full = driver.read(None, WINDOW)
    assert len(list(full)) == 2
    renamed = events[0].replace(title="renamed")
    _write(driver, [WriteOp("update", key=kept, event=renamed, etag=kept_etag)])
    _write(driver, [WriteOp("delete", key=gone)])
    feed = driver.read(full.cursor, WINDOW)
    changes = {c.key: c for c in feed}
    assert changes[kept].event is not None and changes[kept].event.title == "renamed"
    assert changes[gone].deleted
    assert not feed.full and feed.cursor and feed.cursor != full.cursor
    request, body = _deltas(vcr)[-1]
    assert _query(request) == _query(_link(full.cursor)), "the deltaLink as Graph gave it"
    assert "$deltatoken" in _query(request) and "startDateTime" not in _query(request)
    removed = [item for item in body["value"] if "@removed" in item]
    assert [item["id"] for item in removed] == [gone]
    assert list(driver.read(feed.cursor, WINDOW)) == [], "nothing changed since"
    _delete(driver, [kept])


def _link(cursor: str | None) -> str:
    """The deltaLink a cursor holds (syncfw_outlook.cursor)."""
    assert cursor is not None
    return DeltaCursor.load(cursor).link


@pytest.mark.vcr
def test_creates_go_in_one_batch_with_transaction_ids(driver: OutlookDriver, vcr: Any) -> None:
    events = [_event("batch", n) for n in range(3)]
    keys = [key for key, _ in _write(driver, [WriteOp("create", event=e) for e in events])]
    (batch, answers), *_ = _batches(vcr)  # then the deletes
    assert batch is sent_requests(vcr)[0] and graph_path(batch.path) == "/v1.0/$batch"
    parts = _parts(batch)
    assert list(parts) == ["0", "1", "2"], "numbered by their place in the write"
    tids = {p["body"]["transactionId"] for p in parts.values()}
    assert len(tids) == 3, "each create its own transactionId"
    for (part_id, part), event in zip(parts.items(), events, strict=True):
        assert part["method"] == "POST"
        assert graph_path(part["url"]) == f"/me/calendars/{CALENDAR}/events"
        assert part["headers"]["Content-Type"] == "application/json"
        body = part["body"]
        assert uuid.UUID(body["transactionId"]), "a transactionId on every create"
        marks = {p["id"]: p["value"] for p in body["singleValueExtendedProperties"]}
        assert marks[UID_PROP] == event.uid
        assert body["subject"] == event.title and body["start"]["timeZone"] == "UTC"
        assert answers[part_id]["status"] == 201
        assert answers[part_id]["body"]["id"] == keys[int(part_id)]
    _delete(driver, keys)


@pytest.mark.vcr
def test_update_sends_if_match(driver: OutlookDriver, vcr: Any) -> None:
    event = _event("if-match", 0)
    ((key, etag),) = _write(driver, [WriteOp("create", event=event)])
    ((_, new_etag),) = _write(
        driver, [WriteOp("update", key=key, event=event.replace(title="moved"), etag=etag)]
    )
    assert new_etag and new_etag != etag
    (update,) = [r for r in sent_requests(vcr) if r.method == "PATCH"]
    assert update.headers["If-Match"] == etag
    assert graph_path(update.path) == f"/v1.0/me/events/{key}"
    assert _json_or_text(update.body)["subject"] == "moved"
    _delete(driver, [key])


@pytest.mark.vcr
def test_stale_etag_is_a_412(driver: OutlookDriver, vcr: Any) -> None:
    event = _event("stale", 0)
    ((key, etag),) = _write(driver, [WriteOp("create", event=event)])
    # someone else edits the event: its etag changes
    _write(driver, [WriteOp("update", key=key, event=event.replace(title="theirs"), etag=etag)])
    (result,) = driver.write([WriteOp("update", key=key, event=event, etag=etag)])
    assert isinstance(result.error, PreconditionFailed)
    (change,) = [c for c in driver.read(None, WINDOW) if c.key == key]
    assert change.event is not None and change.event.title == "theirs", "nothing clobbered"
    patches = [(r, resp) for r, resp in exchanges(vcr) if r.method == "PATCH"]
    assert [resp["status"]["code"] for _, resp in patches] == [200, 412]
    assert _json(patches[1][1])["error"]["code"] == "ErrorIrresolvableConflict"
    _delete(driver, [key])


@pytest.mark.vcr
def test_expired_delta_token_is_410_then_a_full_read(
    backend: Backend, driver: OutlookDriver, vcr: Any
) -> None:
    if backend.mode == "graph":
        pytest.skip("Graph cannot be made to expire a delta token on demand; keep the cassette")
    ((key, _),) = _write(driver, [WriteOp("create", event=_event("expired", 0))])
    feed = driver.read(None, WINDOW)
    list(feed)
    backend.expire_delta_tokens()
    with pytest.raises(CursorExpired):
        driver.read(feed.cursor, WINDOW)
    full = driver.read(None, WINDOW)
    assert [c.key for c in full] == [key] and full.full and full.cursor
    statuses = [resp["status"]["code"] for r, resp in exchanges(vcr) if "/delta" in r.path]
    assert statuses == [200, 410, 200]
    _delete(driver, [key])


@pytest.mark.vcr
def test_throttled_request_in_a_batch_is_sent_again_alone(
    backend: Backend, driver: OutlookDriver, vcr: Any
) -> None:
    if backend.mode == "graph":
        pytest.skip("Graph cannot be made to throttle one request on demand; keep the cassette")
    anchor = _event("throttled", 0)
    ((anchor_key, anchor_etag),) = _write(driver, [WriteOp("create", event=anchor)])
    driver.graph.sleep = lambda seconds: None  # what was waited is in driver.graph.slept
    backend.throttle_next_batched_post(retry_after=3)
    ops = [
        WriteOp("update", key=anchor_key, event=anchor.replace(title="moved"), etag=anchor_etag),
        WriteOp("create", event=_event("throttled", 1)),
        WriteOp("create", event=_event("throttled", 2)),
    ]
    keys = [key for key, _ in _write(driver, ops)]
    assert driver.graph.slept and driver.graph.slept[0] >= 3, "Retry-After is honoured"
    (first, first_answers), (again, again_answers), *_ = _batches(vcr)  # then the deletes
    throttled = [i for i, answer in first_answers.items() if answer["status"] == 429]
    assert throttled == ["1"], "the first POST inside the batch"
    headers = {k.lower(): v for k, v in first_answers["1"]["headers"].items()}
    assert headers["retry-after"] == "3"
    assert _parts(again) == {"1": _parts(first)["1"]}, "only it is sent again, as it was"
    assert again_answers["1"]["status"] == 201
    found = {c.key: c for c in driver.read(None, WINDOW)}
    assert sorted(found) == sorted(keys) and len(set(keys)) == 3, "no request was lost or doubled"
    _delete(driver, keys)


# -- the cassettes themselves --------------------------------------------------------


def test_no_cassette_holds_a_credential() -> None:
    files = sorted(CASSETTES.rglob("*.yaml"))
    assert files, f"no cassettes under {CASSETTES}"
    leaks = cassette_leaks(files)
    assert not leaks, f"credentials in cassettes (re-record, then check the scrubbing): {leaks}"


_JWT = (
    "eyJ0eXAiOiJKV1QiLCJub25jZSI6IkFRQUJBQUFB.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20i"
    "LCJ1cG4iOiJqYW5lQGNvbnRvc28uY29tIn0.U2lnbmF0dXJlT2ZUaGVUb2tlbg"
)
_REFRESH = "0.AAAAd2hhdGV2ZXItdGhlLXRlbmFudC1pcy1hbmQtYS1sb25nLXRhaWw.AgABAAEAAAD--DLA3VO7QrddgJg7"


def test_scrubbing_covers_microsoft_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV + "CLIENT_SECRET", "Xq8Q~exact.Secret_Value")
    monkeypatch.setenv(ENV + "CALENDAR", "AAMkADRealCalendar=")
    text = (
        f"Authorization: Bearer {_JWT}\n"
        f'{{"token_type": "Bearer", "access_token": "{_JWT}", "refresh_token": "{_REFRESH}",'
        ' "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2ln"}\n'
        "client_id=0b7c&client_secret=Xq8Q~exact.Secret_Value&grant_type=client_credentials"
        "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        "&client_assertion=eyJhbGciOiJQUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmVk&code=1.AQsAauthcode"
        "&device_code=DAQABAAEAAAD--DLA3VO7QrddgJg7Wevr\n"
        '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users'
        "('jane.doe%40contoso.onmicrosoft.com')/calendars('AAMkADRealCalendar%3D')/events/$entity\","
        ' "id": "AAMkAGI2THVSAAA=", "organizer": {"emailAddress": {"name": "Jane Doe",'
        ' "address": "jane.doe@contoso.onmicrosoft.com"}}}\n'
        "Location: https://graph.microsoft.com/v1.0/Users('6e7b768e-07e2-4810-8459-485f84f8f204')"
        "/Events('AAMkAGI2THVSAAA=')\n"
        'GET /v1.0/users/6e7b768e-07e2-4810-8459-485f84f8f204/events {"error": {"code":'
        ' "ErrorItemNotFound"}} x-ms-ags-diagnostic: {"ServerInfo": {"DataCenter": "West Europe"}}'
    )
    assert len(LEAKS.findall(text)) >= 4, "the leak check must see what it looks for"
    scrubbed = SCRUBBER.text(text)
    for secret in (
        "eyJ",
        "0.AAAA",
        "Xq8Q",
        "1.AQsA",
        "DAQABAAEAAAD",
        "jane",
        "Jane Doe",
        "contoso",
        "6e7b768e",
        "RealCalendar",
    ):
        assert secret not in scrubbed, secret
    assert LEAKS.search(scrubbed) is None
    assert "users('recorder%40example.com')" in scrubbed
    assert f"calendars('{CALENDAR}')" in scrubbed
    for kept in ("AAMkAGI2THVSAAA=", '"code": "ErrorItemNotFound"', "x-ms-ags-diagnostic"):
        assert kept in scrubbed, kept


def test_token_requests_are_not_recorded() -> None:
    body = b"client_id=0b7c&grant_type=refresh_token&refresh_token=" + _REFRESH.encode()
    token = VcrRequest(
        "POST", "https://login.microsoftonline.com/contoso/oauth2/v2.0/token", body, {}
    )
    discovery = VcrRequest(
        "GET", "https://login.microsoftonline.com/common/discovery/instance?x=1", None, {}
    )
    assert SCRUBBER.request(token) is None and SCRUBBER.request(discovery) is None
    graph = VcrRequest("GET", GRAPH + "v1.0/me/events", None, {"Authorization": f"Bearer {_JWT}"})
    kept = SCRUBBER.request(graph)
    assert kept is not None and kept.headers["Authorization"] == "REDACTED"
