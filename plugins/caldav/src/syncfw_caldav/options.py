"""The ``caldav`` driver's profile keys.

Only ``url`` and ``calendar`` are required. The password comes from the profile
(``password: "${DAV_PASSWORD}"``, substituted by the profile loader) or, with
``keyring: true``, from the system keyring (service ``syncfw-caldav``, the
``username``). It is a :class:`~pydantic.SecretStr`, so it never shows in a repr.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from syncfw.sdk.driver import DriverOptions

__all__ = ["AuthType", "CaldavOptions", "SyncMode"]

#: How reads find changes: ``webdav-sync`` is RFC 6578 ``sync-collection``, ``ctag``
#: the collection's CTag plus an etag listing (servers without sync), ``auto`` tries
#: the first and falls back to the second when the server does not support it.
SyncMode = Literal["auto", "webdav-sync", "ctag"]

#: ``basic`` sends the credentials with every request (no 401 round trip first);
#: ``digest`` and ``bearer`` (the password is the token) likewise pick the scheme up
#: front; ``negotiate`` lets the server's first 401 choose, costing a round trip.
AuthType = Literal["basic", "digest", "bearer", "negotiate"]


class CaldavOptions(DriverOptions):
    url: str  # the server (or its principal / calendar-home URL)
    calendar: str  # a display name (created when missing) or the collection's URL
    username: str | None = None
    password: SecretStr | None = None
    #: Read the password from the system keyring (service ``syncfw-caldav``, user
    #: ``username``) instead of the profile.
    keyring: bool = Field(default=False, validate_default=True)
    auth_type: AuthType = "basic"
    sync: SyncMode = "auto"
    #: Requests in flight at once while writing (CalDAV has no batch request).
    max_connections: int = Field(default=4, ge=1, le=32)
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("keyring")
    @classmethod
    def _one_password_place(cls, keyring: bool, info: ValidationInfo) -> bool:
        """``keyring: true`` needs the user to look up and no password beside it
        (checked on ``keyring``, declared after both, so the error names a key)."""
        if keyring and info.data.get("password") is not None:
            raise ValueError(
                "the password comes from the profile or from the keyring, not both; "
                "remove password or keyring: true"
            )
        if keyring and not info.data.get("username"):
            raise ValueError("keyring: true needs a username to look the password up under")
        return keyring
