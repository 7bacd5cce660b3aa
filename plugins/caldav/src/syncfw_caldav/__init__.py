"""syncfw-caldav: the ``caldav`` driver, for any CalDAV server."""

from __future__ import annotations

from .driver import CaldavDriver, CaldavOptions

__all__ = ["CaldavDriver", "CaldavOptions"]
