"""Microsoft credentials: each auth form signs Graph requests, delegated tokens live in a
0600 file or the keyring and are saved back after a refresh, secrets are never shown.

No network: Graph is a tiny local HTTP server that records the Authorization header;
Microsoft's identity platform (login.microsoftonline.com) is answered in-process at the
requests transport, so MSAL runs for real (discovery, token requests, its cache, the
id_token and nonce checks, the certificate's client assertion).
"""

from __future__ import annotations

import base64
import json
import logging
import stat
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import click
import keyring
import keyring.backend
import keyring.errors
import msal
import pytest
import requests
import requests.adapters
from click.testing import CliRunner
from O365.connection import Connection
from pydantic import ValidationError
from requests.structures import CaseInsensitiveDict

from syncfw.errors import AuthError
from syncfw_outlook import auth as outlook_auth
from syncfw_outlook import plugin as outlook_plugin
from syncfw_outlook.auth import KEYRING_SERVICE, build_connection, graph_protocol
from syncfw_outlook.options import OutlookOptions

STATIC = "static-token-SECRET"
OLD = "old-access-SECRET"
FRESH = "fresh-access-SECRET"
REFRESH = "refresh-token-SECRET"
APP = "app-access-SECRET"
CLIENT_SECRET = "client~secret-SECRET"
SECRETS = (STATIC, OLD, FRESH, REFRESH, APP, CLIENT_SECRET)
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "contoso.onmicrosoft.com"
TID, OID = "99999999-8888-7777-6666-555555555555", "00000000-1111-2222-3333-444444444444"
USER = "ada@contoso.example"


