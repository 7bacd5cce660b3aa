"""Profiles: every documented key, and every error pointing at the right line."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Literal

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict

from syncfw.driver import Driver, DriverOptions, resolve_path
from syncfw.errors import ProfileError
from syncfw.hookspecs import hookimpl
from syncfw.model import Person
from syncfw.plugins import Plugins
from syncfw.profile import (
    PairConfig,
    Profile,
    ProfileErrors,
    fill_placeholders,
    load_profile,
    person_calendar_options,
)


class Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    token: str


class ProbeDriver(Driver):
    """A driver with the option kinds real drivers use: a path, a choice, a nested model."""

    name = "probe"

    class Options(DriverOptions):
        path: Annotated[Path, AfterValidator(resolve_path)]
        create: bool = True
        mode: Literal["file", "dir"] = "file"
        password: str = ""
        auth: Auth | None = None


class PlainDriver(Driver):
    name = "plain"

    class Options(DriverOptions):
        label: str = "default"


class ProbePlugin:
    @hookimpl
    def syncfw_register_drivers(self, register):
        register(ProbeDriver)
        register(PlainDriver)

    @hookimpl
    def syncfw_register_policies(self, register):
        for name in ("master-push", "open-pull-close-push", "two-way"):
            register(SimpleNamespace(name=name))


@pytest.fixture
def plugins() -> Plugins:
    # The probe drivers have names of their own, so they sit beside the builtins without clashing.
    return Plugins(autoload=False, extra=[ProbePlugin()])


@pytest.fixture
def load(tmp_path: Path, plugins: Plugins):
    def load(text: str, name: str = "profile.yaml") -> Profile:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return load_profile(path, plugins)

    return load


def error_of(load, text: str) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        load(text)
    return info.value


GOOD = """
version: 1
calendars:
  jobs: {driver: plain, label: jobs}
  master: {driver: probe, path: out/master.ics}
persons: {from: jobs}
pairs:
  - name: jobs-to-master
    source: jobs
    target: master
