"""The HTTP side of the driver: caldav ``DAVClient``s, one per request in flight.

Why credentials are sent up front: left to itself, the caldav library sends the
first request of every client without credentials and waits for the server's
401 to choose a scheme. Radicale answers such a 401 only after its brute-force
delay (``[auth] delay``, 1 s times 0.5-1.5), so each new client spent ~1.2 s
before its first real answer - most of a run's time. With ``auth_type: basic``
(the default, what DAVx5 and Thunderbird do) the client is built with the scheme
chosen, and a quiet read is a single request.

Why a pool of clients rather than one shared: a ``DAVClient`` rewrites its own
``auth`` during a 401 negotiation, and a requests/niquests ``Session`` is not
documented as safe to share between threads. Each request borrows an idle
client (or makes one), so concurrent writes never share one, and no more clients
exist than requests were ever in flight at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import caldav
from caldav.lib import error as dav_error
from pydantic import SecretStr

from syncfw.errors import AuthError, DriverError, RateLimited

from .options import CaldavOptions

__all__ = ["Connection", "Reply", "safe_url"]


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer: status, headers, body, and any ``DAV:error`` preconditions."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] | None = None
    preconditions: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        return self.headers.get(name) if self.headers is not None else None


class Connection:
    """The server of one calendar; :meth:`request` is safe to call from many threads."""

    def __init__(
        self,
        options: CaldavOptions,
        calendar: str,
        password: Callable[[], SecretStr | None],
    ) -> None:
        self.options = options
        self.calendar = calendar
        self._password_source = password
        self._password: SecretStr | None = None
        self._resolved = False
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._clients: list[Any] = []

    # ---------------------------------------------------------------- clients

    def _secret(self) -> SecretStr | None:
        with self._lock:
            if not self._resolved:  # the keyring is asked once per driver
                self._password = self._password_source()
                self._resolved = True
            return self._password

    def _new_client(self) -> Any:
        secret = self._secret()
        password = secret.get_secret_value() if secret is not None else None
        auth_type = self.options.auth_type
        client_class: Any = caldav.DAVClient
        return client_class(
            url=self.options.url,
            username=self.options.username,
            password=password,
            # a scheme needs credentials to be built with; "negotiate" waits for a 401
            auth_type=None if auth_type == "negotiate" or password is None else auth_type,
            timeout=self.options.timeout,
        )

    @contextmanager
    def client(self) -> Iterator[Any]:
        """An idle client for this thread alone, returned to the pool afterwards."""
        with self._lock:
            client = self._idle.pop() if self._idle else None
        if client is None:
            client = self.call("connecting", self._new_client)
            with self._lock:
                self._clients.append(client)
        try:
            yield client
        finally:
            with self._lock:
                self._idle.append(client)

    def close(self) -> None:
        with self._lock:
            clients, self._clients, self._idle = self._clients, [], []
        for client in clients:
            client.close()

    # --------------------------------------------------------------- requests

    def request(
        self,
        what: str,
        method: str,
        url: str,
        body: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request. 401, 429/503 and transport failures raise; every other
        status - a 403 too, with its preconditions - is returned for the caller."""
        with self.client() as client:
            reply: Reply = self.call(what, lambda: self._send(client, method, url, body, headers))
            return reply

    @staticmethod
    def _send(
        client: Any, method: str, url: str, body: str, headers: Mapping[str, str] | None
    ) -> Reply:
        try:
            response = client.request(url, method, body, dict(headers or {}))
        except dav_error.AuthorizationError as exc:
            status = getattr(exc, "status", None)
            if not isinstance(status, int) or status == 401:
                raise  # credentials: stops everything
            detail = getattr(exc, "body", None)
            raw = detail.encode("utf-8") if isinstance(detail, str) else bytes(detail or b"")
            return Reply(status, raw, None, tuple(getattr(exc, "preconditions", None) or ()))
        raw = response.raw or b""
        data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        return Reply(int(response.status), data, dict(response.headers or {}))

    def call(self, what: str, request: Callable[[], Any]) -> Any:
        """Run ``request``, mapping transport and auth failures onto syncfw's errors."""
        where = safe_url(self.options.url)
        try:
            return request()
        except dav_error.AuthorizationError as exc:
            raise AuthError(
                f"{what} at {where} was refused ({exc.status or 401}): check 'username' and "
                f"the password "
                f"({self._password_hint()}); a server that refuses Basic auth needs "
                "auth_type: digest or negotiate",
                calendar=self.calendar,
            ) from None
        except dav_error.RateLimitError as exc:
            raise RateLimited(
                f"{what}: the server asks to slow down",
                retry_after=getattr(exc, "retry_after_seconds", None),
                calendar=self.calendar,
            ) from None
        except (dav_error.DAVError, OSError, SyntaxError, ValueError) as exc:
            raise DriverError(
                f"{what} at {where} failed: {type(exc).__name__}: {self._scrub(str(exc))} "
                "(is the server reachable and the URL right?)",
                calendar=self.calendar,
            ) from None

    def _password_hint(self) -> str:
        if self.options.keyring:
            return f"the one stored with `keyring set syncfw-caldav {self.options.username}`"
        return "'password' in the profile"

    def _scrub(self, text: str) -> str:
        """``text`` with the password blanked, in case a library quoted it."""
        secret = self._password.get_secret_value() if self._password is not None else ""
        return text.replace(secret, "***") if secret else text


def safe_url(url: str) -> str:
    """``url`` without ``user:password@``, fit for a message."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))
