"""Scrubbing pytest-recording (vcrpy) cassettes, for the drivers' wire tests.

Why one module: the Google and the Outlook tests record the same kinds of secret (bearer
tokens, OAuth token exchanges, client secrets, private keys, people's e-mail addresses),
so one set of rules and one leak check serve both; a provider only says where its
secrets are (:class:`Scrubber`'s fields).

A :class:`Scrubber` is handed to vcrpy as ``before_record_request`` and
``before_record_response`` (:meth:`Scrubber.vcr_config`). vcrpy also runs
``before_record_request`` on every request *before matching* it, in replay too, so
whatever is scrubbed is scrubbed on both sides of a comparison.

What is replaced, in this order (:meth:`Scrubber.text`):

1. exact values: those of the environment variables ``{env_prefix}{name}`` for each
   name of ``secret_vars`` (by ``recorder@example.com`` when they hold an ``@``, else
   ``REDACTED``), ``{env_prefix}CALENDAR`` by the placeholder ``calendar``, and the
   pairs in ``values``; each also URL-quoted;
2. :data:`PATTERNS`: ``Authorization`` lines (also inside the parts of a batch),
   ``Bearer …``, JWTs, Google and Microsoft refresh tokens, PEM private keys, the JSON
   fields :data:`SECRET_FIELDS`, the form fields :data:`FORM_FIELDS`, the user in
   Graph's ``users('…')`` context and ``/users/{guid}`` links, and the display name of
   an ``emailAddress``;
3. every e-mail address outside ``kept_domains`` becomes ``recorder@example.com``.

Requests to ``token_hosts`` or to a path ending in ``/token`` are not recorded at all:
a token exchange is nothing but secrets.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FORM_FIELDS",
    "LEAKS",
    "PATTERNS",
    "RECORDER",
    "REDACTED",
    "SECRET_FIELDS",
    "Scrubber",
    "cassette_leaks",
    "exchanges",
    "sent_requests",
]

REDACTED = "REDACTED"
RECORDER = "recorder@example.com"  # what every foreign e-mail address becomes

#: JSON fields (and form fields) whose values are secrets.
SECRET_FIELDS = (
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "assertion",
    "private_key",
    "private_key_id",
    "device_code",
    "password",
)
#: Form and query fields only: as JSON fields these names are harmless (Graph's errors
#: have a ``"code"``).
FORM_FIELDS = (*SECRET_FIELDS, "code", "key")

_JSON_FIELD = "|".join(SECRET_FIELDS)
_FORM_FIELD = "|".join(FORM_FIELDS)
_GUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf'("(?:{_JSON_FIELD})"\s*:\s*")(?:[^"\\]|\\.)*(")'), rf"\1{REDACTED}\2"),
    (re.compile(rf"(\b(?:{_FORM_FIELD})=)[^&\s\"']+"), rf"\1{REDACTED}"),
    (re.compile(r"(?im)^(authorization:[ \t]*).*$"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+"), REDACTED),
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"), REDACTED),  # a JWT (Entra ID's tokens)
    (re.compile(r"ya29\.[\w.-]+"), REDACTED),  # Google's access tokens
    # Microsoft's refresh tokens: work or school (0.A…), personal accounts (M.C…_, M.R3_…)
    (re.compile(r"\b(?:0\.A[\w-]{20,}|M\.(?:C\d+|R3)_[\w-]{20,})[\w.*!$-]*"), REDACTED),
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        REDACTED,
    ),
    # Graph names the mailbox in @odata.context and Location: users('jane%40contoso.com')
    (
        re.compile(r"(?i)(\busers\((?:'|%27))[^'%]*(?:%40[^'%]*)?((?:'|%27)\))"),
        r"\1recorder%40example.com\2",
    ),
    (re.compile(rf"(?i)(/users/){_GUID}\b"), r"\1recorder%40example.com"),
    # a person's display name next to their address (Graph's organizer and attendees)
    (
        re.compile(r'("emailAddress"\s*:\s*\{\s*"name"\s*:\s*")(?:[^"\\]|\\.)*(")'),
        r"\1Recorder\2",
    ),
)
_EMAIL = re.compile(r"[\w.+-]+(?P<at>@|%40)(?P<domain>[\w-]+(?:\.[\w-]+)+)")

#: What :func:`cassette_leaks` looks for: a credential that got past the scrubbing.
LEAKS = re.compile(
    r"Bearer |ya29\.|\beyJ[\w-]*\.eyJ|\b0\.A[\w-]{20,}"
    r'|"(?:refresh|access|id)_token":\s*"(?!REDACTED)|"client_secret":\s*"(?!REDACTED)'
    r"|\b(?:client_secret|client_assertion|refresh_token)=(?!REDACTED)"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY|test-token|replay-token"
)


@dataclass(frozen=True)
class Scrubber:
    """What one provider's cassettes must not hold, and how to take it out."""

    #: e.g. ``SYNCFW_GOOGLE_TEST_``: ``{env_prefix}CALENDAR`` and the ``secret_vars``.
    env_prefix: str
    #: What the recorded calendar's id is replaced by (the id the replay uses).
    calendar: str
    #: Names (after the prefix) of variables whose values are replaced wherever they occur.
    secret_vars: tuple[str, ...] = ("TOKEN",)
    #: Hosts of token exchanges: requests to them are never recorded.
    token_hosts: frozenset[str] = frozenset()
    #: Request headers replaced by ``REDACTED`` (lower case).
    request_headers: frozenset[str] = frozenset({"authorization", "cookie"})
    #: Response headers removed (lower case).
    response_headers: frozenset[str] = frozenset({"set-cookie", "www-authenticate"})
    #: Further exact ``(value, placeholder)`` pairs, e.g. a service account's address.
    values: tuple[tuple[str, str], ...] = ()
    kept_domains: frozenset[str] = frozenset({"example.com", "example.org", "syncfw.test"})

    def replacements(self) -> list[tuple[str, str]]:
        """The exact values to replace now (the environment is read on each call)."""
        pairs: list[tuple[str, str]] = []
        calendar = os.environ.get(self.env_prefix + "CALENDAR")
        if calendar:
            pairs.append((calendar, self.calendar))
        for name in self.secret_vars:
            value = os.environ.get(self.env_prefix + name)
            if value:
                pairs.append((value, RECORDER if "@" in value else REDACTED))
        pairs += [(value, placeholder) for value, placeholder in self.values if value]
        quoted = [(_quote(v), _quote(p)) for v, p in pairs]
        return pairs + [pair for pair in quoted if pair not in pairs]

    def text(self, text: str) -> str:
        """``text`` with every token, key, secret and foreign e-mail address replaced."""
        for value, placeholder in self.replacements():
            text = text.replace(value, placeholder)
        for pattern, replacement in PATTERNS:
            text = pattern.sub(replacement, text)
        return _EMAIL.sub(self._email, text)

    def _email(self, match: re.Match[str]) -> str:
        if match.group("domain").lower() in self.kept_domains:
            return match.group(0)
        return RECORDER.replace("@", match.group("at"))  # keeps a URL-quoted one quoted

    def body(self, body: bytes | str | None) -> bytes | str | None:
        """A request or response body, scrubbed when it is text."""
        if isinstance(body, bytes):
            try:
                return self.text(body.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                return body
        return self.text(body) if isinstance(body, str) else body

    def request(self, request: Any) -> Any | None:
        """vcrpy's ``before_record_request``: None for a token exchange, else scrubbed."""
        host = urllib.parse.urlsplit(request.uri).hostname or ""
        if host in self.token_hosts or request.path.endswith("/token"):
            return None
        request.uri = self.text(request.uri)
        request.body = self.body(request.body)
        for name in list(request.headers):
            if name.lower() in self.request_headers:
                request.headers[name] = REDACTED
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy's ``before_record_response``: headers removed, the body scrubbed."""
        headers = response.get("headers", {})
        for name in [n for n in headers if n.lower() in self.response_headers]:
            del headers[name]
        body = response.get("body", {})
        if "string" in body:
            body["string"] = self.body(body["string"])
        return response

    def vcr_config(self, match_on: Sequence[str]) -> dict[str, Any]:
        """A ``vcr_config`` for pytest-recording that scrubs with this scrubber.

        (No ``filter_query_parameters``: :meth:`text` redacts ``key=`` and
        ``access_token=`` itself, and vcrpy's filter would re-encode every recorded URL.)
        """
        return {
            "match_on": list(match_on),
            "filter_headers": [("authorization", REDACTED)],
            "before_record_request": self.request,
            "before_record_response": self.response,
            "decode_compressed_response": True,  # so the scrubbing sees the text
        }


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def cassette_leaks(files: Iterable[Path]) -> list[str]:
    """``"file: 'match'"`` for each :data:`LEAKS` match in the cassette ``files``."""
    return [f"{f.name}: {m.group(0)!r}" for f in files for m in LEAKS.finditer(f.read_text())]


def exchanges(cassette: Any) -> list[tuple[Any, dict[str, Any]]]:
    """This test's requests with their responses: the replayed ones in replay, the
    recorded ones when recording."""
    pairs = list(cassette.data)
    if cassette.rewound:
        return [pair for i, pair in enumerate(pairs) if cassette.play_counts[i]]
    return pairs


def sent_requests(cassette: Any) -> list[Any]:
    """This test's requests (see :func:`exchanges`)."""
    return [request for request, _ in exchanges(cassette)]
