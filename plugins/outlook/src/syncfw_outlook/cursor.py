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
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["DeltaCursor", "occurrence_digest"]


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
        if not text.startswith("{"):
            return cls(text)
        data = json.loads(text)
        occ = {str(k): set(str(v).split()) for k, v in (data.get("occ") or {}).items()}
        return cls(str(data["link"]), occ)

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
