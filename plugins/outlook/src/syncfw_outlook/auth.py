"""Microsoft credentials: the one O365 ``Connection`` of a calendar, where its tokens live,
and ``syncfw auth outlook PROFILE`` that signs in.

Each ``auth`` form becomes an O365 connection with a token backend (an MSAL token cache):

- ``{token}``: a backend holding the static token; it never counts as expired, so a 401
  comes back as ``requests.HTTPError`` instead of a refresh that cannot happen;
- ``{client_id, tenant, token_file | keyring: true}``: a public client (``auth_flow_type
  "public"``) whose MSAL cache is kept in ``token_file`` (mode 0600, replaced atomically)
  or in the system keyring (service ``syncfw-outlook``, user ``"{profile stem}:{calendar}"``).
  O365 refreshes an expired token on the first 401 and saves the cache back, so the next
  run starts with the fresh token. Signed in once with MSAL's device-code flow or O365's
  authorization-URL flow;
- ``{client_id, tenant, client_secret | certificate + thumbprint}``: client credentials
  (``auth_flow_type "credentials"``), the token requested on first use and kept in memory.

Secrets never reach a log record, an error or the terminal: :func:`quiet_o365_logging`
redacts what O365 logs at DEBUG (its session headers carry the bearer token).
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import click
from O365.connection import Connection, MSGraphProtocol
from O365.utils.token import BaseTokenBackend, MemoryTokenBackend
from pydantic import SecretStr

from syncfw.commands import auth_group, sign_in_calendars
from syncfw.errors import AuthError, SyncfwError
from syncfw.sdk import tokens
from syncfw.sdk.tokens import FileTokenStore, KeyringTokenStore, TokenStore, keyring_username

from .options import AppAuth, DelegatedAuth, OutlookOptions, TokenAuth

__all__ = [
    "APP_SCOPES",
    "KEYRING_SERVICE",
    "SCOPES",
    "FileTokenStore",
    "KeyringTokenStore",
    "StaticTokenBackend",
    "StoreTokenBackend",
    "TokenStore",
    "build_connection",
    "graph_protocol",
    "keyring_username",
    "outlook_auth_command",
    "quiet_o365_logging",
    "register_auth_command",
    "token_store",
]

KEYRING_SERVICE = "syncfw-outlook"
#: Delegated access. MSAL always adds offline_access (the refresh token), openid and
#: profile itself, and refuses them in this list.
SCOPES = ["https://graph.microsoft.com/Calendars.ReadWrite"]
#: Application access: the permissions granted to the app in Entra ID.
APP_SCOPES = ["https://graph.microsoft.com/.default"]
SIGN_IN = "run `syncfw auth outlook PROFILE` to sign in"
#: O365 wants a client id even where none is used (a static token never refreshes).
_NO_CLIENT = "syncfw-static-token"

log = logging.getLogger(__name__)


def graph_protocol(options: OutlookOptions) -> MSGraphProtocol:
    """Graph v1.0 at ``options.base_endpoint`` for ``options.user`` (or ``me``), in UTC."""
    return _GraphProtocol(
        options.base_endpoint,
        api_version="v1.0",
        default_resource=options.user or "me",
        timezone=ZoneInfo("UTC"),
    )


class _GraphProtocol(MSGraphProtocol):  # type: ignore[misc]  # O365 is untyped
    def __init__(self, protocol_url: str, **kwargs: Any) -> None:
        self._protocol_url = protocol_url  # MSGraphProtocol passes its class attribute on
        super().__init__(**kwargs)


# -- where a delegated token lives ---------------------------------------------------


def token_store(auth: DelegatedAuth, profile: str, calendar: str) -> TokenStore:
    """Where ``auth`` keeps the token of ``calendar`` in the profile named ``profile``."""
    return tokens.token_store(
        auth.token_file,
        service=KEYRING_SERVICE,
        provider="Outlook",
        extra="syncfw-outlook[keyring]",
        profile=profile,
        calendar=calendar,
    )


# -- O365 token backends -------------------------------------------------------------


class StaticTokenBackend(BaseTokenBackend):  # type: ignore[misc]
    """A fixed bearer token. It never counts as expired: nothing could renew it, so a
    401 is final (O365 would otherwise try a refresh that has no refresh token)."""

    def __init__(self, token: SecretStr) -> None:
        super().__init__()
        self._token = token

    def __repr__(self) -> str:
        return "StaticTokenBackend(token='**********')"

    def load_token(self) -> bool:
        return True

    def save_token(self, force: bool = False) -> bool:
        return True

    def get_access_token(self, *, username: str | None = None) -> dict[str, str]:
        return {"secret": self._token.get_secret_value()}

    def token_is_expired(self, *, username: str | None = None) -> bool:
        return False

    def token_is_long_lived(self, *, username: str | None = None) -> bool:
        return False


class StoreTokenBackend(BaseTokenBackend):  # type: ignore[misc]
    """O365's MSAL token cache, serialized into a :class:`TokenStore`.

    O365 calls :meth:`save_token` after a refresh; a failure there is a warning (the run
    goes on, the next one refreshes again). The sign-in command saves through the store
    itself, so its failures are errors.
    """

    def __init__(self, store: TokenStore) -> None:
        super().__init__()
        self.store = store

    def __repr__(self) -> str:
        return f"StoreTokenBackend({self.store.where})"

    def load_token(self) -> bool:
        text = self.store.load()
        if text is None:
            return False
        cache = self.deserialize(text)
        if not isinstance(cache, dict):
            raise ValueError("not an MSAL token cache")
        self._cache = cache
        return True

    def save_token(self, force: bool = False) -> bool:
        if not self._cache:
            return False
        if not force and not self._has_state_changed:
            return True
        try:
            self.store.save(self.serialize())
        except (OSError, SyncfwError) as err:
            log.warning(
                "could not save the refreshed Outlook token to %s (%s); "
                "the next run will refresh it again",
                self.store.where,
                type(err).__name__,
            )
            return False
        return True


def _load_delegated(auth: DelegatedAuth, profile: str, calendar: str) -> StoreTokenBackend:
    backend = StoreTokenBackend(token_store(auth, profile, calendar))
    where = backend.store.where
    try:
        found = backend.load_token()
    except OSError as err:
        raise AuthError(
            f"cannot read the Outlook token in {where} ({type(err).__name__}); {SIGN_IN}",
            calendar=calendar,
        ) from None
    except ValueError as err:  # not JSON, or not a cache: never quote the text
        raise AuthError(
            f"unusable Outlook token in {where} ({type(err).__name__}); {SIGN_IN} again",
            calendar=calendar,
        ) from None
    if not found:
        raise AuthError(f"no Outlook token in {where}; {SIGN_IN}", calendar=calendar)
    if not backend.get_all_accounts() or not backend.token_is_long_lived():
        raise AuthError(
            f"the Outlook token in {where} has no signed-in account; {SIGN_IN} again",
            calendar=calendar,
        )
    return backend


# -- the connection ------------------------------------------------------------------


class _GraphConnection(Connection):  # type: ignore[misc]
    """O365's connection; what its token handling cannot do becomes an AuthError."""

    def __init__(self, credentials: tuple[Any, ...], *, calendar: str, **kwargs: Any) -> None:
        super().__init__(credentials, **kwargs)
        self.calendar = calendar

    def get_session(self, load_token: bool = False) -> Any:
        if self.auth_flow_type == "credentials" and self.token_backend.token_is_expired():
            self._app_token()  # first use: ask for the token (kept in memory only)
        return super().get_session(load_token=load_token)

    def refresh_token(self) -> bool:
        """O365 calls this after a 401 with an expired token."""
        if self.auth_flow_type == "credentials":
            token = self._app_token()
            if self.session is not None:  # else the next session takes it from the cache
                self.update_session_auth_header(access_token=token)
            return True
        try:
            return bool(super().refresh_token())
        except (RuntimeError, IndexError) as err:  # refused, or no account in the cache
            where = getattr(self.token_backend, "store", None)
            raise AuthError(
                f"the Outlook token{f' in {where.where}' if where else ''} could not be "
                f"refreshed ({err if isinstance(err, RuntimeError) else 'no account'}); "
                f"{SIGN_IN} again",
                calendar=self.calendar,
            ) from None

    def _app_token(self) -> str:
        client_id, credential = self.auth
        try:
            result = self.msal_client.acquire_token_for_client(scopes=APP_SCOPES)
        except ValueError as err:  # an unusable private key, or a tenant Entra ID lacks
            result = {"error": type(err).__name__, "error_description": str(err)}
        if isinstance(result.get("access_token"), str):
            return str(result["access_token"])
        description = (str(result.get("error_description") or "").splitlines() or [""])[0]
        detail = f"{result.get('error')}: {description}"
        if isinstance(credential, str):  # Entra ID does not echo it; make sure of that
            detail = detail.replace(credential, "***")
        what = "client secret" if isinstance(credential, str) else "certificate and thumbprint"
        raise AuthError(
            f"cannot get an application token for client {client_id} in tenant "
            f"{self.tenant_id}: {detail}; check the tenant id or domain, the client id, "
            f"that the {what} is current (Entra ID > App registrations > Certificates & "
            "secrets) and that the app has the Calendars.ReadWrite application permission "
            "with admin consent",
            calendar=self.calendar,
        )


