"""Helpers for plugins that add commands in ``syncfw_register_commands``."""

from __future__ import annotations

import click

__all__ = ["auth_group"]


def auth_group(cli: click.Group) -> click.Group:
    """The ``syncfw auth`` group that sign-in commands go under, created by whichever
    plugin asks first (plugins load in no promised order)."""
    group = cli.commands.get("auth")
    if not isinstance(group, click.Group):

        @click.group("auth")
        def auth() -> None:
            """Sign in to calendar services (OAuth)."""

        cli.add_command(auth)
        group = auth
    return group
