"""Helpers for plugins that add commands in ``syncfw_register_commands``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from syncfw.errors import AuthError, SyncfwError
from syncfw.sdk.tokens import FileTokenStore, TokenStore

if TYPE_CHECKING:
    from syncfw.config.models import Profile

__all__ = ["auth_group", "load_profile", "sign_in_calendars"]


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


def sign_in_calendars(
    profile: str,
    *,
    driver: str,
    provider: str,
    forms: str,
    only: str | None,
    store_for: Callable[[Any, str, str], TokenStore | None],
    sign_in: Callable[[Any, TokenStore, str], None],
) -> None:
    """``syncfw auth DRIVER PROFILE``: sign in each calendar of ``driver`` in the profile.

    ``store_for(options, profile stem, calendar)`` is where the calendar keeps its token,
    or None when its auth form needs no sign-in (a static token, a service account);
    ``sign_in(options, store, calendar)`` runs the provider's flow and saves through
    ``store``. Says where each token went, never the token; errors name the calendar.
    ``forms`` describes the auth forms that sign in, for the message when none does.
    """

    try:
        loaded = load_profile(Path(profile))
    except SyncfwError as err:
        raise click.ClickException(str(err)) from None
    done = 0
    for name, calendar in loaded.calendars.items():
        if calendar.driver != driver or (only and name != only):
            continue
        store = store_for(calendar.options, loaded.path.stem, name)
        if store is None:
            click.echo(f"{name}: no sign-in needed (its auth form has no {provider} sign-in)")
            continue
        click.echo(f"{name}: signing in to {provider} ...")
        try:
            sign_in(calendar.options, store, name)
        except AuthError as err:
            raise click.ClickException(f"{name}: {err}") from None
        except OSError as err:
            raise click.ClickException(
                f"{name}: cannot store the token in {store.where}: {type(err).__name__}: "
                f"{err.strerror}"
            ) from None
        mode = " (mode 0600)" if isinstance(store, FileTokenStore) else ""
        click.echo(f"{name}: token stored in {store.where}{mode}")
        done += 1
    if not done:
        raise click.ClickException(
            f"{profile}: no {provider} calendar with {forms}" + (f" named {only!r}" if only else "")
        )


def load_profile(path: Path) -> Profile:
    """The profile at ``path``, for a plugin's command (imported late: it loads every
    plugin's drivers). Raises :class:`~syncfw.errors.ProfileError` like the loader."""
    from syncfw.config.loader import load_profile as load

    return load(path)
