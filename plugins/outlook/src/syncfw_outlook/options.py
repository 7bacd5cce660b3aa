"""The ``outlook`` driver's profile keys.

``auth`` is a union told apart by its keys, so a mistake is reported against the
form the user meant only:

- ``{token: "..."}`` a static bearer token: emulators, proxies, tests;
- ``{client_id, tenant, token_file | keyring: true}`` delegated access for the
  signed-in user, signed in once by ``syncfw auth outlook PROFILE`` (MSAL's
  device-code flow by default, ``flow: authorization`` for O365's browser flow);
- ``{client_id, tenant, client_secret}`` or ``{client_id, tenant, certificate,
  thumbprint}`` application access (client credentials), which is how a company
  writes to its people's calendars (with ``user:``).

Secrets are :class:`~pydantic.SecretStr` so they never show in a repr or a log.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Annotated, Any, Literal

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

__all__ = ["AppAuth", "DelegatedAuth", "OutlookOptions", "TokenAuth"]

DEFAULT_ENDPOINT = "https://graph.microsoft.com/"
#: Graph's $batch takes at most 20 requests.
GRAPH_BATCH_LIMIT = 20

ProfilePath = Annotated[Path, AfterValidator(resolve_path)]


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenAuth(_Auth):
    """A static bearer token; it cannot be refreshed."""

    token: SecretStr


class DelegatedAuth(_Auth):
    """A public client (app registration) acting as the signed-in user; the refreshable
    token is kept in ``token_file`` or in the system keyring, exactly one of them."""

    client_id: str
    tenant: str = "common"
    flow: Literal["device-code", "authorization"] = "device-code"
    token_file: ProfilePath | None = None
    keyring: bool = Field(default=False, validate_default=True)

    @field_validator("keyring")
    @classmethod
    def _one_token_place(cls, keyring: bool, info: ValidationInfo) -> bool:
        token_file = info.data.get("token_file")
        if keyring and token_file is not None:
            raise ValueError(
                "the token is kept in token_file or in the keyring, not both; "
                "remove token_file or keyring: true"
            )
        if not keyring and token_file is None and "client_id" in info.data:
            raise ValueError("say where the token is kept: token_file: FILE or keyring: true")
        return keyring


class AppAuth(_Auth):
    """An application (client credentials): a client secret, or a certificate (a PEM
    file holding the private key) with its SHA-1 ``thumbprint`` as shown in Entra ID."""

    client_id: str
    tenant: str
    client_secret: SecretStr | None = None
    certificate: ProfilePath | None = None
    thumbprint: str | None = Field(default=None, validate_default=True)

    @field_validator("tenant")
    @classmethod
    def _a_real_tenant(cls, tenant: str) -> str:
        if tenant in ("common", "organizations", "consumers"):
            raise ValueError(f"application access needs your tenant's id or domain, not {tenant!r}")
        return tenant

    @field_validator("thumbprint")
    @classmethod
    def _one_credential(cls, thumbprint: str | None, info: ValidationInfo) -> str | None:
        secret, certificate = info.data.get("client_secret"), info.data.get("certificate")
        if secret is not None and certificate is not None:
            raise ValueError("give client_secret or certificate, not both")
        if certificate is not None and not thumbprint:
            raise ValueError("a certificate needs its thumbprint (as shown in Entra ID)")
        if secret is None and certificate is None and "tenant" in info.data:
            raise ValueError("application access needs client_secret or certificate")
        return thumbprint


def _auth_form(value: Any) -> str | None:
    """Which ``auth`` form ``value`` is: told by its keys (or its model, when built in code)."""
    if isinstance(value, _Auth):
        return type(value).__name__
    if isinstance(value, dict):
        if "token" in value:
            return "TokenAuth"
        if "client_secret" in value or "certificate" in value:
            return "AppAuth"
        if "client_id" in value:
            return "DelegatedAuth"
    return None


AnyAuth = Annotated[
    Annotated[TokenAuth, Tag("TokenAuth")]
    | Annotated[DelegatedAuth, Tag("DelegatedAuth")]
    | Annotated[AppAuth, Tag("AppAuth")],
    Discriminator(
        _auth_form,
        custom_error_type="auth_form",
        custom_error_message=(
            "auth needs token, or client_id with token_file/keyring (delegated), "
            "or client_id with client_secret/certificate (application)"
        ),
    ),
]


class OutlookOptions(DriverOptions):
    #: A calendar id, or a display name (created when missing); "Calendar" is the default one.
    calendar: str = "Calendar"
    #: Another user's mailbox (UPN or id), with application permissions; None: the signed-in user.
    user: str | None = None
    endpoint: str = DEFAULT_ENDPOINT
    auth: AnyAuth
    batch_size: int = Field(default=GRAPH_BATCH_LIMIT, ge=1, le=GRAPH_BATCH_LIMIT)
    page_size: int = Field(default=200, ge=1, le=1000)  # Prefer: odata.maxpagesize
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=6, ge=0)  # transient failures retried per request
    backoff: float = Field(default=1.0, ge=0)  # first backoff in seconds, doubled each time
    max_backoff: float = Field(default=64.0, ge=0)

    @property
    def base_endpoint(self) -> str:
        return self.endpoint if self.endpoint.endswith("/") else self.endpoint + "/"

    @property
    def api(self) -> str:
        """The Graph v1.0 root, e.g. ``https://graph.microsoft.com/v1.0/``."""
        return self.base_endpoint + "v1.0/"

    @property
    def mailbox(self) -> str:
        """The path of the mailbox: ``me`` or ``users/{user}``."""
        return f"users/{urllib.parse.quote(self.user, safe='@')}" if self.user else "me"
