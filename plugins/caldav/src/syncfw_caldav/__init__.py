"""syncfw-caldav: the ``caldav`` driver, for any CalDAV server."""

from __future__ import annotations

from .auth import KEYRING_SERVICE
from .driver import CaldavDriver
from .options import CaldavOptions

__all__ = ["KEYRING_SERVICE", "CaldavDriver", "CaldavOptions"]
