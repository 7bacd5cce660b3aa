"""Profiles: every error a bad profile gives names the file, the line and the key to fix.

Why a module of its own: the error paths outnumber the happy ones; the probe drivers, the
`plugins`/`load` fixtures and the GOOD/COPY sample profiles are shared from test_profile.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syncfw.config.loader import load_profile
from syncfw.errors import ProfileError, ProfileErrors
from syncfw.hooks.manager import Plugins
from syncfw.markers import hookimpl
from syncfw.model import Person
from syncfw.sdk.driver import Driver

from . import test_profile as shared
from .test_profile import COPY, GOOD, PlainDriver, error_of

# The fixtures shared with test_profile.py; pytest finds them here by these module names.
plugins = shared.plugins
load = shared.load


def test_a_pydantic_error_names_file_line_and_key_path(load, tmp_path: Path) -> None:
    err = error_of(load, GOOD + "    window:\n      past_days: 1\n      future_days: -1\n")
    assert str(err) == (
        f"{tmp_path / 'profile.yaml'}:12: pairs[0].window.future_days: "
        "Input should be greater than or equal to 0"
    )
    assert (err.line, err.key) == (12, "pairs[0].window.future_days")


@pytest.mark.parametrize(
    ("extra", "line", "key", "hint"),
    [
        ("    colour: red\n", 10, "pairs[0].colour", "valid keys here: name, source, target"),
        ("    line: 3\n", 10, "pairs[0].line", "valid keys here: name, source"),
        (
            "    window: {future_dayz: 3}\n",
            10,
            "pairs[0].window.future_dayz",
            "did you mean 'future_days'? valid keys here: past_days, future_days",
        ),
        ("colour: red\n", 10, "colour", "valid keys here: calendars, pairs, persons, state"),
    ],
)
def test_unknown_keys_list_the_valid_ones(load, extra, line, key, hint) -> None:
    err = error_of(load, GOOD + extra)
    assert err.message == f"unknown key {key.rsplit('.', 1)[-1]!r}"
    assert (err.line, err.key) == (line, key)
    assert hint in err.hint


def test_a_choice_lists_the_choices(load) -> None:
    err = error_of(load, GOOD + "    recurrence: {mode: sometimes}\n")
    assert (err.line, err.key) == (10, "pairs[0].recurrence.mode")
    assert err.message == "invalid choice 'sometimes'"
    assert err.hint == "choose one of: expand, series"


def test_duplicate_keys_are_an_error(load) -> None:
    err = error_of(load, GOOD + "    source: master\n")
    assert (err.line, err.key) == (10, "pairs[0].source")
    assert err.message == "duplicate key 'source' (first at line 8)"


def test_yaml_syntax_errors_point_at_the_line(load, tmp_path: Path) -> None:
    err = error_of(load, "version: 1\ncalendars: {a: [1, 2}\npairs: []\n")
    assert (err.file, err.line) == (str(tmp_path / "profile.yaml"), 2)
    assert err.message.startswith("invalid YAML: ")
    err = error_of(load, "version: 1\n\tpairs: []\n")
    assert err.line == 2 and "tabs" in err.hint


def test_a_missing_variable_is_an_error_not_an_empty_string(load, monkeypatch) -> None:
    monkeypatch.delenv("SYNCFW_T_UNSET", raising=False)
    err = error_of(load, GOOD.replace("label: jobs", "label: 'x${SYNCFW_T_UNSET}'"))
    assert (err.line, err.key) == (3, "calendars.jobs.label")
    assert err.message == "environment variable 'SYNCFW_T_UNSET' is not set"


def test_a_missing_variable_hides_follow_up_errors(load, monkeypatch) -> None:
    monkeypatch.delenv("SYNCFW_T_UNSET", raising=False)
    err = error_of(load, GOOD.replace("out/master.ics", "x, create: '${SYNCFW_T_UNSET}'"))
    assert not isinstance(err, ProfileErrors)  # not also "Input should be a valid boolean"
    assert err.key == "calendars.master.create" and "SYNCFW_T_UNSET" in err.message


def test_secrets_are_not_echoed_in_errors(load, monkeypatch) -> None:
    monkeypatch.setenv("SYNCFW_T_SHORT", "abc")
    err = error_of(load, GOOD.replace("out/master.ics", "x, mode: '${SYNCFW_T_SHORT}'"))
    assert err.message == "invalid choice"  # too short to redact, so not shown at all

    monkeypatch.setenv("SYNCFW_T_SECRET", "hunter2-very-secret")
    err = error_of(
        load,
        GOOD.replace("path: out/master.ics", "path: x, mode: '${SYNCFW_T_SECRET}'")
        + "    policy: ${SYNCFW_T_SECRET}\n",
    )
    text = str(err)
    assert "hunter2" not in text
    assert "calendars.master.mode: invalid choice" in text
    assert "unknown policy '${SYNCFW_T_SECRET}'" in text


def test_calendar_driver_missing_or_unknown(load) -> None:
    err = error_of(load, GOOD.replace("{driver: plain, label: jobs}", "{label: jobs}"))
    assert (err.line, err.key, err.message) == (3, "calendars.jobs", "missing key 'driver'")
    assert "installed drivers: " in err.hint and "plain, probe" in err.hint
    err = error_of(load, GOOD.replace("driver: plain", "driver: nope"))
    assert (err.line, err.key, err.message) == (3, "calendars.jobs.driver", "unknown driver 'nope'")
    names = err.hint.split(": ", 1)[1].split(";")[0].split(", ")
    assert names == sorted(names) and "probe" in names


def test_driver_option_errors_point_at_the_option(load) -> None:
    block = "master:\n    driver: probe\n    path: out/m.ics\n    create: maybe"
    err = error_of(load, GOOD.replace("master: {driver: probe, path: out/master.ics}", block))
    assert (err.line, err.key) == (7, "calendars.master.create")
    assert err.message == "Input should be a valid boolean, unable to interpret input"
    err = error_of(load, GOOD.replace("path: out/master.ics", "auth: {tokn: x}"))
    text = str(err)
    assert "profile.yaml:4: calendars.master: missing key 'path'" in text
    assert (
        "profile.yaml:4: calendars.master.auth.tokn: unknown key 'tokn' (did you mean 'token'"
        in text
    )


def test_pair_references_are_checked(load) -> None:
    text = str(
        error_of(
            load,
            GOOD.replace("target: master", "target: mastr\n    policy: push")
            + "  - {name: jobs-to-master, source: jobs, target: jobs}\n",
        )
    )
    assert "pairs[0].target: 'mastr' is not a calendar (calendars: jobs, master)" in text
    assert "pairs[0].policy: unknown policy 'push'" in text
    assert all(name in text for name in ("master-push", "open-pull-close-push", "two-way"))
    assert ":11: pairs[1].name: pair name 'jobs-to-master' is used twice (first at line 7)" in text
    assert "pairs[1].target: source and target are the same calendar" in text


def test_persons_from_must_name_a_calendar(load) -> None:
    err = error_of(load, GOOD.replace("{from: jobs}", "{from: crm}"))
    assert (err.line, err.key, err.message) == (5, "persons.from", "'crm' is not a calendar")


def test_persons_list_is_checked(load) -> None:
    text = str(
        error_of(
            load,
            GOOD.replace(
                "{from: jobs}",
                "\n  - {name: A, email: nope}\n"
                "  - {name: B, email: b@x.org}\n  - {name: C, email: B@x.org}",
            ),
        )
    )
    assert ":6: persons[0].email: 'nope' is not an email address" in text
    assert ":8: persons[2].email: 'B@x.org' is listed twice (first at line 7)" in text


def test_filters_are_one_key_mappings(load) -> None:
    err = error_of(load, GOOD + "    filters: [{type: a, category: b}]\n")
    assert (err.line, err.key) == (10, "pairs[0].filters[0]")
    assert "exactly one key" in err.message


@pytest.mark.parametrize("version", ["", "version: 2\n", "version: '1'\n"])
def test_version_must_be_supported(load, version) -> None:
    err = error_of(load, version + GOOD.replace("version: 1\n", ""))
    assert "supported versions: 1" in err.hint
    assert err.message in ("missing key 'version'", f"unsupported profile version {version[9:-1]}")


def test_several_errors_are_reported_at_once(load, tmp_path: Path) -> None:
    err = error_of(
        load, GOOD.replace("driver: plain", "driver: nope") + "    interval_minutes: 0\n"
    )
    assert isinstance(err, ProfileErrors) and len(err.errors) == 2
    assert (err.line, err.key) == (3, "calendars.jobs.driver")  # the first one's
    lines = str(err).splitlines()
    assert lines[0].startswith(f"{tmp_path / 'profile.yaml'}:3: calendars.jobs.driver: ")
    assert lines[1].endswith(":10: pairs[0].interval_minutes: Input should be greater than 0")


def test_unusable_files(load, tmp_path: Path, plugins: Plugins) -> None:
    with pytest.raises(ProfileError, match="no such file") as info:
        load_profile(tmp_path / "missing.yaml", plugins)
    assert info.value.file == str(tmp_path / "missing.yaml")
    assert error_of(load, "").message == "the profile is empty"
    err = error_of(load, "- version: 1\n")
    assert err.message == "the top level must be a mapping of keys" and err.line == 1


def test_a_self_referencing_alias_is_an_error_not_a_crash(load) -> None:
    err = error_of(load, GOOD + "    filters: &f [{type: *f}]\n")
    assert err.message == "an alias refers to itself" and err.line == 10


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Input should be greater than 0"),
        ("-1", "Input should be greater than 0"),
        ("true", "expected a number of minutes, e.g. 15 or 0.5"),
        (".inf", "Input should be a finite number"),
        ("soon", "Input should be a valid number, unable to parse string as a number"),
    ],
)
def test_interval_minutes_must_be_a_positive_number(load, value, message) -> None:
    err = error_of(load, GOOD + f"    interval_minutes: {value}\n")
    assert (err.line, err.key, err.message) == (10, "pairs[0].interval_minutes", message)


def test_copy_fan_out_needs_a_calendar_template(load) -> None:
    err = error_of(load, COPY)
    assert (err.line, err.key) == (11, "pairs[0].attendees.fan_out")
    assert err.message.startswith("fan_out: copy needs attendees.calendar")
    assert "driver: ics" in err.hint
    # With invite, no template is needed.
    assert load(COPY.replace("copy", "invite")).pairs[0].attendees.calendar is None


@pytest.mark.parametrize(
    ("template", "line", "key", "message"),
    [
        ("{path: x}", 12, "pairs[0].attendees.calendar", "missing key 'driver'"),
        ("{driver: nope}", 12, "pairs[0].attendees.calendar.driver", "unknown driver 'nope'"),
        ("{driver: probe}", 12, "pairs[0].attendees.calendar", "missing key 'path'"),
        (
            "\n        driver: probe\n        path: p/{local}\n        mode: '{email}'",
            15,
            "pairs[0].attendees.calendar.mode",
            "invalid choice 'person@example.com'",  # filled in with the sample person
        ),
        (
            "{driver: probe, path: 'people/{mail}.ics'}",
            12,
            "pairs[0].attendees.calendar.path",
            "unknown placeholder {mail}",
        ),
        (
            "{driver: probe, path: p, auth: {token: a, tokn: '{email}'}}",
            12,
            "pairs[0].attendees.calendar.auth.tokn",
            "unknown key 'tokn'",
        ),
    ],
)
def test_the_calendar_template_is_checked_at_its_line(load, template, line, key, message) -> None:
    err = error_of(load, COPY + f"      calendar: {template}\n")
    assert (err.line, err.key, err.message) == (line, key, message)


def test_a_template_driver_must_write(load, plugins: Plugins) -> None:
    class ReadOnly(Driver):
        name = "readonly"
        capabilities = PlainDriver.capabilities.__class__(write=False)

    class ReadOnlyPlugin:
        @hookimpl
        def syncfw_register_drivers(self, register):
            register(ReadOnly)

    plugins.register(ReadOnlyPlugin())
    err = error_of(load, COPY + "      calendar: {driver: readonly}\n")
    assert (err.key, err.message) == (
        "pairs[0].attendees.calendar.driver",
        "driver 'readonly' cannot write",
    )


def test_person_calendar_errors_name_the_person(load) -> None:
    profile = load(GOOD)
    with pytest.raises(ProfileError, match=r"attendees\.calendar is not set"):
        profile.pairs[0].person_calendar(Person("A", "a@x.org"), profile.base_dir)
    # The load checks the template with a sample person only; a value that fails for
    # one real person is reported with that person when the engine asks for it.
    pair = load(COPY + "      calendar: {driver: probe, path: p}\n").pairs[0]
    template = {"driver": "probe", "path": "p", "mode": "{local}"}
    attendees = pair.attendees.model_copy(update={"calendar": template})
    pair = pair.model_copy(update={"attendees": attendees})
    assert pair.person_calendar(Person("F", "file@x.org"), profile.base_dir)[1].mode == "file"
    with pytest.raises(ProfileError, match=r"for ann@x.org: mode: Input should be 'file' or 'dir'"):
        pair.person_calendar(Person("Ann", "ann@x.org"), profile.base_dir)
