"""The ``google`` driver's profile keys.

``auth`` is a union told apart by its keys (unknown keys are errors in every
form, so exactly one form matches):

- ``{token: "..."}`` a static bearer token: emulators, proxies, tests;
- ``{client_secrets: FILE, token_file: FILE}`` the installed-app OAuth flow,
  run once by ``syncfw auth google PROFILE``;
- ``{service_account: FILE, subject: USER}`` a service account, optionally
  impersonating ``subject`` (domain-wide delegation).

Secrets are :class:`~pydantic.SecretStr` so they never show in a repr or a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from syncfw.driver import DriverOptions, resolve_path

__all__ = ["GoogleOptions", "OAuthAuth", "ServiceAccountAuth", "TokenAuth"]

DEFAULT_ENDPOINT = "https://www.googleapis.com/"

ProfilePath = Annotated[Path, AfterValidator(resolve_path)]


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenAuth(_Auth):
    """A static bearer token; it cannot be refreshed."""

    token: SecretStr


class OAuthAuth(_Auth):
    """An installed-app OAuth client and where its (refreshable) token is kept."""

    client_secrets: ProfilePath
    token_file: ProfilePath


class ServiceAccountAuth(_Auth):
    """A service account key file, optionally acting as ``subject``."""

    service_account: ProfilePath
    subject: str | None = None


class GoogleOptions(DriverOptions):
    calendar: str = "primary"  # a calendar id, or a display name (created when missing)
    endpoint: str = DEFAULT_ENDPOINT
    auth: TokenAuth | OAuthAuth | ServiceAccountAuth
    batch_size: int = Field(default=50, ge=1, le=1000)
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=6, ge=0)  # transient failures retried per request
    backoff: float = Field(default=1.0, ge=0)  # first backoff in seconds, doubled each time
    max_backoff: float = Field(default=64.0, ge=0)

    @property
    def base_endpoint(self) -> str:
        return self.endpoint if self.endpoint.endswith("/") else self.endpoint + "/"