def secrets_in(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- Graph: records the bearer token, answers 200 for valid tokens and 401 otherwise ----


class FakeGraph:
    def __init__(self) -> None:
        self.valid: set[str] = set()
        self.seen: list[str | None] = []
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                header = self.headers.get("Authorization")
                graph.seen.append(header)
                ok = header in {f"Bearer {t}" for t in graph.valid}
                error = {"code": "InvalidAuthenticationToken", "message": "token expired"}
                body = {"value": []} if ok else {"error": error}
                data = json.dumps(body).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.calendars = self.url + "v1.0/me/calendars"


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fake = FakeGraph()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


# -- Microsoft's identity platform, answered at the transport ---------------------------


class FakeEntra:
    """Discovery, device code, and the token endpoint for every grant syncfw uses."""

    def __init__(self) -> None:
        self.grants: list[dict[str, str]] = []  # the token requests' form fields
        self.access = OLD  # what the next user sign-in hands out
        self.expires_in = 3600
        self.refused: str | None = None  # an error code for every token request
        self.nonces: dict[str, str] = {}
        self.scope = ""  # what the sign-in asked for; Entra ID answers with the granted scope

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, Any]]:
        path = urlparse(request.url).path
        tenant = path.split("/")[1]
        if path.endswith("/.well-known/openid-configuration"):
            base = f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0"
            return 200, {
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "device_authorization_endpoint": f"{base}/devicecode",
                "issuer": f"https://login.microsoftonline.com/{TID}/v2.0",
            }
        if path.endswith("/discovery/instance"):  # MSAL: which hosts are the same cloud
            hosts = ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com"]
            return 200, {
                "tenant_discovery_endpoint": "https://login.microsoftonline.com/common/v2.0"
                "/.well-known/openid-configuration",
                "metadata": [
                    {"preferred_network": hosts[0], "preferred_cache": hosts[1], "aliases": hosts}
                ],
            }
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        form = {k: v[0] for k, v in parse_qs(body or "").items()}
        if path.endswith("/devicecode"):
            self.scope = form["scope"]
            return 200, {
                "device_code": "DEVICE",
                "user_code": "ABCD-EFGH",
                "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900,
                "interval": 1,
                "message": "To sign in, open https://microsoft.com/devicelogin "
                "and enter the code ABCD-EFGH.",
            }
        assert path.endswith("/oauth2/v2.0/token"), path
        self.grants.append(form)
        if self.refused:
            return 400, {"error": self.refused, "error_description": "AADSTS70000: refused."}
        grant = form["grant_type"]
        if grant == "client_credentials":
            return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": APP}
        if grant == "refresh_token":
            assert form["refresh_token"] == REFRESH
            return 200, self.user_tokens(form, FRESH, 3600)
        nonce = self.nonces.get(form.get("code", ""))
        return 200, self.user_tokens(form, self.access, self.expires_in, nonce)

    def user_tokens(
        self, form: dict[str, str], access: str, expires_in: int, nonce: str | None = None
    ) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": f"https://login.microsoftonline.com/{TID}/v2.0",
            "sub": "subject",
            "aud": form["client_id"],
            "iat": now,
            "exp": now + 3600,
            "oid": OID,
            "tid": TID,
            "preferred_username": USER,
            **({"nonce": nonce} if nonce else {}),
        }
        id_token = (
            ".".join(b64url(json.dumps(part).encode()) for part in ({"alg": "none"}, claims))
            + ".sig"
        )
        return {
            "token_type": "Bearer",
            "scope": form.get("scope", self.scope),
            "expires_in": expires_in,
            "access_token": access,
            "refresh_token": REFRESH,
            "id_token": id_token,
            "client_info": b64url(json.dumps({"uid": OID, "utid": TID}).encode()),
        }

    def browser(self, authorize_url: str) -> str:
        """Signing in at ``authorize_url``: where Microsoft sends the browser back."""
        query = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items()}
        self.nonces["CODE"] = query["nonce"]
        self.scope = query["scope"]
        back = {"code": "CODE", "state": query["state"], "session_state": "s"}
        return f"{query['redirect_uri']}?{urlencode(back)}"


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> FakeEntra:
    fake = FakeEntra()
    real_send = requests.adapters.HTTPAdapter.send

    def send(adapter: Any, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        if urlparse(request.url).hostname != "login.microsoftonline.com":
            return real_send(adapter, request, **kwargs)
        status, body = fake.answer(request)
        response = requests.Response()
        response.status_code, response.url, response.request = status, request.url, request
        response._content = json.dumps(body).encode()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return fake


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring in a dict; ``fail`` makes every call raise like a locked keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}
        self.fail = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.fail:
            raise keyring.errors.KeyringLocked("the keyring is locked")
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.fail:
            raise keyring.errors.PasswordSetError("the keyring is locked")
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # restored after the test
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def options(auth: dict[str, Any], graph: FakeGraph | None = None, **more: Any) -> OutlookOptions:
    settings = {"auth": auth, "timeout": 5, **more}
    if graph is not None:
        settings["endpoint"] = graph.url
    return OutlookOptions.model_validate(settings, context={"base_dir": Path("/profiles")})


DELEGATED = {"client_id": CLIENT_ID, "tenant": TENANT}
IN_FILE = f"{{client_id: {CLIENT_ID}, token_file: t.json}}"  # a profile's auth
IN_KEYRING = f"{{client_id: {CLIENT_ID}, keyring: true}}"


def profile_file(tmp_path: Path, auth: str, extra: str = "") -> Path:
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        f"version: 1\ncalendars:\n  work:\n    driver: outlook\n    auth: {auth}\n{extra}"
        "pairs: []\n"
    )
    return profile


def sign_in(profile: Path, *args: str, input: str | None = None) -> click.testing.Result:
    cli = click.Group("syncfw")
    outlook_plugin.syncfw_register_commands(cli)
    result = CliRunner().invoke(cli, ["auth", "outlook", str(profile), *args], input=input)
    assert not secrets_in(result.output)
    return result


# -- the protocol --------------------------------------------------------------------


def test_protocol_starts_at_the_endpoint_in_utc() -> None:
    protocol = graph_protocol(options({"token": STATIC}, endpoint="http://127.0.0.1:9/graph"))
    assert protocol.service_url == "http://127.0.0.1:9/graph/v1.0/"
    assert protocol.default_resource == "me" and str(protocol.timezone) == "UTC"
    assert protocol.keyword_data_store["prefer_timezone_header"] == 'outlook.timezone="UTC"'
    other = graph_protocol(options({"token": STATIC}, user="bob@contoso.example"))
    assert other.service_url == "https://graph.microsoft.com/v1.0/"
    assert other.default_resource == "bob@contoso.example"


