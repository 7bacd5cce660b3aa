"""Talking to Google: credentials, the service object, and retries with backoff.

Google's documented failure modes map onto syncfw's errors here, in one place:

- 429, 403 ``rateLimitExceeded`` / ``userRateLimitExceeded``, 5xx and dropped
  connections are transient: retried with exponential backoff and full jitter,
  waiting at least ``Retry-After`` when the server says, a bounded number of
  times (then :class:`~syncfw.errors.RateLimited` or DriverError);
- 403 ``quotaExceeded`` / ``dailyLimitExceeded``: :class:`QuotaExceeded` — the
  run stops and the next one continues where this one stopped;
- 401: google-auth refreshes the credentials once; if Google still refuses,
  :class:`AuthError` says which command fixes it.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from syncfw.errors import AuthError, DriverError, QuotaExceeded, RateLimited, SyncfwError

from .auth import TokenStore, token_store
from .options import GoogleOptions, OAuthAuth, ServiceAccountAuth, TokenAuth

__all__ = ["Retrier", "build_service", "classify", "error_reason", "load_credentials"]

SCOPES = ["https://www.googleapis.com/auth/calendar"]
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
T = TypeVar("T")
log = logging.getLogger(__name__)


class _SavingCredentials(user_credentials.Credentials):
    """User credentials that save themselves back to their store after a refresh, so
    the next run starts with the fresh access token instead of spending a refresh."""

    store: TokenStore | None = None

    def refresh(self, request: Any) -> None:
        super().refresh(request)  # type: ignore[no-untyped-call]
        if self.store is None:
            return
        try:
            self.store.save(self.to_json())  # type: ignore[no-untyped-call]
        except (OSError, SyncfwError) as err:  # the run goes on; the next one refreshes again
            log.warning(
                "could not save the refreshed Google token to %s (%s); "
                "the next run will refresh it again",
                self.store.where,
                type(err).__name__,
            )


def _oauth_credentials(auth: OAuthAuth, profile: str, calendar: str) -> Any:
    """The user's OAuth credentials from where ``auth`` keeps them (file or keyring)."""
    hint = "run `syncfw auth google PROFILE` to sign in again"
    store = token_store(auth, profile, calendar)
    try:
        text = store.load()
    except OSError as err:
        raise AuthError(
            f"cannot read the Google token in {store.where} ({type(err).__name__}); {hint}",
            calendar=calendar,
        ) from None
    if text is None:
        raise AuthError(f"no Google token in {store.where}; {hint}", calendar=calendar)
    try:
        info = json.loads(text)
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
        creds = _SavingCredentials.from_authorized_user_info(info, SCOPES)  # type: ignore[no-untyped-call]
    except ValueError as err:
        # json's and google-auth's messages name positions and missing fields, not values
        reason = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
        raise AuthError(
            f"unusable Google token in {store.where}: {reason}; {hint}", calendar=calendar
        ) from None
    creds.store = store
    return creds


def load_credentials(options: GoogleOptions, calendar: str, profile: str = "") -> Any:
    """google-auth credentials for ``options.auth``; AuthError when they cannot be had.

    ``profile`` (the profile's file name without ``.yaml``) and ``calendar`` name the
    keyring entry of ``auth: {keyring: true}``.
    """
    auth = options.auth
    if isinstance(auth, TokenAuth):
        return user_credentials.Credentials(  # type: ignore[no-untyped-call]
            token=auth.token.get_secret_value()
        )
    if isinstance(auth, OAuthAuth):
        return _oauth_credentials(auth, profile, calendar)
    assert isinstance(auth, ServiceAccountAuth)
    try:
        creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(auth.service_account), scopes=SCOPES
        )
    except (ValueError, OSError) as err:
        raise AuthError(
            f"unusable service account key {auth.service_account}: {err}", calendar=calendar
        ) from None
    return creds.with_subject(auth.subject) if auth.subject else creds


