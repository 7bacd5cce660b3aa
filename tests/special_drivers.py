"""Test-only drivers for the review tests (loaded through Plugins(extra=[...]))."""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterator, Sequence

from syncfw import hookimpl
from syncfw.drivers.memory import MemoryDriver
from syncfw.errors import NotFound, PreconditionFailed
from syncfw.model import Change, Window
from syncfw.sdk.driver import Cursor, Feed, WriteOp, WriteResult

#: Source keys a FlakySource reports as unreadable (malformed) items.
BROKEN: set[str] = set()
_ids = itertools.count(1)


class FlakySource(MemoryDriver):
    """A memory calendar whose items in BROKEN come back as read errors."""

    name = "flaky-memory"

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        feed = super().read(cursor, window)

        def changes() -> Generator[Change, None, Cursor | None]:
            for c in feed:
                if c.key in BROKEN and c.event is not None:
                    yield Change(c.key, etag=c.etag, error="malformed item")
                else:
                    yield c
            return feed.cursor

        return Feed(changes(), full=feed.full)


class ServerIds(MemoryDriver):
    """A memory calendar whose keys are chosen by the server (like Google/Graph ids):
    key != uid, incremental reads, etags."""

    name = "server-ids"

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        for op in ops:
            with self.store._lock:
                yield self._one(op)

    def _one(self, op: WriteOp) -> WriteResult:
        store, calendar = self.store, self.context.calendar
        if op.action == "delete" or op.event is None:
            return store._apply(op, calendar)
        if op.action == "create":
            key = f"srv-{next(_ids)}"
            return WriteResult(op, key=key, etag=store._store(key, op.event))
        assert op.key is not None
        current = store.etag(op.key)
        if current is None:
            return WriteResult(op, key=op.key, error=NotFound(op.key, calendar=calendar))
        if op.etag is not None and op.etag != current:
            return WriteResult(op, key=op.key, error=PreconditionFailed(op.key, calendar=calendar))
        return WriteResult(op, key=op.key, etag=store._store(op.key, op.event))


class ReviewDrivers:
    @hookimpl
    def syncfw_register_drivers(self, register: object) -> None:
        register(FlakySource)  # type: ignore[operator]
        register(ServerIds)  # type: ignore[operator]
