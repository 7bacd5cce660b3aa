"""The driver's wire tests, replayed from cassettes recorded with pytest-recording.

Why cassettes as well as the emulator: a cassette is a record of what went over
the wire, so the same test can be recorded once against the real Google API and
then replayed anywhere, with no emulator, no network and no credentials.

Three ways to run (chosen by ``--record-mode`` and the environment, see README.md):

- replay (the default, ``record_mode == "none"``): every request is answered from
  ``cassettes/test_google_cassettes/<test>.yaml``; a request the driver did not send
  when the cassette was made fails the test;
- record against the emulator (``--record-mode=rewrite``, no ``SYNCFW_GOOGLE_TEST_*``);
- record against Google (``--record-mode=rewrite`` with ``SYNCFW_GOOGLE_TEST_CALENDAR``
  and credentials in the environment).

Requests match on method, path, query, If-Match and a normalised body, never on
host or port, so a recording made against Google replays like one made against
the emulator. Every credential is scrubbed before anything is written (see
:func:`scrub_text`), and :func:`test_no_cassette_holds_a_credential` checks it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from emulator import GoogleEmulator

from syncfw.errors import CursorExpired, PreconditionFailed
from syncfw.model import Event, Window
from syncfw.sdk.driver import DriverContext, WriteOp
from syncfw.testing.cassettes import (
    LEAKS,
    RECORDER,
    REDACTED,
    Scrubber,
    cassette_leaks,
    sent_requests,
)
from syncfw_google import GoogleDriver, GoogleOptions
from syncfw_google.convert import event_id

CASSETTES = Path(__file__).parent / "cassettes"
CALENDAR = "wire-calendar@example.com"  # what the recorded calendar id is replaced by
WINDOW = Window(datetime(2031, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
ENV = "SYNCFW_GOOGLE_TEST_"

# -- scrubbing (the rules are syncfw.testing.cassettes', shared with the Outlook tests) ---

SCRUBBER = Scrubber(
    env_prefix=ENV,
    calendar=CALENDAR,
    secret_vars=("TOKEN", "EMAIL", "SUBJECT"),
    token_hosts=frozenset({"oauth2.googleapis.com", "accounts.google.com"}),
    request_headers=frozenset({"authorization", "cookie", "x-goog-api-key"}),
)


def _scrubber() -> Scrubber:
    """:data:`SCRUBBER`, also replacing the service account's address of a recording."""
    key_file = os.environ.get(ENV + "SERVICE_ACCOUNT")
    if key_file and Path(key_file).is_file():
        client_email = json.loads(Path(key_file).read_text()).get("client_email")
        if client_email:
            return replace(SCRUBBER, values=((client_email, RECORDER),))
    return SCRUBBER


def scrub_text(text: str) -> str:
    """``text`` with every token, key, secret and foreign e-mail address replaced."""
    return _scrubber().text(text)


# -- matching ------------------------------------------------------------------------


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return raw.strip()


def normalised_body(request: Any) -> Any:
    """What a body means: parsed JSON; for a batch, each part's request line, If-Match
    and JSON body (boundaries, Content-ID bases and inner auth headers vary per run)."""
    raw = request.body
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw or ""
    boundary = re.search(r'boundary="?([^";]+)', request.headers.get("content-type", ""))
    if boundary is None:
        return _json_or_text(text)
    parts = []
    for part in text.split("--" + boundary.group(1))[1:]:
        if part.strip() in ("", "--"):
            continue
        outer, _, inner = part.replace("\r\n", "\n").partition("\n\n")
        content_id = re.search(r"(?im)^content-id:\s*<[^+]*\+(.*)>", outer)
        head, _, body = inner.partition("\n\n")
        lines = head.strip().splitlines()
        if_match = [
            v
            for line in lines[1:]
            for k, _, v in [line.partition(":")]
            if k.strip().lower() == "if-match"
        ]
        parts.append(
            (
                content_id and content_id.group(1),
                lines[0] if lines else "",
                if_match,
                _json_or_text(body),
            )
        )
    return parts


def _body_matcher(r1: Any, r2: Any) -> None:
    assert normalised_body(r1) == normalised_body(r2), "the bodies differ"


def _if_match_matcher(r1: Any, r2: Any) -> None:
    assert r1.headers.get("If-Match") == r2.headers.get("If-Match"), "If-Match differs"


class _Matchers:
    """A pytest plugin adding our matchers to each VCR (a test module cannot hold hooks)."""

    @staticmethod
    def pytest_recording_configure(config: Any, vcr: Any) -> None:
        vcr.register_matcher("if_match", _if_match_matcher)
        vcr.register_matcher("semantic_body", _body_matcher)


# -- where the test talks to ---------------------------------------------------------


