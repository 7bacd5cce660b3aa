"""The ``outlook`` driver's cursor: Graph's deltaLink, and which series each occurrence is of.

A delta round reports a cancelled occurrence (or one that left the window) only as
``{"id": ..., "@removed": {...}}``: the id alone does not say which series it belongs
to, and Graph no longer serves it. So the cursor remembers, for the series it has seen
in the window, a short digest of each occurrence id with its series' key; a removed
id found there makes the driver read that series again (its new EXDATE), where an
unknown one is a deleted event, or one that left the window.

Stored as compact JSON ``{"link": deltaLink, "occ": {series key: "digest digest ..."}}``;
a cursor that is a bare link (as the first versions stored) is read too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .series import etag_of, master_etag

__all__ = ["DeltaCursor", "occurrence_digest", "settled"]


def occurrence_digest(key: str) -> str:
    """12 hex digits for an occurrence id (real ones are ~150 characters)."""
    return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()


@dataclass
class DeltaCursor:
    link: str
    #: series key -> digests of its occurrences' ids
    occurrences: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str) -> DeltaCursor:
        """The cursor stored as ``text``; ValueError when it is not one of this driver's."""
        if not text.startswith("{"):
            if not text.startswith(("https://", "http://")):
                raise ValueError("neither a delta link nor an Outlook cursor")
            return cls(text)
        data = json.loads(text)
        link = data.get("link") if isinstance(data, dict) else None
        if not isinstance(link, str):
            raise ValueError("an Outlook cursor without its delta link")
        known = data.get("occ") or {}
        if not isinstance(known, dict):
            raise ValueError("an Outlook cursor with a garbled list of occurrences")
        return cls(link, {str(k): set(str(v).split()) for k, v in known.items()})

    def dump(self) -> str:
        occ = {k: " ".join(sorted(v)) for k, v in sorted(self.occurrences.items()) if v}
        return json.dumps({"link": self.link, "occ": occ}, separators=(",", ":"))

    def series_of(self, key: str) -> str | None:
        """The series an occurrence id (of a series seen before) belongs to."""
        digest = occurrence_digest(key)
        return next((s for s, found in self.occurrences.items() if digest in found), None)

    def remember(self, series: str, occurrence_keys: Iterable[str]) -> None:
        """``series`` has these occurrences now (replacing what was known)."""
        self.occurrences[series] = {occurrence_digest(k) for k in occurrence_keys}

    def add(self, series: str, occurrence_key: str) -> None:
        self.occurrences.setdefault(series, set()).add(occurrence_digest(occurrence_key))

    def forget(self, series: str) -> None:
        self.occurrences.pop(series, None)


def settled(
    state: DeltaCursor, pages: Iterable[Any], ours: Mapping[str, str | None]
) -> DeltaCursor | None:
    """``state`` moved past one delta round when every change in it is one of this run's
    writes, or None; ``pages`` are the round's page bodies (anything else, such as an
    error reply, ends it: None), ``ours`` the written keys with the etag each write
    returned (None: deleted).

    An occurrence of a series this run wrote counts as ours while it follows the
    pattern; an exception only when the run wrote the series' exceptions (its etag is
    then None): otherwise it is a person's edit, for the next read to see.
    """
    link: str | None = None
    written_series: set[str] = set()
    for page in pages:
        if not isinstance(page, dict):
            return None
        for item in page.get("value", ()):
            key = str(item["id"])
            master = item.get("seriesMasterId")
            if "@removed" in item:
                of = state.series_of(key)
                if (of or key) in ours and ours[of or key] is None:
                    continue
                return None
            if master is not None:
                master = str(master)
                if master not in ours or (
                    item.get("type") == "exception" and ours[master] is not None
                ):
                    return None
                state.add(master, key)
                written_series.add(master)
                continue
            if key not in ours or master_etag(ours[key]) != etag_of(item):
                return None
        link = page.get("@odata.deltaLink") or link
    if link is None:
        return None
    for key, etag in ours.items():
        if etag is None and key not in written_series:
            state.forget(key)  # deleted
    state.link = link
    return state
