"""A loopback emulator of the Microsoft Graph v1.0 calendar API, for syncfw's Outlook tests.

Why: the driver must be proven against Graph's *documented* behaviour (calendarView delta
rounds with $skiptoken/$deltatoken, @removed entries and 410, transactionId deduplication,
change keys and 412, JSON batching with dependsOn, throttling with Retry-After, extended
properties that only come back when expanded, recurrence expansion across DST) without network
access. Written from learn.microsoft.com/graph only (event, calendar, calendarView, event-delta,
delta-query-events, json-batching, throttling, extended-properties pages), not from the driver.

API (stable; the driver's tests rely on it)
-------------------------------------------
    emu = GraphEmulator(page_size=None, batch_limit=20, token="test-token",
                        user="user@example.com", users=("someone@example.com",),
                        delta_expired_code="SyncStateNotFound")   # or "resyncRequired"
    emu.start() -> emu; emu.stop()        # or `with GraphEmulator() as emu:`
    emu.endpoint                          # "http://127.0.0.1:PORT/"; the API is under
                                          # {endpoint}v1.0/, batches go to {endpoint}v1.0/$batch
    emu.token                             # accepted bearer token (None = accept any Bearer)

  Wire API (JSON; errors {"error": {"code", "message", "innerError": {"date", "request-id"}}};
  401 InvalidAuthenticationToken without `Authorization: Bearer <token>`). {mb} is /me (= user)
  or /users/{upn-or-id} for user and users (unknown -> 404 ResourceNotFound):
    GET  {mb}/calendars  ($top, $skip, $filter=name eq 'X')   POST {mb}/calendars {name}
         -> 201 (409 ErrorFolderExists)   GET|PATCH|DELETE {mb}/calendars/{cal}, GET {mb}/calendar
    POST {mb}/calendars/{cal}/events, {mb}/events (default calendar) -> 201; a transactionId
         already used in the mailbox returns that event (201) and creates nothing
    GET|PATCH|DELETE {mb}/events/{id}, {mb}/calendars/{cal}/events/{id}   (id may be an
         occurrence: PATCH makes an exception, DELETE cancels it; If-Match stale -> 412
         ErrorIrresolvableConflict; unknown -> 404 ErrorItemNotFound; DELETE -> 204)
    GET  {mb}[/calendars/{cal}|/calendar]/events     masters and single instances; $top
         (default 10), $skip, @odata.nextLink; $filter=singleValueExtendedProperties/Any(ep:
         ep/id eq '..' and ep/value eq '..'), `prop eq '..'` and `start/dateTime ge '..'`
         (eq ne ge gt le lt, start or end, compared in UTC), joined by `and`; others -> 400
    GET  {mb}[/calendars/{cal}|/calendar]/calendarView?startDateTime=&endDateTime= (400 without)
    GET  {mb}/events/{id}/instances?startDateTime=&endDateTime=
    GET  {mb}[/calendars/{cal}|/calendar]/calendarView/delta   see "Delta" below
    POST /v1.0/$batch  {"requests": [{id, method, url, headers, body, dependsOn}]} -> 200
         {"responses": [{id, status, headers, body}]}, returned in REVERSE order of execution
         (Graph: "in any order"); > batch_limit requests, duplicate ids or a dependsOn cycle
         -> 400 for the whole batch; a failed dependency -> 424 (that request is not run nor
         logged); an inner body without a Content-Type header -> inner 400.
  $expand=singleValueExtendedProperties($filter=id eq '..' [or id eq '..']) on GET event,
  events list, calendarView and instances; property ids match case-insensitively; without it
  extended properties are never returned. $select is accepted and ignored (full resources).
  Prefer: outlook.timezone="X" (Windows or IANA name) gives every start/end in X (default UTC)
  and a Preference-Applied header; all-day events keep their dates (midnight) in any zone.
  Validation (400): start/end need dateTime and timeZone; unknown zone ->
  TimeZoneNotSupportedException; end before start, or an all-day event not at midnight or not
  in one zone -> ErrorInvalidRequest; invalid recurrence -> ErrorInvalidRequest.

  Delta: the first call needs startDateTime/endDateTime; $expand/$select/$filter/$orderby/
  $search -> 400 ErrorInvalidUrlQuery (event-delta: not supported). Page size from
  `Prefer: odata.maxpagesize=N` (default 10; page_size caps it). Each page has value and
  either @odata.nextLink ($skiptoken) or, last, @odata.deltaLink ($deltatoken); tokens are
  opaque and carry the window. Items are instances (singleInstance, occurrence, exception;
  never masters, never extended properties). A deltaLink returns instances created or changed
  since (a master PATCH changes all its occurrences) and {"@odata.type":
  "#microsoft.graph.event", "id", "@removed": {"reason": "deleted"}} for deleted events,
  cancelled occurrences and instances that left the window. Expired or unknown tokens ->
  410 with code `delta_expired_code`.

  Recurrence: all six pattern types and three range types, expanded in
  range.recurrenceTimeZone (else the start's zone) on wall-clock time. Occurrence ids are
  stable (derived from the master id and original start); occurrences carry type occurrence,
  seriesMasterId, originalStart (UTC) and their own iCalUId; patched ones become type
  exception with the same id. Changing a master's start, end or recurrence discards its
  exceptions and cancellations (as Outlook warns it does).

Test-side API:
    emu.add_calendar(name, user=None) -> Calendar   # .id .name .owner .events (dict[id,
                                                    # stored resource: masters, singles and
                                                    # exceptions]) .cancelled
    emu.calendar(id_or_name, user=None) -> Calendar # KeyError when unknown; every user has a
                                                    # default calendar named "Calendar"
    emu.add_event(calendar_id_or_name, body, user=None) -> dict  # a person creating in Outlook
    emu.edit(event_id, user=None, **fields) -> dict  # a person editing (merge; new changeKey,
                                                     # @odata.etag, lastModifiedDateTime);
                                                     # an occurrence id makes an exception
    emu.delete_event(event_id, user=None)            # an occurrence id cancels it
    emu.instances(event_id, start, end, user=None) -> list[dict]  # occurrences + exceptions
    emu.expire_delta_tokens()                        # every issued token now gets 410
    emu.inject(status=429, *, retry_after=None, count=1, path=None, method=None, drop=False,
               in_batch=False, code=None)
        # the next `count` matching requests fail with `status`; code defaults per status:
        # 429 TooManyRequests (pass code="ApplicationThrottled" for Outlook's), 503
        # ServiceUnavailable, 504 GatewayTimeout, 401 InvalidAuthenticationToken, 500
        # generalException; Retry-After header when retry_after is given. `path` is a
        # substring of the (decoded) request path, e.g. "/events" or "/$batch". drop=True
        # closes the connection without a response. in_batch=True applies to the requests
        # inside a $batch instead: the batch answers 200 and that inner response carries the
        # status and Retry-After; an in_batch drop loses the whole batch reply after the
        # requests before it have run (what transactionId exists for).
    emu.requests: list[Request]   # Request(method, path (decoded, e.g. "/v1.0/me/events"),
                                  #   query: dict[str, list[str]], headers (no
                                  #   Authorization), body, in_batch)
        # every outer HTTP request AND every request inside a $batch (in_batch=True)
    emu.count(method=None, path_contains=None, in_batch=None) -> int
    emu.reset_log()
"""

from __future__ import annotations

from .events import present
from .resources import ApiError, Calendar, Mailbox, Request
from .server import GraphEmulator

__all__ = ["ApiError", "Calendar", "GraphEmulator", "Mailbox", "Request", "present"]
