"""Writes with preconditions, for calendars that hold their items in memory while writing.

A file, a document or a folder has no server to check etags; these helpers do what a server
would. Load the items, :func:`apply_writes`, save once if anything was done::

    def write(self, ops):
        rows = self._load()                                  # key -> item, e.g. a row
        results = apply_writes(ops, rows, encode=to_row, etag=row_etag,
                               calendar=self.context.calendar)
        if any(r.ok for r in results):
            atomic_write(self.path, dump(rows))              # syncfw.sdk.fs
        return iter(results)

:func:`precondition` is the check alone, for a backend that writes item by item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from typing import TypeVar

from syncfw.errors import DriverError, NotFound, PreconditionFailed
from syncfw.model import Event, WriteOp
from syncfw.sdk.driver import WriteResult

__all__ = ["apply_writes", "precondition"]

Item = TypeVar("Item")


def precondition(
    op: WriteOp, key: str, current: str | None, *, calendar: str | None = None
) -> WriteResult | None:
    """The result of ``op`` when the item's state decides it, or None to go ahead.

    ``current`` is the etag of item ``key`` now, None when there is no such item:

    - a create of a key that exists fails with PreconditionFailed (a create's uid is new);
    - an update of a missing item fails with NotFound; deleting one is done already;
    - an update or delete whose ``op.etag`` is not ``current`` fails with PreconditionFailed
      (an op without etag is unconditional).
    """
    if op.action == "create":
        if current is None:
            return None
        return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
    if current is None:
        missing = None if op.action == "delete" else NotFound(key, calendar=calendar)
        return WriteResult(op, key=key, error=missing)
    if op.etag is not None and op.etag != current:
        return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
    return None


def apply_writes(
    ops: Iterable[WriteOp],
    items: MutableMapping[str, Item],
    *,
    encode: Callable[[Event], Item],
    etag: Callable[[Item], str],
    calendar: str | None = None,
) -> list[WriteResult]:
    """Apply ``ops`` to ``items`` (key -> item) in order; one result per op.

    A create's key is its event's uid; an update keeps its key, and ``encode`` gets the
    event under that uid. ``encode`` turns an event into an item; a ``ValueError`` it
    raises fails that op alone, with its message. ``etag(item)`` is the item's version as
    reads report it, the etag a result carries. Preconditions as in :func:`precondition`.
    """
    results = []
    for op in ops:
        if op.action == "create" and op.event is not None:
            key = op.event.uid
        else:
            key = op.key or (op.event.uid if op.event is not None else "")
        current = items.get(key)
        refused = precondition(
            op, key, None if current is None else etag(current), calendar=calendar
        )
        if refused is not None:
            results.append(refused)
        elif op.action == "delete":
            del items[key]
            results.append(WriteResult(op, key=key))
        elif op.event is None:
            error = DriverError(f"the {op.action} of {key!r} carries no event", calendar=calendar)
            results.append(WriteResult(op, key=key, error=error))
        else:
            try:
                item = encode(op.event if op.event.uid == key else op.event.replace(uid=key))
            except ValueError as exc:
                error = DriverError(f"cannot write {key!r}: {exc}", calendar=calendar)
                results.append(WriteResult(op, key=key, error=error))
                continue
            items[key] = item
            results.append(WriteResult(op, key=key, etag=etag(item)))
    return results
