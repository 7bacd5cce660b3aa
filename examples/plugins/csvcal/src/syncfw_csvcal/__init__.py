"""syncfw-csvcal: an example syncfw driver, a calendar in one CSV file (``driver: csvcal``)."""

from __future__ import annotations

from .driver import CsvDriver, CsvOptions

__all__ = ["CsvDriver", "CsvOptions"]
