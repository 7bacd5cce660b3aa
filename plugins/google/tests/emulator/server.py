"""The emulator's HTTP server: request log, faults, auth, routing and the batch endpoint.

Event semantics live in events.py (EventOps) and events.list/paging in listing.py
(EventListing); GoogleEmulator inherits both and owns their state.
"""

from __future__ import annotations

import contextlib
import email.message
import email.parser
import json
import secrets
import socket
import threading
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .events import EventOps
from .listing import EventListing
from .resources import (
    ApiError,
    Calendar,
    Fault,
    Json,
    Reply,
    Request,
    bounds,
    error,
    flag,
    ok,
    parse_inner,
    wire,
)


class GoogleEmulator(EventOps, EventListing):
    """A Google Calendar API v3 server on loopback; see the module docstring for the API."""

    def __init__(
        self,
        *,
        page_size: int | None = None,
        batch_limit: int = 1000,
        token: str | None = "test-token",
        user: str = "user@example.com",
    ) -> None:
        self.page_size = page_size
        self.batch_limit = batch_limit
        self.token = token
        self.user = user
        self.requests: list[Request] = []
        self.send_updates: list[tuple[str, str, str | None]] = []
        self._lock = threading.RLock()
        self._calendars: dict[str, Calendar] = {user: Calendar(user, user, primary=True)}
        self._seq = 0
        self._epoch = 0
        self._faults: list[Fault] = []
        self._empty_pages = 0
        self._pages: dict[str, tuple[list[Json], int, str | None]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("GoogleEmulator is not started: call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> GoogleEmulator:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.emulator = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GoogleEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- test-side API
    def calendar(self, cal_id: str) -> Calendar:
        cal = self._calendars.get(self.user if cal_id == "primary" else cal_id)
        if cal is None:
            raise KeyError(f"no calendar {cal_id!r}; known: {sorted(self._calendars)}")
        return cal

    def add_calendar(self, summary: str, cal_id: str | None = None) -> Calendar:
        with self._lock:
            cal_id = cal_id or f"{secrets.token_hex(8)}@group.calendar.google.com"
            self._calendars[cal_id] = Calendar(cal_id, summary)
            return self._calendars[cal_id]

    def edit(self, cal_id: str, event_id: str, **fields: Any) -> Json:
        """Simulate a user editing an event in Google: merge `fields`, new etag and sequence."""
        with self._lock:
            cal = self.calendar(cal_id)
            event = cal.events[event_id]
            event.update(fields)
            self._touch(cal, event)
            return dict(event)

    def delete_event(self, cal_id: str, event_id: str) -> None:
        """Simulate a user deleting an event in Google (kept as status: cancelled)."""
        with self._lock:
            self._delete(self.calendar(cal_id), event_id)

    def expire_sync_tokens(self) -> None:
        with self._lock:
            self._epoch += 1

    def inject(
        self,
        status: int = 429,
        *,
        reason: str | None = None,
        retry_after: float | None = None,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        drop: bool = False,
        in_batch: bool = False,
    ) -> None:
        with self._lock:
            self._faults.append(
                Fault(status, reason, retry_after, count, path, method, drop, in_batch)
            )

    def inject_empty_page(self, count: int = 1) -> None:
        with self._lock:
            self._empty_pages += count

    def count(
        self,
        method: str | None = None,
        path_contains: str | None = None,
        in_batch: bool | None = None,
    ) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (path_contains is None or path_contains in r.path)
                and (in_batch is None or r.in_batch == in_batch)
            )

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.send_updates.clear()

    # ----------------------------------------------------------------- request pipeline
    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes, in_batch: bool = False
    ) -> Reply | None:
        """Log, apply faults and auth, then route one request. None means: drop the connection."""
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            body = json.loads(raw) if raw and "json" in lower.get("content-type", "json") else None
        except ValueError:
            body = None
        with self._lock:
            logged = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            self.requests.append(Request(method, url.path, query, logged, body, in_batch))
            fault = next((f for f in self._faults if f.matches(method, url.path, in_batch)), None)
            if fault is not None:
                fault.count -= 1
        if fault is not None:
            if fault.drop:
                return None
            extra = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else {}
            return error(ApiError(fault.status, fault.reason), extra)
        auth = lower.get("authorization", "")
        if not auth.startswith("Bearer ") or (self.token and auth[7:] != self.token):
            return error(ApiError(401, "authError"))
        try:
            if url.path == "/batch/calendar/v3" and method == "POST" and not in_batch:
                return self._batch(lower.get("content-type", ""), raw, auth)
            with self._lock:
                return self._route(method, url.path, query, lower, body)
        except ApiError as err:
            return error(err)

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Json | None,
    ) -> Reply:
        prefix = "/calendar/v3/"
        if not path.startswith(prefix):
            raise ApiError(404, "notFound", f"no API at {path}; expected {prefix}...")
        parts = [urllib.parse.unquote(p) for p in path[len(prefix) :].strip("/").split("/")]
        body = body if isinstance(body, dict) else {}
        if parts == ["users", "me", "calendarList"] and method == "GET":
            entries = [
                {
                    **c.resource(),
                    "kind": "calendar#calendarListEntry",
                    "accessRole": "owner",
                    **({"primary": True} if c.primary else {}),
                }
                for c in self._calendars.values()
            ]
            return self._paged(query, entries, "calendar#calendarList", None, default=100)
        if parts == ["calendars"] and method == "POST":
            if not body.get("summary"):
                raise ApiError(400, "required", "Missing summary.")
            new_cal = self.add_calendar(body["summary"])
            new_cal.time_zone = body.get("timeZone", "UTC")
            return ok(new_cal.resource())
        if len(parts) < 2 or parts[0] != "calendars":
            raise ApiError(404, "notFound")
        found = self._calendars.get(self.user if parts[1] == "primary" else parts[1])
        if found is None:
            raise ApiError(404, "notFound")
        cal = found
        rest = parts[2:]
        if not rest and method == "GET":
            return ok(cal.resource())
        if rest == ["events"] and method == "GET":
            return self._list(cal, query)
        if rest == ["events"] and method == "POST":
            return self._insert(cal, query, body)
        if rest == ["events", "import"] and method == "POST":
            if not body.get("iCalUID"):
                raise ApiError(400, "required", "Missing iCalUID.")
            return self._insert(cal, query, body)
        if len(rest) == 3 and rest[0] == "events" and rest[2] == "instances" and method == "GET":
            master = self._stored(cal, rest[1])
            q = {**query, "singleEvents": ["true"]}
            family = [master] + [
                e for e in cal.events.values() if e.get("recurringEventId") == master["id"]
            ]
            items = self._expand(cal, family, q, flag(query, "showDeleted"))
            items.sort(key=lambda e: bounds(e)[0])
            return self._paged(q, [wire(e) for e in items], "calendar#events", None)
        if len(rest) == 2 and rest[0] == "events":
            return self._event_op(cal, method, rest[1], query, headers, body)
        raise ApiError(404, "notFound", f"no route for {method} {path}")

    # ----------------------------------------------------------------- batch
    def _batch(self, content_type: str, raw: bytes, auth: str) -> Reply:
        msg = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        if not msg.is_multipart():
            raise ApiError(400, "badRequest", "A batch request must be multipart/mixed.")
        parts = msg.get_payload()
        assert isinstance(parts, list)
        if len(parts) > self.batch_limit:
            raise ApiError(
                400,
                "badRequest",
                f"Too many requests in a batch: {len(parts)} > {self.batch_limit}.",
            )
        boundary = f"batch_{secrets.token_hex(8)}"
        chunks: list[bytes] = []
        for part in parts:
            assert isinstance(part, email.message.Message)
            cid = (part.get("Content-ID") or "").strip()
            cid = f"<response-{cid[1:-1]}>" if cid.startswith("<") else f"<response-{cid}>"
            method, target, headers, body = parse_inner(str(part.get_payload()))
            if not any(k.lower() == "authorization" for k in headers):
                headers["Authorization"] = auth
            reply = self.handle(method, target, headers, body, in_batch=True)
            status, rheaders, data = reply or error(ApiError(503, "backendError"))
            rheaders = {**rheaders, "Content-Length": str(len(data))}
            head = "".join(f"{k}: {v}\r\n" for k, v in rheaders.items())
            chunks.append(
                f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: {cid}\r\n\r\n"
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n{head}\r\n".encode()
                + data
                + b"\r\n"
            )
        payload = b"".join(chunks) + f"--{boundary}--\r\n".encode()
        return 200, {"Content-Type": f"multipart/mixed; boundary={boundary}"}, payload


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()  # no Nagle delay between the header and body writes (40 ms each)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        emulator: GoogleEmulator = self.server.emulator  # type: ignore[attr-defined]
        reply = emulator.handle(self.command, self.path, dict(self.headers.items()), raw)
        if reply is None:  # injected dropped connection: close without any response
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, headers, body = reply
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr line."""


def build_service(emulator: GoogleEmulator, token: str = "test-token") -> Any:
    """A googleapiclient Calendar service whose requests reach `emulator`."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    return build(
        "calendar",
        "v3",
        credentials=Credentials(token=token),  # type: ignore[no-untyped-call]
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": emulator.endpoint + "calendar/v3/"},
    )


def new_batch(emulator: GoogleEmulator, callback: Any = None) -> Any:
    """A BatchHttpRequest aimed at the emulator (new_batch_http_request() ignores api_endpoint)."""
    from googleapiclient.http import BatchHttpRequest

    return BatchHttpRequest(callback=callback, batch_uri=emulator.endpoint + "batch/calendar/v3")
