"""Where Google OAuth tokens live, and ``syncfw auth google PROFILE`` that puts them there.

An OAuth calendar (``auth: {client_secrets, token_file | keyring: true}``) keeps its
token either in ``token_file`` (mode 0600, replaced atomically so a crash never
leaves half a token) or in the system keyring under service ``syncfw-google`` and
username ``"{profile stem}:{calendar name}"``. :class:`TokenStore` is that one
choice (:mod:`syncfw.sdk.tokens`, shared with the other plugins that sign in); the
sign-in command writes through it, the driver reads through it and saves a
refreshed token back, so a run does not spend a refresh the last run already paid
for. The token text is never printed, logged or put in an error.
Service accounts and static tokens need no sign-in; they are skipped.
"""

from __future__ import annotations

import click

from syncfw.commands import auth_group, sign_in_calendars
from syncfw.sdk import tokens
from syncfw.sdk.tokens import FileTokenStore, KeyringTokenStore, TokenStore, keyring_username

from .options import GoogleOptions, OAuthAuth

__all__ = [
    "KEYRING_SERVICE",
    "FileTokenStore",
    "KeyringTokenStore",
    "TokenStore",
    "google_auth_command",
    "keyring_username",
    "register_auth_command",
    "token_store",
]

KEYRING_SERVICE = "syncfw-google"


def token_store(auth: OAuthAuth, profile: str, calendar: str) -> TokenStore:
    """Where ``auth`` keeps the token of ``calendar`` in the profile named ``profile``."""
    return tokens.token_store(
        auth.token_file,
        service=KEYRING_SERVICE,
        provider="Google",
        extra="syncfw-google[keyring]",
        profile=profile,
        calendar=calendar,
    )


def _sign_in(auth: OAuthAuth, store: TokenStore, open_browser: bool) -> None:
    from google_auth_oauthlib.flow import InstalledAppFlow

    from .transport import SCOPES  # transport reads tokens through this module

    flow = InstalledAppFlow.from_client_secrets_file(str(auth.client_secrets), SCOPES)
    credentials = flow.run_local_server(host="127.0.0.1", port=0, open_browser=open_browser)
    store.save(credentials.to_json())


@click.command("google")
@click.argument("profile", type=click.Path(exists=True, dir_okay=False))
@click.option("--calendar", "only", help="Sign in for this calendar of the profile only.")
@click.option("--no-browser", is_flag=True, help="Print the sign-in URL instead of opening it.")
def google_auth_command(profile: str, only: str | None, no_browser: bool) -> None:
    """Sign in to Google for the calendars of PROFILE that use OAuth."""

    def store_for(options: object, stem: str, name: str) -> TokenStore | None:
        if isinstance(options, GoogleOptions) and isinstance(options.auth, OAuthAuth):
            return token_store(options.auth, stem, name)
        return None  # a static token or a service account

    def sign_in(options: GoogleOptions, store: TokenStore, name: str) -> None:
        assert isinstance(options.auth, OAuthAuth)
        _sign_in(options.auth, store, open_browser=not no_browser)

    sign_in_calendars(
        profile,
        driver="google",
        provider="Google",
        forms="auth {client_secrets, token_file | keyring}",
        only=only,
        store_for=store_for,
        sign_in=sign_in,
    )


def register_auth_command(cli: click.Group) -> None:
    """Add ``google`` under ``syncfw auth``, creating the ``auth`` group if no plugin did."""
    auth_group(cli).add_command(google_auth_command)