def build_service(options: GoogleOptions, credentials: Any) -> Any:
    """The calendar v3 service from the bundled discovery document (no network here)."""
    http = google_auth_httplib2.AuthorizedHttp(
        credentials,
        http=httplib2.Http(timeout=options.timeout),
        max_refresh_attempts=1,  # 401 -> one refresh, then the error surfaces
    )
    return discovery.build(
        "calendar",
        "v3",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": options.base_endpoint + "calendar/v3/"},
    )


def error_reason(error: HttpError) -> str:
    """Google's ``errors[0].reason`` ("" when the body says none)."""
    try:
        body = json.loads(error.content.decode("utf-8", "replace"))
        return str(body["error"]["errors"][0].get("reason", ""))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


def retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after") if error.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify(error: HttpError) -> str:
    """ "transient", "quota", "auth" or "final" for an HTTP error of Google's."""
    status, reason = int(error.resp.status), error_reason(error)
    if status == 429 or status >= 500 or (status == 403 and reason in RATE_REASONS):
        return "transient"
    if status == 403 and reason in QUOTA_REASONS:
        return "quota"
    if status == 401:
        return "auth"
    return "final"


def raise_fatal(error: HttpError, calendar: str) -> None:
    """Raise the syncfw error that stops the run for quota/auth failures; else return."""
    kind = classify(error)
    if kind == "quota":
        raise QuotaExceeded(
            f"Google's quota is spent ({error_reason(error)}); the run stopped and the "
            "next run continues where it stopped",
            calendar=calendar,
        )
    if kind == "auth":
        raise AuthError(
            "Google refused the credentials (401) even after a refresh; "
            "run `syncfw auth google PROFILE` to sign in again",
            calendar=calendar,
        )


class Retrier:
    """Bounded exponential backoff with full jitter, honouring Retry-After."""

    def __init__(
        self,
        options: GoogleOptions,
        calendar: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retries, self.base, self.cap = options.retries, options.backoff, options.max_backoff
        self.calendar = calendar
        self.sleep = sleep
        self.slept: list[float] = []  # what we waited, for tests and logs

    def delay(self, attempt: int, server_hint: float | None) -> float:
        jittered = random.uniform(0, min(self.cap, self.base * 2**attempt))
        return max(jittered, server_hint or 0.0)

    def wait(self, attempt: int, server_hint: float | None) -> None:
        seconds = self.delay(attempt, server_hint)
        self.slept.append(seconds)
        self.sleep(seconds)

    def run(self, call: Callable[[], T], what: str) -> T:
        """``call()`` with retries; HttpErrors that are not transient propagate as they are,
        except quota and auth, which become QuotaExceeded / AuthError."""
        attempt = 0
        while True:
            try:
                return call()
            except HttpError as err:
                raise_fatal(err, self.calendar)
                if classify(err) != "transient":
                    raise
                if attempt >= self.retries:
                    raise RateLimited(
                        f"{what}: Google kept failing ({err.resp.status} "
                        f"{error_reason(err) or 'error'}) after {attempt} retries; "
                        "try again later",
                        retry_after=retry_after(err),
                        calendar=self.calendar,
                    ) from None
                self.wait(attempt, retry_after(err))
            except google.auth.exceptions.RefreshError as err:
                raise AuthError(
                    f"{what}: the Google credentials cannot be refreshed ({type(err).__name__}); "
                    "run `syncfw auth google PROFILE` to sign in again",
                    calendar=self.calendar,
                ) from None
            except (OSError, http.client.HTTPException, httplib2.HttpLib2Error) as err:
                if attempt >= self.retries:
                    raise DriverError(
                        f"{what}: the connection to Google failed {attempt + 1} times "
                        f"({type(err).__name__}); check the network and try again",
                        calendar=self.calendar,
                    ) from None
                self.wait(attempt, None)
            attempt += 1
