"""Talking to Microsoft Graph: one O365 connection, bounded retries, and JSON ``$batch``.

Every request of the driver goes through O365's :class:`~O365.connection.Connection`
(its auth, token refresh and session); this module adds what O365 does not do:

- 429, 500, 502, 503, 504 and dropped connections are transient: retried with
  exponential backoff and full jitter, waiting at least ``Retry-After`` when the
  server says, a bounded number of times (then :class:`RateLimited` /
  :class:`DriverError`). urllib3's retries (O365's own) are switched off because
  they never retry a POST and cannot retry one request *inside* a ``$batch``;
- inside a ``$batch`` each request is judged on its own status: the transient ones
  are sent again in the next round, the rest are final answers — never the whole
  batch blindly (a POST inside it may have been applied; transactionId makes that safe);
- 401 after O365's one refresh: :class:`AuthError` saying what to run;
- links the server hands back (``@odata.nextLink``, ``@odata.deltaLink``) are only
  followed to the configured endpoint, so a token is never sent anywhere else.

Final statuses (2xx, and 4xx like 404, 409, 410, 412) come back as :class:`Reply`;
the driver decides what each means.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from syncfw.errors import AuthError, DriverError, RateLimited

from .options import OutlookOptions, TokenAuth

__all__ = ["Graph", "Reply", "Request"]

TRANSIENT = frozenset({429, 500, 502, 503, 504})
#: Read in UTC (the driver converts to the event's zone) and descriptions as plain text.
READ_PREFER = 'outlook.timezone="UTC", outlook.body-content-type="text"'
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Request:
    """One Graph request: ``url`` relative to the v1.0 root (``me/events/ID``) or absolute."""

    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    """A final answer: the status, headers (lower-case names) and parsed JSON body."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> str:
        """Graph's ``error.code`` ("" when the body has none)."""
        try:
            return str(self.body["error"]["code"])
        except (KeyError, TypeError):
            return ""

    @property
    def summary(self) -> str:
        """``status code``, for messages: "412 ErrorIrresolvableConflict"."""
        return f"{self.status} {self.code}".rstrip()

    @property
    def detail(self) -> str:
        """``status code message`` (Graph's error message, shortened), for error reports."""
        try:
            message = str(self.body["error"]["message"])
        except (KeyError, TypeError):
            message = ""
        return f"{self.summary} {message}".strip()[:300]

    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        try:
            return max(0.0, float(value)) if value is not None else None
        except ValueError:
            return None


