"""syncfw-outlook: the ``outlook`` driver, for Outlook / Microsoft 365 calendars (Graph)."""

from __future__ import annotations

from .driver import OutlookDriver
from .options import OutlookOptions

__all__ = ["OutlookDriver", "OutlookOptions"]
