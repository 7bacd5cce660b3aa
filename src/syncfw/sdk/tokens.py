"""Where a calendar's sign-in token lives: a private file, or the system keyring.

A driver whose users sign in once (``syncfw auth google|outlook PROFILE``) keeps the
token in exactly one place, chosen in the profile: ``token_file`` (mode 0600, replaced
atomically so a crash never leaves half a token) or ``keyring: true`` (the system
keyring, under the plugin's service name and the user ``"{profile stem}:{calendar}"``).
:class:`TokenStore` is that one choice: the sign-in command writes through it, the
driver reads through it and saves a refreshed token back. The token text is never
printed, logged or put in an error; messages name only :attr:`TokenStore.where`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Protocol

from syncfw.errors import AuthError
from syncfw.sdk.fs import atomic_write

__all__ = [
    "FileTokenStore",
    "KeyringTokenStore",
    "TokenStore",
    "keyring_username",
    "token_store",
]


class TokenStore(Protocol):
    """One calendar's token (the provider's JSON text), wherever it is kept."""

    @property
    def where(self) -> str:
        """Where the token is, for messages (never the token itself)."""
        ...

    def load(self) -> str | None:
        """The token text, or None when none was stored yet."""
        ...

    def save(self, text: str) -> None:
        """Store ``text``, replacing what was there."""
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

    def save(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, text.encode("utf-8"), mode=0o600)


@dataclass(frozen=True, slots=True)
class KeyringTokenStore:
    """The system keyring (the ``keyring`` package, imported only when used).

    ``service`` is the plugin's (``syncfw-google``), ``provider`` names it in messages
    ("Google") and ``extra`` is the pip extra that brings the keyring package.
    """

    service: str
    username: str
    provider: str
    extra: str

    @property
    def where(self) -> str:
        return f"the system keyring (service {self.service!r}, user {self.username!r})"

    def _keyring(self) -> ModuleType:
        try:
            import keyring
        except ImportError:
            raise AuthError(
                f"auth: {{keyring: true}} needs the keyring package; "
                f"install {self.extra} (pip install '{self.extra}')"
            ) from None
        module: ModuleType = keyring  # typed here: keyring is optional and may be absent
        return module

    def _fail(self, doing: str, err: Exception) -> AuthError:
        # the keyring's own message names the backend, never the secret
        return AuthError(
            f"cannot {doing} the {self.provider} token in {self.where}: "
            f"{type(err).__name__}: {err}; check that a keyring backend is available "
            "(`keyring --list-backends`) or use token_file instead"
        )

    def load(self) -> str | None:
        keyring = self._keyring()
        try:
            value = keyring.get_password(self.service, self.username)
        except keyring.errors.KeyringError as err:
            raise self._fail("read", err) from None
        return value if isinstance(value, str) else None

    def save(self, text: str) -> None:
        keyring = self._keyring()
        try:
            keyring.set_password(self.service, self.username, text)
        except keyring.errors.KeyringError as err:
            raise self._fail("store", err) from None


def keyring_username(profile: str, calendar: str) -> str:
    """The keyring user of a calendar: ``"{profile stem}:{calendar name}"``."""
    return f"{profile}:{calendar}" if profile else calendar


def token_store(
    token_file: Path | None,
    *,
    service: str,
    provider: str,
    extra: str,
    profile: str,
    calendar: str,
) -> TokenStore:
    """The file when ``token_file`` is given, else the keyring entry of ``calendar``."""
    if token_file is not None:
        return FileTokenStore(token_file)
    return KeyringTokenStore(service, keyring_username(profile, calendar), provider, extra)
