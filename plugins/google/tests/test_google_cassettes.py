"""The driver's wire tests, replayed from cassettes recorded with pytest-recording.

Why cassettes as well as the emulator: a cassette is a record of what went over
the wire, so the same test can be recorded once against the real Google API and
then replayed anywhere, with no emulator, no network and no credentials.

Three ways to run (chosen by ``--record-mode`` and the environment, see README.md):

- replay (the default, ``record_mode == "none"``): every request is answered from
  ``cassettes/test_google_cassettes/<test>.yaml``; a request the driver did not send
  when the cassette was made fails the test;
- record against the emulator (``--record-mode=rewrite``, no ``SYNCFW_GOOGLE_TEST_*``);
- record against Google (``--record-mode=rewrite`` with ``SYNCFW_GOOGLE_TEST_CALENDAR``
  and credentials in the environment).

Requests match on method, path, query, If-Match and a normalised body, never on
host or port, so a recording made against Google replays like one made against
the emulator. Every credential is scrubbed before anything is written (see
:func:`scrub_text`), and :func:`test_no_cassette_holds_a_credential` checks it.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from emulator import GoogleEmulator

from syncfw.driver import DriverContext, WriteOp
from syncfw.errors import CursorExpired, PreconditionFailed
from syncfw.model import Event, Window
from syncfw_google import GoogleDriver, GoogleOptions
from syncfw_google.convert import event_id

CASSETTES = Path(__file__).parent / "cassettes"
CALENDAR = "wire-calendar@example.com"  # what the recorded calendar id is replaced by
RECORDER = "recorder@example.com"  # what other e-mail addresses are replaced by
REDACTED = "REDACTED"
WINDOW = Window(datetime(2031, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
ENV = "SYNCFW_GOOGLE_TEST_"

# -- scrubbing -----------------------------------------------------------------------

_SECRET_FIELDS = (
    "access_token|refresh_token|client_secret|id_token|private_key|private_key_id|assertion"
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # JSON fields and form-encoded parameters that carry secrets
    (re.compile(rf'("(?:{_SECRET_FIELDS})"\s*:\s*")(?:[^"\\]|\\.)*(")'), rf"\1{REDACTED}\2"),
    (re.compile(rf"(\b(?:{_SECRET_FIELDS}|key)=)[^&\s\"']+"), rf"\1{REDACTED}"),
    # Authorization headers, also those inside the parts of a batch request
    (re.compile(r"(?im)^(authorization:[ \t]*).*$"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+"), REDACTED),
    (re.compile(r"ya29\.[\w.-]+"), REDACTED),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
     REDACTED),  # fmt: skip
]
_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)(?P<domain>[\w-]+(?:\.[\w-]+)+)")
_KEPT_DOMAINS = frozenset({"example.com", "example.org", "syncfw.test"})


def _recording_secrets() -> list[tuple[str, str]]:
    """Exact values to replace: the calendar id and the accounts of a real recording."""
    pairs: list[tuple[str, str]] = []
    calendar = os.environ.get(ENV + "CALENDAR")
    if calendar:
        pairs.append((calendar, CALENDAR))
    for name in ("TOKEN", "EMAIL", "SUBJECT"):
        value = os.environ.get(ENV + name)
        if value:
            pairs.append((value, RECORDER if "@" in value else REDACTED))
    key_file = os.environ.get(ENV + "SERVICE_ACCOUNT")
    if key_file and Path(key_file).is_file():
        client_email = json.loads(Path(key_file).read_text()).get("client_email")
        if client_email:
            pairs.append((client_email, RECORDER))
    return [(v, p) for value, p in pairs for v in {value, urllib.parse.quote(value, safe="")}]


def scrub_text(text: str) -> str:
    """``text`` with every token, key, secret and foreign e-mail address replaced."""
    for value, placeholder in _recording_secrets():
        text = text.replace(value, placeholder)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _EMAIL.sub(
        lambda m: m.group(0) if m.group("domain").lower() in _KEPT_DOMAINS else RECORDER, text
    )


def _scrub_body(body: bytes | str | None) -> bytes | str | None:
    if isinstance(body, bytes):
        try:
            return scrub_text(body.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return body
    return scrub_text(body) if isinstance(body, str) else body


def _scrub_request(request: Any) -> Any | None:
    """Drop token exchanges (they are nothing but secrets); scrub everything else."""
    host = urllib.parse.urlsplit(request.uri).hostname or ""
    if host in ("oauth2.googleapis.com", "accounts.google.com") or request.path.endswith("/token"):
        return None
    request.uri = scrub_text(request.uri)
    request.body = _scrub_body(request.body)
    for name in list(request.headers):
        if name.lower() in ("authorization", "cookie", "x-goog-api-key"):
            request.headers[name] = REDACTED
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in [n for n in headers if n.lower() in ("set-cookie", "www-authenticate")]:
        del headers[name]
    body = response.get("body", {})
    if "string" in body:
        body["string"] = _scrub_body(body["string"])
    return response


# -- matching ------------------------------------------------------------------------


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return raw.strip()


def normalised_body(request: Any) -> Any:
    """What a body means: parsed JSON; for a batch, each part's request line, If-Match
    and JSON body (boundaries, Content-ID bases and inner auth headers vary per run)."""
    raw = request.body
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw or ""
    boundary = re.search(r'boundary="?([^";]+)', request.headers.get("content-type", ""))
    if boundary is None:
        return _json_or_text(text)
    parts = []
    for part in text.split("--" + boundary.group(1))[1:]:
        if part.strip() in ("", "--"):
            continue
        outer, _, inner = part.replace("\r\n", "\n").partition("\n\n")
        content_id = re.search(r"(?im)^content-id:\s*<[^+]*\+(.*)>", outer)
        head, _, body = inner.partition("\n\n")
        lines = head.strip().splitlines()
        if_match = [v for line in lines[1:] for k, _, v in [line.partition(":")]
                    if k.strip().lower() == "if-match"]  # fmt: skip
        parts.append(
            (content_id and content_id.group(1), lines[0] if lines else "", if_match,
             _json_or_text(body))  # fmt: skip
        )
    return parts


def _body_matcher(r1: Any, r2: Any) -> None:
    assert normalised_body(r1) == normalised_body(r2), "the bodies differ"


def _if_match_matcher(r1: Any, r2: Any) -> None:
    assert r1.headers.get("If-Match") == r2.headers.get("If-Match"), "If-Match differs"


def pytest_recording_configure(config: Any, vcr: Any) -> None:  # pragma: no cover - hook name
    """Not a hook here (conftest only); matchers are registered in ``vcr_config`` instead."""


# -- where the test talks to ---------------------------------------------------------


@dataclass
class Backend:
    """What the tests run against: ``replay``, ``emulator`` or ``google``."""

    mode: str
    endpoint: str
    auth: dict[str, str]
    emulator: GoogleEmulator | None = None

    def expire_sync_tokens(self) -> None:
        """Make Google answer 410 to the sync tokens issued so far (the emulator can)."""
        if self.emulator is not None:
            self.emulator.expire_sync_tokens()


def _google_auth() -> dict[str, str]:
    if os.environ.get(ENV + "TOKEN"):
        return {"token": os.environ[ENV + "TOKEN"]}
    if os.environ.get(ENV + "SERVICE_ACCOUNT"):
        auth = {"service_account": os.environ[ENV + "SERVICE_ACCOUNT"]}
        if os.environ.get(ENV + "SUBJECT"):
            auth["subject"] = os.environ[ENV + "SUBJECT"]
        return auth
    if os.environ.get(ENV + "CLIENT_SECRETS") and os.environ.get(ENV + "TOKEN_FILE"):
        return {
            "client_secrets": os.environ[ENV + "CLIENT_SECRETS"],
            "token_file": os.environ[ENV + "TOKEN_FILE"],
        }
    raise pytest.UsageError(
        f"{ENV}CALENDAR is set but no credentials: set {ENV}TOKEN, or {ENV}SERVICE_ACCOUNT "
        f"(and {ENV}SUBJECT), or {ENV}CLIENT_SECRETS and {ENV}TOKEN_FILE; see tests/README.md"
    )


@pytest.fixture
def backend(record_mode: str) -> Iterator[Backend]:
    if record_mode == "none":
        yield Backend("replay", "https://www.googleapis.com/", {"token": "replay-token"})
    elif os.environ.get(ENV + "CALENDAR"):
        endpoint = os.environ.get("SYNCFW_GOOGLE_ENDPOINT", "https://www.googleapis.com/")
        yield Backend("google", endpoint, _google_auth())
    else:
        with GoogleEmulator() as emulator:
            emulator.add_calendar("syncfw wire tests", cal_id=CALENDAR)
            yield Backend("emulator", emulator.endpoint, {"token": "test-token"}, emulator)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return {
        "match_on": ["method", "path", "query", "if_match", "semantic_body"],
        "filter_headers": [("authorization", REDACTED)],
        "filter_query_parameters": [("key", REDACTED), ("access_token", REDACTED)],
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
    }


@pytest.fixture(autouse=True)
def _register_matchers(vcr: Any) -> None:
    """pytest-recording builds the VCR before this runs; matchers go on its cassette."""
    if vcr is not None:
        vcr._match_on = tuple(  # the cassette keeps matcher functions, not names
            {"if_match": _if_match_matcher, "semantic_body": _body_matcher}.get(m, m)
            if isinstance(m, str)
            else m
            for m in vcr._match_on
        )


@pytest.fixture
def driver(backend: Backend) -> Iterator[GoogleDriver]:
    calendar = os.environ.get(ENV + "CALENDAR", CALENDAR) if backend.mode == "google" else CALENDAR
    options = GoogleOptions.model_validate(
        {
            "calendar": calendar,
            "endpoint": backend.endpoint,
            "auth": backend.auth,
            "backoff": 0.001,
            "max_backoff": 0.01,
            "timeout": 30,
        }
    )
    with GoogleDriver(options, DriverContext("google")) as driver:
        yield driver