"""


def test_a_minimal_profile_loads_with_every_default(load, tmp_path: Path) -> None:
    profile = load(GOOD)
    assert profile.path == tmp_path / "profile.yaml"
    assert profile.base_dir == tmp_path
    assert profile.version == 1
    assert profile.state_path == tmp_path / ".syncfw" / "profile.db"
    master = profile.calendars["master"]
    assert (master.name, master.driver, master.line) == ("master", "probe", 4)
    assert isinstance(master.options, ProbeDriver.Options)
    assert master.options.path == tmp_path / "out" / "master.ics"  # against the profile folder
    assert profile.calendars["jobs"].options.label == "jobs"
    assert profile.persons.source == "jobs" and profile.persons.persons == ()
    pair = profile.pair("jobs-to-master")
    assert isinstance(pair, PairConfig)
    assert (pair.source, pair.target, pair.line) == ("jobs", "master", 7)
    assert (pair.policy, pair.conflict) == ("master-push", "source-wins")
    assert (pair.window.past_days, pair.window.future_days) == (7, 90)
    assert (pair.recurrence.mode, pair.recurrence.horizon_days) == ("expand", 365)
    assert (pair.attendees.fan_out, pair.attendees.notify) == ("invite", "none")
    assert pair.attendees.keep_external is False
    assert pair.filters == [] and pair.transforms == [] and pair.interval_minutes == 15
    assert pair.attendees.calendar is None
    assert (pair.safety.max_delete_share, pair.safety.min_deletes) == (0.5, 10)


def test_every_key_is_read(load, tmp_path: Path) -> None:
    profile = load("""
        version: 1
        state: /var/lib/syncfw/state.db
        calendars:
          a: {driver: plain}
          b: {driver: probe, path: /srv/b.ics, create: false, mode: dir}
        persons:
          - {name: Ann, email: ann@example.com, aliases: [a@example.com], sync: false}
          - {name: Bob, email: bob@example.com}
        pairs:
          - name: two
            source: a
            target: b
            policy: two-way
            conflict: newest-wins
            window: {past_days: 0, future_days: 30}
            recurrence: {mode: series, horizon_days: 30}
            attendees:
              fan_out: copy
              notify: external
              keep_external: true
              calendar: {driver: probe, path: "people/{local}.ics"}
            filters: [{type: [appointment]}, {category: work}]
            transforms: [busy-only, {prefix-title: "[Job] "}]
            interval_minutes: 5
            safety: {max_delete_share: 1, min_deletes: 0}
    """)
    assert profile.state_path == Path("/var/lib/syncfw/state.db")
    b = profile.calendars["b"].options
    assert (b.path, b.create, b.mode) == (Path("/srv/b.ics"), False, "dir")
    assert profile.persons.source is None
    assert profile.persons.persons == (
        Person("Ann", "ann@example.com", ("a@example.com",), sync=False),
        Person("Bob", "bob@example.com"),
    )
    pair = profile.pairs[0]
    assert (pair.policy, pair.conflict, pair.interval_minutes) == ("two-way", "newest-wins", 5)
    assert (pair.window.past_days, pair.window.future_days) == (0, 30)
    assert (pair.recurrence.mode, pair.recurrence.horizon_days) == ("series", 30)
    assert (pair.attendees.fan_out, pair.attendees.notify) == ("copy", "external")
    assert pair.attendees.keep_external is True
    assert pair.attendees.calendar == {"driver": "probe", "path": "people/{local}.ics"}
    assert pair.filters == [{"type": ["appointment"]}, {"category": "work"}]
    assert pair.transforms == ["busy-only", {"prefix-title": "[Job] "}]
    assert (pair.safety.max_delete_share, pair.safety.min_deletes) == (1.0, 0)


def test_the_builtin_drivers_validate_their_options(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\ncalendars:\n  a: {driver: memory, name: jobs}\n"
        "  b: {driver: ics, path: out/b.ics, create: false}\n"
        "pairs: [{name: a-to-b, source: a, target: b}]\n"
    )
    profile = load_profile(path, Plugins(autoload=False))
    assert profile.calendars["a"].options.name == "jobs"
    assert profile.calendars["b"].options.path == tmp_path / "out" / "b.ics"
    assert profile.calendars["b"].options.create is False
    path.write_text(path.read_text().replace("create: false", "create: false, colour: red"))
    with pytest.raises(ProfileError, match=r"p.yaml:4: calendars.b.colour: unknown key 'colour'"):
        load_profile(path, Plugins(autoload=False))


def test_relative_state_counts_from_the_profile_folder(load, tmp_path: Path) -> None:
    profile = load("version: 1\nstate: data/s.db\ncalendars: {}\npairs: []\n")
    assert profile.state_path == tmp_path / "data" / "s.db"


def test_line_of_and_unknown_pair_names(load) -> None:
    profile = load(GOOD)
    assert profile.line_of("pairs", 0, "target") == 9
    assert profile.line_of("pairs", 0, "window", "past_days") == 7  # a default: the pair's line
    assert profile.line_of("nothing") is None
    with pytest.raises(ProfileError, match="no pair named 'nope'") as info:
        profile.pair("nope")
    assert info.value.hint == "pairs: jobs-to-master"


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


def test_x_keys_and_merge_keys_share_settings(load) -> None:
    profile = load(
        GOOD.replace("pairs:", "x-defaults: &defaults {interval_minutes: 5}\npairs:")
        + "    <<: *defaults\n    interval_minutes: 7\n"
        + "  - {<<: *defaults, name: b, source: master, target: jobs}\n"
    )
    assert [p.interval_minutes for p in profile.pairs] == [7, 5]


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


def test_env_interpolation(load, monkeypatch) -> None:
    monkeypatch.setenv("SYNCFW_T_DIR", "srv")
    monkeypatch.setenv("SYNCFW_T_NAME", "m")
    monkeypatch.setenv("SYNCFW_T_DAYS", "30")
    profile = load("""
        version: 1
        calendars:
          a: {driver: plain, label: "${SYNCFW_T_NAME}"}
          b: {driver: probe, path: "/${SYNCFW_T_DIR}/${SYNCFW_T_NAME}.ics", password: "$${X}y"}
        pairs:
          - {name: p, source: a, target: b, window: {future_days: "${SYNCFW_T_DAYS}"}}
    """)
    assert profile.calendars["a"].options.label == "m"
    assert profile.calendars["b"].options.path == Path("/srv/m.ics")
    assert profile.calendars["b"].options.password == "${X}y"  # $${ writes a literal ${
    assert profile.pairs[0].window.future_days == 30


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


def test_policies_fall_back_to_master_push_until_some_are_registered(
    tmp_path: Path, plugins: Plugins
) -> None:
    class NoPolicies:
        drivers = plugins.drivers

        def policies(self):
            return {}

    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(GOOD) + "    policy: master-push\n")
    assert load_profile(path, NoPolicies()).pairs[0].policy == "master-push"
    path.write_text(textwrap.dedent(GOOD) + "    policy: two-way\n")
    with pytest.raises(ProfileError, match="unknown policy 'two-way'") as info:
        load_profile(path, NoPolicies())
    assert info.value.hint == "policies: master-push"


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


@pytest.mark.parametrize(("value", "minutes"), [("0.5", 0.5), ("0.05", 0.05), ("60", 60.0)])
def test_interval_minutes_may_be_a_fraction(load, value, minutes) -> None:
    assert load(GOOD + f"    interval_minutes: {value}\n").pairs[0].interval_minutes == minutes


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


COPY = GOOD + "    attendees:\n      fan_out: copy\n"


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


def test_person_calendar_fills_the_template_per_person(load, tmp_path: Path) -> None:
    profile = load(
        COPY + "      calendar:\n        driver: probe\n        path: 'people/{local}/{name}.ics'\n"
        "        auth: {token: '{email}'}\n"
    )
    pair = profile.pairs[0]
    ann = Person("Ann / Example", "ann@example.com")
    driver, options = pair.person_calendar(ann, profile.base_dir)
    assert driver == "probe" and isinstance(options, ProbeDriver.Options)
    # Relative to the profile; a "/" in a name cannot make another folder.
    assert options.path == tmp_path / "people" / "ann" / "Ann - Example.ics"
    assert options.auth == Auth(token="ann@example.com")
    assert person_calendar_options(profile, pair, ann) == (driver, options)
    # A copy made by the engine (model_copy) keeps what the load found out.
    assert pair.model_copy(update={"name": "x"}).person_calendar(ann, tmp_path) == (driver, options)


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


def test_fill_placeholders_leaves_other_braces_alone() -> None:
    person = Person("Ann", "ann@example.com")
    template = {"a": "{email}", "b": ["{name}-{local}", 3], "c": "{other} {{x}} {"}
    assert fill_placeholders(template, person) == {
        "a": "ann@example.com",
        "b": ["Ann-ann", 3],
        "c": "{other} {{x}} {",
    }
