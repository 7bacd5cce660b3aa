"""The ``google`` driver's profile keys.

``auth`` is a union told apart by its keys (``client_secrets``, ``service_account``
or ``token``), so a mistake is reported against the form the user meant only:

- ``{token: "..."}`` a static bearer token: emulators, proxies, tests;
- ``{client_secrets: FILE, token_file: FILE}`` or ``{client_secrets: FILE,
  keyring: true}`` the installed-app OAuth flow, run once by ``syncfw auth google
  PROFILE``; the token is kept in the file (mode 0600) or in the system keyring;
- ``{service_account: FILE, subject: USER}`` a service account, optionally
  impersonating ``subject`` (domain-wide delegation).

Secrets are :class:`~pydantic.SecretStr` so they never show in a repr or a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationInfo,
    field_validator,
)

from syncfw.sdk.driver import DriverOptions, resolve_path

__all__ = ["GoogleOptions", "OAuthAuth", "ServiceAccountAuth", "TokenAuth"]

DEFAULT_ENDPOINT = "https://www.googleapis.com/"

ProfilePath = Annotated[Path, AfterValidator(resolve_path)]


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenAuth(_Auth):
    """A static bearer token; it cannot be refreshed."""

    token: SecretStr


class OAuthAuth(_Auth):
    """An installed-app OAuth client and where its (refreshable) token is kept:
    ``token_file`` or ``keyring: true``, exactly one of them."""

    client_secrets: ProfilePath
    token_file: ProfilePath | None = None
    keyring: bool = Field(default=False, validate_default=True)

    @field_validator("keyring")
    @classmethod
    def _one_token_place(cls, keyring: bool, info: ValidationInfo) -> bool:
        """Exactly one of ``token_file`` and ``keyring: true`` (checked here, on the
        last of the two fields, so the error points at a key of the profile)."""
        token_file = info.data.get("token_file")
        if keyring and token_file is not None:
            raise ValueError(
                "the token is kept in token_file or in the keyring, not both; "
                "remove token_file or keyring: true"
            )
        if not keyring and token_file is None and "token_file" in info.data:
            raise ValueError("say where the token is kept: token_file: FILE or keyring: true")
        return keyring


class ServiceAccountAuth(_Auth):
    """A service account key file, optionally acting as ``subject``."""

    service_account: ProfilePath
    subject: str | None = None


def _auth_form(value: Any) -> str | None:
    """Which ``auth`` form ``value`` is: told by its keys (or its model, when built in code)."""
    if isinstance(value, _Auth):
        return type(value).__name__
    if isinstance(value, dict):
        for key, form in AUTH_KEYS.items():
            if key in value:
                return form
    return None


AUTH_KEYS = {
    "client_secrets": "OAuthAuth",
    "service_account": "ServiceAccountAuth",
    "token": "TokenAuth",
}
AnyAuth = Annotated[
    Annotated[TokenAuth, Tag("TokenAuth")]
    | Annotated[OAuthAuth, Tag("OAuthAuth")]
    | Annotated[ServiceAccountAuth, Tag("ServiceAccountAuth")],
    Discriminator(
        _auth_form,
        custom_error_type="auth_form",
        custom_error_message="auth needs client_secrets (OAuth), service_account or token",
    ),
]


class GoogleOptions(DriverOptions):
    calendar: str = "primary"  # a calendar id, or a display name (created when missing)
    endpoint: str = DEFAULT_ENDPOINT
    auth: AnyAuth
    batch_size: int = Field(default=50, ge=1, le=1000)
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=6, ge=0)  # transient failures retried per request
    backoff: float = Field(default=1.0, ge=0)  # first backoff in seconds, doubled each time
    max_backoff: float = Field(default=64.0, ge=0)

    @property
    def base_endpoint(self) -> str:
        return self.endpoint if self.endpoint.endswith("/") else self.endpoint + "/"