@dataclass
class Backend:
    """What the tests run against: ``replay``, ``emulator`` or ``google``."""

    mode: str
    endpoint: str
    auth: dict[str, str]
    emulator: GoogleEmulator | None = None

    def expire_sync_tokens(self) -> None:
        """Make Google answer 410 to the sync tokens issued so far (the emulator can)."""
        if self.emulator is not None:
            self.emulator.expire_sync_tokens()


def _google_auth() -> dict[str, str]:
    if os.environ.get(ENV + "TOKEN"):
        return {"token": os.environ[ENV + "TOKEN"]}
    if os.environ.get(ENV + "SERVICE_ACCOUNT"):
        auth = {"service_account": os.environ[ENV + "SERVICE_ACCOUNT"]}
        if os.environ.get(ENV + "SUBJECT"):
            auth["subject"] = os.environ[ENV + "SUBJECT"]
        return auth
    if os.environ.get(ENV + "CLIENT_SECRETS") and os.environ.get(ENV + "TOKEN_FILE"):
        return {
            "client_secrets": os.environ[ENV + "CLIENT_SECRETS"],
            "token_file": os.environ[ENV + "TOKEN_FILE"],
        }
    raise pytest.UsageError(
        f"{ENV}CALENDAR is set but no credentials: set {ENV}TOKEN, or {ENV}SERVICE_ACCOUNT "
        f"(and {ENV}SUBJECT), or {ENV}CLIENT_SECRETS and {ENV}TOKEN_FILE; see tests/README.md"
    )


@pytest.fixture
def backend(record_mode: str) -> Iterator[Backend]:
    if record_mode == "none":
        yield Backend("replay", "https://www.googleapis.com/", {"token": "replay-token"})
    elif os.environ.get(ENV + "CALENDAR"):
        endpoint = os.environ.get("SYNCFW_GOOGLE_ENDPOINT", "https://www.googleapis.com/")
        yield Backend("google", endpoint, _google_auth())
    else:
        with GoogleEmulator() as emulator:
            emulator.add_calendar("syncfw wire tests", cal_id=CALENDAR)
            yield Backend("emulator", emulator.endpoint, {"token": "test-token"}, emulator)


@pytest.fixture
def vcr_config(pytestconfig: pytest.Config) -> dict[str, Any]:
    if not pytestconfig.pluginmanager.has_plugin("syncfw-google-matchers"):
        pytestconfig.pluginmanager.register(_Matchers(), "syncfw-google-matchers")
    config = _scrubber().vcr_config(["method", "path", "query", "if_match", "semantic_body"])
    config["filter_query_parameters"] = [("key", REDACTED), ("access_token", REDACTED)]
    return config


@pytest.fixture
def driver(backend: Backend) -> Iterator[GoogleDriver]:
    calendar = os.environ.get(ENV + "CALENDAR", CALENDAR) if backend.mode == "google" else CALENDAR
    options = GoogleOptions.model_validate(
        {
            "calendar": calendar,
            "endpoint": backend.endpoint,
            "auth": backend.auth,
            "backoff": 0.001,
            "max_backoff": 0.01,
            "timeout": 30,
        }
    )
    with GoogleDriver(options, DriverContext("google")) as driver:
        yield driver


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


def _write(driver: GoogleDriver, ops: list[WriteOp]) -> list[tuple[str, str]]:
    results = list(driver.write(ops))
    assert all(r.ok for r in results), [r.error for r in results]
    return [(r.key or "", r.etag or "") for r in results]


def _delete(driver: GoogleDriver, keys: list[str]) -> None:
    """Leave the calendar as it was, so a recording against Google can be repeated."""
    _write(driver, [WriteOp("delete", key=key) for key in keys])


class _SmallPages:
    """The service with ``maxResults`` forced small, so paging happens with 5 events on
    Google too (the driver asks for 2500 per page)."""

    def __init__(self, inner: Any, size: int) -> None:
        self._inner, self._size = inner, size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def events(self) -> Any:
        return _SmallPages(self._inner.events(), self._size)

    def list(self, **params: Any) -> Any:
        if "maxResults" in params:
            params["maxResults"] = self._size
        return self._inner.list(**params)


# -- the wire tests ------------------------------------------------------------------


def _query(request: Any) -> dict[str, str]:
    return dict(request.query)


def _lists(cassette: Any) -> list[Any]:
    return [r for r in sent_requests(cassette) if r.method == "GET" and r.path.endswith("/events")]


@pytest.mark.vcr
def test_full_read_follows_every_page(driver: GoogleDriver, vcr: Any) -> None:
    ops = [WriteOp("create", event=_event("paging", n)) for n in range(5)]
    keys = [key for key, _ in _write(driver, ops)]
    driver._service = _SmallPages(driver.service, 2)
    feed = driver.read(None, WINDOW)
    assert sorted(c.key for c in feed if c.event) == sorted(keys)
    assert feed.full and feed.cursor, "the sync token comes with the last page"
    lists = _lists(vcr)
    assert len(lists) == 3, "5 events in pages of 2"
    first = _query(lists[0])
    assert "pageToken" not in first and first["showDeleted"] == "false"
    assert first["timeMin"].startswith("2031-01-01") and first["singleEvents"] == "false"
    assert all(_query(r).get("pageToken") for r in lists[1:])
    driver._service = driver._service._inner
    _delete(driver, keys)


