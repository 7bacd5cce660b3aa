"""The syncfw plugin of syncfw-csvcal, found through its entry point (group ``syncfw``)."""

from __future__ import annotations

from collections.abc import Callable

from syncfw.markers import hookimpl
from syncfw.sdk import Driver

from .driver import CsvDriver


@hookimpl
def syncfw_register_drivers(register: Callable[[type[Driver]], None]) -> None:
    register(CsvDriver)
