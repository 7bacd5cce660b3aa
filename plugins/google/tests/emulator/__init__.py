"""A loopback emulator of the Google Calendar API v3, for syncfw's Google driver tests.

Why: the driver must be proven against Google's *documented* behaviour (sync tokens and 410,
paging with short/empty pages, client-chosen ids and 409, etags and 412, batch, quota faults)
without network access. This module follows developers.google.com/calendar/api docs only.

API (stable; the driver's tests rely on it)
-------------------------------------------
    emu = GoogleEmulator(page_size=None, batch_limit=1000, token="test-token",
                         user="user@example.com")   # batch guide: max 1000 calls per batch
    emu.start(); ...; emu.stop()          # or `with GoogleEmulator() as emu:`
    emu.endpoint                          # "http://127.0.0.1:PORT/"; requests go to
                                          # {endpoint}calendar/v3/..., batches to
                                          # {endpoint}batch/calendar/v3
    emu.token                             # accepted bearer token (None = accept any Bearer)

  Wire API served (JSON, Google error format {"error": {"code", "message", "errors": [{
  "domain", "reason", "message"}]}}; 401 `authError` without `Authorization: Bearer <token>`):
    GET    users/me/calendarList                      (maxResults, pageToken)
    POST   calendars            GET calendars/{cal}   (cal may be "primary")
    GET    calendars/{cal}/events                     events.list, see below
    POST   calendars/{cal}/events                     insert (client `id` optional; sendUpdates)
    POST   calendars/{cal}/events/import              import (iCalUID required)
    GET    calendars/{cal}/events/{id}                get (If-None-Match -> 304)
    PUT    calendars/{cal}/events/{id}                update (If-Match -> 412 conditionNotMet)
    PATCH  calendars/{cal}/events/{id}                patch  (If-Match)
    DELETE calendars/{cal}/events/{id}                delete (If-Match; 410 `deleted` if already
                                                      deleted, 404 `notFound` if never existed)
    GET    calendars/{cal}/events/{id}/instances      instances of a recurring event
    POST   batch/calendar/v3                          multipart/mixed batch (> batch_limit
                                                      parts -> 400 badRequest)
  events.list params: maxResults (default 250, capped by emu.page_size when set), pageToken,
  syncToken, showDeleted, singleEvents, timeMin, timeMax, q, iCalUID, updatedMin, orderBy,
  privateExtendedProperty (k=v, repeatable), sharedExtendedProperty. nextSyncToken only on the
  last page; syncToken + a forbidden param -> 400; expired/unknown token -> 410 fullSyncRequired.

  HOW TO POINT google-api-python-client AT IT (checked against googleapiclient 2.202):
    `client_options={"api_endpoint": X}` REPLACES rootUrl+servicePath (it is not joined with
    "calendar/v3/"), so pass api_endpoint=emu.endpoint + "calendar/v3/". And
    service.new_batch_http_request() IGNORES api_endpoint (it uses the discovery doc's
    rootUrl, https://www.googleapis.com/); build the batch yourself:
    googleapiclient.http.BatchHttpRequest(callback=cb, batch_uri=emu.endpoint +
    "batch/calendar/v3"). See emulator.build_service() / emulator.new_batch() helpers.

Test-side API:
    emu.calendar(cal_id) -> Calendar      # "primary" works; Calendar.events: dict[id, dict]
                                          # (stored resources, including cancelled ones)
    emu.add_calendar(summary, cal_id=None) -> Calendar
    emu.edit(cal_id, event_id, **fields) -> dict   # simulate a user edit in Google (new etag)
    emu.delete_event(cal_id, event_id)     # simulate a user deleting in Google
    emu.expire_sync_tokens()               # every issued syncToken now gets 410
    emu.inject(status=429, *, reason=None, retry_after=None, count=1, path=None,
               method=None, drop=False, in_batch=False)
        # the next `count` matching requests fail with `status` (reason defaulted per status:
        # 429 rateLimitExceeded, 403 rateLimitExceeded, 500 backendError, 503 backendError,
        # 401 authError); reason="userRateLimitExceeded" / "quotaExceeded" /
        # "dailyLimitExceeded" for 403s; `path` is a substring of the request path;
        # drop=True closes the connection without a response. in_batch=True applies to inner
        # batch parts instead of outer HTTP requests (default: outer requests only).
    emu.inject_empty_page(count=1)         # next `count` list pages are empty but carry a
                                           # nextPageToken (documented as possible)
    emu.requests: list[Request]            # Request(method, path, query: dict[str, list[str]],
                                           #   headers: dict (no Authorization), body: Any,
                                           #   in_batch: bool)
        # every outer HTTP request AND each inner batch part is logged (in_batch=True for parts)
    emu.count(method=None, path_contains=None, in_batch=None) -> int
    emu.reset_log()
    emu.send_updates: list[tuple[method, event_id, value-or-None]]  # sendUpdates seen on writes
"""

from __future__ import annotations

from .resources import ApiError, Calendar, Request
from .server import GoogleEmulator, build_service, new_batch

__all__ = ["ApiError", "Calendar", "GoogleEmulator", "Request", "build_service", "new_batch"]
