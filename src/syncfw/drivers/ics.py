"""The ``ics`` driver: a calendar in one ``.ics`` file, or in a folder of ``.ics`` files.

``path`` ending in ``.ics`` (or naming an existing file) is *file mode*: one
VCALENDAR holds every event and an item's key is its UID. Any other path is
*folder mode*, like vdirsyncer's filesystem storage: one ``<name>.ics`` per
event, the name derived from the UID (hashed when the UID has characters a
file name should not), and the file name is the key. An update writes the
event with the UID it carries in folder mode; in file mode the key (the UID)
stays the event's UID.

Every read is a full read. An item's etag is a hash of its bytes, so a change
made by hand is seen as a change. Writes are atomic (temp file in the same
folder, fsync, ``os.replace``, fsync of the folder): a crash, even SIGKILL,
leaves either the old or the new file, never a torn or empty one. File mode
applies all ops of one ``write()`` in memory and replaces the file once; events
the ops do not touch keep their bytes. Nothing locks the files: a concurrent
editor's change that lands between our read and our replace is lost, as with
any editor.

With ``create: false`` a missing path is an error instead of an empty calendar
- use it for a *source*, where "the file is gone" must not mean "delete all".
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from pydantic import AfterValidator

from ..driver import (
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
from ..errors import DriverError, NotFound, PreconditionFailed
from ..hookspecs import hookimpl
from ..ical import PRODID, ParseProblem, event_to_components, event_to_ical, events_from_ical
from ..model import Change, Event, Window

__all__ = ["IcsDriver", "IcsOptions", "atomic_write", "file_name_for"]

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,127}")
_UNESCAPE = re.compile(r"\\([\\;,nN])")
_DATE_PROPERTIES = ("DTSTART", "DTEND", "RDATE", "EXDATE", "RECURRENCE-ID")


class IcsOptions(DriverOptions):
    path: Annotated[Path, AfterValidator(resolve_path)]
    create: bool = True


class IcsDriver(Driver):
    """Events in an ``.ics`` file (key: UID) or a folder of them (key: file name)."""

    name = "ics"
    Options = IcsOptions
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

    def _load(self) -> _Document:
        try:
            return _Document.parse(self.path.read_bytes()) if self.path.exists() else _Document()
        except ValueError as exc:
            raise self._error(f"{self.path} cannot be read as iCalendar: {exc}") from exc

    # ----------------------------------------------------------------- write

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        if self._missing() and not self.single_file:
            self.path.mkdir(parents=True, exist_ok=True)
        if self.single_file:
            yield from self._write_file(ops)
        else:
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

    def _apply(self, doc: _Document, op: WriteOp) -> WriteResult:
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
        current = _etag(file.read_bytes()) if file.is_file() else None
        refused = _precondition(op, key, current, calendar)
        if refused is not None:
            return refused
        try:
            if op.event is None:  # a delete
                file.unlink(missing_ok=True)
                _fsync_dir(self.path)
                return WriteResult(op, key=key)
            data = event_to_ical([op.event])
            if not atomic_write(file, data, exclusive=op.action == "create"):
                return WriteResult(op, key=key, error=PreconditionFailed(key, calendar=calendar))
        except ValueError as exc:
            return WriteResult(op, key=key, error=self._error(f"cannot write {key!r}: {exc}"))
        except OSError as exc:
            raise self._error(f"cannot write {file}: {exc}") from exc
        return WriteResult(op, key=key, etag=_etag(data))


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


def file_name_for(uid: str) -> str:
    """The folder-mode file name of a UID: itself when harmless, else a hash of it."""
    if _SAFE_NAME.fullmatch(uid) and not uid.lower().endswith(".tmp"):
        return f"{uid}.ics"
    return f"{hashlib.sha256(uid.encode()).hexdigest()[:40]}.ics"


def _is_plain_name(key: str) -> bool:
    return bool(key) and key not in (".", "..") and "/" not in key and os.sep not in key


def _etag(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _folder_change(file: Path, data: bytes) -> Change | None:
    """One folder item as a Change; None for a file without events (a VTODO, say)."""
    try:
        found = events_from_ical(data)
    except ValueError as exc:
        return Change(file.name, etag=_etag(data), error=f"{file}: {exc}")
    if not found:
        return None
    if len(found) > 1:
        uids = ", ".join(sorted({repr(e.uid) for e in found if e.uid}))
        message = f"{file}: holds {len(found)} events ({uids}); one event per file is expected"
        return Change(file.name, etag=_etag(data), error=message)
    if isinstance(found[0], ParseProblem):
        return Change(file.name, etag=_etag(data), error=f"{file}: {found[0]}")
    return Change(file.name, found[0], _etag(data))


# ---------------------------------------------------------------- atomic files


def atomic_write(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Replace (or, ``exclusive``, create) ``path`` with ``data`` so that a crash never
    leaves a torn file: temp file in the same folder, fsync, rename, fsync the folder.

    Returns False when ``exclusive`` and the file already exists (nothing written).
    """
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    # 0o666 minus the umask, like any new file; an existing file's mode is kept below.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        with suppress(FileNotFoundError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        if exclusive:
            try:
                os.link(tmp, path)  # unlike a rename, fails if path exists meanwhile
            except FileExistsError:
                return False
            except OSError:  # no hard links here (FAT, some network shares)
                os.replace(tmp, path)
            finally:
                with suppress(FileNotFoundError):
                    os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return True