# -- a static token ------------------------------------------------------------------


def test_static_token_signs_requests(graph: FakeGraph) -> None:
    graph.valid.add(STATIC)
    con = build_connection(options({"token": STATIC}, graph), "work")
    assert isinstance(con, Connection) and (con.request_retries, con.requests_delay) == (0, 0)
    assert con.get(graph.calendars).json() == {"value": []}
    assert graph.seen == [f"Bearer {STATIC}"]
    assert STATIC not in repr(con.token_backend)


def test_static_token_401_is_an_http_error_without_a_refresh(
    graph: FakeGraph, entra: FakeEntra
) -> None:
    con = build_connection(options({"token": STATIC}, graph), "work")
    with pytest.raises(requests.HTTPError) as caught:
        con.get(graph.calendars)
    assert caught.value.response is not None and caught.value.response.status_code == 401
    assert graph.seen == [f"Bearer {STATIC}"]  # one request: no refresh, no loop
    assert entra.grants == []


# -- delegated: where the token lives ------------------------------------------------


@pytest.mark.parametrize("place", [{"token_file": "t.json"}, {"keyring": True}])
def test_delegated_without_a_token_says_what_to_run(
    place: dict[str, Any], memory_keyring: MemoryKeyring
) -> None:
    with pytest.raises(AuthError, match=r"no Outlook token in .*run `syncfw auth outlook PROFILE`"):
        build_connection(options({**DELEGATED, **place}), "work", profile="shop")


def test_unusable_token_file_is_reported_without_its_text(tmp_path: Path) -> None:
    token_file = tmp_path / "t.json"
    token_file.write_text(f"not json {REFRESH}")
    with pytest.raises(AuthError) as caught:
        build_connection(options({**DELEGATED, "token_file": str(token_file)}), "work")
    assert "unusable Outlook token" in str(caught.value) and not secrets_in(str(caught.value))


def test_missing_keyring_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    with pytest.raises(AuthError, match=r"install syncfw-outlook\[keyring\]"):
        build_connection(options({**DELEGATED, "keyring": True}), "work", profile="shop")


# -- delegated: signing in -----------------------------------------------------------


