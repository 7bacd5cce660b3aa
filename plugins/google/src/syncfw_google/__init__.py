"""syncfw-google: the ``google`` driver, Google Calendar through google-api-python-client."""

from __future__ import annotations

from .driver import GoogleDriver
from .options import GoogleOptions

__all__ = ["GoogleDriver", "GoogleOptions"]