def _connect(
    credentials: tuple[Any, ...],
    backend: BaseTokenBackend,
    *,
    flow: Literal["public", "credentials"],
    tenant: str,
    timeout: float,
    calendar: str,
) -> Connection:
    return _GraphConnection(
        credentials,
        calendar=calendar,
        auth_flow_type=flow,
        tenant_id=tenant,
        token_backend=backend,
        store_token_after_refresh=True,
        raise_http_errors=True,  # errors as requests.HTTPError with .response
        request_retries=0,  # the driver backs off itself, per request inside $batch too
        requests_delay=0,
        timeout=timeout,
    )


def build_connection(options: OutlookOptions, calendar: str, profile: str = "") -> Connection:
    """The O365 connection every Graph request of ``calendar`` goes through.

    ``profile`` (the profile's file name without ``.yaml``) and ``calendar`` name the
    keyring entry of ``auth: {keyring: true}``. AuthError when a delegated token is
    missing or unusable; an application token is requested on the first request.
    """
    quiet_o365_logging()
    auth = options.auth
    if isinstance(auth, TokenAuth):
        return _connect(
            (_NO_CLIENT,),
            StaticTokenBackend(auth.token),
            flow="public",
            tenant="common",
            timeout=options.timeout,
            calendar=calendar,
        )
    if isinstance(auth, DelegatedAuth):
        return _connect(
            (auth.client_id,),
            _load_delegated(auth, profile, calendar),
            flow="public",
            tenant=auth.tenant,
            timeout=options.timeout,
            calendar=calendar,
        )
    assert isinstance(auth, AppAuth)
    return _connect(
        (auth.client_id, _app_credential(auth, calendar)),
        MemoryTokenBackend(),
        flow="credentials",
        tenant=auth.tenant,
        timeout=options.timeout,
        calendar=calendar,
    )


