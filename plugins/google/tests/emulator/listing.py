"""events.list semantics: filters, singleEvents expansion, ordering, sync tokens and paging.

Why a mixin: listing is where Google's documented edge cases live (nextSyncToken only on the
last page, 410 for an expired token, params forbidden with syncToken, short and empty pages),
so it reads best on its own. GoogleEmulator inherits this class and owns the state it declares.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime

from .resources import (
    FORBIDDEN_WITH_SYNC,
    ApiError,
    Calendar,
    Json,
    Reply,
    bounds,
    first,
    flag,
    matches,
    now,
    occurrences,
    ok,
    parse_time,
    wire,
)


class EventListing:
    """events.list, instances expansion and paging of any list; callers hold the emulator lock."""

    page_size: int | None
    _seq: int
    _epoch: int
    _empty_pages: int
    _pages: dict[str, tuple[list[Json], int, str | None]]

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