def _fsync_dir(folder: Path) -> None:
    flag = getattr(os, "O_DIRECTORY", None)
    if flag is None:  # Windows: renames are durable enough without it
        return
    fd = os.open(folder, os.O_RDONLY | flag)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- file mode


@dataclass
class _Item:
    """The VEVENTs of one UID in a single-file calendar, as text."""

    key: str
    text: str
    timezones: str  # the VTIMEZONEs the item may need to be parsed on its own

    @property
    def etag(self) -> str:
        return _etag(self.text.encode())

    def change(self, where: str) -> Change:
        wrapped = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{self.timezones}{self.text}END:VCALENDAR\r\n"
        try:
            found = events_from_ical(wrapped)
        except ValueError as exc:
            return Change(self.key, etag=self.etag, error=f"{where}: {exc}")
        if len(found) == 1 and isinstance(found[0], Event):
            return Change(self.key, found[0], self.etag)
        if len(found) == 1:
            return Change(self.key, etag=self.etag, error=f"{where}: {found[0]}")
        message = f"{where}: event {self.key!r} has only overridden instances, not the series"
        return Change(self.key, etag=self.etag, error=message)


@dataclass(slots=True)
class _Segment:
    """A piece of a single-file calendar: a component of a VCALENDAR (``kind`` its
    name, ``key`` a VEVENT's UID or a VTIMEZONE's TZID) or other lines (``kind`` "")."""

    kind: str
    key: str
    text: str


