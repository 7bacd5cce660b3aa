"""The ``ics`` driver: a calendar in one ``.ics`` file, or in a folder of ``.ics`` files.

``path`` ending in ``.ics`` (or naming an existing file) is *file mode*: one
VCALENDAR holds every event and an item's key is its UID. Any other path is
*folder mode*, like vdirsyncer's filesystem storage: one ``<name>.ics`` per
event, the name derived from the UID (hashed when the UID has characters a
file name should not), and the file name is the key. An update writes the
event with the UID it carries in folder mode; in file mode the key (the UID)
stays the event's UID.

Every read is a full read. An item's etag is a hash of its bytes, so a change
made by hand is seen as a change. Writes are atomic (:func:`syncfw.sdk.fs.atomic_write`):
a crash, even SIGKILL, leaves either the old or the new file, never a torn or
empty one. The hidden temp file such a crash can leave in a folder is removed by
a later write once it is 10 minutes old; younger ones may be another writer's.
File mode applies all ops of one ``write()`` in memory and replaces the file
once; events the ops do not touch keep their bytes (:mod:`._icsfile`). Nothing
locks the files: a concurrent editor's change that lands between our read and
our replace is lost, as with any editor.

With ``create: false`` a missing path is an error instead of an empty calendar
- use it for a *source*, where "the file is gone" must not mean "delete all".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from syncfw.drivers._icsfile import Document, etag, one_event
from syncfw.errors import DriverError, NotFound, PreconditionFailed
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
    resolve_path,
)
from syncfw.sdk.fs import atomic_write, file_name_for, fsync_dir, remove_stale_temp_files
from syncfw.sdk.ical import decode, event_to_components, event_to_ical, events_from_ical

__all__ = ["IcsDriver", "IcsOptions", "atomic_write", "file_name_for"]


class IcsOptions(DriverOptions):
    path: Annotated[Path, AfterValidator(resolve_path)]
    create: bool = True


class IcsDriver(Driver):
    """Events in an ``.ics`` file (key: UID) or a folder of them (key: file name)."""

    name = "ics"
    Options = IcsOptions

    @classmethod
    def location(cls, options: IcsOptions) -> str:
        return f"file:{options.path.resolve()}"

    capabilities = Capabilities(
        incremental=False,
        conditional_writes=True,
        native_recurrence=True,
        client_ids=True,
        batch_size=1000,
    )

    def __init__(self, options: IcsOptions, context: DriverContext) -> None:
        super().__init__(options, context)
        self.path = options.path
        self.single_file = self.path.is_file() or (
            not self.path.is_dir() and self.path.suffix.lower() == ".ics"
        )

    def _error(self, message: str) -> DriverError:
        return DriverError(message, calendar=self.context.calendar)

    def _missing(self) -> bool:
        if self.path.exists():
            return False
        if not self.options.create:
            raise self._error(
                f"{self.path} does not exist; with 'create: false' a missing calendar is an "
                "error, not an empty one (fix the path, or set 'create: true')"
            )
        return True

    # ------------------------------------------------------------------ read

    def series_problem(self, event: Event) -> str | None:
        return None  # iCalendar says RANGE=THISANDFUTURE and writes the zones it uses

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        """Every item (the window is applied by the engine); the cursor stays None."""
        if self._missing():
            return Feed([], full=True)
        try:
            changes = self._read_file() if self.single_file else self._read_folder()
        except OSError as exc:
            raise self._error(f"cannot read {self.path}: {exc}") from exc
        return Feed(changes, full=True)

    def _read_file(self) -> list[Change]:
        return [item.change(str(self.path)) for item in self._load().items()]

    def _read_folder(self) -> list[Change]:
        changes = []
        for file in sorted(self.path.iterdir()):
            if file.name.startswith(".") or file.suffix.lower() != ".ics" or not file.is_file():
                continue
            data = file.read_bytes()
            change = _folder_change(file, data)
            if change is not None:
                changes.append(change)
        return changes

    def _load(self) -> Document:
        try:
            if not self.path.exists():
                return Document()
            return Document.parse(self.path.read_bytes(), str(self.path))
        except ValueError as exc:
            raise self._error(f"{self.path} cannot be read as iCalendar: {exc}") from exc

    # ----------------------------------------------------------------- write

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        missing = self._missing()  # raises for a missing path with 'create: false'
        if self.single_file:
            yield from self._write_file(ops)
            return
        if missing:
            self.path.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.path)  # a killed writer's, once surely abandoned
        for op in ops:
            yield self._write_one(op)

    def _write_file(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        doc = self._load()
        results = [self._apply(doc, op) for op in ops]
        if any(r.ok for r in results):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                atomic_write(self.path, doc.render())
            except OSError as exc:
                raise self._error(f"cannot write {self.path}: {exc}") from exc
        return results

    def _apply(self, doc: Document, op: WriteOp) -> WriteResult:
        key = op.key or (op.event.uid if op.event else "")
        refused = _precondition(op, key, doc.etags.get(key), self.context.calendar)
        if refused is not None:
            return refused
        if op.action == "delete":
            doc.remove(key)
            return WriteResult(op, key=key)
        try:
            if op.event is None:
                raise ValueError(f"the {op.action} carries no event")
            event = op.event if op.event.uid == key else op.event.replace(uid=key)
            components = event_to_components(event)
        except ValueError as exc:
            return WriteResult(op, key=key, error=self._error(f"cannot write {key!r}: {exc}"))
        return WriteResult(op, key=key, etag=doc.put(key, components))

    def _write_one(self, op: WriteOp) -> WriteResult:
        calendar = self.context.calendar
        if op.action != "delete" and op.event is None:
            return WriteResult(op, key=op.key, error=self._error(f"the {op.action} has no event"))
        key = file_name_for(op.event.uid) if op.action == "create" and op.event else op.key or ""
        if not _is_plain_name(key):
            return WriteResult(op, key=key, error=NotFound(key, calendar=calendar))
        file = self.path / key
        current = etag(file.read_bytes()) if file.is_file() else None
        refused = _precondition(op, key, current, calendar)
        if refused is not None:
            return refused
        try:
            if op.event is None:  # a delete
                file.unlink(missing_ok=True)
                fsync_dir(self.path)
                return WriteResult(op, key=key)
            data = event_to_ical([op.event])
            if not atomic_write(file, data, exclusive=op.action == "create"):
                return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
        except ValueError as exc:
            return WriteResult(op, key=key, error=self._error(f"cannot write {key!r}: {exc}"))
        except OSError as exc:
            raise self._error(f"cannot write {file}: {exc}") from exc
        return WriteResult(op, key=key, etag=etag(data))


def _precondition(op: WriteOp, key: str, etag: str | None, calendar: str) -> WriteResult | None:
    """The result of an op refused by the item's state (``etag`` None: no such item),
    or None to go ahead. Deleting what is not there is done already."""
    if op.action == "create":
        return (
            None
            if etag is None
            else WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
        )
    if etag is None:
        return WriteResult(
            op, key=key, error=None if op.action == "delete" else NotFound(key, calendar=calendar)
        )
    if op.etag is not None and op.etag != etag:
        return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
    return None


def _is_plain_name(key: str) -> bool:
    return bool(key) and key not in (".", "..") and "/" not in key and os.sep not in key


def _folder_change(file: Path, data: bytes) -> Change | None:
    """One folder item as a Change; None for a file without events (a VTODO, say)."""
    try:
        found = events_from_ical(decode(data, str(file)))
    except ValueError as exc:
        return Change(file.name, etag=etag(data), error=f"{file}: {exc}")
    if not found:
        return None
    event = one_event(found, str(file))
    if isinstance(event, str):
        return Change(file.name, etag=etag(data), error=event)
    return Change(file.name, event, etag(data))


@hookimpl
def syncfw_register_drivers(register: Callable[[type[Driver]], None]) -> None:
    register(IcsDriver)
