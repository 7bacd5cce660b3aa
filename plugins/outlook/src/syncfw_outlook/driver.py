"""The ``outlook`` driver: one Outlook / Microsoft 365 calendar over Microsoft Graph v1.0.

Reads are Graph delta queries on the calendar's view of the pair's window
(``calendarView/delta``): every ``@odata.nextLink`` page is followed and the
``@odata.deltaLink`` becomes the cursor only after the last page; a token Graph
rejects (410) is :class:`CursorExpired`. A calendar view lists instances, never
series masters, and delta returns no extended properties, so after the delta the
driver fetches, in ``$batch`` requests, the syncfw marks of each changed single event
and each touched series master (with its recurrence); a touched series also lists its
instances in the window, so its exceptions become ``overrides`` and its missing
occurrences EXDATEs. An ``@removed`` id is asked for once more: Graph also removes
events that only left the window, and those are edits, not deletions; a removed
occurrence of a known series (:mod:`.cursor`) re-reads that series. An unchanged
calendar costs one request.

Writes go out in JSON ``$batch`` requests of up to 20, each sent whole before its
results are yielded; a part refused for its credentials stops the write there, after
the results of the parts before it. Creates carry syncfw's uid in a single-value
extended property (so a create lost by a killed run is found and adopted by the
engine) and a ``transactionId`` (so a POST retried in the same run does not make a
second event). Graph has no unique key for that uid: a create of a uid the calendar
already has makes a second event, which master push finds by the uid on its next read
and deletes (looking every create up first would double the requests of a batch). Updates
and deletes send ``If-Match``; 412 (or 409 ``ErrorIrresolvableConflict``) is
:class:`PreconditionFailed`; deleting what is gone is done. A series' overrides and
cancelled occurrences are written onto its occurrences after the master (:mod:`.series`).
A cursor the driver cannot use (garbled, or a link to another endpoint) is
:class:`CursorExpired`.
"""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from syncfw.errors import CursorExpired, DriverError, NotFound, PreconditionFailed
from syncfw.model import Change, Event, Window, as_utc
from syncfw.sdk.driver import (
    Capabilities,
    Cursor,
    Driver,
    DriverContext,
    Feed,
    WriteOp,
    WriteResult,
)
from syncfw.sdk.fs import Remembered

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
from .cursor import DeltaCursor, settled
from .options import OutlookOptions
from .series import etag_of, exception_span, master_etag, series_change, stale_exceptions
from .transport import READ_PREFER, Graph, Reply, Request

__all__ = ["OutlookDriver"]

#: The codes Graph answers a delta token it no longer knows with (410 Gone).
EXPIRED_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
Json = dict[str, Any]
_EXPAND_FULL = "?$expand=" + urllib.parse.quote(EXPAND, safe="")
_EXPAND_MARKS = "?$select=id&$expand=" + urllib.parse.quote(EXPAND, safe="")
_GONE = (404, 410)


