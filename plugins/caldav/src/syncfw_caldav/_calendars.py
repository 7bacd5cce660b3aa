"""Finding a calendar by display name, and remembering where it was found.

Discovery walks the server (current-user-principal, calendar-home-set, a listing
of the home) - four or five requests before the first real one. The URL found
for a name is kept in ``caldav-calendars.json`` beside the state file
(:attr:`DriverContext.state_dir`), like syncfw-google keeps calendar ids, so a
quiet run costs a single request. The driver forgets an entry whose URL answers
404 and looks the name up again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncfw.sdk.fs import Remembered

from ._http import Connection, safe_url

__all__ = ["CACHE_FILE", "discover", "url_cache"]

CACHE_FILE = "caldav-calendars.json"


def url_cache(state_dir: Path | None, url: str, username: str | None, name: str) -> Remembered:
    """Where the URL found for ``name`` on this server, for this user, is remembered."""
    return Remembered(state_dir, CACHE_FILE, f"{safe_url(url)}|{username or ''}|{name}")


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
