"""The emulator's HTTP server: request log, faults, auth, routing, events and the batch endpoint."""

from __future__ import annotations

import base64
import contextlib
import email.message
import email.parser
import json
import secrets
import socket
import threading
import urllib.parse
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .resources import (
    FORBIDDEN_WITH_SYNC,
    ID_RE,
    ApiError,
    Calendar,
    Fault,
    Json,
    Reply,
    Request,
    bounds,
    error,
    first,
    flag,
    matches,
    now,
    occurrences,
    ok,
    parse_inner,
    parse_time,
    wire,
)


class GoogleEmulator:
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

    # ----------------------------------------------------------------- events
    def _touch(self, cal: Calendar, event: Json) -> None:
        self._seq += 1
        cal.seqs[event["id"]] = self._seq
        event["etag"] = f'"{self._seq:016d}"'
        event["updated"] = now()

    def _stored(self, cal: Calendar, event_id: str) -> Json:
        event = cal.events.get(event_id)
        if event is None:
            raise ApiError(404, "notFound")
        return event

    def _instance(self, cal: Calendar, event_id: str) -> Json | None:
        """A not-yet-materialised instance of a recurring event, addressed by its instance id."""
        base = event_id.rpartition("_")[0]
        master = cal.events.get(base)
        if not master or not master.get("recurrence") or master.get("status") == "cancelled":
            return None
        for inst in occurrences(master, None, None):
            if inst["id"] == event_id:
                return inst
        return None

    def _insert(self, cal: Calendar, query: dict[str, list[str]], body: Json) -> Reply:
        event_id = body.get("id") or secrets.token_hex(13)
        if not ID_RE.match(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in cal.events:
            raise ApiError(409, "duplicate")
        if "start" not in body or "end" not in body:
            raise ApiError(400, "required", "Missing start or end time.")
        event = self._build(cal, {**body, "id": event_id}, None)
        event["created"] = now()
        cal.events[event_id] = event
        self._touch(cal, event)
        self.send_updates.append(("insert", event_id, first(query, "sendUpdates")))
        return ok(wire(event))

    def _build(self, cal: Calendar, body: Json, old: Json | None) -> Json:
        event = {k: v for k, v in body.items() if k not in ("etag", "kind", "updated")}
        event["kind"] = "calendar#event"
        event.setdefault("status", "confirmed")
        event.setdefault("iCalUID", (old or {}).get("iCalUID") or f"{event['id']}@google.com")
        event.setdefault("sequence", (old or {}).get("sequence", 0))
        event["organizer"] = event.get("organizer") or {"email": cal.id, "self": True}
        event["creator"] = (old or {}).get("creator") or {"email": self.user, "self": True}
        event["created"] = (old or {}).get("created") or now()
        event["htmlLink"] = f"https://www.google.com/calendar/event?eid={event['id']}"
        for attendee in event.get("attendees", []):
            attendee.setdefault("responseStatus", "needsAction")
        return event

    def _event_op(
        self,
        cal: Calendar,
        method: str,
        event_id: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Json,
    ) -> Reply:
        event = cal.events.get(event_id)
        if event is None:
            inst = self._instance(cal, event_id)
            if inst is None:
                raise ApiError(404, "notFound")
            if method == "GET":
                return ok(inst)
            event = self._build(cal, inst, None)  # materialise an exception of the series
            cal.events[event_id] = event
        if_match = headers.get("if-match")
        if method == "GET":
            if headers.get("if-none-match") == event["etag"]:
                return 304, {"ETag": event["etag"]}, b""
            return ok(wire(event))
        if if_match and if_match not in ("*", event.get("etag")):
            raise ApiError(412, "conditionNotMet")
        self.send_updates.append((method.lower(), event_id, first(query, "sendUpdates")))
        if method == "DELETE":
            if event.get("status") == "cancelled":
                raise ApiError(410, "deleted")
            self._delete(cal, event_id)
            return 204, {}, b""
        if method in ("PUT", "PATCH"):
            merged = {**event, **body} if method == "PATCH" else {**body}
            for key in ("recurringEventId", "originalStartTime"):
                if key in event:
                    merged[key] = event[key]
            new = self._build(cal, {**merged, "id": event_id}, event)
            if method == "PUT" and "status" not in body:
                new["status"] = "confirmed"
            event.clear()
            event.update(new)
            self._touch(cal, event)
            return ok(wire(event))
        raise ApiError(404, "notFound", f"no route for {method} on an event")

    def _delete(self, cal: Calendar, event_id: str) -> None:
        event = cal.events.get(event_id)
        if event is None:
            inst = self._instance(cal, event_id)
            if inst is None:
                raise KeyError(event_id)
            event = cal.events[event_id] = self._build(cal, inst, None)
        event["status"] = "cancelled"
        self._touch(cal, event)
        if event.get("recurrence"):
            for other in cal.events.values():
                if other.get("recurringEventId") == event_id and other["status"] != "cancelled":
                    other["status"] = "cancelled"
                    self._touch(cal, other)

    # ----------------------------------------------------------------- events.list
    def _list(self, cal: Calendar, query: dict[str, list[str]]) -> Reply:
        sync = first(query, "syncToken")
        if first(query, "pageToken"):
            return self._paged(query, [], "calendar#events", None)
        if sync is not None:
            for name in FORBIDDEN_WITH_SYNC:
                if name in query:
                    raise ApiError(400, "invalid", f"{name} cannot be used with syncToken.")
            if first(query, "showDeleted") == "false":
                raise ApiError(400, "invalid", "showDeleted=false cannot be used with syncToken.")
            since = self._decode_sync(cal, sync)
            candidates = [e for e in cal.events.values() if cal.seqs[e["id"]] > since]
            show_deleted = True
        else:
            candidates = [e for e in cal.events.values() if matches(e, query)]
            show_deleted = flag(query, "showDeleted")
        items = self._expand(cal, candidates, query, show_deleted)
        order = first(query, "orderBy")
        if order == "startTime":
            if not flag(query, "singleEvents"):
                raise ApiError(400, "invalid", "orderBy=startTime requires singleEvents=true.")
            items.sort(
                key=lambda e: bounds(e)[0] if "start" in e else datetime.max.replace(tzinfo=UTC)
            )
        elif order == "updated":
            items.sort(key=lambda e: e.get("updated", ""))
        raw = json.dumps({"c": cal.id, "s": self._seq, "e": self._epoch}).encode()
        token = base64.urlsafe_b64encode(raw).decode()
        return self._paged(query, [wire(e) for e in items], "calendar#events", token, cal)

    def _decode_sync(self, cal: Calendar, token: str) -> int:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            if data["c"] == cal.id and data["e"] == self._epoch:
                return int(data["s"])
        except (ValueError, KeyError, TypeError):
            pass
        raise ApiError(410, "fullSyncRequired")

    def _expand(
        self, cal: Calendar, events: list[Json], query: dict[str, list[str]], show_deleted: bool
    ) -> list[Json]:
        single = flag(query, "singleEvents")
        lo = parse_time(v) if (v := first(query, "timeMin")) else None
        hi = parse_time(v) if (v := first(query, "timeMax")) else None
        out: list[Json] = []
        for ev in events:
            cancelled = ev.get("status") == "cancelled"
            if cancelled and not show_deleted:
                master = cal.events.get(ev.get("recurringEventId") or "")
                # events.list: cancelled instances of a live series are still included when
                # showDeleted and singleEvents are both false.
                if single or not master or master.get("status") == "cancelled":
                    continue
            if ev.get("recurrence") and not cancelled:
                instances = occurrences(ev, lo, hi)
                if single:
                    out.extend(i for i in instances if i["id"] not in cal.events)
                    continue
                if next(instances, None) is None:
                    continue
            elif "start" in ev and (lo or hi):
                start, end = bounds(ev)
                if (lo and end <= lo) or (hi and start >= hi):
                    continue
            out.append(ev)
        return out

    def _paged(
        self,
        query: dict[str, list[str]],
        items: list[Json],
        kind: str,
        sync: str | None,
        cal: Calendar | None = None,
        default: int = 250,
    ) -> Reply:
        token = first(query, "pageToken")
        offset = 0
        if token:
            if token not in self._pages:
                raise ApiError(400, "invalid", "Invalid page token value.")
            items, offset, sync = self._pages[token]
        size = min(int(first(query, "maxResults") or default), 2500)
        size = min(size, self.page_size) if self.page_size else size
        resp: Json = {"kind": kind, "etag": f'"{self._seq}"'}
        if cal is not None:
            resp.update(
                summary=cal.summary,
                timeZone=cal.time_zone,
                updated=now(),
                accessRole="owner",
                defaultReminders=[],
            )
        if self._empty_pages > 0:
            self._empty_pages -= 1
            page, end = [], offset
        else:
            page, end = items[offset : offset + size], offset + size
        resp["items"] = page
        if end < len(items) or (not page and items[offset:]):
            nxt = secrets.token_urlsafe(12)
            self._pages[nxt] = (items, end, sync)
            resp["nextPageToken"] = nxt
        elif sync is not None:
            resp["nextSyncToken"] = sync
        return ok(resp)

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
