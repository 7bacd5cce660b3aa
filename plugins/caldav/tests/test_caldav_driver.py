"""The caldav driver's own promises, against a real Radicale: requests per read, the
remembered calendar URL, the CTag fallback, concurrent writes, and credentials.

Requests are counted where they leave the process: in the HTTP library's adapter
(``niquests``' ``HTTPAdapter.send``), so a 401 challenge and its retry count as two.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import caldav
import keyring
import keyring.backend
import keyring.errors
import niquests.adapters
import pytest
from pydantic import ValidationError
from radicale_server import RadicaleServer
from test_caldav_contract import CaldavContract

from syncfw.drivers.ics import file_name_for
from syncfw.errors import AuthError, CursorExpired, DriverError
from syncfw.sdk.driver import DriverContext, WriteOp
from syncfw.sdk.ical import event_to_ical
from syncfw.testing import fresh_window, make_event
from syncfw_caldav import KEYRING_SERVICE, CaldavDriver, CaldavOptions
from syncfw_caldav._calendars import CACHE_FILE
from syncfw_caldav._http import Connection, Reply


@dataclass
class Wire:
    """Every request the drivers sent, and the most that were in flight at once."""

    sent: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list, repr=False)
    in_flight: int = 0
    max_in_flight: int = 0
    delay: float = 0.0  # seconds added to each request, so concurrency shows
    lock: threading.Lock = field(default_factory=threading.Lock)

    def methods(self) -> list[str]:
        return [method for method, *_ in self.sent]

    def clear(self) -> None:
        self.sent.clear()
        self.max_in_flight = 0


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    record = Wire()
    send = niquests.adapters.HTTPAdapter.send

    def counting_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        with record.lock:
            body = request.body or b""
            body = body.encode() if isinstance(body, str) else bytes(body)
            record.sent.append((request.method, request.url, dict(request.headers), body))
            record.in_flight += 1
            record.max_in_flight = max(record.max_in_flight, record.in_flight)
        try:
            if record.delay:
                time.sleep(record.delay)
            return send(self, request, *args, **kwargs)
        finally:
            with record.lock:
                record.in_flight -= 1

    monkeypatch.setattr(niquests.adapters.HTTPAdapter, "send", counting_send)
    return record


def new_driver(
    url: str, calendar: str, user: str, state_dir: Path | None = None, **options: Any
) -> CaldavDriver:
    """A driver as one run builds it: a fresh client, no memory but ``state_dir``."""
    options.setdefault("password", "secret")
    opts = CaldavOptions(url=url, calendar=calendar, username=user, **options)
    return CaldavDriver(opts, DriverContext("dav", state_dir=state_dir))


def collection_of(url: str, calendar: str, user: str) -> str:
    """The URL of ``calendar`` (found or made by name) - as a user would copy it."""
    with new_driver(url, calendar, user) as driver:
        return driver._calendar_url()


def other_client(collection: str, user: str) -> Any:
    """Another client of the same user: the caldav library used directly."""
    return caldav.DAVClient(url=collection, username=user, password="x")


def put_event(collection: str, user: str, name: str, title: str) -> None:
    """Another client writes ``name`` on the server."""
    event = make_event(uid=name.removesuffix(".ics"), title=title)
    with other_client(collection, user) as client:
        reply = client.put(collection + name, event_to_ical([event]).decode(), {})
        assert reply.status in (201, 204)


# ----------------------------------------------------------- requests per read


def test_a_quiet_read_by_url_is_one_request_and_fast(
    radicale: str, calendar_name: str, user: str, wire: Wire
) -> None:
    collection = collection_of(radicale, calendar_name, user)
    with new_driver(radicale, collection, user) as first:
        list(first.write([WriteOp("create", event=make_event())]))
        feed = first.read(None, fresh_window())
        assert len(list(feed)) == 1 and feed.cursor
    wire.clear()
    started = time.perf_counter()
    with new_driver(radicale, collection, user) as later:  # the next run: a new client
        again = later.read(feed.cursor, fresh_window())
        assert list(again) == []
    assert time.perf_counter() - started < 0.5
    assert wire.methods() == ["REPORT"], "no discovery, no 401 round trip"
    assert "Authorization" in wire.sent[0][2], "credentials go with the first request"


def test_a_calendar_found_by_name_is_remembered_beside_the_state(
    radicale: str, calendar_name: str, user: str, wire: Wire, tmp_path: Path
) -> None:
    with new_driver(radicale, calendar_name, user, tmp_path) as first:
        feed = first.read(None, fresh_window())
        list(feed)
        assert wire.methods().count("PROPFIND") >= 2  # discovery, once
        url = first._calendar_url()
    remembered = json.loads((tmp_path / CACHE_FILE).read_text())
    assert list(remembered.values()) == [url]
    wire.clear()
    with new_driver(radicale, calendar_name, user, tmp_path) as later:
        assert list(later.read(feed.cursor, fresh_window())) == []
    assert wire.methods() == ["REPORT"]


def test_a_remembered_url_that_is_gone_is_forgotten_and_looked_up_again(
    radicale: str, calendar_name: str, user: str, tmp_path: Path
) -> None:
    real = collection_of(radicale, calendar_name, user)
    with new_driver(radicale, calendar_name, user, tmp_path) as driver:
        driver._calendar_url()  # remembers the real one
    cache = tmp_path / CACHE_FILE
    (key,) = json.loads(cache.read_text())
    gone = real.rstrip("/") + "-deleted/"
    cache.write_text(json.dumps({key: gone}))
    with new_driver(radicale, calendar_name, user, tmp_path) as driver:
        with pytest.raises(CursorExpired, match="404"):
            list(driver.read("http://radicale.org/ns/sync/whatever", fresh_window()))
        assert json.loads(cache.read_text()) == {}, "forgotten"
        feed = driver.read(None, fresh_window())  # what the engine does next
        assert list(feed) == [] and feed.cursor
        assert driver._calendar_url() == real
    assert json.loads(cache.read_text()) == {key: real}


def test_a_wrong_calendar_url_says_so(radicale: str, user: str) -> None:
    with (
        new_driver(radicale, f"/{user}/no-such-calendar/", user) as driver,
        pytest.raises(DriverError, match=r"no calendar at .*404.*'calendar'"),
    ):
        list(driver.read(None, fresh_window()))


# -------------------------------------------------------------- CTag fallback


class TestCaldavContractWithCtag(CaldavContract):
    """The whole contract again, reading through the CTag fallback."""

    @pytest.fixture
    def driver(self, radicale: str, calendar_name: str, user: str) -> Iterator[CaldavDriver]:
        with new_driver(radicale, calendar_name, user, sync="ctag") as driver:
            yield driver


def test_ctag_reads_see_another_clients_creates_edits_and_deletions(
    radicale: str, calendar_name: str, user: str, wire: Wire
) -> None:
    collection = collection_of(radicale, calendar_name, user)
    for name in ("keep.ics", "edit.ics", "drop.ics"):
        put_event(collection, user, name, f"{name} v1")
    with new_driver(radicale, collection, user, sync="ctag") as driver:
        feed = driver.read(None, fresh_window())
        assert {c.key: c.event.title for c in feed if c.event} == {
            "keep.ics": "keep.ics v1",
            "edit.ics": "edit.ics v1",
            "drop.ics": "drop.ics v1",
        }
        assert feed.cursor and feed.cursor.startswith("ctag1:")
    put_event(collection, user, "edit.ics", "edit.ics v2")
    put_event(collection, user, "new.ics", "new.ics v1")
    with other_client(collection, user) as other:
        assert other.delete(collection + "drop.ics").status in (200, 204)
    wire.clear()
    with new_driver(radicale, collection, user, sync="ctag") as driver:  # the next run
        changes = driver.read(feed.cursor, fresh_window())
        seen = {c.key: (c.event.title if c.event else None) for c in changes}
    assert seen == {"edit.ics": "edit.ics v2", "new.ics": "new.ics v1", "drop.ics": None}
    assert wire.methods() == ["PROPFIND", "PROPFIND", "REPORT"]  # ctag, etags, multiget
    multiget = wire.sent[2][3].decode()
    assert multiget.count("<D:href>") == 2 and "keep.ics" not in multiget, "only what changed"
    wire.clear()
    with new_driver(radicale, collection, user, sync="ctag") as driver:
        quiet = driver.read(changes.cursor, fresh_window())
        assert list(quiet) == [] and quiet.cursor == changes.cursor
    assert wire.methods() == ["PROPFIND"], "an unchanged CTag is one request"


@pytest.mark.parametrize(
    ("sync", "cursor"),
    [
        ("ctag", "ctag1:not base64 at all"),
        ("ctag", "ctag1:" + "eJzLSM3JyVcozy/KSQEAGgQEXQ=="),  # zlib, but not [ctag, etags]
        ("ctag", "http://radicale.org/ns/sync/abc"),  # a sync token, other mode
        ("webdav-sync", "ctag1:eJyLjgUAARUAuQ=="),  # a CTag cursor, other mode
    ],
)
def test_a_cursor_the_driver_cannot_use_expires(
    radicale: str, calendar_name: str, user: str, sync: str, cursor: str
) -> None:
    with (
        new_driver(radicale, calendar_name, user, sync=sync) as driver,
        pytest.raises(CursorExpired),
    ):
        list(driver.read(cursor, fresh_window()))


def test_auto_falls_back_to_ctag_when_the_server_refuses_sync(
    radicale: str, calendar_name: str, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server without RFC 6578 answers the sync REPORT 403 DAV:supported-report."""
    request = Connection.request

    def no_sync(
        self: Connection, what: str, method: str, url: str, body: str = "", *a: Any
    ) -> Reply:
        if method == "REPORT" and "sync-collection" in body:
            return Reply(403, b"", None, ("{DAV:}supported-report",))
        return request(self, what, method, url, body, *a)

    collection = collection_of(radicale, calendar_name, user)
    put_event(collection, user, "one.ics", "one")
    monkeypatch.setattr(Connection, "request", no_sync)
    with new_driver(radicale, collection, user) as driver:  # sync: auto
        feed = driver.read(None, fresh_window())
        assert [c.key for c in feed] == ["one.ics"]
        assert feed.cursor and feed.cursor.startswith("ctag1:")
        put_event(collection, user, "two.ics", "two")
        assert [c.key for c in driver.read(feed.cursor, fresh_window())] == ["two.ics"]
    with (
        new_driver(radicale, collection, user, sync="webdav-sync") as strict,
        pytest.raises(DriverError, match=r"does not support WebDAV sync.*sync: ctag"),
    ):
        list(strict.read(None, fresh_window()))


