"""The emulator's HTTP server: request log, faults, auth, routing and the $batch endpoint.

Event semantics live in events.py (EventOps) and collections, paging and delta in listing.py
(EventListing); GraphEmulator inherits both and owns their state.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .batch import PREFIX, BatchOps
from .events import present
from .listing import (
    DeltaPage,
    DeltaState,
    EventListing,
    event_filter,
    expand_ids,
    zone_preference,
)
from .resources import (
    ApiError,
    Calendar,
    Fault,
    Json,
    Mailbox,
    Reply,
    Request,
    error,
    first,
    ok,
    opaque_id,
    parse_datetime,
)

BATCH_PATHS = ("/v1.0/$batch", "/v1.0/%24batch")


class GraphEmulator(EventListing, BatchOps):
    """A Microsoft Graph v1.0 calendar server on loopback; see the package docstring."""

    def __init__(
        self,
        *,
        page_size: int | None = None,
        batch_limit: int = 20,
        token: str | None = "test-token",
        user: str = "user@example.com",
        users: tuple[str, ...] = ("someone@example.com",),
        delta_expired_code: str = "SyncStateNotFound",
    ) -> None:
        self.page_size = page_size
        self.batch_limit = batch_limit
        self.token = token
        self.user = user.lower()
        self.delta_expired_code = delta_expired_code
        self.requests: list[Request] = []
        self._lock = threading.RLock()
        self._mailboxes: dict[str, Mailbox] = {}
        for address in (user, *users):
            self._add_mailbox(address)
        self._faults: list[Fault] = []
        self._delta_states: dict[str, DeltaState] = {}
        self._delta_pages: dict[str, DeltaPage] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _add_mailbox(self, address: str) -> Mailbox:
        address = address.lower()
        name = address.split("@")[0].replace(".", " ").title()
        mb = Mailbox(address, str(uuid.uuid5(uuid.NAMESPACE_URL, address)), name)
        owner = {"name": name, "address": address}
        default = Calendar(opaque_id(2), "Calendar", owner, is_default=True)
        mb.calendars[default.id] = default
        self._mailboxes[address] = mb
        return mb

    # ----------------------------------------------------------------- lifecycle
    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("GraphEmulator is not started: call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> GraphEmulator:
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

    def __enter__(self) -> GraphEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- test-side API
    def _mailbox(self, user: str | None) -> Mailbox:
        key = (user or self.user).lower()
        found = self._mailboxes.get(key) or next(
            (m for m in self._mailboxes.values() if m.id == key), None
        )
        if found is None:
            raise KeyError(f"no mailbox {user!r}; known: {sorted(self._mailboxes)}")
        return found

    def calendar(self, id_or_name: str, user: str | None = None) -> Calendar:
        mb = self._mailbox(user)
        found = mb.calendars.get(id_or_name) or next(
            (c for c in mb.calendars.values() if c.name.lower() == id_or_name.lower()), None
        )
        if found is None:
            names = sorted(c.name for c in mb.calendars.values())
            raise KeyError(f"no calendar {id_or_name!r} in {mb.address}; known: {names}")
        return found

    def add_calendar(self, name: str, user: str | None = None) -> Calendar:
        with self._lock:
            mb = self._mailbox(user)
            if any(c.name.lower() == name.lower() for c in mb.calendars.values()):
                raise ValueError(f"{mb.address} already has a calendar named {name!r}")
            cal = Calendar(opaque_id(2), name, {"name": mb.name, "address": mb.address})
            mb.calendars[cal.id] = cal
            return cal

    def add_event(self, calendar_id: str, body: Json, user: str | None = None) -> Json:
        """A person creating an event in Outlook; returns the event as GET returns it (UTC)."""
        with self._lock:
            mb = self._mailbox(user)
            return present(self._create(mb, self.calendar(calendar_id, user), copy.deepcopy(body)))

    def edit(self, event_id: str, user: str | None = None, **fields: Any) -> Json:
        """A person editing an event (an occurrence id makes an exception): new changeKey."""
        with self._lock:
            return present(self._known(lambda mb: self._update(mb, event_id, fields), user))

    def delete_event(self, event_id: str, user: str | None = None) -> None:
        """A person deleting an event, or cancelling one occurrence of a series."""
        with self._lock:
            self._known(lambda mb: self._remove(mb, event_id), user)

    def instances(
        self, event_id: str, start: str | datetime, end: str | datetime, user: str | None = None
    ) -> list[Json]:
        """The occurrences and exceptions of a series master in [start, end), as Graph shows."""
        lo, hi = (parse_datetime(v) if isinstance(v, str) else v for v in (start, end))
        with self._lock:
            cal, master = self._known(lambda mb: self._find(mb, event_id), user)
            return [present(e) for e in self._instances(cal, master, *_utc(lo, hi))]

    def _known(self, op: Callable[[Mailbox], Any], user: str | None) -> Any:
        try:
            return op(self._mailbox(user))
        except ApiError as err:
            if err.status == 404:
                raise KeyError(f"no event in {(user or self.user)!r}: {err.message}") from None
            raise

    def expire_delta_tokens(self) -> None:
        with self._lock:
            self._delta_states.clear()
            self._delta_pages.clear()

    def inject(
        self,
        status: int = 429,
        *,
        retry_after: float | None = None,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        drop: bool = False,
        in_batch: bool = False,
        code: str | None = None,
    ) -> None:
        with self._lock:
            self._faults.append(
                Fault(status, code, retry_after, count, path, method, drop, in_batch)
            )

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

    # ----------------------------------------------------------------- request pipeline
    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes, in_batch: bool = False
    ) -> Reply | None:
        """Log, apply faults and auth, then route one request. None means: drop the connection."""
        url = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(url.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        lower = {k.lower(): v for k, v in headers.items()}
        body: Any = None
        bad_json = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        with self._lock:
            logged = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            self.requests.append(Request(method, path, query, logged, body, in_batch))
            fault = next((f for f in self._faults if f.matches(method, path, in_batch)), None)
            if fault is not None:
                fault.count -= 1
        ids = {"request-id": str(uuid.uuid4())}
        if "client-request-id" in lower:
            ids["client-request-id"] = lower["client-request-id"]
        if fault is not None:
            if fault.drop:
                return None
            late = fault.retry_after
            extra = {"Retry-After": f"{late:g}"} if late is not None else {}
            return error(ApiError(fault.status, fault.code), {**ids, **extra})
        auth = lower.get("authorization", "")
        try:
            if not auth.startswith("Bearer ") or (self.token and auth[7:] != self.token):
                raise ApiError(401, "InvalidAuthenticationToken", "Access token is empty.")
            if bad_json:
                raise ApiError(400, "BadRequest", "Unable to read JSON request payload.")
            if in_batch and raw and "content-type" not in lower:
                raise ApiError(400, "BadRequest", "A request with a body needs a Content-Type.")
            if path in BATCH_PATHS and method == "POST" and not in_batch:
                reply = self._batch(body, auth)
            else:
                with self._lock:
                    reply = self._route(method, url.path, query, lower, body)
        except ApiError as err:
            reply = error(err)
        if reply is None:
            return None
        return reply[0], {**reply[1], **ids}, reply[2]

    def _route(
        self,
        method: str,
        raw_path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> Reply:
        if not raw_path.startswith(PREFIX):
            raise ApiError(400, "BadRequest", f"Invalid version: {raw_path}")
        base = self.endpoint.rstrip("/") + raw_path.rstrip("/")
        parts = [urllib.parse.unquote(p) for p in raw_path[len(PREFIX) :].strip("/").split("/")]
        body = body if isinstance(body, dict) else {}
        if parts[0] == "me":
            mb, rest = self._mailbox(None), parts[1:]
        elif parts[0] == "users" and len(parts) > 1:
            try:
                mb, rest = self._mailbox(parts[1]), parts[2:]
            except KeyError:
                raise ApiError(404, "ResourceNotFound", "Resource not found.") from None
        else:
            raise ApiError(400, "BadRequest", f"Resource not found for the segment '{parts[0]}'.")
        zone, prefs = zone_preference(headers)
        cal: Calendar | None = None
        if rest == ["calendars"]:
            return self._calendars(mb, method, query, body, base)
        if rest[:1] == ["calendars"] and len(rest) > 1:
            cal = mb.calendars.get(rest[1])
            if cal is None:
                raise ApiError(404, "ErrorItemNotFound")
            rest = rest[2:]
            if not rest:
                return self._calendar_op(mb, cal, method, body)
        elif rest[:1] == ["calendar"]:
            cal, rest = mb.default, rest[1:]
            if not rest:
                return self._calendar_op(mb, cal, method, body)
        scope = cal or mb.default
        if rest == ["events"] and method == "GET":
            return self._list(scope, query, headers, base)
        if rest == ["events"] and method == "POST":
            return ok(present(self._create(mb, scope, body), zone), 201, prefs)
        if rest == ["calendarView"] and method == "GET":
            return self._calendar_view(scope, query, headers, base)
        if rest == ["calendarView", "delta"] and method == "GET":
            return self._delta(mb, scope, query, headers, base)
        if len(rest) == 3 and rest[0] == "events" and rest[2] == "instances" and method == "GET":
            found, master = self._find(mb, rest[1], cal)
            return self._instances_of(found, master, query, headers, base)
        if len(rest) == 2 and rest[0] == "events":
            if method == "GET":
                _, event = self._find(mb, rest[1], cal)
                return ok(present(event, zone, expand_ids(query)), extra=prefs)
            if method == "PATCH":
                event = self._update(mb, rest[1], body, cal, headers.get("if-match"))
                return ok(present(event, zone), extra=prefs)
            if method == "DELETE":
                self._remove(mb, rest[1], cal, headers.get("if-match"))
                return ok(None, 204)
            raise ApiError(405, "ErrorInvalidRequest", f"{method} is not supported on an event.")
        raise ApiError(400, "BadRequest", f"Resource not found for the segment '{'/'.join(rest)}'.")

    def _calendars(
        self, mb: Mailbox, method: str, query: dict[str, list[str]], body: Json, base: str
    ) -> Reply:
        if method == "POST":
            name = body.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ApiError(400, "ErrorInvalidRequest", "The calendar name is required.")
            if any(c.name.lower() == name.lower() for c in mb.calendars.values()):
                raise ApiError(
                    409, "ErrorFolderExists", "A folder with the specified name already exists."
                )
            cal = self.add_calendar(name, mb.address)
            cal.color = str(body.get("color") or "auto")
            return ok(cal.resource(), 201)
        if method != "GET":
            raise ApiError(405, "ErrorInvalidRequest", f"{method} is not supported on calendars.")
        keep = event_filter(first(query, "$filter"))
        items = [c.resource() for c in mb.calendars.values() if keep(c.resource())]
        return self._paged(items, query, base, lambda c: c, {}, "calendar")

    def _calendar_op(self, mb: Mailbox, cal: Calendar, method: str, body: Json) -> Reply:
        if method == "GET":
            return ok(cal.resource())
        if method == "PATCH":
            cal.name = str(body.get("name") or cal.name)
            cal.color = str(body.get("color") or cal.color)
            return ok(cal.resource())
        if method == "DELETE":
            if cal.is_default:
                raise ApiError(
                    400, "ErrorInvalidRequest", "The default calendar cannot be deleted."
                )
            del mb.calendars[cal.id]
            return ok(None, 204)
        raise ApiError(405, "ErrorInvalidRequest", f"{method} is not supported on a calendar.")


def _utc(*moments: datetime) -> tuple[datetime, ...]:
    return tuple((m if m.tzinfo else m.replace(tzinfo=UTC)).astimezone(UTC) for m in moments)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()  # no Nagle delay between the header and body writes (40 ms each)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers: dict[str, str] = {}
        for key, value in self.headers.items():  # repeated headers (Prefer) are joined
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        emulator: GraphEmulator = self.server.emulator  # type: ignore[attr-defined]
        reply = emulator.handle(self.command, self.path, headers, raw)
        if reply is None:  # injected dropped connection: close without any response
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, reply_headers, body = reply
        self.send_response(status)
        for key, value in reply_headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr line."""
