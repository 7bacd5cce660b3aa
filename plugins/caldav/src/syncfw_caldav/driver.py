"""The ``caldav`` driver: one calendar collection on a CalDAV server.

An item is one calendar resource; its key is the resource's name inside the
collection (``<name>.ics``, URL-decoded) and its etag is the server's. A
recurring series and its overridden instances live in one resource, so the
driver stores recurrence natively.

Finding the collection: a URL in ``calendar`` is used as it is; a display name
is looked up once (:mod:`._calendars`) and its URL remembered beside the state,
so a quiet incremental read is exactly one request.

Reads (``sync:``): with WebDAV sync (RFC 6578, ``webdav-sync``) a full read is a
``sync-collection`` REPORT without a token - every resource with its data, then
a token - and an incremental read sends the token back and gets what changed,
deletions as tombstones. A token the server rejects (``DAV:valid-sync-token``)
raises :class:`CursorExpired`, so the engine reads in full and reconciles.
Without sync (``ctag``; ``auto`` switches when the server refuses the REPORT)
the cursor holds the collection's CTag and every item's etag (:mod:`._ctag`): an
unchanged CTag is one PROPFIND; a changed one lists the etags and fetches just
the changed items with one ``calendar-multiget``.

Writes: a create PUTs ``<name>.ics`` - the name derived from the UID the engine
chose, so a retried create meets its earlier self - with ``If-None-Match: *``;
updates and deletes carry ``If-Match``. 412 becomes :class:`PreconditionFailed`,
a 404 on delete counts as done. CalDAV has no batch, so one ``write()`` sends
its ops over up to ``max_connections`` requests at once and yields the results
in op order.

The password (profile or keyring, :mod:`.auth`) is a :class:`~pydantic.SecretStr`;
no message the driver makes contains it (URLs are shown without user-info).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Literal
from urllib.parse import quote, unquote, urljoin, urlsplit

from syncfw.errors import AuthError, CursorExpired, DriverError, NotFound, PreconditionFailed
from syncfw.model import Change, Event, Window
from syncfw.sdk.driver import (
    Capabilities,
    Cursor,
    Driver,
    DriverContext,
    Feed,
    WriteOp,
    WriteResult,
)
from syncfw.sdk.fs import file_name_for
from syncfw.sdk.ical import ParseProblem, event_to_ical, events_from_ical

from ._calendars import discover, url_cache
from ._ctag import PREFIX as CTAG_PREFIX
from ._ctag import CtagCursor
from ._dav import (
    Item,
    Multistatus,
    ctag_body,
    etags_body,
    multiget_body,
    parse_multistatus,
    sync_body,
    sync_unsupported,
)
from ._http import Connection, Reply, safe_url
from .auth import password_for
from .options import CaldavOptions

__all__ = ["CaldavDriver", "CaldavOptions"]

_ICAL = {"Content-Type": "text/calendar; charset=utf-8"}
_XML = 'application/xml; charset="utf-8"'
_MAX_PAGES = 100  # sync-collection pages (507 truncation) in one read
_MULTIGET_CHUNK = 200  # hrefs per calendar-multiget
_VALID_SYNC_TOKEN = "{DAV:}valid-sync-token"


class _CollectionGone(Exception):
    """The collection answered 404 to a read's first request."""


class _SyncUnsupported(Exception):
    """The server refused the sync-collection REPORT as unknown."""