# ---------------------------------------------------------- concurrent writes


def test_forty_creates_in_one_write_land_once_in_order_with_bounded_concurrency(
    radicale: str, calendar_name: str, user: str, wire: Wire
) -> None:
    collection = collection_of(radicale, calendar_name, user)
    events = [make_event(title=f"job {n}") for n in range(40)]
    ops = [WriteOp("create", event=e) for e in events]
    wire.delay = 0.01  # each request takes long enough for the others to overlap
    with new_driver(radicale, collection, user, max_connections=3) as driver:
        assert driver.capabilities.batch_size == 12
        results = list(driver.write(ops))
        assert [r.op for r in results] == ops, "results in op order"
        assert all(r.ok and r.etag for r in results), [r.error for r in results]
        assert [r.key for r in results] == [file_name_for(e.uid) for e in events]
        assert wire.methods().count("PUT") == 40, "each create sent once"
        assert 2 <= wire.max_in_flight <= 3
        on_server = [c.event.uid for c in driver.read(None, fresh_window()) if c.event]
    assert sorted(on_server) == sorted(e.uid for e in events), "each landed exactly once"


def test_a_write_failure_stays_with_its_op(radicale: str, calendar_name: str, user: str) -> None:
    with new_driver(radicale, calendar_name, user) as driver:
        taken = make_event()
        (first,) = driver.write([WriteOp("create", event=taken)])
        ops = [WriteOp("create", event=make_event()) for _ in range(3)]
        ops.insert(2, WriteOp("create", event=taken))  # exists: 412
        results = list(driver.write(ops))
        assert [r.ok for r in results] == [True, True, False, True]
        assert results[2].key == first.key


