"""The distribution's wiring: entry point, driver registration, ``syncfw auth google``."""

from __future__ import annotations

import stat
from pathlib import Path

import click
from click.testing import CliRunner

from syncfw.sdk.driver import Driver
from syncfw_google import GoogleDriver
from syncfw_google import plugin as google_plugin
from syncfw_google.auth import FileTokenStore


def test_plugin_registers_the_driver() -> None:
    found: list[type[Driver]] = []
    google_plugin.syncfw_register_drivers(found.append)
    assert found == [GoogleDriver] and GoogleDriver.name == "google"


def test_auth_command_joins_an_existing_auth_group() -> None:
    cli = click.Group("syncfw")
    google_plugin.syncfw_register_commands(cli)
    group = cli.commands["auth"]
    assert isinstance(group, click.Group) and "google" in group.commands
    other = click.Group("syncfw")
    other.add_command(click.Group("auth", commands={"outlook": click.Command("outlook")}))
    google_plugin.syncfw_register_commands(other)
    assert set(other.commands["auth"].commands) == {"outlook", "google"}  # type: ignore[attr-defined]


def test_auth_refuses_a_profile_without_oauth_calendars(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "version: 1\ncalendars:\n  g: {driver: google, auth: {token: t}}\npairs: []\n"
    )
    cli = click.Group("syncfw")
    google_plugin.syncfw_register_commands(cli)
    result = CliRunner().invoke(cli, ["auth", "google", str(profile)])
    assert result.exit_code != 0
    assert "no Google calendar with auth" in result.output


def test_token_file_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "tokens" / "google.json"
    FileTokenStore(target).save('{"token": "a"}')
    FileTokenStore(target).save('{"token": "b"}')
    assert target.read_text() == '{"token": "b"}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["google.json"]
