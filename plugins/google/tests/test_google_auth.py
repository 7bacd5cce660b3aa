"""OAuth tokens: kept in a 0600 file or the system keyring, saved back after a refresh,
never shown in a log record or an error message."""

from __future__ import annotations

import json
import logging
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import keyring
import keyring.backend
import keyring.errors
import pytest
from click.testing import CliRunner
from google.oauth2 import credentials as user_credentials

from syncfw.config.loader import load_profile
from syncfw.errors import AuthError, ProfileError
from syncfw_google import plugin as google_plugin
from syncfw_google.auth import (
    KEYRING_SERVICE,
    FileTokenStore,
    KeyringTokenStore,
    token_store,
)
from syncfw_google.options import GoogleOptions, OAuthAuth
from syncfw_google.transport import load_credentials

OLD = "ya29.old-access-SECRET"
FRESH = "ya29.fresh-access-SECRET"
REFRESH = "1//refresh-SECRET"
CLIENT_SECRET = "client-SECRET"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as google-auth keeps expiry


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
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # restored after the test
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Google's token endpoint, mocked: a refresh sets FRESH, valid for an hour."""
    calls: list[str] = []

    def refresh(self: user_credentials.Credentials, request: Any) -> None:
        calls.append(self.refresh_token or "")
        self.token = FRESH
        self.expiry = utcnow() + timedelta(hours=1)

    monkeypatch.setattr(user_credentials.Credentials, "refresh", refresh)
    return calls


