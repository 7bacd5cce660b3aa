"""``syncfw auth google PROFILE``: the one interactive step of OAuth sign-in.

For every Google calendar of the profile whose ``auth`` is ``{client_secrets,
token_file}``, run Google's installed-app flow (a browser, redirected back to a
loopback port) and store the token in ``token_file`` with mode 0600, written
atomically so a crash never leaves half a token. The token is never printed.
Service accounts and static tokens need no sign-in; they are skipped.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from syncfw.errors import SyncfwError

from .options import GoogleOptions, OAuthAuth
from .transport import SCOPES

__all__ = ["google_auth_command", "register_auth_command", "save_token"]


def save_token(path: Path, token_json: str) -> None:
    """Write ``token_json`` to ``path``, readable by the owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token_json)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _sign_in(auth: OAuthAuth, open_browser: bool) -> None:
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_secrets_file(str(auth.client_secrets), SCOPES)
    credentials = flow.run_local_server(host="127.0.0.1", port=0, open_browser=open_browser)
    save_token(auth.token_file, credentials.to_json())


@click.command("google")
@click.argument("profile", type=click.Path(exists=True, dir_okay=False))
@click.option("--calendar", "only", help="Sign in for this calendar of the profile only.")
@click.option("--no-browser", is_flag=True, help="Print the sign-in URL instead of opening it.")
def google_auth_command(profile: str, only: str | None, no_browser: bool) -> None:
    """Sign in to Google for the calendars of PROFILE that use OAuth."""
    from syncfw.profile import load_profile

    try:
        loaded = load_profile(profile)
    except SyncfwError as err:
        raise click.ClickException(str(err)) from None
    done = 0
    for name, calendar in loaded.calendars.items():
        options = calendar.options
        if calendar.driver != "google" or (only and name != only):
            continue
        if not isinstance(options, GoogleOptions) or not isinstance(options.auth, OAuthAuth):
            click.echo(f"{name}: no OAuth sign-in needed (token or service account)")
            continue
        click.echo(f"{name}: signing in to Google ...")
        _sign_in(options.auth, open_browser=not no_browser)
        click.echo(f"{name}: token stored in {options.auth.token_file} (mode 0600)")
        done += 1
    if not done:
        raise click.ClickException(
            f"{profile}: no Google calendar with auth {{client_secrets, token_file}}"
            + (f" named {only!r}" if only else "")
        )


def register_auth_command(cli: click.Group) -> None:
    """Add ``google`` under ``syncfw auth``, creating the ``auth`` group if no plugin did."""
    group = cli.commands.get("auth")
    if not isinstance(group, click.Group):

        @click.group("auth")
        def auth() -> None:
            """Sign in to calendar services (OAuth)."""

        cli.add_command(auth)
        group = auth
    group.add_command(google_auth_command)