def test_device_code_sign_in_writes_a_private_token_file(
    tmp_path: Path, entra: FakeEntra, graph: FakeGraph
) -> None:
    profile = profile_file(tmp_path, f"{{client_id: {CLIENT_ID}, token_file: tokens/work.json}}")
    result = sign_in(profile)
    assert result.exit_code == 0, result.output
    token_file = tmp_path / "tokens" / "work.json"
    assert "enter the code ABCD-EFGH" in result.output
    assert f"work: token stored in {token_file} (mode 0600)" in result.output
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [p.name for p in token_file.parent.iterdir()] == ["work.json"]  # no temp left
    assert entra.grants[-1]["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    assert "https://graph.microsoft.com/Calendars.ReadWrite" in entra.scope.split()
    assert "offline_access" in entra.scope.split()  # MSAL adds it: the refresh token
    graph.valid.add(OLD)
    con = build_connection(options({**DELEGATED, "token_file": str(token_file)}, graph), "work")
    con.get(graph.calendars)
    assert graph.seen == [f"Bearer {OLD}"] and con.username == USER


def test_sign_in_skips_calendars_that_need_none(
    tmp_path: Path, entra: FakeEntra, memory_keyring: MemoryKeyring
) -> None:
    static = "  other:\n    driver: outlook\n    auth: {token: x}\n"
    profile = profile_file(tmp_path, IN_KEYRING, static)
    result = sign_in(profile)
    assert result.exit_code == 0, result.output
    assert "other: no sign-in needed" in result.output
    assert "work: token stored in the system keyring" in result.output
    assert "(mode 0600)" not in result.output
    saved = json.loads(memory_keyring.items[(KEYRING_SERVICE, "shop:work")])
    assert {t["secret"] for t in saved["RefreshToken"].values()} == {REFRESH}
    assert sign_in(profile, "--calendar", "other").exit_code == 1  # nothing to sign in


def test_authorization_flow_with_a_pasted_url(
    tmp_path: Path, entra: FakeEntra, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls: list[str] = []
    real = Connection.get_authorization_url

    def recording(self: Connection, *args: Any, **kwargs: Any) -> Any:
        url, flow = real(self, *args, **kwargs)
        urls.append(url)
        return url, flow

    prompts: list[str] = []

    def prompt(text: str, **kwargs: Any) -> str:
        prompts.append(text)
        return entra.browser(urls[-1])  # the user signs in and copies the address

    monkeypatch.setattr(Connection, "get_authorization_url", recording)
    monkeypatch.setattr(click, "prompt", prompt)
    profile = profile_file(tmp_path, IN_KEYRING)
    result = sign_in(profile, "--flow", "authorization")
    assert result.exit_code == 0, result.output
    assert urls[0] in result.output and "/oauth2/v2.0/authorize?" in urls[0]
    assert "oauth2/nativeclient" in prompts[0]
    assert entra.grants[-1]["grant_type"] == "authorization_code"
    assert (KEYRING_SERVICE, "shop:work") in memory_keyring.items


def test_a_refused_consent_is_reported(
    tmp_path: Path, entra: FakeEntra, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = "https://login.microsoftonline.com/common/oauth2/nativeclient?error=access_denied"
    monkeypatch.setattr(click, "prompt", lambda text, **kwargs: refused)
    profile = profile_file(tmp_path, IN_FILE)
    result = sign_in(profile, "--flow", "authorization")
    assert result.exit_code == 1 and "work: sign-in failed: access_denied" in result.output
    assert not (tmp_path / "t.json").exists()


# -- delegated: a refresh is saved back ----------------------------------------------


def test_refreshed_token_is_saved_back_to_the_file(
    tmp_path: Path, entra: FakeEntra, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    entra.expires_in = -60  # signed in an hour ago: the access token has expired
    profile = profile_file(tmp_path, IN_FILE)
    assert sign_in(profile).exit_code == 0
    token_file = tmp_path / "t.json"
    opts = options({**DELEGATED, "token_file": str(token_file)}, graph)
    graph.valid.add(FRESH)
    with caplog.at_level(logging.DEBUG):
        assert build_connection(opts, "work").get(graph.calendars).status_code == 200
    assert [g["grant_type"] for g in entra.grants[1:]] == ["refresh_token"]
    assert graph.seen[-1] == f"Bearer {FRESH}" and len(graph.seen) == 2
    saved = json.loads(token_file.read_text())
    assert {t["secret"] for t in saved["AccessToken"].values()} == {FRESH}
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["shop.yaml", "t.json"]
    build_connection(opts, "work").get(graph.calendars)  # the next run: no refresh
    assert len(entra.grants) == 2 and graph.seen[-1] == f"Bearer {FRESH}"
    assert all(not secrets_in(r.getMessage()) for r in caplog.records)


def test_refreshed_token_is_saved_back_to_the_keyring(
    tmp_path: Path, entra: FakeEntra, graph: FakeGraph, memory_keyring: MemoryKeyring
) -> None:
    entra.expires_in = -60
    assert sign_in(profile_file(tmp_path, IN_KEYRING)).exit_code == 0
    graph.valid.add(FRESH)
    opts = options({**DELEGATED, "keyring": True}, graph)
    build_connection(opts, "work", profile="shop").get(graph.calendars)
    saved = json.loads(memory_keyring.items[(KEYRING_SERVICE, "shop:work")])
    assert {t["secret"] for t in saved["AccessToken"].values()} == {FRESH}


def test_a_failed_save_back_warns_and_the_run_goes_on(
    tmp_path: Path,
    entra: FakeEntra,
    graph: FakeGraph,
    memory_keyring: MemoryKeyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entra.expires_in = -60
    assert sign_in(profile_file(tmp_path, IN_KEYRING)).exit_code == 0
    graph.valid.add(FRESH)
    con = build_connection(options({**DELEGATED, "keyring": True}, graph), "work", "shop")
    memory_keyring.fail = True
    with caplog.at_level(logging.DEBUG):
        assert con.get(graph.calendars).status_code == 200
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "could not save the refreshed Outlook token to the system keyring" in warning
    assert "(AuthError)" in warning
    assert all(not secrets_in(r.getMessage()) for r in caplog.records)


def test_a_refused_refresh_says_to_sign_in_again(
    tmp_path: Path, entra: FakeEntra, graph: FakeGraph
) -> None:
    entra.expires_in = -60
    assert sign_in(profile_file(tmp_path, IN_FILE)).exit_code == 0
    entra.refused = "invalid_grant"  # revoked, or unused for 90 days
    opts = options({**DELEGATED, "token_file": str(tmp_path / "t.json")}, graph)
    with pytest.raises(AuthError) as caught:
        build_connection(opts, "work").get(graph.calendars)
    text = str(caught.value)
    assert "could not be refreshed (Refresh token operation failed: invalid_grant)" in text
    assert "run `syncfw auth outlook PROFILE` to sign in again" in text
    assert f"in {tmp_path / 't.json'}" in text and not secrets_in(text)


# -- application access --------------------------------------------------------------


def test_app_auth_with_a_secret_asks_for_a_token_on_first_use(
    tmp_path: Path, entra: FakeEntra, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # O365's default backend would write o365_token.txt here
    graph.valid.add(APP)
    app = {**DELEGATED, "client_secret": CLIENT_SECRET}
    con = build_connection(options(app, graph, user=USER), "work")
    assert entra.grants == []  # nothing asked yet
    con.get(graph.url + f"v1.0/users/{USER}/calendars")
    con.get(graph.url + f"v1.0/users/{USER}/calendars")
    assert graph.seen == [f"Bearer {APP}"] * 2
    [grant] = entra.grants  # one token, reused from memory
    assert grant["grant_type"] == "client_credentials"
    assert grant["client_secret"] == CLIENT_SECRET
    assert grant["scope"] == "https://graph.microsoft.com/.default"
    assert list(tmp_path.iterdir()) == []  # in memory only


def test_app_auth_with_a_certificate(
    tmp_path: Path, entra: FakeEntra, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("cryptography", reason="a certificate needs the cryptography package")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncfw test")])
    now = datetime.now(UTC)
    builder = x509.CertificateBuilder(
        issuer_name=name,
        subject_name=name,
        public_key=key.public_key(),
        serial_number=1,
        not_valid_before=now,
        not_valid_after=now + timedelta(days=1),
    )
    cert = builder.sign(key, hashes.SHA256())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    (tmp_path / "app.pem").write_text(pem)
    sha1 = cert.fingerprint(hashes.SHA1())  # Entra ID's thumbprint
    thumbprint = ":".join(f"{b:02X}" for b in sha1)  # as openssl prints it

    credentials: list[Any] = []
    real_init = msal.ConfidentialClientApplication.__init__

    def spy(self: Any, client_id: str, client_credential: Any = None, **kwargs: Any) -> None:
        credentials.append(client_credential)
        real_init(self, client_id, client_credential=client_credential, **kwargs)

    monkeypatch.setattr(msal.ConfidentialClientApplication, "__init__", spy)
    graph.valid.add(APP)
    app = {**DELEGATED, "certificate": str(tmp_path / "app.pem"), "thumbprint": thumbprint}
    build_connection(options(app, graph), "work").get(graph.calendars)
    assert credentials == [{"private_key": pem, "thumbprint": sha1.hex().upper()}]
    assert graph.seen == [f"Bearer {APP}"]
    grant = entra.grants[0]
    assert "client_secret" not in grant
    header = json.loads(base64.urlsafe_b64decode(grant["client_assertion"].split(".")[0] + "=="))
    assert header["x5t"].rstrip("=") == b64url(sha1)  # signed with the certificate's key


def test_a_refused_app_token_names_tenant_and_client_not_the_secret(
    entra: FakeEntra, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    entra.refused = "invalid_client"
    app = {**DELEGATED, "client_secret": CLIENT_SECRET}
    con = build_connection(options(app, graph), "work")
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as caught:
        con.get(graph.calendars)
    text = str(caught.value)
    assert f"client {CLIENT_ID} in tenant {TENANT}" in text and "invalid_client" in text
    assert "client secret is current" in text and not secrets_in(text)
    assert graph.seen == []  # no request without a token
    assert all(not secrets_in(r.getMessage()) for r in caplog.records)


def test_an_unreadable_certificate_is_an_auth_error(tmp_path: Path) -> None:
    app = {**DELEGATED, "certificate": str(tmp_path / "gone.pem"), "thumbprint": "AB"}
    with pytest.raises(AuthError, match=r"cannot read the certificate .*gone\.pem"):
        build_connection(options(app), "work")


# -- never shown: O365's logging -----------------------------------------------------


def test_o365_debug_records_hide_the_bearer_token_and_client_errors_are_debug(
    graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    con = build_connection(options({"token": STATIC}, graph), "work")
    with caplog.at_level(logging.DEBUG), pytest.raises(requests.HTTPError):
        con.get(graph.calendars)  # 401
    o365 = [r for r in caplog.records if r.name.startswith("O365")]
    assert any("Bearer ***" in r.getMessage() for r in o365)  # the session headers
    assert all(not secrets_in(r.getMessage()) for r in caplog.records)
    [client_error] = [r for r in o365 if r.getMessage().startswith("Client Error:")]
    assert client_error.levelno == logging.DEBUG and client_error.levelname == "DEBUG"
    caplog.clear()
    with caplog.at_level(logging.INFO), pytest.raises(requests.HTTPError):
        con.get(graph.calendars)
    assert [r for r in caplog.records if r.name.startswith("O365")] == []  # not shown at INFO


def test_quiet_logging_is_installed_once() -> None:
    outlook_auth.quiet_o365_logging()
    outlook_auth.quiet_o365_logging()
    filters = logging.getLogger("O365.connection").filters
    assert [type(f).__name__ for f in filters].count("_QuietO365") == 1


@pytest.mark.parametrize(
    "text",
    [
        f"{{'access_token': '{OLD}', 'refresh_token': '{REFRESH}'}}",
        f'{{"access_token": "{OLD}", "client_secret": "{CLIENT_SECRET}"}}',
        f"grant_type=refresh_token&refresh_token={REFRESH}&client_secret={CLIENT_SECRET}",
        f"{{'Authorization': 'Bearer {FRESH}'}}",
        "token eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln in passing",
    ],
)
def test_token_looking_values_are_redacted(text: str) -> None:
    clean = outlook_auth._redact(text)
    assert not secrets_in(clean) and "eyJzdWIiOiJ4In0" not in clean and "***" in clean


# -- the profile ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({**DELEGATED, "token_file": "t.json", "keyring": True}, "not both"),
        (DELEGATED, "token_file: FILE or keyring: true"),
        ({"client_id": CLIENT_ID, "tenant": "common", "client_secret": "s"}, "not 'common'"),
        (
            {**DELEGATED, "client_secret": "s", "certificate": "c.pem", "thumbprint": "AB"},
            "client_secret or certificate, not both",
        ),
        ({**DELEGATED, "certificate": "c.pem"}, "a certificate needs its thumbprint"),
        ({"tenant": TENANT}, "auth needs token, or client_id"),
    ],
)
def test_invalid_auth_is_a_validation_error(auth: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        OutlookOptions.model_validate({"auth": auth})
    assert message in str(caught.value)


def test_outlook_and_google_share_the_auth_group() -> None:
    google_plugin = pytest.importorskip("syncfw_google.plugin")
    cli = click.Group("syncfw")
    outlook_plugin.syncfw_register_commands(cli)
    google_plugin.syncfw_register_commands(cli)
    group = cli.commands["auth"]
    assert isinstance(group, click.Group) and set(group.commands) == {"google", "outlook"}
