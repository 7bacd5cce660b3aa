"""The ``google`` driver: one Google calendar, read incrementally, written in batches.

Reads list series natively (``singleEvents=false``). Google lists a series'
exceptions as separate items with ``recurringEventId``: a modified instance
becomes one of the series Event's ``overrides``, a cancelled instance of a live
series becomes an EXDATE, and a cancelled item without ``recurringEventId`` is a
deleted event (a tombstone). Incremental reads pass only ``syncToken`` (Google
rejects it together with timeMin/timeMax and friends); the new token is kept
only once the last page has been read. A 410 means :class:`CursorExpired`.

Writes: creates carry a client-chosen id derived from the engine's uid
(:func:`~syncfw_google.convert.event_id`), so a retried insert answers 409 and
the existing event is adopted when it is ours (marked with our uid), revived
when it was cancelled, and refused when it is someone else's. Updates and
deletes send ``If-Match``; deleting what is gone (404/410) is done. Google keeps
a deleted event (cancelled), and an update without ``If-Match`` brings it back
rather than answering 404. Ops go out in batch requests of ``batch_size``, each
sent whole before its results are yielded; transient failures of single parts are
retried in the next round, with the same backoff as single requests. A quota or
auth failure of one part stops the write after the results of the parts before it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from syncfw.errors import (
    CursorExpired,
    DriverError,
    NotFound,
    PreconditionFailed,
    RateLimited,
    SyncfwError,
)
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
from syncfw.sdk.fs import Remembered

from .convert import (
    UID_PROP,
    event_id,
    from_google,
    is_ours,
    override_body,
    parse_when,
    private_props,
    to_google,
)
from .options import GoogleOptions
from .transport import (
    Retrier,
    build_service,
    classify,
    error_reason,
    load_credentials,
    raise_fatal,
    retry_after,
)

__all__ = ["GoogleDriver"]

_SEND_UPDATES = {"none": "none", "all": "all", "external": "externalOnly"}
Outcome = tuple[Any, HttpError | None]


class GoogleDriver(Driver):
    """A Google calendar, chosen by id or by name (created when missing)."""

    name = "google"
    Options = GoogleOptions

    @classmethod
    def location(cls, options: GoogleOptions) -> str:
        return f"{options.base_endpoint}calendar/v3/calendars/{options.calendar}"

    capabilities = Capabilities(
        incremental=True,
        conditional_writes=True,
        native_recurrence=True,
        attendees=True,
        batch_size=50,
        client_ids=True,
    )

    def __init__(self, options: GoogleOptions, context: DriverContext) -> None:
        super().__init__(options, context)
        self.options: GoogleOptions = options
        self.capabilities = replace(type(self).capabilities, batch_size=options.batch_size)
        self.retrier = Retrier(options, context.calendar)
        self.batch_uri = options.base_endpoint + "batch/calendar/v3"
        self._service: Any = None
        self._calendar_id: str | None = None
        key = f"{options.base_endpoint}|{options.calendar}"
        self._remembered = Remembered(context.state_dir, "google-calendars.json", key)

    # -- plumbing ------------------------------------------------------------------

    @property
    def service(self) -> Any:
        """The API client, built on first use (credentials may need a file or a refresh)."""
        if self._service is None:
            credentials = load_credentials(
                self.options, self.context.calendar, profile=self.context.profile
            )
            self._service = build_service(self.options, credentials)
        return self._service

    @property
    def calendar_id(self) -> str:
        """The calendar's id; a display name is looked up, and created when missing.

        The id found for a name is remembered beside the state file, so a quiet run
        costs one request, not a calendar listing as well.
        """
        if self._calendar_id is None:
            found = self._remembered.get()
            if found is None:
                found = self._resolve_calendar(self.options.calendar)
                if found != self.options.calendar:
                    self._remembered.put(found)
            self._calendar_id = found
        return self._calendar_id

    def _marks(self, op: WriteOp) -> dict[str, str]:
        """Which profile and pair wrote the event, next to the syncfw marker."""
        marks = {"syncfw_profile": self.context.profile, "syncfw_pair": op.pair}
        return {k: v for k, v in marks.items() if v}

    def _forget_calendar_id(self) -> None:
        self._remembered.forget()

    def _resolve_calendar(self, wanted: str) -> str:
        if wanted == "primary" or "@" in wanted:
            return wanted
        page_token: str | None = None
        while True:
            page = self._run(
                self.service.calendarList().list(pageToken=page_token, maxResults=250),
                "list calendars",
            )
            for entry in page.get("items", ()):
                if wanted in (entry.get("id"), entry.get("summary")):
                    return str(entry["id"])
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        created = self._run(self.service.calendars().insert(body={"summary": wanted}), "create")
        return str(created["id"])

    def _run(self, request: Any, what: str) -> Any:
        return self.retrier.run(lambda: request.execute(num_retries=0), what)

    def _fail(self, what: str, err: HttpError) -> DriverError:
        reason = error_reason(err) or "error"
        return DriverError(
            f"{what}: Google answered {err.resp.status} {reason}", calendar=self.context.calendar
        )

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None

    def __repr__(self) -> str:
        return f"<GoogleDriver {self.context.calendar!r} calendar={self.options.calendar!r}>"

    # -- read ------------------------------------------------------------------------

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        # Every page is fetched here, so CursorExpired comes from read() itself and a
        # series' exceptions can be joined with it whatever page each landed on.
        items, next_token = self._list_all(cursor, window)
        changes = self._changes(items, complete=cursor is None)
        return Feed(_replay(changes, next_token), full=cursor is None)

    def _list_all(self, cursor: Cursor | None, window: Window) -> tuple[list[Any], str | None]:
        params: dict[str, Any] = {"calendarId": self.calendar_id, "maxResults": 2500}
        if cursor is None:
            params |= {
                "timeMin": window.start.isoformat(),
                "timeMax": window.end.isoformat(),
                "showDeleted": False,
                "singleEvents": False,
            }
        else:
            params["syncToken"] = cursor
        items: list[Any] = []
        page_token: str | None = None
        while True:
            request = self.service.events().list(**params, pageToken=page_token)
            try:
                page = self._run(request, "list events")
            except HttpError as err:
                if err.resp.status == 410:
                    raise CursorExpired(
                        "Google wants a full sync (410); reading everything",
                        calendar=self.context.calendar,
                    ) from None
                if err.resp.status == 404:  # a remembered id whose calendar is gone
                    self._forget_calendar_id()
                raise self._fail("list events", err) from None
            items.extend(page.get("items", ()))
            page_token = page.get("nextPageToken")
            if not page_token:
                return items, page.get("nextSyncToken")

    def _changes(self, items: list[Any], *, complete: bool) -> list[Change]:
        """Join series with their exceptions. ``complete``: ``items`` hold every exception
        (a full read); otherwise a touched series' exceptions are listed by its iCalUID."""
        tops: dict[str, Any] = {}
        children: dict[str, list[Any]] = {}
        for item in items:
            parent = item.get("recurringEventId")
            if parent:
                children.setdefault(parent, []).append(item)
            else:
                tops[item["id"]] = item
        for parent in children:
            if parent not in tops:
                series = self._get(parent)  # an exception changed, the series did not
                if series is not None:
                    tops[parent] = series
        changes = []
        for key, item in tops.items():
            if item.get("status") == "cancelled":
                changes.append(Change(key))
                continue
            if not complete and item.get("recurrence"):
                children[key] = self._exceptions(item)
            changes.append(self._series_change(key, item, children.get(key, [])))
        return changes

    def _series_change(self, key: str, item: Any, exceptions: list[Any]) -> Change:
        try:
            overrides: list[Event] = []
            exdates: list[datetime | date] = []
            for instance in exceptions:
                if instance.get("status") == "cancelled":
                    exdates.append(parse_when(instance["originalStartTime"])[0])
                else:
                    overrides.append(from_google(instance))
            event = from_google(item, overrides=overrides, exdates=exdates)
        except (KeyError, ValueError, TypeError) as err:
            return Change(key, etag=item.get("etag"), error=f"unreadable Google event: {err!r}")
        return Change(key, event, item.get("etag"))

    def _exceptions(self, series: Any) -> list[Any]:
        """Every exception (modified or cancelled instance) of ``series``: Google lists a
        series and its exceptions together under their shared iCalUID."""
        found: list[Any] = []
        page_token: str | None = None
        while True:
            request = self.service.events().list(
                calendarId=self.calendar_id,
                iCalUID=series["iCalUID"],
                showDeleted=True,
                pageToken=page_token,
            )
            try:
                page = self._run(request, f"list exceptions of {series['id']}")
            except HttpError as err:
                raise self._fail(f"list exceptions of {series['id']}", err) from None
            found += [i for i in page.get("items", ()) if i.get("recurringEventId") == series["id"]]
            page_token = page.get("nextPageToken")
            if not page_token:
                return found

    def _get(self, key: str) -> Any | None:
        request = self.service.events().get(calendarId=self.calendar_id, eventId=key)
        try:
            return self._run(request, f"get event {key}")
        except HttpError as err:
            if err.resp.status in (404, 410):
                return None
            raise self._fail(f"get event {key}", err) from None

    # -- write -----------------------------------------------------------------------

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        size = self.options.batch_size
        for first in range(0, len(ops), size):
            yield from self._write_chunk(ops[first : first + size])

    def _write_chunk(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        results: dict[int, WriteResult] = {}
        fatal: SyncfwError | None = None
        pending = list(range(len(ops)))
        attempt = 0
        while pending and fatal is None:
            outcomes = self._execute({i: self._request(ops[i]) for i in pending})
            retry, hint = [], None
            for i in pending:
                response, err = outcomes[i]
                if err is not None and classify(err) == "transient":
                    retry.append(i)
                    hint = max(hint or 0.0, retry_after(err) or 0.0) or None
                    continue
                try:
                    if err is not None:
                        raise_fatal(err, self.context.calendar)
                    results[i] = self._finish(ops[i], response, err)
                except SyncfwError as stop:
                    fatal = fatal or stop
            pending = retry
            if pending and fatal is None:
                if attempt >= self.retrier.retries:
                    for i in pending:
                        error = RateLimited(
                            "Google kept refusing this write; try again later",
                            retry_after=hint,
                            calendar=self.context.calendar,
                        )
                        results[i] = WriteResult(ops[i], key=ops[i].key, error=error)
                    pending = []
                else:
                    self.retrier.wait(attempt, hint)
                    attempt += 1
        for i in range(len(ops)):
            if i not in results:
                break
            yield results[i]
        if fatal is not None:
            raise fatal

    def _request(self, op: WriteOp) -> Any:
        events, cal = self.service.events(), self.calendar_id
        send = _SEND_UPDATES[op.notify]
        if op.action == "create":
            assert op.event is not None, "a create carries an event"
            return events.insert(
                calendarId=cal, body=to_google(op.event, marks=self._marks(op)), sendUpdates=send
            )
        key = op.key or (event_id(op.event.uid) if op.event else "")
        if op.action == "update":
            assert op.event is not None, "an update carries an event"
            body = to_google(op.event, with_id=False, marks=self._marks(op))
            request = events.update(calendarId=cal, eventId=key, body=body, sendUpdates=send)
        else:
            request = events.delete(calendarId=cal, eventId=key, sendUpdates=send)
        if op.etag:
            request.headers["If-Match"] = op.etag
        return request

    def _execute(self, requests: dict[int, Any]) -> dict[int, Outcome]:
        """Send the requests, as one batch when there are several; an outcome per request."""
        outcomes: dict[int, Outcome] = {}
        if len(requests) == 1:
            ((i, request),) = requests.items()
            try:
                outcomes[i] = (request.execute(num_retries=0), None)
            except HttpError as err:
                outcomes[i] = (None, err)
            return outcomes

        def collect(request_id: str, response: Any, exception: HttpError | None) -> None:
            outcomes[int(request_id)] = (response, exception)

        def send() -> None:
            outcomes.clear()
            batch = BatchHttpRequest(callback=collect, batch_uri=self.batch_uri)
            for i, request in requests.items():
                batch.add(request, request_id=str(i))
            batch.execute()

        self.retrier.run(send, f"batch of {len(requests)} writes")
        return outcomes

    def _finish(self, op: WriteOp, response: Any, err: HttpError | None) -> WriteResult:
        """The result of one op, doing what its answer requires (adopt, overrides)."""
        calendar = self.context.calendar
        status = int(err.resp.status) if err is not None else 200
        if op.action == "delete":
            key = op.key or (event_id(op.event.uid) if op.event else "")
            if err is None or status in (404, 410):
                return WriteResult(op, key=key)
            if status == 412:
                return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
            return WriteResult(op, key=key, error=self._fail(f"delete {key}", err))
        assert op.event is not None
        if op.action == "create" and status == 409:
            return self._adopt(op, op.event)
        key = op.key or event_id(op.event.uid)
        if err is not None:
            if status == 412:
                return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
            if status in (404, 410):
                return WriteResult(op, key=key, error=NotFound(key, calendar=calendar))
            return WriteResult(op, key=key, error=self._fail(f"{op.action} {key}", err))
        return self._with_overrides(op, op.event, response)

    def _adopt(self, op: WriteOp, event: Event) -> WriteResult:
        """A 409 on insert: the id is taken. Ours (an earlier, interrupted create): bring
        it up to date — reviving it if it was cancelled. Someone else's: refuse."""
        key = event_id(event.uid)
        existing = self._get(key)
        if existing is None:
            return WriteResult(op, key=key, error=NotFound(key, calendar=self.context.calendar))
        # A cancelled event comes back as its identity only; its id is a digest of our
        # uid, so reviving it touches nothing a person made and still has.
        revivable = existing.get("status") == "cancelled" and not private_props(existing)
        ours = is_ours(existing) and private_props(existing).get(UID_PROP) == event.uid
        if not (ours or revivable):
            message = f"event id {key} is taken by an event syncfw did not write; left alone"
            return WriteResult(
                op, key=key, error=DriverError(message, calendar=self.context.calendar)
            )
        request = self.service.events().update(
            calendarId=self.calendar_id,
            eventId=key,
            body=to_google(event, with_id=False),
            sendUpdates=_SEND_UPDATES[op.notify],
        )
        request.headers["If-Match"] = existing["etag"]
        try:
            response = self._run(request, f"adopt {key}")
        except HttpError as err:
            return WriteResult(op, key=key, error=self._fail(f"adopt {key}", err))
        return self._with_overrides(op, event, response)

    def _with_overrides(self, op: WriteOp, event: Event, response: Any) -> WriteResult:
        key, etag = str(response["id"]), response.get("etag")
        if not event.overrides:
            return WriteResult(op, key=key, etag=etag)
        for override in event.overrides:
            body = override_body(event, override, key)
            request = self.service.events().update(
                calendarId=self.calendar_id, eventId=body["id"], body=body
            )
            try:
                self._run(request, f"override {body['id']}")
            except HttpError as err:
                return WriteResult(op, key=key, error=self._fail(f"override {body['id']}", err))
        series = self._get(key)  # reads report the series' etag; return the same one
        return WriteResult(op, key=key, etag=series.get("etag") if series else etag)


def _replay(changes: list[Change], cursor: str | None) -> Generator[Change, None, str | None]:
    yield from changes
    return cursor
