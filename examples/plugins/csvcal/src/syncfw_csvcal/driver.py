"""The ``csvcal`` driver: a calendar in one CSV file, one event per row.

Columns uid, start, end, all_day, title, description, location, attendees, last_modified,
as :mod:`syncfw.sdk.text` writes them; other columns are kept. docs/writing-a-driver.md
walks through this file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from syncfw.model import Change, Event, Window
from syncfw.sdk import (
    Capabilities,
    Cursor,
    Driver,
    DriverOptions,
    Feed,
    WriteOp,
    WriteResult,
    apply_writes,
    atomic_write,
    attendees_from_text,
    attendees_to_text,
    resolve_path,
    settle_snapshot,
    snapshot_feed,
    when_from_text,
    when_to_text,
    zone_name,
)

COLUMNS = ["uid", "start", "end", "all_day", "title", "description", "location"]
COLUMNS += ["attendees", "last_modified"]
Row = dict[str, str]


class CsvOptions(DriverOptions):
    """``path``: the CSV file (relative to the profile's folder), made by the first write."""

    path: Annotated[Path, AfterValidator(resolve_path)]


class CsvDriver(Driver):
    """Events in one CSV file. Key: the uid; etag: a hash of the row; cursor: a snapshot."""

    name = "csvcal"
    Options = CsvOptions
    capabilities = Capabilities(incremental=True, conditional_writes=True, batch_size=1000)

    @classmethod
    def location(cls, options: CsvOptions) -> str:
        return f"file:{options.path.resolve()}"

    def read(self, cursor: Cursor | None, window: Window) -> Feed:
        """Every row (the engine applies the window), or what changed since ``cursor``."""
        return snapshot_feed(self._listing(), cursor, calendar=self.context.calendar)

    def settle(self, cursor: Cursor, ours: Mapping[str, str | None]) -> Cursor | None:
        return settle_snapshot(cursor, self._listing(), ours)

    def write(self, ops: Sequence[WriteOp]) -> Iterator[WriteResult]:
        """Every op on the rows in memory, then one atomic replace; all done on return."""
        header, rows = self._load()
        calendar = self.context.calendar
        results = apply_writes(ops, rows, encode=to_row, etag=row_etag, calendar=calendar)
        if any(result.ok for result in results):
            try:
                self.options.path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.options.path, dump(header, rows.values()))
            except OSError as exc:
                raise self.error(f"cannot write {self.options.path}: {exc}") from exc
        return iter(results)

    def _listing(self) -> list[Change]:
        return [self._change(key, row) for key, row in self._load()[1].items()]

    def _change(self, key: str, row: Row) -> Change:
        try:
            if key != row["uid"]:
                raise ValueError("no uid, or the uid of a row above")
            return Change(key, to_event(row), row_etag(row))
        except ValueError as exc:
            return Change(key, etag=row_etag(row), error=f"{self.options.path}: {key}: {exc}")

    def _load(self) -> tuple[list[str], dict[str, Row]]:
        """The file's columns (ours first), and its rows by uid (or ``row N`` without one)."""
        try:
            with self.options.path.open(newline="", encoding="utf-8-sig") as file:
                reader = csv.DictReader(file, restval="")
                rows = list(reader)  # values past the header are under None: dropped
                header = COLUMNS + [c for c in reader.fieldnames or () if c not in COLUMNS]
        except FileNotFoundError:
            return COLUMNS, {}
        except (OSError, UnicodeError, csv.Error) as exc:
            raise self.error(f"cannot read {self.options.path}: {exc}") from exc
        by_key: dict[str, Row] = {}
        for number, row in enumerate(rows, start=1):
            key = row.get("uid") or f"row {number}"
            by_key[f"row {number}" if key in by_key else key] = dict.fromkeys(COLUMNS, "") | row
        return header, by_key


def to_event(row: Row) -> Event:
    """The event of a row; ValueError when a field cannot be read."""
    start, end = when_from_text(row["start"]), when_from_text(row["end"])
    if isinstance(start, datetime) == (row["all_day"].strip().lower() == "true"):
        raise ValueError(f"all_day is {row['all_day']!r}, but the start is {row['start']!r}")
    attendees, organizer = attendees_from_text(row["attendees"])
    modified = when_from_text(row["last_modified"]) if row["last_modified"].strip() else None
    return Event(
        uid=row["uid"],
        title=row["title"],
        start=start,
        end=end,
        description=row["description"],
        location=row["location"],
        attendees=attendees,
        organizer=organizer,
        timezone=zone_name(start),
        modified=modified if isinstance(modified, datetime) else None,
    )


def to_row(event: Event) -> Row:
    """The row of an event; ValueError for a series (the engine expands those for us)."""
    if event.recurring:
        raise ValueError("a row holds one event, not a recurring series")
    modified = (event.modified or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return {
        "uid": event.uid,
        "start": when_to_text(event.start),
        "end": when_to_text(event.end),
        "all_day": "true" if event.all_day else "false",
        "title": event.title,
        "description": event.description,
        "location": event.location,
        "attendees": attendees_to_text(event.attendees, event.organizer),
        "last_modified": when_to_text(modified),
    }


def row_etag(row: Row) -> str:
    """A hash of the row's values in our columns: it changes with any edit of an event."""
    return hashlib.sha256(json.dumps([row.get(c, "") for c in COLUMNS]).encode()).hexdigest()[:20]


def dump(header: list[str], rows: Iterable[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, restval="", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()
