"""The syncfw plugin of syncfw-jobcal: the ``jobcal`` driver and the ``syncfw jobcal`` commands.

Found through the entry point ``syncfw: jobcal = "syncfw_jobcal.plugin"``, like any
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
    from .driver import JobcalDriver

    register(JobcalDriver)


@hookimpl
def syncfw_register_commands(cli: click.Group) -> None:
    from .cli import jobcal

    cli.add_command(jobcal)
