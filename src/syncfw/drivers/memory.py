"""The ``memory`` driver: a calendar that lives in the process, for tests and library users.

Profiles name a store (``{driver: memory, name: jobs}``); every driver built with
that name shares one :class:`MemoryStore`, so a test can seed it, run a sync,
and look at the result. The store keeps a change log, so the driver offers
incremental reads, and its helpers (:meth:`MemoryStore.put`,
:meth:`MemoryStore.put_unreadable`, :meth:`MemoryStore.remove`,
:attr:`MemoryStore.fail_on`, :meth:`MemoryStore.expire_cursors`) play the part of a
person or a provider doing something behind the engine's back.

Writes are lazy: each op is applied when its result is asked for.

Reads are not filtered by the window: a full read returns every item and an
incremental read every changed one; the engine applies the window itself.
"""

from __future__ import annotations

import bisect
import secrets
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import ClassVar

from syncfw.errors import CursorExpired, DriverError, NotFound, PreconditionFailed
from syncfw.markers import hookimpl
from syncfw.model import Change, Event, Window
from syncfw.sdk.driver import (
    Capabilities,
    Cursor,
    Driver,
    DriverContext,
    DriverOptions,
    Feed,
    WriteOp,
    WriteResult,
)

__all__ = ["MemoryDriver", "MemoryOptions", "MemoryStore"]


class MemoryStore:
    """Events by key (== uid) with an etag each and a log of which key changed when.

    Every mutation takes the lock and bumps :attr:`sequence`; the log maps each
    sequence number to the key it touched, which is all an incremental read needs.
    An item is kept as the :class:`Change` a read reports for it: an event with its
    etag, or an error for an item planted as unreadable.

    :attr:`fail_on` is asked before each op is applied: it may return an error (that
    op fails), return None (it goes ahead), or raise a :class:`DriverError` (the
    write stops there, as on refused credentials).
    """

    _stores: ClassVar[dict[str, MemoryStore]] = {}
    _stores_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str = "default") -> None:
        self.name = name
        self.fail_on: Callable[[WriteOp], DriverError | None] | None = None
        self._lock = threading.RLock()  # fail_on hooks may edit the store
        self._token = secrets.token_hex(4)  # etags of two stores never collide
        self._items: dict[str, Change] = {}
        self._log_seq: list[int] = []
        self._log_key: list[str] = []
        self._seq = 0
        self._oldest_cursor = 0

    @classmethod
    def named(cls, name: str) -> MemoryStore:
        """The process-global store called ``name``, created on first use."""
        with cls._stores_lock:
            store = cls._stores.get(name)
            if store is None:
                store = cls._stores[name] = cls(name)
            return store

    @classmethod
    def reset_all(cls) -> None:
        """Empty and forget every named store (between tests)."""
        with cls._stores_lock:
            for store in cls._stores.values():
                store.clear()
            cls._stores.clear()

    @property
    def sequence(self) -> int:
        return self._seq

    def clear(self) -> None:
        """Drop every event and the log; older cursors expire."""
        with self._lock:
            self._items.clear()
            self._log_seq.clear()
            self._log_key.clear()
            self._seq += 1
            self._oldest_cursor = self._seq
            self.fail_on = None

    def expire_cursors(self) -> None:
        """Make every cursor handed out so far raise CursorExpired (like an HTTP 410)."""
        with self._lock:
            self._seq += 1  # so that even the newest cursor is older than the oldest valid one
            self._oldest_cursor = self._seq
            self._log_seq.clear()
            self._log_key.clear()

    # -- "someone edited the calendar by hand" --------------------------------

    def put(self, event: Event) -> str:
        """Create or replace ``event`` under its uid without a precondition; its new etag."""
        with self._lock:
            return self._store(event.uid, event)

    def put_unreadable(self, key: str, error: str = "garbled beyond reading") -> str:
        """Create or replace item ``key`` with one that reads as ``error``; its new etag."""
        with self._lock:
            return self._store(key, None, error)

    def remove(self, key: str) -> bool:
        """Delete ``key`` without a precondition; whether it existed."""
        with self._lock:
            return self._drop(key)

    def events(self) -> dict[str, Event]:
        """A snapshot of every event by key (items planted as unreadable left out)."""
        with self._lock:
            return {k: c.event for k, c in self._items.items() if c.event is not None}

    def etag(self, key: str) -> str | None:
        item = self._items.get(key)
        return item.etag if item else None

    def __repr__(self) -> str:
        return f"<MemoryStore {self.name!r}: {len(self._items)} events, seq {self._seq}>"

    # -- used by the driver, lock held -----------------------------------------

    def _store(self, key: str, event: Event | None, error: str | None = None) -> str:
        self._seq += 1
        etag = f"{self._token}-{self._seq}"
        self._items[key] = Change(key, event, etag, error)
        self._log_seq.append(self._seq)
        self._log_key.append(key)
        return etag

    def _drop(self, key: str) -> bool:
        if self._items.pop(key, None) is None:
            return False
        self._seq += 1
        self._log_seq.append(self._seq)
        self._log_key.append(key)
        return True

    def _apply(self, op: WriteOp, calendar: str) -> WriteResult:
        failure = self.fail_on(op) if self.fail_on is not None else None
        if failure is not None:
            return WriteResult(op, key=op.key, error=failure)
        if op.action == "delete":
            key = op.key or (op.event.uid if op.event else "")
            current = self._items.get(key)
            if current is not None and op.etag is not None and op.etag != current.etag:
                return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
            self._drop(key)
            return WriteResult(op, key=key)
        if op.event is None:
            error = DriverError(f"{op.action} of {op.key!r} carries no event", calendar=calendar)
            return WriteResult(op, key=op.key, error=error)
        if op.action == "create":
            key = op.event.uid
            if key in self._items:
                return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
            return WriteResult(op, key=key, etag=self._store(key, op.event))
        key = op.key or op.event.uid
        current = self._items.get(key)
        if current is None:
            return WriteResult(op, key=key, error=NotFound(key, calendar=calendar))
        if op.etag is not None and op.etag != current.etag:
            return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
        event = op.event if op.event.uid == key else op.event.replace(uid=key)
        return WriteResult(op, key=key, etag=self._store(key, event))

    def _snapshot(self, cursor: Cursor | None, calendar: str) -> tuple[list[Change], Cursor]:
        with self._lock:
            if cursor is None:
                return list(self._items.values()), str(self._seq)
            try:
                since = int(cursor)
            except ValueError:
                raise CursorExpired(
                    f"cursor {cursor!r} is not one of this store's", calendar=calendar
                ) from None
            if not self._oldest_cursor <= since <= self._seq:
                raise CursorExpired(f"cursor {cursor!r} has expired", calendar=calendar)
            start = bisect.bisect_right(self._log_seq, since)
            keys = dict.fromkeys(self._log_key[start:])  # each key once, first-change order
            return [self._items.get(key) or Change(key) for key in keys], str(self._seq)


