"""The syncfw plugin of syncfw-caldav: the ``caldav`` driver.

Found through the entry point ``syncfw: caldav = "syncfw_caldav.plugin"``, like any
third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from syncfw.markers import hookimpl

if TYPE_CHECKING:
    from syncfw.sdk.driver import Driver


@hookimpl
def syncfw_register_drivers(register: Callable[[type[Driver]], None]) -> None:
    from .driver import CaldavDriver

    register(CaldavDriver)
