"""The ``outlook`` driver: one Outlook / Microsoft 365 calendar over Microsoft Graph v1.0.

Reads are Graph delta queries on the calendar's view of the pair's window
(``calendarView/delta``): every ``@odata.nextLink`` page is followed and the
``@odata.deltaLink`` becomes the cursor only after the last page; ``@removed``
items are deletions; a token Graph rejects (410) is :class:`CursorExpired`.
A calendar view lists instances, never series masters, and delta returns no
extended properties, so after the delta the driver fetches, in ``$batch``
requests, the syncfw marker of each changed single event and each touched series
master (with its recurrence); a touched series also lists its instances in the
window, so its exceptions become ``overrides`` and its missing occurrences EXDATEs.
An unchanged calendar costs one request.

Writes go out in JSON ``$batch`` requests of up to 20. Creates carry syncfw's uid in
a single-value extended property (so a create lost by a killed run is found and
adopted by the engine) and a ``transactionId`` derived from it (so a retried POST
does not make a second event). Updates and deletes send ``If-Match``; 412 is
:class:`PreconditionFailed`; deleting what is gone is done. A series' overrides and
cancelled occurrences are written onto its occurrences after the master.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from syncfw.driver import Capabilities, Cursor, Driver, DriverContext, Feed, WriteOp, WriteResult
from syncfw.errors import CursorExpired, DriverError, NotFound, PreconditionFailed
from syncfw.fs import Remembered
from syncfw.model import Change, Event, Window, as_utc
from syncfw.recurrence import expand

from . import recurrence
from .convert import (
    EXPAND,
    from_graph,
    marks,
    original_start,
    override_body,
    series_problem,
    to_graph,
)
from .options import OutlookOptions
from .transport import READ_PREFER, Graph, Reply, Request

__all__ = ["OutlookDriver"]

#: The codes Graph answers a delta token it no longer knows with (410 Gone).
EXPIRED_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
Json = dict[str, Any]
_EXPAND_FULL = "?$expand=" + urllib.parse.quote(EXPAND, safe="")
_EXPAND_MARKS = "?$select=id&$expand=" + urllib.parse.quote(EXPAND, safe="")


class OutlookDriver(Driver):
    """An Outlook calendar, chosen by id or by name (created when missing)."""

    name = "outlook"
    Options = OutlookOptions
    capabilities = Capabilities(
        incremental=True,
        conditional_writes=True,
        native_recurrence=True,
        attendees=True,
        batch_size=20,
        client_ids=True,
    )

    def __init__(self, options: OutlookOptions, context: DriverContext) -> None:
        super().__init__(options, context)
        self.options: OutlookOptions = options
        self.capabilities = replace(type(self).capabilities, batch_size=options.batch_size)
        self.graph = Graph(options, context.calendar, context.profile)
        self._calendar_id: str | None = None
        key = f"{options.api}|{options.mailbox}|{options.calendar}"
        self._remembered = Remembered(context.state_dir, "outlook-calendars.json", key)

    def close(self) -> None:
        self.graph.close()

    def __repr__(self) -> str:
        return f"<OutlookDriver {self.context.calendar!r} calendar={self.options.calendar!r}>"

    # -- the calendar ----------------------------------------------------------------

    @property
    def calendar_id(self) -> str:
        """The calendar's id; a name is looked up (and the calendar created when missing).

        What the option resolved to is remembered beside the state file (an id too: it
        cannot be told from a name without asking), so a quiet run costs one request.
        """
        if self._calendar_id is None:
            found = self._remembered.get()
            if found is None:
                found = self._resolve_calendar(self.options.calendar)
                self._remembered.put(found)
            self._calendar_id = found
        return self._calendar_id

    def _forget_calendar_id(self) -> None:
        self._calendar_id = None
        self._remembered.forget()

    def _resolve_calendar(self, wanted: str) -> str:
        """Through O365's Schedule: the calendar with this id or name, created if missing."""
        from O365.calendar import Schedule

        from .auth import graph_protocol

        schedule = Schedule(
            con=self.graph.connection,
            protocol=graph_protocol(self.options),
            main_resource=self.options.user or "me",
        )
        for calendar in self.graph.call(lambda: list(schedule.list_calendars()), "list calendars"):
            if wanted in (calendar.calendar_id, calendar.name):
                return str(calendar.calendar_id)
        created = self.graph.call(lambda: schedule.new_calendar(wanted), f"create {wanted!r}")
        if created is None or not created.calendar_id:
            raise DriverError(
                f"could not create the calendar {wanted!r}", calendar=self.context.calendar
            )
        return str(created.calendar_id)

    def _calendar_path(self) -> str:
        return f"{self.options.mailbox}/calendars/{_quote(self.calendar_id)}"

    def _event_url(self, key: str, query: str = "") -> str:
        return f"{self.options.mailbox}/events/{_quote(key)}{query}"

    # -- read ------------------------------------------------------------------------

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        if cursor is not None and not self.graph.follows(cursor):
            cursor = None  # the endpoint changed: the old link is no use (nor safe)
        entries, link = self._delta(cursor, window)
        changes = self._changes(entries, complete=cursor is None, window=window)
        return Feed(_replay(changes, link), full=cursor is None)

    def _delta(self, cursor: Cursor | None, window: Window) -> tuple[dict[str, Json | None], str]:
        """Every page of one delta round: the latest state per id (None: removed)."""
        headers = {"Prefer": f"{READ_PREFER}, odata.maxpagesize={self.options.page_size}"}
        if cursor is None:
            query = urllib.parse.urlencode(
                {"startDateTime": _iso(window.start), "endDateTime": _iso(window.end)}
            )
            url = f"{self._calendar_path()}/calendarView/delta?{query}"
        else:
            url = cursor
        entries: dict[str, Json | None] = {}
        link: str | None = None
        for page in self.graph.pages(Request("GET", url, headers=headers), "read changes"):
            if isinstance(page, Reply):
                raise self._read_failed(page, expired_ok=cursor is not None)
            for item in page.get("value", ()):
                entries[str(item["id"])] = None if "@removed" in item else item
            link = page.get("@odata.deltaLink") or link
        if not link:
            raise DriverError(
                "the delta round ended without a deltaLink; nothing was taken from it",
                calendar=self.context.calendar,
            )
        return entries, str(link)

    def _read_failed(self, reply: Reply, *, expired_ok: bool) -> DriverError:
        if expired_ok and (reply.status == 410 or reply.code.lower() in EXPIRED_CODES):
            return CursorExpired(
                f"Graph no longer knows the delta token ({reply.summary}); reading everything",
                calendar=self.context.calendar,
            )
        if reply.status == 404:  # a remembered id whose calendar is gone
            self._forget_calendar_id()
        return DriverError(
            f"read changes: Microsoft Graph answered {reply.summary}".rstrip()
            + "; nothing was taken from this read",
            calendar=self.context.calendar,
        )

    def _changes(
        self, entries: dict[str, Json | None], *, complete: bool, window: Window
    ) -> list[Change]:
        singles: dict[str, Json] = {}
        series: dict[str, list[Json]] = {}
        changes: list[Change] = []
        for key, item in entries.items():
            if item is None:
                changes.append(Change(key))  # deleted, cancelled, or left the window
            elif item.get("seriesMasterId"):
                series.setdefault(str(item["seriesMasterId"]), []).append(item)
            elif item.get("type") == "seriesMaster":
                series.setdefault(key, [])
            else:
                singles[key] = item
        marked = self._fetch_many([*singles, *series], full=set(series))
        for key, item in singles.items():
            changes.append(self._single_change(key, item, marked[key]))
        for key, instances in series.items():
            if not complete:
                instances = self._instances(key, window)
            changes.append(self._series_change(key, marked[key], instances, window))
        return changes

    def _fetch_many(self, keys: list[str], *, full: set[str]) -> dict[str, Reply]:
        """Each event with syncfw's marks (series masters in full), in $batch requests."""
        headers = {"Prefer": READ_PREFER}
        requests = [
            Request(
                "GET",
                self._event_url(key, _EXPAND_FULL if key in full else _EXPAND_MARKS),
                headers=headers,
            )
            for key in keys
        ]
        replies: dict[str, Reply] = {}
        size = self.options.batch_size
        for first in range(0, len(requests), size):
            answers = self.graph.batch(requests[first : first + size], "read syncfw's marks")
            replies.update(zip(keys[first : first + size], answers, strict=True))
        return replies

    def _single_change(self, key: str, item: Json, marked: Reply) -> Change:
        if marked.status == 404:
            return Change(key)  # deleted since the delta listed it
        etag = item.get("@odata.etag")
        if not marked.ok:
            return Change(
                key,
                etag=etag,
                error=f"cannot read its syncfw marks ({marked.summary})",
            )
        try:
            event = from_graph(item, props=marks(marked.body))
        except (KeyError, ValueError, TypeError) as err:
            return Change(key, etag=etag, error=f"unreadable Outlook event: {err!r}")
        return Change(key, event, etag)

    def _instances(self, key: str, window: Window) -> list[Json]:
        query = urllib.parse.urlencode(
            {"startDateTime": _iso(window.start), "endDateTime": _iso(window.end)}
        )
        request = Request(
            "GET", self._event_url(key, f"/instances?{query}"), headers={"Prefer": READ_PREFER}
        )
        found: list[Json] = []
        for page in self.graph.pages(request, f"list the instances of {key}"):
            if isinstance(page, Reply):
                if page.status == 404:
                    return []
                raise DriverError(
                    f"list the instances of {key}: Microsoft Graph answered {page.summary}",
                    calendar=self.context.calendar,
                )
            found.extend(page.get("value", ()))
        return found

    def _series_change(
        self, key: str, master: Reply, instances: list[Json], window: Window
    ) -> Change:
        if master.status == 404:
            return Change(key)
        if not master.ok:
            return Change(key, error=f"cannot read the series ({master.summary})")
        item = master.body
        try:
            props = marks(item)
            exceptions = [i for i in instances if i.get("type") == "exception"]
            overrides = [from_graph(i, props=props) for i in exceptions]
            series = from_graph(item, props=props, overrides=overrides)
            present = {original_start(i) for i in instances if i.get("originalStart")}
            expected = expand(key, series.replace(overrides=()), start=window.start, end=window.end)
            exdates = [
                i.recurrence_id
                for _, i in expected
                if i.recurrence_id is not None and as_utc(i.recurrence_id) not in present
            ]
            event = series.replace(exdates=tuple(exdates)) if exdates else series
        except (KeyError, ValueError, TypeError) as err:
            return Change(
                key, etag=item.get("@odata.etag"), error=f"unreadable Outlook series: {err!r}"
            )
        return Change(key, event, _series_etag(item, exceptions, exdates))

    # -- write -----------------------------------------------------------------------

    def series_problem(self, event: Event) -> str | None:
        return series_problem(event)

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        size = self.options.batch_size
        for first in range(0, len(ops), size):
            yield from self._write_chunk(ops[first : first + size])

    def _write_chunk(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        requests: dict[int, Request] = {}
        refused: dict[int, WriteResult] = {}
        for i, op in enumerate(ops):
            try:
                requests[i] = self._request(op)
            except recurrence.Inexpressible as err:
                message = (
                    f"Outlook cannot store this series ({err}); use recurrence: {{mode: expand}}"
                )
                refused[i] = WriteResult(
                    op, key=op.key, error=DriverError(message, calendar=self.context.calendar)
                )
        order = sorted(requests)
        replies = (
            dict(zip(order, self.graph.batch([requests[i] for i in order], "write"), strict=True))
            if order
            else {}
        )
        for i, op in enumerate(ops):
            yield refused[i] if i in refused else self._finish(op, replies[i])

    def _by(self, op: WriteOp) -> str:
        return ":".join(part for part in (self.context.profile, op.pair) if part)

    def _request(self, op: WriteOp) -> Request:
        headers = {"If-Match": _master_etag(op.etag)} if op.etag else {}
        if op.action == "create":
            assert op.event is not None, "a create carries an event"
            body = to_graph(op.event, by=self._by(op), create=True)
            url = f"{self._calendar_path()}/events"
            return Request("POST", url, body, {"Prefer": READ_PREFER})
        assert op.key is not None, f"an {op.action} names its item"
        if op.action == "update":
            assert op.event is not None, "an update carries an event"
            body = to_graph(op.event, by=self._by(op))
            return Request(
                "PATCH", self._event_url(op.key), body, {**headers, "Prefer": READ_PREFER}
            )
        return Request("DELETE", self._event_url(op.key), headers=headers)

    def _finish(self, op: WriteOp, reply: Reply) -> WriteResult:
        calendar = self.context.calendar
        key = op.key
        if op.action == "delete":
            if reply.ok or reply.status in (404, 410):
                return WriteResult(op, key=key)
        elif reply.ok and isinstance(reply.body, dict):
            key = str(reply.body["id"])
            etag = reply.body.get("@odata.etag")
            if op.event is not None and (op.event.overrides or op.event.exdates):
                return self._write_exceptions(op, key, op.event)
            return WriteResult(op, key=key, etag=etag)
        if reply.status == 412:
            return WriteResult(op, key=key, error=PreconditionFailed(key or "", calendar=calendar))
        if reply.status == 404 and key:
            return WriteResult(op, key=key, error=NotFound(key, calendar=calendar))
        detail = _error_message(reply)
        error = DriverError(
            f"{op.action} {key or 'new event'}: Microsoft Graph answered {reply.status} {detail}",
            calendar=calendar,
        )
        return WriteResult(op, key=key, error=error)

    def _write_exceptions(self, op: WriteOp, key: str, event: Event) -> WriteResult:
        """Make the series' overrides and EXDATEs real on its occurrences, one by one."""
        originals = [o.recurrence_id for o in event.overrides if o.recurrence_id is not None]
        originals += list(event.exdates)
        span = [as_utc(v) for v in originals]
        window = Window(min(span) - timedelta(days=1), max(span) + timedelta(days=2))
        occurrences = {
            original_start(i): i for i in self._instances(key, window) if i.get("originalStart")
        }
        changes: list[Request] = []
        for override in event.overrides:
            found = (
                occurrences.get(as_utc(override.recurrence_id)) if override.recurrence_id else None
            )
            if found is not None:
                body = override_body(override)
                changes.append(Request("PATCH", self._event_url(str(found["id"])), body))
        for gone in event.exdates:
            found = occurrences.get(as_utc(gone))
            if found is not None:
                changes.append(Request("DELETE", self._event_url(str(found["id"]))))
        size = self.options.batch_size
        for first in range(0, len(changes), size):
            for reply in self.graph.batch(
                changes[first : first + size], f"write the exceptions of {key}"
            ):
                if not reply.ok and reply.status != 404:
                    message = (
                        f"write an exception of {key}: Microsoft Graph answered {reply.summary}"
                    )
                    return WriteResult(
                        op, key=key, error=DriverError(message, calendar=self.context.calendar)
                    )
        return WriteResult(op, key=key, etag=None)  # the next read tells the series' etag

    # -- settle ------------------------------------------------------------------------

    def settle(self, cursor: Cursor, ours: Mapping[str, str | None]) -> Cursor | None:
        """The next deltaLink when every change since ``cursor`` is one of this run's writes."""
        if not self.graph.follows(cursor):
            return None
        headers = {"Prefer": f"{READ_PREFER}, odata.maxpagesize={self.options.page_size}"}
        link: str | None = None
        for page in self.graph.pages(Request("GET", cursor, headers=headers), "settle"):
            if isinstance(page, Reply):
                return None
            for item in page.get("value", ()):
                key = str(item["id"])
                if "@removed" in item:
                    if key in ours and ours[key] is None:
                        continue
                    return None
                master = item.get("seriesMasterId")
                if master is not None:
                    if str(master) in ours:
                        continue
                    return None
                if (
                    key not in ours
                    or ours[key] is None
                    or _master_etag(ours[key]) != item.get("@odata.etag")
                ):
                    return None
            link = page.get("@odata.deltaLink") or link
        return link


def _series_etag(master: Json, exceptions: list[Json], exdates: list[Any]) -> str | None:
    """The master's etag, followed by a digest of its exceptions and cancellations, so an
    edited occurrence shows as a change of the series."""
    etag = master.get("@odata.etag")
    if not exceptions and not exdates:
        return str(etag) if etag is not None else None
    parts = sorted(
        f"{i.get('id')}={i.get('@odata.etag') or i.get('changeKey')}" for i in exceptions
    )
    parts += sorted(str(as_utc(d) if isinstance(d, datetime) else d) for d in exdates)
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()
    return f"{etag}|{digest}"


def _master_etag(etag: str | None) -> str:
    return (etag or "").split("|", 1)[0]


def _error_message(reply: Reply) -> str:
    try:
        message = str(reply.body["error"]["message"])
    except (KeyError, TypeError):
        message = ""
    return f"{reply.code} {message}".strip()[:300]


def _iso(moment: datetime | date) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(key: str) -> str:
    return urllib.parse.quote(key, safe="")


def _replay(changes: list[Change], cursor: str | None) -> Generator[Change, None, str | None]:
    yield from changes
    return cursor