class MemoryOptions(DriverOptions):
    name: str = "default"


class MemoryDriver(Driver):
    """A driver over a named :class:`MemoryStore`; key == event uid."""

    name = "memory"
    Options = MemoryOptions

    @classmethod
    def location(cls, options: MemoryOptions) -> str:
        return f"memory:{options.name}"

    capabilities = Capabilities(
        incremental=True,
        conditional_writes=True,
        native_recurrence=True,
        client_ids=True,
        batch_size=500,
    )

    def __init__(self, options: MemoryOptions, context: DriverContext) -> None:
        super().__init__(options, context)
        self.store = MemoryStore.named(options.name)

    def series_problem(self, event: Event) -> str | None:
        return None  # stores the Event itself

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        # Snapshot now, so CursorExpired is raised by read() itself, not mid-iteration.
        changes, next_cursor = self.store._snapshot(cursor, self.context.calendar)
        return Feed(_replay(changes, next_cursor), full=cursor is None)

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        for op in ops:
            with self.store._lock:
                result = self.store._apply(op, self.context.calendar)
            yield result


def _replay(changes: list[Change], cursor: Cursor) -> Generator[Change, None, Cursor]:
    yield from changes
    return cursor


@hookimpl
def syncfw_register_drivers(register: Callable[[type[Driver]], None]) -> None:
    register(MemoryDriver)