class OutlookDriver(Driver):
    """An Outlook calendar, chosen by id or by name (created when missing)."""

    name = "outlook"
    Options = OutlookOptions

    @classmethod
    def location(cls, options: OutlookOptions) -> str:
        return f"{options.api}{options.mailbox}/calendars/{options.calendar}"

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
        #: Makes this driver's transactionIds its own: a POST it retries is recognised,
        #: a create of the same event in a later run (after a deletion) is not refused.
        self._nonce = secrets.token_hex(8)
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
            main_resource=self.options.mailbox,
        )
        calendars = self.graph.call(lambda: list(schedule.list_calendars()), "list calendars")
        for calendar in calendars:
            if wanted in (calendar.calendar_id, calendar.name):
                return str(calendar.calendar_id)
        for calendar in calendars:  # Outlook's names are case-insensitive: no second one
            if str(calendar.name).casefold() == wanted.casefold():
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
        state = self._cursor(cursor) if cursor is not None else None
        entries, link = self._delta(state.link if state else None, window)
        known = DeltaCursor(link, dict(state.occurrences) if state else {})
        changes = self._changes(entries, known, complete=state is None, window=window)
        return Feed(_replay(changes, known.dump()), full=state is None)

    def _cursor(self, cursor: Cursor) -> DeltaCursor:
        """The stored cursor; CursorExpired for one the driver cannot use."""
        try:
            state = DeltaCursor.load(cursor)
        except ValueError as err:
            message = f"{err}; reading everything"
            raise CursorExpired(message, calendar=self.context.calendar) from None
        if not self.graph.follows(state.link):  # the endpoint changed: no use (nor safe)
            raise CursorExpired(
                f"the cursor's delta link is not to {self.options.api}; reading everything",
                calendar=self.context.calendar,
            )
        return state

    def _delta(self, link: str | None, window: Window) -> tuple[dict[str, Json | None], str]:
        """Every page of one delta round: the latest state per id (None: removed)."""
        headers = {"Prefer": f"{READ_PREFER}, odata.maxpagesize={self.options.page_size}"}
        if link is None:
            query = urllib.parse.urlencode(
                {"startDateTime": _iso(window.start), "endDateTime": _iso(window.end)}
            )
            url = f"{self._calendar_path()}/calendarView/delta?{query}"
        else:
            url = link
        entries: dict[str, Json | None] = {}
        next_link: str | None = None
        for page in self.graph.pages(Request("GET", url, headers=headers), "read changes"):
            if isinstance(page, Reply):
                raise self._read_failed(page, expired_ok=link is not None)
            for item in page.get("value", ()):
                entries[str(item["id"])] = None if "@removed" in item else item
            next_link = page.get("@odata.deltaLink") or next_link
        if not next_link:
            raise DriverError(
                "the delta round ended without a deltaLink; nothing was taken from it",
                calendar=self.context.calendar,
            )
        return entries, str(next_link)

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
        self,
        entries: dict[str, Json | None],
        known: DeltaCursor,
        *,
        complete: bool,
        window: Window,
    ) -> list[Change]:
        singles: dict[str, Json] = {}
        series: dict[str, list[Json]] = {}
        removed: list[str] = []
        for key, item in entries.items():
            if item is None:
                of = known.series_of(key)
                if of is not None:
                    series.setdefault(of, [])  # a cancelled occurrence: read the series
                else:
                    removed.append(key)  # deleted, or only left the window
            elif item.get("seriesMasterId"):
                series.setdefault(str(item["seriesMasterId"]), []).append(item)
            elif item.get("type") == "seriesMaster":
                series.setdefault(key, [])
            else:
                singles[key] = item
        fetched = self._fetch_many(list(singles), full=False)
        fetched |= self._fetch_many([*removed, *series], full=True)
        changes: list[Change] = []
        for key in removed:
            reply = fetched[key]
            if reply.ok and isinstance(reply.body, dict) and reply.body.get("seriesMasterId"):
                of = str(reply.body["seriesMasterId"])  # an occurrence out of the window
                if of not in series:
                    series[of] = []
                    fetched |= self._fetch_many([of], full=True)
            elif reply.ok and isinstance(reply.body, dict):
                changes.append(self._single_change(key, reply.body, reply))  # moved away
            else:
                changes.append(self._gone_or_unreadable(key, reply))
        for key, item in singles.items():
            changes.append(self._single_change(key, item, fetched[key]))
        for key, instances in series.items():
            answer = fetched[key]
            if not answer.ok:
                known.forget(key)
                changes.append(self._gone_or_unreadable(key, answer))
                continue
            if not complete:
                instances = self._instances(key, window)
            known.remember(key, (str(i["id"]) for i in instances))
            changes.append(series_change(key, answer.body, instances, window))
        return changes

    def _gone_or_unreadable(self, key: str, reply: Reply) -> Change:
        if reply.status in _GONE:
            return Change(key)
        return Change(key, error=f"cannot read it ({reply.summary}); not taken for deleted")

    def _fetch_many(self, keys: list[str], *, full: bool) -> dict[str, Reply]:
        """Each event with syncfw's marks (or in full), in $batch requests."""
        query = _EXPAND_FULL if full else _EXPAND_MARKS
        requests = [
            Request("GET", self._event_url(key, query), headers={"Prefer": READ_PREFER})
            for key in keys
        ]
        replies: dict[str, Reply] = {}
        size = self.options.batch_size
        for first in range(0, len(requests), size):
            answers = self.graph.batch(requests[first : first + size], "read syncfw's marks")
            for answer in answers:
                self.graph.check_auth(answer, "read syncfw's marks")
            replies.update(zip(keys[first : first + size], answers, strict=True))
        return replies

    def _single_change(self, key: str, item: Json, marked: Reply) -> Change:
        etag = etag_of(item)
        if not marked.ok:
            if marked.status in _GONE:
                return Change(key)  # deleted since the delta listed it
            error = f"cannot read its syncfw marks ({marked.summary})"
            return Change(key, etag=etag, error=error)
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
                if page.status in _GONE:
                    return []
                raise DriverError(
                    f"list the instances of {key}: Microsoft Graph answered {page.summary}",
                    calendar=self.context.calendar,
                )
            found.extend(page.get("value", ()))
        return found

    # -- write -----------------------------------------------------------------------

    def series_problem(self, event: Event) -> str | None:
        return super().series_problem(event) or series_problem(event)

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
        headers = {"If-Match": master_etag(op.etag)} if op.etag else {}
        if op.action == "create":
            assert op.event is not None, "a create carries an event"
            body = to_graph(op.event, by=self._by(op), create=True, nonce=self._nonce)
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
        # Refused credentials stop the write here, after the results before this op.
        self.graph.check_auth(reply, f"{op.action} {key or 'new event'}")
        if op.action == "delete":
            if reply.ok or reply.status in _GONE:
                return WriteResult(op, key=key)
        elif reply.ok and isinstance(reply.body, dict):
            if op.event is not None and op.event.recurring:
                return self._write_exceptions(op, reply.body, op.event)
            return WriteResult(op, key=str(reply.body["id"]), etag=etag_of(reply.body))
        if reply.status == 412 or (
            reply.status == 409 and reply.code == "ErrorIrresolvableConflict"
        ):
            # Exchange reports a stale change key as 409 too
            return WriteResult(op, key=key, error=PreconditionFailed(key or "", calendar=calendar))
        if reply.status in _GONE and key:
            return WriteResult(op, key=key, error=NotFound(key, calendar=calendar))
        error = DriverError(
            f"{op.action} {key or 'new event'}: Microsoft Graph answered {reply.detail}",
            calendar=calendar,
        )
        return WriteResult(op, key=key, error=error)

    def _write_exceptions(self, op: WriteOp, written: Json, event: Event) -> WriteResult:
        """Make the series' overrides and EXDATEs real on its occurrences. An update whose
        Outlook copy keeps exceptions or cancellations the event dropped makes the series
        anew: Graph cannot bring a cancelled occurrence back."""
        key, etag = str(written["id"]), etag_of(written)
        if not event.overrides and not event.exdates and op.action == "create":
            return WriteResult(op, key=key, etag=etag)
        span = exception_span(event)
        instances = self._instances(key, span)
        if op.action == "update" and stale_exceptions(event, instances, span):
            key, failed = self._make_anew(op, key, event)
            if failed is not None:
                return failed
            etag, instances = None, self._instances(key, span)
        occurrences = {original_start(i): i for i in instances if i.get("originalStart")}
        changes: list[Request] = []
        for override in event.overrides:
            found = occurrences.get(as_utc(override.recurrence_id or override.start))
            if found is None:
                continue
            if override.status == "cancelled":
                changes.append(Request("DELETE", self._event_url(str(found["id"]))))
            else:
                body = override_body(override)
                changes.append(Request("PATCH", self._event_url(str(found["id"])), body))
        for gone in event.exdates:
            found = occurrences.get(as_utc(gone))
            if found is not None:
                changes.append(Request("DELETE", self._event_url(str(found["id"]))))
        size = self.options.batch_size
        for first in range(0, len(changes), size):
            what = f"write the exceptions of {key}"
            for reply in self.graph.batch(changes[first : first + size], what):
                self.graph.check_auth(reply, what)
                if not reply.ok and reply.status not in _GONE:
                    message = f"{what}: Microsoft Graph answered {reply.summary}"
                    error = DriverError(message, calendar=self.context.calendar)
                    return WriteResult(op, key=key, error=error)
        # With exceptions written, the series' etag is the next read's to tell (None): that
        # also tells settle() that exceptions of this series are this run's own.
        return WriteResult(op, key=key, etag=None if changes else etag)

    def _make_anew(self, op: WriteOp, key: str, event: Event) -> tuple[str, WriteResult | None]:
        """Delete the series and create it again; its new key, or the failure."""
        gone = self.graph.send(Request("DELETE", self._event_url(key)), f"make {key} anew")
        if not gone.ok and gone.status not in _GONE:
            return key, self._finish(replace(op, action="delete"), gone)
        created = self.graph.send(self._request(replace(op, action="create", key=None)), "create")
        if not created.ok or not isinstance(created.body, dict):
            return key, self._finish(replace(op, action="create", key=None), created)
        return str(created.body["id"]), None

    # -- settle ------------------------------------------------------------------------

    def settle(self, cursor: Cursor, ours: Mapping[str, str | None]) -> Cursor | None:
        """The next cursor when every change since ``cursor`` is one of this run's writes:
        one delta round, judged by :func:`.cursor.settled`."""
        try:
            state = DeltaCursor.load(cursor)
        except ValueError:
            return None
        if not self.graph.follows(state.link):
            return None
        headers = {"Prefer": f"{READ_PREFER}, odata.maxpagesize={self.options.page_size}"}
        pages = self.graph.pages(Request("GET", state.link, headers=headers), "settle")
        moved = settled(state, pages, ours)
        return moved.dump() if moved is not None else None


def _iso(moment: datetime | date) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(key: str) -> str:
    return urllib.parse.quote(key, safe="")


def _replay(changes: list[Change], cursor: str | None) -> Generator[Change, None, str | None]:
    yield from changes
    return cursor
