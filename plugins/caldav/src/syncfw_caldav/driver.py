"""The ``caldav`` driver: one calendar collection on a CalDAV server.

An item is one calendar resource; its key is the resource's name inside the
collection (``<name>.ics``, URL-decoded) and its etag is the server's. A
recurring series and its overridden instances live in one resource, so the
driver stores recurrence natively.

Reads: a full read is a ``sync-collection`` REPORT without a token, which lists
every resource with its data and ends with a sync token; an incremental read
sends that token and gets only what changed, deletions as tombstones. A token
the server rejects (``DAV:valid-sync-token``) raises :class:`CursorExpired`, so
the engine reads in full and reconciles. A server without sync support is read
with a ``calendar-query`` every time (no cursor).

Writes: a create PUTs ``<name>.ics`` - the name derived from the UID the engine
chose, so a retried create meets its earlier self - with ``If-None-Match: *``;
updates and deletes carry ``If-Match``. 412 becomes :class:`PreconditionFailed`,
a 404 on delete counts as done. CalDAV has no batch: one request per op.

The password is a :class:`~pydantic.SecretStr`; no message the driver makes
contains it (URLs are shown without their user-info part).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import caldav
from caldav.lib import error as dav_error
from pydantic import SecretStr

from syncfw.driver import (
    Capabilities,
    Cursor,
    Driver,
    DriverContext,
    DriverOptions,
    Feed,
    WriteOp,
    WriteResult,
)
from syncfw.drivers.ics import file_name_for
from syncfw.errors import (
    AuthError,
    CursorExpired,
    DriverError,
    NotFound,
    PreconditionFailed,
    RateLimited,
)
from syncfw.ical import ParseProblem, event_to_ical, events_from_ical
from syncfw.model import Change, Window

from ._dav import Item, Multistatus, multiget_body, parse_multistatus, query_body, sync_body

__all__ = ["CaldavDriver", "CaldavOptions"]

_ICAL = {"Content-Type": "text/calendar; charset=utf-8"}
_MAX_PAGES = 100  # sync-collection pages (507 truncation) in one read


class CaldavOptions(DriverOptions):
    url: str  # the server (or its principal / calendar-home URL)
    calendar: str  # a display name (created when missing) or the collection's URL
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = 30.0


class CaldavDriver(Driver):
    """A CalDAV calendar; key: the resource name, etag: the server's."""

    name = "caldav"
    Options = CaldavOptions
    capabilities = Capabilities(
        incremental=True,
        conditional_writes=True,
        native_recurrence=True,
        client_ids=True,
        batch_size=8,
    )

    def __init__(self, options: CaldavOptions, context: DriverContext) -> None:
        super().__init__(options, context)
        self._client: Any = None
        self._collection: str | None = None  # the calendar's URL, ending in "/"

    # ------------------------------------------------------------- plumbing

    def _error(self, message: str) -> DriverError:
        return DriverError(message, calendar=self.context.calendar)

    def _connect(self) -> Any:
        if self._client is None:
            password = self.options.password
            client_class: Any = caldav.DAVClient
            self._client = client_class(
                url=self.options.url,
                username=self.options.username,
                password=password.get_secret_value() if password else None,
                timeout=self.options.timeout,
            )
        return self._client

    def _call(self, what: str, request: Callable[[], Any]) -> Any:
        """Run one request, mapping transport and auth failures onto syncfw's errors."""
        try:
            return request()
        except dav_error.AuthorizationError as exc:
            if "{DAV:}valid-sync-token" in (getattr(exc, "preconditions", None) or ()):
                raise CursorExpired(
                    "the server no longer knows the sync token; reading in full",
                    calendar=self.context.calendar,
                ) from None
            raise AuthError(
                f"{what} at {_safe(self.options.url)} was refused (401/403); check "
                "'username' and 'password' and that the user may access the calendar",
                calendar=self.context.calendar,
            ) from None
        except dav_error.RateLimitError as exc:
            raise RateLimited(
                f"{what}: the server asks to slow down",
                retry_after=getattr(exc, "retry_after_seconds", None),
                calendar=self.context.calendar,
            ) from None
        except (dav_error.DAVError, OSError) as exc:
            raise self._error(
                f"{what} at {_safe(self.options.url)} failed: {type(exc).__name__}: "
                f"{_safe_text(str(exc), self.options)} (is the server reachable and the URL right?)"
            ) from None

    def _calendar_url(self) -> str:
        """The collection's URL: the given one, or found (or made) by display name."""
        if self._collection is None:
            target = self.options.calendar
            if target.startswith(("http://", "https://")) or target.startswith("/"):
                url = urljoin(self.options.url, target)
            else:
                url = self._call(f"finding calendar {target!r}", lambda: self._find(target))
            self._collection = url if url.endswith("/") else url + "/"
        return self._collection

    def _find(self, display_name: str) -> str:
        principal = self._connect().principal()
        for calendar in principal.calendars():
            if calendar.get_display_name() == display_name:
                return str(calendar.url)
        return str(principal.make_calendar(name=display_name).url)

    def _url(self, key: str) -> str:
        return self._calendar_url() + quote(key, safe="@+=,;:~!$&'()*")

    def _key(self, href: str) -> str:
        path = unquote(urlsplit(href).path)
        base = unquote(urlsplit(self._calendar_url()).path)
        return path.removeprefix(base)

    def _report(self, body: str, depth: str = "1") -> tuple[int, bytes]:
        url = self._calendar_url()
        client = self._connect()
        response = self._call(
            "reading the calendar",
            lambda: client.request(
                url,
                "REPORT",
                body,
                {"Depth": depth, "Content-Type": 'application/xml; charset="utf-8"'},
            ),
        )
        raw = response.raw or b""
        return int(response.status), raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)

    # ------------------------------------------------------------------ read

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        """Every resource (cursor None) or what changed since ``cursor``."""
        return Feed(self._changes(cursor), full=cursor is None)

    def _changes(self, cursor: Cursor | None) -> Generator[Change, None, Cursor | None]:
        path = urlsplit(self._calendar_url()).path
        token = cursor
        for _ in range(_MAX_PAGES):
            status, raw = self._report(sync_body(token), depth="0")  # RFC 6578
            if status == 412 and cursor is not None:  # Xandikos: an unknown token
                raise CursorExpired(
                    "the server no longer knows the sync token; reading in full",
                    calendar=self.context.calendar,
                )
            if status != 207:
                if cursor is None:  # no sync support: list with a calendar-query
                    yield from self._query()
                    return None
                raise self._error(f"sync-collection REPORT answered HTTP {status}")
            page = self._parse(raw, path)
            yield from self._page_changes(page.items, full=cursor is None)
            token = page.sync_token
            if not page.truncated or token is None:
                return token
        raise self._error(f"the server still truncates its changes after {_MAX_PAGES} pages")

    def _parse(self, raw: bytes, path: str) -> Multistatus:
        try:
            return parse_multistatus(raw, path)
        except ValueError as exc:
            raise self._error(f"cannot read the server's reply: {exc}") from None

    def _query(self) -> Iterator[Change]:
        status, raw = self._report(query_body())
        if status != 207:
            raise self._error(f"calendar-query REPORT answered HTTP {status}")
        path = urlsplit(self._calendar_url()).path
        yield from self._page_changes(self._parse(raw, path).items, full=True)

    def _page_changes(self, items: list[Item], *, full: bool) -> Iterator[Change]:
        """Changes of one reply; a full read lists no tombstones (Radicale sends the
        deletions it remembers even without a token)."""
        missing = [i.href for i in items if i.status == 200 and i.data is None]
        fetched: dict[str, Item] = {}
        if missing:  # a server that leaves calendar-data out of sync-collection
            status, raw = self._report(multiget_body(missing))
            if status != 207:
                raise self._error(f"calendar-multiget REPORT answered HTTP {status}")
            path = urlsplit(self._calendar_url()).path
            fetched = {i.href: i for i in self._parse(raw, path).items}
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

    # ----------------------------------------------------------------- write

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        for op in ops:
            yield self._write_one(op)

    def _write_one(self, op: WriteOp) -> WriteResult:
        calendar = self.context.calendar
        if op.action == "create":
            key = file_name_for(op.event.uid) if op.event else ""
        else:
            key = op.key or ""
        if not key:
            return WriteResult(op, error=self._error(f"the {op.action} names no item"))
        client = self._connect()
        url = self._url(key)
        if op.action == "delete":
            headers = {"If-Match": op.etag} if op.etag else {}
            response = self._call(f"deleting {key!r}", lambda: client.delete(url, headers))
            status = int(response.status)
            if status == 412:
                return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
            if status in (200, 202, 204, 404):
                return WriteResult(op, key=key)
            return WriteResult(op, key=key, error=self._error(f"DELETE {key!r}: HTTP {status}"))
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
        response = self._call(f"writing {key!r}", lambda: client.put(url, body, _ICAL | condition))
        status = int(response.status)
        if status == 412:
            if op.action == "update" and op.etag is None:
                return WriteResult(op, key=key, error=NotFound(key, calendar=calendar))
            return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
        if status not in (200, 201, 204):
            return WriteResult(op, key=key, error=self._error(f"PUT {key!r}: HTTP {status}"))
        return WriteResult(op, key=key, etag=response.headers.get("ETag"))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        return f"<CaldavDriver {self.context.calendar!r} at {_safe(self.options.url)}>"


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


def _safe(url: str) -> str:
    """``url`` without ``user:password@``, fit for a message."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def _safe_text(text: str, options: CaldavOptions) -> str:
    """``text`` with the password blanked, in case a library quoted it."""
    secret = options.password.get_secret_value() if options.password else ""
    return text.replace(secret, "***") if secret else text
