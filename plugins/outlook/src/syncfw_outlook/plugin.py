"""The syncfw plugin of syncfw-outlook: the ``outlook`` driver and ``syncfw auth outlook``.

Found through the entry point ``syncfw: outlook = "syncfw_outlook.plugin"``, like any
third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from syncfw.markers import hookimpl

if TYPE_CHECKING:
    import click

    from syncfw.sdk.driver import Driver


@hookimpl
def syncfw_register_drivers(register: Callable[[type[Driver]], None]) -> None:
    from .driver import OutlookDriver

    register(OutlookDriver)


@hookimpl
def syncfw_register_commands(cli: click.Group) -> None:
    from .auth import register_auth_command

    register_auth_command(cli)