@pytest.mark.vcr
def test_incremental_read_with_sync_token(driver: GoogleDriver, vcr: Any) -> None:
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
    query = _query(_lists(vcr)[-1])
    assert query["syncToken"] == full.cursor
    assert not {"timeMin", "timeMax", "showDeleted", "singleEvents", "orderBy"} & set(query)
    assert list(driver.read(feed.cursor, WINDOW)) == [], "nothing changed since"
    _delete(driver, [kept])


@pytest.mark.vcr
def test_batch_insert_with_client_chosen_ids(driver: GoogleDriver, vcr: Any) -> None:
    events = [_event("batch", n) for n in range(3)]
    keys = [key for key, _ in _write(driver, [WriteOp("create", event=e) for e in events])]
    assert keys == [event_id(e.uid) for e in events]
    batch = sent_requests(vcr)[0]  # then, on a reused Google calendar, 409s and adoptions
    assert batch.method == "POST" and batch.path.endswith("/batch/calendar/v3")
    parts = normalised_body(batch)
    assert [p[1].split()[0] for p in parts] == ["POST"] * 3
    assert [p[3]["id"] for p in parts] == keys, "the ids are chosen by syncfw"
    _delete(driver, keys)


@pytest.mark.vcr
def test_update_sends_if_match(driver: GoogleDriver, vcr: Any) -> None:
    event = _event("if-match", 0)
    ((key, etag),) = _write(driver, [WriteOp("create", event=event)])
    ((_, new_etag),) = _write(
        driver, [WriteOp("update", key=key, event=event.replace(title="moved"), etag=etag)]
    )
    assert new_etag and new_etag != etag
    update = [r for r in sent_requests(vcr) if r.method == "PUT"][-1]
    assert update.headers["If-Match"] == etag
    _delete(driver, [key])


@pytest.mark.vcr
def test_stale_etag_is_a_412(driver: GoogleDriver) -> None:
    event = _event("stale", 0)
    ((key, etag),) = _write(driver, [WriteOp("create", event=event)])
    # someone else edits the event: its etag changes
    _write(driver, [WriteOp("update", key=key, event=event.replace(title="theirs"), etag=etag)])
    (result,) = driver.write([WriteOp("update", key=key, event=event, etag=etag)])
    assert isinstance(result.error, PreconditionFailed)
    (change,) = [c for c in driver.read(None, WINDOW) if c.key == key]
    assert change.event is not None and change.event.title == "theirs", "nothing clobbered"
    _delete(driver, [key])


@pytest.mark.vcr
def test_expired_sync_token_is_410_full_sync_required(
    backend: Backend, driver: GoogleDriver
) -> None:
    if backend.mode == "google":
        pytest.skip("Google cannot be made to expire a sync token on demand; keep the cassette")
    ((key, _),) = _write(driver, [WriteOp("create", event=_event("expired", 0))])
    feed = driver.read(None, WINDOW)
    list(feed)
    backend.expire_sync_tokens()
    with pytest.raises(CursorExpired):
        driver.read(feed.cursor, WINDOW)
    full = driver.read(None, WINDOW)
    assert [c.key for c in full] == [key] and full.full and full.cursor
    _delete(driver, [key])


# -- the cassettes themselves --------------------------------------------------------


def test_no_cassette_holds_a_credential() -> None:
    files = sorted(CASSETTES.rglob("*.yaml"))
    assert files, f"no cassettes under {CASSETTES}"
    leaks = cassette_leaks(files)
    assert not leaks, f"credentials in cassettes (re-record, then check the scrubbing): {leaks}"


def test_scrubbing_covers_every_kind_of_secret() -> None:
    text = (
        'Authorization: Bearer ya29.a0AfB_secret\n{"refresh_token": "1//0gSecret", '
        '"client_secret": "GOCSPX-x", "id_token": "eyJhbGci"}\n'
        "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n"
        "https://x/y?key=AIzaSy123&access_token=ya29.z owner: jane.doe@corp.example.net"
        " attendee: ann@example.com uid: x@syncfw.test"
    )
    assert len(LEAKS.findall(text)) >= 3, "the leak check must see what it looks for"
    scrubbed = scrub_text(text)
    for secret in ("ya29", "1//0gSecret", "GOCSPX", "eyJhbGci", "MIIEv", "AIzaSy", "jane.doe"):
        assert secret not in scrubbed
    assert LEAKS.search(scrubbed) is None
    assert "ann@example.com" in scrubbed and "x@syncfw.test" in scrubbed