def _app_credential(auth: AppAuth, calendar: str) -> str | dict[str, str]:
    """MSAL's client credential: the secret, or the certificate's private key (PEM)."""
    if auth.client_secret is not None:
        return auth.client_secret.get_secret_value()
    assert auth.certificate is not None and auth.thumbprint
    try:
        pem = auth.certificate.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise AuthError(
            f"cannot read the certificate {auth.certificate} ({type(err).__name__}); "
            "it must be a PEM file holding the private key",
            calendar=calendar,
        ) from None
    thumbprint = re.sub(r"[\s:]", "", auth.thumbprint)  # as copied from Entra ID or openssl
    return {"private_key": pem, "thumbprint": thumbprint}


# -- logging -------------------------------------------------------------------------

_BEARER = re.compile(r"\bBearer\s+[^\s'\",}]+", re.IGNORECASE)
_SECRET_FIELD = re.compile(
    r"""(?P<key>["']?\b(?:access_token|refresh_token|id_token|client_secret|"""
    r"""client_assertion|private_key|secret|password)\b["']?\s*[:=]\s*)"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s,&}\]]+)""",
    re.IGNORECASE,
)
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")


def _redact(text: str) -> str:
    def hide(match: re.Match[str]) -> str:
        value = match["value"]
        quote = value[0] if value[0] in "'\"" else ""
        return f"{match['key']}{quote}***{quote}"

    text = _BEARER.sub("Bearer ***", text)
    return _JWT.sub("***", _SECRET_FIELD.sub(hide, text))


