"""Finding a calendar by display name, and remembering where it was found.

Discovery walks the server (current-user-principal, calendar-home-set, a listing
of the home) - four or five requests before the first real one. The URL found
for a name is kept in ``caldav-calendars.json`` beside the state file
(:attr:`DriverContext.state_dir`), like syncfw-google keeps calendar ids, so a
quiet run costs a single request. The driver forgets an entry whose URL answers
404 and looks the name up again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from syncfw.fs import atomic_write

from ._http import Connection, safe_url

__all__ = ["CACHE_FILE", "UrlCache", "discover"]

CACHE_FILE = "caldav-calendars.json"


class UrlCache:
    """``{server|user|name: calendar URL}`` in a JSON file; a no-op without a folder."""

    def __init__(self, state_dir: Path | None, url: str, username: str | None, name: str) -> None:
        self.path = state_dir / CACHE_FILE if state_dir is not None else None
        self.key = f"{safe_url(url)}|{username or ''}|{name}"

    def get(self) -> str | None:
        found = _read_json(self.path).get(self.key) if self.path else None
        return found if isinstance(found, str) else None

    def put(self, url: str) -> None:
        if self.path is None:
            return
        known = _read_json(self.path)
        if known.get(self.key) != url:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps({**known, self.key: url}, indent=1).encode())

    def forget(self) -> None:
        if self.path is None:
            return
        known = _read_json(self.path)
        if known.pop(self.key, None) is not None:
            atomic_write(self.path, json.dumps(known, indent=1).encode())


def discover(connection: Connection, display_name: str) -> str:
    """The URL of the user's calendar named ``display_name``, made when missing."""

    def find() -> str:
        with connection.client() as client:
            principal: Any = client.principal()
            for calendar in principal.calendars():
                if calendar.get_display_name() == display_name:
                    return str(calendar.url)
            return str(principal.make_calendar(name=display_name).url)

    found: str = connection.call(f"finding calendar {display_name!r}", find)
    return found


def _read_json(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