class Graph:
    """The Graph requests of one calendar of a profile."""

    def __init__(
        self,
        options: OutlookOptions,
        calendar: str,
        profile: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = options
        self.calendar = calendar
        self.profile = profile
        self.sleep = sleep
        self.slept: list[float] = []  # what we waited, for tests and logs
        self._connection: Any = None
        origin = urllib.parse.urlsplit(options.api)
        self._origin = (origin.scheme, origin.netloc)

    @property
    def connection(self) -> Any:
        """O365's connection, built on first use (credentials may need a file or a refresh)."""
        if self._connection is None:
            from .auth import build_connection

            self._connection = build_connection(self.options, self.calendar, self.profile)
        return self._connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        for session in (
            getattr(connection, "session", None),
            getattr(connection, "naive_session", None),
        ):
            if session is not None:
                session.close()

    # -- single requests -------------------------------------------------------------

    def follows(self, url: str) -> bool:
        """Whether ``url`` points at the configured endpoint (a stored link may not)."""
        parts = urllib.parse.urlsplit(url)
        return (parts.scheme, parts.netloc) == self._origin

    def url(self, path: str) -> str:
        """An absolute URL for ``path``; absolute URLs must point at the endpoint."""
        if "://" not in path:
            return self.options.api + path.lstrip("/")
        if not self.follows(path):
            parts = urllib.parse.urlsplit(path)
            raise DriverError(
                f"Graph handed back a link to {parts.scheme}://{parts.netloc}, not to the "
                f"endpoint {self.options.api}; not following it",
                calendar=self.calendar,
            )
        return path

    def send(self, request: Request, what: str) -> Reply:
        """One request with retries; a final answer, or AuthError / RateLimited / DriverError."""
        reply = self.call(lambda: self._send_once(request), what)
        if reply.status == 401 and self._refresh(what):
            reply = self.call(lambda: self._send_once(request), what)  # once, after a refresh
        self.check_auth(reply, what)
        return reply

    def _refresh(self, what: str) -> bool:
        """A new access token after a 401 (revoked, or the clock is off), where the auth form
        can get one; O365 itself only refreshes tokens it sees as expired."""
        if isinstance(self.options.auth, TokenAuth):
            return False
        log.debug("%s: 401, refreshing the token once", what)
        try:
            return bool(self.connection.refresh_token())
        except RuntimeError:
            return False

    def _send_once(self, request: Request) -> Reply:
        headers = {"Accept": "application/json", **request.headers}
        kwargs: dict[str, Any] = {"headers": headers}
        if request.body is not None:
            headers["Content-type"] = "application/json"
            kwargs["data"] = request.body
        url = self.url(request.url)
        try:
            response = self.connection.oauth_request(url, request.method, **kwargs)
        except requests.HTTPError as err:
            if err.response is None or err.response.status_code in TRANSIENT:
                raise  # call() retries it
            response = err.response
        return _reply(response.status_code, response.headers, response.content)

    def call(self, fn: Callable[[], T], what: str) -> T:
        """``fn()`` (anything that goes through the O365 connection, O365's own calendar
        objects included) with retries of transient failures."""
        attempt = 0
        while True:
            reply: Reply | None = None
            try:
                return fn()
            except requests.HTTPError as err:
                if err.response is not None:
                    r = err.response
                    reply = _reply(r.status_code, r.headers, r.content)
                    if reply.status not in TRANSIENT:
                        self.check_auth(reply, what)
                        raise DriverError(
                            f"{what}: Microsoft Graph answered {reply.summary}",
                            calendar=self.calendar,
                        ) from None
            except (requests.ConnectionError, requests.Timeout) as err:
                log.debug(
                    "%s: connection failed (%s), attempt %d", what, type(err).__name__, attempt
                )
            except RuntimeError as err:  # O365: a refresh that failed, no token in the session
                raise AuthError(
                    f"{what}: the Microsoft credentials cannot be used ({_first_line(err)}); "
                    "run `syncfw auth outlook PROFILE` to sign in again",
                    calendar=self.calendar,
                ) from None
            if attempt >= self.options.retries:
                raise self._gave_up(what, reply, attempt)
            self.wait(attempt, reply.retry_after() if reply is not None else None)
            attempt += 1

    def check_auth(self, reply: Reply, what: str) -> None:
        if reply.status == 401:
            raise AuthError(
                f"{what}: Microsoft Graph refused the credentials (401 {reply.code or 'error'}); "
                "run `syncfw auth outlook PROFILE` to sign in again, or check the token",
                calendar=self.calendar,
            )
        if reply.status == 403 and reply.code in (
            "ErrorAccessDenied",
            "Authorization_RequestDenied",
        ):
            raise AuthError(
                f"{what}: Microsoft Graph denied access (403 {reply.code}); the app registration "
                "needs Calendars.ReadWrite (application permission for `user:`)",
                calendar=self.calendar,
            )

    def _gave_up(self, what: str, reply: Reply | None, attempt: int) -> DriverError:
        if reply is None:
            return DriverError(
                f"{what}: the connection to Microsoft Graph failed {attempt + 1} times; "
                "check the network and try again",
                calendar=self.calendar,
            )
        return RateLimited(
            f"{what}: Microsoft Graph kept answering {reply.summary} after {attempt} retries; "
            "try again later",
            retry_after=reply.retry_after(),
            calendar=self.calendar,
        )

    def wait(self, attempt: int, server_hint: float | None) -> None:
        """Full-jitter exponential backoff, at least the server's Retry-After."""
        jittered = random.uniform(
            0, min(self.options.max_backoff, self.options.backoff * 2**attempt)
        )
        seconds = max(jittered, server_hint or 0.0)
        self.slept.append(seconds)
        self.sleep(seconds)

    # -- pages -----------------------------------------------------------------------

    def pages(self, first: Request, what: str) -> Any:
        """Yield each page's body, following ``@odata.nextLink`` with the same headers."""
        request: Request | None = first
        while request is not None:
            reply = self.send(request, what)
            if not reply.ok:
                yield reply  # the caller decides (410 on a delta, 404 on a forgotten id)
                return
            yield reply.body
            link = reply.body.get("@odata.nextLink") if isinstance(reply.body, dict) else None
            request = Request("GET", link, headers=first.headers) if link else None

    # -- $batch ----------------------------------------------------------------------

    def batch(self, requests_: Sequence[Request], what: str) -> list[Reply]:
        """Send up to 20 requests in one ``$batch``; one final Reply per request, in order.

        Transient answers inside the batch are sent again (only those), after waiting
        the longest ``Retry-After`` they asked for; a request still refused after the
        retries gets a Reply with its last status, which the caller reports. A request
        refused for its credentials (:meth:`check_auth`) is a Reply too: the caller
        raises it in its place, keeping the answers of the requests before it.
        """
        if len(requests_) == 1:
            return [self.send(requests_[0], what)]
        replies: dict[int, Reply] = {}
        pending = list(range(len(requests_)))
        attempt = 0
        while pending:
            body = {"requests": [_batch_part(i, requests_[i]) for i in pending]}
            outer = self.send(Request("POST", "$batch", body), f"{what} ($batch of {len(pending)})")
            if not outer.ok:
                raise DriverError(
                    f"{what}: the $batch was refused ({outer.summary}); nothing of it was applied",
                    calendar=self.calendar,
                )
            answered = _batch_replies(outer.body)
            retry: list[int] = []
            hint: float | None = None
            for i in pending:
                reply = answered.get(i)
                if reply is None or reply.status in TRANSIENT:
                    retry.append(i)
                    hint = max(hint or 0.0, reply.retry_after() or 0.0) if reply else hint
                    if reply is not None:
                        replies[i] = reply
                    continue
                replies[i] = reply
            if not retry:
                break
            if attempt >= self.options.retries:
                for i in retry:
                    replies.setdefault(i, Reply(503, {}, {"error": {"code": "NoAnswer"}}))
                break
            self.wait(attempt, hint)
            attempt += 1
            pending = retry
        return [replies[i] for i in range(len(requests_))]


def _batch_part(index: int, request: Request) -> dict[str, Any]:
    url = request.url
    if "://" in url:  # $batch urls are relative to the version root
        raise ValueError(f"a $batch request needs a relative url, not {url!r}")
    part: dict[str, Any] = {
        "id": str(index),
        "method": request.method,
        "url": "/" + url.lstrip("/"),
    }
    headers = dict(request.headers)
    if request.body is not None:
        part["body"] = request.body
        headers["Content-Type"] = "application/json"
    if headers:
        part["headers"] = headers
    return part


def _batch_replies(body: Any) -> dict[int, Reply]:
    found: dict[int, Reply] = {}
    for item in body.get("responses", ()) if isinstance(body, dict) else ():
        try:
            index = int(item["id"])
            status = int(item["status"])
        except (KeyError, TypeError, ValueError):
            continue
        headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
        found[index] = Reply(status, headers, item.get("body"))
    return found


def _reply(status: int, headers: Mapping[str, str], content: bytes) -> Reply:
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    return Reply(status, {k.lower(): v for k, v in headers.items()}, body)


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__
