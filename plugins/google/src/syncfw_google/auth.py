"""Where Google OAuth tokens live, and ``syncfw auth google PROFILE`` that puts them there.

An OAuth calendar (``auth: {client_secrets, token_file | keyring: true}``) keeps its
token either in ``token_file`` (mode 0600, replaced atomically so a crash never
leaves half a token) or in the system keyring under service ``syncfw-google`` and
username ``"{profile stem}:{calendar name}"``. :class:`TokenStore` is that one
choice; the sign-in command writes through it, the driver reads through it and
saves a refreshed token back, so a run does not spend a refresh the last run
already paid for. The token text is never printed, logged or put in an error.
Service accounts and static tokens need no sign-in; they are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Protocol

import click

from syncfw.commands import auth_group
from syncfw.errors import AuthError, SyncfwError
from syncfw.fs import atomic_write

from .options import GoogleOptions, OAuthAuth

__all__ = [
    "KEYRING_SERVICE",
    "FileTokenStore",
    "KeyringTokenStore",
    "TokenStore",
    "google_auth_command",
    "keyring_username",
    "register_auth_command",
    "save_token",
    "token_store",
]

KEYRING_SERVICE = "syncfw-google"


def save_token(path: Path, token_json: str) -> None:
    """Write ``token_json`` to ``path``, readable by the owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, token_json.encode("utf-8"), mode=0o600)


class TokenStore(Protocol):
    """One calendar's OAuth token (Google's authorized-user JSON), wherever it is kept."""

    @property
    def where(self) -> str:
        """Where the token is, for messages (never the token itself)."""
        ...

    def load(self) -> str | None:
        """The token JSON, or None when none was stored yet."""
        ...

    def save(self, token_json: str) -> None:
        """Store ``token_json``, replacing what was there."""
        ...


@dataclass(frozen=True, slots=True)
class FileTokenStore:
    """A token file, private to its owner (0600) and replaced atomically."""

    path: Path

    @property
    def where(self) -> str:
        return str(self.path)

    def load(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def save(self, token_json: str) -> None:
        save_token(self.path, token_json)


def _keyring() -> ModuleType:
    """The ``keyring`` package, imported only by profiles that ask for it."""
    try:
        import keyring
    except ImportError:
        raise AuthError(
            "auth: {keyring: true} needs the keyring package; "
            "install syncfw-google[keyring] (pip install 'syncfw-google[keyring]')"
        ) from None
    module: ModuleType = keyring  # typed here: keyring is optional and may be absent for mypy
    return module


@dataclass(frozen=True, slots=True)
class KeyringTokenStore:
    """The system keyring (via the ``keyring`` package), service ``syncfw-google``."""

    username: str

    @property
    def where(self) -> str:
        return f"the system keyring (service {KEYRING_SERVICE!r}, user {self.username!r})"

    def _fail(self, doing: str, err: Exception) -> AuthError:
        # the keyring's own message names the backend, never the secret
        return AuthError(
            f"cannot {doing} the Google token in {self.where}: {type(err).__name__}: {err}; "
            "check that a keyring backend is available (`keyring --list-backends`) "
            "or use token_file instead"
        )

    def load(self) -> str | None:
        keyring = _keyring()
        try:
            value = keyring.get_password(KEYRING_SERVICE, self.username)
        except keyring.errors.KeyringError as err:
            raise self._fail("read", err) from None
        return value if isinstance(value, str) else None

    def save(self, token_json: str) -> None:
        keyring = _keyring()
        try:
            keyring.set_password(KEYRING_SERVICE, self.username, token_json)
        except keyring.errors.KeyringError as err:
            raise self._fail("store", err) from None


def keyring_username(profile: str, calendar: str) -> str:
    """The keyring user of a calendar: ``"{profile stem}:{calendar name}"``."""
    return f"{profile}:{calendar}" if profile else calendar


def token_store(auth: OAuthAuth, profile: str, calendar: str) -> TokenStore:
    """Where ``auth`` keeps the token of ``calendar`` in the profile named ``profile``."""
    if auth.token_file is not None:
        return FileTokenStore(auth.token_file)
    return KeyringTokenStore(keyring_username(profile, calendar))


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
        store = token_store(options.auth, loaded.path.stem, name)
        click.echo(f"{name}: signing in to Google ...")
        try:
            _sign_in(options.auth, store, open_browser=not no_browser)
        except AuthError as err:
            raise click.ClickException(f"{name}: {err}") from None
        mode = " (mode 0600)" if isinstance(store, FileTokenStore) else ""
        click.echo(f"{name}: token stored in {store.where}{mode}")
        done += 1
    if not done:
        raise click.ClickException(
            f"{profile}: no Google calendar with auth {{client_secrets, token_file | keyring}}"
            + (f" named {only!r}" if only else "")
        )


def register_auth_command(cli: click.Group) -> None:
    """Add ``google`` under ``syncfw auth``, creating the ``auth`` group if no plugin did."""
    auth_group(cli).add_command(google_auth_command)
