"""Collections: events list, calendarView, instances, calendarView/delta, paging and $filter.

Why a mixin: the delta round is where Graph's documented edge cases live (start/end only on
the first call, @odata.nextLink with $skiptoken until the last page carries
@odata.deltaLink, @removed entries, unsupported query options, 410 for a lost sync state),
so it reads best on its own. GraphEmulator inherits this class and owns the state it declares.
"""

from __future__ import annotations

import copy
import re
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from .events import EventOps, present, removed
from .resources import (
    EXT,
    ApiError,
    Calendar,
    Json,
    Mailbox,
    Reply,
    first,
    has,
    instant,
    ok,
    prefer,
    query_time,
    resolve_zone,
)

# event-delta: "does not support $expand, $filter, $orderby, $select and $search".
FORBIDDEN_WITH_DELTA = ("$expand", "$filter", "$orderby", "$select", "$search")
QUOTED = r"'((?:[^']|'')*)'"
EXT_ANY_RE = re.compile(
    rf"^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+{QUOTED}"
    rf"\s+and\s+\1/value\s+eq\s+{QUOTED}\s*\)$",
    re.IGNORECASE,
)
EQ_RE = re.compile(rf"^(\w+)\s+eq\s+{QUOTED}$")
TIME_RE = re.compile(r"^(start|end)/dateTime\s+(eq|ne|ge|gt|le|lt)\s+'([^']*)'$", re.I)
COMPARE: dict[str, Callable[[datetime, datetime], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}
EXPAND_RE = re.compile(r"^singleValueExtendedProperties(?:\(\s*\$filter=(.*)\))?$", re.I)
ID_EQ_RE = re.compile(rf"\bid\s+eq\s+{QUOTED}", re.IGNORECASE)


def unquote(text: str) -> str:
    return text.replace("''", "'")


def split_and(text: str) -> list[str]:
    """Split an OData $filter on top-level ` and ` (not inside parentheses)."""
    parts, depth, start = [], 0, 0
    lowered = text.lower()
    i = 0
    while i < len(text):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
        elif depth == 0 and lowered.startswith(" and ", i):
            parts.append(text[start:i].strip())
            start = i = i + 5
            continue
        i += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def event_filter(text: str | None) -> Callable[[Json], bool]:
    """The $filter forms the emulator understands; anything else is a 400, never ignored."""
    if not text:
        return lambda _event: True
    tests: list[Callable[[Json], bool]] = []
    for clause in split_and(text):
        clause = clause.strip()
        while clause.startswith("(") and clause.endswith(")"):
            clause = clause[1:-1].strip()
        if m := EXT_ANY_RE.match(clause):
            pid, value = unquote(m.group(2)).lower(), unquote(m.group(3))
            tests.append(
                lambda e, pid=pid, value=value: any(
                    p["id"].lower() == pid and p.get("value") == value for p in e.get(EXT) or []
                )
            )
        elif m := TIME_RE.match(clause):  # compared in UTC, as O365's query builder sends them
            key, compare = m.group(1).lower(), COMPARE[m.group(2).lower()]
            bound = query_time({"t": [m.group(3)]}, "t")
            tests.append(
                lambda e, key=key, compare=compare, bound=bound: compare(instant(e[key]), bound)
            )
        elif m := EQ_RE.match(clause):
            name, value = m.group(1), unquote(m.group(2))
            tests.append(lambda e, name=name, value=value: str(e.get(name)) == value)
        else:
            raise ApiError(400, "ErrorInvalidUrlQueryFilter", f"Unsupported $filter: {clause}")
    return lambda event: all(test(event) for test in tests)


def expand_ids(query: dict[str, list[str]]) -> set[str] | None:
    """$expand=singleValueExtendedProperties($filter=id eq '...'): the lower-cased ids asked for
    (empty set = all); None when extended properties were not expanded."""
    raw = first(query, "$expand")
    if raw is None or "singlevalueextendedproperties" not in raw.lower():
        return None
    m = EXPAND_RE.match(raw.strip())
    if m is None:
        raise ApiError(400, "BadRequest", f"Unsupported $expand: {raw}")
    if m.group(1) is None:
        return set()
    ids = {unquote(i).lower() for i in ID_EQ_RE.findall(m.group(1))}
    if not ids:
        raise ApiError(400, "BadRequest", f"Unsupported $filter in $expand: {m.group(1)}")
    return ids


def zone_preference(headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Prefer: outlook.timezone="X" -> ("X", Preference-Applied header); default UTC."""
    name = prefer(headers).get("outlook.timezone")
    if not name:
        return "UTC", {}
    try:
        resolve_zone(name)
    except ApiError:
        return "UTC", {}
    return name, {"Preference-Applied": f'outlook.timezone="{name}"'}


def link(base: str, params: dict[str, list[str]]) -> str:
    pairs = [(k, v) for k, values in params.items() for v in values]
    query = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, safe="$'(),:/")
    return f"{base}?{query}"


@dataclass(frozen=True)
class DeltaState:
    """What a deltaLink remembers: the window and each instance's changeKey at the time."""

    mailbox: str
    calendar: str
    lo: datetime
    hi: datetime
    versions: dict[str, str]


@dataclass(frozen=True)
class DeltaPage:
    """The rest of a delta round, served page by page through $skiptoken."""

    state: DeltaState
    items: list[Json]
    offset: int


class EventListing(EventOps):
    """Collection reads; callers hold the emulator lock."""

    page_size: int | None
    _delta_states: dict[str, DeltaState]
    _delta_pages: dict[str, DeltaPage]
    delta_expired_code: str

    def _context(self, base: str, kind: str = "event") -> str:
        return base.split("/v1.0/")[0] + f"/v1.0/$metadata#Collection({kind})"

    def _paged(
        self,
        items: list[Json],
        query: dict[str, list[str]],
        base: str,
        render: Callable[[Json], Json],
        extra: dict[str, str],
        kind: str = "event",
    ) -> Reply:
        """$top (default 10) and $skip paging with an @odata.nextLink (paging guide)."""
        try:
            top = int(first(query, "$top") or 10)
            skip = int(first(query, "$skip") or 0)
        except ValueError:
            raise ApiError(400, "BadRequest", "$top and $skip must be integers.") from None
        if top < 1 or skip < 0:
            raise ApiError(400, "BadRequest", "$top must be positive and $skip non-negative.")
        size = min(top, self.page_size) if self.page_size else top
        page = items[skip : skip + size]
        body: Json = {
            "@odata.context": self._context(base, kind),
            "value": [render(e) for e in page],
        }
        if skip + size < len(items):
            params = {k: v for k, v in query.items() if k.lower() != "$skip"}
            body["@odata.nextLink"] = link(base, {**params, "$skip": [str(skip + size)]})
        return ok(body, extra=extra)

    def _list(
        self, cal: Calendar, query: dict[str, list[str]], headers: dict[str, str], base: str
    ) -> Reply:
        """GET .../events: series masters and single instances (never occurrences)."""
        keep = event_filter(first(query, "$filter"))
        items = [
            e
            for e in cal.events.values()
            if e["type"] in ("singleInstance", "seriesMaster") and keep(e)
        ]
        zone, extra = zone_preference(headers)
        expand = expand_ids(query)
        return self._paged(items, query, base, lambda e: present(e, zone, expand), extra)

    def _calendar_view(
        self, cal: Calendar, query: dict[str, list[str]], headers: dict[str, str], base: str
    ) -> Reply:
        lo, hi = query_time(query, "startDateTime"), query_time(query, "endDateTime")
        keep = event_filter(first(query, "$filter"))
        items = [e for e in self._view(cal, lo, hi) if keep(e)]
        zone, extra = zone_preference(headers)
        expand = expand_ids(query)
        return self._paged(items, query, base, lambda e: present(e, zone, expand), extra)

    def _instances_of(
        self,
        cal: Calendar,
        master: Json,
        query: dict[str, list[str]],
        headers: dict[str, str],
        base: str,
    ) -> Reply:
        lo, hi = query_time(query, "startDateTime"), query_time(query, "endDateTime")
        items = self._instances(cal, master, lo, hi) if master["type"] == "seriesMaster" else []
        zone, extra = zone_preference(headers)
        expand = expand_ids(query)
        return self._paged(items, query, base, lambda e: present(e, zone, expand), extra)

    def _delta(
        self,
        mb: Mailbox,
        cal: Calendar,
        query: dict[str, list[str]],
        headers: dict[str, str],
        base: str,
    ) -> Reply:
        """One GET of a calendarView delta round (event-delta, delta-query-events pages)."""
        for name in FORBIDDEN_WITH_DELTA:
            if has(query, name):
                raise ApiError(
                    400,
                    "ErrorInvalidUrlQuery",
                    f"The query parameter '{name}' is not supported with change tracking over "
                    "the 'CalendarView' resource.",
                )
        skip, delta = first(query, "$skiptoken"), first(query, "$deltatoken")
        if skip is not None:
            page = self._delta_pages.get(skip)
            if page is None or page.state.calendar != cal.id:
                raise ApiError(410, self.delta_expired_code)
        else:
            page = self._delta_round(mb, cal, query, delta)
        prefs = prefer(headers)
        zone, extra = zone_preference(headers)
        try:
            size = max(1, int(prefs.get("odata.maxpagesize") or 10))
        except ValueError:
            size = 10
        if "odata.maxpagesize" in prefs:
            applied = f"odata.maxpagesize={size}"
            old = extra.get("Preference-Applied")
            extra = {"Preference-Applied": f"{applied}, {old}" if old else applied}
        size = min(size, self.page_size) if self.page_size else size
        chunk = page.items[page.offset : page.offset + size]
        body: Json = {
            "@odata.context": self._context(base),
            "value": [e if "@removed" in e else present(e, zone) for e in chunk],
        }
        token = secrets.token_urlsafe(48)
        if page.offset + size < len(page.items):
            self._delta_pages[token] = replace(page, offset=page.offset + size)
            body["@odata.nextLink"] = link(base, {"$skiptoken": [token]})
        else:
            self._delta_states[token] = page.state
            body["@odata.deltaLink"] = link(base, {"$deltatoken": [token]})
        return ok(body, extra=extra)

    def _delta_round(
        self, mb: Mailbox, cal: Calendar, query: dict[str, list[str]], delta: str | None
    ) -> DeltaPage:
        """Start a round: everything in the window, or what changed since the deltaLink."""
        state: DeltaState | None = None
        if delta is not None:
            state = self._delta_states.get(delta)
            if state is None or state.calendar != cal.id or state.mailbox != mb.address:
                raise ApiError(410, self.delta_expired_code)
            lo, hi = state.lo, state.hi
        else:
            lo, hi = query_time(query, "startDateTime"), query_time(query, "endDateTime")
        current = [copy.deepcopy(e) for e in self._view(cal, lo, hi)]
        versions = {e["id"]: e["changeKey"] for e in current}
        if state is None:
            items = current
        else:
            items = [e for e in current if state.versions.get(e["id"]) != e["changeKey"]]
            items += [removed(i) for i in state.versions if i not in versions]
        return DeltaPage(DeltaState(mb.address, cal.id, lo, hi, versions), items, 0)