def token_json(token: str = OLD, expired: bool = True) -> str:
    expiry = utcnow() + timedelta(hours=-1 if expired else 1)
    return json.dumps(
        {
            "token": token,
            "refresh_token": REFRESH,
            "client_id": "client.apps.googleusercontent.com",
            "client_secret": CLIENT_SECRET,
            "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


def options(auth: dict[str, Any], base: Path) -> GoogleOptions:
    return GoogleOptions.model_validate({"auth": auth}, context={"base_dir": base})


def use(creds: Any) -> dict[str, str]:
    """What AuthorizedHttp does before each request: refresh when expired, then sign."""
    headers: dict[str, str] = {}
    creds.before_request(object(), "GET", "https://example.invalid/", headers)
    return headers


def secrets_in(text: str) -> list[str]:
    return [s for s in (OLD, FRESH, REFRESH, CLIENT_SECRET) if s in text]


# -- where the token lives -------------------------------------------------------------


def test_keyring_store_saves_and_loads_under_the_service(memory_keyring: MemoryKeyring) -> None:
    auth = OAuthAuth(client_secrets=Path("c.json"), keyring=True)
    store = token_store(auth, "shop", "google")
    assert isinstance(store, KeyringTokenStore) and store.load() is None
    store.save(token_json())
    assert memory_keyring.items == {(KEYRING_SERVICE, "shop:google"): token_json()}
    assert store.load() == token_json()
    assert "shop:google" in store.where and OLD not in store.where


def test_file_store_is_chosen_for_token_file(tmp_path: Path) -> None:
    auth = OAuthAuth(client_secrets=tmp_path / "c.json", token_file=tmp_path / "t.json")
    store = token_store(auth, "shop", "google")
    assert store == FileTokenStore(tmp_path / "t.json") and store.load() is None


def test_driver_reads_the_token_from_the_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.items[(KEYRING_SERVICE, "shop:google")] = token_json(expired=False)
    opts = options({"client_secrets": "c.json", "keyring": True}, Path("/p"))
    creds = load_credentials(opts, "google", profile="shop")
    assert creds.valid and use(creds)["authorization"] == f"Bearer {OLD}"
    with pytest.raises(AuthError, match=r"no Google token in the system keyring.*shop:other"):
        load_credentials(opts, "other", profile="shop")


# -- a refresh is saved back -----------------------------------------------------------


def test_refreshed_token_is_saved_back_to_the_keyring(
    memory_keyring: MemoryKeyring, refreshes: list[str]
) -> None:
    memory_keyring.items[(KEYRING_SERVICE, "shop:google")] = token_json(expired=True)
    opts = options({"client_secrets": "c.json", "keyring": True}, Path("/p"))
    creds = load_credentials(opts, "google", profile="shop")
    assert not creds.valid
    assert use(creds)["authorization"] == f"Bearer {FRESH}"
    saved = json.loads(memory_keyring.items[(KEYRING_SERVICE, "shop:google")])
    assert saved["token"] == FRESH and saved["refresh_token"] == REFRESH
    again = load_credentials(opts, "google", profile="shop")  # the next run
    assert again.valid and use(again)["authorization"] == f"Bearer {FRESH}"
    assert refreshes == [REFRESH]  # one refresh for both runs


def test_refreshed_token_is_saved_back_to_the_private_file(
    tmp_path: Path, refreshes: list[str]
) -> None:
    token_file = tmp_path / "tokens" / "google.json"
    FileTokenStore(token_file).save(token_json(expired=True))
    opts = options({"client_secrets": "c.json", "token_file": "tokens/google.json"}, tmp_path)
    use(load_credentials(opts, "google", profile="shop"))
    assert json.loads(token_file.read_text())["token"] == FRESH
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [p.name for p in token_file.parent.iterdir()] == ["google.json"]  # no temp left
    assert load_credentials(opts, "google", profile="shop").valid
    assert len(refreshes) == 1


def test_a_failed_save_back_warns_without_the_token(
    memory_keyring: MemoryKeyring, refreshes: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    memory_keyring.items[(KEYRING_SERVICE, "shop:google")] = token_json(expired=True)
    opts = options({"client_secrets": "c.json", "keyring": True}, Path("/p"))
    creds = load_credentials(opts, "google", profile="shop")
    memory_keyring.fail = True
    with caplog.at_level(logging.DEBUG):
        assert use(creds)["authorization"] == f"Bearer {FRESH}"  # the run goes on
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not save the refreshed Google token" in warnings[0]
    assert all(not secrets_in(r.getMessage()) for r in caplog.records)


# -- never shown ----------------------------------------------------------------------


def test_no_token_text_in_errors_or_logs(
    tmp_path: Path, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    opts = options({"client_secrets": "c.json", "keyring": True}, tmp_path)
    broken = [
        f"not json {OLD}",  # not JSON at all
        json.dumps([OLD, REFRESH]),  # JSON, not an object
        json.dumps({"token": OLD, "client_secret": CLIENT_SECRET}),  # fields missing
    ]
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for text in broken:
            memory_keyring.items[(KEYRING_SERVICE, "shop:google")] = text
            with pytest.raises(AuthError) as caught:
                load_credentials(opts, "google", profile="shop")
            messages.append(str(caught.value))
        memory_keyring.fail = True
        with pytest.raises(AuthError) as locked:
            load_credentials(opts, "google", profile="shop")
        messages.append(str(locked.value))
    assert "unusable Google token in the system keyring" in messages[0]
    assert "missing fields" in messages[2] and "KeyringLocked" in messages[3]
    assert all(not secrets_in(m) for m in messages)
    assert all(not secrets_in(r.getMessage()) for r in caplog.records)
    assert locked.value.__cause__ is None and locked.value.__suppress_context__


def test_missing_keyring_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    opts = options({"client_secrets": "c.json", "keyring": True}, Path("/p"))
    with pytest.raises(AuthError, match=r"install syncfw-google\[keyring\]"):
        load_credentials(opts, "google", profile="shop")


# -- the profile ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ("{client_secrets: c.json, token_file: t.json, keyring: true}", "not both"),
        ("{client_secrets: c.json}", "token_file: FILE or keyring: true"),
    ],
)
def test_exactly_one_place_for_the_token(tmp_path: Path, auth: str, message: str) -> None:
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        f"version: 1\ncalendars:\n  google:\n    driver: google\n    auth: {auth}\npairs: []\n"
    )
    with pytest.raises(ProfileError) as caught:
        load_profile(profile)
    text = str(caught.value)
    assert f"{profile}:5: calendars.google.auth" in text and message in text
    assert "missing key 'token'" not in text  # only the OAuth form is reported


def test_sign_in_writes_the_token_to_the_keyring(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google_auth_oauthlib.flow import InstalledAppFlow

    signed_in = user_credentials.Credentials.from_authorized_user_info(  # type: ignore[no-untyped-call]
        json.loads(token_json(expired=False))
    )

    class Flow:
        def run_local_server(self, **kwargs: Any) -> Any:
            assert kwargs["host"] == "127.0.0.1"
            return signed_in

    monkeypatch.setattr(
        InstalledAppFlow, "from_client_secrets_file", classmethod(lambda cls, path, scopes: Flow())
    )
    profile = tmp_path / "shop.yaml"
    profile.write_text(
        "version: 1\ncalendars:\n  google:\n    driver: google\n"
        "    auth: {client_secrets: c.json, keyring: true}\npairs: []\n"
    )
    cli = click.Group("syncfw")
    google_plugin.syncfw_register_commands(cli)
    result = CliRunner().invoke(cli, ["auth", "google", str(profile), "--no-browser"])
    assert result.exit_code == 0, result.output
    assert "token stored in the system keyring" in result.output and not secrets_in(result.output)
    saved = json.loads(memory_keyring.items[(KEYRING_SERVICE, "shop:google")])
    assert saved["token"] == OLD and saved["refresh_token"] == REFRESH