class CaldavDriver(Driver):
    """A CalDAV calendar; key: the resource name, etag: the server's."""

    name = "caldav"
    Options = CaldavOptions

    @classmethod
    def location(cls, options: CaldavOptions) -> str:
        return f"{safe_url(options.url)}|{options.username or ''}|{options.calendar}"

    capabilities = Capabilities(
        incremental=True,
        conditional_writes=True,
        native_recurrence=True,
        client_ids=True,
        batch_size=16,
    )

    def __init__(self, options: CaldavOptions, context: DriverContext) -> None:
        super().__init__(options, context)
        # enough ops per write() to keep every connection busy
        self.capabilities = replace(self.capabilities, batch_size=4 * options.max_connections)
        self._http = Connection(
            options, context.calendar, lambda: password_for(options, context.calendar)
        )
        self._cache = url_cache(context.state_dir, options.url, options.username, options.calendar)
        self._collection: str | None = None  # the calendar's URL, ending in "/"
        self._remembered = False  # _collection came from the cache file
        self._sync_supported: bool | None = None  # learnt by sync: auto
        self._pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------- plumbing

    def _error(self, message: str) -> DriverError:
        return DriverError(message, calendar=self.context.calendar)

    def _calendar_url(self) -> str:
        """The collection's URL: the given one, the remembered one, or found by name."""
        if self._collection is None:
            target = self.options.calendar
            if target.startswith(("http://", "https://", "/")):
                url = urljoin(self.options.url, target)
            else:
                remembered = self._cache.get()
                self._remembered = remembered is not None
                url = remembered or discover(self._http, target)
                url = url if url.endswith("/") else url + "/"
                if remembered is None:
                    self._cache.put(url)
            self._collection = url if url.endswith("/") else url + "/"
        return self._collection

    def _url(self, key: str) -> str:
        return self._calendar_url() + quote(key, safe="@+=,;:~!$&'()*")

    def _key(self, href: str) -> str:
        path = unquote(urlsplit(href).path)
        base = unquote(urlsplit(self._calendar_url()).path)
        return path.removeprefix(base)

    def _dav(self, method: str, body: str, depth: str, *, first: bool = False) -> Reply:
        """A REPORT or PROPFIND on the collection; ``first`` of a read: 404 means gone."""
        reply = self._http.request(
            "reading the calendar",
            method,
            self._calendar_url(),
            body,
            {"Depth": depth, "Content-Type": _XML},
        )
        if first and reply.status == 404:
            raise _CollectionGone
        if reply.status == 403 and not reply.preconditions:
            raise self._forbidden("reading the calendar")
        return reply

    def _forbidden(self, what: str) -> AuthError:
        return AuthError(
            f"{what} at {safe_url(self._calendar_url())} was forbidden (403); check that "
            f"user {self.options.username!r} may access the calendar",
            calendar=self.context.calendar,
        )

    def _parse(self, reply: Reply, what: str) -> Multistatus:
        if reply.status != 207:
            raise self._error(f"{what} answered HTTP {reply.status}")
        try:
            return parse_multistatus(reply.body, urlsplit(self._calendar_url()).path)
        except ValueError as exc:
            raise self._error(f"cannot read the server's reply to {what}: {exc}") from None

    def _expired(self, why: str) -> CursorExpired:
        return CursorExpired(f"{why}; reading in full", calendar=self.context.calendar)

    # ------------------------------------------------------------------ read

    def series_problem(self, event: Event) -> str | None:
        return None  # iCalendar says RANGE=THISANDFUTURE and writes the zones it uses

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        """Every resource (cursor None) or what changed since ``cursor``."""
        return Feed(self._changes(cursor), full=cursor is None)

    def _changes(self, cursor: Cursor | None) -> Generator[Change, None, Cursor | None]:
        try:
            return (yield from self._read(cursor))
        except _CollectionGone:
            url = safe_url(self._calendar_url())
            if not self._remembered:
                raise self._error(f"no calendar at {url} (404); check 'calendar'") from None
            self._cache.forget()  # found by name earlier; look the name up again
            self._collection, self._remembered = None, False
            if cursor is not None:
                raise self._expired(f"the calendar remembered at {url} is gone (404)") from None
            return (yield from self._read(None))

    def _read(self, cursor: Cursor | None) -> Generator[Change, None, Cursor | None]:
        if self._mode(cursor) == "webdav-sync":
            try:
                return (yield from self._sync_changes(cursor))
            except _SyncUnsupported:
                if self.options.sync == "webdav-sync":
                    raise self._error(
                        "the server does not support WebDAV sync (RFC 6578 sync-collection); "
                        "set sync: auto or sync: ctag"
                    ) from None
                self._sync_supported = False
                if cursor is not None:
                    raise self._expired("the server no longer supports WebDAV sync") from None
        try:
            previous = CtagCursor.decode(cursor) if cursor is not None else None
        except ValueError as exc:
            raise self._expired(f"cannot use the cursor: {exc}") from None
        return (yield from self._ctag_changes(previous, cursor))

    def _mode(self, cursor: Cursor | None) -> Literal["webdav-sync", "ctag"]:
        """How to read from ``cursor``; a cursor of the other mode is expired."""
        ctag_cursor = cursor is not None and cursor.startswith(CTAG_PREFIX)
        if self.options.sync == "ctag":
            if cursor is not None and not ctag_cursor:
                raise self._expired("the cursor is a WebDAV sync token but sync: ctag is set")
            return "ctag"
        if self.options.sync == "webdav-sync" and ctag_cursor:
            raise self._expired("the cursor is a CTag listing but sync: webdav-sync is set")
        if ctag_cursor or (cursor is None and self._sync_supported is False):
            return "ctag"
        return "webdav-sync"

    def _sync_changes(self, cursor: Cursor | None) -> Generator[Change, None, Cursor | None]:
        token = cursor
        for page in range(_MAX_PAGES):
            reply = self._dav("REPORT", sync_body(token), "0", first=page == 0)  # RFC 6578
            if reply.status != 207:
                if _VALID_SYNC_TOKEN in reply.preconditions or (
                    reply.status == 412 and cursor is not None  # Xandikos: an unknown token
                ):
                    raise self._expired("the server no longer knows the sync token")
                if page == 0 and sync_unsupported(reply.status, reply.preconditions):
                    raise _SyncUnsupported
            result = self._parse(reply, "the sync-collection REPORT")
            yield from self._page_changes(result.items, full=cursor is None)
            token = result.sync_token
            if not result.truncated or token is None:
                return token
        raise self._error(f"the server still truncates its changes after {_MAX_PAGES} pages")

    def settle(self, cursor: Cursor, ours: Mapping[str, str | None]) -> Cursor | None:
        """The sync token past our own writes, when the changes since ``cursor`` are all
        ours (same key, same etag the write returned, or gone for a delete): one etag-only
        REPORT at the end of a run that wrote, so the next quiet run reads nothing back."""
        if cursor.startswith(CTAG_PREFIX):
            return None  # the etag listing would have to be read anyway
        reply = self._dav("REPORT", sync_body(cursor, data=False), "0")
        if reply.status != 207:
            return None
        try:
            result = parse_multistatus(reply.body, urlsplit(self._calendar_url()).path)
        except ValueError:
            return None
        if result.truncated or result.sync_token is None:
            return None
        for item in result.items:
            key = self._key(item.href)
            if key not in ours:
                return None  # someone else's change: the next read must see it
            expected = ours[key]
            if item.status == 404 and expected is None:
                continue
            if item.status != 200 or expected is None or item.etag != expected:
                return None
        return result.sync_token

    def _page_changes(self, items: list[Item], *, full: bool) -> Iterator[Change]:
        """Changes of one reply; a full read lists no tombstones (Radicale sends the
        deletions it remembers even without a token)."""
        missing = [i.href for i in items if i.status == 200 and i.data is None]
        fetched = self._multiget(missing)  # a server that leaves calendar-data out
        for item in items:
            key = self._key(item.href)
            if item.status == 404:
                if not full:
                    yield Change(key)  # a tombstone
                continue
            if item.status != 200:
                continue
            item = fetched.get(item.href, item) if item.data is None else item
            if item.data is None:
                yield Change(key)  # gone between the sync and the multiget
                continue
            change = _change(key, item.etag, item.data)
            if change is not None:
                yield change

    def _multiget(self, hrefs: list[str]) -> dict[str, Item]:
        """The data and etags of ``hrefs``, by href, in as few requests as sensible."""
        found: dict[str, Item] = {}
        for start in range(0, len(hrefs), _MULTIGET_CHUNK):
            body = multiget_body(hrefs[start : start + _MULTIGET_CHUNK])
            result = self._parse(self._dav("REPORT", body, "1"), "the calendar-multiget REPORT")
            found.update((i.href, i) for i in result.items)
        return found

    def _ctag_changes(
        self, previous: CtagCursor | None, cursor: Cursor | None
    ) -> Generator[Change, None, Cursor | None]:
        """Changes since ``previous`` from the CTag and an etag listing (no WebDAV sync)."""
        listed_first = previous is None or previous.ctag is None
        if previous is not None and previous.ctag is not None:
            reply = self._dav("PROPFIND", ctag_body(), "0", first=True)
            if self._parse(reply, "the getctag PROPFIND").ctag == previous.ctag:
                return cursor  # nothing changed: one request
        reply = self._dav("PROPFIND", etags_body(), "1", first=listed_first)
        listing = self._parse(reply, "the getetag PROPFIND")
        old = previous.etags if previous is not None else {}
        listed = {self._key(i.href): i for i in listing.items if i.status == 200}
        etags = {k: i.etag for k, i in listed.items() if i.etag and old.get(k) == i.etag}
        changed = [i.href for k, i in listed.items() if k not in etags]
        fetched = self._multiget(changed)
        for href in changed:
            key = self._key(href)
            item = fetched.get(href)
            if item is None:  # not answered: ask again next time, say nothing now
                continue
            if item.status != 200 or item.data is None:
                if previous is not None and item.status == 404:
                    yield Change(key)  # deleted between the listing and the multiget
                continue
            etags[key] = item.etag or ""  # the etag of the data read, not of the listing
            change = _change(key, item.etag, item.data)
            if change is not None:
                yield change
        for key in old.keys() - listed.keys():
            yield Change(key)  # a tombstone
        return CtagCursor(listing.ctag, etags).encode()

    # ----------------------------------------------------------------- write

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        """Send ``ops`` over up to ``max_connections`` requests at once; results in order."""
        if not ops:
            return
        self._calendar_url()  # resolved here, once, not by the workers concurrently
        if len(ops) == 1 or self.options.max_connections == 1:
            for op in ops:
                yield self._write_one(op)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.options.max_connections, thread_name_prefix="syncfw-caldav"
            )
        futures: list[Future[WriteResult]] = [self._pool.submit(self._write_one, o) for o in ops]
        try:
            for future in futures:
                yield future.result()
        finally:  # an error or an early stop: nothing new starts, nothing stays in flight
            for future in futures:
                future.cancel()
            wait(futures)

    def _write_one(self, op: WriteOp) -> WriteResult:
        calendar = self.context.calendar
        key = (file_name_for(op.event.uid) if op.event else "") if op.action == "create" else op.key
        if not key:
            return WriteResult(op, error=self._error(f"the {op.action} names no item"))
        url = self._url(key)
        if op.action == "delete":
            headers = {"If-Match": op.etag} if op.etag else {}
            reply = self._http.request(f"deleting {key!r}", "DELETE", url, "", headers)
            if reply.status == 412:
                return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
            if reply.status in (200, 202, 204, 404):
                return WriteResult(op, key=key)
            return WriteResult(op, key=key, error=self._failed(f"DELETE {key!r}", reply))
        if op.event is None:
            return WriteResult(op, key=key, error=self._error(f"the {op.action} has no event"))
        try:
            body = event_to_ical([op.event]).decode("utf-8")
        except ValueError as exc:
            return WriteResult(op, key=key, error=self._error(f"cannot write {key!r}: {exc}"))
        if op.action == "create":
            condition = {"If-None-Match": "*"}
        else:  # an update of a missing item must not create it
            condition = {"If-Match": op.etag or "*"}
        reply = self._http.request(f"writing {key!r}", "PUT", url, body, _ICAL | condition)
        if reply.status == 412:
            if op.action == "update" and op.etag is None:
                return WriteResult(op, key=key, error=NotFound(key, calendar=calendar))
            return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
        if reply.status not in (200, 201, 204):
            return WriteResult(op, key=key, error=self._failed(f"PUT {key!r}", reply))
        return WriteResult(op, key=key, etag=reply.header("ETag"))

    def _failed(self, what: str, reply: Reply) -> DriverError:
        """A per-op failure; a bare 403 (no permission) stops the whole write."""
        if reply.status == 403 and not reply.preconditions:
            raise self._forbidden(what)
        why = f" ({', '.join(reply.preconditions)})" if reply.preconditions else ""
        return self._error(f"{what}: HTTP {reply.status}{why}")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._http.close()

    def __repr__(self) -> str:
        return f"<CaldavDriver {self.context.calendar!r} at {safe_url(self.options.url)}>"


def _change(key: str, etag: str | None, data: str) -> Change | None:
    """One resource as a Change; None for a resource without events (a VTODO)."""
    try:
        found = events_from_ical(data)
    except ValueError as exc:
        return Change(key, etag=etag, error=f"{key}: {exc}")
    if not found:
        return None
    if len(found) > 1:
        uids = ", ".join(sorted({repr(e.uid) for e in found if e.uid}))
        return Change(key, etag=etag, error=f"{key}: holds {len(found)} events ({uids})")
    if isinstance(found[0], ParseProblem):
        return Change(key, etag=etag, error=f"{key}: {found[0]}")
    return Change(key, found[0], etag)
