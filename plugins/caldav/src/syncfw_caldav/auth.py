"""Where the CalDAV password comes from: the profile, or the system keyring.

With ``keyring: true`` the password is read through the ``keyring`` package from
service ``syncfw-caldav`` and the profile's ``username`` - stored once with
``keyring set syncfw-caldav USER``. As in syncfw-google, the package is imported
only by profiles that ask for it, and every failure is an :class:`AuthError`
that says what to run. The password itself is only ever held as a
:class:`~pydantic.SecretStr` and never put in a message.
"""

from __future__ import annotations

from types import ModuleType

from pydantic import SecretStr

from syncfw.errors import AuthError

from .options import CaldavOptions

__all__ = ["KEYRING_SERVICE", "keyring_password", "password_for"]

KEYRING_SERVICE = "syncfw-caldav"


def _keyring(calendar: str) -> ModuleType:
    """The ``keyring`` package, imported only by profiles that ask for it."""
    try:
        import keyring
    except ImportError:
        raise AuthError(
            "keyring: true needs the keyring package; install syncfw-caldav[keyring] "
            "(pip install 'syncfw-caldav[keyring]') or give password: in the profile",
            calendar=calendar,
        ) from None
    module: ModuleType = keyring  # typed here: keyring is optional and may be absent
    return module


def keyring_password(username: str, calendar: str) -> SecretStr:
    """The password stored for ``username`` under service ``syncfw-caldav``."""
    keyring = _keyring(calendar)
    where = f"the system keyring (service {KEYRING_SERVICE!r}, user {username!r})"
    try:
        value = keyring.get_password(KEYRING_SERVICE, username)
    except keyring.errors.KeyringError as err:
        # the keyring's own message names the backend, never the secret
        raise AuthError(
            f"cannot read the CalDAV password from {where}: {type(err).__name__}: {err}; "
            "check that a keyring backend is available (`keyring --list-backends`) "
            "or give password: in the profile",
            calendar=calendar,
        ) from None
    if not isinstance(value, str) or not value:
        raise AuthError(
            f"no CalDAV password in {where}; store it with: "
            f"keyring set {KEYRING_SERVICE} {username}",
            calendar=calendar,
        )
    return SecretStr(value)


def password_for(options: CaldavOptions, calendar: str) -> SecretStr | None:
    """The password to send: the profile's, the keyring's, or None (no auth)."""
    if options.keyring and options.username:
        return keyring_password(options.username, calendar)
    return options.password
