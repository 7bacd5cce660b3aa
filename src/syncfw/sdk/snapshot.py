"""Incremental reads for calendars without a change log: the snapshot cursor.

A file, a spreadsheet or a plain table can only list everything it holds. The snapshot
cursor makes such a calendar incremental anyway: it is the etag of every item at the last
read (key -> etag, serialized to a string), and the next read lists everything again and
reports only what differs from it::

    def read(self, cursor, window):
        return snapshot_feed(self._listing(), cursor, calendar=self.context.calendar)

    def settle(self, cursor, ours):
        return settle_snapshot(cursor, self._listing(), ours)

With no cursor the feed is a full read of every item; with one, it holds the created and
updated items and a tombstone for each key that is gone. A cursor that is not a snapshot
(damaged, or from another version of the driver) raises :class:`~syncfw.errors.CursorExpired`
from ``read`` itself, and the engine reads in full. An item that could not be read (a
``Change`` with ``error``) or has no etag is kept in the snapshot without one: it is reported
again on every read until it is fixed, and its deletion still comes as a tombstone.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from syncfw.errors import CursorExpired
from syncfw.model import Change
from syncfw.sdk.driver import Cursor, Feed

__all__ = ["Snapshot", "settle_snapshot", "snapshot_feed"]

_PREFIX = "snapshot1:"  # a new format gets a new prefix; old cursors then expire


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a calendar held at a read: each item's etag by key (None: report it again)."""

    etags: Mapping[str, str | None]

    @classmethod
    def of(cls, listing: Iterable[Change]) -> Snapshot:
        """The snapshot of a full listing (tombstones in it are left out)."""
        return cls(
            {c.key: None if c.error is not None else c.etag for c in listing if not c.deleted}
        )

    @classmethod
    def parse(cls, cursor: Cursor, *, calendar: str | None = None) -> Snapshot:
        """The snapshot a :meth:`cursor` string holds; CursorExpired when it holds none."""
        try:
            if not cursor.startswith(_PREFIX):
                raise ValueError("it is not a snapshot cursor")
            data = json.loads(zlib.decompress(base64.urlsafe_b64decode(cursor[len(_PREFIX) :])))
            if not isinstance(data, dict) or not all(
                isinstance(etag, str | None) for etag in data.values()
            ):
                raise ValueError("it is not a map of keys to etags")
        except (ValueError, zlib.error) as exc:  # binascii.Error and JSON's are ValueErrors
            raise CursorExpired(f"cannot use the cursor: {exc}", calendar=calendar) from None
        return cls(data)

    def cursor(self) -> Cursor:
        """This snapshot as a cursor string (compressed JSON)."""
        data = json.dumps(dict(self.etags), separators=(",", ":"), ensure_ascii=False)
        return _PREFIX + base64.urlsafe_b64encode(zlib.compress(data.encode(), 9)).decode()

    def diff(self, listing: Iterable[Change]) -> list[Change]:
        """What of ``listing`` (every item now) differs from this snapshot, in listing
        order, then a tombstone for each key of the snapshot that is not listed."""
        changes, listed = [], set()
        for change in listing:
            listed.add(change.key)
            before = self.etags.get(change.key)  # None: new, or unreadable last time
            if change.error is not None or before is None or before != change.etag:
                changes.append(change)
        changes.extend(Change(key) for key in self.etags if key not in listed)
        return changes


def snapshot_feed(
    listing: Iterable[Change], cursor: Cursor | None, *, calendar: str | None = None
) -> Feed:
    """The feed of a read: all of ``listing`` (every item the calendar holds) when
    ``cursor`` is None, else what changed since that cursor; it ends with the next cursor.

    Raises :class:`~syncfw.errors.CursorExpired` (naming ``calendar``) for a cursor that is
    not a snapshot, before anything is read.
    """
    since = None if cursor is None else Snapshot.parse(cursor, calendar=calendar)
    changes = list(listing)
    after = Snapshot.of(changes).cursor()
    if since is None:
        return Feed.of(changes, full=True, cursor=after)
    return Feed.of(since.diff(changes), full=False, cursor=after)


def settle_snapshot(
    cursor: Cursor, listing: Iterable[Change], ours: Mapping[str, str | None]
) -> Cursor | None:
    """:meth:`Driver.settle <syncfw.sdk.driver.Driver.settle>` for a snapshot cursor.

    The cursor of ``listing`` (every item now) when everything that differs from
    ``cursor``'s snapshot is one of this run's writes - the same key with the etag that
    write returned, or gone after a delete (``None``); else None, so the next read reports
    the changes someone else made.
    """
    try:
        since = Snapshot.parse(cursor)
    except CursorExpired:
        return None
    changes = list(listing)
    for change in since.diff(changes):
        if change.error is not None or change.key not in ours or ours[change.key] != change.etag:
            return None
    return Snapshot.of(changes).cursor()