class _QuietO365(logging.Filter):
    """Redacts tokens from O365's records; its "Client Error" records become DEBUG, as
    the driver handles 404 and 412 as ordinary outcomes (and reports real failures)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken record: logging reports it, not us
            return True
        clean = _redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.levelno == logging.ERROR and clean.startswith("Client Error:"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_QUIET = _QuietO365()


def quiet_o365_logging() -> None:
    """Install the redacting filter on every O365 logger (idempotent).

    A logger's filter sees only the records of that logger, not its children's, so it
    goes on each one: O365 imports all its modules (and makes their loggers) up front.
    """
    names = {"O365", "O365.connection", "O365.utils.token"}
    names.update(n for n in logging.root.manager.loggerDict if n.startswith("O365."))
    for name in sorted(names):
        logging.getLogger(name).addFilter(_QUIET)  # a filter already there is not re-added


# -- syncfw auth outlook -------------------------------------------------------------


def _sign_in(
    auth: DelegatedAuth, store: TokenStore, flow: str, timeout: float, calendar: str
) -> None:
    backend = StoreTokenBackend(store)  # empty: a sign-in replaces the stored token
    con = _connect(
        (auth.client_id,),
        backend,
        flow="public",
        tenant=auth.tenant,
        timeout=timeout,
        calendar=calendar,
    )
    hint = f"check client_id {auth.client_id} and tenant {auth.tenant!r}"
    try:
        if flow == "device-code":
            _device_code(con, hint)
        else:
            _authorization(con, hint)
    except ValueError as err:  # MSAL: an unknown tenant, a flow that does not match
        raise AuthError(f"sign-in failed: {err}; {hint}") from None
    store.save(backend.serialize())


def _device_code(con: Connection, hint: str) -> None:
    """MSAL's device-code flow: a URL and a code to enter on any device with a browser."""
    app = con.msal_client
    flow = app.initiate_device_flow(scopes=SCOPES)
    if "user_code" not in flow:
        raise AuthError(
            f"Microsoft did not start the device-code sign-in: {flow.get('error')}: "
            f"{flow.get('error_description')}; {hint}, and that the app registration allows "
            "public client flows (Authentication > Advanced settings)"
        )
    click.echo(flow["message"])  # the URL and the code; MSAL polls until they are used
    result = app.acquire_token_by_device_flow(flow)
    if "access_token" not in result:
        raise AuthError(
            f"sign-in failed: {result.get('error')}: {result.get('error_description')}; {hint}"
        )


def _authorization(con: Connection, hint: str) -> None:
    """O365's flow: open a URL, sign in, paste the address the browser was sent to."""
    with warnings.catch_warnings():  # MSAL prefers form_post; a pasted URL cannot be one
        warnings.filterwarnings("ignore", message=".*form_post")
        url, flow = con.get_authorization_url(requested_scopes=SCOPES)
    click.echo(f"Open this address in a browser and sign in:\n{url}")
    redirected = click.prompt(
        f"Paste the address of the page the browser lands on ({con.oauth_redirect_url}?code=...)"
    ).strip()
    query = parse_qs(urlparse(redirected).query)
    if "error" in query:  # refused consent, a wrong account type, ...
        error = query.get("error_description", query["error"])[0]
        raise AuthError(f"sign-in failed: {query['error'][0]}: {error}")
    if "code" not in query:
        raise AuthError("the pasted address has no code=...; paste the whole address")
    if not con.request_token(redirected, flow=flow, store_token=False):
        raise AuthError(f"Microsoft refused the sign-in code (logged above); {hint}")


@click.command("outlook")
@click.argument("profile", type=click.Path(exists=True, dir_okay=False))
@click.option("--calendar", "only", help="Sign in for this calendar of the profile only.")
@click.option(
    "--flow",
    type=click.Choice(["device-code", "authorization"]),
    help="device-code: a URL and a code for any browser (default, unless the profile's "
    "auth.flow says otherwise); authorization: open a URL, paste where it lands.",
)
def outlook_auth_command(profile: str, only: str | None, flow: str | None) -> None:
    """Sign in to Microsoft for the calendars of PROFILE.

    Calendars with delegated access (auth: {client_id, token_file | keyring: true}) are
    signed in; those with a static token or application access need no sign-in.
    """

    def store_for(options: object, stem: str, name: str) -> TokenStore | None:
        if isinstance(options, OutlookOptions) and isinstance(options.auth, DelegatedAuth):
            return token_store(options.auth, stem, name)
        return None  # a static token or application access

    def sign_in(options: OutlookOptions, store: TokenStore, name: str) -> None:
        assert isinstance(options.auth, DelegatedAuth)
        _sign_in(options.auth, store, flow or options.auth.flow, options.timeout, name)

    sign_in_calendars(
        profile,
        driver="outlook",
        provider="Microsoft",
        forms="auth {client_id, token_file | keyring}",
        only=only,
        store_for=store_for,
        sign_in=sign_in,
    )


def register_auth_command(cli: click.Group) -> None:
    """Add ``outlook`` under ``syncfw auth``, creating the ``auth`` group if no plugin did."""
    auth_group(cli).add_command(outlook_auth_command)