class _Document:
    """A single-file calendar as text segments, so that untouched events keep their bytes.

    Ops edit segments in place (a removed one is blanked); new events and the
    VTIMEZONEs they need are placed by :meth:`render`, so each op costs O(1).
    """

    def __init__(self) -> None:
        self.newline = "\r\n"
        self.segments = [
            _Segment("", "", f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\n"),
            _Segment("", "", "END:VCALENDAR\r\n"),
        ]
        self._new: list[_Segment] = []
        self._tzids: set[str] = set()  # used by the events put

    @classmethod
    def parse(cls, data: bytes) -> _Document:
        text = data.decode("utf-8-sig")  # UnicodeDecodeError is a ValueError
        doc = cls()
        if not text.strip():
            return doc
        lines = text.splitlines(keepends=True)
        doc.newline = "\r\n" if lines[0].endswith("\r\n") else "\n"
        doc.segments = segments = []
        parts: list[str] = []  # the lines of the component being read
        depth, seen = 0, False
        for number, line in enumerate(lines, 1):
            upper = line.rstrip("\r\n").upper()
            if depth == 0 and upper.strip() and upper != "BEGIN:VCALENDAR":
                raise ValueError(f"line {number} is outside BEGIN:VCALENDAR: {line[:60]!r}")
            if depth >= 1 and upper.startswith("BEGIN:"):
                depth += 1
                parts.append(line)
            elif depth >= 2 and upper.startswith("END:"):
                depth -= 1
                parts.append(line)
                if depth == 1:
                    kind = parts[0].rstrip("\r\n").upper()[6:]
                    segments.append(_Segment(kind, _key(kind, parts, number), "".join(parts)))
                    parts = []
            elif depth >= 2:
                parts.append(line)
            else:  # calendar-level lines: BEGIN/END:VCALENDAR, properties, blank lines
                segments.append(_Segment("", "", line))
                if upper == "BEGIN:VCALENDAR":
                    depth, seen = 1, True
                elif upper.startswith("END:"):
                    depth -= 1
        if not seen or depth != 0:
            raise ValueError("no complete BEGIN:VCALENDAR ... END:VCALENDAR (truncated?)")
        return doc

    @cached_property
    def _events(self) -> dict[str, list[_Segment]]:
        found: dict[str, list[_Segment]] = {}
        for segment in self.segments:
            if segment.kind == "VEVENT":
                found.setdefault(segment.key, []).append(segment)
        return found

    @cached_property
    def etags(self) -> dict[str, str]:
        """The etag of every item by key, kept current by :meth:`put` and :meth:`remove`."""
        return {k: _etag("".join(s.text for s in v).encode()) for k, v in self._events.items()}

    def items(self) -> list[_Item]:
        zones = {s.key: s.text for s in self.segments if s.kind == "VTIMEZONE" and s.key}
        items = []
        for key, segments in self._events.items():
            text = "".join(s.text for s in segments)
            # An IANA TZID needs no VTIMEZONE to be read; parsing one per item is slow.
            needed = "".join(z for tzid, z in zones.items() if tzid in text and not _iana(tzid))
            items.append(_Item(key, text, needed))
        return items

    def remove(self, key: str) -> None:
        for segment in self._events.pop(key, []):
            segment.kind, segment.key, segment.text = "", "", ""
        self.etags.pop(key, None)

    def put(self, key: str, components: list[icalendar.Event]) -> str:
        """Write ``key``'s VEVENTs where the old ones were (or at the end); the new etag."""
        text = "".join(_text(c, self.newline) for c in components)
        old = self._events.get(key, [])
        self.remove(key)
        if old:
            segment = old[0]
            segment.kind, segment.key, segment.text = "VEVENT", key, text
        else:
            segment = _Segment("VEVENT", key, text)
            self._new.append(segment)
        self._events[key] = [segment]
        self._tzids.update(_tzids(components))
        self.etags[key] = _etag(text.encode())
        return self.etags[key]

    def render(self) -> bytes:
        segments = list(self.segments)
        if self._new:
            end = max(i for i, s in enumerate(segments) if s.text.upper().startswith("END:VCAL"))
            segments[end:end] = self._new
            have = {s.key for s in segments if s.kind == "VTIMEZONE"}
            used = sorted(self._tzids - have)
            zones = [_Segment("VTIMEZONE", t, _timezone(t, self.newline)) for t in used]
            first = next(i for i, s in enumerate(segments) if s.kind not in ("", "VTIMEZONE"))
            segments[first:first] = zones
        return "".join(s.text for s in segments).encode()


def _key(kind: str, lines: list[str], number: int) -> str:
    """The key of a component: a VEVENT's UID, a VTIMEZONE's TZID (else "")."""
    wanted = {"VEVENT": "UID", "VTIMEZONE": "TZID"}.get(kind)
    if wanted is None:
        return ""
    unfolded = re.sub(r"\r?\n[ \t]", "", "".join(lines))
    depth = 0
    for line in unfolded.splitlines():
        name, _, value = line.partition(":")
        name = name.split(";")[0].strip().upper()
        if name in ("BEGIN", "END"):
            depth += 1 if name == "BEGIN" else -1
        elif depth == 1 and name == wanted:  # not a nested VALARM's UID
            return _UNESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], value.strip())
    return f"(no {wanted}, ends on line {number})" if wanted == "UID" else ""


def _tzids(components: list[icalendar.Event]) -> set[str]:
    found = set()
    for component in components:
        for name in _DATE_PROPERTIES:
            values = component.get(name)
            for value in values if isinstance(values, list) else [values]:
                tzid = getattr(value, "params", {}).get("TZID")
                if tzid:
                    found.add(str(tzid))
    return found


def _text(component: icalendar.Event, newline: str) -> str:
    text: str = component.to_ical().decode()
    return text if newline == "\r\n" else text.replace("\r\n", newline)


@cache
def _iana(tzid: str) -> bool:
    try:
        ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _timezone(tzid: str, newline: str) -> str:
    # Only IANA names reach here: ical.py writes TZIDs from ZoneInfo keys.
    text: str = icalendar.Timezone.from_tzid(tzid).to_ical().decode()
    return text.replace("\r\n", newline)


@hookimpl
def syncfw_register_drivers(register: Callable[[type[Driver]], None]) -> None:
    register(IcsDriver)
