"""syncfw-outlook: the ``outlook`` driver, Outlook / Microsoft 365 calendars over Microsoft Graph."""

from __future__ import annotations

from .driver import OutlookDriver
from .options import OutlookOptions

__all__ = ["OutlookDriver", "OutlookOptions"]
