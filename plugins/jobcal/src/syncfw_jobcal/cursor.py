"""The incremental cursor of the jobcal driver: a timestamp, and what was seen at its edge.

A read asks for every appointment with ``updated_at >= since - OVERLAP``. The overlap is
for concurrent writers: a transaction stamps its rows when it writes them but commits a
moment later, so a reader can see a later stamp before an earlier one becomes visible.
Reading back :data:`OVERLAP` catches those late commits.

Re-reading the overlap would deliver the same items again on every read, so the cursor
also carries a fingerprint (uid + version) of each item already seen inside the overlap,
and those are skipped: a quiet calendar reads as empty, a late commit still shows up
(its version is new). Text form: ``<ISO 8601 timestamp>[|<fp>,<fp>...]``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .records import Appointment

__all__ = ["EPOCH", "OVERLAP", "ChangeCursor"]

OVERLAP = timedelta(seconds=2)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # before everything: the next read gets it all
_FINGERPRINT = re.compile(r"[0-9a-f]{10}\Z")


def fingerprint(appt: Appointment) -> str:
    return hashlib.blake2b(f"{appt.uid}\0{appt.version}".encode(), digest_size=5).hexdigest()


@dataclass(frozen=True, slots=True)
class ChangeCursor:
    since: datetime
    seen: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> ChangeCursor | None:
        """The cursor ``text`` stands for, or None if it is not one of ours."""
        stamp, _, rest = text.partition("|")
        try:
            since = datetime.fromisoformat(stamp)
        except ValueError:
            return None
        seen = frozenset(rest.split(",")) if rest else frozenset()
        if since.tzinfo is None or not all(_FINGERPRINT.match(fp) for fp in seen):
            return None
        return cls(since, seen)

    def __str__(self) -> str:
        seen = "|" + ",".join(sorted(self.seen)) if self.seen else ""
        return self.since.isoformat() + seen

    @property
    def query_from(self) -> datetime:
        return self.since - OVERLAP

    def unseen(self, items: Iterable[Appointment]) -> list[Appointment]:
        return [a for a in items if fingerprint(a) not in self.seen]

    def advance(self, items: list[Appointment]) -> ChangeCursor:
        """The cursor after reading ``items`` (everything from :attr:`query_from` on)."""
        stamps = [a.updated_at for a in items if a.updated_at is not None]
        if not stamps:
            return self
        top = max(self.since, *stamps)
        edge = top - OVERLAP
        return ChangeCursor(
            top,
            frozenset(
                fingerprint(a) for a in items if a.updated_at is not None and a.updated_at >= edge
            ),
        )