# ----------------------------------------------------------------- credentials

PASSWORD = "Pa55-w0rd-never-shown"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(scope="module")
def radicale_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Radicale that checks passwords: user ``alice``, password :data:`PASSWORD`."""
    folder = tmp_path_factory.mktemp("radicale-auth")
    with RadicaleServer(folder, users={"alice": PASSWORD}) as server:
        yield server.url


def test_the_password_comes_from_the_keyring(
    radicale_with_auth: str, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(KEYRING_SERVICE, "alice", PASSWORD)
    name = f"Keyring {uuid.uuid4().hex[:8]}"
    opts = CaldavOptions(url=radicale_with_auth, calendar=name, username="alice", keyring=True)
    with CaldavDriver(opts, DriverContext("dav")) as driver:
        (created,) = driver.write([WriteOp("create", event=make_event())])
        assert created.ok
        assert [c.key for c in driver.read(None, fresh_window())] == [created.key]


def test_no_password_in_the_keyring_says_what_to_run(
    radicale_with_auth: str, memory_keyring: MemoryKeyring
) -> None:
    opts = CaldavOptions(url=radicale_with_auth, calendar="x", username="bob", keyring=True)
    with (
        CaldavDriver(opts, DriverContext("dav")) as driver,
        pytest.raises(AuthError, match="keyring set syncfw-caldav bob"),
    ):
        list(driver.read(None, fresh_window()))


def test_a_missing_keyring_package_says_what_to_install(
    radicale: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    opts = CaldavOptions(url=radicale, calendar="/u/c/", username="u", keyring=True)
    with (
        CaldavDriver(opts, DriverContext("dav")) as driver,
        pytest.raises(AuthError, match=r"pip install 'syncfw-caldav\[keyring\]'"),
    ):
        list(driver.read(None, fresh_window()))


@pytest.mark.parametrize("source", ["profile", "keyring"])
def test_a_wrong_password_is_an_auth_error_that_never_shows_it(
    radicale_with_auth: str,
    memory_keyring: MemoryKeyring,
    caplog: pytest.LogCaptureFixture,
    source: str,
) -> None:
    wrong = "Wr0ng-but-still-secret"
    given: dict[str, Any] = {"password": wrong} if source == "profile" else {"keyring": True}
    memory_keyring.set_password(KEYRING_SERVICE, "alice", wrong)
    opts = CaldavOptions(url=radicale_with_auth, calendar="Work", username="alice", **given)
    caplog.set_level(logging.DEBUG)
    with CaldavDriver(opts, DriverContext("dav")) as driver:
        with pytest.raises(AuthError, match="refused") as caught:
            list(driver.read(None, fresh_window()))
        shown = [
            str(caught.value),
            repr(caught.value),
            "".join(traceback.format_exception(caught.value)),
            repr(opts),
            str(opts),
            repr(driver),
            caplog.text,
        ]
    assert caplog.text, "the libraries logged the exchange"
    basic = base64.b64encode(f"alice:{wrong}".encode()).decode()  # what the header carried
    for text in shown:
        assert wrong not in text and PASSWORD not in text and basic not in text


def test_keyring_and_password_do_not_mix() -> None:
    with pytest.raises(ValidationError, match="not both"):
        CaldavOptions(url="http://x/", calendar="c", username="u", password="p", keyring=True)
    with pytest.raises(ValidationError, match="needs a username"):
        CaldavOptions(url="http://x/", calendar="c", keyring=True)


# ----------------------------------------------------------- settling past our writes


def test_settle_moves_the_cursor_past_our_own_writes_only(
    radicale: str, calendar_name: str, user: str
) -> None:
    collection = collection_of(radicale, calendar_name, user)
    with new_driver(radicale, collection, user) as driver:
        feed = driver.read(None, fresh_window())
        assert list(feed) == [] and feed.cursor
        kept, gone = make_event(title="kept"), make_event(title="to delete")
        results = list(driver.write([WriteOp("create", event=kept), WriteOp("create", event=gone)]))
        (deleted,) = driver.write([WriteOp("delete", key=results[1].key, etag=results[1].etag)])
        assert deleted.ok
        ours = {results[0].key: results[0].etag, results[1].key: None}
        settled = driver.settle(feed.cursor, ours)
        assert settled and settled != feed.cursor
        assert list(driver.read(settled, fresh_window())) == []  # nothing of ours read back

        (edited,) = driver.write(
            [
                WriteOp(
                    "update",
                    key=results[0].key,
                    event=kept.replace(title="v2"),
                    etag=results[0].etag,
                )
            ]
        )
        assert edited.ok
        put_event(collection, user, "someone-elses.ics", "not ours")
        assert driver.settle(settled, {results[0].key: edited.etag}) is None
        assert driver.settle(settled, {results[0].key: '"another etag"'}) is None
        changes = {c.key for c in driver.read(settled, fresh_window())}
        assert changes == {results[0].key, "someone-elses.ics"}
